//! The operator's reconcilers, one per kind, and the runtime they share.

pub mod analytics_application;
pub mod backoff;
pub mod conditions;
pub mod context;
pub mod delivery_stream;
pub mod http;
pub mod kinesis_stream;
pub mod lease;
pub mod metrics;
pub mod policy_doc;
pub mod references;
pub mod runtime;
pub mod stream_policy;

use std::future::Future;
use std::sync::Arc;

use futures::FutureExt;

use self::context::Context;

/// Runs the controller of every kind until `shutdown` resolves, `concurrency` objects of each
/// kind at a time. Starting a kind is one line here.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<&str>,
    concurrency: u16,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let shutdown = shutdown.boxed().shared();
    tokio::join!(
        runtime::run(
            kinesis_stream::KinesisStreams,
            ctx.clone(),
            namespace,
            concurrency,
            shutdown.clone()
        ),
        runtime::run(
            delivery_stream::DeliveryStreams,
            ctx.clone(),
            namespace,
            concurrency,
            shutdown.clone()
        ),
        runtime::run(
            stream_policy::StreamPolicies,
            ctx.clone(),
            namespace,
            concurrency,
            shutdown.clone()
        ),
        runtime::run(
            analytics_application::AnalyticsApplications,
            ctx.clone(),
            namespace,
            concurrency,
            shutdown.clone()
        ),
    );
}
