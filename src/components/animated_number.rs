//! The place in line as a moving number: the page hands it each new target, and it writes
//! the number frame by frame (`requestAnimationFrame`) as the protocol's
//! [`livequeue_protocol::motion::Tween`] says: visible in the next frame, exactly on the
//! target at the end, continuing from the number on screen when a new target comes mid-way,
//! and jumping under `prefers-reduced-motion`.
//!
//! It writes the element's text directly rather than through the model: sixty model updates
//! a second would re-run the whole page's bindings for one number. While it moves, the
//! element carries `data-moving` (the "updated" highlight); at place 1 it reads "You're next"
//! (`data-next`).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use livequeue_protocol::motion::Tween;
use web_sys::Element;

use crate::format;
use crate::timer::Frame;

/// The moving number of one element.
#[derive(Clone)]
pub struct AnimatedNumber(Rc<RefCell<Inner>>);

struct Inner {
    /// Where the number is written (replaced when the page re-creates the card).
    element: Option<Element>,
    /// The move under way, or the number at rest.
    tween: Option<Tween>,
    /// The next frame, while moving.
    frame: Option<Frame>,
    /// Whether the shopper asked for reduced motion (read at every new target).
    reduced_motion: fn() -> bool,
}

/// The page's clock for animations, in milliseconds.
fn now() -> f64 {
    crate::clock::local_now()
}

/// Whether the browser asks for reduced motion (`prefers-reduced-motion: reduce`).
pub fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| {
            w.match_media("(prefers-reduced-motion: reduce)")
                .ok()
                .flatten()
        })
        .is_some_and(|query| query.matches())
}

impl AnimatedNumber {
    /// A number that asks `reduced_motion` whether to move or jump.
    pub fn new(reduced_motion: fn() -> bool) -> Self {
        Self(Rc::new(RefCell::new(Inner {
            element: None,
            tween: None,
            frame: None,
            reduced_motion,
        })))
    }

    /// Shows `target` in `element`: the first number shown, and every one after a reduced-
    /// motion change, appears at once; any other change moves there.
    pub fn show(&self, element: Element, target: u64) {
        {
            let mut inner = self.0.borrow_mut();
            let same_element = inner.element.as_ref().is_some_and(|e| *e == element);
            if !same_element {
                inner.element = Some(element);
            }
            let reduced = (inner.reduced_motion)();
            inner.tween = Some(match inner.tween {
                // A new card (the shopper joined again) starts at rest on its number.
                Some(tween) if same_element => tween.retarget(target, now(), reduced),
                _ => Tween::jump(target),
            });
        }
        step(&self.0);
    }

    /// Stops moving (the page is cleaned up): the pending frame is cancelled.
    pub fn stop(&self) {
        self.0.borrow_mut().frame = None;
    }

    /// The number to be shown now and whether it is still moving (for tests).
    pub fn shown(&self) -> Option<(u64, bool)> {
        let inner = self.0.borrow();
        let tween = inner.tween?;
        let now = now();
        Some((tween.shown_at(now), !tween.done(now)))
    }
}

/// Writes the number of this moment and asks for the next frame while it moves.
fn step(cell: &Rc<RefCell<Inner>>) {
    let mut inner = cell.borrow_mut();
    let (Some(tween), Some(element)) = (inner.tween, inner.element.clone()) else {
        return;
    };
    let now = now();
    let shown = tween.shown_at(now);
    let moving = !tween.done(now);
    let text = if shown == 1 && tween.target() == 1 {
        crate::i18n::t().next_short.to_owned()
    } else {
        format::grouped(shown)
    };
    if element.text_content().as_deref() != Some(text.as_str()) {
        element.set_text_content(Some(&text));
    }
    // Attribute names are constants: setting or removing them cannot fail.
    let _ = if moving {
        element.set_attribute("data-moving", "")
    } else {
        element.remove_attribute("data-moving")
    };
    let _ = if shown == 1 {
        element.set_attribute("data-next", "")
    } else {
        element.remove_attribute("data-next")
    };
    inner.frame = if moving {
        let weak: Weak<RefCell<Inner>> = Rc::downgrade(cell);
        Some(Frame::new(move || {
            if let Some(cell) = weak.upgrade() {
                step(&cell);
            }
        }))
    } else {
        None
    };
}
