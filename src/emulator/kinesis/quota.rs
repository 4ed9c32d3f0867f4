//! AWS's control-plane call rates (the "API limits" of the Kinesis Data Streams quotas page),
//! enforced per account and region, so that code tested against the emulator meets the same
//! `LimitExceededException`s it would meet on AWS. `--relax-limits` turns them off.
//!
//! Each operation has a token bucket holding one second's worth of calls (AWS answers a burst
//! above the per-second rate at once), refilled continuously from the emulator's
//! [`Clock`](crate::emulator::clock::Clock), so tests can advance time instead of sleeping. The buckets
//! live in the caller's [`Region`](super::Region) behind a lock of their own that is held for a
//! few arithmetic operations: data-plane calls (PutRecord(s), GetRecords, GetShardIterator,
//! SubscribeToShard) never touch them.
//!
//! The operator paces itself at 90 % of the same numbers (`src/aws/rate_limit.rs`); the numbers
//! are written in both places rather than shared, since the emulator does not depend on the
//! operator's code. Keep the two in step.

use std::collections::HashMap;

use parking_lot::Mutex;

/// The rate of one operation: calls per second per account and region, or per stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Calls per second.
    pub per_second: u32,
    /// Counted per stream rather than per account (ListShards).
    pub per_stream: bool,
}

/// AWS's rates, calls per second per account and region (ListShards: per stream), from the
/// "API limits" table of the Kinesis Data Streams quotas page, sorted by operation name.
/// Operations absent here (the data plane: PutRecord(s), GetRecords, GetShardIterator,
/// SubscribeToShard) are not counted.
pub const RATES: [(&str, Rate); 35] = [
    ("AddTagsToStream", per_account(5)),
    ("CreateStream", per_account(5)),
    ("DecreaseStreamRetentionPeriod", per_account(5)),
    ("DeleteResourcePolicy", per_account(5)),
    ("DeleteStream", per_account(5)),
    ("DeregisterStreamConsumer", per_account(5)),
    ("DescribeAccountSettings", per_account(5)),
    ("DescribeLimits", per_account(1)),
    ("DescribeStream", per_account(10)),
    ("DescribeStreamConsumer", per_account(20)),
    ("DescribeStreamSummary", per_account(20)),
    ("DisableEnhancedMonitoring", per_account(5)),
    ("EnableEnhancedMonitoring", per_account(5)),
    ("GetResourcePolicy", per_account(5)),
    ("IncreaseStreamRetentionPeriod", per_account(5)),
    (
        "ListShards",
        Rate {
            per_second: 1000,
            per_stream: true,
        },
    ),
    ("ListStreamConsumers", per_account(5)),
    ("ListStreams", per_account(5)),
    ("ListTagsForResource", per_account(5)),
    ("ListTagsForStream", per_account(5)),
    ("MergeShards", per_account(5)),
    ("PutResourcePolicy", per_account(5)),
    ("RegisterStreamConsumer", per_account(5)),
    ("RemoveTagsFromStream", per_account(5)),
    ("SplitShard", per_account(5)),
    ("StartStreamEncryption", per_account(5)),
    ("StopStreamEncryption", per_account(5)),
    ("TagResource", per_account(5)),
    ("UntagResource", per_account(5)),
    ("UpdateAccountSettings", per_account(5)),
    ("UpdateMaxRecordSize", per_account(5)),
    ("UpdateShardCount", per_account(5)),
    ("UpdateStreamMode", per_account(5)),
    ("UpdateStreamRecordDistributionStrategy", per_account(5)),
    ("UpdateStreamWarmThroughput", per_account(5)),
];

const fn per_account(per_second: u32) -> Rate {
    Rate {
        per_second,
        per_stream: false,
    }
}

/// The rate of `operation` and its name as a static string, or `None` when it is not counted.
/// A binary search of [`RATES`] (sorted by name): a few comparisons, also for the data-plane
/// calls that are not in it.
pub fn rate(operation: &str) -> Option<(&'static str, Rate)> {
    RATES
        .binary_search_by(|(name, _)| (*name).cmp(operation))
        .ok()
        .map(|i| RATES[i])
}

/// A token bucket in thousandths of a call, so that refills stay in integers.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    millis: u64,
    updated_ms: i64,
}

impl Bucket {
    /// A full bucket at `now_ms`.
    fn full(per_second: u32, now_ms: i64) -> Self {
        Bucket {
            millis: u64::from(per_second) * 1000,
            updated_ms: now_ms,
        }
    }

    /// Adds what `per_second` refills since the last update, up to one second's worth.
    fn refill(&mut self, per_second: u32, now_ms: i64) {
        let capacity = u64::from(per_second) * 1000;
        let elapsed = now_ms.saturating_sub(self.updated_ms).max(0) as u64;
        self.millis = capacity.min(
            self.millis
                .saturating_add(elapsed.saturating_mul(u64::from(per_second))),
        );
        self.updated_ms = self.updated_ms.max(now_ms);
    }

    /// Refills, then takes one call if there is one.
    fn try_take(&mut self, per_second: u32, now_ms: i64) -> bool {
        self.refill(per_second, now_ms);
        if self.millis < 1000 {
            return false;
        }
        self.millis -= 1000;
        true
    }

    /// Whether the bucket would be full at `now_ms` (no call within the last second).
    fn is_full(mut self, per_second: u32, now_ms: i64) -> bool {
        self.refill(per_second, now_ms);
        self.millis >= u64::from(per_second) * 1000
    }
}

/// Buckets kept before the idle (full) ones are dropped: per-stream buckets of deleted streams
/// must not accumulate.
const PRUNE_ABOVE: usize = 1024;

/// A bucket's key: the operation, and the stream for operations counted per stream.
type Key = (&'static str, Option<String>);

/// The buckets of one account and region.
#[derive(Default)]
pub struct Quotas {
    buckets: Mutex<HashMap<Key, (Rate, Bucket)>>,
}

impl Quotas {
    /// Takes one call of `operation` at `now_ms`, from `stream`'s bucket when the operation is
    /// counted per stream; false when AWS's rate is exceeded. Operations not in [`RATES`] are
    /// always allowed and cost nothing.
    pub fn try_take(&self, operation: &str, stream: Option<&str>, now_ms: i64) -> bool {
        let Some((name, limit)) = rate(operation) else {
            return true;
        };
        let stream = if limit.per_stream {
            stream.map(str::to_owned)
        } else {
            None
        };
        let mut buckets = self.buckets.lock();
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, (r, b)| !b.is_full(r.per_second, now_ms));
        }
        let (_, bucket) = buckets
            .entry((name, stream))
            .or_insert_with(|| (limit, Bucket::full(limit.per_second, now_ms)));
        bucket.try_take(limit.per_second, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::clock::Clock;
    use std::time::Duration;

    #[test]
    fn a_burst_above_the_rate_is_refused_and_time_refills_it() {
        let clock = Clock::default();
        clock.freeze();
        let quotas = Quotas::default();
        let taken: Vec<bool> = (0..6)
            .map(|_| quotas.try_take("CreateStream", Some("s"), clock.now_ms()))
            .collect();
        assert_eq!(taken, [true, true, true, true, true, false]);
        clock.advance(Duration::from_millis(199));
        assert!(!quotas.try_take("CreateStream", None, clock.now_ms()));
        clock.advance(Duration::from_millis(1));
        assert!(
            quotas.try_take("CreateStream", None, clock.now_ms()),
            "one call per 200 ms"
        );
        assert!(!quotas.try_take("CreateStream", None, clock.now_ms()));
        clock.advance(Duration::from_secs(60));
        for i in 0..5 {
            assert!(
                quotas.try_take("CreateStream", None, clock.now_ms()),
                "call {i}"
            );
        }
        assert!(
            !quotas.try_take("CreateStream", None, clock.now_ms()),
            "the bucket holds one second's worth, however long it idled"
        );
    }

    #[test]
    fn the_table_is_sorted_for_binary_search() {
        assert!(RATES.windows(2).all(|w| w[0].0 < w[1].0));
        for (name, _) in RATES {
            assert_eq!(rate(name).map(|(n, _)| n), Some(name));
        }
    }

    #[test]
    fn rates_follow_aws_table() {
        let cases = [
            ("CreateStream", 5),
            ("DescribeStream", 10),
            ("DescribeStreamSummary", 20),
            ("DescribeStreamConsumer", 20),
            ("DescribeLimits", 1),
            ("ListTagsForStream", 5),
            ("ListShards", 1000),
        ];
        for (operation, per_second) in cases {
            let clock = Clock::default();
            clock.freeze();
            let quotas = Quotas::default();
            for i in 0..per_second {
                assert!(
                    quotas.try_take(operation, Some("s"), clock.now_ms()),
                    "{operation} call {i}"
                );
            }
            assert!(
                !quotas.try_take(operation, Some("s"), clock.now_ms()),
                "{operation}: call {} in one second",
                per_second + 1
            );
        }
    }

    #[test]
    fn operations_and_per_stream_rates_have_their_own_buckets() {
        let clock = Clock::default();
        clock.freeze();
        let now = clock.now_ms();
        let quotas = Quotas::default();
        for _ in 0..5 {
            assert!(quotas.try_take("CreateStream", Some("a"), now));
        }
        assert!(
            !quotas.try_take("CreateStream", Some("b"), now),
            "per account"
        );
        assert!(quotas.try_take("DeleteStream", Some("a"), now));
        for _ in 0..1000 {
            assert!(quotas.try_take("ListShards", Some("a"), now));
        }
        assert!(!quotas.try_take("ListShards", Some("a"), now));
        assert!(quotas.try_take("ListShards", Some("b"), now), "per stream");
    }

    #[test]
    fn data_plane_is_never_counted() {
        let quotas = Quotas::default();
        for op in ["PutRecord", "PutRecords", "GetRecords", "GetShardIterator"] {
            assert!(rate(op).is_none(), "{op}");
            for _ in 0..10_000 {
                assert!(quotas.try_take(op, Some("s"), 0));
            }
        }
        assert!(quotas.buckets.lock().is_empty());
    }

    #[test]
    fn idle_buckets_are_pruned() {
        let quotas = Quotas::default();
        for i in 0..=PRUNE_ABOVE + 1 {
            assert!(quotas.try_take("ListShards", Some(&format!("s{i}")), 0));
        }
        assert!(quotas.try_take("ListShards", Some("late"), 10_000));
        assert!(quotas.buckets.lock().len() <= 2);
    }
}
