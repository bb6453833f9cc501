//! Which transport to use, when to retry, when to fall back and when to give up.
//!
//! The widget feeds this state machine what happened (a transport opened, failed, the
//! browser went offline…) and does what it answers (open a transport after a delay, or
//! stop). The machine knows nothing of sockets or timers, so every rule is tested natively.
//!
//! Rules:
//! - Transports are tried in the configured order (default WebSocket, SSE, polling).
//! - A transport that has never worked in this feed and fails `switch_after` times in a row
//!   hands over to the next one. One that has worked is retried with backoff instead: its
//!   failures are the server's or the network's (a restart, a train in a tunnel), and the
//!   next transport would fail the same way.
//! - Every failure waits a full-jitter backoff delay; an open resets the counter; after the
//!   maximum the status is `Failed` until [`Event::Reconnect`].
//! - A permanent failure (bad parameters or token) stops at once with its error.
//! - Offline: no attempts until online again, then one at once.
//! - While on a fallback, [`Supervisor::upgrade_target`] names the preferred transport to
//!   probe (every ~60 s); when the probe opens, the feed moves to it.

use std::fmt;

use crate::backoff::{Backoff, BackoffPolicy, RetryHint};
use crate::close::{CloseCode, Reconnect};
use crate::error_code::ErrorCode;

/// A way to receive updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// WebSocket push.
    WebSocket,
    /// Server-Sent Events push.
    Sse,
    /// Adaptive HTTP polling.
    Poll,
}

impl TransportKind {
    /// The name used in `?transport=` and the debug panel.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::WebSocket => "ws",
            TransportKind::Sse => "sse",
            TransportKind::Poll => "poll",
        }
    }

    /// Parses `ws`, `websocket`, `sse`, `poll` or `polling`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ws" | "websocket" => Some(TransportKind::WebSocket),
            "sse" | "eventsource" => Some(TransportKind::Sse),
            "poll" | "polling" => Some(TransportKind::Poll),
            _ => None,
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the shopper is told about the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionStatus {
    /// The first connection is being made.
    Connecting,
    /// Updates are pushed as they happen.
    Live,
    /// The connection dropped; a new one is on its way.
    Reconnecting,
    /// Updates come by polling (push is unavailable).
    Polling,
    /// The browser is offline; nothing is tried until it is back.
    Offline,
    /// Gave up; `reconnect()` starts again.
    Failed,
}

impl ConnectionStatus {
    /// The status in words (also its `Display`), as a constant: the widget renders it
    /// without `core::fmt`.
    pub const fn label(self) -> &'static str {
        match self {
            ConnectionStatus::Connecting => "Connecting…",
            ConnectionStatus::Live => "Live",
            ConnectionStatus::Reconnecting => "Reconnecting…",
            ConnectionStatus::Polling => "Live (polling)",
            ConnectionStatus::Offline => "Offline",
            ConnectionStatus::Failed => "Disconnected",
        }
    }
}

impl fmt::Display for ConnectionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How a transport failed: the protocol's [`Reconnect`] rule for what ended it.
///
/// [`Reconnect::Rejoin`] and [`Reconnect::Stop`] are both permanent (the same request will
/// be refused again); `Rejoin` is the refusal of the shopper's credentials, which a fresh
/// join may replace (`crate::feed` decides whether it does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// What a client does about it.
    pub reconnect: Reconnect,
}

impl Failure {
    /// An ordinary failure (network error, dropped stream).
    pub const TRANSIENT: Failure = Failure {
        reconnect: Reconnect::Backoff,
    };

    /// The failure a WebSocket close code means ([`CloseCode::reconnect_for`]).
    pub fn from_close_code(code: u16) -> Self {
        Failure {
            reconnect: CloseCode::reconnect_for(code),
        }
    }

    /// The failure an error answer with this [`ErrorCode`] means (SSE and polling).
    pub fn from_error_code(code: ErrorCode) -> Self {
        let reconnect = match code {
            ErrorCode::Unauthorized => Reconnect::Rejoin,
            ErrorCode::BadRequest
            | ErrorCode::ForbiddenOrigin
            | ErrorCode::NotFound
            | ErrorCode::MethodNotAllowed
            | ErrorCode::Conflict
            | ErrorCode::Gone
            | ErrorCode::PayloadTooLarge
            | ErrorCode::UnsupportedMediaType => Reconnect::Stop,
            ErrorCode::TransportRefused | ErrorCode::Unavailable => Reconnect::Later,
            ErrorCode::Internal | ErrorCode::Unknown => Reconnect::Backoff,
        };
        Failure { reconnect }
    }

    /// The failure an error status without our error body means: the status read as the
    /// code our server would have sent ([`crate::http_status::code_for`]).
    pub fn from_http_status(status: u16) -> Self {
        Self::from_error_code(crate::http_status::code_for(status))
    }

    /// The server's hint about when to come back.
    pub fn hint(self) -> RetryHint {
        match self.reconnect {
            Reconnect::Soon => RetryHint::Soon,
            Reconnect::Later => RetryHint::Later,
            Reconnect::Backoff | Reconnect::Rejoin | Reconnect::Stop => RetryHint::None,
        }
    }

    /// Retrying the same request cannot help (missing parameters, bad token): stop.
    pub fn is_permanent(self) -> bool {
        matches!(self.reconnect, Reconnect::Rejoin | Reconnect::Stop)
    }

    /// The shopper's credentials were refused: a new place may help.
    pub fn refuses_credentials(self) -> bool {
        self.reconnect == Reconnect::Rejoin
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The current transport opened and delivered its first message.
    Opened,
    /// The current transport failed or dropped.
    Failed(Failure),
    /// The browser went offline.
    Offline,
    /// The browser is online again.
    Online,
    /// The probe of the preferred transport opened: the feed moves to it.
    Upgraded,
    /// The shopper (or the host page) asked to start again.
    Reconnect,
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Open `kind` after `after_ms` (closing whatever transport is open).
    Open {
        /// The transport.
        kind: TransportKind,
        /// Delay in milliseconds.
        after_ms: u64,
    },
    /// Keep what is open (or wait, offline).
    Keep,
    /// Stop all attempts.
    Stop,
}

/// Supervisor settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisorConfig {
    /// Transports in order of preference. Default WebSocket, SSE, polling.
    pub order: Vec<TransportKind>,
    /// Failures in a row without opening before moving to the next transport. Default 2.
    pub switch_after: u32,
    /// Reconnect backoff.
    pub backoff: BackoffPolicy,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            order: vec![
                TransportKind::WebSocket,
                TransportKind::Sse,
                TransportKind::Poll,
            ],
            switch_after: 2,
            backoff: BackoffPolicy::default(),
        }
    }
}

/// The state machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Supervisor {
    config: SupervisorConfig,
    index: usize,
    backoff: Backoff,
    /// Failures in a row of the current transport without an open.
    failures_here: u32,
    opened_ever: bool,
    /// Transports that have delivered in this feed.
    worked: Vec<TransportKind>,
    status: ConnectionStatus,
}

impl Supervisor {
    /// A supervisor about to open the first transport. An empty order means polling only.
    pub fn new(mut config: SupervisorConfig) -> Self {
        if config.order.is_empty() {
            config.order.push(TransportKind::Poll);
        }
        let backoff = Backoff::new(config.backoff);
        Self {
            config,
            index: 0,
            backoff,
            failures_here: 0,
            opened_ever: false,
            worked: Vec::new(),
            status: ConnectionStatus::Connecting,
        }
    }

    /// The command to begin with.
    pub fn start(&self) -> Command {
        Command::Open {
            kind: self.current(),
            after_ms: 0,
        }
    }

    /// The transport in use (or being opened).
    pub fn current(&self) -> TransportKind {
        self.config.order[self.index]
    }

    /// The status to show.
    pub fn status(&self) -> ConnectionStatus {
        self.status
    }

    /// Failures since the last open.
    pub fn attempts(&self) -> u32 {
        self.backoff.attempts()
    }

    /// The preferred transport to probe, when the feed runs on a fallback and is healthy.
    pub fn upgrade_target(&self) -> Option<TransportKind> {
        let healthy = matches!(
            self.status,
            ConnectionStatus::Live | ConnectionStatus::Polling
        );
        (healthy && self.index > 0).then(|| self.config.order[0])
    }

    fn live_status(&self) -> ConnectionStatus {
        if self.current() == TransportKind::Poll {
            ConnectionStatus::Polling
        } else {
            ConnectionStatus::Live
        }
    }

    /// Handles one event; `jitter` is uniform in `[0, 1)`.
    pub fn handle(&mut self, event: Event, jitter: f64) -> Command {
        match event {
            Event::Opened => {
                self.backoff.reset();
                self.failures_here = 0;
                self.opened_ever = true;
                if !self.worked.contains(&self.current()) {
                    self.worked.push(self.current());
                }
                self.status = self.live_status();
                Command::Keep
            }
            Event::Upgraded => {
                self.index = 0;
                self.backoff.reset();
                self.failures_here = 0;
                self.status = self.live_status();
                Command::Keep
            }
            Event::Failed(failure) => self.failed(failure, jitter),
            Event::Offline => {
                if self.status != ConnectionStatus::Failed {
                    self.status = ConnectionStatus::Offline;
                }
                Command::Stop
            }
            Event::Online => {
                if self.status != ConnectionStatus::Offline {
                    return Command::Keep;
                }
                self.status = ConnectionStatus::Reconnecting;
                Command::Open {
                    kind: self.current(),
                    after_ms: 0,
                }
            }
            Event::Reconnect => {
                self.index = 0;
                self.backoff.reset();
                self.failures_here = 0;
                self.status = self.retrying_status();
                Command::Open {
                    kind: self.current(),
                    after_ms: 0,
                }
            }
        }
    }

    /// While a new connection is on its way: `Reconnecting` once the feed has worked.
    fn retrying_status(&self) -> ConnectionStatus {
        if self.opened_ever {
            ConnectionStatus::Reconnecting
        } else {
            ConnectionStatus::Connecting
        }
    }

    fn failed(&mut self, failure: Failure, jitter: f64) -> Command {
        if matches!(
            self.status,
            ConnectionStatus::Offline | ConnectionStatus::Failed
        ) {
            return Command::Stop;
        }
        if failure.is_permanent() {
            self.status = ConnectionStatus::Failed;
            return Command::Stop;
        }
        self.failures_here += 1;
        let has_next = self.index + 1 < self.config.order.len();
        let never_worked = !self.worked.contains(&self.current());
        if never_worked && self.failures_here >= self.config.switch_after && has_next {
            self.index += 1;
            self.failures_here = 0;
            self.status = self.retrying_status();
            // The next transport is a different path: try it at once.
            return Command::Open {
                kind: self.current(),
                after_ms: 0,
            };
        }
        match self.backoff.fail(failure.hint(), jitter) {
            Some(after_ms) => {
                self.status = self.retrying_status();
                Command::Open {
                    kind: self.current(),
                    after_ms,
                }
            }
            None => {
                self.status = ConnectionStatus::Failed;
                Command::Stop
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(kind: TransportKind) -> impl Fn(&Command) -> bool {
        move |c| matches!(c, Command::Open { kind: k, .. } if *k == kind)
    }

    #[test]
    fn a_transport_that_never_opens_hands_over_to_the_next_in_order() {
        let mut s = Supervisor::new(SupervisorConfig::default());
        assert!(open(TransportKind::WebSocket)(&s.start()));
        assert!(open(TransportKind::WebSocket)(
            &s.handle(Event::Failed(Failure::TRANSIENT), 0.5)
        ));
        let c = s.handle(Event::Failed(Failure::TRANSIENT), 0.5);
        assert_eq!(
            c,
            Command::Open {
                kind: TransportKind::Sse,
                after_ms: 0
            }
        );
        s.handle(Event::Failed(Failure::TRANSIENT), 0.5);
        let c = s.handle(Event::Failed(Failure::TRANSIENT), 0.5);
        assert_eq!(
            c,
            Command::Open {
                kind: TransportKind::Poll,
                after_ms: 0
            }
        );
        s.handle(Event::Opened, 0.5);
        assert_eq!(s.status(), ConnectionStatus::Polling);
        assert_eq!(s.upgrade_target(), Some(TransportKind::WebSocket));
        s.handle(Event::Upgraded, 0.5);
        assert_eq!(
            (s.current(), s.status()),
            (TransportKind::WebSocket, ConnectionStatus::Live)
        );
        assert_eq!(s.upgrade_target(), None);
    }

    #[test]
    fn a_drop_after_opening_retries_the_same_transport_with_backoff_and_resets_on_open() {
        let mut s = Supervisor::new(SupervisorConfig::default());
        s.handle(Event::Opened, 0.0);
        let c = s.handle(Event::Failed(Failure::TRANSIENT), 0.999);
        assert_eq!(
            c,
            Command::Open {
                kind: TransportKind::WebSocket,
                after_ms: 999
            }
        );
        assert_eq!(s.status(), ConnectionStatus::Reconnecting);
        s.handle(Event::Opened, 0.0);
        assert_eq!(s.attempts(), 0, "an open resets the attempt counter");
        assert_eq!(s.status(), ConnectionStatus::Live);
    }

    #[test]
    fn a_transport_that_worked_is_not_abandoned_when_the_server_goes_away() {
        let mut s = Supervisor::new(SupervisorConfig::default());
        s.handle(Event::Opened, 0.0);
        for _ in 0..5 {
            let c = s.handle(Event::Failed(Failure::from_close_code(1006)), 0.5);
            assert!(
                open(TransportKind::WebSocket)(&c),
                "a restart must not push the feed to SSE: {c:?}"
            );
        }
    }

    #[test]
    fn gives_up_after_the_maximum_and_reconnect_starts_again() {
        let config = SupervisorConfig {
            order: vec![TransportKind::Sse],
            ..Default::default()
        };
        let mut s = Supervisor::new(config);
        s.handle(Event::Opened, 0.0);
        for _ in 0..10 {
            assert!(open(TransportKind::Sse)(
                &s.handle(Event::Failed(Failure::TRANSIENT), 0.1)
            ));
        }
        assert_eq!(
            s.handle(Event::Failed(Failure::TRANSIENT), 0.1),
            Command::Stop
        );
        assert_eq!(s.status(), ConnectionStatus::Failed);
        assert_eq!(
            s.handle(Event::Reconnect, 0.1),
            Command::Open {
                kind: TransportKind::Sse,
                after_ms: 0
            }
        );
        assert_eq!(s.attempts(), 0);
    }

    #[test]
    fn permanent_close_codes_stop_at_once() {
        for code in [4000, 4001] {
            let mut s = Supervisor::new(SupervisorConfig::default());
            s.handle(Event::Opened, 0.0);
            assert_eq!(
                s.handle(Event::Failed(Failure::from_close_code(code)), 0.5),
                Command::Stop
            );
            assert_eq!(
                s.status(),
                ConnectionStatus::Failed,
                "close {code} must not be retried"
            );
        }
        assert_eq!(Failure::from_close_code(1012).hint(), RetryHint::Soon);
        assert_eq!(Failure::from_close_code(1013).hint(), RetryHint::Later);
        assert!(!Failure::from_close_code(1006).is_permanent());
    }

    #[test]
    fn offline_stops_attempts_and_online_reconnects_at_once() {
        let mut s = Supervisor::new(SupervisorConfig::default());
        s.handle(Event::Opened, 0.0);
        assert_eq!(s.handle(Event::Offline, 0.0), Command::Stop);
        assert_eq!(s.status(), ConnectionStatus::Offline);
        assert_eq!(
            s.handle(Event::Failed(Failure::TRANSIENT), 0.5),
            Command::Stop,
            "no futile retries offline"
        );
        assert_eq!(
            s.handle(Event::Online, 0.5),
            Command::Open {
                kind: TransportKind::WebSocket,
                after_ms: 0
            }
        );
        assert_eq!(s.status(), ConnectionStatus::Reconnecting);
    }

    #[test]
    fn error_answers_are_decided_by_their_code() {
        let refused = Failure::from_error_code(ErrorCode::Unauthorized);
        assert!(refused.is_permanent() && refused.refuses_credentials());
        let missing = Failure::from_error_code(ErrorCode::NotFound);
        assert!(missing.is_permanent() && !missing.refuses_credentials());
        assert_eq!(
            Failure::from_error_code(ErrorCode::TransportRefused).hint(),
            RetryHint::Later
        );
        assert_eq!(
            Failure::from_error_code(ErrorCode::Internal),
            Failure::TRANSIENT
        );
        assert_eq!(
            Failure::from_http_status(401),
            refused,
            "a bare status reads as our code"
        );
        assert_eq!(Failure::from_http_status(429).hint(), RetryHint::Later);
        assert_eq!(Failure::from_http_status(502), Failure::TRANSIENT);
    }

    proptest::proptest! {
        #[test]
        fn a_close_code_fails_as_the_protocol_says(code in 0u16..5000) {
            let failure = Failure::from_close_code(code);
            proptest::prop_assert_eq!(failure.reconnect, CloseCode::reconnect_for(code));
            proptest::prop_assert_eq!(
                failure.refuses_credentials(),
                CloseCode::from_code(code) == Some(CloseCode::BadToken)
            );
        }
    }

    #[test]
    fn transport_names_parse() {
        for k in [
            TransportKind::WebSocket,
            TransportKind::Sse,
            TransportKind::Poll,
        ] {
            assert_eq!(TransportKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(TransportKind::parse("carrier-pigeon"), None);
    }
}
