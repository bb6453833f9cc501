//! The invitation to join, for a visitor without a place (or one who left).

use super::bind::Bind;
use crate::i18n::Texts;

/// A slot for the panel, present only while the shopper holds no place: a sentence and the
/// Join button (its clicks are the page's, see `crate::app`).
pub fn html(_: &Texts) -> String {
    r#"<div class="lq-slot lq-slot-join"></div>"#.to_owned()
}

fn panel(_: &Texts) -> String {
    concat!(
        r#"<section class="lq-join"><p class="lq-join-sentence"></p>"#,
        r#"<button class="lq-button lq-join-button" type="button" data-action="join"></button></section>"#,
    )
    .to_owned()
}

/// The panel, its sentence and its button.
pub const BINDINGS: &[Bind] = &[
    Bind::Part(".lq-slot-join", |m| m.outside, panel),
    Bind::Text(".lq-join-sentence", |m| m.join_sentence),
    Bind::Text(".lq-join-button", |m| m.join_label),
];
