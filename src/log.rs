//! The widget's console lines, without `core::fmt`.
//!
//! `leptos::logging::{log, warn, error}!` go through `format!`, which links the formatting
//! machinery (and each argument type's `Display`) into every call site; the widget's lines
//! are a fixed text and at most one detail string, so they are joined by hand and handed to
//! one `console` call.

use wasm_bindgen::JsValue;

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
