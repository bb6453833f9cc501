//! Connections to the guide's server on its own URLs: `GET /api/sse/queue/:experienceId
//! ?consumerId=…` (its client hook's) and `/ws/queue?experienceId=…&consumerId=…`. Read the
//! same way as livequeue's ([`crate::sse`], [`crate::ws`]): a raw socket and a byte scan
//! for `"available":N`, or tokio-tungstenite with small buffers. The first `"available"`
//! is in the initial state (the SSE route's unnamed first event, the WebSocket's
//! `initial_state`), which makes the connection ready.

use std::net::SocketAddr;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::client_async_with_config;
use tokio_tungstenite::tungstenite::Message;

use crate::scan::AvailableScanner;
use crate::sse::{READ_BUFFER, head_end};
use crate::transport::{Conn, OPEN_TIMEOUT, Transport};

/// Where the guide mounts its SSE router (`app.use("/api/sse", router)`, route
/// `/queue/:experienceId`).
pub const SSE_PREFIX: &str = "/api/sse/queue/";
/// The guide's WebSocketServer path.
pub const WS_PATH: &str = "/ws/queue";

/// The request line and headers of `consumer`'s stream. Ids here are `[a-z0-9-]`, nothing
/// to escape.
pub fn sse_request(server: SocketAddr, experience: &str, consumer: &str) -> String {
    format!(
        "GET {SSE_PREFIX}{experience}?consumerId={consumer} HTTP/1.1\r\nHost: {server}\r\n\
         Accept: text/event-stream\r\n\r\n"
    )
}

/// The upgrade URL of `consumer`'s WebSocket.
pub fn ws_url(server: SocketAddr, experience: &str, consumer: &str) -> String {
    format!("ws://{server}{WS_PATH}?experienceId={experience}&consumerId={consumer}")
}

/// Runs one connection of `transport` until it fails or is aborted, reporting into its
/// tally.
pub async fn run(transport: Transport, mut conn: Conn) {
    let failure = match transport {
        Transport::Sse => run_sse(&mut conn).await,
        Transport::Ws => run_ws(&mut conn).await,
    };
    conn.tally.failed(failure, conn.is_ready());
}

async fn run_sse(conn: &mut Conn) -> String {
    let mut buf = [0u8; READ_BUFFER];
    let mut scanner = AvailableScanner::new();
    let request = sse_request(
        conn.server,
        conn.experience.as_str(),
        &conn.shopper.consumer_id,
    );
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

async fn run_ws(conn: &mut Conn) -> String {
    let mut scanner = AvailableScanner::new();
    let url = ws_url(
        conn.server,
        conn.experience.as_str(),
        &conn.shopper.consumer_id,
    );
    let opened = timeout(OPEN_TIMEOUT, async {
        let stream = conn.connect().await.map_err(|e| format!("connect: {e}"))?;
        let (socket, _response) = client_async_with_config(url, stream, Some(crate::ws::config()))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        Ok::<_, String>(socket)
    })
    .await;
    let mut socket = match opened {
        Ok(Ok(socket)) => socket,
        Ok(Err(why)) => return why,
        Err(_) => return "no upgrade within the open timeout".to_string(),
    };
    loop {
        let next = if conn.is_ready() {
            socket.next().await
        } else {
            match timeout(OPEN_TIMEOUT, socket.next()).await {
                Ok(next) => next,
                Err(_) => return "no first state within the open timeout".to_string(),
            }
        };
        match next {
            Some(Ok(Message::Text(text))) => {
                conn.received(&mut scanner, text.as_bytes(), Instant::now());
            }
            Some(Ok(Message::Close(frame))) => {
                return match frame {
                    Some(f) => format!("closed by the server: {} {}", f.code, f.reason),
                    None => "closed by the server".to_string(),
                };
            }
            // Pings are answered by tungstenite itself.
            Some(Ok(_)) => {}
            Some(Err(e)) => return format!("read: {e}"),
            None => return "closed by the server".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_urls_are_the_guides() {
        let server: SocketAddr = ([127, 0, 0, 1], 3000).into();
        assert_eq!(
            sse_request(server, "e-1", "c-2").lines().next(),
            Some("GET /api/sse/queue/e-1?consumerId=c-2 HTTP/1.1")
        );
        assert_eq!(
            ws_url(server, "e-1", "c-2"),
            "ws://127.0.0.1:3000/ws/queue?experienceId=e-1&consumerId=c-2"
        );
    }
}
