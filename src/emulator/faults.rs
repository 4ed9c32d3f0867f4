//! Fault injection for resilience tests: `--fault OP:KIND:RATE` makes a fraction of the calls to
//! an operation (or `*` for all) fail with throttling or a server error, or arrive late.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::error::AwsError;

/// What an injected fault does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultKind {
    /// Answer with a throttling error (`LimitExceededException`, which the AWS SDKs retry).
    Throttle,
    /// Answer with HTTP 500 `InternalFailure`.
    ServerError,
    /// Answer with HTTP 503 `ServiceUnavailable`.
    Unavailable,
    /// Delay the answer.
    Latency(Duration),
}

/// One `--fault` rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// Operation name, or `*` for every operation.
    pub operation: String,
    /// What happens.
    pub kind: FaultKind,
    /// Fraction of matching calls affected, 0.0..=1.0.
    pub rate: f64,
}

impl FromStr for Fault {
    type Err = String;

    /// `OP:KIND:RATE` with KIND one of `throttle`, `5xx` (or `500`), `503`, `latency=<ms>`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split(':');
        let (Some(op), Some(kind), Some(rate), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "--fault {s:?}: expected OP:KIND:RATE, e.g. PutRecords:throttle:0.3"
            ));
        };
        if op.is_empty() {
            return Err(format!(
                "--fault {s:?}: the operation is empty; use * for every operation"
            ));
        }
        let kind = match kind {
            "throttle" => FaultKind::Throttle,
            "5xx" | "500" => FaultKind::ServerError,
            "503" => FaultKind::Unavailable,
            other => match other.strip_prefix("latency=").map(str::parse::<u64>) {
                Some(Ok(ms)) => FaultKind::Latency(Duration::from_millis(ms)),
                _ => {
                    return Err(format!(
                        "--fault {s:?}: unknown kind {other:?}; use throttle, 5xx, 503 or latency=<ms>"
                    ));
                }
            },
        };
        let rate: f64 = rate
            .parse()
            .ok()
            .filter(|r: &f64| (0.0..=1.0).contains(r))
            .ok_or_else(|| format!("--fault {s:?}: the rate must be a number from 0 to 1"))?;
        Ok(Fault {
            operation: op.to_owned(),
            kind,
            rate,
        })
    }
}

/// The configured faults and the random source deciding which calls they hit.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<Fault>,
    rng: AtomicU64,
}

/// What to do to one call.
#[derive(Debug, Default, PartialEq)]
pub struct Decision {
    /// Delay before answering.
    pub delay: Option<Duration>,
    /// Error to answer instead of running the operation.
    pub error: Option<AwsError>,
}

impl Faults {
    /// Faults from rules.
    pub fn new(rules: Vec<Fault>) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64)
            | 1;
        Faults {
            rules,
            rng: AtomicU64::new(seed),
        }
    }

    /// True when no fault is configured.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Decides the faults for one call of `operation`.
    pub fn decide(&self, operation: &str) -> Decision {
        let mut decision = Decision::default();
        for rule in &self.rules {
            if (rule.operation != "*" && rule.operation != operation) || self.uniform() >= rule.rate
            {
                continue;
            }
            match rule.kind {
                FaultKind::Latency(d) => {
                    decision.delay = Some(decision.delay.unwrap_or_default() + d)
                }
                FaultKind::Throttle if decision.error.is_none() => {
                    decision.error = Some(AwsError::limit_exceeded(format!(
                        "Rate exceeded for {operation} (fault injected by the emulator)."
                    )));
                }
                FaultKind::ServerError if decision.error.is_none() => {
                    decision.error = Some(AwsError::internal(format!(
                        "Internal failure in {operation} (fault injected by the emulator)."
                    )));
                }
                FaultKind::Unavailable if decision.error.is_none() => {
                    decision.error = Some(AwsError {
                        code: "ServiceUnavailable",
                        message: format!(
                            "{operation} is unavailable (fault injected by the emulator)."
                        ),
                        status: 503,
                    });
                }
                _ => {}
            }
        }
        decision
    }

    /// A uniform number in [0, 1) from a shared xorshift generator.
    fn uniform(&self) -> f64 {
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules() {
        assert_eq!(
            "PutRecords:throttle:0.3".parse::<Fault>().unwrap(),
            Fault {
                operation: "PutRecords".into(),
                kind: FaultKind::Throttle,
                rate: 0.3
            }
        );
        assert_eq!(
            "*:latency=25:1".parse::<Fault>().unwrap().kind,
            FaultKind::Latency(Duration::from_millis(25))
        );
        for bad in [
            "x",
            "A:throttle",
            "A:boom:0.1",
            "A:5xx:2",
            ":5xx:0.1",
            "A:5xx:0.1:extra",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_are_honoured() {
        let faults = Faults::new(vec![
            "*:5xx:0.1".parse().unwrap(),
            "PutRecord:throttle:1".parse().unwrap(),
        ]);
        let hits = (0..10_000)
            .filter(|_| faults.decide("DescribeStream").error.is_some())
            .count();
        assert!((700..1300).contains(&hits), "about 10% of calls: {hits}");
        assert!(faults.decide("PutRecord").error.is_some());
        assert_eq!(Faults::new(vec![]).decide("PutRecord"), Decision::default());
    }
}
