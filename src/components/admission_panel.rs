//! The shopper's turn: the countdown, more time, the cart and the checkout.

use super::bind::{Bind, hidden};
use crate::format::concat;
use crate::i18n::Texts;

/// A slot for the panel, present only on the shopper's turn: "It's your turn!", a countdown
/// to the grant's expiry measured on the server's clock, a warning a minute before it ends
/// with "Need more time?" (once per turn), Add to cart (optimistic), and the button to the
/// shop's checkout carrying the grant, in the top window. Each is shown only when the server
/// gave what it needs (a checkout URL, an expiry): never a link or a time made up. The page
/// ticks the clock while a countdown shows, and moves focus to the checkout once.
pub fn html(_: &Texts) -> String {
    r#"<div class="lq-slot lq-slot-admission"></div>"#.to_owned()
}

fn panel(t: &Texts) -> String {
    concat(&[
        concat!(
            r#"<section class="lq-admission" aria-labelledby="lq-admission-title">"#,
            r#"<h2 id="lq-admission-title" class="lq-admission-title" tabindex="-1">"#,
        ),
        t.turn_title,
        r#"</h2><p class="lq-countdown" hidden><span class="lq-label">"#,
        t.held_for,
        concat!(
            r#"</span><span class="lq-countdown-value" role="timer"></span></p>"#,
            r#"<div class="lq-hurry" role="alert" hidden><p>"#,
        ),
        t.hurry,
        concat!(
            r#"</p><button class="lq-button lq-quiet lq-extend" type="button" data-action="extend" hidden></button></div>"#,
            r#"<div class="lq-cart"><button class="lq-button lq-quiet lq-add" type="button" data-action="add" hidden></button>"#,
            r#"<p class="lq-cart-count" role="status"></p></div>"#,
            r#"<a class="lq-checkout lq-button" target="_top" rel="noopener" hidden>"#,
        ),
        t.checkout,
        "</a></section>",
    ])
}

/// The panel and its parts.
pub const BINDINGS: &[Bind] = &[
    Bind::Part(".lq-slot-admission", |m| m.admitted, panel),
    Bind::Attr(".lq-countdown", "hidden", |m| hidden(m.countdown.is_some())),
    Bind::Text(".lq-countdown-value", |m| {
        m.countdown.as_deref().unwrap_or_default()
    }),
    Bind::Attr(".lq-hurry", "hidden", |m| hidden(m.hurry)),
    Bind::Attr(".lq-extend", "hidden", |m| hidden(m.extend_offer)),
    Bind::Text(".lq-extend", |m| m.extend_label),
    Bind::Attr(".lq-add", "hidden", |m| hidden(m.cart_offer)),
    Bind::Text(".lq-add", |m| m.cart_label),
    Bind::Text(".lq-cart-count", |m| &m.cart_text),
    Bind::Attr(".lq-checkout", "href", |m| m.checkout.as_deref()),
    Bind::Attr(".lq-checkout", "hidden", |m| hidden(m.checkout.is_some())),
];
