//! What the browser tests share: the servers' addresses (fixed at compile time by
//! `cargo xtask test`, see `xtask/src/browser.rs`), the operator's calls, waiting for a
//! condition, and a fresh element to mount into.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::future::Future;

use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// How often a condition is looked at while waiting.
const POLL_MS: u32 = 50;

/// A variable `cargo xtask test` sets at compile time. Not `env!`: the tests must still
/// compile (for clippy) without the servers.
fn env(value: Option<&'static str>, name: &str) -> &'static str {
    value.unwrap_or_else(|| {
        panic!("{name} is not set: run the browser tests with `cargo xtask test`, which starts the servers")
    })
}

/// The demo server.
pub fn api() -> &'static str {
    env(option_env!("LIVEQUEUE_TEST_API"), "LIVEQUEUE_TEST_API")
}

/// The server whose transports the tests switch off and on.
pub fn api_no_ws() -> &'static str {
    env(
        option_env!("LIVEQUEUE_TEST_API_NO_WS"),
        "LIVEQUEUE_TEST_API_NO_WS",
    )
}

/// The server that refuses push: only polling gets through.
pub fn api_poll_only() -> &'static str {
    env(
        option_env!("LIVEQUEUE_TEST_API_POLL_ONLY"),
        "LIVEQUEUE_TEST_API_POLL_ONLY",
    )
}

/// The server written the way the guide writes one (`crates/server/examples/guide_server.rs`).
pub fn guide() -> &'static str {
    env(
        option_env!("LIVEQUEUE_TEST_GUIDE_API"),
        "LIVEQUEUE_TEST_GUIDE_API",
    )
}

/// The operator token of the test servers.
pub fn admin() -> &'static str {
    env(option_env!("LIVEQUEUE_TEST_ADMIN"), "LIVEQUEUE_TEST_ADMIN")
}

/// The control endpoint that restarts the demo server.
pub fn control() -> &'static str {
    env(
        option_env!("LIVEQUEUE_TEST_CONTROL"),
        "LIVEQUEUE_TEST_CONTROL",
    )
}

/// An operator's request method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Create, inject.
    Post,
    /// Change an experience.
    Patch,
    /// Switch transports.
    Put,
}

/// An operator's call with a JSON body; the answer's status (0 when there was none).
pub async fn admin_call(method: Method, url: &str, body: serde_json::Value) -> u16 {
    let builder = match method {
        Method::Post => gloo_net::http::Request::post(url),
        Method::Patch => gloo_net::http::Request::patch(url),
        Method::Put => gloo_net::http::Request::put(url),
    };
    builder
        .header("Authorization", &format!("Bearer {}", admin()))
        .json(&body)
        .unwrap()
        .send()
        .await
        .map(|r| r.status())
        .unwrap_or(0)
}

/// Creates a drop where nothing happens unless an operator says so; returns its id.
pub async fn quiet_experience(api: &str, prefix: &str, stock: u64) -> String {
    quiet_experience_with(api, prefix, stock, serde_json::json!({})).await
}

/// [`quiet_experience`] with more fields of the creation body (`{"grantTtlSeconds": 2}`).
pub async fn quiet_experience_with(
    api: &str,
    prefix: &str,
    stock: u64,
    more: serde_json::Value,
) -> String {
    let id = format!("{prefix}-{}", (js_sys::Math::random() * 1e9) as u64);
    let mut body = serde_json::json!({"id": id, "name": prefix, "stock": stock, "admissionRatePerMinute": 0.0, "checkoutUrl": "/c"});
    if let (Some(body), Some(more)) = (body.as_object_mut(), more.as_object()) {
        body.extend(more.clone());
    }
    let created = admin_call(Method::Post, &format!("{api}/api/admin/experiences"), body).await;
    assert_eq!(created, 201, "creating the quiet experience {id}");
    id
}

pub async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Polls `probe` until it returns `Some`, or fails the test naming `what` after
/// `deadline_ms`.
pub async fn eventually<T, F, Fut>(deadline_ms: f64, what: &str, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = js_sys::Date::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            js_sys::Date::now() - start < deadline_ms,
            "timed out after {deadline_ms} ms waiting for {what}"
        );
        sleep(POLL_MS).await;
    }
}

/// A new, empty element attached to the page, so each test sees only its own widget.
pub fn fresh_container() -> HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let element = document
        .create_element("div")
        .unwrap()
        .dyn_into::<HtmlElement>()
        .unwrap();
    document.body().unwrap().append_child(&element).unwrap();
    element
}

/// Mounts the widget for `config` into a fresh element; dropping the handle unmounts it.
pub fn mount_widget(config: livequeue::WidgetConfig) -> (HtmlElement, impl Sized) {
    use leptos::prelude::*;
    let container = fresh_container();
    let handle = leptos::mount::mount_to(container.clone(), move || {
        view! { <livequeue::QueueWidget config=config /> }
    });
    (container, handle)
}

/// The trimmed text of the first element under `root` matching `selector`.
pub fn text_of(root: &HtmlElement, selector: &str) -> Option<String> {
    root.query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.text_content())
        .map(|t| t.trim().to_owned())
}
