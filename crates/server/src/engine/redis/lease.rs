//! The ticker lease: exactly one node runs an experience's admission ticker at a time.
//!
//! A node takes the lease (`SET NX PX`) before ticking and renews it well within its
//! lifetime; a node that dies stops renewing, the key expires, and another node's next
//! attempt takes it over. A node that failed to renew in time must stop ticking: renewing
//! never takes a lease someone else holds.

use std::time::Duration;

use redis::Script;

use super::keys::TICKER_LEASE;
use super::scripts::SCRIPTS;
use super::{RedisQueue, RedisQueueError};

impl RedisQueue {
    /// Runs a lease script on the lease key with `args`; `true` when it answered 1.
    async fn lease_call(&self, script: &Script, args: &[&str]) -> Result<bool, RedisQueueError> {
        let mut invocation = script.prepare_invoke();
        invocation.key(self.keys().named(TICKER_LEASE));
        for arg in args {
            invocation.arg(*arg);
        }
        let answer: i64 = invocation.invoke_async(&mut self.conn.clone()).await?;
        Ok(answer == 1)
    }

    /// Takes the ticker lease for `node` for `ttl`, or keeps it when `node` holds it
    /// already; `false` while another node holds it.
    pub async fn take_ticker_lease(
        &self,
        node: &str,
        ttl: Duration,
    ) -> Result<bool, RedisQueueError> {
        let ttl = lease_ms(ttl);
        self.lease_call(&SCRIPTS.lease_take, &[node, &ttl]).await
    }

    /// Renews `node`'s lease for `ttl`; `false` when `node` no longer holds it (then it
    /// must stop ticking).
    pub async fn renew_ticker_lease(
        &self,
        node: &str,
        ttl: Duration,
    ) -> Result<bool, RedisQueueError> {
        let ttl = lease_ms(ttl);
        self.lease_call(&SCRIPTS.lease_renew, &[node, &ttl]).await
    }

    /// Gives `node`'s lease up, so another node takes over at once; `false` when `node`
    /// did not hold it.
    pub async fn release_ticker_lease(&self, node: &str) -> Result<bool, RedisQueueError> {
        self.lease_call(&SCRIPTS.lease_release, &[node]).await
    }
}

/// A lease time in whole milliseconds, at least one (`PX 0` is an error).
fn lease_ms(ttl: Duration) -> String {
    ttl.as_millis().max(1).to_string()
}
