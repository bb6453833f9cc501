//! SSE connections: a raw `TcpStream`, a hand-written `GET`, and a byte scan of the body.
//!
//! An HTTP client per connection (headers map, body decoder, chunk parser) would cost more
//! than the server's side of the connection we want to measure; this costs one socket and a
//! 2 KB read buffer. The body is chunked, but chunk-size lines never hold the marker, so the
//! scanner reads straight through them.

use std::net::SocketAddr;

use livequeue_protocol::{Endpoint, ExperienceId, paths};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout};

use crate::api::Shopper;
use crate::scan::AvailableScanner;
use crate::transport::{Conn, OPEN_TIMEOUT};

/// Read buffer per connection: a stock update frame is about 90 bytes.
pub const READ_BUFFER: usize = 2048;

/// The request line and headers of the stream.
pub fn request(conn: &Conn) -> String {
    stream_request(conn.server, &conn.experience, &conn.shopper)
}

/// The request line and headers of `shopper`'s stream on the server at `server`.
pub fn stream_request(server: SocketAddr, experience: &ExperienceId, shopper: &Shopper) -> String {
    let query = paths::query(&[
        (paths::CONSUMER_ID, &shopper.consumer_id),
        (paths::TOKEN, &shopper.token),
    ]);
    let path = Endpoint::Sse.path(experience);
    format!("GET {path}{query} HTTP/1.1\r\nHost: {server}\r\nAccept: text/event-stream\r\n\r\n")
}

/// Where the response head ends (just past the blank line), once it has all arrived.
pub fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// Runs the connection, opened with `request` (the request line and headers), until it
/// fails (returning why) or is aborted: the same reading for any server whose stream
/// carries `"available":N` in its first state and in every update.
pub async fn run_with(conn: &mut Conn, request: &str) -> String {
    let mut buf = [0u8; READ_BUFFER];
    let mut scanner = AvailableScanner::new();
    let opened = timeout(OPEN_TIMEOUT, async {
        let mut stream = conn.connect().await.map_err(|e| format!("connect: {e}"))?;
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("write request: {e}"))?;
        let mut filled = 0;
        let body_start = loop {
            let n = stream
                .read(&mut buf[filled..])
                .await
                .map_err(|e| format!("read head: {e}"))?;
            if n == 0 {
                return Err("closed before the response head".to_string());
            }
            filled += n;
            if let Some(end) = head_end(&buf[..filled]) {
                break end;
            }
            if filled == buf.len() {
                return Err("response head over 2 KB".to_string());
            }
        };
        if !buf.starts_with(b"HTTP/1.1 200") {
            let line = buf[..filled]
                .split(|&b| b == b'\r')
                .next()
                .unwrap_or_default();
            return Err(format!("refused: {}", String::from_utf8_lossy(line)));
        }
        conn.received(&mut scanner, &buf[body_start..filled], Instant::now());
        while !conn.is_ready() {
            let n = stream
                .read(&mut buf)
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("closed before the first state".to_string());
            }
            conn.received(&mut scanner, &buf[..n], Instant::now());
        }
        Ok(stream)
    })
    .await;
    let mut stream = match opened {
        Ok(Ok(stream)) => stream,
        Ok(Err(why)) => return why,
        Err(_) => return "no first state within the open timeout".to_string(),
    };
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return "closed by the server".to_string(),
            Ok(n) => conn.received(&mut scanner, &buf[..n], Instant::now()),
            Err(e) => return format!("read: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::head_end;

    #[test]
    fn the_body_starts_after_the_blank_line() {
        let bytes = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n1e\r\nretry: 2345";
        let end = head_end(bytes).expect("the head is complete");
        assert_eq!(
            &bytes[end..end + 4],
            b"1e\r\n",
            "the body starts with the first chunk size"
        );
        assert_eq!(
            head_end(b"HTTP/1.1 200 OK\r\ncontent-"),
            None,
            "head still incomplete"
        );
    }
}
