//! The README's headline table: each figure the project holds itself to, its median from
//! the latest run, its bar, and whether it is met. Every other figure is in BENCHMARKS.md.

use std::fmt::Write as _;

use super::figures::Row;
use super::report::{Header, Outcome, memory, value};
use super::suite::{Kind, thousands};

/// A bar a headline figure is held to.
#[derive(Debug, Clone, Copy)]
enum Bar {
    /// At most.
    AtMost(f64),
    /// At least.
    AtLeast(f64),
}

impl Bar {
    fn met(self, v: f64) -> bool {
        match self {
            Self::AtMost(b) => v <= b,
            Self::AtLeast(b) => v >= b,
        }
    }
}

/// One row of the README's table.
struct Headline {
    figure: &'static str,
    bar_text: &'static str,
    bar: Bar,
    /// The benchmark it comes from, and which rows of it.
    bench: &'static str,
    pick: fn(&Outcome) -> Vec<&Row>,
}

/// The fan-out the headline memory and CPU figures come from: 10,000 when it ran, else the
/// largest that did.
fn headline_fanout(outcomes: &[Outcome]) -> Option<&Outcome> {
    let fanouts = || {
        outcomes
            .iter()
            .filter(|o| matches!(o.bench.kind, Kind::Fanout { .. }) && !o.rows.is_empty())
    };
    fanouts()
        .find(|o| o.bench.kind == Kind::Fanout { conns: 10_000 })
        .or_else(|| {
            fanouts().max_by_key(|o| match o.bench.kind {
                Kind::Fanout { conns } => conns,
                _ => 0,
            })
        })
}

fn keys<'a>(o: &'a Outcome, wanted: &[&str]) -> Vec<&'a Row> {
    wanted.iter().filter_map(|k| o.row(k)).collect()
}

const HEADLINES: [Headline; 7] = [
    Headline {
        figure: "shopper bundle, wasm + JS, gzip as served",
        bar_text: "≤ 80 KiB (81,920 B)",
        bar: Bar::AtMost(81_920.0),
        bench: "bundle",
        pick: |o| keys(o, &["bundle_gzip_bytes"]),
    },
    Headline {
        figure: "first position on screen, loopback, cold cache",
        bar_text: "≤ 150 ms",
        bar: Bar::AtMost(150.0),
        bench: "first-visit",
        pick: |o| keys(o, &["first_position_loopback_median_ms"]),
    },
    Headline {
        figure: "publish → first DOM change, per transport",
        bar_text: "≤ one frame (16.7 ms)",
        bar: Bar::AtMost(16.7),
        bench: "widget-dom",
        pick: |o| {
            let exact = keys(
                o,
                &[
                    "ws_publish_to_dom_p50_ms",
                    "ws_publish_to_dom_p99_ms",
                    "sse_publish_to_dom_p50_ms",
                    "sse_publish_to_dom_p99_ms",
                ],
            );
            if exact.is_empty() {
                // Keys renamed: whatever publish → DOM figures it has.
                o.rows
                    .iter()
                    .filter(|r| r.unit == "ms" && r.key.contains("dom"))
                    .collect()
            } else {
                exact
            }
        },
    },
    Headline {
        figure: "server memory per open connection",
        bar_text: "≤ 4 KB",
        bar: Bar::AtMost(4.0),
        bench: "fanout",
        pick: |o| keys(o, &["sse_rss_per_conn_kb", "ws_rss_per_conn_kb"]),
    },
    Headline {
        figure: "server user-space CPU per delivered update",
        bar_text: "≤ 2 µs",
        bar: Bar::AtMost(2.0),
        bench: "fanout",
        pick: |o| {
            keys(
                o,
                &[
                    "sse_user_cpu_per_delivery_us",
                    "ws_user_cpu_per_delivery_us",
                ],
            )
        },
    },
    Headline {
        figure: "polling: 304s per second",
        bar_text: "≥ 20,000/s",
        bar: Bar::AtLeast(20_000.0),
        bench: "poll",
        pick: |o| keys(o, &["poll_304_per_s"]),
    },
    Headline {
        figure: "reconnect storm: all connections back",
        bar_text: "≤ 35 s",
        bar: Bar::AtMost(35.0),
        bench: "storm",
        pick: |o| {
            let exact = keys(o, &["storm_all_back_s"]);
            if exact.is_empty() {
                o.rows
                    .iter()
                    .filter(|r| r.key.contains("all_back"))
                    .collect()
            } else {
                exact
            }
        },
    },
];

/// A value and its unit: `12.3 ms`, `25,581/s`.
fn with_unit(v: f64, unit: &str) -> String {
    match unit {
        "" => value(v),
        u if u.starts_with(['/', '%']) => format!("{}{u}", value(v)),
        u => format!("{} {u}", value(v)),
    }
}

/// A reason cut to a table cell's length (BENCHMARKS.md has it whole).
fn short(reason: &str) -> String {
    const CELL: usize = 160;
    match reason.char_indices().nth(CELL) {
        Some((at, _)) => format!("{}… (whole in BENCHMARKS.md)", &reason[..at]),
        None => reason.to_owned(),
    }
}

/// The README's table between `<!-- figures:begin -->` and `<!-- figures:end -->`.
pub fn readme_table(h: &Header, outcomes: &[Outcome]) -> String {
    let mut out = format!(
        "Headline figures of `{}` on {}, commit `{}`{} ({} CPUs, {}): medians over the runs; \
         every figure, its spread and its command in \
         [`docs/BENCHMARKS.md`](docs/BENCHMARKS.md#latest-run-of-cargo-xtask-bench).\n\n\
         | figure | measured | our bar | met |\n|---|---|---|---|\n",
        h.invocation,
        h.date,
        h.commit.short,
        if h.commit.dirty { " (dirty tree)" } else { "" },
        h.machine.nproc,
        memory(&h.machine.mem_total),
    );
    if h.quick {
        out.insert_str(
            0,
            "**A `--quick` run** (small sizes, one run each): not figures to compare.\n\n",
        );
    }
    for line in &HEADLINES {
        let source = if line.bench == "fanout" {
            headline_fanout(outcomes)
        } else {
            outcomes.iter().find(|o| o.bench.kind.name() == line.bench)
        };
        let (measured, met) = match source {
            None => ("not run".to_owned(), "—".to_owned()),
            Some(o) if o.rows.is_empty() => (
                format!("not measured: {}", short(&o.reason())),
                "—".to_owned(),
            ),
            Some(o) => {
                let rows = (line.pick)(o);
                if rows.is_empty() {
                    (
                        "not measured: no such figure in its output".to_owned(),
                        "—".to_owned(),
                    )
                } else {
                    let cells: Vec<String> = rows
                        .iter()
                        .map(|r| match rows.len() {
                            1 => format!("**{}**", with_unit(r.median, &r.unit)),
                            _ => format!("{}: **{}**", r.label, with_unit(r.median, &r.unit)),
                        })
                        .collect();
                    let mut cell = cells.join("; ");
                    if let Kind::Fanout { conns } = o.bench.kind {
                        let _ = write!(cell, " (at {} per transport)", thousands(conns));
                    }
                    let all_met = rows.iter().all(|r| line.bar.met(r.median));
                    (cell, if all_met { "yes" } else { "no" }.to_owned())
                }
            }
        };
        // A pipe inside a reason would split the cell.
        let measured = measured.replace('|', "/");
        let _ = writeln!(
            out,
            "| {} | {measured} | {} | {met} |",
            line.figure, line.bar_text
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::tests::{outcome, row};

    #[test]
    fn a_long_reason_is_cut_in_the_readme_only() {
        let long = "x".repeat(500);
        let cut = short(&long);
        assert!(
            cut.len() < 220 && cut.ends_with("(whole in BENCHMARKS.md)"),
            "{cut}"
        );
        assert_eq!(short("exit 1"), "exit 1");
    }

    #[test]
    fn the_readme_table_holds_each_headline_against_its_bar() {
        let outcomes = [
            outcome(
                Kind::Bundle,
                vec![row("bundle_gzip_bytes", 81_000.0, "B")],
                &[],
            ),
            outcome(
                Kind::Fanout { conns: 10_000 },
                vec![
                    row("sse_rss_per_conn_kb", 18.9, "KB"),
                    row("ws_rss_per_conn_kb", 3.5, "KB"),
                ],
                &[],
            ),
            outcome(
                Kind::Poll { clients: 64 },
                vec![],
                &["run 1: no figures | file"],
            ),
        ];
        let table = readme_table(&Header::default(), &outcomes);
        let line = |start: &str| {
            table
                .lines()
                .find(|l| l.starts_with(&format!("| {start}")))
                .unwrap_or_else(|| panic!("no row {start} in {table}"))
                .to_owned()
        };
        assert!(
            line("shopper bundle").ends_with("| yes |"),
            "81,000 B is under 80 KiB"
        );
        let memory = line("server memory");
        assert!(
            memory.contains("18.9") && memory.ends_with("| no |"),
            "{memory}"
        );
        assert!(memory.contains("at 10,000"), "{memory}");
        let poll = line("polling");
        assert!(
            poll.contains("not measured: run 1: no figures / file"),
            "{poll}"
        );
        assert!(line("reconnect storm").contains("not run"));
        let storm = outcome(
            Kind::Storm { conns: 19_000 },
            vec![
                row("storm_all_back_after_up_s", 3.0, "s"),
                row("storm_all_back_s", 12.5, "s"),
            ],
            &[],
        );
        let table = readme_table(&Header::default(), &[storm]);
        assert!(table.contains("| **12.5 s** | ≤ 35 s | yes |"), "{table}");
    }
}
