//! Benchmarks of the connection layer in a real browser (not a test: it asserts nothing about
//! speed). Ignored by a plain test run; `cargo xtask bench-widget` starts the servers and runs
//! it with `--include-ignored`, printing the figures:
//!
//! - publish → signal: from just before an operator's `PATCH` is sent to the moment the
//!   feed's state signal holds the new stock, per transport (median and p99);
//! - the page's memory (JS heap and wasm linear memory) after 10 and after 1,000 forced
//!   reconnects.

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use livequeue::WidgetConfig;
use livequeue::feed::{QueueFeed, use_queue_feed};
use livequeue::session;
use livequeue_protocol::supervisor::{ConnectionStatus, TransportKind};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const PUBLISHES: usize = 60;

mod common;

use common::{Method, api, sleep};

async fn admin_call(method: Method, path: &str, body: serde_json::Value) -> u16 {
    common::admin_call(method, &format!("{}{path}", api()), body).await
}

/// Mounts a feed and a probe effect that records when the stock reaches a target.
fn start(config: WidgetConfig, seen: Rc<RefCell<Option<(u64, f64)>>>) -> (QueueFeed, impl Sized) {
    let slot = Rc::new(RefCell::new(None));
    let keep = Rc::clone(&slot);
    let handle = leptos::mount::mount_to(common::fresh_container(), move || {
        let feed = use_queue_feed(config);
        let seen = send_wrapper::SendWrapper::new(seen);
        Effect::new(move |_| {
            if let Some(total) = feed.state.with(|s| s.as_ref().map(|s| s.stock.total)) {
                seen.borrow_mut().replace((total, js_sys::Date::now()));
            }
        });
        keep.borrow_mut().replace(feed);
        view! { <span></span> }
    });
    let feed = slot.borrow_mut().take().unwrap();
    (feed, handle)
}

async fn until(what: &str, probe: impl Fn() -> bool) {
    common::eventually(30_000.0, what, || async { probe().then_some(()) }).await;
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn memory() -> (f64, f64) {
    // `performance.memory` is Chromium's, outside web-sys: read it by reflection.
    let get =
        |target: &wasm_bindgen::JsValue, key: &str| js_sys::Reflect::get(target, &key.into()).ok();
    let heap = get(&js_sys::global(), "performance")
        .and_then(|p| get(&p, "memory"))
        .and_then(|m| get(&m, "usedJSHeapSize"))
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let wasm = wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as f64;
    (heap, wasm)
}

#[wasm_bindgen_test]
#[ignore = "a benchmark, not a test: `cargo xtask bench-widget` runs it with --include-ignored"]
async fn bench_publish_to_signal_and_memory_after_reconnects() {
    let id = common::quiet_experience(api(), "bench", 1000).await;
    let mut total = 1000u64;
    for kind in [
        TransportKind::WebSocket,
        TransportKind::Sse,
        TransportKind::Poll,
    ] {
        session::clear(&id);
        let seen = Rc::new(RefCell::new(None));
        let mut config = WidgetConfig::new(id.clone(), api());
        config.transports = vec![kind];
        let (feed, _mounted) = start(config, Rc::clone(&seen));
        let ready = if kind == TransportKind::Poll {
            ConnectionStatus::Polling
        } else {
            ConnectionStatus::Live
        };
        until("live", || feed.status.get_untracked() == ready).await;
        sleep(500).await;
        let mut latencies = Vec::new();
        let publishes = if kind == TransportKind::Poll {
            10
        } else {
            PUBLISHES
        };
        for _ in 0..publishes {
            total += 1;
            let sent = js_sys::Date::now();
            let status = admin_call(
                Method::Patch,
                &format!("/api/admin/experiences/{id}"),
                serde_json::json!({"stock": total}),
            )
            .await;
            assert_eq!(status, 200);
            let target = total;
            until("the new stock in the signal", || {
                seen.borrow().is_some_and(|(t, _)| t == target)
            })
            .await;
            let at = seen.borrow().map(|(_, at)| at).unwrap();
            latencies.push(at - sent);
            sleep(if kind == TransportKind::Poll { 200 } else { 50 }).await;
        }
        latencies.sort_by(f64::total_cmp);
        console_log!(
            "BENCH publish->signal {kind}: n={} median={:.1} ms p99={:.1} ms",
            latencies.len(),
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99)
        );
    }

    session::clear(&id);
    let seen = Rc::new(RefCell::new(None));
    let mut config = WidgetConfig::new(id.clone(), api());
    config.transports = vec![TransportKind::WebSocket];
    let (feed, _mounted) = start(config, seen);
    let mut done = 0;
    for target in [10, 1000] {
        while done < target {
            let opens = feed.diagnostics.get_untracked().opens;
            feed.reconnect();
            until("reconnected", || {
                feed.diagnostics.get_untracked().opens > opens
                    && feed.status.get_untracked() == ConnectionStatus::Live
            })
            .await;
            done += 1;
        }
        sleep(1000).await;
        let (heap, wasm) = memory();
        let (c, l, t, f) = livequeue::resources::snapshot();
        console_log!(
            "BENCH after {done} reconnects: JS heap {:.0} KB, wasm memory {:.0} KB, live: {c} conn, {l} listeners, {t} timers, {f} frames",
            heap / 1024.0,
            wasm / 1024.0
        );
    }
}
