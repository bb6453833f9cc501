//! The admission rate: how many shoppers each tick admits, the rate that wait estimates
//! use (observed once there is enough to observe, configured until then), and the
//! operator's history of admissions ([`Buckets`]).

use std::collections::VecDeque;

use livequeue_protocol::api::{HISTORY_BUCKET_SECONDS, HISTORY_BUCKETS};

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
    /// Admissions per ten seconds over the last five minutes, for the operator.
    history: Buckets,
}

impl AdmissionRate {
    /// Nothing admitted yet; estimates use `rate_per_minute` until there is history.
    pub fn new(rate_per_minute: f64) -> Self {
        Self {
            credits: 0.0,
            admitted_total: 0,
            samples: VecDeque::new(),
            per_sec: configured(rate_per_minute),
            history: Buckets::default(),
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

    /// Counts `n` admissions at `now`, however they came (ticks or the operator).
    pub fn record(&mut self, n: u64, now: u64) {
        self.admitted_total += n;
        self.history.add(n, now);
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

    /// Admissions in each of the last [`HISTORY_BUCKETS`] buckets as of `now`, oldest
    /// first (the last is the one still filling).
    pub fn history(&self, now: u64) -> Vec<u64> {
        self.history.counts(now)
    }
}

/// Milliseconds one bucket covers.
const BUCKET_MS: u64 = HISTORY_BUCKET_SECONDS * 1000;

/// Admissions counted per [`HISTORY_BUCKET_SECONDS`] of wall clock (buckets aligned to
/// multiples of it since the Unix epoch, so every node's buckets line up), the last
/// [`HISTORY_BUCKETS`] of them: a fixed ring of counters, whatever the rate, so adding is
/// O(1) and reading O(buckets).
#[derive(Debug, Default, Clone)]
pub struct Buckets {
    /// Counts by bucket number modulo [`HISTORY_BUCKETS`].
    counts: [u64; HISTORY_BUCKETS],
    /// Number (time / bucket length) of the newest bucket written; the ring holds it and
    /// the buckets before it. Older slots are reused (cleared) as time moves on.
    newest: u64,
}

impl Buckets {
    /// Adds `n` to the bucket of `now`. A time before the newest bucket (a clock step
    /// back) counts in the newest one, so nothing is lost or written out of the window.
    pub fn add(&mut self, n: u64, now: u64) {
        let bucket = now / BUCKET_MS;
        if bucket > self.newest {
            // Clear the slots of the buckets skipped over (all of them after a long gap).
            let skipped = (bucket - self.newest).min(HISTORY_BUCKETS as u64);
            for b in bucket + 1 - skipped..=bucket {
                self.counts[slot(b)] = 0;
            }
            self.newest = bucket;
        }
        self.counts[slot(self.newest)] += n;
    }

    /// The counts of the [`HISTORY_BUCKETS`] buckets ending with the one of `now`, oldest
    /// first; buckets nothing was written to since they began count 0.
    pub fn counts(&self, now: u64) -> Vec<u64> {
        let last = (now / BUCKET_MS).max(self.newest);
        (0..HISTORY_BUCKETS as u64)
            .rev()
            .map(|age| match last.checked_sub(age) {
                Some(b) if b <= self.newest && b + HISTORY_BUCKETS as u64 > self.newest => {
                    self.counts[slot(b)]
                }
                // Before the Unix epoch's first buckets, or not written since it began.
                _ => 0,
            })
            .collect()
    }
}

/// A bucket number's slot in the ring.
fn slot(bucket: u64) -> usize {
    (bucket % HISTORY_BUCKETS as u64) as usize
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
            rate.record(2, second * 1000);
            rate.observe(second * 1000, 60.0);
        }
        assert_eq!(rate.per_sec(), Some(2.0), "ten seconds at two a second");
        rate.reset(0.0);
        assert_eq!(rate.per_sec(), None, "a rate of zero estimates no wait");
    }

    #[test]
    fn the_history_counts_per_bucket_oldest_first_and_forgets_after_five_minutes() {
        let start = 1_795_820_400_000; // a multiple of ten seconds
        let mut buckets = Buckets::default();
        buckets.add(2, start);
        buckets.add(3, start + 9_999);
        buckets.add(1, start + 10_000);
        let counts = buckets.counts(start + 15_000);
        assert_eq!(counts.len(), HISTORY_BUCKETS);
        assert_eq!(
            &counts[HISTORY_BUCKETS - 2..],
            [5, 1],
            "the last two buckets"
        );
        assert_eq!(
            counts.iter().sum::<u64>(),
            6,
            "counts outside the two buckets"
        );
        // Twenty seconds later nothing new: the buckets move left, the newest are empty.
        let later = buckets.counts(start + 35_000);
        assert_eq!(&later[HISTORY_BUCKETS - 4..], [5, 1, 0, 0]);
        // Past the window, a new admission clears what was older than five minutes.
        buckets.add(4, start + 300_000);
        let counts = buckets.counts(start + 300_000);
        assert_eq!(
            counts[0], 1,
            "the bucket of start + 10 s is the oldest one kept"
        );
        assert_eq!(counts[HISTORY_BUCKETS - 1], 4);
        assert_eq!(
            counts.iter().sum::<u64>(),
            5,
            "the bucket of start, over five minutes old, was kept"
        );
        assert_eq!(
            buckets.counts(start + 3_600_000).iter().sum::<u64>(),
            0,
            "an hour later the history is empty"
        );
    }

    #[test]
    fn a_step_back_of_the_clock_counts_in_the_newest_bucket() {
        let mut buckets = Buckets::default();
        buckets.add(1, 100_000);
        buckets.add(1, 50_000);
        assert_eq!(buckets.counts(100_000)[HISTORY_BUCKETS - 1], 2);
    }
}
