//! Remaining stock as a count and a bar.

use leptos::prelude::*;

use super::model::{Page, attr, hidden_unless, text};

/// "312 of 500 left" with a meter; hidden until the stock is known.
#[component]
pub fn StockMeter(
    /// The page's model and clock.
    page: Page,
) -> impl IntoView {
    view! {
        <section
            class="lq-stock"
            aria-labelledby="lq-stock-label"
            hidden=hidden_unless(page, |m| m.stock_known)
        >
            <div class="lq-stock-text">
                <h2 id="lq-stock-label" class="lq-label">"Stock"</h2>
                <p class="lq-stock-count">
                    <strong>{text(page, |m| &m.available)}</strong>
                    " of " {text(page, |m| &m.total)} " left"
                </p>
            </div>
            <div
                class="lq-meter"
                role="meter"
                aria-labelledby="lq-stock-label"
                aria-valuemin="0"
                aria-valuemax=attr(page, |m| Some(&m.value_max))
                aria-valuenow=attr(page, |m| Some(&m.value_now))
                aria-valuetext=attr(page, |m| Some(&m.value_text))
            >
                <div class="lq-meter-fill" style=attr(page, |m| Some(&m.fill_style))></div>
            </div>
        </section>
    }
}
