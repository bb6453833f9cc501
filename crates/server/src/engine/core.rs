//! The queue's rules as one interface, [`QueueCore`], that both back ends implement: the
//! in-memory rules ([`MemoryQueue`], over [`super::experience::ExperienceState`]) and the
//! Redis core ([`super::redis::RedisQueue`]). One contract suite
//! (`tests/queue_contract.rs`) runs against both, so the rules cannot drift apart.
//!
//! The interface is the part of one experience's queue both back ends hold: create, join,
//! position, leave, admit, expire, redeem, extend, reserve, the stock total, the cursor and
//! replay. Fan-out, tickers, connection counts and the operator's figures stay with each
//! engine. Time is always passed in (`now`, milliseconds since the Unix epoch), so the
//! contract is tested without sleeping.
//!
//! # Why a trait
//!
//! A trait with `async` methods (returning `impl Future + Send`, so a server may call it
//! from spawned tasks) rather than a closed enum: the contract suite is written once as
//! generic functions over `impl QueueCore`, and neither back end needs to know the other.
//! The engine type the server will route through (STYLE.md habit 2: one closed enum over
//! the back ends) can then hold either and implement this trait by matching.
//!
//! # Shapes
//!
//! The Redis core's return types are the common ones ([`Place`], [`Admitted`],
//! [`ExpiredGrant`], [`Departure`], [`Logged`], [`Setup`]): they are plain data and say
//! what each call did, where the in-memory methods return less (a count, `()`), so the
//! memory adapter works it out under the same lock. A reservation answers the protocol's
//! [`ReserveResponse`]. Errors are one enum, [`QueueError`], reusing [`GrantError`] and
//! [`RedeemError`]: the Redis core's methods return it too, with only what is Redis's own
//! (unreachable, a bad id, a script reply of the wrong shape) in
//! [`super::redis::RedisQueueError`], as [`QueueError::Store`].
//!
//! # Where the two back ends differed, and what each does now
//!
//! 1. **Grants past their time.** The in-memory rules expire every due grant first in
//!    redeem, extend, reserve and leave; the Redis core only ended grants in
//!    `expire_grants` and refused a grant past its time without ending it, so its units
//!    waited for the next tick. The rule for shoppers: nobody uses a grant past its
//!    expiry, its units come back at once, and its shopper is told. The Redis scripts now
//!    end every due grant first in those four calls too (`lapse_due` in
//!    `redis/lua/common.lua`), and `expire_grants` still reports each such grant once, so
//!    the node tells its shopper; the memory adapter reports the grants the in-memory
//!    rules expired the same way (the in-memory engine tells its shoppers through their
//!    private channel as before). Tested by
//!    `a_grant_past_its_time_is_refused_its_units_come_back_at_once_and_its_expiry_is_reported`.
//! 2. **Joining a closed experience.** `Engine::join` refuses everyone, the Redis core lets
//!    a known shopper join again to learn where they stand. The adapter does as Redis
//!    does; the in-memory rules themselves never look at the status on join.
//! 3. **Admitting while closed.** `ExperienceState::admit` does not look at the status
//!    (`Engine::admit` does); the adapter refuses with [`QueueError::Closed`], as Redis.
//! 4. **Leaving as a stranger.** In memory it is nothing; Redis says
//!    [`QueueError::UnknownConsumer`]. The adapter says so too.
//! 5. **What leave, admit and redeem return.** In memory: `()`, a count, `(consumer,
//!    at)`; the adapter returns the Redis shapes ([`Departure`], [`Admitted`], the
//!    consumer).
//! 6. **A reservation's answer.** Redis also says whether stock changed; the interface
//!    answers [`ReserveResponse`], which both give.
//! 7. **The replay log.** In memory it keeps [`super::experience::HISTORY`] broadcasts,
//!    encoded for the transports; Redis keeps [`Setup::event_log_len`] (trimmed with
//!    `MAXLEN ~`, so a little more), as events. The adapter ignores `event_log_len` and
//!    decodes its encoded events back into [`Logged`].
//! 8. **Admission batches.** Redis admits in script calls of
//!    [`super::redis::ADMIT_BATCH`], one stock broadcast each; memory admits in one
//!    broadcast. The same below a thousand at once, which the suite covers.

mod memory;

use std::future::Future;

use livequeue_protocol::api::ReserveResponse;
use livequeue_protocol::event::DecodeError;
use livequeue_protocol::{Admission, Cursor, Stock};

pub use super::experience::{GrantError, RedeemError};
pub use super::redis::{
    Admitted, AdmittedShopper, Departure, ExpiredGrant, Logged, Place, Setup, Standing,
};
use super::redis::{RedisQueue, RedisQueueError};
pub use memory::MemoryQueue;

/// Why a queue operation failed, whichever back end ran it.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// No experience with that id (never created, or the store lost it).
    #[error("no experience `{0}`")]
    UnknownExperience(String),
    /// An experience with that id exists already.
    #[error("experience `{0}` exists already")]
    ExperienceExists(String),
    /// The experience is closed to new shoppers and admissions.
    #[error("experience `{0}` is closed")]
    Closed(String),
    /// No shopper with that id in the experience.
    #[error("no such consumer in this experience")]
    UnknownConsumer,
    /// A shopper's extension or reservation was refused.
    #[error(transparent)]
    Grant(#[from] GrantError),
    /// A redemption was refused.
    #[error("redemption refused: {0:?}")]
    Redeem(RedeemError),
    /// A logged event does not decode (written by another version?).
    #[error("the logged event at seq {seq} does not decode: {error}")]
    BadEvent {
        /// Its seq.
        seq: u64,
        /// Why.
        error: DecodeError,
    },
    /// The store failed (Redis unreachable, a reply of the wrong shape, an id that cannot
    /// name keys): nothing the queue's rules decided. The Redis core's own words are
    /// only these ([`RedisQueueError`]); its refusals are the variants above.
    #[error(transparent)]
    Store(#[from] RedisQueueError),
}

/// One experience's queue: the rules both back ends share. Each method is atomic: no other
/// call on the same experience sees it half done.
pub trait QueueCore {
    /// Creates the experience: empty line, `setup.stock` units, cursor `{setup.epoch, 0}`.
    fn create(&self, setup: &Setup) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Adds `consumer` at the end of the line and says where they stand; a known shopper
    /// keeps their one place (and may ask again once the experience is closed).
    fn join(&self, consumer: &str) -> impl Future<Output = Result<Place, QueueError>> + Send;

    /// Where `consumer` stands.
    fn position(&self, consumer: &str) -> impl Future<Output = Result<Place, QueueError>> + Send;

    /// `consumer` gives up their place, or their active grant once admitted (its units back
    /// to stock). Grants due at `now` end first.
    fn leave(
        &self,
        consumer: &str,
        now: u64,
    ) -> impl Future<Output = Result<Departure, QueueError>> + Send;

    /// Admits up to `count` shoppers from the front of the line, in ticket order, one unit
    /// of stock each while stock lasts, each with a fresh grant expiring after the grant
    /// ttl from `now`.
    fn admit(
        &self,
        count: u64,
        now: u64,
    ) -> impl Future<Output = Result<Admitted, QueueError>> + Send;

    /// Ends every grant due at `now`, its units back to stock, and returns each grant that
    /// ended by time since the last call (here, or first in redeem, extend, reserve or
    /// leave), once, in expiry order: their shoppers are to be told.
    fn expire_grants(
        &self,
        now: u64,
    ) -> impl Future<Output = Result<Vec<ExpiredGrant>, QueueError>> + Send;

    /// Redeems `grant` once (grants due at `now` end first); returns whose it was.
    fn redeem(
        &self,
        grant: &str,
        now: u64,
    ) -> impl Future<Output = Result<String, QueueError>> + Send;

    /// Extends `consumer`'s active grant once (grants due at `now` end first); returns the
    /// admission as it is now.
    fn extend(
        &self,
        consumer: &str,
        now: u64,
    ) -> impl Future<Output = Result<Admission, QueueError>> + Send;

    /// Reserves `quantity` more units against `consumer`'s active grant, never taking stock
    /// below zero (grants due at `now` end first); a `key` that succeeded before is
    /// answered as it was.
    fn reserve(
        &self,
        consumer: &str,
        key: &str,
        quantity: u64,
        now: u64,
    ) -> impl Future<Output = Result<ReserveResponse, QueueError>> + Send;

    /// Sets the total stock; available stock moves by the same difference, never below
    /// zero.
    fn set_stock(&self, total: u64) -> impl Future<Output = Result<Stock, QueueError>> + Send;

    /// The cursor of the last broadcast: the epoch stays, the seq only grows.
    fn cursor(&self) -> impl Future<Output = Result<Cursor, QueueError>> + Send;

    /// The broadcasts after `after`, or `None` when they cannot all be replayed (another
    /// epoch, a seq not reached yet, or dropped from the log): the caller sends a snapshot.
    fn events_since(
        &self,
        after: Cursor,
    ) -> impl Future<Output = Result<Option<Vec<Logged>>, QueueError>> + Send;
}

/// The Redis core: every rule is its scripts', and its methods answer [`QueueError`]
/// already, so this delegates (and loops the bounded expiry, keeps the reservation's answer).
impl QueueCore for RedisQueue {
    async fn create(&self, setup: &Setup) -> Result<(), QueueError> {
        RedisQueue::create(self, setup).await
    }

    async fn join(&self, consumer: &str) -> Result<Place, QueueError> {
        RedisQueue::join(self, consumer).await
    }

    async fn position(&self, consumer: &str) -> Result<Place, QueueError> {
        RedisQueue::position(self, consumer).await
    }

    async fn leave(&self, consumer: &str, now: u64) -> Result<Departure, QueueError> {
        RedisQueue::leave(self, consumer, now).await
    }

    async fn admit(&self, count: u64, now: u64) -> Result<Admitted, QueueError> {
        RedisQueue::admit(self, count, now).await
    }

    async fn expire_grants(&self, now: u64) -> Result<Vec<ExpiredGrant>, QueueError> {
        // One script call ends a bounded batch; call again until one finds nothing.
        let mut all = Vec::new();
        loop {
            let batch = RedisQueue::expire_grants(self, now).await?;
            if batch.is_empty() {
                return Ok(all);
            }
            all.extend(batch);
        }
    }

    async fn redeem(&self, grant: &str, now: u64) -> Result<String, QueueError> {
        RedisQueue::redeem(self, grant, now).await
    }

    async fn extend(&self, consumer: &str, now: u64) -> Result<Admission, QueueError> {
        RedisQueue::extend(self, consumer, now).await
    }

    async fn reserve(
        &self,
        consumer: &str,
        key: &str,
        quantity: u64,
        now: u64,
    ) -> Result<ReserveResponse, QueueError> {
        Ok(RedisQueue::reserve(self, consumer, key, quantity, now)
            .await?
            .answer)
    }

    async fn set_stock(&self, total: u64) -> Result<Stock, QueueError> {
        RedisQueue::patch_stock(self, total).await
    }

    async fn cursor(&self) -> Result<Cursor, QueueError> {
        RedisQueue::cursor(self).await
    }

    async fn events_since(&self, after: Cursor) -> Result<Option<Vec<Logged>>, QueueError> {
        RedisQueue::events_since(self, after).await
    }
}
