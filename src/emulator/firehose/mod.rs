//! Amazon Data Firehose (`Firehose_20150804`): delivery streams whose records really reach
//! their destination: buffered per the buffering hints, compressed as configured and written
//! to the emulated S3 (or POSTed to an HTTP endpoint), exactly once.
//!
//! Layout: `model.rs` wire shapes, `validate.rs` AWS's constraints, `stream.rs` one delivery
//! stream, `control.rs` the control plane (with `update.rs` and `encryption.rs`), `tagging.rs` tags, `put.rs` PutRecord(Batch),
//! `durable.rs` storage, `deliver.rs` the background delivery (with `keys.rs` object names,
//! `compress.rs` formats, `http.rs` HTTP endpoints, `source.rs` Kinesis sources and `kpl.rs` KPL
//! de-aggregation).
//!
//! Where it knowingly differs from AWS: S3 and HTTP endpoint destinations only (others are
//! refused with `InvalidArgumentException`); Lambda processing, format conversion and dynamic
//! partitioning are kept in the description but not run (prefixes with partition keys are
//! refused rather than delivered under wrong names); `CustomTimeZone` is described but keys use
//! UTC; a Kinesis-source stream whose S3 destination keeps failing is retried without end,
//! where AWS gives up once the data has left the source stream's retention (DirectPut streams
//! give up after AWS's 24 hours, see `deliver.rs`); HTTP endpoints must be `http://` on this
//! machine (no TLS client), where AWS requires `https://`.

mod compress;
mod control;
mod deliver;
mod describe;
mod durable;
mod encryption;
mod http;
mod keys;
mod kpl;
pub mod model;
mod put;
mod sink;
mod source;
mod stream;
mod tagging;
mod update;
mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::RwLock;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::clock::Clock;
use super::dispatch::Ctx;
use super::error::AwsError;
use super::kinesis::Kinesis;
use super::protocol::Protocol;
use super::s3::S3;
use super::storage::{Storage, StorageError};
use durable::Durable;
use stream::DeliveryStream;

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

/// Delivery streams by (account, region, name).
type Streams = BTreeMap<(String, String, String), Arc<DeliveryStream>>;

/// The emulated Firehose.
pub struct Firehose {
    settings: Settings,
    clock: Arc<Clock>,
    s3: Arc<S3>,
    kinesis: Arc<Kinesis>,
    durable: Option<Durable>,
    streams: RwLock<Streams>,
    next_tag: AtomicU64,
    /// Wakes the delivery task early (a buffer reached its size hint).
    wake: Notify,
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
        let seed = clock.now_ms().max(0) as u64;
        let firehose = Firehose {
            settings,
            clock,
            s3,
            kinesis,
            durable: None,
            streams: RwLock::new(BTreeMap::new()),
            next_tag: AtomicU64::new(seed),
            wake: Notify::new(),
        };
        let Some(storage) = storage else {
            return Ok(firehose);
        };
        let durable = Durable::open(storage)?;
        let mut max_tag = 0;
        let mut records = 0usize;
        {
            let mut streams = firehose.streams.write();
            for r in durable.load()? {
                max_tag = max_tag.max(r.snapshot.tag);
                records += r.buffer.records.len();
                let s = DeliveryStream::restore(r.snapshot);
                *s.buffer.lock() = r.buffer;
                streams.insert(
                    (s.account.clone(), s.region.clone(), s.name.clone()),
                    Arc::new(s),
                );
            }
            tracing::info!(
                delivery_streams = streams.len(),
                buffered_records = records,
                "Firehose state recovered from the data directory"
            );
        }
        firehose.next_tag.fetch_max(max_tag + 1, Ordering::Relaxed);
        Ok(Firehose {
            durable: Some(durable),
            ..firehose
        })
    }

    /// Starts delivering in the background until `stopping` flips.
    pub fn spawn(self: &Arc<Self>, stopping: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(deliver::run(self.clone(), stopping))
    }

    /// Handles one operation: decodes `body`, runs the operation, encodes the answer.
    pub fn handle(
        &self,
        ctx: &Ctx,
        operation: &str,
        protocol: Protocol,
        body: &[u8],
    ) -> Result<Vec<u8>, AwsError> {
        macro_rules! ops {
            ($($name:literal => $handler:path),* $(,)?) => {
                match operation {
                    $($name => self.call(ctx, protocol, body, $handler),)*
                    _ => Err(AwsError::client(
                        "UnknownOperationException",
                        format!("Operation {operation} is not supported by {TARGET_PREFIX}."),
                    )),
                }
            };
        }
        // A region that does not exist is refused as Kinesis refuses it (see its module doc).
        super::kinesis::check_region(&ctx.region)?;
        ops! {
            "CreateDeliveryStream" => control::create,
            "DescribeDeliveryStream" => control::describe,
            "ListDeliveryStreams" => control::list,
            "DeleteDeliveryStream" => control::delete,
            "UpdateDestination" => update::update_destination,
            "StartDeliveryStreamEncryption" => encryption::start_encryption,
            "StopDeliveryStreamEncryption" => encryption::stop_encryption,
            "PutRecord" => put::put_record,
            "PutRecordBatch" => put::put_record_batch,
            "TagDeliveryStream" => tagging::tag,
            "UntagDeliveryStream" => tagging::untag,
            "ListTagsForDeliveryStream" => tagging::list,
        }
    }

    fn call<I: DeserializeOwned, O: Serialize>(
        &self,
        ctx: &Ctx,
        protocol: Protocol,
        body: &[u8],
        handler: fn(&Firehose, &Ctx, I) -> Result<O, AwsError>,
    ) -> Result<Vec<u8>, AwsError> {
        let input = protocol.decode::<I>(body)?;
        let output = handler(self, ctx, input)?;
        Ok(protocol.encode(&output))
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Stores a stream's settings (no-op in memory mode).
    fn save(&self, stream: &DeliveryStream) -> Result<(), AwsError> {
        match &self.durable {
            Some(d) => d.save(&stream.snapshot()),
            None => Ok(()),
        }
    }

    /// Changes the settings of `stream` (a control-plane operation): `edit` changes a copy of
    /// them (or refuses with an error, and nothing changes), the copy is stored, and only
    /// then replaces the settings in memory, so that no answer or delivery sees a change that
    /// is not stored. The stream's `control` lock orders the changes (none is lost to a
    /// concurrent one); the settings lock is held only to copy and to replace, never while
    /// storing, so PutRecord and the delivery do not wait for the store.
    fn change<T>(
        &self,
        stream: &DeliveryStream,
        edit: impl FnOnce(&mut stream::Meta) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let _control = stream.control.lock();
        let mut next = stream.meta.lock().clone();
        next.settle(self.now());
        let out = edit(&mut next)?;
        if let Some(d) = &self.durable {
            d.save(&stream.snapshot_with(next.clone()))?;
        }
        *stream.meta.lock() = next;
        Ok(out)
    }

    /// Applies due transitions to `stream`; true when its deletion completed (it is then gone
    /// from the service and from storage).
    fn settle(&self, stream: &Arc<DeliveryStream>) -> bool {
        let now = self.now();
        let (changed, gone) = {
            let mut meta = stream.meta.lock();
            (meta.settle(now), meta.gone(now))
        };
        if gone {
            let key = (
                stream.account.clone(),
                stream.region.clone(),
                stream.name.clone(),
            );
            let mut streams = self.streams.write();
            if streams.get(&key).is_some_and(|s| Arc::ptr_eq(s, stream)) {
                streams.remove(&key);
            }
            drop(streams);
            if let Some(d) = &self.durable
                && let Err(e) = d.forget(stream.tag)
            {
                tracing::error!(delivery_stream = %stream.name, error = %e, "removing a deleted delivery stream from storage failed");
            }
            return true;
        }
        if changed {
            // Stored under the control lock, in order with the stores of changes: a snapshot
            // taken before a change replaced the settings must not be committed after it.
            let _control = stream.control.lock();
            if let Err(e) = self.save(stream) {
                tracing::error!(delivery_stream = %stream.name, error = %e, "storing a status change failed");
            }
        }
        false
    }

    /// The delivery stream `name` of the caller, settled; `ResourceNotFoundException` when
    /// there is none.
    fn find(&self, ctx: &Ctx, name: &str) -> Result<Arc<DeliveryStream>, AwsError> {
        let key = (ctx.account.clone(), ctx.region.clone(), name.to_owned());
        let stream = self.streams.read().get(&key).cloned();
        match stream {
            Some(s) if !self.settle(&s) => Ok(s),
            _ => Err(not_found(ctx, name)),
        }
    }

    /// Every delivery stream of every account, settled.
    fn all(&self) -> Vec<Arc<DeliveryStream>> {
        let streams: Vec<_> = self.streams.read().values().cloned().collect();
        streams.into_iter().filter(|s| !self.settle(s)).collect()
    }
}

/// `ResourceNotFoundException` for a delivery stream, in AWS's words.
fn not_found(ctx: &Ctx, name: &str) -> AwsError {
    AwsError::not_found(format!(
        "Firehose {name} under account {} not found.",
        ctx.account
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATIONS: [&str; 13] = [
        "CreateDeliveryStream",
        "DescribeDeliveryStream",
        "ListDeliveryStreams",
        "DeleteDeliveryStream",
        "UpdateDestination",
        "StartDeliveryStreamEncryption",
        "StopDeliveryStreamEncryption",
        "PutRecord",
        "PutRecordBatch",
        "TagDeliveryStream",
        "UntagDeliveryStream",
        "ListTagsForDeliveryStream",
        "NoSuchOperation",
    ];

    fn service() -> Firehose {
        let clock = Arc::new(Clock::default());
        let s3 = Arc::new(S3::new(clock.clone(), None).expect("an in-memory S3"));
        let kinesis = Arc::new(Kinesis::new(Default::default(), clock.clone()));
        Firehose::new(Settings::default(), clock, s3, kinesis, None).expect("a Firehose")
    }

    /// Every control-plane change is stored before it is applied: when the store fails, the
    /// caller gets the error and the stream is as it was.
    #[test]
    fn a_change_that_cannot_be_stored_is_not_applied() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(Storage::open(dir.path()).unwrap());
        let clock = Arc::new(Clock::default());
        let s3 = Arc::new(S3::new(clock.clone(), None).unwrap());
        let kinesis = Arc::new(Kinesis::new(Default::default(), clock.clone()));
        let f = Firehose::new(Settings::default(), clock, s3, kinesis, Some(storage)).unwrap();
        let ctx = Ctx {
            account: "000000000000".into(),
            region: "us-east-1".into(),
        };
        f.handle(
            &ctx,
            "CreateDeliveryStream",
            Protocol::Json,
            br#"{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::b","Prefix":"p/"},"Tags":[{"Key":"k","Value":"v"}]}"#,
        )
        .unwrap();
        let state = || {
            let stream = f.find(&ctx, "s").unwrap();
            serde_json::to_string(&*stream.meta.lock()).unwrap()
        };
        let before = state();
        *f.durable.as_ref().unwrap().before_save.lock() = Some(Arc::new(|| {
            Err(AwsError::internal("the disk is full".to_owned()))
        }));
        let changes: [(&str, &[u8]); 6] = [
            (
                "UpdateDestination",
                br#"{"DeliveryStreamName":"s","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":{"Prefix":"q/"}}"#,
            ),
            (
                "TagDeliveryStream",
                br#"{"DeliveryStreamName":"s","Tags":[{"Key":"k2","Value":"v2"}]}"#,
            ),
            (
                "UntagDeliveryStream",
                br#"{"DeliveryStreamName":"s","TagKeys":["k"]}"#,
            ),
            (
                "StartDeliveryStreamEncryption",
                br#"{"DeliveryStreamName":"s","DeliveryStreamEncryptionConfigurationInput":{"KeyType":"AWS_OWNED_CMK"}}"#,
            ),
            (
                "StopDeliveryStreamEncryption",
                br#"{"DeliveryStreamName":"s"}"#,
            ),
            ("DeleteDeliveryStream", br#"{"DeliveryStreamName":"s"}"#),
        ];
        for (operation, body) in changes {
            let e = f
                .handle(&ctx, operation, Protocol::Json, body)
                .expect_err(operation);
            assert_eq!(e.status, 500, "{operation}: {e:?}");
            assert_eq!(state(), before, "{operation} was applied but not stored");
        }
        *f.durable.as_ref().unwrap().before_save.lock() = None;
        f.handle(&ctx, changes[0].0, Protocol::Json, changes[0].1)
            .unwrap();
        assert_ne!(state(), before);
    }

    /// Valid requests, mutated byte by byte (deterministically), to every operation in both
    /// protocols: every answer is an answer or an AWS error, never a panic.
    #[test]
    fn malformed_requests_never_panic() {
        let f = service();
        let ctx = Ctx {
            account: "000000000000".into(),
            region: "us-east-1".into(),
        };
        let seeds: [&[u8]; 4] = [
            br#"{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::b","Prefix":"!{timestamp:yyyy}/","ErrorOutputPrefix":"e/","BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":0}},"Tags":[{"Key":"k","Value":"v"}]}"#,
            br#"{"DeliveryStreamName":"s","Records":[{"Data":"aGVsbG8="},{"Data":""}],"Record":{"Data":"eA=="}}"#,
            br#"{"DeliveryStreamName":"s","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","HttpEndpointDestinationUpdate":{"EndpointConfiguration":{"Url":"https://x"},"S3Update":{"BucketARN":"arn:aws:s3:::c"}}}"#,
            br#"{"DeliveryStreamName":"s","TagKeys":["k"],"Limit":1,"DeliveryStreamEncryptionConfigurationInput":{"KeyType":"AWS_OWNED_CMK"}}"#,
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for op in OPERATIONS {
            for seed in seeds {
                let _ = f.handle(&ctx, op, Protocol::Json, seed);
                for _ in 0..200 {
                    let mut body = seed.to_vec();
                    for _ in 0..(next() % 4 + 1) {
                        let i = (next() as usize) % body.len();
                        body[i] = (next() & 0xff) as u8;
                    }
                    let _ = f.handle(&ctx, op, Protocol::Json, &body);
                    let _ = f.handle(&ctx, op, Protocol::Cbor, &body);
                }
            }
        }
    }
}
