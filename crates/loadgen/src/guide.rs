//! `--guide-js`: the same fan-out phases as livequeue's, against the JavaScript server
//! built from the real-time guide's own design (`bench/guide-js/server.js`: Express, `ws`,
//! ioredis), on a redis-server of our own. It is the baseline the project's figures are
//! compared with.
//!
//! Each transport runs on fresh processes (Redis and node), SSE then WebSocket:
//!
//! 1. Join N consumers (`POST /api/experiences/:id/join`, a benchmark addition; the queue
//!    state is in Redis).
//! 2. Read node's and Redis's memory and Redis's client count, open the N connections on
//!    the guide's URLs (each waits for its initial state), wait until Redis counts the SSE
//!    route's subscribers (the route subscribes *after* sending the initial state), let the
//!    processes settle, read again: node's RSS per idle connection, and Redis's (the
//!    guide's one subscriber connection per SSE client lives in Redis too).
//! 3. Publish K stock values through `POST /bench/publish/:id` (the guide's
//!    `publishQueueUpdate` with a `stock_update`), each once every open connection received
//!    the previous one; node's, Redis's, our and the machine's CPU time around them.
//! 4. Close every connection and wait until node counts none (and Redis has its
//!    subscribers back).
//!
//! Limits: node holds two descriptors per SSE client (the client's socket and its Redis
//! subscriber's) under this machine's limit of 20,000 per process, so an SSE phase fits
//! up to about 9,900 clients; Redis is started with `maxclients` 19,900 (its default
//! 10,000 would refuse subscribers first). The default is 5,000 per transport.

pub mod conn;
pub mod report;
pub mod resp;
pub mod servers;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Client;
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, sleep};

use crate::api::{Shopper, join_concurrently};
use crate::phase::{
    Fanout, INITIAL_STOCK, PhaseConfig, abort_all, experience_id, open_all, own_memory, per_conn,
    publish_all,
};
use crate::procfs::{Cpu, Memory};
use crate::quiet::wait_for_quiet;
use crate::stats::Latency;
use crate::tally::Tally;
use crate::transport::Transport;
use crate::window::CpuWindow;
use crate::{Error, Result};

pub use servers::{GuideLaunch, GuideServers};

/// Connections per transport when `--sse` / `--ws` are not given with `--guide-js`.
pub const DEFAULT_CONNS: usize = 5_000;

/// SSE clients node can hold: two descriptors each under the limit of 20,000, less a
/// margin for its listener, its own Redis connections and node's own files.
pub const SSE_LIMIT: usize = 9_900;

/// How long to wait for the SSE route's subscriptions, and for closed connections to go.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Memory of one process over a phase.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcessMemory {
    /// After the joins, before any connection.
    pub before: Option<Memory>,
    /// Every connection open and idle.
    pub idle: Option<Memory>,
    /// After the publishes.
    pub after_fanout: Option<Memory>,
    /// After every connection closed.
    pub after_close: Option<Memory>,
    /// RSS per idle connection, bytes: `(idle − before) / connected`.
    pub rss_per_conn: Option<f64>,
    /// Anonymous memory per idle connection, bytes.
    pub anon_per_conn: Option<f64>,
}

impl ProcessMemory {
    fn per_conn(&mut self, n: usize) {
        self.rss_per_conn = per_conn(self.idle, self.before, n, |m| m.rss);
        self.anon_per_conn = per_conn(self.idle, self.before, n, |m| m.anon);
    }
}

/// Everything a phase against the guide's server measured.
#[derive(Debug, Clone, Serialize)]
pub struct GuidePhase {
    /// Which transport.
    pub transport: Transport,
    /// Connections asked for.
    pub wanted: usize,
    /// Connections that received their initial state.
    pub connected: usize,
    /// Connections that failed to open or ended early, by reason.
    pub errors: BTreeMap<String, usize>,
    /// Seconds to join the consumers.
    pub join_secs: f64,
    /// Seconds from the first connect to the last initial state.
    pub connect_secs: f64,
    /// Node's memory.
    pub node_memory: ProcessMemory,
    /// Redis's memory.
    pub redis_memory: ProcessMemory,
    /// Redis's clients before the connections (node's own two, for commands and the
    /// WebSocket server's pattern subscriber).
    pub redis_clients_before: Option<u64>,
    /// Redis's clients with every connection open and idle.
    pub redis_clients_idle: Option<u64>,
    /// Subscribers of the experience's channel with every connection open (the SSE route's,
    /// one per client; the WebSocket server's one is a pattern subscriber, not counted).
    pub channel_subscribers: Option<u64>,
    /// How many subscribers Redis handed each publish to (`PUBLISH`'s answer).
    pub redis_receivers: Vec<u64>,
    /// What the publishes delivered (its fields stand in the phase's JSON object).
    #[serde(flatten)]
    pub fanout: Fanout,
    /// Connect → initial state, over every connection that opened.
    pub open_time: Latency,
    /// Node's CPU time during the publishes.
    pub node_cpu: Option<Cpu>,
    /// Redis's CPU time during the publishes.
    pub redis_cpu: Option<Cpu>,
    /// The loadgen's CPU time during the publishes.
    pub loadgen_cpu: Option<Cpu>,
    /// CPU time other processes took during the publishes, µs.
    pub others_cpu_us: Option<u64>,
    /// Wall time of the publishing, µs.
    pub fanout_wall_us: u64,
    /// The loadgen's own RSS per connection, bytes.
    pub loadgen_rss_per_conn: Option<f64>,
}

impl GuidePhase {
    /// `cpu`'s total per delivery, µs.
    pub fn per_delivery(&self, us: Option<u64>) -> Option<f64> {
        let deliveries = self.fanout.deliveries;
        us.filter(|_| deliveries > 0)
            .map(|us| us as f64 / deliveries as f64)
    }
}

/// The benchmark's calls on the guide's server.
#[derive(Debug, Clone)]
struct GuideApi {
    client: Client,
    base: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Joined {
    consumer_id: String,
}

#[derive(Deserialize)]
struct Published {
    receivers: u64,
}

#[derive(Deserialize)]
struct OpenCounts {
    sse: i64,
    ws: i64,
}

async fn answer<T: serde::de::DeserializeOwned>(
    context: &str,
    sent: reqwest::Result<reqwest::Response>,
) -> Result<T> {
    let http = |message: String| Error::Http {
        context: context.to_string(),
        message,
    };
    let response = sent.map_err(|e| http(e.to_string()))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| http(e.to_string()))?;
    if !status.is_success() {
        return Err(http(format!("{status}: {text}")));
    }
    serde_json::from_str(&text).map_err(|e| http(format!("decoding {text:.200}: {e}")))
}

impl GuideApi {
    fn new(base: String) -> Self {
        Self {
            client: crate::api::loopback_client(),
            base,
        }
    }

    async fn join(&self, experience: &str) -> Result<Shopper> {
        let sent = self
            .client
            .post(format!("{}/api/experiences/{experience}/join", self.base))
            .send()
            .await;
        let joined: Joined = answer("joining", sent).await?;
        Ok(Shopper {
            consumer_id: joined.consumer_id,
            token: String::new(),
        })
    }

    async fn publish(&self, experience: &str, stock: u64) -> Result<u64> {
        let sent = self
            .client
            .post(format!("{}/bench/publish/{experience}", self.base))
            .json(&serde_json::json!({ "stock": stock }))
            .send()
            .await;
        let published: Published = answer("publishing", sent).await?;
        Ok(published.receivers)
    }

    async fn open(&self, transport: Transport) -> Result<i64> {
        let sent = self
            .client
            .get(format!("{}/bench/connections", self.base))
            .send()
            .await;
        let counts: OpenCounts = answer("reading /bench/connections", sent).await?;
        Ok(match transport {
            Transport::Sse => counts.sse,
            Transport::Ws => counts.ws,
        })
    }
}

/// Runs one phase against fresh servers started with `launch`; with it, the version of
/// the redis-server started.
pub async fn run_phase(
    launch: &GuideLaunch,
    cfg: &PhaseConfig,
) -> Result<(GuidePhase, Option<String>)> {
    let servers = GuideServers::start(launch).await?;
    let version = resp::info(servers.redis_addr(), "server")
        .await
        .ok()
        .and_then(|text| resp::info_field(&text, "redis_version").map(str::to_owned));
    let result = phase(&servers, cfg).await;
    servers.stop().await;
    Ok((result?, version))
}

async fn phase(servers: &GuideServers, cfg: &PhaseConfig) -> Result<GuidePhase> {
    let api = GuideApi::new(servers.base_url());
    let redis = servers.redis_addr();
    let experience = experience_id("guide", cfg)?;
    let channel = format!("queue:{experience}:updates");
    let n = cfg.connections;
    let t = cfg.transport;
    let tag = format!("guide-js {t}");
    eprintln!("[{tag}] joining {n} consumers to {experience}");
    let joined = Instant::now();
    let shoppers =
        join_concurrently(n, cfg.join_concurrency, || api.join(experience.as_str())).await?;
    let join_secs = joined.elapsed().as_secs_f64();

    sleep(cfg.settle).await;
    wait_for_quiet(cfg.quiet_wait).await;
    let mut node_memory = ProcessMemory {
        before: servers.node_memory(),
        ..ProcessMemory::default()
    };
    let mut redis_memory = ProcessMemory {
        before: servers.redis_memory(),
        ..ProcessMemory::default()
    };
    let redis_clients_before = resp::connected_clients(redis)
        .await
        .map_err(|e| eprintln!("  redis clients: {e}"))
        .ok();
    let loadgen_before = own_memory();

    let origin = Instant::now();
    let tally = Arc::new(Tally::new(origin, INITIAL_STOCK + 1, cfg.publishes, n));
    let node = servers.node_addr();
    let tasks = open_all(
        &tag,
        cfg,
        &experience,
        shoppers,
        &tally,
        |_| node,
        conn::ROUTES,
    )
    .await?;
    let connect_secs = origin.elapsed().as_secs_f64();
    let connected = tally.ready_count();

    // The SSE route writes the initial state before it subscribes: a publish sent the
    // moment every connection has its first state could miss the last subscribers.
    let channel_subscribers = if t == Transport::Sse {
        wait_for_subscribers(redis, &channel, connected as u64).await
    } else {
        resp::subscribers(redis, &channel).await.ok()
    };

    sleep(cfg.settle).await;
    node_memory.idle = servers.node_memory();
    redis_memory.idle = servers.redis_memory();
    node_memory.per_conn(connected);
    redis_memory.per_conn(connected);
    let redis_clients_idle = resp::connected_clients(redis)
        .await
        .map_err(|e| eprintln!("  redis clients: {e}"))
        .ok();
    let loadgen_rss_per_conn = per_conn(own_memory(), loadgen_before, connected, |m| m.rss);

    wait_for_quiet(cfg.quiet_wait).await;
    let window = CpuWindow::start_with(servers.node_cpu(), servers.redis_cpu());
    let published = publish_all(&tag, cfg, &tally, |value| {
        api.publish(experience.as_str(), value)
    })
    .await?;
    let cpu = window.finish_with(servers.node_cpu(), servers.redis_cpu());
    node_memory.after_fanout = servers.node_memory();
    redis_memory.after_fanout = servers.redis_memory();

    let fanout = Fanout::of(&published, &tally, n);
    let redis_receivers = published.iter().map(|p| p.answer).collect();

    abort_all(&tag, tasks).await;
    wait_until_closed(&api, redis, redis_clients_before, t).await;
    sleep(cfg.settle).await;
    node_memory.after_close = servers.node_memory();
    redis_memory.after_close = servers.redis_memory();

    Ok(GuidePhase {
        transport: t,
        wanted: n,
        connected,
        errors: tally.errors(),
        join_secs,
        connect_secs,
        node_memory,
        redis_memory,
        redis_clients_before,
        redis_clients_idle,
        channel_subscribers,
        redis_receivers,
        fanout,
        open_time: Latency::of(&mut tally.open_times()),
        node_cpu: cpu.servers,
        redis_cpu: cpu.redis,
        loadgen_cpu: cpu.loadgen,
        others_cpu_us: cpu.others_us,
        fanout_wall_us: cpu.wall_us,
        loadgen_rss_per_conn,
    })
}

/// Waits until `channel` has `wanted` subscribers (or [`SETTLE_TIMEOUT`]); the count seen.
async fn wait_for_subscribers(
    redis: std::net::SocketAddr,
    channel: &str,
    wanted: u64,
) -> Option<u64> {
    let began = Instant::now();
    loop {
        let seen = resp::subscribers(redis, channel)
            .await
            .map_err(|e| eprintln!("  subscribers: {e}"))
            .ok();
        match seen {
            Some(s) if s >= wanted => return Some(s),
            Some(s) if began.elapsed() > SETTLE_TIMEOUT => {
                eprintln!("  only {s} of {wanted} subscribers after {SETTLE_TIMEOUT:?}");
                return Some(s);
            }
            None => return None,
            Some(_) => sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Waits until node counts no connection of `transport` and Redis is back to its clients
/// of before (the SSE route quits each subscriber on close).
async fn wait_until_closed(
    api: &GuideApi,
    redis: std::net::SocketAddr,
    redis_clients_before: Option<u64>,
    transport: Transport,
) {
    let closing = Instant::now();
    loop {
        let open = api.open(transport).await;
        let clients = resp::connected_clients(redis).await.ok();
        let redis_done = redis_clients_before
            .zip(clients)
            .is_none_or(|(before, now)| now <= before);
        match open {
            Ok(n) if n <= 0 && redis_done => break,
            Ok(n) if closing.elapsed() > SETTLE_TIMEOUT => {
                eprintln!(
                    "  node still counts {n} connections and Redis {clients:?} clients after \
                     {SETTLE_TIMEOUT:?}"
                );
                break;
            }
            Ok(_) => sleep(Duration::from_millis(100)).await,
            Err(e) => {
                eprintln!("  reading node's connections: {e}");
                break;
            }
        }
    }
}
