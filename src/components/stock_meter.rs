//! Remaining stock as a count and a bar.

use super::bind::{Bind, hidden};

/// "312 of 500 left" with a meter; hidden until the stock is known.
pub const HTML: &str = concat!(
    r#"<section class="lq-stock" aria-labelledby="lq-stock-label" hidden>"#,
    r#"<div class="lq-stock-text"><h2 id="lq-stock-label" class="lq-label">Stock</h2>"#,
    r#"<p class="lq-stock-count"><strong></strong> of <span class="lq-stock-total"></span> left</p></div>"#,
    r#"<div class="lq-meter" role="meter" aria-labelledby="lq-stock-label" aria-valuemin="0">"#,
    r#"<div class="lq-meter-fill"></div></div></section>"#,
);

/// The count, the meter's values and its fill.
pub const BINDINGS: &[Bind] = &[
    Bind::Attr(".lq-stock", "hidden", |m| hidden(m.stock_known)),
    Bind::Text(".lq-stock-count strong", |m| &m.available),
    Bind::Text(".lq-stock-total", |m| &m.total),
    Bind::Attr(".lq-meter", "aria-valuemax", |m| Some(&m.value_max)),
    Bind::Attr(".lq-meter", "aria-valuenow", |m| Some(&m.value_now)),
    Bind::Attr(".lq-meter", "aria-valuetext", |m| Some(&m.value_text)),
    Bind::Attr(".lq-meter-fill", "style", |m| Some(&m.fill_style)),
];
