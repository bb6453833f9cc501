//! The table and the JSON of a `--guide-js` run, with its headline figures, every key
//! prefixed `guide_js_`.

use std::fmt::Write as _;

use serde::Serialize;

use super::GuidePhase;
use crate::procfs::{Cpu, Memory};
use crate::report::{
    Figures, Machine, PhaseFigures, Row, delivered, failures, kb, machine_line,
    median_round_trip_us, mem, ms_f, others_cpu, p50_p90, p50_p99, p99_max, phase_table, rate, us2,
};
use crate::transport::Transport;

/// What ran.
#[derive(Debug, Clone, Serialize)]
pub struct GuideSoftware {
    /// The script.
    pub script: String,
    /// `node --version`.
    pub node: Option<String>,
    /// The dependencies' exact versions, from the script's `package.json`.
    pub dependencies: serde_json::Value,
    /// Where they were installed.
    pub node_modules: String,
    /// `redis_version` of the redis-server started.
    pub redis: Option<String>,
    /// Redis's `maxclients` as started.
    pub redis_maxclients: u32,
}

/// A whole `--guide-js` run.
#[derive(Debug, Clone, Serialize)]
pub struct GuideReport {
    /// Where.
    pub machine: Machine,
    /// The command line.
    pub command: String,
    /// Worker threads of the loadgen.
    pub loadgen_threads: usize,
    /// What was measured.
    pub software: GuideSoftware,
    /// Each phase.
    pub phases: Vec<GuidePhase>,
    /// The headline figures ([`figures`]).
    pub figures: Figures,
}

fn prefix(t: Transport) -> &'static str {
    match t {
        Transport::Sse => "guide_js_sse_",
        Transport::Ws => "guide_js_ws_",
    }
}

/// The headline figures, per transport `guide_js_{sse,ws}_`: `rss_per_conn_kb` (node),
/// `redis_rss_per_conn_kb`, `total_rss_per_conn_kb`, `redis_clients_per_conn`,
/// `deliveries_per_s`, `latency_p50_ms`, `latency_p99_ms`, `cpu_per_delivery_us` (node;
/// with `user_` and `system_`), `redis_cpu_per_delivery_us` (with `redis_user_` and
/// `redis_system_`), `total_cpu_per_delivery_us` and `publish_round_trip_ms`.
pub fn figures(phases: &[GuidePhase]) -> Figures {
    let mut figures = Figures::default();
    for p in phases {
        let what = format!("{} (guide's JS server)", p.transport);
        let mut add = PhaseFigures::new(&mut figures, prefix(p.transport).to_string(), what);
        let kb = |b: Option<f64>| b.map(|b| b / 1e3);
        let total_cpu = p
            .node_cpu
            .zip(p.redis_cpu)
            .map(|(a, b)| a.total_us() + b.total_us());
        let clients = p
            .redis_clients_idle
            .zip(p.redis_clients_before)
            .filter(|_| p.connected > 0)
            .map(|(idle, before)| (idle as f64 - before as f64) / p.connected as f64);
        add.add(
            "rss_per_conn_kb",
            "node RSS per idle connection",
            kb(p.node_memory.rss_per_conn),
            "KB",
        );
        add.add(
            "redis_rss_per_conn_kb",
            "Redis RSS per idle connection",
            kb(p.redis_memory.rss_per_conn),
            "KB",
        );
        add.add(
            "total_rss_per_conn_kb",
            "node + Redis RSS per idle connection",
            kb(p.node_memory
                .rss_per_conn
                .zip(p.redis_memory.rss_per_conn)
                .map(|(a, b)| a + b)),
            "KB",
        );
        add.add(
            "redis_clients_per_conn",
            "Redis client connections per push connection",
            clients,
            "",
        );
        add.delivery(p.fanout.median_deliveries_per_sec, &p.fanout.latency);
        add.cpu_per_delivery("", "node", p.node_cpu, p.fanout.deliveries);
        add.cpu_per_delivery("redis_", "Redis", p.redis_cpu, p.fanout.deliveries);
        add.add(
            "total_cpu_per_delivery_us",
            "node + Redis CPU per delivery",
            p.per_delivery(total_cpu),
            "us",
        );
        add.add(
            "publish_round_trip_ms",
            "publish call round trip (median)",
            median_round_trip_us(&p.fanout.publishes).map(|us| us / 1e3),
            "ms",
        );
        add.add(
            "connections",
            "connections open",
            Some(p.connected as f64),
            "",
        );
    }
    figures
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

/// `cpu`'s share of `p`'s deliveries: total, or user / system, µs.
fn cpu_cells(p: &GuidePhase, cpu: Option<Cpu>) -> (String, String) {
    (
        us2(p.per_delivery(cpu.map(|c| c.total_us()))),
        format!(
            "{} / {}",
            us2(p.per_delivery(cpu.map(|c| c.user_us))),
            us2(p.per_delivery(cpu.map(|c| c.system_us)))
        ),
    )
}

/// A table cell: memory readings `a → b`.
fn from_to(a: Option<Memory>, b: Option<Memory>) -> String {
    format!("{} → {}", mem(a), mem(b))
}

const ROWS: &[Row<GuidePhase>] = &[
    ("connections open / wanted", |p| {
        format!("{} / {}", p.connected, p.wanted)
    }),
    ("failed or ended early", |p| failures(&p.errors)),
    ("time to open all (s)", |p| format!("{:.1}", p.connect_secs)),
    ("connect → initial state p50 / p99 (ms)", |p| {
        p50_p99(&p.open_time)
    }),
    ("node RSS before → idle", |p| {
        from_to(p.node_memory.before, p.node_memory.idle)
    }),
    ("node RSS per idle conn", |p| kb(p.node_memory.rss_per_conn)),
    ("node anon per idle conn", |p| {
        kb(p.node_memory.anon_per_conn)
    }),
    ("Redis RSS before → idle", |p| {
        from_to(p.redis_memory.before, p.redis_memory.idle)
    }),
    ("Redis RSS per idle conn", |p| {
        kb(p.redis_memory.rss_per_conn)
    }),
    ("Redis clients before → idle", |p| {
        format!(
            "{} → {}",
            opt(p.redis_clients_before),
            opt(p.redis_clients_idle)
        )
    }),
    ("channel subscribers (PUBSUB NUMSUB)", |p| {
        opt(p.channel_subscribers)
    }),
    ("node RSS after publishes / after close", |p| {
        format!(
            "{} / {}",
            mem(p.node_memory.after_fanout),
            mem(p.node_memory.after_close)
        )
    }),
    ("loadgen RSS per conn", |p| kb(p.loadgen_rss_per_conn)),
    ("publishes (Redis receivers of the first)", |p| {
        format!(
            "{} ({})",
            p.fanout.publishes.len(),
            opt(p.redis_receivers.first())
        )
    }),
    ("deliveries / expected", |p| {
        delivered(p.fanout.deliveries, p.fanout.expected_deliveries)
    }),
    ("latency p50 / p90 (ms)", |p| p50_p90(&p.fanout.latency)),
    ("latency p99 / max (ms)", |p| p99_max(&p.fanout.latency)),
    ("time to last delivery, median (ms)", |p| {
        ms_f(p.fanout.median_last_us)
    }),
    ("deliveries per second, median", |p| {
        rate(p.fanout.median_deliveries_per_sec)
    }),
    ("publish round trip, median (ms)", |p| {
        ms_f(median_round_trip_us(&p.fanout.publishes))
    }),
    ("node CPU per delivery (µs)", |p| {
        cpu_cells(p, p.node_cpu).0
    }),
    ("node CPU user / system per delivery (µs)", |p| {
        cpu_cells(p, p.node_cpu).1
    }),
    ("Redis CPU per delivery (µs)", |p| {
        cpu_cells(p, p.redis_cpu).0
    }),
    ("Redis CPU user / system per delivery (µs)", |p| {
        cpu_cells(p, p.redis_cpu).1
    }),
    ("loadgen CPU per delivery (µs)", |p| {
        us2(p.per_delivery(p.loadgen_cpu.map(|c| c.total_us())))
    }),
    ("other processes' CPU during publishes", |p| {
        others_cpu(p.others_cpu_us, p.fanout_wall_us)
    }),
];

/// The run as a table: one row per figure, one column per phase, then the failures.
pub fn render(report: &GuideReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        machine_line(&report.machine, report.loadgen_threads)
    );
    let s = &report.software;
    let _ = writeln!(
        out,
        "guide's JS server: {} on node {}, {}, Redis {} (maxclients {})",
        s.script,
        s.node.as_deref().unwrap_or("?"),
        s.dependencies,
        s.redis.as_deref().unwrap_or("?"),
        s.redis_maxclients
    );
    let headers: Vec<String> = report
        .phases
        .iter()
        .map(|p| format!("{} · guide-js", p.transport))
        .collect();
    phase_table(&mut out, ROWS, &report.phases, &headers, |p| &p.errors);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guide::ProcessMemory;
    use crate::phase::Fanout;
    use crate::stats::Latency;

    fn phase(transport: Transport) -> GuidePhase {
        GuidePhase {
            transport,
            wanted: 1_000,
            connected: 1_000,
            errors: Default::default(),
            join_secs: 0.1,
            connect_secs: 0.2,
            node_memory: ProcessMemory {
                rss_per_conn: Some(40_000.0),
                ..ProcessMemory::default()
            },
            redis_memory: ProcessMemory {
                rss_per_conn: Some(20_000.0),
                ..ProcessMemory::default()
            },
            redis_clients_before: Some(2),
            redis_clients_idle: Some(1_002),
            channel_subscribers: Some(1_000),
            redis_receivers: vec![1_001, 1_001],
            fanout: Fanout::sample(&[2_000, 2_000]),
            open_time: Latency::default(),
            node_cpu: Some(Cpu {
                user_us: 60_000,
                system_us: 20_000,
            }),
            redis_cpu: Some(Cpu {
                user_us: 4_000,
                system_us: 16_000,
            }),
            loadgen_cpu: None,
            others_cpu_us: None,
            fanout_wall_us: 1_000_000,
            loadgen_rss_per_conn: None,
        }
    }

    #[test]
    fn figures_are_prefixed_guide_js_and_keep_node_and_redis_apart() {
        let f = figures(&[phase(Transport::Sse), phase(Transport::Ws)]);
        assert_eq!(f.get("guide_js_sse_rss_per_conn_kb"), Some(40.0));
        assert_eq!(f.get("guide_js_sse_redis_rss_per_conn_kb"), Some(20.0));
        assert_eq!(f.get("guide_js_sse_total_rss_per_conn_kb"), Some(60.0));
        assert_eq!(f.get("guide_js_sse_redis_clients_per_conn"), Some(1.0));
        assert_eq!(f.get("guide_js_ws_deliveries_per_s"), Some(100_000.0));
        assert_eq!(f.get("guide_js_ws_latency_p99_ms"), Some(9.0));
        assert_eq!(f.get("guide_js_sse_cpu_per_delivery_us"), Some(40.0));
        assert_eq!(f.get("guide_js_sse_user_cpu_per_delivery_us"), Some(30.0));
        assert_eq!(f.get("guide_js_sse_redis_cpu_per_delivery_us"), Some(10.0));
        assert_eq!(f.get("guide_js_sse_total_cpu_per_delivery_us"), Some(50.0));
        assert_eq!(f.get("guide_js_ws_publish_round_trip_ms"), Some(2.0));
        assert!(
            f.0.iter().all(|x| x.key.starts_with("guide_js_")),
            "no key collides with livequeue's"
        );
        assert_eq!(f.0.len(), 32, "sixteen per transport");
        let table = render(&GuideReport {
            machine: Machine::this(),
            command: String::new(),
            loadgen_threads: 1,
            software: GuideSoftware {
                script: "bench/guide-js/server.js".into(),
                node: Some("v20".into()),
                dependencies: serde_json::json!({}),
                node_modules: String::new(),
                redis: None,
                redis_maxclients: 1,
            },
            phases: vec![phase(Transport::Sse)],
            figures: f,
        });
        assert!(table.contains("Redis RSS per idle conn"), "{table}");
    }
}
