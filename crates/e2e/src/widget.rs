//! What the tests read off the widget's page: scripts for [`crate::browser::Browser`]'s
//! waits, written once against the widget's markup (`src/components/`).

/// A script answering `{ok, shown}`: whether the widget's place in line reads `place` now
/// (its digits: the number eases to each place, so a wait on this waits for it to come
/// to rest), and what it reads.
pub fn shows_place(place: u64) -> String {
    format!(
        r#"const v = document.querySelector(".lq-position-value");
           const shown = v ? v.textContent.replace(/[^0-9]/g, "") : "";
           return {{ ok: shown === "{place}", shown }};"#
    )
}

/// A script answering the grant the shopper's checkout link carries once the widget shows
/// the turn (`null` before).
pub const CHECKOUT_GRANT: &str = r#"const a = document.querySelector(".lq-checkout:not([hidden])");
return a && new URL(a.href).searchParams.get("grant");"#;
