//! Which of a browser's tabs holds the one connection to the server, when several show the
//! same shopper in the same drop (issue 14; the widget does not use this yet).
//!
//! The tabs elect one leader; only the leader connects, and the others follow it over a
//! channel between tabs. The browser offers one of three means ([`Means`]):
//!
//! - [`Means::Locks`] (the Web Locks API): every tab asks for one exclusive lock; the
//!   browser grants it to one tab at a time, and releases it when that tab closes or
//!   crashes, so the next tab in line is granted it at once. A tab that has not been
//!   granted the lock within [`TabsConfig::grant_wait_ms`] follows whoever holds it.
//! - [`Means::Lease`] (`localStorage` only): a lease `{holder, until}` in storage. The leader
//!   renews it every [`TabsConfig::renew_ms`]; a tab that finds it expired (or empty) writes
//!   its own claim and leads only if, at its next tick, the claim is still its own (two tabs
//!   claiming at once: the last write wins, and the other sees it). A leader that finds
//!   another tab's valid lease steps down.
//! - [`Means::Alone`]: neither, or sharing turned off (`?share=0`): every tab connects.
//!
//! A tab that freezes (the page life cycle's `freeze`) or closes gives the lead up first:
//! it disconnects and releases the lock or clears its lease, so another tab takes over
//! without waiting for an expiry. One that crashes gives nothing up: the browser releases
//! its lock, or its lease runs out.
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

/// Timings of the election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TabsConfig {
    /// How long a lease holds without renewal, ms. Default 3,000: a crashed leader is
    /// replaced within this plus one tick.
    pub lease_ms: u64,
    /// How often the shell ticks (and a leader renews its lease), ms. Default 1,000.
    pub renew_ms: u64,
    /// How long a tab waits for the lock before it follows the tab that holds it, ms.
    /// Default 250.
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

/// What happens to the tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabEvent {
    /// The tab starts sharing (it knows the shopper and the drop).
    Start {
        /// What the browser offers.
        means: Means,
        /// The clock, ms.
        now_ms: u64,
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

    /// Handles `event`; answers what the shell must do, in order.
    pub fn handle(&mut self, event: TabEvent) -> Vec<TabCommand> {
        let mut out = Vec::new();
        match event {
            TabEvent::Start { means, now_ms } => {
                self.means = means;
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
        }
        out
    }

    fn begin(&mut self, now_ms: u64, out: &mut Vec<TabCommand>) {
        self.claimed = false;
        match self.means {
            Means::Alone => {
                self.role = Role::Alone;
                self.connect(out);
            }
            Means::Locks => {
                self.role = Role::Electing;
                self.asked_at = now_ms;
                out.push(TabCommand::RequestLock);
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
                self.role = Role::Follower;
                out.push(TabCommand::Follow);
            }
            (Means::Lease, Role::Leader | Role::Electing | Role::Follower) => {
                self.lease_tick(now_ms, lease, out)
            }
            _ => {}
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
                    self.disconnect(out);
                    self.role = Role::Follower;
                    out.push(TabCommand::Follow);
                }
            }
            None => {
                if self.role == Role::Leader {
                    // Our own lease ran out between ticks (a slow timer): renew it.
                    out.push(TabCommand::WriteLease(claim));
                } else {
                    self.claimed = true;
                    out.push(TabCommand::WriteLease(claim));
                }
            }
        }
    }

    fn lead(&mut self, out: &mut Vec<TabCommand>) {
        self.role = Role::Leader;
        self.claimed = false;
        self.connect(out);
    }

    fn away(&mut self, out: &mut Vec<TabCommand>) {
        match (self.role, self.means) {
            (Role::Leader, Means::Locks) => {
                self.disconnect(out);
                out.push(TabCommand::ReleaseLock);
            }
            (Role::Leader, Means::Lease) => {
                self.disconnect(out);
                out.push(TabCommand::ClearLease);
            }
            // Still in line for the lock: withdraw, so it is not granted to a frozen tab.
            (Role::Electing | Role::Follower, Means::Locks) => out.push(TabCommand::ReleaseLock),
            _ => self.disconnect(out),
        }
        self.claimed = false;
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
