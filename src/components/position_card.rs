//! The shopper's place in line and the estimated wait.

use leptos::prelude::*;

use crate::format;

/// The place in line as a big number, announced politely to screen readers when it changes,
/// with the estimated wait below it.
#[component]
pub fn PositionCard(
    /// 1-based place in line; `None` while unknown.
    #[prop(into)]
    position: Signal<Option<u64>>,
    /// Estimated seconds until it is the shopper's turn; `None` while unknown.
    #[prop(into)]
    wait_seconds: Signal<Option<u64>>,
) -> impl IntoView {
    let number = move || {
        position
            .get()
            .map(format::grouped)
            .unwrap_or_else(|| "–".into())
    };
    let spoken = move || match position.get() {
        Some(1) => "You're next in line".to_owned(),
        Some(n) => format!("You are number {} in line", format::grouped(n)),
        None => "Finding your place in line".to_owned(),
    };
    view! {
        <section class="lq-position" aria-labelledby="lq-position-label">
            <h2 id="lq-position-label" class="lq-label">"Your place in line"</h2>
            <p class="lq-position-number" aria-live="polite" aria-atomic="true">
                <span class="lq-visually-hidden">{spoken}</span>
                <span class="lq-position-value" aria-hidden="true">{number}</span>
            </p>
            <dl class="lq-facts">
                <div class="lq-fact">
                    <dt class="lq-label">"Estimated wait"</dt>
                    <dd class="lq-wait">{move || format::wait(wait_seconds.get())}</dd>
                </div>
            </dl>
        </section>
    }
}
