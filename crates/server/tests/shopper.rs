//! The shopper's own actions against a real server: extend the grant once, reserve units
//! against it (idempotently, never overselling), and leave the line.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::TestServer;
use livequeue_protocol::api::{ErrorBody, JoinResponse, ReserveResponse};
use livequeue_protocol::{Admission, AdmissionStatus, Endpoint, PositionUpdate, Stage};
use reqwest::StatusCode;
use serde_json::json;

/// A server whose ticker announces line moves every 50 ms.
async fn quick_server() -> TestServer {
    let mut config = common::config();
    config.engine.tick = Duration::from_millis(50);
    TestServer::with_config(config).await
}

/// A shopper of `drop` (stock `stock`) who has been admitted.
async fn admitted(s: &TestServer, stock: u64) -> JoinResponse {
    s.experience("drop", stock).await;
    let me = s.join("drop").await;
    s.admit("drop", 1).await;
    me
}

async fn code_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: ErrorBody = response.json().await.expect("a JSON error body");
    (status, body.error.code.to_string())
}

async fn extend(s: &TestServer, who: &JoinResponse) -> reqwest::Response {
    s.shopper(Endpoint::Extend, "drop", who)
        .send()
        .await
        .unwrap()
}

async fn reserve(
    s: &TestServer,
    who: &JoinResponse,
    key: &str,
    quantity: u64,
) -> reqwest::Response {
    s.shopper(Endpoint::Reserve, "drop", who)
        .json(&json!({"idempotencyKey": key, "quantity": quantity}))
        .send()
        .await
        .unwrap()
}

async fn leave(s: &TestServer, who: &JoinResponse) -> StatusCode {
    s.shopper(Endpoint::Leave, "drop", who)
        .send()
        .await
        .unwrap()
        .status()
}

async fn available(s: &TestServer, who: &JoinResponse) -> u64 {
    s.state("drop", who).await.stock.available
}

fn expiry(admission: Option<Admission>) -> u64 {
    admission
        .and_then(|a| a.expires_at)
        .expect("an admission with an expiry")
}

#[tokio::test]
async fn extend_moves_the_expiry_by_the_configured_length_once_then_answers_409() {
    let s = TestServer::start().await;
    let me = admitted(&s, 5).await;
    let before = expiry(s.state("drop", &me).await.admission);
    let r = extend(&s, &me).await;
    assert_eq!(r.status(), 200);
    let extended: Admission = r.json().await.unwrap();
    assert_eq!(
        extended.expires_at,
        Some(before + 120_000),
        "the default extension is 120 s on top of the old expiry"
    );
    assert_eq!(
        expiry(s.state("drop", &me).await.admission),
        before + 120_000,
        "snapshots do not show the extended expiry"
    );
    assert_eq!(
        code_of(extend(&s, &me).await).await,
        (StatusCode::CONFLICT, "conflict".into()),
        "a grant was extended twice"
    );
}

#[tokio::test]
async fn extend_after_expiry_answers_410() {
    let mut config = common::config();
    config.engine.grant_ttl = Duration::from_millis(300);
    let s = TestServer::with_config(config).await;
    let me = admitted(&s, 5).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        code_of(extend(&s, &me).await).await,
        (StatusCode::GONE, "gone".into())
    );
}

#[tokio::test]
async fn extend_after_redemption_answers_409() {
    let s = TestServer::start().await;
    let me = admitted(&s, 5).await;
    let grant = s.state("drop", &me).await.admission.unwrap().grant;
    let redeemed = s
        .http
        .post(s.url("/api/experiences/drop/redeem"))
        .json(&json!({ "grant": grant }))
        .send()
        .await
        .unwrap();
    assert_eq!(redeemed.status(), 200);
    assert_eq!(code_of(extend(&s, &me).await).await.0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn extend_without_an_admission_answers_409() {
    let s = TestServer::start().await;
    s.experience("drop", 5).await;
    let me = s.join("drop").await;
    assert_eq!(code_of(extend(&s, &me).await).await.0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_extended_expiry_is_pushed_to_the_shoppers_stream_as_an_admission() {
    let s = TestServer::start().await;
    s.experience("drop", 5).await;
    let me = s.join("drop").await;
    let mut sse = s.sse("drop", &me, None).await;
    sse.next().await;
    s.admit("drop", 1).await;
    let first: Admission =
        serde_json::from_str(&sse.until("admission").await.pop().unwrap().data).unwrap();
    let extended: Admission = extend(&s, &me).await.json().await.unwrap();
    let pushed: Admission =
        serde_json::from_str(&sse.until("admission").await.pop().unwrap().data).unwrap();
    assert_eq!(pushed, extended, "the stream did not carry the extension");
    assert!(pushed.expires_at > first.expires_at);
}

#[tokio::test]
async fn reserving_within_the_limit_takes_stock_only_beyond_the_admissions_own_unit() {
    let s = TestServer::start().await;
    let me = admitted(&s, 5).await;
    let first: ReserveResponse = reserve(&s, &me, "k1", 1).await.json().await.unwrap();
    assert_eq!(
        (first.reserved, first.stock.available),
        (1, 4),
        "the first unit is the one the admission holds"
    );
    let second: ReserveResponse = reserve(&s, &me, "k2", 1).await.json().await.unwrap();
    assert_eq!((second.reserved, second.stock.available), (2, 3));
    assert_eq!(available(&s, &me).await, 3);
}

#[tokio::test]
async fn reserving_over_the_per_grant_limit_answers_409_and_takes_nothing() {
    let s = TestServer::start().await;
    let me = admitted(&s, 5).await;
    let (status, code) = code_of(reserve(&s, &me, "k1", 3).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(
        available(&s, &me).await,
        4,
        "a refused reservation took stock"
    );
}

#[tokio::test]
async fn a_retried_reservation_answers_the_same_and_is_not_counted_twice() {
    let s = TestServer::start().await;
    let me = admitted(&s, 5).await;
    let first: ReserveResponse = reserve(&s, &me, "k", 2).await.json().await.unwrap();
    let retry = reserve(&s, &me, "k", 2).await;
    assert_eq!(retry.status(), 200, "a retry was refused");
    assert_eq!(retry.json::<ReserveResponse>().await.unwrap(), first);
    assert_eq!(available(&s, &me).await, 3, "the retry reserved again");
    assert_eq!(
        code_of(reserve(&s, &me, "k", 1).await).await.0,
        StatusCode::CONFLICT,
        "a key reused for another quantity was replayed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reservations_never_oversell() {
    let mut config = common::config();
    config.engine.max_units_per_grant = 3;
    let s = TestServer::with_config(config).await;
    s.experience("drop", 60).await;
    let mut shoppers = Vec::new();
    for _ in 0..50 {
        shoppers.push(s.join("drop").await);
    }
    s.admit("drop", 50).await;
    // 50 shoppers hold one unit each; 10 are left for 100 wanted extra units.
    let mut tasks = Vec::new();
    for who in &shoppers {
        for attempt in 0..3 {
            let request = s
                .shopper(Endpoint::Reserve, "drop", who)
                .json(&json!({"idempotencyKey": format!("k{attempt}"), "quantity": 1}));
            let id = who.consumer_id.clone();
            tasks.push(tokio::spawn(async move {
                let r = request.send().await.unwrap();
                let status = r.status();
                (id, status, r.json::<serde_json::Value>().await.unwrap())
            }));
        }
    }
    let mut reserved: HashMap<String, u64> = HashMap::new();
    for task in tasks {
        let (id, status, body) = task.await.unwrap();
        if status == StatusCode::OK {
            let answer: ReserveResponse = serde_json::from_value(body)
                .expect("stock in an answer is a count, never negative");
            let units = reserved.entry(id).or_default();
            *units = (*units).max(answer.reserved);
        } else {
            assert_eq!(status, StatusCode::CONFLICT, "unexpected answer {body}");
        }
    }
    let held: u64 = reserved.values().sum();
    assert_eq!(
        reserved.len(),
        50,
        "a shopper could not reserve their own unit"
    );
    assert_eq!(
        held, 60,
        "units reserved are not the stock exactly: oversold or lost"
    );
    let stock = s.state("drop", &shoppers[0]).await.stock;
    assert_eq!((stock.available, stock.total), (0, 60));
}

#[tokio::test]
async fn reserving_without_an_admission_answers_409() {
    let s = TestServer::start().await;
    s.experience("drop", 5).await;
    let me = s.join("drop").await;
    assert_eq!(
        code_of(reserve(&s, &me, "k", 1).await).await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn reserving_after_expiry_answers_410() {
    let mut config = common::config();
    config.engine.grant_ttl = Duration::from_millis(300);
    let s = TestServer::with_config(config).await;
    let me = admitted(&s, 5).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        code_of(reserve(&s, &me, "k", 1).await).await,
        (StatusCode::GONE, "gone".into())
    );
}

#[tokio::test]
async fn a_malformed_reservation_is_a_400() {
    let s = TestServer::start().await;
    let me = admitted(&s, 5).await;
    for body in [
        json!({"idempotencyKey": "", "quantity": 1}),
        json!({"idempotencyKey": "k", "quantity": 0}),
        json!({"idempotencyKey": "has space", "quantity": 1}),
        json!({"quantity": 1}),
    ] {
        let r = s
            .shopper(Endpoint::Reserve, "drop", &me)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            code_of(r).await.0,
            StatusCode::BAD_REQUEST,
            "{body} accepted"
        );
    }
}

#[tokio::test]
async fn leaving_moves_everyone_behind_up_by_one_without_gaps() {
    let s = quick_server().await;
    s.experience("drop", 5).await;
    let mut line = Vec::new();
    for _ in 0..5 {
        line.push(s.join("drop").await);
    }
    let mut third = s.sse("drop", &line[2], None).await;
    let mut fifth = s.sse("drop", &line[4], None).await;
    third.next().await;
    fifth.next().await;
    assert_eq!(leave(&s, &line[1]).await, StatusCode::NO_CONTENT);
    for (sse, now) in [(&mut third, 2), (&mut fifth, 4)] {
        let event = sse.until("position_update").await.pop().unwrap();
        let update: PositionUpdate = serde_json::from_str(&event.data).unwrap();
        assert_eq!(update.position, now, "the shopper behind did not move up");
    }
    let mut positions = Vec::new();
    for who in line.iter().filter(|w| w.consumer_id != line[1].consumer_id) {
        positions.push(s.state("drop", who).await.position);
    }
    assert_eq!(
        positions,
        [Some(1), Some(2), Some(3), Some(4)],
        "positions after a leave have a gap"
    );
    assert_eq!(s.state("drop", &line[1]).await.position, None);
}

#[tokio::test]
async fn a_shopper_who_left_is_never_admitted() {
    let s = TestServer::start().await;
    s.experience("drop", 5).await;
    let first = s.join("drop").await;
    let second = s.join("drop").await;
    assert_eq!(leave(&s, &first).await, StatusCode::NO_CONTENT);
    s.admit("drop", 1).await;
    assert!(s.state("drop", &first).await.admission.is_none());
    assert_eq!(
        s.state("drop", &second).await.stage,
        Some(Stage::Admitted),
        "the admission went to a ghost ticket"
    );
}

#[tokio::test]
async fn leaving_twice_answers_204_both_times() {
    let s = TestServer::start().await;
    s.experience("drop", 5).await;
    let me = s.join("drop").await;
    let behind = s.join("drop").await;
    assert_eq!(leave(&s, &me).await, StatusCode::NO_CONTENT);
    assert_eq!(leave(&s, &me).await, StatusCode::NO_CONTENT);
    assert_eq!(
        s.state("drop", &behind).await.position,
        Some(1),
        "leaving twice moved the line twice"
    );
}

#[tokio::test]
async fn an_admitted_shopper_leaving_returns_every_unit_of_the_grant_to_stock() {
    let s = TestServer::start().await;
    let me = admitted(&s, 5).await;
    reserve(&s, &me, "k", 2).await;
    assert_eq!(available(&s, &me).await, 3);
    assert_eq!(leave(&s, &me).await, StatusCode::NO_CONTENT);
    let state = s.state("drop", &me).await;
    assert_eq!(
        state.stock.available, 5,
        "the grant's units were not returned"
    );
    assert_eq!(
        state.admission.map(|a| a.status),
        Some(AdmissionStatus::Expired),
        "a given-up grant is still active"
    );
    assert_eq!(leave(&s, &me).await, StatusCode::NO_CONTENT);
    assert_eq!(
        available(&s, &me).await,
        5,
        "leaving twice returned the units twice"
    );
}

#[tokio::test]
async fn shopper_actions_refuse_missing_parameters_with_400_and_bad_tokens_with_401() {
    let s = TestServer::start().await;
    let me = admitted(&s, 5).await;
    let forged = JoinResponse {
        token: "not-a-token".into(),
        ..me.clone()
    };
    for endpoint in [Endpoint::Extend, Endpoint::Reserve, Endpoint::Leave] {
        let body = json!({"idempotencyKey": "k", "quantity": 1});
        let bare = s
            .http
            .post(s.url(&endpoint.path(&"drop".parse().unwrap())))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            code_of(bare).await.0,
            StatusCode::BAD_REQUEST,
            "{endpoint:?}"
        );
        let r = s
            .shopper(endpoint, "drop", &forged)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            code_of(r).await,
            (StatusCode::UNAUTHORIZED, "unauthorized".into()),
            "{endpoint:?} accepted a forged token"
        );
    }
    assert_eq!(
        s.state("drop", &me).await.admission.map(|a| a.status),
        Some(AdmissionStatus::Active),
        "a refused call changed the grant"
    );
}
