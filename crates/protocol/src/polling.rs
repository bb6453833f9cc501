//! Adaptive polling: slow down while nothing changes, speed up on change.
//!
//! The guide's defaults: 2 s minimum, 30 s maximum, ×1.5 per unchanged answer (a `304`
//! counts as unchanged), back to the minimum on change. A hidden tab polls at the maximum.

/// Polling settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// Shortest interval, in milliseconds. Default 2,000.
    pub min_ms: u64,
    /// Longest interval, in milliseconds. Default 30,000.
    pub max_ms: u64,
    /// Growth per unchanged answer. Default 1.5.
    pub multiplier: f64,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            min_ms: 2_000,
            max_ms: 30_000,
            multiplier: 1.5,
        }
    }
}

/// The current interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Poller {
    policy: PollPolicy,
    interval_ms: u64,
}

impl Poller {
    /// Starts at the minimum.
    pub fn new(policy: PollPolicy) -> Self {
        Self {
            policy,
            interval_ms: policy.min_ms,
        }
    }

    /// Records an answer and returns the interval before the next poll.
    pub fn answered(&mut self, changed: bool) -> u64 {
        self.interval_ms = if changed {
            self.policy.min_ms
        } else {
            let grown = (self.interval_ms as f64 * self.policy.multiplier.max(1.0)) as u64;
            grown.clamp(self.policy.min_ms, self.policy.max_ms)
        };
        self.interval_ms
    }

    /// The interval to wait now: the current one, or the maximum while the tab is hidden.
    pub fn interval(&self, hidden: bool) -> u64 {
        if hidden {
            self.policy.max_ms
        } else {
            self.interval_ms
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_answers_grow_the_interval_to_the_maximum() {
        let mut p = Poller::new(PollPolicy::default());
        let seq: Vec<u64> = (0..10).map(|_| p.answered(false)).collect();
        assert_eq!(&seq[..4], &[3_000, 4_500, 6_750, 10_125]);
        assert_eq!(*seq.last().unwrap(), 30_000);
    }

    #[test]
    fn a_change_resets_to_the_minimum_and_hidden_tabs_poll_slowly() {
        let mut p = Poller::new(PollPolicy::default());
        p.answered(false);
        p.answered(false);
        assert_eq!(p.answered(true), 2_000);
        assert_eq!(p.interval(true), 30_000);
        assert_eq!(p.interval(false), 2_000);
    }
}
