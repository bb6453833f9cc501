//! The page's header with the Live / Reconnecting… indicator.

use super::bind::Bind;

/// The title, and a dot and a word saying whether updates are flowing. `data-status` carries
/// the state for styling and tests.
pub const HTML: &str = concat!(
    r#"<header class="lq-header"><div class="lq-heading"><p class="lq-eyebrow">Virtual queue</p>"#,
    r#"<h1 class="lq-title"></h1></div>"#,
    r#"<p class="lq-connection" role="status"><span class="lq-connection-dot" aria-hidden="true"></span>"#,
    r#"<span class="lq-connection-label"></span></p></header>"#,
);

/// The title and the status.
pub const BINDINGS: &[Bind] = &[
    Bind::Text(".lq-title", |m| &m.title),
    Bind::Attr(".lq-connection", "data-status", |m| Some(m.status_key)),
    Bind::Text(".lq-connection-label", |m| &m.status_label),
];
