//! The election: each means on its own, then property tests of many tabs joining, leaving,
//! freezing and crashing in any order against a simulated browser (a lock manager, a
//! shared `localStorage`).

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

#[test]
fn without_a_means_every_tab_connects() {
    let mut t = tab(1);
    let out = t.handle(TabEvent::Start {
        means: Means::Alone,
        now_ms: 0,
    });
    assert_eq!(out, [TabCommand::Connect]);
    assert_eq!(t.role(), Role::Alone);
}

#[test]
fn the_tab_granted_the_lock_leads_and_one_still_waiting_follows() {
    let mut first = tab(1);
    let mut second = tab(2);
    let start = TabEvent::Start {
        means: Means::Locks,
        now_ms: 0,
    };
    assert_eq!(first.handle(start), [TabCommand::RequestLock]);
    assert_eq!(second.handle(start), [TabCommand::RequestLock]);
    assert_eq!(first.handle(TabEvent::LockGranted), [TabCommand::Connect]);
    let tick = TabEvent::Tick {
        now_ms: 300,
        lease: None,
    };
    assert_eq!(second.handle(tick), [TabCommand::Follow]);
    assert_eq!(
        (first.role(), second.role()),
        (Role::Leader, Role::Follower)
    );
}

#[test]
fn a_follower_granted_the_lock_takes_the_lead() {
    let mut t = tab(2);
    t.handle(TabEvent::Start {
        means: Means::Locks,
        now_ms: 0,
    });
    t.handle(TabEvent::Tick {
        now_ms: 1_000,
        lease: None,
    });
    assert_eq!(t.handle(TabEvent::LockGranted), [TabCommand::Connect]);
    assert_eq!(t.role(), Role::Leader);
}

#[test]
fn a_frozen_leader_disconnects_and_gives_the_lock_back() {
    let mut t = tab(1);
    t.handle(TabEvent::Start {
        means: Means::Locks,
        now_ms: 0,
    });
    t.handle(TabEvent::LockGranted);
    assert_eq!(
        t.handle(TabEvent::Freeze),
        [TabCommand::Disconnect, TabCommand::ReleaseLock]
    );
    assert_eq!(
        t.handle(TabEvent::Resume { now_ms: 9_000 }),
        [TabCommand::RequestLock]
    );
}

#[test]
fn a_lock_granted_to_a_frozen_tab_goes_straight_back() {
    let mut t = tab(1);
    t.handle(TabEvent::Start {
        means: Means::Locks,
        now_ms: 0,
    });
    t.handle(TabEvent::Freeze);
    assert_eq!(t.handle(TabEvent::LockGranted), [TabCommand::ReleaseLock]);
    assert!(!t.connected());
}

#[test]
fn a_lease_is_claimed_then_confirmed_then_renewed() {
    let mut t = tab(7);
    assert!(
        t.handle(TabEvent::Start {
            means: Means::Lease,
            now_ms: 0
        })
        .is_empty()
    );
    let claim = Lease {
        holder: 7,
        until_ms: 3_000,
    };
    assert_eq!(
        t.handle(TabEvent::Tick {
            now_ms: 0,
            lease: None
        }),
        [TabCommand::WriteLease(claim)]
    );
    assert_eq!(t.role(), Role::Electing, "a claim alone made a leader");
    let renewed = Lease {
        holder: 7,
        until_ms: 4_000,
    };
    assert_eq!(
        t.handle(TabEvent::Tick {
            now_ms: 1_000,
            lease: Some(claim)
        }),
        [TabCommand::Connect, TabCommand::WriteLease(renewed)]
    );
    assert_eq!(t.role(), Role::Leader);
}

/// Tab 1, leading by the lease it claimed at 0 and confirmed at 1 s.
fn lease_leader() -> TabMachine {
    let mut t = tab(1);
    t.handle(TabEvent::Start {
        means: Means::Lease,
        now_ms: 0,
    });
    t.handle(TabEvent::Tick {
        now_ms: 0,
        lease: None,
    });
    t.handle(TabEvent::Tick {
        now_ms: 1_000,
        lease: Some(Lease {
            holder: 1,
            until_ms: 3_000,
        }),
    });
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
        t.handle(TabEvent::Tick {
            now_ms: 5_000,
            lease: Some(theirs)
        }),
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

/// One simulated browser: tabs, a lock manager and `localStorage`, on one clock.
struct Browser {
    means: Means,
    now: u64,
    tabs: Vec<Sim>,
    /// Lock holder, then the tabs waiting in request order.
    lock: Option<usize>,
    waiting: VecDeque<usize>,
    lease: Option<Lease>,
}

struct Sim {
    machine: TabMachine,
    /// Crashed: gone without giving anything up.
    crashed: bool,
    frozen: bool,
    /// What the shell's feed is: open or not, from Connect / Disconnect.
    open: bool,
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
        }
    }

    fn alive(&self, i: usize) -> bool {
        !self.tabs[i].crashed && !self.tabs[i].frozen
    }

    fn open_tab(&mut self) {
        let id = self.tabs.len() as TabId + 1;
        self.tabs.push(Sim {
            machine: tab(id),
            crashed: false,
            frozen: false,
            open: false,
        });
        let i = self.tabs.len() - 1;
        let means = self.means;
        let now = self.now;
        self.send(i, TabEvent::Start { means, now_ms: now });
    }

    fn send(&mut self, i: usize, event: TabEvent) {
        let out = self.tabs[i].machine.handle(event);
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
                TabCommand::Follow => {}
                TabCommand::RequestLock => {
                    if self.lock != Some(i) && !self.waiting.contains(&i) {
                        self.waiting.push_back(i);
                    }
                }
                TabCommand::ReleaseLock => self.release(i),
                TabCommand::WriteLease(lease) => self.lease = Some(lease),
                TabCommand::ClearLease => {
                    if self
                        .lease
                        .is_some_and(|l| l.holder == self.tabs[i].machine.id())
                    {
                        self.lease = None;
                    }
                }
            }
        }
        self.grant();
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
        self.send(
            i,
            TabEvent::Tick {
                now_ms: now,
                lease: if self.means == Means::Lease {
                    lease
                } else {
                    None
                },
            },
        );
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

    /// Every live tab ticks once a second for `seconds`.
    fn settle(&mut self, seconds: u64) {
        for _ in 0..seconds {
            self.now += CONFIG.renew_ms;
            for i in 0..self.tabs.len() {
                self.tick(i);
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

    fn any_alive(&self) -> bool {
        (0..self.tabs.len()).any(|i| self.alive(i))
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Open,
    Tick(usize),
    Wait(u64),
    Crash(usize),
    Freeze(usize),
    Resume(usize),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        prop_oneof![
            2 => Just(Step::Open),
            6 => (0usize..8).prop_map(Step::Tick),
            2 => (1u64..4_000).prop_map(Step::Wait),
            1 => (0usize..8).prop_map(Step::Crash),
            1 => (0usize..8).prop_map(Step::Freeze),
            1 => (0usize..8).prop_map(Step::Resume),
        ],
        1..60,
    )
}

fn run(browser: &mut Browser, plan: &[Step]) {
    for step in plan {
        let n = browser.tabs.len();
        match *step {
            Step::Open if n < 8 => browser.open_tab(),
            Step::Open => {}
            Step::Tick(i) if i < n => browser.tick(i),
            Step::Wait(ms) => browser.now += ms,
            Step::Crash(i) if i < n => browser.crash(i),
            Step::Freeze(i) if i < n => browser.freeze(i),
            Step::Resume(i) if i < n => browser.resume(i),
            _ => {}
        }
        if browser.means == Means::Locks {
            // The lock is exclusive: never two leaders, and only a leader connects.
            assert!(
                browser.leaders().len() <= 1,
                "two leaders: {:?}",
                browser.leaders()
            );
            assert!(
                browser.open_feeds() <= 1,
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
                assert_eq!(
                    t.open,
                    matches!(t.machine.role(), Role::Leader | Role::Alone),
                    "tab {i} is {:?} with its feed {}",
                    t.machine.role(),
                    if t.open { "open" } else { "closed" }
                );
            }
        }
    }
}

proptest! {
    /// With Web Locks, whatever tabs do, at most one leads and connects at any moment, and
    /// once the tabs have ticked, one live tab leads whenever any is alive.
    #[test]
    fn with_locks_one_tab_leads_whatever_the_others_do(plan in steps()) {
        let mut browser = Browser::new(Means::Locks);
        run(&mut browser, &plan);
        browser.settle(1);
        if browser.any_alive() {
            prop_assert_eq!(browser.leaders().len(), 1, "no leader among live tabs");
            prop_assert_eq!(browser.open_feeds(), 1);
        }
    }

    /// With the lease, two tabs may lead for an instant (a leader whose timer came late),
    /// but once every live tab has ticked through a lease's length, exactly one leads, it
    /// holds the stored lease, and it is the only feed open.
    #[test]
    fn with_the_lease_one_tab_leads_once_the_tabs_have_ticked(plan in steps()) {
        let mut browser = Browser::new(Means::Lease);
        run(&mut browser, &plan);
        browser.settle(CONFIG.lease_ms / CONFIG.renew_ms + 2);
        if browser.any_alive() {
            let leaders = browser.leaders();
            prop_assert_eq!(leaders.len(), 1, "leaders {:?}", leaders);
            let holder = browser.lease.map(|l| l.holder);
            prop_assert_eq!(holder, Some(browser.tabs[leaders[0]].machine.id()));
            prop_assert_eq!(browser.open_feeds(), 1);
        }
    }

    /// A leader that crashes is replaced: with the lock at once, with the lease within its
    /// length and two ticks.
    #[test]
    fn a_crashed_leader_is_replaced(tabs in 2usize..8, lease in any::<bool>()) {
        let means = if lease { Means::Lease } else { Means::Locks };
        let mut browser = Browser::new(means);
        for _ in 0..tabs {
            browser.open_tab();
        }
        browser.settle(CONFIG.lease_ms / CONFIG.renew_ms + 2);
        let first = browser.leaders();
        prop_assert_eq!(first.len(), 1);
        browser.crash(first[0]);
        let within = if lease { CONFIG.lease_ms / CONFIG.renew_ms + 2 } else { 1 };
        browser.settle(within);
        let next = browser.leaders();
        prop_assert_eq!(next.len(), 1, "nobody took over");
        prop_assert_ne!(next[0], first[0]);
    }
}
