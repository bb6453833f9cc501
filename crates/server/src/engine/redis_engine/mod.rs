//! The Redis engine ([`RedisEngine`]): the queue in Redis, so that any number of nodes
//! behind a load balancer serve one line, and a node restart loses nobody's place.
//!
//! - Every rule runs in Redis, in the scripts of [`super::redis`] (atomic: several nodes
//!   admitting at once neither admit a shopper twice nor sell a unit twice).
//! - Fan-out: each node reads every experience's broadcasts and notes with **one**
//!   blocking `XREAD` on one connection of its own (the node's feed, [`feed`]), applies
//!   them to its mirror of each experience ([`hub::Hub`]) and sends them, encoded once,
//!   to its own connections. Never a Redis connection per client.
//! - Resume across nodes: the epoch and the event log live in Redis, so a cursor from one
//!   node resumes on another; a node that cannot fill a gap sends a snapshot.
//! - The ticker: one node at a time admits for an experience, holding a lease in Redis
//!   ([`ticker`]); every node paces its own heartbeats and pings.
//! - Outage: calls fail with [`EngineError::Unavailable`] (HTTP 503), the node reports
//!   itself not ready, keeps its connections, admits nobody, and picks up where its feed
//!   stopped once Redis answers again (from the streams, or by reloading when they were
//!   trimmed meanwhile).

pub mod hub;
mod ticker;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use livequeue_protocol::api::{
    CreateExperience, EntriesPage, ExperienceSummary, OperatorFigures, PatchExperience, QueueEntry,
    RedeemResponse, ReserveRequest, ReserveResponse,
};
use livequeue_protocol::{Admission, Cursor, ExperienceStatus, QueueState};
use redis::aio::ConnectionManager;
use tokio::sync::{Notify, watch};

use super::clock::Clock;
use super::core::QueueError;
use super::experience::{GrantRules, Holder, Settings};
use super::fanout::{Encoded, Fanout, Raw};
use super::redis::feed::{self, Position};
use super::redis::{self as store, RedisQueue, RedisQueueError, Setup};
use super::subscription::{Source, Start, Subscription};
use super::{EngineConfig, EngineError, Push};
use crate::metrics::{AdmittedBy, Counters, Resync};
use crate::readiness::{NotReady, Readiness};
pub use hub::Hub;

/// Broadcasts each experience's log keeps for resume.
const EVENT_LOG_LEN: u64 = 10_000;

/// How long one blocking read of the feed waits for news: also how soon a new
/// experience's streams join the read.
const FEED_BLOCK_MS: u64 = 500;

/// The set of every experience's id (outside any hash tag: on Redis Cluster it lives on
/// one shard, and only creation and the operator's list touch it).
const EXPERIENCES: &str = "lq:experiences";

/// The Redis engine of one node.
#[derive(Debug)]
pub struct RedisEngine {
    /// This node's name in ticker leases: random, so that two nodes never share one.
    node: String,
    /// The node's multiplexed connection for queue calls.
    conn: ConnectionManager,
    /// Wall-clock milliseconds (follows tokio's clock).
    clock: Clock,
    /// Timings.
    config: EngineConfig,
    /// This node's hubs, by experience.
    hubs: RwLock<HashMap<Arc<str>, Arc<Hub>>>,
    /// Wakes the feed when a hub is added.
    added: Notify,
    /// Dropping or setting it stops the feed and the tickers.
    shutdown: watch::Sender<bool>,
    /// This node's metrics.
    counters: Arc<Counters>,
    /// Whether this node can serve (`/readyz`).
    readiness: Readiness,
}

impl RedisEngine {
    /// Connects to `url`, loads the scripts, mirrors every existing experience and starts
    /// the feed.
    pub async fn connect(config: EngineConfig, url: &str) -> Result<Arc<Self>, EngineError> {
        let conn = store::connect(url).await.map_err(unavailable_store)?;
        // The feed's blocking reads hold a connection: its own.
        let feed_conn = store::connect_blocking(url, Duration::from_millis(FEED_BLOCK_MS))
            .await
            .map_err(unavailable_store)?;
        let engine = Arc::new(Self {
            node: format!("n_{:016x}", rand::random::<u64>()),
            conn,
            clock: Clock::new(),
            config,
            hubs: RwLock::new(HashMap::new()),
            added: Notify::new(),
            shutdown: watch::channel(false).0,
            counters: Arc::default(),
            readiness: Readiness::default(),
        });
        let ids: Vec<String> = engine
            .timed(async {
                redis::cmd("SMEMBERS")
                    .arg(EXPERIENCES)
                    .query_async(&mut engine.conn.clone())
                    .await
                    .map_err(RedisQueueError::from)
                    .map_err(QueueError::from)
            })
            .await?;
        for id in ids {
            match engine.hub(&id).await {
                Ok(_) | Err(EngineError::UnknownExperience(_)) => {}
                Err(e) => return Err(e),
            }
        }
        engine.spawn_feed(feed_conn);
        tracing::info!(node = %engine.node, "queue in Redis");
        Ok(engine)
    }

    /// This node's metrics.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// Whether this node can serve.
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// Now, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Times a Redis call into the metrics and counts its failure; a failure of the store
    /// (not a refusal by the rules) becomes [`EngineError::Unavailable`]. While the feed
    /// finds Redis unreachable, calls fail at once rather than each waiting out a timeout
    /// (the feed keeps trying, and lifts this when Redis answers).
    async fn timed<T>(
        &self,
        call: impl Future<Output = Result<T, QueueError>>,
    ) -> Result<T, EngineError> {
        if self.readiness.holds(NotReady::BackendUnreachable) {
            return Err(EngineError::Unavailable(
                NotReady::BackendUnreachable.message().to_string(),
            ));
        }
        let started = Instant::now();
        let result = call.await;
        self.counters
            .redis_latency
            .observe(started.elapsed().as_secs_f64());
        result.map_err(|e| {
            if matches!(e, QueueError::Store(_)) {
                self.counters.redis_errors.inc();
            }
            engine_error(e)
        })
    }

    /// The hub of `id`, mirroring it from Redis the first time this node hears of it.
    async fn hub(self: &Arc<Self>, id: &str) -> Result<Arc<Hub>, EngineError> {
        if let Some(hub) = self.read_hubs().get(id) {
            return Ok(hub.clone());
        }
        let queue = RedisQueue::new(self.conn.clone(), id)
            .map_err(|_| EngineError::UnknownExperience(id.to_string()))?;
        let mirrored = self.timed(queue.mirror(true)).await?;
        let hub = {
            let mut hubs = self.hubs.write().unwrap_or_else(|p| p.into_inner());
            if let Some(hub) = hubs.get(id) {
                return Ok(hub.clone()); // mirrored meanwhile by another request
            }
            let hub = Arc::new(Hub::new(queue, mirrored));
            hubs.insert(id.into(), hub.clone());
            hub
        };
        self.spawn_ticker(hub.clone());
        self.added.notify_one();
        Ok(hub)
    }

    fn read_hubs(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Arc<str>, Arc<Hub>>> {
        self.hubs.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the experience exists (in Redis).
    pub async fn exists(self: &Arc<Self>, id: &str) -> Result<bool, EngineError> {
        match self.hub(id).await {
            Ok(_) => Ok(true),
            Err(EngineError::UnknownExperience(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates an experience in Redis.
    pub async fn create(
        self: &Arc<Self>,
        req: CreateExperience,
    ) -> Result<ExperienceSummary, EngineError> {
        if self.is_shut_down() {
            return Err(EngineError::ShuttingDown);
        }
        // The route checked the id with the same rule that names keys.
        let queue = RedisQueue::new(self.conn.clone(), &req.id).map_err(|_| {
            EngineError::Unsupported("an experience id is 1–64 characters of [A-Za-z0-9_-]")
        })?;
        let ttl = req
            .grant_ttl_seconds
            .map_or(self.config.grant_ttl, |s| Duration::from_secs(s.max(1)));
        let setup = Setup {
            settings: Settings {
                name: req.name,
                status: ExperienceStatus::Open,
                rate_per_minute: req.admission_rate_per_minute,
                checkout_url: req.checkout_url,
            },
            stock: req.stock,
            rules: GrantRules {
                ttl_ms: ttl.as_millis() as u64,
                extension_ms: self.config.grant_extension.as_millis() as u64,
                max_units: self.config.max_units_per_grant,
            },
            // A new life of the id never replays an earlier one's cursors.
            epoch: self.now_ms(),
            event_log_len: EVENT_LOG_LEN,
        };
        self.timed(queue.create(&setup)).await?;
        let mut conn = self.conn.clone();
        self.timed(async {
            redis::cmd("SADD")
                .arg(EXPERIENCES)
                .arg(&req.id)
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| QueueError::from(RedisQueueError::from(e)))
        })
        .await?;
        self.summary(&req.id).await
    }

    /// Adds a shopper to the end of the line.
    pub async fn join(
        self: &Arc<Self>,
        experience_id: &str,
    ) -> Result<(String, QueueState), EngineError> {
        let hub = self.hub(experience_id).await?;
        if hub.status() == ExperienceStatus::Closed {
            return Err(EngineError::Closed(experience_id.to_string()));
        }
        let id = format!("c_{:016x}", rand::random::<u64>());
        let place = self.timed(hub.queue.join(&id)).await?;
        self.counters.joins.inc();
        let state = hub.state_of(&id, &place, self.now_ms());
        Ok((id, state))
    }

    /// Makes sure a shopper whose token the caller verified is in Redis: one who is not
    /// (their experience was created again under the same id) joins at the end.
    pub async fn ensure_consumer(
        self: &Arc<Self>,
        experience_id: &str,
        consumer_id: &str,
    ) -> Result<(), EngineError> {
        let hub = self.hub(experience_id).await?;
        match self.timed(hub.queue.position(consumer_id)).await {
            Ok(_) => Ok(()),
            Err(EngineError::UnknownConsumer) => {
                tracing::info!(
                    consumer = consumer_id,
                    "re-admitting a shopper unknown to Redis"
                );
                self.timed(hub.queue.join(consumer_id)).await.map(|_| ())
            }
            Err(e) => Err(e),
        }
    }

    /// The shopper's full state, read from Redis.
    pub async fn snapshot(
        self: &Arc<Self>,
        experience_id: &str,
        consumer_id: &str,
    ) -> Result<QueueState, EngineError> {
        let hub = self.hub(experience_id).await?;
        let place = self.timed(hub.queue.position(consumer_id)).await?;
        Ok(hub.state_of(consumer_id, &place, self.now_ms()))
    }

    /// Subscribes a new connection; resumes after `resume` from this node's recent
    /// broadcasts, or from Redis's log when it began before them.
    pub async fn subscribe(
        self: &Arc<Self>,
        experience_id: &str,
        consumer_id: &str,
        transport: Push,
        resume: Option<Cursor>,
    ) -> Result<(Start, Subscription), EngineError> {
        if self.is_shut_down() {
            return Err(EngineError::ShuttingDown);
        }
        let hub = self.hub(experience_id).await?;
        let place = self.timed(hub.queue.position(consumer_id)).await?;
        // Read before the lock; used only where this node's own recent ones do not reach.
        let logged = match resume {
            Some(after) if after.epoch == place.cursor.epoch && after.seq < place.cursor.seq => {
                self.timed(hub.queue.events_since(after)).await?
            }
            _ => None,
        };
        let consumer: Arc<str> = consumer_id.into();
        let counters = self.counters.clone();
        let stored_seq = place.cursor.seq;
        let (start, fanout, private, advance) = hub.subscribe(
            &consumer,
            place.ticket,
            place.admission().cloned(),
            self.now_ms(),
            |state, cursor, recent| match resume {
                None => Start::Fresh(state),
                Some(after) => match replay(after, cursor, stored_seq, recent, logged) {
                    Some(events) => Start::Replay(events),
                    None => {
                        counters.resync(Resync::StaleCursor);
                        Start::Snapshot(state)
                    }
                },
            },
        );
        hub.connections
            .of(transport)
            .fetch_add(1, Ordering::Relaxed);
        self.counters.connections.get(transport).inc();
        let sub = Subscription {
            transport,
            fanout,
            ticket: place.ticket,
            place: if private.borrow().admission.is_some() {
                None
            } else {
                advance.position_of(place.ticket)
            },
            private,
            cursor: advance.cursor,
            source: Source::Redis {
                hub,
                engine: self.clone(),
            },
            consumer_id: consumer,
        };
        Ok((start, sub))
    }

    /// Redeems a grant.
    pub async fn redeem(
        self: &Arc<Self>,
        experience_id: &str,
        grant: &str,
    ) -> Result<RedeemResponse, EngineError> {
        let hub = self.hub(experience_id).await?;
        let now = self.now_ms();
        let consumer = self.timed(hub.queue.redeem(grant, now)).await?;
        self.counters.redemptions.inc();
        Ok(RedeemResponse {
            consumer_id: consumer,
            experience_id: experience_id.to_string(),
            redeemed_at: now,
        })
    }

    /// A page of the line for the operator.
    pub async fn entries(
        self: &Arc<Self>,
        experience_id: &str,
        offset: u64,
        limit: u64,
        label: impl Fn(&Holder) -> String,
    ) -> Result<EntriesPage, EngineError> {
        let hub = self.hub(experience_id).await?;
        let page = self.timed(hub.queue.page(offset, limit)).await?;
        let entries = page
            .rows
            .into_iter()
            .enumerate()
            .map(|(i, (consumer, joined_at))| QueueEntry {
                position: offset + i as u64 + 1,
                label: label(&Holder::Shopper(consumer.into())),
                joined_at,
            })
            .collect();
        Ok(EntriesPage {
            total: page.waiting,
            admitted: page.admitted,
            entries,
        })
    }

    /// Configuration and live counts: Redis's, with every node's connections.
    pub async fn summary(
        self: &Arc<Self>,
        experience_id: &str,
    ) -> Result<ExperienceSummary, EngineError> {
        let hub = self.hub(experience_id).await?;
        let mirrored = self.timed(hub.queue.mirror(false)).await?;
        let fresh = ticker::lease_for(self.config.tick).as_millis() as u64;
        let elsewhere = self
            .timed(async {
                Ok(hub
                    .queue
                    .connections(&self.node, self.now_ms(), fresh)
                    .await?)
            })
            .await?;
        Ok(hub.summary(&mirrored, elsewhere))
    }

    /// Every experience's summary, ordered by id.
    pub async fn summaries(self: &Arc<Self>) -> Result<Vec<ExperienceSummary>, EngineError> {
        let mut conn = self.conn.clone();
        let mut ids: Vec<String> = self
            .timed(async {
                redis::cmd("SMEMBERS")
                    .arg(EXPERIENCES)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| QueueError::from(RedisQueueError::from(e)))
            })
            .await?;
        ids.sort();
        let mut all = Vec::with_capacity(ids.len());
        for id in ids {
            match self.summary(&id).await {
                Ok(summary) => all.push(summary),
                Err(EngineError::UnknownExperience(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(all)
    }

    /// One frame of the operator's stream.
    pub async fn figures(
        self: &Arc<Self>,
        experience_id: &str,
    ) -> Result<OperatorFigures, EngineError> {
        let summary = self.summary(experience_id).await?;
        let hub = self.hub(experience_id).await?;
        let now = self.now_ms();
        Ok(OperatorFigures {
            summary,
            admissions_history: hub.admissions_history(now),
            server_time: now,
        })
    }

    /// Applies an operator's change.
    pub async fn patch(
        self: &Arc<Self>,
        experience_id: &str,
        change: &PatchExperience,
    ) -> Result<ExperienceSummary, EngineError> {
        let hub = self.hub(experience_id).await?;
        self.timed(hub.queue.patch(change)).await?;
        self.summary(experience_id).await
    }

    /// Admits up to `count` shoppers now (grants due end first, as the ticker does).
    pub async fn admit(
        self: &Arc<Self>,
        experience_id: &str,
        count: u64,
    ) -> Result<ExperienceSummary, EngineError> {
        let hub = self.hub(experience_id).await?;
        let now = self.now_ms();
        self.expire(&hub, now).await?;
        let admitted = self.timed(hub.queue.admit(count, now)).await?;
        self.counters
            .admissions
            .get(AdmittedBy::Operator)
            .inc_by(admitted.shoppers.len() as u64);
        self.summary(experience_id).await
    }

    /// Ends the grants due at `now`, counting them.
    async fn expire(&self, hub: &Hub, now: u64) -> Result<(), EngineError> {
        use super::core::QueueCore;
        let expired = self
            .timed(QueueCore::expire_grants(&hub.queue, now))
            .await?;
        self.counters.grants_expired.inc_by(expired.len() as u64);
        Ok(())
    }

    /// Sends an unchecked frame to this node's connections of the experience.
    pub async fn inject(
        self: &Arc<Self>,
        experience_id: &str,
        raw: Raw,
    ) -> Result<(), EngineError> {
        let hub = self.hub(experience_id).await?;
        hub.publish(Fanout::Raw(Arc::new(raw)));
        Ok(())
    }

    /// Extends the shopper's active grant once.
    pub async fn extend(
        self: &Arc<Self>,
        experience_id: &str,
        consumer_id: &str,
    ) -> Result<Admission, EngineError> {
        let hub = self.hub(experience_id).await?;
        self.timed(hub.queue.extend(consumer_id, self.now_ms()))
            .await
    }

    /// Reserves units against the shopper's active grant.
    pub async fn reserve(
        self: &Arc<Self>,
        experience_id: &str,
        consumer_id: &str,
        request: &ReserveRequest,
    ) -> Result<ReserveResponse, EngineError> {
        let hub = self.hub(experience_id).await?;
        let reserved = self
            .timed(hub.queue.reserve(
                consumer_id,
                &request.idempotency_key,
                request.quantity,
                self.now_ms(),
            ))
            .await?;
        Ok(reserved.answer)
    }

    /// The shopper gives up their place (and grant); doing it again is nothing.
    pub async fn leave(
        self: &Arc<Self>,
        experience_id: &str,
        consumer_id: &str,
    ) -> Result<(), EngineError> {
        let hub = self.hub(experience_id).await?;
        match self
            .timed(hub.queue.leave(consumer_id, self.now_ms()))
            .await
        {
            Ok(_) | Err(EngineError::UnknownConsumer) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Stops the feed and the tickers (their leases lapse, and another node takes over)
    /// and tells every connection to end; the node is no longer ready.
    pub fn shutdown(&self) {
        self.readiness.set(NotReady::ShuttingDown);
        self.shutdown.send_replace(true);
        for hub in self.read_hubs().values() {
            hub.publish(Fanout::Shutdown);
        }
    }

    /// Whether [`RedisEngine::shutdown`] was called.
    pub fn is_shut_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Changes to `true` on shutdown.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Open shopper connections on this node.
    pub fn connections(&self) -> u64 {
        self.read_hubs()
            .values()
            .map(|h| {
                let c = h.connections.counts();
                c.sse + c.websocket
            })
            .sum()
    }

    /// The node's feed: one blocking read of every experience's streams at a time, applied
    /// to the hubs in order. Redis failing makes the node not ready until a read succeeds
    /// again; a gap (streams trimmed past what the node read) reloads that hub.
    fn spawn_feed(self: &Arc<Self>, mut conn: ConnectionManager) {
        let engine = Arc::downgrade(self);
        let mut shutdown = self.shutdown.subscribe();
        tokio::spawn(async move {
            let mut down_since: Option<Instant> = None;
            loop {
                let Some(this) = engine.upgrade() else { break };
                if *shutdown.borrow() {
                    break;
                }
                let hubs: Vec<(Arc<Hub>, Position)> = this
                    .read_hubs()
                    .values()
                    .map(|h| (h.clone(), h.position()))
                    .collect();
                let read = if hubs.is_empty() {
                    // Nothing to read yet: a ping keeps `/readyz` honest meanwhile.
                    let ping = redis::cmd("PING").query_async::<()>(&mut conn).await;
                    if ping.is_ok() {
                        tokio::select! {
                            _ = this.added.notified() => {}
                            _ = tokio::time::sleep(Duration::from_millis(FEED_BLOCK_MS)) => {}
                            _ = shutdown.changed() => break,
                        }
                    }
                    ping.map(|()| HashMap::new()).map_err(RedisQueueError::from)
                } else {
                    let positions: Vec<(&RedisQueue, Position)> =
                        hubs.iter().map(|(h, p)| (&h.queue, *p)).collect();
                    tokio::select! {
                        read = feed::read_feed(&mut conn, &positions, FEED_BLOCK_MS) => read,
                        _ = shutdown.changed() => break,
                    }
                };
                match read {
                    Ok(mut reads) => {
                        if let Some(since) = down_since.take() {
                            tracing::warn!(
                                after_ms = since.elapsed().as_millis() as u64,
                                "Redis answers again: ready, admitting"
                            );
                            this.readiness.clear(NotReady::BackendUnreachable);
                        }
                        let now = this.now_ms();
                        for (hub, _) in &hubs {
                            let Some(read) = reads.remove(hub.queue.id()) else {
                                continue;
                            };
                            if hub.apply(read, now) == hub::Applied::Gap {
                                this.reload(hub).await;
                            }
                        }
                    }
                    Err(e) => {
                        this.counters.redis_errors.inc();
                        if down_since.is_none() {
                            down_since = Some(Instant::now());
                            this.readiness.set(NotReady::BackendUnreachable);
                            tracing::warn!(
                                error = %e,
                                "Redis cannot be reached: not ready, not admitting; \
                                 connections stay open"
                            );
                        }
                        drop(this);
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                }
            }
        });
    }

    /// Reloads `hub` from Redis after a gap: the admissions of its shoppers are read
    /// again, then its connections resync. A read that fails leaves the gap for the next
    /// read of the feed to find again.
    async fn reload(&self, hub: &Arc<Hub>) {
        let Ok(mirrored) = self.timed(hub.queue.mirror(true)).await else {
            return;
        };
        let mut admissions = Vec::new();
        for consumer in hub.locals() {
            match self.timed(hub.queue.position(&consumer)).await {
                Ok(place) => admissions.push((consumer, place.admission().cloned())),
                Err(EngineError::UnknownConsumer) => {}
                Err(_) => return,
            }
        }
        self.counters.resync(Resync::Reload);
        tracing::info!(
            experience = hub.queue.id(),
            "reloaded after a gap in the feed"
        );
        hub.reload(mirrored, admissions);
    }
}

/// The broadcasts after `after` up to the mirror's `cursor`: from this node's `recent`
/// ones, or from `logged` (read from Redis) with `recent` for the rest; `None` when they
/// cannot all be had. `stored` is Redis's seq when the shopper was read: a cursor past the
/// mirror but not past Redis (seen on a node whose feed is a moment ahead of this one's)
/// needs nothing replayed, and what the mirror applies next repeats a little of what the
/// client has, which it ignores by cursor.
fn replay(
    after: Cursor,
    cursor: Cursor,
    stored: u64,
    recent: &std::collections::VecDeque<Arc<Encoded>>,
    logged: Option<Vec<store::Logged>>,
) -> Option<Vec<Arc<Encoded>>> {
    if after.epoch != cursor.epoch {
        return None;
    }
    if after.seq > cursor.seq {
        return (after.seq <= stored).then(Vec::new);
    }
    let mut events: Vec<Arc<Encoded>> = Vec::new();
    let mut next = after.seq + 1;
    let recent_from = recent.front().map_or(cursor.seq + 1, |e| e.cursor.seq);
    if next < recent_from {
        for logged in logged? {
            if logged.cursor.seq == next && next < recent_from && next <= cursor.seq {
                events.push(Arc::new(Encoded::new(logged.event, logged.cursor)));
                next += 1;
            }
        }
        if next < recent_from.min(cursor.seq + 1) {
            return None;
        }
    }
    events.extend(
        recent
            .iter()
            .filter(|e| e.cursor.seq >= next && e.cursor.seq <= cursor.seq)
            .cloned(),
    );
    let last = events.last().map_or(after.seq, |e| e.cursor.seq);
    (last == cursor.seq).then_some(events)
}

/// The engine's error for a queue call's.
fn engine_error(e: QueueError) -> EngineError {
    match e {
        QueueError::UnknownExperience(id) => EngineError::UnknownExperience(id),
        QueueError::ExperienceExists(id) => EngineError::ExperienceExists(id),
        QueueError::Closed(id) => EngineError::Closed(id),
        QueueError::UnknownConsumer => EngineError::UnknownConsumer,
        QueueError::Grant(g) => EngineError::Grant(g),
        QueueError::Redeem(r) => EngineError::Redeem(r),
        QueueError::BadEvent { .. } | QueueError::Store(_) => {
            EngineError::Unavailable(e.to_string())
        }
    }
}

/// Redis could not be reached when connecting.
fn unavailable_store(e: RedisQueueError) -> EngineError {
    EngineError::Unavailable(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use livequeue_protocol::{ServerEvent, Stock};

    fn encoded(seq: u64) -> Arc<Encoded> {
        Arc::new(Encoded::new(
            ServerEvent::StockUpdate(Stock {
                available: seq,
                total: 100,
            }),
            Cursor { epoch: 1, seq },
        ))
    }

    fn logged(seq: u64) -> store::Logged {
        store::Logged {
            cursor: Cursor { epoch: 1, seq },
            event: ServerEvent::StockUpdate(Stock {
                available: seq,
                total: 100,
            }),
        }
    }

    fn seqs(events: Option<Vec<Arc<Encoded>>>) -> Option<Vec<u64>> {
        events.map(|e| e.iter().map(|e| e.cursor.seq).collect())
    }

    #[test]
    fn a_resume_is_filled_from_recent_broadcasts_then_from_the_log_or_not_at_all() {
        let at = |seq| Cursor { epoch: 1, seq };
        let recent: std::collections::VecDeque<_> = (5..=8).map(encoded).collect();
        assert_eq!(
            seqs(replay(at(6), at(8), 8, &recent, None)),
            Some(vec![7, 8])
        );
        assert_eq!(seqs(replay(at(8), at(8), 8, &recent, None)), Some(vec![]));
        assert_eq!(
            seqs(replay(at(2), at(8), 8, &recent, None)),
            None,
            "older than recent, no log"
        );
        let log = Some((3..=9).map(logged).collect());
        assert_eq!(
            seqs(replay(at(2), at(8), 8, &recent, log)),
            Some(vec![3, 4, 5, 6, 7, 8]),
            "the log up to what recent holds, then recent; nothing past the mirror"
        );
        let holey = Some(vec![logged(3)]);
        assert_eq!(
            seqs(replay(at(2), at(8), 8, &recent, holey)),
            None,
            "4 is missing"
        );
        assert_eq!(
            seqs(replay(Cursor { epoch: 2, seq: 6 }, at(8), 8, &recent, None)),
            None
        );
        assert_eq!(
            seqs(replay(at(9), at(8), 8, &recent, None)),
            None,
            "from the future"
        );
        assert_eq!(
            seqs(replay(at(9), at(8), 9, &recent, None)),
            Some(vec![]),
            "seen on a node whose feed is ahead: nothing to replay, the mirror catches up"
        );
        let empty = std::collections::VecDeque::new();
        assert_eq!(
            seqs(replay(
                at(2),
                at(4),
                6,
                &empty,
                Some((3..=6).map(logged).collect())
            )),
            Some(vec![3, 4])
        );
    }
}
