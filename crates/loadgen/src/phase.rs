//! One phase: N idle connections of one transport, their memory, and K publishes fanned
//! out to all of them, against one [`Cluster`] (one node, or several on one Redis).
//!
//! 1. Create an experience with a billion units and no admissions, so nothing but our
//!    patches ever broadcasts, and join N shoppers, all through node 0. Every node then
//!    reads the experience once, so that each has it mirrored before anything is measured.
//! 2. Read the servers' memory, open the N connections (connection `i` to node `i mod n`;
//!    each waits for its first state), let the servers settle, read the memory again: the
//!    difference over N is the memory per idle connection (the shoppers themselves were
//!    already counted before).
//! 3. Publish K times through node 0, one stock value each, waiting each time until every
//!    open connection has received it (or a timeout), then until the interval is over;
//!    read every node's CPU time, and Redis's, before and after.
//! 4. Close every connection and wait until every node has seen them go.
//!
//! The steps that do not depend on the server ([`open_all`], [`publish_all`], [`Fanout`],
//! [`abort_all`]) are public: `--guide-js` ([`crate::guide`]) runs its phases with them
//! against the guide's server.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use livequeue_protocol::{ExperienceId, IdError};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};

use crate::api::Shopper;
use crate::cluster::{Cluster, Setup};
use crate::procfs::{Cpu, Memory, Proc, reported};
use crate::quiet::wait_for_quiet;
use crate::stats::{Latency, PublishFigures, median, publish_figures};
use crate::tally::Tally;
use crate::transport::{Conn, LIVEQUEUE_ROUTES, Routes, Transport, source_ip};
use crate::window::CpuWindow;
use crate::{Error, Result};

/// Initial stock: publish `k` sets the total (and so the available stock, since nobody is
/// ever admitted) to `INITIAL_STOCK + 1 + k`, a value no other frame carries.
pub const INITIAL_STOCK: u64 = 1_000_000_000;

/// How long to wait for the servers to notice that our closed connections are gone.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

/// How often progress is printed while connections open.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// How a phase runs.
#[derive(Debug, Clone)]
pub struct PhaseConfig {
    /// Which transport.
    pub transport: Transport,
    /// Position of the phase in the run (chooses its block of source addresses).
    pub index: usize,
    /// Connections to open.
    pub connections: usize,
    /// Publishes.
    pub publishes: usize,
    /// From one publish to the next.
    pub interval: Duration,
    /// Longest wait for one publish to reach every connection.
    pub delivery_timeout: Duration,
    /// Handshakes in flight.
    pub connect_concurrency: usize,
    /// Joins in flight.
    pub join_concurrency: usize,
    /// Connections per source address.
    pub conns_per_ip: usize,
    /// Pause before each memory reading.
    pub settle: Duration,
    /// Longest wait for a quiet machine before connecting and before publishing.
    pub quiet_wait: Duration,
}

/// Memory readings of a phase (absent without a server pid), every node's added up.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemoryFigures {
    /// Server, after the joins, before any connection.
    pub before: Option<Memory>,
    /// Server, all connections open and idle.
    pub idle: Option<Memory>,
    /// Server, after the publishes (buffers that grew to send them included).
    pub after_fanout: Option<Memory>,
    /// Server, after every connection closed.
    pub after_close: Option<Memory>,
    /// Server RSS per idle connection, bytes: `(idle − before) / connected`.
    pub rss_per_conn: Option<f64>,
    /// Server PSS per idle connection, bytes.
    pub pss_per_conn: Option<f64>,
    /// Server anonymous memory per idle connection, bytes.
    pub anon_per_conn: Option<f64>,
    /// Server RSS per connection after the publishes, bytes: `(after_fanout − before) / connected`.
    pub rss_per_conn_after_fanout: Option<f64>,
    /// The loadgen's own RSS per connection, bytes (its side of the same connections).
    pub loadgen_rss_per_conn: Option<f64>,
}

/// Everything a phase measured.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseResult {
    /// Which transport.
    pub transport: Transport,
    /// Which servers.
    pub setup: Setup,
    /// Connections asked for.
    pub wanted: usize,
    /// Connections that received their first state.
    pub connected: usize,
    /// Open connections as each node counts its own in `/metrics` once all are open, node
    /// 0 first (`None` where the count could not be read): shows the split between nodes.
    pub node_connections: Vec<Option<u64>>,
    /// Connections that failed to open or ended early, by reason.
    pub errors: BTreeMap<String, usize>,
    /// Seconds to join the shoppers.
    pub join_secs: f64,
    /// Seconds from the first connect to the last first state.
    pub connect_secs: f64,
    /// Memory.
    pub memory: MemoryFigures,
    /// Each publish.
    pub publishes: Vec<PublishFigures>,
    /// Deliveries over all publishes.
    pub deliveries: usize,
    /// Deliveries expected (open connections at each publish, summed).
    pub expected_deliveries: usize,
    /// Publish → receive, over every delivery.
    pub latency: Latency,
    /// Median over publishes of the time to the last delivery, µs.
    pub median_last_us: Option<f64>,
    /// Median over publishes of deliveries per second.
    pub median_deliveries_per_sec: Option<f64>,
    /// Connect → first state, over every connection that opened.
    pub open_time: Latency,
    /// Server CPU time during the publishes, every node's added up.
    pub server_cpu: Option<Cpu>,
    /// Server CPU time (every node's) per delivery, µs.
    pub server_cpu_us_per_delivery: Option<f64>,
    /// CPU time of the nodes' Redis during the publishes (`None` without one).
    pub redis_cpu: Option<Cpu>,
    /// Redis CPU time per delivery, µs.
    pub redis_cpu_us_per_delivery: Option<f64>,
    /// CPU time other processes took during the publishes, µs: the machine's busy time less
    /// the servers', Redis's and ours. Builds or tests running beside the benchmark show
    /// up here.
    pub others_cpu_us: Option<u64>,
    /// Wall time of the publishing, µs (the CPU figures above are within it).
    pub fanout_wall_us: u64,
    /// The loadgen's own CPU time during the publishes.
    pub loadgen_cpu: Option<Cpu>,
    /// The loadgen's CPU time per delivery, µs.
    pub loadgen_cpu_us_per_delivery: Option<f64>,
}

/// `(field(after) − field(before)) / n`, bytes per connection, when both readings exist
/// and `n > 0`.
pub fn per_conn(
    after: Option<Memory>,
    before: Option<Memory>,
    n: usize,
    field: fn(&Memory) -> u64,
) -> Option<f64> {
    let (a, b) = (after?, before?);
    (n > 0).then(|| (field(&a) as f64 - field(&b) as f64) / n as f64)
}

/// The loadgen's own memory, reported on stderr when it cannot be read.
pub fn own_memory() -> Option<Memory> {
    reported(Proc::Myself, "loadgen memory", Proc::memory)
}

/// One publish as it was sent, with what the server answered to it (`A`).
#[derive(Debug, Clone, Copy)]
pub struct Published<A> {
    /// Its index.
    pub k: usize,
    /// The stock value it set.
    pub value: u64,
    /// When the publish call was sent, ns since the tally's origin.
    pub at_ns: u64,
    /// The publish call's round trip, µs.
    pub round_trip_us: u64,
    /// Connections open when it was sent.
    pub expected: usize,
    /// The server's answer.
    pub answer: A,
}

/// What the publishes of a phase delivered, from the tally's receipts: the same fields in
/// [`PhaseResult`] (flat there, as its JSON and its users have them) and in the guide's
/// phase.
#[derive(Debug, Clone, Serialize)]
pub struct Fanout {
    /// Each publish.
    pub publishes: Vec<PublishFigures>,
    /// Deliveries over all publishes.
    pub deliveries: usize,
    /// Deliveries expected (open connections at each publish, summed).
    pub expected_deliveries: usize,
    /// Publish → receive, over every delivery.
    pub latency: Latency,
    /// Median over publishes of the time to the last delivery, µs.
    pub median_last_us: Option<f64>,
    /// Median over publishes of deliveries per second.
    pub median_deliveries_per_sec: Option<f64>,
}

impl Fanout {
    /// The figures of `published` to `connections` connections, from the receipts in
    /// `tally`.
    pub fn of<A>(published: &[Published<A>], tally: &Tally, connections: usize) -> Self {
        let mut all_latencies = Vec::with_capacity(published.len() * connections);
        let mut publishes = Vec::with_capacity(published.len());
        for p in published {
            let receipts = tally.receipts(p.k);
            let (latencies, figures) =
                publish_figures(p.value, p.at_ns, p.round_trip_us, &receipts, p.expected);
            all_latencies.extend(latencies);
            publishes.push(figures);
        }
        let lasts: Vec<f64> = publishes
            .iter()
            .filter_map(|p| p.last_us)
            .map(|us| us as f64)
            .collect();
        let rates: Vec<f64> = publishes
            .iter()
            .filter_map(|p| p.deliveries_per_sec)
            .collect();
        Self {
            deliveries: publishes.iter().map(|p| p.deliveries).sum(),
            expected_deliveries: publishes.iter().map(|p| p.expected).sum(),
            latency: Latency::of(&mut all_latencies),
            median_last_us: median(&lasts),
            median_deliveries_per_sec: median(&rates),
            publishes,
        }
    }
}

#[cfg(test)]
impl Fanout {
    /// A fan-out for report tests: one publish to 1,000 connections per round trip in
    /// `round_trips_us`, 2,000 deliveries in all, p50 5 ms, p99 9 ms, 100,000 per second.
    pub(crate) fn sample(round_trips_us: &[u64]) -> Self {
        let publish = |patch_us| PublishFigures {
            value: 1,
            expected: 1_000,
            deliveries: 1_000,
            patch_us,
            first_us: Some(1_000),
            last_us: Some(10_000),
            deliveries_per_sec: Some(100_000.0),
        };
        Self {
            publishes: round_trips_us.iter().copied().map(publish).collect(),
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
        }
    }
}

/// The phase's experience id, `{prefix}-{transport}-{pid}-{index}`: unique per loadgen
/// process, so runs against one `--url` server do not collide.
pub fn experience_id(prefix: &str, cfg: &PhaseConfig) -> Result<Arc<ExperienceId>> {
    let id = format!(
        "{prefix}-{}-{}-{}",
        cfg.transport.to_string().to_lowercase(),
        std::process::id(),
        cfg.index
    );
    id.parse()
        .map(Arc::new)
        .map_err(|e: IdError| Error::Setup(e.to_string()))
}

/// Runs one phase against `cluster`.
pub async fn run(cluster: &Cluster, cfg: &PhaseConfig) -> Result<PhaseResult> {
    let api = cluster.operator();
    let experience = experience_id("loadgen", cfg)?;
    let tag = cfg.transport.to_string();
    let n = cfg.connections;
    eprintln!(
        "[{}] creating {experience} and joining {n} shoppers",
        cfg.transport
    );
    api.create_experience(&experience, INITIAL_STOCK).await?;
    let joined = Instant::now();
    let shoppers = api.join_many(&experience, n, cfg.join_concurrency).await?;
    let join_secs = joined.elapsed().as_secs_f64();
    // A Redis node mirrors an experience the first time it hears of it: reading it here
    // keeps that mirror out of the memory per connection, and out of the first publish.
    for node in cluster.apis() {
        node.connections(&experience).await?;
    }

    sleep(cfg.settle).await;
    wait_for_quiet(cfg.quiet_wait).await;
    let mut memory = MemoryFigures {
        before: cluster.server_memory(),
        ..MemoryFigures::default()
    };
    let loadgen_before = own_memory();

    let origin = Instant::now();
    let tally = Arc::new(Tally::new(origin, INITIAL_STOCK + 1, cfg.publishes, n));
    let node_for = |index| cluster.node_for(index);
    let tasks = open_all(
        &tag,
        cfg,
        &experience,
        shoppers,
        &tally,
        node_for,
        LIVEQUEUE_ROUTES,
    )
    .await?;
    let connect_secs = origin.elapsed().as_secs_f64();
    let connected = tally.ready_count();

    sleep(cfg.settle).await;
    memory.idle = cluster.server_memory();
    memory.rss_per_conn = per_conn(memory.idle, memory.before, connected, |m| m.rss);
    memory.pss_per_conn = per_conn(memory.idle, memory.before, connected, |m| m.pss);
    memory.anon_per_conn = per_conn(memory.idle, memory.before, connected, |m| m.anon);
    let loadgen_idle = own_memory();
    memory.loadgen_rss_per_conn = per_conn(loadgen_idle, loadgen_before, connected, |m| m.rss);
    let mut node_connections = Vec::with_capacity(cluster.node_count());
    for node in cluster.apis() {
        let counted = node.node_connections().await;
        node_connections.push(counted.map_err(|e| eprintln!("  connections: {e}")).ok());
    }

    wait_for_quiet(cfg.quiet_wait).await;
    let window = CpuWindow::start(cluster);
    let published = publish_all(&tag, cfg, &tally, |value| {
        api.patch_stock(&experience, value)
    })
    .await?;
    let cpu = window.finish(cluster);
    memory.after_fanout = cluster.server_memory();
    memory.rss_per_conn_after_fanout =
        per_conn(memory.after_fanout, memory.before, connected, |m| m.rss);

    let fanout = Fanout::of(&published, &tally, n);
    let deliveries = fanout.deliveries;
    let per_delivery = |cpu: Option<Cpu>| {
        cpu.filter(|_| deliveries > 0)
            .map(|c| c.total_us() as f64 / deliveries as f64)
    };

    abort_all(&tag, tasks).await;
    wait_until_closed(cluster, &experience).await;
    sleep(cfg.settle).await;
    memory.after_close = cluster.server_memory();

    Ok(PhaseResult {
        transport: cfg.transport,
        setup: cluster.setup,
        wanted: n,
        connected,
        node_connections,
        errors: tally.errors(),
        join_secs,
        connect_secs,
        memory,
        publishes: fanout.publishes,
        deliveries,
        expected_deliveries: fanout.expected_deliveries,
        latency: fanout.latency,
        median_last_us: fanout.median_last_us,
        median_deliveries_per_sec: fanout.median_deliveries_per_sec,
        open_time: Latency::of(&mut tally.open_times()),
        server_cpu: cpu.servers,
        server_cpu_us_per_delivery: per_delivery(cpu.servers),
        redis_cpu: cpu.redis,
        redis_cpu_us_per_delivery: per_delivery(cpu.redis),
        others_cpu_us: cpu.others_us,
        fanout_wall_us: cpu.wall_us,
        loadgen_cpu: cpu.loadgen,
        loadgen_cpu_us_per_delivery: per_delivery(cpu.loadgen),
    })
}

/// Starts one reader task per shopper on `routes`, connection `i` to `server_for(i)`,
/// `connect_concurrency` handshakes at a time, and returns once every connection has its
/// first state or has failed. Progress lines start with `[tag]`.
pub async fn open_all(
    tag: &str,
    cfg: &PhaseConfig,
    experience: &Arc<ExperienceId>,
    shoppers: Vec<Shopper>,
    tally: &Arc<Tally>,
    server_for: impl Fn(usize) -> SocketAddr,
    routes: Routes,
) -> Result<Vec<JoinHandle<()>>> {
    let n = shoppers.len();
    let handshakes = Arc::new(Semaphore::new(cfg.connect_concurrency.max(1)));
    eprintln!("[{tag}] opening {n} connections");
    let progress = |tally: &Tally| {
        eprintln!(
            "  {} open, {} failed",
            tally.ready_count(),
            tally.failed_count()
        );
    };
    let mut last_note = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (index, shopper) in shoppers.into_iter().enumerate() {
        let permit = handshakes
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Setup("handshake semaphore closed".into()))?;
        let conn = Conn {
            index,
            server: server_for(index),
            source: source_ip(cfg.index, index, cfg.conns_per_ip),
            experience: experience.clone(),
            shopper,
            tally: tally.clone(),
            permit: Some(permit),
            started: Instant::now(),
        };
        tasks.push(tokio::spawn(cfg.transport.run_on(routes, conn)));
        if last_note.elapsed() > PROGRESS_EVERY {
            progress(tally);
            last_note = Instant::now();
        }
    }
    while tally.settled_count() < n {
        if last_note.elapsed() > PROGRESS_EVERY {
            progress(tally);
            last_note = Instant::now();
        }
        sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "[{tag}] {} open, {} failed",
        tally.ready_count(),
        tally.failed_count()
    );
    Ok(tasks)
}

/// Publishes `cfg.publishes` stock values through `publish`, each after every open
/// connection received the previous one (or the delivery timeout passed) and the interval
/// is over.
pub async fn publish_all<A, F, Fut>(
    tag: &str,
    cfg: &PhaseConfig,
    tally: &Tally,
    mut publish: F,
) -> Result<Vec<Published<A>>>
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<A>>,
{
    eprintln!("[{tag}] publishing {} stock updates", cfg.publishes);
    let mut published = Vec::with_capacity(cfg.publishes);
    for k in 0..cfg.publishes {
        let expected = tally.open_count();
        let value = tally.value_of(k);
        let at = Instant::now();
        let answer = publish(value).await?;
        let round_trip_us = at.elapsed().as_micros() as u64;
        // Polling a counter every millisecond costs nothing next to the fan-out, and the
        // figures come from the receive instants, not from when this loop noticed.
        while tally.delivered(k) < tally.open_count() && at.elapsed() < cfg.delivery_timeout {
            sleep(Duration::from_millis(1)).await;
        }
        published.push(Published {
            k,
            value,
            at_ns: tally.nanos(at),
            round_trip_us,
            expected,
            answer,
        });
        tokio::time::sleep_until(at + cfg.interval).await;
    }
    Ok(published)
}

/// Aborts every reader (dropping its socket) and waits for them to end.
pub async fn abort_all(tag: &str, tasks: Vec<JoinHandle<()>>) {
    eprintln!("[{tag}] closing");
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        // Aborted on purpose; a reader that panicked has already printed why.
        let _ = task.await;
    }
}

/// Waits until no node counts a connection on the experience.
async fn wait_until_closed(cluster: &Cluster, experience: &ExperienceId) {
    let closing = Instant::now();
    for (node, api) in cluster.apis().enumerate() {
        loop {
            match api.connections(experience).await {
                Ok(0) => break,
                Ok(_) if closing.elapsed() < CLOSE_TIMEOUT => {
                    sleep(Duration::from_millis(100)).await;
                }
                Ok(left) => {
                    eprintln!(
                        "  node {node} still counts {left} connections after {CLOSE_TIMEOUT:?}"
                    );
                    break;
                }
                Err(e) => {
                    eprintln!("  reading node {node}'s connections: {e}");
                    break;
                }
            }
        }
    }
}
