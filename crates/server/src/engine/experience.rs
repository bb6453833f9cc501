//! One experience's queue: tickets in join order, admissions at a rate while stock lasts,
//! single-use grants with an expiry, and the events all of that sends to connections.
//!
//! Everything here runs under the experience's mutex, with the time passed in, so the rules
//! are plain synchronous code; [`super::Engine`] owns the locking, the clock and the ticker.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use livequeue_protocol::api::{EntriesPage, ExperienceSummary, PatchExperience, QueueEntry};
use livequeue_protocol::{
    Admission, AdmissionStatus, Cursor, ExperienceStatus, ExperienceView, QueueState, ServerEvent,
    Stock,
};
use tokio::sync::{broadcast, watch};

use super::fanout::{Advance, Encoded, Fanout};

/// What a shopper's connections watch for private changes: the admission, and the broadcast
/// `seq` it is consistent with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Private {
    /// The shopper's admission, once there is one.
    pub admission: Option<Admission>,
    /// Broadcast seq when the admission last changed.
    pub seq: u64,
}

/// One shopper who joined.
#[derive(Debug)]
pub struct Consumer {
    /// Join order number; the shopper's position is `ticket - head + 1`.
    pub ticket: u64,
    /// When the shopper joined, in milliseconds since the Unix epoch.
    pub joined_at: u64,
    /// The shopper's private state. Each of the shopper's connections holds a receiver, so
    /// every tab and device gets every change, and closing one touches no other.
    pub private: watch::Sender<Private>,
}

#[derive(Debug)]
struct Grant {
    consumer: Arc<str>,
    status: AdmissionStatus,
}

/// Why a redemption failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedeemError {
    /// No such grant in this experience.
    Unknown,
    /// Redeemed before.
    AlreadyRedeemed,
    /// Not redeemed in time.
    Expired,
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

/// Broadcast events kept for SSE resume. At the ticker's pace (at most a few broadcasts a
/// second) this covers minutes of disconnection; an older `Last-Event-ID` gets a snapshot.
pub const HISTORY: usize = 1024;

/// Capacity of the fan-out channel. Broadcasts are paced by the ticker, so 256 items is well
/// over a minute of slack for a connection that reads slowly; one that falls further behind
/// is told it lagged and resyncs from a snapshot instead of holding the server's memory.
pub const FANOUT_CAPACITY: usize = 256;

/// Window over which the admission rate is observed for wait estimates.
const RATE_WINDOW_MS: u64 = 60_000;
/// Shortest observation that is trusted over the configured rate.
const RATE_MIN_SPAN_MS: u64 = 10_000;

/// The state of one experience.
#[derive(Debug)]
pub struct ExperienceState {
    /// The experience's id.
    pub id: Arc<str>,
    settings: Settings,
    stock: Stock,
    epoch: u64,
    seq: u64,
    /// Next ticket to hand out.
    next_ticket: u64,
    /// Tickets below `head` have been admitted.
    head: u64,
    /// Waiting shoppers in line order: `waiting[i]` holds ticket `head + i`.
    waiting: VecDeque<Arc<str>>,
    consumers: HashMap<Arc<str>, Consumer>,
    grants: HashMap<String, Grant>,
    /// Active grants in expiry order (every grant lives equally long).
    expiries: VecDeque<(u64, String)>,
    /// Recent broadcasts for SSE resume, oldest first.
    history: VecDeque<Arc<Encoded>>,
    /// Fractional admissions carried between ticks.
    credits: f64,
    admitted_total: u64,
    redeemed: u64,
    expired: u64,
    /// `(time, admitted_total)` samples for the observed rate.
    rate_samples: VecDeque<(u64, u64)>,
    rate_per_sec: Option<f64>,
    /// Head last announced with an [`Advance`].
    announced_head: u64,
    grant_ttl_ms: u64,
    fanout: broadcast::Sender<Fanout>,
}

impl ExperienceState {
    /// A new experience with `stock` units.
    pub fn new(
        id: Arc<str>,
        settings: Settings,
        stock: u64,
        epoch: u64,
        grant_ttl_ms: u64,
    ) -> Self {
        let rate_per_sec = configured_rate(&settings);
        Self {
            id,
            settings,
            stock: Stock {
                available: stock,
                total: stock,
            },
            epoch,
            seq: 0,
            next_ticket: 0,
            head: 0,
            waiting: VecDeque::new(),
            consumers: HashMap::new(),
            grants: HashMap::new(),
            expiries: VecDeque::new(),
            history: VecDeque::with_capacity(64),
            credits: 0.0,
            admitted_total: 0,
            redeemed: 0,
            expired: 0,
            rate_samples: VecDeque::new(),
            rate_per_sec,
            announced_head: 0,
            grant_ttl_ms,
            fanout: broadcast::channel(FANOUT_CAPACITY).0,
        }
    }

    /// The cursor of the last broadcast.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            epoch: self.epoch,
            seq: self.seq,
        }
    }

    /// The current settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Sends on the fan-out channel. Nobody listening is not an error: the event is kept in
    /// the history (broadcasts) or only matters to connections (the rest).
    pub fn publish(&self, item: Fanout) {
        let _ = self.fanout.send(item);
    }

    /// A receiver of everything published from now on.
    pub fn subscribe_fanout(&self) -> broadcast::Receiver<Fanout> {
        self.fanout.subscribe()
    }

    fn broadcast(&mut self, event: ServerEvent) {
        self.seq += 1;
        let encoded = Arc::new(Encoded::new(event, self.cursor()));
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(encoded.clone());
        self.publish(Fanout::Event(encoded));
    }

    /// Broadcasts after `after`, when the history still holds all of them.
    pub fn replay_since(&self, after: Cursor) -> Option<Vec<Arc<Encoded>>> {
        if after.epoch != self.epoch || after.seq > self.seq {
            return None;
        }
        let missed = (self.seq - after.seq) as usize;
        if missed > self.history.len() {
            return None;
        }
        Some(
            self.history
                .iter()
                .skip(self.history.len() - missed)
                .cloned()
                .collect(),
        )
    }

    /// Adds a shopper at the end of the line. Joining again with a known id is a no-op that
    /// returns the existing record: one shopper, one place, whoever calls.
    pub fn join(&mut self, consumer_id: Arc<str>, now: u64) -> &Consumer {
        use std::collections::hash_map::Entry;
        match self.consumers.entry(consumer_id) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                let ticket = self.next_ticket;
                self.next_ticket += 1;
                self.waiting.push_back(new.key().clone());
                new.insert(Consumer {
                    ticket,
                    joined_at: now,
                    private: watch::channel(Private::default()).0,
                })
            }
        }
    }

    /// The shopper with this id.
    pub fn consumer(&self, id: &str) -> Option<&Consumer> {
        self.consumers.get(id)
    }

    /// The line's current head, cursor and rate, as connections see it.
    pub fn advance(&self) -> Advance {
        Advance {
            head: self.head,
            cursor: self.cursor(),
            rate_per_sec: self.effective_rate(),
        }
    }

    fn effective_rate(&self) -> Option<f64> {
        match self.settings.status {
            ExperienceStatus::Open if self.stock.available > 0 => self.rate_per_sec,
            _ => None,
        }
    }

    /// The full state as the shopper `consumer_id` sees it, or `None` for a stranger.
    pub fn snapshot_of(&self, consumer_id: &str, now: u64) -> Option<QueueState> {
        let consumer = self.consumers.get(consumer_id)?;
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
        let count = count
            .min(self.stock.available)
            .min(self.waiting.len() as u64);
        if count == 0 {
            return 0;
        }
        let mut admitted = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let Some(consumer) = self.waiting.pop_front() else {
                break;
            };
            self.head += 1;
            admitted.push(consumer);
        }
        let n = admitted.len() as u64;
        self.stock.available -= n;
        self.admitted_total += n;
        self.broadcast(ServerEvent::StockUpdate(self.stock));
        let expires_at = now + self.grant_ttl_ms;
        for consumer in admitted {
            let grant = new_grant();
            let admission = Admission {
                grant: grant.clone(),
                expires_at: Some(expires_at),
                checkout_url: self.settings.checkout_url.clone(),
                status: AdmissionStatus::Active,
            };
            self.grants.insert(
                grant.clone(),
                Grant {
                    consumer: consumer.clone(),
                    status: AdmissionStatus::Active,
                },
            );
            self.expiries.push_back((expires_at, grant));
            self.set_private(&consumer, admission);
        }
        n
    }

    fn set_private(&self, consumer: &str, admission: Admission) {
        if let Some(c) = self.consumers.get(consumer) {
            let seq = self.seq;
            c.private.send_replace(Private {
                admission: Some(admission),
                seq,
            });
        }
    }

    fn update_admission_status(&self, consumer: &str, status: AdmissionStatus) {
        if let Some(c) = self.consumers.get(consumer) {
            let current = c.private.borrow().admission.clone();
            if let Some(mut admission) = current {
                admission.status = status;
                self.set_private(consumer, admission);
            }
        }
    }

    /// Expires grants whose time is up, returning their units to stock.
    pub fn expire_grants(&mut self, now: u64) {
        let mut returned = Vec::new();
        while let Some((at, _)) = self.expiries.front() {
            if *at > now {
                break;
            }
            let Some((_, grant)) = self.expiries.pop_front() else {
                break;
            };
            if let Some(g) = self.grants.get_mut(&grant)
                && g.status == AdmissionStatus::Active
            {
                g.status = AdmissionStatus::Expired;
                returned.push(g.consumer.clone());
            }
        }
        if returned.is_empty() {
            return;
        }
        let n = returned.len() as u64;
        self.expired += n;
        self.stock.available = (self.stock.available + n).min(self.stock.total);
        self.broadcast(ServerEvent::StockUpdate(self.stock));
        for consumer in returned {
            self.update_admission_status(&consumer, AdmissionStatus::Expired);
        }
    }

    /// Redeems a grant once.
    pub fn redeem(&mut self, grant: &str, now: u64) -> Result<(Arc<str>, u64), RedeemError> {
        self.expire_grants(now);
        let g = self.grants.get_mut(grant).ok_or(RedeemError::Unknown)?;
        match g.status {
            AdmissionStatus::Redeemed => Err(RedeemError::AlreadyRedeemed),
            AdmissionStatus::Expired => Err(RedeemError::Expired),
            AdmissionStatus::Active => {
                g.status = AdmissionStatus::Redeemed;
                let consumer = g.consumer.clone();
                self.redeemed += 1;
                self.update_admission_status(&consumer, AdmissionStatus::Redeemed);
                Ok((consumer, now))
            }
        }
    }

    /// One tick of `elapsed_ms`: expiries, admissions at the rate, the observed rate, and the
    /// line's movement announced (at most once a tick, which coalesces position updates).
    pub fn tick(&mut self, elapsed_ms: u64, now: u64) {
        self.expire_grants(now);
        if self.settings.status == ExperienceStatus::Open {
            let per_tick = self.settings.rate_per_minute / 60_000.0 * elapsed_ms as f64;
            // Credits never pile up beyond one tick's worth (plus the fraction carried), so a
            // pause or an empty line is not followed by a burst.
            self.credits = (self.credits + per_tick).min(per_tick.max(1.0) + 1.0);
            let want = self.credits.floor() as u64;
            let admitted = self.admit(want, now);
            self.credits -= admitted as f64;
            if admitted < want {
                self.credits = self.credits.fract();
            }
        } else {
            self.credits = 0.0;
        }
        self.observe_rate(now);
        self.announce(false);
    }

    /// Publishes an [`Advance`] when the head moved since the last one (or when `force`).
    pub fn announce(&mut self, force: bool) {
        if force || self.head != self.announced_head {
            self.announced_head = self.head;
            self.publish(Fanout::Advance(self.advance()));
        }
    }

    fn observe_rate(&mut self, now: u64) {
        self.rate_samples.push_back((now, self.admitted_total));
        while let Some((at, _)) = self.rate_samples.front() {
            if now - at > RATE_WINDOW_MS && self.rate_samples.len() > 1 {
                self.rate_samples.pop_front();
            } else {
                break;
            }
        }
        let (since, count) = self.rate_samples.front().copied().unwrap_or((now, 0));
        let span = now.saturating_sub(since);
        self.rate_per_sec = if span >= RATE_MIN_SPAN_MS && self.admitted_total > count {
            Some((self.admitted_total - count) as f64 * 1000.0 / span as f64)
        } else {
            configured_rate(&self.settings)
        };
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
            self.rate_samples.clear();
            self.rate_per_sec = configured_rate(&self.settings);
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

    /// Shoppers waiting, from `offset`, at most `limit`, with anonymous labels.
    pub fn entries(&self, offset: u64, limit: u64, label: impl Fn(&str) -> String) -> EntriesPage {
        let entries = self
            .waiting
            .iter()
            .enumerate()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|(i, id)| QueueEntry {
                position: i as u64 + 1,
                label: label(id),
                joined_at: self.consumers.get(id).map(|c| c.joined_at).unwrap_or(0),
            })
            .collect();
        EntriesPage {
            total: self.waiting.len() as u64,
            entries,
        }
    }

    /// Configuration and live counts for the operator.
    pub fn summary(&self, connections: u64) -> ExperienceSummary {
        ExperienceSummary {
            id: self.id.to_string(),
            name: self.settings.name.clone(),
            status: self.settings.status,
            stock: self.stock,
            admission_rate_per_minute: self.settings.rate_per_minute,
            observed_rate_per_minute: self.rate_per_sec.unwrap_or(0.0) * 60.0,
            checkout_url: self.settings.checkout_url.clone(),
            waiting: self.waiting.len() as u64,
            active_admissions: self.active_admissions(),
            redeemed: self.redeemed,
            expired: self.expired,
            connections,
        }
    }
}

fn configured_rate(settings: &Settings) -> Option<f64> {
    let r = settings.rate_per_minute / 60.0;
    (r > 0.0 && r.is_finite()).then_some(r)
}

/// A fresh grant: `g_` and 128 random bits in hex.
fn new_grant() -> String {
    format!("g_{:032x}", rand::random::<u128>())
}

/// Whether `s` has the shape of a grant (anything else is a malformed request, not unknown).
pub fn is_grant_shaped(s: &str) -> bool {
    s.len() == 34 && s.starts_with("g_") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl ExperienceState {
    /// Grants that can still be redeemed. Redeemed grants stay in the expiry queue until
    /// their time, so the queue's length over-counts.
    pub fn active_admissions(&self) -> u64 {
        self.expiries
            .iter()
            .filter(|(_, g)| {
                self.grants
                    .get(g)
                    .is_some_and(|g| g.status == AdmissionStatus::Active)
            })
            .count() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experience(stock: u64, rate: f64) -> ExperienceState {
        let settings = Settings {
            name: "Test".into(),
            status: ExperienceStatus::Open,
            rate_per_minute: rate,
            checkout_url: "/checkout".into(),
        };
        ExperienceState::new("e".into(), settings, stock, 1, 60_000)
    }

    fn join(e: &mut ExperienceState, n: usize) -> Vec<Arc<str>> {
        (0..n)
            .map(|i| {
                let id: Arc<str> = format!("c{i}").into();
                e.join(id.clone(), 0);
                id
            })
            .collect()
    }

    fn stock(total: u64) -> PatchExperience {
        PatchExperience {
            stock: Some(total),
            ..PatchExperience::default()
        }
    }

    fn status(status: ExperienceStatus) -> PatchExperience {
        PatchExperience {
            status: Some(status),
            ..PatchExperience::default()
        }
    }

    fn admission(e: &ExperienceState, id: &str) -> Option<Admission> {
        e.consumer(id).unwrap().private.borrow().admission.clone()
    }

    #[test]
    fn shoppers_are_admitted_in_join_order() {
        let mut e = experience(10, 60.0);
        let ids = join(&mut e, 5);
        assert_eq!(e.admit(2, 0), 2);
        assert!(admission(&e, &ids[0]).is_some() && admission(&e, &ids[1]).is_some());
        assert!(
            admission(&e, &ids[2]).is_none(),
            "the third in line was admitted early"
        );
        assert_eq!(e.snapshot_of(&ids[2], 0).unwrap().position, Some(1));
    }

    #[test]
    fn joining_again_with_a_known_id_keeps_the_one_place() {
        let mut e = experience(10, 60.0);
        let first = e.join("c_known".into(), 0).ticket;
        let again = e.join("c_known".into(), 5).ticket;
        assert_eq!(again, first, "a known shopper was given a new ticket");
        join(&mut e, 1);
        assert_eq!(
            e.entries(0, 10, str::to_string).total,
            2,
            "a known shopper holds a second place in line"
        );
        assert_eq!(
            e.snapshot_of("c0", 0).unwrap().position,
            Some(2),
            "the shopper behind was pushed back by a duplicate"
        );
    }

    #[test]
    fn stock_never_goes_negative() {
        let mut e = experience(3, 60.0);
        join(&mut e, 10);
        assert_eq!(e.admit(10, 0), 3, "only as many admissions as units");
        assert_eq!(e.stock.available, 0);
        assert_eq!(e.admit(5, 0), 0);
        e.patch(&stock(1));
        assert_eq!(
            e.stock,
            Stock {
                available: 0,
                total: 1
            },
            "shrinking stock clamps at zero"
        );
    }

    #[test]
    fn ticks_admit_at_the_configured_rate() {
        let mut e = experience(1000, 120.0); // two a second
        join(&mut e, 100);
        for i in 1..=10 {
            e.tick(1000, i * 1000);
        }
        assert_eq!(e.admitted_total, 20);
    }

    #[test]
    fn a_paused_experience_admits_nobody_and_does_not_burst_on_resume() {
        let mut e = experience(1000, 60.0);
        join(&mut e, 100);
        e.patch(&status(ExperienceStatus::Paused));
        for i in 1..=30 {
            e.tick(1000, i * 1000);
        }
        assert_eq!(e.admitted_total, 0);
        e.patch(&status(ExperienceStatus::Open));
        e.tick(1000, 31_000);
        assert!(
            e.admitted_total <= 2,
            "resuming admitted a burst of {}",
            e.admitted_total
        );
    }

    #[test]
    fn a_grant_redeems_once_and_expires_unused() {
        let mut e = experience(5, 60.0);
        let ids = join(&mut e, 2);
        e.admit(2, 0);
        let first = admission(&e, &ids[0]).unwrap().grant;
        let second = admission(&e, &ids[1]).unwrap().grant;
        assert_eq!(e.redeem(&first, 10).map(|r| r.0), Ok(ids[0].clone()));
        assert_eq!(e.redeem(&first, 11), Err(RedeemError::AlreadyRedeemed));
        assert_eq!(e.redeem(&second, 60_000), Err(RedeemError::Expired));
        assert_eq!(e.stock.available, 4, "the expired unit went back to stock");
        assert_eq!(
            admission(&e, &ids[1]).unwrap().status,
            AdmissionStatus::Expired
        );
        assert_eq!(e.redeem("g_0", 0), Err(RedeemError::Unknown));
    }

    #[test]
    fn broadcast_seq_only_grows_and_replay_covers_the_gap() {
        let mut e = experience(100, 60.0);
        join(&mut e, 50);
        let mut last = e.cursor();
        for i in 0..20 {
            e.admit(1, i);
            e.patch(&status(if i % 2 == 0 {
                ExperienceStatus::Paused
            } else {
                ExperienceStatus::Open
            }));
            assert!(
                e.cursor() > last,
                "cursor went from {last:?} to {:?}",
                e.cursor()
            );
            last = e.cursor();
        }
        let from = Cursor {
            epoch: 1,
            seq: last.seq - 3,
        };
        let replay = e.replay_since(from).unwrap();
        let seqs: Vec<u64> = replay.iter().map(|r| r.cursor.seq).collect();
        assert_eq!(seqs, vec![last.seq - 2, last.seq - 1, last.seq]);
        assert!(
            e.replay_since(Cursor { epoch: 2, seq: 0 }).is_none(),
            "other epoch must resync"
        );
    }

    #[test]
    fn grant_shape_is_checked() {
        assert!(is_grant_shaped(&new_grant()));
        assert!(!is_grant_shaped("g_xyz"));
        assert!(!is_grant_shaped(""));
    }
}
