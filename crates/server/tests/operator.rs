//! The operator console's API against a real server: the list of experiences, the figures
//! of a summary, stream tickets, the live operator stream, and synthetic joins.

mod common;

use std::time::Duration;

use common::{ADMIN, TestServer};
use livequeue_protocol::api::{
    ConnectionCounts, EntriesPage, ErrorBody, ExperienceList, ExperienceSummary, FIGURES_EVENT,
    HISTORY_BUCKETS, MAX_SYNTHETIC_JOINS, OperatorFigures, StreamTicket,
};
use livequeue_protocol::{Endpoint, ExperienceId};
use livequeue_server::auth::Auth;
use reqwest::{Method, StatusCode};

async fn error_of(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: ErrorBody = response.json().await.expect("a JSON error body");
    (status, body.error.code.to_string(), body.error.message)
}

fn path(endpoint: Endpoint, experience: &str) -> String {
    endpoint.path(&experience.parse::<ExperienceId>().unwrap())
}

async fn summary(s: &TestServer, experience: &str) -> ExperienceSummary {
    s.get_json(&path(Endpoint::Experience, experience)).await
}

async fn figures(events: &mut common::Sse) -> OperatorFigures {
    let e = events.next_any().await;
    assert_eq!(
        e.event, FIGURES_EVENT,
        "the operator stream sent another event"
    );
    serde_json::from_str(&e.data).expect("figures data is OperatorFigures")
}

#[tokio::test]
async fn the_list_of_experiences_is_ordered_by_id_and_needs_the_operator_token() {
    let s = TestServer::start().await;
    for id in ["zeta", "alpha", "mid"] {
        s.experience(id, 5).await;
    }
    let list: ExperienceList = s.get_json(Endpoint::CreateExperience.route()).await;
    let ids: Vec<&str> = list.experiences.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["alpha", "mid", "zeta"], "not ordered by id");
    let r = s
        .http
        .get(s.url(Endpoint::CreateExperience.route()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await.0,
        StatusCode::UNAUTHORIZED,
        "the list was given without the operator token"
    );
}

#[tokio::test]
async fn the_summary_counts_admissions_and_each_transports_connections() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let a = s.join("drop").await;
    let b = s.join("drop").await;
    let _c = s.join("drop").await;
    let mut sse = s.sse("drop", &a, None).await;
    sse.next().await;
    let query = format!(
        "experienceId=drop&consumerId={}&token={}",
        b.consumer_id, b.token
    );
    let (_ws, _) = tokio_tungstenite::connect_async(s.ws_url(&query))
        .await
        .expect("upgrade");
    // The operator's own stream is not a shopper's connection.
    let mut operator = s.operator_stream("drop").await;
    figures(&mut operator).await;
    s.admit("drop", 2).await;
    // The WebSocket is counted once its handler ran: wait for it rather than sleep.
    let mut seen = summary(&s, "drop").await;
    for _ in 0..50 {
        if seen.connections == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        seen = summary(&s, "drop").await;
    }
    assert_eq!(
        (seen.connections, seen.connections_by_transport),
        (
            2,
            ConnectionCounts {
                sse: 1,
                websocket: 1
            }
        ),
        "connections by transport (the operator stream must not count)"
    );
    assert_eq!(
        seen.admitted, 2,
        "admissions by the operator are not counted"
    );
}

#[tokio::test]
async fn a_stream_ticket_needs_the_operator_token_and_opens_the_figures_stream() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let r = s
        .http
        .post(s.url(Endpoint::StreamTicket.route()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await.0,
        StatusCode::UNAUTHORIZED,
        "a ticket was given without the operator token"
    );
    let ticket: StreamTicket = s
        .admin(Method::POST, Endpoint::StreamTicket.route())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ticket.expires_in_seconds, 60);
    assert!(
        !ticket.ticket.contains(ADMIN),
        "the ticket carries the operator token"
    );
    let path = TestServer::operator_stream_path("drop", &ticket.ticket);
    let r = s.http.get(s.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/event-stream",
        "the operator stream is not an event stream"
    );
}

#[tokio::test]
async fn the_operator_stream_sends_figures_at_once_and_then_every_second() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    s.join("drop").await;
    s.join("drop").await;
    s.admit("drop", 1).await;
    let mut events = s.operator_stream("drop").await;
    let first = tokio::time::timeout(Duration::from_millis(900), figures(&mut events))
        .await
        .expect("the first frame comes at once, not after a second");
    assert_eq!(first.summary.id, "drop");
    assert_eq!((first.summary.waiting, first.summary.admitted), (1, 1));
    assert_eq!(first.admissions_history.len(), HISTORY_BUCKETS);
    assert_eq!(
        first.admissions_history.last(),
        Some(&1),
        "the admission is not in the bucket still filling"
    );
    s.admit("drop", 1).await;
    let second = figures(&mut events).await;
    assert!(
        (900..=2_500).contains(&(second.server_time - first.server_time)),
        "frames {} ms apart, not a second",
        second.server_time - first.server_time
    );
    assert_eq!(
        second.admissions_history.iter().sum::<u64>(),
        2,
        "the second admission is missing from the history"
    );
}

#[tokio::test]
async fn a_wrong_expired_or_forged_ticket_is_refused_saying_which() {
    let mut config = common::config();
    config.secret = b"operator-test-secret".to_vec();
    let s = TestServer::with_config(config).await;
    s.experience("drop", 10).await;
    let now = s.state.engine.now_ms() / 1000;
    let expired = Auth::new(b"operator-test-secret".to_vec(), 60, Some(ADMIN.into()))
        .issue_stream_ticket(now - 61)
        .unwrap();
    let forged = Auth::new(b"another-secret".to_vec(), 60, Some(ADMIN.into()))
        .issue_stream_ticket(now)
        .unwrap();
    for (ticket, says) in [
        (expired.as_str(), "expired"),
        (forged.as_str(), "forged"),
        ("not-a-ticket", "malformed"),
    ] {
        let path = TestServer::operator_stream_path("drop", ticket);
        let (status, code, message) =
            error_of(s.http.get(s.url(&path)).send().await.unwrap()).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "a {says} ticket opened the stream"
        );
        assert!(
            message.contains(says),
            "the refusal does not say {says}: {message}"
        );
    }
    let r = s
        .http
        .get(s.url(&path(Endpoint::OperatorStream, "drop")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await.0,
        StatusCode::BAD_REQUEST,
        "no ticket at all is a malformed request"
    );
    let good = s.stream_ticket().await;
    let r = s
        .http
        .get(s.url(&TestServer::operator_stream_path("nope", &good)))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_open_operator_stream_outlives_its_ticket() {
    let mut config = common::config();
    config.secret = b"operator-test-secret".to_vec();
    let s = TestServer::with_config(config).await;
    s.experience("drop", 10).await;
    // Issued 59 s ago: it expires about a second after the stream opens.
    let now = s.state.engine.now_ms() / 1000;
    let ticket = Auth::new(b"operator-test-secret".to_vec(), 60, Some(ADMIN.into()))
        .issue_stream_ticket(now - 59)
        .unwrap();
    let expiry_ms = (now + 1) * 1000;
    let path = TestServer::operator_stream_path("drop", &ticket);
    let response = s.http.get(s.url(&path)).send().await.unwrap();
    assert_eq!(
        response.status(),
        200,
        "a ticket a second from expiry was refused"
    );
    let mut events = common::Sse::of(response);
    loop {
        let at = figures(&mut events).await.server_time;
        if at > expiry_ms + 1_000 {
            break;
        }
    }
    let (status, _, message) = error_of(s.http.get(s.url(&path)).send().await.unwrap()).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the ticket still opens streams after its expiry: {message}"
    );
}

#[tokio::test]
async fn the_operator_stream_ends_when_the_server_shuts_down() {
    let mut s = TestServer::start().await;
    s.experience("drop", 10).await;
    let mut events = s.operator_stream("drop").await;
    figures(&mut events).await;
    let took = s.shutdown().await;
    assert!(
        events.ends_within(Duration::from_secs(3)).await,
        "the operator stream stayed open after shutdown"
    );
    assert!(
        took < Duration::from_secs(4),
        "shutdown waited {took:?}: the operator stream held it up"
    );
}

#[tokio::test]
async fn synthetic_joins_exist_only_with_the_demo_or_the_test_controls() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let (status, _, message) = error_of(s.synthetic("drop", 10).await).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "synthetic joins without the switch"
    );
    assert!(
        message.contains("--test-controls") && message.contains("--demo"),
        "the 404 does not say which switch: {message}"
    );
}

#[tokio::test]
async fn synthetic_joins_need_the_token_and_a_count_in_range() {
    let s = TestServer::with_config(common::controls()).await;
    s.experience("drop", 10).await;
    let id: ExperienceId = "drop".parse().unwrap();
    let r = s
        .http
        .post(s.url(&Endpoint::Synthetic.path(&id)))
        .json(&serde_json::json!({ "count": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::UNAUTHORIZED);
    for count in [0, MAX_SYNTHETIC_JOINS + 1] {
        let (status, _, message) = error_of(s.synthetic("drop", count).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "count {count} was taken");
        assert!(message.contains("count"), "{message}");
    }
    for body in [r#"{"count": -1}"#, r#"{"count": "many"}"#, "{"] {
        let r = s
            .admin(Method::POST, &Endpoint::Synthetic.path(&id))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(r).await.0,
            StatusCode::BAD_REQUEST,
            "{body} was taken"
        );
    }
    let (status, ..) = error_of(s.synthetic("nope", 5).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn synthetic_shoppers_wait_ahead_of_later_joins_and_are_listed_anonymously() {
    let s = TestServer::with_config(common::controls()).await;
    s.experience("drop", 10).await;
    let first = s.join("drop").await;
    let r = s.synthetic("drop", 1_000).await;
    assert_eq!(r.status(), 200);
    let after: ExperienceSummary = r.json().await.unwrap();
    assert_eq!(after.waiting, 1_001);
    let last = s.join("drop").await;
    assert_eq!(
        s.state("drop", &last).await.position,
        Some(1_002),
        "a shopper joining after synthetic ones is not behind them"
    );
    let page: EntriesPage = s
        .get_json("/api/experiences/drop/entries?offset=0&limit=3")
        .await;
    assert_eq!(page.total, 1_002);
    let labels: Vec<&str> = page.entries.iter().map(|e| e.label.as_str()).collect();
    assert!(
        labels.iter().all(|l| l.starts_with("Shopper ")),
        "labels: {labels:?}"
    );
    assert_ne!(labels[1], labels[2], "two synthetic shoppers share a label");
    assert!(!labels[0].contains(&first.consumer_id[2..]));
}

#[tokio::test]
async fn synthetic_shoppers_are_admitted_and_their_grants_expire() {
    let s = TestServer::with_config(common::controls()).await;
    let create = serde_json::json!({
        "id": "drop", "name": "Drop", "stock": 5, "admissionRatePerMinute": 0.0,
        "checkoutUrl": "/c", "grantTtlSeconds": 1
    });
    let r = s
        .admin(Method::POST, Endpoint::CreateExperience.route())
        .json(&create)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    s.synthetic("drop", 10).await;
    let behind = s.join("drop").await;
    s.admit("drop", 3).await;
    let admitted = summary(&s, "drop").await;
    assert_eq!(
        (
            admitted.admitted,
            admitted.active_admissions,
            admitted.stock.available
        ),
        (3, 3, 2),
        "synthetic shoppers were not admitted like any other"
    );
    assert_eq!(s.state("drop", &behind).await.position, Some(8));
    // A 1 s turn: wait for the sweep rather than sleep a guess.
    let mut seen = admitted;
    for _ in 0..100 {
        if seen.expired == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = summary(&s, "drop").await;
    }
    assert_eq!(
        (seen.expired, seen.active_admissions),
        (3, 0),
        "synthetic grants did not expire"
    );
    assert_eq!(
        seen.stock.available, 5,
        "expired synthetic grants kept their units"
    );
}

#[tokio::test]
async fn the_operator_stream_of_a_line_with_synthetic_shoppers_counts_them() {
    let s = TestServer::with_config(common::controls()).await;
    s.experience("drop", 10).await;
    let mut events = s.operator_stream("drop").await;
    assert_eq!(figures(&mut events).await.summary.waiting, 0);
    s.synthetic("drop", 500).await;
    let mut waiting = 0;
    for _ in 0..3 {
        waiting = figures(&mut events).await.summary.waiting;
        if waiting == 500 {
            break;
        }
    }
    assert_eq!(waiting, 500, "the stream did not show the synthetic line");
}
