//! `GET /ws/queue`: the update stream over WebSocket.
//!
//! Parameters and token are checked before the upgrade (by the same
//! [`AppState::authorize`] as the HTTP endpoints), but a failure is reported after it, as a
//! [`CloseCode`] that a browser's `CloseEvent` exposes; an HTTP status would reach a browser
//! only as a nameless error. A foreign `Origin` is refused before the
//! upgrade (403), since no WebSocket should exist for it at all.

use std::future::Future;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
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

/// Bytes read from the socket at a time (tungstenite's read buffer, kept per connection).
pub const READ_BUFFER: usize = 512;

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
    // The first message is encoded now, so the connection's task never holds the state it
    // was made from.
    let outcome = open(&app, params)
        .await
        .map(|(start, sub)| (first_message(start, &sub), sub));
    let config = app.config.clone();
    let ws = ws
        // Small buffers: most connections are idle, and memory per connection is a product
        // figure (≤ 4 KB). Clients send a few small messages (`ping`, `refresh`), so reads
        // of 512 bytes lose nothing; a larger frame is still read whole (the buffer grows
        // to the frame's length for it). Messages are written whole (write buffer 0); a
        // peer that stops reading makes sends wait, and a send that waits too long closes
        // as a slow consumer.
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(4 * MAX_CLIENT_MESSAGE)
        .max_frame_size(4 * MAX_CLIENT_MESSAGE);
    Ok(ws
        .on_upgrade(move |socket: WebSocket| serve(socket, outcome, &config))
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

/// The `initial_state` message a connection starts with.
pub fn first_message(start: Start, sub: &Subscription) -> Message {
    let data = match start {
        Start::Fresh(state) | Start::Snapshot(state) => state,
        // WebSocket clients resync with `refresh`, never by replay.
        Start::Replay(_) => sub.snapshot(),
    };
    text(WsServerMessage::InitialState { data }.to_json())
}

/// The connection's life, generic over the socket so tests can drive it with channels.
pub async fn run<S>(socket: S, start: Start, sub: Subscription, config: &Config)
where
    S: Sink<Message> + Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let first = first_message(start, &sub);
    Connection::new(socket, sub, config).run(first).await;
}

/// The upgraded connection's task: a refusal's close, or the connection's life. A plain
/// function returning one of two futures, not an `async fn`, so that nothing it was given
/// is kept beside the future it starts.
fn serve(
    socket: WebSocket,
    outcome: Result<(Message, Subscription), CloseCode>,
    config: &Config,
) -> impl Future<Output = ()> + Send + use<> {
    match outcome {
        Err(code) => Either::Left(Box::pin(async move {
            let mut socket = socket;
            close_with(&mut socket, code).await;
        })),
        Ok((first, sub)) => Either::Right(Connection::new(socket, sub, config).run(first)),
    }
}

/// One open connection: everything its task holds for the connection's whole life. Its
/// size is paid per open connection (the product's figure is ≤ 4 KB with the socket's
/// buffers), so [`Connection::run`] keeps little beside it: the paths taken once (the
/// first send, every close) are boxed, and waiting is apart from handling.
pub struct Connection<S> {
    socket: S,
    feed: Feed,
    /// A send that waits longer closes the connection as a slow consumer.
    send_timeout: Duration,
    /// The ping interval: a peer silent for two of them is gone.
    ping_every: Duration,
}

/// What woke a connection.
enum Woke {
    Out(Outgoing),
    In(Option<Result<Message, axum::Error>>),
}

/// What a connection does next.
enum Step {
    /// Send a message: an update or, with `reply`, the answer to the peer's message.
    Send {
        message: Message,
        kind: Frame,
        reply: bool,
    },
    /// Nothing to send.
    Skip,
    /// Close with this code.
    Close(CloseCode),
    /// The peer is gone or closed.
    End,
}

impl<S> Connection<S>
where
    S: Sink<Message> + Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    /// A connection over `socket` fed by `sub`.
    pub fn new(socket: S, sub: Subscription, config: &Config) -> Self {
        Self {
            socket,
            feed: Feed::new(sub),
            send_timeout: config.ws_send_timeout,
            ping_every: config.engine.ws_ping,
        }
    }

    /// Sends `first`, then updates and answers until either side ends.
    ///
    /// Not an `async fn`: an async fn keeps its arguments twice in its future (once as
    /// given, once as the body's bindings: rust-lang/rust#62958), and this future's size is
    /// paid per open connection. The block below uses `self` where it was captured.
    #[allow(
        clippy::manual_async_fn,
        reason = "an async fn keeps its arguments twice"
    )]
    pub fn run(mut self, first: Message) -> impl Future<Output = ()> + use<S> {
        async move {
            if Box::pin(send(&mut self.socket, first, self.send_timeout)).await != Sent::Done {
                return;
            }
            self.sent(Frame::Snapshot);
            let mut last_seen = Instant::now();
            loop {
                let step = match self.wake().await {
                    Woke::Out(out) => self.outgoing(out, last_seen),
                    Woke::In(incoming) => {
                        if matches!(incoming, Some(Ok(_))) {
                            last_seen = Instant::now();
                        }
                        self.incoming(incoming)
                    }
                };
                let (message, kind, reply) = match step {
                    Step::Send {
                        message,
                        kind,
                        reply,
                    } => (message, kind, reply),
                    Step::Skip => continue,
                    Step::End => return,
                    Step::Close(code) => {
                        Box::pin(close_with(&mut self.socket, code)).await;
                        return;
                    }
                };
                let sent = match timeout(self.send_timeout, self.socket.send(message)).await {
                    Ok(Ok(())) => Sent::Done,
                    Ok(Err(_)) => Sent::Gone,
                    Err(_) => Sent::Slow,
                };
                match sent {
                    Sent::Done => self.sent(kind),
                    Sent::Slow if !reply => {
                        self.feed
                            .subscription()
                            .counters()
                            .slow_consumer_disconnects
                            .get(Push::WebSocket)
                            .inc();
                        Box::pin(close_with(&mut self.socket, CloseCode::SlowConsumer)).await;
                        return;
                    }
                    Sent::Slow | Sent::Gone => return,
                }
            }
        }
    }

    /// Waits for the next item of the feed or message of the peer.
    async fn wake(&mut self) -> Woke {
        tokio::select! {
            out = self.feed.next() => Woke::Out(out),
            incoming = self.socket.next() => Woke::In(incoming),
        }
    }

    fn sent(&self, kind: Frame) {
        self.feed
            .subscription()
            .counters()
            .frame_sent(Push::WebSocket, kind);
    }

    /// What to send for an item of the feed.
    fn outgoing(&self, out: Outgoing, last_seen: Instant) -> Step {
        let update = |message| Step::Send {
            message,
            kind: Frame::Update,
            reply: false,
        };
        match out {
            Outgoing::Event(e) => update(Message::Text(e.ws.clone())),
            Outgoing::Position(p, cursor) => update(event(ServerEvent::PositionUpdate(p), cursor)),
            Outgoing::Admission(a, cursor) => update(event(ServerEvent::Admission(a), cursor)),
            Outgoing::Resync(state) => Step::Send {
                message: text(WsServerMessage::StateRefresh { data: *state }.to_json()),
                kind: Frame::Snapshot,
                reply: false,
            },
            Outgoing::Heartbeat(_) => Step::Skip,
            Outgoing::Raw(raw) => update(Message::Text(raw.ws.clone())),
            Outgoing::Ping if last_seen.elapsed() > self.ping_every * 2 => {
                Step::Close(CloseCode::GoingAway)
            }
            Outgoing::Ping => Step::Send {
                message: Message::Ping(Default::default()),
                kind: Frame::Heartbeat,
                reply: false,
            },
            Outgoing::Shutdown => Step::Close(CloseCode::Restart),
        }
    }

    /// What to answer to what the peer sent.
    fn incoming(&self, incoming: Option<Result<Message, axum::Error>>) -> Step {
        let message = match incoming {
            Some(Ok(m)) => m,
            // Too big for the transport's own limit, or a broken connection.
            Some(Err(_)) => return Step::Close(CloseCode::TooBig),
            None => return Step::End,
        };
        let (reply, kind) = match message {
            Message::Text(t) if t.len() > MAX_CLIENT_MESSAGE => {
                return Step::Close(CloseCode::TooBig);
            }
            Message::Text(t) => match serde_json::from_str::<WsClientMessage>(t.as_str()) {
                Ok(WsClientMessage::Ping) => (WsServerMessage::Pong, Frame::Update),
                Ok(WsClientMessage::Refresh) => {
                    let sub = self.feed.subscription();
                    sub.counters().resync(Resync::Refresh);
                    let data = sub.snapshot();
                    (WsServerMessage::StateRefresh { data }, Frame::Snapshot)
                }
                Err(_) => (
                    WsServerMessage::Error {
                        message: "Invalid message format".into(),
                    },
                    Frame::Update,
                ),
            },
            Message::Binary(_) => return Step::Close(CloseCode::Unsupported),
            Message::Close(_) => return Step::End,
            // Pongs (and pings, answered by the library) only prove liveness.
            Message::Ping(_) | Message::Pong(_) => return Step::Skip,
        };
        Step::Send {
            message: text(reply.to_json()),
            kind,
            reply: true,
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
