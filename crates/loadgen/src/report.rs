//! The table printed at the end of a run, the JSON written with `--json`, and the list of
//! headline [`Figure`]s that every mode's JSON carries (what `cargo xtask bench` reads).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::cluster::Setup;
use crate::phase::PhaseResult;
use crate::procfs::{Cpu, Memory};
use crate::stats::{Latency, PublishFigures, median};
use crate::transport::Transport;

/// One headline figure. Every mode's JSON has a top-level `"figures"` array of these, and
/// `cargo xtask bench` reads only that array: keys are stable `snake_case`, one per figure,
/// and a figure that could not be measured is left out rather than written as `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// Stable key, `snake_case` (`poll_304_per_s`).
    pub key: String,
    /// What it is, in words.
    pub label: String,
    /// The value, in `unit`.
    pub value: f64,
    /// The unit (`/s`, `ms`, `us`, `KB`, `MB`, `s`, or what is counted).
    pub unit: String,
}

/// The figures of a run, in the order they were added.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Figures(pub Vec<Figure>);

impl Figures {
    /// Adds a figure when `value` is present and finite.
    pub fn add(
        &mut self,
        key: impl Into<String>,
        label: impl Into<String>,
        value: Option<f64>,
        unit: &str,
    ) {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            self.0.push(Figure {
                key: key.into(),
                label: label.into(),
                value,
                unit: unit.to_string(),
            });
        }
    }

    /// The figure with `key`, if present.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.0.iter().find(|f| f.key == key).map(|f| f.value)
    }
}

/// The key prefix of a transport: `sse_`, `ws_`.
fn transport_prefix(t: Transport) -> &'static str {
    match t {
        Transport::Sse => "sse_",
        Transport::Ws => "ws_",
    }
}

/// The headline figures of the fan-out phases: per transport `{t}_rss_per_conn_kb`,
/// `{t}_deliveries_per_s`, `{t}_latency_p50_ms`, `{t}_latency_p99_ms`,
/// `{t}_cpu_per_delivery_us` (and its `user_` / `system_` parts) and
/// `{t}_patch_round_trip_ms`; with both setups in the run (`--compare-redis`), each key is
/// prefixed `memory_` or `redis_`.
pub fn phase_figures(phases: &[PhaseResult]) -> Figures {
    let compared = phases.iter().any(|p| p.setup == Setup::Memory)
        && phases
            .iter()
            .any(|p| matches!(p.setup, Setup::Redis { .. }));
    let mut figures = Figures::default();
    for p in phases {
        let setup = match p.setup {
            Setup::Memory if compared => "memory_",
            Setup::Redis { .. } if compared => "redis_",
            _ => "",
        };
        let prefix = format!("{setup}{}", transport_prefix(p.transport));
        let what = format!("{} ({})", p.transport, p.setup);
        let mut add = PhaseFigures::new(&mut figures, prefix, what);
        add.add(
            "rss_per_conn_kb",
            "server RSS per idle connection",
            p.memory.rss_per_conn.map(|b| b / 1e3),
            "KB",
        );
        add.delivery(p.median_deliveries_per_sec, &p.latency);
        add.cpu_per_delivery("", "server", p.server_cpu, p.deliveries);
        add.add(
            "patch_round_trip_ms",
            "PATCH round trip (median)",
            median_round_trip_us(&p.publishes).map(|us| us / 1e3),
            "ms",
        );
    }
    figures
}

/// One phase's figures as they are added: every key prefixed alike (`sse_`, `guide_js_ws_`),
/// every label opened with what ran (`SSE (memory)`).
pub struct PhaseFigures<'a> {
    figures: &'a mut Figures,
    prefix: String,
    what: String,
}

impl<'a> PhaseFigures<'a> {
    /// Adds to `figures` under key prefix `prefix` and label prefix `what`.
    pub fn new(figures: &'a mut Figures, prefix: String, what: String) -> Self {
        Self {
            figures,
            prefix,
            what,
        }
    }

    /// Adds `{prefix}{key}`, labelled `{what}: {label}`, when `value` is present.
    pub fn add(&mut self, key: &str, label: &str, value: Option<f64>, unit: &str) {
        self.figures.add(
            format!("{}{key}", self.prefix),
            format!("{}: {label}", self.what),
            value,
            unit,
        );
    }

    /// `deliveries_per_s` (the median over publishes), `latency_p50_ms` and
    /// `latency_p99_ms` (publish → receipt).
    pub fn delivery(&mut self, median_deliveries_per_sec: Option<f64>, latency: &Latency) {
        let ms = |us: Option<u64>| us.map(|us| us as f64 / 1e3);
        self.add(
            "deliveries_per_s",
            "deliveries per second (median over publishes)",
            median_deliveries_per_sec,
            "/s",
        );
        self.add(
            "latency_p50_ms",
            "publish → receipt p50",
            ms(latency.p50_us),
            "ms",
        );
        self.add(
            "latency_p99_ms",
            "publish → receipt p99",
            ms(latency.p99_us),
            "ms",
        );
    }

    /// `{key}cpu_per_delivery_us`, `{key}user_cpu_per_delivery_us` and
    /// `{key}system_cpu_per_delivery_us`: `who`'s CPU time over `deliveries`.
    pub fn cpu_per_delivery(&mut self, key: &str, who: &str, cpu: Option<Cpu>, deliveries: usize) {
        let per = |us: fn(&Cpu) -> u64| {
            cpu.filter(|_| deliveries > 0)
                .map(|c| us(&c) as f64 / deliveries as f64)
        };
        self.add(
            &format!("{key}cpu_per_delivery_us"),
            &format!("{who} CPU per delivery"),
            per(Cpu::total_us),
            "us",
        );
        self.add(
            &format!("{key}user_cpu_per_delivery_us"),
            &format!("{who} user CPU per delivery"),
            per(|c| c.user_us),
            "us",
        );
        self.add(
            &format!("{key}system_cpu_per_delivery_us"),
            &format!("{who} system CPU per delivery"),
            per(|c| c.system_us),
            "us",
        );
    }
}

/// The median round trip of the publish calls (livequeue's PATCH, the guide's POST), µs.
pub fn median_round_trip_us(publishes: &[PublishFigures]) -> Option<f64> {
    let round_trips: Vec<f64> = publishes.iter().map(|x| x.patch_us as f64).collect();
    median(&round_trips)
}

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

/// The server binary a run started: which build the figures are of (the tree changes
/// under a benchmark when others rebuild it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerBinary {
    /// As given with `--server-bin`.
    pub path: String,
    /// Its size, bytes.
    pub bytes: u64,
    /// Its modification time, seconds since the Unix epoch.
    pub modified_unix: Option<u64>,
}

impl ServerBinary {
    /// The file at `path`, when it can be read.
    pub fn of(path: &std::path::Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            path: path.display().to_string(),
            bytes: meta.len(),
            modified_unix: meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs()),
        })
    }

    /// One line for the table.
    pub fn line(&self) -> String {
        format!(
            "server binary: {} ({} bytes, modified at Unix time {})",
            self.path,
            self.bytes,
            self.modified_unix.map_or("?".into(), |t| t.to_string())
        )
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
    /// The server binary started (`None` with `--url`).
    pub server_binary: Option<ServerBinary>,
    /// Each phase.
    pub phases: Vec<PhaseResult>,
    /// The headline figures ([`phase_figures`]).
    pub figures: Figures,
}

/// A table cell: bytes as KB, one decimal.
pub fn kb(bytes: Option<f64>) -> String {
    bytes.map_or("–".into(), |b| format!("{:.1} KB", b / 1e3))
}

/// A table cell: µs as ms, one decimal.
pub fn ms(us: Option<u64>) -> String {
    us.map_or("–".into(), |us| format!("{:.1}", us as f64 / 1e3))
}

/// A table cell: µs (not whole) as ms, one decimal.
pub fn ms_f(us: Option<f64>) -> String {
    us.map_or("–".into(), |us| format!("{:.1}", us / 1e3))
}

/// A table cell: a reading's RSS as MB, one decimal.
pub fn mem(m: Option<Memory>) -> String {
    m.map_or("–".into(), |m| format!("{:.1} MB", m.rss as f64 / 1e6))
}

/// A table cell: µs, two decimals.
pub fn us2(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.2}"))
}

/// A table cell: two latencies, `p50 / p99` ms.
pub fn p50_p99(l: &Latency) -> String {
    format!("{} / {}", ms(l.p50_us), ms(l.p99_us))
}

/// A table cell: two latencies, `p50 / p90` ms.
pub fn p50_p90(l: &Latency) -> String {
    format!("{} / {}", ms(l.p50_us), ms(l.p90_us))
}

/// A table cell: two latencies, `p99 / max` ms.
pub fn p99_max(l: &Latency) -> String {
    format!("{} / {}", ms(l.p99_us), ms(l.max_us))
}

/// A table cell: `deliveries / expected`.
pub fn delivered(deliveries: usize, expected: usize) -> String {
    format!("{deliveries} / {expected}")
}

/// A table cell: the failures, all reasons together.
pub fn failures(errors: &BTreeMap<String, usize>) -> String {
    errors.values().sum::<usize>().to_string()
}

/// A table cell: deliveries per second, whole.
pub fn rate(per_sec: Option<f64>) -> String {
    per_sec.map_or("–".into(), |r| format!("{r:.0}"))
}

/// A table cell: the CPU time others took over a window of `wall_us`, and its share of a
/// core.
pub fn others_cpu(others_us: Option<u64>, wall_us: u64) -> String {
    others_us.map_or("–".into(), |us| {
        let share = 100.0 * us as f64 / wall_us.max(1) as f64;
        format!("{:.1} s ({share:.0}% of a core)", us as f64 / 1e6)
    })
}

/// A row of a phase table: its label, and its cell for one phase.
pub type Row<P> = (&'static str, fn(&P) -> String);

const ROWS: &[Row<PhaseResult>] = &[
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
    ("failed or ended early", |p| failures(&p.errors)),
    ("time to open all (s)", |p| format!("{:.1}", p.connect_secs)),
    ("connect → first state p50 / p99 (ms)", |p| {
        p50_p99(&p.open_time)
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
        delivered(p.deliveries, p.expected_deliveries)
    }),
    ("latency p50 / p90 (ms)", |p| p50_p90(&p.latency)),
    ("latency p99 / max (ms)", |p| p99_max(&p.latency)),
    ("time to last delivery, median (ms)", |p| {
        ms_f(p.median_last_us)
    }),
    ("deliveries per second, median", |p| {
        rate(p.median_deliveries_per_sec)
    }),
    ("PATCH round trip, median (ms)", |p| {
        ms_f(median_round_trip_us(&p.publishes))
    }),
    ("server CPU per delivery, all nodes (µs)", |p| {
        us2(p.server_cpu_us_per_delivery)
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
        us2(p.redis_cpu_us_per_delivery)
    }),
    ("loadgen CPU per delivery (µs)", |p| {
        us2(p.loadgen_cpu_us_per_delivery)
    }),
    ("other processes' CPU during publishes", |p| {
        others_cpu(p.others_cpu_us, p.fanout_wall_us)
    }),
];

/// The line that says where the figures were taken.
pub fn machine_line(m: &Machine, loadgen_threads: usize) -> String {
    format!(
        "machine: {} CPUs, {} RAM, Linux {}; loadgen on {} thread(s) on the same CPUs",
        m.nproc,
        m.mem_total.map_or("?".into(), |b| format!(
            "{:.1} GiB",
            b as f64 / (1u64 << 30) as f64
        )),
        m.kernel,
        loadgen_threads
    )
}

/// Two columns, label and value, the labels padded to one width.
pub fn two_columns(rows: &[(String, String)]) -> String {
    let width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (label, value) in rows {
        let _ = writeln!(out, "{label:width$} | {value}");
    }
    out
}

/// The figures as a table: one row per figure, one column per phase, then the failures.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        machine_line(&report.machine, report.loadgen_threads)
    );
    if let Some(bin) = &report.server_binary {
        let _ = writeln!(out, "{}", bin.line());
    }
    let headers: Vec<String> = report.phases.iter().map(header).collect();
    phase_table(&mut out, ROWS, &report.phases, &headers, |p| &p.errors);
    out
}

/// Writes a phase table into `out`: one row per entry of `rows`, one column per phase
/// (headed by `headers`), then each phase's failures by reason (`errors`).
pub fn phase_table<P>(
    out: &mut String,
    rows: &[Row<P>],
    phases: &[P],
    headers: &[String],
    errors: fn(&P) -> &BTreeMap<String, usize>,
) {
    let label_width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let cells: Vec<Vec<String>> = phases
        .iter()
        .map(|p| rows.iter().map(|(_, f)| f(p)).collect())
        .collect();
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
    for (i, (label, _)) in rows.iter().enumerate() {
        let _ = write!(out, "{label:label_width$}");
        for (c, w) in cells.iter().zip(&widths) {
            let _ = write!(out, " | {:>w$}", c[i]);
        }
        out.push('\n');
    }
    for (p, h) in phases.iter().zip(headers) {
        for (why, count) in errors(p) {
            let _ = writeln!(out, "{h}: {count} × {why}");
        }
    }
}

/// A phase's column: its transport and its setup (`SSE · 2 nodes, Redis`).
fn header(p: &PhaseResult) -> String {
    format!("{} · {}", p.transport, p.setup)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phase::{Fanout, MemoryFigures};

    fn phase(transport: Transport, setup: Setup) -> PhaseResult {
        let fanout = Fanout::sample(&[2_000, 4_000, 3_000]);
        PhaseResult {
            transport,
            setup,
            wanted: 1_000,
            connected: 1_000,
            node_connections: vec![Some(1_000)],
            errors: Default::default(),
            join_secs: 0.1,
            connect_secs: 0.2,
            memory: MemoryFigures {
                rss_per_conn: Some(9_500.0),
                ..MemoryFigures::default()
            },
            publishes: fanout.publishes,
            deliveries: fanout.deliveries,
            expected_deliveries: fanout.expected_deliveries,
            latency: fanout.latency,
            median_last_us: fanout.median_last_us,
            median_deliveries_per_sec: fanout.median_deliveries_per_sec,
            open_time: Latency::default(),
            server_cpu: Some(Cpu {
                user_us: 10_000,
                system_us: 20_000,
            }),
            server_cpu_us_per_delivery: Some(15.0),
            redis_cpu: None,
            redis_cpu_us_per_delivery: None,
            others_cpu_us: None,
            fanout_wall_us: 1_000_000,
            loadgen_cpu: None,
            loadgen_cpu_us_per_delivery: None,
        }
    }

    #[test]
    fn fan_out_figures_are_keyed_by_transport_in_their_units() {
        let f = phase_figures(&[
            phase(Transport::Sse, Setup::Memory),
            phase(Transport::Ws, Setup::Memory),
        ]);
        assert_eq!(f.get("sse_rss_per_conn_kb"), Some(9.5), "bytes become KB");
        assert_eq!(f.get("ws_deliveries_per_s"), Some(100_000.0));
        assert_eq!(f.get("sse_latency_p50_ms"), Some(5.0));
        assert_eq!(f.get("ws_latency_p99_ms"), Some(9.0));
        assert_eq!(f.get("sse_cpu_per_delivery_us"), Some(15.0));
        assert_eq!(f.get("sse_user_cpu_per_delivery_us"), Some(5.0));
        assert_eq!(f.get("ws_system_cpu_per_delivery_us"), Some(10.0));
        assert_eq!(
            f.get("sse_patch_round_trip_ms"),
            Some(3.0),
            "the median PATCH"
        );
        assert_eq!(f.0.len(), 16, "eight figures per transport");
    }

    #[test]
    fn a_comparison_prefixes_each_setup_and_missing_figures_are_left_out() {
        let mut redis = phase(Transport::Sse, Setup::Redis { nodes: 2 });
        redis.memory.rss_per_conn = None;
        let f = phase_figures(&[phase(Transport::Sse, Setup::Memory), redis]);
        assert_eq!(f.get("memory_sse_rss_per_conn_kb"), Some(9.5));
        assert_eq!(
            f.get("redis_sse_rss_per_conn_kb"),
            None,
            "no reading, no figure"
        );
        assert_eq!(f.get("redis_sse_deliveries_per_s"), Some(100_000.0));
        assert_eq!(
            f.get("sse_deliveries_per_s"),
            None,
            "prefixed in a comparison"
        );
        let json = serde_json::to_value(&f).expect("figures serialize");
        assert!(json.is_array(), "`figures` is a plain array: {json}");
        assert_eq!(
            // serde_json's map lists its keys sorted.
            json[0]
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>()),
            Some(vec![
                "key".into(),
                "label".into(),
                "unit".into(),
                "value".into()
            ]),
            "each entry has exactly key, label, value, unit"
        );
    }
}
