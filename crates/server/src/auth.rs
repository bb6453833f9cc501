//! Shopper tokens, the operator's bearer token and stream tickets, allowed origins and
//! anonymous labels.
//!
//! A shopper token is `base64url(claims) "." base64url(HMAC-SHA256(secret, claims))`. The
//! claims bind one consumer to one experience until an expiry, so a token is useless for
//! another shopper's id or another experience. The MAC is checked with `Mac::verify_slice`,
//! which compares in constant time.
//!
//! A stream ticket (for the operator's `EventSource`, which cannot send an `Authorization`
//! header) is `{expiry seconds}.base64url(HMAC-SHA256(secret, domain, operator token,
//! expiry))`: stateless, so any node with the same secret and operator token accepts it,
//! and worthless once the operator token changes. It is checked when a stream opens; an
//! open stream outlives it.
//!
//! [`AuthError`] is the one answer to "may this shopper read this feed?", for every
//! transport: [`crate::AppState::authorize`] returns it, `From<AuthError> for AppError` is its
//! HTTP answer and [`AuthError::close_code`] its WebSocket close.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use livequeue_protocol::{CloseCode, ConsumerId, ExperienceId, IdError};

type HmacSha256 = Hmac<Sha256>;

/// Why a shopper may not open their feed (poll, SSE or WebSocket).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A required parameter (named by its wire name) is missing or empty.
    #[error("{0} is required")]
    Missing(&'static str),
    /// An id breaks its rule.
    #[error(transparent)]
    BadId(#[from] IdError),
    /// No such experience.
    #[error("no experience `{0}`")]
    UnknownExperience(ExperienceId),
    /// The token is not ours, expired, or names someone else. The detail is for the log;
    /// the client only learns "invalid or expired".
    #[error("token is invalid or expired")]
    BadToken(TokenError),
    /// The token is good but this epoch does not know the shopper, and the experience is
    /// closed, so they cannot be given their place again.
    #[error("experience `{0}` is closed")]
    Closed(ExperienceId),
    /// The queue's store could not be asked (Redis unreachable): try again later.
    #[error("the queue's store is unavailable: {0}")]
    Unavailable(String),
}

impl AuthError {
    /// The WebSocket close for this refusal (the HTTP answer is `From<AuthError> for
    /// AppError`).
    pub fn close_code(&self) -> CloseCode {
        match self {
            AuthError::Missing(_) | AuthError::BadId(_) => CloseCode::MissingParameters,
            AuthError::UnknownExperience(_) => CloseCode::UnknownExperience,
            // A closed experience cannot give an unknown shopper a place: to the client this
            // is the same as a token the server does not accept.
            AuthError::BadToken(_) | AuthError::Closed(_) => CloseCode::BadToken,
            AuthError::Unavailable(_) => CloseCode::TryAgainLater,
        }
    }
}

/// A shopper whose token was checked for this experience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    /// The experience the token is for.
    pub experience: ExperienceId,
    /// The shopper.
    pub consumer: ConsumerId,
}

/// The claims inside a shopper token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Claims {
    /// Consumer id.
    c: String,
    /// Experience id.
    e: String,
    /// Expiry, seconds since the Unix epoch.
    x: u64,
}

/// Why a token was refused. The HTTP layer says only "invalid or expired" to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not two base64url parts, or claims that do not parse.
    #[error("malformed token")]
    Malformed,
    /// The MAC does not match: forged, or signed with another secret.
    #[error("bad signature")]
    BadSignature,
    /// Past its expiry.
    #[error("expired")]
    Expired,
    /// Valid, but for another consumer or experience.
    #[error("token belongs to another consumer or experience")]
    WrongSubject,
}

/// How long a stream ticket opens streams, in seconds.
pub const STREAM_TICKET_SECS: u64 = 60;

/// Why a stream ticket was refused; each says so to the operator (the ticket is theirs,
/// and there is nothing to hide about why it failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// Not `{expiry}.{signature}`.
    #[error("stream ticket is malformed: ask POST /api/admin/stream-ticket for one")]
    Malformed,
    /// The signature does not match: made up, altered, or issued by a server with another
    /// secret or operator token.
    #[error(
        "stream ticket is forged or from another server: its signature does not match this \
         server's secret and operator token"
    )]
    Forged,
    /// Signed by us, but its time is up.
    #[error(
        "stream ticket expired: a ticket opens streams for {STREAM_TICKET_SECS} s; ask \
         POST /api/admin/stream-ticket for a new one"
    )]
    Expired,
}

/// Signs and checks tokens, and derives labels, with the server's secret.
#[derive(Clone)]
pub struct Auth {
    secret: Vec<u8>,
    token_ttl_secs: u64,
    admin_token: Option<String>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("token_ttl_secs", &self.token_ttl_secs)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// An authority with `secret` (any length; HMAC accepts every key size), tokens valid
    /// for `token_ttl_secs`, and the operator's token if configured.
    pub fn new(secret: Vec<u8>, token_ttl_secs: u64, admin_token: Option<String>) -> Self {
        Self {
            secret,
            token_ttl_secs,
            admin_token: admin_token.filter(|t| !t.is_empty()),
        }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length.
        HmacSha256::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!())
    }

    /// A token for `consumer` in `experience`, issued at `now_secs`.
    pub fn issue(&self, consumer: &str, experience: &str, now_secs: u64) -> String {
        let claims = Claims {
            c: consumer.into(),
            e: experience.into(),
            x: now_secs + self.token_ttl_secs,
        };
        let payload = B64.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let tag = B64.encode(mac.finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// Checks that `token` is ours, unexpired, and names this consumer and experience.
    pub fn verify(
        &self,
        token: &str,
        consumer: &str,
        experience: &str,
        now_secs: u64,
    ) -> Result<(), TokenError> {
        let (payload, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let tag = B64.decode(tag).map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;
        let claims: Claims = B64
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenError::Malformed)?;
        if claims.x <= now_secs {
            return Err(TokenError::Expired);
        }
        if claims.c != consumer || claims.e != experience {
            return Err(TokenError::WrongSubject);
        }
        Ok(())
    }

    /// Whether an `Authorization` header value carries the operator's token. Compared in
    /// constant time (through the MAC) so the token cannot be guessed byte by byte.
    pub fn is_admin(&self, authorization: Option<&str>) -> bool {
        let (Some(expected), Some(given)) = (&self.admin_token, authorization) else {
            return false;
        };
        let Some(given) = given.strip_prefix("Bearer ") else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(expected.as_bytes());
        let expected_tag = mac.finalize().into_bytes();
        let mut mac = self.mac();
        mac.update(given.trim().as_bytes());
        mac.verify_slice(&expected_tag).is_ok()
    }

    /// The MAC of a stream ticket expiring at `expiry` (seconds), bound to the operator
    /// token; `None` without one (then nobody is an operator).
    fn ticket_mac(&self, expiry: &str) -> Option<HmacSha256> {
        let admin = self.admin_token.as_deref()?;
        let mut mac = self.mac();
        mac.update(b"stream-ticket:");
        // Length-prefixed, so no token and expiry can be shifted into another pair.
        mac.update(&(admin.len() as u64).to_be_bytes());
        mac.update(admin.as_bytes());
        mac.update(expiry.as_bytes());
        Some(mac)
    }

    /// A stream ticket issued at `now_secs`, valid for [`STREAM_TICKET_SECS`]; `None`
    /// when no operator token is configured.
    pub fn issue_stream_ticket(&self, now_secs: u64) -> Option<String> {
        let expiry = (now_secs + STREAM_TICKET_SECS).to_string();
        let tag = B64.encode(self.ticket_mac(&expiry)?.finalize().into_bytes());
        Some(format!("{expiry}.{tag}"))
    }

    /// Checks a stream ticket at `now_secs`: ours (constant-time MAC check), unexpired.
    pub fn verify_stream_ticket(&self, ticket: &str, now_secs: u64) -> Result<(), TicketError> {
        let (expiry, tag) = ticket.split_once('.').ok_or(TicketError::Malformed)?;
        let at: u64 = expiry.parse().map_err(|_| TicketError::Malformed)?;
        let tag = B64
            .decode(tag)
            .ok()
            .filter(|t| t.len() == 32)
            .ok_or(TicketError::Malformed)?;
        let mac = self.ticket_mac(expiry).ok_or(TicketError::Forged)?;
        mac.verify_slice(&tag).map_err(|_| TicketError::Forged)?;
        if at <= now_secs {
            return Err(TicketError::Expired);
        }
        Ok(())
    }

    /// An anonymous, stable label for a synthetic shopper, from their ticket (they have no
    /// id), in the same form as [`Auth::label`].
    pub fn synthetic_label(&self, ticket: u64) -> String {
        let mut mac = self.mac();
        mac.update(b"synthetic-label:");
        mac.update(&ticket.to_be_bytes());
        label_of(&mac.finalize().into_bytes())
    }

    /// An anonymous, stable label for a shopper: it reveals neither id nor token.
    pub fn label(&self, consumer: &str) -> String {
        let mut mac = self.mac();
        mac.update(b"label:");
        mac.update(consumer.as_bytes());
        label_of(&mac.finalize().into_bytes())
    }
}

/// `Shopper 3F9A-21C0`, from the first four bytes of a MAC.
fn label_of(b: &[u8]) -> String {
    format!("Shopper {:02X}{:02X}-{:02X}{:02X}", b[0], b[1], b[2], b[3])
}

/// Which browser origins may call the API and open WebSockets.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// Exact origins such as `https://shop.example`; `*` allows any.
    allowed: Vec<String>,
}

impl Origins {
    /// From a comma-separated list.
    pub fn parse(list: &str) -> Self {
        let allowed = list
            .split(',')
            .map(|s| s.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        Self { allowed }
    }

    /// Whether `origin` may connect to a server reached as `host` (the `Host` header): its
    /// own origin always may, others only when listed.
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        if let (Some(host), Some(rest)) = (host, origin.split_once("://").map(|(_, rest)| rest))
            && rest == host.to_ascii_lowercase()
        {
            return true;
        }
        self.is_listed(&origin)
    }

    /// Whether `origin` is configured (CORS answers only listed origins; same-origin
    /// requests need no CORS).
    pub fn is_listed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        self.allowed.iter().any(|a| a == "*" || *a == origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::new(b"secret".to_vec(), 3600, Some("admin-token".into()))
    }

    #[test]
    fn a_token_verifies_only_for_its_consumer_experience_and_lifetime() {
        let a = auth();
        let t = a.issue("c1", "e1", 1000);
        assert_eq!(a.verify(&t, "c1", "e1", 1000), Ok(()));
        assert_eq!(
            a.verify(&t, "c2", "e1", 1000),
            Err(TokenError::WrongSubject)
        );
        assert_eq!(
            a.verify(&t, "c1", "e2", 1000),
            Err(TokenError::WrongSubject)
        );
        assert_eq!(a.verify(&t, "c1", "e1", 4600), Err(TokenError::Expired));
        let other = Auth::new(b"other".to_vec(), 3600, None);
        assert_eq!(
            other.verify(&t, "c1", "e1", 1000),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            a.verify("garbage", "c1", "e1", 1000),
            Err(TokenError::Malformed)
        );
        let tampered = t.replacen('e', "f", 1);
        assert!(a.verify(&tampered, "c1", "e1", 1000).is_err());
    }

    #[test]
    fn each_refusal_closes_a_websocket_with_its_protocol_code() {
        let drop: ExperienceId = "drop".parse().unwrap();
        let cases = [
            (AuthError::Missing("token"), CloseCode::MissingParameters),
            (
                AuthError::BadId(IdError::Consumer),
                CloseCode::MissingParameters,
            ),
            (
                AuthError::UnknownExperience(drop.clone()),
                CloseCode::UnknownExperience,
            ),
            (
                AuthError::BadToken(TokenError::Expired),
                CloseCode::BadToken,
            ),
            (AuthError::Closed(drop), CloseCode::BadToken),
        ];
        for (refusal, code) in cases {
            assert_eq!(
                refusal.close_code(),
                code,
                "{refusal:?} closes with the wrong code"
            );
        }
    }

    #[test]
    fn admin_token_must_match_exactly() {
        let a = auth();
        assert!(a.is_admin(Some("Bearer admin-token")));
        assert!(!a.is_admin(Some("Bearer admin-toke")));
        assert!(!a.is_admin(Some("admin-token")));
        assert!(!a.is_admin(None));
        assert!(!Auth::new(b"s".to_vec(), 1, None).is_admin(Some("Bearer ")));
    }

    #[test]
    fn a_stream_ticket_opens_streams_for_sixty_seconds_and_says_why_it_is_refused() {
        let a = auth();
        let ticket = a.issue_stream_ticket(1000).unwrap();
        assert_eq!(a.verify_stream_ticket(&ticket, 1000), Ok(()));
        assert_eq!(a.verify_stream_ticket(&ticket, 1059), Ok(()));
        assert_eq!(
            a.verify_stream_ticket(&ticket, 1060),
            Err(TicketError::Expired),
            "a ticket outlived its sixty seconds"
        );
        let later = ticket.replacen("1060", "9999", 1);
        assert_eq!(
            a.verify_stream_ticket(&later, 1000),
            Err(TicketError::Forged),
            "a ticket's expiry could be moved"
        );
        let rotated = Auth::new(b"secret".to_vec(), 3600, Some("new-admin".into()));
        assert_eq!(
            rotated.verify_stream_ticket(&ticket, 1000),
            Err(TicketError::Forged),
            "a ticket survived a change of operator token"
        );
        let same = Auth::new(b"secret".to_vec(), 3600, Some("admin-token".into()));
        assert_eq!(
            same.verify_stream_ticket(&ticket, 1000),
            Ok(()),
            "another node with the same secret refused the ticket"
        );
        for junk in ["", "x", "12.", "abc.def", "1060.!!!"] {
            assert_eq!(
                a.verify_stream_ticket(junk, 1000),
                Err(TicketError::Malformed),
                "{junk:?}"
            );
        }
        assert_eq!(
            Auth::new(b"s".to_vec(), 1, None).issue_stream_ticket(0),
            None
        );
    }

    #[test]
    fn same_origin_and_listed_origins_are_allowed() {
        let o = Origins::parse("https://shop.example, http://localhost:8081/");
        assert!(o.allows("http://127.0.0.1:8080", Some("127.0.0.1:8080")));
        assert!(o.allows("https://shop.example", Some("q.example")));
        assert!(o.allows("http://localhost:8081", None));
        assert!(!o.allows("https://evil.example", Some("q.example")));
        assert!(Origins::parse("*").allows("https://any.example", None));
    }

    #[test]
    fn labels_are_stable_and_do_not_contain_the_id() {
        let a = auth();
        assert_eq!(a.label("c_123"), a.label("c_123"));
        assert_ne!(a.label("c_123"), a.label("c_124"));
        assert!(!a.label("c_123").contains("123"));
    }
}
