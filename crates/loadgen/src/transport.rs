//! The two push transports behind one closed enum, and what every connection shares: its
//! source address, its socket, and how it reports into the [`Tally`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use livequeue_protocol::supervisor::TransportKind;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use crate::api::Shopper;
use crate::scan::AvailableScanner;
use crate::tally::Tally;
use crate::{sse, ws};

/// How long a connection may take from `connect` to its first state before it counts as
/// failed (a server that stopped accepting would otherwise stall the phase forever).
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(60);

/// Source addresses are `127.0.0.x` from this `x` on (127.0.0.1 stays for setup calls).
const FIRST_SOURCE_HOST: u8 = 2;
/// Source addresses set aside per phase, so a phase never binds ports that the previous
/// phase's closed sockets still hold in `TIME_WAIT`: 20 × 5,000 = 100k connections by default.
pub const SOURCES_PER_PHASE: usize = 20;

/// A push transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Server-Sent Events over a raw TCP stream.
    Sse,
    /// WebSocket (tokio-tungstenite).
    Ws,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Sse => "SSE",
            Transport::Ws => "WebSocket",
        })
    }
}

impl Transport {
    /// The protocol's name for it, which the widget's supervisor decides with.
    pub fn kind(self) -> TransportKind {
        match self {
            Transport::Sse => TransportKind::Sse,
            Transport::Ws => TransportKind::WebSocket,
        }
    }
}

/// The source address of connection `conn` in phase `phase`, when each address holds at
/// most `per_source` connections: `127.0.0.(2 + 20·phase + conn / per_source)`.
pub fn source_ip(phase: usize, conn: usize, per_source: usize) -> Ipv4Addr {
    let slot = (conn / per_source.max(1)).min(SOURCES_PER_PHASE - 1);
    let host = usize::from(FIRST_SOURCE_HOST) + phase * SOURCES_PER_PHASE + slot;
    Ipv4Addr::new(127, 0, 0, u8::try_from(host).unwrap_or(u8::MAX))
}

/// Opens a TCP connection to `server` from `source` (any free port), without Nagle's delay.
pub async fn connect_from(source: Ipv4Addr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One connection to open.
#[derive(Debug)]
pub struct Conn {
    /// Index into the tally.
    pub index: usize,
    /// The server.
    pub server: SocketAddr,
    /// The address to connect from.
    pub source: Ipv4Addr,
    /// The experience.
    pub experience: Arc<livequeue_protocol::ExperienceId>,
    /// Whose connection it is.
    pub shopper: Shopper,
    /// Where to report.
    pub tally: Arc<Tally>,
    /// Held from `connect` until the first state: bounds the handshakes in flight.
    pub permit: Option<OwnedSemaphorePermit>,
    /// When `connect` began.
    pub started: Instant,
}

impl Conn {
    /// Opens a TCP connection from the source address.
    pub async fn connect(&mut self) -> std::io::Result<TcpStream> {
        self.started = Instant::now();
        connect_from(self.source, self.server).await
    }

    /// Reports every stock value in `bytes`, received `at`; the first value (the state the
    /// server sends on connect) makes the connection ready and frees its handshake permit.
    pub fn received(&mut self, scanner: &mut AvailableScanner, bytes: &[u8], at: Instant) {
        scanner.feed(bytes, |value| {
            if self.permit.take().is_some() {
                self.tally
                    .ready(self.index, at.saturating_duration_since(self.started));
            }
            self.tally.saw(self.index, value, at);
        });
    }

    /// Whether the first state has arrived.
    pub fn is_ready(&self) -> bool {
        self.permit.is_none()
    }
}

/// Where a server serves the two transports: the one thing that differs between
/// livequeue's server and another measured with the same readers (`--guide-js`).
#[derive(Debug, Clone, Copy)]
pub struct Routes {
    /// The request line and headers of a connection's SSE stream.
    pub sse_request: fn(&Conn) -> String,
    /// The upgrade URL of a connection's WebSocket.
    pub ws_url: fn(&Conn) -> String,
    /// How the server's WebSocket close frames are told.
    pub close_names: ws::CloseNames,
}

/// livequeue's own routes ([`sse::request`], [`ws::url`]) and close codes.
pub const LIVEQUEUE_ROUTES: Routes = Routes {
    sse_request: sse::request,
    ws_url: ws::url,
    close_names: ws::CloseNames::Protocol,
};

impl Transport {
    /// Runs one connection on livequeue's routes until it fails or is aborted, reporting
    /// into its tally.
    pub async fn run(self, conn: Conn) {
        self.run_on(LIVEQUEUE_ROUTES, conn).await;
    }

    /// Runs one connection on `routes` until it fails or is aborted, reporting into its
    /// tally.
    pub async fn run_on(self, routes: Routes, conn: Conn) {
        let mut conn = conn;
        let failure = match self {
            Transport::Sse => {
                let request = (routes.sse_request)(&conn);
                sse::run_with(&mut conn, &request).await
            }
            Transport::Ws => {
                let url = (routes.ws_url)(&conn);
                ws::run_with(&mut conn, url, routes.close_names).await
            }
        };
        conn.tally.failed(failure, conn.is_ready());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_addresses_fill_one_at_a_time_and_phases_do_not_share() {
        assert_eq!(source_ip(0, 0, 20_000), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source_ip(0, 19_999, 20_000), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source_ip(0, 20_000, 20_000), Ipv4Addr::new(127, 0, 0, 3));
        assert_eq!(source_ip(0, 49_999, 20_000), Ipv4Addr::new(127, 0, 0, 4));
        assert_eq!(
            source_ip(1, 0, 20_000),
            Ipv4Addr::new(127, 0, 0, 22),
            "phase 2 starts past phase 1's block"
        );
    }
}
