//! How server messages reach the widget.
//!
//! Each transport lives in its own module and reports what happens to it as
//! [`TransportEvent`]s through one callback; [`Transport`] is the closed set of them. Today
//! there is one, Server-Sent Events ([`sse`]); WebSocket and polling join as a module and a
//! variant each, and the feed (`crate::feed`) stays as it is.
//!
//! A transport owns its browser resources and releases them when dropped. The callback runs
//! inside the transport's own event handlers, so the receiver must not drop the transport
//! from within it: it schedules the replacement instead (see `crate::feed`).

use std::fmt;

use livequeue_protocol::event::DecodeError;
use livequeue_protocol::reducer::FeedMessage;

pub mod sse;

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
    /// Server-Sent Events (`EventSource`).
    Sse(sse::SseConnection),
}

impl Transport {
    /// The transport's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Transport::Sse(_) => "sse",
        }
    }
}

/// Whether updates are flowing, as the shopper sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConnectionStatus {
    /// Joining the queue or opening the first connection.
    #[default]
    Connecting,
    /// Connected: updates arrive as they happen.
    Live,
    /// The connection dropped and is being restored; the state shown may be behind.
    Reconnecting,
}

impl ConnectionStatus {
    /// A stable lowercase name, used as the indicator's `data-status` (and CSS hook).
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Connecting => "connecting",
            ConnectionStatus::Live => "live",
            ConnectionStatus::Reconnecting => "reconnecting",
        }
    }
}

impl fmt::Display for ConnectionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectionStatus::Connecting => "Connecting…",
            ConnectionStatus::Live => "Live",
            ConnectionStatus::Reconnecting => "Reconnecting…",
        })
    }
}
