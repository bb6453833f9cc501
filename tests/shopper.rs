//! What the shopper sees and does, in a real browser against the real server: the moving
//! place, the honest odds, the turn with its countdown and "Need more time?", the optimistic
//! cart and its rollback, leaving the line, and one place for two tabs.
//!
//! Each test makes its own quiet experience (nothing is admitted unless the test says so),
//! so what it sees is what it did. `cargo xtask test` starts the server with turns of 75 s,
//! so the warning a minute before the end shows 15 s into a turn.

#![cfg(target_arch = "wasm32")]

use livequeue::components::animated_number::AnimatedNumber;
use livequeue::{WidgetConfig, session};
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

mod common;

use common::{Method, admin, admin_call, api, mount_widget, quiet_experience, sleep, text_of};

/// Generous: the server, the browser and the compiler may share two cores.
const DEADLINE_MS: f64 = 15_000.0;

async fn eventually<T, F, Fut>(what: &str, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    common::eventually(DEADLINE_MS, what, probe).await
}

/// A shopper joined over HTTP: `(consumerId, token)`.
async fn join(id: &str) -> (String, String) {
    let answer: Value =
        gloo_net::http::Request::post(&format!("{}/api/experiences/{id}/join", api()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    (
        answer["consumerId"].as_str().unwrap().to_owned(),
        answer["token"].as_str().unwrap().to_owned(),
    )
}

/// The state the polling endpoint answers for a shopper joined with [`join`].
async fn state_of(id: &str, (consumer, token): &(String, String)) -> Value {
    gloo_net::http::Request::get(&format!(
        "{}/api/queue/{id}?consumerId={consumer}&token={token}",
        api()
    ))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

/// The operator's view of the experience.
async fn summary(id: &str) -> Value {
    gloo_net::http::Request::get(&format!("{}/api/admin/experiences/{id}", api()))
        .header("Authorization", &format!("Bearer {}", admin()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn admit_one(id: &str) {
    let status = admin_call(
        Method::Post,
        &format!("{}/api/admin/experiences/{id}/admit", api()),
        json!({"count": 1}),
    )
    .await;
    assert_eq!(status, 200, "admitting one shopper of {id}");
}

/// Waits until the big number reads `place` (`"You're next"` at place 1).
async fn shows_place(root: &HtmlElement, place: &str) {
    let what = format!("the place to read {place}");
    eventually(&what, || async move {
        (text_of(root, ".lq-position-value")? == place).then_some(())
    })
    .await;
}

fn click(root: &HtmlElement, selector: &str) {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector} to click"))
        .dyn_into::<HtmlElement>()
        .unwrap()
        .click();
}

/// Clicks, then lets the page's effect run (microtasks): what the page shows right after,
/// before any answer of the network (a task, later) can have arrived.
async fn click_and_render(root: &HtmlElement, selector: &str) {
    click(root, selector);
    leptos::task::tick().await;
}

fn shown(root: &HtmlElement, selector: &str) -> bool {
    root.query_selector(selector)
        .ok()
        .flatten()
        .is_some_and(|e| !e.has_attribute("hidden"))
}

/// Seconds of a `m:ss` countdown.
fn seconds(countdown: &str) -> u64 {
    let (m, s) = countdown.split_once(':').unwrap();
    m.parse::<u64>().unwrap() * 60 + s.parse::<u64>().unwrap()
}

fn number(text: &str) -> u64 {
    text.replace(',', "").parse().unwrap()
}

#[wasm_bindgen_test]
async fn the_number_moves_in_the_next_frame_and_ends_exactly_on_its_target() {
    let element = common::fresh_container();
    let moving = AnimatedNumber::new(|| false);
    moving.show(element.clone().into(), 5_000);
    assert_eq!(
        element.text_content().as_deref(),
        Some("5,000"),
        "the first number is shown at once"
    );
    moving.show(element.clone().into(), 4_812);
    sleep(20).await;
    let first = number(&element.text_content().unwrap());
    assert!(
        (4_812..5_000).contains(&first),
        "one frame after the change the number already moved: {first}"
    );
    assert!(
        element.has_attribute("data-moving"),
        "highlighted while it moves"
    );
    sleep(1_000).await;
    assert_eq!(
        element.text_content().as_deref(),
        Some("4,812"),
        "exactly the target at the end"
    );
    assert!(
        !element.has_attribute("data-moving"),
        "the highlight ends with the move"
    );
    moving.show(element.clone().into(), 1);
    sleep(1_000).await;
    assert_eq!(element.text_content().as_deref(), Some("You're next"));
}

#[wasm_bindgen_test]
async fn under_reduced_motion_the_number_jumps() {
    let element = common::fresh_container();
    let moving = AnimatedNumber::new(|| true);
    moving.show(element.clone().into(), 300);
    moving.show(element.clone().into(), 120);
    assert_eq!(
        element.text_content().as_deref(),
        Some("120"),
        "no frames in between"
    );
    assert!(!element.has_attribute("data-moving"));
}

#[wasm_bindgen_test]
async fn the_odds_say_early_that_the_stock_may_not_reach_the_shopper_and_follow_it() {
    let id = quiet_experience(api(), "odds", 2).await;
    for _ in 0..3 {
        join(&id).await;
    }
    let (root, _mounted) = mount_widget(WidgetConfig::new(id.clone(), api()));
    let root = &root;
    let odds = eventually("the odds sentence", || async move {
        shown(root, ".lq-odds")
            .then(|| text_of(root, ".lq-odds"))
            .flatten()
    })
    .await;
    assert_eq!(odds, "3 people ahead of you, 2 left: you may not get one.");
    let restocked = admin_call(
        Method::Patch,
        &format!("{}/api/admin/experiences/{id}", api()),
        json!({"stock": 100}),
    )
    .await;
    assert_eq!(restocked, 200);
    eventually(
        "the odds to clear once the stock covers the line",
        || async move { (!shown(root, ".lq-odds")).then_some(()) },
    )
    .await;
    assert_eq!(
        text_of(root, ".lq-stock-count").as_deref(),
        Some("100 of 100 left")
    );
}

/// Mounts a widget for a new quiet experience and admits its shopper: the turn shows.
async fn admitted(prefix: &str) -> (String, HtmlElement, impl Sized) {
    let id = quiet_experience(api(), prefix, 10).await;
    let (root, mounted) = mount_widget(WidgetConfig::new(id.clone(), api()));
    {
        let root = &root;
        eventually("the place in line", || async move {
            text_of(root, ".lq-position-value").filter(|t| !t.is_empty())
        })
        .await;
    }
    admit_one(&id).await;
    {
        let root = &root;
        eventually("the turn", || async move {
            text_of(root, ".lq-countdown-value").filter(|t| t.contains(':'))
        })
        .await;
    }
    (id, root, mounted)
}

#[wasm_bindgen_test]
async fn a_minute_before_the_turn_ends_more_time_is_offered_once_and_given() {
    let (_id, root, _mounted) = admitted("extend").await;
    let root = &root;
    let alert = text_of(root, ".lq-alert").unwrap_or_default();
    assert!(
        alert.starts_with("It's your turn!"),
        "announced once, assertively: {alert}"
    );
    assert!(
        !shown(root, ".lq-extend"),
        "no warning with more than a minute left"
    );
    let before = common::eventually(
        30_000.0,
        "the warning a minute before the end",
        || async move {
            shown(root, ".lq-extend")
                .then(|| text_of(root, ".lq-countdown-value"))
                .flatten()
        },
    )
    .await;
    assert!(
        seconds(&before) <= 60,
        "the warning shows in the last minute: {before}"
    );
    assert!(shown(root, ".lq-hurry"));
    click(root, ".lq-extend");
    // Generous: every browser test runs at once in one page, on two shared cores.
    let after = common::eventually(30_000.0, "the later expiry", || async move {
        let note = text_of(root, ".lq-note").filter(|_| shown(root, ".lq-note"));
        assert!(note.is_none(), "extending was refused: {note:?}");
        text_of(root, ".lq-countdown-value").filter(|t| seconds(t) > 100)
    })
    .await;
    assert!(
        seconds(&after) >= seconds(&before) + 100,
        "two more minutes: {before} → {after}"
    );
    assert!(
        !shown(root, ".lq-extend"),
        "extended once: not offered again"
    );
    assert!(!shown(root, ".lq-hurry"), "no warning with minutes left");
}

#[wasm_bindgen_test]
async fn add_to_cart_shows_at_once_and_rolls_back_when_refused() {
    let (id, root, _mounted) = admitted("cart").await;
    let root = &root;
    click_and_render(root, ".lq-add").await;
    assert_eq!(
        text_of(root, ".lq-cart-count").as_deref(),
        Some("1 in your cart"),
        "optimistic: on screen before any answer"
    );
    eventually("the first unit confirmed", || async move {
        (text_of(root, ".lq-add")? == "Add another").then_some(())
    })
    .await;
    click_and_render(root, ".lq-add").await;
    assert_eq!(
        text_of(root, ".lq-cart-count").as_deref(),
        Some("2 in your cart")
    );
    eventually("the second unit confirmed", || async move {
        (text_of(root, ".lq-add")? == "Add another").then_some(())
    })
    .await;
    // A second tab (or a reload) shows the cart the server holds.
    let (other, _other) = mount_widget(WidgetConfig::new(id.clone(), api()));
    let other = &other;
    eventually("the cart in a second tab", || async move {
        (text_of(other, ".lq-cart-count")? == "2 in your cart").then_some(())
    })
    .await;
    // The server allows two units per turn: the third is refused and taken back.
    click_and_render(root, ".lq-add").await;
    assert_eq!(
        text_of(root, ".lq-cart-count").as_deref(),
        Some("3 in your cart")
    );
    let note = eventually("the refusal", || async move {
        shown(root, ".lq-note")
            .then(|| text_of(root, ".lq-note"))
            .flatten()
    })
    .await;
    assert!(note.starts_with("That's all you can add"), "{note}");
    assert_eq!(
        text_of(root, ".lq-cart-count").as_deref(),
        Some("2 in your cart"),
        "rolled back"
    );
    let stock = summary(&id).await["stock"]["available"].as_u64().unwrap();
    assert_eq!(
        stock, 8,
        "one unit held by the turn, one more reserved, none sold twice"
    );
}

#[wasm_bindgen_test]
async fn leaving_gives_the_place_up_and_the_line_moves_up() {
    let id = quiet_experience(api(), "leave", 10).await;
    join(&id).await;
    let (root, _mounted) = mount_widget(WidgetConfig::new(id.clone(), api()));
    let root = &root;
    shows_place(root, "2").await;
    let behind = join(&id).await;
    assert_eq!(state_of(&id, &behind).await["position"], 3);
    click(root, ".lq-leave");
    let offer = eventually("the offer to join again", || async move {
        text_of(root, ".lq-join-button").filter(|t| !t.is_empty())
    })
    .await;
    assert_eq!(offer, "Join again");
    assert!(session::load(&id).is_none(), "the place is forgotten");
    let behind = &behind;
    let id = &id;
    eventually("the shopper behind to move up", || async move {
        (state_of(id, behind).await["position"] == 2).then_some(())
    })
    .await;
    click(root, ".lq-join-button");
    shows_place(root, "3").await;
}

#[wasm_bindgen_test]
async fn two_tabs_keep_one_place() {
    let id = quiet_experience(api(), "tabs", 10).await;
    let (first, _one) = mount_widget(WidgetConfig::new(id.clone(), api()));
    let first = &first;
    shows_place(first, "You're next").await;
    let saved = session::load(&id).expect("the place is kept in localStorage");
    // A second widget of the same browser, as a second tab would be.
    let (second, _two) = mount_widget(WidgetConfig::new(id.clone(), api()));
    let second = &second;
    shows_place(second, "You're next").await;
    assert_eq!(session::load(&id), Some(saved), "the same shopper");
    assert_eq!(
        summary(&id).await["waiting"],
        1,
        "one place in line, not two"
    );
}

#[wasm_bindgen_test]
async fn a_visitor_of_the_page_joins_by_pressing_join() {
    let id = quiet_experience(api(), "click", 10).await;
    let config = WidgetConfig {
        join: livequeue::config::JoinMode::OnClick,
        ..WidgetConfig::new(id.clone(), api())
    };
    let (root, _mounted) = mount_widget(config);
    let root = &root;
    eventually("the Join button", || async move {
        text_of(root, ".lq-join-button").filter(|t| t == "Join the line")
    })
    .await;
    sleep(300).await;
    assert_eq!(
        summary(&id).await["waiting"],
        0,
        "nobody joined by opening the page"
    );
    click(root, ".lq-join-button");
    shows_place(root, "You're next").await;
}

#[wasm_bindgen_test]
async fn after_a_turn_ran_out_the_shopper_can_join_again() {
    let id = common::quiet_experience_with(api(), "short", 5, json!({"grantTtlSeconds": 2})).await;
    let (root, _mounted) = mount_widget(WidgetConfig::new(id.clone(), api()));
    let root = &root;
    shows_place(root, "You're next").await;
    let first = session::load(&id).unwrap();
    admit_one(&id).await;
    eventually("the turn to run out", || async move {
        let main = root.query_selector("main.lq-widget").ok()??;
        (main.get_attribute("data-stage")? == "expired").then_some(())
    })
    .await;
    assert!(
        shown(root, ".lq-rejoin"),
        "an ended turn offers to join again"
    );
    click(root, ".lq-rejoin");
    shows_place(root, "You're next").await;
    let second = session::load(&id).unwrap();
    assert_ne!(
        second.consumer_id, first.consumer_id,
        "a new place, at the back"
    );
}
