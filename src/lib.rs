//! The livequeue widget: a shopper's live place in a product drop's virtual queue.
//!
//! The widget joins an experience, keeps the shopper's credentials for the browser tab, and
//! follows the server's event stream, rendering the shopper's position, the estimated wait,
//! the remaining stock and, when it is their turn, a link to checkout with a countdown.
//!
//! # Layout
//!
//! - [`config`]: what the page was asked to show (`?experience=`, `?api=`, `?locale=`,
//!   `?theme=`, `?parentOrigin=`, credentials in the fragment).
//! - [`api`]: the HTTP calls (join) and the URLs of the read endpoints; [`fetch`] sends them.
//! - [`session`]: the shopper's credentials, kept in `sessionStorage` per experience so a
//!   reload keeps the place in line.
//! - [`transport`]: how server messages reach the widget; one module per transport
//!   (WebSocket, Server-Sent Events, polling) behind one [`transport::Transport`] type.
//! - [`feed`]: the connection's lifecycle (join, connect, fall back, resync, reconnect)
//!   feeding every message through the protocol's reducer into signals the components read,
//!   and one connection shared by the browser's tabs showing the same shopper.
//! - [`timer`] and [`resources`]: the gloo crates' timers, frames and listeners, each counted
//!   while alive (no leak per reconnect).
//! - [`clock`] and [`format`]: pure arithmetic and wording (clock skew, countdowns, waits).
//! - [`wait`], [`odds`] and [`announce`]: the smoothed wait and its range, the honest odds,
//!   and when the place is read out to screen readers (pure, tested natively).
//! - [`i18n`]: the message catalog, one file per language in `locales/`, and plural rules.
//! - [`host`]: the shop's page around the iframe, told of the place and the turn through
//!   `postMessage` to its origin only.
//! - [`problem`]: what keeps the widget from working, as one sentence for the shopper.
//! - [`log`]: the console lines, without `core::fmt`.
//! - [`app`] and [`components`]: the page and its parts (static markup bound to one view
//!   model, sized for the download).
//!
//! Pure parts (formatting, clock skew, configuration, URLs, frame decoding, problems) are
//! tested natively too: `cargo test -p livequeue --lib`.
//!
//! The ordering of messages (duplicates, replays, gaps) is the protocol crate's reducer
//! (`livequeue_protocol::reducer`); this crate only feeds it and renders its result.

pub mod actions;
pub mod announce;
pub mod api;
pub mod app;
pub mod clock;
pub mod components;
pub mod config;
pub mod feed;
pub mod fetch;
pub mod format;
pub mod host;
pub mod i18n;
pub mod log;
pub mod odds;
pub mod problem;
pub mod resources;
pub mod session;
pub mod timer;
pub mod transport;
pub mod wait;

pub use app::{App, QueueWidget};
pub use config::WidgetConfig;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
