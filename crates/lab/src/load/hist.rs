//! A log-linear latency histogram: 32 buckets per power of two (at most 1/32 ≈ 3 %
//! relative error), nanoseconds from 0 to about 35 minutes in about 1,200 counters, so
//! recording is an index computation and an increment whatever the rate, and histograms
//! of several runs add up. Minimum and maximum are kept exactly.

use std::time::Duration;

use serde::Serialize;

/// Sub-buckets per power of two: 2^SUB_BITS.
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Values up to 2^MAX_EXP ns (~ 2,199 s); larger ones land in the last bucket.
const MAX_EXP: u32 = 41;
const BUCKETS: usize = ((MAX_EXP - SUB_BITS + 1) as usize + 1) * SUB as usize;

/// Latencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    min: u64,
    max: u64,
    sum: u128,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // floor(log2 v) >= SUB_BITS
    if e > MAX_EXP {
        return BUCKETS - 1;
    }
    let shift = e - SUB_BITS;
    let idx = u64::from(e - SUB_BITS + 1) * SUB + ((v >> shift) - SUB);
    (idx as usize).min(BUCKETS - 1)
}

/// The smallest value of bucket `i`.
fn lower(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let octave = i / SUB; // >= 1
    let e = octave - 1 + u64::from(SUB_BITS);
    let shift = e - u64::from(SUB_BITS);
    (SUB + i % SUB) << shift
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram { counts: vec![0; BUCKETS], total: 0, min: u64::MAX, max: 0, sum: 0 }
    }

    pub fn record(&mut self, d: Duration) {
        let v = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        if let Some(c) = self.counts.get_mut(index(v)) {
            *c += 1;
        }
        self.total += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += u128::from(v);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    /// The value below which a fraction `q` (0..=1) of the samples lie: the middle of
    /// the bucket holding that rank, clamped to the exact min and max (which the first
    /// and last ranks are).
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).clamp(1, self.total);
        // The extremes are known exactly.
        if rank == 1 {
            return Some(Duration::from_nanos(self.min));
        }
        if rank == self.total {
            return Some(Duration::from_nanos(self.max));
        }
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let lo = lower(i);
                let hi = if i + 1 < BUCKETS { lower(i + 1) } else { lo };
                let mid = lo + (hi.saturating_sub(lo)) / 2;
                return Some(Duration::from_nanos(mid.clamp(self.min, self.max)));
            }
        }
        Some(Duration::from_nanos(self.max))
    }

    /// min, median, p90, p99, p99.9, max and mean, in microseconds.
    pub fn summary(&self) -> Option<LatencySummary> {
        let us = |d: Option<Duration>| d.map_or(0.0, |d| d.as_nanos() as f64 / 1000.0);
        (self.total > 0).then(|| LatencySummary {
            samples: self.total,
            min_us: self.min as f64 / 1000.0,
            median_us: us(self.quantile(0.5)),
            p90_us: us(self.quantile(0.9)),
            p99_us: us(self.quantile(0.99)),
            p999_us: us(self.quantile(0.999)),
            max_us: self.max as f64 / 1000.0,
            mean_us: (self.sum / u128::from(self.total)) as f64 / 1000.0,
        })
    }
}

/// Latency percentiles (microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    pub samples: u64,
    pub min_us: f64,
    pub median_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_ordered() {
        let mut prev = 0;
        for i in 1..BUCKETS {
            let l = lower(i);
            assert!(l > prev, "bucket {i}: {l} <= {prev}");
            assert_eq!(index(l), i, "lower({i}) = {l} indexes back");
            assert_eq!(index(l - 1), i - 1);
            prev = l;
        }
    }

    #[test]
    fn quantiles_within_three_percent() {
        let mut h = Histogram::new();
        for us in 1..=10_000u64 {
            h.record(Duration::from_micros(us));
        }
        let s = h.summary().expect("samples");
        assert_eq!(s.samples, 10_000);
        assert!((s.min_us - 1.0).abs() < 1e-9);
        assert!((s.max_us - 10_000.0).abs() < 1e-9);
        for (got, want) in [(s.median_us, 5000.0), (s.p90_us, 9000.0), (s.p99_us, 9900.0)] {
            assert!((got - want).abs() / want < 0.03, "{got} vs {want}");
        }
        assert!((s.mean_us - 5000.5).abs() < 0.01);
    }

    #[test]
    fn merge_adds_up() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        a.record(Duration::from_micros(10));
        b.record(Duration::from_millis(3));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.quantile(1.0), Some(Duration::from_millis(3)));
        assert_eq!(a.quantile(0.0), Some(Duration::from_micros(10)));
    }

    #[test]
    fn huge_values_saturate() {
        let mut h = Histogram::new();
        h.record(Duration::from_secs(100_000));
        assert_eq!(h.count(), 1);
        assert!(h.quantile(0.5).is_some());
    }
}
