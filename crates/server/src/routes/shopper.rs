//! The shopper's own actions on their place, each behind their `consumerId` and `token` in
//! the query (the same [`crate::AppState::authorize`] as the read endpoints): extend the
//! grant (WCAG 2.2.1, timing adjustable), reserve units against it, leave the line.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use livequeue_protocol::Admission;
use livequeue_protocol::api::{ReserveRequest, ReserveResponse};

use crate::AppState;
use crate::error::AppError;
use crate::routes::{ApiJson, ApiQuery, ExperiencePath, ReadParams};

/// Longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// `POST /api/experiences/{experienceId}/extend`: `200` with the extended admission.
pub async fn extend(
    State(app): State<AppState>,
    ExperiencePath(experience): ExperiencePath,
    ApiQuery(params): ApiQuery<ReadParams>,
) -> Result<Json<Admission>, AppError> {
    let who = params.authorize(&app, &experience).await?;
    let admission = app
        .engine
        .extend(who.experience.as_str(), who.consumer.as_str())
        .await?;
    Ok(Json(admission))
}

/// `POST /api/experiences/{experienceId}/reserve`: `200` with the grant's units and stock.
pub async fn reserve(
    State(app): State<AppState>,
    ExperiencePath(experience): ExperiencePath,
    ApiQuery(params): ApiQuery<ReadParams>,
    ApiJson(body): ApiJson<ReserveRequest>,
) -> Result<Json<ReserveResponse>, AppError> {
    let who = params.authorize(&app, &experience).await?;
    check(&body)?;
    let answer = app
        .engine
        .reserve(who.experience.as_str(), who.consumer.as_str(), &body)
        .await?;
    Ok(Json(answer))
}

/// A reservation's shape: at least one unit, and a key of 1–128 visible ASCII characters.
fn check(body: &ReserveRequest) -> Result<(), AppError> {
    let key = &body.idempotency_key;
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(AppError::bad_request(format!(
            "idempotencyKey must be 1-{MAX_IDEMPOTENCY_KEY} visible ASCII characters"
        )));
    }
    if body.quantity == 0 {
        return Err(AppError::bad_request("quantity must be at least 1"));
    }
    Ok(())
}

/// `POST /api/experiences/{experienceId}/leave`: `204`, also when already gone.
pub async fn leave(
    State(app): State<AppState>,
    ExperiencePath(experience): ExperiencePath,
    ApiQuery(params): ApiQuery<ReadParams>,
) -> Result<StatusCode, AppError> {
    let who = params.authorize(&app, &experience).await?;
    app.engine
        .leave(who.experience.as_str(), who.consumer.as_str())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
