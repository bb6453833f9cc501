//! Drives one feed: credentials, the supervisor's commands, transports, the upgrade probe,
//! message batching and the page's life-cycle.
//!
//! Transport callbacks, timers and page events all [`Controller::post`] into one queue that
//! is drained in order, so no handler ever runs inside another: a transport may be dropped
//! by the handling of its own event (wasm-bindgen defers freeing a closure that is running).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::Duration;

use leptos::prelude::*;
use livequeue_protocol::backoff::{Backoff, RetryHint};
use livequeue_protocol::reducer::FeedMessage;
use livequeue_protocol::supervisor::{
    Command, ConnectionStatus, Event, Failure, Supervisor, SupervisorConfig, TransportKind,
};
use livequeue_protocol::{EventId, FeedState};

use super::{FeedSignals, lifecycle};
use crate::api;
use crate::clock::{self, ClockSkew};
use crate::config::WidgetConfig;
use crate::session::{self, Credentials};
use crate::timer::{Frame, Timeout};
use crate::transport::poll::PollConnection;
use crate::transport::sse::SseConnection;
use crate::transport::ws::WsConnection;
use crate::transport::{Transport, TransportEvent};

/// Longest wait for the next animation frame before a batch is applied anyway: a hidden
/// tab gets no frames, and its shopper must still be told it is their turn (title, sound).
const BATCH_FALLBACK: Duration = Duration::from_millis(250);
/// Joins in a row after the server refused the shopper's credentials, before giving up.
const MAX_REJOINS: u32 = 2;
/// Delay before reopening a stream to resync: short, but no tight loop.
const RESYNC_DELAY: Duration = Duration::from_millis(250);

/// What the controller reacts to.
pub(super) enum Input {
    /// Something happened to the transport of generation `gen`.
    Transport(u32, TransportEvent),
    /// The browser went offline or online.
    Network(bool),
    /// The page came back (visible, restored, or a timer fired far too late): check that
    /// the connection is really alive.
    Wake,
    /// A periodic check (every few seconds).
    Tick,
}

/// An open transport and what is known of it.
struct Current {
    transport: Transport,
    generation: u32,
    /// It delivered something since it opened.
    delivered: bool,
    /// When it last delivered anything (local ms).
    last_seen: f64,
}

#[derive(Default)]
struct Inner {
    credentials: Option<Credentials>,
    /// Joins after a refusal since the last delivery (bounded, against a refusal loop).
    rejoins: u32,
    supervisor: Option<Supervisor>,
    current: Option<Current>,
    probe: Option<Current>,
    generation: u32,
    pending_open: Option<Timeout>,
    upgrade_timer: Option<Timeout>,
    join_timer: Option<Timeout>,
    join_backoff: Option<Backoff>,
    batch: Vec<FeedMessage>,
    flush: Option<(Option<Frame>, Option<Timeout>)>,
    lifecycle: Option<lifecycle::Watch>,
    stopped: bool,
}

/// The feed's driver; callbacks hold it weakly, so dropping the component's reference ends
/// everything.
pub(crate) struct Controller {
    config: WidgetConfig,
    signals: FeedSignals,
    inner: RefCell<Inner>,
    queue: RefCell<VecDeque<Input>>,
    draining: Cell<bool>,
    me: RefCell<Weak<Controller>>,
}

fn jitter() -> f64 {
    js_sys::Math::random()
}

impl Controller {
    pub(super) fn start(config: WidgetConfig, signals: FeedSignals) -> Rc<Self> {
        let supervisor = Supervisor::new(SupervisorConfig {
            order: config.transports.clone(),
            switch_after: config.timings.switch_after,
            backoff: config.timings.backoff,
        });
        let this = Rc::new(Self {
            inner: RefCell::new(Inner {
                supervisor: Some(supervisor),
                join_backoff: Some(Backoff::new(config.timings.backoff)),
                ..Inner::default()
            }),
            config,
            signals,
            queue: RefCell::new(VecDeque::new()),
            draining: Cell::new(false),
            me: RefCell::new(Weak::new()),
        });
        *this.me.borrow_mut() = Rc::downgrade(&this);
        if !this.config.experience_is_valid() {
            this.signals
                .problem
                .set(Some("This queue link isn't valid. Check the address."));
            return this;
        }
        let weak = Rc::downgrade(&this);
        this.inner.borrow_mut().lifecycle = lifecycle::Watch::start(move |input| {
            if let Some(this) = weak.upgrade() {
                this.post(input);
            }
        });
        let given = this.config.identity.clone();
        let saved = given
            .is_none()
            .then(|| session::load(&this.config.experience))
            .flatten();
        match given.or(saved) {
            Some(credentials) => {
                this.inner.borrow_mut().credentials = Some(credentials);
                this.begin();
            }
            None => this.join(),
        }
        this
    }

    fn weak(&self) -> Weak<Controller> {
        self.me.borrow().clone()
    }

    pub(super) fn stop(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.stopped = true;
        // Dropping each owner releases its socket, listeners and timers.
        inner.current = None;
        inner.probe = None;
        inner.pending_open = None;
        inner.upgrade_timer = None;
        inner.join_timer = None;
        inner.flush = None;
        inner.lifecycle = None;
    }

    pub(super) fn reconnect(&self) {
        if self.inner.borrow().credentials.is_none() {
            return self.join();
        }
        self.signals.problem.set(None);
        self.command(Event::Reconnect);
    }

    /// Queues an input and, unless a drain is already under way up the stack, drains.
    pub(super) fn post(&self, input: Input) {
        self.queue.borrow_mut().push_back(input);
        if self.draining.replace(true) {
            return;
        }
        loop {
            let next = self.queue.borrow_mut().pop_front();
            let Some(input) = next else { break };
            if !self.inner.borrow().stopped {
                self.handle(input);
            }
        }
        self.draining.set(false);
    }

    fn handle(&self, input: Input) {
        match input {
            Input::Transport(generation, event) => self.on_transport(generation, event),
            Input::Network(online) => {
                let event = if online {
                    Event::Online
                } else {
                    Event::Offline
                };
                // Offline is answered with `Stop`, which closes whatever is open.
                self.command(event);
            }
            Input::Wake => self.check_liveness(true),
            Input::Tick => self.check_liveness(false),
        }
    }

    // ---- joining ------------------------------------------------------------------------

    fn join(&self) {
        self.signals.status.set(ConnectionStatus::Connecting);
        let weak = self.weak();
        let config = self.config.clone();
        leptos::task::spawn_local(async move {
            let result = api::join(&config).await;
            let Some(this) = weak.upgrade().filter(|c| !c.inner.borrow().stopped) else {
                return;
            };
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
                    }
                    this.signals.problem.set(None);
                    this.enqueue(FeedMessage::Snapshot(joined.state));
                    this.begin();
                }
                Err(error) => {
                    leptos::logging::warn!("livequeue: join failed: {error}");
                    this.signals.problem.set(Some(error.shopper_message()));
                    if !error.is_transient() {
                        this.signals.status.set(ConnectionStatus::Failed);
                        return;
                    }
                    let delay = this
                        .inner
                        .borrow_mut()
                        .join_backoff
                        .as_mut()
                        .and_then(|b| b.fail(RetryHint::None, jitter()));
                    let Some(delay) = delay else {
                        this.signals.status.set(ConnectionStatus::Failed);
                        return;
                    };
                    let weak = this.weak();
                    let timer = Timeout::new(Duration::from_millis(delay), move || {
                        if let Some(this) = weak.upgrade() {
                            this.join();
                        }
                    });
                    this.inner.borrow_mut().join_timer = timer;
                }
            }
        });
    }

    /// Starts the supervisor's first transport (offline: waits for `online`).
    fn begin(&self) {
        if !lifecycle::online() {
            self.command(Event::Offline);
            return;
        }
        let first = self
            .inner
            .borrow()
            .supervisor
            .as_ref()
            .map(Supervisor::start);
        if let Some(command) = first {
            self.run(command);
        }
    }

    // ---- the supervisor -----------------------------------------------------------------

    fn command(&self, event: Event) {
        let command = {
            let mut inner = self.inner.borrow_mut();
            let Some(supervisor) = inner.supervisor.as_mut() else {
                return;
            };
            supervisor.handle(event, jitter())
        };
        self.run(command);
    }

    fn run(&self, command: Command) {
        match command {
            Command::Keep => {}
            Command::Stop => {
                let mut inner = self.inner.borrow_mut();
                inner.current = None;
                inner.probe = None;
                inner.pending_open = None;
                inner.upgrade_timer = None;
            }
            Command::Open { kind, after_ms } => {
                let weak = self.weak();
                let mut inner = self.inner.borrow_mut();
                inner.current = None;
                inner.probe = None;
                inner.upgrade_timer = None;
                inner.pending_open = Timeout::new(Duration::from_millis(after_ms), move || {
                    if let Some(this) = weak.upgrade() {
                        this.open_current(kind, true);
                    }
                });
            }
        }
        self.publish_status();
    }

    fn publish_status(&self) {
        let (status, attempts, upgrade) = {
            let inner = self.inner.borrow();
            let Some(supervisor) = inner.supervisor.as_ref() else {
                return;
            };
            let upgrade = supervisor
                .upgrade_target()
                .filter(|_| inner.upgrade_timer.is_none() && inner.probe.is_none());
            (supervisor.status(), supervisor.attempts(), upgrade)
        };
        if self.signals.status.get_untracked() != status {
            self.signals.status.set(status);
        }
        if status == ConnectionStatus::Failed && self.signals.problem.get_untracked().is_none() {
            self.signals.problem.set(Some(
                "We lost the connection to the queue. Your place is kept: try again.",
            ));
        }
        self.signals.diagnostics.update(|d| d.attempts = attempts);
        if let Some(target) = upgrade {
            self.schedule_upgrade(target);
        }
    }

    // ---- transports ---------------------------------------------------------------------

    /// Opens `kind` as the current transport. `resume`: SSE continues from the state's
    /// cursor (the server replays what was missed) instead of starting with a snapshot.
    fn open_current(&self, kind: TransportKind, resume: bool) {
        let generation = self.next_generation();
        let Some(transport) = self.open(kind, generation, resume) else {
            // A URL the browser refuses: a failure of this transport like any other.
            self.inner.borrow_mut().pending_open = None;
            return self.command(Event::Failed(Failure::TRANSIENT));
        };
        {
            let mut inner = self.inner.borrow_mut();
            inner.pending_open = None;
            inner.current = Some(Current {
                transport,
                generation,
                delivered: false,
                last_seen: clock::local_now(),
            });
        }
        self.signals.transport.set(Some(kind));
        self.signals.diagnostics.update(|d| d.opens += 1);
    }

    fn next_generation(&self) -> u32 {
        let mut inner = self.inner.borrow_mut();
        inner.generation = inner.generation.wrapping_add(1);
        inner.generation
    }

    fn open(&self, kind: TransportKind, generation: u32, resume: bool) -> Option<Transport> {
        let credentials = self.inner.borrow().credentials.clone()?;
        let weak = self.weak();
        let report = move |event: TransportEvent| {
            if let Some(this) = weak.upgrade() {
                this.post(Input::Transport(generation, event));
            }
        };
        let config = &self.config;
        let opened = match kind {
            TransportKind::WebSocket => WsConnection::open(
                &api::ws_url(config, &credentials),
                config.timings.ws,
                report,
            )
            .map(Transport::WebSocket),
            TransportKind::Sse => {
                let cursor = resume
                    .then(|| self.signals.feed.with_untracked(FeedState::cursor))
                    .flatten()
                    .map(EventId);
                SseConnection::open(&api::sse_url(config, &credentials, cursor), report)
                    .map(Transport::Sse)
            }
            TransportKind::Poll => Ok(Transport::Poll(PollConnection::open(
                api::poll_url(config, &credentials),
                config.timings.poll,
                report,
            ))),
        };
        opened
            .map_err(|error| {
                let detail = error.as_string().unwrap_or_default();
                leptos::logging::error!("livequeue: cannot open {kind}: {detail}")
            })
            .ok()
    }

    fn on_transport(&self, generation: u32, event: TransportEvent) {
        let (is_current, is_probe) = {
            let inner = self.inner.borrow();
            (
                inner
                    .current
                    .as_ref()
                    .is_some_and(|c| c.generation == generation),
                inner
                    .probe
                    .as_ref()
                    .is_some_and(|c| c.generation == generation),
            )
        };
        if is_probe {
            return self.on_probe(event);
        }
        if !is_current {
            // A late event of a transport already replaced.
            return;
        }
        match event {
            TransportEvent::Opened => self.touch(),
            TransportEvent::Alive => {
                self.delivered();
                if let Some(Transport::Poll(poll)) =
                    self.inner.borrow().current.as_ref().map(|c| &c.transport)
                {
                    let (_, not_modified) = poll.answers();
                    self.signals
                        .diagnostics
                        .update(|d| d.not_modified = not_modified);
                }
            }
            TransportEvent::ServerTime(server_time) => {
                self.delivered();
                self.signals
                    .skew
                    .set(ClockSkew::measure(Some(server_time), clock::local_now()));
            }
            TransportEvent::Message(message) => {
                self.delivered();
                self.enqueue(message);
            }
            TransportEvent::Malformed(error) => {
                self.touch();
                self.signals
                    .diagnostics
                    .update(|d| d.malformed = d.malformed.saturating_add(1));
                leptos::logging::warn!("livequeue: skipped a malformed message: {error}");
            }
            TransportEvent::Lost { closed: false } => {
                // The browser's EventSource reconnects by itself: show it, open nothing beside it.
                self.signals.status.set(ConnectionStatus::Reconnecting);
            }
            TransportEvent::Lost { closed: true } => self.ask_why_sse_closed(generation),
            TransportEvent::Closed(failure) => self.failed(failure),
        }
    }

    fn touch(&self) {
        if let Some(current) = self.inner.borrow_mut().current.as_mut() {
            current.last_seen = clock::local_now();
        }
    }

    /// The current transport delivered: the first time, it counts as opened.
    fn delivered(&self) {
        let first = {
            let mut inner = self.inner.borrow_mut();
            let Some(current) = inner.current.as_mut() else {
                return;
            };
            current.last_seen = clock::local_now();
            let first = !current.delivered;
            current.delivered = true;
            inner.rejoins = 0;
            first
        };
        if first {
            self.signals.problem.set(None);
            self.command(Event::Opened);
        } else if self.signals.status.get_untracked() == ConnectionStatus::Reconnecting {
            self.publish_status();
        }
    }

    /// A browser closes an `EventSource` for good on an error status without saying which:
    /// one plain request to the same endpoint family tells a refusal (400/401/403/404,
    /// permanent) from a server that is down or busy (transient). The verdict comes back as
    /// the transport's `Closed` event.
    fn ask_why_sse_closed(&self, generation: u32) {
        let Some(credentials) = self.inner.borrow().credentials.clone() else {
            return self.failed(Failure::TRANSIENT);
        };
        let url = api::poll_url(&self.config, &credentials);
        let weak = self.weak();
        leptos::task::spawn_local(async move {
            let status = gloo_net::http::Request::get(&url)
                .send()
                .await
                .map(|r| r.status());
            let failure = match status {
                Ok(status) if !(200..400).contains(&status) => Failure::from_http_status(status),
                _ => Failure::TRANSIENT,
            };
            if let Some(this) = weak.upgrade() {
                this.post(Input::Transport(
                    generation,
                    TransportEvent::Closed(failure),
                ));
            }
        });
    }

    fn failed(&self, failure: Failure) {
        let rejoins = {
            let mut inner = self.inner.borrow_mut();
            inner.current = None;
            inner.rejoins
        };
        if failure.permanent && self.config.identity.is_none() && rejoins < MAX_REJOINS {
            // Our own credentials refused for good: expired, or signed with a secret the
            // server no longer has (a restart without a fixed secret). A new place beats a
            // dead end; a host page's identity is the host's to renew. (A transient failure
            // keeps them: the server may just be restarting.)
            leptos::logging::warn!("livequeue: credentials refused; joining again");
            session::clear(&self.config.experience);
            {
                let mut inner = self.inner.borrow_mut();
                inner.credentials = None;
                inner.rejoins += 1;
            }
            // Another shopper id: the old state must not mix with the new one.
            self.signals.feed.set(FeedState::new());
            self.join();
            return;
        }
        if failure.permanent {
            self.signals.problem.set(Some(
                "We couldn't confirm your place in this queue. Please reload the page.",
            ));
        }
        self.command(Event::Failed(failure));
    }

    // ---- upgrade probe ------------------------------------------------------------------

    fn schedule_upgrade(&self, target: TransportKind) {
        let every = self.config.timings.upgrade_every.as_millis() as f64;
        let delay = Duration::from_millis((every * (0.8 + 0.4 * jitter())) as u64);
        let weak = self.weak();
        let timer = Timeout::new(delay, move || {
            if let Some(this) = weak.upgrade() {
                this.start_probe(target);
            }
        });
        self.inner.borrow_mut().upgrade_timer = timer;
    }

    fn start_probe(&self, target: TransportKind) {
        self.inner.borrow_mut().upgrade_timer = None;
        let still_wanted = self
            .inner
            .borrow()
            .supervisor
            .as_ref()
            .and_then(Supervisor::upgrade_target)
            .is_some_and(|t| t == target);
        if !still_wanted {
            return;
        }
        let generation = self.next_generation();
        if let Some(transport) = self.open(target, generation, false) {
            self.inner.borrow_mut().probe = Some(Current {
                transport,
                generation,
                delivered: false,
                last_seen: clock::local_now(),
            });
        }
    }

    fn on_probe(&self, event: TransportEvent) {
        match event {
            TransportEvent::Message(message) => {
                // The preferred transport works again: it becomes the feed.
                let kind = {
                    let mut inner = self.inner.borrow_mut();
                    let Some(mut probe) = inner.probe.take() else {
                        return;
                    };
                    probe.delivered = true;
                    probe.last_seen = clock::local_now();
                    let kind = probe.transport.kind();
                    inner.current = Some(probe);
                    kind
                };
                leptos::logging::log!("livequeue: back on {kind}");
                self.signals.transport.set(Some(kind));
                self.command(Event::Upgraded);
                self.enqueue(message);
            }
            TransportEvent::Closed(_) | TransportEvent::Lost { .. } => {
                self.inner.borrow_mut().probe = None;
                self.publish_status();
            }
            _ => {}
        }
    }

    // ---- liveness -----------------------------------------------------------------------

    fn check_liveness(&self, woke: bool) {
        let now = clock::local_now();
        let silence = self.config.timings.sse_silence.as_millis() as f64;
        let dead_sse = {
            let inner = self.inner.borrow();
            let Some(current) = inner.current.as_ref() else {
                return;
            };
            match &current.transport {
                Transport::WebSocket(ws) => {
                    if woke {
                        ws.check_liveness();
                    }
                    false
                }
                Transport::Poll(poll) => {
                    if woke {
                        poll.poll_now();
                    }
                    false
                }
                // A quiet stream gets a heartbeat every 15 s: waking after a third of the
                // dead limit without one means the stream did not survive the sleep.
                Transport::Sse(_) => {
                    now - current.last_seen > if woke { silence / 3.0 } else { silence }
                }
            }
        };
        if dead_sse {
            leptos::logging::warn!("livequeue: the event stream went silent; reopening it");
            self.failed(Failure::TRANSIENT);
        }
    }

    // ---- batching -----------------------------------------------------------------------

    /// Queues a message for the next frame.
    fn enqueue(&self, message: FeedMessage) {
        let mut inner = self.inner.borrow_mut();
        inner.batch.push(message);
        if inner.flush.is_some() {
            return;
        }
        let weak = self.weak();
        let frame = Frame::new(move || {
            if let Some(this) = weak.upgrade() {
                this.flush();
            }
        });
        let weak = self.weak();
        let fallback = Timeout::new(BATCH_FALLBACK, move || {
            if let Some(this) = weak.upgrade() {
                this.flush();
            }
        });
        inner.flush = Some((frame, fallback));
    }

    /// Applies every queued message with one signal update.
    fn flush(&self) {
        let batch = {
            let mut inner = self.inner.borrow_mut();
            inner.flush = None;
            std::mem::take(&mut inner.batch)
        };
        if batch.is_empty() {
            return;
        }
        let count = batch.len() as u32;
        let mut stale = 0;
        let mut resync = None;
        let mut skew = None;
        self.signals.feed.update(|feed| {
            for message in batch {
                // A snapshot without a clock leaves the skew a heartbeat measured.
                if let FeedMessage::Snapshot(state) = &message
                    && state.server_time.is_some()
                {
                    skew = Some(ClockSkew::measure(state.server_time, clock::local_now()));
                }
                let applied = feed.apply(message);
                stale += u32::from(applied.stale);
                resync = resync.or(applied.resync);
            }
        });
        if let Some(skew) = skew {
            self.signals.skew.set(skew);
        }
        self.signals.last_update.set(Some(clock::local_now()));
        self.signals.diagnostics.update(|d| {
            d.messages = d.messages.saturating_add(count);
            d.stale = d.stale.saturating_add(stale);
            d.renders = d.renders.saturating_add(1);
            d.resyncs = d.resyncs.saturating_add(u32::from(resync.is_some()));
        });
        if let Some(reason) = resync {
            leptos::logging::log!("livequeue: resyncing ({reason})");
            self.resync();
        }
    }

    /// Fetches the full state: over the same connection when it can, else a new stream.
    fn resync(&self) {
        let refreshed = self
            .inner
            .borrow()
            .current
            .as_ref()
            .map(|c| c.transport.refresh());
        if refreshed == Some(false) {
            let weak = self.weak();
            let timer = Timeout::new(RESYNC_DELAY, move || {
                if let Some(this) = weak.upgrade() {
                    this.open_current(TransportKind::Sse, false);
                }
            });
            let mut inner = self.inner.borrow_mut();
            inner.current = None;
            inner.pending_open = timer;
        }
    }
}
