//! The widget's live feed of the shopper's state: [`use_queue_feed`].
//!
//! It joins (or reuses the tab's saved place, or the identity the host page gave), then
//! keeps one transport open as the protocol crate's `Supervisor` decides: WebSocket first,
//! then SSE, then adaptive polling, with full-jitter backoff, a return to push every minute
//! while on a fallback, and no attempts while the browser is offline. Every message, from
//! any transport, goes through the protocol's cursor-ordered reducer, batched so that any
//! number of messages within one animation frame cost one signal update.
//!
//! Every decision (when to join, re-join, retry, fall back, probe, flush, resync, and when a
//! quiet stream is dead) is the protocol crate's `feed::FeedMachine`, tested natively; this
//! module only performs its commands:
//!
//! - `controller`: reports events to the machine and performs its commands.
//! - `join`: the join request and its delay.
//! - `link`: opening a transport, tagged with its generation.
//! - `transports`: the controller's transports and their events, read as the machine's.
//! - `probe`: the upgrade probe's timer and transport, and the refusal check of a closed
//!   `EventSource`.
//! - `batch`: the frame and fallback timers of a batch, and applying it to the signals.
//! - `lifecycle`: the page's network and visibility events and the wake-up watchdog.
//! - `tabs`: one feed per browser: the tabs showing the same shopper elect one that
//!   connects, and the others show what it shares (the protocol's `tabs::TabMachine`).
//!
//! Everything the feed creates (sockets, listeners, timers, frames) is owned by the
//! controller and released when the calling component is cleaned up.

mod batch;
mod controller;
mod join;
mod lifecycle;
mod link;
mod probe;
mod tabs;
mod transports;

use std::rc::{Rc, Weak};

use leptos::prelude::*;
use livequeue_protocol::QueueState;
use livequeue_protocol::supervisor::{ConnectionStatus, TransportKind};
use send_wrapper::SendWrapper;

use crate::clock::ClockSkew;
use crate::config::WidgetConfig;
use crate::problem::Problem;
use controller::Controller;
pub use lifecycle::page_hidden;
pub use tabs::TabView;

/// Counters for the `?debug=1` panel and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Diagnostics {
    /// Messages received (any transport).
    pub messages: u32,
    /// Duplicates and stale messages the reducer dropped.
    pub stale: u32,
    /// Messages that could not be decoded and were skipped.
    pub malformed: u32,
    /// Full-state resyncs asked for (gaps, new epochs).
    pub resyncs: u32,
    /// Transports opened so far.
    pub opens: u32,
    /// Failures since the last successful open.
    pub attempts: u32,
    /// Signal updates of the state (one per animation frame at most).
    pub renders: u32,
    /// Polls answered `304 Not Modified` (they carried `If-None-Match`).
    pub not_modified: u32,
    /// This tab's part in sharing the feed with the browser's other tabs (kept here rather
    /// than in a signal of its own: one more signal type costs about 2 KB of wasm).
    pub tab: TabView,
}

/// When the feed last heard from the server, and how long a silence is still normal.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Heard {
    /// Local clock (ms) of the last message, heartbeat, pong or unchanged poll; 0 before any.
    pub at: f64,
    /// How long without hearing is still normal on the transport in use: its liveness
    /// window (WebSocket ping and grace, the SSE silence limit, a poll interval and a grace).
    pub window_ms: u64,
    /// The polling interval, while polling.
    pub poll_every_ms: Option<u64>,
}

/// Whether the shopper holds a place, as far as the page knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Joining, or following the place of saved or given credentials (the state says more).
    Holding,
    /// No place yet and the page waits for the shopper's Join.
    Outside,
    /// The shopper gave the place up (Leave); Join queues again, at the back.
    Left,
}

/// What the components read: the shopper's state and the connection's health.
#[derive(Debug, Clone, Copy)]
pub struct QueueFeed {
    /// The shopper's state, once the first one arrived, read as a copy (tests, integrators);
    /// the page reads it in place ([`QueueFeed::with_state`]).
    pub state: StateSignal,
    /// The connection's status.
    pub status: ReadSignal<ConnectionStatus>,
    /// The transport in use.
    pub transport: ReadSignal<Option<TransportKind>>,
    /// What keeps the widget from working; its `Display` is the sentence for the shopper.
    pub problem: ReadSignal<Option<Problem>>,
    /// Offset of the server's clock, for countdowns.
    pub skew: ReadSignal<ClockSkew>,
    /// Counters.
    pub diagnostics: ReadSignal<Diagnostics>,
    /// When the server was last heard from.
    pub heard: ReadSignal<Heard>,
    /// Whether the shopper holds a place.
    pub presence: ReadSignal<Presence>,
    /// The reducer's state, read in place by the page.
    reducer: ReadSignal<livequeue_protocol::FeedState>,
    /// The driver, weakly: the component's cleanup owns it, `reconnect` only reaches it.
    controller: StoredValue<SendWrapper<Weak<Controller>>>,
}

impl QueueFeed {
    /// Reads the shopper's state in place (tracked), without copying it.
    pub fn with_state<R>(&self, f: impl FnOnce(Option<&QueueState>) -> R) -> R {
        self.reducer.with(|feed| f(feed.state()))
    }

    fn controller(&self) -> Option<Rc<Controller>> {
        self.controller.try_with_value(|c| c.upgrade()).flatten()
    }

    /// Starts again after the feed gave up (status `Failed`), or forces a new connection.
    pub fn reconnect(&self) {
        if let Some(controller) = self.controller() {
            controller.reconnect();
        }
    }

    /// Joins the line (the shopper pressed Join), when the shopper holds no place.
    pub fn join(&self) {
        if let Some(controller) = self.controller() {
            controller.join();
        }
    }

    /// The shopper left (the server confirmed): closes the feed and forgets the place.
    pub fn left(&self) {
        if let Some(controller) = self.controller() {
            controller.left();
        }
    }

    /// The shopper's credentials, once known (for the shopper's actions).
    pub fn credentials(&self) -> Option<crate::session::Credentials> {
        self.controller()?.credentials()
    }
}

/// The shopper's state as a signal of `Option<QueueState>`, read from the reducer's state.
///
/// Not a `Signal::derive` nor a `Memo`: the page never reads it, and either would keep a
/// closure, a clone of the state and their arena code in the bundle (measured 2026-12-01:
/// gzip 82308 → 81695 B). It offers the reads callers use.
#[derive(Debug, Clone, Copy)]
pub struct StateSignal(ReadSignal<livequeue_protocol::FeedState>);

impl StateSignal {
    /// A copy of the state, tracked.
    pub fn get(&self) -> Option<QueueState> {
        self.0.with(|f| f.state().cloned())
    }

    /// A copy of the state, untracked.
    pub fn get_untracked(&self) -> Option<QueueState> {
        self.0.with_untracked(|f| f.state().cloned())
    }

    /// Reads a copy of the state, tracked.
    pub fn with<R>(&self, f: impl FnOnce(&Option<QueueState>) -> R) -> R {
        f(&self.get())
    }
}

/// The feed's writable signals, held by the controller (read through [`QueueFeed`]).
#[derive(Clone, Copy)]
struct FeedSignals {
    /// The reducer's state (the shopper's state and its cursor).
    feed: RwSignal<livequeue_protocol::FeedState>,
    /// The machine's status, published after every event.
    status: RwSignal<ConnectionStatus>,
    /// The transport in use.
    transport: RwSignal<Option<TransportKind>>,
    /// The problem shown to the shopper.
    problem: RwSignal<Option<Problem>>,
    /// Offset of the server's clock.
    skew: RwSignal<ClockSkew>,
    /// Counters.
    diagnostics: RwSignal<Diagnostics>,
    /// When the server was last heard from.
    heard: RwSignal<Heard>,
    /// Whether the shopper holds a place.
    presence: RwSignal<Presence>,
}

/// Joins (or rejoins) the queue described by `config` and follows it for as long as the
/// calling component lives.
pub fn use_queue_feed(config: WidgetConfig) -> QueueFeed {
    let signals = FeedSignals {
        feed: RwSignal::new(livequeue_protocol::FeedState::new()),
        status: RwSignal::new(ConnectionStatus::Connecting),
        transport: RwSignal::new(None),
        problem: RwSignal::new(None),
        skew: RwSignal::new(ClockSkew::default()),
        diagnostics: RwSignal::new(Diagnostics::default()),
        heard: RwSignal::new(Heard::default()),
        presence: RwSignal::new(Presence::Holding),
    };
    let feed = signals.feed;
    let controller = Controller::start(config, signals);
    let public = QueueFeed {
        state: StateSignal(feed.read_only()),
        reducer: feed.read_only(),
        status: signals.status.read_only(),
        transport: signals.transport.read_only(),
        problem: signals.problem.read_only(),
        skew: signals.skew.read_only(),
        diagnostics: signals.diagnostics.read_only(),
        heard: signals.heard.read_only(),
        presence: signals.presence.read_only(),
        controller: StoredValue::new(SendWrapper::new(Rc::downgrade(&controller))),
    };
    // The controller holds browser handles (not `Send`); cleanup closures must be. The widget
    // runs on the browser's one thread, so the wrapper's thread check always passes.
    let owned = SendWrapper::new(controller);
    on_cleanup(move || owned.stop());
    public
}
