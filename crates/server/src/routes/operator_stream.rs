//! `GET /api/admin/experiences/{experienceId}/stream?ticket=`: the operator's live figures
//! as Server-Sent Events.
//!
//! Opened with a stream ticket ([`crate::auth`]; `POST /api/admin/stream-ticket`), since
//! an `EventSource` cannot send the operator token. Each frame is
//! `event: figures` ([`FIGURES_EVENT`]) with an [`OperatorFigures`] as data: one at once,
//! then one a second. A frame a second is its own heartbeat, so no other is sent. Unlike a
//! shopper's stream this one does not subscribe to the experience's fan-out (it is not a
//! shopper, and is not counted among the connections): it reads the figures on its own
//! timer and ends when the engine shuts down.

use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream;
use livequeue_protocol::api::FIGURES_EVENT;
#[cfg(doc)]
use livequeue_protocol::api::OperatorFigures;
use livequeue_protocol::sse::encode_frame;
use serde::Deserialize;
use tokio::time::MissedTickBehavior;

use crate::AppState;
use crate::engine::EngineError;
use crate::error::AppError;
use crate::metrics::Open;
use crate::routes::sse::event_stream;
use crate::routes::{ApiQuery, ExperiencePath};

/// How often a frame is sent.
pub const PERIOD: Duration = Duration::from_secs(1);

/// Query of the operator stream.
#[derive(Debug, Deserialize)]
pub struct StreamParams {
    /// The stream ticket ([`livequeue_protocol::paths::TICKET`]).
    ticket: Option<String>,
}

/// Opens the stream: 400 without a ticket, 401 with a malformed, forged or expired one
/// (the message says which), 404 for an unknown experience.
pub async fn stream(
    State(app): State<AppState>,
    ExperiencePath(experience): ExperiencePath,
    ApiQuery(params): ApiQuery<StreamParams>,
) -> Result<Response, AppError> {
    let ticket = params.ticket.filter(|t| !t.is_empty()).ok_or_else(|| {
        AppError::bad_request("ticket is required: POST /api/admin/stream-ticket gives one")
    })?;
    app.auth
        .verify_stream_ticket(&ticket, app.engine.now_ms() / 1000)
        .map_err(|e| AppError::unauthorized(e.to_string()))?;
    if !app.engine.exists(experience.as_str()).await? {
        return Err(AppError::not_found(format!("no experience `{experience}`")));
    }

    let mut every = tokio::time::interval(PERIOD);
    // A stream that was not polled for a while (a slow reader) gets the figures of now,
    // not a burst of the ones it missed.
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let shutdown = app.engine.shutdown_signal();
    // Sent with the first frame, where every client parser takes it.
    let retry = Some(format!("retry: {}\n", app.config.sse_retry_ms));
    // Counted while the body lives: it drops when the stream ends or its client goes.
    let open = Open::new(&app.engine.counters().operator_streams);
    let frames = stream::unfold(
        (app, experience, every, shutdown, retry, open),
        |(app, experience, mut every, mut shutdown, retry, open)| async move {
            if *shutdown.borrow() {
                return None;
            }
            let figures = loop {
                // The first tick completes at once: the first frame goes out immediately.
                tokio::select! {
                    _ = every.tick() => {}
                    // Shut down (or the engine dropped its sender): end the stream.
                    _ = shutdown.changed() => return None,
                }
                match app.engine.figures(experience.as_str()).await {
                    Ok(figures) => break figures,
                    // Redis is away: the stream stays open, quiet, until it is back (the
                    // console says the figures are not live meanwhile).
                    Err(EngineError::Unavailable(_)) => continue,
                    // The experience cannot vanish (none is ever removed): if it did, end.
                    Err(_) => return None,
                }
            };
            // Plain data always serializes.
            let data = serde_json::to_string(&figures).unwrap_or_default();
            let frame = encode_frame(None, Some(FIGURES_EVENT), &data);
            let bytes = match &retry {
                Some(retry) => Bytes::from(format!("{retry}{frame}")),
                None => Bytes::from(frame),
            };
            Some((bytes, (app, experience, every, shutdown, None, open)))
        },
    );
    Ok(event_stream(frames))
}
