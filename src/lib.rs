//! The livequeue widget: a shopper's live place in a product drop's virtual queue.
//!
//! The widget joins an experience, keeps the shopper's credentials for the browser tab, and
//! follows the server's event stream, rendering the shopper's position, the estimated wait,
//! the remaining stock and, when it is their turn, a link to checkout with a countdown.
//!
//! # Layout
//!
//! - [`config`]: what the page was asked to show (`?experience=`, `?api=`).
//! - [`api`]: the HTTP calls (join) and the URLs of the read endpoints.
//! - [`session`]: the shopper's credentials, kept in `sessionStorage` per experience so a
//!   reload keeps the place in line.
//! - [`transport`]: how server messages reach the widget; one module per transport
//!   (WebSocket, Server-Sent Events, polling) behind one [`transport::Transport`] type.
//! - [`feed`]: the connection's lifecycle (join, connect, fall back, resync, reconnect)
//!   feeding every message through the protocol's reducer into signals the components read.
//! - [`timer`] and [`resources`]: timers, frames and listeners that free their JS closures
//!   when dropped, and a count of what is alive (no leak per reconnect).
//! - [`clock`] and [`format`]: pure arithmetic and wording (clock skew, countdowns, waits).
//! - [`app`] and [`components`]: the page and its parts.
//!
//! The ordering of messages (duplicates, replays, gaps) is the protocol crate's reducer
//! (`livequeue_protocol::reducer`); this crate only feeds it and renders its result.

pub mod api;
pub mod app;
pub mod clock;
pub mod components;
pub mod config;
pub mod feed;
pub mod format;
pub mod resources;
pub mod session;
pub mod timer;
pub mod transport;

pub use app::{App, QueueWidget};
pub use config::WidgetConfig;

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
