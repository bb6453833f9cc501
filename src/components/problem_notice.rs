//! The problem notice and the Reconnect button.

use super::bind::{Bind, hidden};
use crate::format::concat;
use crate::i18n::Texts;

/// A slot for the notice, present only while there is a problem (an empty alert would still
/// be announced, and tests wait for its text), and the Reconnect button, shown once the feed
/// gave up (its clicks are the page's, see `crate::app`).
pub fn html(t: &Texts) -> String {
    concat(&[
        concat!(
            r#"<div class="lq-slot lq-slot-problem"></div>"#,
            r#"<button class="lq-retry lq-button" type="button" data-action="retry" hidden>"#,
        ),
        t.reconnect,
        "</button>",
    ])
}

fn notice(_: &Texts) -> String {
    r#"<p class="lq-problem" role="alert"></p>"#.to_owned()
}

/// The notice and the button.
pub const BINDINGS: &[Bind] = &[
    Bind::Part(".lq-slot-problem", |m| m.problem.is_some(), notice),
    Bind::Text(".lq-problem", |m| m.problem.unwrap_or_default()),
    Bind::Attr(".lq-retry", "hidden", |m| hidden(m.failed)),
];
