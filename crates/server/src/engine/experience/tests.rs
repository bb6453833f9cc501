//! The rules of one experience, end to end: line order, stock, pacing, grants, cursor.

use super::*;

fn experience(stock: u64, rate: f64) -> ExperienceState {
    let settings = Settings {
        name: "Test".into(),
        status: ExperienceStatus::Open,
        rate_per_minute: rate,
        checkout_url: "/checkout".into(),
    };
    let rules = GrantRules {
        ttl_ms: 60_000,
        extension_ms: 30_000,
        max_units: 2,
    };
    ExperienceState::new("e".into(), settings, stock, 1, rules, Arc::default())
}

fn join(e: &mut ExperienceState, n: usize) -> Vec<Arc<str>> {
    (0..n)
        .map(|i| {
            let id: Arc<str> = format!("c{i}").into();
            e.join(id.clone(), 0);
            id
        })
        .collect()
}

fn stock(total: u64) -> PatchExperience {
    PatchExperience {
        stock: Some(total),
        ..PatchExperience::default()
    }
}

fn status(status: ExperienceStatus) -> PatchExperience {
    PatchExperience {
        status: Some(status),
        ..PatchExperience::default()
    }
}

fn admission(e: &ExperienceState, id: &str) -> Option<Admission> {
    e.consumer(id).unwrap().private.borrow().admission.clone()
}

#[test]
fn shoppers_are_admitted_in_join_order() {
    let mut e = experience(10, 60.0);
    let ids = join(&mut e, 5);
    assert_eq!(e.admit(2, 0), 2);
    assert!(admission(&e, &ids[0]).is_some() && admission(&e, &ids[1]).is_some());
    assert!(
        admission(&e, &ids[2]).is_none(),
        "the third in line was admitted early"
    );
    assert_eq!(e.snapshot_of(&ids[2], 0).unwrap().position, Some(1));
}

#[test]
fn stock_never_goes_negative() {
    let mut e = experience(3, 60.0);
    join(&mut e, 10);
    assert_eq!(e.admit(10, 0), 3, "only as many admissions as units");
    assert_eq!(e.stock.available, 0);
    assert_eq!(e.admit(5, 0), 0);
    e.patch(&stock(1));
    assert_eq!(
        e.stock,
        Stock {
            available: 0,
            total: 1
        },
        "shrinking stock clamps at zero"
    );
}

#[test]
fn ticks_admit_at_the_configured_rate() {
    let mut e = experience(1000, 120.0); // two a second
    join(&mut e, 100);
    for i in 1..=10 {
        e.tick(1000, i * 1000);
    }
    assert_eq!(e.rate.admitted_total(), 20);
}

#[test]
fn a_paused_experience_admits_nobody_and_does_not_burst_on_resume() {
    let mut e = experience(1000, 60.0);
    join(&mut e, 100);
    e.patch(&status(ExperienceStatus::Paused));
    for i in 1..=30 {
        e.tick(1000, i * 1000);
    }
    assert_eq!(e.rate.admitted_total(), 0);
    e.patch(&status(ExperienceStatus::Open));
    e.tick(1000, 31_000);
    assert!(
        e.rate.admitted_total() <= 2,
        "resuming admitted a burst of {}",
        e.rate.admitted_total()
    );
}

#[test]
fn a_grant_redeems_once_and_expires_unused() {
    let mut e = experience(5, 60.0);
    let ids = join(&mut e, 2);
    e.admit(2, 0);
    let first = admission(&e, &ids[0]).unwrap().grant;
    let second = admission(&e, &ids[1]).unwrap().grant;
    assert_eq!(e.redeem(&first, 10).map(|r| r.0), Ok(ids[0].clone()));
    assert_eq!(e.redeem(&first, 11), Err(RedeemError::AlreadyRedeemed));
    assert_eq!(e.redeem(&second, 60_000), Err(RedeemError::Expired));
    assert_eq!(e.stock.available, 4, "the expired unit went back to stock");
    assert_eq!(
        admission(&e, &ids[1]).unwrap().status,
        AdmissionStatus::Expired
    );
    assert_eq!(e.redeem("g_0", 0), Err(RedeemError::Unknown));
}

#[test]
fn broadcast_seq_only_grows_and_replay_covers_the_gap() {
    let mut e = experience(100, 60.0);
    join(&mut e, 50);
    let mut last = e.cursor();
    for i in 0..20 {
        e.admit(1, i);
        e.patch(&status(if i % 2 == 0 {
            ExperienceStatus::Paused
        } else {
            ExperienceStatus::Open
        }));
        assert!(
            e.cursor() > last,
            "cursor went from {last:?} to {:?}",
            e.cursor()
        );
        last = e.cursor();
    }
    let from = Cursor {
        epoch: 1,
        seq: last.seq - 3,
    };
    let replay = e.replay_since(from).unwrap();
    let seqs: Vec<u64> = replay.iter().map(|r| r.cursor.seq).collect();
    assert_eq!(seqs, vec![last.seq - 2, last.seq - 1, last.seq]);
    assert!(
        e.replay_since(Cursor { epoch: 2, seq: 0 }).is_none(),
        "other epoch must resync"
    );
}

#[test]
fn synthetic_shoppers_are_admitted_at_the_rate_and_their_grants_expire() {
    let mut e = experience(10, 60.0);
    e.join_synthetic(1_000, 0);
    let behind = join(&mut e, 1).remove(0);
    for second in 1..=3 {
        e.tick(1000, second * 1000);
    }
    let summary = e.summary(Default::default());
    assert_eq!(
        (summary.admitted, summary.active_admissions, summary.waiting),
        (3, 3, 998),
        "three seconds at one a second admit three synthetic shoppers"
    );
    assert_eq!(summary.stock.available, 7, "their admissions hold no units");
    assert_eq!(
        e.admissions_history(3000).iter().sum::<u64>(),
        3,
        "the history misses admissions"
    );
    // The grants' minute is over: they expire, and their units come back. Paused, nobody
    // else is admitted meanwhile.
    e.patch(&status(ExperienceStatus::Paused));
    e.tick(1000, 70_000);
    let summary = e.summary(Default::default());
    assert_eq!(
        (
            summary.expired,
            summary.active_admissions,
            summary.stock.available
        ),
        (3, 0, 10)
    );
    assert_eq!(
        e.snapshot_of(&behind, 70_000).and_then(|s| s.position),
        Some(998),
        "the shopper behind them did not move up"
    );
}
