//! Small phases of each transport against the real server, in this process: every
//! connection opens and every publish reaches every connection, on one node with its queue
//! in memory and on two nodes sharing a redis-server of the test's own.

use std::path::Path;
use std::time::Duration;

use livequeue_loadgen::cluster::{Cluster, Setup};
use livequeue_loadgen::phase::{self, PhaseConfig, PhaseResult};
use livequeue_loadgen::redis_server::{REDIS_SERVER, RedisServer};
use livequeue_loadgen::target::Target;
use livequeue_loadgen::transport::Transport;
use livequeue_server::engine::Engine;
use livequeue_server::{AppState, Config, serve};

const ADMIN: &str = "loadgen-test-admin";

/// Connections per phase: an even count, so two nodes get the same share.
const CONNECTIONS: usize = 40;

/// Every node's configuration: one secret, so that a shopper joined through node 0 may
/// connect to node 1.
fn config() -> Config {
    Config {
        admin_token: Some(ADMIN.into()),
        secret: b"one secret for every loadgen test node".to_vec(),
        ..Config::default()
    }
}

/// Serves `state` on a free loopback port until the returned sender is dropped.
async fn start_node(state: AppState) -> (Target, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async move {
        // A dropped sender stops the server as well.
        let _ = stopped.await;
    }));
    // No pid: the server is this process, whose memory the figures would not isolate.
    let target = Target::attach(&format!("http://{addr}"), None)
        .await
        .expect("the server answers /healthz");
    (target, stop)
}

fn small(transport: Transport, index: usize) -> PhaseConfig {
    PhaseConfig {
        transport,
        index,
        connections: CONNECTIONS,
        publishes: 3,
        interval: Duration::from_millis(50),
        delivery_timeout: Duration::from_secs(10),
        connect_concurrency: 8,
        join_concurrency: 8,
        conns_per_ip: 15,
        settle: Duration::ZERO,
        quiet_wait: Duration::ZERO,
    }
}

fn assert_every_publish_reached_every_connection(result: &PhaseResult) {
    let which = format!("{} · {}", result.transport, result.setup);
    assert_eq!(
        result.connected, CONNECTIONS,
        "{which}: connections that opened: {:?}",
        result.errors
    );
    assert_eq!(result.publishes.len(), 3);
    for p in &result.publishes {
        assert_eq!(
            p.deliveries, CONNECTIONS,
            "{which}: publish of {} reached {} of {CONNECTIONS}",
            p.value, p.deliveries
        );
    }
    assert_eq!(result.deliveries, result.expected_deliveries);
    assert!(result.latency.p50_us.is_some(), "latencies are computed");
    assert!(
        result.memory.rss_per_conn.is_none(),
        "no pid, no memory figure"
    );
}

async fn every_publish_reaches_every_connection(transport: Transport, index: usize) {
    let (target, _stop) = start_node(AppState::new(config())).await;
    let cluster = Cluster::new(Setup::Memory, vec![target], None, ADMIN).expect("one node");
    let result = phase::run(&cluster, &small(transport, index))
        .await
        .expect("the phase runs");
    assert_every_publish_reached_every_connection(&result);
    assert_eq!(
        result.node_connections,
        vec![Some(CONNECTIONS as u64)],
        "the one node holds every connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_publishes_reach_every_connection() {
    every_publish_reaches_every_connection(Transport::Sse, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_publishes_reach_every_connection() {
    every_publish_reaches_every_connection(Transport::Ws, 1).await;
}

async fn redis_node(url: &str) -> (Target, tokio::sync::oneshot::Sender<()>) {
    let config = config();
    let engine = Engine::redis(config.engine.clone(), url)
        .await
        .expect("the Redis engine starts");
    start_node(AppState::with_engine(config, engine)).await
}

/// One behaviour on both transports: a stock update published through node 0 reaches the
/// connections of node 1 as well, through Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_through_node_0_reach_connections_on_both_redis_nodes() {
    for (index, transport) in [(2, Transport::Sse), (3, Transport::Ws)] {
        let redis = RedisServer::spawn(Path::new(REDIS_SERVER))
            .await
            .expect("redis-server starts (apt-get install redis-server, or cargo xtask setup)");
        let url = redis.url();
        let (a, _stop_a) = redis_node(&url).await;
        let (b, _stop_b) = redis_node(&url).await;
        let cluster = Cluster::new(Setup::Redis { nodes: 2 }, vec![a, b], Some(redis), ADMIN)
            .expect("two nodes");
        let result = phase::run(&cluster, &small(transport, index))
            .await
            .expect("the phase runs");
        assert_every_publish_reached_every_connection(&result);
        let half = Some(CONNECTIONS as u64 / 2);
        assert_eq!(
            result.node_connections,
            vec![half, half],
            "{transport}: connections split evenly over the two nodes"
        );
        assert!(
            result.redis_cpu.is_some(),
            "{transport}: the Redis we started has a pid, so its CPU time is read"
        );
        cluster.stop().await;
    }
}
