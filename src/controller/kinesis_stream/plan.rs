//! Re-shard planning (pure): AWS lets one UpdateShardCount at most double or halve the open
//! shards, so a larger change goes through intermediate counts, each a separate call that
//! waits for the stream to be ACTIVE again, at most 10 calls per rolling 24 hours.

use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// AWS's limit of shards in one stream for UpdateShardCount.
pub const MAX_SHARDS: i32 = 10_000;

/// UpdateShardCount calls AWS allows per stream per rolling 24 hours.
pub const DAILY_UPDATES: usize = 10;

/// The window of AWS's UpdateShardCount budget.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// The UpdateShardCount calls of `updates` that still count against the budget at `now`.
pub fn in_window(updates: &[Timestamp], now: Timestamp) -> Vec<Timestamp> {
    let mut recent: Vec<Timestamp> = updates
        .iter()
        .copied()
        .filter(|t| now.duration_since(*t) < WINDOW)
        .collect();
    recent.sort();
    recent
}

/// When the next UpdateShardCount fits AWS's budget: `None` when it does now, else the time
/// the oldest call in the window leaves it.
pub fn next_update_after(updates: &[Timestamp], now: Timestamp) -> Option<Timestamp> {
    let recent = in_window(updates, now);
    (recent.len() >= DAILY_UPDATES).then(|| {
        recent[recent.len() - DAILY_UPDATES]
            .checked_add(WINDOW)
            .unwrap_or(now)
    })
}

/// The shard counts to pass through, in order, to go from `current` open shards to `target`:
/// each step at most doubles or halves the previous count, and the last step is `target`.
/// Empty when nothing changes.
pub fn route(current: i32, target: i32) -> Vec<i32> {
    let mut steps = Vec::new();
    let mut at = current.max(1);
    let target = target.clamp(1, MAX_SHARDS);
    while at != target {
        at = if target > at {
            target.min(at.saturating_mul(2))
        } else {
            // At least half, rounded up: AWS refuses a target below half the open shards.
            target.max((at + 1) / 2)
        };
        steps.push(at);
    }
    steps
}

/// A route in words, from the `from` open shards through `steps`: `2 -> 4 -> 5`.
pub fn route_words(from: i32, steps: &[i32]) -> String {
    std::iter::once(from)
        .chain(steps.iter().copied())
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_read_as_arrows_from_the_open_shards() {
        let cases: &[(i32, &[i32], &str)] = &[
            (2, &[4, 5], "2 -> 4 -> 5"),
            (10, &[5, 3, 2], "10 -> 5 -> 3 -> 2"),
            (2, &[], "2"),
        ];
        for (from, steps, words) in cases {
            assert_eq!(route_words(*from, steps), *words);
        }
    }

    #[test]
    fn routes_double_or_halve_each_step() {
        let cases: &[(i32, i32, &[i32])] = &[
            (2, 2, &[]),
            (2, 4, &[4]),
            (2, 10, &[4, 8, 10]),
            (1, 100, &[2, 4, 8, 16, 32, 64, 100]),
            (10, 2, &[5, 3, 2]),
            (3, 5, &[5]),
            (5, 3, &[3]),
            (7, 1, &[4, 2, 1]),
            (9999, 10_000, &[10_000]),
        ];
        for (from, to, expected) in cases {
            assert_eq!(route(*from, *to), *expected, "{from} -> {to}");
        }
    }

    #[test]
    fn budget_allows_ten_updates_per_rolling_day() {
        let now: Timestamp = "2026-11-26T12:00:00Z".parse().unwrap();
        let hours_ago = |h: i64| now.checked_sub(SignedDuration::from_hours(h)).unwrap();
        let nine: Vec<_> = (1..=9).map(hours_ago).collect();
        assert_eq!(next_update_after(&nine, now), None);
        let mut ten = nine.clone();
        ten.push(hours_ago(10));
        assert_eq!(
            next_update_after(&ten, now),
            Some("2026-11-27T02:00:00Z".parse().unwrap()),
            "the oldest (10 h ago) leaves the window in 14 h"
        );
        let mut old = nine;
        old.push(hours_ago(25));
        assert_eq!(
            next_update_after(&old, now),
            None,
            "25 h ago no longer counts"
        );
        assert_eq!(in_window(&old, now).len(), 9);
    }

    #[test]
    fn every_step_obeys_aws_rules() {
        for from in 1..=64 {
            for to in 1..=64 {
                let mut at = from;
                for step in route(from, to) {
                    assert!(
                        step <= at * 2 && step * 2 >= at,
                        "{from}->{to}: {at} -> {step}"
                    );
                    at = step;
                }
                assert_eq!(at, to);
            }
        }
    }
}
