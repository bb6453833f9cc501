//! The widget's console lines, without `core::fmt`.
//!
//! `leptos::logging::{log, warn, error}!` go through `format!`, which links the formatting
//! machinery (and each argument type's `Display`) into every call site; the widget's lines
//! are a fixed text and at most one detail string, so they are joined by hand and handed to
//! one `console` call. Measured (2026-12-01), together with the widget's URLs and numbers
//! written without `format!`: gzip 105582 → 104350 B (−1.2 KB), raw 275569 → 272286 B.

use livequeue_protocol::Resync;
use livequeue_protocol::event::DecodeError;
use wasm_bindgen::JsValue;

use crate::format;

fn line(text: &str, detail: &str) -> JsValue {
    let mut line = String::with_capacity(text.len() + detail.len());
    line.push_str(text);
    line.push_str(detail);
    JsValue::from_str(&line)
}

/// `console.log(text + detail)`.
pub fn log2(text: &str, detail: &str) {
    web_sys::console::log_1(&line(text, detail));
}

/// `console.warn(text + detail)`.
pub fn warn2(text: &str, detail: &str) {
    web_sys::console::warn_1(&line(text, detail));
}

/// `console.warn(text)`.
pub fn warn(text: &str) {
    web_sys::console::warn_1(&JsValue::from_str(text));
}

/// `console.error(text + detail)`.
pub fn error2(text: &str, detail: &str) {
    web_sys::console::error_1(&line(text, detail));
}

/// A decode error as its `Display` would write it, without `core::fmt`.
pub fn decode_error(error: &DecodeError) -> String {
    match error {
        DecodeError::UnknownEvent(name) => format::concat(&["unknown event type `", name, "`"]),
        DecodeError::BadPayload(kind, detail) => {
            format::concat(&["malformed `", kind.as_str(), "` payload: ", detail])
        }
        DecodeError::BadMessage(detail) => format::concat(&["malformed message: ", detail]),
        DecodeError::BadEventId(id) => {
            format::concat(&["malformed event id `", id, "`: expected `{epoch}:{seq}`"])
        }
    }
}

/// Why the reducer asked for a resync, as its `Display` would write it.
pub fn resync(reason: Resync) -> String {
    let (text, from, to) = match reason {
        Resync::NoState => return "an update came before any state".to_owned(),
        Resync::Gap { last, got } => ("broadcast seq jumped from ", last, got),
        Resync::EpochChanged { from, to } => ("epoch changed from ", from, to),
    };
    let mut out = text.to_owned();
    format::push_digits(&mut out, from);
    out.push_str(" to ");
    format::push_digits(&mut out, to);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use livequeue_protocol::EventKind;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn details_read_as_the_protocols_display() {
        for error in [
            DecodeError::UnknownEvent("x".into()),
            DecodeError::BadPayload(EventKind::StockUpdate, "y".into()),
            DecodeError::BadMessage("z".into()),
            DecodeError::BadEventId("1-1".into()),
        ] {
            assert_eq!(decode_error(&error), error.to_string());
        }
        for reason in [
            Resync::NoState,
            Resync::Gap { last: 3, got: 5 },
            Resync::EpochChanged { from: 1, to: 2 },
        ] {
            assert_eq!(resync(reason), reason.to_string());
        }
    }
}
