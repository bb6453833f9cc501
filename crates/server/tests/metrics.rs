//! `/metrics`, `/readyz` and `/healthz` against a real server: the scrape's format, what
//! each counter and gauge follows, and readiness through a shutdown.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{ADMIN, TestServer};
use livequeue_protocol::api::{CreateExperience, ErrorBody};
use livequeue_protocol::{Endpoint, ErrorCode, WsClientMessage};
use livequeue_server::{AppState, Config, serve};
use reqwest::StatusCode;

/// Every metric the scrape must declare, with its `# TYPE`.
const DECLARED: &[(&str, &str)] = &[
    ("livequeue_connections", "gauge"),
    ("livequeue_operator_streams", "gauge"),
    ("livequeue_messages_sent_total", "counter"),
    ("livequeue_heartbeats_sent_total", "counter"),
    ("livequeue_snapshots_sent_total", "counter"),
    ("livequeue_resyncs_total", "counter"),
    ("livequeue_slow_consumer_disconnects_total", "counter"),
    ("livequeue_admissions_total", "counter"),
    ("livequeue_redemptions_total", "counter"),
    ("livequeue_grants_expired_total", "counter"),
    ("livequeue_joins_total", "counter"),
    ("livequeue_polls_total", "counter"),
    ("livequeue_redis_errors_total", "counter"),
    ("livequeue_redis_call_seconds", "histogram"),
];

/// The only label keys a scrape may carry: each has a closed set of values.
const BOUNDED_LABELS: &[&str] = &["transport", "by", "reason", "answer", "le"];

/// A server whose heartbeats and ticks are fast, so streams notice a gone client quickly.
async fn quick_server() -> TestServer {
    let mut config = common::config();
    config.engine.tick = Duration::from_millis(50);
    config.engine.heartbeat = Duration::from_millis(200);
    TestServer::with_config(config).await
}

async fn scrape(s: &TestServer) -> String {
    let r = s
        .http
        .get(s.url(Endpoint::Metrics.route()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the scrape was refused");
    r.text().await.unwrap()
}

/// The value of the sample `series` (name and labels as the scrape writes them).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// The value of `series` once it is `want`, or the last one seen within five seconds
/// (streams are counted and uncounted by server tasks, a moment after the client acts).
async fn settled(s: &TestServer, series: &str, want: f64) -> Option<f64> {
    let mut seen = None;
    for _ in 0..100 {
        seen = value(&scrape(s).await, series);
        if seen == Some(want) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    seen
}

/// A shopper of a new experience `drop`, admitted by the operator.
async fn admitted_shopper(s: &TestServer) -> livequeue_protocol::api::JoinResponse {
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    s.admit("drop", 1).await;
    me
}

/// Asserts that `series` reaches `want` within five seconds; `broke` says what did not.
async fn assert_settles(s: &TestServer, series: &str, want: f64, broke: &str) {
    assert_eq!(settled(s, series, want).await, Some(want), "{broke}");
}

/// `# TYPE` of each declared name, after checking that every other line is a sample
/// `name{labels} value` of a declared metric with a numeric value.
fn parse(text: &str) -> HashMap<String, String> {
    let mut types = HashMap::new();
    for line in text.lines() {
        if let Some(decl) = line.strip_prefix("# TYPE ") {
            let (name, kind) = decl.split_once(' ').expect("`# TYPE name type`");
            types.insert(name.to_string(), kind.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, number) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("`{line}` is not `series value`"));
        assert!(
            number.parse::<f64>().is_ok(),
            "`{line}` has no numeric value"
        );
        let sample = series.split('{').next().unwrap_or_default();
        // A histogram's samples are its name with `_bucket`, `_sum` or `_count`.
        let name = ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|suffix| sample.strip_suffix(suffix))
            .find(|base| types.get(*base).is_some_and(|t| t == "histogram"))
            .unwrap_or(sample);
        assert!(
            types.contains_key(name),
            "`{line}` comes before (or without) the `# TYPE` of {name}"
        );
    }
    types
}

async fn ws_connect(
    s: &TestServer,
    who: &livequeue_protocol::api::JoinResponse,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let query = format!(
        "experienceId=drop&consumerId={}&token={}",
        who.consumer_id, who.token
    );
    tokio_tungstenite::connect_async(s.ws_url(&query))
        .await
        .expect("upgrade")
        .0
}

/// The next text message of `ws`, within five seconds (pings skipped).
async fn ws_text<S>(ws: &mut S) -> String
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")
            .expect("open")
            .expect("no error");
        if let Message::Text(t) = m {
            return t.to_string();
        }
    }
}

#[tokio::test]
async fn a_scrape_is_prometheus_text_declaring_every_metric() {
    let s = TestServer::start().await;
    let r = s
        .http
        .get(s.url(Endpoint::Metrics.route()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8",
        "not the Prometheus text format's content type"
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let types = parse(&r.text().await.unwrap());
    for (name, kind) in DECLARED {
        assert_eq!(
            types.get(*name).map(String::as_str),
            Some(*kind),
            "`# TYPE {name} {kind}` is missing"
        );
    }
}

#[tokio::test]
async fn every_labelled_series_exists_at_zero_before_anything_happens() {
    let s = TestServer::start().await;
    let text = scrape(&s).await;
    for series in [
        r#"livequeue_connections{transport="sse"}"#,
        r#"livequeue_connections{transport="websocket"}"#,
        r#"livequeue_admissions_total{by="rate"}"#,
        r#"livequeue_admissions_total{by="operator"}"#,
        r#"livequeue_resyncs_total{reason="lagged"}"#,
        r#"livequeue_resyncs_total{reason="stale_cursor"}"#,
        r#"livequeue_resyncs_total{reason="reload"}"#,
        r#"livequeue_resyncs_total{reason="refresh"}"#,
        r#"livequeue_polls_total{answer="200"}"#,
        r#"livequeue_polls_total{answer="304"}"#,
        r#"livequeue_slow_consumer_disconnects_total{transport="websocket"}"#,
        "livequeue_operator_streams",
        "livequeue_joins_total",
        "livequeue_redis_errors_total",
        "livequeue_redis_call_seconds_count",
    ] {
        assert_eq!(
            value(&text, series),
            Some(0.0),
            "{series} is not 0 at start"
        );
    }
}

#[tokio::test]
async fn a_scrape_names_no_experience_shopper_or_token() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let mut sse = s.sse("drop", &me, None).await;
    sse.next().await;
    s.state("drop", &me).await;
    let text = scrape(&s).await;
    for secret in ["drop", me.consumer_id.as_str(), me.token.as_str(), ADMIN] {
        assert!(!text.contains(secret), "the scrape shows `{secret}`");
    }
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((_, labels)) = line.split_once('{') else {
            continue;
        };
        for pair in labels.split('}').next().unwrap_or_default().split(',') {
            let key = pair.split('=').next().unwrap_or_default();
            assert!(
                BOUNDED_LABELS.contains(&key),
                "`{line}` has the unbounded label `{key}`"
            );
        }
    }
}

#[tokio::test]
async fn an_open_sse_stream_is_counted_until_it_closes() {
    let s = quick_server().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let series = r#"livequeue_connections{transport="sse"}"#;
    let mut sse = s.sse("drop", &me, None).await;
    sse.next().await;
    assert_settles(&s, series, 1.0, "an open SSE stream is not counted").await;
    drop(sse);
    assert_settles(&s, series, 0.0, "a closed SSE stream is still counted").await;
}

#[tokio::test]
async fn an_open_websocket_is_counted_until_it_closes() {
    let s = quick_server().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let series = r#"livequeue_connections{transport="websocket"}"#;
    let mut ws = ws_connect(&s, &me).await;
    ws_text(&mut ws).await;
    assert_settles(&s, series, 1.0, "an open WebSocket is not counted").await;
    // The server may already be gone when the close is answered; either way it is closed.
    let _ = ws.close(None).await;
    assert_settles(&s, series, 0.0, "a closed WebSocket is still counted").await;
}

#[tokio::test]
async fn an_open_operator_stream_is_counted_apart_from_shoppers_streams() {
    let s = quick_server().await;
    s.experience("drop", 10).await;
    let mut operator = s.operator_stream("drop").await;
    operator.next().await;
    assert_settles(
        &s,
        "livequeue_operator_streams",
        1.0,
        "the open operator stream is not counted",
    )
    .await;
    let text = scrape(&s).await;
    assert_eq!(
        value(&text, r#"livequeue_connections{transport="sse"}"#),
        Some(0.0),
        "the operator stream counts as a shopper's"
    );
    drop(operator);
    assert_settles(
        &s,
        "livequeue_operator_streams",
        0.0,
        "a closed operator stream is still counted",
    )
    .await;
}

#[tokio::test]
async fn an_admission_by_the_operator_counts_as_by_operator() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    for _ in 0..3 {
        s.join("drop").await;
    }
    s.admit("drop", 2).await;
    let text = scrape(&s).await;
    assert_eq!(
        value(&text, r#"livequeue_admissions_total{by="operator"}"#),
        Some(2.0),
        "the operator's two admissions"
    );
    assert_eq!(
        value(&text, r#"livequeue_admissions_total{by="rate"}"#),
        Some(0.0),
        "an experience at rate 0 admitted by the rate"
    );
}

#[tokio::test]
async fn admissions_at_the_rate_count_as_by_rate() {
    let mut config = common::config();
    config.engine.tick = Duration::from_millis(50);
    let s = TestServer::with_config(config).await;
    let r = s
        .admin(reqwest::Method::POST, Endpoint::CreateExperience.route())
        .json(&CreateExperience {
            id: "drop".into(),
            name: "Drop".into(),
            stock: 10,
            admission_rate_per_minute: 6000.0,
            checkout_url: "https://shop.example/checkout".into(),
            grant_ttl_seconds: None,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    s.join("drop").await;
    s.join("drop").await;
    assert_settles(
        &s,
        r#"livequeue_admissions_total{by="rate"}"#,
        2.0,
        "both shoppers admitted by the rate",
    )
    .await;
}

#[tokio::test]
async fn each_join_counts_once() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    s.join("drop").await;
    s.join("drop").await;
    assert_eq!(value(&scrape(&s).await, "livequeue_joins_total"), Some(2.0));
}

#[tokio::test]
async fn a_poll_answered_304_counts_as_304() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let path = format!(
        "/api/queue/drop?consumerId={}&token={}",
        me.consumer_id, me.token
    );
    let first = s.http.get(s.url(&path)).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let tag = first.headers()["etag"].clone();
    let again = s
        .http
        .get(s.url(&path))
        .header("if-none-match", tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "the unchanged state was sent again");
    let text = scrape(&s).await;
    assert_eq!(
        value(&text, r#"livequeue_polls_total{answer="304"}"#),
        Some(1.0),
        "the 304 answer"
    );
    assert_eq!(
        value(&text, r#"livequeue_polls_total{answer="200"}"#),
        Some(1.0),
        "the first poll's 200"
    );
}

#[tokio::test]
async fn a_redemption_counts_once_and_a_refused_one_not_at_all() {
    let s = TestServer::start().await;
    let me = admitted_shopper(&s).await;
    let grant = s
        .state("drop", &me)
        .await
        .admission
        .expect("admitted")
        .grant;
    for _ in 0..2 {
        s.http
            .post(s.url("/api/experiences/drop/redeem"))
            .json(&serde_json::json!({ "grant": grant }))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        value(&scrape(&s).await, "livequeue_redemptions_total"),
        Some(1.0),
        "one redemption (the second was refused)"
    );
}

#[tokio::test]
async fn a_grant_given_up_counts_as_expired() {
    let s = TestServer::start().await;
    let me = admitted_shopper(&s).await;
    let r = s
        .shopper(Endpoint::Leave, "drop", &me)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        value(&scrape(&s).await, "livequeue_grants_expired_total"),
        Some(1.0),
        "the grant given up on leaving"
    );
}

#[tokio::test]
async fn a_websocket_counts_its_first_state_and_a_refresh_as_snapshots() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let mut ws = ws_connect(&s, &me).await;
    ws_text(&mut ws).await;
    let refresh = serde_json::to_string(&WsClientMessage::Refresh).unwrap();
    ws.send(Message::Text(refresh.into())).await.unwrap();
    ws_text(&mut ws).await;
    let text = scrape(&s).await;
    for (series, want) in [
        (
            r#"livequeue_snapshots_sent_total{transport="websocket"}"#,
            2.0,
        ),
        (
            r#"livequeue_messages_sent_total{transport="websocket"}"#,
            2.0,
        ),
        (r#"livequeue_resyncs_total{reason="refresh"}"#, 1.0),
    ] {
        assert_eq!(value(&text, series), Some(want), "{series}");
    }
}

#[tokio::test]
async fn an_sse_resume_from_another_epoch_counts_as_a_stale_cursor_resync() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let mut sse = s.sse("drop", &me, Some("1:5")).await;
    let first = sse.next().await;
    assert_eq!(
        first.event, "snapshot",
        "an old epoch's cursor is not replayed"
    );
    let text = scrape(&s).await;
    assert_eq!(
        value(&text, r#"livequeue_resyncs_total{reason="stale_cursor"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(&text, r#"livequeue_snapshots_sent_total{transport="sse"}"#),
        Some(1.0)
    );
}

#[tokio::test]
async fn sse_heartbeats_are_counted_apart_from_messages() {
    let s = quick_server().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let mut sse = s.sse("drop", &me, None).await;
    sse.next().await;
    while sse.next_any().await.event != "heartbeat" {}
    let text = scrape(&s).await;
    let heartbeats = value(&text, r#"livequeue_heartbeats_sent_total{transport="sse"}"#);
    assert!(
        heartbeats.is_some_and(|n| n >= 1.0),
        "a heartbeat was read but not counted: {heartbeats:?}"
    );
    assert_eq!(
        value(&text, r#"livequeue_messages_sent_total{transport="sse"}"#),
        Some(1.0),
        "only the first state is a message; heartbeats are not"
    );
}

#[tokio::test]
async fn healthz_answers_ok() {
    let s = TestServer::start().await;
    let r = s
        .http
        .get(s.url(Endpoint::Health.route()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readyz_answers_ready_while_serving() {
    let s = TestServer::start().await;
    let r = s
        .http
        .get(s.url(Endpoint::Ready.route()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "ready": true }));
}

/// A server that drains for a minute after its shutdown signal, and the sender of that
/// signal. It is never waited for: the test's runtime ends it.
async fn draining_server() -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(Config {
        shutdown_drain: Duration::from_secs(60),
        ..common::config()
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async move {
        // A dropped sender also stops the server.
        let _ = stopped.await;
    }));
    (base, stop)
}

/// `GET path` once it answers `status`, or its last answer within five seconds (the signal
/// reaches the server's task a moment after it is sent).
async fn answer_once(base: &str, path: &str, status: StatusCode) -> reqwest::Response {
    let http = reqwest::Client::new();
    let mut last = None;
    for _ in 0..100 {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        if r.status() == status {
            return r;
        }
        last = Some(r);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    last.expect("at least one answer")
}

#[tokio::test]
async fn readyz_answers_503_unavailable_once_the_shutdown_signal_came() {
    let (base, stop) = draining_server().await;
    let ready = answer_once(&base, Endpoint::Ready.route(), StatusCode::OK).await;
    assert_eq!(ready.status(), 200, "not ready before the signal");
    stop.send(()).unwrap();
    let r = answer_once(
        &base,
        Endpoint::Ready.route(),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(r.status(), 503, "still ready after the shutdown signal");
    let body: ErrorBody = r.json().await.unwrap();
    assert_eq!(body.error.code, ErrorCode::Unavailable);
    assert_eq!(body.error.message, "the server is shutting down");
}

#[tokio::test]
async fn healthz_stays_ok_while_draining() {
    let (base, stop) = draining_server().await;
    stop.send(()).unwrap();
    answer_once(
        &base,
        Endpoint::Ready.route(),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{base}{}", Endpoint::Health.route()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "a draining node must not look dead (it would be restarted)"
    );
}

#[tokio::test]
async fn a_connection_that_falls_behind_the_fanout_counts_as_a_lagged_resync() {
    use livequeue_server::conn::{Feed, Outgoing};
    use livequeue_server::engine::Push;
    use livequeue_server::engine::experience::FANOUT_CAPACITY;
    use livequeue_server::engine::fanout::Raw;
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let engine = &s.state.engine;
    let (consumer, _) = engine.join("drop").await.unwrap();
    let (_, sub) = engine
        .subscribe("drop", &consumer, Push::Sse, None)
        .await
        .unwrap();
    let mut feed = Feed::new(sub);
    for _ in 0..=FANOUT_CAPACITY {
        let raw = Raw {
            sse: "data: x\n\n".into(),
            ws: "x".into(),
        };
        engine.inject("drop", raw).await.unwrap();
    }
    assert!(
        matches!(feed.next().await, Outgoing::Resync(_)),
        "a connection past the channel's capacity is not resynced"
    );
    assert_eq!(
        engine
            .counters()
            .resyncs
            .get(livequeue_server::metrics::Resync::Lagged)
            .get(),
        1
    );
}
