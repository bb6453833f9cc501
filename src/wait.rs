//! The estimated wait as the shopper reads it: smoothed, and a range while it is uncertain.
//!
//! The server's estimate moves with every update (its admission rate is measured over a short
//! window), and a number that jumps from 12 to 9 to 14 minutes is worse than none. The widget
//! therefore keeps the *moment* each estimate points at (`now + wait`), smooths those moments
//! (an exponential average), and counts down from the smoothed one between updates. The
//! estimate is uncertain while few estimates were seen (a new shopper, a new rate) or while
//! the recent ones disagree (the rate is changing): then the shopper reads a range spanning
//! them. Pure arithmetic over plain numbers; [`crate::format::wait_words`] words it.

/// Estimates remembered for the spread.
const RECENT: usize = 6;
/// Weight of a new estimate in the smoothed moment.
const ALPHA: f64 = 0.3;
/// Fewer estimates than this are uncertain by themselves.
const SETTLED_AFTER: usize = 3;
/// The relative width of the range while unsettled (±20 %).
const UNSETTLED_SPREAD: f64 = 0.2;
/// A spread below this share of the wait reads as one number.
const ONE_NUMBER_BELOW: f64 = 0.15;

/// The smoothed estimate of when the shopper's turn comes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WaitEstimate {
    /// The smoothed moment (local ms) the turn is expected.
    smoothed: Option<f64>,
    /// The moments the latest estimates pointed at, oldest first.
    recent: Vec<f64>,
    /// Estimates seen since the last reset.
    seen: usize,
}

/// What to say about the wait, in whole seconds from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitView {
    /// Nothing known.
    Unknown,
    /// About this long.
    About(u64),
    /// Between these two.
    Between(u64, u64),
}

impl WaitEstimate {
    /// Takes the server's estimate `wait_s` (seconds) received at `now_ms`. `None` (the
    /// server does not know, e.g. while paused) forgets everything: a resumed line is a new
    /// rate.
    pub fn observe(&mut self, wait_s: Option<u64>, now_ms: f64) {
        let Some(wait_s) = wait_s else {
            *self = Self::default();
            return;
        };
        let moment = now_ms + wait_s as f64 * 1000.0;
        self.smoothed = Some(match self.smoothed {
            Some(old) => old + ALPHA * (moment - old),
            None => moment,
        });
        if self.recent.len() == RECENT {
            self.recent.remove(0);
        }
        self.recent.push(moment);
        self.seen += 1;
    }

    /// What to show at `now_ms`.
    pub fn view(&self, now_ms: f64) -> WaitView {
        let Some(smoothed) = self.smoothed else {
            return WaitView::Unknown;
        };
        let left = |moment: f64| ((moment - now_ms) / 1000.0).max(0.0);
        let centre = left(smoothed);
        let (mut low, mut high) = self.recent.iter().fold((centre, centre), |(lo, hi), &m| {
            (lo.min(left(m)), hi.max(left(m)))
        });
        if self.seen < SETTLED_AFTER {
            low = low.min(centre * (1.0 - UNSETTLED_SPREAD));
            high = high.max(centre * (1.0 + UNSETTLED_SPREAD));
        }
        if high - low <= centre * ONE_NUMBER_BELOW {
            WaitView::About(centre.round() as u64)
        } else {
            WaitView::Between(low.round() as u64, high.round() as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled(wait_s: u64) -> WaitEstimate {
        let mut estimate = WaitEstimate::default();
        for i in 0..4 {
            estimate.observe(Some(wait_s - i), f64::from(i as u32) * 1000.0);
        }
        estimate
    }

    #[test]
    fn nothing_known_is_unknown_and_the_server_not_knowing_forgets() {
        let mut estimate = WaitEstimate::default();
        assert_eq!(estimate.view(0.0), WaitView::Unknown);
        estimate.observe(Some(300), 0.0);
        estimate.observe(None, 1000.0);
        assert_eq!(estimate.view(1000.0), WaitView::Unknown);
    }

    #[test]
    fn a_first_estimate_is_a_range_until_more_agree() {
        let mut estimate = WaitEstimate::default();
        estimate.observe(Some(600), 0.0);
        assert_eq!(estimate.view(0.0), WaitView::Between(480, 720));
        assert_eq!(settled(600).view(3000.0), WaitView::About(597));
    }

    #[test]
    fn a_steady_line_counts_down_between_updates() {
        let estimate = settled(600);
        assert_eq!(estimate.view(63_000.0), WaitView::About(537));
        assert_eq!(
            estimate.view(10_000_000.0),
            WaitView::About(0),
            "never negative"
        );
    }

    #[test]
    fn one_wild_estimate_moves_the_number_a_little_and_widens_it() {
        let mut estimate = settled(600);
        estimate.observe(Some(1200), 4000.0);
        match estimate.view(4000.0) {
            WaitView::Between(low, high) => {
                assert!((590..600).contains(&low), "low {low}");
                assert_eq!(high, 1200, "the range reaches the new estimate");
            }
            other => panic!("a disagreeing estimate is a range, got {other:?}"),
        }
        // Once the line settles at the new rate, the range closes again.
        for i in 5..12 {
            estimate.observe(Some(1200 - (i - 4)), f64::from(i as u32) * 1000.0);
        }
        assert!(
            matches!(estimate.view(11_000.0), WaitView::About(w) if (1150..=1200).contains(&w))
        );
    }
}
