//! `GET /healthz`, `GET /readyz` and `GET /metrics`: what a supervisor, a load balancer and
//! a Prometheus server ask of a node.
//!
//! - `/healthz` is liveness: `200 ok` whenever the process answers, also while draining
//!   (restarting a draining node would cut its streams short).
//! - `/readyz` is readiness ([`crate::readiness`]): `200 {"ready":true}`, or `503` with the
//!   usual error body (`unavailable`) while the node should get no new traffic.
//! - `/metrics` is [`crate::metrics`] in the Prometheus text format.
//!
//! None needs a token, and none tells anything about a shopper: counts only, no id, no
//! secret, so they can be served on the main port.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use livequeue_protocol::ErrorCode;
use serde::Serialize;

use crate::AppState;
use crate::error::AppError;
use crate::metrics::CONTENT_TYPE;

/// The body of a ready node's `/readyz`.
#[derive(Debug, Serialize)]
pub struct Ready {
    /// Always `true`: a node that is not ready answers an error instead.
    pub ready: bool,
}

/// `GET /healthz`: the process answers.
pub async fn live() -> &'static str {
    "ok"
}

/// `GET /readyz`: whether the engine can serve.
pub async fn ready(State(app): State<AppState>) -> Response {
    let answer = match app.engine.readiness().check() {
        Ok(()) => Json(Ready { ready: true }).into_response(),
        Err(reason) => AppError::new(ErrorCode::Unavailable, reason.message()).into_response(),
    };
    no_store(answer)
}

/// `GET /metrics`: every metric of this node, in the Prometheus text format.
pub async fn metrics(State(app): State<AppState>) -> Result<Response, AppError> {
    let text = app.metrics.encode().map_err(AppError::internal)?;
    let mut response = text.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    Ok(no_store(response))
}

/// Marks `response` as never cached: each answer is the state of now.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
