//! A small `--poll` run against the real server, in this process: every client gets its
//! tag, then nothing but `304`s.

use std::time::Duration;

use livequeue_loadgen::cluster::Cluster;
use livequeue_loadgen::poll::{self, PollConfig};
use livequeue_server::{AppState, Config, serve};

const ADMIN: &str = "loadgen-test-admin";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_conditional_poll_of_an_unchanged_state_is_a_304() {
    let config = Config {
        admin_token: Some(ADMIN.into()),
        secret: b"a secret for the poll test".to_vec(),
        ..Config::default()
    };
    let state = AppState::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async move {
        // A dropped sender stops the server as well.
        let _ = stopped.await;
    }));
    let cluster = Cluster::attach(&format!("http://{addr}"), None, ADMIN)
        .await
        .expect("the server answers /healthz");
    let cfg = PollConfig {
        clients: 4,
        warmup: Duration::from_millis(100),
        window: Duration::from_millis(500),
        join_concurrency: 4,
        conns_per_ip: 100,
        quiet_wait: Duration::ZERO,
    };
    let result = poll::run(&cluster, &cfg)
        .await
        .expect("the poll run completes");
    drop(stop);
    assert_eq!(
        result.started, 4,
        "every client got a 200 with an ETag: {:?}",
        result.errors
    );
    assert!(
        result.not_modified > 0,
        "some 304s were counted in the window"
    );
    assert!(
        result.errors.is_empty(),
        "no other status and no failure: {:?}",
        result.errors
    );
    assert!(
        result
            .figures()
            .get("poll_304_per_s")
            .is_some_and(|r| r > 0.0),
        "the headline figure is there"
    );
}
