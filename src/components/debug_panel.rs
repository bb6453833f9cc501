//! The `?debug=1` panel: what the connection layer is doing, for integrators and support.

use super::bind::Bind;
use super::model::Model;

/// Transport, status, attempts, cursor, message and drop counts, live browser resources.
/// The values are the model's `debug` rows, in this order.
pub const HTML: &str = concat!(
    r#"<details class="lq-debug" open><summary>Connection details</summary><dl>"#,
    "<dt>transport</dt><dd></dd><dt>status</dt><dd></dd><dt>attempts</dt><dd></dd>",
    "<dt>opens</dt><dd></dd><dt>cursor</dt><dd></dd><dt>messages</dt><dd></dd>",
    "<dt>renders</dt><dd></dd><dt>dropped</dt><dd></dd><dt>malformed</dt><dd></dd>",
    "<dt>resyncs</dt><dd></dd><dt>304s</dt><dd></dd><dt>live</dt><dd></dd>",
    "</dl></details>",
);

fn row(m: &Model, i: usize) -> &str {
    m.debug.get(i).map_or("", String::as_str)
}

/// One binding per row.
pub const BINDINGS: &[Bind] = &[
    Bind::Text(".lq-debug dd:nth-of-type(1)", |m| row(m, 0)),
    Bind::Text(".lq-debug dd:nth-of-type(2)", |m| row(m, 1)),
    Bind::Text(".lq-debug dd:nth-of-type(3)", |m| row(m, 2)),
    Bind::Text(".lq-debug dd:nth-of-type(4)", |m| row(m, 3)),
    Bind::Text(".lq-debug dd:nth-of-type(5)", |m| row(m, 4)),
    Bind::Text(".lq-debug dd:nth-of-type(6)", |m| row(m, 5)),
    Bind::Text(".lq-debug dd:nth-of-type(7)", |m| row(m, 6)),
    Bind::Text(".lq-debug dd:nth-of-type(8)", |m| row(m, 7)),
    Bind::Text(".lq-debug dd:nth-of-type(9)", |m| row(m, 8)),
    Bind::Text(".lq-debug dd:nth-of-type(10)", |m| row(m, 9)),
    Bind::Text(".lq-debug dd:nth-of-type(11)", |m| row(m, 10)),
    Bind::Text(".lq-debug dd:nth-of-type(12)", |m| row(m, 11)),
];
