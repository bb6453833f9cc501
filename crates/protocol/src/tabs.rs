//! Which of a browser's tabs holds the one connection to the server, when several show the
//! same shopper in the same drop, and what the others do with what it tells them.
//!
//! The tabs elect one leader; only the leader connects, and the others follow it over a
//! channel between tabs (a `BroadcastChannel`). The browser offers one of three means
//! ([`Means`], picked by [`Means::choose`]):
//!
//! - [`Means::Locks`] (the Web Locks API): every tab asks for one exclusive lock; the
//!   browser grants it to one tab at a time, and releases it when that tab closes or
//!   crashes, so the next tab in line is granted it at once. A tab waiting in line follows
//!   whoever holds it. A tab that is connected already when it starts (it has just joined
//!   the line) keeps its feed for [`TabsConfig::grant_wait_ms`]: granted by then, it leads
//!   without reconnecting; not, it closes its feed and follows.
//! - [`Means::Lease`] (no Web Locks, but `localStorage`): a lease `{holder, until}` in
//!   storage. The leader renews it every [`TabsConfig::renew_ms`]; a tab that finds it
//!   expired (or empty) writes its own claim and leads only if, at its next tick, the claim
//!   is still its own (two tabs claiming at once: the last write wins, and the other sees
//!   it). A leader that finds another tab's valid lease steps down. (The widget does not
//!   use it: its bundle has no room for it, see its `feed::tabs::lock`; there, a browser
//!   without Web Locks connects in every tab.)
//! - [`Means::Alone`]: no channel between tabs, neither locks nor storage, or sharing
//!   turned off (`?share=0`): every tab connects.
//!
//! A tab that freezes (the page life cycle's `freeze`) or closes gives the lead up first:
//! it disconnects and releases the lock or clears its lease, so another tab takes over
//! without waiting for an expiry. One that crashes gives nothing up: the browser releases
//! its lock, or its lease runs out.
//!
//! Between tabs: a follower asks for the state when it starts following
//! ([`TabCommand::Follow`]); the leader shares its state and connection status when asked,
//! when it starts leading, whenever they change and at every tick ([`TabCommand::Share`]);
//! a follower shows
//! what a leader shares ([`TabCommand::Show`]: the shell puts the state through the same
//! cursor-ordered reducer, so a late message never moves it back). The shopper's
//! "Reconnect" in a follower is the leader's to perform ([`TabCommand::Retry`]).
//!
//! Like every machine here it decides and the shell acts: the widget feeds it
//! [`TabEvent`]s and performs the [`TabCommand`]s it answers.

/// A tab's identity, random per page load.
pub type TabId = u64;

/// What the browser offers for electing a leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Means {
    /// The Web Locks API.
    Locks,
    /// A lease in `localStorage`.
    Lease,
    /// No sharing: this tab connects on its own.
    Alone,
}

impl Means {
    /// The means of a browser that has Web Locks (`locks`), `BroadcastChannel` (`channel`)
    /// and a `localStorage` the shell can keep a lease in (`storage`), when sharing is on
    /// (`share`). Without a channel the tabs cannot talk, and each connects.
    pub fn choose(share: bool, locks: bool, channel: bool, storage: bool) -> Means {
        match (share && channel, locks, storage) {
            (false, ..) => Means::Alone,
            (true, true, _) => Means::Locks,
            (true, false, true) => Means::Lease,
            (true, false, false) => Means::Alone,
        }
    }
}

/// Timings of the election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TabsConfig {
    /// How long a lease holds without renewal, ms. Default 3,000: a crashed leader is
    /// replaced within this plus one tick.
    pub lease_ms: u64,
    /// How often the shell ticks (and a leader renews its lease), ms. Default 1,000.
    pub renew_ms: u64,
    /// How long a tab that starts connected waits for the lock before it closes its feed
    /// and follows the tab that holds it, ms. Default 250.
    pub grant_wait_ms: u64,
}

impl Default for TabsConfig {
    fn default() -> Self {
        Self {
            lease_ms: 3_000,
            renew_ms: 1_000,
            grant_wait_ms: 250,
        }
    }
}

/// The lease as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The tab that holds it.
    pub holder: TabId,
    /// Until when, ms on the shared clock.
    pub until_ms: u64,
}

impl Lease {
    /// Whether it still holds at `now_ms`.
    pub fn valid_at(&self, now_ms: u64) -> bool {
        now_ms < self.until_ms
    }
}

/// What the tab is in the election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Not started.
    Idle,
    /// Connects on its own, whatever other tabs do.
    Alone,
    /// Waiting to learn who leads.
    Electing,
    /// Holds the connection; the others follow it.
    Leader,
    /// Follows the leader's messages.
    Follower,
    /// Frozen or closed: does nothing until resumed.
    Away,
}

impl Role {
    /// The role's name, for the debug panel.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Idle => "idle",
            Role::Alone => "alone",
            Role::Electing => "electing",
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Away => "away",
        }
    }
}

/// What happens to the tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabEvent {
    /// The tab starts sharing (it knows the shopper and the drop).
    Start {
        /// What the browser offers.
        means: Means,
        /// The clock, ms.
        now_ms: u64,
        /// The tab's feed is open already: it has just joined the line.
        connected: bool,
    },
    /// The browser granted this tab the lock ([`Means::Locks`]).
    LockGranted,
    /// The shell's timer, every [`TabsConfig::renew_ms`], with the lease as stored now
    /// ([`Means::Lease`]; `None` for other means, or when storage holds none).
    Tick {
        /// The clock, ms.
        now_ms: u64,
        /// The stored lease.
        lease: Option<Lease>,
    },
    /// The page was frozen (`freeze`) or hidden for good (`pagehide`).
    Freeze,
    /// The page came back (`resume`, `pageshow`).
    Resume {
        /// The clock, ms.
        now_ms: u64,
    },
    /// This tab's state or connection status changed.
    Changed,
    /// Another tab asked for the state.
    Asked,
    /// A tab shared its state and status.
    Heard {
        /// The tab that shared it.
        from: TabId,
    },
    /// The shopper asked this tab to reconnect.
    Retry,
    /// Another tab passed its shopper's reconnect on.
    RetryAsked,
}

/// What the shell does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabCommand {
    /// Open the feed to the server here.
    Connect,
    /// Close this tab's feed to the server.
    Disconnect,
    /// Listen to the leader: ask it for its state and show what it sends.
    Follow,
    /// Ask the browser for the lock.
    RequestLock,
    /// Give the lock back (or withdraw the request).
    ReleaseLock,
    /// Store this lease.
    WriteLease(Lease),
    /// Remove the stored lease (it is this tab's).
    ClearLease,
    /// Send this tab's state and connection status to the other tabs.
    Share,
    /// Show the state and status just heard.
    Show,
    /// Reconnect this tab's feed now.
    Reconnect,
    /// Ask the leader to reconnect.
    Retry,
}

/// One tab's side of the election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabMachine {
    me: TabId,
    config: TabsConfig,
    means: Means,
    role: Role,
    /// When the lock was asked for ([`Means::Locks`]).
    asked_at: u64,
    /// This tab wrote a claim at its last tick and leads if it is still there.
    claimed: bool,
    /// This tab's feed to the server is open (what `Connect`/`Disconnect` said last).
    connected: bool,
    /// The tab whose state this one shows: itself when it leads, the last to share when it
    /// follows.
    leader: Option<TabId>,
}

impl TabMachine {
    /// A tab that has not started.
    pub fn new(me: TabId, config: TabsConfig) -> Self {
        Self {
            me,
            config,
            means: Means::Alone,
            role: Role::Idle,
            asked_at: 0,
            claimed: false,
            connected: false,
            leader: None,
        }
    }

    /// This tab's id.
    pub fn id(&self) -> TabId {
        self.me
    }

    /// What the tab is now.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether this tab's feed to the server should be open.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// The tab that leads, as far as this one knows.
    pub fn leader(&self) -> Option<TabId> {
        self.leader
    }

    /// Handles `event`; answers what the shell must do, in order.
    pub fn handle(&mut self, event: TabEvent) -> Vec<TabCommand> {
        let mut out = Vec::new();
        match event {
            TabEvent::Start {
                means,
                now_ms,
                connected,
            } => {
                self.means = means;
                self.connected = connected;
                self.begin(now_ms, &mut out);
            }
            TabEvent::Resume { now_ms } if self.role == Role::Away => self.begin(now_ms, &mut out),
            TabEvent::Resume { .. } => {}
            TabEvent::LockGranted => {
                if self.means == Means::Locks
                    && matches!(self.role, Role::Electing | Role::Follower)
                {
                    self.lead(&mut out);
                } else if self.role == Role::Away {
                    // Granted after the tab froze: the lock goes straight back.
                    out.push(TabCommand::ReleaseLock);
                }
            }
            TabEvent::Tick { now_ms, lease } => self.tick(now_ms, lease, &mut out),
            TabEvent::Freeze => self.away(&mut out),
            TabEvent::Changed | TabEvent::Asked if self.role == Role::Leader => {
                out.push(TabCommand::Share)
            }
            TabEvent::Changed | TabEvent::Asked => {}
            TabEvent::Heard { from } => {
                // A tab with a feed of its own shows that; one waiting shows the leader's.
                if !self.connected && matches!(self.role, Role::Follower | Role::Electing) {
                    self.leader = Some(from);
                    out.push(TabCommand::Show);
                }
            }
            TabEvent::Retry if self.connected => out.push(TabCommand::Reconnect),
            TabEvent::Retry if matches!(self.role, Role::Follower | Role::Electing) => {
                out.push(TabCommand::Retry)
            }
            TabEvent::Retry => {}
            TabEvent::RetryAsked if self.role == Role::Leader => out.push(TabCommand::Reconnect),
            TabEvent::RetryAsked => {}
        }
        out
    }

    fn begin(&mut self, now_ms: u64, out: &mut Vec<TabCommand>) {
        self.claimed = false;
        self.leader = None;
        match self.means {
            Means::Alone => {
                self.role = Role::Alone;
                self.connect(out);
            }
            Means::Locks => {
                self.asked_at = now_ms;
                out.push(TabCommand::RequestLock);
                if self.connected {
                    // Its tick after the grant wait decides, unless the grant comes first.
                    self.role = Role::Electing;
                } else {
                    // In line for the lock: follow whoever holds it meanwhile.
                    self.role = Role::Follower;
                    out.push(TabCommand::Follow);
                }
            }
            // The first tick, with the stored lease, decides.
            Means::Lease => self.role = Role::Electing,
        }
    }

    fn tick(&mut self, now_ms: u64, lease: Option<Lease>, out: &mut Vec<TabCommand>) {
        match (self.means, self.role) {
            (Means::Locks, Role::Electing)
                if now_ms.saturating_sub(self.asked_at) >= self.config.grant_wait_ms =>
            {
                // Someone else holds the lock: follow them, and stay in line for it.
                self.follow(out);
            }
            (Means::Lease, Role::Leader | Role::Electing | Role::Follower) => {
                self.lease_tick(now_ms, lease, out)
            }
            _ => {}
        }
        if self.role == Role::Leader && !out.contains(&TabCommand::Share) {
            // The followers' heartbeat too: their "Updated … ago" keeps up with the leader's,
            // and a message lost on the way is made good within a tick.
            out.push(TabCommand::Share);
        }
    }

    fn lease_tick(&mut self, now_ms: u64, lease: Option<Lease>, out: &mut Vec<TabCommand>) {
        let valid = lease.filter(|l| l.valid_at(now_ms));
        let claim = Lease {
            holder: self.me,
            until_ms: now_ms + self.config.lease_ms,
        };
        match valid {
            Some(l) if l.holder == self.me => {
                if self.role != Role::Leader {
                    self.lead(out);
                }
                out.push(TabCommand::WriteLease(claim));
            }
            Some(_) => {
                self.claimed = false;
                if self.role != Role::Follower {
                    self.follow(out);
                }
            }
            None => {
                // A leader whose own lease ran out between ticks (a slow timer) renews it;
                // anyone else claims it.
                self.claimed = self.role != Role::Leader;
                out.push(TabCommand::WriteLease(claim));
            }
        }
    }

    fn lead(&mut self, out: &mut Vec<TabCommand>) {
        self.role = Role::Leader;
        self.claimed = false;
        self.leader = Some(self.me);
        self.connect(out);
        // The followers learn at once who leads now, and from which state.
        out.push(TabCommand::Share);
    }

    fn follow(&mut self, out: &mut Vec<TabCommand>) {
        self.disconnect(out);
        self.role = Role::Follower;
        self.leader = None;
        out.push(TabCommand::Follow);
    }

    fn away(&mut self, out: &mut Vec<TabCommand>) {
        self.disconnect(out);
        match (self.role, self.means) {
            // Still in line for the lock: withdraw, so it is not granted to a frozen tab.
            (Role::Leader | Role::Electing | Role::Follower, Means::Locks) => {
                out.push(TabCommand::ReleaseLock)
            }
            (Role::Leader, Means::Lease) => out.push(TabCommand::ClearLease),
            // A claim not yet confirmed would make the others follow a frozen tab.
            (Role::Electing, Means::Lease) if self.claimed => out.push(TabCommand::ClearLease),
            _ => {}
        }
        self.claimed = false;
        self.leader = None;
        self.role = Role::Away;
    }

    fn connect(&mut self, out: &mut Vec<TabCommand>) {
        if !self.connected {
            self.connected = true;
            out.push(TabCommand::Connect);
        }
    }

    fn disconnect(&mut self, out: &mut Vec<TabCommand>) {
        if self.connected {
            self.connected = false;
            out.push(TabCommand::Disconnect);
        }
    }
}

#[cfg(test)]
mod tests;
