//! Remaining stock as a count and a bar, and its sold-out state.

use super::bind::{Bind, hidden};
use crate::format::concat;
use crate::i18n::Texts;

/// "38 of 500 left" with a meter, or "Sold out" (`data-sold-out`); hidden until the stock is
/// known (a server that reports none shows none).
pub fn html(t: &Texts) -> String {
    concat(&[
        concat!(
            r#"<section class="lq-stock" aria-labelledby="lq-stock-label" hidden>"#,
            r#"<div class="lq-stock-text"><h2 id="lq-stock-label" class="lq-label">"#,
        ),
        t.stock_label,
        concat!(
            r#"</h2><p class="lq-stock-count"></p></div>"#,
            r#"<div class="lq-meter" role="meter" aria-labelledby="lq-stock-label" aria-valuemin="0">"#,
            r#"<div class="lq-meter-fill"></div></div></section>"#,
        ),
    ])
}

/// The count, the meter's values and its fill.
pub const BINDINGS: &[Bind] = &[
    Bind::Attr(".lq-stock", "hidden", |m| hidden(m.stock_known)),
    Bind::Attr(".lq-stock", "data-sold-out", |m| m.sold_out.then_some("")),
    Bind::Text(".lq-stock-count", |m| &m.stock_text),
    Bind::Attr(".lq-meter", "aria-valuemax", |m| Some(&m.value_max)),
    Bind::Attr(".lq-meter", "aria-valuenow", |m| Some(&m.value_now)),
    Bind::Attr(".lq-meter", "aria-valuetext", |m| Some(&m.stock_text)),
    Bind::Attr(".lq-meter-fill", "style", |m| Some(&m.fill_style)),
];
