//! The shopper's place in line and the estimated wait.

use leptos::prelude::*;

use super::model::{Page, text};

/// The place in line as a big number, announced politely to screen readers when it changes,
/// with the estimated wait below it.
#[component]
pub fn PositionCard(
    /// The page's model and clock.
    page: Page,
) -> impl IntoView {
    view! {
        <section class="lq-position" aria-labelledby="lq-position-label">
            <h2 id="lq-position-label" class="lq-label">"Your place in line"</h2>
            <p class="lq-position-number" aria-live="polite" aria-atomic="true">
                <span class="lq-visually-hidden">{text(page, |m| &m.spoken)}</span>
                <span class="lq-position-value" aria-hidden="true">{text(page, |m| &m.position)}</span>
            </p>
            <dl class="lq-facts">
                <div class="lq-fact">
                    <dt class="lq-label">"Estimated wait"</dt>
                    <dd class="lq-wait">{text(page, |m| &m.wait)}</dd>
                </div>
            </dl>
        </section>
    }
}
