//! The controller's transports: opening one for the shopper's credentials (tagged with a new
//! generation, its events posted back to the controller's queue) and reading what a transport
//! reports as the events of the protocol's `FeedMachine`.

use leptos::prelude::*;
use livequeue_protocol::feed::{Delivery, Event};
use livequeue_protocol::supervisor::{Failure, TransportKind};
use livequeue_protocol::{EventId, FeedState};

use super::Heard;
use super::controller::{Controller, Input, now_ms};
use super::link::{self, Link};
use super::probe;
use crate::clock::{self, ClockSkew};
use crate::transport::{Transport, TransportEvent};
use crate::{api, log};

/// How much longer than its interval a poll may take to answer before the page calls its
/// figures stale.
const POLL_GRACE_MS: u64 = 10_000;

impl Controller {
    /// Opens `kind` tagged with a new generation, its events posted back here.
    pub(super) fn open(&self, kind: TransportKind, resume: bool) -> Option<Link> {
        let credentials = self.inner.borrow().credentials.clone()?;
        let generation = {
            let mut inner = self.inner.borrow_mut();
            inner.generation = inner.generation.wrapping_add(1);
            inner.generation
        };
        let cursor = resume
            .then(|| self.signals.feed.with_untracked(FeedState::cursor))
            .flatten()
            .map(EventId);
        let post = self.poster();
        let report = move |event| post(Input::Transport(generation, event));
        let transport = link::open(kind, &self.config, &credentials, cursor, report)?;
        Some(Link {
            transport,
            generation,
        })
    }

    /// Opens `kind` as the current transport (the machine's `Open`, after its delay).
    pub(super) fn open_current(&self, kind: TransportKind, resume: bool) {
        self.inner.borrow_mut().pending_open = None;
        let Some(link) = self.open(kind, resume) else {
            // A URL the browser refuses: a failure of this transport like any other.
            return self.feed(Event::Failed(Failure::TRANSIENT));
        };
        self.inner.borrow_mut().current = Some(link);
        self.signals.transport.set(Some(kind));
        self.changed.set(true);
        self.signals.diagnostics.update(|d| d.opens += 1);
        self.feed(Event::Connecting { now_ms: now_ms() });
    }

    /// Reads an event of the transport of `generation` as the machine's: the probe's, the
    /// current transport's, or a late one of a transport already replaced (ignored).
    pub(super) fn on_transport(&self, generation: u32, event: TransportEvent) {
        let (is_current, is_probe) = {
            let inner = self.inner.borrow();
            let current = inner.current.as_ref();
            (
                current.is_some_and(|c| c.generation == generation),
                inner.probe.is(generation),
            )
        };
        if is_probe {
            return match event {
                TransportEvent::Message(message) => self.feed(Event::ProbeDelivered {
                    message,
                    now_ms: now_ms(),
                }),
                TransportEvent::Closed(_) | TransportEvent::Lost { .. } => {
                    self.feed(Event::ProbeFailed)
                }
                _ => {}
            };
        }
        if !is_current {
            // A late event of a transport already replaced.
            return;
        }
        if matches!(
            event,
            TransportEvent::Opened
                | TransportEvent::Alive
                | TransportEvent::ServerTime(_)
                | TransportEvent::Message(_)
        ) {
            self.note_heard();
        }
        let now_ms = now_ms();
        let delivered = |delivery| Event::Delivered { delivery, now_ms };
        let event = match event {
            TransportEvent::Opened => Event::Opened { now_ms },
            TransportEvent::Alive => {
                if let Some(Transport::Poll(poll)) =
                    &self.inner.borrow().current.as_ref().map(|c| &c.transport)
                {
                    let (_, not_modified) = poll.answers();
                    self.signals
                        .diagnostics
                        .update(|d| d.not_modified = not_modified);
                }
                delivered(Delivery::Alive)
            }
            TransportEvent::ServerTime(server_time) => {
                super::batch::refine_skew(
                    self.signals.skew,
                    ClockSkew::measure(Some(server_time), clock::local_now()),
                );
                delivered(Delivery::Heartbeat)
            }
            TransportEvent::Message(message) => delivered(Delivery::Message(message)),
            TransportEvent::Malformed(error) => {
                self.signals
                    .diagnostics
                    .update(|d| d.malformed = d.malformed.saturating_add(1));
                log::warn2(
                    "livequeue: skipped a malformed message: ",
                    &log::decode_error(&error),
                );
                Event::Garbled { now_ms }
            }
            // The browser's EventSource reconnects by itself: open nothing beside it.
            TransportEvent::Lost { closed: false } => Event::Interrupted,
            TransportEvent::Lost { closed: true } => return self.ask_why_closed(generation),
            TransportEvent::Closed(failure) => {
                self.inner.borrow_mut().current = None;
                Event::Failed(failure)
            }
        };
        self.feed(event);
    }

    /// The server was heard from just now: the page's "Updated … ago" and staleness follow.
    fn note_heard(&self) {
        let timings = &self.config.timings;
        let (window_ms, poll_every_ms) = match self.inner.borrow().current.as_ref() {
            Some(link) => match &link.transport {
                Transport::Poll(poll) => {
                    let every = poll.interval_ms();
                    // A poll may take a few seconds to answer on a slow network.
                    (every + POLL_GRACE_MS, Some(every))
                }
                Transport::Sse(_) => (timings.sse_silence.as_millis() as u64, None),
                Transport::WebSocket(_) => (
                    (timings.ws.ping_every + timings.ws.grace).as_millis() as u64,
                    None,
                ),
            },
            None => return,
        };
        self.show_heard(Heard {
            at: clock::local_now(),
            window_ms,
            poll_every_ms,
        });
    }

    /// When the server was last heard from, for the page and for the tabs this one leads.
    pub(super) fn show_heard(&self, heard: Heard) {
        self.inner.borrow_mut().heard = heard;
        self.signals.heard.set(heard);
    }

    /// The browser closed an `EventSource` for good: the refusal check's verdict comes back
    /// as the transport's `Closed` event.
    fn ask_why_closed(&self, generation: u32) {
        let Some(credentials) = self.inner.borrow().credentials.clone() else {
            return self.feed(Event::Failed(Failure::TRANSIENT));
        };
        let post = self.poster();
        probe::ask_why_closed(api::poll_url(&self.config, &credentials), move |failure| {
            post(Input::Transport(
                generation,
                TransportEvent::Closed(failure),
            ))
        });
    }
}
