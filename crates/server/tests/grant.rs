//! A shopper's own actions on their grant against a real server: extend it once, reserve
//! units against it (idempotently, never overselling), and the credentials every action needs.

mod common;

use std::collections::HashMap;

use common::TestServer;
use common::shopper::{admitted, available, code_of, expired, expiry, extend, reserve};
use livequeue_protocol::api::{JoinResponse, ReserveResponse};
use livequeue_protocol::{Admission, AdmissionStatus, Endpoint};
use reqwest::StatusCode;
use serde_json::json;

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
    let (s, me) = expired().await;
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
async fn the_cart_reaches_the_shoppers_stream_and_every_later_state() {
    let s = TestServer::start().await;
    s.experience("drop", 5).await;
    let me = s.join("drop").await;
    let mut sse = s.sse("drop", &me, None).await;
    sse.next().await;
    s.admit("drop", 1).await;
    let first: Admission =
        serde_json::from_str(&sse.until("admission").await.pop().unwrap().data).unwrap();
    assert_eq!(first.reserved, 0);
    reserve(&s, &me, "k1", 1).await;
    let pushed: Admission =
        serde_json::from_str(&sse.until("admission").await.pop().unwrap().data).unwrap();
    assert_eq!(
        pushed.reserved, 1,
        "the first unit, though no stock moved, is pushed"
    );
    assert_eq!(
        s.state("drop", &me).await.admission.unwrap().reserved,
        1,
        "a reload sees the cart"
    );
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
    let (s, me) = expired().await;
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

#[tokio::test]
async fn an_experience_may_hold_its_turns_shorter_than_the_server() {
    let s = TestServer::start().await;
    let created = s
        .admin(reqwest::Method::POST, "/api/admin/experiences")
        .json(&json!({"id": "short", "name": "Short", "stock": 5,
            "admissionRatePerMinute": 0.0, "checkoutUrl": "/c", "grantTtlSeconds": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let me = s.join("short").await;
    s.admit("short", 1).await;
    let admission = s.state("short", &me).await.admission.unwrap();
    let left = admission.expires_at.unwrap() - s.state("short", &me).await.server_time.unwrap();
    assert!(left <= 1_000, "held 1 s, not the server's 5 min: {left} ms");
    // Expired by the engine's next sweep after the second: waited for (not slept a fixed
    // time), so a loaded machine's late tick fails nothing, while a turn held for the
    // server's 5 minutes still would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let status = s.state("short", &me).await.admission.unwrap().status;
        if status == AdmissionStatus::Expired {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a 1 s turn still {status:?} after 15 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
