//! The connection layer in a real browser against real servers (started by
//! `cargo xtask test`, see `xtask/src/browser.rs`): each transport delivers, fallbacks
//! happen when the server refuses a transport, a real server restart is survived, permanent
//! refusals stop retries, hostile input is counted and ignored, and reconnects leak nothing.

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use livequeue::config::Timings;
use livequeue::feed::{QueueFeed, use_queue_feed};
use livequeue::session::{self, Credentials};
use livequeue::transport::ws::WsOptions;
use livequeue::{WidgetConfig, resources};
use livequeue_protocol::backoff::BackoffPolicy;
use livequeue_protocol::polling::PollPolicy;
use livequeue_protocol::supervisor::{ConnectionStatus, TransportKind};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

mod common;

use common::{Method, admin_call, api, api_no_ws, api_poll_only, control, sleep};

/// How long a feed may take to get where a test expects it: retries and fallbacks included.
const DEADLINE_MS: f64 = 20_000.0;

async fn eventually<T, Fut: Future<Output = Option<T>>>(what: &str, probe: impl Fn() -> Fut) -> T {
    common::eventually(DEADLINE_MS, what, probe).await
}

/// Short timings, so that retries and polls happen within a test's patience.
fn fast(experience: &str, api: &str, transports: &[TransportKind]) -> WidgetConfig {
    session::clear(experience);
    WidgetConfig {
        transports: transports.to_vec(),
        timings: Timings {
            backoff: BackoffPolicy {
                base_ms: 200,
                cap_ms: 2_000,
                max_attempts: 12,
            },
            poll: PollPolicy {
                min_ms: 300,
                max_ms: 2_000,
                multiplier: 1.5,
            },
            ws: WsOptions {
                ping_every: Duration::from_secs(5),
                grace: Duration::from_secs(3),
            },
            ..Timings::default()
        },
        ..WidgetConfig::new(experience, api)
    }
}

/// Mounts a component that runs the feed; dropping the handle unmounts it (and must
/// release everything the feed holds).
fn start(config: WidgetConfig) -> (QueueFeed, impl Sized) {
    let slot = Rc::new(RefCell::new(None));
    let keep = Rc::clone(&slot);
    let handle = leptos::mount::mount_to(common::fresh_container(), move || {
        keep.borrow_mut().replace(use_queue_feed(config));
        view! { <span></span> }
    });
    let feed = slot.borrow_mut().take().expect("the feed started");
    (feed, handle)
}

async fn live_on(feed: &QueueFeed, kind: TransportKind) {
    let wanted = if kind == TransportKind::Poll {
        ConnectionStatus::Polling
    } else {
        ConnectionStatus::Live
    };
    eventually(&format!("{wanted} on {kind}"), || async {
        let ok = feed.status.get_untracked() == wanted
            && feed.transport.get_untracked() == Some(kind)
            && feed.state.get_untracked().is_some();
        ok.then_some(())
    })
    .await;
}

async fn post(url: String, body: serde_json::Value) -> u16 {
    admin_call(Method::Post, &url, body).await
}

#[wasm_bindgen_test]
async fn each_transport_delivers_live_updates() {
    for kind in [
        TransportKind::WebSocket,
        TransportKind::Sse,
        TransportKind::Poll,
    ] {
        let (feed, _mounted) = start(fast("demo-drop", api(), &[kind]));
        live_on(&feed, kind).await;
        let first = feed.state.get_untracked().and_then(|s| s.position);
        // The demo admits two shoppers a second: the position must move.
        eventually(&format!("a new position over {kind}"), || async {
            let now = feed.state.get_untracked().and_then(|s| s.position);
            (now.is_some() && now != first).then_some(())
        })
        .await;
        assert!(
            feed.diagnostics.get_untracked().messages >= 2,
            "{kind} delivered one message only"
        );
    }
}

#[wasm_bindgen_test]
async fn with_websocket_refused_the_feed_runs_on_sse() {
    refuse_on_no_ws_server(&["ws"]).await;
    let (feed, _mounted) = start(fast(
        "demo-drop",
        api_no_ws(),
        &livequeue::config::DEFAULT_TRANSPORTS,
    ));
    live_on(&feed, TransportKind::Sse).await;
}

#[wasm_bindgen_test]
async fn with_push_refused_the_feed_polls_with_if_none_match() {
    // A drop where nothing happens, so that polls find the state unchanged.
    let id = common::quiet_experience(api_poll_only(), "still", 5).await;
    let (feed, _mounted) = start(fast(
        &id,
        api_poll_only(),
        &livequeue::config::DEFAULT_TRANSPORTS,
    ));
    live_on(&feed, TransportKind::Poll).await;
    eventually("a 304 answer to a conditional poll", || async {
        (feed.diagnostics.get_untracked().not_modified >= 1).then_some(())
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_server_restart_is_survived_and_resynced_to_the_new_epoch() {
    let (feed, _mounted) = start(fast("demo-drop", api(), &[TransportKind::WebSocket]));
    live_on(&feed, TransportKind::WebSocket).await;
    let before = feed.state.get_untracked().unwrap().cursor.epoch;
    let restart = gloo_net::http::Request::post(&format!("{}/restart", control()))
        .send()
        .await;
    assert!(
        restart.is_ok_and(|r| r.ok()),
        "the control endpoint restarts the server"
    );
    eventually("Reconnecting while the server is down", || async {
        (feed.status.get_untracked() != ConnectionStatus::Live).then_some(())
    })
    .await;
    eventually("Live again in the new epoch", || async {
        let epoch = feed
            .state
            .get_untracked()
            .map(|s| s.cursor.epoch)
            .unwrap_or(0);
        (feed.status.get_untracked() == ConnectionStatus::Live && epoch > before).then_some(())
    })
    .await;
}

#[wasm_bindgen_test]
async fn close_code_4000_stops_retrying() {
    let mut config = fast("demo-drop", api(), &[TransportKind::WebSocket]);
    // No token: the server closes with 4000 "Missing required parameters".
    config.identity = Some(Credentials {
        consumer_id: "c_0000000000000000".into(),
        token: String::new(),
    });
    let (feed, _mounted) = start(config);
    eventually("Failed after 4000", || async {
        (feed.status.get_untracked() == ConnectionStatus::Failed).then_some(())
    })
    .await;
    let opens = feed.diagnostics.get_untracked().opens;
    sleep(1_500).await;
    assert_eq!(
        feed.diagnostics.get_untracked().opens,
        opens,
        "a permanent close must not be retried"
    );
    assert!(
        feed.problem.get_untracked().is_some(),
        "the shopper is told"
    );
}

#[wasm_bindgen_test]
async fn a_malformed_message_is_counted_and_ignored() {
    for kind in [TransportKind::WebSocket, TransportKind::Sse] {
        let (feed, _mounted) = start(fast("demo-drop", api(), &[kind]));
        live_on(&feed, kind).await;
        for (event, data) in [
            ("stock_update", "{oops"),
            ("stock_update", r#"{"available":"lots"}"#),
            ("mystery", "{}"),
        ] {
            let status = post(
                format!("{}/api/admin/experiences/demo-drop/inject", api()),
                serde_json::json!({"event": event, "data": data}),
            )
            .await;
            assert_eq!(status, 204);
        }
        // An EventSource hands a page only the event names it listens to: the unknown one
        // never reaches SSE code, so two of the three count there.
        let expected = if kind == TransportKind::Sse { 2 } else { 3 };
        eventually(
            &format!("{expected} malformed messages counted on {kind}"),
            || async { (feed.diagnostics.get_untracked().malformed >= expected).then_some(()) },
        )
        .await;
        assert_eq!(
            feed.status.get_untracked(),
            ConnectionStatus::Live,
            "bad input does not break the feed"
        );
        assert!(feed.state.get_untracked().is_some(), "the state survives");
    }
}

#[wasm_bindgen_test]
async fn reconnecting_many_times_leaks_no_listener_timer_or_socket() {
    let baseline = resources::snapshot();
    {
        let (feed, _mounted) = start(fast("demo-drop", api(), &[TransportKind::WebSocket]));
        live_on(&feed, TransportKind::WebSocket).await;
        sleep(300).await;
        let live = resources::snapshot();
        for round in 0..25 {
            let opens = feed.diagnostics.get_untracked().opens;
            feed.reconnect();
            eventually(&format!("reconnect {round}"), || async {
                let d = feed.diagnostics.get_untracked();
                (d.opens > opens && feed.status.get_untracked() == ConnectionStatus::Live)
                    .then_some(())
            })
            .await;
        }
        sleep(300).await;
        let (c, l, t, _) = resources::snapshot();
        assert_eq!(
            (c, l, t),
            (live.0, live.1, live.2),
            "connections, listeners, timers after 25 reconnects"
        );
    }
    sleep(300).await;
    let (c, l, t, f) = resources::snapshot();
    assert_eq!(
        (c, l, t, f),
        baseline,
        "unmounting releases everything the feed held"
    );
}

#[wasm_bindgen_test]
async fn refused_saved_credentials_are_replaced_by_a_new_place_even_over_sse() {
    let config = fast("demo-drop", api(), &[TransportKind::Sse]);
    // What a tab holds after the server's secret changed: a token no longer accepted.
    let stale = Credentials {
        consumer_id: "c_00000000000000ff".into(),
        token: "stale.token".into(),
    };
    session::save("demo-drop", &stale);
    let (feed, _mounted) = start(config);
    live_on(&feed, TransportKind::Sse).await;
    let now = session::load("demo-drop").expect("new credentials are saved");
    assert_ne!(
        now.consumer_id, stale.consumer_id,
        "the refused identity was replaced"
    );
    assert_eq!(
        feed.state.get_untracked().map(|s| s.consumer_id),
        Some(now.consumer_id)
    );
}

async fn refuse_on_no_ws_server(refuse: &[&str]) {
    let status = admin_call(
        Method::Put,
        &format!("{}/api/admin/transports", api_no_ws()),
        serde_json::json!({ "refuse": refuse }),
    )
    .await;
    assert_eq!(status, 204, "switching the server's transports");
}

#[wasm_bindgen_test]
async fn on_a_fallback_the_feed_returns_to_websocket_once_it_works_again() {
    refuse_on_no_ws_server(&["ws"]).await;
    let mut config = fast(
        "demo-drop",
        api_no_ws(),
        &livequeue::config::DEFAULT_TRANSPORTS,
    );
    config.timings.upgrade_every = Duration::from_secs(1);
    let (feed, _mounted) = start(config);
    live_on(&feed, TransportKind::Sse).await;
    let messages = feed.diagnostics.get_untracked().messages;
    refuse_on_no_ws_server(&[]).await;
    live_on(&feed, TransportKind::WebSocket).await;
    eventually("updates over the upgraded socket", || async {
        (feed.diagnostics.get_untracked().messages > messages + 1).then_some(())
    })
    .await;
    refuse_on_no_ws_server(&["ws"]).await;
}
