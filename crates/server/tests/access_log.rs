//! The access log records every request, and never a token.
//!
//! Alone in its test binary: tracing caches whether a log line is enabled per call site,
//! and a test of another thread reaching the same call sites without a subscriber at the
//! same moment can leave them disabled for this test's subscriber.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use livequeue_server::{AppState, app};
use tower::ServiceExt;

/// A tracing writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn the_access_log_records_requests_with_their_tokens_redacted() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The current-thread test runtime runs every request on this thread.
    let _default = tracing::subscriber::set_default(subscriber);

    let state = AppState::new(common::config());
    state
        .engine
        .create(livequeue_protocol::api::CreateExperience {
            id: "e1".into(),
            name: "E1".into(),
            stock: 10,
            admission_rate_per_minute: 0.0,
            checkout_url: "/checkout/e1".into(),
            grant_ttl_seconds: None,
        })
        .await
        .unwrap();
    let router = app(state);
    let join = Request::post("/api/experiences/e1/join")
        .body(Body::empty())
        .unwrap();
    let joined = router.clone().oneshot(join).await.unwrap();
    let body = axum::body::to_bytes(joined.into_body(), 1 << 16)
        .await
        .unwrap();
    let joined: livequeue_protocol::api::JoinResponse = serde_json::from_slice(&body).unwrap();
    let (consumer, token) = (joined.consumer_id.to_string(), joined.token);
    assert!(token.len() > 20, "a token long enough to be recognised");
    for uri in [
        format!("/api/queue/e1?consumerId={consumer}&token={token}"),
        format!("/api/queue/e1?%74oken={token}&consumerId={consumer}"),
        format!("/api/queue/e1?consumerId={consumer}&token=wrong-{token}"),
    ] {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        router.clone().oneshot(request).await.unwrap();
    }

    let text = log.text();
    assert!(
        text.contains(&format!(
            "uri=/api/queue/e1?consumerId={consumer}&token=[redacted]"
        )),
        "no redacted access line:\n{text}"
    );
    assert!(text.contains("status=200"), "no answer line:\n{text}");
    assert!(!text.contains(&token), "the token is in the log:\n{text}");
}
