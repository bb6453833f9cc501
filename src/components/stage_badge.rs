//! The badge naming the shopper's stage, with the sentence saying what it means.

use super::bind::{Bind, hidden};

/// A pill with the stage's short name (`data-stage` carries the wire name for styling) and
/// the stage's sentence; hidden until the stage is known.
pub const HTML: &str = concat!(
    r#"<div class="lq-stage-row" hidden><span class="lq-stage"></span>"#,
    r#"<p class="lq-sentence"></p></div>"#,
);

/// The row, the badge and the sentence.
pub const BINDINGS: &[Bind] = &[
    Bind::Attr(".lq-stage-row", "hidden", |m| hidden(m.stage.is_some())),
    Bind::Attr(".lq-stage", "data-stage", |m| m.stage),
    Bind::Text(".lq-stage", |m| m.stage_label),
    Bind::Text(".lq-sentence", |m| m.stage_sentence),
];
