//! The shopper's turn: the checkout link and the time left to use it.

use std::time::Duration;

use leptos::prelude::*;
use livequeue_protocol::Admission;

use crate::clock::{self, ClockSkew};
use crate::format;

/// How often the countdown is redrawn. Half a second keeps the displayed second from
/// skipping when the timer fires slightly late.
const TICK: Duration = Duration::from_millis(500);

/// "It's your turn": a button to the shop's checkout carrying the grant, and a countdown to
/// the grant's expiry measured on the server's clock.
#[component]
pub fn AdmissionPanel(
    /// The active admission.
    #[prop(into)]
    admission: Signal<Admission>,
    /// Offset of the server's clock from the local one.
    #[prop(into)]
    skew: Signal<ClockSkew>,
) -> impl IntoView {
    let now = RwSignal::new(clock::local_now());
    let ticker = set_interval_with_handle(move || now.set(clock::local_now()), TICK).ok();
    on_cleanup(move || {
        if let Some(ticker) = ticker {
            ticker.clear();
        }
    });

    let remaining = move || {
        skew.get()
            .remaining_ms(admission.with(|a| a.expires_at), now.get())
    };
    let href = move || admission.with(|a| format::checkout_href(&a.checkout_url, &a.grant));
    view! {
        <section class="lq-admission" aria-labelledby="lq-admission-title">
            <h2 id="lq-admission-title" class="lq-admission-title">"It's your turn!"</h2>
            <a class="lq-checkout" href=href target="_top" rel="noopener">
                "Continue to checkout"
            </a>
            <p class="lq-countdown">
                <span class="lq-label">"Held for you for "</span>
                <span class="lq-countdown-value" role="timer">
                    {move || format::countdown(remaining())}
                </span>
            </p>
        </section>
    }
}
