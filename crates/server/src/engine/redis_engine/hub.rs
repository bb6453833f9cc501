//! [`Hub`]: one experience on one node of the Redis engine — the node's mirror of it and
//! the fan-out to the node's own connections.
//!
//! Redis holds the queue; every node keeps a small mirror of what its connections need to
//! work out their own updates: the cursor, stock, status and settings, the head of the
//! line and the departed tickets (so that each connection computes its position from an
//! [`Advance`], as in memory), the recent broadcasts already encoded (for resume), and the
//! private admission of each shopper connected here. The node's feed
//! (`super::RedisEngine`'s one blocking read of every experience's streams) applies
//! broadcasts and notes to it in order, encodes each broadcast once, and publishes on the
//! same [`Fanout`] channel the in-memory engine uses, so the transports cannot tell the
//! back ends apart.
//!
//! The mirror's lock is held for microseconds: no I/O, no awaits.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use livequeue_protocol::api::{ConnectionCounts, ExperienceSummary};
use livequeue_protocol::{
    Admission, AdmissionStatus, Cursor, ExperienceStatus, ExperienceView, QueueState, ServerEvent,
    Stock,
};
use tokio::sync::{broadcast, watch};

use crate::engine::core::Place as StoredPlace;
use crate::engine::experience::{AdmissionRate, FANOUT_CAPACITY, HISTORY, Private};
use crate::engine::fanout::{Advance, Encoded, Fanout, Place, estimate_wait};
use crate::engine::redis::feed::{Mirrored, Note, Position, Read};
use crate::engine::redis::{RedisQueue, View};
use crate::engine::{Connections, Push};

/// One experience on this node.
#[derive(Debug)]
pub struct Hub {
    /// Its queue in Redis.
    pub(super) queue: RedisQueue,
    /// Every connection of the experience on this node subscribes here.
    fanout: broadcast::Sender<Fanout>,
    /// What this node knows of it, behind a lock held for microseconds.
    mirror: Mutex<Mirror>,
    /// Open shopper connections on this node, for the operator.
    pub(super) connections: Connections,
}

/// The node's mirror of one experience.
#[derive(Debug)]
struct Mirror {
    /// The experience's id, named in states.
    id: Arc<str>,
    /// The cursor of the last broadcast applied.
    cursor: Cursor,
    /// The last note applied.
    notes: u64,
    /// Stock as of the cursor.
    stock: Stock,
    /// Open, paused or closed.
    status: ExperienceStatus,
    /// Display name.
    name: String,
    /// The operator's admissions per minute.
    rate_per_minute: f64,
    /// Where admitted shoppers check out.
    checkout_url: String,
    /// Tickets below this were admitted or left before their turn.
    head: u64,
    /// Tickets at or after `head` whose shopper left, sorted (shared with advances).
    departed: Arc<VecDeque<u64>>,
    /// The admissions this node saw (from the head's notes): the observed rate for wait
    /// estimates and the operator's history. Every node sees every admission, so every
    /// node's figures agree.
    rate: AdmissionRate,
    /// The last [`HISTORY`] broadcasts applied, encoded, oldest first: resume without a
    /// round trip to Redis.
    recent: VecDeque<Arc<Encoded>>,
    /// The line moved (or its estimates changed) since the last [`Advance`] published.
    moved: bool,
    /// Shoppers with a connection on this node.
    locals: HashMap<Arc<str>, Local>,
}

/// A shopper with connections on this node.
#[derive(Debug)]
struct Local {
    /// Their admission, which their connections watch.
    private: watch::Sender<Private>,
    /// Their open subscriptions here; the entry goes with the last.
    subscriptions: usize,
}

/// What applying a read of the feed found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Everything followed on from the mirror.
    InOrder,
    /// Something was missing (trimmed from a stream before this node read it): reload.
    Gap,
}

impl Hub {
    /// The hub of `queue`, mirroring `mirrored`.
    pub fn new(queue: RedisQueue, mirrored: Mirrored) -> Self {
        let mirror = Mirror {
            id: queue.id().into(),
            cursor: mirrored.cursor,
            notes: mirrored.notes,
            stock: mirrored.stock,
            status: mirrored.status,
            name: mirrored.name,
            rate: AdmissionRate::new(mirrored.rate_per_minute),
            rate_per_minute: mirrored.rate_per_minute,
            checkout_url: mirrored.checkout_url,
            head: mirrored.head,
            departed: Arc::new(mirrored.departed.into()),
            recent: VecDeque::new(),
            moved: false,
            locals: HashMap::new(),
        };
        Self {
            queue,
            fanout: broadcast::channel(FANOUT_CAPACITY).0,
            mirror: Mutex::new(mirror),
            connections: Connections::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Mirror> {
        // As the in-memory experience's lock: a panic under it leaves plain data behind.
        self.mirror.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where the feed of this experience continues from.
    pub fn position(&self) -> Position {
        let m = self.lock();
        Position {
            seq: m.cursor.seq,
            note: m.notes,
        }
    }

    /// The experience's status as mirrored (the ticker admits only while open).
    pub fn status(&self) -> ExperienceStatus {
        self.lock().status
    }

    /// The operator's rate as mirrored.
    pub fn rate_per_minute(&self) -> f64 {
        self.lock().rate_per_minute
    }

    /// Sends on the fan-out channel; nobody listening is not an error.
    pub fn publish(&self, item: Fanout) {
        let _ = self.fanout.send(item);
    }

    /// Applies what the feed read, in order, and publishes it to this node's connections;
    /// [`Applied::Gap`] when it does not follow on from the mirror (nothing after the gap
    /// is applied: the caller reloads).
    pub fn apply(&self, read: Read, now: u64) -> Applied {
        let mut m = self.lock();
        let estimates_before = m.effective_rate();
        for (seq, event) in read.events {
            if seq <= m.cursor.seq {
                continue; // read twice (a retried read): applied already
            }
            if seq != m.cursor.seq + 1 {
                return Applied::Gap;
            }
            let cursor = Cursor {
                epoch: m.cursor.epoch,
                seq,
            };
            m.cursor = cursor;
            let event = match event {
                Ok(event) => event,
                Err(why) => {
                    // Written by another version? Skip it, but not silently.
                    tracing::warn!(experience = %m.id, seq, why, "a broadcast in Redis does not decode");
                    continue;
                }
            };
            match &event {
                ServerEvent::StockUpdate(stock) => m.stock = *stock,
                ServerEvent::ExperienceUpdate(view) => {
                    m.status = view.status;
                    m.name.clone_from(&view.name);
                }
                _ => {}
            }
            let encoded = Arc::new(Encoded::new(event, cursor));
            if m.recent.len() == HISTORY {
                m.recent.pop_front();
            }
            m.recent.push_back(encoded.clone());
            let _ = self.fanout.send(Fanout::Event(encoded));
        }
        for (n, note) in read.notes {
            if n <= m.notes {
                continue;
            }
            if n != m.notes + 1 {
                return Applied::Gap;
            }
            m.notes = n;
            match note {
                Ok(note) => m.note(note, now),
                Err(why) => {
                    tracing::warn!(experience = %m.id, note = n, why, "a note in Redis does not parse");
                }
            }
        }
        if m.effective_rate() != estimates_before {
            m.moved = true;
        }
        self.announce(&mut m);
        Applied::InOrder
    }

    /// Publishes an [`Advance`] when the line moved since the last one.
    fn announce(&self, m: &mut Mirror) {
        if m.moved {
            m.moved = false;
            let _ = self.fanout.send(Fanout::Advance(m.advance()));
        }
    }

    /// The shoppers connected here.
    pub fn locals(&self) -> Vec<Arc<str>> {
        self.lock().locals.keys().cloned().collect()
    }

    /// Replaces the mirror with `mirrored` after a gap, with `admissions` read from Redis
    /// since (of shoppers connected here): connections are told to resync from a snapshot,
    /// since they may have missed broadcasts.
    pub fn reload(&self, mirrored: Mirrored, admissions: Vec<(Arc<str>, Option<Admission>)>) {
        let mut m = self.lock();
        let seq = mirrored.cursor.seq;
        for (consumer, stored) in admissions {
            if let Some(local) = m.locals.get(&consumer) {
                local.private.send_if_modified(|p| offer(p, stored, seq));
            }
        }
        let jumped = mirrored.cursor != m.cursor;
        m.cursor = mirrored.cursor;
        m.notes = mirrored.notes;
        m.stock = mirrored.stock;
        m.status = mirrored.status;
        m.name = mirrored.name;
        if mirrored.rate_per_minute != m.rate_per_minute {
            m.rate.reset(mirrored.rate_per_minute);
        }
        m.rate_per_minute = mirrored.rate_per_minute;
        m.checkout_url = mirrored.checkout_url;
        m.head = mirrored.head;
        m.departed = Arc::new(mirrored.departed.into());
        if jumped {
            // The broadcasts between are not held here: resume from before them is a
            // snapshot, and so is every connection's next message.
            m.recent.clear();
            let _ = self.fanout.send(Fanout::Resync);
        } else {
            m.moved = true;
            self.announce(&mut m);
        }
    }

    /// Once a tick: the observed rate moves on with time.
    pub fn tick(&self, now: u64) {
        let mut m = self.lock();
        let before = m.effective_rate();
        let per_minute = m.rate_per_minute;
        m.rate.observe(now, per_minute);
        if m.effective_rate() != before {
            m.moved = true;
        }
        self.announce(&mut m);
    }

    /// Registers a connection of `consumer` (who holds `ticket`, admitted as `stored`
    /// says, read from Redis) and builds its start under the mirror's lock, so that
    /// nothing published between is missed or seen twice. `start` gets the mirror's
    /// cursor and recent broadcasts; it decides what the connection sends first.
    pub fn subscribe<T>(
        &self,
        consumer: &Arc<str>,
        ticket: u64,
        stored: Option<Admission>,
        now: u64,
        start: impl FnOnce(QueueState, Cursor, &VecDeque<Arc<Encoded>>) -> T,
    ) -> (
        T,
        broadcast::Receiver<Fanout>,
        watch::Receiver<Private>,
        Advance,
    ) {
        let mut m = self.lock();
        let seq = m.cursor.seq;
        let local = m.locals.entry(consumer.clone()).or_insert_with(|| Local {
            private: watch::channel(Private::default()).0,
            subscriptions: 0,
        });
        local.subscriptions += 1;
        local.private.send_if_modified(|p| offer(p, stored, seq));
        let private = local.private.subscribe();
        let fanout = self.fanout.subscribe();
        let admission = private.borrow().admission.clone();
        let state = m.state(consumer, ticket, admission, now);
        let advance = m.advance();
        let started = start(state, m.cursor, &m.recent);
        (started, fanout, private, advance)
    }

    /// A connection of `consumer` over `transport` closed.
    pub fn connection_closed(&self, consumer: &str, transport: Push) {
        self.connections
            .of(transport)
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        let mut m = self.lock();
        if let Some(local) = m.locals.get_mut(consumer) {
            local.subscriptions -= 1;
            if local.subscriptions == 0 {
                m.locals.remove(consumer);
            }
        }
    }

    /// The full state of `consumer`, who holds `ticket` and `admission`, from the mirror.
    pub fn snapshot(
        &self,
        consumer: &str,
        ticket: u64,
        admission: Option<Admission>,
        now: u64,
    ) -> QueueState {
        self.lock().state(consumer, ticket, admission, now)
    }

    /// The full state of `consumer` from a place read from Redis (a join, a poll): its
    /// position, stock and cursor are Redis's; the name and wait estimate the mirror's.
    pub fn state_of(&self, consumer: &str, place: &StoredPlace, now: u64) -> QueueState {
        let m = self.lock();
        let position = place.position();
        let rate = match place.status {
            ExperienceStatus::Open if place.stock.available > 0 => m.rate.per_sec(),
            _ => None,
        };
        let place_now = position.map(|position| Place {
            position,
            estimated_wait_seconds: estimate_wait(position, rate),
        });
        let view = View {
            stock: place.stock,
            status: place.status,
            cursor: place.cursor,
        };
        m.queue_state(consumer, place_now, view, place.admission().cloned(), now)
    }

    /// The operator's summary: `mirrored`'s counts (read from Redis), the observed rate,
    /// and this node's connections plus `elsewhere` (the other nodes').
    pub fn summary(&self, mirrored: &Mirrored, elsewhere: ConnectionCounts) -> ExperienceSummary {
        let here = self.connections.counts();
        let connections = ConnectionCounts {
            sse: here.sse + elsewhere.sse,
            websocket: here.websocket + elsewhere.websocket,
        };
        let m = self.lock();
        ExperienceSummary {
            id: m.id.to_string(),
            name: mirrored.name.clone(),
            status: mirrored.status,
            stock: mirrored.stock,
            admission_rate_per_minute: mirrored.rate_per_minute,
            observed_rate_per_minute: m.rate.per_sec().unwrap_or(0.0) * 60.0,
            checkout_url: mirrored.checkout_url.clone(),
            waiting: mirrored.waiting,
            active_admissions: mirrored.active,
            redeemed: mirrored.redeemed,
            expired: mirrored.expired,
            connections: connections.sse + connections.websocket,
            admitted: mirrored.admitted,
            connections_by_transport: connections,
        }
    }

    /// Admissions in each of the last ten-second buckets as of `now`, oldest first.
    pub fn admissions_history(&self, now: u64) -> Vec<u64> {
        self.lock().rate.history(now)
    }
}

/// Keeps `stored` in `private` when it says more than what is there; `true` when it
/// changed. Reads from Redis and notes of the feed may arrive in either order, and a
/// grant only moves forward (issued, then extended or reserved against, then redeemed or
/// ended), so the one further along is the newer.
fn offer(private: &mut Private, stored: Option<Admission>, seq: u64) -> bool {
    let Some(stored) = stored else {
        return false;
    };
    let newer = match &private.admission {
        None => true,
        Some(held) => progress(&stored) > progress(held),
    };
    if newer {
        *private = Private {
            admission: Some(stored),
            seq,
        };
    }
    newer
}

/// How far along a grant is, for [`offer`]: ended beats active, then a later expiry (an
/// extension), then more units reserved.
fn progress(a: &Admission) -> (u8, Option<u64>, u64) {
    let stage = match a.status {
        AdmissionStatus::Active => 0,
        AdmissionStatus::Redeemed | AdmissionStatus::Expired => 1,
    };
    (stage, a.expires_at, a.reserved)
}

impl Mirror {
    /// The rate wait estimates use: none while nobody can be admitted, as in memory.
    fn effective_rate(&self) -> Option<f64> {
        match self.status {
            ExperienceStatus::Open if self.stock.available > 0 => self.rate.per_sec(),
            _ => None,
        }
    }

    /// The line as connections see it.
    fn advance(&self) -> Advance {
        Advance {
            head: self.head,
            departed: self.departed.clone(),
            cursor: self.cursor,
            rate_per_sec: self.effective_rate(),
        }
    }

    /// Applies one note.
    fn note(&mut self, note: Note, now: u64) {
        match note {
            Note::Head { head, admitted } => {
                self.head = self.head.max(head);
                let departed = Arc::make_mut(&mut self.departed);
                while departed.front().is_some_and(|t| *t < head) {
                    departed.pop_front();
                }
                self.rate.record(admitted, now);
                self.moved = true;
            }
            Note::Left { ticket } => {
                if ticket >= self.head {
                    let departed = Arc::make_mut(&mut self.departed);
                    if let Err(at) = departed.binary_search(&ticket) {
                        departed.insert(at, ticket);
                    }
                    self.moved = true;
                }
            }
            Note::Rate { per_minute } => {
                self.rate_per_minute = per_minute;
                self.rate.reset(per_minute);
                self.moved = true;
            }
            Note::Grant {
                grant,
                consumer,
                status,
                expires_at,
                reserved,
            } => {
                let Some(local) = self.locals.get(consumer.as_str()) else {
                    return; // not connected here
                };
                let admission = Admission {
                    grant,
                    status,
                    expires_at: Some(expires_at),
                    reserved,
                    checkout_url: self.checkout_url.clone(),
                };
                let seq = self.cursor.seq;
                // A note is what Redis did, in order: it replaces what was held.
                local.private.send_replace(Private {
                    admission: Some(admission),
                    seq,
                });
            }
        }
    }

    /// The full state of `consumer` as the mirror has it.
    fn state(
        &self,
        consumer: &str,
        ticket: u64,
        admission: Option<Admission>,
        now: u64,
    ) -> QueueState {
        // Admitted in Redis before the mirror saw the head move: not waiting any more.
        let place = match admission {
            Some(_) => None,
            None => self.advance().position_of(ticket),
        };
        let view = View {
            stock: self.stock,
            status: self.status,
            cursor: self.cursor,
        };
        self.queue_state(consumer, place, view, admission, now)
    }

    /// The full state of `consumer` at `place` in `view`, named as the mirror names the
    /// experience: the one shape of [`Hub::snapshot`] and [`Hub::state_of`].
    fn queue_state(
        &self,
        consumer: &str,
        place: Option<Place>,
        view: View,
        admission: Option<Admission>,
        now: u64,
    ) -> QueueState {
        let mut state = QueueState {
            experience_id: self.id.to_string(),
            consumer_id: consumer.to_string(),
            position: place.map(|p| p.position),
            estimated_wait_seconds: place.and_then(|p| p.estimated_wait_seconds),
            stage: None,
            stock: view.stock,
            experience: ExperienceView {
                name: self.name.clone(),
                status: view.status,
            },
            admission,
            cursor: view.cursor,
            server_time: Some(now),
        };
        state.stage = Some(state.derive_stage());
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(status: AdmissionStatus, expires_at: u64, reserved: u64) -> Admission {
        Admission {
            grant: "g".into(),
            status,
            expires_at: Some(expires_at),
            reserved,
            checkout_url: String::new(),
        }
    }

    #[test]
    fn an_older_read_never_replaces_a_newer_note() {
        let mut p = Private::default();
        assert!(offer(
            &mut p,
            Some(admission(AdmissionStatus::Active, 10, 0)),
            1
        ));
        assert!(
            offer(&mut p, Some(admission(AdmissionStatus::Active, 20, 0)), 2),
            "an extension is newer"
        );
        assert!(
            !offer(&mut p, Some(admission(AdmissionStatus::Active, 10, 0)), 3),
            "a read from before the extension"
        );
        assert!(offer(
            &mut p,
            Some(admission(AdmissionStatus::Expired, 20, 0)),
            4
        ));
        assert!(
            !offer(&mut p, Some(admission(AdmissionStatus::Active, 20, 2)), 5),
            "active after ended"
        );
        assert!(!offer(&mut p, None, 6), "no admission says nothing");
        assert_eq!(
            p.admission.map(|a| a.status),
            Some(AdmissionStatus::Expired)
        );
    }
}
