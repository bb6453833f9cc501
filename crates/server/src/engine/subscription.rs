//! A connection's hold on one shopper's view of an experience: how it starts, and the
//! receivers it reads from.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use livequeue_protocol::{Cursor, QueueState};
use tokio::sync::{broadcast, watch};

use super::experience::Private;
use super::fanout::{Encoded, Fanout, Place};
use super::{Engine, Experience, Push};
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
    /// Whose experience; also counts this connection while it lives.
    pub(super) experience: Arc<Experience>,
    /// The clock.
    pub(super) engine: Arc<Engine>,
    /// The shopper, named in snapshots.
    pub(super) consumer_id: Arc<str>,
}

impl Subscription {
    /// The full state now (after a lag, or for a WebSocket `refresh`). Built from what the
    /// subscription holds (ticket, admission), so it needs no lookup that could fail.
    pub fn snapshot(&self) -> QueueState {
        let admission = self.private.borrow().admission.clone();
        let now = self.engine.clock.now_ms();
        self.experience
            .lock()
            .snapshot(&self.consumer_id, self.ticket, admission, now)
    }

    /// The server's clock.
    pub fn now_ms(&self) -> u64 {
        self.engine.clock.now_ms()
    }

    /// The node's metrics, for the transport to count what it writes.
    pub fn counters(&self) -> &Counters {
        &self.engine.counters
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.experience
            .connections
            .of(self.transport)
            .fetch_sub(1, Ordering::Relaxed);
        self.engine.counters.connections.get(self.transport).dec();
    }
}
