//! One connection per browser: the tabs (and frames of the widget's origin) that show the
//! same shopper in the same drop share one feed. The protocol's `tabs::TabMachine` elects
//! the one that connects and says what each does; this module performs its commands:
//!
//! - `lock`: the Web Lock that elects the tab that connects.
//! - `channel`: the messages between the tabs and the `BroadcastChannel` they travel on.
//!
//! Without Web Locks or `BroadcastChannel`, or with `?share=0`, the tab connects alone.
//!
//! Only the leader runs the feed (the controller's `FeedMachine` and its transports). It
//! shares its state and status when they change and at every tick; a follower puts the
//! state it hears through the same batch and cursor-ordered reducer as the leader's own
//! messages, and shows the leader's status and transport (a hidden leader applies each batch
//! at once rather than at a frame it does not get, so the tab in view keeps up). When the
//! leader closes, freezes
//! or crashes, the lock goes to a follower, whose feed starts from the state it holds (the
//! server's first message to it is the full state, ordered by cursor against it, so an
//! admission made meanwhile is shown).
//!
//! Everything here (the lock, the channel, the page listeners, the ticker) is owned by
//! [`Tabs`], which the controller holds while the shopper holds a place: dropping it gives
//! the lead up.

mod channel;
mod lock;

use std::time::Duration;

use leptos::prelude::*;
use livequeue_protocol::feed::Event;
use livequeue_protocol::reducer::FeedMessage;
use livequeue_protocol::tabs::{Means, Role, TabCommand, TabEvent, TabId, TabMachine, TabsConfig};

use super::batch;
use super::controller::{Controller, Input, now_ms};
use crate::timer::{Interval, Listener};
use crate::{clock, format, session};
use channel::{Channel, Kind, Message};
use lock::WebLock;

/// This tab's part in sharing the feed, for the `?debug=1` panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TabView {
    /// This tab's role.
    pub role: Role,
    /// The tab that leads (this one, when it does), as far as this one knows.
    pub leader: Option<TabId>,
}

impl Default for TabView {
    fn default() -> Self {
        Self {
            role: Role::Idle,
            leader: None,
        }
    }
}

/// The election's state and the browser resources it holds.
pub(super) struct Tabs {
    /// Every decision.
    machine: TabMachine,
    /// The lock's and the channel's name: `livequeue:<experience>:<consumer>`.
    name: String,
    /// The channel to the other tabs.
    channel: Channel,
    /// The lock requested or held ([`Means::Locks`]).
    lock: Option<WebLock>,
    /// `freeze` and `resume` on the document, `pagehide` and `pageshow` on the window.
    _listeners: Vec<Listener>,
    /// The machine's tick, every [`TabsConfig::renew_ms`].
    _ticker: Interval,
}

impl Controller {
    /// The shopper's place is known: share one feed with the browser's other tabs showing
    /// it, or, alone, connect. `connected`: this tab's feed is open already (it joined).
    pub(super) fn share(&self, connected: bool) {
        let credentials = self.credentials();
        let consumer = credentials.as_ref().map_or("", |c| c.consumer_id.as_str());
        let name = format::concat(&["livequeue:", &self.config.experience, ":", consumer]);
        let post = self.poster();
        let heard = post.clone();
        // No `BroadcastChannel` in this browser (or sharing off): no channel.
        let channel = self
            .config
            .share
            .then(|| Channel::open(&name, move |text| heard(Input::Heard(text))))
            .flatten();
        // No lease in storage: see `lock`.
        let means = Means::choose(
            self.config.share,
            lock::has_locks(),
            channel.is_some(),
            false,
        );
        let Some(channel) = channel.filter(|_| means != Means::Alone) else {
            // Alone: this tab connects on its own, as every tab did before sharing.
            self.signals
                .diagnostics
                .update(|d| d.tab.role = Role::Alone);
            if !connected {
                self.begin();
            }
            return;
        };
        let config = TabsConfig::default();
        let mut listeners = Vec::new();
        if let Some(window) = web_sys::window() {
            let on =
                |target: &web_sys::EventTarget, name: &'static str, event: fn() -> TabEvent| {
                    let post = post.clone();
                    Listener::new(target, name, move |_| post(Input::Tab(event())))
                };
            let resume = || TabEvent::Resume { now_ms: now_ms() };
            if let Some(document) = window.document() {
                listeners.push(on(&document, "freeze", || TabEvent::Freeze));
                listeners.push(on(&document, "resume", resume));
            }
            listeners.push(on(&window, "pagehide", || TabEvent::Freeze));
            listeners.push(on(&window, "pageshow", resume));
        }
        let tick = || TabEvent::Tick {
            now_ms: now_ms(),
            lease: None,
        };
        let ticking = post.clone();
        let ticker = Interval::new(Duration::from_millis(config.renew_ms), move || {
            ticking(Input::Tab(tick()))
        });
        let me = (js_sys::Math::random() * f64::from(u32::MAX)) as TabId;
        self.inner.borrow_mut().tabs = Some(Tabs {
            machine: TabMachine::new(me, config),
            name,
            channel,
            lock: None,
            _listeners: listeners,
            _ticker: ticker,
        });
        post(Input::Tab(TabEvent::Start {
            means,
            now_ms: now_ms(),
            connected,
        }));
    }

    /// Whether the tab shares its feed with others (it may lead or follow).
    pub(super) fn sharing(&self) -> bool {
        self.inner.borrow().tabs.is_some()
    }

    /// Tells the tab machine and performs what it answers.
    pub(super) fn on_tab(&self, event: TabEvent) {
        self.tab_event(event, None);
    }

    /// [`Controller::on_tab`]; `heard` is the message heard, for [`TabCommand::Show`].
    fn tab_event(&self, event: TabEvent, heard: Option<&Message>) {
        let (commands, view) = {
            let mut inner = self.inner.borrow_mut();
            let Some(tabs) = inner.tabs.as_mut() else {
                return;
            };
            let commands = tabs.machine.handle(event);
            let view = TabView {
                role: tabs.machine.role(),
                leader: tabs.machine.leader(),
            };
            (commands, view)
        };
        for command in commands {
            self.perform_tab(command, heard);
        }
        if self.signals.diagnostics.with_untracked(|d| d.tab != view) {
            self.signals.diagnostics.update(|d| d.tab = view);
        }
    }

    /// Reads a message from another tab as the machine's event.
    pub(super) fn heard(&self, text: &str) {
        let Some((kind, message)) = Message::read(text) else {
            return;
        };
        let event = match kind {
            Kind::Ask => TabEvent::Asked,
            Kind::Retry => TabEvent::RetryAsked,
            Kind::Share(from) => TabEvent::Heard { from },
        };
        self.tab_event(event, Some(&message));
    }

    fn perform_tab(&self, command: TabCommand, heard: Option<&Message>) {
        match command {
            TabCommand::Connect => {
                // The place was given up in another tab meanwhile: nothing to connect for.
                if self.config.identity.is_none()
                    && session::load(&self.config.experience).is_none()
                {
                    return self.left();
                }
                self.begin();
            }
            TabCommand::Disconnect => self.pause(),
            TabCommand::Follow => self.post_tabs(channel::ASK),
            TabCommand::Retry => self.post_tabs(channel::RETRY),
            TabCommand::Share => self.post_tabs(&self.share_message()),
            TabCommand::Show => {
                if let Some(message) = heard {
                    self.show(message);
                }
            }
            TabCommand::Reconnect => self.feed(Event::Reconnect),
            TabCommand::RequestLock => {
                let post = self.poster();
                let mut inner = self.inner.borrow_mut();
                if let Some(tabs) = inner.tabs.as_mut() {
                    let granted = move || post(Input::Tab(TabEvent::LockGranted));
                    tabs.lock = WebLock::request(&tabs.name, granted);
                }
            }
            TabCommand::ReleaseLock => {
                let lock = self
                    .inner
                    .borrow_mut()
                    .tabs
                    .as_mut()
                    .and_then(|t| t.lock.take());
                drop(lock);
            }
            // The widget elects by Web Locks only (see `lock`).
            TabCommand::WriteLease(_) | TabCommand::ClearLease => {}
        }
    }

    fn post_tabs(&self, message: &str) {
        if let Some(tabs) = &self.inner.borrow().tabs {
            tabs.channel.post(message);
        }
    }

    /// What this tab shares: its feed's state and connection (read from the machine and
    /// the controller's copies rather than the signals: fewer signal reads in the bundle).
    fn share_message(&self) -> String {
        let (from, status, transport, heard) = {
            let inner = self.inner.borrow();
            let from = inner.tabs.as_ref().map_or(0, |t| t.machine.id());
            let machine = &inner.machine;
            (from, machine.status(), machine.transport(), inner.heard)
        };
        let skew = self.signals.skew.get_untracked();
        self.signals.feed.with_untracked(|feed| {
            channel::share(
                from,
                status,
                Some(transport),
                heard,
                skew,
                clock::local_now(),
                feed.state(),
            )
        })
    }

    /// Shows what the leader shared: its state through this tab's batch and reducer (so a
    /// late message never moves it back, and the skew is measured from the server's clock
    /// the leader passed on), and its connection as this tab's.
    fn show(&self, message: &Message) {
        let Some(shown) = message.shown() else {
            return;
        };
        if let Some(state) = shown.state {
            // A resync is the leader's to ask for; its next share carries the result.
            let _ = batch::apply(&self.signals, vec![FeedMessage::Snapshot(state)]);
        }
        self.inner.borrow_mut().shown = Some(shown.status);
        self.publish_status();
        // Read only by the debug panel.
        self.signals.transport.set(shown.transport);
        self.show_heard(shown.heard);
    }
}
