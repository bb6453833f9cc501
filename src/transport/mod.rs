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

    /// Asks for the full state over the same connection, when the transport can; `false`
    /// means the caller must reopen it (SSE: a new stream starts with the state).
    pub fn refresh(&self) -> bool {
        match self {
            Transport::WebSocket(ws) => {
                ws.refresh();
                true
            }
            Transport::Poll(poll) => {
                poll.poll_now();
                true
            }
            Transport::Sse(_) => false,
        }
    }
}
