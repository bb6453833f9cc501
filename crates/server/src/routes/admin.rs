//! The operator's API, behind `Authorization: Bearer $LIVEQUEUE_ADMIN_TOKEN`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use livequeue_protocol::api::{AdmitRequest, CreateExperience, ExperienceSummary, PatchExperience};

use livequeue_protocol::ExperienceId;
use livequeue_protocol::sse::encode_frame;
use livequeue_protocol::supervisor::TransportKind;

use crate::AppState;
use crate::engine::fanout::Raw;
use crate::error::AppError;
use crate::routes::{ApiJson, ExperiencePath};

fn require_admin(app: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if app.auth.is_admin(given) {
        Ok(())
    } else {
        Err(AppError::unauthorized(
            "operator token missing or wrong (Authorization: Bearer …)",
        ))
    }
}

fn valid_rate(rate: f64) -> Result<f64, AppError> {
    if rate.is_finite() && (0.0..=1_000_000.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(AppError::bad_request(
            "admissionRatePerMinute must be between 0 and 1000000",
        ))
    }
}

/// `POST /api/admin/experiences`.
pub async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateExperience>,
) -> Result<(StatusCode, Json<ExperienceSummary>), AppError> {
    require_admin(&app, &headers)?;
    let _: ExperienceId = body.id.parse()?;
    if body.name.is_empty() || body.name.len() > 200 {
        return Err(AppError::bad_request("name must be 1-200 bytes"));
    }
    valid_rate(body.admission_rate_per_minute)?;
    Ok((StatusCode::CREATED, Json(app.engine.create(body)?)))
}

/// `PATCH /api/admin/experiences/{experienceId}`.
pub async fn patch(
    State(app): State<AppState>,
    headers: HeaderMap,
    ExperiencePath(id): ExperiencePath,
    ApiJson(body): ApiJson<PatchExperience>,
) -> Result<Json<ExperienceSummary>, AppError> {
    require_admin(&app, &headers)?;
    body.admission_rate_per_minute.map(valid_rate).transpose()?;
    Ok(Json(app.engine.patch(id.as_str(), &body)?))
}

/// `POST /api/admin/experiences/{experienceId}/admit`.
pub async fn admit(
    State(app): State<AppState>,
    headers: HeaderMap,
    ExperiencePath(id): ExperiencePath,
    ApiJson(body): ApiJson<AdmitRequest>,
) -> Result<Json<ExperienceSummary>, AppError> {
    require_admin(&app, &headers)?;
    Ok(Json(app.engine.admit(id.as_str(), body.count)?))
}

/// Body of the test control `POST /api/admin/experiences/{experienceId}/inject`.
#[derive(Debug, serde::Deserialize)]
pub struct Inject {
    /// SSE event name of the frame.
    event: String,
    /// The frame's data, sent unchecked (SSE `data:` line, WebSocket text).
    data: String,
}

/// `POST /api/admin/experiences/{experienceId}/inject`: only with `--test-controls`. Sends a
/// frame as given, so clients can be tested against malformed input from a real server.
pub async fn inject(
    State(app): State<AppState>,
    headers: HeaderMap,
    ExperiencePath(id): ExperiencePath,
    ApiJson(body): ApiJson<Inject>,
) -> Result<StatusCode, AppError> {
    if !app.config.test_controls {
        return Err(AppError::not_found(
            "test controls are off (--test-controls)",
        ));
    }
    require_admin(&app, &headers)?;
    let one_line = |s: &str| s.replace(['\r', '\n'], " ");
    let sse = encode_frame(None, Some(&one_line(&body.event)), &one_line(&body.data));
    let raw = Raw {
        sse: sse.into(),
        ws: body.data.into(),
    };
    app.engine.inject(id.as_str(), raw)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of the test control `PUT /api/admin/transports`.
#[derive(Debug, serde::Deserialize)]
pub struct Refuse {
    /// Transports to refuse from now on (`ws`, `sse`, `poll`); empty allows all.
    refuse: Vec<String>,
}

/// `PUT /api/admin/transports`: only with `--test-controls`. Refuses transports from now on,
/// so clients' fallback and return to push can be tested against one running server.
pub async fn refuse_transports(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Refuse>,
) -> Result<StatusCode, AppError> {
    if !app.config.test_controls {
        return Err(AppError::not_found(
            "test controls are off (--test-controls)",
        ));
    }
    require_admin(&app, &headers)?;
    let kinds = body
        .refuse
        .iter()
        .map(|name| {
            TransportKind::parse(name)
                .ok_or_else(|| AppError::bad_request(format!("unknown transport `{name}`")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    *app.refused.write().unwrap_or_else(|p| p.into_inner()) = kinds;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/admin/experiences/{experienceId}`.
pub async fn get(
    State(app): State<AppState>,
    headers: HeaderMap,
    ExperiencePath(id): ExperiencePath,
) -> Result<Json<ExperienceSummary>, AppError> {
    require_admin(&app, &headers)?;
    Ok(Json(app.engine.summary(id.as_str())?))
}
