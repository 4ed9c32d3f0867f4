//! Amazon Data Firehose (`Firehose_20150804`): delivery streams whose records really reach
//! their destination: buffered per the buffering hints, compressed as configured and written
//! to the emulated S3.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::clock::Clock;
use super::dispatch::Ctx;
use super::error::AwsError;
use super::kinesis::Kinesis;
use super::protocol::Protocol;
use super::s3::S3;
use super::storage::{Storage, StorageError};

/// The `X-Amz-Target` prefix of Firehose operations.
pub const TARGET_PREFIX: &str = "Firehose_20150804";

/// Behaviour switches of the emulated Firehose.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// How long a new delivery stream stays CREATING.
    pub create_delay: Duration,
    /// How long a deleted delivery stream stays DELETING.
    pub delete_delay: Duration,
    /// Relax AWS's limits (for load tests).
    pub relax_limits: bool,
    /// Deliver buffers after at most this long, whatever the buffering hints say (tests);
    /// the API still reports the configured hints.
    pub flush_interval: Option<Duration>,
}

/// The emulated Firehose.
#[allow(dead_code)]
pub struct Firehose {
    settings: Settings,
    clock: Arc<Clock>,
    s3: Arc<S3>,
    kinesis: Arc<Kinesis>,
    storage: Option<Arc<Storage>>,
}

impl Firehose {
    /// The service, recovering what `storage` holds.
    pub fn new(
        settings: Settings,
        clock: Arc<Clock>,
        s3: Arc<S3>,
        kinesis: Arc<Kinesis>,
        storage: Option<Arc<Storage>>,
    ) -> Result<Firehose, StorageError> {
        Ok(Firehose {
            settings,
            clock,
            s3,
            kinesis,
            storage,
        })
    }

    /// Starts delivering in the background until `stopping` flips.
    pub fn spawn(self: &Arc<Self>, mut stopping: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let _ = stopping.wait_for(|s| *s).await;
        })
    }

    /// Handles one operation: decodes `body`, runs the operation, encodes the answer.
    pub fn handle(
        &self,
        _ctx: &Ctx,
        operation: &str,
        _protocol: Protocol,
        _body: &[u8],
    ) -> Result<Vec<u8>, AwsError> {
        Err(AwsError::client(
            "UnknownOperationException",
            format!("Operation {operation} is not supported by {TARGET_PREFIX}."),
        ))
    }
}
