//! The `?debug=1` panel: what the connection layer is doing, for integrators and support.

use leptos::prelude::*;
use livequeue_protocol::supervisor::TransportKind;
use livequeue_protocol::{Cursor, EventId};

use crate::feed::Diagnostics;
use crate::resources;

/// Transport, status, attempts, cursor, message and drop counts, live browser resources.
#[component]
pub fn DebugPanel(
    /// The transport in use.
    #[prop(into)]
    transport: Signal<Option<TransportKind>>,
    /// The status's wording.
    #[prop(into)]
    status: Signal<String>,
    /// The state's cursor.
    #[prop(into)]
    cursor: Signal<Option<Cursor>>,
    /// The feed's counters.
    #[prop(into)]
    diagnostics: Signal<Diagnostics>,
) -> impl IntoView {
    let row = |name: &'static str, value: Signal<String>| {
        view! { <dt>{name}</dt><dd>{move || value.get()}</dd> }
    };
    let d =
        move |f: fn(&Diagnostics) -> u32| Signal::derive(move || diagnostics.with(f).to_string());
    let live = Signal::derive(move || {
        // Read the counters whenever the diagnostics change, which is when resources move.
        diagnostics.track();
        let (connections, listeners, timers, frames) = resources::snapshot();
        format!("{connections} conn · {listeners} listeners · {timers} timers · {frames} frames")
    });
    view! {
        <details class="lq-debug" open>
            <summary>"Connection details"</summary>
            <dl>
                {row("transport", Signal::derive(move || transport.get().map(|t| t.to_string()).unwrap_or_else(|| "none".into())))}
                {row("status", status)}
                {row("attempts", d(|d| d.attempts))}
                {row("opens", d(|d| d.opens))}
                {row("cursor", Signal::derive(move || cursor.get().map(|c| EventId(c).to_string()).unwrap_or_default()))}
                {row("messages", d(|d| d.messages))}
                {row("renders", d(|d| d.renders))}
                {row("dropped", d(|d| d.stale))}
                {row("malformed", d(|d| d.malformed))}
                {row("resyncs", d(|d| d.resyncs))}
                {row("304s", d(|d| d.not_modified))}
                {row("live", live)}
            </dl>
        </details>
    }
}
