//! A small phase of each transport against the real server, in this process: every
//! connection opens and every publish reaches every connection.

use std::time::Duration;

use livequeue_loadgen::api::Api;
use livequeue_loadgen::phase::{self, PhaseConfig};
use livequeue_loadgen::target::Target;
use livequeue_loadgen::transport::Transport;
use livequeue_server::{AppState, Config, serve};

const ADMIN: &str = "loadgen-test-admin";

async fn start_server() -> (Target, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let state = AppState::new(Config {
        admin_token: Some(ADMIN.into()),
        ..Config::default()
    });
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
        connections: 40,
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

async fn every_publish_reaches_every_connection(transport: Transport, index: usize) {
    let (target, _stop) = start_server().await;
    let api = Api::new(&target.base_url, ADMIN);
    let result = phase::run(&target, &api, &small(transport, index))
        .await
        .expect("the phase runs");
    assert_eq!(
        result.connected, 40,
        "{transport}: connections that opened: {:?}",
        result.errors
    );
    assert_eq!(result.publishes.len(), 3);
    for p in &result.publishes {
        assert_eq!(
            p.deliveries, 40,
            "{transport}: publish of {} reached {} of 40",
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_publishes_reach_every_connection() {
    every_publish_reaches_every_connection(Transport::Sse, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_publishes_reach_every_connection() {
    every_publish_reaches_every_connection(Transport::Ws, 1).await;
}
