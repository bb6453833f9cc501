//! What an experience sends to its open connections, encoded once for all of them.
//!
//! A broadcast event is serialized once, into the bytes of an SSE frame and the text of a
//! WebSocket message, and every connection gets a cheap clone of the same buffers. Positions
//! differ per shopper, so the line's movement is sent as an [`Advance`] (the new head of the
//! line and the tickets ahead that left) and each connection works out its own shopper's
//! position from its ticket: one move costs O(connections × log departed), never
//! O(queue length × connections).

use std::collections::VecDeque;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use livequeue_protocol::{Cursor, PositionUpdate, QueueState, ServerEvent, WsServerMessage, sse};

/// One item on an experience's fan-out channel.
#[derive(Debug, Clone)]
pub enum Fanout {
    /// A broadcast event, already encoded.
    Event(Arc<Encoded>),
    /// The line moved.
    Advance(Advance),
    /// Time for SSE connections to send their heartbeat (pre-encoded).
    Heartbeat(Bytes),
    /// Time for WebSocket connections to ping and check that their peer still answers.
    Ping,
    /// The server is shutting down: end the stream (SSE) or close with
    /// [`livequeue_protocol::CloseCode::Restart`] (WebSocket).
    Shutdown,
    /// Bytes sent as they are, for clients' tests of hostile input (`--test-controls`).
    Raw(Arc<Raw>),
    /// Updates were lost on the way to this node (the Redis engine reloaded after a gap in
    /// its feed): send the full state, as after lagging.
    Resync,
}

/// A frame sent unchecked: what a broken or hostile server might send.
#[derive(Debug)]
pub struct Raw {
    /// Written into SSE streams as is.
    pub sse: Bytes,
    /// Sent to WebSockets as one text message.
    pub ws: Utf8Bytes,
}

/// The line moved: shoppers with a ticket at or after `head`, and not in `departed`, are
/// still waiting.
#[derive(Debug, Clone, PartialEq)]
pub struct Advance {
    /// Tickets below this number have been admitted (or left before their turn came).
    pub head: u64,
    /// Tickets at or after `head` whose shopper left, sorted (shared with the line).
    pub departed: Arc<VecDeque<u64>>,
    /// The experience's cursor when the line moved.
    pub cursor: Cursor,
    /// Admissions per second used for wait estimates; `None` while nobody is admitted.
    pub rate_per_sec: Option<f64>,
}

impl Advance {
    /// Where the shopper holding `ticket` stands, or `None` once admitted or gone.
    pub fn position_of(&self, ticket: u64) -> Option<Place> {
        if ticket < self.head {
            return None;
        }
        // `Err` is where the ticket would go: how many who left were ahead of it.
        let left_ahead = self.departed.binary_search(&ticket).err()? as u64;
        let position = ticket - self.head + 1 - left_ahead;
        Some(Place {
            position,
            estimated_wait_seconds: estimate_wait(position, self.rate_per_sec),
        })
    }
}

/// A waiting shopper's place in line and the wait it implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// 1-based place in line.
    pub position: u64,
    /// Seconds until admission; `None` while no admission rate is known.
    pub estimated_wait_seconds: Option<u64>,
}

impl Place {
    /// The `position_update` payload of this place (this server always states the wait,
    /// even when it is unknown).
    pub fn update(self) -> PositionUpdate {
        PositionUpdate {
            position: self.position,
            estimated_wait_seconds: Some(self.estimated_wait_seconds),
        }
    }
}

/// Seconds until a shopper at `position` is admitted at `rate_per_sec`.
pub fn estimate_wait(position: u64, rate_per_sec: Option<f64>) -> Option<u64> {
    rate_per_sec
        .filter(|r| *r > 0.0 && r.is_finite())
        .map(|r| (position as f64 / r).ceil() as u64)
}

/// A broadcast event encoded for both push transports.
#[derive(Debug)]
pub struct Encoded {
    /// The event's cursor.
    pub cursor: Cursor,
    /// The SSE frame: `id:`, `event:` and `data:` lines and the blank line.
    pub sse: Bytes,
    /// The WebSocket text message `{type, data, epoch, seq}`.
    pub ws: Utf8Bytes,
}

impl Encoded {
    /// Encodes `event` at `cursor`.
    pub fn new(event: ServerEvent, cursor: Cursor) -> Self {
        let sse = sse_event(&event, cursor);
        let ws = WsServerMessage::event(event, cursor).to_json();
        Self {
            cursor,
            sse,
            ws: ws.into(),
        }
    }
}

/// The SSE frame of an update event, named by its kind, with its cursor as `id:`. Broadcasts
/// are encoded here once for every connection; private events (a position, an admission) once
/// per connection.
pub fn sse_event(event: &ServerEvent, cursor: Cursor) -> Bytes {
    sse::encode_frame(
        Some(cursor),
        Some(event.kind().as_str()),
        &event.data_json(),
    )
    .into()
}

/// The SSE frame of a full state: unnamed (`None`) as a stream's first message,
/// [`sse::SNAPSHOT`] when it replaces a resume that was not possible or a lagged stream.
pub fn sse_state(state: &QueueState, name: Option<&str>) -> Bytes {
    // Plain data always serializes.
    let data = serde_json::to_string(state).unwrap_or_default();
    sse::encode_frame(Some(state.cursor), name, &data).into()
}

/// The SSE heartbeat frame, encoded once per tick for every connection.
pub fn heartbeat(server_time: u64) -> Bytes {
    sse::heartbeat_frame(server_time).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use livequeue_protocol::Stock;

    #[test]
    fn an_encoded_event_carries_its_cursor_on_both_transports() {
        let cursor = Cursor { epoch: 7, seq: 3 };
        let e = Encoded::new(
            ServerEvent::StockUpdate(Stock {
                available: 1,
                total: 2,
            }),
            cursor,
        );
        assert_eq!(
            std::str::from_utf8(&e.sse).unwrap(),
            "id: 7:3\nevent: stock_update\ndata: {\"available\":1,\"total\":2}\n\n"
        );
        assert_eq!(
            e.ws.as_str(),
            r#"{"type":"stock_update","data":{"available":1,"total":2},"epoch":7,"seq":3}"#
        );
    }

    #[test]
    fn positions_count_from_the_head_and_end_at_admission() {
        let a = Advance {
            head: 10,
            departed: Arc::default(),
            cursor: Cursor { epoch: 1, seq: 1 },
            rate_per_sec: Some(2.0),
        };
        let place = |position, wait| Place {
            position,
            estimated_wait_seconds: wait,
        };
        assert_eq!(a.position_of(10), Some(place(1, Some(1))));
        assert_eq!(a.position_of(19), Some(place(10, Some(5))));
        assert_eq!(a.position_of(9), None);
        let after_leaves = Advance {
            departed: Arc::new(VecDeque::from([12, 15])),
            ..a.clone()
        };
        assert_eq!(after_leaves.position_of(11).map(|p| p.position), Some(2));
        assert_eq!(
            after_leaves.position_of(12),
            None,
            "one who left has a place"
        );
        assert_eq!(after_leaves.position_of(13).map(|p| p.position), Some(3));
        assert_eq!(after_leaves.position_of(16).map(|p| p.position), Some(5));
        assert_eq!(estimate_wait(10, None), None);
        assert_eq!(estimate_wait(10, Some(0.0)), None);
    }
}
