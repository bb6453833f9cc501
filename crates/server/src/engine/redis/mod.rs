//! The Redis back end's queue core: one experience's line, stock, grants, cursor and
//! event log in Redis, so that several nodes serve one queue.
//!
//! The rules are those of the in-memory [`super::experience`]: tickets in join order, a
//! head that admissions move, departures skipped, admissions bounded by stock and the line,
//! single-use grants with an expiry (extended at most once), reservations idempotent by
//! key that never take stock below zero, and a cursor `{epoch, seq}` that every broadcast
//! moves one on. Here each change is one Lua script, which Redis runs atomically: several
//! nodes admitting from one experience at once can neither admit a shopper twice nor sell
//! a unit twice, and admissions keep ticket order.
//!
//! The route wiring (an engine interface over both back ends, the fan-out, the ticker)
//! comes later; this module is the part that talks to Redis.
//!
//! # Layout
//!
//! - [`keys`]: the key of each piece of state, `lq:{<experience>}:<name>`, all under one
//!   hash tag so the scripts run on Redis Cluster too.
//! - [`scripts`]: the Lua scripts (`lua/*.lua`), loaded once and called by SHA.
//! - `reply`: reading a script's reply without trusting its shape.
//! - `lease`: the ticker lease, which lets exactly one node tick an experience.
//!
//! This file holds [`RedisQueue`], one experience's handle, and the values it returns.
//!
//! # Errors
//!
//! The queue calls answer [`QueueError`], the words both back ends share (`engine::core`);
//! [`RedisQueueError`] is only what is Redis's own (unreachable, a bad id, a script reply
//! of the wrong shape), carried as [`QueueError::Store`].
//!
//! # Time
//!
//! Operations that look at a grant's expiry take `now` (milliseconds since the Unix epoch)
//! from the caller, as the in-memory rules do: nodes pass their clocks, tests pass theirs.
//!
//! A grant ends by time in whichever call first looks at it after its time, as in the
//! in-memory rules: [`RedisQueue::expire_grants`], or redeem, extend, reserve and leave,
//! which first end every grant due at `now` (its units back in stock at once) and then
//! refuse it as expired. Only [`RedisQueue::expire_grants`] says who expired, so it also
//! reports the grants those calls ended since its last call (stored as `lapsed`), once
//! each: the node tells their shoppers from its reply. The ticker calls it before
//! [`RedisQueue::admit`], as the in-memory ticker expires before it admits.

pub mod feed;
pub mod keys;
mod lease;
mod reply;
pub mod scripts;

use std::sync::Arc;
use std::time::Duration;

use livequeue_protocol::api::{PatchExperience, ReserveResponse};
use livequeue_protocol::{
    Admission, AdmissionStatus, Cursor, ExperienceStatus, ServerEvent, Stock,
};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};

use super::core::QueueError;
use super::experience::grants::Reserved;
use super::experience::{GrantError, GrantRules, RedeemError, Settings};
pub use keys::{BadExperienceId, Keys};
use reply::Reply;
use scripts::SCRIPTS;

/// Most admissions one script call makes: each needs a fresh grant id passed in, and a
/// script holds Redis for its whole run. [`RedisQueue::admit`] calls again for more.
pub const ADMIT_BATCH: u64 = 1000;

/// How long a node waits for one reply before the call fails. Scripts are bounded (see
/// [`ADMIT_BATCH`] and the expiry batch in `lua/common.lua`), so seconds mean Redis is
/// gone or stalled, not busy. (A blocking read's own wait comes on top: see
/// [`connect_blocking`].)
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);

/// What went wrong in Redis itself: nothing the queue's rules decided.
///
/// The rules' refusals (an unknown or existing experience, closed, an unknown shopper, a
/// grant or redemption refused, a logged event that does not decode) are
/// [`QueueError`]'s, the one set of words both back ends answer with; [`RedisQueue`]'s
/// queue calls return [`QueueError`] and carry this as [`QueueError::Store`]. One
/// definition, so a refusal cannot mean one thing here and another in memory, and the
/// [`QueueCore`](super::core::QueueCore) impl is a plain delegation. [`connect`],
/// [`RedisQueue::new`] and the ticker lease can only fail here, so they return this.
#[derive(Debug, thiserror::Error)]
pub enum RedisQueueError {
    /// Redis could not be reached or answered with an error; the connection manager
    /// reconnects in the background, so a later call may succeed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The experience id cannot name keys.
    #[error(transparent)]
    BadId(#[from] BadExperienceId),
    /// A script answered something it never answers.
    #[error("unexpected reply from the `{script}` script: {detail}")]
    Reply {
        /// Which script.
        script: &'static str,
        /// What was wrong with it.
        detail: String,
    },
}

/// Opens a connection manager to `url` (`redis://host:port/`) and loads every script.
///
/// The manager is one multiplexed connection, cloned by every [`RedisQueue`] of the node;
/// when it breaks, the call in flight fails and the manager reconnects in the background
/// (exponential backoff with jitter), so later calls succeed once Redis is back.
pub async fn connect(url: &str) -> Result<ConnectionManager, RedisQueueError> {
    connect_with(url, RESPONSE_TIMEOUT).await
}

/// A connection of its own for blocking reads that wait up to `block` each: its replies
/// may take that long on top of [`RESPONSE_TIMEOUT`].
pub async fn connect_blocking(
    url: &str,
    block: Duration,
) -> Result<ConnectionManager, RedisQueueError> {
    connect_with(url, RESPONSE_TIMEOUT + block).await
}

async fn connect_with(
    url: &str,
    response_timeout: Duration,
) -> Result<ConnectionManager, RedisQueueError> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(response_timeout))
        // Reconnect attempts back off to at most a second apart: an outage ends for the
        // node within a second of Redis answering again.
        .set_max_delay(Duration::from_secs(1));
    let mut conn = ConnectionManager::new_with_config(client, config).await?;
    SCRIPTS.load(&mut conn).await?;
    Ok(conn)
}

/// What a new experience starts with.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Name, status, rate and checkout.
    pub settings: Settings,
    /// Units to hand out.
    pub stock: u64,
    /// Grant lifetime, extension and unit limit.
    pub rules: GrantRules,
    /// The epoch of the experience's cursors: pick one no earlier life of the same id had
    /// (the creating node's clock in milliseconds does).
    pub epoch: u64,
    /// Broadcasts the log keeps for resume, at least (the stream is trimmed with `MAXLEN ~`,
    /// which keeps a little more).
    pub event_log_len: u64,
}

/// Where a shopper stands, with the experience's state at the same instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The shopper's ticket: join order, never reused.
    pub ticket: u64,
    /// Waiting, admitted or gone.
    pub standing: Standing,
    /// The cursor this is true at.
    pub cursor: Cursor,
    /// Stock now.
    pub stock: Stock,
    /// The experience's status now.
    pub status: ExperienceStatus,
}

impl Place {
    /// The 1-based place in line while waiting.
    pub fn position(&self) -> Option<u64> {
        match self.standing {
            Standing::Waiting { position } => Some(position),
            _ => None,
        }
    }

    /// The admission, once admitted.
    pub fn admission(&self) -> Option<&Admission> {
        match &self.standing {
            Standing::Admitted(admission) => Some(admission),
            _ => None,
        }
    }
}

/// A shopper's standing in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// In line at this 1-based position.
    Waiting {
        /// 1-based place in line.
        position: u64,
    },
    /// Admitted: their grant (active, redeemed or expired).
    Admitted(Admission),
    /// Left the line before their turn.
    Left,
}

/// Shoppers admitted by one [`RedisQueue::admit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// In ticket order.
    pub shoppers: Vec<AdmittedShopper>,
    /// The cursor right after the last batch: across nodes, admissions ordered by it are
    /// in ticket order.
    pub cursor: Cursor,
}

/// One admitted shopper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmittedShopper {
    /// Their consumer id.
    pub consumer: String,
    /// Their ticket.
    pub ticket: u64,
    /// Their new grant, active.
    pub admission: Admission,
}

/// A grant that expired, its units back in stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredGrant {
    /// Whose it was.
    pub consumer: String,
    /// The grant.
    pub grant: String,
    /// Units it held.
    pub units: u64,
}

/// What a [`RedisQueue::leave`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// The shopper left the waiting line.
    FromLine,
    /// The shopper's active grant ended; its units went back to stock.
    GrantReleased {
        /// Units returned.
        units: u64,
    },
    /// Nothing to give up (left already, redeemed, or expired).
    Nothing,
}

/// The experience's cursor, stock and status, read together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// The cursor of the last broadcast.
    pub cursor: Cursor,
    /// Stock now.
    pub stock: Stock,
    /// Open, paused or closed.
    pub status: ExperienceStatus,
}

/// A broadcast from the log, for resume.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    /// Its cursor.
    pub cursor: Cursor,
    /// The event.
    pub event: ServerEvent,
}

/// One experience in Redis: a cheap handle (a clone of the node's connection manager and
/// the experience's key names).
#[derive(Debug, Clone)]
pub struct RedisQueue {
    /// The node's one multiplexed connection.
    conn: ConnectionManager,
    /// The experience's id, for error messages.
    id: Arc<str>,
    /// Its keys.
    keys: Arc<Keys>,
}

impl RedisQueue {
    /// The handle of experience `experience` (created or not) over `conn`.
    pub fn new(conn: ConnectionManager, experience: &str) -> Result<Self, RedisQueueError> {
        Ok(Self {
            conn,
            id: experience.into(),
            keys: Arc::new(Keys::new(experience)?),
        })
    }

    /// The experience's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The experience's keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Runs the queue script `script` (named `name` in errors) with every queue key.
    async fn call(
        &self,
        name: &'static str,
        script: &Script,
        args: &[&str],
    ) -> Result<(String, Reply), RedisQueueError> {
        let mut invocation = script.prepare_invoke();
        for key in self.keys.queue() {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        let value: Value = invocation.invoke_async(&mut self.conn.clone()).await?;
        let mut reply = Reply::new(name, value)?;
        let tag = reply.string("tag")?;
        Ok((tag, reply))
    }

    /// The error a refusal `tag` stands for (the tags every script shares).
    fn refusal(&self, tag: &str, reply: &Reply) -> QueueError {
        match tag {
            "unknown" => QueueError::UnknownExperience(self.id.to_string()),
            "exists" => QueueError::ExperienceExists(self.id.to_string()),
            "closed" => QueueError::Closed(self.id.to_string()),
            "no_consumer" => QueueError::UnknownConsumer,
            "no_grant" => GrantError::NoGrant.into(),
            "redeemed" => GrantError::Redeemed.into(),
            "expired" => GrantError::Expired.into(),
            "already_extended" => GrantError::AlreadyExtended.into(),
            "key_reused" => GrantError::KeyReused.into(),
            other => reply.unexpected(other).into(),
        }
    }

    /// Creates the experience: empty line, full stock, cursor `{epoch, 0}`.
    pub async fn create(&self, setup: &Setup) -> Result<(), QueueError> {
        let s = &setup.settings;
        let args = [
            s.name.as_str(),
            status_str(s.status),
            &s.rate_per_minute.to_string(),
            &s.checkout_url,
            &setup.rules.ttl_ms.to_string(),
            &setup.rules.extension_ms.to_string(),
            &setup.rules.max_units.to_string(),
            &setup.stock.to_string(),
            &setup.epoch.to_string(),
            &setup.event_log_len.max(1).to_string(),
        ];
        match self.call("create", &SCRIPTS.create, &args).await? {
            (tag, _) if tag == "ok" => Ok(()),
            (tag, reply) => Err(self.refusal(&tag, &reply)),
        }
    }

    /// Adds `consumer` at the end of the line; a known shopper keeps their one place (and
    /// may join a closed experience again, to learn where they stand).
    pub async fn join(&self, consumer: &str) -> Result<Place, QueueError> {
        let (tag, reply) = self.call("join", &SCRIPTS.join, &[consumer]).await?;
        self.place(tag, reply)
    }

    /// Where `consumer` stands.
    pub async fn position(&self, consumer: &str) -> Result<Place, QueueError> {
        let (tag, reply) = self
            .call("position", &SCRIPTS.position, &[consumer])
            .await?;
        self.place(tag, reply)
    }

    /// Reads a place (`place` in `lua/common.lua`).
    fn place(&self, tag: String, mut reply: Reply) -> Result<Place, QueueError> {
        if tag != "ok" {
            return Err(self.refusal(&tag, &reply));
        }
        let ticket = reply.u64("ticket")?;
        let view = read_view(&mut reply)?;
        let standing = match reply.string("standing")?.as_str() {
            "waiting" => Standing::Waiting {
                position: reply.u64("position")?,
            },
            "admitted" => Standing::Admitted(read_admission(&mut reply)?),
            "left" => Standing::Left,
            other => return Err(reply.unexpected(other).into()),
        };
        Ok(Place {
            ticket,
            standing,
            cursor: view.cursor,
            stock: view.stock,
            status: view.status,
        })
    }

    /// `consumer` gives up their place, or their active grant once admitted.
    pub async fn leave(&self, consumer: &str, now: u64) -> Result<Departure, QueueError> {
        let now = now.to_string();
        let (tag, mut reply) = self
            .call("leave", &SCRIPTS.leave, &[consumer, &now])
            .await?;
        if tag != "ok" {
            return Err(self.refusal(&tag, &reply));
        }
        match reply.string("outcome")?.as_str() {
            "line" => Ok(Departure::FromLine),
            "grant" => Ok(Departure::GrantReleased {
                units: reply.u64("units")?,
            }),
            "nothing" => Ok(Departure::Nothing),
            other => Err(reply.unexpected(other).into()),
        }
    }

    /// Admits up to `count` shoppers from the front of the line while stock lasts, in
    /// ticket order, each with a fresh grant expiring after the grant ttl from `now`.
    /// Batches of [`ADMIT_BATCH`], each atomic. Call [`RedisQueue::expire_grants`] first,
    /// so that the units of grants due are handed out again.
    pub async fn admit(&self, count: u64, now: u64) -> Result<Admitted, QueueError> {
        let mut shoppers = Vec::new();
        let mut left = count;
        loop {
            let batch = left.min(ADMIT_BATCH);
            let (cursor, admitted) = self.admit_batch(batch, now).await?;
            let n = admitted.len() as u64;
            shoppers.extend(admitted);
            left -= n;
            if n < batch || left == 0 {
                return Ok(Admitted { shoppers, cursor });
            }
        }
    }

    async fn admit_batch(
        &self,
        count: u64,
        now: u64,
    ) -> Result<(Cursor, Vec<AdmittedShopper>), QueueError> {
        let grants: Vec<String> = (0..count).map(|_| new_grant()).collect();
        let (now_arg, count_arg) = (now.to_string(), count.to_string());
        let mut args = vec![now_arg.as_str(), count_arg.as_str()];
        args.extend(grants.iter().map(String::as_str));
        let (tag, mut reply) = self.call("admit", &SCRIPTS.admit, &args).await?;
        if tag != "ok" {
            return Err(self.refusal(&tag, &reply));
        }
        let cursor = Cursor {
            epoch: reply.u64("epoch")?,
            seq: reply.u64("seq")?,
        };
        let checkout_url = reply.string("checkout")?;
        let n = reply.u64("count")?;
        let mut admitted = Vec::with_capacity(n as usize);
        for _ in 0..n {
            admitted.push(AdmittedShopper {
                consumer: reply.string("consumer")?,
                ticket: reply.u64("ticket")?,
                admission: Admission {
                    grant: reply.string("grant")?,
                    expires_at: Some(reply.u64("expiry")?),
                    checkout_url: checkout_url.clone(),
                    status: AdmissionStatus::Active,
                    reserved: 0,
                },
            });
        }
        Ok((cursor, admitted))
    }

    /// Expires the grants due at `now`, their units back to stock; returns each, and each
    /// grant that redeem, extend, reserve or leave ended by time since, for its shopper to
    /// be told. At most 1000 a call (`EXPIRE_BATCH` in `lua/common.lua`): call
    /// again while it returns that many.
    pub async fn expire_grants(&self, now: u64) -> Result<Vec<ExpiredGrant>, QueueError> {
        let now = now.to_string();
        let (tag, mut reply) = self.call("expire", &SCRIPTS.expire, &[&now]).await?;
        if tag != "ok" {
            return Err(self.refusal(&tag, &reply));
        }
        let mut expired = Vec::new();
        while !reply.is_empty() {
            expired.push(ExpiredGrant {
                consumer: reply.string("consumer")?,
                grant: reply.string("grant")?,
                units: reply.u64("units")?,
            });
        }
        Ok(expired)
    }

    /// Redeems `grant` once; returns whose it was.
    pub async fn redeem(&self, grant: &str, now: u64) -> Result<String, QueueError> {
        let now = now.to_string();
        let (tag, mut reply) = self.call("redeem", &SCRIPTS.redeem, &[grant, &now]).await?;
        match tag.as_str() {
            "ok" => Ok(reply.string("consumer")?),
            "no_such_grant" => Err(QueueError::Redeem(RedeemError::Unknown)),
            "already_redeemed" => Err(QueueError::Redeem(RedeemError::AlreadyRedeemed)),
            "expired" => Err(QueueError::Redeem(RedeemError::Expired)),
            other => Err(self.refusal(other, &reply)),
        }
    }

    /// Extends `consumer`'s active grant once; returns the admission as it is now.
    pub async fn extend(&self, consumer: &str, now: u64) -> Result<Admission, QueueError> {
        let now = now.to_string();
        let (tag, mut reply) = self
            .call("extend", &SCRIPTS.extend, &[consumer, &now])
            .await?;
        if tag != "ok" {
            return Err(self.refusal(&tag, &reply));
        }
        Ok(Admission {
            grant: reply.string("grant")?,
            expires_at: Some(reply.u64("expiry")?),
            reserved: reply.u64("reserved")?,
            checkout_url: reply.string("checkout")?,
            status: AdmissionStatus::Active,
        })
    }

    /// Reserves `quantity` more units against `consumer`'s active grant; a `key` that
    /// succeeded before is answered as it was.
    pub async fn reserve(
        &self,
        consumer: &str,
        key: &str,
        quantity: u64,
        now: u64,
    ) -> Result<Reserved, QueueError> {
        let (quantity_arg, now) = (quantity.to_string(), now.to_string());
        let args = [consumer, key, quantity_arg.as_str(), now.as_str()];
        let (tag, mut reply) = self.call("reserve", &SCRIPTS.reserve, &args).await?;
        match tag.as_str() {
            "ok" => Ok(Reserved {
                answer: ReserveResponse {
                    reserved: reply.u64("reserved")?,
                    stock: Stock {
                        available: reply.u64("available")?,
                        total: reply.u64("total")?,
                    },
                },
                stock_changed: reply.u64("stock changed")? == 1,
            }),
            "over_limit" => Err(GrantError::OverLimit {
                max: reply.u64("max")?,
                reserved: reply.u64("reserved")?,
            }
            .into()),
            "out_of_stock" => Err(GrantError::OutOfStock {
                available: reply.u64("available")?,
            }
            .into()),
            other => Err(self.refusal(other, &reply)),
        }
    }

    /// Applies an operator's change (a rate already checked); returns the experience's
    /// state after it.
    pub async fn patch(&self, change: &PatchExperience) -> Result<View, QueueError> {
        let total = change.stock.map(|t| t.to_string()).unwrap_or_default();
        let rate = change
            .admission_rate_per_minute
            .map(|r| r.to_string())
            .unwrap_or_default();
        let status = change.status.map(status_str).unwrap_or_default();
        let (tag, mut reply) = self
            .call("patch", &SCRIPTS.patch, &[&total, &rate, status])
            .await?;
        if tag != "ok" {
            return Err(self.refusal(&tag, &reply));
        }
        let stock = Stock {
            available: reply.u64("available")?,
            total: reply.u64("total")?,
        };
        let status = parse_status(&mut reply)?;
        let cursor = self.cursor().await?;
        Ok(View {
            cursor,
            stock,
            status,
        })
    }

    /// Sets the total stock; available stock moves by the same difference, never below
    /// zero.
    pub async fn patch_stock(&self, total: u64) -> Result<Stock, QueueError> {
        let change = PatchExperience {
            stock: Some(total),
            ..PatchExperience::default()
        };
        Ok(self.patch(&change).await?.stock)
    }

    /// The cursor, stock and status, read together.
    pub async fn view(&self) -> Result<View, QueueError> {
        let (tag, mut reply) = self.call("cursor", &SCRIPTS.cursor, &[]).await?;
        if tag != "ok" {
            return Err(self.refusal(&tag, &reply));
        }
        Ok(read_view(&mut reply)?)
    }

    /// The cursor of the last broadcast: the epoch stays, the seq only grows.
    pub async fn cursor(&self) -> Result<Cursor, QueueError> {
        Ok(self.view().await?.cursor)
    }

    /// Shoppers waiting.
    pub async fn waiting(&self) -> Result<u64, QueueError> {
        let line = self.keys.named("line");
        let n: u64 = redis::cmd("ZCARD")
            .arg(line)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(RedisQueueError::from)?;
        Ok(n)
    }

    /// The broadcasts after `after`, or `None` when they cannot all be replayed (another
    /// epoch, a seq not reached yet, or trimmed from the log): the caller sends a snapshot.
    pub async fn events_since(&self, after: Cursor) -> Result<Option<Vec<Logged>>, QueueError> {
        let (epoch, seq) = (after.epoch.to_string(), after.seq.to_string());
        let (tag, mut reply) = self
            .call("replay", &SCRIPTS.replay, &[&epoch, &seq])
            .await?;
        match tag.as_str() {
            "ok" => {}
            "gap" => return Ok(None),
            other => return Err(self.refusal(other, &reply)),
        }
        let mut events = Vec::new();
        while !reply.is_empty() {
            let seq = reply.u64("seq")?;
            let kind = reply.string("kind")?;
            let data = reply.string("data")?;
            let event = ServerEvent::decode(&kind, &data)
                .map_err(|error| QueueError::BadEvent { seq, error })?;
            events.push(Logged {
                cursor: Cursor {
                    epoch: after.epoch,
                    seq,
                },
                event,
            });
        }
        Ok(Some(events))
    }
}

/// Reads `{epoch, seq, available, total, status}` (`view` in `lua/common.lua`).
fn read_view(reply: &mut Reply) -> Result<View, RedisQueueError> {
    Ok(View {
        cursor: Cursor {
            epoch: reply.u64("epoch")?,
            seq: reply.u64("seq")?,
        },
        stock: Stock {
            available: reply.u64("available")?,
            total: reply.u64("total")?,
        },
        status: parse_status(reply)?,
    })
}

/// Reads `grant, status, expires_at, reserved, checkout` (`standing` in `lua/common.lua`).
fn read_admission(reply: &mut Reply) -> Result<Admission, RedisQueueError> {
    let grant = reply.string("grant")?;
    let status = match reply.string("grant status")?.as_str() {
        "active" => AdmissionStatus::Active,
        "redeemed" => AdmissionStatus::Redeemed,
        // Lapsed: ended by time, not yet reported by an expiry (`lua/common.lua`).
        "expired" | "lapsed" => AdmissionStatus::Expired,
        other => return Err(reply.unexpected(other)),
    };
    Ok(Admission {
        grant,
        status,
        expires_at: Some(reply.u64("expiry")?),
        reserved: reply.u64("reserved")?,
        checkout_url: reply.string("checkout")?,
    })
}

/// The stored name of a status: its wire name.
fn status_str(status: ExperienceStatus) -> &'static str {
    match status {
        ExperienceStatus::Open => "open",
        ExperienceStatus::Paused => "paused",
        ExperienceStatus::Closed => "closed",
    }
}

/// Reads a status stored by [`status_str`].
pub(super) fn parse_status(reply: &mut Reply) -> Result<ExperienceStatus, RedisQueueError> {
    match reply.string("status")?.as_str() {
        "open" => Ok(ExperienceStatus::Open),
        "paused" => Ok(ExperienceStatus::Paused),
        "closed" => Ok(ExperienceStatus::Closed),
        other => Err(reply.unexpected(other)),
    }
}

/// A fresh grant, of the in-memory engine's shape (`g_` and 128 random bits in hex), so
/// that [`super::experience::is_grant_shaped`] accepts both back ends' grants.
fn new_grant() -> String {
    format!("g_{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::experience::is_grant_shaped;

    #[test]
    fn grants_have_the_shape_redemption_accepts() {
        assert!(
            is_grant_shaped(&new_grant()),
            "a Redis grant looks malformed"
        );
    }

    #[test]
    fn statuses_are_stored_under_their_wire_names() {
        for status in [
            ExperienceStatus::Open,
            ExperienceStatus::Paused,
            ExperienceStatus::Closed,
        ] {
            let wire = serde_json::to_string(&status).unwrap_or_default();
            assert_eq!(wire, format!("\"{}\"", status_str(status)));
        }
    }
}
