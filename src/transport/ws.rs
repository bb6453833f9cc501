//! WebSocket: the server's update stream over a browser `WebSocket`.
//!
//! Every text frame is one JSON message (`docs/PROTOCOL.md`, "WebSocket"); [`decode`] turns
//! it into a [`TransportEvent`] and never panics. The client pings every
//! [`WsOptions::ping_every`] (25 s); when nothing at all (pong or update) has arrived for
//! that long plus [`WsOptions::grace`], the socket is declared dead and reported closed, so
//! a half-open connection (a laptop that slept, a NAT that forgot us) is replaced instead of
//! trusted. [`WsConnection::check_liveness`] runs the same check at once, for a tab that
//! comes back to the foreground.
//!
//! [`WsConnection`] owns the socket, its handlers and its timers; dropping it releases all
//! of them. Handlers are plain `Closure`s kept in the struct, never `forget()`-ed.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use livequeue_protocol::event::DecodeError;
use livequeue_protocol::event::WsFrame;
use livequeue_protocol::reducer::FeedMessage;
use livequeue_protocol::supervisor::Failure;
use livequeue_protocol::{CloseCode, WsClientMessage};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use super::TransportEvent;
use crate::clock::local_now;
use crate::resources::{Kind, Tracked};
use crate::timer::{Interval, Timeout};
use crate::{format, log};

/// Largest message the widget reads; anything longer is counted as malformed and skipped.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Timings of the liveness check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WsOptions {
    /// Client ping period. Default 25 s (under the server's 30 s, and under the idle
    /// timeouts of common proxies).
    pub ping_every: Duration,
    /// How long past a ping the socket may stay silent. Default 10 s.
    pub grace: Duration,
}

impl Default for WsOptions {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_secs(25),
            grace: Duration::from_secs(10),
        }
    }
}

/// Decodes one text frame.
pub fn decode(text: &str) -> Result<TransportEvent, DecodeError> {
    if text.len() > MAX_MESSAGE {
        let mut detail = format::digits(text.len() as u64);
        detail.push_str(" bytes is too large");
        return Err(DecodeError::BadMessage(detail));
    }
    Ok(match WsFrame::decode(text)? {
        WsFrame::State(state) => TransportEvent::Message(FeedMessage::Snapshot(state)),
        WsFrame::Event(event, cursor) => {
            TransportEvent::Message(FeedMessage::Event { event, cursor })
        }
        WsFrame::Pong => TransportEvent::Alive,
        WsFrame::Error(message) => {
            log::warn2(
                "livequeue: the server did not understand a message: ",
                &message,
            );
            TransportEvent::Alive
        }
    })
}

/// What the socket's handlers share.
struct Shared {
    on_event: Box<dyn Fn(TransportEvent)>,
    /// When anything last arrived (ms, local clock).
    last_seen: Cell<f64>,
    /// Set once the end was reported: later handler calls say nothing.
    ended: Cell<bool>,
}

impl Shared {
    fn report(&self, event: TransportEvent) {
        if !self.ended.get() {
            (self.on_event)(event);
        }
    }

    fn end(&self, failure: Failure) {
        if !self.ended.replace(true) {
            (self.on_event)(TransportEvent::Closed(failure));
        }
    }
}

/// An open WebSocket with its handlers and timers.
pub struct WsConnection {
    /// The socket.
    socket: WebSocket,
    /// What the handlers and timers share.
    shared: Rc<Shared>,
    /// The socket's `onopen` handler, unset when dropped.
    _on_open: Closure<dyn FnMut(Event)>,
    /// The socket's `onmessage` handler.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    /// The socket's `onclose` handler.
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    /// The client ping, which also declares a silent socket dead.
    ping: Option<Interval>,
    /// The grace timer of a [`WsConnection::check_liveness`] under way.
    probe: RefCell<Option<Timeout>>,
    /// Ping period and grace.
    options: WsOptions,
    /// The socket and its three handlers, counted while alive.
    _tracked: [Tracked; 4],
}

impl std::fmt::Debug for WsConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WsConnection")
    }
}

impl WsConnection {
    /// Opens `url` and reports what happens to `on_event`. Fails only when the browser
    /// refuses the URL.
    pub fn open(
        url: &str,
        options: WsOptions,
        on_event: impl Fn(TransportEvent) + 'static,
    ) -> Result<Self, wasm_bindgen::JsValue> {
        let socket = WebSocket::new(url)?;
        let shared = Rc::new(Shared {
            on_event: Box::new(on_event),
            last_seen: Cell::new(local_now()),
            ended: Cell::new(false),
        });

        let s = Rc::clone(&shared);
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            s.last_seen.set(local_now());
            s.report(TransportEvent::Opened);
        });
        let s = Rc::clone(&shared);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
            s.last_seen.set(local_now());
            let decoded = match message.data().as_string() {
                Some(text) => decode(&text),
                None => Err(DecodeError::BadMessage("binary frame".into())),
            };
            s.report(decoded.unwrap_or_else(TransportEvent::Malformed));
        });
        let s = Rc::clone(&shared);
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |close: CloseEvent| {
            if !close.reason().is_empty() {
                let mut detail = format::digits(u64::from(close.code()));
                detail.push_str(": ");
                detail.push_str(&close.reason());
                log::log2("livequeue: socket closed ", &detail);
            }
            s.end(Failure::from_close_code(close.code()));
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));

        let mut connection = Self {
            socket,
            shared,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            ping: None,
            probe: RefCell::new(None),
            options,
            _tracked: [
                Tracked::new(Kind::Connection),
                Tracked::new(Kind::Listener),
                Tracked::new(Kind::Listener),
                Tracked::new(Kind::Listener),
            ],
        };
        let socket = connection.socket.clone();
        let shared = Rc::clone(&connection.shared);
        let silent_for = options.ping_every + options.grace;
        connection.ping = Some(Interval::new(options.ping_every, move || {
            if local_now() - shared.last_seen.get() > silent_for.as_millis() as f64 {
                log::warn("livequeue: the socket went silent; replacing it");
                let _ = socket.close();
                shared.end(Failure::TRANSIENT);
            } else {
                send(&socket, WsClientMessage::Ping);
            }
        }));
        Ok(connection)
    }

    /// Asks the server for the full state (`refresh` → `state_refresh`).
    pub fn refresh(&self) {
        send(&self.socket, WsClientMessage::Refresh);
    }

    /// Pings now, and declares the socket dead unless something arrives within the grace
    /// period: for a tab back in the foreground or a laptop that woke up, where the socket
    /// may be a zombie.
    pub fn check_liveness(&self) {
        if self.socket.ready_state() != WebSocket::OPEN {
            return;
        }
        let asked_at = local_now();
        send(&self.socket, WsClientMessage::Ping);
        let shared = Rc::clone(&self.shared);
        let socket = self.socket.clone();
        let probe = Timeout::new(self.options.grace, move || {
            if shared.last_seen.get() < asked_at {
                log::warn("livequeue: no answer to a liveness ping; replacing the socket");
                let _ = socket.close();
                shared.end(Failure::TRANSIENT);
            }
        });
        // Replacing drops (and cancels) an earlier probe.
        self.probe.replace(Some(probe));
    }
}

fn send(socket: &WebSocket, message: WsClientMessage) {
    if socket.ready_state() == WebSocket::OPEN {
        let text = wire_text(message);
        // A send on a socket that just closed fails; its close handler reports that.
        let _ = socket.send_with_str(text);
    }
}

/// The JSON text of a client message, written out instead of serialized: the widget sends
/// only these two, and serializing them linked `serde_json`'s writer into the bundle. The
/// test `client_messages_are_the_protocols_json` keeps them equal to the protocol's serde.
fn wire_text(message: WsClientMessage) -> &'static str {
    match message {
        WsClientMessage::Ping => r#"{"type":"ping"}"#,
        WsClientMessage::Refresh => r#"{"type":"refresh"}"#,
    }
}

impl Drop for WsConnection {
    fn drop(&mut self) {
        self.shared.ended.set(true);
        self.ping = None;
        self.probe.take();
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        // Closing an already closed socket is a no-op; a normal close says the client is done.
        let _ = self.socket.close_with_code(CloseCode::Normal.code());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livequeue_protocol::{Cursor, ServerEvent, Stock};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn updates_carry_their_cursor_and_guide_style_ones_have_none() {
        let with =
            decode(r#"{"type":"stock_update","data":{"available":1,"total":2},"epoch":5,"seq":6}"#);
        assert_eq!(
            with,
            Ok(TransportEvent::Message(FeedMessage::Event {
                event: ServerEvent::StockUpdate(Stock {
                    available: 1,
                    total: 2
                }),
                cursor: Some(Cursor { epoch: 5, seq: 6 }),
            }))
        );
        let without = decode(r#"{"type":"stock_update","data":{"available":1,"total":2}}"#);
        assert!(matches!(
            without,
            Ok(TransportEvent::Message(FeedMessage::Event {
                cursor: None,
                ..
            }))
        ));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pongs_prove_liveness_and_garbage_is_an_error() {
        assert_eq!(decode(r#"{"type":"pong"}"#), Ok(TransportEvent::Alive));
        for bad in [
            "",
            "null",
            "{",
            r#"{"type":"surprise"}"#,
            r#"{"type":"stock_update","data":7}"#,
        ] {
            assert!(decode(bad).is_err(), "{bad:?} should be rejected");
        }
        let huge = format!(r#"{{"type":"pong","pad":"{}"}}"#, "x".repeat(MAX_MESSAGE));
        assert!(
            decode(&huge).is_err(),
            "oversized messages are skipped unread"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn client_messages_are_the_protocols_json() {
        for message in [WsClientMessage::Ping, WsClientMessage::Refresh] {
            assert_eq!(
                wire_text(message),
                livequeue_protocol::json::to_string(&message)
            );
        }
    }
}
