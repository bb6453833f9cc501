//! [`Feed`]: one shopper's update stream, over Server-Sent Events or a WebSocket, read as
//! the widget reads it: full states and update events, heartbeats and pings passed over.
//!
//! One type over both transports, so that a test of "the update reaches the shopper"
//! runs the same steps on each and names the transport only where it opens the stream.

use std::pin::Pin;
use std::time::Duration;

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use livequeue_protocol::api::JoinResponse;
use livequeue_protocol::paths::{CONSUMER_ID, EXPERIENCE_ID, TOKEN, query};
use livequeue_protocol::state::Admission;
use livequeue_protocol::{Endpoint, QueueState, ServerEvent, SseFrame, WsFrame};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::api::{Api, credentials, id};

/// The streaming transports a shopper's updates come over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `GET /api/sse/queue/{experience}`.
    Sse,
    /// `GET /ws/queue` upgraded.
    WebSocket,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Sse => "SSE",
            Transport::WebSocket => "WebSocket",
        })
    }
}

/// What a stream said, heartbeats and pings aside.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// The full state: the first message, a snapshot, a refresh.
    State(QueueState),
    /// One update event.
    Event(ServerEvent),
}

/// An event stream's events as `eventsource-stream` parses them.
type SseEvents =
    Pin<Box<dyn Stream<Item = Result<Event, EventStreamError<reqwest::Error>>> + Send>>;

/// An open stream of one shopper.
pub struct Feed {
    /// What the messages call it: transport and origin.
    name: String,
    stream: Socket,
}

/// The connection itself, one variant per [`Transport`].
enum Socket {
    Sse(SseEvents),
    /// Boxed: a WebSocket stream is large beside the boxed SSE stream.
    WebSocket(Box<WebSocketStream<MaybeTlsStream<TcpStream>>>),
}

impl Feed {
    /// Opens `who`'s stream of `experience` at `api` over `transport`; panics if refused.
    pub async fn open(
        api: &Api,
        transport: Transport,
        experience: &str,
        who: &JoinResponse,
    ) -> Self {
        let stream = match transport {
            Transport::Sse => {
                let url = api.url(&(Endpoint::Sse.path(&id(experience)) + &credentials(who)));
                let r = api
                    .http
                    .get(&url)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("no event stream at {}: {e}", api.origin));
                assert_eq!(
                    r.status(),
                    200,
                    "the event stream at {} was refused",
                    api.origin
                );
                Socket::Sse(Box::pin(r.bytes_stream().eventsource()))
            }
            Transport::WebSocket => {
                let query = query(&[
                    (EXPERIENCE_ID, experience),
                    (CONSUMER_ID, &who.consumer_id),
                    (TOKEN, &who.token),
                ]);
                let url = format!(
                    "{}{}{query}",
                    api.origin.replacen("http://", "ws://", 1),
                    Endpoint::WebSocket.route(),
                );
                let (ws, _) = connect_async(&url)
                    .await
                    .unwrap_or_else(|e| panic!("no WebSocket at {}: {e}", api.origin));
                Socket::WebSocket(Box::new(ws))
            }
        };
        Self {
            name: format!("the {transport} stream from {}", api.origin),
            stream,
        }
    }

    /// The next state or update event within `within`; panics if none comes, the stream
    /// ends, or a message is not the protocol's.
    pub async fn next(&mut self, within: Duration) -> Update {
        tokio::time::timeout(within, self.next_update())
            .await
            .unwrap_or_else(|_| panic!("no update on {} within {within:?}", self.name))
    }

    async fn next_update(&mut self) -> Update {
        loop {
            let name = &self.name;
            let update = match &mut self.stream {
                Socket::Sse(events) => {
                    let event = received(events.next().await, name);
                    match SseFrame::decode(&event.event, &event.data, &event.id) {
                        Ok(SseFrame::State(state)) => Some(Update::State(state)),
                        Ok(SseFrame::Event(event, _)) => Some(Update::Event(event)),
                        Ok(SseFrame::Heartbeat(_)) => None,
                        Err(e) => panic!("a frame that is not the protocol's ({e}): {event:?}"),
                    }
                }
                Socket::WebSocket(ws) => {
                    match received(ws.next().await, name) {
                        Message::Text(text) => ws_update(text.as_str()),
                        // Pings are answered by the library as it reads.
                        Message::Ping(_) | Message::Pong(_) => None,
                        other => panic!("an unexpected WebSocket frame: {other:?}"),
                    }
                }
            };
            if let Some(update) = update {
                return update;
            }
        }
    }

    /// The first state that holds an admission, or admission event, within `within`:
    /// the shopper's turn as this stream tells it.
    pub async fn admission(&mut self, within: Duration) -> Admission {
        let turn = async {
            loop {
                match self.next_update().await {
                    Update::State(QueueState {
                        admission: Some(admission),
                        ..
                    })
                    | Update::Event(ServerEvent::Admission(admission)) => return admission,
                    _ => continue,
                }
            }
        };
        match tokio::time::timeout(within, turn).await {
            Ok(admission) => admission,
            Err(_) => panic!("no admission on {} within {within:?}", self.name),
        }
    }
}

/// What a stream's `next()` gave, or a panic saying that the stream `name` ended or broke.
fn received<T, E: std::fmt::Display>(item: Option<Result<T, E>>, name: &str) -> T {
    match item {
        Some(Ok(item)) => item,
        Some(Err(e)) => panic!("{name} broke: {e}"),
        None => panic!("{name} ended"),
    }
}

/// The update in a WebSocket text message; `None` for a pong.
fn ws_update(text: &str) -> Option<Update> {
    match WsFrame::decode(text) {
        Ok(WsFrame::State(state)) => Some(Update::State(state)),
        Ok(WsFrame::Event(event, _)) => Some(Update::Event(event)),
        Ok(WsFrame::Pong) => None,
        Ok(WsFrame::Error(message)) => panic!("the server sent an error: {message}"),
        Err(e) => panic!("a message that is not the protocol's ({e}): {text}"),
    }
}
