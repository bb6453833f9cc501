//! The `?debug=1` panel: what the connection layer is doing, for integrators and support.

use leptos::prelude::*;

use super::model::{Page, text};

/// Transport, status, attempts, cursor, message and drop counts, live browser resources.
/// The values are the model's `debug` rows, in this order.
#[component]
pub fn DebugPanel(
    /// The page's model and clock.
    page: Page,
) -> impl IntoView {
    // One `fn` pointer per row: the bindings share one closure type (see `model`).
    let row = |name: &'static str, pick: fn(&super::model::Model) -> &str| {
        view! { <dt>{name}</dt><dd>{text(page, pick)}</dd> }
    };
    fn at(m: &super::model::Model, i: usize) -> &str {
        m.debug.get(i).map_or("", String::as_str)
    }
    view! {
        <details class="lq-debug" open>
            <summary>"Connection details"</summary>
            <dl>
                {row("transport", |m| at(m, 0))}
                {row("status", |m| at(m, 1))}
                {row("attempts", |m| at(m, 2))}
                {row("opens", |m| at(m, 3))}
                {row("cursor", |m| at(m, 4))}
                {row("messages", |m| at(m, 5))}
                {row("renders", |m| at(m, 6))}
                {row("dropped", |m| at(m, 7))}
                {row("malformed", |m| at(m, 8))}
                {row("resyncs", |m| at(m, 9))}
                {row("304s", |m| at(m, 10))}
                {row("live", |m| at(m, 11))}
            </dl>
        </details>
    }
}
