//! One delivery stream: its settings and status (the stored part, [`Meta`]) and its buffer of
//! records not yet delivered ([`Buffer`]), each behind its own lock so that producers and the
//! delivery task never wait on each other for long.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::model::{EncryptionDescription, HttpDestination, S3Destination};
use crate::emulator::kinesis::reader::Checkpoint;

/// Delivery stream status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Being created.
    Creating,
    /// Accepting and delivering records.
    Active,
    /// Being deleted.
    Deleting,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "CREATING",
            Status::Active => "ACTIVE",
            Status::Deleting => "DELETING",
        }
    }
}

/// Where records come from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Source {
    /// PutRecord / PutRecordBatch.
    DirectPut,
    /// A Kinesis data stream, read from LATEST as of creation.
    Kinesis {
        /// Stream ARN.
        stream_arn: String,
        /// Role ARN.
        role_arn: String,
        /// Creation time: where reading starts.
        start_ms: i64,
    },
}

impl Source {
    /// The `DeliveryStreamType` wire name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Source::DirectPut => "DirectPut",
            Source::Kinesis { .. } => "KinesisStreamAsSource",
        }
    }
}

/// Where records go.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Destination {
    /// S3 (created as `S3DestinationConfiguration` or `ExtendedS3DestinationConfiguration`;
    /// AWS describes both forms for it).
    S3(Box<S3Destination>),
    /// An HTTP endpoint, with an S3 bucket for backups.
    Http(Box<HttpDestination>),
}

/// A pending change of the encryption status.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EncryptionChange {
    /// When it completes, epoch ms.
    pub at_ms: i64,
    /// The status then.
    pub status: String,
}

/// Settings and status of a delivery stream: what is stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    /// Status.
    pub status: Status,
    /// When CREATING becomes ACTIVE (epoch ms).
    pub active_at_ms: i64,
    /// When a DELETING stream is gone (epoch ms).
    pub gone_at_ms: Option<i64>,
    /// Version, incremented by UpdateDestination.
    pub version: u64,
    /// Last destination update (epoch ms).
    pub updated_ms: Option<i64>,
    /// Source.
    pub source: Source,
    /// Destination.
    pub destination: Destination,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Server-side encryption as described.
    pub encryption: EncryptionDescription,
    /// Pending encryption status change.
    pub encryption_change: Option<EncryptionChange>,
}

impl Meta {
    /// Applies the transitions due at `now_ms`; true when something changed.
    pub fn settle(&mut self, now_ms: i64) -> bool {
        let mut changed = false;
        if self.status == Status::Creating && now_ms >= self.active_at_ms {
            self.status = Status::Active;
            changed = true;
        }
        if let Some(change) = &self.encryption_change
            && now_ms >= change.at_ms
        {
            self.encryption.status = change.status.clone();
            if change.status == "DISABLED" {
                self.encryption.key_arn = None;
                self.encryption.key_type = None;
            }
            self.encryption_change = None;
            changed = true;
        }
        changed
    }

    /// True once a DELETING stream's delay has passed.
    pub fn gone(&self, now_ms: i64) -> bool {
        self.gone_at_ms.is_some_and(|at| now_ms >= at)
    }

    /// True when records are encrypted at rest (as PutRecord reports).
    pub fn encrypted(&self) -> bool {
        matches!(self.encryption.status.as_str(), "ENABLED" | "ENABLING")
    }
}

/// A buffered record.
#[derive(Clone, Debug)]
pub struct Buffered {
    /// Position in the stream's buffer sequence (never reused).
    pub seq: u64,
    /// Arrival time, epoch ms.
    pub arrival_ms: i64,
    /// Payload, as received.
    pub data: Bytes,
}

/// A delivery in progress: which records, under which key. Stored before the object is
/// written so that a replay after a crash writes the same object.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pending {
    /// First buffer sequence number delivered.
    pub first: u64,
    /// Last buffer sequence number delivered.
    pub last: u64,
    /// Object key (S3) or request ID (HTTP).
    pub key: String,
    /// When the HTTP endpoint retries started (epoch ms); failed data goes to the backup
    /// once the retry window has passed.
    pub started_ms: i64,
    /// True when `key` is an HTTP request ID (the destination was an HTTP endpoint).
    #[serde(default)]
    pub http: bool,
}

/// Records accepted and not yet delivered.
#[derive(Debug, Default)]
pub struct Buffer {
    /// Records in sequence order.
    pub records: VecDeque<Buffered>,
    /// Sum of their payload sizes.
    pub bytes: usize,
    /// Sequence number of the next record.
    pub next_seq: u64,
    /// Position in the Kinesis source (KinesisStreamAsSource), stored with the records.
    pub checkpoint: Option<Checkpoint>,
    /// A delivery started before a restart, to finish first.
    pub pending: Option<Pending>,
    /// No delivery attempt before this time (epoch ms), after a failure.
    pub retry_at_ms: i64,
    /// Consecutive failed attempts (backoff).
    pub failures: u32,
}

impl Buffer {
    /// Appends a record with the next sequence number.
    pub fn push(&mut self, arrival_ms: i64, data: Bytes) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += data.len();
        self.records.push_back(Buffered {
            seq,
            arrival_ms,
            data,
        });
        seq
    }

    /// Drops records up to and including `last`.
    pub fn remove_through(&mut self, last: u64) {
        while let Some(front) = self.records.front() {
            if front.seq > last {
                break;
            }
            self.bytes -= front.data.len();
            self.records.pop_front();
        }
    }
}

/// Per-second DirectPut throughput accounting (AWS's per-stream quota).
#[derive(Debug, Default)]
pub struct Throughput {
    /// Start of the current one-second window, epoch ms.
    pub window_ms: i64,
    /// Records accepted in it.
    pub records: u64,
    /// Bytes accepted in it.
    pub bytes: u64,
}

/// One delivery stream.
pub struct DeliveryStream {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Identifies this incarnation in storage keys and object names.
    pub tag: u64,
    /// Creation time, epoch ms.
    pub created_ms: i64,
    /// Settings and status.
    pub meta: Mutex<Meta>,
    /// Orders the control-plane changes of the stream (see `Firehose::change`): held while a
    /// change is stored, so that `meta` stays free for the data plane meanwhile.
    pub control: Mutex<()>,
    /// Undelivered records.
    pub buffer: Mutex<Buffer>,
    /// DirectPut throughput accounting.
    pub throughput: Mutex<Throughput>,
}

/// What is stored of a delivery stream besides its records.
#[derive(Serialize, Deserialize)]
pub struct Snapshot {
    /// Name.
    pub name: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Incarnation tag.
    pub tag: u64,
    /// Creation time.
    pub created_ms: i64,
    /// Settings and status.
    pub meta: Meta,
}

impl DeliveryStream {
    /// The stored form.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_with(self.meta.lock().clone())
    }

    /// The stored form the stream has with settings `meta`.
    pub fn snapshot_with(&self, meta: Meta) -> Snapshot {
        Snapshot {
            name: self.name.clone(),
            account: self.account.clone(),
            region: self.region.clone(),
            tag: self.tag,
            created_ms: self.created_ms,
            meta,
        }
    }

    /// A stream from its stored form (records are added by the caller).
    pub fn restore(s: Snapshot) -> DeliveryStream {
        DeliveryStream {
            arn: arn(&s.account, &s.region, &s.name),
            name: s.name,
            account: s.account,
            region: s.region,
            tag: s.tag,
            created_ms: s.created_ms,
            meta: Mutex::new(s.meta),
            control: Mutex::new(()),
            buffer: Mutex::new(Buffer::default()),
            throughput: Mutex::new(Throughput::default()),
        }
    }
}

/// The ARN of delivery stream `name`.
pub fn arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:firehose:{region}:{account}:deliverystream/{name}")
}
