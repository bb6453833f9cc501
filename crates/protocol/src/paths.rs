//! The URL of every endpoint, built in one place.
//!
//! The server registers its routes with [`Endpoint::route`]; the widget and the load
//! generator build request URLs with [`Endpoint::path`] and [`query`]. A path changes here or
//! nowhere.

use crate::ids::ExperienceId;

/// The placeholder of the experience id in [`Endpoint::route`] patterns (axum's syntax).
pub const EXPERIENCE_PLACEHOLDER: &str = "{experience_id}";

/// Query parameter: the experience (WebSocket only; the others carry it in the path).
pub const EXPERIENCE_ID: &str = "experienceId";
/// Query parameter: the shopper.
pub const CONSUMER_ID: &str = "consumerId";
/// Query parameter: the shopper's signed token.
pub const TOKEN: &str = "token";
/// Query parameter (SSE): resume after this event id on a first connection.
pub const LAST_EVENT_ID: &str = "lastEventId";
/// Query parameter (operator stream): the [`crate::api::StreamTicket`].
pub const TICKET: &str = "ticket";

/// An HTTP or WebSocket endpoint of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST`: a new place at the back of the line.
    Join,
    /// `GET`: the shopper's state (polling), with `ETag` / `If-None-Match`.
    Poll,
    /// `GET`: the update stream as Server-Sent Events.
    Sse,
    /// `POST`: the shop's checkout redeems a grant.
    Redeem,
    /// `POST` (shopper token): more time on the shopper's active grant, once.
    Extend,
    /// `POST` (shopper token): reserve units against the shopper's active grant.
    Reserve,
    /// `POST` (shopper token): give up the shopper's place (and grant, if admitted).
    Leave,
    /// `GET`: a page of the anonymized line (operator token).
    Entries,
    /// `POST` (operator): create an experience; `GET`: list them all.
    CreateExperience,
    /// `GET` / `PATCH` (operator): one experience's figures and settings.
    Experience,
    /// `POST` (operator): admit shoppers now.
    Admit,
    /// `POST` (operator): a short-lived ticket for the operator stream.
    StreamTicket,
    /// `GET` (`?ticket=`): the operator's live figures as Server-Sent Events.
    OperatorStream,
    /// `POST` (operator, `--demo` or `--test-controls`): synthetic shoppers join at once.
    Synthetic,
    /// `POST` (operator, `--test-controls`): send raw frames to the experience's clients.
    Inject,
    /// `PUT` (operator, `--test-controls`): switch transports off and on.
    Transports,
    /// `GET` upgrade: the update stream over WebSocket.
    WebSocket,
    /// `GET`: liveness: the process answers.
    Health,
    /// `GET`: readiness: the engine can serve (a load balancer sends traffic only then).
    Ready,
    /// `GET`: the node's metrics in the Prometheus text format.
    Metrics,
}

impl Endpoint {
    /// The route pattern, with [`EXPERIENCE_PLACEHOLDER`] where the id goes.
    pub const fn route(self) -> &'static str {
        match self {
            Endpoint::Join => "/api/experiences/{experience_id}/join",
            Endpoint::Poll => "/api/queue/{experience_id}",
            Endpoint::Sse => "/api/sse/queue/{experience_id}",
            Endpoint::Redeem => "/api/experiences/{experience_id}/redeem",
            Endpoint::Extend => "/api/experiences/{experience_id}/extend",
            Endpoint::Reserve => "/api/experiences/{experience_id}/reserve",
            Endpoint::Leave => "/api/experiences/{experience_id}/leave",
            Endpoint::Entries => "/api/experiences/{experience_id}/entries",
            Endpoint::CreateExperience => "/api/admin/experiences",
            Endpoint::Experience => "/api/admin/experiences/{experience_id}",
            Endpoint::Admit => "/api/admin/experiences/{experience_id}/admit",
            Endpoint::StreamTicket => "/api/admin/stream-ticket",
            Endpoint::OperatorStream => "/api/admin/experiences/{experience_id}/stream",
            Endpoint::Synthetic => "/api/admin/experiences/{experience_id}/synthetic",
            Endpoint::Inject => "/api/admin/experiences/{experience_id}/inject",
            Endpoint::Transports => "/api/admin/transports",
            Endpoint::WebSocket => "/ws/queue",
            Endpoint::Health => "/healthz",
            Endpoint::Ready => "/readyz",
            Endpoint::Metrics => "/metrics",
        }
    }

    /// The path for `experience` (an id needs no encoding: its alphabet is path-safe).
    /// Endpoints without an id in the path ignore it.
    pub fn path(self, experience: &ExperienceId) -> String {
        self.route()
            .replace(EXPERIENCE_PLACEHOLDER, experience.as_str())
    }
}

/// `?k=v&k=v`, each value percent-encoded; an empty list is `""`.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(key);
        out.push('=');
        encode_component_into(value, &mut out);
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so an id or token is one
/// path segment or query value whatever it contains.
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    encode_component_into(value, &mut out);
    out
}

fn encode_component_into(value: &str, out: &mut String) {
    // A table, not `format!("{:02X}")`: the widget keeps `core::fmt` off its common paths.
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xF)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_put_the_experience_where_the_route_has_its_placeholder() {
        let id: ExperienceId = "demo-drop".parse().unwrap();
        assert_eq!(Endpoint::Join.path(&id), "/api/experiences/demo-drop/join");
        assert_eq!(Endpoint::Sse.path(&id), "/api/sse/queue/demo-drop");
        assert_eq!(Endpoint::WebSocket.path(&id), "/ws/queue");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            query(&[(CONSUMER_ID, "c_1"), (TOKEN, "a.b+c/=")]),
            "?consumerId=c_1&token=a.b%2Bc%2F%3D"
        );
        assert_eq!(encode_component("7:3 é"), "7%3A3%20%C3%A9");
        assert_eq!(query(&[]), "");
    }
}
