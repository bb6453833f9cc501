//! One experience's queue: tickets in join order, admissions at a rate while stock lasts,
//! single-use grants with an expiry, and the events all of that sends to connections.
//!
//! Everything here runs under the experience's mutex, with the time passed in, so the rules
//! are plain synchronous code; [`super::Engine`] owns the locking, the clock and the ticker.
//!
//! # Layout
//!
//! - [`line`]: the shoppers, their tickets and the head of the line ([`Line`]).
//! - [`grants`]: grants, their expiry and outcome ([`Grants`]).
//! - [`rate`]: admission pacing and the rate wait estimates use ([`AdmissionRate`]).
//! - [`history`]: the cursor and the broadcasts kept for resume ([`History`]).
//! - [`shopper`]: what a shopper does themselves: extend, reserve, leave.
//!
//! This file holds [`ExperienceState`], which ties them to the stock, the operator's
//! settings and the fan-out channel.

pub mod grants;
pub mod history;
pub mod line;
pub mod rate;
pub mod shopper;

use std::sync::Arc;

use livequeue_protocol::api::{ConnectionCounts, ExperienceSummary, PatchExperience};
use livequeue_protocol::{
    Admission, AdmissionStatus, Cursor, ExperienceStatus, ExperienceView, QueueState, ServerEvent,
    Stock,
};
use tokio::sync::broadcast;

use super::fanout::{Advance, Encoded, Fanout};
use crate::metrics::{AdmittedBy, Counters};
pub use grants::{GrantError, GrantRules, Grants, RedeemError, is_grant_shaped};
pub use history::{HISTORY, History};
pub use line::{Admitted, Consumer, Holder, Line, Row};
pub use rate::AdmissionRate;

/// What a shopper's connections watch for private changes: the admission, and the broadcast
/// `seq` it is consistent with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Private {
    /// The shopper's admission, once there is one.
    pub admission: Option<Admission>,
    /// Broadcast seq when the admission last changed.
    pub seq: u64,
}

/// Configuration of an experience, as created or patched by the operator.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Display name.
    pub name: String,
    /// Open, paused or closed.
    pub status: ExperienceStatus,
    /// Admissions per minute while open.
    pub rate_per_minute: f64,
    /// Where admitted shoppers check out.
    pub checkout_url: String,
}

/// Capacity of the fan-out channel. Broadcasts are paced by the ticker, so 256 items is well
/// over a minute of slack for a connection that reads slowly; one that falls further behind
/// is told it lagged and resyncs from a snapshot instead of holding the server's memory.
pub const FANOUT_CAPACITY: usize = 256;

/// The state of one experience.
#[derive(Debug)]
pub struct ExperienceState {
    /// The experience's id, named in every snapshot and summary.
    pub id: Arc<str>,
    /// What the operator configured; the status and rate decide admissions and estimates.
    settings: Settings,
    /// Units left and in all: admissions and reservations take, expiries and departures give
    /// back, the operator resizes.
    stock: Stock,
    /// The shoppers and their order.
    line: Line,
    /// The grants of admitted shoppers.
    grants: Grants,
    /// How fast the line moves: pacing for ticks, rate for estimates.
    rate: AdmissionRate,
    /// The cursor and the broadcasts kept for SSE resume.
    history: History,
    /// The line's [`Line::moves`] last announced with an [`Advance`], so a tick that moved
    /// nobody sends nothing.
    announced_moves: u64,
    /// Every connection of the experience subscribes here (bounded: [`FANOUT_CAPACITY`]).
    fanout: broadcast::Sender<Fanout>,
    /// What was published under the lock, in order, for the lock's holder to send once it
    /// has let the lock go ([`ExperienceState::take_outbox`]): waking every receiver takes
    /// time that grows with the connections, and joins, polls and snapshots must not wait
    /// for it.
    outbox: Vec<Fanout>,
    /// The node's metrics: admissions by the rate and grants ended unused are counted here,
    /// where they happen.
    counters: Arc<Counters>,
}

impl ExperienceState {
    /// A new experience with `stock` units, counting into `counters`.
    pub fn new(
        id: Arc<str>,
        settings: Settings,
        stock: u64,
        epoch: u64,
        rules: GrantRules,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            id,
            rate: AdmissionRate::new(settings.rate_per_minute),
            settings,
            stock: Stock {
                available: stock,
                total: stock,
            },
            line: Line::default(),
            grants: Grants::new(rules),
            history: History::new(epoch),
            announced_moves: 0,
            fanout: broadcast::channel(FANOUT_CAPACITY).0,
            outbox: Vec::new(),
            counters,
        }
    }

    /// The cursor of the last broadcast.
    pub fn cursor(&self) -> Cursor {
        self.history.cursor()
    }

    /// Units left and in all now (for [`crate::engine::core::MemoryQueue`]).
    pub(crate) fn stock(&self) -> Stock {
        self.stock
    }

    /// The current settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Queues `item` for the fan-out channel, to be sent by whoever holds the lock once they
    /// let it go ([`ExperienceState::take_outbox`]). With nobody listening it is dropped at
    /// once: the event is kept in the history (broadcasts) or only matters to connections
    /// (the rest), and a connection that subscribes later starts from a snapshot that
    /// already holds it.
    pub fn publish(&mut self, item: Fanout) {
        if self.fanout.receiver_count() > 0 {
            self.outbox.push(item);
        }
    }

    /// What was published since the last call, in order, to send on
    /// [`ExperienceState::fanout_sender`] after the lock is let go.
    pub fn take_outbox(&mut self) -> Vec<Fanout> {
        std::mem::take(&mut self.outbox)
    }

    /// The fan-out channel's sender, for sending the outbox outside the lock.
    pub fn fanout_sender(&self) -> broadcast::Sender<Fanout> {
        self.fanout.clone()
    }

    /// A receiver of everything published from now on.
    pub fn subscribe_fanout(&self) -> broadcast::Receiver<Fanout> {
        self.fanout.subscribe()
    }

    fn broadcast(&mut self, event: ServerEvent) {
        let encoded = self.history.record(event);
        self.publish(Fanout::Event(encoded));
    }

    /// Broadcasts after `after`, when the history still holds all of them.
    pub fn replay_since(&self, after: Cursor) -> Option<Vec<Arc<Encoded>>> {
        self.history.replay_since(after)
    }

    /// Adds a shopper at the end of the line; a known shopper keeps their one place.
    pub fn join(&mut self, consumer_id: Arc<str>, now: u64) -> &Consumer {
        self.line.join(consumer_id, now)
    }

    /// The shopper with this id.
    pub fn consumer(&self, id: &str) -> Option<&Consumer> {
        self.line.consumer(id)
    }

    /// Adds `count` anonymous synthetic shoppers at the end of the line (operator's demo
    /// and test control). Joins at the back move nobody's place, so, as for a shopper's
    /// join, there is nothing to tell connections; the operator's figures show the line.
    pub fn join_synthetic(&mut self, count: u64, now: u64) {
        self.line.join_synthetic(count, now);
    }

    /// The line's current head, cursor and rate, as connections see it.
    pub fn advance(&self) -> Advance {
        Advance {
            head: self.line.head(),
            departed: self.line.departed(),
            cursor: self.cursor(),
            rate_per_sec: self.effective_rate(),
        }
    }

    /// The rate wait estimates use: none while nobody can be admitted (paused, closed, sold
    /// out), since no rate would predict a wait then.
    fn effective_rate(&self) -> Option<f64> {
        match self.settings.status {
            ExperienceStatus::Open if self.stock.available > 0 => self.rate.per_sec(),
            _ => None,
        }
    }

    /// The full state as the shopper `consumer_id` sees it, or `None` for a stranger.
    pub fn snapshot_of(&self, consumer_id: &str, now: u64) -> Option<QueueState> {
        let consumer = self.line.consumer(consumer_id)?;
        let admission = consumer.private.borrow().admission.clone();
        Some(self.snapshot(consumer_id, consumer.ticket, admission, now))
    }

    /// The full state of the shopper `consumer_id`, who holds `ticket` and `admission`
    /// (a subscription knows both without looking the shopper up).
    pub fn snapshot(
        &self,
        consumer_id: &str,
        ticket: u64,
        admission: Option<Admission>,
        now: u64,
    ) -> QueueState {
        let place = self.advance().position_of(ticket);
        let mut state = QueueState {
            experience_id: self.id.to_string(),
            consumer_id: consumer_id.to_string(),
            position: place.map(|p| p.position),
            estimated_wait_seconds: place.and_then(|p| p.estimated_wait_seconds),
            stage: None,
            stock: self.stock,
            experience: self.view(),
            admission,
            cursor: self.cursor(),
            server_time: Some(now),
        };
        state.stage = Some(state.derive_stage());
        state
    }

    fn view(&self) -> ExperienceView {
        ExperienceView {
            name: self.settings.name.clone(),
            status: self.settings.status,
        }
    }

    /// Admits up to `count` shoppers from the front of the line, while stock lasts. Returns
    /// how many were admitted.
    pub fn admit(&mut self, count: u64, now: u64) -> u64 {
        let admitted = self.line.take_front(count.min(self.stock.available));
        let n = admitted.len() as u64;
        if n == 0 {
            return 0;
        }
        self.stock.available -= n;
        self.rate.record(n, now);
        self.broadcast(ServerEvent::StockUpdate(self.stock));
        for admitted in admitted {
            let consumer = match admitted {
                Admitted::Shopper(consumer) => consumer,
                // Nobody watches a synthetic shopper: their grant is issued (it holds a
                // unit and expires like any other) under a name no consumer record has.
                Admitted::Synthetic(ticket) => {
                    self.grants.issue(format!("synthetic-{ticket}").into(), now);
                    continue;
                }
            };
            let issued = self.grants.issue(consumer.clone(), now);
            let admission = Admission {
                grant: issued.grant,
                expires_at: Some(issued.expires_at),
                checkout_url: self.settings.checkout_url.clone(),
                status: AdmissionStatus::Active,
                reserved: 0,
            };
            self.set_private(&consumer, admission);
        }
        n
    }

    fn set_private(&self, consumer: &str, admission: Admission) {
        if let Some(c) = self.line.consumer(consumer) {
            c.private.send_replace(Private {
                admission: Some(admission),
                seq: self.cursor().seq,
            });
        }
    }

    fn update_admission_status(&self, consumer: &str, status: AdmissionStatus) {
        if let Some(c) = self.line.consumer(consumer) {
            let current = c.private.borrow().admission.clone();
            if let Some(mut admission) = current {
                admission.status = status;
                self.set_private(consumer, admission);
            }
        }
    }

    /// Expires grants whose time is up, returning their units to stock.
    pub fn expire_grants(&mut self, now: u64) {
        let returned = self.grants.expire_due(now);
        if returned.is_empty() {
            return;
        }
        self.counters.grants_expired.inc_by(returned.len() as u64);
        let units = returned.iter().map(|r| r.units).sum();
        self.give_back(units);
        for r in returned {
            self.update_admission_status(&r.consumer, AdmissionStatus::Expired);
        }
    }

    /// Returns `units` to stock (never above the total, which the operator may have
    /// lowered meanwhile) and tells everyone.
    fn give_back(&mut self, units: u64) {
        self.stock.available = (self.stock.available + units).min(self.stock.total);
        self.broadcast(ServerEvent::StockUpdate(self.stock));
    }

    /// Redeems a grant once.
    pub fn redeem(&mut self, grant: &str, now: u64) -> Result<(Arc<str>, u64), RedeemError> {
        self.expire_grants(now);
        let consumer = self.grants.redeem(grant)?;
        self.update_admission_status(&consumer, AdmissionStatus::Redeemed);
        Ok((consumer, now))
    }

    /// One tick of `elapsed_ms`: expiries, admissions at the rate, the observed rate, and the
    /// line's movement announced (at most once a tick, which coalesces position updates).
    pub fn tick(&mut self, elapsed_ms: u64, now: u64) {
        self.expire_grants(now);
        if self.settings.status == ExperienceStatus::Open {
            let wanted = self.rate.due(elapsed_ms, self.settings.rate_per_minute);
            let admitted = self.admit(wanted, now);
            self.counters
                .admissions
                .get(AdmittedBy::Rate)
                .inc_by(admitted);
            self.rate.spend(wanted, admitted);
        } else {
            self.rate.idle();
        }
        self.rate.observe(now, self.settings.rate_per_minute);
        self.announce(false);
    }

    /// Publishes an [`Advance`] when the line moved since the last one (or when `force`).
    pub fn announce(&mut self, force: bool) {
        if force || self.line.moves() != self.announced_moves {
            self.announced_moves = self.line.moves();
            self.publish(Fanout::Advance(self.advance()));
        }
    }

    /// Applies an operator's change (a rate already checked); broadcasts what shoppers see.
    pub fn patch(&mut self, change: &PatchExperience) {
        let estimates_before = self.effective_rate();
        if let Some(total) = change.stock {
            let old = self.stock;
            self.stock.total = total;
            self.stock.available = if total >= old.total {
                old.available + (total - old.total)
            } else {
                old.available.saturating_sub(old.total - total)
            };
            if self.stock != old {
                self.broadcast(ServerEvent::StockUpdate(self.stock));
            }
        }
        if let Some(rate) = change.admission_rate_per_minute {
            self.settings.rate_per_minute = rate;
            self.rate.reset(rate);
        }
        if let Some(status) = change.status
            && status != self.settings.status
        {
            self.settings.status = status;
            self.broadcast(ServerEvent::ExperienceUpdate(self.view()));
        }
        // Wait estimates depend on the rate, the status and whether stock is left: when they
        // changed, let every connection recompute now rather than at the next admission.
        if self.effective_rate() != estimates_before {
            self.announce(true);
        }
    }

    /// Shoppers waiting, from `offset` (0-based), at most `limit`, unlabelled: labels are
    /// a MAC each, computed after the lock is released.
    pub fn page(&self, offset: u64, limit: u64) -> Vec<Row> {
        self.line.page(offset, limit)
    }

    /// Shoppers waiting.
    pub fn waiting(&self) -> u64 {
        self.line.waiting()
    }

    /// Shoppers admitted in all (by the rate and by the operator).
    pub fn admitted(&self) -> u64 {
        self.rate.admitted_total()
    }

    /// Admissions in each of the last ten-second buckets as of `now`, oldest first.
    pub fn admissions_history(&self, now: u64) -> Vec<u64> {
        self.rate.history(now)
    }

    /// Configuration and live counts for the operator, with this node's open connections.
    pub fn summary(&self, connections: ConnectionCounts) -> ExperienceSummary {
        ExperienceSummary {
            id: self.id.to_string(),
            name: self.settings.name.clone(),
            status: self.settings.status,
            stock: self.stock,
            admission_rate_per_minute: self.settings.rate_per_minute,
            observed_rate_per_minute: self.rate.per_sec().unwrap_or(0.0) * 60.0,
            checkout_url: self.settings.checkout_url.clone(),
            waiting: self.line.waiting(),
            active_admissions: self.grants.active_count(),
            redeemed: self.grants.redeemed(),
            expired: self.grants.expired(),
            connections: connections.sse + connections.websocket,
            admitted: self.rate.admitted_total(),
            connections_by_transport: connections,
        }
    }
}

#[cfg(test)]
mod tests;
