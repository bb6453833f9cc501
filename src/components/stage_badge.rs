//! The badge naming the shopper's stage, with the sentence saying what it means.

use super::bind::{Bind, hidden};
use crate::format::concat;
use crate::i18n::Texts;

/// A pill with the stage's short name (`data-stage` carries the wire name for styling) and
/// the stage's sentence; hidden until the stage is known. After a turn ran out, a button
/// joins the line again (at the back).
pub fn html(t: &Texts) -> String {
    concat(&[
        concat!(
            r#"<div class="lq-stage-row" hidden><span class="lq-stage"></span>"#,
            r#"<p class="lq-sentence"></p>"#,
            r#"<button class="lq-button lq-rejoin" type="button" data-action="rejoin" hidden>"#,
        ),
        t.rejoin,
        "</button></div>",
    ])
}

/// The row, the badge and the sentence.
pub const BINDINGS: &[Bind] = &[
    Bind::Attr(".lq-stage-row", "hidden", |m| hidden(m.stage.is_some())),
    Bind::Attr(".lq-stage", "data-stage", |m| m.stage),
    Bind::Text(".lq-stage", |m| m.stage_label),
    Bind::Text(".lq-sentence", |m| m.stage_sentence),
    Bind::Attr(".lq-rejoin", "hidden", |m| {
        hidden(m.stage == Some("expired"))
    }),
];
