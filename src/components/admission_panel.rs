//! The shopper's turn: the checkout link and the time left to use it.

use super::bind::{Bind, hidden};

/// A slot for the panel, present only on the shopper's turn: "It's your turn", a button to
/// the shop's checkout carrying the grant, and a countdown to the grant's expiry measured on
/// the server's clock. Each is shown only when the server gave what it needs (a checkout
/// URL, an expiry): never a link or a time made up. The page ticks the clock while a
/// countdown shows.
pub const HTML: &str = r#"<div class="lq-slot lq-slot-admission"></div>"#;

const PANEL: &str = concat!(
    r#"<section class="lq-admission" aria-labelledby="lq-admission-title">"#,
    r#"<h2 id="lq-admission-title" class="lq-admission-title">It's your turn!</h2>"#,
    r#"<a class="lq-checkout" target="_top" rel="noopener" hidden>Continue to checkout</a>"#,
    r#"<p class="lq-countdown" hidden><span class="lq-label">Held for you for </span>"#,
    r#"<span class="lq-countdown-value" role="timer"></span></p></section>"#,
);

/// The panel, its link and its countdown.
pub const BINDINGS: &[Bind] = &[
    Bind::Part(".lq-slot-admission", |m| m.admitted, PANEL),
    Bind::Attr(".lq-checkout", "href", |m| m.checkout.as_deref()),
    Bind::Attr(".lq-checkout", "hidden", |m| hidden(m.checkout.is_some())),
    Bind::Attr(".lq-countdown", "hidden", |m| hidden(m.countdown.is_some())),
    Bind::Text(".lq-countdown-value", |m| {
        m.countdown.as_deref().unwrap_or_default()
    }),
];
