//! The node's metrics: [`Counters`], incremented where things happen, and [`Metrics`], their
//! registry, encoded in the Prometheus text format (0.0.4) at `GET /metrics`.
//!
//! # Where counting happens
//!
//! The engine creates one [`Counters`] ([`crate::engine::Engine::counters`]) and hands it to
//! what counts: the engine itself (joins, admissions, redemptions, expiries, open shopper
//! streams, unresumable cursors), the transports (frames written, full states, slow
//! consumers, client refreshes), the shared feed (lagged connections), the poll endpoint and
//! the operator stream. Another back end creates and increments the same [`Counters`], so a
//! Redis-backed node reports the same series. Every series is this node's own: summed over
//! nodes, they give the fleet's figures.
//!
//! # Cost
//!
//! Every metric is one of prometheus-client's atomics. The handle of each labelled series is
//! taken from its family once, when the [`Counters`] are created ([`ByLabel`]), so an
//! increment on the delivery path is one relaxed `fetch_add`, never the family's lock.
//! Scraping encodes the registry into a string; it takes no engine lock.
//!
//! # Labels
//!
//! Only labels with a fixed, small set of values: `transport` (`sse`, `websocket`), `by`
//! (`rate`, `operator`), `reason` (`lagged`, `stale_cursor`, `reload`, `refresh`), `answer` (`200`,
//! `304`). Never a connection, shopper, grant or experience id: each would add a series per
//! value, without bound, to every scrape and to the Prometheus server's memory, and an id in
//! a public scrape would leak it. Per-experience figures are the operator API's
//! ([`livequeue_protocol::api::ExperienceSummary`]). Every labelled series exists from the
//! start, at zero.
//!
//! # Left out
//!
//! - `livequeue_engine_errors_total` and `livequeue_engine_latency_seconds` (a histogram):
//!   the in-memory engine has nothing true to report in them. It cannot fail (a poisoned
//!   lock is recovered, never an error), and each call is a mutex hold of microseconds with
//!   no I/O, which a histogram would only show as its lowest bucket. A back end with a
//!   network between it and its store registers them beside these, under these names.
//! - `livequeue_http_requests_total`: the access log already has one line per request; a
//!   per-route counter (labelled by axum's `MatchedPath`, never the raw path) can come when
//!   a dashboard needs it.

use std::fmt::Debug;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};

use crate::engine::Push;

/// The prefix of every metric's name.
pub const PREFIX: &str = "livequeue";

/// The `Content-Type` of the scrape: the Prometheus text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// A label whose values are a closed enum: its key, and every value it can take.
pub trait Label: Copy + Eq + Debug + Send + Sync + 'static {
    /// The label's name in the scrape.
    const KEY: &'static str;
    /// Every value, each a series created at zero.
    const ALL: &'static [Self];
    /// The value as the scrape shows it.
    fn as_str(self) -> &'static str;
}

impl Label for Push {
    const KEY: &'static str = "transport";
    const ALL: &'static [Self] = &[Push::Sse, Push::WebSocket];
    fn as_str(self) -> &'static str {
        match self {
            Push::Sse => "sse",
            Push::WebSocket => "websocket",
        }
    }
}

/// Who admitted a shopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdmittedBy {
    /// The experience's ticker, at the configured rate.
    Rate,
    /// The operator's `POST …/admit`.
    Operator,
}

impl Label for AdmittedBy {
    const KEY: &'static str = "by";
    const ALL: &'static [Self] = &[AdmittedBy::Rate, AdmittedBy::Operator];
    fn as_str(self) -> &'static str {
        match self {
            AdmittedBy::Rate => "rate",
            AdmittedBy::Operator => "operator",
        }
    }
}

/// Why a connection was sent a full state instead of the next update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resync {
    /// It fell behind the experience's fan-out channel and missed updates.
    Lagged,
    /// It resumed from a cursor that cannot be replayed (another epoch, or older than the
    /// history kept).
    StaleCursor,
    /// Its node lost part of Redis's feed (trimmed during an outage) and reloaded.
    Reload,
    /// The client asked for one (a WebSocket `refresh`, sent when it saw a gap).
    Refresh,
}

impl Label for Resync {
    const KEY: &'static str = "reason";
    const ALL: &'static [Self] = &[
        Resync::Lagged,
        Resync::StaleCursor,
        Resync::Reload,
        Resync::Refresh,
    ];
    fn as_str(self) -> &'static str {
        match self {
            Resync::Lagged => "lagged",
            Resync::StaleCursor => "stale_cursor",
            Resync::Reload => "reload",
            Resync::Refresh => "refresh",
        }
    }
}

/// What a poll answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollAnswer {
    /// `200`: the state, changed since the client's `ETag` (or without one).
    Changed,
    /// `304`: the client's `ETag` is current.
    NotModified,
}

impl Label for PollAnswer {
    const KEY: &'static str = "answer";
    const ALL: &'static [Self] = &[PollAnswer::Changed, PollAnswer::NotModified];
    fn as_str(self) -> &'static str {
        match self {
            PollAnswer::Changed => "200",
            PollAnswer::NotModified => "304",
        }
    }
}

/// A metric family over one [`Label`], with the handle of each series taken once, so that
/// an increment never takes the family's lock.
#[derive(Debug)]
pub struct ByLabel<L: Label, M> {
    /// What the registry encodes; it holds the same atomics as `series`.
    family: Family<[(&'static str, &'static str); 1], M>,
    /// One handle per value of `L`, in the order of [`Label::ALL`].
    series: Vec<M>,
    /// The label type.
    label: std::marker::PhantomData<L>,
}

impl<L: Label, M: Metric + Clone + Default> Default for ByLabel<L, M> {
    fn default() -> Self {
        let family = Family::default();
        let series = L::ALL
            .iter()
            .map(|l| family.get_or_create_owned(&[(L::KEY, l.as_str())]))
            .collect();
        Self {
            family,
            series,
            label: std::marker::PhantomData,
        }
    }
}

impl<L: Label, M> ByLabel<L, M> {
    /// The series of `label`.
    pub fn get(&self, label: L) -> &M {
        // `ALL` has every value, so the search always finds it (and it is two or three long).
        let at = L::ALL.iter().position(|l| *l == label).unwrap_or(0);
        &self.series[at]
    }
}

/// The kind of frame a shopper connection wrote, for [`Counters::frame_sent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// An update, a reply (`pong`, `error`), or an unchecked test frame.
    Update,
    /// A full state: the first one, or one that replaces updates ([`Resync`]).
    Snapshot,
    /// An SSE heartbeat or a WebSocket ping.
    Heartbeat,
}

/// Every metric of the node, as handles that share their atomics with the registry.
#[derive(Debug, Default)]
pub struct Counters {
    /// Open shopper streams by transport (not the operator's).
    pub connections: ByLabel<Push, Gauge>,
    /// Open operator streams.
    pub operator_streams: Gauge,
    /// Frames written to shopper connections, full states included, heartbeats not.
    pub messages_sent: ByLabel<Push, Counter>,
    /// SSE heartbeats and WebSocket pings written.
    pub heartbeats_sent: ByLabel<Push, Counter>,
    /// Full states written (first states and resyncs); also in `messages_sent`.
    pub snapshots_sent: ByLabel<Push, Counter>,
    /// Full states sent in place of updates, by why.
    pub resyncs: ByLabel<Resync, Counter>,
    /// Connections closed because the peer did not take a message in time (WebSocket
    /// 4008). SSE has no such close (a slow SSE reader resyncs), so its series stays 0.
    pub slow_consumer_disconnects: ByLabel<Push, Counter>,
    /// Shoppers admitted (synthetic ones included), by the rate or by the operator.
    pub admissions: ByLabel<AdmittedBy, Counter>,
    /// Grants redeemed by the shop's checkout.
    pub redemptions: Counter,
    /// Grants that ended unused: their time ran out, or their shopper gave them up (as the
    /// operator's `expired` figure counts them).
    pub grants_expired: Counter,
    /// Shoppers who joined a line (`POST …/join`; not synthetic ones).
    pub joins: Counter,
    /// Polls answered, by status.
    pub polls: ByLabel<PollAnswer, Counter>,
    /// Redis calls that failed (unreachable, timed out, a reply of the wrong shape); 0 on
    /// the in-memory engine.
    pub redis_errors: Counter,
    /// How long Redis calls took, in seconds.
    pub redis_latency: Latency,
}

/// A histogram of call durations in seconds, from 50 µs to about 3 s by doubling.
#[derive(Debug, Clone)]
pub struct Latency(Histogram);

impl Default for Latency {
    fn default() -> Self {
        Self(Histogram::new(exponential_buckets(0.000_05, 2.0, 16)))
    }
}

impl Latency {
    /// Counts one call of `seconds`.
    pub fn observe(&self, seconds: f64) {
        self.0.observe(seconds);
    }
}

impl Counters {
    /// Counts one frame of `kind` written to a shopper connection over `transport`.
    pub fn frame_sent(&self, transport: Push, kind: Frame) {
        match kind {
            Frame::Heartbeat => {
                self.heartbeats_sent.get(transport).inc();
            }
            Frame::Snapshot => {
                self.snapshots_sent.get(transport).inc();
                self.messages_sent.get(transport).inc();
            }
            Frame::Update => {
                self.messages_sent.get(transport).inc();
            }
        }
    }

    /// Counts a full state sent in place of updates, for `reason`.
    pub fn resync(&self, reason: Resync) {
        self.resyncs.get(reason).inc();
    }

    /// Registers every metric in `registry` (names without the prefix and without
    /// `_total`, which the registry and the encoder add).
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "connections",
            "Open shopper streams on this node, by transport",
            self.connections.family.clone(),
        );
        registry.register(
            "operator_streams",
            "Open operator streams on this node",
            self.operator_streams.clone(),
        );
        registry.register(
            "messages_sent",
            "Frames written to shopper connections (updates, replies and full states; not heartbeats)",
            self.messages_sent.family.clone(),
        );
        registry.register(
            "heartbeats_sent",
            "SSE heartbeats and WebSocket pings written to shopper connections",
            self.heartbeats_sent.family.clone(),
        );
        registry.register(
            "snapshots_sent",
            "Full states written to shopper connections (first states and resyncs)",
            self.snapshots_sent.family.clone(),
        );
        registry.register(
            "resyncs",
            "Full states sent in place of updates, by reason",
            self.resyncs.family.clone(),
        );
        registry.register(
            "slow_consumer_disconnects",
            "Connections closed because the peer did not take a message in time",
            self.slow_consumer_disconnects.family.clone(),
        );
        registry.register(
            "admissions",
            "Shoppers admitted, by the rate or by the operator",
            self.admissions.family.clone(),
        );
        registry.register("redemptions", "Grants redeemed", self.redemptions.clone());
        registry.register(
            "grants_expired",
            "Grants that ended unused (expired or given up)",
            self.grants_expired.clone(),
        );
        registry.register("joins", "Shoppers who joined a line", self.joins.clone());
        registry.register(
            "polls",
            "Polls answered, by status",
            self.polls.family.clone(),
        );
        registry.register(
            "redis_errors",
            "Redis calls that failed",
            self.redis_errors.clone(),
        );
        registry.register(
            "redis_call_seconds",
            "How long Redis calls took",
            self.redis_latency.0.clone(),
        );
    }
}

/// A gauge raised while this guard lives: an open stream, counted where it is created and
/// uncounted wherever it ends.
#[derive(Debug)]
pub struct Open(Gauge);

impl Open {
    /// Raises `gauge` until the guard is dropped.
    pub fn new(gauge: &Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The registry of a node's [`Counters`], ready to encode.
#[derive(Debug)]
pub struct Metrics {
    /// Every metric, under [`PREFIX`]; read-only once built, so a scrape takes no lock of ours.
    registry: Registry,
}

impl Metrics {
    /// The registry of `counters`.
    pub fn new(counters: &Counters) -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        counters.register(&mut registry);
        Self { registry }
    }

    /// Every metric in the Prometheus text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_increment_through_a_handle_shows_in_the_scrape() {
        let counters = Counters::default();
        let metrics = Metrics::new(&counters);
        counters.frame_sent(Push::WebSocket, Frame::Snapshot);
        counters.admissions.get(AdmittedBy::Operator).inc_by(3);
        let text = metrics.encode().unwrap();
        for line in [
            "livequeue_snapshots_sent_total{transport=\"websocket\"} 1",
            "livequeue_messages_sent_total{transport=\"websocket\"} 1",
            "livequeue_messages_sent_total{transport=\"sse\"} 0",
            "livequeue_admissions_total{by=\"operator\"} 3",
            "livequeue_admissions_total{by=\"rate\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
    }

    #[test]
    fn an_open_guard_counts_until_dropped() {
        let gauge = Gauge::default();
        let open = Open::new(&gauge);
        assert_eq!(gauge.get(), 1);
        drop(open);
        assert_eq!(gauge.get(), 0);
    }
}
