//! Adaptive polling: the fallback when neither WebSocket nor SSE gets through.
//!
//! Each poll is `GET /api/queue/{experience}` with `If-None-Match` of the last `ETag`, so an
//! unchanged state costs a `304` with no body. The interval follows the protocol crate's
//! [`Poller`]: the minimum after a change, ×1.5 per unchanged answer up to the maximum, and
//! the maximum while the tab is hidden. [`PollConnection::poll_now`] polls at once (tab
//! visible again, back online, page restored from the back-forward cache).
//!
//! Dropping the connection aborts the request in flight and clears the timer.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use livequeue_protocol::event::DecodeError;
use livequeue_protocol::polling::{PollPolicy, Poller};
use livequeue_protocol::reducer::FeedMessage;
use livequeue_protocol::supervisor::Failure;
use livequeue_protocol::{QueueState, http_status};
use web_sys::AbortController;

use super::TransportEvent;
use crate::resources::{Kind, Tracked};
use crate::timer::Timeout;
use crate::{api, fetch};

/// What the poll loop shares with its timer and its requests.
struct Shared {
    /// The polling endpoint with the shopper's credentials.
    url: String,
    /// Where every answer is reported.
    on_event: Box<dyn Fn(TransportEvent)>,
    /// The adaptive interval.
    poller: RefCell<Poller>,
    /// The last state's `ETag`, sent as `If-None-Match`.
    etag: RefCell<Option<String>>,
    /// The wait before the next poll.
    timer: RefCell<Option<Timeout>>,
    /// The request under way, aborted when the connection is dropped.
    in_flight: RefCell<Option<(AbortController, Tracked)>>,
    /// `Opened` was reported (on the first answer).
    opened: Cell<bool>,
    /// The connection was dropped: answers still arriving are ignored.
    stopped: Cell<bool>,
    /// Answers counted by kind, for diagnostics: `(changed, not modified)`.
    answers: Cell<(u32, u32)>,
}

/// A running poll loop.
pub struct PollConnection {
    shared: Rc<Shared>,
}

impl std::fmt::Debug for PollConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PollConnection")
    }
}

fn hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden)
}

impl PollConnection {
    /// Starts polling `url` (the polling endpoint with credentials) at once.
    pub fn open(
        url: String,
        policy: PollPolicy,
        on_event: impl Fn(TransportEvent) + 'static,
    ) -> Self {
        let shared = Rc::new(Shared {
            url,
            on_event: Box::new(on_event),
            poller: RefCell::new(Poller::new(policy)),
            etag: RefCell::new(None),
            timer: RefCell::new(None),
            in_flight: RefCell::new(None),
            opened: Cell::new(false),
            stopped: Cell::new(false),
            answers: Cell::new((0, 0)),
        });
        poll(Rc::clone(&shared));
        Self { shared }
    }

    /// Polls now unless a poll is already under way.
    pub fn poll_now(&self) {
        if self.shared.in_flight.borrow().is_some() {
            return;
        }
        self.shared.timer.take();
        poll(Rc::clone(&self.shared));
    }

    /// The wait before the next poll as the policy sets it now, in milliseconds.
    pub fn interval_ms(&self) -> u64 {
        self.shared.poller.borrow().interval(hidden())
    }

    /// Answers so far: `(with a changed state, 304 Not Modified)`.
    pub fn answers(&self) -> (u32, u32) {
        self.shared.answers.get()
    }
}

impl Drop for PollConnection {
    fn drop(&mut self) {
        self.shared.stopped.set(true);
        self.shared.timer.take();
        if let Some((request, _)) = self.shared.in_flight.take() {
            request.abort();
        }
    }
}

fn poll(shared: Rc<Shared>) {
    let Ok(controller) = AbortController::new() else {
        (shared.on_event)(TransportEvent::Closed(Failure::TRANSIENT));
        return;
    };
    let signal = controller.signal();
    shared
        .in_flight
        .replace(Some((controller, Tracked::new(Kind::Connection))));
    leptos::task::spawn_local(async move {
        let tag = shared.etag.borrow().clone();
        let answer = fetch::send("GET", &shared.url, tag.as_deref(), None, Some(&signal)).await;
        shared.in_flight.take();
        if shared.stopped.get() {
            return;
        }
        let report = |event| (shared.on_event)(event);
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                crate::log::warn2("livequeue: poll failed: ", &error);
                return report(TransportEvent::Closed(Failure::TRANSIENT));
            }
        };
        let changed = if answer.status == http_status::NOT_MODIFIED {
            false
        } else if answer.ok() {
            let decoded = match answer.body.as_deref() {
                Some(text) => livequeue_protocol::json::from_str::<QueueState>(text),
                None => Err("the body could not be read".to_owned()),
            };
            match decoded {
                Ok(state) => {
                    shared.etag.replace(answer.etag);
                    if !shared.opened.replace(true) {
                        report(TransportEvent::Opened);
                    }
                    report(TransportEvent::Message(FeedMessage::Snapshot(state)));
                    true
                }
                Err(error) => {
                    report(TransportEvent::Malformed(DecodeError::BadMessage(error)));
                    false
                }
            }
        } else {
            return report(TransportEvent::Closed(api::failure_of(&answer)));
        };
        if shared.stopped.get() {
            return;
        }
        let (with, without) = shared.answers.get();
        shared.answers.set(if changed {
            (with + 1, without)
        } else {
            (with, without + 1)
        });
        if !changed {
            if !shared.opened.replace(true) {
                report(TransportEvent::Opened);
            }
            report(TransportEvent::Alive);
        }
        let wait = {
            let mut poller = shared.poller.borrow_mut();
            poller.answered(changed);
            poller.interval(hidden())
        };
        // The timer holds the loop only weakly: dropping the connection ends it.
        let next = Rc::downgrade(&shared);
        let timer = Timeout::new(Duration::from_millis(wait), move || {
            if let Some(next) = next.upgrade() {
                poll(next);
            }
        });
        shared.timer.replace(Some(timer));
    });
}
