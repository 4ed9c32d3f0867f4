//! One Kinesis data stream: its settings, its status with delayed transitions, and its shards.
//!
//! Locking: the hot path (PutRecords, GetRecords) takes the shard set's read lock and one
//! shard's mutex; the stream's metadata mutex is only taken by control-plane operations and by
//! the (rare) application of a due status transition. A due transition is detected with one
//! atomic load. Locks are always taken in the order metadata -> shard set -> one shard.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use super::keys::{even_range, shard_id};
use super::limits::Throughput;
use super::records::ShardLog;

/// Status of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Being created.
    Creating,
    /// Usable.
    Active,
    /// Being changed (re-sharding, mode switch, encryption).
    Updating,
    /// Being deleted.
    Deleting,
}

impl Status {
    /// The AWS name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "CREATING",
            Status::Active => "ACTIVE",
            Status::Updating => "UPDATING",
            Status::Deleting => "DELETING",
        }
    }
}

/// Capacity mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Fixed shards.
    Provisioned,
    /// AWS-managed shards.
    OnDemand,
}

impl Mode {
    /// The AWS name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Provisioned => "PROVISIONED",
            Mode::OnDemand => "ON_DEMAND",
        }
    }
}

/// An enhanced fan-out consumer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Consumer {
    /// Name.
    pub name: String,
    /// ARN: `<stream ARN>/consumer/<name>:<creation epoch seconds>`.
    pub arn: String,
    /// Creation time, epoch milliseconds.
    pub created_ms: i64,
    /// When CREATING ends.
    pub active_at_ms: i64,
    /// When DELETING ends, once deregistered.
    pub gone_at_ms: Option<i64>,
    /// Resource policy of the consumer.
    #[serde(default)]
    pub policy: Option<String>,
}

impl Consumer {
    /// CREATING, ACTIVE or DELETING at `now_ms`; `None` once deregistration completed.
    pub fn status(&self, now_ms: i64) -> Option<&'static str> {
        match self.gone_at_ms {
            Some(gone) if now_ms >= gone => None,
            Some(_) => Some("DELETING"),
            None if now_ms >= self.active_at_ms => Some("ACTIVE"),
            None => Some("CREATING"),
        }
    }
}

/// What [`Stream::settle`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Nothing was due.
    Unchanged,
    /// A transition was applied (the stream should be stored again).
    Changed,
    /// DELETING completed: the stream is gone.
    Removed,
}

/// What happens when a pending transition falls due.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Transition {
    /// CREATING -> ACTIVE, or UPDATING -> ACTIVE for changes already applied.
    Activate,
    /// UPDATING -> ACTIVE after closing shards and opening their children (UpdateShardCount,
    /// SplitShard, MergeShards).
    Reshard {
        /// Indexes of the shards to close.
        close: Vec<u32>,
        /// Shards to open.
        open: Vec<NewShard>,
    },
    /// DELETING -> gone.
    Remove,
}

/// A shard to create when a re-shard completes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewShard {
    /// Start of its hash key range.
    pub start: u128,
    /// End of its hash key range.
    pub end: u128,
    /// Parent shard indexes (at most two; the second is the adjacent parent).
    pub parents: Vec<u32>,
}

/// Settings and status, guarded by one mutex.
#[derive(Debug)]
pub struct Meta {
    /// Status.
    pub status: Status,
    /// The transition applied at `pending_at_ms`.
    pub pending: Option<Transition>,
    /// Capacity mode.
    pub mode: Mode,
    /// Retention in hours.
    pub retention_hours: i64,
    /// KMS key when encrypted.
    pub kms_key: Option<String>,
    /// Enabled shard-level metrics.
    pub metrics: BTreeSet<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Enhanced fan-out consumers.
    pub consumers: Vec<Consumer>,
    /// Resource policy document.
    pub policy: Option<String>,
    /// Largest record, KiB.
    pub max_record_kib: i64,
    /// Warm throughput target, MiB/s (OnDemand).
    pub warm_mibps: Option<i64>,
    /// `AUTO` or `USER_PARTITION_KEY` (OnDemand streams).
    pub distribution: Option<String>,
    /// Times of UpdateShardCount calls (rolling 24 h budget).
    pub shard_count_updates: VecDeque<i64>,
    /// Times of mode switches (rolling 24 h budget).
    pub mode_switches: VecDeque<i64>,
}

/// One shard.
pub struct Shard {
    /// Index (the number in its ID).
    pub index: u32,
    /// `shardId-...`.
    pub id: String,
    /// Parent shard index.
    pub parent: Option<u32>,
    /// Adjacent parent shard index (after a merge).
    pub adjacent_parent: Option<u32>,
    /// Start of the hash key range.
    pub start_hash: u128,
    /// End of the hash key range.
    pub end_hash: u128,
    /// Sequence counter of the shard's first possible record.
    pub starting_counter: u64,
    /// When the shard was opened, epoch milliseconds.
    pub created_ms: i64,
    /// Records and write state.
    pub state: Mutex<ShardState>,
}

/// The mutable part of a shard.
pub struct ShardState {
    /// Records.
    pub log: ShardLog,
    /// Sequence counter of the last record, once the shard is closed.
    pub closed_at: Option<u64>,
    /// When the shard was closed, epoch milliseconds.
    pub closed_ms: Option<i64>,
    /// Write throughput accounting (per-shard limits).
    pub writes: Throughput,
    /// GetRecords calls accounting.
    pub reads: Throughput,
}

/// The shards of a stream.
#[derive(Default)]
pub struct Shards {
    /// Every shard, open or closed, by index.
    pub all: Vec<Arc<Shard>>,
    /// Open shards, sorted by start hash: routing table.
    pub open: Vec<Arc<Shard>>,
}

impl Shards {
    /// The open shard whose range holds `hash`.
    pub fn route(&self, hash: u128) -> Option<&Arc<Shard>> {
        let i = self.open.partition_point(|s| s.start_hash <= hash);
        self.open
            .get(i.checked_sub(1)?)
            .filter(|s| hash <= s.end_hash)
    }

    /// The shard with ID index `index`.
    pub fn get(&self, index: u32) -> Option<&Arc<Shard>> {
        self.all.get(index as usize)
    }
}

/// One data stream.
pub struct Stream {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Creation time, epoch milliseconds.
    pub created_ms: i64,
    /// Identifies this incarnation of the name in sequence numbers and iterators.
    pub tag: u64,
    /// When the pending transition falls due (epoch ms), `i64::MAX` when none.
    due_ms: AtomicI64,
    /// Settings and status.
    pub meta: Mutex<Meta>,
    /// Shards.
    pub shards: RwLock<Shards>,
    /// Next sequence counter, shared by all shards so that numbers increase across re-sharding.
    counter: AtomicU64,
}

/// What a new stream starts with.
pub struct NewStream {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Creation time.
    pub created_ms: i64,
    /// Incarnation tag.
    pub tag: u64,
    /// Mode.
    pub mode: Mode,
    /// Shards to start with.
    pub shard_count: u32,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Largest record, KiB.
    pub max_record_kib: i64,
    /// Warm throughput, MiB/s.
    pub warm_mibps: Option<i64>,
    /// Record distribution strategy.
    pub distribution: Option<String>,
    /// When CREATING ends.
    pub active_at_ms: i64,
}

impl Stream {
    /// A stream in CREATING that becomes ACTIVE at `active_at_ms`.
    pub fn new(n: NewStream) -> Self {
        let stream = Stream {
            name: n.name,
            arn: n.arn,
            created_ms: n.created_ms,
            tag: n.tag,
            due_ms: AtomicI64::new(n.active_at_ms),
            meta: Mutex::new(Meta {
                status: Status::Creating,
                pending: Some(Transition::Activate),
                mode: n.mode,
                retention_hours: 24,
                kms_key: None,
                metrics: BTreeSet::new(),
                tags: n.tags,
                consumers: Vec::new(),
                policy: None,
                max_record_kib: n.max_record_kib,
                warm_mibps: n.warm_mibps,
                distribution: n.distribution,
                shard_count_updates: VecDeque::new(),
                mode_switches: VecDeque::new(),
            }),
            shards: RwLock::new(Shards::default()),
            counter: AtomicU64::new(1),
        };
        let new_shards = (0..n.shard_count)
            .map(|i| {
                let (start, end) = even_range(i, n.shard_count);
                NewShard {
                    start,
                    end,
                    parents: vec![],
                }
            })
            .collect();
        stream.add_shards(new_shards, n.created_ms);
        stream
    }

    /// Applies the pending transition when it is due. Cheap when nothing is due.
    pub fn settle(&self, now_ms: i64) -> Settled {
        if now_ms < self.due_ms.load(Ordering::Acquire) {
            return Settled::Unchanged;
        }
        let mut meta = self.meta.lock();
        if now_ms < self.due_ms.load(Ordering::Acquire) {
            return Settled::Unchanged;
        }
        self.due_ms.store(i64::MAX, Ordering::Release);
        match meta.pending.take() {
            None => Settled::Unchanged,
            Some(Transition::Remove) => Settled::Removed,
            Some(Transition::Activate) => {
                meta.status = Status::Active;
                Settled::Changed
            }
            Some(Transition::Reshard { close, open }) => {
                self.close_shards(&close, now_ms);
                self.add_shards(open, now_ms);
                meta.status = Status::Active;
                Settled::Changed
            }
        }
    }

    /// Settles a stream read back from disk: a transition that fell due before the crash is
    /// applied (its snapshot may not have been stored), and a removal that was settled but not
    /// yet forgotten (DELETING with nothing pending) is finished.
    pub fn settle_restored(&self, now_ms: i64) -> Settled {
        {
            let meta = self.meta.lock();
            if meta.status == Status::Deleting && meta.pending.is_none() {
                return Settled::Removed;
            }
        }
        self.settle(now_ms)
    }

    /// The stream's whole state but its records, for storage.
    pub fn snapshot(&self) -> Snapshot {
        let meta = self.meta.lock();
        let shards = self.shards.read();
        Snapshot {
            name: self.name.clone(),
            arn: self.arn.clone(),
            created_ms: self.created_ms,
            tag: self.tag,
            counter: self.peek_counter(),
            due_ms: self.due_ms.load(Ordering::Acquire),
            status: meta.status,
            pending: meta.pending.clone(),
            mode: meta.mode,
            retention_hours: meta.retention_hours,
            kms_key: meta.kms_key.clone(),
            metrics: meta.metrics.iter().cloned().collect(),
            tags: meta.tags.clone(),
            consumers: meta.consumers.clone(),
            policy: meta.policy.clone(),
            max_record_kib: meta.max_record_kib,
            warm_mibps: meta.warm_mibps,
            distribution: meta.distribution.clone(),
            shard_count_updates: meta.shard_count_updates.iter().copied().collect(),
            mode_switches: meta.mode_switches.iter().copied().collect(),
            shards: shards
                .all
                .iter()
                .map(|s| {
                    let state = s.state.lock();
                    ShardSnapshot {
                        index: s.index,
                        parent: s.parent,
                        adjacent_parent: s.adjacent_parent,
                        start_hash: s.start_hash,
                        end_hash: s.end_hash,
                        starting_counter: s.starting_counter,
                        created_ms: s.created_ms,
                        closed_at: state.closed_at,
                        closed_ms: state.closed_ms,
                    }
                })
                .collect(),
        }
    }

    /// A stream from a snapshot, with empty shard logs starting at the given positions (see
    /// [`Stream::restore_record`]).
    pub fn restore(s: Snapshot) -> Stream {
        let mut all = Vec::with_capacity(s.shards.len());
        for sh in s.shards {
            all.push(Arc::new(Shard {
                index: sh.index,
                id: shard_id(sh.index),
                parent: sh.parent,
                adjacent_parent: sh.adjacent_parent,
                start_hash: sh.start_hash,
                end_hash: sh.end_hash,
                starting_counter: sh.starting_counter,
                created_ms: sh.created_ms,
                state: Mutex::new(ShardState {
                    log: ShardLog::new(),
                    closed_at: sh.closed_at,
                    closed_ms: sh.closed_ms,
                    writes: Throughput::default(),
                    reads: Throughput::default(),
                }),
            }));
        }
        let mut open: Vec<_> = all
            .iter()
            .filter(|s| s.state.lock().closed_at.is_none())
            .cloned()
            .collect();
        open.sort_by_key(|s| s.start_hash);
        Stream {
            name: s.name,
            arn: s.arn,
            created_ms: s.created_ms,
            tag: s.tag,
            due_ms: AtomicI64::new(s.due_ms),
            meta: Mutex::new(Meta {
                status: s.status,
                pending: s.pending,
                mode: s.mode,
                retention_hours: s.retention_hours,
                kms_key: s.kms_key,
                metrics: s.metrics.into_iter().collect(),
                tags: s.tags,
                consumers: s.consumers,
                policy: s.policy,
                max_record_kib: s.max_record_kib,
                warm_mibps: s.warm_mibps,
                distribution: s.distribution,
                shard_count_updates: s.shard_count_updates.into(),
                mode_switches: s.mode_switches.into(),
            }),
            shards: RwLock::new(Shards { all, open }),
            counter: AtomicU64::new(s.counter),
        }
    }

    /// Puts a stored record back into shard `shard` at `position`, during recovery.
    pub fn restore_record(
        &self,
        shard: u32,
        position: u64,
        counter: u64,
        arrival_ms: i64,
        key: &str,
        data: &[u8],
    ) {
        let shards = self.shards.read();
        if let Some(s) = shards.get(shard) {
            let mut state = s.state.lock();
            if state.log.end() < position {
                state.log.skip_to(position);
            }
            if state.log.end() == position {
                state.log.append(counter, arrival_ms, key, data);
            }
        }
        self.order_after(counter);
    }

    /// Starts a transition: sets `status` now and applies `transition` at `at_ms`.
    /// The caller holds the metadata lock.
    pub fn begin(&self, meta: &mut Meta, status: Status, transition: Transition, at_ms: i64) {
        meta.status = status;
        meta.pending = Some(transition);
        self.due_ms.store(at_ms, Ordering::Release);
    }

    /// Reserves `n` consecutive sequence counters and returns the first.
    pub fn reserve_counters(&self, n: u64) -> u64 {
        self.counter.fetch_add(n, Ordering::Relaxed)
    }

    /// Makes every future counter exceed `counter` (SequenceNumberForOrdering).
    pub fn order_after(&self, counter: u64) {
        self.counter
            .fetch_max(counter.saturating_add(1), Ordering::Relaxed);
    }

    /// The current counter (the next one to be given out).
    pub fn peek_counter(&self) -> u64 {
        self.counter.load(Ordering::Relaxed)
    }

    fn close_shards(&self, close: &[u32], now_ms: i64) {
        let mut shards = self.shards.write();
        let last = self.peek_counter().saturating_sub(1);
        shards.open.retain(|shard| {
            if !close.contains(&shard.index) {
                return true;
            }
            let mut state = shard.state.lock();
            state.closed_at = Some(last.max(shard.starting_counter));
            state.closed_ms = Some(now_ms);
            false
        });
    }

    fn add_shards(&self, new_shards: Vec<NewShard>, now_ms: i64) {
        let mut shards = self.shards.write();
        let starting_counter = self.reserve_counters(1);
        for n in new_shards {
            let index = shards.all.len() as u32;
            let shard = Arc::new(Shard {
                index,
                id: shard_id(index),
                parent: n.parents.first().copied(),
                adjacent_parent: n.parents.get(1).copied(),
                start_hash: n.start,
                end_hash: n.end,
                starting_counter,
                created_ms: now_ms,
                state: Mutex::new(ShardState {
                    log: ShardLog::new(),
                    closed_at: None,
                    closed_ms: None,
                    writes: Throughput::default(),
                    reads: Throughput::default(),
                }),
            });
            shards.all.push(shard.clone());
            shards.open.push(shard);
        }
        shards.open.sort_by_key(|s| s.start_hash);
    }

    /// Number of open shards.
    pub fn open_shard_count(&self) -> usize {
        self.shards.read().open.len()
    }
}

/// A stream's state without its records, as stored under `--data-dir`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Snapshot {
    name: String,
    arn: String,
    created_ms: i64,
    tag: u64,
    counter: u64,
    due_ms: i64,
    status: Status,
    pending: Option<Transition>,
    mode: Mode,
    retention_hours: i64,
    kms_key: Option<String>,
    metrics: Vec<String>,
    tags: BTreeMap<String, String>,
    consumers: Vec<Consumer>,
    policy: Option<String>,
    max_record_kib: i64,
    warm_mibps: Option<i64>,
    #[serde(default)]
    distribution: Option<String>,
    shard_count_updates: Vec<i64>,
    mode_switches: Vec<i64>,
    shards: Vec<ShardSnapshot>,
}

impl Snapshot {
    /// The stream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The stream's incarnation tag.
    pub fn tag(&self) -> u64 {
        self.tag
    }
}

/// A shard's state without its records.
#[derive(Debug, Serialize, Deserialize)]
struct ShardSnapshot {
    index: u32,
    parent: Option<u32>,
    adjacent_parent: Option<u32>,
    start_hash: u128,
    end_hash: u128,
    starting_counter: u64,
    created_ms: i64,
    closed_at: Option<u64>,
    closed_ms: Option<i64>,
}

/// Plans the children of a uniform re-shard of `open` (sorted by start hash) into `target`
/// even shards: each child's parents are the open shards its range overlaps (at most two are
/// recorded, as the API has room for a parent and an adjacent parent).
pub fn plan_uniform(open: &[Arc<Shard>], target: u32) -> Vec<NewShard> {
    (0..target)
        .map(|i| {
            let (start, end) = even_range(i, target);
            let parents = open
                .iter()
                .filter(|s| s.start_hash <= end && start <= s.end_hash)
                .map(|s| s.index)
                .take(2)
                .collect();
            NewShard {
                start,
                end,
                parents,
            }
        })
        .collect()
}
