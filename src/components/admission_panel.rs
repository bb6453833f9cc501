//! The shopper's turn: the checkout link and the time left to use it.

use std::time::Duration;

use leptos::prelude::*;

use super::model::{Page, attr, hidden_unless, text};
use crate::clock;

/// How often the countdown is redrawn. Half a second keeps the displayed second from
/// skipping when the timer fires slightly late.
const TICK: Duration = Duration::from_millis(500);

/// "It's your turn": a button to the shop's checkout carrying the grant, and a countdown to
/// the grant's expiry measured on the server's clock. Each is shown only when the server
/// gave what it needs (a checkout URL, an expiry): never a link or a time made up.
#[component]
pub fn AdmissionPanel(
    /// The page's model and clock; the panel ticks the clock while it is shown.
    page: Page,
) -> impl IntoView {
    let now = page.now;
    let ticker = set_interval_with_handle(move || now.set(clock::local_now()), TICK).ok();
    on_cleanup(move || {
        if let Some(ticker) = ticker {
            ticker.clear();
        }
    });
    view! {
        <section class="lq-admission" aria-labelledby="lq-admission-title">
            <h2 id="lq-admission-title" class="lq-admission-title">"It's your turn!"</h2>
            <a
                class="lq-checkout"
                href=attr(page, |m| m.checkout.as_deref())
                hidden=hidden_unless(page, |m| m.checkout.is_some())
                target="_top"
                rel="noopener"
            >
                "Continue to checkout"
            </a>
            <p class="lq-countdown" hidden=hidden_unless(page, |m| m.countdown.is_some())>
                <span class="lq-label">"Held for you for "</span>
                <span class="lq-countdown-value" role="timer">
                    {text(page, |m| m.countdown.as_deref().unwrap_or_default())}
                </span>
            </p>
        </section>
    }
}
