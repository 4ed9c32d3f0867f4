//! AWS's per-shard throughput limits, accounted in one-second windows, and the other numeric
//! limits of Kinesis Data Streams.

/// Writes per shard per second: 1 MiB of data (partition keys count) ...
pub const SHARD_WRITE_BYTES_PER_SEC: u64 = 1 << 20;
/// ... and 1,000 records.
pub const SHARD_WRITE_RECORDS_PER_SEC: u64 = 1000;
/// GetRecords calls per shard per second.
pub const SHARD_READ_CALLS_PER_SEC: u64 = 5;
/// Records PutRecords takes in one call.
pub const PUT_RECORDS_MAX: usize = 500;
/// Total size PutRecords takes in one call (data plus partition keys): 10 MiB.
pub const PUT_RECORDS_MAX_BYTES: usize = 10 << 20;
/// Records GetRecords returns at most.
pub const GET_RECORDS_MAX: usize = 10_000;
/// Bytes GetRecords returns at most: 10 MiB.
pub const GET_RECORDS_MAX_BYTES: usize = 10 << 20;
/// Shard iterators expire after 5 minutes.
pub const ITERATOR_TTL_MS: i64 = 5 * 60 * 1000;
/// Streams that may be CREATING at once in an account and region.
pub const MAX_CREATING_STREAMS: usize = 5;
/// UpdateShardCount calls per stream per rolling 24 hours.
pub const SHARD_COUNT_UPDATES_PER_DAY: usize = 10;
/// Capacity mode switches per stream per rolling 24 hours.
pub const MODE_SWITCHES_PER_DAY: usize = 2;
/// Default shard quota reported by DescribeLimits.
pub const SHARD_LIMIT: i64 = 500;
/// On-demand stream quota reported by DescribeLimits.
pub const ON_DEMAND_STREAM_LIMIT: i64 = 50;
/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Usage of a shard within the current one-second window.
#[derive(Debug, Default, Clone)]
pub struct Throughput {
    second: i64,
    units: u64,
    bytes: u64,
}

impl Throughput {
    /// Accounts one operation of `units` (records or calls) and `bytes` at `now_ms` if it stays
    /// within `max_units` and `max_bytes` per second; returns false (and accounts nothing) when
    /// it would exceed them.
    pub fn try_take(
        &mut self,
        now_ms: i64,
        units: u64,
        bytes: u64,
        max_units: u64,
        max_bytes: u64,
    ) -> bool {
        let second = now_ms.div_euclid(1000);
        if second != self.second {
            self.second = second;
            self.units = 0;
            self.bytes = 0;
        }
        if self.units + units > max_units || self.bytes + bytes > max_bytes {
            return false;
        }
        self.units += units;
        self.bytes += bytes;
        true
    }
}

/// Drops entries older than 24 hours from a rolling window of event times and returns how many
/// remain.
pub fn rolling_day(events: &mut std::collections::VecDeque<i64>, now_ms: i64) -> usize {
    while events.front().is_some_and(|t| *t <= now_ms - DAY_MS) {
        events.pop_front();
    }
    events.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_window_resets_each_second() {
        let mut t = Throughput::default();
        assert!(t.try_take(1_000, 999, 10, 1000, 1 << 20));
        assert!(t.try_take(1_500, 1, 10, 1000, 1 << 20));
        assert!(
            !t.try_take(1_999, 1, 10, 1000, 1 << 20),
            "1001st record in one second"
        );
        assert!(t.try_take(2_000, 1000, 10, 1000, 1 << 20), "next second");
        assert!(!t.try_take(2_001, 1, 1 << 20, 1000, 1 << 20), "bytes limit");
    }

    #[test]
    fn rolling_day_forgets_old_events() {
        let mut events: std::collections::VecDeque<i64> = [0, 10, DAY_MS].into();
        assert_eq!(rolling_day(&mut events, DAY_MS), 2);
        assert_eq!(rolling_day(&mut events, DAY_MS + 11), 1);
    }
}
