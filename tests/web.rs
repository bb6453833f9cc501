//! The widget in a real browser against the real server.
//!
//! `cargo xtask test` starts `livequeue-server --demo` on a free port and compiles these tests
//! with its base URL in `LIVEQUEUE_TEST_API`; the browser page of the test runner has its own
//! origin, so the server runs with `LIVEQUEUE_ALLOWED_ORIGINS='*'`. Each test mounts the
//! widget into a fresh element and polls the DOM until what it expects shows up or a
//! deadline passes: nothing here waits a fixed time and then hopes.

#![cfg(target_arch = "wasm32")]

use std::future::Future;

use livequeue::{WidgetConfig, session};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

mod common;

use common::{api, mount_widget, text_of};

/// How long the widget may take to join and connect: generous, since the server, the
/// browser and the compiler may share two cores.
const DEADLINE_MS: f64 = 10_000.0;

fn demo_config() -> WidgetConfig {
    WidgetConfig::new("demo-drop", api())
}

/// Polls `probe` until it returns `Some`, or fails the test naming `what` after the deadline.
async fn eventually<T, F, Fut>(what: &str, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    common::eventually(DEADLINE_MS, what, probe).await
}

/// The place in line shown as the big number, once it is one.
async fn shown_position(root: &HtmlElement) -> u64 {
    eventually("the position number", || async move {
        let text = text_of(root, ".lq-position-value")?;
        text.replace(',', "").parse::<u64>().ok()
    })
    .await
}

async fn shown_live(root: &HtmlElement) {
    eventually("the Live indicator", || async move {
        let status = root.query_selector(".lq-connection").ok()??;
        (status.get_attribute("data-status")? == "live").then_some(())
    })
    .await;
    assert_eq!(
        text_of(root, ".lq-connection-label").as_deref(),
        Some("Live"),
        "the live indicator says so in words"
    );
}

#[wasm_bindgen_test]
async fn the_position_appears_and_the_stream_goes_live() {
    let (root, _mounted) = mount_widget(demo_config());
    let position = shown_position(&root).await;
    assert!(position >= 1, "positions are 1-based, got {position}");
    shown_live(&root).await;
}

#[wasm_bindgen_test]
async fn joining_shows_the_demo_drop_experience() {
    session::clear("demo-drop");
    let (root, _mounted) = mount_widget(demo_config());
    let root = &root;
    eventually("the widget to show experience demo-drop", || async move {
        let main = root.query_selector("main.lq-widget").ok()??;
        (main.get_attribute("data-experience-id")? == "demo-drop").then_some(())
    })
    .await;
    let saved = session::load("demo-drop").expect("the join's credentials are kept for reloads");
    assert!(!saved.consumer_id.is_empty() && !saved.token.is_empty());
    let title = text_of(root, ".lq-title").unwrap_or_default();
    assert!(
        !title.is_empty() && title != "Joining the queue…",
        "the experience's name replaces the placeholder, got {title:?}"
    );
    assert!(
        text_of(root, ".lq-stage").is_some(),
        "the stage badge is shown"
    );
    shown_live(root).await;
}

#[wasm_bindgen_test]
async fn a_remount_keeps_the_place_instead_of_joining_again() {
    let first = {
        let (root, _mounted) = mount_widget(demo_config());
        shown_live(&root).await;
        session::load("demo-drop").expect("credentials saved after the first mount")
        // `_mounted` drops here: the widget unmounts and closes its stream, as a reload would.
    };
    let (root, _mounted) = mount_widget(demo_config());
    shown_live(&root).await;
    assert_eq!(
        session::load("demo-drop"),
        Some(first),
        "the second mount reuses the saved place instead of joining again"
    );
}

#[wasm_bindgen_test]
async fn an_unknown_experience_is_explained_to_the_shopper() {
    let (root, _mounted) = mount_widget(WidgetConfig::new("no-such-drop", api()));
    let root = &root;
    let problem = eventually("the problem notice", || async move {
        text_of(root, ".lq-problem")
    })
    .await;
    assert!(
        problem.contains("doesn't exist"),
        "a 404 on join reads as a missing queue, got {problem:?}"
    );
}

#[wasm_bindgen_test]
async fn the_try_again_button_starts_the_connection_again() {
    // A consumer id without a token: the server refuses for good (4000), the feed gives up.
    session::clear("demo-drop");
    let config = WidgetConfig {
        identity: Some(livequeue::session::Credentials {
            consumer_id: "nobody".into(),
            token: String::new(),
        }),
        debug: true,
        ..demo_config()
    };
    let (root, _mounted) = mount_widget(config);
    let root = &root;
    let opens = || text_of(root, ".lq-debug dd:nth-of-type(4)").and_then(|t| t.parse::<u32>().ok());
    let retry = eventually("the Try again button", || async move {
        root.query_selector(".lq-retry:not([hidden])")
            .ok()
            .flatten()
    })
    .await;
    let before = eventually("the opens counter", || async move { opens() }).await;
    retry
        .dyn_ref::<HtmlElement>()
        .expect("the retry control is an element")
        .click();
    eventually("a new attempt after the click", || async move {
        opens().filter(|n| *n > before)
    })
    .await;
}
