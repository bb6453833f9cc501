//! Server-Sent Events: the server's event stream read with the browser's `EventSource`.
//!
//! The stream (`docs/PROTOCOL.md`, "Server-Sent Events") starts with the full state as an
//! unnamed `data:` message, then sends named update events whose `id:` is the cursor
//! `{epoch}:{seq}`, `snapshot` (the full state again, when a resume was not possible) and
//! `heartbeat`. [`decode`] turns one of them into a [`TransportEvent`]; it is pure, so every
//! malformed input is an error value and never a panic. [`SseConnection`] owns the
//! `EventSource` and its listeners and closes it when dropped.
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
use wasm_bindgen::closure::Closure;
use web_sys::{Event, EventSource, MessageEvent};

use super::TransportEvent;
use crate::resources::{Kind, Tracked};

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
    /// Shared by every message type in [`EVENT_TYPES`].
    on_message: Closure<dyn FnMut(MessageEvent)>,
    on_open: Closure<dyn FnMut(Event)>,
    on_error: Closure<dyn FnMut(Event)>,
    _tracked: [Tracked; 4],
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

        let report = Rc::clone(&on_event);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
            // `data` of an EventSource message is always a string; anything else is malformed.
            let data = message.data().as_string().unwrap_or_default();
            let decoded = decode(&message.type_(), &data, &message.last_event_id());
            report(decoded.unwrap_or_else(TransportEvent::Malformed));
        });
        let report = Rc::clone(&on_event);
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            report(TransportEvent::Opened);
        });
        let report = on_event;
        let state_of = source.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            report(TransportEvent::Lost {
                closed: state_of.ready_state() == EventSource::CLOSED,
            });
        });

        for name in EVENT_TYPES {
            source.add_event_listener_with_callback(name, on_message.as_ref().unchecked_ref())?;
        }
        source.add_event_listener_with_callback("open", on_open.as_ref().unchecked_ref())?;
        source.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref())?;

        Ok(Self {
            source,
            on_message,
            on_open,
            on_error,
            _tracked: [
                Tracked::new(Kind::Connection),
                Tracked::new(Kind::Listener),
                Tracked::new(Kind::Listener),
                Tracked::new(Kind::Listener),
            ],
        })
    }
}

impl Drop for SseConnection {
    fn drop(&mut self) {
        self.source.close();
        // Removing a listener can only fail for a non-function callback, which these are not;
        // after `close()` no event fires anyway.
        for name in EVENT_TYPES {
            let _ = self.source.remove_event_listener_with_callback(
                name,
                self.on_message.as_ref().unchecked_ref(),
            );
        }
        let _ = self
            .source
            .remove_event_listener_with_callback("open", self.on_open.as_ref().unchecked_ref());
        let _ = self
            .source
            .remove_event_listener_with_callback("error", self.on_error.as_ref().unchecked_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livequeue_protocol::sse::{HEARTBEAT, SNAPSHOT, UNNAMED};
    use livequeue_protocol::{Cursor, EventKind, PositionUpdate, ServerEvent};
    use wasm_bindgen_test::wasm_bindgen_test;

    const STATE: &str = r#"{"experienceId":"demo-drop","consumerId":"c_1","position":128,"estimatedWaitSeconds":96,"stage":"queued","stock":{"available":312,"total":500},"experience":{"name":"Demo drop","status":"open"},"admission":null,"cursor":{"epoch":1795820400000,"seq":42},"serverTime":1795820460123}"#;

    #[wasm_bindgen_test]
    fn every_update_event_of_the_protocol_is_listened_to() {
        for kind in EventKind::ALL {
            assert!(
                EVENT_TYPES.contains(&kind.as_str()),
                "no listener for `{kind}`"
            );
        }
    }

    #[wasm_bindgen_test]
    fn the_first_unnamed_message_and_snapshots_are_full_states() {
        for name in [UNNAMED, SNAPSHOT] {
            let Ok(TransportEvent::Message(FeedMessage::Snapshot(state))) = decode(name, STATE, "")
            else {
                panic!("`{name}` should decode as a snapshot");
            };
            assert_eq!(state.position, Some(128));
        }
    }

    #[wasm_bindgen_test]
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

    #[wasm_bindgen_test]
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

    #[wasm_bindgen_test]
    fn heartbeats_report_the_server_clock() {
        assert_eq!(
            decode(HEARTBEAT, r#"{"serverTime":1795820475000}"#, "9:9"),
            Ok(TransportEvent::ServerTime(1795820475000))
        );
    }

    #[wasm_bindgen_test]
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
