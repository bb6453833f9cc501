//! The server's HTTP endpoints as the widget uses them: joining, reading error answers, and
//! the URLs of the streams.
//!
//! Paths and query names are the protocol crate's ([`Endpoint`], [`paths`]); errors are
//! decided by the [`ErrorCode`] of the JSON error body, and an answer without our body (a
//! proxy's page, a foreign server's) by its status read as the code our server would have
//! sent ([`http_status::code_for`]).

#[cfg(not(target_arch = "wasm32"))]
use livequeue_protocol::api::ErrorBody;
use livequeue_protocol::api::JoinResponse;
use livequeue_protocol::json;
use livequeue_protocol::paths::{self, CONSUMER_ID, EXPERIENCE_ID, LAST_EVENT_ID, TOKEN};
use livequeue_protocol::supervisor::Failure;
use livequeue_protocol::{Endpoint, ErrorCode, EventId, http_status};

use crate::config::WidgetConfig;
use crate::fetch::{self, Answer};
use crate::format;
use crate::session::Credentials;

pub use livequeue_protocol::paths::encode_component;

/// Why joining failed. Each variant knows whether trying again can help and what to tell the
/// shopper; the detail ([`ApiError::detail`], also its `Display`) is for the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The request never got an answer (offline, server down, CORS refusal).
    Network(String),
    /// The server answered with an error status.
    Status {
        /// HTTP status.
        status: u16,
        /// The error body's stable code, or `Unknown` when the body was not one.
        code: ErrorCode,
        /// The error body's message for developers.
        message: String,
    },
    /// The server answered success with a body the widget cannot read.
    Decode(String),
}

/// Written by hand rather than derived with `thiserror`: the derived `Display` formats the
/// status number and the code through `core::fmt` on the widget's join path.
impl std::error::Error for ApiError {}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail())
    }
}

impl ApiError {
    /// What went wrong, for the console: `server answered 404 (not_found): no such`.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Network(reason) => format::concat(&["network error: ", reason]),
            ApiError::Status {
                status,
                code,
                message,
            } => format::concat(&[
                "server answered ",
                &format::digits(u64::from(*status)),
                " (",
                code.as_str(),
                "): ",
                message,
            ]),
            ApiError::Decode(reason) => format::concat(&["unreadable answer: ", reason]),
        }
    }

    /// The code the answer means: the body's, or for a body that is not ours, its status
    /// read as our server's code. `None` without an error answer.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Status {
                code: ErrorCode::Unknown,
                status,
                ..
            } => Some(http_status::code_for(*status)),
            ApiError::Status { code, .. } => Some(*code),
            ApiError::Network(_) | ApiError::Decode(_) => None,
        }
    }

    /// Whether the same request may succeed later (network trouble, server errors, rate
    /// limits), as opposed to a request that will always be refused (unknown experience).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Network(_) => true,
            // A success that is not a join answer is a server without our join: it stays so.
            ApiError::Decode(_) => false,
            ApiError::Status { .. } => self.code().is_some_and(ErrorCode::is_transient),
        }
    }

    /// Whether the answer shows a server that does not offer our join: a `404`/`405`
    /// without our error body (Express's "Cannot POST" page), or a success whose body is
    /// not a join answer (a guide-style `{consumerId}`).
    pub fn means_join_not_offered(&self) -> bool {
        match self {
            ApiError::Decode(_) => true,
            ApiError::Status {
                code: ErrorCode::Unknown,
                ..
            } => matches!(
                self.code(),
                Some(ErrorCode::NotFound | ErrorCode::MethodNotAllowed)
            ),
            ApiError::Status { .. } | ApiError::Network(_) => false,
        }
    }

    /// A sentence for the shopper.
    pub fn shopper_message(&self) -> &'static str {
        let t = crate::i18n::t();
        match self.code() {
            Some(ErrorCode::NotFound) => t.join_not_found,
            Some(ErrorCode::Conflict | ErrorCode::Gone) => t.join_closed,
            Some(ErrorCode::ForbiddenOrigin) => t.join_forbidden,
            _ if self.is_transient() => t.join_transient,
            _ => t.join_failed,
        }
    }
}

/// `POST {api}/api/experiences/{experience}/join`: a new place at the back of the line.
pub async fn join(config: &WidgetConfig) -> Result<JoinResponse, ApiError> {
    let url = format::concat(&[&config.api_base, &path(config, Endpoint::Join)]);
    let answer = fetch::send("POST", &url, None, None, None)
        .await
        .map_err(ApiError::Network)?;
    let text = answer.body.as_deref();
    if answer.ok() {
        let text = text.ok_or_else(|| ApiError::Decode("the body could not be read".into()))?;
        return read_join(text).map_err(ApiError::Decode);
    }
    Err(status_error(answer.status, text.unwrap_or_default()))
}

/// A [`JoinResponse`] read field by field: its `state` with the protocol's decoder (shared
/// with every other full state), the two strings as strings. `JoinResponse`'s own
/// `Deserialize` was one more instantiation of the generic decoder for a wrapper of three
/// fields (measured 2026-12-01: gzip 89790 → 89020 B). A body without them
/// (a guide-style `{consumerId}`) is an error, as it was.
fn read_join(text: &str) -> Result<JoinResponse, String> {
    let fields = json::fields(text, &["consumerId", "token", "state"])
        .ok_or_else(|| "the join answer is not a JSON object".to_owned())?;
    let field = |i: usize, name: &str| {
        fields[i]
            .as_ref()
            .ok_or_else(|| format::concat(&["missing field `", name, "`"]))
    };
    Ok(JoinResponse {
        consumer_id: json::from_raw(field(0, "consumerId")?)?,
        token: json::from_raw(field(1, "token")?)?,
        state: json::from_raw(field(2, "state")?)?,
    })
}

/// What a shopper's action (extend, reserve, leave) answered, when it was refused: the
/// protocol's code says why (`conflict`: extended already, over the limit, out of stock;
/// `gone`: the turn expired), which the page words for the shopper.
pub type ActionResult<T> = Result<T, ApiError>;

/// `POST {api}{endpoint}?consumerId=&token=` with an optional JSON body: the shopper's
/// actions. Answers the body of a success (empty for `204`).
async fn act(
    config: &WidgetConfig,
    credentials: &Credentials,
    endpoint: Endpoint,
    body: Option<&str>,
) -> ActionResult<String> {
    let url = format::concat(&[
        &config.api_base,
        &path(config, endpoint),
        &paths::query(&[
            (CONSUMER_ID, credentials.consumer_id.as_str()),
            (TOKEN, credentials.token.as_str()),
        ]),
    ]);
    let answer = fetch::send("POST", &url, None, body, None)
        .await
        .map_err(ApiError::Network)?;
    let text = answer.body.unwrap_or_default();
    if answer.status / 100 == 2 {
        Ok(text)
    } else {
        Err(status_error(answer.status, &text))
    }
}

/// `POST …/extend`: more time for the active grant, once. The later expiry reaches the page
/// through the feed (`admission` event), so the answer's body is not needed.
pub async fn extend(config: &WidgetConfig, credentials: &Credentials) -> ActionResult<()> {
    act(config, credentials, Endpoint::Extend, None)
        .await
        .map(drop)
}

/// `POST …/leave`: gives the place (or the turn) up.
pub async fn leave(config: &WidgetConfig, credentials: &Credentials) -> ActionResult<()> {
    act(config, credentials, Endpoint::Leave, None)
        .await
        .map(drop)
}

/// `POST …/reserve` of `quantity` units under `key` (the same key for a retry of the same
/// request, so a retry is never a second reservation). Answers the units reserved for the
/// grant in all.
pub async fn reserve(
    config: &WidgetConfig,
    credentials: &Credentials,
    key: &str,
    quantity: u64,
) -> ActionResult<u64> {
    let mut body = String::from(r#"{"idempotencyKey":""#);
    // The key is the widget's own (hex digits and a dash): nothing to escape.
    body.push_str(key);
    body.push_str(r#"","quantity":"#);
    format::push_digits(&mut body, quantity);
    body.push('}');
    let text = act(config, credentials, Endpoint::Reserve, Some(&body)).await?;
    json::fields(&text, &["reserved"])
        .and_then(|mut f| f.pop().flatten())
        .and_then(|raw| json::from_raw::<u64>(&raw).ok())
        .ok_or_else(|| ApiError::Decode("the reserve answer has no `reserved` count".into()))
}

/// What an error answer of a read endpoint (SSE, polling) means for the feed.
pub fn failure_of(answer: &Answer) -> Failure {
    status_error(answer.status, answer.body.as_deref().unwrap_or_default())
        .code()
        .map_or(Failure::TRANSIENT, Failure::from_error_code)
}

/// Reads an error answer's body, which the protocol promises is an [`ErrorBody`]; a proxy's
/// HTML error page is kept as the message instead (shortened).
fn status_error(status: u16, body: &str) -> ApiError {
    match read_error_body(body) {
        Some((code, message)) => ApiError::Status {
            status,
            code,
            message,
        },
        None => ApiError::Status {
            status,
            code: ErrorCode::Unknown,
            message: body.chars().take(200).collect(),
        },
    }
}

/// The code and message of an [`ErrorBody`] (`{"error":{"code":…,"message":…}}`), read in
/// the browser with `JSON.parse` and property reads instead of `ErrorBody`'s `Deserialize`,
/// an instantiation of the protocol's generic decoder used for nothing else (measured
/// 2026-12-01: gzip 90365 → 89790 B). Any code string is accepted, an unknown
/// one as [`ErrorCode::Unknown`], as the protocol's `Deserialize` does.
#[cfg(target_arch = "wasm32")]
fn read_error_body(body: &str) -> Option<(ErrorCode, String)> {
    use js_sys::Reflect;
    let object = js_sys::JSON::parse(body).ok()?;
    let error = Reflect::get(&object, &"error".into()).ok()?;
    if !error.is_object() {
        return None;
    }
    let field = |name: &str| Reflect::get(&error, &name.into()).ok()?.as_string();
    Some((ErrorCode::parse(&field("code")?), field("message")?))
}

/// Natively (the unit tests), the protocol's own decoding of an [`ErrorBody`].
#[cfg(not(target_arch = "wasm32"))]
fn read_error_body(body: &str) -> Option<(ErrorCode, String)> {
    let ErrorBody { error } = livequeue_protocol::json::from_str::<ErrorBody>(body).ok()?;
    Some((error.code, error.message))
}

/// The path of `endpoint` for the configured experience, encoded as one segment whatever the
/// page's query held (the widget refuses invalid ids before any request anyway).
fn path(config: &WidgetConfig, endpoint: Endpoint) -> String {
    // Split at the placeholder by hand: `str::replace` and `split_once` with a `&str` pattern
    // link core's substring searcher for these two places only (with `ws_url`, measured
    // 2026-12-01: gzip 89020 → 88095 B). `get` rather than `[..]` indexing: a `str` slice
    // that can panic links the panic's `Debug` formatting of strings and chars, which
    // nothing else in the widget needed (measured: gzip 86595 → 82799 B).
    let route = endpoint.route();
    let placeholder = paths::EXPERIENCE_PLACEHOLDER;
    let at = route
        .as_bytes()
        .windows(placeholder.len())
        .position(|w| w == placeholder.as_bytes());
    match at {
        Some(at) => format::concat(&[
            route.get(..at).unwrap_or_default(),
            &encode_component(&config.experience),
            route.get(at + placeholder.len()..).unwrap_or_default(),
        ]),
        None => route.to_owned(),
    }
}

/// `{api}/api/sse/queue/{experience}?consumerId=&token=`, plus `lastEventId` to resume a
/// stream that was closed from a known cursor (the browser sends `Last-Event-ID` itself only
/// on its own reconnects of one `EventSource`).
pub fn sse_url(
    config: &WidgetConfig,
    credentials: &Credentials,
    resume: Option<EventId>,
) -> String {
    let resume = resume.map(|EventId(cursor)| {
        let mut id = format::digits(cursor.epoch);
        id.push(':');
        format::push_digits(&mut id, cursor.seq);
        id
    });
    let mut pairs = vec![
        (CONSUMER_ID, credentials.consumer_id.as_str()),
        (TOKEN, credentials.token.as_str()),
    ];
    if let Some(id) = resume.as_deref() {
        pairs.push((LAST_EVENT_ID, id));
    }
    format::concat(&[
        &config.api_base,
        &path(config, Endpoint::Sse),
        &paths::query(&pairs),
    ])
}

/// `{api}/api/queue/{experience}?consumerId=&token=`: the polling endpoint.
pub fn poll_url(config: &WidgetConfig, credentials: &Credentials) -> String {
    format::concat(&[
        &config.api_base,
        &path(config, Endpoint::Poll),
        &paths::query(&[
            (CONSUMER_ID, credentials.consumer_id.as_str()),
            (TOKEN, credentials.token.as_str()),
        ]),
    ])
}

/// `ws(s)://…/ws/queue?experienceId=&consumerId=&token=`: the WebSocket endpoint, on the
/// API's host (or the page's, when the API is same-origin).
pub fn ws_url(config: &WidgetConfig, credentials: &Credentials) -> String {
    let base = if config.api_base.is_empty() {
        web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default()
    } else {
        config.api_base.clone()
    };
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format::concat(&["wss://", rest])
    } else if let Some(rest) = base.strip_prefix("http://") {
        format::concat(&["ws://", rest])
    } else {
        base
    };
    format::concat(&[
        &base,
        Endpoint::WebSocket.route(),
        &paths::query(&[
            (EXPERIENCE_ID, config.experience.as_str()),
            (CONSUMER_ID, credentials.consumer_id.as_str()),
            (TOKEN, credentials.token.as_str()),
        ]),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use livequeue_protocol::Cursor;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    fn credentials() -> Credentials {
        Credentials {
            consumer_id: "c_1".into(),
            token: "a.b+c/=".into(),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_sse_url_carries_encoded_credentials_and_an_optional_resume_cursor() {
        let config = WidgetConfig::new("demo-drop", "http://q.test");
        assert_eq!(
            sse_url(&config, &credentials(), None),
            "http://q.test/api/sse/queue/demo-drop?consumerId=c_1&token=a.b%2Bc%2F%3D"
        );
        let resume = EventId(Cursor { epoch: 7, seq: 3 });
        assert!(
            sse_url(&config, &credentials(), Some(resume)).ends_with("&lastEventId=7%3A3"),
            "the resume cursor is passed as an encoded query parameter"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_socket_url_follows_the_api_scheme() {
        let secure = WidgetConfig::new("d", "https://q.test");
        assert!(
            ws_url(&secure, &credentials())
                .starts_with("wss://q.test/ws/queue?experienceId=d&consumerId=c_1&token=")
        );
        let plain = WidgetConfig::new("d", "http://q.test:8080");
        assert!(ws_url(&plain, &credentials()).starts_with("ws://q.test:8080/ws/queue?"));
        assert_eq!(
            poll_url(&plain, &credentials()),
            "http://q.test:8080/api/queue/d?consumerId=c_1&token=a.b%2Bc%2F%3D"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_join_answer_needs_the_shoppers_id_token_and_state() {
        let state = r#"{"experienceId":"d","consumerId":"c_1","position":3,"stage":"queued","stock":{"available":1,"total":2},"experience":{"name":"D","status":"open"},"cursor":{"epoch":1,"seq":0}}"#;
        let joined = read_join(&format::concat(&[
            r#"{"consumerId":"c_1","token":"t","state":"#,
            state,
            "}",
        ]))
        .expect("a join answer");
        assert_eq!(
            (joined.consumer_id.as_str(), joined.token.as_str()),
            ("c_1", "t")
        );
        assert_eq!(joined.state.position, Some(3));
        assert!(
            read_join(r#"{"consumerId":"c_1"}"#).is_err(),
            "a guide-style answer is not a join answer"
        );
        assert!(read_join("[]").is_err());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn error_bodies_are_read_and_foreign_pages_are_kept_short() {
        let known = status_error(404, r#"{"error":{"code":"not_found","message":"no such"}}"#);
        assert_eq!(
            known,
            ApiError::Status {
                status: 404,
                code: ErrorCode::NotFound,
                message: "no such".into()
            }
        );
        assert!(!known.is_transient(), "an unknown experience stays unknown");
        assert_eq!(
            known.to_string(),
            "server answered 404 (not_found): no such"
        );
        assert!(
            matches!(
                status_error(409, r#"{"error":{"code":"from_the_future","message":"m"}}"#),
                ApiError::Status { code: ErrorCode::Unknown, message, .. } if message == "m"
            ),
            "a code this version does not know is read as unknown, with its message"
        );
        assert!(
            matches!(status_error(500, r#"{"error":"oops"}"#), ApiError::Status { code: ErrorCode::Unknown, message, .. } if message == r#"{"error":"oops"}"#),
            "a body that is not our error body is kept as the message"
        );
        let proxy = status_error(502, &"<html>".repeat(100));
        assert!(proxy.is_transient(), "a gateway error may pass");
        assert!(matches!(proxy, ApiError::Status { message, .. } if message.len() == 200));
    }
}
