//! One HTTP request with the browser's `fetch`, read to the end: the join, each poll and the
//! refusal probe of a closed `EventSource`.
//!
//! Hand-written on `web_sys` instead of `gloo-net`: the widget needs one shape of request
//! (a method, `Accept: application/json`, an optional `If-None-Match`, an optional abort
//! signal) and one shape of answer (status, `ETag`, body text). `gloo-net` cost ~3 KB of
//! wasm on its own and linked the `Display` of `serde_json::Error` and `std::io::Error`.
//! Measured on the release bundle (2026-12-01) when this file replaced it: raw 341295 →
//! 331943 B, gzip 124064 → 121014 B (−3.0 KB), brotli 102985 → 100509 B.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestInit, Response};

/// A finished answer.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `ETag` header, when the server sent one.
    pub etag: Option<String>,
    /// The body, or `None` when reading it failed (aborted, connection dropped).
    pub body: Option<String>,
}

impl Answer {
    /// A `2xx` status.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends `method url` asking for JSON (with `If-None-Match: if_none_match` when given, a JSON
/// `body` when given, aborted through `signal` when given) and reads the whole answer. `Err` carries the
/// browser's reason when no answer came (offline, CORS refusal, abort).
pub async fn send(
    method: &str,
    url: &str,
    if_none_match: Option<&str>,
    body: Option<&str>,
    signal: Option<&AbortSignal>,
) -> Result<Answer, String> {
    let response = request(method, url, if_none_match, body, signal)
        .await
        .map_err(|error| reason(&error))?;
    let etag = response.headers().get("etag").ok().flatten();
    let body = match response.text() {
        Ok(text) => JsFuture::from(text).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    };
    Ok(Answer {
        status: response.status(),
        etag,
        body,
    })
}

async fn request(
    method: &str,
    url: &str,
    if_none_match: Option<&str>,
    body: Option<&str>,
    signal: Option<&AbortSignal>,
) -> Result<Response, JsValue> {
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let headers = Headers::new()?;
    headers.set("Accept", "application/json")?;
    if let Some(tag) = if_none_match {
        headers.set("If-None-Match", tag)?;
    }
    let init = RequestInit::new();
    if let Some(body) = body {
        headers.set("Content-Type", "application/json")?;
        init.set_body(&JsValue::from(body));
    }
    init.set_method(method);
    init.set_headers(&headers);
    init.set_signal(signal);
    let answer = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await?;
    answer.dyn_into()
}

/// The message of a rejected `fetch` (a `TypeError`, an `AbortError`), for the console.
fn reason(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_default()
}
