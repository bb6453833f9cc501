//! The loading line, then the shopper's place in line and the estimated wait.

use super::bind::{Bind, hidden};

/// The loading line, and a slot for the card: the place in line as a big number, announced
/// politely to screen readers when it changes, with the estimated wait below it. The card is
/// present only while the shopper is in line (no place-in-line number beside the turn).
pub const HTML: &str = concat!(
    r#"<p class="lq-loading" aria-busy="true">Finding your place in line…</p>"#,
    r#"<div class="lq-slot lq-slot-position"></div>"#,
);

const CARD: &str = concat!(
    r#"<section class="lq-position" aria-labelledby="lq-position-label">"#,
    r#"<h2 id="lq-position-label" class="lq-label">Your place in line</h2>"#,
    r#"<p class="lq-position-number" aria-live="polite" aria-atomic="true">"#,
    r#"<span class="lq-visually-hidden"></span>"#,
    r#"<span class="lq-position-value" aria-hidden="true"></span></p>"#,
    r#"<dl class="lq-facts"><div class="lq-fact"><dt class="lq-label">Estimated wait</dt>"#,
    r#"<dd class="lq-wait"></dd></div></dl></section>"#,
);

/// The loading line and the card.
pub const BINDINGS: &[Bind] = &[
    Bind::Attr(".lq-loading", "hidden", |m| hidden(m.loading)),
    Bind::Part(".lq-slot-position", |m| m.in_line, CARD),
    Bind::Text(".lq-position-number .lq-visually-hidden", |m| &m.spoken),
    Bind::Text(".lq-position-value", |m| &m.position),
    Bind::Text(".lq-wait", |m| &m.wait),
];
