//! The page's life-cycle, as the feed needs it: network changes, the tab coming back, and
//! a computer waking from sleep.
//!
//! - `offline` / `online` on the window: stop trying while offline, reconnect at once after.
//! - `visibilitychange` to visible and `pageshow` (a page restored from the back-forward
//!   cache): check that the connection is alive instead of trusting a zombie socket.
//! - A watchdog interval: when it fires far later than asked, the computer slept; same check.
//!   It also drives the periodic silence check of SSE streams.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::JsCast;

use crate::clock::local_now;
use crate::timer::{Interval, Listener};

/// What the page reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PageEvent {
    /// The browser went offline (`false`) or online (`true`).
    Network(bool),
    /// The page came back (visible, restored, or a timer fired far too late): check that
    /// the connection is really alive.
    Wake,
    /// The periodic check (every [`TICK`]).
    Tick,
}

/// Watchdog period.
const TICK: Duration = Duration::from_secs(5);
/// How late the watchdog may fire before it counts as a wake-up from sleep.
const LATE: f64 = 10_000.0;

/// The listeners and the watchdog; dropping it removes them all.
pub(super) struct Watch {
    /// `online`, `offline` and `pageshow` on the window, `visibilitychange` on the document.
    _listeners: Vec<Listener>,
    /// Posts [`PageEvent::Tick`], or [`PageEvent::Wake`] when it fired far too late.
    _watchdog: Interval,
}

/// Whether the page is in a background tab (or minimized).
pub fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// Whether the browser believes it is online (`true` outside a browser).
pub(super) fn online() -> bool {
    web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true)
}

impl Watch {
    /// Starts watching; `post` receives what happened.
    pub(super) fn start(post: impl Fn(PageEvent) + 'static) -> Option<Self> {
        let window = web_sys::window()?;
        let document = window.document()?;
        let post = Rc::new(post);
        let mut listeners = Vec::new();
        let on = |target: &web_sys::EventTarget, name: &'static str, input: fn() -> PageEvent| {
            let post = Rc::clone(&post);
            Listener::new(target, name, move |_| post(input()))
        };
        let win: &web_sys::EventTarget = window.unchecked_ref();
        listeners.push(on(win, "online", || PageEvent::Network(true)));
        listeners.push(on(win, "offline", || PageEvent::Network(false)));
        listeners.push(on(win, "pageshow", || PageEvent::Wake));
        let visible_doc = document.clone();
        let post_visible = Rc::clone(&post);
        listeners.push(Listener::new(
            document.unchecked_ref(),
            "visibilitychange",
            move |_| {
                if visible_doc.visibility_state() == web_sys::VisibilityState::Visible {
                    post_visible(PageEvent::Wake);
                }
            },
        ));
        let last = Cell::new(local_now());
        let watchdog = Interval::new(TICK, move || {
            let now = local_now();
            let late = now - last.replace(now) - TICK.as_millis() as f64;
            post(if late > LATE {
                PageEvent::Wake
            } else {
                PageEvent::Tick
            });
        });
        Some(Self {
            _listeners: listeners,
            _watchdog: watchdog,
        })
    }
}
