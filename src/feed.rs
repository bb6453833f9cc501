//! The connection's lifecycle, from joining to the live stream, feeding the reducer.
//!
//! [`use_queue_feed`] runs, for the component that calls it:
//!
//! 1. **Credentials.** The tab's saved credentials for the experience ([`crate::session`]), or
//!    a join (`POST …/join`) whose answer is saved and applied as the first state.
//! 2. **Stream.** A [`Transport`] (today SSE) whose every message goes through
//!    [`FeedState::apply`], the protocol's cursor-ordered reducer. The state shown is the
//!    reducer's, so replays and duplicates after a reconnect never move it backwards.
//! 3. **Recovery.** When the reducer asks for a resync (a gap in broadcast `seq`s, a new
//!    epoch) the stream is reopened without a cursor, which makes the server start with the
//!    full state. When the browser gives a stream up (an error status), it is reopened after
//!    [`REOPEN_DELAY`] from the last cursor; if saved credentials are refused before any
//!    message arrived, they are forgotten and the shopper joins again.
//!
//! Retries use fixed delays for now; backoff with jitter and the WebSocket/polling fallbacks
//! belong to the connection layer that will grow in [`crate::transport`].
//!
//! Everything is released with the calling component: the transport is dropped (closing the
//! `EventSource`) and a pending retry is cancelled in `on_cleanup`.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use leptos::prelude::*;
use livequeue_protocol::reducer::FeedMessage;
use livequeue_protocol::{EventId, FeedState, QueueState, Resync};
use send_wrapper::SendWrapper;

use crate::api;
use crate::clock::{self, ClockSkew};
use crate::config::WidgetConfig;
use crate::session::{self, Credentials};
use crate::transport::sse::SseConnection;
use crate::transport::{ConnectionStatus, Transport, TransportEvent};

/// Wait before joining again after a join failed for a reason that may pass.
pub const JOIN_RETRY_DELAY: Duration = Duration::from_secs(5);
/// Wait before reopening a stream the browser gave up on (the server answered an error).
pub const REOPEN_DELAY: Duration = Duration::from_secs(3);
/// Wait before reopening a stream to resync: short, but not a tight loop if a server keeps
/// sending gaps.
pub const RESYNC_DELAY: Duration = Duration::from_millis(250);

/// What the components read: the shopper's state and the connection's health.
#[derive(Debug, Clone, Copy)]
pub struct QueueFeed {
    /// The shopper's state, once the first one arrived.
    pub state: Memo<Option<QueueState>>,
    /// Whether updates are flowing.
    pub status: ReadSignal<ConnectionStatus>,
    /// A sentence for the shopper when something keeps the widget from working.
    pub problem: ReadSignal<Option<&'static str>>,
    /// Offset of the server's clock, for countdowns.
    pub skew: ReadSignal<ClockSkew>,
    /// Messages that could not be decoded and were skipped.
    pub malformed: ReadSignal<u32>,
}

/// The writable side of [`QueueFeed`], held by the controller.
#[derive(Clone, Copy)]
struct FeedSignals {
    feed: RwSignal<FeedState>,
    status: RwSignal<ConnectionStatus>,
    problem: RwSignal<Option<&'static str>>,
    skew: RwSignal<ClockSkew>,
    malformed: RwSignal<u32>,
}

/// Joins (or rejoins) the queue described by `config` and follows it for as long as the
/// calling component lives.
pub fn use_queue_feed(config: WidgetConfig) -> QueueFeed {
    let signals = FeedSignals {
        feed: RwSignal::new(FeedState::new()),
        status: RwSignal::new(ConnectionStatus::Connecting),
        problem: RwSignal::new(None),
        skew: RwSignal::new(ClockSkew::default()),
        malformed: RwSignal::new(0),
    };
    let feed = signals.feed;
    let public = QueueFeed {
        state: Memo::new(move |_| feed.with(|f| f.state().cloned())),
        status: signals.status.read_only(),
        problem: signals.problem.read_only(),
        skew: signals.skew.read_only(),
        malformed: signals.malformed.read_only(),
    };

    let controller = Rc::new(Controller {
        config,
        signals,
        inner: RefCell::new(Inner::default()),
    });
    controller.start();
    // The controller holds browser handles (not `Send`); cleanup closures must be. The widget
    // runs on the browser's one thread, so the wrapper's thread check always passes.
    let owned = SendWrapper::new(controller);
    on_cleanup(move || owned.stop());
    public
}

/// Drives one feed. Shared as `Rc` with the callbacks it installs, which hold it weakly so
/// that dropping the component's reference ends everything.
struct Controller {
    config: WidgetConfig,
    signals: FeedSignals,
    inner: RefCell<Inner>,
}

/// The controller's mutable part.
#[derive(Default)]
struct Inner {
    /// The credentials in use, once loaded or joined.
    credentials: Option<Credentials>,
    /// The credentials came from storage and no stream has accepted them yet: if the server
    /// refuses them, the shopper joins again instead of retrying forever.
    unconfirmed: bool,
    /// The live transport.
    transport: Option<Transport>,
    /// The pending retry, cancelled when another is scheduled or the feed stops.
    retry: Option<TimeoutHandle>,
    /// Set by `stop`: late callbacks (a join answer, a timer) then do nothing.
    stopped: bool,
}

/// Next step of a scheduled retry.
#[derive(Debug, Clone, Copy)]
enum Step {
    Join,
    /// Reopen the stream, resuming from the state's cursor when `resume` (a replay), or from
    /// scratch (the server starts with the full state).
    Connect {
        resume: bool,
    },
}

impl Controller {
    fn start(self: &Rc<Self>) {
        if !self.config.experience_is_valid() {
            self.signals
                .problem
                .set(Some("This queue link isn't valid. Check the address."));
            return;
        }
        match session::load(&self.config.experience) {
            Some(credentials) => {
                {
                    let mut inner = self.inner.borrow_mut();
                    inner.credentials = Some(credentials);
                    inner.unconfirmed = true;
                }
                self.connect(false);
            }
            None => self.join(),
        }
    }

    fn stop(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.stopped = true;
        if let Some(retry) = inner.retry.take() {
            retry.clear();
        }
        // Dropping the transport closes the stream and removes its listeners.
        inner.transport = None;
    }

    fn join(self: &Rc<Self>) {
        self.signals.status.set(ConnectionStatus::Connecting);
        let weak = Rc::downgrade(self);
        let config = self.config.clone();
        leptos::task::spawn_local(async move {
            let result = api::join(&config).await;
            let Some(this) = live(&weak) else { return };
            match result {
                Ok(joined) => {
                    let credentials = Credentials {
                        consumer_id: joined.consumer_id,
                        token: joined.token,
                    };
                    session::save(&this.config.experience, &credentials);
                    {
                        let mut inner = this.inner.borrow_mut();
                        inner.credentials = Some(credentials);
                        inner.unconfirmed = false;
                    }
                    this.signals.problem.set(None);
                    this.apply(FeedMessage::Snapshot(joined.state));
                    this.connect(false);
                }
                Err(error) => {
                    leptos::logging::warn!("livequeue: join failed: {error}");
                    this.signals.problem.set(Some(error.shopper_message()));
                    if error.is_transient() {
                        this.schedule(Step::Join, JOIN_RETRY_DELAY);
                    }
                }
            }
        });
    }

    /// Replaces the transport with a new stream. Never call this from inside a transport
    /// callback: it drops the transport that is running the callback (use `schedule`).
    fn connect(self: &Rc<Self>, resume: bool) {
        let Some(credentials) = self.inner.borrow().credentials.clone() else {
            return self.join();
        };
        let cursor = resume
            .then(|| self.signals.feed.with_untracked(FeedState::cursor))
            .flatten()
            .map(EventId);
        let url = api::sse_url(&self.config, &credentials, cursor);
        // The old stream goes first, so that at no point two streams feed the reducer.
        self.inner.borrow_mut().transport = None;
        let weak = Rc::downgrade(self);
        let opened = SseConnection::open(&url, move |event| {
            if let Some(this) = live(&weak) {
                this.on_transport_event(event);
            }
        });
        match opened {
            Ok(connection) => {
                self.inner.borrow_mut().transport = Some(Transport::Sse(connection));
            }
            Err(error) => {
                // The exception itself goes to the console as a value, not formatted.
                web_sys::console::error_2(&format!("livequeue: cannot open {url}:").into(), &error);
                self.signals
                    .problem
                    .set(Some("This queue's address is not valid."));
            }
        }
    }

    fn on_transport_event(self: &Rc<Self>, event: TransportEvent) {
        let signals = self.signals;
        match event {
            TransportEvent::Opened => signals.status.set(ConnectionStatus::Live),
            TransportEvent::Message(message) => {
                self.confirmed();
                self.apply(message);
            }
            TransportEvent::ServerTime(server_time) => {
                self.confirmed();
                signals
                    .skew
                    .set(ClockSkew::measure(server_time, clock::local_now()));
            }
            TransportEvent::Malformed(error) => {
                signals.malformed.update(|n| *n = n.saturating_add(1));
                leptos::logging::warn!("livequeue: skipped a malformed message: {error}");
            }
            TransportEvent::Lost { closed: false } => {
                signals.status.set(ConnectionStatus::Reconnecting);
            }
            TransportEvent::Lost { closed: true } => {
                signals.status.set(ConnectionStatus::Reconnecting);
                let refused = std::mem::take(&mut self.inner.borrow_mut().unconfirmed);
                if refused {
                    // Saved credentials the server never accepted: expired, or from a server
                    // that forgot them. A new place beats waiting on a refused one.
                    leptos::logging::warn!("livequeue: saved credentials refused; joining again");
                    session::clear(&self.config.experience);
                    self.inner.borrow_mut().credentials = None;
                    self.schedule(Step::Join, Duration::ZERO);
                } else {
                    self.schedule(Step::Connect { resume: true }, REOPEN_DELAY);
                }
            }
        }
    }

    /// A stream delivered something: the credentials work, and updates are flowing.
    fn confirmed(&self) {
        self.inner.borrow_mut().unconfirmed = false;
        // Every message passes here: write only on change, so the indicator is not redrawn.
        if self.signals.status.get_untracked() != ConnectionStatus::Live {
            self.signals.status.set(ConnectionStatus::Live);
        }
        if self.signals.problem.get_untracked().is_some() {
            self.signals.problem.set(None);
        }
    }

    fn apply(self: &Rc<Self>, message: FeedMessage) {
        if let FeedMessage::Snapshot(state) = &message {
            let skew = ClockSkew::measure(state.server_time, clock::local_now());
            self.signals.skew.set(skew);
        }
        let mut applied = Default::default();
        self.signals
            .feed
            .update(|feed| applied = feed.apply(message));
        if let Some(resync) = applied.resync {
            leptos::logging::log!("livequeue: resyncing ({})", describe_resync(resync));
            self.schedule(Step::Connect { resume: false }, RESYNC_DELAY);
        }
    }

    /// Runs `step` after `delay`, replacing any pending retry.
    fn schedule(self: &Rc<Self>, step: Step, delay: Duration) {
        let weak = Rc::downgrade(self);
        let handle = set_timeout_with_handle(
            move || {
                let Some(this) = live(&weak) else { return };
                this.inner.borrow_mut().retry = None;
                match step {
                    Step::Join => this.join(),
                    Step::Connect { resume } => this.connect(resume),
                }
            },
            delay,
        );
        let mut inner = self.inner.borrow_mut();
        if let Some(previous) = inner.retry.take() {
            previous.clear();
        }
        // Without a window there is no timer, and nothing else to do either.
        inner.retry = handle.ok();
    }
}

/// A resync's reason for the console (without `Debug`, which costs wasm size).
fn describe_resync(resync: Resync) -> String {
    match resync {
        Resync::NoState => "an update came before any state".to_owned(),
        Resync::Gap { last, got } => format!("broadcast seq jumped from {last} to {got}"),
        Resync::EpochChanged { from, to } => format!("epoch changed from {from} to {to}"),
    }
}

/// The controller behind `weak`, unless it is gone or stopped.
fn live(weak: &Weak<Controller>) -> Option<Rc<Controller>> {
    weak.upgrade().filter(|c| !c.inner.borrow().stopped)
}
