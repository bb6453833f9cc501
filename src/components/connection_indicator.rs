//! The Live / Reconnecting… indicator.

use leptos::prelude::*;

use crate::transport::ConnectionStatus;

/// A dot and a word saying whether updates are flowing. `data-status` carries the state for
/// styling and tests.
#[component]
pub fn ConnectionIndicator(
    /// The connection's status.
    #[prop(into)]
    status: Signal<ConnectionStatus>,
) -> impl IntoView {
    view! {
        <p class="lq-connection" data-status=move || status_key(status.get()) role="status">
            <span class="lq-connection-dot" aria-hidden="true"></span>
            <span class="lq-connection-label">{move || status.get().to_string()}</span>
        </p>
    }
}

/// A stable lowercase name, used as `data-status` (and CSS hook).
pub fn status_key(status: ConnectionStatus) -> &'static str {
    match status {
        ConnectionStatus::Connecting => "connecting",
        ConnectionStatus::Live => "live",
        ConnectionStatus::Reconnecting => "reconnecting",
        ConnectionStatus::Polling => "polling",
        ConnectionStatus::Offline => "offline",
        ConnectionStatus::Failed => "failed",
    }
}
