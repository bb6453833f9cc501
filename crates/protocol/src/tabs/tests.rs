//! The election: each means on its own, what tabs say to each other, then property tests of
//! many tabs joining, leaving, freezing and crashing in any order against a simulated
//! browser (a lock manager, a shared `localStorage` and a channel between tabs).

use std::collections::VecDeque;

use proptest::prelude::*;

use super::*;

const CONFIG: TabsConfig = TabsConfig {
    lease_ms: 3_000,
    renew_ms: 1_000,
    grant_wait_ms: 250,
};

fn tab(id: TabId) -> TabMachine {
    TabMachine::new(id, CONFIG)
}

fn start(means: Means) -> TabEvent {
    TabEvent::Start {
        means,
        now_ms: 0,
        connected: false,
    }
}

/// A tab that has just joined the line: its feed is open when it starts sharing.
fn start_joined(means: Means) -> TabEvent {
    TabEvent::Start {
        means,
        now_ms: 0,
        connected: true,
    }
}

fn tick(now_ms: u64, lease: Option<Lease>) -> TabEvent {
    TabEvent::Tick { now_ms, lease }
}

#[test]
fn sharing_uses_locks_then_a_lease_then_nothing() {
    let cases = [
        // (share, locks, channel, storage) → means
        ((true, true, true, true), Means::Locks),
        ((true, true, true, false), Means::Locks),
        ((true, false, true, true), Means::Lease),
        ((true, false, true, false), Means::Alone),
        ((true, true, false, true), Means::Alone),
        ((true, false, false, true), Means::Alone),
        ((false, true, true, true), Means::Alone),
    ];
    for ((share, locks, channel, storage), means) in cases {
        assert_eq!(
            Means::choose(share, locks, channel, storage),
            means,
            "share {share}, locks {locks}, channel {channel}, storage {storage}"
        );
    }
}

#[test]
fn without_a_means_every_tab_connects() {
    let mut t = tab(1);
    assert_eq!(t.handle(start(Means::Alone)), [TabCommand::Connect]);
    assert_eq!(t.role(), Role::Alone);
    assert_eq!(
        t.handle(TabEvent::Changed),
        [],
        "a tab alone shares with nobody"
    );
}

#[test]
fn the_tab_granted_the_lock_leads_and_one_still_waiting_follows() {
    let mut first = tab(1);
    let mut second = tab(2);
    let waiting = [TabCommand::RequestLock, TabCommand::Follow];
    assert_eq!(first.handle(start(Means::Locks)), waiting);
    assert_eq!(second.handle(start(Means::Locks)), waiting);
    assert_eq!(
        first.handle(TabEvent::LockGranted),
        [TabCommand::Connect, TabCommand::Share]
    );
    assert_eq!(
        second.handle(tick(300, None)),
        [],
        "a follower stays in line"
    );
    assert_eq!(
        (first.role(), second.role()),
        (Role::Leader, Role::Follower)
    );
    assert_eq!(first.leader(), Some(1));
}

#[test]
fn a_follower_granted_the_lock_takes_the_lead() {
    let mut t = tab(2);
    t.handle(start(Means::Locks));
    t.handle(tick(1_000, None));
    assert_eq!(
        t.handle(TabEvent::LockGranted),
        [TabCommand::Connect, TabCommand::Share]
    );
    assert_eq!(t.role(), Role::Leader);
}

#[test]
fn a_tab_that_joined_keeps_its_feed_when_granted_the_lock() {
    let mut t = tab(1);
    assert_eq!(
        t.handle(start_joined(Means::Locks)),
        [TabCommand::RequestLock]
    );
    assert!(t.connected());
    assert_eq!(
        t.handle(TabEvent::LockGranted),
        [TabCommand::Share],
        "the feed it has is kept, not opened again"
    );
    assert_eq!(t.role(), Role::Leader);
}

#[test]
fn a_tab_that_joined_while_another_leads_closes_its_feed_after_the_grant_wait() {
    let mut t = tab(2);
    t.handle(start_joined(Means::Locks));
    assert_eq!(t.handle(tick(100, None)), [], "too early to give up");
    assert_eq!(
        t.handle(tick(250, None)),
        [TabCommand::Disconnect, TabCommand::Follow]
    );
    assert_eq!(t.role(), Role::Follower);
    assert_eq!(
        t.handle(TabEvent::LockGranted),
        [TabCommand::Connect, TabCommand::Share],
        "later, the lock is still its to take"
    );
}

#[test]
fn a_tab_that_joined_keeps_its_feed_as_lease_holder() {
    let mut t = tab(3);
    assert_eq!(t.handle(start_joined(Means::Lease)), []);
    let claim = Lease {
        holder: 3,
        until_ms: 3_000,
    };
    assert_eq!(t.handle(tick(0, None)), [TabCommand::WriteLease(claim)]);
    let out = t.handle(tick(1_000, Some(claim)));
    assert!(
        !out.contains(&TabCommand::Connect),
        "its feed is open already: {out:?}"
    );
    assert_eq!(t.role(), Role::Leader);
}

#[test]
fn a_frozen_leader_disconnects_and_gives_the_lock_back() {
    let mut t = tab(1);
    t.handle(start(Means::Locks));
    t.handle(TabEvent::LockGranted);
    assert_eq!(
        t.handle(TabEvent::Freeze),
        [TabCommand::Disconnect, TabCommand::ReleaseLock]
    );
    assert_eq!(t.leader(), None);
    assert_eq!(
        t.handle(TabEvent::Resume { now_ms: 9_000 }),
        [TabCommand::RequestLock, TabCommand::Follow]
    );
}

#[test]
fn a_lock_granted_to_a_frozen_tab_goes_straight_back() {
    let mut t = tab(1);
    t.handle(start(Means::Locks));
    t.handle(TabEvent::Freeze);
    assert_eq!(t.handle(TabEvent::LockGranted), [TabCommand::ReleaseLock]);
    assert!(!t.connected());
}

#[test]
fn a_lease_is_claimed_then_confirmed_then_renewed() {
    let mut t = tab(7);
    assert!(t.handle(start(Means::Lease)).is_empty());
    let claim = Lease {
        holder: 7,
        until_ms: 3_000,
    };
    assert_eq!(t.handle(tick(0, None)), [TabCommand::WriteLease(claim)]);
    assert_eq!(t.role(), Role::Electing, "a claim alone made a leader");
    let renewed = Lease {
        holder: 7,
        until_ms: 4_000,
    };
    assert_eq!(
        t.handle(tick(1_000, Some(claim))),
        [
            TabCommand::Connect,
            TabCommand::Share,
            TabCommand::WriteLease(renewed)
        ]
    );
    assert_eq!(t.role(), Role::Leader);
}

/// Tab 1, leading by the lease it claimed at 0 and confirmed at 1 s.
fn lease_leader() -> TabMachine {
    let mut t = tab(1);
    t.handle(start(Means::Lease));
    t.handle(tick(0, None));
    t.handle(tick(
        1_000,
        Some(Lease {
            holder: 1,
            until_ms: 3_000,
        }),
    ));
    assert_eq!(t.role(), Role::Leader);
    t
}

#[test]
fn a_leader_that_finds_another_tabs_lease_steps_down() {
    let mut t = lease_leader();
    let theirs = Lease {
        holder: 2,
        until_ms: 9_000,
    };
    assert_eq!(
        t.handle(tick(5_000, Some(theirs))),
        [TabCommand::Disconnect, TabCommand::Follow]
    );
    assert_eq!(t.role(), Role::Follower);
}

#[test]
fn a_frozen_lease_holder_clears_its_lease() {
    let mut t = lease_leader();
    assert_eq!(
        t.handle(TabEvent::Freeze),
        [TabCommand::Disconnect, TabCommand::ClearLease]
    );
}

#[test]
fn a_frozen_claimant_clears_its_claim() {
    let mut t = tab(4);
    t.handle(start(Means::Lease));
    t.handle(tick(0, None));
    assert_eq!(
        t.handle(TabEvent::Freeze),
        [TabCommand::ClearLease],
        "the others would follow a frozen tab until the claim ran out"
    );
}

#[test]
fn the_leader_shares_when_asked_and_when_anything_changed() {
    let mut t = tab(1);
    t.handle(start(Means::Locks));
    assert_eq!(
        t.handle(TabEvent::Asked),
        [],
        "a follower has nothing to share"
    );
    assert_eq!(t.handle(TabEvent::Changed), []);
    t.handle(TabEvent::LockGranted);
    assert_eq!(t.handle(TabEvent::Asked), [TabCommand::Share]);
    assert_eq!(t.handle(TabEvent::Changed), [TabCommand::Share]);
    assert_eq!(
        t.handle(TabEvent::Heard { from: 9 }),
        [],
        "a leader shows its own feed"
    );
}

#[test]
fn a_leader_shares_at_every_tick_and_a_follower_never_does() {
    let mut leader = tab(1);
    leader.handle(start(Means::Locks));
    leader.handle(TabEvent::LockGranted);
    assert_eq!(leader.handle(tick(1_000, None)), [TabCommand::Share]);
    let mut follower = tab(2);
    follower.handle(start(Means::Locks));
    assert_eq!(follower.handle(tick(1_000, None)), []);
    let mut holder = lease_leader();
    let renewed = Lease {
        holder: 1,
        until_ms: 5_000,
    };
    assert_eq!(
        holder.handle(tick(
            2_000,
            Some(Lease {
                holder: 1,
                until_ms: 4_000
            })
        )),
        [TabCommand::WriteLease(renewed), TabCommand::Share]
    );
}

#[test]
fn a_follower_shows_what_the_leader_shares_and_learns_who_leads() {
    let mut t = tab(2);
    t.handle(start(Means::Locks));
    assert_eq!(t.leader(), None);
    assert_eq!(t.handle(TabEvent::Heard { from: 1 }), [TabCommand::Show]);
    assert_eq!(t.leader(), Some(1));
    t.handle(TabEvent::Freeze);
    assert_eq!(
        t.handle(TabEvent::Heard { from: 1 }),
        [],
        "a frozen tab shows nothing"
    );
}

#[test]
fn a_tab_with_its_own_feed_does_not_show_another_tabs() {
    let mut t = tab(2);
    t.handle(start_joined(Means::Locks));
    assert_eq!(t.handle(TabEvent::Heard { from: 1 }), []);
    let mut alone = tab(3);
    alone.handle(start(Means::Alone));
    assert_eq!(alone.handle(TabEvent::Heard { from: 1 }), []);
}

#[test]
fn a_followers_reconnect_is_the_leaders_to_perform() {
    let mut follower = tab(2);
    follower.handle(start(Means::Locks));
    assert_eq!(follower.handle(TabEvent::Retry), [TabCommand::Retry]);
    assert_eq!(follower.handle(TabEvent::RetryAsked), []);
    let mut leader = tab(1);
    leader.handle(start(Means::Locks));
    leader.handle(TabEvent::LockGranted);
    assert_eq!(leader.handle(TabEvent::RetryAsked), [TabCommand::Reconnect]);
    assert_eq!(leader.handle(TabEvent::Retry), [TabCommand::Reconnect]);
    let mut alone = tab(3);
    alone.handle(start(Means::Alone));
    assert_eq!(alone.handle(TabEvent::Retry), [TabCommand::Reconnect]);
}

#[test]
fn roles_have_names() {
    assert_eq!(Role::Leader.as_str(), "leader");
    assert_eq!(Role::Follower.as_str(), "follower");
}

/// One simulated browser: tabs, a lock manager, `localStorage` and a channel between tabs,
/// on one clock.
struct Browser {
    means: Means,
    now: u64,
    tabs: Vec<Sim>,
    /// Lock holder, then the tabs waiting in request order.
    lock: Option<usize>,
    waiting: VecDeque<usize>,
    lease: Option<Lease>,
    /// Messages on their way: to which tab, what it will hear. A channel delivers in order.
    channel: VecDeque<(usize, TabEvent)>,
}

struct Sim {
    machine: TabMachine,
    /// Crashed: gone without giving anything up.
    crashed: bool,
    frozen: bool,
    /// What the shell's feed is: open or not, from Connect / Disconnect.
    open: bool,
    /// Reconnects this tab's feed performed.
    reconnects: u32,
}

impl Browser {
    fn new(means: Means) -> Self {
        Self {
            means,
            now: 0,
            tabs: Vec::new(),
            lock: None,
            waiting: VecDeque::new(),
            lease: None,
            channel: VecDeque::new(),
        }
    }

    fn alive(&self, i: usize) -> bool {
        !self.tabs[i].crashed && !self.tabs[i].frozen
    }

    /// A new tab; `joined`: it has just joined the line, so its feed is open already.
    fn open_tab(&mut self, joined: bool) {
        let id = self.tabs.len() as TabId + 1;
        self.tabs.push(Sim {
            machine: tab(id),
            crashed: false,
            frozen: false,
            open: joined,
            reconnects: 0,
        });
        let i = self.tabs.len() - 1;
        let (means, now) = (self.means, self.now);
        self.send(
            i,
            TabEvent::Start {
                means,
                now_ms: now,
                connected: joined,
            },
        );
    }

    /// Tab `i`'s message to every other tab that can hear it now.
    fn broadcast(&mut self, i: usize, event: TabEvent) {
        for to in 0..self.tabs.len() {
            if to != i && self.alive(to) {
                self.channel.push_back((to, event));
            }
        }
    }

    fn send(&mut self, i: usize, event: TabEvent) {
        let out = self.tabs[i].machine.handle(event);
        let id = self.tabs[i].machine.id();
        for command in out {
            match command {
                TabCommand::Connect => {
                    assert!(!self.tabs[i].open, "tab {i} connected twice");
                    self.tabs[i].open = true;
                }
                TabCommand::Disconnect => {
                    assert!(self.tabs[i].open, "tab {i} disconnected while closed");
                    self.tabs[i].open = false;
                }
                TabCommand::Follow => self.broadcast(i, TabEvent::Asked),
                TabCommand::Share => self.broadcast(i, TabEvent::Heard { from: id }),
                TabCommand::Retry => self.broadcast(i, TabEvent::RetryAsked),
                TabCommand::Show => {
                    assert!(
                        !self.tabs[i].open,
                        "tab {i} showed another's feed beside its own"
                    );
                }
                TabCommand::Reconnect => {
                    assert!(self.tabs[i].open, "tab {i} reconnected a feed it has not");
                    self.tabs[i].reconnects += 1;
                }
                TabCommand::RequestLock => {
                    if self.lock != Some(i) && !self.waiting.contains(&i) {
                        self.waiting.push_back(i);
                    }
                }
                TabCommand::ReleaseLock => self.release(i),
                TabCommand::WriteLease(lease) => self.lease = Some(lease),
                TabCommand::ClearLease => {
                    if self.lease.is_some_and(|l| l.holder == id) {
                        self.lease = None;
                    }
                }
            }
        }
        self.grant();
    }

    /// Delivers what the channel holds, and what that makes the tabs say, in order; a tab
    /// that froze or crashed meanwhile hears nothing.
    fn deliver(&mut self) {
        while let Some((to, event)) = self.channel.pop_front() {
            if self.alive(to) {
                self.send(to, event);
            }
        }
    }

    /// The browser releases a lock when asked, and when its tab crashes.
    fn release(&mut self, i: usize) {
        self.waiting.retain(|&w| w != i);
        if self.lock == Some(i) {
            self.lock = None;
        }
    }

    fn grant(&mut self) {
        if self.means != Means::Locks || self.lock.is_some() {
            return;
        }
        if let Some(next) = self.waiting.pop_front() {
            self.lock = Some(next);
            self.send(next, TabEvent::LockGranted);
        }
    }

    fn tick(&mut self, i: usize) {
        if !self.alive(i) {
            return;
        }
        let (now, lease) = (self.now, self.lease);
        let lease = if self.means == Means::Lease {
            lease
        } else {
            None
        };
        self.send(i, TabEvent::Tick { now_ms: now, lease });
    }

    fn crash(&mut self, i: usize) {
        if self.tabs[i].crashed {
            return;
        }
        self.tabs[i].crashed = true;
        // Its connection dies with it; the lock is released by the browser; a lease stays.
        self.tabs[i].open = false;
        self.release(i);
        self.grant();
    }

    fn freeze(&mut self, i: usize) {
        if !self.alive(i) {
            return;
        }
        self.send(i, TabEvent::Freeze);
        self.tabs[i].frozen = true;
    }

    fn resume(&mut self, i: usize) {
        if self.tabs[i].crashed || !self.tabs[i].frozen {
            return;
        }
        self.tabs[i].frozen = false;
        let now = self.now;
        self.send(i, TabEvent::Resume { now_ms: now });
    }

    /// Every live tab ticks once a second for `seconds`, and hears what was said.
    fn settle(&mut self, seconds: u64) {
        for _ in 0..seconds {
            self.now += CONFIG.renew_ms;
            for i in 0..self.tabs.len() {
                self.tick(i);
                self.deliver();
            }
        }
    }

    fn leaders(&self) -> Vec<usize> {
        (0..self.tabs.len())
            .filter(|&i| self.alive(i) && self.tabs[i].machine.role() == Role::Leader)
            .collect()
    }

    fn open_feeds(&self) -> usize {
        self.tabs.iter().filter(|t| t.open && !t.crashed).count()
    }

    /// Tabs that joined and still wait to learn whether they keep their feed.
    fn joined_and_electing(&self) -> usize {
        self.tabs
            .iter()
            .filter(|t| !t.crashed && t.open && t.machine.role() == Role::Electing)
            .count()
    }

    fn any_alive(&self) -> bool {
        (0..self.tabs.len()).any(|i| self.alive(i))
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Open,
    Join,
    Tick(usize),
    Wait(u64),
    Crash(usize),
    Freeze(usize),
    Resume(usize),
    Hear,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        prop_oneof![
            2 => Just(Step::Open),
            1 => Just(Step::Join),
            6 => (0usize..8).prop_map(Step::Tick),
            2 => (1u64..4_000).prop_map(Step::Wait),
            1 => (0usize..8).prop_map(Step::Crash),
            1 => (0usize..8).prop_map(Step::Freeze),
            1 => (0usize..8).prop_map(Step::Resume),
            3 => Just(Step::Hear),
        ],
        1..60,
    )
}

fn run(browser: &mut Browser, plan: &[Step]) {
    for step in plan {
        let n = browser.tabs.len();
        match *step {
            Step::Open if n < 8 => browser.open_tab(false),
            Step::Join if n < 8 => browser.open_tab(true),
            Step::Open | Step::Join => {}
            Step::Tick(i) if i < n => browser.tick(i),
            Step::Wait(ms) => browser.now += ms,
            Step::Crash(i) if i < n => browser.crash(i),
            Step::Freeze(i) if i < n => browser.freeze(i),
            Step::Resume(i) if i < n => browser.resume(i),
            Step::Hear => browser.deliver(),
            _ => {}
        }
        if browser.means == Means::Locks {
            // The lock is exclusive: never two leaders, and only a leader connects (but for
            // a tab that has just joined and waits for the lock a moment).
            assert!(
                browser.leaders().len() <= 1,
                "two leaders: {:?}",
                browser.leaders()
            );
            assert!(
                browser.open_feeds() <= 1 + browser.joined_and_electing(),
                "{} feeds open",
                browser.open_feeds()
            );
        }
        for (i, t) in browser.tabs.iter().enumerate() {
            if !t.crashed {
                assert_eq!(
                    t.open,
                    t.machine.connected(),
                    "tab {i}'s feed and its machine disagree"
                );
                let role = t.machine.role();
                assert!(
                    t.open == matches!(role, Role::Leader | Role::Alone)
                        || (t.open && role == Role::Electing),
                    "tab {i} is {role:?} with its feed {}",
                    if t.open { "open" } else { "closed" }
                );
            }
        }
    }
}

/// Once the tabs have settled: one live tab leads and is the only feed open, and every live
/// follower shows the leader's state.
fn assert_settled(browser: &Browser) -> Result<(), TestCaseError> {
    if !browser.any_alive() {
        return Ok(());
    }
    let leaders = browser.leaders();
    prop_assert_eq!(leaders.len(), 1, "leaders {:?}", leaders);
    prop_assert_eq!(browser.open_feeds(), 1);
    let leader = browser.tabs[leaders[0]].machine.id();
    for (i, t) in browser.tabs.iter().enumerate() {
        if browser.alive(i) && t.machine.role() == Role::Follower {
            prop_assert_eq!(
                t.machine.leader(),
                Some(leader),
                "follower {} does not show the leader's state",
                i
            );
        }
    }
    Ok(())
}

proptest! {
    /// With Web Locks, whatever tabs do, at most one leads at any moment, and once the tabs
    /// have ticked one live tab leads whenever any is alive, and the others follow it.
    #[test]
    fn with_locks_one_tab_leads_whatever_the_others_do(plan in steps()) {
        let mut browser = Browser::new(Means::Locks);
        run(&mut browser, &plan);
        browser.deliver();
        browser.settle(1);
        assert_settled(&browser)?;
        if let Some(&leader) = browser.leaders().first() {
            let lease = browser.lease;
            prop_assert_eq!(lease, None, "locks need no lease");
            prop_assert_eq!(browser.lock, Some(leader), "the leader holds the lock");
        }
    }

    /// With the lease, two tabs may lead for an instant (a leader whose timer came late),
    /// but once every live tab has ticked through a lease's length, exactly one leads, it
    /// holds the stored lease, it is the only feed open, and the others follow it.
    #[test]
    fn with_the_lease_one_tab_leads_once_the_tabs_have_ticked(plan in steps()) {
        let mut browser = Browser::new(Means::Lease);
        run(&mut browser, &plan);
        browser.deliver();
        browser.settle(CONFIG.lease_ms / CONFIG.renew_ms + 2);
        assert_settled(&browser)?;
        if let Some(&leader) = browser.leaders().first() {
            let holder = browser.lease.map(|l| l.holder);
            prop_assert_eq!(holder, Some(browser.tabs[leader].machine.id()));
        }
    }

    /// A leader that crashes is replaced: with the lock at once, with the lease within its
    /// length and two ticks; the followers then show the new leader's state.
    #[test]
    fn a_crashed_leader_is_replaced(tabs in 2usize..8, lease in any::<bool>()) {
        let means = if lease { Means::Lease } else { Means::Locks };
        let mut browser = Browser::new(means);
        for _ in 0..tabs {
            browser.open_tab(false);
        }
        browser.settle(CONFIG.lease_ms / CONFIG.renew_ms + 2);
        let first = browser.leaders();
        prop_assert_eq!(first.len(), 1);
        browser.crash(first[0]);
        browser.deliver();
        let within = if lease { CONFIG.lease_ms / CONFIG.renew_ms + 2 } else { 1 };
        browser.settle(within);
        let next = browser.leaders();
        prop_assert_eq!(next.len(), 1, "nobody took over");
        prop_assert_ne!(next[0], first[0]);
        assert_settled(&browser)?;
    }

    /// The shopper's Reconnect, pressed in any tab once the tabs have settled, reconnects
    /// the leader's feed once, and no other.
    #[test]
    fn a_reconnect_pressed_in_any_tab_reconnects_the_leader_once(
        plan in steps(),
        pressed in 0usize..8,
        lease in any::<bool>(),
    ) {
        let means = if lease { Means::Lease } else { Means::Locks };
        let mut browser = Browser::new(means);
        run(&mut browser, &plan);
        browser.deliver();
        browser.settle(CONFIG.lease_ms / CONFIG.renew_ms + 2);
        let leaders = browser.leaders();
        prop_assume!(pressed < browser.tabs.len() && browser.alive(pressed) && leaders.len() == 1);
        let before: Vec<u32> = browser.tabs.iter().map(|t| t.reconnects).collect();
        browser.send(pressed, TabEvent::Retry);
        browser.deliver();
        for (i, t) in browser.tabs.iter().enumerate() {
            let expected = u32::from(i == leaders[0]);
            prop_assert_eq!(t.reconnects - before[i], expected, "tab {} reconnected", i);
        }
    }
}
