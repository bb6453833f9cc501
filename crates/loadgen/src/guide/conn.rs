//! Connections to the guide's server on its own URLs: `GET /api/sse/queue/:experienceId
//! ?consumerId=…` (its client hook's) and `/ws/queue?experienceId=…&consumerId=…`. Read by
//! livequeue's own readers ([`crate::sse::run_with`], [`crate::ws::run_with`]): a raw socket
//! and a byte scan for `"available":N`, or tokio-tungstenite with small buffers. The first
//! `"available"` is in the initial state (the SSE route's unnamed first event, the
//! WebSocket's `initial_state`), which makes the connection ready.

use std::net::SocketAddr;

use crate::transport::Routes;
use crate::ws::CloseNames;

/// Where the guide mounts its SSE router (`app.use("/api/sse", router)`, route
/// `/queue/:experienceId`).
pub const SSE_PREFIX: &str = "/api/sse/queue/";
/// The guide's WebSocketServer path.
pub const WS_PATH: &str = "/ws/queue";

/// The guide's routes; its close frames carry no code of livequeue's protocol, so they are
/// told by number and reason.
pub const ROUTES: Routes = Routes {
    sse_request: |conn| {
        sse_request(
            conn.server,
            conn.experience.as_str(),
            &conn.shopper.consumer_id,
        )
    },
    ws_url: |conn| {
        ws_url(
            conn.server,
            conn.experience.as_str(),
            &conn.shopper.consumer_id,
        )
    },
    close_names: CloseNames::Raw,
};

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
