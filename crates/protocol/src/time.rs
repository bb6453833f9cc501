//! Timestamps on the wire: milliseconds since the Unix epoch, read leniently.
//!
//! This server sends numbers. Servers written from the guide may send ISO-8601 / RFC 3339
//! text (`2026-12-01T10:00:30.500Z`, `…+01:00`), what JavaScript's `Date.toISOString()`
//! makes. Parsing that one format is a few lines of calendar arithmetic; a date crate
//! (`time`, `chrono`) would add tens of kilobytes to the widget for it.

use serde::Deserializer;
use serde::de::{self, Visitor};

/// A timestamp as a number of milliseconds, a numeric string, or RFC 3339 text; `null`, a
/// missing field or unreadable text is `None` (unknown), never an error.
///
/// A visitor rather than an untagged enum: untagged enums buffer the value in serde's
/// generic content type, which costs the widget kilobytes for one field.
pub fn lenient_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_any(LenientMs)
}

struct LenientMs;

impl<'de> Visitor<'de> for LenientMs {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a timestamp")
    }

    fn visit_u64<E: de::Error>(self, ms: u64) -> Result<Self::Value, E> {
        Ok(Some(ms))
    }

    fn visit_i64<E: de::Error>(self, ms: i64) -> Result<Self::Value, E> {
        Ok(u64::try_from(ms).ok())
    }

    fn visit_f64<E: de::Error>(self, ms: f64) -> Result<Self::Value, E> {
        Ok((ms.is_finite() && ms >= 0.0).then_some(ms as u64))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(text
            .trim()
            .parse::<u64>()
            .ok()
            .or_else(|| parse_rfc3339_ms(text)))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    // Anything else (a bool, an object) is no time either, but not worth dropping the
    // message for.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(None)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// Milliseconds since the Unix epoch of an RFC 3339 timestamp (`YYYY-MM-DDTHH:MM:SS`, an
/// optional fraction, then `Z` or `±HH:MM`); `None` for anything else or before 1970.
pub fn parse_rfc3339_ms(text: &str) -> Option<u64> {
    let b = text.trim().as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // A leap second (60) is read as the last one of its minute.
    let second = second.min(59);
    let mut at = 19;
    let mut millis = 0i64;
    if sep(at, b".,") {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 3 {
                millis = millis * 10 + i64::from(b[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return None;
        }
        for _ in (at - start)..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(at)? {
        b'Z' | b'z' if at + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if at + 6 == b.len() && sep(at + 3, b":") => {
            let minutes = num(at + 1, 2)? * 60 + num(at + 4, 2)?;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60 + second;
    u64::try_from(seconds * 1000 + millis).ok()
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_text_becomes_milliseconds() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2026-12-01T10:00:30.500Z"),
            Some(1_796_119_230_500)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-12-01T11:00:30.5+01:00"),
            Some(1_796_119_230_500),
            "an offset is taken off"
        );
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T00:00:00.123456Z"),
            Some(1_709_164_800_123)
        );
    }

    #[test]
    fn anything_else_is_not_a_time() {
        for bad in [
            "",
            "soon",
            "2026-13-01T00:00:00Z",
            "2026-12-01T10:00:30",
            "2026-12-01T10:00:30.Z",
            "1969-12-31T23:59:59Z",
            "2026-12-01T10:00:30Zjunk",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lenient_fields_accept_numbers_text_and_null() {
        #[derive(serde::Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "lenient_ms")]
            at: Option<u64>,
        }
        let read = |json: &str| serde_json::from_str::<T>(json).map(|t| t.at).ok();
        assert_eq!(read(r#"{"at":5}"#), Some(Some(5)));
        assert_eq!(read(r#"{"at":"5"}"#), Some(Some(5)));
        assert_eq!(read(r#"{"at":null}"#), Some(None));
        assert_eq!(read(r#"{}"#), Some(None));
        assert_eq!(read(r#"{"at":"later"}"#), Some(None));
        assert_eq!(read(r#"{"at":-3}"#), Some(None));
        assert_eq!(read(r#"{"at":{"when":1}}"#), Some(None));
    }
}
