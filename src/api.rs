//! The server's HTTP endpoints as the widget uses them: joining, and the URLs of the streams.
//!
//! Paths and status codes follow `docs/PROTOCOL.md`; bodies are the protocol crate's types.

use livequeue_protocol::ErrorCode;
use livequeue_protocol::EventId;
use livequeue_protocol::api::{ErrorBody, JoinResponse};

use crate::config::WidgetConfig;
use crate::session::Credentials;

/// Why joining failed. Each variant knows whether trying again can help and what to tell the
/// shopper; the detail (`Display`) is for the console.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request never got an answer (offline, server down, CORS refusal).
    #[error("network error: {0}")]
    Network(String),
    /// The server answered with an error status.
    #[error("server answered {status} ({code}): {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The error body's stable code, or `Unknown` when the body was not one.
        code: ErrorCode,
        /// The error body's message for developers.
        message: String,
    },
    /// The server answered success with a body the widget cannot read.
    #[error("unreadable answer: {0}")]
    Decode(String),
}

impl ApiError {
    /// Whether the same request may succeed later (network trouble, server errors, rate
    /// limits), as opposed to a request that will always be refused (unknown experience).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Network(_) | ApiError::Decode(_) => true,
            ApiError::Status { status, .. } => *status >= 500 || *status == 429,
        }
    }

    /// A sentence for the shopper.
    pub fn shopper_message(&self) -> &'static str {
        match self {
            ApiError::Status { status: 404, .. } => "This queue doesn't exist. Check the link.",
            ApiError::Status {
                status: 409 | 410, ..
            } => "This drop is no longer taking a queue.",
            ApiError::Status { status: 403, .. } => {
                "This page isn't allowed to show the queue. Please open the shop's own page."
            }
            e if e.is_transient() => "We can't reach the queue right now. Trying again…",
            _ => "Something went wrong joining the queue. Please reload the page.",
        }
    }
}

/// `POST {api}/api/experiences/{experience}/join`: a new place at the back of the line.
pub async fn join(config: &WidgetConfig) -> Result<JoinResponse, ApiError> {
    let url = format!(
        "{}/api/experiences/{}/join",
        config.api_base,
        encode_component(&config.experience)
    );
    let response = gloo_net::http::Request::post(&url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let status = response.status();
    if (200..300).contains(&status) {
        let text = response
            .text()
            .await
            .map_err(|e| ApiError::Decode(e.to_string()))?;
        return livequeue_protocol::json::from_str::<JoinResponse>(&text).map_err(ApiError::Decode);
    }
    let text = response.text().await.unwrap_or_default();
    Err(status_error(status, &text))
}

/// Reads an error answer's body, which the protocol promises is an [`ErrorBody`]; a proxy's
/// HTML error page is kept as the message instead (shortened).
fn status_error(status: u16, body: &str) -> ApiError {
    match livequeue_protocol::json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => ApiError::Status {
            status,
            code: error.code,
            message: error.message,
        },
        Err(_) => ApiError::Status {
            status,
            code: ErrorCode::Unknown,
            message: body.chars().take(200).collect(),
        },
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
    let mut url = format!(
        "{}/api/sse/queue/{}?consumerId={}&token={}",
        config.api_base,
        encode_component(&config.experience),
        encode_component(&credentials.consumer_id),
        encode_component(&credentials.token),
    );
    if let Some(id) = resume {
        url.push_str("&lastEventId=");
        url.push_str(&encode_component(&id.to_string()));
    }
    url
}

/// `{api}/api/queue/{experience}?consumerId=&token=`: the polling endpoint.
pub fn poll_url(config: &WidgetConfig, credentials: &Credentials) -> String {
    format!(
        "{}/api/queue/{}?consumerId={}&token={}",
        config.api_base,
        encode_component(&config.experience),
        encode_component(&credentials.consumer_id),
        encode_component(&credentials.token),
    )
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
    let base = match base.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some((_, rest)) => format!("ws://{rest}"),
        None => base,
    };
    format!(
        "{base}/ws/queue?experienceId={}&consumerId={}&token={}",
        encode_component(&config.experience),
        encode_component(&credentials.consumer_id),
        encode_component(&credentials.token),
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so an id or token is one
/// path segment or query value whatever it contains.
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use livequeue_protocol::Cursor;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn credentials() -> Credentials {
        Credentials {
            consumer_id: "c_1".into(),
            token: "a.b+c/=".into(),
        }
    }

    #[wasm_bindgen_test]
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

    #[wasm_bindgen_test]
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

    #[wasm_bindgen_test]
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
        let proxy = status_error(502, &"<html>".repeat(100));
        assert!(proxy.is_transient(), "a gateway error may pass");
        assert!(matches!(proxy, ApiError::Status { message, .. } if message.len() == 200));
    }
}
