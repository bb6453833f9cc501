//! Remaining stock as a count and a bar.

use leptos::prelude::*;
use livequeue_protocol::Stock;

use crate::format;

/// "312 of 500 left" with a meter; hidden until the stock is known.
#[component]
pub fn StockMeter(
    /// Remaining and total stock.
    #[prop(into)]
    stock: Signal<Stock>,
) -> impl IntoView {
    let available = move || stock.get().available;
    // The server never reports more available than total, but a meter must stay in range.
    let total = move || stock.get().total.max(stock.get().available);
    // Tenths of a percent in integers: formatting a float would add ~10 KB of wasm.
    let width = move || {
        let permille = match total() {
            0 => 0,
            t => available().saturating_mul(1000) / t,
        };
        format!("{}.{}%", permille / 10, permille % 10)
    };
    view! {
        <section class="lq-stock" aria-labelledby="lq-stock-label">
            <div class="lq-stock-text">
                <h2 id="lq-stock-label" class="lq-label">"Stock"</h2>
                <p class="lq-stock-count">
                    <strong>{move || format::grouped(available())}</strong>
                    " of " {move || format::grouped(total())} " left"
                </p>
            </div>
            <div
                class="lq-meter"
                role="meter"
                aria-labelledby="lq-stock-label"
                aria-valuemin="0"
                aria-valuemax=move || total().to_string()
                aria-valuenow=move || available().to_string()
                aria-valuetext=move || format!("{} of {} left", available(), total())
            >
                <div class="lq-meter-fill" style:width=width></div>
            </div>
        </section>
    }
}
