//! Re-shard planning (pure): AWS lets one UpdateShardCount at most double or halve the open
//! shards, so a larger change goes through intermediate counts, each a separate call that
//! waits for the stream to be ACTIVE again, at most 10 calls per rolling 24 hours.

/// AWS's limit of shards in one stream for UpdateShardCount.
pub const MAX_SHARDS: i32 = 10_000;

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

#[cfg(test)]
mod tests {
    use super::*;

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
