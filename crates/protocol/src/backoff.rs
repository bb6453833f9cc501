//! Reconnect delays: exponential backoff with full jitter.
//!
//! Attempt `n` (0-based) waits a uniformly random time in `[0, min(cap, base·2^n)]`, the
//! first retry included, so that thousands of shoppers dropped by one server restart do not
//! come back in the same instant. The attempt counter resets on every successful open, and
//! after `max_attempts` failures in a row the caller gives up until asked to start again.
//! Jitter comes in as a number in `[0, 1)` so the policy stays a pure function.

/// Backoff settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    /// Upper bound of the first delay, in milliseconds. Default 1,000.
    pub base_ms: u64,
    /// Upper bound of every delay, in milliseconds. Default 30,000.
    pub cap_ms: u64,
    /// Failures in a row before giving up. Default 10.
    pub max_attempts: u32,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base_ms: 1_000,
            cap_ms: 30_000,
            max_attempts: 10,
        }
    }
}

impl BackoffPolicy {
    /// The largest delay attempt `n` may wait: `min(cap, base·2^n)`.
    pub fn bound(&self, attempt: u32) -> u64 {
        let factor = 1u64.checked_shl(attempt.min(63)).unwrap_or(u64::MAX);
        self.base_ms.saturating_mul(factor).min(self.cap_ms)
    }
}

/// A server's hint about when to come back, from a close code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryHint {
    /// No hint: ordinary backoff.
    None,
    /// The server is restarting (1012): come back soon, within the base delay.
    Soon,
    /// The server is overloaded (1013): back off as if two more attempts had failed.
    Later,
}

/// The attempt counter and the delays it yields.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
}

impl Backoff {
    /// A fresh counter.
    pub fn new(policy: BackoffPolicy) -> Self {
        Self { policy, attempt: 0 }
    }

    /// Failures since the last successful open.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The policy.
    pub fn policy(&self) -> BackoffPolicy {
        self.policy
    }

    /// Records a failure and returns how long to wait before the next attempt, or `None`
    /// when the maximum is reached. `jitter` is uniform in `[0, 1)`.
    pub fn fail(&mut self, hint: RetryHint, jitter: f64) -> Option<u64> {
        if self.attempt >= self.policy.max_attempts {
            return None;
        }
        let n = self.attempt;
        self.attempt += 1;
        let bound = match hint {
            RetryHint::None => self.policy.bound(n),
            RetryHint::Soon => self.policy.bound(0),
            RetryHint::Later => self.policy.bound(n + 2),
        };
        Some((jitter.clamp(0.0, 1.0) * bound as f64) as u64)
    }

    /// A successful open: the next failure starts from the first delay again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounds_double_up_to_the_cap() {
        let p = BackoffPolicy::default();
        let bounds: Vec<u64> = (0..7).map(|n| p.bound(n)).collect();
        assert_eq!(
            bounds,
            vec![1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]
        );
        assert_eq!(p.bound(200), 30_000, "huge attempt numbers do not overflow");
    }

    #[test]
    fn gives_up_after_the_maximum_and_starts_over_after_a_reset() {
        let mut b = Backoff::new(BackoffPolicy {
            max_attempts: 3,
            ..Default::default()
        });
        assert!(b.fail(RetryHint::None, 0.5).is_some());
        assert!(b.fail(RetryHint::None, 0.5).is_some());
        assert!(b.fail(RetryHint::None, 0.5).is_some());
        assert_eq!(b.fail(RetryHint::None, 0.5), None);
        b.reset();
        assert_eq!(b.attempts(), 0);
        assert_eq!(
            b.fail(RetryHint::None, 0.999),
            Some(999),
            "after a reset the first bound applies"
        );
    }

    #[test]
    fn hints_shorten_or_lengthen_the_wait() {
        let mut b = Backoff::new(BackoffPolicy::default());
        for _ in 0..4 {
            b.fail(RetryHint::None, 0.0);
        }
        assert!(
            b.fail(RetryHint::Soon, 0.99).unwrap() < 1_000,
            "a restart is retried soon"
        );
        let mut c = Backoff::new(BackoffPolicy::default());
        assert!(
            c.fail(RetryHint::Later, 0.99).unwrap() > 3_000,
            "overload backs off longer"
        );
    }

    proptest! {
        #[test]
        fn every_delay_is_within_zero_and_the_bound(jitters in prop::collection::vec(0.0f64..1.0, 1..20)) {
            let policy = BackoffPolicy::default();
            let mut b = Backoff::new(policy);
            for (n, j) in jitters.iter().enumerate() {
                match b.fail(RetryHint::None, *j) {
                    Some(d) => prop_assert!(d <= policy.bound(n as u32), "attempt {} waited {}", n, d),
                    None => prop_assert!(n as u32 >= policy.max_attempts),
                }
            }
        }

        #[test]
        fn jitter_spreads_delays_over_the_whole_range(seed in any::<u64>()) {
            // 200 clients after the same failure: their first delays must not bunch up.
            let mut x = seed | 1;
            let mut delays = Vec::new();
            for _ in 0..200 {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                let jitter = (x >> 11) as f64 / (1u64 << 53) as f64;
                delays.push(Backoff::new(BackoffPolicy::default()).fail(RetryHint::None, jitter).unwrap());
            }
            let low = delays.iter().filter(|d| **d < 500).count();
            prop_assert!((50..150).contains(&low), "{} of 200 in the lower half", low);
        }
    }
}
