//! The admission rate: how many shoppers each tick admits, and the rate that wait estimates
//! use (observed once there is enough to observe, configured until then).

use std::collections::VecDeque;

/// Window over which the admission rate is observed for wait estimates.
const RATE_WINDOW_MS: u64 = 60_000;
/// Shortest observation that is trusted over the configured rate.
const RATE_MIN_SPAN_MS: u64 = 10_000;

/// Admission pacing and the estimated rate of one experience.
#[derive(Debug)]
pub struct AdmissionRate {
    /// Fractional admissions carried between ticks, so a rate under one a tick still admits.
    credits: f64,
    /// Admissions so far: the counter the samples are taken of.
    admitted_total: u64,
    /// `(time, admitted_total)` samples over the last window, oldest first.
    samples: VecDeque<(u64, u64)>,
    /// Admissions per second for wait estimates: observed once the window spans long
    /// enough, else configured; `None` when neither is positive.
    per_sec: Option<f64>,
}

impl AdmissionRate {
    /// Nothing admitted yet; estimates use `rate_per_minute` until there is history.
    pub fn new(rate_per_minute: f64) -> Self {
        Self {
            credits: 0.0,
            admitted_total: 0,
            samples: VecDeque::new(),
            per_sec: configured(rate_per_minute),
        }
    }

    /// How many to admit after `elapsed_ms` at `rate_per_minute`. Credits never pile up
    /// beyond one tick's worth (plus the fraction carried), so a pause or an empty line is
    /// not followed by a burst.
    pub fn due(&mut self, elapsed_ms: u64, rate_per_minute: f64) -> u64 {
        let per_tick = rate_per_minute / 60_000.0 * elapsed_ms as f64;
        self.credits = (self.credits + per_tick).min(per_tick.max(1.0) + 1.0);
        self.credits.floor() as u64
    }

    /// `admitted` of the `wanted` [`AdmissionRate::due`] were admitted: spend their credits,
    /// and drop whole credits that found nobody (or no stock) to admit.
    pub fn spend(&mut self, wanted: u64, admitted: u64) {
        self.credits -= admitted as f64;
        if admitted < wanted {
            self.credits = self.credits.fract();
        }
    }

    /// Not admitting (paused or closed): nothing carries over.
    pub fn idle(&mut self) {
        self.credits = 0.0;
    }

    /// Counts `n` admissions, however they came (ticks or the operator).
    pub fn record(&mut self, n: u64) {
        self.admitted_total += n;
    }

    /// Takes a sample at `now` and updates the estimate.
    pub fn observe(&mut self, now: u64, rate_per_minute: f64) {
        self.samples.push_back((now, self.admitted_total));
        while let Some((at, _)) = self.samples.front() {
            if now - at > RATE_WINDOW_MS && self.samples.len() > 1 {
                self.samples.pop_front();
            } else {
                break;
            }
        }
        let (since, count) = self.samples.front().copied().unwrap_or((now, 0));
        let span = now.saturating_sub(since);
        self.per_sec = if span >= RATE_MIN_SPAN_MS && self.admitted_total > count {
            Some((self.admitted_total - count) as f64 * 1000.0 / span as f64)
        } else {
            configured(rate_per_minute)
        };
    }

    /// The operator set a new rate: what was observed at the old one no longer predicts.
    pub fn reset(&mut self, rate_per_minute: f64) {
        self.samples.clear();
        self.per_sec = configured(rate_per_minute);
    }

    /// Admissions per second for wait estimates.
    pub fn per_sec(&self) -> Option<f64> {
        self.per_sec
    }

    /// Admissions so far.
    pub fn admitted_total(&self) -> u64 {
        self.admitted_total
    }
}

/// A configured rate per minute as a rate per second, if it admits anyone.
fn configured(rate_per_minute: f64) -> Option<f64> {
    let r = rate_per_minute / 60.0;
    (r > 0.0 && r.is_finite()).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_observed_rate_replaces_the_configured_one_after_ten_seconds() {
        let mut rate = AdmissionRate::new(60.0);
        assert_eq!(rate.per_sec(), Some(1.0), "starts at the configured rate");
        for second in 0..=10 {
            rate.record(2);
            rate.observe(second * 1000, 60.0);
        }
        assert_eq!(rate.per_sec(), Some(2.0), "ten seconds at two a second");
        rate.reset(0.0);
        assert_eq!(rate.per_sec(), None, "a rate of zero estimates no wait");
    }
}
