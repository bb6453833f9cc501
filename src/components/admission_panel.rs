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
/// the grant's expiry measured on the server's clock. Each is shown only when the server
/// gave what it needs (a checkout URL, an expiry): never a link or a time made up.
#[component]
pub fn AdmissionPanel(
    /// The admission, when the server sent one with the turn.
    #[prop(into)]
    admission: Signal<Option<Admission>>,
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

    let expires_at = Memo::new(move |_| admission.with(|a| a.as_ref().and_then(|a| a.expires_at)));
    let href = Memo::new(move |_| {
        admission.with(|a| {
            a.as_ref()
                .filter(|a| !a.checkout_url.is_empty())
                .map(|a| format::checkout_href(&a.checkout_url, &a.grant))
        })
    });
    view! {
        <section class="lq-admission" aria-labelledby="lq-admission-title">
            <h2 id="lq-admission-title" class="lq-admission-title">"It's your turn!"</h2>
            {move || href.get().map(|href| view! {
                <a class="lq-checkout" href=href target="_top" rel="noopener">
                    "Continue to checkout"
                </a>
            })}
            {move || expires_at.get().map(|deadline| view! {
                <p class="lq-countdown">
                    <span class="lq-label">"Held for you for "</span>
                    <span class="lq-countdown-value" role="timer">
                        {move || format::countdown(skew.get().remaining_ms(deadline, now.get()))}
                    </span>
                </p>
            })}
        </section>
    }
}
