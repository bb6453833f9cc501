//! WebSocket connections with tokio-tungstenite, with buffers sized for idle connections.

use std::net::SocketAddr;

use futures_util::StreamExt;
use livequeue_protocol::{CloseCode, Endpoint, ExperienceId, paths};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::client_async_with_config;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::api::Shopper;
use crate::scan::AvailableScanner;
use crate::transport::{Conn, OPEN_TIMEOUT};

/// The upgrade URL of the connection.
pub fn url(conn: &Conn) -> String {
    stream_url(conn.server, &conn.experience, &conn.shopper)
}

/// The upgrade URL of `shopper`'s stream on the server at `server`.
pub fn stream_url(server: SocketAddr, experience: &ExperienceId, shopper: &Shopper) -> String {
    let query = paths::query(&[
        (paths::EXPERIENCE_ID, experience.as_str()),
        (paths::CONSUMER_ID, &shopper.consumer_id),
        (paths::TOKEN, &shopper.token),
    ]);
    let path = Endpoint::WebSocket.path(experience);
    format!("ws://{server}{path}{query}")
}

/// tungstenite's defaults allocate a 128 KB read buffer per connection up front (6 GB for
/// 50k connections); messages here are under 1 KB.
pub fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(2048)
        .write_buffer_size(0)
}

/// How a server's close frame is told in a failure reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseNames {
    /// By the protocol's name for its code ([`CloseCode`]), where it has one: livequeue's
    /// server speaks these codes.
    Protocol,
    /// By its number and reason text, as sent: a server that does not speak this protocol.
    Raw,
}

/// Runs the connection, upgraded at `url`, until it fails (returning why) or is aborted.
pub async fn run_with(conn: &mut Conn, url: String, close_names: CloseNames) -> String {
    let mut scanner = AvailableScanner::new();
    let opened = timeout(OPEN_TIMEOUT, async {
        let stream = conn.connect().await.map_err(|e| format!("connect: {e}"))?;
        let (socket, _response) = client_async_with_config(url, stream, Some(config()))
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
                let named = |code| match close_names {
                    CloseNames::Protocol => CloseCode::from_code(code),
                    CloseNames::Raw => None,
                };
                return match frame {
                    Some(f) => match named(u16::from(f.code)) {
                        Some(code) => format!("closed by the server: {code}"),
                        None => format!("closed by the server: {} {}", f.code, f.reason),
                    },
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
