//! The loading line, then the shopper's place in line, the estimated wait, the honest odds,
//! the notification offer and the Leave button.

use super::bind::{Bind, hidden};
use crate::format::concat;
use crate::i18n::Texts;

/// The loading line, and a slot for the card, present only while the shopper is in line.
/// The big number is animated by the page (`super::animated_number`) and hidden from screen
/// readers, which read the exact sentence beside it; changes are announced by the page's
/// polite live region (`super::live_regions`), not here, so not on every update.
pub fn html(t: &Texts) -> String {
    concat(&[
        r#"<p class="lq-loading" aria-busy="true">"#,
        t.loading,
        r#"</p><div class="lq-slot lq-slot-position"></div>"#,
    ])
}

fn card(t: &Texts) -> String {
    concat(&[
        concat!(
            r#"<section class="lq-position" aria-labelledby="lq-position-label">"#,
            r#"<h2 id="lq-position-label" class="lq-label">"#,
        ),
        t.place_label,
        concat!(
            r#"</h2><p class="lq-position-number"><span class="lq-visually-hidden"></span>"#,
            r#"<span class="lq-position-value" aria-hidden="true"></span></p>"#,
            r#"<dl class="lq-facts"><div class="lq-fact"><dt class="lq-label">"#,
        ),
        t.wait_label,
        concat!(
            r#"</dt><dd class="lq-wait"></dd></div></dl>"#,
            r#"<p class="lq-odds" hidden></p></section>"#,
            r#"<div class="lq-line-actions">"#,
            r#"<button class="lq-button lq-quiet" type="button" data-action="notify" hidden>"#,
        ),
        t.notify,
        r#"</button><p class="lq-notify-on" hidden>"#,
        t.notify_on,
        r#"</p><button class="lq-button lq-quiet lq-leave" type="button" data-action="leave"></button></div>"#,
    ])
}

/// The loading line and the card.
pub const BINDINGS: &[Bind] = &[
    Bind::Attr(".lq-loading", "hidden", |m| hidden(m.loading)),
    Bind::Part(".lq-slot-position", |m| m.in_line, card),
    Bind::Attr(".lq-position", "data-stale", |m| m.stale.then_some("")),
    Bind::Text(".lq-position-number .lq-visually-hidden", |m| &m.spoken),
    Bind::Text(".lq-wait", |m| &m.wait),
    Bind::Attr(".lq-odds", "hidden", |m| hidden(m.odds.is_some())),
    Bind::Attr(".lq-odds", "data-odds", |m| m.odds_key),
    Bind::Text(".lq-odds", |m| m.odds.as_deref().unwrap_or_default()),
    Bind::Attr("[data-action=notify]", "hidden", |m| hidden(m.notify_offer)),
    Bind::Attr(".lq-notify-on", "hidden", |m| hidden(m.notify_on)),
    Bind::Text(".lq-leave", |m| m.leave_label),
];
