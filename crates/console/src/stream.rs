//! The operator stream: live figures of one experience over Server-Sent Events.
//!
//! `EventSource` cannot send an `Authorization` header, and the operator token must never
//! be put in a URL, so each connection first trades the token for a short-lived ticket
//! (`POST /api/admin/stream-ticket`) and opens `…/stream?ticket=…`. The browser retries a
//! dropped stream by itself with the same ticket; once the ticket has expired that retry is
//! refused and the source closes, and then a new ticket is fetched after a backoff with
//! jitter ([`Backoff`]). A stream that goes quiet (the server sends figures every second)
//! for [`QUIET_MS`] is taken for a half-open path and replaced.
//!
//! Everything the stream owns (the source, its listeners, the retry timer, the watchdog) is
//! held by [`Stream`]; dropping it closes the source and cancels the timers.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_events::EventListener;
use gloo_timers::callback::{Interval, Timeout};
use livequeue_protocol::ExperienceId;
use livequeue_protocol::api::{FIGURES_EVENT, OperatorFigures};
use livequeue_protocol::backoff::{Backoff, BackoffPolicy, RetryHint};
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

use crate::api::{ApiError, Operator, stream_url};

/// A stream without figures for this long is replaced (figures come every second).
pub const QUIET_MS: f64 = 5_000.0;

/// How the console's live figures are doing.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// Opening the stream.
    Connecting,
    /// Figures arrive.
    Live,
    /// The stream dropped; trying again.
    Reconnecting,
    /// Given up; the sentence says why.
    Stopped(String),
}

/// What the stream reports to the page.
pub struct Sinks {
    /// Each frame of figures.
    pub figures: Box<dyn Fn(OperatorFigures)>,
    /// Each change of the link.
    pub link: Box<dyn Fn(Link)>,
    /// The server refused the operator token.
    pub unauthorized: Box<dyn Fn()>,
}

/// An open source and its listeners; dropping it closes the source.
struct Open {
    source: EventSource,
    _figures: EventListener,
    _error: EventListener,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.source.close();
    }
}

struct Inner {
    operator: Operator,
    experience: ExperienceId,
    sinks: Sinks,
    backoff: Backoff,
    open: Option<Open>,
    retry: Option<Timeout>,
    /// Bumped by every new connection, so an answer to an older one is dropped.
    generation: u64,
    /// When the last figures came (`performance.now()`), for the watchdog.
    last_frame: f64,
    link: Link,
}

/// The live figures of one experience, for as long as this is held.
pub struct Stream {
    inner: Rc<RefCell<Inner>>,
    _watchdog: Interval,
}

impl Stream {
    /// Opens the stream of `experience`.
    pub fn start(operator: Operator, experience: ExperienceId, sinks: Sinks) -> Self {
        let inner = Rc::new(RefCell::new(Inner {
            operator,
            experience,
            sinks,
            backoff: Backoff::new(BackoffPolicy {
                base_ms: 1_000,
                cap_ms: 15_000,
                max_attempts: 20,
            }),
            open: None,
            retry: None,
            generation: 0,
            last_frame: now(),
            link: Link::Connecting,
        }));
        connect(&inner);
        let weak = Rc::downgrade(&inner);
        let watchdog = Interval::new(1_000, move || {
            let Some(inner) = weak.upgrade() else { return };
            let quiet = {
                let state = inner.borrow();
                state.open.is_some() && now() - state.last_frame > QUIET_MS
            };
            if quiet {
                inner.borrow_mut().open = None;
                retry_later(&inner, RetryHint::Soon);
            }
        });
        Self {
            inner,
            _watchdog: watchdog,
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let mut inner = self.inner.borrow_mut();
        inner.generation += 1;
        inner.open = None;
        inner.retry = None;
    }
}

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

fn set_link(inner: &Rc<RefCell<Inner>>, link: Link) {
    let mut state = inner.borrow_mut();
    if state.link != link {
        state.link = link.clone();
        (state.sinks.link)(link);
    }
}

fn connect(inner: &Rc<RefCell<Inner>>) {
    let (operator, generation) = {
        let mut state = inner.borrow_mut();
        state.generation += 1;
        state.retry = None;
        (state.operator.clone(), state.generation)
    };
    let weak = Rc::downgrade(inner);
    wasm_bindgen_futures::spawn_local(async move {
        let ticket = operator.stream_ticket().await;
        let Some(inner) = weak.upgrade() else { return };
        if inner.borrow().generation != generation {
            return;
        }
        match ticket {
            Ok(ticket) => open(&inner, &ticket.ticket),
            Err(ApiError::Unauthorized) => {
                set_link(
                    &inner,
                    Link::Stopped("The operator token was refused.".into()),
                );
                (inner.borrow().sinks.unauthorized)();
            }
            Err(_) => retry_later(&inner, RetryHint::None),
        }
    });
}

fn open(inner: &Rc<RefCell<Inner>>, ticket: &str) {
    let url = stream_url(&inner.borrow().experience, ticket);
    let Ok(source) = EventSource::new(&url) else {
        set_link(
            inner,
            Link::Stopped("This browser cannot open the live stream.".into()),
        );
        return;
    };
    let weak: Weak<RefCell<Inner>> = Rc::downgrade(inner);
    let on_figures = EventListener::new(&source, FIGURES_EVENT, move |event| {
        let Some(inner) = weak.upgrade() else { return };
        let Some(data) = event
            .dyn_ref::<MessageEvent>()
            .and_then(|m| m.data().as_string())
        else {
            return;
        };
        // A frame the console cannot read is skipped, not shown half-read; the next one
        // (a second later) carries the whole state again.
        let Ok(figures) = serde_json::from_str::<OperatorFigures>(&data) else {
            web_sys::console::warn_1(&"livequeue: unreadable figures frame skipped".into());
            return;
        };
        {
            let mut state = inner.borrow_mut();
            state.last_frame = now();
            state.backoff.reset();
        }
        set_link(&inner, Link::Live);
        (inner.borrow().sinks.figures)(figures);
    });
    let weak = Rc::downgrade(inner);
    let errored = source.clone();
    let on_error = EventListener::new(&source, "error", move |_| {
        let Some(inner) = weak.upgrade() else { return };
        if errored.ready_state() == EventSource::CLOSED {
            // Refused (an expired ticket, the experience gone, the server down for good):
            // a new ticket after a backoff.
            inner.borrow_mut().open = None;
            retry_later(&inner, RetryHint::None);
        } else {
            // The browser reconnects by itself.
            set_link(&inner, Link::Reconnecting);
        }
    });
    let mut state = inner.borrow_mut();
    state.last_frame = now();
    state.open = Some(Open {
        source,
        _figures: on_figures,
        _error: on_error,
    });
}

fn retry_later(inner: &Rc<RefCell<Inner>>, hint: RetryHint) {
    let delay = inner
        .borrow_mut()
        .backoff
        .fail(hint, js_sys::Math::random());
    let Some(delay) = delay else {
        set_link(
            inner,
            Link::Stopped("The live figures stopped; reload the page to try again.".into()),
        );
        return;
    };
    set_link(inner, Link::Reconnecting);
    let weak = Rc::downgrade(inner);
    let timer = Timeout::new(delay as u32, move || {
        if let Some(inner) = weak.upgrade() {
            connect(&inner);
        }
    });
    inner.borrow_mut().retry = Some(timer);
}
