//! A serde `Deserializer` over a JavaScript value that `JSON.parse` made: the widget's way
//! from the browser's own JSON parser to the protocol's serde-derived types.
//!
//! Hand-written rather than `serde-wasm-bindgen` because of what it costs the shopper's
//! bundle, measured: that crate builds every error message through `core::fmt`, which
//! links serde's `Unexpected` printing and with it `f64`'s `Display` (9.5 KB of wasm on its
//! own), and it handles what JSON never holds (`BigInt`, `Map`, byte arrays). JSON values
//! are five shapes; this reads them, and its errors are fixed texts (with the missing
//! field's name, the one detail worth a log line).

use std::fmt;

use js_sys::{Array, Object, Reflect};
use serde::de::{
    self, DeserializeSeed, Deserializer, Expected, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, Visitor,
};
use wasm_bindgen::{JsCast, JsValue};

/// Why a JavaScript value is not the type asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsError {
    /// The text is not JSON.
    NotJson,
    /// A value has the wrong shape or is out of range.
    WrongType,
    /// A required field is missing.
    MissingField(&'static str),
    /// A name that no variant of the enum has.
    UnknownVariant,
    /// Anything else a `Deserialize` impl refused.
    Invalid,
}

impl fmt::Display for JsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsError::NotJson => f.write_str("not valid JSON"),
            JsError::WrongType => f.write_str("a value has the wrong type"),
            JsError::MissingField(field) => {
                f.write_str("missing field `")?;
                f.write_str(field)?;
                f.write_str("`")
            }
            JsError::UnknownVariant => f.write_str("unknown name"),
            JsError::Invalid => f.write_str("invalid value"),
        }
    }
}

impl std::error::Error for JsError {}

// Every method is overridden: the defaults format their arguments into `custom`, which is
// exactly the code this module exists to leave out.
impl de::Error for JsError {
    fn custom<T: fmt::Display>(_: T) -> Self {
        JsError::Invalid
    }

    fn invalid_type(_: Unexpected<'_>, _: &dyn Expected) -> Self {
        JsError::WrongType
    }

    fn invalid_value(_: Unexpected<'_>, _: &dyn Expected) -> Self {
        JsError::WrongType
    }

    fn invalid_length(_: usize, _: &dyn Expected) -> Self {
        JsError::WrongType
    }

    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Self {
        JsError::UnknownVariant
    }

    fn unknown_field(_: &str, _: &'static [&'static str]) -> Self {
        JsError::Invalid
    }

    fn missing_field(field: &'static str) -> Self {
        JsError::MissingField(field)
    }

    fn duplicate_field(_: &'static str) -> Self {
        JsError::Invalid
    }
}

/// Largest integer a JavaScript number holds exactly (2^53 − 1).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// Deserializes a value made by `JSON.parse`.
pub struct JsDeserializer(pub JsValue);

impl<'de> Deserializer<'de> for JsDeserializer {
    type Error = JsError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, JsError> {
        match Shape::of(self.0) {
            Shape::Null => visitor.visit_unit(),
            Shape::Bool(b) => visitor.visit_bool(b),
            Shape::Unsigned(n) => visitor.visit_u64(n),
            Shape::Signed(n) => visitor.visit_i64(n),
            Shape::Float(n) => visitor.visit_f64(n),
            Shape::Text(s) => visitor.visit_string(s),
            Shape::List(items) => visitor.visit_seq(items),
            Shape::Object(fields) => visitor.visit_map(fields),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, JsError> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, JsError> {
        visitor.visit_newtype_struct(self)
    }

    /// Enums of this protocol are names (`"sold_out"`): unit variants from strings.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, JsError> {
        match self.0.as_string() {
            Some(name) => visitor.visit_enum(name.into_deserializer()),
            None => Err(JsError::WrongType),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// What a parsed JSON value is. Telling it apart is the same work for every type being
/// decoded, so it is done once here, outside the generic code that serde copies for each
/// visitor (measured: 2.6 KB of wasm less than doing it inside `deserialize_any`).
enum Shape {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Text(String),
    List(Items),
    Object(Fields),
}

impl Shape {
    #[inline(never)]
    fn of(value: JsValue) -> Shape {
        if value.is_null() || value.is_undefined() {
            return Shape::Null;
        }
        if let Some(b) = value.as_bool() {
            return Shape::Bool(b);
        }
        if let Some(n) = value.as_f64() {
            // Integers stay integers, so `u64` fields read them; others are floats.
            return if n.fract() == 0.0 && n.abs() <= MAX_SAFE {
                if n >= 0.0 {
                    Shape::Unsigned(n as u64)
                } else {
                    Shape::Signed(n as i64)
                }
            } else {
                Shape::Float(n)
            };
        }
        if let Some(s) = value.as_string() {
            return Shape::Text(s);
        }
        if Array::is_array(&value) {
            let array: Array = value.unchecked_into();
            return Shape::List(Items {
                len: array.length(),
                array,
                next: 0,
            });
        }
        if value.is_object() {
            let keys = Object::keys(value.unchecked_ref::<Object>());
            return Shape::Object(Fields {
                len: keys.length(),
                keys,
                object: value,
                next: 0,
                pending: None,
            });
        }
        // A symbol or a function: nothing `JSON.parse` makes.
        Shape::Null
    }
}

struct Items {
    array: Array,
    len: u32,
    next: u32,
}

impl<'de> SeqAccess<'de> for Items {
    type Error = JsError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, JsError> {
        if self.next >= self.len {
            return Ok(None);
        }
        let item = self.array.get(self.next);
        self.next += 1;
        seed.deserialize(JsDeserializer(item)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some((self.len - self.next) as usize)
    }
}

struct Fields {
    object: JsValue,
    keys: Array,
    len: u32,
    next: u32,
    /// The value of the key just handed out.
    pending: Option<JsValue>,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = JsError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, JsError> {
        if self.next >= self.len {
            return Ok(None);
        }
        let key = self.keys.get(self.next);
        self.next += 1;
        // `Reflect::get` on a plain object made by `JSON.parse` cannot throw.
        self.pending = Some(Reflect::get(&self.object, &key).unwrap_or(JsValue::UNDEFINED));
        seed.deserialize(JsDeserializer(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, JsError> {
        let value = self.pending.take().unwrap_or(JsValue::UNDEFINED);
        seed.deserialize(JsDeserializer(value))
    }
}

/// `JSON.parse(text)`.
pub fn parse(text: &str) -> Result<JsValue, JsError> {
    js_sys::JSON::parse(text).map_err(|_| JsError::NotJson)
}
