//! The operator token, kept for the tab: entered once, stored in `sessionStorage` (gone when
//! the tab closes, never shared with other tabs or put in a URL), forgotten on sign-out or
//! when the server refuses it.

/// The `sessionStorage` key.
const KEY: &str = "livequeue.operator-token";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// The token stored for this tab, if any.
pub fn stored() -> Option<String> {
    storage()?
        .get_item(KEY)
        .ok()
        .flatten()
        .filter(|t| !t.is_empty())
}

/// Keeps `token` for this tab. A browser that refuses storage (private mode quotas) only
/// means the operator types it again after a reload.
pub fn store(token: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(KEY, token);
    }
}

/// Forgets the token.
pub fn forget() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY);
    }
}
