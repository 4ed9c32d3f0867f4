//! Time as the emulator sees it: the system clock plus an offset that tests can advance, so
//! that 5-minute iterator expiry, retention and rolling 24-hour limits are testable without
//! waiting.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The emulator's clock.
#[derive(Debug)]
pub struct Clock {
    offset_ms: AtomicI64,
    /// A fixed time when frozen, `i64::MIN` when running.
    frozen_ms: AtomicI64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            offset_ms: AtomicI64::new(0),
            frozen_ms: AtomicI64::new(i64::MIN),
        }
    }
}

impl Clock {
    /// Now, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        let frozen = self.frozen_ms.load(Ordering::Relaxed);
        if frozen != i64::MIN {
            return frozen;
        }
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64;
        system + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = by.as_millis() as i64;
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
        let _ = self
            .frozen_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |f| {
                (f != i64::MIN).then_some(f + ms)
            });
    }

    /// Stops the clock at the current time (tests of per-second limits), until
    /// [`Clock::resume`].
    pub fn freeze(&self) {
        let now = self.now_ms();
        self.frozen_ms.store(now, Ordering::Relaxed);
    }

    /// Lets a frozen clock run again from where it was.
    pub fn resume(&self) {
        let frozen = self.frozen_ms.swap(i64::MIN, Ordering::Relaxed);
        if frozen != i64::MIN {
            let system = self.now_ms();
            self.offset_ms.fetch_add(frozen - system, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_stands_still_but_advances_on_request() {
        let clock = Clock::default();
        clock.freeze();
        let t = clock.now_ms();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now_ms(), t);
        clock.advance(Duration::from_secs(1));
        assert_eq!(clock.now_ms(), t + 1000);
        clock.resume();
        assert!(clock.now_ms() >= t + 1000);
    }
}
