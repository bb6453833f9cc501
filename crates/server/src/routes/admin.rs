//! The operator's API, behind `Authorization: Bearer $LIVEQUEUE_ADMIN_TOKEN`: experiences
//! (list, create, read, change, admit), the anonymous page of the line, the ticket that
//! opens the operator stream ([`super::operator_stream`]), and the controls for demos and
//! tests (synthetic joins, injected frames, refused transports).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use livequeue_protocol::api::{
    AdmitRequest, CreateExperience, EntriesPage, ExperienceList, ExperienceSummary, MAX_ENTRIES,
    MAX_SYNTHETIC_JOINS, PatchExperience, StreamTicket, SyntheticJoins,
};
use serde::Deserialize;

use livequeue_protocol::ExperienceId;
use livequeue_protocol::sse::encode_frame;
use livequeue_protocol::supervisor::TransportKind;

use crate::AppState;
use crate::auth::STREAM_TICKET_SECS;
use crate::engine::experience::Holder;
use crate::engine::fanout::Raw;
use crate::error::AppError;
use crate::routes::{ApiJson, ApiQuery, ExperiencePath};

/// Refuses a request without the operator's `Authorization: Bearer …` (401).
pub fn require_admin(app: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
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

/// `GET /api/admin/experiences`: every experience, ordered by id.
pub async fn list(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ExperienceList>, AppError> {
    require_admin(&app, &headers)?;
    Ok(Json(ExperienceList {
        experiences: app.engine.summaries().await?,
    }))
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
    Ok((StatusCode::CREATED, Json(app.engine.create(body).await?)))
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
    Ok(Json(app.engine.patch(id.as_str(), &body).await?))
}

/// `POST /api/admin/experiences/{experienceId}/admit`.
pub async fn admit(
    State(app): State<AppState>,
    headers: HeaderMap,
    ExperiencePath(id): ExperiencePath,
    ApiJson(body): ApiJson<AdmitRequest>,
) -> Result<Json<ExperienceSummary>, AppError> {
    require_admin(&app, &headers)?;
    Ok(Json(app.engine.admit(id.as_str(), body.count).await?))
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
    app.engine.inject(id.as_str(), raw).await?;
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
    Ok(Json(app.engine.summary(id.as_str()).await?))
}

/// Paging of the line: `offset` 0-based (default 0), `limit` rows (default 100).
#[derive(Debug, Deserialize)]
pub struct EntriesParams {
    /// Waiting shoppers to skip.
    offset: Option<u64>,
    /// Rows wanted, 1 to [`MAX_ENTRIES`].
    limit: Option<u64>,
}

/// `GET /api/experiences/{experienceId}/entries`: a page of the line, with anonymous
/// labels, served in O(limit + log departures) wherever it starts.
pub async fn entries(
    State(app): State<AppState>,
    headers: HeaderMap,
    ExperiencePath(experience): ExperiencePath,
    params: Result<ApiQuery<EntriesParams>, AppError>,
) -> Result<Json<EntriesPage>, AppError> {
    // The token first: a stranger learns nothing, not even which queries are well formed.
    require_admin(&app, &headers)?;
    let ApiQuery(params) = params?;
    let limit = params.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_ENTRIES {
        return Err(AppError::bad_request(format!(
            "limit must be 1..={MAX_ENTRIES}"
        )));
    }
    let auth = app.auth.clone();
    let page = app
        .engine
        .entries(
            experience.as_str(),
            params.offset.unwrap_or(0),
            limit,
            |holder| match holder {
                Holder::Shopper(consumer) => auth.label(consumer),
                Holder::Synthetic(ticket) => auth.synthetic_label(*ticket),
            },
        )
        .await?;
    Ok(Json(page))
}

/// `POST /api/admin/stream-ticket`: a ticket that opens operator streams for
/// [`STREAM_TICKET_SECS`] (an `EventSource` cannot send the operator token as a header,
/// and the token must never stand in a URL).
pub async fn stream_ticket(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<StreamTicket>, AppError> {
    require_admin(&app, &headers)?;
    let ticket = app
        .auth
        .issue_stream_ticket(app.engine.now_ms() / 1000)
        // `require_admin` passed, so an operator token is configured.
        .ok_or_else(|| AppError::internal("stream ticket without an operator token"))?;
    Ok(Json(StreamTicket {
        ticket,
        expires_in_seconds: STREAM_TICKET_SECS,
    }))
}

/// `POST /api/admin/experiences/{experienceId}/synthetic`: only with `--demo` or
/// `--test-controls`. `count` anonymous shoppers join the back of the line at once.
pub async fn synthetic(
    State(app): State<AppState>,
    headers: HeaderMap,
    ExperiencePath(id): ExperiencePath,
    body: Result<ApiJson<SyntheticJoins>, AppError>,
) -> Result<Json<ExperienceSummary>, AppError> {
    if !(app.config.demo || app.config.test_controls) {
        return Err(AppError::not_found(
            "synthetic joins are off: they exist only with --demo or --test-controls",
        ));
    }
    require_admin(&app, &headers)?;
    let ApiJson(SyntheticJoins { count }) = body?;
    if !(1..=MAX_SYNTHETIC_JOINS).contains(&count) {
        return Err(AppError::bad_request(format!(
            "count must be 1..={MAX_SYNTHETIC_JOINS}"
        )));
    }
    let summary = app.engine.join_synthetic(id.as_str(), count).await?;
    Ok(Json(summary))
}
