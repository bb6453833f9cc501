//! Which benchmarks `cargo xtask bench` runs, at what sizes and how many times; one closed
//! enum over them, so adding one means adding a variant and the compiler lists the places.

use std::fmt::Write as _;

/// Fan-out sizes, connections per transport. Three sizes give the slope of memory per
/// connection and CPU per delivery against N for the projection; 19,000 is the most one
/// loadgen process holds under this machine's open-file limit of 20,000.
pub const FANOUT_SIZES: [usize; 3] = [2_000, 10_000, 19_000];
/// Fan-out sizes of `--quick`: two, so that the projection is still computed.
pub const QUICK_FANOUT_SIZES: [usize; 2] = [200, 500];

/// One benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The shopper bundle's bytes as served, against the budget (`xtask/src/size.rs`).
    Bundle,
    /// Idle SSE and WebSocket connections and the fan-out of updates to them.
    Fanout {
        /// Connections per transport.
        conns: usize,
    },
    /// Two nodes on one Redis against one node in memory.
    CompareRedis {
        /// Connections per transport.
        conns: usize,
    },
    /// Polling clients revalidating (`304`s per second).
    Poll {
        /// Polling clients.
        clients: usize,
    },
    /// A reconnect storm: every connection dropped at once, the time until all are back.
    Storm {
        /// Connections.
        conns: usize,
    },
    /// The same fan-out against the JavaScript server built from the guide's design
    /// (`bench/guide-js/`: Express + ws + ioredis, one Redis subscriber per SSE client).
    GuideJs {
        /// Connections per transport.
        conns: usize,
    },
    /// Publish → DOM change in the widget, per transport (`bench/widget-dom.mjs`).
    WidgetDom,
    /// The operator console scrolled through a million rows (`bench/console-scroll.mjs`).
    ConsoleScroll,
    /// Bytes and time to the first position on screen (`bench/first-visit.mjs`).
    FirstVisit,
    /// Publish → state signal in the widget (`tests/bench.rs`, `cargo xtask bench-widget`).
    WidgetSignal,
}

/// The names `--only` takes, with what each runs.
pub const NAMES: [(&str, &str); 10] = [
    ("bundle", "the shopper bundle's size"),
    (
        "fanout",
        "idle connections and fan-out at 2,000, 10,000 and 19,000 per transport",
    ),
    (
        "redis",
        "fan-out on two nodes sharing Redis against one node in memory, 5,000",
    ),
    ("poll", "polling clients, 304s per second, 64 clients"),
    ("storm", "a reconnect storm of 19,000 connections"),
    (
        "guide-js",
        "the same fan-out against the guide's JavaScript server (Express + ws + Redis), 5,000",
    ),
    (
        "widget-dom",
        "publish → DOM change in the widget, per transport",
    ),
    (
        "console-scroll",
        "the operator console scrolled through 1,000,000 rows",
    ),
    (
        "first-visit",
        "bytes on the wire and time to the first position on screen",
    ),
    (
        "widget-signal",
        "publish → state signal in the widget, page memory after reconnects",
    ),
];

impl Kind {
    /// The name `--only` selects it by.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bundle => "bundle",
            Self::Fanout { .. } => "fanout",
            Self::CompareRedis { .. } => "redis",
            Self::Poll { .. } => "poll",
            Self::Storm { .. } => "storm",
            Self::GuideJs { .. } => "guide-js",
            Self::WidgetDom => "widget-dom",
            Self::ConsoleScroll => "console-scroll",
            Self::FirstVisit => "first-visit",
            Self::WidgetSignal => "widget-signal",
        }
    }

    /// A name unique in a run (the fan-out sizes apart), for files and the report.
    pub fn id(self) -> String {
        match self {
            Self::Fanout { conns } => format!("fanout-{conns}"),
            other => other.name().to_owned(),
        }
    }

    /// The heading of its table.
    pub fn title(self) -> String {
        match self {
            Self::Bundle => "The shopper bundle (wasm + JS, as served)".to_owned(),
            Self::Fanout { conns } => format!(
                "Idle connections and fan-out, {} SSE then {} WebSocket",
                thousands(conns),
                thousands(conns)
            ),
            Self::CompareRedis { conns } => format!(
                "Two nodes on one Redis against one node in memory, {} SSE + {} WebSocket",
                thousands(conns),
                thousands(conns)
            ),
            Self::Poll { clients } => format!("Polling, {} clients", thousands(clients)),
            Self::Storm { conns } => {
                format!("Reconnect storm, {} connections", thousands(conns))
            }
            Self::GuideJs { conns } => format!(
                "The guide's JavaScript server (Express + ws + Redis), {} SSE then {} WebSocket",
                thousands(conns),
                thousands(conns)
            ),
            Self::WidgetDom => "Publish → DOM change in the widget, per transport".to_owned(),
            Self::ConsoleScroll => {
                "The operator console scrolled through 1,000,000 rows".to_owned()
            }
            Self::FirstVisit => "A shopper's first visit: bytes and first position".to_owned(),
            Self::WidgetSignal => {
                "Publish → state signal in the widget; memory after reconnects".to_owned()
            }
        }
    }

    /// The load generator's arguments (without `--json`), for the kinds it measures.
    pub fn loadgen_args(self, quick: bool) -> Option<Vec<String>> {
        let n = |v: usize| v.to_string();
        let mut args: Vec<String> = match self {
            Self::Fanout { conns } => vec!["--sse".into(), n(conns), "--ws".into(), n(conns)],
            Self::CompareRedis { conns } => vec![
                "--compare-redis".into(),
                "--sse".into(),
                n(conns),
                "--ws".into(),
                n(conns),
            ],
            Self::Poll { clients } => vec!["--poll".into(), n(clients)],
            Self::Storm { conns } => vec!["--storm".into(), n(conns)],
            Self::GuideJs { conns } => vec![
                "--guide-js".into(),
                "--sse".into(),
                n(conns),
                "--ws".into(),
                n(conns),
            ],
            _ => return None,
        };
        if quick {
            // Fewer publishes and a short wait for quiet: for trying the command out.
            args.extend(["--publishes", "5", "--quiet-wait-secs", "10"].map(String::from));
        }
        Some(args)
    }
}

/// A benchmark and how many times it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bench {
    /// What runs.
    pub kind: Kind,
    /// How many runs.
    pub runs: usize,
    /// Why it runs fewer times than `--runs` says, when it does.
    pub fewer_because: Option<&'static str>,
}

/// Why the 19,000-connection fan-out and the storm run a third as often.
const HEAVY: &str = "a third of `--runs`: each run holds 19,000 sockets per phase for minutes, \
    near the open-file limit of one process, and its figures are aggregates over 19,000 \
    connections already";
/// Why the bundle is measured once.
const ONCE: &str = "once: bytes of a deterministic build, the same every run";

/// The benchmarks to run, in order: the bundle first (cheap, and it builds `dist/`), the
/// browser ones next, the long server runs last.
pub fn plan(only: &[String], quick: bool, runs: usize) -> Result<Vec<Bench>, String> {
    for name in only {
        if !NAMES.iter().any(|(n, _)| n == name) {
            let mut known = String::new();
            for (n, what) in NAMES {
                let _ = write!(known, "\n  {n:<15} {what}");
            }
            return Err(format!(
                "no benchmark named {name:?}; the names are:{known}"
            ));
        }
    }
    let runs = if quick { 1 } else { runs.max(1) };
    let heavy = runs.div_ceil(3);
    let sizes: &[usize] = if quick {
        &QUICK_FANOUT_SIZES
    } else {
        &FANOUT_SIZES
    };
    let small = |full: usize, quick_size: usize| if quick { quick_size } else { full };
    let mut all = vec![
        Bench {
            kind: Kind::Bundle,
            runs: 1,
            fewer_because: (runs > 1).then_some(ONCE),
        },
        Bench::plain(Kind::FirstVisit, runs),
        Bench::plain(Kind::WidgetDom, runs),
        Bench::plain(Kind::WidgetSignal, runs),
        Bench::plain(Kind::ConsoleScroll, runs),
        Bench::plain(
            Kind::Poll {
                clients: small(64, 8),
            },
            runs,
        ),
    ];
    for &conns in sizes {
        let biggest = conns == FANOUT_SIZES[2];
        all.push(Bench {
            kind: Kind::Fanout { conns },
            runs: if biggest { heavy } else { runs },
            fewer_because: (biggest && heavy < runs).then_some(HEAVY),
        });
    }
    all.push(Bench::plain(
        Kind::CompareRedis {
            conns: small(5_000, 500),
        },
        runs,
    ));
    // 5,000: the guide's SSE route holds two descriptors per client in node (the client's
    // socket and its own Redis subscriber's) under the limit of 20,000 per process, so
    // 9,900 is its ceiling; 5,000 matches the `redis` comparison's size.
    all.push(Bench::plain(
        Kind::GuideJs {
            conns: small(5_000, 500),
        },
        runs,
    ));
    all.push(Bench {
        kind: Kind::Storm {
            conns: small(19_000, 500),
        },
        runs: heavy,
        fewer_because: (heavy < runs).then_some(HEAVY),
    });
    Ok(all
        .into_iter()
        .filter(|b| only.is_empty() || only.iter().any(|n| n == b.kind.name()))
        .collect())
}

impl Bench {
    fn plain(kind: Kind, runs: usize) -> Self {
        Self {
            kind,
            runs,
            fewer_because: None,
        }
    }
}

/// `19000` as `19,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_plan_runs_every_benchmark_with_fewer_heavy_runs() {
        let plan = plan(&[], false, 3).unwrap();
        let names: Vec<String> = plan.iter().map(|b| b.kind.id()).collect();
        for (name, _) in NAMES {
            assert!(
                names.iter().any(|id| id.starts_with(name)),
                "{name} is in the plan {names:?}"
            );
        }
        let runs_of = |id: &str| plan.iter().find(|b| b.kind.id() == id).unwrap().runs;
        assert_eq!(runs_of("fanout-2000"), 3);
        assert_eq!(runs_of("fanout-10000"), 3);
        assert_eq!(runs_of("fanout-19000"), 1, "the heaviest run once of three");
        assert_eq!(runs_of("storm"), 1);
        assert_eq!(runs_of("bundle"), 1, "deterministic bytes");
        assert_eq!(runs_of("guide-js"), 3, "R runs like the redis comparison");
    }

    #[test]
    fn only_selects_by_name_and_refuses_unknown_names() {
        let plan = plan(&["fanout".into(), "bundle".into()], true, 3).unwrap();
        let ids: Vec<String> = plan.iter().map(|b| b.kind.id()).collect();
        assert_eq!(ids, ["bundle", "fanout-200", "fanout-500"]);
        assert!(plan.iter().all(|b| b.runs == 1), "--quick runs once");
        let error = super::plan(&["fan-out".into()], false, 3).unwrap_err();
        assert!(
            error.contains("fanout"),
            "the error lists the names: {error}"
        );
    }

    #[test]
    fn loadgen_arguments_follow_the_contract() {
        assert_eq!(
            Kind::Fanout { conns: 2000 }.loadgen_args(false).unwrap(),
            ["--sse", "2000", "--ws", "2000"]
        );
        assert_eq!(
            Kind::Poll { clients: 64 }.loadgen_args(false).unwrap(),
            ["--poll", "64"]
        );
        assert_eq!(
            Kind::Storm { conns: 19000 }.loadgen_args(false).unwrap(),
            ["--storm", "19000"]
        );
        assert_eq!(
            Kind::GuideJs { conns: 5000 }.loadgen_args(false).unwrap(),
            ["--guide-js", "--sse", "5000", "--ws", "5000"]
        );
        assert!(Kind::WidgetDom.loadgen_args(false).is_none());
    }

    #[test]
    fn guide_js_runs_five_thousand_or_five_hundred_quick() {
        let full = plan(&["guide-js".into()], false, 3).unwrap();
        assert_eq!(
            full.iter().map(|b| (b.kind, b.runs)).collect::<Vec<_>>(),
            [(Kind::GuideJs { conns: 5_000 }, 3)]
        );
        let quick = plan(&["guide-js".into()], true, 3).unwrap();
        assert_eq!(quick[0].kind, Kind::GuideJs { conns: 500 });
        assert_eq!(quick[0].kind.id(), "guide-js");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(19000), "19,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(64), "64");
    }
}
