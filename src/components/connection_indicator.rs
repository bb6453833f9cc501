//! The Live / Reconnecting… indicator.

use leptos::prelude::*;

use super::model::{Page, attr, text};

/// A dot and a word saying whether updates are flowing. `data-status` carries the state for
/// styling and tests.
#[component]
pub fn ConnectionIndicator(
    /// The page's model and clock.
    page: Page,
) -> impl IntoView {
    view! {
        <p class="lq-connection" data-status=attr(page, |m| Some(m.status_key)) role="status">
            <span class="lq-connection-dot" aria-hidden="true"></span>
            <span class="lq-connection-label">{text(page, |m| &m.status_label)}</span>
        </p>
    }
}
