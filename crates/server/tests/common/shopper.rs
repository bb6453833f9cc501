//! Helpers of the shopper-action tests: an admitted shopper, and one call per action.

use std::time::Duration;

use livequeue_protocol::api::{ErrorBody, JoinResponse};
use livequeue_protocol::{Admission, Endpoint};
use reqwest::StatusCode;
use serde_json::json;

use super::TestServer;

/// A server whose ticker announces line moves every 50 ms.
pub async fn quick_server() -> TestServer {
    let mut config = super::config();
    config.engine.tick = Duration::from_millis(50);
    TestServer::with_config(config).await
}

/// A shopper of `drop` (stock `stock`) who has been admitted.
pub async fn admitted(s: &TestServer, stock: u64) -> JoinResponse {
    s.experience("drop", stock).await;
    let me = s.join("drop").await;
    s.admit("drop", 1).await;
    me
}

pub async fn code_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: ErrorBody = response.json().await.expect("a JSON error body");
    (status, body.error.code.to_string())
}

pub async fn extend(s: &TestServer, who: &JoinResponse) -> reqwest::Response {
    s.shopper(Endpoint::Extend, "drop", who)
        .send()
        .await
        .unwrap()
}

pub async fn reserve(
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

pub async fn leave(s: &TestServer, who: &JoinResponse) -> StatusCode {
    s.shopper(Endpoint::Leave, "drop", who)
        .send()
        .await
        .unwrap()
        .status()
}

pub async fn available(s: &TestServer, who: &JoinResponse) -> u64 {
    s.state("drop", who).await.stock.available
}

pub fn expiry(admission: Option<Admission>) -> u64 {
    admission
        .and_then(|a| a.expires_at)
        .expect("an admission with an expiry")
}

/// A server whose grants live 300 ms, and a shopper whose grant has just expired.
pub async fn expired() -> (TestServer, JoinResponse) {
    let mut config = super::config();
    config.engine.grant_ttl = Duration::from_millis(300);
    let s = TestServer::with_config(config).await;
    let me = admitted(&s, 5).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    (s, me)
}
