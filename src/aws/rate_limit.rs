//! Client-side rate limits per AWS API, kept below AWS's documented per-account quotas so that
//! a thousand objects reconciling at once queue up here instead of drawing throttling errors
//! (which would cost retries and, for some APIs, count against other callers in the account).
//!
//! Each operation has its own limiter (a generic cell rate algorithm: evenly spaced calls at
//! 90 % of the quota, no burst), per region, since AWS's quotas are per account and region.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// Share of AWS's quota the operator allows itself, leaving room for other callers.
const SHARE: f64 = 0.9;

/// AWS's documented quota of a Kinesis control-plane operation, calls per second per account
/// and region. Operations AWS documents no quota for get the common 5 per second.
pub fn kinesis_quota(operation: &str) -> f64 {
    match operation {
        "kinesis:DescribeStreamSummary" | "kinesis:DescribeStreamConsumer" => 20.0,
        "kinesis:DescribeStream" => 10.0,
        // CreateStream, DeleteStream, ListTagsForStream, AddTagsToStream,
        // RemoveTagsFromStream, RegisterStreamConsumer, DeregisterStreamConsumer,
        // ListStreamConsumers, UpdateShardCount, retention, encryption, monitoring,
        // resource policies, UpdateStreamMode, UpdateMaxRecordSize, warm throughput.
        _ => 5.0,
    }
}

/// Rate limiters for the operations of one service in one region.
pub struct RateLimiter {
    quota: fn(&str) -> f64,
    /// Per operation: the earliest time the next call may start.
    next: Mutex<HashMap<&'static str, Instant>>,
    enabled: bool,
}

impl RateLimiter {
    /// Limits each operation to [`SHARE`] of `quota(operation)` calls per second, or nothing
    /// when `enabled` is false (an emulator that enforces no control-plane quotas).
    pub fn new(quota: fn(&str) -> f64, enabled: bool) -> Self {
        RateLimiter {
            quota,
            next: Mutex::new(HashMap::new()),
            enabled,
        }
    }

    /// The spacing between two calls of `operation`.
    fn interval(&self, operation: &str) -> Duration {
        Duration::from_secs_f64(1.0 / ((self.quota)(operation) * SHARE))
    }

    /// Reserves the next slot of `operation` and returns how long to wait for it.
    fn reserve(&self, operation: &'static str, now: Instant) -> Duration {
        let interval = self.interval(operation);
        let mut next = self.next.lock();
        let slot = next.entry(operation).or_insert(now);
        let start = (*slot).max(now);
        *slot = start + interval;
        start - now
    }

    /// Waits until a call of `operation` stays within its limit.
    pub async fn acquire(&self, operation: &'static str) {
        if !self.enabled {
            return;
        }
        let wait = self.reserve(operation, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn calls_of_one_operation_are_spaced_below_the_quota() {
        let limiter = std::sync::Arc::new(RateLimiter::new(kinesis_quota, true));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let limiter = limiter.clone();
            tasks.push(tokio::spawn(async move {
                limiter.acquire("kinesis:CreateStream").await;
                Instant::now()
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap() - start);
        }
        times.sort();
        // 5 per second at 90 %: one call every 222 ms, the first at once.
        assert_eq!(times[0], Duration::ZERO);
        let last = times[9].as_secs_f64();
        assert!((last - 9.0 / 4.5).abs() < 0.01, "10th call after {last} s");
        // In any one second no more than AWS's 5 calls start.
        for (i, t) in times.iter().enumerate() {
            let within = times[i..]
                .iter()
                .filter(|u| **u - *t < Duration::from_secs(1))
                .count();
            assert!(within <= 5, "{within} calls within a second from {t:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn operations_have_separate_budgets_and_off_means_off() {
        let limiter = RateLimiter::new(kinesis_quota, true);
        let start = Instant::now();
        limiter.acquire("kinesis:CreateStream").await;
        limiter.acquire("kinesis:DescribeStreamSummary").await;
        assert_eq!(Instant::now(), start, "different operations do not wait");
        limiter.acquire("kinesis:DescribeStreamSummary").await;
        let waited = (Instant::now() - start).as_secs_f64();
        assert!(
            (waited - 1.0 / 18.0).abs() < 0.002,
            "DescribeStreamSummary: 20/s quota, 18/s used; waited {waited} s"
        );
        let off = RateLimiter::new(kinesis_quota, false);
        let start = Instant::now();
        for _ in 0..100 {
            off.acquire("kinesis:CreateStream").await;
        }
        assert_eq!(Instant::now(), start);
    }
}
