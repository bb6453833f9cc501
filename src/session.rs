//! The shopper's credentials for one experience, kept in the tab's `sessionStorage`.
//!
//! `sessionStorage` lives as long as the tab: a reload (or a crash of the page) keeps the
//! shopper's place in line, while a new tab joins afresh, which is what a queue should do.
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
    crate::format::concat(&["livequeue:session:", experience])
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// The credentials saved for `experience` in this tab, if any (and readable).
pub fn load(experience: &str) -> Option<Credentials> {
    let text = storage()?.get_item(&storage_key(experience)).ok()??;
    livequeue_protocol::json::from_str(&text).ok()
}

/// Saves `credentials` for `experience` in this tab.
pub fn save(experience: &str, credentials: &Credentials) {
    let (Some(storage), text) = (storage(), livequeue_protocol::json::to_string(credentials))
    else {
        return;
    };
    // Full or forbidden storage only costs the place on reload: nothing to do about it.
    let _ = storage.set_item(&storage_key(experience), &text);
}

/// Forgets the credentials of `experience` in this tab (the server refused them).
pub fn clear(experience: &str) {
    if let Some(storage) = storage() {
        // Failing to remove only means the next load tries the refused credentials again.
        let _ = storage.remove_item(&storage_key(experience));
    }
}

// `sessionStorage` exists only in a browser.
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
}
