//! The queue engine: one interface, [`Engine`], over two back ends.
//!
//! - [`memory::MemoryEngine`]: the line in this process's memory; the default, for one node.
//! - [`redis_engine::RedisEngine`]: the line in Redis (`--redis`), so that any number of
//!   nodes behind a load balancer serve one queue and places survive node restarts.
//!
//! Both hand connections the same [`Subscription`] (a fan-out receiver of pre-encoded
//! broadcasts and line movements, and the shopper's private channel), so the transports
//! do not know which back end serves them. The queue's rules themselves are one contract
//! ([`core::QueueCore`]) that both back ends pass (`tests/queue_contract.rs`).
//!
//! [`Engine`] is a closed enum (STYLE.md habit 2): every call matches on the back end and
//! delegates. Its calls are `async` because Redis is a network away; the in-memory ones
//! answer at once.

pub mod clock;
pub mod core;
pub mod experience;
pub mod fanout;
pub mod memory;
pub mod redis;
pub mod redis_engine;
pub mod subscription;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use livequeue_protocol::api::{
    ConnectionCounts, CreateExperience, EntriesPage, ExperienceSummary, OperatorFigures,
    PatchExperience, RedeemResponse, ReserveRequest, ReserveResponse,
};
use livequeue_protocol::{Admission, Cursor, QueueState};
use tokio::sync::watch;

use crate::metrics::Counters;
use crate::readiness::Readiness;
use experience::{GrantError, Holder, RedeemError};
use memory::MemoryEngine;
use redis_engine::RedisEngine;
pub use subscription::{Start, Subscription};

/// Timings of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long an admission's grant stays redeemable.
    pub grant_ttl: Duration,
    /// Ticker period: admissions, expiries, and the pace of position updates.
    pub tick: Duration,
    /// SSE heartbeat period.
    pub heartbeat: Duration,
    /// WebSocket ping period.
    pub ws_ping: Duration,
    /// How much later a shopper's one extension moves their grant's expiry.
    pub grant_extension: Duration,
    /// Most units one grant may reserve in all.
    pub max_units_per_grant: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            grant_ttl: Duration::from_secs(300),
            tick: Duration::from_secs(1),
            heartbeat: Duration::from_secs(15),
            ws_ping: Duration::from_secs(30),
            grant_extension: Duration::from_secs(120),
            max_units_per_grant: 2,
        }
    }
}

/// Errors the engine reports to the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// No experience with that id.
    #[error("no experience `{0}`")]
    UnknownExperience(String),
    /// No shopper with that id in the experience.
    #[error("no such consumer in this experience")]
    UnknownConsumer,
    /// An experience with that id exists already.
    #[error("experience `{0}` exists already")]
    ExperienceExists(String),
    /// The experience is closed to new shoppers.
    #[error("experience `{0}` is closed")]
    Closed(String),
    /// Redemption failed.
    #[error("{0:?}")]
    Redeem(RedeemError),
    /// A shopper's extension or reservation was refused.
    #[error(transparent)]
    Grant(#[from] GrantError),
    /// The server is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The queue's store (Redis) could not be reached or failed; nothing was decided.
    #[error("the queue's store is unavailable: {0}")]
    Unavailable(String),
    /// What this back end does not do (synthetic shoppers on Redis).
    #[error("{0}")]
    Unsupported(&'static str),
}

/// The push transport of a shopper's connection, for the operator's count of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// A Server-Sent Events stream.
    Sse,
    /// A WebSocket.
    WebSocket,
}

/// Open shopper connections of one experience on this node, by transport: counted outside
/// the experience's mutex so that opening and closing connections never contends with
/// admissions. (The operator's own streams are not shoppers and are not counted.)
#[derive(Debug, Default)]
pub(crate) struct Connections {
    /// Open SSE streams.
    sse: AtomicU64,
    /// Open WebSockets.
    websocket: AtomicU64,
}

impl Connections {
    /// The counter of `transport`.
    pub(crate) fn of(&self, transport: Push) -> &AtomicU64 {
        match transport {
            Push::Sse => &self.sse,
            Push::WebSocket => &self.websocket,
        }
    }

    /// Both counts now.
    pub(crate) fn counts(&self) -> ConnectionCounts {
        ConnectionCounts {
            sse: self.sse.load(Ordering::Relaxed),
            websocket: self.websocket.load(Ordering::Relaxed),
        }
    }
}

/// The node's queue, on one of the two back ends. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Engine {
    /// In this process's memory.
    Memory(Arc<MemoryEngine>),
    /// In Redis, shared with the other nodes.
    Redis(Arc<RedisEngine>),
}

impl Engine {
    /// An in-memory engine whose memory begins now.
    pub fn memory(config: EngineConfig) -> Self {
        Self::Memory(MemoryEngine::new(config))
    }

    /// A Redis engine on `url` (`redis://host:port/`): connects, loads the scripts and
    /// starts reading the node's feed.
    pub async fn redis(config: EngineConfig, url: &str) -> Result<Self, EngineError> {
        Ok(Self::Redis(RedisEngine::connect(config, url).await?))
    }

    /// This node's metrics ([`crate::metrics`]).
    pub fn counters(&self) -> &Arc<Counters> {
        match self {
            Self::Memory(e) => e.counters(),
            Self::Redis(e) => e.counters(),
        }
    }

    /// Whether this node can serve ([`crate::readiness`]).
    pub fn readiness(&self) -> &Readiness {
        match self {
            Self::Memory(e) => e.readiness(),
            Self::Redis(e) => e.readiness(),
        }
    }

    /// Now, in milliseconds since the Unix epoch (follows tokio's clock).
    pub fn now_ms(&self) -> u64 {
        match self {
            Self::Memory(e) => e.now_ms(),
            Self::Redis(e) => e.now_ms(),
        }
    }

    /// Whether the experience exists.
    pub async fn exists(&self, id: &str) -> Result<bool, EngineError> {
        match self {
            Self::Memory(e) => Ok(e.exists(id)),
            Self::Redis(e) => e.exists(id).await,
        }
    }

    /// Creates an experience and starts its ticker.
    pub async fn create(&self, req: CreateExperience) -> Result<ExperienceSummary, EngineError> {
        match self {
            Self::Memory(e) => e.create(req),
            Self::Redis(e) => e.create(req).await,
        }
    }

    /// Adds a shopper to the end of the line: their new id and state.
    pub async fn join(&self, experience_id: &str) -> Result<(String, QueueState), EngineError> {
        match self {
            Self::Memory(e) => e.join(experience_id),
            Self::Redis(e) => e.join(experience_id).await,
        }
    }

    /// Makes sure a shopper whose token the caller has verified is known, adding them at
    /// the end of the line when not (a memory that restarted forgot them).
    pub async fn ensure_consumer(
        &self,
        experience_id: &str,
        consumer_id: &str,
    ) -> Result<(), EngineError> {
        match self {
            Self::Memory(e) => e.ensure_consumer(experience_id, consumer_id),
            Self::Redis(e) => e.ensure_consumer(experience_id, consumer_id).await,
        }
    }

    /// The shopper's full state.
    pub async fn snapshot(
        &self,
        experience_id: &str,
        consumer_id: &str,
    ) -> Result<QueueState, EngineError> {
        match self {
            Self::Memory(e) => e.snapshot(experience_id, consumer_id),
            Self::Redis(e) => e.snapshot(experience_id, consumer_id).await,
        }
    }

    /// Subscribes a new connection over `transport`, resuming after `resume` when given;
    /// also says what the connection must send first.
    pub async fn subscribe(
        &self,
        experience_id: &str,
        consumer_id: &str,
        transport: Push,
        resume: Option<Cursor>,
    ) -> Result<(Start, Subscription), EngineError> {
        match self {
            Self::Memory(e) => e.subscribe(experience_id, consumer_id, transport, resume),
            Self::Redis(e) => {
                e.subscribe(experience_id, consumer_id, transport, resume)
                    .await
            }
        }
    }

    /// Redeems a grant.
    pub async fn redeem(
        &self,
        experience_id: &str,
        grant: &str,
    ) -> Result<RedeemResponse, EngineError> {
        match self {
            Self::Memory(e) => e.redeem(experience_id, grant),
            Self::Redis(e) => e.redeem(experience_id, grant).await,
        }
    }

    /// A page of the line for the operator: `limit` rows from `offset` (0-based), each
    /// holder turned into an anonymous label by `label`.
    pub async fn entries(
        &self,
        experience_id: &str,
        offset: u64,
        limit: u64,
        label: impl Fn(&Holder) -> String,
    ) -> Result<EntriesPage, EngineError> {
        match self {
            Self::Memory(e) => e.entries(experience_id, offset, limit, label),
            Self::Redis(e) => e.entries(experience_id, offset, limit, label).await,
        }
    }

    /// Configuration and live counts.
    pub async fn summary(&self, experience_id: &str) -> Result<ExperienceSummary, EngineError> {
        match self {
            Self::Memory(e) => e.summary(experience_id),
            Self::Redis(e) => e.summary(experience_id).await,
        }
    }

    /// Every experience's summary, ordered by id.
    pub async fn summaries(&self) -> Result<Vec<ExperienceSummary>, EngineError> {
        match self {
            Self::Memory(e) => Ok(e.summaries()),
            Self::Redis(e) => e.summaries().await,
        }
    }

    /// One frame of the operator's stream.
    pub async fn figures(&self, experience_id: &str) -> Result<OperatorFigures, EngineError> {
        match self {
            Self::Memory(e) => e.figures(experience_id),
            Self::Redis(e) => e.figures(experience_id).await,
        }
    }

    /// Adds `count` anonymous synthetic shoppers to the back of the line (the operator's
    /// demo and test control; in memory only).
    pub async fn join_synthetic(
        &self,
        experience_id: &str,
        count: u64,
    ) -> Result<ExperienceSummary, EngineError> {
        match self {
            Self::Memory(e) => {
                // A million places is tens of milliseconds of copying: off the async
                // workers.
                let (engine, id) = (e.clone(), experience_id.to_string());
                tokio::task::spawn_blocking(move || engine.join_synthetic(&id, count))
                    .await
                    .map_err(|_| EngineError::ShuttingDown)?
            }
            Self::Redis(_) => Err(EngineError::Unsupported(
                "synthetic shoppers exist only on the in-memory engine",
            )),
        }
    }

    /// Applies an operator's change (its rate already checked by the caller).
    pub async fn patch(
        &self,
        experience_id: &str,
        change: &PatchExperience,
    ) -> Result<ExperienceSummary, EngineError> {
        match self {
            Self::Memory(e) => e.patch(experience_id, change),
            Self::Redis(e) => e.patch(experience_id, change).await,
        }
    }

    /// Admits up to `count` shoppers now.
    pub async fn admit(
        &self,
        experience_id: &str,
        count: u64,
    ) -> Result<ExperienceSummary, EngineError> {
        match self {
            Self::Memory(e) => e.admit(experience_id, count),
            Self::Redis(e) => e.admit(experience_id, count).await,
        }
    }

    /// Sends an unchecked frame to every connection of the experience on this node (test
    /// controls).
    pub async fn inject(&self, experience_id: &str, raw: fanout::Raw) -> Result<(), EngineError> {
        match self {
            Self::Memory(e) => e.inject(experience_id, raw),
            Self::Redis(e) => e.inject(experience_id, raw).await,
        }
    }

    /// Extends the shopper's active grant once.
    pub async fn extend(
        &self,
        experience_id: &str,
        consumer_id: &str,
    ) -> Result<Admission, EngineError> {
        match self {
            Self::Memory(e) => e.extend(experience_id, consumer_id),
            Self::Redis(e) => e.extend(experience_id, consumer_id).await,
        }
    }

    /// Reserves units against the shopper's active grant (the request already checked).
    pub async fn reserve(
        &self,
        experience_id: &str,
        consumer_id: &str,
        request: &ReserveRequest,
    ) -> Result<ReserveResponse, EngineError> {
        match self {
            Self::Memory(e) => e.reserve(experience_id, consumer_id, request),
            Self::Redis(e) => e.reserve(experience_id, consumer_id, request).await,
        }
    }

    /// The shopper gives up their place (and grant); doing it again is nothing.
    pub async fn leave(&self, experience_id: &str, consumer_id: &str) -> Result<(), EngineError> {
        match self {
            Self::Memory(e) => e.leave(experience_id, consumer_id),
            Self::Redis(e) => e.leave(experience_id, consumer_id).await,
        }
    }

    /// Stops the tickers and tells every connection to end; the node is no longer ready.
    pub fn shutdown(&self) {
        match self {
            Self::Memory(e) => e.shutdown(),
            Self::Redis(e) => e.shutdown(),
        }
    }

    /// Whether [`Engine::shutdown`] was called.
    pub fn is_shut_down(&self) -> bool {
        match self {
            Self::Memory(e) => e.is_shut_down(),
            Self::Redis(e) => e.is_shut_down(),
        }
    }

    /// Changes to `true` when [`Engine::shutdown`] is called: for streams that do not
    /// listen to an experience's fan-out (the operator's).
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        match self {
            Self::Memory(e) => e.shutdown_signal(),
            Self::Redis(e) => e.shutdown_signal(),
        }
    }

    /// Open shopper connections on this node, over all experiences.
    pub fn connections(&self) -> u64 {
        match self {
            Self::Memory(e) => e.connections(),
            Self::Redis(e) => e.connections(),
        }
    }
}
