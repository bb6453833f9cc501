//! The Redis queue core (`engine::redis`) against a real `redis-server`, for what only
//! Redis has: several nodes admitting at once, the ticker lease, Redis restarts, the
//! operator's patch (closing, and its log entry), whether a reservation took stock, and
//! two figures (admissions per second, memory per waiting shopper). The queue's rules
//! themselves are the contract suite's (`queue_contract.rs`), run on both back ends.
//!
//! Every test starts its own redis-server on a free loopback port (killed on drop), so the
//! tests run in parallel and never share state. Without `/usr/bin/redis-server` they fail
//! and say how to install it.

#[path = "redis_queue/server.rs"]
mod server;
#[path = "queue_contract/setup.rs"]
mod setup;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use livequeue_protocol::api::PatchExperience;
use livequeue_protocol::{ExperienceStatus, ServerEvent};
use livequeue_server::engine::core::QueueError;
use livequeue_server::engine::redis::{RedisQueue, RedisQueueError, connect};
use redis::aio::ConnectionManager;
use server::RedisServer;
use setup::{NOW, setup};

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

/// `status` set by the operator's patch.
async fn set_status(queue: &RedisQueue, status: ExperienceStatus) {
    queue
        .patch(&PatchExperience {
            status: Some(status),
            ..Default::default()
        })
        .await
        .expect("patch failed");
}

#[tokio::test]
async fn closing_by_patch_refuses_new_shoppers_and_keeps_those_waiting() {
    let (_server, queue) = queue(10).await;
    join(&queue, "early").await;
    set_status(&queue, ExperienceStatus::Closed).await;
    assert!(
        matches!(queue.join("late").await, Err(QueueError::Closed(_))),
        "a closed experience let a new shopper in"
    );
    assert_eq!(
        position(&queue, "early").await,
        Some(1),
        "closing moved a shopper"
    );
}

#[tokio::test]
async fn a_reservation_says_it_took_no_stock_for_the_admission_s_own_unit_or_a_retry() {
    let (_server, queue) = queue(2).await;
    join(&queue, "a").await;
    queue.admit(1, NOW).await.expect("admit failed");
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
    let retry = queue
        .reserve("a", "k2", 1, NOW)
        .await
        .expect("retry refused");
    assert_eq!(
        retry.answer, second.answer,
        "a retry was not answered as before"
    );
    assert!(!retry.stock_changed, "a retry took stock again");
}

#[tokio::test]
async fn a_status_change_by_patch_is_logged_for_replay_as_an_experience_update() {
    let (_server, queue) = queue(5).await;
    let start = queue.cursor().await.expect("cursor failed");
    set_status(&queue, ExperienceStatus::Paused).await;
    let events = queue
        .events_since(start)
        .await
        .expect("replay failed")
        .expect("a fresh cursor asked for a snapshot");
    let seqs: Vec<u64> = events.iter().map(|e| e.cursor.seq).collect();
    assert_eq!(
        seqs,
        [start.seq + 1],
        "the status change was not logged once"
    );
    let ServerEvent::ExperienceUpdate(view) = &events[0].event else {
        panic!("the status change was logged as {:?}", events[0].event);
    };
    assert_eq!(
        (view.name.as_str(), view.status),
        ("Drop", ExperienceStatus::Paused)
    );
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
async fn once_redis_answers<T, F, Fut>(mut op: F) -> Result<T, QueueError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, QueueError>>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match op().await {
            // The reconnect is under way.
            Err(QueueError::Store(RedisQueueError::Redis(_))) if Instant::now() < deadline => {
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
        matches!(after, Err(QueueError::UnknownExperience(_))),
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

/// Figure: what admitting costs in Redis (each admitted shopper's grant, and the notes
/// the nodes read, capped), and an experience's logs when full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figure_memory_per_admitted_shopper_and_full_logs() {
    const SHOPPERS: usize = 100_000;
    let (server, queue) = queue(SHOPPERS as u64).await;
    let mut conn = node(&server).await;
    join_many(&queue, SHOPPERS, 64).await;
    let waiting = used_memory(&mut conn).await;
    queue
        .admit(SHOPPERS as u64, NOW)
        .await
        .expect("admit failed");
    let admitted = used_memory(&mut conn).await;
    assert_eq!(queue.waiting().await.expect("waiting failed"), 0);
    let per = (admitted as f64 - waiting as f64) / SHOPPERS as f64;
    // Stock broadcasts until the event log is full (one per admit call of 1000 so far).
    for total in 0..12_000u64 {
        queue.patch_stock(total + 1).await.expect("patch failed");
    }
    let full = used_memory(&mut conn).await;
    let cap = setup(10).event_log_len;
    let log = full as f64 - admitted as f64;
    println!(
        "FIGURE Redis memory per admitted shopper, over staying in line: {per:+.1} bytes \
         ({waiting} → {admitted} bytes used_memory admitting {SHOPPERS}; notes capped at \
         50,000); the event log filled to its cap of {cap}: {log:.0} bytes more, \
         {:.0} per entry",
        log / cap as f64
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
