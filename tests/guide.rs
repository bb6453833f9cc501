//! The widget against a server written the way the guide writes one
//! (`crates/server/examples/guide_server.rs`, started by `cargo xtask test` as
//! `LIVEQUEUE_TEST_GUIDE_API`): no tokens, no cursors, loose payloads, comment heartbeats,
//! a join of its own. Integrators point the widget at servers like this; each test is one
//! thing such a server does that the widget must read as the server means it.

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use livequeue::WidgetConfig;
use livequeue::config::Timings;
use livequeue::feed::{QueueFeed, use_queue_feed};
use livequeue::session::{self, Credentials};
use livequeue_protocol::supervisor::{ConnectionStatus, TransportKind};
use serde_json::{Value, json};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

mod common;

use common::{eventually, fresh_container, guide, mount_widget, sleep, text_of};

const DEADLINE_MS: f64 = 15_000.0;

/// A widget configuration for `experience` on the guide server, as a shop embedding the
/// widget beside such a server would write it: `?consumerId=` and no token.
fn config(experience: &str, consumer: &str, transport: TransportKind) -> WidgetConfig {
    session::clear(experience);
    WidgetConfig {
        identity: Some(Credentials {
            consumer_id: consumer.to_owned(),
            token: String::new(),
        }),
        transports: vec![transport],
        timings: Timings {
            // Short, so a widget that took comment heartbeats for silence would reconnect
            // within the test.
            sse_silence: Duration::from_secs(3),
            ..Timings::default()
        },
        ..WidgetConfig::new(experience, guide())
    }
}

/// Sets what the guide server's `getQueueState` returns for the shopper.
async fn set_state(experience: &str, consumer: &str, state: Value) {
    let url = format!("{}/control/state/{experience}/{consumer}", guide());
    control(gloo_net::http::Request::put(&url), state).await;
}

/// Publishes an update the way the guide's `publishQueueUpdate` does.
async fn publish(experience: &str, update: Value) {
    let url = format!("{}/control/publish/{experience}", guide());
    control(gloo_net::http::Request::post(&url), update).await;
}

async fn control(request: gloo_net::http::RequestBuilder, body: Value) {
    let response = request
        .json(&body)
        .unwrap()
        .send()
        .await
        .expect("the guide server answers");
    assert_eq!(
        response.status(),
        204,
        "the guide server's test control failed"
    );
}

/// Runs only the feed (no view), to read its status and counters.
fn start_feed(config: WidgetConfig) -> (QueueFeed, impl Sized) {
    let slot = Rc::new(RefCell::new(None));
    let keep = Rc::clone(&slot);
    let handle = leptos::mount::mount_to(fresh_container(), move || {
        keep.borrow_mut().replace(use_queue_feed(config));
        view! { <span></span> }
    });
    let feed = slot.borrow_mut().take().expect("the feed started");
    (feed, handle)
}

/// Waits until the element `selector` has text for which `ok` holds; returns that text.
async fn text_when(root: &HtmlElement, selector: &str, ok: impl Fn(&str) -> bool) -> String {
    eventually(
        DEADLINE_MS,
        &format!("{selector} to read as expected"),
        || async { text_of(root, selector).filter(|t| ok(t)) },
    )
    .await
}

#[wasm_bindgen_test]
async fn an_admission_with_the_guides_own_fields_shows_the_turn_with_its_countdown() {
    let (exp, consumer) = ("guide-admission", "c-admission");
    set_state(exp, consumer, json!({"position": 1, "estimatedWait": 10})).await;
    for transport in [TransportKind::Sse, TransportKind::WebSocket] {
        let (root, _widget) = mount_widget(config(exp, consumer, transport));
        text_when(&root, ".lq-position-value", |t| t == "You're next").await;
        let expires = js_sys::Date::new(&(js_sys::Date::now() + 90_000.0).into())
            .to_iso_string()
            .as_string()
            .unwrap();
        publish(
            exp,
            json!({
                "type": "admission",
                "consumerId": consumer,
                "data": {"admissionToken": "tok-1", "expiresAt": expires}
            }),
        )
        .await;
        text_when(&root, ".lq-admission-title", |t| t.contains("your turn")).await;
        let countdown = text_when(&root, ".lq-countdown-value", |t| !t.is_empty()).await;
        assert!(
            countdown.starts_with("1:") || countdown.starts_with("0:"),
            "{transport}: 90 s from an ISO-8601 expiry with no serverTime reads {countdown}"
        );
    }
}

#[wasm_bindgen_test]
async fn a_polled_admitted_stage_with_position_zero_is_the_turn_not_place_zero() {
    let (exp, consumer) = ("guide-poll-admitted", "c-poll");
    set_state(exp, consumer, json!({"position": 0, "stage": "admitted"})).await;
    let (root, _widget) = mount_widget(config(exp, consumer, TransportKind::Poll));
    text_when(&root, ".lq-admission-title", |t| t.contains("your turn")).await;
    assert_eq!(
        text_of(&root, ".lq-position-value"),
        None,
        "no place-in-line number beside the turn"
    );
    assert!(
        root.query_selector("[data-stage=admitted]")
            .unwrap()
            .is_some(),
        "the server's stage wins"
    );
}

#[wasm_bindgen_test]
async fn a_state_with_a_null_stage_is_shown_not_thrown_away() {
    let (exp, consumer) = ("guide-null-stage", "c-null");
    set_state(
        exp,
        consumer,
        json!({"position": 7, "estimatedWait": 60, "stage": null, "experience": {"name": ""}}),
    )
    .await;
    let (root, _widget) = mount_widget(config(exp, consumer, TransportKind::Sse));
    text_when(&root, ".lq-position-value", |t| t == "7").await;
    let title = text_when(&root, ".lq-title", |t| !t.is_empty()).await;
    assert_eq!(
        title, "Your place in line",
        "an empty name leaves the default title"
    );
}

#[wasm_bindgen_test]
async fn a_position_update_without_a_wait_keeps_the_known_wait() {
    let (exp, consumer) = ("guide-wait", "c-wait");
    set_state(exp, consumer, json!({"position": 30, "estimatedWait": 600})).await;
    let (root, _widget) = mount_widget(config(exp, consumer, TransportKind::Sse));
    text_when(&root, ".lq-position-value", |t| t == "30").await;
    let wait = text_of(&root, ".lq-wait").unwrap();
    publish(
        exp,
        json!({"type": "position_update", "consumerId": consumer, "data": {"position": 29}}),
    )
    .await;
    text_when(&root, ".lq-position-value", |t| t == "29").await;
    assert_eq!(
        text_of(&root, ".lq-wait").unwrap(),
        wait,
        "the wait was erased by an update that did not mention it"
    );
}

#[wasm_bindgen_test]
async fn a_quiet_stream_with_comment_heartbeats_is_not_churned() {
    let (exp, consumer) = ("guide-quiet", "c-quiet");
    set_state(exp, consumer, json!({"position": 4})).await;
    let (feed, _running) = start_feed(config(exp, consumer, TransportKind::Sse));
    eventually(DEADLINE_MS, "live on SSE", || async {
        (feed.status.get_untracked() == ConnectionStatus::Live).then_some(())
    })
    .await;
    // Longer than the silence window and two of the widget's periodic checks.
    sleep(11_000).await;
    let diagnostics = feed.diagnostics.get_untracked();
    assert_eq!(
        diagnostics.opens, 1,
        "a healthy stream whose heartbeats are comments was reopened"
    );
    assert_eq!(feed.status.get_untracked(), ConnectionStatus::Live);
}

#[wasm_bindgen_test]
async fn joining_a_server_without_our_join_says_it_does_not_offer_joining() {
    let exp = "guide-join";
    session::clear(exp);
    let (root, _widget) = mount_widget(WidgetConfig::new(exp, guide()));
    let problem = text_when(&root, ".lq-problem", |t| !t.is_empty()).await;
    assert!(
        !problem.contains("doesn't exist"),
        "a server that does not offer joining is not a missing queue: {problem}"
    );
    assert!(
        problem.to_lowercase().contains("join"),
        "the sentence says joining is what failed: {problem}"
    );
}
