//! A connection's hold on one shopper's view of an experience: how it starts, and the
//! receivers it reads from.

use std::sync::Arc;

use livequeue_protocol::{Cursor, QueueState};
use tokio::sync::{broadcast, watch};

use super::Push;
use super::experience::Private;
use super::fanout::{Encoded, Fanout, Place};
use super::memory::{Experience, MemoryEngine};
use super::redis_engine::{Hub, RedisEngine};
use crate::metrics::Counters;

/// How a new connection starts.
#[derive(Debug)]
pub enum Start {
    /// A fresh connection: send the full state.
    Fresh(QueueState),
    /// A resumed connection whose missed broadcasts are all still held: replay them, then the
    /// shopper's private state (position and admission) as of now.
    Replay(Vec<Arc<Encoded>>),
    /// A resumed connection that cannot be replayed (too old, or another epoch): send the
    /// full state as a snapshot.
    Snapshot(QueueState),
}

/// A connection's subscription to one shopper's view of an experience. Counted in the
/// experience's connections while it lives.
#[derive(Debug)]
pub struct Subscription {
    /// The connection's transport: which of the experience's counts this one is in.
    pub transport: Push,
    /// Broadcasts, line movements, heartbeats, shutdown.
    pub fanout: broadcast::Receiver<Fanout>,
    /// The shopper's admission.
    pub private: watch::Receiver<Private>,
    /// The shopper's ticket, to compute positions from line movements.
    pub ticket: u64,
    /// The shopper's place at subscription, so the first movement is compared with what was
    /// sent. (Not the whole `Advance`: holding its departures for the connection's life
    /// would keep one copy of them alive per connection.)
    pub place: Option<Place>,
    /// The experience's cursor at subscription.
    pub cursor: Cursor,
    /// Whose experience, on which back end; also counts this connection while it lives.
    pub(super) source: Source,
    /// The shopper, named in snapshots.
    pub(super) consumer_id: Arc<str>,
}

/// The experience a subscription watches, and the engine whose clock and metrics it uses.
#[derive(Debug)]
pub(super) enum Source {
    /// In this process's memory.
    Memory {
        /// The experience.
        experience: Arc<Experience>,
        /// Its engine.
        engine: Arc<MemoryEngine>,
    },
    /// This node's mirror of an experience in Redis.
    Redis {
        /// The experience's hub on this node.
        hub: Arc<Hub>,
        /// Its engine.
        engine: Arc<RedisEngine>,
    },
}

impl Subscription {
    /// The full state now (after a lag, or for a WebSocket `refresh`). Built from what the
    /// subscription holds (ticket, admission), so it needs no lookup that could fail.
    pub fn snapshot(&self) -> QueueState {
        let admission = self.private.borrow().admission.clone();
        let now = self.now_ms();
        match &self.source {
            Source::Memory { experience, .. } => {
                experience
                    .lock()
                    .snapshot(&self.consumer_id, self.ticket, admission, now)
            }
            Source::Redis { hub, .. } => {
                hub.snapshot(&self.consumer_id, self.ticket, admission, now)
            }
        }
    }

    /// The server's clock.
    pub fn now_ms(&self) -> u64 {
        match &self.source {
            Source::Memory { engine, .. } => engine.now_ms(),
            Source::Redis { engine, .. } => engine.now_ms(),
        }
    }

    /// The node's metrics, for the transport to count what it writes.
    pub fn counters(&self) -> &Counters {
        match &self.source {
            Source::Memory { engine, .. } => engine.counters(),
            Source::Redis { engine, .. } => engine.counters(),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        match &self.source {
            Source::Memory { experience, .. } => experience.connection_closed(self.transport),
            Source::Redis { hub, .. } => hub.connection_closed(&self.consumer_id, self.transport),
        }
        self.counters().connections.get(self.transport).dec();
    }
}
