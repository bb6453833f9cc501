//! Two real `livequeue-server` nodes behind nginx running `deploy/nginx.conf` as shipped:
//! event streams unbuffered, WebSocket upgrades and origins, `least_conn` over long-lived
//! streams, the body limit, CORS, an access log without tokens, and (run on its own: it
//! stops a node) new requests going to the node that is left.
//!
//! They need nginx and the nodes, which `cargo xtask test` starts (also alone:
//! `cargo xtask nginx-tests`, see `xtask/src/nginx.rs`), so a plain `cargo test` lists them
//! as ignored. The harness runs them with `--ignored` and this environment:
//!
//! - `LIVEQUEUE_NGINX_URL`: nginx, `http://127.0.0.1:port`;
//! - `LIVEQUEUE_NODE_URLS`: the nodes behind it, comma-separated, for the operator calls
//!   that must reach every node and for each node's connection count;
//! - `LIVEQUEUE_ADMIN_TOKEN`: the nodes' operator token;
//! - `LIVEQUEUE_NGINX_LOGS`: nginx's log directory (`access.log`);
//! - `LIVEQUEUE_NODE_PIDS`: the nodes' process ids, given only to the run of the
//!   stopped-node test ([`a_stopped_node_leaves_nginx_sending_new_requests_to_the_other`]),
//!   which the harness runs after all the others (`--skip a_stopped_node`, then
//!   `a_stopped_node`), so no other test loses its node underneath it.
//!
//! The nodes run on one Redis (`--redis`, a `redis-server` the harness starts) with one
//! token secret: one line, whichever node nginx picks. Each test creates its experience and
//! makes its updates once, through nginx, and a stream on either node carries them. The
//! harness runs these tests one at a time (`--test-threads=1`), so a node's connection
//! count (its `/metrics`) moves only with the test that runs.

mod common;

use std::time::Duration;

use common::Sse;
use futures_util::{SinkExt, StreamExt};
use livequeue_protocol::api::{CreateExperience, ErrorBody, JoinResponse};
use livequeue_protocol::{ErrorCode, QueueState, Stock, WsServerMessage};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// Why every test here is ignored by a plain `cargo test`.
const NEEDS_NGINX: &str =
    "needs nginx and two nodes: run through `cargo xtask test` or `cargo xtask nginx-tests`";

/// How long an update may take to come through nginx: it is sent at once, so anything near
/// this means it was held somewhere.
const ARRIVAL: Duration = Duration::from_secs(3);

/// The nodes' limit on a body (`livequeue_server::MAX_BODY`), which nginx enforces too.
const MAX_BODY: usize = livequeue_server::MAX_BODY;

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// nginx and the nodes behind it, as the harness describes them.
struct Cluster {
    nginx: String,
    nodes: Vec<String>,
    admin: String,
    http: reqwest::Client,
}

fn env(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("{name} is unset: {NEEDS_NGINX}"))
}

impl Cluster {
    fn from_env() -> Self {
        let nodes: Vec<String> = env("LIVEQUEUE_NODE_URLS")
            .split(',')
            .map(str::to_owned)
            .collect();
        assert!(
            nodes.len() >= 2,
            "LIVEQUEUE_NODE_URLS names fewer than two nodes"
        );
        Self {
            nginx: env("LIVEQUEUE_NGINX_URL"),
            nodes,
            admin: env("LIVEQUEUE_ADMIN_TOKEN"),
            http: reqwest::Client::new(),
        }
    }

    /// `path` through nginx.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.nginx)
    }

    /// An experience id of this test, new on every run (the nodes outlive one run).
    fn id(test: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        format!("{test}-{now}")
    }

    /// Creates `id` through nginx, for every node (rate 0: nothing is admitted unless
    /// asked).
    async fn experience(&self, id: &str) {
        let body = CreateExperience {
            id: id.into(),
            name: format!("Experience {id}"),
            stock: 10,
            admission_rate_per_minute: 0.0,
            checkout_url: "https://shop.example/checkout".into(),
            grant_ttl_seconds: None,
        };
        let r = self
            .http
            .post(self.url("/api/admin/experiences"))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "creating {id} through nginx");
    }

    /// Sets the stock of `id` through nginx: every node's streams get the `stock_update`.
    async fn set_stock(&self, id: &str, stock: u64) {
        let r = self
            .http
            .patch(self.url(&format!("/api/admin/experiences/{id}")))
            .bearer_auth(&self.admin)
            .json(&serde_json::json!({ "stock": stock }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "setting the stock of {id} through nginx");
    }

    /// The shopper streams open on one node now, of every experience (its `/metrics`; an
    /// experience's summary counts every node's).
    async fn node_connections(&self, node: &str) -> u64 {
        let text = self
            .http
            .get(format!("{node}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .filter(|l| l.starts_with("livequeue_connections{"))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    /// [`Cluster::node_connections`] once it is `want` (a node counts a stream a moment
    /// after it opens or closes), or the last count seen within five seconds.
    async fn node_connections_settled(&self, node: &str, want: u64) -> u64 {
        let mut seen = 0;
        for _ in 0..100 {
            seen = self.node_connections(node).await;
            if seen == want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        seen
    }

    /// A shopper joins `id` through nginx.
    async fn join(&self, id: &str) -> JoinResponse {
        let r = self
            .http
            .post(self.url(&format!("/api/experiences/{id}/join")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "joining {id} through nginx");
        r.json().await.unwrap()
    }

    fn sse_path(id: &str, who: &JoinResponse) -> String {
        format!(
            "/api/sse/queue/{id}?consumerId={}&token={}",
            who.consumer_id, who.token
        )
    }

    /// The shopper's event stream through nginx.
    async fn sse(&self, id: &str, who: &JoinResponse) -> Sse {
        let r = self
            .http
            .get(self.url(&Self::sse_path(id, who)))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "the event stream through nginx was refused"
        );
        Sse::of(r)
    }

    /// The shopper's WebSocket URL through nginx.
    fn ws_url(&self, id: &str, who: &JoinResponse) -> String {
        format!(
            "{}/ws/queue?experienceId={id}&consumerId={}&token={}",
            self.nginx.replacen("http://", "ws://", 1),
            who.consumer_id,
            who.token
        )
    }

    /// Opens the shopper's WebSocket through nginx, sending `origin` if given.
    async fn ws(&self, id: &str, who: &JoinResponse, origin: Option<&str>) -> Result<Ws, WsError> {
        let mut request = self.ws_url(id, who).into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().unwrap());
        }
        connect_async(request).await.map(|(ws, _)| ws)
    }
}

/// The next text message, parsed; pings are skipped.
async fn next_message(ws: &mut Ws) -> WsServerMessage {
    loop {
        let m = tokio::time::timeout(ARRIVAL, ws.next())
            .await
            .expect("a WebSocket message through nginx in time");
        match m.expect("open").expect("no error") {
            Message::Text(t) => {
                return WsServerMessage::decode(t.as_str()).expect("a protocol message");
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// The next `stock_update` on `sse`, within [`ARRIVAL`].
async fn next_stock(sse: &mut Sse) -> Stock {
    let seen = tokio::time::timeout(ARRIVAL, sse.until("stock_update"))
        .await
        .expect("the update came through nginx at once, not when a buffer filled");
    serde_json::from_str(&seen.last().unwrap().data).unwrap()
}

#[tokio::test]
#[ignore = "needs nginx: run through cargo xtask test"]
async fn an_event_stream_through_nginx_delivers_each_update_as_it_happens() {
    let c = Cluster::from_env();
    let id = Cluster::id("sse");
    c.experience(&id).await;
    let me = c.join(&id).await;
    let r = c
        .http
        .get(c.url(&Cluster::sse_path(&id, &me)))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    assert!(
        r.headers().get("content-encoding").is_none(),
        "nginx compressed the event stream (gzip holds events back until its buffer fills)"
    );
    let mut sse = Sse::of(r);
    let first = sse.next().await;
    let state: QueueState = serde_json::from_str(&first.data).unwrap();
    assert_eq!(
        state.consumer_id, me.consumer_id,
        "the first frame is the state"
    );
    // Each update is a frame of a few dozen bytes: a proxy that held the stream until a
    // buffer filled (a compressor, a buffering proxy) would sit on all three.
    for stock in [11, 12, 13] {
        c.set_stock(&id, stock).await;
        assert_eq!(next_stock(&mut sse).await.total, stock);
    }
}

#[tokio::test]
#[ignore = "needs nginx: run through cargo xtask test"]
async fn a_websocket_upgrade_through_nginx_starts_with_the_state_and_carries_both_ways() {
    let c = Cluster::from_env();
    let id = Cluster::id("ws");
    c.experience(&id).await;
    let me = c.join(&id).await;
    let mut ws = c
        .ws(&id, &me, None)
        .await
        .expect("the upgrade through nginx");
    match next_message(&mut ws).await {
        WsServerMessage::InitialState { data } => assert_eq!(data.consumer_id, me.consumer_id),
        other => panic!("expected initial_state first, got {other:?}"),
    }
    ws.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    assert_eq!(
        next_message(&mut ws).await,
        WsServerMessage::Pong,
        "a client message reaches the node through the tunnel"
    );
    c.set_stock(&id, 14).await;
    assert!(
        matches!(next_message(&mut ws).await, WsServerMessage::StockUpdate { data, .. } if data.total == 14),
        "an update reaches the client through the tunnel"
    );
}

#[tokio::test]
#[ignore = "needs nginx: run through cargo xtask test"]
async fn a_foreign_origin_is_refused_403_through_nginx_and_the_proxys_own_origin_is_not() {
    let c = Cluster::from_env();
    let id = Cluster::id("origin");
    c.experience(&id).await;
    let me = c.join(&id).await;
    match c.ws(&id, &me, Some("https://evil.example")).await {
        Err(WsError::Http(response)) => assert_eq!(
            response.status(),
            403,
            "a foreign origin is refused through nginx as without it"
        ),
        other => panic!(
            "expected 403 for a foreign origin, got {:?}",
            other.map(|_| ())
        ),
    }
    c.ws(&id, &me, Some("https://shop.example"))
        .await
        .expect("a configured origin may connect through nginx");
    // A widget page served through nginx opens its WebSocket from nginx's origin. The node
    // allows a page's own origin by comparing it with `Host`: this works only because nginx
    // passes the browser's `Host`, port included.
    c.ws(&id, &me, Some(&c.nginx)).await.expect(
        "the page's own origin (nginx's) is refused: nginx does not pass the original Host",
    );
}

#[tokio::test]
#[ignore = "needs nginx: run through cargo xtask test"]
async fn cors_answers_pass_through_nginx() {
    let c = Cluster::from_env();
    let id = Cluster::id("cors");
    c.experience(&id).await;
    let r = c
        .http
        .request(
            reqwest::Method::OPTIONS,
            c.url(&format!("/api/experiences/{id}/join")),
        )
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "preflight: {}", r.status());
    assert_eq!(
        r.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("https://shop.example"),
        "the node's CORS answer to the shop's origin"
    );
}

#[tokio::test]
#[ignore = "needs nginx: run through cargo xtask test"]
async fn least_conn_spreads_long_lived_streams_over_both_nodes() {
    let c = Cluster::from_env();
    let id = Cluster::id("spread");
    c.experience(&id).await;
    let me = c.join(&id).await;
    let mut before = Vec::new();
    for node in &c.nodes {
        before.push(c.node_connections(node).await);
    }
    let mut streams = Vec::new();
    for _ in 0..6 {
        let mut sse = c.sse(&id, &me).await;
        // Once the first frame is here, the node counts the connection.
        sse.next().await;
        streams.push(sse);
    }
    let mut counts = Vec::new();
    for (node, before) in c.nodes.iter().zip(before) {
        counts.push(c.node_connections(node).await - before);
    }
    assert_eq!(
        counts.iter().sum::<u64>(),
        6,
        "every stream is open on some node: {counts:?}"
    );
    assert!(
        counts.iter().all(|&n| n > 0),
        "least_conn left a node without streams: {counts:?} over {:?}",
        c.nodes
    );
    drop(streams);
}

#[tokio::test]
#[ignore = "needs nginx: run through cargo xtask test"]
async fn a_body_over_the_limit_is_refused_by_nginx_with_413_and_the_protocol_error_body() {
    let c = Cluster::from_env();
    let create = |id: &str, size: usize| {
        // A valid body padded with spaces to `size` bytes.
        let mut body = serde_json::to_string(&CreateExperience {
            id: id.into(),
            name: "Padded".into(),
            stock: 1,
            admission_rate_per_minute: 0.0,
            checkout_url: "https://shop.example/checkout".into(),
            grant_ttl_seconds: None,
        })
        .unwrap();
        body.insert_str(1, &" ".repeat(size - body.len()));
        c.http
            .post(c.url("/api/admin/experiences"))
            .bearer_auth(&c.admin)
            .header("content-type", "application/json")
            .body(body)
    };
    let r = create(&Cluster::id("big"), MAX_BODY + 1024)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: ErrorBody = r
        .json()
        .await
        .expect("nginx answers 413 with the protocol's JSON error body");
    assert_eq!(body.error.code, ErrorCode::PayloadTooLarge);
    assert!(
        body.error.message.contains("proxy"),
        "the 413 came from a node, not nginx: {body:?}"
    );
    let r = create(&Cluster::id("near"), MAX_BODY - 1024)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        201,
        "a body the nodes take passes nginx: {}",
        r.text().await.unwrap()
    );
}

#[tokio::test]
#[ignore = "needs nginx: run through cargo xtask test"]
async fn nginx_logs_requests_without_the_shoppers_token() {
    let c = Cluster::from_env();
    let id = Cluster::id("log");
    c.experience(&id).await;
    let me = c.join(&id).await;
    let mut sse = c.sse(&id, &me).await;
    sse.next().await;
    drop(sse);
    let mut ws = c.ws(&id, &me, None).await.expect("the upgrade");
    next_message(&mut ws).await;
    drop(ws);
    // nginx writes a request's line when it ends: after it sees the client go.
    let line = format!("\"GET /api/sse/queue/{id}\"");
    let text = access_log_with(|l| l.contains(&line), "the event stream's line").await;
    assert!(
        !text.contains(&me.token),
        "nginx's access log holds a shopper's token"
    );
    assert!(
        !text.contains(&me.consumer_id),
        "nginx's access log holds a query string"
    );
}

/// nginx's access log once a line of it matches `found` (nginx writes a request's line
/// when the request ends); fails naming `what` when none does within [`ARRIVAL`].
async fn access_log_with(found: impl Fn(&str) -> bool, what: &str) -> String {
    let log = std::path::Path::new(&env("LIVEQUEUE_NGINX_LOGS")).join("access.log");
    let deadline = tokio::time::Instant::now() + ARRIVAL;
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().any(&found) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no line in {} shows {what}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops the node whose process id is `pid` (SIGTERM, as a deploy does) and waits until
/// `url` refuses connections.
async fn stop_node(http: &reqwest::Client, pid: &str, url: &str) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", pid])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -TERM {pid} failed");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while http.get(format!("{url}/healthz")).send().await.is_ok() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node at {url} still answers 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs nginx: run through cargo xtask test"]
async fn a_stopped_node_leaves_nginx_sending_new_requests_to_the_other() {
    let c = Cluster::from_env();
    let pids: Vec<String> = env("LIVEQUEUE_NODE_PIDS")
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_eq!(pids.len(), c.nodes.len(), "one pid per node");
    let id = Cluster::id("stopped");
    c.experience(&id).await;
    let me = c.join(&id).await;

    stop_node(&c.http, &pids[0], &c.nodes[0]).await;

    // Joins first, while nginx still takes the stopped node for a live one: one of them
    // is sent there, its connection is refused, and nginx passes it to the other node even
    // though it is a POST (it never reached a node, so nothing can be done twice).
    for _ in 0..5 {
        c.join(&id).await;
    }
    let stopped = c.nodes[0].trim_start_matches("http://");
    let passed_on = format!("\"POST /api/experiences/{id}/join\"");
    let tried_first = format!("upstream={stopped}, ");
    access_log_with(
        |l| l.contains(&passed_on) && l.contains(&tried_first),
        "a join tried on the stopped node and passed on",
    )
    .await;
    // The stopped node is marked failed now (`max_fails=1`): the rest go to the other.
    for _ in 0..10 {
        let r = c.http.get(c.url("/healthz")).send().await.unwrap();
        assert_eq!(
            r.status(),
            200,
            "GET /healthz through nginx with one node down"
        );
    }
    // The line is in Redis: on the node that is left, the first shopper is still first.
    let mut sse = c.sse(&id, &me).await;
    let state: QueueState = serde_json::from_str(&sse.next().await.data).unwrap();
    assert_eq!(
        state.position,
        Some(1),
        "the shopper kept their place on the node that is left: {state:?}"
    );
    assert_eq!(
        c.node_connections_settled(&c.nodes[1], 1).await,
        1,
        "the stream is on the node that is left"
    );
}
