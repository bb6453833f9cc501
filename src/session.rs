//! The shopper's credentials for one experience, kept in the browser's `localStorage`.
//!
//! One place per shopper and experience: a reload, a crash of the page, a second tab or a
//! return the next morning all find the same place in line rather than joining again
//! (a second place would be a second chance nobody else gets). Leaving the line forgets it.
//! Storage can be missing or full (private modes, sandboxed iframes); the widget then simply
//! forgets the place on reload, so every storage error is ignored on purpose.

use serde::{Deserialize, Serialize};

/// What identifies the shopper to the read endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// The shopper's id, from the join answer.
    pub consumer_id: String,
    /// The signed token, from the join answer.
    pub token: String,
}

/// The storage key for `experience`'s credentials.
pub fn storage_key(experience: &str) -> String {
    crate::format::concat(&["livequeue:place:", experience])
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The credentials saved for `experience` in this browser, if any (and readable).
pub fn load(experience: &str) -> Option<Credentials> {
    let text = storage()?.get_item(&storage_key(experience)).ok()??;
    from_json(&text)
}

/// Reads what [`to_json`] wrote with the browser's `JSON.parse` and two property reads,
/// instead of `Credentials`' `Deserialize`: that instantiation of the protocol's generic
/// decoder was used for nothing else (measured 2026-12-01: gzip 90646 → 90365 B).
fn from_json(text: &str) -> Option<Credentials> {
    let object = js_sys::JSON::parse(text).ok()?;
    let field = |name: &str| {
        js_sys::Reflect::get(&object, &name.into())
            .ok()?
            .as_string()
    };
    Some(Credentials {
        consumer_id: field("consumerId")?,
        token: field("token")?,
    })
}

/// Saves `credentials` for `experience` in this browser.
pub fn save(experience: &str, credentials: &Credentials) {
    let Some(storage) = storage() else {
        return;
    };
    // Full or forbidden storage only costs the place on reload: nothing to do about it.
    let _ = storage.set_item(&storage_key(experience), &to_json(credentials));
}

/// The credentials as the JSON their `Serialize` writes (`{"consumerId":…,"token":…}`),
/// written by hand: this was the widget's last use of `serde_json`'s writer, which the
/// bundle then leaves out. `load` still reads it with the protocol's JSON decoding, and the
/// test `credentials_are_written_as_serde_writes_them` keeps the two equal.
fn to_json(credentials: &Credentials) -> String {
    let mut out = String::from(r#"{"consumerId":"#);
    push_json_string(&mut out, &credentials.consumer_id);
    out.push_str(r#","token":"#);
    push_json_string(&mut out, &credentials.token);
    out.push('}');
    out
}

/// Appends `text` as a JSON string literal, escaped as `serde_json` escapes it.
pub(crate) fn push_json_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(char::from(HEX[(c as usize) >> 4]));
                out.push(char::from(HEX[(c as usize) & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Forgets the credentials of `experience` (the server refused them, or the shopper left).
pub fn clear(experience: &str) {
    if let Some(storage) = storage() {
        // Failing to remove only means the next load tries the refused credentials again.
        let _ = storage.remove_item(&storage_key(experience));
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn credentials_are_written_as_serde_writes_them() {
        for (consumer_id, token) in [
            ("c_1", "a.b+c/="),
            ("quote\"back\\slash", "tab\tline\nbell\u{7}\u{1f}é€"),
        ] {
            let credentials = Credentials {
                consumer_id: consumer_id.into(),
                token: token.into(),
            };
            assert_eq!(
                to_json(&credentials),
                livequeue_protocol::json::to_string(&credentials)
            );
        }
    }
}

// `localStorage` exists only in a browser.
#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn saved_credentials_load_back_per_experience_and_clear() {
        let credentials = Credentials {
            consumer_id: "c_test".into(),
            token: "t".into(),
        };
        save("session-test-a", &credentials);
        assert_eq!(load("session-test-a"), Some(credentials));
        assert_eq!(
            load("session-test-b"),
            None,
            "experiences do not share places"
        );
        clear("session-test-a");
        assert_eq!(load("session-test-a"), None);
    }

    #[wasm_bindgen_test]
    fn stored_text_reads_back_as_serde_would_read_it() {
        let credentials = Credentials {
            consumer_id: "quote\"c".into(),
            token: "t\n\u{1}é".into(),
        };
        assert_eq!(from_json(&to_json(&credentials)), Some(credentials));
        assert_eq!(
            from_json(r#"{"consumerId":"c"}"#),
            None,
            "a token is required"
        );
        assert_eq!(from_json(r#"{"consumerId":1,"token":"t"}"#), None);
        assert_eq!(from_json("not json"), None);
    }
}
