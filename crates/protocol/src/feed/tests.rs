//! The feed machine's rules, one behaviour per test, and properties over event sequences.

use proptest::prelude::*;

use super::*;
use crate::close::CloseCode;
use crate::state::{Cursor, QueueState, Stock};
use crate::{ErrorCode, ServerEvent};

fn config(order: &[TransportKind]) -> FeedConfig {
    FeedConfig {
        supervisor: SupervisorConfig {
            order: order.to_vec(),
            ..SupervisorConfig::default()
        },
        ..FeedConfig::default()
    }
}

fn state() -> QueueState {
    serde_json::from_str(r#"{"position": 3}"#).expect("a lenient state")
}

fn snapshot() -> FeedMessage {
    FeedMessage::Snapshot(state())
}

fn update(cursor: Option<Cursor>) -> FeedMessage {
    FeedMessage::Event {
        event: ServerEvent::StockUpdate(Stock {
            available: 1,
            total: 2,
        }),
        cursor,
    }
}

/// The start of a feed that already has credentials, online.
const START: Event = Event::Start {
    credentials: true,
    online: true,
};

fn joined() -> Event {
    Event::Joined {
        state: Box::new(state()),
        online: true,
    }
}

fn delivered(delivery: Delivery, now_ms: u64) -> Event {
    Event::Delivered { delivery, now_ms }
}

/// A machine whose current transport (the first of `order`) delivered a snapshot at 0 ms.
fn live(order: &[TransportKind]) -> FeedMachine {
    let mut m = FeedMachine::new(config(order));
    m.handle(START, 0.5);
    m.handle(Event::Connecting { now_ms: 0 }, 0.5);
    m.handle(delivered(Delivery::Message(snapshot()), 0), 0.5);
    m
}

fn refused() -> Event {
    Event::Failed(Failure::from_close_code(CloseCode::BadToken.code()))
}

fn opens(commands: &[Command]) -> bool {
    commands.iter().any(|c| matches!(c, Command::Open { .. }))
}

#[test]
fn without_credentials_the_feed_joins_first_and_connects_once_joined() {
    let mut m = FeedMachine::new(FeedConfig::default());
    let start = m.handle(
        Event::Start {
            credentials: false,
            online: true,
        },
        0.5,
    );
    assert_eq!(start, vec![Command::Join { after_ms: 0 }]);
    assert_eq!(m.status(), ConnectionStatus::Connecting);
    let joined = m.handle(joined(), 0.5);
    assert_eq!(
        joined,
        vec![
            Command::ScheduleFlush { fallback_ms: 250 },
            Command::Recovered,
            Command::Open {
                kind: TransportKind::WebSocket,
                after_ms: 0,
                resume: true
            }
        ]
    );
}

#[test]
fn a_failed_join_is_retried_when_it_may_pass_and_given_up_otherwise() {
    let mut m = FeedMachine::new(FeedConfig::default());
    m.handle(
        Event::Start {
            credentials: false,
            online: true,
        },
        0.5,
    );
    let retry = m.handle(Event::JoinFailed { transient: true }, 0.5);
    assert_eq!(retry, vec![Command::Join { after_ms: 500 }]);
    assert_eq!(m.status(), ConnectionStatus::Connecting);
    let refused = m.handle(Event::JoinFailed { transient: false }, 0.5);
    assert!(
        refused.is_empty(),
        "the join's own problem stays: {refused:?}"
    );
    assert_eq!(m.status(), ConnectionStatus::Failed);
    assert_eq!(
        m.handle(Event::Reconnect, 0.5),
        vec![Command::Join { after_ms: 0 }],
        "try again joins again"
    );
}

#[test]
fn the_first_delivery_counts_as_opened_not_the_socket_opening() {
    let mut m = FeedMachine::new(FeedConfig::default());
    m.handle(START, 0.5);
    m.handle(Event::Connecting { now_ms: 0 }, 0.5);
    m.handle(Event::Opened { now_ms: 1 }, 0.5);
    assert_eq!(m.status(), ConnectionStatus::Connecting, "open is not live");
    let first = m.handle(delivered(Delivery::Alive, 2), 0.5);
    assert_eq!(first, vec![Command::Recovered]);
    assert_eq!(m.status(), ConnectionStatus::Live);
    assert!(
        m.handle(delivered(Delivery::Alive, 3), 0.5).is_empty(),
        "later deliveries change nothing"
    );
}

#[test]
fn refused_own_credentials_are_replaced_by_a_join_at_most_twice_in_a_row() {
    let mut m = live(&[TransportKind::Sse]);
    for round in 1..=2 {
        let commands = m.handle(refused(), 0.5);
        assert_eq!(
            commands,
            vec![Command::Rejoin, Command::Join { after_ms: 0 }],
            "rejoin {round}"
        );
        m.handle(joined(), 0.5);
        m.handle(Event::Connecting { now_ms: 0 }, 0.5);
    }
    let third = m.handle(refused(), 0.5);
    assert_eq!(third.first(), Some(&Command::GiveUp(GiveUp::Refused)));
    assert!(third.contains(&Command::Close));
    assert_eq!(m.status(), ConnectionStatus::Failed);
}

#[test]
fn a_delivery_resets_the_rejoin_count() {
    let mut m = live(&[TransportKind::Sse]);
    m.handle(refused(), 0.5);
    m.handle(joined(), 0.5);
    m.handle(Event::Connecting { now_ms: 0 }, 0.5);
    m.handle(delivered(Delivery::Alive, 1), 0.5);
    assert_eq!(m.rejoins(), 0);
}

#[test]
fn credentials_of_the_host_page_are_never_replaced() {
    let mut m = FeedMachine::new(FeedConfig {
        host_identity: true,
        ..FeedConfig::default()
    });
    m.handle(START, 0.5);
    let commands = m.handle(refused(), 0.5);
    assert!(!commands.contains(&Command::Rejoin), "{commands:?}");
    assert_eq!(commands.first(), Some(&Command::GiveUp(GiveUp::Refused)));
}

#[test]
fn a_wrong_request_stops_without_a_rejoin() {
    for failure in [
        Failure::from_close_code(CloseCode::MissingParameters.code()),
        Failure::from_error_code(ErrorCode::NotFound),
    ] {
        let mut m = live(&[TransportKind::WebSocket]);
        let commands = m.handle(Event::Failed(failure), 0.5);
        assert!(!commands.contains(&Command::Rejoin), "{failure:?}");
        assert_eq!(m.status(), ConnectionStatus::Failed);
    }
}

#[test]
fn exhausted_attempts_tell_the_shopper_the_connection_was_lost() {
    let mut m = live(&[TransportKind::WebSocket]);
    let mut told = Vec::new();
    for _ in 0..=10 {
        told.extend(m.handle(Event::Failed(Failure::TRANSIENT), 0.5));
        m.handle(Event::Connecting { now_ms: 0 }, 0.5);
    }
    assert_eq!(m.status(), ConnectionStatus::Failed);
    let lost = told
        .iter()
        .filter(|c| **c == Command::GiveUp(GiveUp::Lost))
        .count();
    assert_eq!(lost, 1, "told once: {told:?}");
}

#[test]
fn a_proven_sse_stream_is_dead_after_the_silence_or_a_third_of_it_on_waking() {
    let mut m = live(&[TransportKind::Sse]);
    m.handle(delivered(Delivery::Heartbeat, 1_000), 0.5);
    assert!(
        m.handle(
            Event::Tick {
                now_ms: 46_000,
                woke: false
            },
            0.5
        )
        .is_empty(),
        "45 s after the heartbeat it is still alive"
    );
    let dead = m.handle(
        Event::Tick {
            now_ms: 46_001,
            woke: false,
        },
        0.5,
    );
    assert_eq!(dead.first(), Some(&Command::Silent));
    assert!(opens(&dead), "a new stream is opened: {dead:?}");

    let mut m = live(&[TransportKind::Sse]);
    m.handle(
        delivered(
            Delivery::Message(update(Some(Cursor { epoch: 1, seq: 1 }))),
            0,
        ),
        0.5,
    );
    let woke = m.handle(
        Event::Tick {
            now_ms: 15_001,
            woke: true,
        },
        0.5,
    );
    assert_eq!(woke.first(), Some(&Command::Silent), "an id proves it too");
}

#[test]
fn a_stream_with_comment_heartbeats_is_not_dropped_for_silence() {
    // A guide-style server: its heartbeats are `: heartbeat` comments, which EventSource
    // never surfaces, and its events carry no ids.
    let mut m = live(&[TransportKind::Sse]);
    m.handle(delivered(Delivery::Message(update(None)), 0), 0.5);
    for (now_ms, woke) in [(60_000, false), (600_000, true), (3_600_000, false)] {
        let commands = m.handle(Event::Tick { now_ms, woke }, 0.5);
        assert!(commands.is_empty(), "dropped at {now_ms} ms: {commands:?}");
    }
    assert_eq!(m.status(), ConnectionStatus::Live);
}

#[test]
fn waking_checks_a_socket_or_a_poll_at_once() {
    for kind in [TransportKind::WebSocket, TransportKind::Poll] {
        let mut m = live(&[kind]);
        assert_eq!(
            m.handle(
                Event::Tick {
                    now_ms: 1_000_000,
                    woke: true
                },
                0.5
            ),
            vec![Command::CheckLiveness],
            "{kind}"
        );
        assert!(
            m.handle(
                Event::Tick {
                    now_ms: 2_000_000,
                    woke: false
                },
                0.5
            )
            .is_empty()
        );
    }
}

#[test]
fn an_interrupted_event_source_shows_reconnecting_until_it_delivers() {
    let mut m = live(&[TransportKind::Sse]);
    m.handle(Event::Interrupted, 0.5);
    assert_eq!(m.status(), ConnectionStatus::Reconnecting);
    m.handle(delivered(Delivery::Alive, 5), 0.5);
    assert_eq!(m.status(), ConnectionStatus::Live);
}

/// A feed that fell back from WebSocket to SSE and got its first message there.
fn on_fallback() -> (FeedMachine, Vec<Command>) {
    let mut m = FeedMachine::new(config(&[TransportKind::WebSocket, TransportKind::Sse]));
    m.handle(START, 0.5);
    m.handle(Event::Failed(Failure::TRANSIENT), 0.5);
    m.handle(Event::Failed(Failure::TRANSIENT), 0.5);
    m.handle(Event::Connecting { now_ms: 0 }, 0.5);
    let commands = m.handle(delivered(Delivery::Message(snapshot()), 0), 0.0);
    (m, commands)
}

#[test]
fn on_a_fallback_the_preferred_transport_is_probed_and_its_first_message_promotes_it() {
    let (mut m, commands) = on_fallback();
    assert_eq!(m.transport(), TransportKind::Sse);
    assert!(
        commands.contains(&Command::Probe { after_ms: 48_000 }),
        "60 s −20 % with jitter 0: {commands:?}"
    );
    assert_eq!(
        m.handle(Event::ProbeDue, 0.5),
        vec![Command::OpenProbe {
            kind: TransportKind::WebSocket
        }]
    );
    let promoted = m.handle(
        Event::ProbeDelivered {
            message: snapshot(),
            now_ms: 10,
        },
        0.5,
    );
    assert_eq!(
        promoted,
        vec![Command::Promote],
        "the flush is already scheduled"
    );
    let Some(Command::Apply(batch)) = m.handle(Event::FlushDue, 0.5).pop() else {
        panic!("the probe's message is applied");
    };
    assert_eq!(batch.len(), 2, "the fallback's snapshot and the probe's");
    assert_eq!(
        (m.transport(), m.status()),
        (TransportKind::WebSocket, ConnectionStatus::Live)
    );
}

#[test]
fn a_failed_probe_is_dropped_and_scheduled_again() {
    let (mut m, _) = on_fallback();
    m.handle(Event::ProbeDue, 0.5);
    let again = m.handle(Event::ProbeFailed, 1.0);
    assert_eq!(
        again,
        vec![Command::DropProbe, Command::Probe { after_ms: 72_000 }]
    );
}

#[test]
fn a_failure_of_the_feed_drops_the_probe() {
    let (mut m, _) = on_fallback();
    m.handle(Event::ProbeDue, 0.5);
    let commands = m.handle(Event::Failed(Failure::TRANSIENT), 0.5);
    assert!(commands.contains(&Command::DropProbe), "{commands:?}");
}

#[test]
fn messages_wait_for_one_flush_and_are_applied_in_order() {
    let mut m = live(&[TransportKind::WebSocket]);
    let mut scheduled = 0;
    for seq in 1..=3 {
        let message = update(Some(Cursor { epoch: 1, seq }));
        scheduled += m
            .handle(delivered(Delivery::Message(message), seq), 0.5)
            .iter()
            .filter(|c| matches!(c, Command::ScheduleFlush { fallback_ms: 250 }))
            .count();
    }
    assert_eq!(scheduled, 0, "the snapshot of `live` already scheduled one");
    let Some(Command::Apply(batch)) = m.handle(Event::FlushDue, 0.5).pop() else {
        panic!("the batch is applied at the flush");
    };
    assert_eq!(
        batch.len(),
        4,
        "the snapshot and three updates, in one batch"
    );
    assert!(m.handle(Event::FlushDue, 0.5).is_empty(), "nothing left");
}

#[test]
fn a_gap_is_refreshed_in_place_or_by_a_new_stream_from_the_start() {
    let mut m = live(&[TransportKind::WebSocket]);
    assert_eq!(
        m.handle(Event::ResyncNeeded { refreshable: true }, 0.5),
        vec![Command::Refresh]
    );
    let mut m = live(&[TransportKind::Sse]);
    assert_eq!(
        m.handle(Event::ResyncNeeded { refreshable: false }, 0.5),
        vec![Command::Open {
            kind: TransportKind::Sse,
            after_ms: 250,
            resume: false
        }]
    );
}

#[test]
fn offline_closes_and_online_reopens_at_once() {
    let mut m = live(&[TransportKind::WebSocket]);
    assert_eq!(m.handle(Event::Offline, 0.5), vec![Command::Close]);
    assert_eq!(m.status(), ConnectionStatus::Offline);
    assert!(opens(&m.handle(Event::Online, 0.5)));
    let mut m = FeedMachine::new(FeedConfig::default());
    let start = m.handle(
        Event::Start {
            credentials: true,
            online: false,
        },
        0.5,
    );
    assert_eq!(start, vec![Command::Close], "no attempt while offline");
}

fn any_event() -> impl Strategy<Value = Event> {
    let failure = prop_oneof![
        Just(Failure::TRANSIENT),
        Just(Failure::from_close_code(CloseCode::BadToken.code())),
        Just(Failure::from_close_code(
            CloseCode::MissingParameters.code()
        )),
        Just(Failure::from_close_code(CloseCode::Restart.code())),
    ];
    let delivery = prop_oneof![
        Just(Delivery::Alive),
        Just(Delivery::Heartbeat),
        Just(Delivery::Message(update(None))),
        Just(Delivery::Message(update(Some(Cursor { epoch: 1, seq: 1 })))),
    ];
    prop_oneof![
        any::<bool>().prop_map(|online| Event::Joined {
            state: Box::new(state()),
            online
        }),
        any::<bool>().prop_map(|transient| Event::JoinFailed { transient }),
        (0u64..1_000_000).prop_map(|now_ms| Event::Connecting { now_ms }),
        (delivery, 0u64..1_000_000)
            .prop_map(|(delivery, now_ms)| Event::Delivered { delivery, now_ms }),
        Just(Event::Interrupted),
        failure.prop_map(Event::Failed),
        Just(Event::ProbeDue),
        (0u64..1_000_000).prop_map(|now_ms| Event::ProbeDelivered {
            message: snapshot(),
            now_ms
        }),
        Just(Event::ProbeFailed),
        Just(Event::FlushDue),
        any::<bool>().prop_map(|refreshable| Event::ResyncNeeded { refreshable }),
        (0u64..10_000_000, any::<bool>()).prop_map(|(now_ms, woke)| Event::Tick { now_ms, woke }),
        Just(Event::Offline),
        Just(Event::Online),
        Just(Event::Reconnect),
    ]
}

fn any_order() -> impl Strategy<Value = Vec<TransportKind>> {
    prop_oneof![
        Just(vec![TransportKind::Sse]),
        Just(vec![TransportKind::WebSocket, TransportKind::Sse]),
        Just(vec![
            TransportKind::WebSocket,
            TransportKind::Sse,
            TransportKind::Poll
        ]),
    ]
}

proptest! {
    #[test]
    fn rejoins_in_a_row_never_exceed_the_limit(
        order in any_order(),
        events in prop::collection::vec((any_event(), 0.0f64..1.0), 1..80),
    ) {
        let mut m = FeedMachine::new(config(&order));
        m.handle(START, 0.5);
        let mut in_a_row = 0;
        for (event, jitter) in events {
            let delivery = matches!(event, Event::Delivered { .. } | Event::ProbeDelivered { .. });
            let commands = m.handle(event, jitter);
            if delivery && m.rejoins() == 0 {
                in_a_row = 0;
            }
            in_a_row += commands.iter().filter(|c| **c == Command::Rejoin).count() as u32;
            prop_assert!(in_a_row <= 2, "{} rejoins without a delivery", in_a_row);
        }
    }

    #[test]
    fn a_stream_that_never_proved_its_heartbeats_is_never_dropped_for_silence(
        ticks in prop::collection::vec((0u64..100_000_000, any::<bool>()), 1..40),
    ) {
        let mut m = live(&[TransportKind::Sse]);
        m.handle(delivered(Delivery::Message(update(None)), 0), 0.5);
        for (now_ms, woke) in ticks {
            let commands = m.handle(Event::Tick { now_ms, woke }, 0.5);
            prop_assert!(!commands.contains(&Command::Silent));
            prop_assert!(!opens(&commands));
        }
    }

    #[test]
    fn probes_wait_every_upgrade_period_within_twenty_percent_and_one_at_a_time(
        events in prop::collection::vec((any_event(), 0.0f64..1.0), 1..80),
    ) {
        let (mut m, _) = on_fallback();
        let every = FeedConfig::default().upgrade_every_ms;
        // Probe timers or probes alive, from the machine's commands.
        let mut pending = 1;
        for (event, jitter) in events {
            if event == Event::ProbeDue {
                // The timer fired: what follows is an open probe or nothing.
                pending = 0;
            }
            for command in m.handle(event, jitter) {
                match command {
                    Command::OpenProbe { .. } => pending += 1,
                    Command::Probe { after_ms } => {
                        prop_assert!(after_ms >= every * 8 / 10 && after_ms <= every * 12 / 10);
                        pending += 1;
                    }
                    Command::DropProbe | Command::Promote => pending = 0,
                    _ => {}
                }
                prop_assert!(pending <= 1, "two probes at once");
            }
        }
    }
}
