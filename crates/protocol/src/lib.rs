//! The livequeue wire protocol and the pure logic both ends need.
//!
//! # Layout
//!
//! - [`state`]: the consumer's view of the queue ([`QueueState`]) and its parts: stock, stage,
//!   experience status, admission, cursor.
//! - [`event`]: the named update events, their payloads, the SSE event id format and the
//!   WebSocket envelopes.
//! - [`api`]: request and response bodies of the HTTP endpoints, and the error body.
//! - [`error_code`]: the stable codes of that error body ([`ErrorCode`]).
//! - [`close`]: WebSocket close codes and what a client does about each ([`CloseCode`]).
//! - [`sse`]: SSE event names, the frame encoder and the message decoder.
//! - [`ids`]: [`ExperienceId`] and [`ConsumerId`] with their validity rules.
//! - [`paths`]: the URL of every endpoint, for the server's routes and the clients alike.
//! - [`time`]: timestamps on the wire, read leniently (milliseconds or RFC 3339).
//! - [`json`]: JSON text in and out: serde_json natively, the browser's parser in wasm.
//! - [`reducer`]: applies any message to a state, ordered by cursor, so that duplicated,
//!   reordered or stale messages never move the state backwards.
//! - [`backoff`], [`polling`], [`supervisor`]: the widget's connection policies (reconnect
//!   delays, adaptive polling intervals, transport fallback), as pure state machines.
//! - [`feed`]: the widget feed's decisions (re-joins, silence, probe, batching) as a machine.
//! - [`list_window`]: the operator console's virtualized queue list as arithmetic (scaled
//!   scrolling that reaches every row, the window, the element pool, pages, live shifts).
//! - [`tabs`]: which of a browser's tabs holds the one connection (election by Web Locks or a
//!   lease in storage), for tabs sharing one feed (the widget elects by Web Locks).
//! - [`motion`]: animated numbers (the place in line, the console's figures): which whole
//!   number to show at each frame.
//! - [`http_status`]: HTTP statuses read as our [`ErrorCode`]s, for answers without our body.
//!
//! The crate has no runtime and no browser dependency: it builds for native targets and for
//! `wasm32-unknown-unknown`, and everything in it is tested with plain `cargo test`.
//! `docs/PROTOCOL.md` documents the same types; `tests/protocol_doc.rs` parses every JSON
//! example in that file, so the document and the code cannot drift apart.

pub mod api;
pub mod backoff;
pub mod close;
pub mod error_code;
pub mod event;
pub mod feed;
pub mod http_status;
pub mod ids;
pub mod json;
pub mod list_window;
pub mod motion;
pub mod paths;
pub mod polling;
pub mod reducer;
pub mod sse;
pub mod state;
pub mod supervisor;
pub mod tabs;
pub mod time;

pub use close::{CloseCode, Reconnect};
pub use error_code::ErrorCode;
pub use event::{
    EventId, EventKind, Heartbeat, PositionUpdate, ServerEvent, WsClientMessage, WsFrame,
    WsServerMessage,
};
pub use ids::{ConsumerId, ExperienceId, IdError};
pub use paths::Endpoint;
pub use reducer::{Applied, FeedState, Resync};
pub use sse::SseFrame;
pub use state::{
    Admission, AdmissionStatus, Cursor, ExperienceStatus, ExperienceView, QueueState, Stage, Stock,
};

/// The protocol version this crate speaks; bumped on any incompatible change to the wire.
pub const PROTOCOL_VERSION: u32 = 1;
