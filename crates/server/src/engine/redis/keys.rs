//! The Redis keys of one experience: `lq:{<experience>}:<name>`.
//!
//! The braces are a Redis Cluster hash tag: every key of an experience hashes on the
//! experience id alone, so they all live in one slot and one script may touch them all,
//! on a single Redis as on a cluster. Every queue script is passed the same keys in the
//! same order ([`Keys::queue`]), declared in `KEYS` as the cluster requires, and
//! `lua/common.lua` names them in that order.

use livequeue_protocol::ExperienceId;

/// What each key of an experience holds, in the order the queue scripts receive them.
pub const QUEUE_KEYS: [&str; 15] = [
    // Hash: name, status, rate, checkout, grant_ttl_ms, extension_ms, max_units, epoch,
    // log_len, and the counts admitted / redeemed / expired.
    "meta",
    // String: the next ticket to hand out (tickets start at 0, in join order).
    "next_ticket",
    // String: the first ticket not yet passed by admissions.
    "head",
    // Sorted set: waiting consumer ids scored by ticket (rank + 1 is the position).
    "line",
    // Hash: consumer id → ticket, for everyone who joined, waiting or not.
    "consumers",
    // Sorted set: tickets at or after `head` whose shopper left (member and score: the
    // ticket), the `departed` of the fan-out's line movements.
    "departed",
    // Hash: available, total.
    "stock",
    // Hash: grant → "status expires_at extended reserved consumer".
    "grants",
    // Sorted set: active grants scored by expiry, the index expiries are found by.
    "grant_expiry",
    // Hash: consumer id → their grant.
    "admissions",
    // Hash: "grant|idempotency key" → "quantity reserved available total", the answer a
    // retry gets again.
    "reservations",
    // String: the cursor's seq, one more for each broadcast.
    "seq",
    // Stream: the broadcasts, capped (`XADD MAXLEN ~ log_len`), entry id `<seq>-0`, fields
    // `kind` and `data`.
    "events",
    "notes",
    "joined",
];

/// The key of the ticker's lease (string: the holding node, `SET NX PX`).
pub const TICKER_LEASE: &str = "ticker_lease";

/// Why an experience id cannot name Redis keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an experience id (1–64 characters of [A-Za-z0-9_-])")]
pub struct BadExperienceId(pub String);

/// The keys of one experience.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `lq:{<experience>}:`, which every key begins with.
    prefix: String,
    /// The queue scripts' keys, in [`QUEUE_KEYS`] order.
    queue: Vec<String>,
}

impl Keys {
    /// The keys of `experience`. The id's validity rule (no braces, no spaces) is what
    /// keeps the hash tag and the key names unambiguous.
    pub fn new(experience: &str) -> Result<Self, BadExperienceId> {
        if !ExperienceId::is_valid(experience) {
            return Err(BadExperienceId(experience.to_string()));
        }
        let prefix = format!("lq:{{{experience}}}:");
        let queue = QUEUE_KEYS
            .iter()
            .map(|name| format!("{prefix}{name}"))
            .collect();
        Ok(Self { prefix, queue })
    }

    /// Every key a queue script is passed, in [`QUEUE_KEYS`] order.
    pub fn queue(&self) -> &[String] {
        &self.queue
    }

    /// The key called `name` (one of [`QUEUE_KEYS`] or [`TICKER_LEASE`]).
    pub fn named(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_an_experience_shares_its_hash_tag() {
        let keys = Keys::new("drop-1").expect("a valid id was refused");
        for key in keys.queue().iter().chain([&keys.named(TICKER_LEASE)]) {
            let tag = key
                .split_once('{')
                .and_then(|(_, rest)| rest.split_once('}'))
                .map(|(tag, _)| tag);
            assert_eq!(tag, Some("drop-1"), "{key} hashes on something else");
        }
    }

    #[test]
    fn an_id_with_braces_names_no_keys() {
        assert!(
            Keys::new("a}b{c").is_err(),
            "an id that breaks the hash tag was accepted"
        );
    }
}
