//! `GET /ws/queue`: the update stream over WebSocket.
//!
//! Parameters and token are checked before the upgrade (by the same
//! [`AppState::authorize`] as the HTTP endpoints), but a failure is reported after it, as a
//! [`CloseCode`] that a browser's `CloseEvent` exposes; an HTTP status would reach a browser
//! only as a nameless error. A foreign `Origin` is refused before the
//! upgrade (403), since no WebSocket should exist for it at all.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use livequeue_protocol::supervisor::TransportKind;
use livequeue_protocol::{
    CloseCode, Cursor, ExperienceId, ServerEvent, WsClientMessage, WsServerMessage, paths,
};
use serde::Deserialize;
use tokio::time::{Instant, timeout};

use crate::auth::AuthError;
use crate::conn::{Feed, Outgoing};
use crate::engine::{EngineError, Push, Start, Subscription};
use crate::error::AppError;
use crate::metrics::{Frame, Resync};
use crate::routes::ApiQuery;
use crate::state::required;
use crate::{AppState, Config};

/// Largest client message accepted; larger ones close with [`CloseCode::TooBig`].
pub const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

/// Query parameters of the upgrade, all optional so that absence becomes
/// [`CloseCode::MissingParameters`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WsParams {
    experience_id: Option<String>,
    consumer_id: Option<String>,
    token: Option<String>,
}

/// Checks origin and parameters, then upgrades.
pub async fn upgrade(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<WsParams>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    if !app.origin_allowed(&headers) {
        return Err(AppError::forbidden_origin());
    }
    app.transport_allowed(TransportKind::WebSocket)?;
    let ws = ws.map_err(|r| AppError::bad_request(r.body_text()))?;
    let outcome = open(&app, params).await;
    let config = app.config.clone();
    let ws = ws
        // Small buffers: most connections are idle, and memory per connection is a product
        // figure. Messages are written whole (write buffer 0); a peer that stops reading
        // makes sends wait, and a send that waits too long closes as a slow consumer.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(4 * MAX_CLIENT_MESSAGE)
        .max_frame_size(4 * MAX_CLIENT_MESSAGE);
    Ok(ws
        .on_upgrade(move |socket: WebSocket| async move {
            match outcome {
                Err(code) => {
                    let mut socket = socket;
                    close_with(&mut socket, code).await;
                }
                Ok((start, sub)) => run(socket, start, sub, &config).await,
            }
        })
        .into_response())
}

/// Authorizes and subscribes, or says with which code to close.
async fn open(app: &AppState, params: WsParams) -> Result<(Start, Subscription), CloseCode> {
    let experience = required(params.experience_id.as_deref(), paths::EXPERIENCE_ID)
        .and_then(|id| id.parse::<ExperienceId>().map_err(AuthError::from))
        .map_err(|e| e.close_code())?;
    let who = app
        .authorize(
            &experience,
            params.consumer_id.as_deref(),
            params.token.as_deref(),
        )
        .await
        .map_err(|e| e.close_code())?;
    app.engine
        .subscribe(
            who.experience.as_str(),
            who.consumer.as_str(),
            Push::WebSocket,
            None,
        )
        .await
        .map_err(|e| match e {
            EngineError::UnknownExperience(_) => CloseCode::UnknownExperience,
            EngineError::ShuttingDown => CloseCode::Restart,
            EngineError::Unavailable(_) => CloseCode::TryAgainLater,
            // Authorized a moment ago: the shopper is known, so anything else is the engine
            // refusing them, which a client treats as a bad token.
            _ => CloseCode::BadToken,
        })
}

/// Sends a close frame with `code` and its reason, giving up after a second (the peer may be
/// gone).
async fn close_with<S>(socket: &mut S, code: CloseCode)
where
    S: Sink<Message> + Unpin,
{
    let frame = CloseFrame {
        code: code.code(),
        reason: Utf8Bytes::from_static(code.reason()),
    };
    // The peer may already be gone; there is nobody left to tell.
    let _ = timeout(
        Duration::from_secs(1),
        socket.send(Message::Close(Some(frame))),
    )
    .await;
}

/// The connection's life, generic over the socket so tests can drive it with channels.
pub async fn run<S>(mut socket: S, start: Start, sub: Subscription, config: &Config)
where
    S: Sink<Message> + Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let first = match start {
        Start::Fresh(state) | Start::Snapshot(state) => {
            WsServerMessage::InitialState { data: state }
        }
        // WebSocket clients resync with `refresh`, never by replay.
        Start::Replay(_) => WsServerMessage::InitialState {
            data: sub.snapshot(),
        },
    };
    let mut feed = Feed::new(sub);
    let send_timeout = config.ws_send_timeout;
    let ping_every = config.engine.ws_ping;
    if send(&mut socket, text(first.to_json()), send_timeout).await != Sent::Done {
        return;
    }
    let sent = |feed: &Feed, kind| {
        feed.subscription()
            .counters()
            .frame_sent(Push::WebSocket, kind);
    };
    sent(&feed, Frame::Snapshot);
    let mut last_seen = Instant::now();
    loop {
        tokio::select! {
            out = feed.next() => {
                let (message, kind) = match out {
                    Outgoing::Event(e) => (Message::Text(e.ws.clone()), Frame::Update),
                    Outgoing::Position(p, cursor) => {
                        (event(ServerEvent::PositionUpdate(p), cursor), Frame::Update)
                    }
                    Outgoing::Admission(a, cursor) => {
                        (event(ServerEvent::Admission(a), cursor), Frame::Update)
                    }
                    Outgoing::Resync(state) => (
                        text(WsServerMessage::StateRefresh { data: *state }.to_json()),
                        Frame::Snapshot,
                    ),
                    Outgoing::Heartbeat(_) => continue,
                    Outgoing::Raw(raw) => (Message::Text(raw.ws.clone()), Frame::Update),
                    Outgoing::Ping => {
                        if last_seen.elapsed() > ping_every * 2 {
                            close_with(&mut socket, CloseCode::GoingAway).await;
                            return;
                        }
                        (Message::Ping(Default::default()), Frame::Heartbeat)
                    }
                    Outgoing::Shutdown => {
                        close_with(&mut socket, CloseCode::Restart).await;
                        return;
                    }
                };
                match send(&mut socket, message, send_timeout).await {
                    Sent::Done => sent(&feed, kind),
                    Sent::Gone => return,
                    Sent::Slow => {
                        feed.subscription()
                            .counters()
                            .slow_consumer_disconnects
                            .get(Push::WebSocket)
                            .inc();
                        close_with(&mut socket, CloseCode::SlowConsumer).await;
                        return;
                    }
                }
            }
            incoming = socket.next() => {
                let message = match incoming {
                    Some(Ok(m)) => m,
                    // Too big for the transport's own limit, or a broken connection.
                    Some(Err(_)) => {
                        close_with(&mut socket, CloseCode::TooBig).await;
                        return;
                    }
                    None => return,
                };
                last_seen = Instant::now();
                let (reply, kind) = match message {
                    Message::Text(t) if t.len() > MAX_CLIENT_MESSAGE => {
                        close_with(&mut socket, CloseCode::TooBig).await;
                        return;
                    }
                    Message::Text(t) => match serde_json::from_str::<WsClientMessage>(t.as_str()) {
                        Ok(WsClientMessage::Ping) => (WsServerMessage::Pong, Frame::Update),
                        Ok(WsClientMessage::Refresh) => {
                            feed.subscription().counters().resync(Resync::Refresh);
                            let data = feed.subscription().snapshot();
                            (WsServerMessage::StateRefresh { data }, Frame::Snapshot)
                        }
                        Err(_) => (
                            WsServerMessage::Error { message: "Invalid message format".into() },
                            Frame::Update,
                        ),
                    },
                    Message::Binary(_) => {
                        close_with(&mut socket, CloseCode::Unsupported).await;
                        return;
                    }
                    Message::Close(_) => return,
                    // Pongs (and pings, answered by the library) only prove liveness.
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                if send(&mut socket, text(reply.to_json()), send_timeout).await != Sent::Done {
                    return;
                }
                sent(&feed, kind);
            }
        }
    }
}

fn text(json: String) -> Message {
    Message::Text(json.into())
}

fn event(event: ServerEvent, cursor: Cursor) -> Message {
    text(WsServerMessage::event(event, cursor).to_json())
}

/// How a send went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Done,
    /// The connection is broken.
    Gone,
    /// The peer did not take the message within the limit.
    Slow,
}

/// Sends one message within `limit`.
async fn send<S>(socket: &mut S, message: Message, limit: Duration) -> Sent
where
    S: Sink<Message> + Unpin,
{
    match timeout(limit, socket.send(message)).await {
        Ok(Ok(())) => Sent::Done,
        Ok(Err(_)) => Sent::Gone,
        Err(_) => Sent::Slow,
    }
}
