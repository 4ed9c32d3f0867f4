//! How every facade makes a call: wait for the operation's pace, send, count the outcome in the
//! metrics, classify a failure and retry what is worth retrying. One place, so that Kinesis,
//! Firehose and IAM calls are paced, counted, classified and retried alike.
//!
//! The retries are here rather than in the SDK (whose own retries are turned off in
//! [`crate::controller::context`]) so that the pacing sees every attempt: adaptive pacing
//! learns from each throttled answer, including those the SDK would have retried out of sight.
//! The policy is the AWS SDKs' standard one: up to three attempts of a throttled call, a server
//! error or a failed connection, with exponential backoff and full jitter; any other error is
//! the caller's to handle.

use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::errors::{AwsCallError, ErrorClass, classify};
use super::rate_limit::RateLimiter;

/// Counts AWS calls by operation (`service:Operation`) and outcome (`ok` or an error class):
/// what the facades need of the metrics, so that they do not depend on the controller.
pub trait CallCounter: Send + Sync {
    /// One call of `operation` ended with `outcome`.
    fn aws_call(&self, operation: &str, outcome: &str);
}

/// Paces, counts and classifies the calls of one service in one region.
#[derive(Clone)]
pub struct Caller {
    metrics: Arc<dyn CallCounter>,
    limiter: Arc<RateLimiter>,
}

impl Caller {
    /// Calls paced by `limiter` and counted in `metrics`.
    pub fn new(metrics: Arc<dyn CallCounter>, limiter: Arc<RateLimiter>) -> Self {
        Caller { metrics, limiter }
    }

    /// Makes a call of `operation` (`service:Operation`): waits for its pace, sends it,
    /// counts and classifies the outcome, and retries a throttled or failed attempt (see the
    /// module docs). `send` builds and sends one attempt.
    pub async fn call<T, E, Fut>(
        &self,
        operation: &'static str,
        send: impl Fn() -> Fut,
    ) -> Result<T, AwsCallError>
    where
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut attempt = 1;
        loop {
            self.limiter.acquire(operation).await;
            let sent = tokio::time::Instant::now();
            let (e, retry) = match send().await {
                Ok(out) => {
                    self.limiter.answered(operation, sent, false);
                    self.metrics.aws_call(operation, "ok");
                    return Ok(out);
                }
                Err(e) => error(operation, e),
            };
            let throttled = e.class == ErrorClass::Throttled;
            self.limiter.answered(operation, sent, throttled);
            self.metrics.aws_call(operation, e.class.as_str());
            if !retry || attempt >= MAX_ATTEMPTS {
                return Err(e);
            }
            tokio::time::sleep(backoff(operation, attempt, throttled)).await;
            attempt += 1;
        }
    }

    /// A call whose NotFound answer means "already as wanted" (`None`).
    pub async fn call_unless_gone<T, E, Fut>(
        &self,
        operation: &'static str,
        send: impl Fn() -> Fut,
    ) -> Result<Option<T>, AwsCallError>
    where
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match self.call(operation, send).await {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.class == ErrorClass::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Attempts of one call, the first included (the AWS SDKs' standard retry mode).
const MAX_ATTEMPTS: u32 = 3;
/// Base of the exponential backoff after a failed attempt, and after a throttled one.
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const THROTTLED_BACKOFF_BASE: Duration = Duration::from_millis(500);
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// The wait after failed attempt number `attempt`: full jitter, a random share of a ceiling
/// that doubles with every attempt, so that calls that failed together spread out.
fn backoff(operation: &str, attempt: u32, throttled: bool) -> Duration {
    let base = if throttled {
        THROTTLED_BACKOFF_BASE
    } else {
        BACKOFF_BASE
    };
    let ceiling = base.saturating_mul(1 << attempt.min(16)).min(MAX_BACKOFF);
    let random = std::collections::hash_map::RandomState::new().hash_one((operation, attempt));
    ceiling.mul_f64((random % 1_000_000) as f64 / 1_000_000.0)
}

/// Maps an SDK error to an [`AwsCallError`] (AWS's code and message verbatim when AWS
/// answered, the transport failure in words otherwise), and whether another attempt is worth
/// making: throttled, a server error (5xx), or no answer at all.
fn error<E>(operation: &'static str, e: SdkError<E, HttpResponse>) -> (AwsCallError, bool)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code = err.code().unwrap_or("Unknown").to_owned();
            let message = err.message().unwrap_or_default().to_owned();
            let status = service.raw().status().as_u16();
            let class = classify(&code, Some(status), &message);
            let retry = class == ErrorClass::Throttled || status >= 500;
            let e = AwsCallError {
                operation,
                class,
                code,
                message,
            };
            (e, retry)
        }
        SdkError::ResponseError(_) => {
            let e = AwsCallError {
                operation,
                code: String::new(),
                message: format!("{e}"),
                class: ErrorClass::Transient,
            };
            (e, true)
        }
        _ => {
            // A request that could not even be built fails the same way again.
            let retry = !matches!(e, SdkError::ConstructionFailure(_));
            let e = AwsCallError {
                operation,
                code: String::new(),
                message: format!(
                    "{}",
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                ),
                class: ErrorClass::Transient,
            };
            (e, retry)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_attempts_and_stays_below_its_ceiling() {
        for attempt in 1..=12 {
            for throttled in [false, true] {
                let base = if throttled { 500 } else { 100 };
                let ceiling = Duration::from_millis(base << attempt).min(MAX_BACKOFF);
                let waits: Vec<Duration> = (0..50)
                    .map(|_| backoff("kinesis:CreateStream", attempt, throttled))
                    .collect();
                assert!(waits.iter().all(|w| *w <= ceiling), "attempt {attempt}");
                let distinct: std::collections::HashSet<_> = waits.iter().collect();
                assert!(distinct.len() > 40, "waits are spread: {distinct:?}");
            }
        }
    }
}
