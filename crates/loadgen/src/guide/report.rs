//! The table and the JSON of a `--guide-js` run, with its headline figures, every key
//! prefixed `guide_js_`.

use std::fmt::Write as _;

use serde::Serialize;

use super::GuidePhase;
use crate::procfs::Memory;
use crate::report::{Figures, Machine, machine_line};
use crate::stats::median;
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
        let pre = prefix(p.transport);
        let what = format!("{} (guide's JS server)", p.transport);
        let kb = |b: Option<f64>| b.map(|b| b / 1e3);
        let node_cpu = p.node_cpu;
        let redis_cpu = p.redis_cpu;
        let total = node_cpu
            .zip(redis_cpu)
            .map(|(a, b)| a.total_us() + b.total_us());
        let rounds: Vec<f64> = p.publishes.iter().map(|x| x.patch_us as f64).collect();
        let clients = p
            .redis_clients_idle
            .zip(p.redis_clients_before)
            .filter(|_| p.connected > 0)
            .map(|(idle, before)| (idle as f64 - before as f64) / p.connected as f64);
        let rows: [(&str, &str, Option<f64>, &str); 16] = [
            (
                "rss_per_conn_kb",
                "node RSS per idle connection",
                kb(p.node_memory.rss_per_conn),
                "KB",
            ),
            (
                "redis_rss_per_conn_kb",
                "Redis RSS per idle connection",
                kb(p.redis_memory.rss_per_conn),
                "KB",
            ),
            (
                "total_rss_per_conn_kb",
                "node + Redis RSS per idle connection",
                kb(p.node_memory
                    .rss_per_conn
                    .zip(p.redis_memory.rss_per_conn)
                    .map(|(a, b)| a + b)),
                "KB",
            ),
            (
                "redis_clients_per_conn",
                "Redis client connections per push connection",
                clients,
                "",
            ),
            (
                "deliveries_per_s",
                "deliveries per second (median over publishes)",
                p.median_deliveries_per_sec,
                "/s",
            ),
            (
                "latency_p50_ms",
                "publish → receipt p50",
                p.latency.p50_us.map(|us| us as f64 / 1e3),
                "ms",
            ),
            (
                "latency_p99_ms",
                "publish → receipt p99",
                p.latency.p99_us.map(|us| us as f64 / 1e3),
                "ms",
            ),
            (
                "cpu_per_delivery_us",
                "node CPU per delivery",
                p.per_delivery(node_cpu.map(|c| c.total_us())),
                "us",
            ),
            (
                "user_cpu_per_delivery_us",
                "node user CPU per delivery",
                p.per_delivery(node_cpu.map(|c| c.user_us)),
                "us",
            ),
            (
                "system_cpu_per_delivery_us",
                "node system CPU per delivery",
                p.per_delivery(node_cpu.map(|c| c.system_us)),
                "us",
            ),
            (
                "redis_cpu_per_delivery_us",
                "Redis CPU per delivery",
                p.per_delivery(redis_cpu.map(|c| c.total_us())),
                "us",
            ),
            (
                "redis_user_cpu_per_delivery_us",
                "Redis user CPU per delivery",
                p.per_delivery(redis_cpu.map(|c| c.user_us)),
                "us",
            ),
            (
                "redis_system_cpu_per_delivery_us",
                "Redis system CPU per delivery",
                p.per_delivery(redis_cpu.map(|c| c.system_us)),
                "us",
            ),
            (
                "total_cpu_per_delivery_us",
                "node + Redis CPU per delivery",
                p.per_delivery(total),
                "us",
            ),
            (
                "publish_round_trip_ms",
                "publish call round trip (median)",
                median(&rounds).map(|us| us / 1e3),
                "ms",
            ),
            (
                "connections",
                "connections open",
                Some(p.connected as f64),
                "",
            ),
        ];
        for (key, label, value, unit) in rows {
            figures.add(
                format!("{pre}{key}"),
                format!("{what}: {label}"),
                value,
                unit,
            );
        }
    }
    figures
}

fn kb(bytes: Option<f64>) -> String {
    bytes.map_or("–".into(), |b| format!("{:.1} KB", b / 1e3))
}

fn ms(us: Option<u64>) -> String {
    us.map_or("–".into(), |us| format!("{:.1}", us as f64 / 1e3))
}

fn mb(m: Option<Memory>) -> String {
    m.map_or("–".into(), |m| format!("{:.1} MB", m.rss as f64 / 1e6))
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

fn us2(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.2}"))
}

type Row = (&'static str, fn(&GuidePhase) -> String);

const ROWS: &[Row] = &[
    ("connections open / wanted", |p| {
        format!("{} / {}", p.connected, p.wanted)
    }),
    ("failed or ended early", |p| {
        p.errors.values().sum::<usize>().to_string()
    }),
    ("time to open all (s)", |p| format!("{:.1}", p.connect_secs)),
    ("connect → initial state p50 / p99 (ms)", |p| {
        format!("{} / {}", ms(p.open_time.p50_us), ms(p.open_time.p99_us))
    }),
    ("node RSS before → idle", |p| {
        format!("{} → {}", mb(p.node_memory.before), mb(p.node_memory.idle))
    }),
    ("node RSS per idle conn", |p| kb(p.node_memory.rss_per_conn)),
    ("node anon per idle conn", |p| {
        kb(p.node_memory.anon_per_conn)
    }),
    ("Redis RSS before → idle", |p| {
        format!(
            "{} → {}",
            mb(p.redis_memory.before),
            mb(p.redis_memory.idle)
        )
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
            mb(p.node_memory.after_fanout),
            mb(p.node_memory.after_close)
        )
    }),
    ("loadgen RSS per conn", |p| kb(p.loadgen_rss_per_conn)),
    ("publishes (Redis receivers of the first)", |p| {
        format!("{} ({})", p.publishes.len(), opt(p.redis_receivers.first()))
    }),
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
    ("publish round trip, median (ms)", |p| {
        let v: Vec<f64> = p.publishes.iter().map(|x| x.patch_us as f64).collect();
        median(&v).map_or("–".into(), |us| format!("{:.1}", us / 1e3))
    }),
    ("node CPU per delivery (µs)", |p| {
        us2(p.per_delivery(p.node_cpu.map(|c| c.total_us())))
    }),
    ("node CPU user / system per delivery (µs)", |p| {
        format!(
            "{} / {}",
            us2(p.per_delivery(p.node_cpu.map(|c| c.user_us))),
            us2(p.per_delivery(p.node_cpu.map(|c| c.system_us)))
        )
    }),
    ("Redis CPU per delivery (µs)", |p| {
        us2(p.per_delivery(p.redis_cpu.map(|c| c.total_us())))
    }),
    ("Redis CPU user / system per delivery (µs)", |p| {
        format!(
            "{} / {}",
            us2(p.per_delivery(p.redis_cpu.map(|c| c.user_us))),
            us2(p.per_delivery(p.redis_cpu.map(|c| c.system_us)))
        )
    }),
    ("loadgen CPU per delivery (µs)", |p| {
        us2(p.per_delivery(p.loadgen_cpu.map(|c| c.total_us())))
    }),
    ("other processes' CPU during publishes", |p| {
        p.others_cpu_us.map_or("–".into(), |us| {
            let share = 100.0 * us as f64 / p.fanout_wall_us.max(1) as f64;
            format!("{:.1} s ({share:.0}% of a core)", us as f64 / 1e6)
        })
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
    let label_width = ROWS
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let headers: Vec<String> = report
        .phases
        .iter()
        .map(|p| format!("{} · guide-js", p.transport))
        .collect();
    let cells: Vec<Vec<String>> = report
        .phases
        .iter()
        .map(|p| ROWS.iter().map(|(_, f)| f(p)).collect())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guide::ProcessMemory;
    use crate::procfs::Cpu;
    use crate::stats::{Latency, PublishFigures};

    fn phase(transport: Transport) -> GuidePhase {
        let publish = PublishFigures {
            value: 1,
            expected: 1_000,
            deliveries: 1_000,
            patch_us: 2_000,
            first_us: Some(1_000),
            last_us: Some(10_000),
            deliveries_per_sec: Some(100_000.0),
        };
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
            publishes: vec![publish.clone(), publish],
            redis_receivers: vec![1_001, 1_001],
            deliveries: 2_000,
            expected_deliveries: 2_000,
            latency: Latency {
                p50_us: Some(5_000),
                p90_us: Some(8_000),
                p99_us: Some(9_000),
                max_us: Some(10_000),
            },
            median_last_us: Some(10_000.0),
            median_deliveries_per_sec: Some(100_000.0),
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
