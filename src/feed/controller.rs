//! The feed's shell: it reports what happens to the protocol's [`FeedMachine`] and performs
//! the [`Command`]s it answers (open and close transports, set timers, join, update signals).
//! It decides nothing itself.
//!
//! Transport callbacks, timers, join answers and page events all [`Controller::post`] into one
//! queue that is drained in order, so no handler ever runs inside another: a transport may be
//! dropped by the handling of its own event (wasm-bindgen defers freeing a closure that is
//! running).
//!
//! Opening transports and reading their events is in `super::transports`; sharing the feed
//! with the browser's other tabs of the same shopper (only the elected tab runs the
//! machine) in `super::tabs`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::Duration;

use leptos::prelude::*;
use livequeue_protocol::FeedState;
use livequeue_protocol::feed::{Command, Event, FeedConfig, FeedMachine, GiveUp};
use livequeue_protocol::supervisor::{ConnectionStatus, SupervisorConfig, TransportKind};
use livequeue_protocol::tabs::TabEvent;

use super::batch::{self, Flush};
use super::join::{JoinResult, Joiner};
use super::lifecycle::{self, PageEvent};
use super::link::Link;
use super::probe::UpgradeProbe;
use super::tabs::{TabView, Tabs};
use super::{FeedSignals, Heard, Presence};
use crate::clock;
use crate::config::{JoinMode, WidgetConfig};
use crate::log;
use crate::problem::Problem;
use crate::session::{self, Credentials};
use crate::timer::Timeout;
use crate::transport::{Transport, TransportEvent};
use wasm_bindgen::JsCast;

/// What the controller reacts to.
pub(super) enum Input {
    /// The feed starts.
    Start,
    /// Something happened to the transport of generation `.0`.
    Transport(u32, TransportEvent),
    /// The page's network or visibility changed, or the watchdog ticked.
    Page(PageEvent),
    /// The join answered.
    Joined(JoinResult),
    /// The delay of a [`Command::Open`] is over.
    OpenDue {
        /// The transport to open.
        kind: TransportKind,
        /// Resume an SSE stream from the state's cursor.
        resume: bool,
    },
    /// The reducer asked for the full state.
    Resync,
    /// A timer of the machine's fired (probe, flush).
    Machine(Event),
    /// The shopper asked to start again.
    Reconnect,
    /// Something happened to the election of the tab that connects (the lock, the tick,
    /// the page's freeze or resume).
    Tab(TabEvent),
    /// Another tab of the same shopper said something (a message of `super::tabs`).
    Heard(String),
}

/// The controller's mutable state: the machine and the resources its commands hold.
pub(super) struct Inner {
    /// Every decision.
    pub(super) machine: FeedMachine,
    /// The shopper's credentials, once known (given, saved or joined).
    pub(super) credentials: Option<Credentials>,
    /// The transport the feed runs on.
    pub(super) current: Option<Link>,
    /// The delay before the next transport opens.
    pub(super) pending_open: Option<Timeout>,
    /// The upgrade probe's timer and transport.
    pub(super) probe: UpgradeProbe,
    /// The join's delay.
    pub(super) joiner: Joiner,
    /// The timers of a pending batch.
    pub(super) flush: Flush,
    /// The page's listeners and watchdog.
    pub(super) lifecycle: Option<lifecycle::Watch>,
    /// The window's `storage` listener: another tab of the same browser joined or left.
    pub(super) other_tabs: Option<crate::timer::Listener>,
    /// Sharing the feed with the other tabs of the same shopper, once the place is known.
    pub(super) tabs: Option<Tabs>,
    /// The status the leading tab shared, while this one follows it (instead of its own
    /// machine's, which is idle).
    pub(super) shown: Option<ConnectionStatus>,
    /// What `signals.heard` says, for sharing it.
    pub(super) heard: Heard,
    /// The last generation given to a transport.
    pub(super) generation: u32,
    /// The component was cleaned up: nothing more is done.
    pub(super) stopped: bool,
}

impl Inner {
    /// Closes the feed: dropping each owner releases its socket, listeners and timers.
    fn close_feed(&mut self) {
        self.current = None;
        self.probe.clear();
        self.pending_open = None;
        self.joiner.cancel();
        self.flush.cancel();
        self.lifecycle = None;
    }
}

/// The feed's driver; callbacks hold it weakly, so dropping the component's reference ends
/// everything.
pub(crate) struct Controller {
    /// What the page asked for.
    pub(super) config: WidgetConfig,
    /// What the components read.
    pub(super) signals: FeedSignals,
    /// The machine and the resources.
    pub(super) inner: RefCell<Inner>,
    /// Inputs waiting to be handled, in order.
    queue: RefCell<VecDeque<Input>>,
    /// A drain is under way up the stack.
    draining: Cell<bool>,
    /// The state, status or transport changed while handling the current input: a leader
    /// shares it with the other tabs once the input is handled.
    pub(super) changed: Cell<bool>,
    /// Itself, weakly, for the callbacks it hands out.
    me: Weak<Controller>,
}

fn jitter() -> f64 {
    js_sys::Math::random()
}

/// The local clock as the machine counts it: whole milliseconds.
pub(super) fn now_ms() -> u64 {
    clock::local_now() as u64
}

/// A machine at its start for `config`.
fn machine_for(config: &WidgetConfig, host_identity: bool) -> FeedMachine {
    FeedMachine::new(FeedConfig {
        supervisor: SupervisorConfig {
            order: config.transports.clone(),
            switch_after: config.timings.switch_after,
            backoff: config.timings.backoff,
        },
        host_identity,
        silence_ms: config.timings.sse_silence.as_millis() as u64,
        upgrade_every_ms: config.timings.upgrade_every.as_millis() as u64,
        ..FeedConfig::default()
    })
}

impl Controller {
    pub(super) fn start(config: WidgetConfig, signals: FeedSignals) -> Rc<Self> {
        let machine = machine_for(&config, config.identity.is_some());
        let this = Rc::new_cyclic(|me| Self {
            inner: RefCell::new(Inner {
                machine,
                credentials: None,
                current: None,
                pending_open: None,
                probe: UpgradeProbe::default(),
                joiner: Joiner::default(),
                flush: Flush::default(),
                lifecycle: None,
                other_tabs: None,
                tabs: None,
                shown: None,
                heard: Heard::default(),
                generation: 0,
                stopped: false,
            }),
            config,
            signals,
            queue: RefCell::new(VecDeque::new()),
            draining: Cell::new(false),
            changed: Cell::new(false),
            me: me.clone(),
        });
        if !this.config.experience_is_valid() {
            this.signals.problem.set(Some(Problem::InvalidLink));
            return this;
        }
        let given = this.config.identity.clone();
        let saved = given
            .is_none()
            .then(|| session::load(&this.config.experience))
            .flatten();
        let holding = given.is_some() || saved.is_some();
        if given.is_none() {
            this.follow_other_tabs();
        }
        this.inner.borrow_mut().credentials = given.or(saved);
        if holding {
            this.share(false);
        } else if this.config.join == JoinMode::Auto {
            this.begin();
        } else {
            this.signals.presence.set(Presence::Outside);
        }
        this
    }

    /// Follows what other tabs do with this experience's one place (`storage` events fire in
    /// every other tab of the origin): a place saved elsewhere is followed here too, and a
    /// place given up elsewhere is given up here.
    fn follow_other_tabs(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let weak = self.me.clone();
        let key = session::storage_key(&self.config.experience);
        let listener = crate::timer::Listener::new(&window, "storage", move |event| {
            let Some(this) = weak.upgrade() else { return };
            let event: &web_sys::StorageEvent = event.unchecked_ref();
            if event.key().as_deref() != Some(key.as_str()) {
                return;
            }
            let presence = this.signals.presence.get_untracked();
            match (session::load(&this.config.experience), presence) {
                (None, Presence::Holding) => this.left(),
                (Some(theirs), Presence::Outside | Presence::Left) => {
                    this.inner.borrow_mut().credentials = Some(theirs);
                    this.signals.presence.set(Presence::Holding);
                    this.share(false);
                }
                _ => {}
            }
        });
        self.inner.borrow_mut().other_tabs = Some(listener);
    }

    /// Watches the page and starts the machine: joining, or following the known place.
    pub(super) fn begin(&self) {
        self.inner.borrow_mut().shown = None;
        let post = self.poster();
        self.inner.borrow_mut().lifecycle =
            lifecycle::Watch::start(move |event| post(Input::Page(event)));
        self.post(Input::Start);
    }

    /// The shopper pressed Join: a place is asked for, unless one is held already.
    pub(super) fn join(&self) {
        if self.signals.presence.get_untracked() == Presence::Holding {
            return;
        }
        self.signals.presence.set(Presence::Holding);
        self.begin();
    }

    /// The server confirmed the shopper left: everything the feed holds is released, the
    /// place forgotten, and a later Join starts from the beginning.
    pub(super) fn left(&self) {
        session::clear(&self.config.experience);
        self.pause();
        {
            let mut inner = self.inner.borrow_mut();
            inner.credentials = None;
            inner.machine = machine_for(&self.config, false);
        }
        self.stop_sharing();
        self.signals.feed.set(FeedState::new());
        self.signals.problem.set(None);
        self.signals.presence.set(Presence::Left);
        self.publish_status();
    }

    /// Closes this tab's feed and everything it holds (another tab leads, or the place is
    /// gone), keeping the state shown; the machine starts afresh when the feed runs again.
    pub(super) fn pause(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.close_feed();
        inner.machine = machine_for(&self.config, self.config.identity.is_some());
    }

    /// Stops sharing with the other tabs (the shopper's place is gone or replaced): the
    /// lock is given up.
    fn stop_sharing(&self) {
        let tabs = {
            let mut inner = self.inner.borrow_mut();
            inner.shown = None;
            inner.tabs.take()
        };
        drop(tabs);
        self.signals
            .diagnostics
            .update(|d| d.tab = TabView::default());
    }

    /// The shopper's credentials, once known.
    pub(super) fn credentials(&self) -> Option<Credentials> {
        self.inner.borrow().credentials.clone()
    }

    pub(super) fn stop(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.stopped = true;
        inner.other_tabs = None;
        inner.tabs = None;
        inner.close_feed();
    }

    pub(super) fn reconnect(&self) {
        self.post(Input::Reconnect);
    }

    /// A callback that posts into this controller's queue while it lives.
    pub(super) fn poster(&self) -> impl Fn(Input) + Clone + 'static {
        let weak = self.me.clone();
        move |input| {
            if let Some(this) = weak.upgrade() {
                this.post(input);
            }
        }
    }

    /// Queues an input and, unless a drain is already under way up the stack, drains.
    fn post(&self, input: Input) {
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
        let event = match input {
            Input::Start => Event::Start {
                credentials: self.inner.borrow().credentials.is_some(),
                online: lifecycle::online(),
            },
            Input::Transport(generation, event) => return self.on_transport(generation, event),
            Input::Page(PageEvent::Network(true)) => Event::Online,
            Input::Page(PageEvent::Network(false)) => Event::Offline,
            Input::Page(PageEvent::Wake) => Event::Tick {
                now_ms: now_ms(),
                woke: true,
            },
            Input::Page(PageEvent::Tick) => Event::Tick {
                now_ms: now_ms(),
                woke: false,
            },
            Input::Joined(result) => return self.joined(result),
            Input::OpenDue { kind, resume } => return self.open_current(kind, resume),
            Input::Resync => {
                let refreshable = self.with_current(Transport::can_refresh);
                Event::ResyncNeeded {
                    refreshable: refreshable.unwrap_or(false),
                }
            }
            Input::Machine(Event::ProbeDue) => {
                self.inner.borrow_mut().probe.disarm();
                Event::ProbeDue
            }
            Input::Machine(Event::FlushDue) => {
                self.inner.borrow_mut().flush.cancel();
                Event::FlushDue
            }
            Input::Machine(event) => event,
            // A follower's Reconnect is the leader's to perform.
            Input::Reconnect if self.sharing() => return self.on_tab(TabEvent::Retry),
            Input::Reconnect => Event::Reconnect,
            Input::Tab(event) => return self.on_tab(event),
            Input::Heard(text) => return self.heard(&text),
        };
        self.feed(event);
    }

    /// Tells the machine and performs what it answers.
    pub(super) fn feed(&self, event: Event) {
        let commands = self.inner.borrow_mut().machine.handle(event, jitter());
        for command in commands {
            self.perform(command);
        }
        self.publish_status();
        if self.changed.take() {
            self.on_tab(TabEvent::Changed);
        }
    }

    pub(super) fn publish_status(&self) {
        let (status, attempts) = {
            let inner = self.inner.borrow();
            let status = inner.shown.unwrap_or_else(|| inner.machine.status());
            (status, inner.machine.attempts())
        };
        if self.signals.status.get_untracked() != status {
            self.signals.status.set(status);
            self.changed.set(true);
        }
        self.signals.diagnostics.update(|d| d.attempts = attempts);
    }

    fn with_current<T>(&self, f: impl FnOnce(&Transport) -> T) -> Option<T> {
        self.inner
            .borrow()
            .current
            .as_ref()
            .map(|c| f(&c.transport))
    }

    fn perform(&self, command: Command) {
        let post = self.poster();
        match command {
            Command::Join { after_ms } => {
                let done = move |result| post(Input::Joined(result));
                self.inner
                    .borrow_mut()
                    .joiner
                    .schedule(&self.config, after_ms, done);
            }
            Command::Rejoin => {
                log::warn("livequeue: credentials refused; joining again");
                session::clear(&self.config.experience);
                self.inner.borrow_mut().credentials = None;
                // The tabs shared the refused place; the new one is shared anew.
                self.stop_sharing();
                // Another shopper id: the old state must not mix with the new one.
                self.signals.feed.set(FeedState::new());
            }
            Command::Open {
                kind,
                after_ms,
                resume,
            } => {
                let timer = Timeout::new(Duration::from_millis(after_ms), move || {
                    post(Input::OpenDue { kind, resume })
                });
                let mut inner = self.inner.borrow_mut();
                inner.current = None;
                inner.pending_open = Some(timer);
            }
            Command::Close => {
                let mut inner = self.inner.borrow_mut();
                inner.current = None;
                inner.pending_open = None;
            }
            Command::Silent => {
                log::warn("livequeue: the event stream went silent; reopening it");
            }
            Command::CheckLiveness => {
                self.with_current(Transport::check_liveness);
            }
            Command::Refresh => {
                self.with_current(Transport::refresh);
            }
            Command::Probe { after_ms } => {
                let due = move || post(Input::Machine(Event::ProbeDue));
                self.inner.borrow_mut().probe.arm(after_ms, due);
            }
            Command::OpenProbe { kind } => match self.open(kind, false) {
                Some(link) => self.inner.borrow_mut().probe.hold(link),
                None => post(Input::Machine(Event::ProbeFailed)),
            },
            Command::Promote => {
                let mut inner = self.inner.borrow_mut();
                if let Some(link) = inner.probe.take() {
                    let kind = link.transport.kind();
                    inner.current = Some(link);
                    drop(inner);
                    log::log2("livequeue: back on ", kind.as_str());
                    self.signals.transport.set(Some(kind));
                    self.changed.set(true);
                }
            }
            Command::DropProbe => self.inner.borrow_mut().probe.clear(),
            // A hidden tab that shares its feed flushes at once: it gets no frames, and the
            // tab the shopper looks at follows it.
            Command::ScheduleFlush { .. } if self.sharing() && lifecycle::page_hidden() => {
                post(Input::Machine(Event::FlushDue));
            }
            Command::ScheduleFlush { fallback_ms } => {
                let due = move || post(Input::Machine(Event::FlushDue));
                self.inner.borrow_mut().flush.schedule(fallback_ms, due);
            }
            Command::Apply(messages) => {
                self.changed.set(true);
                if let Some(reason) = batch::apply(&self.signals, messages) {
                    log::log2("livequeue: resyncing: ", &log::resync(reason));
                    post(Input::Resync);
                }
            }
            Command::Recovered => {
                if self.signals.problem.with_untracked(Option::is_some) {
                    self.signals.problem.set(None);
                }
            }
            Command::GiveUp(why) => self.signals.problem.set(Some(match why {
                GiveUp::Refused => Problem::CredentialsRefused,
                GiveUp::Lost => Problem::ConnectionLost,
            })),
        }
    }

    fn joined(&self, result: JoinResult) {
        let event = match result {
            Ok(joined) => {
                let credentials = Credentials {
                    consumer_id: joined.consumer_id,
                    token: joined.token,
                };
                if let Some(theirs) = session::load(&self.config.experience)
                    .filter(|saved| saved.consumer_id != credentials.consumer_id)
                {
                    // Another tab joined while this one did: one place per shopper. This
                    // tab gives its new place back and follows the other's.
                    let config = self.config.clone();
                    leptos::task::spawn_local(async move {
                        // A place not given back only waits at the back of the line.
                        let _ = crate::api::leave(&config, &credentials).await;
                    });
                    self.inner.borrow_mut().credentials = Some(theirs);
                    self.pause();
                    return self.share(false);
                }
                session::save(&self.config.experience, &credentials);
                self.inner.borrow_mut().credentials = Some(credentials);
                self.feed(Event::Joined {
                    state: Box::new(joined.state),
                    online: lifecycle::online(),
                });
                // Its feed opens: it keeps it if it is granted the lead.
                return self.share(true);
            }
            Err(error) => {
                log::warn2("livequeue: join failed: ", &error.detail());
                let transient = error.is_transient();
                self.signals.problem.set(Some(Problem::of_join(error)));
                Event::JoinFailed { transient }
            }
        };
        self.feed(event);
    }
}
