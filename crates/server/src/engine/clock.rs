//! Wall-clock milliseconds that follow tokio's clock, so tests that pause and advance tokio
//! time also move grant expiries and server timestamps.

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Milliseconds since the Unix epoch, read from tokio's (pausable) clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Wall-clock milliseconds at `start`.
    start_ms: u64,
    /// Tokio instant taken together with `start_ms`.
    start: Instant,
}

impl Clock {
    /// A clock reading the current wall time.
    pub fn new() -> Self {
        let start_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            // A system clock before 1970 is broken; any fixed start keeps times ordered.
            .unwrap_or(0);
        Self {
            start_ms,
            start: Instant::now(),
        }
    }

    /// Now, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        self.start_ms + self.start.elapsed().as_millis() as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}
