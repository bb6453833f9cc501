//! The access log: one line per request with its method, path and query, and one per
//! answer with its status and time, at `debug` level (off by default, so it costs nothing
//! until `RUST_LOG=debug` or `RUST_LOG=livequeue_server::access_log=debug` turns it on).
//!
//! Shoppers' tokens travel in query strings (`EventSource` and WebSocket cannot send
//! headers, see `livequeue_protocol::paths`), and the demo checkout's grant too: a log that
//! wrote the raw URI would hand every reader of the log a way to act as those shoppers.
//! [`redacted`] writes the value of each secret parameter as `[redacted]`, and the line
//! records nothing else of the request (no headers: `Authorization` carries the operator
//! token).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use tower_http::classify::{ServerErrorsAsFailures, ServerErrorsFailureClass, SharedClassifier};
use tower_http::trace::{MakeSpan, OnFailure, OnRequest, OnResponse, TraceLayer};
use tracing::{Level, Span};

use livequeue_protocol::paths;

/// The tracing target of the access log's lines.
pub const TARGET: &str = "livequeue_server::access_log";

/// What replaces a secret parameter's value.
pub const REDACTED: &str = "[redacted]";

/// Query parameters whose values are secrets: the shopper's token, the checkout's grant.
pub const SECRET_PARAMS: [&str; 2] = [paths::TOKEN, "grant"];

/// The access log as a tower layer (see the module's documentation).
pub type Layer = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    RequestSpan,
    RequestLine,
    ResponseLine,
    tower_http::trace::DefaultOnBodyChunk,
    tower_http::trace::DefaultOnEos,
    FailureLine,
>;

/// The access log's layer.
pub fn layer() -> Layer {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(RequestLine)
        .on_response(ResponseLine)
        .on_failure(FailureLine)
}

/// A failed answer's line. A `503` is the node saying it cannot serve now (draining after
/// the shutdown signal, `/readyz` answering a load balancer that polls it every few
/// seconds, a refused transport): a `warn`, not an `error` per poll. Every other 5xx, and a
/// failure without a status, is an `error`.
#[derive(Debug, Clone, Copy)]
pub struct FailureLine;

impl OnFailure<ServerErrorsFailureClass> for FailureLine {
    fn on_failure(&mut self, class: ServerErrorsFailureClass, latency: Duration, _: &Span) {
        let latency_ms = latency.as_millis() as u64;
        match class {
            ServerErrorsFailureClass::StatusCode(StatusCode::SERVICE_UNAVAILABLE) => {
                tracing::warn!(target: TARGET, status = 503, latency_ms, "unavailable")
            }
            other => tracing::error!(target: TARGET, class = %other, latency_ms, "failed"),
        }
    }
}

/// The span of one request: its method and redacted target, so every line inside it (the
/// answer, a failure) names the request without its secrets.
#[derive(Debug, Clone, Copy)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        tracing::span!(
            target: TARGET,
            Level::DEBUG,
            "request",
            method = %request.method(),
            uri = %redacted(request.uri().path(), request.uri().query()),
        )
    }
}

/// The request's line.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine;

impl<B> OnRequest<B> for RequestLine {
    fn on_request(&mut self, _: &Request<B>, _: &Span) {
        tracing::debug!(target: TARGET, "request");
    }
}

/// The answer's line: status and time to the answer's head.
#[derive(Debug, Clone, Copy)]
pub struct ResponseLine;

impl OnResponse<Body> for ResponseLine {
    fn on_response(self, response: &Response<Body>, latency: Duration, _: &Span) {
        tracing::debug!(
            target: TARGET,
            status = response.status().as_u16(),
            latency_ms = latency.as_millis() as u64,
            "answer"
        );
    }
}

/// `path?query` with the value of every [`SECRET_PARAMS`] parameter replaced by
/// [`REDACTED`]. Names are compared after percent-decoding, as the query extractor decodes
/// them (`%74oken=` is a token too); everything else is kept as sent.
pub fn redacted(path: &str, query: Option<&str>) -> String {
    let Some(query) = query else {
        return path.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            if SECRET_PARAMS.contains(&decode(name).as_str()) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// A query parameter name, percent- and `+`-decoded (invalid escapes kept as written).
fn decode(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn token_and_grant_values_are_redacted_and_everything_else_kept() {
        assert_eq!(
            redacted(
                "/api/sse/queue/e1",
                Some("consumerId=c_1&token=v1.abc.def&lastEventId=3")
            ),
            "/api/sse/queue/e1?consumerId=c_1&token=[redacted]&lastEventId=3"
        );
        assert_eq!(
            redacted("/checkout/e1", Some("grant=g_secret")),
            "/checkout/e1?grant=[redacted]"
        );
        assert_eq!(redacted("/", None), "/");
        assert_eq!(redacted("/", Some("experience=x")), "/?experience=x");
    }

    #[test]
    fn an_encoded_name_is_still_a_token() {
        assert_eq!(
            redacted("/ws/queue", Some("%74oken=secret&tok%65n=two&token")),
            "/ws/queue?%74oken=[redacted]&tok%65n=[redacted]&token=[redacted]"
        );
    }
}
