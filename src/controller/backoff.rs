//! Per-object exponential backoff with jitter: an object whose AWS calls keep failing waits
//! longer each time (1 s, 2 s, 4 s, ... up to 5 minutes), independently of every other object,
//! and the delays are spread so that objects that failed together do not retry together.
//! A success resets the object's count.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::time::Duration;

use parking_lot::Mutex;

use crate::aws::ErrorClass;

/// Longest wait between retries.
pub const MAX_DELAY: Duration = Duration::from_secs(300);

/// Consecutive failures per object.
#[derive(Default)]
pub struct Backoff {
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    /// Records a failure of object `key` and returns how long to wait before retrying.
    pub fn failed(&self, key: &str, class: ErrorClass) -> Duration {
        let n = {
            let mut failures = self.failures.lock();
            let n = failures.entry(key.to_owned()).or_default();
            *n = n.saturating_add(1);
            *n
        };
        let ceiling = delay(n, class);
        // Equal jitter: half the delay fixed, the other half random, so that the wait still
        // grows with every failure while objects that failed together spread out.
        let half = ceiling / 2;
        let random = std::collections::hash_map::RandomState::new().hash_one((key, n));
        half + Duration::from_millis(random % (half.as_millis() as u64).max(1))
    }

    /// Forgets the failures of object `key` (it succeeded, or it is gone).
    pub fn succeeded(&self, key: &str) {
        self.failures.lock().remove(key);
    }
}

/// The ceiling of the `n`th consecutive failure's delay: throttling starts at 2 s (AWS asked
/// us to slow down), other failures at 1 s; each failure doubles it, up to [`MAX_DELAY`].
fn delay(n: u32, class: ErrorClass) -> Duration {
    let base = match class {
        ErrorClass::Throttled => Duration::from_secs(2),
        _ => Duration::from_secs(1),
    };
    base.saturating_mul(1 << n.saturating_sub(1).min(16))
        .min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_per_failure_up_to_the_cap() {
        let cases = [
            (1, ErrorClass::Transient, 1),
            (2, ErrorClass::Transient, 2),
            (3, ErrorClass::Transient, 4),
            (1, ErrorClass::Throttled, 2),
            (4, ErrorClass::Throttled, 16),
            (9, ErrorClass::Transient, 256),
            (10, ErrorClass::Transient, 300),
            (40, ErrorClass::Throttled, 300),
        ];
        for (n, class, secs) in cases {
            assert_eq!(delay(n, class), Duration::from_secs(secs), "{n} {class:?}");
        }
    }

    #[test]
    fn objects_back_off_independently_and_reset_on_success() {
        let backoff = Backoff::default();
        for n in 1..=5u32 {
            let d = backoff.failed("a", ErrorClass::Transient);
            let ceiling = Duration::from_secs(1 << (n - 1));
            assert!(d >= ceiling / 2 && d < ceiling.max(Duration::from_millis(1)) + ceiling / 2);
        }
        let b = backoff.failed("b", ErrorClass::Transient);
        assert!(b < Duration::from_secs(1), "b's first failure: {b:?}");
        backoff.succeeded("a");
        assert!(backoff.failed("a", ErrorClass::Transient) < Duration::from_secs(1));
    }

    #[test]
    fn jitter_spreads_objects_that_failed_together() {
        let backoff = Backoff::default();
        let delays: std::collections::BTreeSet<_> = (0..50)
            .map(|i| {
                for _ in 0..3 {
                    backoff.failed(&format!("o{i}"), ErrorClass::Throttled);
                }
                backoff.failed(&format!("o{i}"), ErrorClass::Throttled)
            })
            .collect();
        assert!(delays.len() > 25, "only {} distinct delays", delays.len());
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_secs(8) && *d < Duration::from_secs(16))
        );
    }
}
