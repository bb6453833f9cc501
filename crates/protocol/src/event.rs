//! Update events, their payloads, and how they travel over SSE and WebSocket.
//!
//! One event has one payload type and one name on both transports: over SSE the name is the
//! `event:` field, the payload the `data:` field and the cursor the `id:` field
//! ([`EventId`]); over WebSocket the envelope is `{type, data, epoch, seq}`
//! ([`WsServerMessage`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::json;
use crate::state::{Admission, Cursor, ExperienceView, QueueState, Stock};

/// Payload of `position_update`: the shopper's place and, from this server always, the
/// estimated wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionUpdate {
    /// 1-based place in line.
    pub position: u64,
    /// Estimated seconds until admission: `Some(Some(s))`; `Some(None)` (`null` on the wire)
    /// while no admission rate is known; `None` (the field is missing, as from a server
    /// written from the guide) says nothing about the wait, so the last known one stays.
    #[serde(
        alias = "estimatedWait",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub estimated_wait_seconds: Option<Option<u64>>,
}

/// A field that is present (even as `null`) is `Some`; `default` makes a missing one `None`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(d).map(Some)
}

/// Payload of the SSE `heartbeat` event: proof of life, with the server's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Heartbeat {
    /// The server's clock, in milliseconds since the Unix epoch.
    pub server_time: u64,
}

/// The names of the update events, as they appear on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The shopper's position and wait changed (private to the shopper).
    PositionUpdate,
    /// Stock changed (broadcast to the experience).
    StockUpdate,
    /// The shopper's admission was granted, redeemed or expired (private to the shopper).
    Admission,
    /// The experience's name or status changed (broadcast to the experience).
    ExperienceUpdate,
}

impl EventKind {
    /// Every event kind, in documentation order.
    pub const ALL: [EventKind; 4] = [
        EventKind::PositionUpdate,
        EventKind::StockUpdate,
        EventKind::Admission,
        EventKind::ExperienceUpdate,
    ];

    /// The wire name (SSE `event:` field, WebSocket `type`).
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::PositionUpdate => "position_update",
            EventKind::StockUpdate => "stock_update",
            EventKind::Admission => "admission",
            EventKind::ExperienceUpdate => "experience_update",
        }
    }

    /// Broadcast events go to every connection of the experience, each with the next `seq`;
    /// the others are private to one shopper and carry the `seq` they are consistent with.
    pub fn is_broadcast(self) -> bool {
        matches!(self, EventKind::StockUpdate | EventKind::ExperienceUpdate)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = DecodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DecodeError::UnknownEvent(s.chars().take(64).collect()))
    }
}

/// One decoded update event.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    /// See [`EventKind::PositionUpdate`].
    PositionUpdate(PositionUpdate),
    /// See [`EventKind::StockUpdate`].
    StockUpdate(Stock),
    /// See [`EventKind::Admission`].
    Admission(Admission),
    /// See [`EventKind::ExperienceUpdate`].
    ExperienceUpdate(ExperienceView),
}

impl ServerEvent {
    /// The event's name.
    pub fn kind(&self) -> EventKind {
        match self {
            ServerEvent::PositionUpdate(_) => EventKind::PositionUpdate,
            ServerEvent::StockUpdate(_) => EventKind::StockUpdate,
            ServerEvent::Admission(_) => EventKind::Admission,
            ServerEvent::ExperienceUpdate(_) => EventKind::ExperienceUpdate,
        }
    }

    /// The payload as JSON text (the SSE `data:` field).
    pub fn data_json(&self) -> String {
        let result = match self {
            ServerEvent::PositionUpdate(p) => serde_json::to_string(p),
            ServerEvent::StockUpdate(s) => serde_json::to_string(s),
            ServerEvent::Admission(a) => serde_json::to_string(a),
            ServerEvent::ExperienceUpdate(e) => serde_json::to_string(e),
        };
        // Plain structs of strings and integers always serialize.
        result.unwrap_or_default()
    }

    /// Decodes a payload received under the event name `name` (an SSE `event:` field).
    pub fn decode(name: &str, data: &str) -> Result<Self, DecodeError> {
        Self::decode_payload(name, data)
    }

    /// Decodes an already parsed payload received under the event name `name` (a WebSocket
    /// envelope's `data`).
    fn decode_raw(name: &str, data: &json::Raw) -> Result<Self, DecodeError> {
        Self::decode_payload(name, data)
    }

    fn decode_payload<P: Payload + ?Sized>(name: &str, data: &P) -> Result<Self, DecodeError> {
        let kind: EventKind = name.parse()?;
        let bad = |e: String| DecodeError::BadPayload(kind, e);
        Ok(match kind {
            EventKind::PositionUpdate => ServerEvent::PositionUpdate(data.read().map_err(bad)?),
            EventKind::StockUpdate => ServerEvent::StockUpdate(data.read().map_err(bad)?),
            EventKind::Admission => ServerEvent::Admission(data.read().map_err(bad)?),
            EventKind::ExperienceUpdate => ServerEvent::ExperienceUpdate(data.read().map_err(bad)?),
        })
    }
}

/// A payload not yet decoded: JSON text (SSE `data:`) or an already parsed value (a
/// WebSocket envelope's `data`).
trait Payload {
    fn read<T: json::Decode>(&self) -> Result<T, String>;
}

impl Payload for str {
    fn read<T: json::Decode>(&self) -> Result<T, String> {
        json::from_str(self)
    }
}

impl Payload for json::Raw {
    fn read<T: json::Decode>(&self) -> Result<T, String> {
        json::from_raw(self)
    }
}

/// Why a message from the server could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The event name is not one this protocol version knows.
    #[error("unknown event type `{0}`")]
    UnknownEvent(String),
    /// The payload is not valid JSON of the event's shape.
    #[error("malformed `{0}` payload: {1}")]
    BadPayload(EventKind, String),
    /// A whole message is not valid JSON of any known shape.
    #[error("malformed message: {0}")]
    BadMessage(String),
    /// An SSE event id is not `{epoch}:{seq}`.
    #[error("malformed event id `{0}`: expected `{{epoch}}:{{seq}}`")]
    BadEventId(String),
}

/// An SSE event id: the cursor written as `{epoch}:{seq}`, echoed back by browsers in the
/// `Last-Event-ID` header on reconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventId(pub Cursor);

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.0.epoch, self.0.seq)
    }
}

impl FromStr for EventId {
    type Err = DecodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DecodeError::BadEventId(s.chars().take(64).collect());
        let (epoch, seq) = s.trim().split_once(':').ok_or_else(bad)?;
        Ok(EventId(Cursor {
            epoch: epoch.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        }))
    }
}

/// A message from the server over WebSocket. Update envelopes carry the cursor as `epoch` and
/// `seq`; both are optional on input so that a server without cursors can still be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WsServerMessage {
    /// The full state, first message on every connection.
    InitialState {
        /// The state.
        data: QueueState,
    },
    /// The full state, in answer to `refresh` (or sent after the server skipped updates).
    StateRefresh {
        /// The state.
        data: QueueState,
    },
    /// See [`EventKind::PositionUpdate`].
    PositionUpdate {
        /// The payload.
        data: PositionUpdate,
        /// Cursor epoch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<u64>,
        /// Cursor seq.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
    },
    /// See [`EventKind::StockUpdate`].
    StockUpdate {
        /// The payload.
        data: Stock,
        /// Cursor epoch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<u64>,
        /// Cursor seq.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
    },
    /// See [`EventKind::Admission`].
    Admission {
        /// The payload.
        data: Admission,
        /// Cursor epoch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<u64>,
        /// Cursor seq.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
    },
    /// See [`EventKind::ExperienceUpdate`].
    ExperienceUpdate {
        /// The payload.
        data: ExperienceView,
        /// Cursor epoch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<u64>,
        /// Cursor seq.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
    },
    /// Answer to the client's `ping`.
    Pong,
    /// The client sent something the server could not use; the connection stays open.
    Error {
        /// What was wrong, for a developer.
        message: String,
    },
}

impl WsServerMessage {
    /// The envelope of an update event with its cursor.
    pub fn event(event: ServerEvent, cursor: Cursor) -> Self {
        let (epoch, seq) = (Some(cursor.epoch), Some(cursor.seq));
        match event {
            ServerEvent::PositionUpdate(data) => {
                WsServerMessage::PositionUpdate { data, epoch, seq }
            }
            ServerEvent::StockUpdate(data) => WsServerMessage::StockUpdate { data, epoch, seq },
            ServerEvent::Admission(data) => WsServerMessage::Admission { data, epoch, seq },
            ServerEvent::ExperienceUpdate(data) => {
                WsServerMessage::ExperienceUpdate { data, epoch, seq }
            }
        }
    }

    /// Decodes one WebSocket text frame.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        serde_json::from_str(text).map_err(|e| DecodeError::BadMessage(e.to_string()))
    }

    /// The message as JSON text.
    pub fn to_json(&self) -> String {
        // Enums of plain structs always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A WebSocket message from the server as a client needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum WsFrame {
    /// A full state (`initial_state`, `state_refresh`).
    State(QueueState),
    /// An update event and its cursor, when the server sent one.
    Event(ServerEvent, Option<Cursor>),
    /// Answer to `ping`.
    Pong,
    /// The server did not understand the client's message.
    Error(String),
}

/// The fields of every server message's envelope, in the order [`WsFrame::decode`] reads
/// them. `data` is left undecoded until `type` says what it is: this decodes through the
/// same per-event decoders as SSE, without serde's machinery for internally tagged enums,
/// which costs the widget many kilobytes of wasm.
const ENVELOPE: [&str; 5] = ["type", "data", "epoch", "seq", "message"];

impl WsFrame {
    /// Decodes one WebSocket text frame.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let not_object = || DecodeError::BadMessage("not a JSON object".to_owned());
        let [kind, data, epoch, seq, message]: [Option<json::Raw>; 5] =
            json::fields(text, &ENVELOPE)
                .ok_or_else(not_object)?
                .try_into()
                .map_err(|_| not_object())?;
        let read = |raw: Option<json::Raw>| -> Result<Option<u64>, DecodeError> {
            raw.map(|r| json::from_raw::<u64>(&r))
                .transpose()
                .map_err(DecodeError::BadMessage)
        };
        let kind: String = kind
            .map(|k| json::from_raw(&k))
            .transpose()
            .map_err(DecodeError::BadMessage)?
            .ok_or_else(|| DecodeError::BadMessage("`type` is missing".to_owned()))?;
        let data = || {
            data.as_ref()
                .ok_or_else(|| DecodeError::BadMessage("`data` is missing".to_owned()))
        };
        Ok(match kind.as_str() {
            "initial_state" | "state_refresh" => {
                WsFrame::State(json::from_raw(data()?).map_err(DecodeError::BadMessage)?)
            }
            "pong" => WsFrame::Pong,
            "error" => WsFrame::Error(
                message
                    .and_then(|m| json::from_raw::<String>(&m).ok())
                    .unwrap_or_default(),
            ),
            name => {
                let cursor = match (read(epoch)?, read(seq)?) {
                    (Some(epoch), Some(seq)) => Some(Cursor { epoch, seq }),
                    _ => None,
                };
                WsFrame::Event(ServerEvent::decode_raw(name, data()?)?, cursor)
            }
        })
    }
}

/// A message from the client over WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WsClientMessage {
    /// Liveness probe; the server answers `pong`.
    Ping,
    /// Asks for the full state; the server answers `state_refresh`.
    Refresh,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_round_trips_and_rejects_garbage() {
        let id = EventId(Cursor {
            epoch: 1_764_000_000_000,
            seq: 42,
        });
        assert_eq!(id.to_string(), "1764000000000:42");
        assert_eq!("1764000000000:42".parse::<EventId>(), Ok(id));
        for bad in ["", "12", "a:1", "1:b", "1:2:3", "-1:2"] {
            assert!(bad.parse::<EventId>().is_err(), "`{bad}` should not parse");
        }
    }

    #[test]
    fn unknown_event_names_are_an_error_not_a_panic() {
        assert_eq!(
            ServerEvent::decode("surprise", "{}"),
            Err(DecodeError::UnknownEvent("surprise".into()))
        );
        assert!(matches!(
            ServerEvent::decode("stock_update", r#"{"available":"many"}"#),
            Err(DecodeError::BadPayload(EventKind::StockUpdate, _))
        ));
    }

    #[test]
    fn ws_update_without_cursor_still_decodes() {
        let m = WsServerMessage::decode(r#"{"type":"position_update","data":{"position":7}}"#)
            .expect("guide-style message decodes");
        assert_eq!(
            m,
            WsServerMessage::PositionUpdate {
                data: PositionUpdate {
                    position: 7,
                    estimated_wait_seconds: None
                },
                epoch: None,
                seq: None
            }
        );
    }

    #[test]
    fn client_messages_have_the_documented_shape() {
        assert_eq!(
            serde_json::to_string(&WsClientMessage::Ping).unwrap(),
            r#"{"type":"ping"}"#
        );
        assert_eq!(
            serde_json::from_str::<WsClientMessage>(r#"{"type":"refresh"}"#).unwrap(),
            WsClientMessage::Refresh
        );
    }
}
