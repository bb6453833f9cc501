//! Several nodes on the Redis engine (`--redis`), in one test process, sharing a real
//! `redis-server` of the test's own: one line whichever node a shopper or the operator
//! calls, admissions and broadcasts reaching connections on every node, resume across
//! nodes, places surviving a node's restart, one ticker for all nodes, and a Redis outage
//! ridden out. (Separate processes behind nginx, and the widget in a browser, are the
//! end-to-end suite's: `crates/e2e/tests/scale_out.rs`.)

mod common;
#[path = "redis_queue/server.rs"]
mod server;

use std::collections::HashSet;
use std::time::Duration;

use common::{TestServer, config};
use livequeue_protocol::api::{ExperienceSummary, JoinResponse};
use livequeue_protocol::{QueueState, Stage};
use livequeue_server::Config;
use server::RedisServer;

/// Every node's configuration: one secret, so a token from one node is good on all.
fn node_config() -> Config {
    let mut c = config();
    c.secret = b"one secret for every node".to_vec();
    c.engine.tick = Duration::from_millis(100);
    c
}

async fn node(redis: &RedisServer) -> TestServer {
    TestServer::on_redis(node_config(), &redis.url()).await
}

/// Polls `check` on `s`'s state of `who` every 50 ms until it holds, for up to 5 s.
async fn eventually(
    s: &TestServer,
    who: &JoinResponse,
    what: &str,
    check: impl Fn(&QueueState) -> bool,
) -> QueueState {
    let mut last = None;
    for _ in 0..100 {
        let state = s.state("drop", who).await;
        if check(&state) {
            return state;
        }
        last = Some(state);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: never true; last state {last:?}");
}

async fn summary(s: &TestServer) -> ExperienceSummary {
    s.get_json("/api/admin/experiences/drop").await
}

#[tokio::test]
async fn an_admission_made_through_one_node_reaches_a_stream_on_another() {
    let redis = RedisServer::start();
    let (a, b) = (node(&redis).await, node(&redis).await);
    a.experience("drop", 10).await;
    let first = b.join("drop").await;
    let me = a.join("drop").await;
    assert_eq!(me.state.position, Some(2), "one line across nodes");
    let mut stream = a.sse("drop", &me, None).await;
    let opening: QueueState = serde_json::from_str(&stream.next().await.data).unwrap();
    assert_eq!(opening.position, Some(2));
    let mut counted = 0;
    for _ in 0..60 {
        counted = summary(&b).await.connections_by_transport.sse;
        if counted == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        counted, 1,
        "node B's summary does not count the stream on node A"
    );
    b.admit("drop", 1).await;
    let moved = stream.until("position_update").await;
    let update: serde_json::Value = serde_json::from_str(&moved.last().unwrap().data).unwrap();
    assert_eq!(
        update["position"], 1,
        "node A saw node B's admission move the line"
    );
    b.admit("drop", 1).await;
    let admitted = stream.until("admission").await;
    let grant: serde_json::Value = serde_json::from_str(&admitted.last().unwrap().data).unwrap();
    let polled = b.state("drop", &me).await;
    assert_eq!(
        polled.admission.map(|a| a.grant).as_deref(),
        grant["grant"].as_str(),
        "the stream on A and a poll on B name the same grant"
    );
    assert_eq!(b.state("drop", &first).await.stage, Some(Stage::Admitted));
    assert_eq!(summary(&a).await.admitted, 2);
}

#[tokio::test]
async fn a_stream_resumes_on_another_node_from_its_last_event_id() {
    let redis = RedisServer::start();
    let (a, b) = (node(&redis).await, node(&redis).await);
    a.experience("drop", 10).await;
    let me = a.join("drop").await;
    let mut on_a = a.sse("drop", &me, None).await;
    on_a.next().await;
    a.set_stock("drop", 20).await;
    let seen = on_a.until("stock_update").await;
    let last_id = seen.last().unwrap().id.clone();
    drop(on_a);
    // Missed while away: two broadcasts, made through either node.
    a.set_stock("drop", 30).await;
    b.set_stock("drop", 40).await;
    let mut on_b = b.sse("drop", &me, Some(&last_id)).await;
    let first = on_b.next().await;
    assert_eq!(
        first.event, "stock_update",
        "a replay, not a snapshot: {first:?}"
    );
    assert!(first.data.contains("\"total\":30"), "{first:?}");
    let second = on_b.next().await;
    assert!(second.data.contains("\"total\":40"), "{second:?}");
    let epoch = last_id.split(':').next().unwrap();
    assert!(
        second.id.starts_with(&format!("{epoch}:")),
        "one epoch on every node"
    );
}

#[tokio::test]
async fn a_node_restarted_keeps_everyones_place_and_the_epoch() {
    let redis = RedisServer::start();
    let mut a = node(&redis).await;
    a.experience("drop", 10).await;
    let shoppers: Vec<JoinResponse> = {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(a.join("drop").await);
        }
        v
    };
    a.admit("drop", 2).await;
    let before: Vec<QueueState> = {
        let mut v = Vec::new();
        for who in &shoppers {
            v.push(a.state("drop", who).await);
        }
        v
    };
    a.shutdown().await;
    let again = node(&redis).await;
    for (who, was) in shoppers.iter().zip(&before) {
        let now = again.state("drop", who).await;
        assert_eq!(
            now.position, was.position,
            "a place changed across the restart"
        );
        assert_eq!(now.admission, was.admission, "an admission changed");
        assert_eq!(now.cursor.epoch, was.cursor.epoch, "the epoch changed");
    }
}

#[tokio::test]
async fn one_ticker_admits_at_the_rate_for_all_nodes_and_another_takes_over() {
    let redis = RedisServer::start();
    let mut a = node(&redis).await;
    let b = node(&redis).await;
    a.experience("drop", 1000).await;
    let mut shoppers = Vec::new();
    for _ in 0..200 {
        shoppers.push(b.join("drop").await);
    }
    let r = a
        .admin(reqwest::Method::PATCH, "/api/admin/experiences/drop")
        .json(&serde_json::json!({ "admissionRatePerMinute": 1200 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let admitted = summary(&b).await.admitted;
    // 20 a second from one ticker; two tickers would make it about twice that.
    assert!(
        (25..=55).contains(&admitted),
        "{admitted} admitted in 2 s at 20/s"
    );
    // Whoever held the lease, stopping node A leaves node B (or keeps it) admitting.
    a.shutdown().await;
    let at_stop = summary(&b).await.admitted;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let later = summary(&b).await.admitted;
    assert!(
        later > at_stop + 20,
        "no ticker after node A stopped: {at_stop} → {later}"
    );
    let r = b
        .admin(reqwest::Method::PATCH, "/api/admin/experiences/drop")
        .json(&serde_json::json!({ "status": "paused" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut grants = HashSet::new();
    let mut order = Vec::new();
    for (i, who) in shoppers.iter().enumerate() {
        if let Some(admission) = b.state("drop", who).await.admission {
            assert!(grants.insert(admission.grant), "a grant handed out twice");
            order.push(i);
        }
    }
    assert_eq!(order.len() as u64, summary(&b).await.admitted.min(200));
    assert!(
        order.iter().enumerate().all(|(k, i)| k == *i),
        "admitted out of join order: {order:?}"
    );
}

#[tokio::test]
async fn a_redis_outage_is_reported_ridden_out_and_nothing_is_lost() {
    let mut redis = RedisServer::start_persistent("outage");
    let (a, b) = (node(&redis).await, node(&redis).await);
    a.experience("drop", 10).await;
    let me = a.join("drop").await;
    let other = b.join("drop").await;
    let mut stream = a.sse("drop", &me, None).await;
    stream.next().await;
    a.admit("drop", 1).await;
    stream.until("admission").await;
    let ready = |s: &TestServer| {
        let url = s.url("/readyz");
        async move {
            reqwest::get(url)
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    };
    redis.kill();
    for s in [&a, &b] {
        let mut status = 0;
        for _ in 0..60 {
            status = ready(s).await;
            if status == 503 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(status, 503, "/readyz while Redis is down");
    }
    let refused = b
        .admin(reqwest::Method::POST, "/api/admin/experiences/drop/admit")
        .json(&serde_json::json!({ "count": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        503,
        "an admission while Redis is down is refused, not lost"
    );
    redis.restart();
    for s in [&a, &b] {
        let mut status = 0;
        for _ in 0..100 {
            status = ready(s).await;
            if status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(status, 200, "/readyz once Redis is back");
    }
    b.admit("drop", 1).await;
    let polled = eventually(&b, &other, "the second shopper admitted", |s| {
        s.admission.is_some()
    })
    .await;
    assert_eq!(polled.stage, Some(Stage::Admitted));
    assert_eq!(
        a.state("drop", &me).await.stage,
        Some(Stage::Admitted),
        "the first admission survived the outage"
    );
    assert_eq!(summary(&a).await.admitted, 2, "exactly two admissions");
    // The stream kept open through the outage carries what came after it.
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|e: &eventsource_stream::Event| e.data.contains("\"available\":8"))
    {
        assert!(
            seen.len() < 10,
            "the stream on A missed the admission after the outage: {seen:?}"
        );
        seen.push(stream.next().await);
    }
}

#[tokio::test]
async fn a_gap_in_a_nodes_feed_reloads_it_and_resyncs_its_connections() {
    let redis = RedisServer::start();
    let (a, b) = (node(&redis).await, node(&redis).await);
    a.experience("drop", 10).await;
    let me = a.join("drop").await;
    let mut stream = a.sse("drop", &me, None).await;
    stream.next().await;
    // Notes node A never read: as if the capped stream had been trimmed past them while
    // A was cut off from Redis.
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: i64 = redis::cmd("HINCRBY")
        .arg("lq:{drop}:meta")
        .arg("notes")
        .arg(5)
        .query_async(&mut conn)
        .await
        .unwrap();
    b.admit("drop", 1).await;
    let mut seen = Vec::new();
    loop {
        let e = stream.next().await;
        let done = e.event == livequeue_protocol::sse::SNAPSHOT;
        seen.push(e);
        if done {
            break;
        }
        assert!(seen.len() < 10, "no snapshot after the gap: {seen:?}");
    }
    let snapshot: QueueState = serde_json::from_str(&seen.last().unwrap().data).unwrap();
    assert_eq!(snapshot.stage, Some(Stage::Admitted), "{snapshot:?}");
    let metrics = reqwest::get(a.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"livequeue_resyncs_total{reason="reload"} 1"#),
        "the reload is not counted"
    );
}
