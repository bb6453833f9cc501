//! JSON text in and out, one API on both targets.
//!
//! Natively (the server, the load generator, tests) reading is `serde_json` and the types'
//! serde derives. In the browser it is the browser's own `JSON.parse`, and [`js::FromJs`]
//! reads the parsed JavaScript value into the same types by the same rules: the widget
//! carries no JSON parser of its own (serde_json's parser and error texts cost it about
//! 20 KB of wasm) and no serde visitors (see [`js`] for why). [`Decode`] names what both
//! ends can read. Writing is
//! `serde_json` everywhere (its writer is small; the widget writes two tiny messages).
//!
//! [`Raw`] is a value left undecoded until its type is known (a WebSocket envelope's `data`).

use serde::Serialize;
#[cfg(not(target_arch = "wasm32"))]
use serde::de::DeserializeOwned;

/// A type read from JSON: natively anything serde can decode; in the browser the types
/// [`js::FromJs`] reads.
#[cfg(not(target_arch = "wasm32"))]
pub trait Decode: DeserializeOwned {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: DeserializeOwned> Decode for T {}
/// A type read from JSON: natively anything serde can decode; in the browser the types
/// [`js::FromJs`] reads.
#[cfg(target_arch = "wasm32")]
pub use js::FromJs as Decode;

#[cfg(target_arch = "wasm32")]
pub mod js;

/// An undecoded JSON value: its text natively, the parsed JavaScript value in the browser.
#[cfg(not(target_arch = "wasm32"))]
pub type Raw = Box<serde_json::value::RawValue>;
/// An undecoded JSON value: its text natively, the parsed JavaScript value in the browser.
#[cfg(target_arch = "wasm32")]
pub type Raw = wasm_bindgen::JsValue;

/// Decodes `text` as a `T`; the error is a sentence for logs.
pub fn from_str<T: Decode>(text: &str) -> Result<T, String> {
    #[cfg(not(target_arch = "wasm32"))]
    return serde_json::from_str(text).map_err(|e| e.to_string());
    #[cfg(target_arch = "wasm32")]
    return js::parse(text)
        .and_then(|value| T::from_js(&value))
        .map_err(|e| e.message());
}

/// Decodes an undecoded value as a `T`.
pub fn from_raw<T: Decode>(raw: &Raw) -> Result<T, String> {
    #[cfg(not(target_arch = "wasm32"))]
    return from_str(raw.get());
    #[cfg(target_arch = "wasm32")]
    return T::from_js(raw).map_err(|e| e.message());
}

/// `value` as JSON text.
pub fn to_string<T: Serialize>(value: &T) -> String {
    // The protocol's types are plain data: they always serialize.
    serde_json::to_string(value).unwrap_or_default()
}

/// The top-level fields of a JSON object, each left undecoded, by name: how a WebSocket
/// envelope is read before its `type` says what its `data` is. `None` for a text that is not
/// a JSON object.
pub fn fields(text: &str, names: &[&'static str]) -> Option<Vec<Option<Raw>>> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let map: std::collections::HashMap<String, Raw> = serde_json::from_str(text).ok()?;
        Some(
            names
                .iter()
                .map(|name| map.get(*name).filter(|v| v.get() != "null").cloned())
                .collect(),
        )
    }
    #[cfg(target_arch = "wasm32")]
    {
        let object = js::parse(text).ok().filter(|v| v.is_object())?;
        Some(
            names
                .iter()
                .map(|name| {
                    js_sys::Reflect::get(&object, &wasm_bindgen::JsValue::from_str(name))
                        .ok()
                        .filter(|v| !v.is_null() && !v.is_undefined())
                })
                .collect(),
        )
    }
}
