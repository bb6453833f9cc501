//! The thin front (`livequeue_server::front`) on real sockets, written byte by byte: what
//! it serves itself (event streams), what it leaves to hyper, and the heads it will not
//! wait for.

mod common;

use std::time::Duration;

use common::{TestServer, config};
use livequeue_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// Reads until `until` holds for what was read, the peer closes, or 5 s pass.
async fn read_until(socket: &mut TcpStream, until: impl Fn(&str) -> bool) -> (String, bool) {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if until(&String::from_utf8_lossy(&all)) {
            return (String::from_utf8_lossy(&all).into_owned(), false);
        }
        match timeout(deadline - Instant::now(), socket.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&all).into_owned(), true),
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "nothing more within 5 s; read so far: {:?}",
                String::from_utf8_lossy(&all)
            ),
        }
    }
}

fn request(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{extra}\r\n")
}

async fn server_with_shopper(config: Config) -> (TestServer, String) {
    let s = TestServer::with_config(config).await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let path = TestServer::sse_path("drop", &me);
    (s, path)
}

#[tokio::test]
async fn a_head_sent_one_byte_at_a_time_is_still_served_as_an_event_stream() {
    let (s, path) = server_with_shopper(config()).await;
    let mut socket = TcpStream::connect(s.addr).await.unwrap();
    socket.set_nodelay(true).unwrap();
    for byte in request(&path, "").bytes() {
        socket.write_all(&[byte]).await.unwrap();
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let (text, closed) = read_until(&mut socket, |t| t.contains("retry:")).await;
    assert!(!closed, "the stream closed: {text}");
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    let head = text.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
    assert!(head.contains("\r\ntransfer-encoding: chunked"), "{head}");
    assert!(
        head.contains("\r\ncontent-type: text/event-stream"),
        "{head}"
    );
    assert!(head.contains("\r\ndate: "), "{head}");
    // The security headers come from the router's layers, as on every other answer.
    assert!(
        head.contains("\r\nx-content-type-options: nosniff"),
        "{head}"
    );
}

#[tokio::test]
async fn an_update_reaches_the_bare_socket_as_one_chunk_framed_event() {
    let (s, path) = server_with_shopper(config()).await;
    let mut socket = TcpStream::connect(s.addr).await.unwrap();
    socket
        .write_all(request(&path, "").as_bytes())
        .await
        .unwrap();
    read_until(&mut socket, |t| t.contains("retry:")).await;
    s.set_stock("drop", 7).await;
    let (text, _) = read_until(&mut socket, |t| {
        t.contains("\"available\":7") && t.ends_with("\n\n\r\n")
    })
    .await;
    // The last chunk is `<hex size>\r\n<the event's frame>\r\n`.
    let body = text.strip_suffix("\r\n").unwrap();
    let (before, frame) = body.rsplit_once("\r\n").unwrap();
    let frame = [
        before.rsplit_once("\r\n").map_or(before, |(_, size)| size),
        frame,
    ];
    let (size, frame) = (usize::from_str_radix(frame[0], 16), frame[1]);
    assert_eq!(
        size,
        Ok(frame.len()),
        "the chunk's size is not its event's: {text}"
    );
    assert!(
        frame.contains("event: stock_update\n") && frame.ends_with("\n\n"),
        "the chunk is not one whole event: {frame:?}"
    );
}

#[tokio::test]
async fn a_refused_stream_gets_the_json_error_and_the_connection_closes() {
    let (s, _) = server_with_shopper(config()).await;
    let mut socket = TcpStream::connect(s.addr).await.unwrap();
    let path = "/api/sse/queue/drop?consumerId=c_nobody&token=forged";
    socket
        .write_all(request(path, "").as_bytes())
        .await
        .unwrap();
    let (text, closed) = read_until(&mut socket, |_| false).await;
    assert!(closed, "a refusal should close the connection");
    assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{text}");
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("\r\nconnection: close\r\n"), "{text}");
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .expect("a content-length");
    assert_eq!(length.parse::<usize>().unwrap(), body.len(), "{text}");
    let error: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(error["error"]["code"], "unauthorized", "{body}");
}

#[tokio::test]
async fn a_request_head_that_trickles_in_past_the_limit_is_dropped() {
    let config = Config {
        head_timeout: Duration::from_millis(300),
        ..config()
    };
    let (s, path) = server_with_shopper(config).await;
    let started = Instant::now();
    let mut socket = TcpStream::connect(s.addr).await.unwrap();
    let head = request(&path, "");
    socket.write_all(&head.as_bytes()[..20]).await.unwrap();
    let (text, closed) = read_until(&mut socket, |_| false).await;
    assert!(closed && text.is_empty(), "read {text:?} from a slow head");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "a slow head was closed after {took:?}, not after the 300 ms limit"
    );
    // Everyone else is served meanwhile and after.
    let r = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_connection_that_never_sends_a_head_is_closed_too() {
    let config = Config {
        head_timeout: Duration::from_millis(300),
        ..config()
    };
    let s = TestServer::with_config(config).await;
    let mut socket = TcpStream::connect(s.addr).await.unwrap();
    let (_, closed) = read_until(&mut socket, |_| false).await;
    assert!(closed, "an idle connection without a head stays open");
}

#[tokio::test]
async fn a_stream_asked_for_on_a_kept_alive_connection_is_served_by_hyper() {
    let (s, path) = server_with_shopper(config()).await;
    let mut socket = TcpStream::connect(s.addr).await.unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    read_until(&mut socket, |t| t.contains("\r\n\r\n") && t.ends_with("ok")).await;
    socket
        .write_all(request(&path, "").as_bytes())
        .await
        .unwrap();
    let (text, closed) = read_until(&mut socket, |t| t.contains("retry:")).await;
    assert!(!closed, "{text}");
    assert!(text.contains("HTTP/1.1 200 OK"), "{text}");
}

#[tokio::test]
async fn a_stream_request_with_a_head_too_long_for_the_front_is_served_by_hyper() {
    let (s, path) = server_with_shopper(config()).await;
    let mut socket = TcpStream::connect(s.addr).await.unwrap();
    let cookie = format!("Cookie: c={}\r\n", "x".repeat(9 * 1024));
    socket
        .write_all(request(&path, &cookie).as_bytes())
        .await
        .unwrap();
    let (text, closed) = read_until(&mut socket, |t| t.contains("retry:")).await;
    assert!(!closed, "{text}");
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
}

#[tokio::test]
async fn a_head_that_is_not_http_gets_hypers_answer_and_the_server_goes_on() {
    let s = TestServer::start().await;
    let mut socket = TcpStream::connect(s.addr).await.unwrap();
    socket
        .write_all(b"\x16\x03\x01 not http\r\n\r\n")
        .await
        .unwrap();
    let (text, closed) = read_until(&mut socket, |_| false).await;
    assert!(closed, "{text}");
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 400"),
        "{text:?}"
    );
    let r = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_stream_whose_peer_goes_is_let_go() {
    let (s, path) = server_with_shopper(config()).await;
    let mut socket = TcpStream::connect(s.addr).await.unwrap();
    socket
        .write_all(request(&path, "").as_bytes())
        .await
        .unwrap();
    read_until(&mut socket, |t| t.contains("retry:")).await;
    let open = || async {
        let text = s
            .http
            .get(s.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(r#"livequeue_connections{transport="sse"} "#))
            .map(|v| v.trim().to_owned())
    };
    assert_eq!(open().await.as_deref(), Some("1"));
    drop(socket);
    let deadline = Instant::now() + Duration::from_secs(5);
    while open().await.as_deref() != Some("0") {
        assert!(Instant::now() < deadline, "a closed stream is still held");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
