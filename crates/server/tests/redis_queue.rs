//! The Redis queue core (`engine::redis`) against a real `redis-server`: the queue's
//! contract one behaviour a test, several nodes admitting at once, the ticker lease, Redis
//! restarts, and two figures (admissions per second, memory per waiting shopper).
//!
//! Every test starts its own redis-server on a free loopback port (killed on drop), so the
//! tests run in parallel and never share state. Without `/usr/bin/redis-server` they fail
//! and say how to install it.

#[path = "redis_queue/server.rs"]
mod server;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use livequeue_protocol::{AdmissionStatus, Cursor, ExperienceStatus, ServerEvent, Stock};
use livequeue_server::engine::experience::{
    AdmissionRate, GrantError, GrantRules, RedeemError, Settings,
};
use livequeue_server::engine::redis::{
    Departure, RedisQueue, RedisQueueError, Setup, Standing, connect,
};
use redis::aio::ConnectionManager;
use server::RedisServer;

/// The tests' clock: a fixed instant, moved by hand.
const NOW: u64 = 1_800_000_000_000;
/// Grants last a minute.
const TTL_MS: u64 = 60_000;
/// One extension adds thirty seconds.
const EXTENSION_MS: u64 = 30_000;

fn setup(stock: u64) -> Setup {
    Setup {
        settings: Settings {
            name: "Drop".into(),
            status: ExperienceStatus::Open,
            rate_per_minute: 60.0,
            checkout_url: "https://shop.example/checkout".into(),
        },
        stock,
        rules: GrantRules {
            ttl_ms: TTL_MS,
            extension_ms: EXTENSION_MS,
            max_units: 2,
        },
        epoch: NOW,
        event_log_len: 1024,
    }
}

/// A node's connection to `server`.
async fn node(server: &RedisServer) -> ConnectionManager {
    connect(&server.url())
        .await
        .expect("cannot connect to the test's redis-server")
}

/// A fresh server and an experience `drop` with `stock` units.
async fn queue(stock: u64) -> (RedisServer, RedisQueue) {
    let server = RedisServer::start();
    let queue = RedisQueue::new(node(&server).await, "drop").expect("a valid id was refused");
    queue.create(&setup(stock)).await.expect("create failed");
    (server, queue)
}

/// `consumer` joins and gets their ticket.
async fn join(queue: &RedisQueue, consumer: &str) -> u64 {
    queue.join(consumer).await.expect("join failed").ticket
}

async fn position(queue: &RedisQueue, consumer: &str) -> Option<u64> {
    queue
        .position(consumer)
        .await
        .expect("position failed")
        .position()
}

async fn available(queue: &RedisQueue) -> u64 {
    queue.view().await.expect("view failed").stock.available
}

/// `consumer` joins an otherwise empty line and is admitted; returns their grant.
async fn admitted(queue: &RedisQueue, consumer: &str) -> String {
    join(queue, consumer).await;
    let admitted = queue.admit(1, NOW).await.expect("admit failed");
    assert_eq!(admitted.shoppers.len(), 1, "the shopper was not admitted");
    admitted.shoppers[0].admission.grant.clone()
}

#[tokio::test]
async fn joining_hands_out_tickets_in_join_order_and_positions_from_one() {
    let (_server, queue) = queue(10).await;
    let mut tickets = Vec::new();
    for consumer in ["a", "b", "c"] {
        let place = queue.join(consumer).await.expect("join failed");
        tickets.push(place.ticket);
        assert_eq!(
            place.position(),
            Some(tickets.len() as u64),
            "{consumer} joined at the wrong place"
        );
    }
    assert_eq!(tickets, [0, 1, 2], "tickets do not follow join order");
    assert_eq!(queue.waiting().await.expect("waiting failed"), 3);
}

#[tokio::test]
async fn joining_again_keeps_the_one_place() {
    let (_server, queue) = queue(10).await;
    let first = join(&queue, "a").await;
    join(&queue, "b").await;
    let again = join(&queue, "a").await;
    assert_eq!(again, first, "a known shopper was given a new ticket");
    assert_eq!(
        queue.waiting().await.expect("waiting failed"),
        2,
        "a known shopper holds a second place"
    );
    assert_eq!(position(&queue, "b").await, Some(2), "b was pushed back");
}

#[tokio::test]
async fn a_closed_or_unknown_experience_refuses_joins() {
    let (server, queue) = queue(10).await;
    join(&queue, "early").await;
    queue
        .patch(&livequeue_protocol::api::PatchExperience {
            status: Some(ExperienceStatus::Closed),
            ..Default::default()
        })
        .await
        .expect("patch failed");
    assert!(
        matches!(queue.join("late").await, Err(RedisQueueError::Closed(_))),
        "a closed experience let a new shopper in"
    );
    assert_eq!(
        position(&queue, "early").await,
        Some(1),
        "closing moved a shopper"
    );
    let unknown = RedisQueue::new(node(&server).await, "nope").expect("valid id");
    assert!(
        matches!(
            unknown.join("a").await,
            Err(RedisQueueError::UnknownExperience(_))
        ),
        "an experience never created took a join"
    );
    assert!(
        matches!(
            queue.create(&setup(1)).await,
            Err(RedisQueueError::ExperienceExists(_))
        ),
        "an experience was created twice"
    );
}

#[tokio::test]
async fn leaving_moves_those_behind_up_and_admissions_skip_the_departed() {
    let (_server, queue) = queue(10).await;
    for consumer in ["a", "b", "c", "d"] {
        join(&queue, consumer).await;
    }
    assert_eq!(
        queue.leave("b", NOW).await.expect("leave failed"),
        Departure::FromLine
    );
    assert_eq!(
        queue.leave("b", NOW).await.expect("leave failed"),
        Departure::Nothing,
        "leaving twice changed the line again"
    );
    assert_eq!(position(&queue, "c").await, Some(2), "c did not move up");
    assert_eq!(
        queue.position("b").await.expect("position failed").standing,
        Standing::Left
    );
    let admitted = queue.admit(2, NOW).await.expect("admit failed");
    let who: Vec<&str> = admitted
        .shoppers
        .iter()
        .map(|s| s.consumer.as_str())
        .collect();
    assert_eq!(who, ["a", "c"], "the departed shopper was admitted");
    assert_eq!(position(&queue, "d").await, Some(1));
}

#[tokio::test]
async fn admissions_follow_ticket_order_bounded_by_stock_and_the_line() {
    let (_server, queue) = queue(3).await;
    for i in 0..5 {
        join(&queue, &format!("c{i}")).await;
    }
    let first = queue.admit(2, NOW).await.expect("admit failed");
    let tickets: Vec<u64> = first.shoppers.iter().map(|s| s.ticket).collect();
    assert_eq!(tickets, [0, 1], "admitted out of join order");
    let second = queue.admit(10, NOW).await.expect("admit failed");
    assert_eq!(
        second.shoppers.len(),
        1,
        "admitted more shoppers than stock"
    );
    assert_eq!(second.shoppers[0].ticket, 2);
    assert_eq!(available(&queue).await, 0);
    assert!(
        queue
            .admit(10, NOW)
            .await
            .expect("admit failed")
            .shoppers
            .is_empty(),
        "admitted with no stock left"
    );
    queue.patch_stock(10).await.expect("patch failed");
    let rest = queue.admit(10, NOW).await.expect("admit failed");
    assert_eq!(
        rest.shoppers.len(),
        2,
        "admitted more shoppers than were waiting"
    );
    let admission = &rest.shoppers[0].admission;
    assert_eq!(admission.status, AdmissionStatus::Active);
    assert_eq!(admission.expires_at, Some(NOW + TTL_MS));
    assert_eq!(admission.checkout_url, "https://shop.example/checkout");
    let place = queue.position("c3").await.expect("position failed");
    assert_eq!(
        place.admission(),
        Some(admission),
        "the stored grant differs"
    );
}

#[tokio::test]
async fn admissions_at_the_rate_admit_what_each_tick_is_due() {
    // The pacing is the in-memory engine's (AdmissionRate); Redis admits what it is told.
    let (_server, queue) = queue(100).await;
    for i in 0..50 {
        join(&queue, &format!("c{i}")).await;
    }
    let mut rate = AdmissionRate::new(120.0);
    let mut now = NOW;
    for _ in 0..10 {
        now += 500;
        let wanted = rate.due(500, 120.0);
        let admitted = queue.admit(wanted, now).await.expect("admit failed");
        rate.spend(wanted, admitted.shoppers.len() as u64);
    }
    assert_eq!(
        queue.waiting().await.expect("waiting failed"),
        40,
        "120 a minute over 5 s is 10 admissions"
    );
}

#[tokio::test]
async fn an_expired_grant_returns_its_unit_to_stock() {
    let (_server, queue) = queue(1).await;
    let grant = admitted(&queue, "a").await;
    assert_eq!(available(&queue).await, 0);
    assert!(
        queue
            .expire_grants(NOW + TTL_MS - 1)
            .await
            .expect("expire failed")
            .is_empty(),
        "a grant expired before its time"
    );
    let expired = queue
        .expire_grants(NOW + TTL_MS)
        .await
        .expect("expire failed");
    assert_eq!(expired.len(), 1);
    assert_eq!(
        (expired[0].grant.as_str(), expired[0].units),
        (grant.as_str(), 1)
    );
    assert_eq!(available(&queue).await, 1, "the unit did not come back");
    let place = queue.position("a").await.expect("position failed");
    assert_eq!(
        place.admission().map(|a| a.status),
        Some(AdmissionStatus::Expired)
    );
}

#[tokio::test]
async fn a_grant_is_redeemed_once() {
    let (_server, queue) = queue(2).await;
    let grant = admitted(&queue, "a").await;
    assert_eq!(
        queue
            .redeem(&grant, NOW + 1)
            .await
            .expect("first redemption refused"),
        "a"
    );
    assert!(
        matches!(
            queue.redeem(&grant, NOW + 2).await,
            Err(RedisQueueError::Redeem(RedeemError::AlreadyRedeemed))
        ),
        "a grant was redeemed twice"
    );
    assert!(
        matches!(
            queue.redeem("g_0000", NOW).await,
            Err(RedisQueueError::Redeem(RedeemError::Unknown))
        ),
        "an unknown grant was redeemed"
    );
    let late = admitted(&queue, "b").await;
    assert!(
        matches!(
            queue.redeem(&late, NOW + TTL_MS).await,
            Err(RedisQueueError::Redeem(RedeemError::Expired))
        ),
        "a grant past its time was redeemed"
    );
    let expired = queue
        .expire_grants(NOW + TTL_MS)
        .await
        .expect("expire failed");
    assert_eq!(
        expired.len(),
        1,
        "the refused grant was not left to the expiry"
    );
    assert_eq!(
        available(&queue).await,
        1,
        "the sold unit came back, or the expired one did not"
    );
}

#[tokio::test]
async fn a_grant_is_extended_once() {
    let (_server, queue) = queue(1).await;
    admitted(&queue, "a").await;
    let extended = queue.extend("a", NOW + 10).await.expect("extend refused");
    assert_eq!(extended.expires_at, Some(NOW + TTL_MS + EXTENSION_MS));
    assert!(
        matches!(
            queue.extend("a", NOW + 20).await,
            Err(RedisQueueError::Grant(GrantError::AlreadyExtended))
        ),
        "a grant was extended twice"
    );
    assert!(
        queue
            .expire_grants(NOW + TTL_MS)
            .await
            .expect("expire failed")
            .is_empty(),
        "the grant expired at its old time"
    );
    assert!(
        matches!(
            queue.extend("nobody", NOW).await,
            Err(RedisQueueError::Grant(GrantError::NoGrant))
        ),
        "a shopper never admitted extended something"
    );
}

#[tokio::test]
async fn a_grant_past_its_time_is_refused_ended_by_that_call_and_reported_once_by_the_expiry() {
    let (_server, queue) = queue(2).await;
    admitted(&queue, "a").await;
    let late = NOW + TTL_MS;
    assert!(
        matches!(
            queue.extend("a", late).await,
            Err(RedisQueueError::Grant(GrantError::Expired))
        ),
        "a grant past its time was extended"
    );
    assert!(
        matches!(
            queue.reserve("a", "k", 2, late).await,
            Err(RedisQueueError::Grant(GrantError::Expired))
        ),
        "a grant past its time reserved stock"
    );
    assert_eq!(
        queue.leave("a", late).await.expect("leave failed"),
        Departure::Nothing,
        "leaving released a grant past its time (the call that found it due ended it)"
    );
    let expired = queue.expire_grants(late).await.expect("expire failed");
    assert_eq!(expired.len(), 1, "the expiry did not report the grant");
    assert_eq!(
        available(&queue).await,
        2,
        "the unit came back twice or never"
    );
}

#[tokio::test]
async fn a_reservation_is_idempotent_by_key_and_never_takes_stock_below_zero() {
    let (_server, queue) = queue(2).await;
    admitted(&queue, "a").await;
    let first = queue
        .reserve("a", "k1", 1, NOW)
        .await
        .expect("reserve refused");
    assert_eq!(
        (first.answer.reserved, first.stock_changed),
        (1, false),
        "the admission's own unit was taken from stock again"
    );
    let second = queue
        .reserve("a", "k2", 1, NOW)
        .await
        .expect("reserve refused");
    assert_eq!(second.answer.reserved, 2);
    assert_eq!(
        second.answer.stock,
        Stock {
            available: 0,
            total: 2
        }
    );
    let retry = queue
        .reserve("a", "k2", 1, NOW)
        .await
        .expect("retry refused");
    assert_eq!(
        retry.answer, second.answer,
        "a retry was not answered as before"
    );
    assert!(!retry.stock_changed, "a retry took stock again");
    assert!(
        matches!(
            queue.reserve("a", "k2", 2, NOW).await,
            Err(RedisQueueError::Grant(GrantError::KeyReused))
        ),
        "a key was reused for another quantity"
    );
    assert!(
        matches!(
            queue.reserve("a", "k3", 1, NOW).await,
            Err(RedisQueueError::Grant(GrantError::OverLimit {
                max: 2,
                reserved: 2
            }))
        ),
        "a grant went over its unit limit"
    );

    // A second shopper with stock gone: refused, and stock stays at zero.
    queue.patch_stock(3).await.expect("patch failed");
    admitted(&queue, "b").await;
    assert_eq!(available(&queue).await, 0);
    assert!(
        matches!(
            queue.reserve("b", "k1", 2, NOW).await,
            Err(RedisQueueError::Grant(GrantError::OutOfStock {
                available: 0
            }))
        ),
        "a reservation took stock below zero"
    );
    assert_eq!(available(&queue).await, 0);
}

#[tokio::test]
async fn lowering_the_stock_never_takes_it_below_zero() {
    let (_server, queue) = queue(5).await;
    for i in 0..3 {
        join(&queue, &format!("c{i}")).await;
    }
    queue.admit(3, NOW).await.expect("admit failed");
    let stock = queue.patch_stock(1).await.expect("patch failed");
    assert_eq!(
        stock,
        Stock {
            available: 0,
            total: 1
        },
        "available stock went below zero or did not follow the total"
    );
    let stock = queue.patch_stock(4).await.expect("patch failed");
    assert_eq!(
        stock.available, 3,
        "raising the total did not add its difference"
    );
}

#[tokio::test]
async fn leaving_after_admission_gives_the_unit_back() {
    let (_server, queue) = queue(1).await;
    let grant = admitted(&queue, "a").await;
    assert_eq!(
        queue.leave("a", NOW).await.expect("leave failed"),
        Departure::GrantReleased { units: 1 }
    );
    assert_eq!(available(&queue).await, 1, "the unit did not come back");
    assert!(
        matches!(
            queue.redeem(&grant, NOW).await,
            Err(RedisQueueError::Redeem(RedeemError::Expired))
        ),
        "a grant given up was redeemed"
    );
}

#[tokio::test]
async fn the_cursor_only_moves_forward_within_its_epoch() {
    let (_server, queue) = queue(5).await;
    let mut last = queue.cursor().await.expect("cursor failed");
    assert_eq!(last, Cursor { epoch: NOW, seq: 0 });
    for i in 0..5 {
        join(&queue, &format!("c{i}")).await;
    }
    let mut steps = Vec::new();
    queue.admit(2, NOW).await.expect("admit failed");
    steps.push(queue.cursor().await.expect("cursor failed"));
    queue
        .reserve("c0", "k", 2, NOW)
        .await
        .expect("reserve failed");
    steps.push(queue.cursor().await.expect("cursor failed"));
    queue
        .expire_grants(NOW + TTL_MS)
        .await
        .expect("expire failed");
    steps.push(queue.cursor().await.expect("cursor failed"));
    queue.patch_stock(9).await.expect("patch failed");
    steps.push(queue.cursor().await.expect("cursor failed"));
    for cursor in steps {
        assert_eq!(cursor.epoch, NOW, "the epoch changed");
        assert!(
            cursor.seq > last.seq,
            "the cursor did not move on: {last:?} → {cursor:?}"
        );
        last = cursor;
    }
}

#[tokio::test]
async fn events_since_a_cursor_replays_the_missed_broadcasts_in_order() {
    let (_server, queue) = queue(5).await;
    for i in 0..3 {
        join(&queue, &format!("c{i}")).await;
    }
    let start = queue.cursor().await.expect("cursor failed");
    queue.admit(2, NOW).await.expect("admit failed");
    queue.patch_stock(7).await.expect("patch failed");
    queue
        .patch(&livequeue_protocol::api::PatchExperience {
            status: Some(ExperienceStatus::Paused),
            ..Default::default()
        })
        .await
        .expect("patch failed");
    let events = queue
        .events_since(start)
        .await
        .expect("replay failed")
        .expect("a fresh cursor asked for a snapshot");
    let seqs: Vec<u64> = events.iter().map(|e| e.cursor.seq).collect();
    assert_eq!(seqs, [start.seq + 1, start.seq + 2, start.seq + 3]);
    assert_eq!(
        events[0].event,
        ServerEvent::StockUpdate(Stock {
            available: 3,
            total: 5
        })
    );
    assert_eq!(
        events[1].event,
        ServerEvent::StockUpdate(Stock {
            available: 5,
            total: 7
        })
    );
    let ServerEvent::ExperienceUpdate(view) = &events[2].event else {
        panic!("the status change was logged as {:?}", events[2].event);
    };
    assert_eq!(
        (view.name.as_str(), view.status),
        ("Drop", ExperienceStatus::Paused)
    );
    let now = queue.cursor().await.expect("cursor failed");
    assert_eq!(
        queue.events_since(now).await.expect("replay failed"),
        Some(Vec::new()),
        "an up-to-date cursor got events"
    );
}

#[tokio::test]
async fn events_since_a_trimmed_foreign_or_future_cursor_asks_for_a_snapshot() {
    let server = RedisServer::start();
    let queue = RedisQueue::new(node(&server).await, "drop").expect("valid id");
    let mut small_log = setup(1000);
    small_log.event_log_len = 10;
    queue.create(&small_log).await.expect("create failed");
    for total in 0..300 {
        queue.patch_stock(1001 + total).await.expect("patch failed");
    }
    let now = queue.cursor().await.expect("cursor failed");
    assert_eq!(now.seq, 300);
    assert_eq!(
        queue
            .events_since(Cursor { epoch: NOW, seq: 0 })
            .await
            .expect("replay failed"),
        None,
        "a cursor older than the log was replayed with a gap"
    );
    let recent = queue
        .events_since(Cursor {
            epoch: NOW,
            seq: 295,
        })
        .await
        .expect("replay failed");
    assert_eq!(
        recent.map(|e| e.len()),
        Some(5),
        "the recent events were not kept"
    );
    for foreign in [
        Cursor {
            epoch: NOW - 1,
            seq: 299,
        },
        Cursor {
            epoch: NOW,
            seq: 301,
        },
    ] {
        assert_eq!(
            queue.events_since(foreign).await.expect("replay failed"),
            None,
            "{foreign:?} was replayed"
        );
    }
}

/// Several nodes at once: 3 connection managers, each joining shoppers while admitting
/// from the same experience.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_admitting_at_once_admit_nobody_twice_oversell_nothing_and_keep_order() {
    const STOCK: u64 = 300;
    const JOINS_PER_NODE: usize = 200;
    let server = RedisServer::start();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(RedisQueue::new(node(&server).await, "drop").expect("valid id"));
    }
    nodes[0].create(&setup(STOCK)).await.expect("create failed");

    let mut joiners = Vec::new();
    for (n, queue) in nodes.iter().enumerate() {
        let queue = queue.clone();
        joiners.push(tokio::spawn(async move {
            let mut tickets = Vec::new();
            for i in 0..JOINS_PER_NODE {
                tickets.push(join(&queue, &format!("n{n}-{i}")).await);
            }
            tickets
        }));
    }
    let mut admitters = Vec::new();
    for (n, queue) in nodes.iter().enumerate() {
        let queue = queue.clone();
        admitters.push(tokio::spawn(async move {
            let mut batches = Vec::new();
            let mut count = 1 + n as u64;
            while available(&queue).await > 0 {
                let admitted = queue.admit(count, NOW).await.expect("admit failed");
                if !admitted.shoppers.is_empty() {
                    batches.push(admitted);
                }
                count = count % 4 + 1;
                tokio::task::yield_now().await;
            }
            batches
        }));
    }
    for (n, joiner) in joiners.into_iter().enumerate() {
        let tickets = joiner.await.expect("a joiner panicked");
        assert!(
            tickets.windows(2).all(|w| w[0] < w[1]),
            "node {n}'s shoppers got tickets out of join order"
        );
    }
    let mut batches = Vec::new();
    for admitter in admitters {
        batches.extend(admitter.await.expect("an admitter panicked"));
    }

    // Ordered by the cursor each admission left, the admitted tickets only grow.
    batches.sort_by_key(|b| b.cursor.seq);
    let seqs: HashSet<u64> = batches.iter().map(|b| b.cursor.seq).collect();
    assert_eq!(
        seqs.len(),
        batches.len(),
        "two admissions left the same cursor"
    );
    let tickets: Vec<u64> = batches
        .iter()
        .flat_map(|b| b.shoppers.iter().map(|s| s.ticket))
        .collect();
    assert!(
        tickets.windows(2).all(|w| w[0] < w[1]),
        "admissions across nodes left ticket order"
    );
    let consumers: HashSet<&str> = batches
        .iter()
        .flat_map(|b| b.shoppers.iter().map(|s| s.consumer.as_str()))
        .collect();
    assert_eq!(
        consumers.len(),
        tickets.len(),
        "a shopper was admitted twice"
    );
    assert_eq!(tickets.len() as u64, STOCK, "sold other than the stock");

    // Nobody still waiting is ahead of anyone admitted; stock is exactly gone.
    let waiting = nodes[1].waiting().await.expect("waiting failed");
    assert_eq!(waiting, 3 * JOINS_PER_NODE as u64 - STOCK);
    let last_admitted = tickets.last().copied().unwrap_or_default();
    for n in 0..3 {
        for i in 0..JOINS_PER_NODE {
            let place = nodes[2]
                .position(&format!("n{n}-{i}"))
                .await
                .expect("position failed");
            if place.position().is_some() {
                assert!(
                    place.ticket > last_admitted,
                    "ticket {} waits behind admitted {last_admitted}",
                    place.ticket
                );
            }
        }
    }
    let mut conn = node(&server).await;
    let raw: String = redis::cmd("HGET")
        .arg(nodes[0].keys().named("stock"))
        .arg("available")
        .query_async(&mut conn)
        .await
        .expect("cannot read the stock");
    assert_eq!(raw, "0", "stock was oversold");
}

#[tokio::test]
async fn the_ticker_lease_is_held_by_one_node_and_taken_over_after_it_expires() {
    let (server, a) = queue(1).await;
    let b = RedisQueue::new(node(&server).await, "drop").expect("valid id");
    let ttl = Duration::from_millis(300);
    assert!(
        a.take_ticker_lease("node-a", ttl)
            .await
            .expect("lease failed")
    );
    assert!(
        !b.take_ticker_lease("node-b", ttl)
            .await
            .expect("lease failed"),
        "two nodes hold the lease"
    );
    assert!(
        !b.renew_ticker_lease("node-b", ttl)
            .await
            .expect("renew failed"),
        "a node renewed a lease it does not hold"
    );
    assert!(
        a.renew_ticker_lease("node-a", ttl)
            .await
            .expect("renew failed")
    );
    assert!(
        a.take_ticker_lease("node-a", ttl)
            .await
            .expect("lease failed"),
        "the holder could not take its own lease again"
    );

    // node-a dies: it stops renewing, and its lease runs out.
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    assert!(
        b.take_ticker_lease("node-b", ttl)
            .await
            .expect("lease failed"),
        "nobody took over an expired lease"
    );
    assert!(
        !a.renew_ticker_lease("node-a", ttl)
            .await
            .expect("renew failed"),
        "the old holder took the lease back by renewing"
    );
    assert!(
        !a.release_ticker_lease("node-a")
            .await
            .expect("release failed")
    );
    assert!(
        b.release_ticker_lease("node-b")
            .await
            .expect("release failed")
    );
    assert!(
        a.take_ticker_lease("node-a", ttl)
            .await
            .expect("lease failed"),
        "a released lease was not free"
    );
}

/// Calls `op` until Redis answers (the connection manager reconnects in the background
/// after the first failure), at most 15 s.
async fn once_redis_answers<T, F, Fut>(mut op: F) -> Result<T, RedisQueueError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RedisQueueError>>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match op().await {
            // The reconnect is under way.
            Err(RedisQueueError::Redis(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

#[tokio::test]
async fn a_restarted_redis_without_persistence_is_reconnected_to_and_has_lost_the_queue() {
    let (mut server, queue) = queue(5).await;
    join(&queue, "a").await;
    server.restart();
    let after = once_redis_answers(|| queue.position("a")).await;
    assert!(
        matches!(after, Err(RedisQueueError::UnknownExperience(_))),
        "expected the data gone with persistence off, got {after:?}"
    );
    queue
        .create(&setup(5))
        .await
        .expect("create after restart failed");
    assert_eq!(
        join(&queue, "a").await,
        0,
        "the new life did not start afresh"
    );
}

#[tokio::test]
async fn a_restarted_redis_with_an_append_only_file_keeps_every_place() {
    let mut server = RedisServer::start_persistent("restart");
    let queue = RedisQueue::new(node(&server).await, "drop").expect("valid id");
    queue.create(&setup(5)).await.expect("create failed");
    for consumer in ["a", "b", "c", "d"] {
        join(&queue, consumer).await;
    }
    queue.admit(1, NOW).await.expect("admit failed");
    queue.leave("c", NOW).await.expect("leave failed");
    let before = queue.position("d").await.expect("position failed");

    server.restart();
    let after = once_redis_answers(|| queue.position("d"))
        .await
        .expect("the queue is gone after a restart");
    assert_eq!(after, before, "a place changed across the restart");
    assert_eq!(position(&queue, "b").await, Some(1));
    // The script cache is empty after a restart: these calls load the scripts again.
    let admitted = queue
        .admit(5, NOW)
        .await
        .expect("admit after restart failed");
    let who: Vec<&str> = admitted
        .shoppers
        .iter()
        .map(|s| s.consumer.as_str())
        .collect();
    assert_eq!(
        who,
        ["b", "d"],
        "admissions after the restart lost the order"
    );
}

/// Figure: how many admissions a second the Lua path sustains on this machine (printed;
/// run with `--nocapture` to see it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figure_admissions_per_second() {
    const SHOPPERS: usize = 20_000;
    let (_server, queue) = queue(SHOPPERS as u64).await;
    join_many(&queue, SHOPPERS, 32).await;

    let single = 2_000;
    let started = Instant::now();
    for _ in 0..single {
        queue.admit(1, NOW).await.expect("admit failed");
    }
    let one_by_one = single as f64 / started.elapsed().as_secs_f64();

    let concurrent_calls = 8_000;
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                for _ in 0..concurrent_calls / 8 {
                    queue.admit(1, NOW).await.expect("admit failed");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("an admitter panicked");
    }
    let concurrent = concurrent_calls as f64 / started.elapsed().as_secs_f64();

    let batched = 10_000;
    let started = Instant::now();
    for _ in 0..batched / 100 {
        queue.admit(100, NOW).await.expect("admit failed");
    }
    let in_batches = batched as f64 / started.elapsed().as_secs_f64();
    assert_eq!(queue.waiting().await.expect("waiting failed"), 0);
    println!(
        "FIGURE admissions/s through admit.lua: {one_by_one:.0} (admit(1), one caller), \
         {concurrent:.0} (admit(1), 8 concurrent callers on one connection), \
         {in_batches:.0} (admit(100))"
    );
}

/// Figure: Redis memory per waiting shopper (INFO used_memory before and after 100,000
/// joins, divided).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figure_memory_per_waiting_shopper() {
    const SHOPPERS: usize = 100_000;
    let (server, queue) = queue(10).await;
    let mut conn = node(&server).await;
    let before = used_memory(&mut conn).await;
    join_many(&queue, SHOPPERS, 64).await;
    let after = used_memory(&mut conn).await;
    assert_eq!(
        queue.waiting().await.expect("waiting failed"),
        SHOPPERS as u64
    );
    let per = (after.saturating_sub(before)) as f64 / SHOPPERS as f64;
    println!(
        "FIGURE Redis memory per waiting shopper: {per:.1} bytes ({before} → {after} bytes \
         used_memory over {SHOPPERS} joins, consumer ids of 18 characters)"
    );
}

/// `count` shoppers (ids like the server's, `c_` and 16 hex digits) join from `tasks`
/// concurrent tasks on the queue's one connection.
async fn join_many(queue: &RedisQueue, count: usize, tasks: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let queue = queue.clone();
            tokio::spawn(async move {
                for i in (t..count).step_by(tasks) {
                    join(&queue, &format!("c_{i:016x}")).await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("a joiner panicked");
    }
}

async fn used_memory(conn: &mut ConnectionManager) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(conn)
        .await
        .expect("INFO failed");
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("no used_memory in INFO")
}
