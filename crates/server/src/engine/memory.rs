//! The in-memory engine ([`MemoryEngine`]): experiences, their shoppers, admissions and
//! stock, in this process's memory. The default, for one node.
//!
//! Each experience sits behind its own mutex (held for microseconds: no I/O, no awaits) with
//! a ticker task that admits at the configured rate, expires grants and paces heartbeats.
//! Connections never read another shopper's data: they subscribe to the experience's fan-out
//! channel (broadcasts and line movements) and to their own shopper's private channel.

mod shopper;
mod ticker;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use livequeue_protocol::api::{
    ConnectionCounts, CreateExperience, EntriesPage, ExperienceSummary, OperatorFigures,
    PatchExperience, QueueEntry, RedeemResponse,
};
use livequeue_protocol::{Cursor, ExperienceStatus, QueueState};
use tokio::sync::{broadcast, watch};

use super::clock::Clock;
use super::experience::{ExperienceState, GrantRules, Holder, Settings};
use super::fanout::Fanout;
use super::subscription::{Source, Start, Subscription};
use super::{Connections, EngineConfig, EngineError, Push};
use crate::metrics::{AdmittedBy, Counters, Resync};
use crate::readiness::{NotReady, Readiness};

/// One experience: its state, and how many connections watch it.
#[derive(Debug)]
pub struct Experience {
    /// The rules and data, behind a mutex held for microseconds (no I/O, no awaits).
    state: Mutex<ExperienceState>,
    /// Held while one lock's publications are sent (every waiting receiver woken), taken
    /// before `state` is let go: sends keep the order they were published in, and nobody
    /// needs `state` while receivers are woken. Lock order: `state`, then `sending`.
    sending: Mutex<()>,
    /// The state's fan-out channel, to send on outside `state`.
    fanout: broadcast::Sender<Fanout>,
    /// Open shopper connections, for the operator.
    connections: Connections,
}

impl Experience {
    /// One of its connections over `transport` closed.
    pub(super) fn connection_closed(&self, transport: Push) {
        self.connections
            .of(transport)
            .fetch_sub(1, Ordering::Relaxed);
    }

    /// A new experience.
    fn new(state: ExperienceState) -> Self {
        Self {
            fanout: state.fanout_sender(),
            state: Mutex::new(state),
            sending: Mutex::new(()),
            connections: Connections::default(),
        }
    }

    /// The state, locked; what is published meanwhile is sent when the guard drops, after
    /// the state is unlocked.
    pub(super) fn lock(&self) -> Locked<'_> {
        Locked {
            state: Some(unpoisoned(self.state.lock())),
            sending: None,
            experience: self,
        }
    }

    /// The state, locked once no publication is still being sent: for a new subscriber,
    /// whose snapshot must neither miss an item nor be followed by one it already holds.
    pub(super) fn lock_between_sends(&self) -> Locked<'_> {
        let state = unpoisoned(self.state.lock());
        Locked {
            state: Some(state),
            sending: Some(unpoisoned(self.sending.lock())),
            experience: self,
        }
    }
}

/// A panic while holding a lock leaves plain data behind, never a broken invariant worth
/// refusing every later request for.
fn unpoisoned<T>(result: std::sync::LockResult<MutexGuard<'_, T>>) -> MutexGuard<'_, T> {
    result.unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An experience's locked state ([`Experience::lock`]).
#[derive(Debug)]
pub(super) struct Locked<'a> {
    /// `None` only while dropping.
    state: Option<MutexGuard<'a, ExperienceState>>,
    /// Held from before `state` is let go until the outbox is sent.
    sending: Option<MutexGuard<'a, ()>>,
    experience: &'a Experience,
}

impl std::ops::Deref for Locked<'_> {
    type Target = ExperienceState;
    fn deref(&self) -> &ExperienceState {
        self.state.as_ref().expect("the state is held until drop")
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut ExperienceState {
        self.state.as_mut().expect("the state is held until drop")
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let Some(mut state) = self.state.take() else {
            return;
        };
        let outbox = state.take_outbox();
        if outbox.is_empty() {
            return;
        }
        let sending = self
            .sending
            .take()
            .unwrap_or_else(|| unpoisoned(self.experience.sending.lock()));
        drop(state);
        for item in outbox {
            // Nobody listening any more is not an error (see `ExperienceState::publish`).
            let _ = self.experience.fanout.send(item);
        }
        drop(sending);
    }
}

/// The in-memory engine.
#[derive(Debug)]
pub struct MemoryEngine {
    /// This lifetime of the memory: cursors of another epoch are never replayed.
    epoch: u64,
    /// Wall-clock milliseconds that follow tokio's clock, so tests can pause time.
    clock: Clock,
    /// Timings handed to every ticker.
    config: EngineConfig,
    /// Every experience by id; read on each request, written only on create.
    experiences: RwLock<HashMap<Arc<str>, Arc<Experience>>>,
    /// Dropping or setting it stops every ticker.
    shutdown: watch::Sender<bool>,
    /// This node's metrics: the engine counts joins, admissions, redemptions, expiries and
    /// open shopper streams; transports count what they write through
    /// [`Subscription::counters`].
    counters: Arc<Counters>,
    /// Whether this node can serve (`/readyz`): not once shutdown begins.
    readiness: Readiness,
}

impl MemoryEngine {
    /// A new engine whose memory begins now: its epoch is the current time in milliseconds.
    pub fn new(config: EngineConfig) -> Arc<Self> {
        let clock = Clock::new();
        Arc::new(Self {
            epoch: clock.now_ms(),
            clock,
            config,
            experiences: RwLock::new(HashMap::new()),
            shutdown: watch::channel(false).0,
            counters: Arc::default(),
            readiness: Readiness::default(),
        })
    }

    /// This node's metrics ([`crate::metrics`]).
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// Whether this node can serve ([`crate::readiness`]).
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// This lifetime's epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Now, in milliseconds since the Unix epoch (follows tokio's clock).
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn get(&self, id: &str) -> Result<Arc<Experience>, EngineError> {
        let map = self.experiences.read().unwrap_or_else(|p| p.into_inner());
        map.get(id)
            .cloned()
            .ok_or_else(|| EngineError::UnknownExperience(id.to_string()))
    }

    /// Whether the experience exists.
    pub fn exists(&self, id: &str) -> bool {
        self.get(id).is_ok()
    }

    /// Creates an experience and starts its ticker.
    pub fn create(
        self: &Arc<Self>,
        req: CreateExperience,
    ) -> Result<ExperienceSummary, EngineError> {
        if *self.shutdown.borrow() {
            return Err(EngineError::ShuttingDown);
        }
        let id: Arc<str> = req.id.into();
        let settings = Settings {
            name: req.name,
            status: ExperienceStatus::Open,
            rate_per_minute: req.admission_rate_per_minute,
            checkout_url: req.checkout_url,
        };
        let ttl = req
            .grant_ttl_seconds
            .map_or(self.config.grant_ttl, |s| Duration::from_secs(s.max(1)));
        let rules = GrantRules {
            ttl_ms: ttl.as_millis() as u64,
            extension_ms: self.config.grant_extension.as_millis() as u64,
            max_units: self.config.max_units_per_grant,
        };
        let experience = Arc::new(Experience::new(ExperienceState::new(
            id.clone(),
            settings,
            req.stock,
            self.epoch,
            rules,
            self.counters.clone(),
        )));
        {
            let mut map = self.experiences.write().unwrap_or_else(|p| p.into_inner());
            if map.contains_key(&id) {
                return Err(EngineError::ExperienceExists(id.to_string()));
            }
            map.insert(id.clone(), experience.clone());
        }
        self.spawn_ticker(experience.clone());
        let summary = experience.lock().summary(ConnectionCounts::default());
        Ok(summary)
    }

    /// Adds a shopper to the end of the line.
    pub fn join(&self, experience_id: &str) -> Result<(String, QueueState), EngineError> {
        let experience = self.get(experience_id)?;
        let mut state = experience.lock();
        if state.settings().status == ExperienceStatus::Closed {
            return Err(EngineError::Closed(experience_id.to_string()));
        }
        let id = format!("c_{:016x}", rand::random::<u64>());
        let now = self.clock.now_ms();
        let consumer = state.join(id.as_str().into(), now);
        let (ticket, admission) = (consumer.ticket, consumer.private.borrow().admission.clone());
        let snapshot = state.snapshot(&id, ticket, admission, now);
        self.counters.joins.inc();
        Ok((id, snapshot))
    }

    /// Makes sure a shopper whose token the caller has verified is known, adding them at the
    /// end of the line when not. The in-memory engine forgets everyone on restart, while the
    /// shoppers' signed tokens stay valid (with `LIVEQUEUE_SECRET` set): this lets their
    /// widgets resync to the new epoch instead of failing for good.
    pub fn ensure_consumer(
        &self,
        experience_id: &str,
        consumer_id: &str,
    ) -> Result<(), EngineError> {
        let experience = self.get(experience_id)?;
        let mut state = experience.lock();
        if state.consumer(consumer_id).is_none() {
            if state.settings().status == ExperienceStatus::Closed {
                return Err(EngineError::Closed(experience_id.to_string()));
            }
            tracing::info!(
                consumer = consumer_id,
                "re-admitting a shopper unknown to this epoch"
            );
            state.join(consumer_id.into(), self.clock.now_ms());
        }
        Ok(())
    }

    /// The shopper's full state.
    pub fn snapshot(
        &self,
        experience_id: &str,
        consumer_id: &str,
    ) -> Result<QueueState, EngineError> {
        let experience = self.get(experience_id)?;
        let state = experience.lock();
        state
            .snapshot_of(consumer_id, self.clock.now_ms())
            .ok_or(EngineError::UnknownConsumer)
    }

    /// Subscribes a new connection over `transport`, resuming after `resume` when given;
    /// also says what the connection must send first.
    pub fn subscribe(
        self: &Arc<Self>,
        experience_id: &str,
        consumer_id: &str,
        transport: Push,
        resume: Option<Cursor>,
    ) -> Result<(Start, Subscription), EngineError> {
        if *self.shutdown.borrow() {
            return Err(EngineError::ShuttingDown);
        }
        let experience = self.get(experience_id)?;
        let state = experience.lock_between_sends();
        let consumer = state
            .consumer(consumer_id)
            .ok_or(EngineError::UnknownConsumer)?;
        // Under the lock and between sends, so nothing published between the snapshot and
        // the subscription is missed or seen twice.
        let fanout = state.subscribe_fanout();
        let private = consumer.private.subscribe();
        let admission = private.borrow().admission.clone();
        let snapshot = state.snapshot(consumer_id, consumer.ticket, admission, self.clock.now_ms());
        let start = match resume {
            None => Start::Fresh(snapshot),
            Some(cursor) => match state.replay_since(cursor) {
                Some(events) => Start::Replay(events),
                None => {
                    self.counters.resync(Resync::StaleCursor);
                    Start::Snapshot(snapshot)
                }
            },
        };
        let ticket = consumer.ticket;
        let place = state.advance().position_of(ticket);
        let cursor = state.cursor();
        drop(state);
        experience
            .connections
            .of(transport)
            .fetch_add(1, Ordering::Relaxed);
        self.counters.connections.get(transport).inc();
        let sub = Subscription {
            transport,
            fanout,
            private,
            ticket,
            place,
            cursor,
            source: Source::Memory {
                experience,
                engine: self.clone(),
            },
            consumer_id: consumer_id.into(),
        };
        Ok((start, sub))
    }

    /// Redeems a grant.
    pub fn redeem(&self, experience_id: &str, grant: &str) -> Result<RedeemResponse, EngineError> {
        let experience = self.get(experience_id)?;
        let mut state = experience.lock();
        let (consumer, at) = state
            .redeem(grant, self.clock.now_ms())
            .map_err(EngineError::Redeem)?;
        self.counters.redemptions.inc();
        Ok(RedeemResponse {
            consumer_id: consumer.to_string(),
            experience_id: experience_id.to_string(),
            redeemed_at: at,
        })
    }

    /// A page of the line for the operator: `limit` rows from `offset` (0-based), each
    /// holder turned into an anonymous label by `label` after the lock is released.
    pub fn entries(
        &self,
        experience_id: &str,
        offset: u64,
        limit: u64,
        label: impl Fn(&Holder) -> String,
    ) -> Result<EntriesPage, EngineError> {
        let experience = self.get(experience_id)?;
        // Read together, so that `admitted` plus a row's index names its shopper.
        let (rows, total, admitted) = {
            let state = experience.lock();
            (state.page(offset, limit), state.waiting(), state.admitted())
        };
        let entries = rows
            .into_iter()
            .map(|row| QueueEntry {
                position: row.position,
                label: label(&row.holder),
                joined_at: row.joined_at,
            })
            .collect();
        Ok(EntriesPage {
            total,
            admitted,
            entries,
        })
    }

    /// Configuration and live counts.
    pub fn summary(&self, experience_id: &str) -> Result<ExperienceSummary, EngineError> {
        let experience = self.get(experience_id)?;
        let connections = experience.connections.counts();
        let summary = experience.lock().summary(connections);
        Ok(summary)
    }

    /// Every experience's summary, ordered by id.
    pub fn summaries(&self) -> Vec<ExperienceSummary> {
        let mut all: Vec<(Arc<str>, Arc<Experience>)> = {
            let map = self.experiences.read().unwrap_or_else(|p| p.into_inner());
            map.iter().map(|(id, e)| (id.clone(), e.clone())).collect()
        };
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.into_iter()
            .map(|(_, e)| {
                let connections = e.connections.counts();
                e.lock().summary(connections)
            })
            .collect()
    }

    /// One frame of the operator's stream: the summary, the admissions history and the
    /// time, read under one lock so they agree.
    pub fn figures(&self, experience_id: &str) -> Result<OperatorFigures, EngineError> {
        let experience = self.get(experience_id)?;
        let connections = experience.connections.counts();
        let now = self.clock.now_ms();
        let state = experience.lock();
        Ok(OperatorFigures {
            summary: state.summary(connections),
            admissions_history: state.admissions_history(now),
            server_time: now,
        })
    }

    /// Adds `count` anonymous synthetic shoppers to the back of the line, in one hold of
    /// the lock (the operator's demo and test control).
    pub fn join_synthetic(
        &self,
        experience_id: &str,
        count: u64,
    ) -> Result<ExperienceSummary, EngineError> {
        let experience = self.get(experience_id)?;
        {
            let mut state = experience.lock();
            if state.settings().status == ExperienceStatus::Closed {
                return Err(EngineError::Closed(experience_id.to_string()));
            }
            state.join_synthetic(count, self.clock.now_ms());
        }
        self.summary(experience_id)
    }

    /// Applies an operator's change (its rate already checked by the caller).
    pub fn patch(
        &self,
        experience_id: &str,
        change: &PatchExperience,
    ) -> Result<ExperienceSummary, EngineError> {
        let experience = self.get(experience_id)?;
        experience.lock().patch(change);
        self.summary(experience_id)
    }

    /// Admits up to `count` shoppers now.
    pub fn admit(&self, experience_id: &str, count: u64) -> Result<ExperienceSummary, EngineError> {
        let experience = self.get(experience_id)?;
        {
            let mut state = experience.lock();
            if state.settings().status == ExperienceStatus::Closed {
                return Err(EngineError::Closed(experience_id.to_string()));
            }
            let admitted = state.admit(count, self.clock.now_ms());
            self.counters
                .admissions
                .get(AdmittedBy::Operator)
                .inc_by(admitted);
        }
        self.summary(experience_id)
    }

    /// Sends an unchecked frame to every connection of the experience (test controls).
    pub fn inject(&self, experience_id: &str, raw: super::fanout::Raw) -> Result<(), EngineError> {
        let experience = self.get(experience_id)?;
        experience.lock().publish(Fanout::Raw(Arc::new(raw)));
        Ok(())
    }

    /// Stops the tickers and tells every connection to end; the node is no longer ready.
    pub fn shutdown(&self) {
        self.readiness.set(NotReady::ShuttingDown);
        self.shutdown.send_replace(true);
        let map = self.experiences.read().unwrap_or_else(|p| p.into_inner());
        for experience in map.values() {
            experience.lock().publish(Fanout::Shutdown);
        }
    }

    /// Whether [`Engine::shutdown`] was called.
    pub fn is_shut_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Changes to `true` when [`Engine::shutdown`] is called: for streams that do not
    /// listen to an experience's fan-out (the operator's).
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Open shopper connections on this node, over all experiences.
    pub fn connections(&self) -> u64 {
        let map = self.experiences.read().unwrap_or_else(|p| p.into_inner());
        map.values()
            .map(|e| {
                let c = e.connections.counts();
                c.sse + c.websocket
            })
            .sum()
    }
}
