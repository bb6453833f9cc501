//! The reducer's promise: whatever order and however often messages arrive, the state ends
//! where in-order delivery would have left it, and never moves backwards.

use livequeue_protocol::reducer::{FeedMessage, FeedState, Resync};
use livequeue_protocol::{
    Admission, AdmissionStatus, Cursor, ExperienceStatus, ExperienceView, PositionUpdate,
    QueueState, ServerEvent, Stage, Stock,
};
use proptest::prelude::*;

const EPOCH: u64 = 1_795_820_400_000;

fn initial() -> QueueState {
    QueueState {
        experience_id: "demo-drop".into(),
        consumer_id: "c_1".into(),
        position: Some(50),
        estimated_wait_seconds: Some(100),
        stage: Some(Stage::Queued),
        stock: Stock {
            available: 20,
            total: 20,
        },
        experience: ExperienceView {
            name: "Demo".into(),
            status: ExperienceStatus::Open,
        },
        admission: None,
        cursor: Cursor {
            epoch: EPOCH,
            seq: 0,
        },
        server_time: Some(0),
    }
}

fn event(event: ServerEvent, seq: u64) -> FeedMessage {
    FeedMessage::Event {
        event,
        cursor: Some(Cursor { epoch: EPOCH, seq }),
    }
}

/// What the server can do between two messages.
#[derive(Debug, Clone)]
enum Step {
    /// Admit `n` shoppers ahead: stock falls, the line moves (a broadcast, then the private
    /// position or admission).
    Admit(u64),
    /// The operator changes the status (a broadcast).
    Status(ExperienceStatus),
    /// A snapshot of the current state is sent (as after a `refresh`).
    Snapshot,
    /// The shopper's grant is redeemed (private, no broadcast).
    Redeem,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1u64..8).prop_map(Step::Admit),
        1 => prop_oneof![
            Just(ExperienceStatus::Open),
            Just(ExperienceStatus::Paused),
            Just(ExperienceStatus::Closed)
        ]
        .prop_map(Step::Status),
        1 => Just(Step::Snapshot),
        1 => Just(Step::Redeem),
    ]
}

/// Plays the steps on a model server and returns the messages it sends one shopper, in order.
fn server_messages(steps: &[Step]) -> Vec<FeedMessage> {
    let mut state = initial();
    let mut seq = 0;
    let mut out = vec![FeedMessage::Snapshot(state.clone())];
    for step in steps {
        match step {
            Step::Admit(n) => {
                if state.stock.available == 0 || state.admission.is_some() {
                    continue;
                }
                let n = (*n).min(state.stock.available);
                seq += 1;
                state.stock.available -= n;
                out.push(event(ServerEvent::StockUpdate(state.stock), seq));
                let position = state.position.expect("waiting") as i64 - n as i64;
                if position <= 0 {
                    let admission = Admission {
                        grant: format!("g_{seq}"),
                        expires_at: Some(1),
                        checkout_url: "/checkout".into(),
                        status: AdmissionStatus::Active,
                        reserved: 0,
                    };
                    state.position = None;
                    state.estimated_wait_seconds = None;
                    state.admission = Some(admission.clone());
                    out.push(event(ServerEvent::Admission(admission), seq));
                } else {
                    let update = PositionUpdate {
                        position: position as u64,
                        estimated_wait_seconds: Some(Some(position as u64 * 2)),
                    };
                    state.position = Some(update.position);
                    state.estimated_wait_seconds = update.estimated_wait_seconds.flatten();
                    out.push(event(ServerEvent::PositionUpdate(update), seq));
                }
            }
            Step::Status(status) => {
                seq += 1;
                state.experience.status = *status;
                out.push(event(
                    ServerEvent::ExperienceUpdate(state.experience.clone()),
                    seq,
                ));
            }
            Step::Redeem => {
                if let Some(admission) = &mut state.admission
                    && admission.status == AdmissionStatus::Active
                {
                    admission.status = AdmissionStatus::Redeemed;
                    out.push(event(ServerEvent::Admission(admission.clone()), seq));
                }
            }
            Step::Snapshot => {
                state.cursor.seq = seq;
                state.stage = Some(state.derive_stage());
                out.push(FeedMessage::Snapshot(state.clone()));
            }
        }
    }
    out
}

fn run(messages: impl IntoIterator<Item = FeedMessage>) -> QueueState {
    let mut feed = FeedState::new();
    for m in messages {
        feed.apply(m);
    }
    feed.state().cloned().expect("a snapshot was applied")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_reordering_and_duplication_converges_to_in_order_state(
        steps in prop::collection::vec(step(), 0..40),
        shuffle_seed in any::<u64>(),
        duplicates in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let messages = server_messages(&steps);
        let expected = run(messages.clone());

        // The first snapshot comes first (the connection's initial state); everything after it
        // arrives shuffled, with some messages twice.
        let mut rest: Vec<FeedMessage> = messages[1..].to_vec();
        for index in &duplicates {
            if !rest.is_empty() {
                let m = rest[index.index(rest.len())].clone();
                rest.push(m);
            }
        }
        let mut rng = shuffle_seed;
        for i in (1..rest.len()).rev() {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            rest.swap(i, (rng >> 33) as usize % (i + 1));
        }
        let shuffled = run(std::iter::once(messages[0].clone()).chain(rest));

        prop_assert_eq!(&shuffled.position, &expected.position);
        prop_assert_eq!(shuffled.estimated_wait_seconds, expected.estimated_wait_seconds);
        prop_assert_eq!(shuffled.stock, expected.stock);
        prop_assert_eq!(&shuffled.experience, &expected.experience);
        prop_assert_eq!(&shuffled.admission, &expected.admission);
        prop_assert_eq!(shuffled.stage, expected.stage);
        prop_assert_eq!(shuffled.cursor, expected.cursor);
    }

    #[test]
    fn position_never_rises_while_waiting_in_order(steps in prop::collection::vec(step(), 0..40)) {
        let mut feed = FeedState::new();
        let mut last = u64::MAX;
        for m in server_messages(&steps) {
            feed.apply(m);
            if let Some(p) = feed.state().and_then(|s| s.position) {
                prop_assert!(p <= last, "position rose from {} to {}", last, p);
                last = p;
            }
        }
    }
}

#[test]
fn a_duplicate_update_is_reported_stale_and_changes_nothing() {
    let mut feed = FeedState::new();
    feed.apply(FeedMessage::Snapshot(initial()));
    let update = event(
        ServerEvent::StockUpdate(Stock {
            available: 19,
            total: 20,
        }),
        1,
    );
    assert!(feed.apply(update.clone()).changed);
    let again = feed.apply(update);
    assert!(
        again.stale && !again.changed,
        "a replayed update must be dropped: {again:?}"
    );
}

#[test]
fn a_jump_in_broadcast_seq_asks_for_a_resync() {
    let mut feed = FeedState::new();
    feed.apply(FeedMessage::Snapshot(initial()));
    let applied = feed.apply(event(
        ServerEvent::StockUpdate(Stock {
            available: 5,
            total: 20,
        }),
        3,
    ));
    assert_eq!(applied.resync, Some(Resync::Gap { last: 0, got: 3 }));
}

#[test]
fn private_events_do_not_count_as_gaps() {
    let mut feed = FeedState::new();
    feed.apply(FeedMessage::Snapshot(initial()));
    let update = PositionUpdate {
        position: 40,
        estimated_wait_seconds: Some(Some(80)),
    };
    let applied = feed.apply(event(ServerEvent::PositionUpdate(update), 1));
    assert_eq!(
        applied.resync, None,
        "a private event at the next seq is no gap"
    );
    assert_eq!(feed.state().unwrap().position, Some(40));
}

#[test]
fn an_update_from_a_newer_epoch_asks_for_a_resync_and_a_newer_snapshot_replaces_all() {
    let mut feed = FeedState::new();
    feed.apply(FeedMessage::Snapshot(initial()));
    let later = Cursor {
        epoch: EPOCH + 1,
        seq: 1,
    };
    let applied = feed.apply(FeedMessage::Event {
        event: ServerEvent::StockUpdate(Stock {
            available: 1,
            total: 1,
        }),
        cursor: Some(later),
    });
    assert_eq!(
        applied.resync,
        Some(Resync::EpochChanged {
            from: EPOCH,
            to: EPOCH + 1
        })
    );
    assert_eq!(
        feed.state().unwrap().stock.available,
        20,
        "the other epoch's update is not applied"
    );

    let mut restarted = initial();
    restarted.cursor = Cursor {
        epoch: EPOCH + 1,
        seq: 0,
    };
    restarted.position = Some(3);
    assert!(feed.apply(FeedMessage::Snapshot(restarted)).changed);
    assert_eq!(feed.state().unwrap().position, Some(3));
    let old = feed.apply(FeedMessage::Snapshot(initial()));
    assert!(old.stale, "a snapshot of an older epoch is dropped");
}

#[test]
fn an_update_before_any_state_asks_for_one() {
    let mut feed = FeedState::new();
    let applied = feed.apply(event(
        ServerEvent::StockUpdate(Stock {
            available: 1,
            total: 1,
        }),
        1,
    ));
    assert_eq!(applied.resync, Some(Resync::NoState));
    assert!(feed.state().is_none());
}

#[test]
fn updates_without_cursor_apply_latest_wins() {
    let mut feed = FeedState::new();
    feed.apply(FeedMessage::Snapshot(initial()));
    for p in [30, 35] {
        let update = PositionUpdate {
            position: p,
            estimated_wait_seconds: None,
        };
        feed.apply(FeedMessage::Event {
            event: ServerEvent::PositionUpdate(update),
            cursor: None,
        });
    }
    assert_eq!(feed.state().unwrap().position, Some(35));
}

#[test]
fn an_admission_clears_the_position_even_when_an_older_position_arrives_after_it() {
    let mut feed = FeedState::new();
    feed.apply(FeedMessage::Snapshot(initial()));
    let admission = Admission {
        grant: "g".into(),
        expires_at: Some(9),
        checkout_url: "/c".into(),
        status: AdmissionStatus::Active,
        reserved: 0,
    };
    feed.apply(event(ServerEvent::Admission(admission), 2));
    let late = PositionUpdate {
        position: 4,
        estimated_wait_seconds: Some(Some(8)),
    };
    feed.apply(event(ServerEvent::PositionUpdate(late), 1));
    let state = feed.state().unwrap();
    assert_eq!((state.position, state.stage), (None, Some(Stage::Admitted)));
}

#[test]
fn an_extended_admission_at_the_same_seq_replaces_the_earlier_expiry_and_never_goes_back() {
    let mut feed = FeedState::new();
    feed.apply(FeedMessage::Snapshot(initial()));
    let admission = |expires_at| Admission {
        grant: "g".into(),
        expires_at: Some(expires_at),
        checkout_url: "/c".into(),
        status: AdmissionStatus::Active,
        reserved: 0,
    };
    feed.apply(event(ServerEvent::Admission(admission(100)), 2));
    feed.apply(event(ServerEvent::Admission(admission(220)), 2));
    let late = feed.apply(event(ServerEvent::Admission(admission(100)), 2));
    let state = feed.state().unwrap();
    assert_eq!(
        state.admission.as_ref().and_then(|a| a.expires_at),
        Some(220),
        "an extension without a broadcast did not reach the state, or a late copy undid it"
    );
    assert!(
        late.stale,
        "the pre-extension admission was not reported stale"
    );
}

#[test]
fn a_reservation_at_the_same_seq_updates_the_cart_and_never_shrinks_it() {
    let mut feed = FeedState::new();
    feed.apply(FeedMessage::Snapshot(initial()));
    let admission = |reserved| Admission {
        grant: "g".into(),
        expires_at: Some(100),
        checkout_url: "/c".into(),
        status: AdmissionStatus::Active,
        reserved,
    };
    feed.apply(event(ServerEvent::Admission(admission(0)), 2));
    feed.apply(event(ServerEvent::Admission(admission(2)), 2));
    feed.apply(event(ServerEvent::Admission(admission(1)), 2));
    let reserved = feed.state().unwrap().admission.as_ref().unwrap().reserved;
    assert_eq!(
        reserved, 2,
        "the cart the server holds, not a late smaller one"
    );
}
