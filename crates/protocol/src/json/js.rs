//! The widget's decoder: the protocol's types read from a JavaScript value that the
//! browser's own `JSON.parse` made, one [`FromJs`] impl per type the widget receives.
//!
//! Why not serde here, while the server (and every native test) decodes the same types
//! with their serde derives: a serde `Deserializer` over JavaScript values works, and the
//! widget used one, but each derived visitor monomorphizes its whole field loop for it; the
//! seven types the widget reads cost 14.5 KB of wasm that way (measured 2026-12-01), more
//! than a tenth of the bundle's 80 KB budget. Reading a field is one property lookup, so a
//! decoder written per type is a fraction of that. `serde-wasm-bindgen` costs more still (it
//! formats every error through `core::fmt`).
//!
//! The rules are serde's, so both ends read the wire alike, and the widget's browser tests
//! check this decoder against `serde_json` on the same texts (`tests/decode.rs`):
//! - an unknown field is ignored; a missing one is its default where the type has
//!   `#[serde(default)]`, else an error naming it;
//! - a value of the wrong type is an error, which drops the message (the feed counts it as
//!   malformed), except where the type is lenient on purpose: [`Stage`] (an unknown stage is
//!   none) and timestamps ([`crate::time`]: numbers, digits or RFC 3339 text, else none);
//! - `null` is `None` for an `Option`, and an error for a plain number or text;
//! - aliases are read after the field's own name (`estimatedWait`, `admissionToken`,
//!   `token`).

use std::fmt;

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::api::{ErrorBody, ErrorDetail};
use crate::error_code::ErrorCode;
use crate::event::{Heartbeat, PositionUpdate};
use crate::state::{
    Admission, AdmissionStatus, Cursor, ExperienceStatus, ExperienceView, QueueState, Stage, Stock,
};

/// Why a value is not the type asked for: fixed texts, with the missing field's name (the
/// one detail worth a log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsError {
    /// The text is not JSON.
    NotJson,
    /// A value has the wrong type.
    WrongType,
    /// A required field is missing.
    MissingField(&'static str),
    /// A name (a status) this version does not know.
    UnknownVariant,
}

impl JsError {
    /// The error as a sentence for logs, without `core::fmt` (whose machinery `to_string`
    /// would link into the widget for this alone).
    pub fn message(&self) -> String {
        match self {
            JsError::NotJson => "not valid JSON".to_owned(),
            JsError::WrongType => "a value has the wrong type".to_owned(),
            JsError::MissingField(field) => ["missing field `", field, "`"].concat(),
            JsError::UnknownVariant => "unknown name".to_owned(),
        }
    }
}

impl fmt::Display for JsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for JsError {}

/// `JSON.parse(text)`.
pub fn parse(text: &str) -> Result<JsValue, JsError> {
    js_sys::JSON::parse(text).map_err(|_| JsError::NotJson)
}

/// A type the widget reads from a parsed JSON value.
pub trait FromJs: Sized {
    /// Reads `value`.
    fn from_js(value: &JsValue) -> Result<Self, JsError>;
}

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// Whether `value` is missing: `undefined` (never in parsed JSON, but `Reflect::get` of an
/// absent field gives it).
fn missing(value: &JsValue) -> bool {
    value.is_undefined()
}

/// The fields of an object, read by name.
struct Object<'a>(&'a JsValue);

impl<'a> Object<'a> {
    /// `value` if it is a JSON object (not an array, not `null`).
    fn of(value: &'a JsValue) -> Result<Self, JsError> {
        if value.is_object() && !js_sys::Array::is_array(value) {
            Ok(Self(value))
        } else {
            Err(JsError::WrongType)
        }
    }

    /// The field `name`, or the first of `aliases` present; `undefined` when none is.
    fn get(&self, name: &str, aliases: &[&str]) -> JsValue {
        std::iter::once(name)
            .chain(aliases.iter().copied())
            .map(|key| Reflect::get(self.0, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED))
            .find(|v| !missing(v))
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// A field the type cannot do without.
    fn required<T: FromJs>(&self, name: &'static str) -> Result<T, JsError> {
        let value = self.get(name, &[]);
        if missing(&value) {
            return Err(JsError::MissingField(name));
        }
        T::from_js(&value)
    }

    /// A field that is its default when missing.
    fn or_default<T: FromJs + Default>(&self, name: &str, aliases: &[&str]) -> Result<T, JsError> {
        let value = self.get(name, aliases);
        if missing(&value) {
            Ok(T::default())
        } else {
            T::from_js(&value)
        }
    }
}

impl FromJs for u64 {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        match value.as_f64() {
            Some(n) if (0.0..=MAX_SAFE).contains(&n) && n.fract() == 0.0 => Ok(n as u64),
            _ => Err(JsError::WrongType),
        }
    }
}

impl FromJs for String {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        value.as_string().ok_or(JsError::WrongType)
    }
}

impl<T: FromJs> FromJs for Option<T> {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        if value.is_null() || missing(value) {
            Ok(None)
        } else {
            T::from_js(value).map(Some)
        }
    }
}

/// An enum written as its snake_case name: the variant of `names` that `value` names.
fn named<T: Copy>(value: &JsValue, names: &[(&str, T)]) -> Result<T, JsError> {
    let text = value.as_string().ok_or(JsError::WrongType)?;
    names
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, v)| *v)
        .ok_or(JsError::UnknownVariant)
}

impl FromJs for ExperienceStatus {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        named(
            value,
            &[
                ("open", ExperienceStatus::Open),
                ("paused", ExperienceStatus::Paused),
                ("closed", ExperienceStatus::Closed),
            ],
        )
    }
}

impl FromJs for AdmissionStatus {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        named(
            value,
            &[
                ("active", AdmissionStatus::Active),
                ("redeemed", AdmissionStatus::Redeemed),
                ("expired", AdmissionStatus::Expired),
            ],
        )
    }
}

/// A stage, leniently: text naming one is it, any other text (a newer server's stage) is
/// none, as serde's `lenient_stage` reads it.
#[derive(Default)]
struct LenientStage(Option<Stage>);

impl FromJs for LenientStage {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        Ok(LenientStage(
            Option::<String>::from_js(value)?.and_then(|s| Stage::parse(&s)),
        ))
    }
}

/// A timestamp, leniently, as [`crate::time::lenient_ms`] reads it: milliseconds as a
/// number (negative: none) or as text (digits or RFC 3339); anything else is none.
#[derive(Default)]
struct LenientMs(Option<u64>);

impl FromJs for LenientMs {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        if let Some(n) = value.as_f64() {
            return Ok(LenientMs((0.0..=MAX_SAFE).contains(&n).then_some(n as u64)));
        }
        Ok(LenientMs(value.as_string().and_then(|text| {
            text.trim()
                .parse::<u64>()
                .ok()
                .or_else(|| crate::time::parse_rfc3339_ms(&text))
        })))
    }
}

impl FromJs for Cursor {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        let o = Object::of(value)?;
        Ok(Cursor {
            epoch: o.required("epoch")?,
            seq: o.required("seq")?,
        })
    }
}

impl FromJs for Stock {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        let o = Object::of(value)?;
        Ok(Stock {
            available: o.or_default("available", &[])?,
            total: o.or_default("total", &[])?,
        })
    }
}

impl FromJs for ExperienceView {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        let o = Object::of(value)?;
        Ok(ExperienceView {
            name: o.or_default("name", &[])?,
            status: o.or_default("status", &[])?,
        })
    }
}

impl FromJs for Admission {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        let o = Object::of(value)?;
        Ok(Admission {
            grant: o.or_default("grant", &["admissionToken", "token"])?,
            expires_at: o.or_default::<LenientMs>("expiresAt", &[])?.0,
            checkout_url: o.or_default("checkoutUrl", &[])?,
            status: o.or_default("status", &[])?,
            reserved: o.or_default("reserved", &[])?,
        })
    }
}

impl FromJs for QueueState {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        let o = Object::of(value)?;
        Ok(QueueState {
            experience_id: o.or_default("experienceId", &[])?,
            consumer_id: o.or_default("consumerId", &[])?,
            position: o.or_default("position", &[])?,
            estimated_wait_seconds: o.or_default("estimatedWaitSeconds", &["estimatedWait"])?,
            stage: o.or_default::<LenientStage>("stage", &[])?.0,
            stock: o.or_default("stock", &[])?,
            experience: o.or_default("experience", &[])?,
            admission: o.or_default("admission", &[])?,
            cursor: o.or_default("cursor", &[])?,
            server_time: o.or_default("serverTime", &[])?,
        })
    }
}

impl FromJs for PositionUpdate {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        let o = Object::of(value)?;
        // Present (even as `null`) is `Some`, missing is `None`: see the type.
        let wait = o.get("estimatedWaitSeconds", &["estimatedWait"]);
        Ok(PositionUpdate {
            position: o.required("position")?,
            estimated_wait_seconds: if missing(&wait) {
                None
            } else {
                Some(Option::<u64>::from_js(&wait)?)
            },
        })
    }
}

impl FromJs for Heartbeat {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        Ok(Heartbeat {
            server_time: Object::of(value)?.required("serverTime")?,
        })
    }
}

impl FromJs for ErrorCode {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        // Any text: a code this version does not know is `Unknown`, as serde reads it.
        String::from_js(value).map(|code| ErrorCode::parse(&code))
    }
}

impl FromJs for ErrorBody {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        let detail = Object::of(value)?.required::<JsValue>("error")?;
        let o = Object::of(&detail)?;
        Ok(ErrorBody {
            error: ErrorDetail {
                code: o.required("code")?,
                message: o.required("message")?,
            },
        })
    }
}

impl FromJs for JsValue {
    fn from_js(value: &JsValue) -> Result<Self, JsError> {
        Ok(value.clone())
    }
}
