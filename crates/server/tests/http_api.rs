//! The HTTP endpoints against a real server: answers, status codes and JSON errors.

mod common;

use common::{ADMIN, TestServer};
use livequeue_protocol::api::{EntriesPage, ErrorBody, ExperienceSummary, RedeemResponse};
use livequeue_protocol::{QueueState, Stage};
use reqwest::{Method, StatusCode};

async fn error_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: ErrorBody = response.json().await.expect("a JSON error body");
    (status, body.error.code.to_string())
}

fn poll_path(experience: &str, consumer: &str, token: &str) -> String {
    format!("/api/queue/{experience}?consumerId={consumer}&token={token}")
}

#[tokio::test]
async fn join_answers_201_with_identity_and_the_state_in_line_order() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let first = s.join("drop").await;
    let second = s.join("drop").await;
    assert!(first.consumer_id.starts_with("c_") && !first.token.is_empty());
    assert_eq!(first.state.position, Some(1));
    assert_eq!(second.state.position, Some(2));
    assert_eq!(second.state.stage, Some(Stage::Queued));
    assert_eq!(second.state.stock.available, 10);
}

#[tokio::test]
async fn polling_answers_the_state_and_304_for_the_current_etag() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let url = s.url(&poll_path("drop", &me.consumer_id, &me.token));
    let r = s.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let tag = r
        .headers()
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_string();
    let state: QueueState = r.json().await.unwrap();
    assert_eq!(state.consumer_id, me.consumer_id);

    let again = s
        .http
        .get(&url)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "an unchanged state must answer 304");

    s.set_stock("drop", 20).await;
    let changed = s
        .http
        .get(&url)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200, "a changed state must not answer 304");
    assert_ne!(
        changed.headers().get("etag").unwrap().to_str().unwrap(),
        tag
    );
}

#[tokio::test]
async fn a_rate_change_alone_defeats_the_etag_so_polls_see_the_new_wait() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let url = s.url(&poll_path("drop", &me.consumer_id, &me.token));
    let first = s.http.get(&url).send().await.unwrap();
    let tag = first.headers().get("etag").expect("an ETag").clone();
    let before: QueueState = first.json().await.unwrap();
    assert_eq!(
        before.estimated_wait_seconds, None,
        "no rate, no wait estimate"
    );

    let patched = s
        .admin(Method::PATCH, "/api/admin/experiences/drop")
        .json(&serde_json::json!({"admissionRatePerMinute": 60.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);

    let after = s
        .http
        .get(&url)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        200,
        "a new wait estimate was hidden behind 304 (the ETag ignored it)"
    );
    let state: QueueState = after.json().await.unwrap();
    assert_eq!(
        state.estimated_wait_seconds,
        Some(1),
        "first in line at one a second"
    );
}

#[tokio::test]
async fn the_etag_ignores_the_server_clock() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let url = s.url(&poll_path("drop", &me.consumer_id, &me.token));
    let first = s.http.get(&url).send().await.unwrap();
    let tag = first.headers().get("etag").expect("an ETag").clone();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let again = s
        .http
        .get(&url)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        304,
        "serverTime moved and defeated the 304 of an unchanged state"
    );
}

#[tokio::test]
async fn read_endpoints_refuse_missing_bad_and_foreign_tokens() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    s.experience("other", 10).await;
    let me = s.join("drop").await;
    let you = s.join("drop").await;
    let get = |path: String| s.http.get(s.url(&path)).send();

    let missing = get("/api/queue/drop?consumerId=x".into()).await.unwrap();
    assert_eq!(
        error_of(missing).await,
        (StatusCode::BAD_REQUEST, "bad_request".into())
    );
    let bad = get(poll_path("drop", &me.consumer_id, "not-a-token"))
        .await
        .unwrap();
    assert_eq!(
        error_of(bad).await,
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    let foreign = get(poll_path("drop", &you.consumer_id, &me.token))
        .await
        .unwrap();
    assert_eq!(
        error_of(foreign).await,
        (StatusCode::UNAUTHORIZED, "unauthorized".into()),
        "my token must not read another consumer's state"
    );
    let other_experience = get(poll_path("other", &me.consumer_id, &me.token))
        .await
        .unwrap();
    assert_eq!(other_experience.status(), 401);
    let unknown = get(poll_path("nope", &me.consumer_id, &me.token))
        .await
        .unwrap();
    assert_eq!(
        error_of(unknown).await,
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    let bad_id = get(poll_path("no%20spaces", &me.consumer_id, &me.token))
        .await
        .unwrap();
    assert_eq!(bad_id.status(), 400);
    let sse = get(format!(
        "/api/sse/queue/drop?consumerId={}&token=x",
        me.consumer_id
    ))
    .await
    .unwrap();
    assert_eq!(error_of(sse).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_malformed_experience_id_is_a_400_that_states_the_id_rule() {
    let s = TestServer::start().await;
    let r = s
        .http
        .post(s.url("/api/experiences/no%20spaces/join"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: ErrorBody = r.json().await.expect("a JSON error body");
    assert_eq!(
        body.error.message,
        livequeue_protocol::IdError::Experience.to_string(),
        "the answer does not state the protocol's id rule"
    );
}

#[tokio::test]
async fn a_grant_redeems_once_then_conflicts_and_garbage_is_400_or_404() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    s.admit("drop", 1).await;
    let state: QueueState = s
        .http
        .get(s.url(&poll_path("drop", &me.consumer_id, &me.token)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grant = state.admission.expect("admitted").grant;
    let redeem = |grant: String| {
        s.http
            .post(s.url("/api/experiences/drop/redeem"))
            .json(&serde_json::json!({ "grant": grant }))
            .send()
    };
    let first = redeem(grant.clone()).await.unwrap();
    assert_eq!(first.status(), 200);
    let body: RedeemResponse = first.json().await.unwrap();
    assert_eq!(
        (body.consumer_id.as_str(), body.experience_id.as_str()),
        (me.consumer_id.as_str(), "drop")
    );
    assert_eq!(
        error_of(redeem(grant).await.unwrap()).await,
        (StatusCode::CONFLICT, "conflict".into())
    );
    assert_eq!(
        error_of(redeem("junk".into()).await.unwrap()).await.0,
        StatusCode::BAD_REQUEST
    );
    let unknown = format!("g_{}", "0".repeat(32));
    assert_eq!(
        error_of(redeem(unknown).await.unwrap()).await.0,
        StatusCode::NOT_FOUND
    );
    let not_json = s
        .http
        .post(s.url("/api/experiences/drop/redeem"))
        .body("{")
        .header("content-type", "application/json");
    assert_eq!(
        error_of(not_json.send().await.unwrap()).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn an_expired_grant_answers_410_and_its_unit_returns_to_stock() {
    let mut config = common::config();
    config.engine.grant_ttl = std::time::Duration::from_millis(300);
    let s = TestServer::with_config(config).await;
    s.experience("drop", 1).await;
    let me = s.join("drop").await;
    s.admit("drop", 1).await;
    let url = s.url(&poll_path("drop", &me.consumer_id, &me.token));
    let state: QueueState = s.http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(state.stock.available, 0);
    let grant = state.admission.unwrap().grant;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let r = s
        .http
        .post(s.url("/api/experiences/drop/redeem"))
        .json(&serde_json::json!({ "grant": grant }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (StatusCode::GONE, "gone".into()));
    let state: QueueState = s.http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (state.stage, state.stock.available),
        (Some(Stage::Expired), 1)
    );
}

#[tokio::test]
async fn the_operators_list_is_paged_and_anonymous() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(s.join("drop").await);
    }
    let page: EntriesPage = s
        .get_json("/api/experiences/drop/entries?offset=1&limit=2")
        .await;
    assert_eq!(page.total, 5);
    assert_eq!(
        page.entries.iter().map(|e| e.position).collect::<Vec<_>>(),
        vec![2, 3]
    );
    let text = serde_json::to_string(&page).unwrap();
    for who in &ids {
        assert!(
            !text.contains(&who.consumer_id) && !text.contains(&who.token),
            "the list leaks an identity"
        );
    }
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=abc",
        "offset=-1",
        "offset=x",
    ] {
        let r = s
            .admin(
                reqwest::Method::GET,
                &format!("/api/experiences/drop/entries?{bad}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(r).await.0,
            StatusCode::BAD_REQUEST,
            "{bad} must be refused"
        );
    }
    let r = s
        .admin(reqwest::Method::GET, "/api/experiences/nope/entries")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let past_the_end: EntriesPage = s.get_json("/api/experiences/drop/entries?offset=5").await;
    assert_eq!(
        (past_the_end.total, past_the_end.entries.len()),
        (5, 0),
        "a page past the end is empty with the total"
    );
}

#[tokio::test]
async fn the_list_of_the_line_needs_the_operator_token() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    s.join("drop").await;
    for (what, request) in [
        (
            "no token",
            s.http.get(s.url("/api/experiences/drop/entries")),
        ),
        (
            "a wrong token",
            s.http
                .get(s.url("/api/experiences/drop/entries?limit=abc"))
                .bearer_auth("not-the-token"),
        ),
    ] {
        let r = request.send().await.unwrap();
        assert_eq!(
            error_of(r).await,
            (StatusCode::UNAUTHORIZED, "unauthorized".into()),
            "the line was listed with {what}"
        );
    }
}

#[tokio::test]
async fn the_operator_api_needs_the_admin_token_and_steers_the_drop() {
    let s = TestServer::start().await;
    let body = serde_json::json!({"id": "d", "name": "D", "stock": 5, "admissionRatePerMinute": 0.0, "checkoutUrl": "/c"});
    let anonymous = s
        .http
        .post(s.url("/api/admin/experiences"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(anonymous).await,
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    let wrong = s
        .http
        .post(s.url("/api/admin/experiences"))
        .bearer_auth("nope")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let created = s
        .admin(Method::POST, "/api/admin/experiences")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let again = s
        .admin(Method::POST, "/api/admin/experiences")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(again).await.0, StatusCode::CONFLICT);

    for _ in 0..3 {
        s.join("d").await;
    }
    s.admit("d", 2).await;
    let patched: ExperienceSummary = s
        .admin(Method::PATCH, "/api/admin/experiences/d")
        .json(&serde_json::json!({"status": "paused", "stock": 8}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched.stock.total, 8);
    assert_eq!(
        patched.stock.available, 6,
        "3 more units on top of 5 - 2 admitted"
    );
    assert_eq!(patched.waiting, 1);
    assert_eq!(patched.active_admissions, 2);
    let got: ExperienceSummary = s
        .admin(Method::GET, "/api/admin/experiences/d")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got.status, livequeue_protocol::ExperienceStatus::Paused);

    let bad_status = s
        .admin(Method::PATCH, "/api/admin/experiences/d")
        .json(&serde_json::json!({"status": "melting"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(bad_status).await.0, StatusCode::BAD_REQUEST);
    let unknown_field = s
        .admin(Method::PATCH, "/api/admin/experiences/d")
        .json(&serde_json::json!({"stok": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(unknown_field).await.0, StatusCode::BAD_REQUEST);
    let negative_rate = s
        .admin(Method::PATCH, "/api/admin/experiences/d")
        .json(&serde_json::json!({"admissionRatePerMinute": -1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(negative_rate).await.0, StatusCode::BAD_REQUEST);
    let missing = s
        .admin(Method::GET, "/api/admin/experiences/zz")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(missing).await.0, StatusCode::NOT_FOUND);
    let _ = ADMIN;
}

#[tokio::test]
async fn oversize_bodies_unknown_paths_and_wrong_methods_get_json_errors() {
    let s = TestServer::start().await;
    s.experience("drop", 1).await;
    let huge = format!("{{\"grant\":\"{}\"}}", "a".repeat(64 * 1024));
    let r = s
        .http
        .post(s.url("/api/experiences/drop/redeem"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large".into())
    );
    let r = s.http.get(s.url("/api/nothing/here")).send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    let r = s
        .http
        .delete(s.url("/api/experiences/drop/join"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed".into())
    );
    let r = s
        .http
        .post(s.url("/api/experiences/nope/join"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_foreign_origin_is_refused_and_a_configured_one_gets_cors() {
    let s = TestServer::start().await;
    s.experience("drop", 1).await;
    let join = |origin: &'static str| {
        s.http
            .post(s.url("/api/experiences/drop/join"))
            .header("origin", origin)
            .send()
    };
    let foreign = join("https://evil.example").await.unwrap();
    assert_eq!(
        error_of(foreign).await,
        (StatusCode::FORBIDDEN, "forbidden_origin".into())
    );
    let allowed = join("https://shop.example").await.unwrap();
    assert_eq!(allowed.status(), 201);
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://shop.example"
    );
    let same = s
        .http
        .post(s.url("/api/experiences/drop/join"))
        .header("origin", format!("http://{}", s.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(
        same.status(),
        201,
        "the server's own origin is always allowed"
    );
    let preflight = s
        .http
        .request(Method::OPTIONS, s.url("/api/experiences/drop/join"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://shop.example"
    );
}

#[tokio::test]
async fn the_widget_is_served_from_dist_when_built() {
    let dir = std::env::temp_dir().join(format!("lq-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<html>widget</html>").unwrap();
    let mut config = common::config();
    config.dist = dir.clone();
    let s = TestServer::with_config(config).await;
    let r = s.http.get(s.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("widget"));
    let deep = s.http.get(s.url("/console")).send().await.unwrap();
    assert!(
        deep.text().await.unwrap().contains("widget"),
        "client-side routes fall back to index.html"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn after_a_restart_a_valid_token_finds_its_shopper_again_in_the_new_epoch() {
    let config = || livequeue_server::Config {
        secret: b"shared-secret".to_vec(),
        ..common::config()
    };
    let before = TestServer::with_config(config()).await;
    before.experience("drop", 10).await;
    let me = before.join("drop").await;
    let old_epoch = me.state.cursor.epoch;
    drop(before);

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let after = TestServer::with_config(config()).await;
    after.experience("drop", 10).await;
    let r = after
        .http
        .get(after.url(&poll_path("drop", &me.consumer_id, &me.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "a signed token outlives the engine's memory"
    );
    let state: QueueState = r.json().await.unwrap();
    assert!(
        state.cursor.epoch > old_epoch,
        "the new lifetime has a later epoch"
    );
    assert_eq!(state.consumer_id, me.consumer_id);
    assert_eq!(state.position, Some(1));
}

#[tokio::test]
async fn test_controls_switch_transports_at_run_time() {
    let config = livequeue_server::Config {
        test_controls: true,
        ..common::config()
    };
    let s = TestServer::with_config(config).await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let put = |refuse: serde_json::Value| {
        s.admin(Method::PUT, "/api/admin/transports")
            .json(&serde_json::json!({ "refuse": refuse }))
            .send()
    };
    assert_eq!(put(serde_json::json!(["sse"])).await.unwrap().status(), 204);
    let sse = s
        .http
        .get(s.url(&TestServer::sse_path("drop", &me)))
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 503);
    assert_eq!(put(serde_json::json!([])).await.unwrap().status(), 204);
    let sse = s
        .http
        .get(s.url(&TestServer::sse_path("drop", &me)))
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    assert_eq!(
        error_of(put(serde_json::json!(["pigeon"])).await.unwrap())
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let off = TestServer::start().await;
    let r = off
        .admin(Method::PUT, "/api/admin/transports")
        .json(&serde_json::json!({"refuse": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "no test controls by default");
}

#[tokio::test]
async fn a_refused_transport_answers_503_and_the_others_still_work() {
    use livequeue_protocol::supervisor::TransportKind;
    let config = livequeue_server::Config {
        refuse_transports: vec![TransportKind::WebSocket, TransportKind::Sse],
        ..common::config()
    };
    let s = TestServer::with_config(config).await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let sse = s
        .http
        .get(s.url(&TestServer::sse_path("drop", &me)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(sse).await,
        (StatusCode::SERVICE_UNAVAILABLE, "transport_refused".into())
    );
    let ws = s
        .http
        .get(s.url(&format!(
            "/ws/queue?experienceId=drop&consumerId={}&token={}",
            me.consumer_id, me.token
        )))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(ws.status(), 503);
    let poll = s
        .http
        .get(s.url(&poll_path("drop", &me.consumer_id, &me.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(poll.status(), 200);
}
