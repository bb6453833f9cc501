//! How server messages reach the widget.
//!
//! Each transport lives in its own module ([`ws`], [`sse`], [`poll`]) and reports what
//! happens to it as [`TransportEvent`]s through one callback; [`Transport`] is the closed
//! set of them. Which one runs, and when to retry or fall back, is decided by the protocol
//! crate's `Supervisor`, driven by `crate::feed`.
//!
//! A transport owns its browser resources (socket, listeners, timers, in-flight request)
//! and releases them when dropped.

use livequeue_protocol::event::DecodeError;
use livequeue_protocol::reducer::FeedMessage;
use livequeue_protocol::supervisor::{Failure, TransportKind};

pub mod poll;
pub mod sse;
pub mod ws;

pub use livequeue_protocol::supervisor::ConnectionStatus;

/// What a transport reports.
// One value per message, handed on at once: boxing the message would cost an allocation per
// message to save a copy (the lint fires on 64-bit hosts, where the native tests run).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum TransportEvent {
    /// The connection is open: messages will follow.
    Opened,
    /// A message for the reducer.
    Message(FeedMessage),
    /// Proof of life carrying the server's clock (milliseconds since the Unix epoch).
    ServerTime(u64),
    /// A message that could not be decoded; it is counted and skipped.
    Malformed(DecodeError),
    /// Proof of life without news (a pong, a `304`).
    Alive,
    /// The transport ended and will not recover by itself.
    Closed(Failure),
    /// The connection dropped. When `closed`, the transport has given up (for SSE: the
    /// server answered with an error status) and must be replaced; otherwise it is already
    /// reconnecting on its own.
    Lost {
        /// The transport will not reconnect by itself.
        closed: bool,
    },
}

/// The live connection to the server, whichever way it travels.
#[derive(Debug)]
pub enum Transport {
    /// WebSocket.
    WebSocket(ws::WsConnection),
    /// Server-Sent Events (`EventSource`).
    Sse(sse::SseConnection),
    /// Adaptive polling.
    Poll(poll::PollConnection),
}

impl Transport {
    /// Which transport this is.
    pub fn kind(&self) -> TransportKind {
        match self {
            Transport::WebSocket(_) => TransportKind::WebSocket,
            Transport::Sse(_) => TransportKind::Sse,
            Transport::Poll(_) => TransportKind::Poll,
        }
    }

    /// Whether [`Transport::refresh`] can fetch the full state over the same connection;
    /// an SSE stream must be reopened instead (a new stream starts with the state).
    pub fn can_refresh(&self) -> bool {
        !matches!(self, Transport::Sse(_))
    }

    /// Asks for the full state over the same connection, when the transport can.
    pub fn refresh(&self) {
        match self {
            Transport::WebSocket(ws) => ws.refresh(),
            Transport::Poll(poll) => poll.poll_now(),
            Transport::Sse(_) => {}
        }
    }

    /// Pings a socket or polls now, for a page that woke up: the connection may be a zombie.
    /// (An SSE stream is judged by its silence instead.)
    pub fn check_liveness(&self) {
        match self {
            Transport::WebSocket(ws) => ws.check_liveness(),
            Transport::Poll(poll) => poll.poll_now(),
            Transport::Sse(_) => {}
        }
    }
}
