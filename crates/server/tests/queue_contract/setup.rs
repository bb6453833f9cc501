//! The experience the queue's tests create, shared by the contract suite and the Redis-only
//! tests (`redis_queue.rs`): an open experience admitting 60 a minute, on a clock the
//! tests move by hand.

use livequeue_protocol::ExperienceStatus;
use livequeue_server::engine::core::Setup;
use livequeue_server::engine::experience::{GrantRules, HISTORY, Settings};

/// The tests' clock: a fixed instant, moved by hand.
pub const NOW: u64 = 1_800_000_000_000;
/// Grants last a minute.
pub const TTL_MS: u64 = 60_000;
/// One extension adds thirty seconds.
pub const EXTENSION_MS: u64 = 30_000;
/// Units one grant may hold.
pub const MAX_UNITS: u64 = 2;

/// An open experience with `stock` units, admitting 60 a minute, whose log keeps what the
/// in-memory history keeps.
pub fn setup(stock: u64) -> Setup {
    Setup {
        settings: Settings {
            name: "Drop".into(),
            status: ExperienceStatus::Open,
            rate_per_minute: 60.0,
            checkout_url: "https://shop.example/checkout".into(),
        },
        stock,
        rules: GrantRules {
            ttl_ms: TTL_MS,
            extension_ms: EXTENSION_MS,
            max_units: MAX_UNITS,
        },
        epoch: NOW,
        event_log_len: HISTORY as u64,
    }
}
