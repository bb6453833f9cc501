//! The table printed at the end of a run, and the JSON written with `--json`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::phase::PhaseResult;
use crate::procfs::Memory;
use crate::stats::median;

/// The machine the figures were taken on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPUs this process may run on.
    pub nproc: usize,
    /// `MemTotal` from `/proc/meminfo`, bytes.
    pub mem_total: Option<u64>,
    /// Kernel release.
    pub kernel: String,
}

impl Machine {
    /// This machine.
    pub fn this() -> Self {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_total = meminfo.lines().find_map(|l| {
            let kb = l
                .strip_prefix("MemTotal:")?
                .trim()
                .strip_suffix("kB")?
                .trim();
            kb.parse::<u64>().ok().map(|kb| kb * 1024)
        });
        Self {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            mem_total,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_string(),
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Where.
    pub machine: Machine,
    /// The command line.
    pub command: String,
    /// Worker threads of the loadgen.
    pub loadgen_threads: usize,
    /// Each phase.
    pub phases: Vec<PhaseResult>,
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn kb(bytes: Option<f64>) -> String {
    bytes.map_or("–".into(), |b| format!("{:.1} KB", b / 1e3))
}

fn ms(us: Option<u64>) -> String {
    us.map_or("–".into(), |us| format!("{:.1}", us as f64 / 1e3))
}

fn mem(m: Option<Memory>) -> String {
    m.map_or("–".into(), |m| mb(m.rss))
}

type Row = (&'static str, fn(&PhaseResult) -> String);

const ROWS: &[Row] = &[
    ("connections open / wanted", |p| {
        format!("{} / {}", p.connected, p.wanted)
    }),
    ("connections per node (server's count)", |p| {
        let counts: Vec<String> = p
            .node_connections
            .iter()
            .map(|c| c.map_or("–".into(), |c| c.to_string()))
            .collect();
        counts.join(" + ")
    }),
    ("failed or ended early", |p| {
        p.errors.values().sum::<usize>().to_string()
    }),
    ("time to open all (s)", |p| format!("{:.1}", p.connect_secs)),
    ("connect → first state p50 / p99 (ms)", |p| {
        format!("{} / {}", ms(p.open_time.p50_us), ms(p.open_time.p99_us))
    }),
    ("server RSS before → idle", |p| {
        format!("{} → {}", mem(p.memory.before), mem(p.memory.idle))
    }),
    ("server RSS per idle conn", |p| kb(p.memory.rss_per_conn)),
    ("server anon per idle conn", |p| kb(p.memory.anon_per_conn)),
    ("server RSS per conn after publishes", |p| {
        kb(p.memory.rss_per_conn_after_fanout)
    }),
    ("server RSS after close", |p| mem(p.memory.after_close)),
    ("loadgen RSS per conn", |p| {
        kb(p.memory.loadgen_rss_per_conn)
    }),
    ("publishes", |p| p.publishes.len().to_string()),
    ("deliveries / expected", |p| {
        format!("{} / {}", p.deliveries, p.expected_deliveries)
    }),
    ("latency p50 / p90 (ms)", |p| {
        format!("{} / {}", ms(p.latency.p50_us), ms(p.latency.p90_us))
    }),
    ("latency p99 / max (ms)", |p| {
        format!("{} / {}", ms(p.latency.p99_us), ms(p.latency.max_us))
    }),
    ("time to last delivery, median (ms)", |p| {
        p.median_last_us
            .map_or("–".into(), |us| format!("{:.1}", us / 1e3))
    }),
    ("deliveries per second, median", |p| {
        p.median_deliveries_per_sec
            .map_or("–".into(), |r| format!("{r:.0}"))
    }),
    ("PATCH round trip, median (ms)", |p| {
        let v: Vec<f64> = p.publishes.iter().map(|x| x.patch_us as f64).collect();
        median(&v).map_or("–".into(), |us| format!("{:.1}", us / 1e3))
    }),
    ("server CPU per delivery, all nodes (µs)", |p| {
        p.server_cpu_us_per_delivery
            .map_or("–".into(), |c| format!("{c:.2}"))
    }),
    ("server CPU user / system share", |p| {
        p.server_cpu
            .filter(|c| c.total_us() > 0)
            .map_or("–".into(), |c| {
                let user = 100.0 * c.user_us as f64 / c.total_us() as f64;
                format!("{user:.0}% / {:.0}%", 100.0 - user)
            })
    }),
    ("Redis CPU during publishes", |p| {
        p.redis_cpu.map_or("–".into(), |c| {
            let share = 100.0 * c.total_us() as f64 / p.fanout_wall_us.max(1) as f64;
            format!(
                "{:.0} ms ({share:.1}% of a core)",
                c.total_us() as f64 / 1e3
            )
        })
    }),
    ("Redis CPU per delivery (µs)", |p| {
        p.redis_cpu_us_per_delivery
            .map_or("–".into(), |c| format!("{c:.2}"))
    }),
    ("loadgen CPU per delivery (µs)", |p| {
        p.loadgen_cpu_us_per_delivery
            .map_or("–".into(), |c| format!("{c:.2}"))
    }),
    ("other processes' CPU during publishes", |p| {
        p.others_cpu_us.map_or("–".into(), |us| {
            let share = 100.0 * us as f64 / p.fanout_wall_us.max(1) as f64;
            format!("{:.1} s ({share:.0}% of a core)", us as f64 / 1e6)
        })
    }),
];

/// The figures as a table: one row per figure, one column per phase, then the failures.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let m = &report.machine;
    let _ = writeln!(
        out,
        "machine: {} CPUs, {} RAM, Linux {}; loadgen on {} thread(s) on the same CPUs",
        m.nproc,
        m.mem_total.map_or("?".into(), |b| format!(
            "{:.1} GiB",
            b as f64 / (1u64 << 30) as f64
        )),
        m.kernel,
        report.loadgen_threads
    );
    let label_width = ROWS
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let cells: Vec<Vec<String>> = report
        .phases
        .iter()
        .map(|p| ROWS.iter().map(|(_, f)| f(p)).collect())
        .collect();
    let headers: Vec<String> = report.phases.iter().map(header).collect();
    let widths: Vec<usize> = headers
        .iter()
        .zip(&cells)
        .map(|(h, c)| {
            c.iter()
                .chain([h])
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let _ = write!(out, "{:label_width$}", "");
    for (h, w) in headers.iter().zip(&widths) {
        let _ = write!(out, " | {h:>w$}");
    }
    out.push('\n');
    for (i, (label, _)) in ROWS.iter().enumerate() {
        let _ = write!(out, "{label:label_width$}");
        for (c, w) in cells.iter().zip(&widths) {
            let _ = write!(out, " | {:>w$}", c[i]);
        }
        out.push('\n');
    }
    for (p, h) in report.phases.iter().zip(&headers) {
        for (why, count) in &p.errors {
            let _ = writeln!(out, "{h}: {count} × {why}");
        }
    }
    out
}

/// A phase's column: its transport and its setup (`SSE · 2 nodes, Redis`).
fn header(p: &PhaseResult) -> String {
    format!("{} · {}", p.transport, p.setup)
}
