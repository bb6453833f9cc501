//! Server-Sent Events: the server's event stream read with the browser's `EventSource`.
//!
//! The stream (`docs/PROTOCOL.md`, "Server-Sent Events") starts with the full state as an
//! unnamed `data:` message, then sends named update events whose `id:` is the cursor
//! `{epoch}:{seq}`, `snapshot` (the full state again, when a resume was not possible) and
//! `heartbeat`. [`decode`] turns one of them into a [`TransportEvent`]; it is pure, so every
//! malformed input is an error value and never a panic. [`SseConnection`] owns the
//! `EventSource` and its listeners (the widget's [`Listener`] guards) and closes it when
//! dropped.
//!
//! The browser reconnects an `EventSource` by itself (after the server's `retry:` delay,
//! sending `Last-Event-ID`) unless the server answered with an error status, in which case it
//! closes it for good: that is [`TransportEvent::Lost`] with `closed`.

use std::rc::Rc;

use livequeue_protocol::SseFrame;
use livequeue_protocol::event::DecodeError;
use livequeue_protocol::reducer::FeedMessage;
use livequeue_protocol::sse::EVENT_TYPES;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, EventTarget, MessageEvent};

use super::TransportEvent;
use crate::resources::{Kind, Tracked};
use crate::timer::Listener;

/// Decodes one SSE message (the protocol's [`SseFrame::decode`]): its event type `name`,
/// its `data`, and the stream's last event id (`""` when the server has sent none).
pub fn decode(name: &str, data: &str, last_event_id: &str) -> Result<TransportEvent, DecodeError> {
    Ok(match SseFrame::decode(name, data, last_event_id)? {
        SseFrame::State(state) => TransportEvent::Message(FeedMessage::Snapshot(state)),
        SseFrame::Event(event, cursor) => {
            TransportEvent::Message(FeedMessage::Event { event, cursor })
        }
        SseFrame::Heartbeat(server_time) => TransportEvent::ServerTime(server_time),
    })
}

/// An open `EventSource` with the widget's listeners; dropping it removes the listeners and
/// closes the stream.
pub struct SseConnection {
    source: EventSource,
    /// One per message type in [`EVENT_TYPES`], plus `open` and `error`: the same guard as
    /// every other listener of the widget.
    _listeners: Vec<Listener>,
    _tracked: Tracked,
}

impl std::fmt::Debug for SseConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseConnection")
            .field("url", &self.source.url())
            .field("ready_state", &self.source.ready_state())
            .finish()
    }
}

impl SseConnection {
    /// Opens `url` and reports everything that happens to it to `on_event`.
    ///
    /// Fails only when the browser refuses the URL itself (a malformed URL).
    pub fn open(
        url: &str,
        on_event: impl Fn(TransportEvent) + 'static,
    ) -> Result<Self, wasm_bindgen::JsValue> {
        let source = EventSource::new(url)?;
        let on_event: Rc<dyn Fn(TransportEvent)> = Rc::new(on_event);
        let target: &EventTarget = source.unchecked_ref();
        let mut listeners = Vec::with_capacity(EVENT_TYPES.len() + 2);
        for name in EVENT_TYPES {
            let report = Rc::clone(&on_event);
            listeners.push(Listener::new(target, name, move |event| {
                let Some(message) = event.dyn_ref::<MessageEvent>() else {
                    return;
                };
                // `data` of an EventSource message is always a string; anything else is
                // malformed.
                let data = message.data().as_string().unwrap_or_default();
                let decoded = decode(&message.type_(), &data, &message.last_event_id());
                report(decoded.unwrap_or_else(TransportEvent::Malformed));
            }));
        }
        let report = Rc::clone(&on_event);
        listeners.push(Listener::new(target, "open", move |_| {
            report(TransportEvent::Opened)
        }));
        let state_of = source.clone();
        listeners.push(Listener::new(target, "error", move |_| {
            on_event(TransportEvent::Lost {
                closed: state_of.ready_state() == EventSource::CLOSED,
            });
        }));
        Ok(Self {
            source,
            _listeners: listeners,
            _tracked: Tracked::new(Kind::Connection),
        })
    }
}

impl Drop for SseConnection {
    fn drop(&mut self) {
        // The listeners are removed right after, when their guards drop; after `close()` no
        // event fires anyway.
        self.source.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livequeue_protocol::sse::{HEARTBEAT, SNAPSHOT, UNNAMED};
    use livequeue_protocol::{Cursor, EventKind, PositionUpdate, ServerEvent};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    const STATE: &str = r#"{"experienceId":"demo-drop","consumerId":"c_1","position":128,"estimatedWaitSeconds":96,"stage":"queued","stock":{"available":312,"total":500},"experience":{"name":"Demo drop","status":"open"},"admission":null,"cursor":{"epoch":1795820400000,"seq":42},"serverTime":1795820460123}"#;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn every_update_event_of_the_protocol_is_listened_to() {
        for kind in EventKind::ALL {
            assert!(
                EVENT_TYPES.contains(&kind.as_str()),
                "no listener for `{kind}`"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_first_unnamed_message_and_snapshots_are_full_states() {
        for name in [UNNAMED, SNAPSHOT] {
            let Ok(TransportEvent::Message(FeedMessage::Snapshot(state))) = decode(name, STATE, "")
            else {
                panic!("`{name}` should decode as a snapshot");
            };
            assert_eq!(state.position, Some(128));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn named_events_carry_the_cursor_from_their_id() {
        let decoded = decode(
            "position_update",
            r#"{"position":126,"estimatedWaitSeconds":94}"#,
            "1795820400000:43",
        );
        assert_eq!(
            decoded,
            Ok(TransportEvent::Message(FeedMessage::Event {
                event: ServerEvent::PositionUpdate(PositionUpdate {
                    position: 126,
                    estimated_wait_seconds: Some(Some(94)),
                }),
                cursor: Some(Cursor {
                    epoch: 1795820400000,
                    seq: 43
                }),
            }))
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_guide_style_server_without_cursors_still_drives_the_state() {
        // The guide's server: a plain first message with few fields, events without ids.
        let mut feed = livequeue_protocol::FeedState::new();
        for (name, data) in [
            (UNNAMED, r#"{"position": 40, "estimatedWait": 120}"#),
            ("position_update", r#"{"position": 39}"#),
            ("stock_update", r#"{"available": 7, "total": 10}"#),
        ] {
            let Ok(TransportEvent::Message(message)) = decode(name, data, "") else {
                panic!("`{name}` from a guide-style server should decode");
            };
            feed.apply(message);
        }
        let state = feed.state().expect("a state");
        assert_eq!((state.position, state.stock.available), (Some(39), 7));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn heartbeats_report_the_server_clock() {
        assert_eq!(
            decode(HEARTBEAT, r#"{"serverTime":1795820475000}"#, "9:9"),
            Ok(TransportEvent::ServerTime(1795820475000))
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn malformed_messages_are_errors_not_panics() {
        let bad = [
            (UNNAMED, "not json", ""),
            (SNAPSHOT, "42", ""),
            (SNAPSHOT, r#"{"position":"first"}"#, ""),
            (HEARTBEAT, "[]", ""),
            ("stock_update", r#"{"available":"many"}"#, "1:1"),
            ("stock_update", r#"{"available":1,"total":2}"#, "1-1"),
            ("mystery_event", "{}", "1:1"),
            ("position_update", "\u{0}\u{ffff}", "1:1"),
        ];
        for (name, data, id) in bad {
            assert!(
                decode(name, data, id).is_err(),
                "`{name}` with {data:?} and id {id:?} should be rejected"
            );
        }
    }
}
