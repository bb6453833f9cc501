//! Percentiles and the fan-out figures computed from the receive table.

use serde::Serialize;

/// The `p`-th percentile (0 < p ≤ 100) of ascending `sorted` by nearest rank: the smallest
/// value with at least p% of the values at or below it. `None` when empty.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// The median of `values` (mean of the middle two for an even count). `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

/// What one publish did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishFigures {
    /// The stock value it set.
    pub value: u64,
    /// Connections open when it was published.
    pub expected: usize,
    /// Connections that received it.
    pub deliveries: usize,
    /// Microseconds from sending the PATCH to its `200` answer.
    pub patch_us: u64,
    /// Microseconds from sending the PATCH to the first delivery.
    pub first_us: Option<u64>,
    /// Microseconds from sending the PATCH to the last delivery.
    pub last_us: Option<u64>,
    /// Deliveries per second: deliveries divided by the time to the last one.
    pub deliveries_per_sec: Option<f64>,
}

/// The latencies (µs) of one publish's receipts and its figures.
pub fn publish_figures(
    value: u64,
    published_ns: u64,
    patch_us: u64,
    receipts_ns: &[u64],
    expected: usize,
) -> (Vec<u64>, PublishFigures) {
    let latencies: Vec<u64> = receipts_ns
        .iter()
        .map(|r| r.saturating_sub(published_ns) / 1_000)
        .collect();
    let last_us = latencies.iter().copied().max();
    let figures = PublishFigures {
        value,
        expected,
        deliveries: latencies.len(),
        patch_us,
        first_us: latencies.iter().copied().min(),
        last_us,
        deliveries_per_sec: last_us
            .filter(|&us| us > 0)
            .map(|us| latencies.len() as f64 * 1e6 / us as f64),
    };
    (latencies, figures)
}

/// Latency percentiles over every delivery of a phase, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_us: Option<u64>,
    /// 90th percentile.
    pub p90_us: Option<u64>,
    /// 99th percentile.
    pub p99_us: Option<u64>,
    /// Slowest.
    pub max_us: Option<u64>,
}

impl Latency {
    /// Percentiles of `latencies` (sorted in place).
    pub fn of(latencies: &mut [u64]) -> Self {
        latencies.sort_unstable();
        Self {
            p50_us: percentile(latencies, 50.0),
            p90_us: percentile(latencies, 90.0),
            p99_us: percentile(latencies, 99.0),
            max_us: latencies.last().copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_of_one_to_a_hundred_are_the_ranks() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(
            percentile(&v, 0.1),
            Some(1),
            "a tiny p is the smallest value"
        );
    }

    #[test]
    fn percentiles_of_few_values_round_up_and_of_none_are_none() {
        assert_eq!(percentile(&[10, 20, 30], 50.0), Some(20));
        assert_eq!(percentile(&[10, 20, 30], 99.0), Some(30));
        assert_eq!(percentile(&[7], 50.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn median_averages_the_middle_pair() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn a_publish_rate_is_deliveries_over_the_time_to_the_last() {
        // Published at 1 ms; four receipts at 2, 3, 4 and 5 ms.
        let receipts = [2_000_000, 3_000_000, 5_000_000, 4_000_000];
        let (lat, f) = publish_figures(9, 1_000_000, 300, &receipts, 5);
        assert_eq!(lat, vec![1_000, 2_000, 4_000, 3_000]);
        assert_eq!((f.deliveries, f.expected), (4, 5));
        assert_eq!((f.first_us, f.last_us), (Some(1_000), Some(4_000)));
        assert_eq!(f.deliveries_per_sec, Some(1_000.0), "4 deliveries in 4 ms");
    }
}
