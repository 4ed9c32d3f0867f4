//! How every facade makes a call: wait for the operation's rate limit, send, count the outcome
//! in the metrics and classify a failure. One place, so that Kinesis, Firehose and IAM calls are
//! paced, counted and classified alike.

use std::sync::Arc;

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

    /// Makes one call of `operation` (`service:Operation`): waits for its rate limit, sends
    /// it, and counts and classifies the outcome.
    pub async fn call<T, E, Fut>(
        &self,
        operation: &'static str,
        send: impl FnOnce() -> Fut,
    ) -> Result<T, AwsCallError>
    where
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.limiter.acquire(operation).await;
        match send().await {
            Ok(out) => {
                self.metrics.aws_call(operation, "ok");
                Ok(out)
            }
            Err(e) => {
                let e = error(operation, e);
                self.metrics.aws_call(operation, e.class.as_str());
                Err(e)
            }
        }
    }

    /// A call whose NotFound answer means "already as wanted" (`None`).
    pub async fn call_unless_gone<T, E, Fut>(
        &self,
        operation: &'static str,
        send: impl FnOnce() -> Fut,
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

/// Maps an SDK error to an [`AwsCallError`]: AWS's code and message verbatim when AWS
/// answered, the transport failure in words otherwise.
fn error<E>(operation: &'static str, e: SdkError<E, HttpResponse>) -> AwsCallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code = err.code().unwrap_or("Unknown").to_owned();
            let message = err.message().unwrap_or_default().to_owned();
            AwsCallError {
                operation,
                class: classify(&code, Some(service.raw().status().as_u16()), &message),
                code,
                message,
            }
        }
        SdkError::ResponseError(_) => AwsCallError {
            operation,
            code: String::new(),
            message: format!("{e}"),
            class: ErrorClass::Transient,
        },
        _ => AwsCallError {
            operation,
            code: String::new(),
            message: format!(
                "{}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ),
            class: ErrorClass::Transient,
        },
    }
}
