//! Client-side pacing of AWS calls, per operation and region (AWS's quotas are per account,
//! region and API).
//!
//! Three policies (`--aws-rate-limits`):
//! - `adaptive` (the default): no delay at all until AWS (or the emulator) throttles an
//!   operation; then that operation is paced at 70 % of the rate that drew the throttling and
//!   creeps back up along a cubic curve, the way the AWS SDKs' adaptive retry mode does (CUBIC
//!   congestion control: multiplicative decrease, cubic recovery, never above twice the rate
//!   actually sent). Against AWS it settles at the quota by itself; against an emulator that
//!   enforces no quota it never waits. A minute without throttling lifts the pacing again. It
//!   never slows below a fifth of AWS's documented quota: throttling that persists there is not
//!   this caller's doing.
//! - `aws`: a fixed pace at 90 % of AWS's documented quota of each operation (a generic cell
//!   rate algorithm: evenly spaced calls, no burst), for accounts whose quotas other callers
//!   share.
//! - `off`: no pacing.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// How AWS calls are paced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pacing {
    /// Not at all.
    Off,
    /// Only after throttling, at the rate that stops it (see the module docs).
    Adaptive,
    /// Always, below AWS's documented quotas.
    Aws,
}

/// Share of AWS's quota the `aws` policy allows itself, leaving room for other callers.
const SHARE: f64 = 0.9;
/// Factor of the sent rate that a throttled operation is paced at.
const BETA: f64 = 0.7;
/// Scale of the cubic recovery (calls/s per s³).
const CUBIC_SCALE: f64 = 0.4;
/// The slowest pace adaptive pacing goes down to, calls per second (the AWS SDKs' floor)...
const MIN_RATE: f64 = 0.5;
/// ... or this share of AWS's documented quota, when higher: throttling that persists below it
/// is not caused by this caller's rate (AWS throttles now and then at any rate, and the
/// emulator's fault injection does so at random), and slowing further would only stall every
/// object while the retries and the per-object backoff already absorb it.
const FLOOR_SHARE: f64 = 0.2;
/// Weight of the newest half second in the measured send rate.
const SMOOTH: f64 = 0.8;
/// Length of one measurement of the send rate.
const MEASURE_WINDOW: Duration = Duration::from_millis(500);
/// Time without throttling after which an operation is no longer paced.
const CALM: Duration = Duration::from_secs(60);

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

/// The pacing state of one operation.
struct Operation {
    /// The earliest time the next call may start, when paced.
    next: Instant,
    /// Adaptive pacing: the current rate, `None` while not paced.
    rate: Option<f64>,
    /// Smoothed rate of answers, calls per second.
    measured: f64,
    /// Start of the current measurement window and the answers counted in it.
    window_start: Instant,
    window_count: u32,
    /// The sent rate when throttling last happened, and when that was.
    last_max: f64,
    last_throttle: Option<Instant>,
}

impl Operation {
    fn new(now: Instant) -> Self {
        Operation {
            next: now,
            rate: None,
            measured: 0.0,
            window_start: now,
            window_count: 0,
            last_max: 0.0,
            last_throttle: None,
        }
    }

    /// Counts one answer into the measured send rate.
    fn measure(&mut self, now: Instant) {
        self.window_count += 1;
        let elapsed = now - self.window_start;
        if elapsed >= MEASURE_WINDOW {
            let current = f64::from(self.window_count) / elapsed.as_secs_f64();
            self.measured = current * SMOOTH + self.measured * (1.0 - SMOOTH);
            self.window_start = now;
            self.window_count = 0;
        }
    }

    /// The best estimate of the rate being sent: the smoothed measure, or before the first
    /// window closes, the answers so far spread over a whole window.
    fn sent_rate(&self) -> f64 {
        if self.measured > 0.0 {
            self.measured
        } else {
            f64::from(self.window_count) / MEASURE_WINDOW.as_secs_f64()
        }
    }

    /// An answer of a call sent at `sent`: throttled or not. The pace never goes below
    /// `floor` calls per second.
    fn adapt(&mut self, sent: Instant, now: Instant, throttled: bool, floor: f64) {
        self.measure(now);
        if throttled {
            // A call sent before the last slow-down reflects the rate before it: one decrease
            // per round of calls, not one per call in flight.
            if self.last_throttle.is_some_and(|t| sent < t) {
                return;
            }
            let sent_rate = match self.rate {
                Some(rate) => self.sent_rate().min(rate),
                None => self.sent_rate(),
            };
            self.last_max = sent_rate;
            self.last_throttle = Some(now);
            self.rate = Some((sent_rate * BETA).max(floor));
        } else if let (Some(_), Some(last)) = (self.rate, self.last_throttle) {
            // The cubic curve through the rate that drew the throttling: flat near it, steeper
            // further away, so that the pace probes up carefully and then quickly.
            let plateau = (self.last_max * (1.0 - BETA) / CUBIC_SCALE).cbrt();
            let t = (now - last).as_secs_f64() - plateau;
            let cubic = CUBIC_SCALE * t.powi(3) + self.last_max;
            self.rate = Some(cubic.min(2.0 * self.sent_rate()).max(floor));
        }
    }

    /// The spacing of calls under adaptive pacing, `None` when not paced.
    fn adaptive_interval(&mut self, now: Instant) -> Option<Duration> {
        let last = self.last_throttle?;
        if now - last >= CALM {
            self.rate = None;
            self.last_throttle = None;
        }
        self.rate.map(|rate| Duration::from_secs_f64(1.0 / rate))
    }
}

/// Paces the operations of one service in one region.
pub struct RateLimiter {
    quota: fn(&str) -> f64,
    pacing: Pacing,
    operations: Mutex<HashMap<&'static str, Operation>>,
}

impl RateLimiter {
    /// Paces each operation by `pacing`; `quota(operation)` gives AWS's quota for
    /// [`Pacing::Aws`].
    pub fn new(quota: fn(&str) -> f64, pacing: Pacing) -> Self {
        RateLimiter {
            quota,
            pacing,
            operations: Mutex::new(HashMap::new()),
        }
    }

    /// Claims the slot of a call of `operation` that starts now, or returns how long to wait
    /// before asking again. Nothing is reserved ahead: a waiter asks again when its wait is
    /// over, at the pace then in force, so that a slow-down or a speed-up applies at once to
    /// every call still waiting.
    fn claim(&self, operation: &'static str, now: Instant) -> Option<Duration> {
        let mut operations = self.operations.lock();
        let state = operations
            .entry(operation)
            .or_insert_with(|| Operation::new(now));
        let interval = match self.pacing {
            Pacing::Off => return None,
            Pacing::Aws => Duration::from_secs_f64(1.0 / ((self.quota)(operation) * SHARE)),
            Pacing::Adaptive => state.adaptive_interval(now)?,
        };
        if state.next > now {
            return Some(state.next - now);
        }
        // Keep the schedule through a late wake-up, but bank no more than one call after a
        // quiet spell.
        state.next = state.next.max(now - interval) + interval;
        None
    }

    /// Waits until a call of `operation` may start.
    pub async fn acquire(&self, operation: &'static str) {
        if self.pacing == Pacing::Off {
            return;
        }
        while let Some(wait) = self.claim(operation, Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Learns from the answer to a call of `operation` sent at `sent`: `throttled` when AWS
    /// asked to slow down. Only adaptive pacing learns.
    pub fn answered(&self, operation: &'static str, sent: Instant, throttled: bool) {
        if self.pacing != Pacing::Adaptive {
            return;
        }
        let now = Instant::now();
        let floor = ((self.quota)(operation) * FLOOR_SHARE).max(MIN_RATE);
        self.operations
            .lock()
            .entry(operation)
            .or_insert_with(|| Operation::new(sent))
            .adapt(sent, now, throttled, floor);
    }

    /// The current adaptive rate of `operation` in calls per second, `None` while not paced.
    pub fn adaptive_rate(&self, operation: &'static str) -> Option<f64> {
        self.operations.lock().get(operation).and_then(|o| o.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Starts `n` calls of `operation` at once and returns when each started, from `start`.
    async fn burst(limiter: &Arc<RateLimiter>, operation: &'static str, n: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..n {
            let limiter = limiter.clone();
            tasks.push(tokio::spawn(async move {
                limiter.acquire(operation).await;
                Instant::now() - start
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap());
        }
        times.sort();
        times
    }

    #[tokio::test(start_paused = true)]
    async fn aws_pacing_spaces_calls_of_one_operation_below_the_quota() {
        let limiter = Arc::new(RateLimiter::new(kinesis_quota, Pacing::Aws));
        let times = burst(&limiter, "kinesis:CreateStream", 10).await;
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
    async fn aws_pacing_gives_operations_separate_budgets_and_off_means_off() {
        let limiter = RateLimiter::new(kinesis_quota, Pacing::Aws);
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
        let off = RateLimiter::new(kinesis_quota, Pacing::Off);
        let start = Instant::now();
        for _ in 0..100 {
            off.acquire("kinesis:CreateStream").await;
        }
        assert_eq!(Instant::now(), start);
    }

    #[tokio::test(start_paused = true)]
    async fn adaptive_pacing_never_waits_until_throttled() {
        let limiter = Arc::new(RateLimiter::new(kinesis_quota, Pacing::Adaptive));
        for _ in 0..5 {
            let times = burst(&limiter, "kinesis:CreateStream", 200).await;
            assert_eq!(
                times[199],
                Duration::ZERO,
                "200 calls at once, none delayed"
            );
            for _ in 0..200 {
                limiter.answered("kinesis:CreateStream", Instant::now(), false);
            }
            tokio::time::advance(Duration::from_millis(300)).await;
        }
        assert_eq!(limiter.adaptive_rate("kinesis:CreateStream"), None);
    }

    /// A server that allows `quota` calls per second (a token bucket holding one second's
    /// worth) and throttles the rest, as AWS does.
    struct Server {
        quota: f64,
        tokens: f64,
        last: Instant,
    }

    impl Server {
        fn call(&mut self, now: Instant) -> bool {
            let elapsed = (now - self.last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.quota).min(self.quota);
            self.last = now;
            if self.tokens >= 1.0 {
                self.tokens -= 1.0;
                true
            } else {
                false
            }
        }
    }

    /// `clients` loops calling one operation as fast as the limiter lets them against a
    /// server allowing `quota`/s, for `seconds`; returns (accepted, throttled) per second of
    /// the last half of the run, and the limiter.
    async fn saturate(quota: f64, clients: usize, seconds: u64) -> (f64, f64, Arc<RateLimiter>) {
        let limiter = Arc::new(RateLimiter::new(kinesis_quota, Pacing::Adaptive));
        let start = Instant::now();
        let server = Arc::new(Mutex::new(Server {
            quota,
            tokens: quota,
            last: start,
        }));
        let half = start + Duration::from_secs(seconds / 2);
        let end = start + Duration::from_secs(seconds);
        let counts = Arc::new(Mutex::new((0u32, 0u32)));
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (limiter, server, counts) = (limiter.clone(), server.clone(), counts.clone());
            tasks.push(tokio::spawn(async move {
                while Instant::now() < end {
                    limiter.acquire("kinesis:CreateStream").await;
                    let sent = Instant::now();
                    // 20 ms round trip.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let ok = server.lock().call(Instant::now());
                    limiter.answered("kinesis:CreateStream", sent, !ok);
                    if sent >= half && sent < end {
                        let mut c = counts.lock();
                        if ok { c.0 += 1 } else { c.1 += 1 }
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let (ok, throttled) = *counts.lock();
        let window = (seconds - seconds / 2) as f64;
        (
            f64::from(ok) / window,
            f64::from(throttled) / window,
            limiter,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn adaptive_pacing_settles_near_the_quota_with_little_throttling() {
        for (quota, clients) in [(5.0, 16), (20.0, 16), (50.0, 64)] {
            let (ok, throttled, _) = saturate(quota, clients, 120).await;
            assert!(
                ok >= quota * 0.85 && ok <= quota * 1.01 + 5.0 / 60.0,
                "quota {quota}/s with {clients} callers: {ok:.1}/s accepted"
            );
            assert!(
                throttled <= ok * 0.15,
                "quota {quota}/s with {clients} callers: {throttled:.1}/s throttled against \
                 {ok:.1}/s accepted"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn random_throttling_slows_adaptive_pacing_to_a_fifth_of_the_quota_at_most() {
        let limiter = RateLimiter::new(kinesis_quota, Pacing::Adaptive);
        for i in 0..300 {
            limiter.acquire("kinesis:CreateStream").await;
            let sent = Instant::now();
            tokio::time::advance(Duration::from_millis(20)).await;
            limiter.answered("kinesis:CreateStream", sent, i % 3 == 0);
        }
        let rate = limiter.adaptive_rate("kinesis:CreateStream").unwrap();
        assert!(rate >= 1.0, "5/s quota: paced at {rate}/s");
    }

    #[tokio::test(start_paused = true)]
    async fn adaptive_pacing_lifts_after_a_calm_minute() {
        let (_, _, limiter) = saturate(5.0, 8, 20).await;
        assert!(limiter.adaptive_rate("kinesis:CreateStream").is_some());
        tokio::time::advance(CALM).await;
        let times = burst(&limiter, "kinesis:CreateStream", 50).await;
        assert_eq!(times[49], Duration::ZERO, "no pacing after a calm minute");
        assert_eq!(limiter.adaptive_rate("kinesis:CreateStream"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn adaptive_pacing_is_per_operation() {
        let (_, _, limiter) = saturate(5.0, 8, 20).await;
        assert!(limiter.adaptive_rate("kinesis:CreateStream").is_some());
        let times = burst(&limiter, "kinesis:DescribeStreamSummary", 50).await;
        assert_eq!(times[49], Duration::ZERO, "another operation is not slowed");
    }
}
