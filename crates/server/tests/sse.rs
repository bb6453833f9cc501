//! The SSE stream against a real server: first state, ids, resume, heartbeats, admissions,
//! several connections of one shopper, privacy between shoppers.

mod common;

use std::time::Duration;

use common::TestServer;
use livequeue_protocol::{Admission, AdmissionStatus, EventId, PositionUpdate, QueueState, Stock};

#[tokio::test]
async fn the_stream_starts_with_the_full_state_and_the_documented_headers() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let r = s
        .http
        .get(s.url(&TestServer::sse_path("drop", &me)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert_eq!(r.headers()["x-accel-buffering"], "no");
    drop(r);

    let mut sse = s.sse("drop", &me, None).await;
    let first = sse.next().await;
    assert_eq!(
        first.event, "message",
        "the first message is a plain data: message"
    );
    let state: QueueState = serde_json::from_str(&first.data).unwrap();
    assert_eq!(
        (state.position, state.consumer_id.as_str()),
        (Some(1), me.consumer_id.as_str())
    );
    assert!(first.retry.is_some(), "a retry: delay is sent");
    assert_eq!(first.id.parse::<EventId>().unwrap().0, state.cursor);
}

#[tokio::test]
async fn updates_arrive_as_named_events_with_increasing_ids() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let ahead = s.join("drop").await;
    let me = s.join("drop").await;
    let mut sse = s.sse("drop", &me, None).await;
    sse.next().await;
    s.admit("drop", 1).await;
    let stock = sse.next().await;
    assert_eq!(stock.event, "stock_update");
    assert_eq!(
        serde_json::from_str::<Stock>(&stock.data).unwrap(),
        Stock {
            available: 9,
            total: 10
        }
    );
    let position = sse.next().await;
    assert_eq!(position.event, "position_update");
    let update: PositionUpdate = serde_json::from_str(&position.data).unwrap();
    assert_eq!(update.position, 1);
    let (a, b) = (
        stock.id.parse::<EventId>().unwrap().0,
        position.id.parse::<EventId>().unwrap().0,
    );
    assert_eq!(
        a, b,
        "the position is consistent with the broadcast before it"
    );
    s.set_stock("drop", 12).await;
    let next = sse.next().await;
    assert!(next.id.parse::<EventId>().unwrap().0 > a, "ids grow");
    let _ = ahead;
}

#[tokio::test]
async fn last_event_id_replays_what_was_missed_in_order() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let mut sse = s.sse("drop", &me, None).await;
    let first = sse.next().await;
    drop(sse);
    for stock in [20, 30, 40] {
        s.set_stock("drop", stock).await;
    }
    let mut resumed = s.sse("drop", &me, Some(&first.id)).await;
    let mut totals = Vec::new();
    for _ in 0..3 {
        let e = resumed.next().await;
        assert_eq!(
            e.event, "stock_update",
            "expected the missed broadcasts first, got {e:?}"
        );
        totals.push(serde_json::from_str::<Stock>(&e.data).unwrap().total);
    }
    assert_eq!(totals, vec![20, 30, 40]);
    let private = resumed.next().await;
    assert_eq!(
        private.event, "position_update",
        "then the shopper's own state"
    );
}

#[tokio::test]
async fn a_last_event_id_of_another_epoch_gets_a_snapshot_and_garbage_gets_400() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let mut sse = s.sse("drop", &me, Some("1:5")).await;
    let e = sse.next().await;
    assert_eq!(e.event, "snapshot");
    let state: QueueState = serde_json::from_str(&e.data).unwrap();
    assert_eq!(state.cursor.epoch, s.memory_epoch());

    let r = s
        .http
        .get(s.url(&TestServer::sse_path("drop", &me)))
        .header("last-event-id", "nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let by_query = format!("{}&lastEventId=1:1", TestServer::sse_path("drop", &me));
    let r = s.http.get(s.url(&by_query)).send().await.unwrap();
    assert_eq!(
        r.status(),
        200,
        "lastEventId is accepted as a query parameter"
    );
}

#[tokio::test]
async fn heartbeats_keep_a_quiet_stream_alive() {
    let mut config = common::config();
    config.engine.heartbeat = Duration::from_millis(1000);
    let s = TestServer::with_config(config).await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let mut sse = s.sse("drop", &me, None).await;
    sse.next().await;
    let e = sse.next_any().await;
    assert_eq!(e.event, "heartbeat");
    assert!(e.data.contains("serverTime"));
}

#[tokio::test]
async fn an_admission_is_sent_again_on_reconnect_and_reaches_every_connection_of_the_shopper() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let mut tab1 = s.sse("drop", &me, None).await;
    let mut tab2 = s.sse("drop", &me, None).await;
    tab1.next().await;
    tab2.next().await;
    s.admit("drop", 1).await;
    for tab in [&mut tab1, &mut tab2] {
        let seen = tab.until("admission").await;
        let admission: Admission = serde_json::from_str(&seen.last().unwrap().data).unwrap();
        assert_eq!(admission.status, AdmissionStatus::Active);
    }
    drop(tab1);
    s.set_stock("drop", 11).await;
    assert_eq!(
        tab2.next().await.event,
        "stock_update",
        "closing one tab leaves the other live"
    );

    let mut again = s.sse("drop", &me, None).await;
    let state: QueueState = serde_json::from_str(&again.next().await.data).unwrap();
    assert_eq!(
        state.admission.map(|a| a.status),
        Some(AdmissionStatus::Active),
        "the grant survives a reconnect"
    );
}

#[tokio::test]
async fn a_connection_never_receives_another_shoppers_admission() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let first = s.join("drop").await;
    let second = s.join("drop").await;
    let mut sse = s.sse("drop", &second, None).await;
    sse.next().await;
    s.admit("drop", 1).await; // admits `first`
    s.set_stock("drop", 11).await;
    let seen = sse.until("stock_update").await; // the admission's broadcast
    let rest = sse.until("stock_update").await; // the operator's
    for e in seen.iter().chain(&rest) {
        assert_ne!(
            e.event, "admission",
            "another shopper's admission leaked: {e:?}"
        );
        assert!(!e.data.contains(&first.consumer_id));
    }
}

#[tokio::test]
async fn a_closed_experience_is_broadcast() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let mut sse = s.sse("drop", &me, None).await;
    sse.next().await;
    let r = s
        .admin(reqwest::Method::PATCH, "/api/admin/experiences/drop")
        .json(&serde_json::json!({"status": "closed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let e = sse.until("experience_update").await.pop().unwrap();
    assert!(e.data.contains("\"closed\""));
    let r = s
        .http
        .post(s.url("/api/experiences/drop/join"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "a closed experience takes no new shoppers");
}

#[tokio::test]
async fn test_controls_inject_frames_only_when_switched_on() {
    let off = TestServer::start().await;
    off.experience("drop", 10).await;
    let body = serde_json::json!({"event": "stock_update", "data": "{oops"});
    let r = off
        .admin(reqwest::Method::POST, "/api/admin/experiences/drop/inject")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "no test controls by default");

    let on = TestServer::with_config(livequeue_server::Config {
        test_controls: true,
        ..common::config()
    })
    .await;
    on.experience("drop", 10).await;
    let me = on.join("drop").await;
    let mut sse = on.sse("drop", &me, None).await;
    sse.next().await;
    let r = on
        .admin(reqwest::Method::POST, "/api/admin/experiences/drop/inject")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let e = sse.next().await;
    assert_eq!(
        (e.event.as_str(), e.data.as_str()),
        ("stock_update", "{oops")
    );
}
