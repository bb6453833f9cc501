//! `GET /api/sse/queue/{experienceId}`: the update stream as Server-Sent Events.
//!
//! The body is a stream polled by hyper itself: no task and no channel per connection, and
//! a client that reads slowly simply stops being polled (its fan-out receiver then lags and
//! it resyncs from a snapshot). Frames are written by hand rather than with axum's `Sse`
//! type so that a broadcast's bytes, encoded once, are shared by every connection.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use livequeue_protocol::sse::SNAPSHOT;
use livequeue_protocol::supervisor::TransportKind;
use livequeue_protocol::{Cursor, EventId, ServerEvent};

use crate::AppState;
use crate::conn::{Feed, Outgoing};
use crate::engine::fanout::{sse_event, sse_state};
use crate::engine::{Push, Start};
use crate::error::AppError;
use crate::front::direct::Frames;
use crate::metrics::Frame;
use crate::routes::{ApiQuery, ExperiencePath, ReadParams};

/// The header browsers send on reconnect with the last `id:` they saw (the SSE standard's,
/// not this protocol's: the query parameter is [`livequeue_protocol::paths::LAST_EVENT_ID`]).
pub const LAST_EVENT_ID_HEADER: HeaderName = HeaderName::from_static("last-event-id");

/// Opens the stream.
pub async fn stream(
    State(app): State<AppState>,
    ExperiencePath(experience): ExperiencePath,
    ApiQuery(params): ApiQuery<ReadParams>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    app.transport_allowed(TransportKind::Sse)?;
    let who = params.authorize(&app, &experience).await?;
    let resume = resume_cursor(&headers, params.last_event_id.as_deref())?;
    let (start, sub) = app
        .engine
        .subscribe(
            who.experience.as_str(),
            who.consumer.as_str(),
            Push::Sse,
            resume,
        )
        .await?;

    let mut first = Vec::new();
    let mut feed = Feed::new(sub);
    match start {
        Start::Fresh(state) => first.push((sse_state(&state, None), Frame::Snapshot)),
        Start::Snapshot(state) => {
            first.push((sse_state(&state, Some(SNAPSHOT)), Frame::Snapshot));
        }
        Start::Replay(events) => {
            first.extend(events.iter().map(|e| (e.sse.clone(), Frame::Update)));
            first.extend(feed.private_now().into_iter().filter_map(frame));
        }
    }
    let counters = feed.subscription().counters();
    let mut first: Vec<Bytes> = first
        .into_iter()
        .map(|(bytes, kind)| {
            counters.frame_sent(Push::Sse, kind);
            bytes
        })
        .collect();

    // Jittered, so a restart does not bring every browser back in the same instant. Sent in
    // the first frame's block, where every client parser takes it.
    let retry = app.config.sse_retry_ms + rand::random_range(0..=app.config.sse_retry_ms);
    let retry = format!("retry: {retry}\n");
    match first.first_mut() {
        Some(frame) => *frame = [retry.as_bytes(), frame].concat().into(),
        None => first.push(Bytes::from(retry + "\n")),
    }

    let updates = stream::unfold(feed, |mut feed| async move {
        loop {
            match feed.next().await {
                Outgoing::Shutdown => return None,
                // WebSocket-only.
                Outgoing::Ping => continue,
                out => {
                    if let Some((bytes, kind)) = frame(out) {
                        feed.subscription().counters().frame_sent(Push::Sse, kind);
                        return Some((bytes, feed));
                    }
                }
            }
        }
    });
    Ok(event_stream(stream::iter(first).chain(updates)))
}

/// A `200 text/event-stream` answer of `frames`, with the headers every event stream
/// here carries: no caching, kept alive, and no buffering by a proxy (nginx's
/// `X-Accel-Buffering`), which would hold frames back.
///
/// The frames also wait in the answer's extensions ([`crate::front::direct`]), where the
/// front takes them to write them without the router's body layers.
pub fn event_stream(frames: impl Stream<Item = Bytes> + Send + 'static) -> Response {
    let (frames, body) = Frames::new(frames);
    let mut response = Body::from_stream(body.map(Ok::<_, Infallible>)).into_response();
    response.extensions_mut().insert(frames);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The SSE frame of one outgoing item and its kind (for the metrics), if SSE sends it.
fn frame(out: Outgoing) -> Option<(Bytes, Frame)> {
    let update = |bytes| Some((bytes, Frame::Update));
    match out {
        Outgoing::Event(e) => update(e.sse.clone()),
        Outgoing::Position(p, cursor) => update(sse_event(&ServerEvent::PositionUpdate(p), cursor)),
        Outgoing::Admission(a, cursor) => update(sse_event(&ServerEvent::Admission(a), cursor)),
        Outgoing::Resync(state) => Some((sse_state(&state, Some(SNAPSHOT)), Frame::Snapshot)),
        Outgoing::Heartbeat(bytes) => Some((bytes, Frame::Heartbeat)),
        Outgoing::Raw(raw) => update(raw.sse.clone()),
        Outgoing::Ping | Outgoing::Shutdown => None,
    }
}

/// The cursor to resume after: the `Last-Event-ID` header (sent by browsers on reconnect),
/// else the `lastEventId` query parameter (for a first connection that already holds state).
fn resume_cursor(headers: &HeaderMap, query: Option<&str>) -> Result<Option<Cursor>, AppError> {
    let header = headers
        .get(LAST_EVENT_ID_HEADER)
        .map(|v| {
            v.to_str()
                .map_err(|_| AppError::bad_request("Last-Event-ID is not visible ASCII"))
        })
        .transpose()?;
    match header.or(query).map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(id) => id
            .parse::<EventId>()
            .map(|id| Some(id.0))
            .map_err(|e| AppError::bad_request(format!("Last-Event-ID: {e}"))),
    }
}
