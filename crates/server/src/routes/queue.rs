//! The shopper's endpoints: join, poll, and redeem (the shop's checkout).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use livequeue_protocol::QueueState;
use livequeue_protocol::api::{JoinResponse, RedeemRequest, RedeemResponse};
use livequeue_protocol::supervisor::TransportKind;

use crate::AppState;
use crate::engine::experience::is_grant_shaped;
use crate::error::AppError;
use crate::metrics::PollAnswer;
use crate::routes::{ApiJson, ApiQuery, ExperiencePath, ReadParams};

/// `POST /api/experiences/{experienceId}/join`.
pub async fn join(
    State(app): State<AppState>,
    ExperiencePath(experience): ExperiencePath,
) -> Result<(StatusCode, Json<JoinResponse>), AppError> {
    let (consumer_id, state) = app.engine.join(experience.as_str()).await?;
    let token = app.auth.issue(
        &consumer_id,
        experience.as_str(),
        app.engine.now_ms() / 1000,
    );
    Ok((
        StatusCode::CREATED,
        Json(JoinResponse {
            consumer_id,
            token,
            state,
        }),
    ))
}

/// The ETag of a state: a digest of everything a poll returns except `serverTime`, which
/// moves on every request and would defeat every 304. Hashing the serialized state (rather
/// than picking fields) means a field added later, or a change that does not move the
/// cursor (an operator's new rate changes only the wait estimates), can never hide behind a
/// stale 304.
pub fn etag(state: &QueueState) -> String {
    use sha2::{Digest, Sha256};
    let timeless = QueueState {
        server_time: None,
        ..state.clone()
    };
    // Plain data always serializes.
    let json = serde_json::to_vec(&timeless).unwrap_or_default();
    let digest = Sha256::digest(&json);
    // 128 bits are plenty to tell one shopper's successive states apart.
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// `GET /api/queue/{experienceId}`: the polling endpoint.
pub async fn poll(
    State(app): State<AppState>,
    ExperiencePath(experience): ExperiencePath,
    ApiQuery(params): ApiQuery<ReadParams>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    app.transport_allowed(TransportKind::Poll)?;
    let who = params.authorize(&app, &experience).await?;
    let state = app
        .engine
        .snapshot(who.experience.as_str(), who.consumer.as_str())
        .await?;
    let tag = etag(&state);
    let tag_value = HeaderValue::from_str(&tag).map_err(AppError::internal)?;
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let answer = if matches {
        PollAnswer::NotModified
    } else {
        PollAnswer::Changed
    };
    app.engine.counters().polls.get(answer).inc();
    let mut response = match answer {
        PollAnswer::NotModified => StatusCode::NOT_MODIFIED.into_response(),
        PollAnswer::Changed => Json(state).into_response(),
    };
    response.headers_mut().insert(header::ETAG, tag_value);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// `POST /api/experiences/{experienceId}/redeem`.
pub async fn redeem(
    State(app): State<AppState>,
    ExperiencePath(experience): ExperiencePath,
    ApiJson(body): ApiJson<RedeemRequest>,
) -> Result<Json<RedeemResponse>, AppError> {
    if !is_grant_shaped(&body.grant) {
        return Err(AppError::bad_request("grant is malformed"));
    }
    Ok(Json(
        app.engine.redeem(experience.as_str(), &body.grant).await?,
    ))
}
