//! The `?debug=1` panel: what the connection layer is doing, for integrators and support.

use super::bind::Bind;

/// The rows' names, in the order of the model's `debug` values.
const ROWS: [&str; 13] = [
    "transport",
    "status",
    "attempts",
    "opens",
    "cursor",
    "messages",
    "renders",
    "dropped",
    "malformed",
    "resyncs",
    "304s",
    "live",
    "tabs",
];

/// Transport, status, attempts, cursor, message and drop counts, live browser resources,
/// and this tab's role among the tabs sharing the feed, with the tab that leads
/// (`leader · leader 12` in the tab that leads, `follower · leader 12` in the others).
/// Written from [`ROWS`] when the panel is asked for: the markup of twelve rows costs more
/// in the bundle than the loop.
pub fn html() -> String {
    let mut html =
        String::from(r#"<details class="lq-debug" open><summary>Connection details</summary><dl>"#);
    for name in ROWS {
        html.push_str("<dt>");
        html.push_str(name);
        html.push_str("</dt><dd></dd>");
    }
    html.push_str("</dl></details>");
    html
}

/// Every row's value.
pub const BINDINGS: &[Bind] = &[Bind::Rows(".lq-debug dd")];
