//! The table every connection writes its receive instants into, lock-free.
//!
//! Publish `k` sets the stock to `first_value + k`, so a reader that sees `"available":v`
//! knows which publish it received without any message from the publisher. One `AtomicU64`
//! per (publish, connection) holds the receive instant in nanoseconds since the run's
//! origin plus one (0 meaning "not received"): 20 publishes × 50,000 connections is 8 MB,
//! and readers never contend on a lock.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::time::Instant;

/// What every reader of a phase reports into.
#[derive(Debug)]
pub struct Tally {
    /// Instants are nanoseconds since this.
    origin: Instant,
    /// Stock value of the first publish.
    first_value: u64,
    publishes: usize,
    connections: usize,
    /// `[k * connections + conn]`: receive instant of publish `k` on `conn`, + 1.
    received: Vec<AtomicU64>,
    /// `[conn]`: microseconds from `connect` to the first state, + 1.
    opened: Vec<AtomicU64>,
    /// Per publish: how many connections have received it.
    delivered: Vec<AtomicUsize>,
    /// Connections that received their first state (connected and idle).
    ready: AtomicUsize,
    /// Connections that failed to open, or ended after opening.
    failed: AtomicUsize,
    /// Connections that ended after their first state (the server closed them).
    dropped: AtomicUsize,
    /// Failures by kind, for the report.
    errors: Mutex<BTreeMap<String, usize>>,
}

impl Tally {
    /// A table for `connections` readers and `publishes` publishes whose first stock value
    /// is `first_value`.
    pub fn new(origin: Instant, first_value: u64, publishes: usize, connections: usize) -> Self {
        Self {
            origin,
            first_value,
            publishes,
            connections,
            received: (0..publishes * connections)
                .map(|_| AtomicU64::new(0))
                .collect(),
            delivered: (0..publishes).map(|_| AtomicUsize::new(0)).collect(),
            opened: (0..connections).map(|_| AtomicU64::new(0)).collect(),
            ready: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            errors: Mutex::new(BTreeMap::new()),
        }
    }

    /// Nanoseconds from the origin to `at`.
    pub fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
    }

    /// The stock value publish `k` sets.
    pub fn value_of(&self, k: usize) -> u64 {
        self.first_value + k as u64
    }

    /// Records that `conn` saw stock `value` at `at`; values that belong to no publish (the
    /// initial state) are ignored, and so is a second sighting of the same publish.
    pub fn saw(&self, conn: usize, value: u64, at: Instant) {
        let Some(k) = value.checked_sub(self.first_value).map(|k| k as usize) else {
            return;
        };
        if k >= self.publishes || conn >= self.connections {
            return;
        }
        let slot = &self.received[k * self.connections + conn];
        if slot
            .compare_exchange(0, self.nanos(at) + 1, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.delivered[k].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Connection `conn` received its first state, `took` after it began connecting.
    pub fn ready(&self, conn: usize, took: std::time::Duration) {
        self.ready.fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = self.opened.get(conn) {
            let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX - 1);
            slot.store(us + 1, Ordering::Relaxed);
        }
    }

    /// Microseconds from `connect` to the first state, one per connection that got there.
    pub fn open_times(&self) -> Vec<u64> {
        self.opened
            .iter()
            .filter_map(|slot| slot.load(Ordering::Relaxed).checked_sub(1))
            .collect()
    }

    /// A connection failed or ended (`after_ready`: once open); `kind` is a short
    /// description for the report.
    pub fn failed(&self, kind: String, after_ready: bool) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if after_ready {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *errors.entry(kind).or_default() += 1;
    }

    /// Connections that received their first state.
    pub fn ready_count(&self) -> usize {
        self.ready.load(Ordering::Relaxed)
    }

    /// Connections that failed or ended.
    pub fn failed_count(&self) -> usize {
        self.failed.load(Ordering::Relaxed)
    }

    /// Connections whose opening is over: ready, or failed before being ready.
    pub fn settled_count(&self) -> usize {
        let dropped = self.dropped.load(Ordering::Relaxed);
        self.ready_count() + self.failed_count().saturating_sub(dropped)
    }

    /// Connections open now: ready and not ended since.
    pub fn open_count(&self) -> usize {
        self.ready_count()
            .saturating_sub(self.dropped.load(Ordering::Relaxed))
    }

    /// How many connections received publish `k`.
    pub fn delivered(&self, k: usize) -> usize {
        self.delivered[k].load(Ordering::Relaxed)
    }

    /// Receive instants of publish `k` (nanoseconds since the origin), one per connection
    /// that received it.
    pub fn receipts(&self, k: usize) -> Vec<u64> {
        self.received[k * self.connections..(k + 1) * self.connections]
            .iter()
            .filter_map(|slot| slot.load(Ordering::Relaxed).checked_sub(1))
            .collect()
    }

    /// Failures by kind.
    pub fn errors(&self) -> BTreeMap<String, usize> {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_publish_counts_once_per_connection_and_other_values_not_at_all() {
        let origin = Instant::now();
        let t = Tally::new(origin, 100, 3, 2);
        let at = origin + Duration::from_millis(5);
        t.saw(0, 99, at); // the initial state
        t.saw(0, 101, at);
        t.saw(0, 101, at + Duration::from_millis(1)); // a resync repeating it
        t.saw(1, 101, at);
        t.saw(1, 103, at); // beyond the last publish
        assert_eq!((t.delivered(0), t.delivered(1), t.delivered(2)), (0, 2, 0));
        assert_eq!(
            t.receipts(1),
            vec![5_000_000, 5_000_000],
            "first sighting wins"
        );
    }
}
