//! The first request head of a connection: read into a small bounded buffer, parsed with
//! `httparse`, and sorted into "a stream the front serves" or "hyper's".
//!
//! [`classify`] is pure (bytes in, a decision out) so it is tested natively and fuzzed
//! (`tests` below, property tests over arbitrary and mutated heads).

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, Uri, Version};
use livequeue_protocol::Endpoint;

/// Largest first head the front reads itself. A browser's `EventSource` request is about
/// 0.5–1 KB; a longer head (big cookies, say) goes to hyper with the bytes read so far,
/// which serves it the ordinary way.
pub const MAX_HEAD: usize = 8 * 1024;

/// The buffer a head is first read into; it grows (to [`MAX_HEAD`]) only for longer heads.
pub const FIRST_READ: usize = 1024;

/// Most header lines the front parses in a head; more goes to hyper.
const MAX_HEADERS: usize = 48;

/// Routes whose answers are long-lived event streams, which the front serves on the bare
/// socket. Everything else (and a stream route asked for in an unusual way) goes to hyper.
pub const STREAM_ROUTES: [Endpoint; 2] = [Endpoint::Sse, Endpoint::OperatorStream];

/// What to do with the bytes read so far.
#[derive(Debug)]
pub enum Decision {
    /// Not enough bytes to tell yet: read more.
    Partial,
    /// A `GET` of a stream route, whole, with nothing after it: the front serves it.
    Stream(Box<Request<Body>>),
    /// Anything else (another route, a body, HTTP/1.0, HTTP/2, a malformed head): hyper
    /// reads it again from the start and answers it as usual.
    Hyper,
}

/// Sorts the bytes read so far of a connection's first request.
pub fn classify(bytes: &[u8]) -> Decision {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let parsed = request.parse(bytes);
    // The request line alone is enough to send other routes on at once.
    if let Some(path) = request.path
        && !(request.method == Some("GET") && is_stream_route(path))
    {
        return Decision::Hyper;
    }
    let length = match parsed {
        Ok(httparse::Status::Partial) => return Decision::Partial,
        Ok(httparse::Status::Complete(length)) => length,
        Err(_) => return Decision::Hyper,
    };
    // Pipelined bytes after the head, or HTTP/1.0 (no chunked encoding): hyper's.
    if length != bytes.len() || request.version != Some(1) {
        return Decision::Hyper;
    }
    match build(&request) {
        Some(request) => Decision::Stream(Box::new(request)),
        None => Decision::Hyper,
    }
}

/// The `http` request of a parsed head, or `None` if anything in it is not for the front
/// (a body, an upgrade, a header `http` refuses).
fn build(parsed: &httparse::Request<'_, '_>) -> Option<Request<Body>> {
    let uri: Uri = parsed.path?.parse().ok()?;
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .version(Version::HTTP_11)
        .body(Body::empty())
        .ok()?;
    let headers = request.headers_mut();
    for header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes()).ok()?;
        // A GET with a body, or asking to switch protocols, is not an event stream request.
        if name == axum::http::header::CONTENT_LENGTH
            || name == axum::http::header::TRANSFER_ENCODING
            || name == axum::http::header::UPGRADE
        {
            return None;
        }
        headers.append(name, HeaderValue::from_bytes(header.value).ok()?);
    }
    Some(request)
}

/// Whether `target` (path and query) is one of [`STREAM_ROUTES`].
fn is_stream_route(target: &str) -> bool {
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    STREAM_ROUTES
        .iter()
        .any(|endpoint| matches_route(endpoint.route(), path))
}

/// Whether `path` matches a route `pattern` whose `{…}` segments stand for one non-empty
/// segment each.
fn matches_route(pattern: &str, path: &str) -> bool {
    let mut want = pattern.split('/');
    let mut have = path.split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), Some(h)) if w.starts_with('{') => {
                if h.is_empty() {
                    return false;
                }
            }
            (Some(w), Some(h)) if w == h => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SSE: &[u8] = b"GET /api/sse/queue/demo-drop?consumerId=c1&token=t HTTP/1.1\r\n\
        Host: 127.0.0.1\r\nAccept: text/event-stream\r\nLast-Event-ID: 1-5\r\n\r\n";

    #[test]
    fn an_event_stream_request_is_the_fronts_with_its_headers() {
        let Decision::Stream(request) = classify(SSE) else {
            panic!("an SSE GET should be served by the front");
        };
        assert_eq!(request.uri().path(), "/api/sse/queue/demo-drop");
        assert_eq!(request.uri().query(), Some("consumerId=c1&token=t"));
        assert_eq!(request.headers()["last-event-id"], "1-5");
        assert_eq!(request.headers()["accept"], "text/event-stream");
    }

    #[test]
    fn the_operators_stream_is_the_fronts_too() {
        let head = b"GET /api/admin/experiences/x/stream?ticket=abc HTTP/1.1\r\nHost: h\r\n\r\n";
        assert!(matches!(classify(head), Decision::Stream(_)));
    }

    #[test]
    fn a_head_cut_anywhere_waits_for_more_or_is_sent_on() {
        for cut in 0..SSE.len() {
            match classify(&SSE[..cut]) {
                Decision::Partial => {}
                other => panic!("a head cut at {cut} should wait for more, got {other:?}"),
            }
        }
    }

    #[test]
    fn other_routes_go_to_hyper_as_soon_as_the_request_line_says_so() {
        for head in [
            &b"GET /api/queue/demo-drop?consumerId=c HTTP/1.1\r\nHo"[..],
            b"POST /api/sse/queue/demo-drop HTTP/1.1\r\n",
            b"GET /ws/queue?experienceId=x HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
            b"GET /api/sse/queue/ HTTP/1.1\r\n\r\n",
            b"GET /api/sse/queue/a/b HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\n",
        ] {
            assert!(
                matches!(classify(head), Decision::Hyper),
                "{:?} should go to hyper",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn unusual_stream_requests_go_to_hyper() {
        for head in [
            &b"GET /api/sse/queue/x HTTP/1.0\r\n\r\n"[..],
            b"GET /api/sse/queue/x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            b"GET /api/sse/queue/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"GET /api/sse/queue/x HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            b"GET /api/sse/queue/x HTTP/1.1\r\nBad Header\r\n\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        ] {
            assert!(
                matches!(classify(head), Decision::Hyper),
                "{:?} should go to hyper",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn routes_match_segment_by_segment() {
        assert!(matches_route("/a/{id}/b", "/a/x/b"));
        assert!(!matches_route("/a/{id}/b", "/a//b"));
        assert!(!matches_route("/a/{id}/b", "/a/x/b/"));
        assert!(!matches_route("/a/{id}", "/a"));
    }

    /// Cases per property: 20,000 in every test run; `LIVEQUEUE_FUZZ_CASES` for a long run
    /// (`LIVEQUEUE_FUZZ_CASES=2000000 cargo test --release -p livequeue-server --lib
    /// front::head`).
    fn cases() -> u32 {
        std::env::var("LIVEQUEUE_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        /// No input makes the parser panic, and whatever it takes for a stream is one.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Decision::Stream(request) = classify(&bytes) {
                prop_assert_eq!(request.method(), Method::GET);
                prop_assert!(is_stream_route(request.uri().path()));
            }
        }

        /// A real head with one byte changed or cut is still sorted without a panic.
        #[test]
        fn mutated_heads_never_panic(at in 0..SSE.len(), byte in any::<u8>(), cut in 0..SSE.len()) {
            let mut head = SSE.to_vec();
            head[at] = byte;
            let _ = classify(&head);
            let _ = classify(&head[..cut]);
        }
    }
}
