//! Server-Sent Events as this protocol uses them: the event names, the frame encoder (the
//! server's) and the message decoder (the widget's and the load generator's).
//!
//! A stream starts with the full state as an unnamed `data:` message, then sends named
//! update events whose `id:` is the cursor `{epoch}:{seq}` ([`EventId`]), [`SNAPSHOT`] (the
//! full state again, when a resume was not possible) and [`HEARTBEAT`].

use crate::event::{DecodeError, EventId, EventKind, Heartbeat, ServerEvent};
use crate::json;
use crate::state::{Cursor, QueueState};

/// The event type browsers give an unnamed `data:` message (the first message of a stream).
pub const UNNAMED: &str = "message";
/// The full state, sent when the server could not replay from the client's cursor.
pub const SNAPSHOT: &str = "snapshot";
/// Proof of life, with the server's clock.
pub const HEARTBEAT: &str = "heartbeat";

/// Every event type a client listens to. An `EventSource` only delivers named events to
/// listeners of that name, so a name missing here would be silently dropped by the browser.
pub const EVENT_TYPES: [&str; 7] = [
    UNNAMED,
    SNAPSHOT,
    HEARTBEAT,
    EventKind::PositionUpdate.as_str(),
    EventKind::StockUpdate.as_str(),
    EventKind::Admission.as_str(),
    EventKind::ExperienceUpdate.as_str(),
];

/// One SSE frame: optional `id:` and `event:` lines, one `data:` line, a blank line. `data`
/// must be single-line (JSON from serde always is), so it needs no splitting.
pub fn encode_frame(id: Option<Cursor>, event: Option<&str>, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + 64);
    if let Some(cursor) = id {
        out.push_str("id: ");
        out.push_str(&EventId(cursor).to_string());
        out.push('\n');
    }
    if let Some(name) = event {
        out.push_str("event: ");
        out.push_str(name);
        out.push('\n');
    }
    out.push_str("data: ");
    out.push_str(data);
    out.push_str("\n\n");
    out
}

/// The heartbeat frame.
pub fn heartbeat_frame(server_time: u64) -> String {
    let data = json::to_string(&Heartbeat { server_time });
    encode_frame(None, Some(HEARTBEAT), &data)
}

/// One SSE message as a client needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum SseFrame {
    /// A full state (the first message, or `snapshot`).
    State(QueueState),
    /// An update event and its cursor, when the stream carries ids.
    Event(ServerEvent, Option<Cursor>),
    /// A named heartbeat with the server's clock.
    Heartbeat(u64),
}

impl SseFrame {
    /// Decodes one message: its event type `name`, its `data`, and the stream's last event
    /// id (`""` when the server has sent none). Pure: every malformed input is an error value.
    pub fn decode(name: &str, data: &str, last_event_id: &str) -> Result<Self, DecodeError> {
        match name {
            UNNAMED | SNAPSHOT => json::from_str::<QueueState>(data)
                .map(SseFrame::State)
                .map_err(DecodeError::BadMessage),
            HEARTBEAT => json::from_str::<Heartbeat>(data)
                .map(|beat| SseFrame::Heartbeat(beat.server_time))
                .map_err(DecodeError::BadMessage),
            _ => {
                let event = ServerEvent::decode(name, data)?;
                // A stream without ids is a server without cursors: the reducer then applies
                // the event latest-wins.
                let cursor = match last_event_id.trim() {
                    "" => None,
                    id => Some(id.parse::<EventId>()?.0),
                };
                Ok(SseFrame::Event(event, cursor))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Stock;

    #[test]
    fn every_update_event_is_listened_to() {
        for kind in EventKind::ALL {
            assert!(
                EVENT_TYPES.contains(&kind.as_str()),
                "{kind} is not listened to"
            );
        }
    }

    #[test]
    fn a_frame_carries_id_name_and_data() {
        let frame = encode_frame(
            Some(Cursor { epoch: 7, seq: 3 }),
            Some("stock_update"),
            r#"{"available":1,"total":2}"#,
        );
        assert_eq!(
            frame,
            "id: 7:3\nevent: stock_update\ndata: {\"available\":1,\"total\":2}\n\n"
        );
        assert_eq!(
            SseFrame::decode("stock_update", r#"{"available":1,"total":2}"#, "7:3"),
            Ok(SseFrame::Event(
                ServerEvent::StockUpdate(Stock {
                    available: 1,
                    total: 2
                }),
                Some(Cursor { epoch: 7, seq: 3 })
            ))
        );
    }

    #[test]
    fn heartbeats_carry_the_server_clock() {
        assert_eq!(
            SseFrame::decode(HEARTBEAT, r#"{"serverTime":5}"#, ""),
            Ok(SseFrame::Heartbeat(5))
        );
        assert!(SseFrame::decode(HEARTBEAT, "ping", "").is_err());
    }

    #[test]
    fn malformed_messages_are_errors() {
        assert!(SseFrame::decode(UNNAMED, "{", "").is_err());
        assert!(SseFrame::decode("stock_update", r#"{"available":1}"#, "x").is_err());
    }
}
