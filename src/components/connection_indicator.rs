//! The page's header: the title, the Live / Reconnecting… / Updating every N s indicator, and
//! when the server was last heard from.

use super::bind::{Bind, hidden};
use crate::format::concat;
use crate::i18n::Texts;

/// The title, a dot and a word saying whether updates are flowing (`data-status` carries the
/// state for styling and tests), and "Updated 12 s ago" below, which ticks.
pub fn html(t: &Texts) -> String {
    concat(&[
        r#"<header class="lq-header"><div class="lq-heading"><p class="lq-eyebrow">"#,
        t.eyebrow,
        concat!(
            r#"</p><h1 class="lq-title"></h1></div>"#,
            r#"<div class="lq-status"><p class="lq-connection" role="status">"#,
            r#"<span class="lq-connection-dot" aria-hidden="true"></span>"#,
            r#"<span class="lq-connection-label"></span></p><p class="lq-updated"></p></div></header>"#,
        ),
    ])
}

/// The title, the status and the last update.
pub const BINDINGS: &[Bind] = &[
    Bind::Text(".lq-title", |m| &m.title),
    Bind::Attr(".lq-connection", "data-status", |m| Some(m.status_key)),
    Bind::Attr(".lq-connection", "hidden", |m| {
        hidden(!m.status_label.is_empty())
    }),
    Bind::Text(".lq-connection-label", |m| &m.status_label),
    Bind::Text(".lq-updated", |m| &m.updated),
];
