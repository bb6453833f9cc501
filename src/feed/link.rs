//! The feed's transports as the controller holds them: an open [`Transport`] tagged with its
//! generation, and how one is opened for the shopper's credentials.

use livequeue_protocol::EventId;
use livequeue_protocol::supervisor::TransportKind;

use crate::config::WidgetConfig;
use crate::session::Credentials;
use crate::transport::poll::PollConnection;
use crate::transport::sse::SseConnection;
use crate::transport::ws::WsConnection;
use crate::transport::{Transport, TransportEvent};
use crate::{api, format, log};

/// An open transport, current or probe.
pub(super) struct Link {
    /// The connection; dropping it releases its socket, listeners and timers.
    pub(super) transport: Transport,
    /// Tags its events: an event of a generation no longer held is a late one of a
    /// transport already replaced, and is ignored.
    pub(super) generation: u32,
}

/// Opens `kind` for `credentials`; its events go to `report`. `resume`: an SSE stream
/// continues after `cursor` (the server replays what was missed) instead of starting with a
/// snapshot. `None` when the browser refuses the URL (logged).
pub(super) fn open(
    kind: TransportKind,
    config: &WidgetConfig,
    credentials: &Credentials,
    cursor: Option<EventId>,
    report: impl Fn(TransportEvent) + 'static,
) -> Option<Transport> {
    let opened = match kind {
        TransportKind::WebSocket => {
            WsConnection::open(&api::ws_url(config, credentials), config.timings.ws, report)
                .map(Transport::WebSocket)
        }
        TransportKind::Sse => {
            SseConnection::open(&api::sse_url(config, credentials, cursor), report)
                .map(Transport::Sse)
        }
        TransportKind::Poll => Ok(Transport::Poll(PollConnection::open(
            api::poll_url(config, credentials),
            config.timings.poll,
            report,
        ))),
    };
    opened
        .map_err(|error| {
            let detail = error.as_string().unwrap_or_default();
            log::error2(
                "livequeue: cannot open a transport: ",
                &format::concat(&[kind.as_str(), ": ", &detail]),
            )
        })
        .ok()
}
