//! The records of one shard, stored compactly: payloads and partition keys packed into large
//! byte chunks, with a 16-byte index entry per record (sequence counter and arrival time as
//! offsets from the chunk's first record, where its bytes start, its key's length; its end is
//! where the next one starts). Memory per record is therefore its payload and key plus 16
//! bytes, and whole chunks are released when their records pass the retention period.

use std::collections::VecDeque;

/// Largest chunk of packed record bytes; a record larger than this gets a chunk of its own.
const MAX_CHUNK: usize = 1 << 20;
/// Chunks from this size on have their pages faulted in by one call when they are made.
const PREFAULT_FROM: usize = 64 << 10;
/// The page size the prefault range is aligned to.
const PAGE: usize = 4 << 10;
/// First chunk size of a shard: small, so that thousands of idle shards cost little.
const FIRST_CHUNK: usize = 4 << 10;

/// One stored record, as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// Sequence counter (see [`super::keys::sequence_number`]).
    pub counter: u64,
    /// Arrival time, epoch milliseconds.
    pub arrival_ms: i64,
    /// Partition key.
    pub partition_key: &'a str,
    /// Payload.
    pub data: &'a [u8],
}

/// A record's place in its chunk. Its counter and arrival time are offsets from the chunk's
/// bases (a record whose offsets would not fit starts a new chunk); its data ends where the
/// next record's bytes start (the chunk's end for the last one).
#[derive(Clone, Copy)]
struct Entry {
    counter: u32,
    arrival: u32,
    offset: u32,
    key_len: u16,
}

struct Chunk {
    /// Position (in the shard) of the chunk's first record.
    first: u64,
    /// Counter of the chunk's first record: entries hold theirs as offsets from it.
    base_counter: u64,
    /// Arrival time of the chunk's first record (epoch ms): entries hold theirs as offsets.
    base_arrival: i64,
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

impl Chunk {
    fn new(first: u64, capacity: usize, base_counter: u64, base_arrival: i64) -> Self {
        Chunk {
            first,
            base_counter,
            base_arrival,
            bytes: prefaulted_buffer(capacity),
            entries: Vec::new(),
        }
    }

    fn seal(&mut self) {
        self.entries.shrink_to_fit();
    }

    /// The entry of a record with `counter` and `arrival_ms` stored at `offset`, when its
    /// offsets from the chunk's bases fit.
    fn entry(&self, counter: u64, arrival_ms: i64, offset: usize, key_len: u16) -> Option<Entry> {
        Some(Entry {
            counter: u32::try_from(counter.checked_sub(self.base_counter)?).ok()?,
            arrival: u32::try_from(arrival_ms.checked_sub(self.base_arrival)?).ok()?,
            offset: u32::try_from(offset).ok()?,
            key_len,
        })
    }

    fn counter(&self, e: &Entry) -> u64 {
        self.base_counter + u64::from(e.counter)
    }

    fn arrival_ms(&self, e: &Entry) -> i64 {
        self.base_arrival + i64::from(e.arrival)
    }

    /// The record of entry `i`.
    fn record(&self, i: usize) -> RecordRef<'_> {
        let e = &self.entries[i];
        let start = e.offset as usize;
        let key_end = start + e.key_len as usize;
        let end = self
            .entries
            .get(i + 1)
            .map_or(self.bytes.len(), |next| next.offset as usize);
        RecordRef {
            counter: self.counter(e),
            arrival_ms: self.arrival_ms(e),
            partition_key: std::str::from_utf8(&self.bytes[start..key_end])
                .expect("partition keys are stored from valid UTF-8"),
            data: &self.bytes[key_end..end],
        }
    }
}

/// An empty buffer of `capacity` bytes, its pages faulted in by one call
/// (`madvise(MADV_POPULATE_WRITE)`) when it is large: a busy shard fills megabytes a second,
/// and faulting its pages in one at a time, as the bytes arrive, costs a page fault each
/// (about a tenth of the emulator's CPU under a steady write load).
fn prefaulted_buffer(capacity: usize) -> Vec<u8> {
    let buffer = Vec::with_capacity(capacity);
    let begin = (buffer.as_ptr() as usize).next_multiple_of(PAGE);
    let end = (buffer.as_ptr() as usize + capacity) / PAGE * PAGE;
    if capacity >= PREFAULT_FROM && end > begin {
        // SAFETY: the range lies inside the allocation `buffer` owns and holds nothing yet;
        // MADV_POPULATE_WRITE only faults its pages in, as writing to them would, without
        // changing what they hold (a kernel older than 5.14 answers EINVAL, ignored).
        unsafe {
            libc::madvise(
                begin as *mut libc::c_void,
                end - begin,
                libc::MADV_POPULATE_WRITE,
            );
        }
    }
    buffer
}

/// The records of one shard, addressed by position (0 is the first record ever written).
#[derive(Default)]
pub struct ShardLog {
    chunks: VecDeque<Chunk>,
    /// Position of the next record.
    end: u64,
    /// Payload bytes currently held.
    bytes: usize,
}

impl ShardLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves an empty log's next position to `position` (recovery after trimmed records).
    pub fn skip_to(&mut self, position: u64) {
        if self.chunks.is_empty() && position > self.end {
            self.end = position;
        }
    }

    /// Position the next appended record will get.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Position of the oldest record still held.
    pub fn start(&self) -> u64 {
        self.chunks.front().map_or(self.end, |c| c.first)
    }

    /// Number of records held.
    pub fn len(&self) -> u64 {
        self.end - self.start()
    }

    /// True when no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Payload and key bytes held.
    pub fn payload_bytes(&self) -> usize {
        self.bytes
    }

    /// Appends a record and returns its position. Arrival times must not decrease.
    pub fn append(
        &mut self,
        counter: u64,
        arrival_ms: i64,
        partition_key: &str,
        data: &[u8],
    ) -> u64 {
        let need = partition_key.len() + data.len();
        let key_len = partition_key.len() as u16;
        let entry = self.chunks.back().and_then(|c| {
            (c.bytes.capacity() - c.bytes.len() >= need)
                .then(|| c.entry(counter, arrival_ms, c.bytes.len(), key_len))
                .flatten()
        });
        let entry = match entry {
            Some(entry) => entry,
            None => {
                let previous = self.chunks.back_mut().map(|c| {
                    c.seal();
                    c.bytes.capacity()
                });
                let capacity = previous
                    .map_or(FIRST_CHUNK, |p| (p * 2).min(MAX_CHUNK))
                    .max(need);
                let chunk = Chunk::new(self.end, capacity, counter, arrival_ms);
                let entry = chunk
                    .entry(counter, arrival_ms, 0, key_len)
                    .expect("a chunk's first record is at its bases");
                self.chunks.push_back(chunk);
                entry
            }
        };
        let chunk = self
            .chunks
            .back_mut()
            .expect("a chunk with room was just ensured");
        chunk.bytes.extend_from_slice(partition_key.as_bytes());
        chunk.bytes.extend_from_slice(data);
        chunk.entries.push(entry);
        self.bytes += need;
        let position = self.end;
        self.end += 1;
        position
    }

    /// The record at `position`, if still held.
    pub fn get(&self, position: u64) -> Option<RecordRef<'_>> {
        if position < self.start() || position >= self.end {
            return None;
        }
        let ci = self.chunks.partition_point(|c| c.first <= position) - 1;
        let chunk = &self.chunks[ci];
        Some(chunk.record((position - chunk.first) as usize))
    }

    /// Records from `position` on, in order.
    pub fn iter_from(&self, position: u64) -> impl Iterator<Item = RecordRef<'_>> {
        (position.max(self.start())..self.end).map_while(move |p| self.get(p))
    }

    /// Position of the first record whose counter is >= `counter` (or [`Self::end`]).
    pub fn position_of_counter(&self, counter: u64) -> u64 {
        self.search(|c, e| c.counter(e) < counter)
    }

    /// Position of the first record that arrived at or after `ms` (or [`Self::end`]).
    pub fn position_at_time(&self, ms: i64) -> u64 {
        self.search(|c, e| c.arrival_ms(e) < ms)
    }

    /// Arrival time of the newest record.
    pub fn last_arrival_ms(&self) -> Option<i64> {
        self.chunks
            .back()
            .and_then(|c| c.entries.last().map(|e| c.arrival_ms(e)))
    }

    /// First position whose entry does not satisfy `before` (entries are sorted by it).
    fn search(&self, before: impl Fn(&Chunk, &Entry) -> bool) -> u64 {
        let ci = self
            .chunks
            .partition_point(|c| c.entries.last().is_some_and(|e| before(c, e)));
        match self.chunks.get(ci) {
            None => self.end,
            Some(c) => c.first + c.entries.partition_point(|e| before(c, e)) as u64,
        }
    }

    /// Drops whole chunks whose newest record arrived before `cutoff_ms`, returning their
    /// memory. Records older than the cutoff in a partly expired chunk stay until the whole
    /// chunk expires; readers skip them with [`Self::position_at_time`].
    pub fn trim_before(&mut self, cutoff_ms: i64) {
        let expired = |c: &Chunk| {
            c.entries
                .last()
                .is_some_and(|e| c.arrival_ms(e) < cutoff_ms)
        };
        while self.chunks.len() > 1 && expired(&self.chunks[0]) {
            let c = self.chunks.pop_front().expect("checked non-empty");
            self.bytes -= c.bytes.len();
        }
        // The last chunk goes too once every record in it has expired.
        if self.chunks.len() == 1 && expired(&self.chunks[0]) {
            self.chunks.clear();
            self.bytes = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_reads_back_across_chunks() {
        let mut log = ShardLog::new();
        let data = vec![7u8; 750];
        for i in 0..10_000u64 {
            let key = format!("key-{i}");
            assert_eq!(log.append(i * 3, 1000 + i as i64, &key, &data), i);
        }
        assert_eq!(log.len(), 10_000);
        for i in [0u64, 1, 5, 4999, 9999] {
            let r = log.get(i).unwrap();
            assert_eq!(r.counter, i * 3);
            assert_eq!(r.partition_key, format!("key-{i}"));
            assert_eq!(r.data.len(), 750);
        }
        assert!(log.get(10_000).is_none());
        assert_eq!(log.iter_from(9_998).count(), 2);
        assert_eq!(log.position_of_counter(0), 0);
        assert_eq!(log.position_of_counter(7), 3);
        assert_eq!(log.position_of_counter(9), 3);
        assert_eq!(log.position_of_counter(u64::MAX), 10_000);
        assert_eq!(log.position_at_time(1000 + 5000), 5000);
        assert_eq!(log.position_at_time(0), 0);
    }

    #[test]
    fn index_entries_take_16_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
    }

    #[test]
    fn counters_and_times_too_far_apart_for_an_entry_start_a_chunk() {
        let mut log = ShardLog::new();
        let day = 86_400_000i64;
        let records = [
            (5u64, 1_000i64, "a"),
            (6, 1_000, "b"),
            (6 + u64::from(u32::MAX) + 1, 1_001, "c"),
            (6 + u64::from(u32::MAX) + 2, 1_001 + 60 * day, "d"),
            (6 + u64::from(u32::MAX) + 3, 1_002 + 60 * day, ""),
        ];
        for (i, (counter, arrival, data)) in records.iter().enumerate() {
            assert_eq!(
                log.append(*counter, *arrival, "k", data.as_bytes()),
                i as u64
            );
        }
        assert_eq!(log.chunks.len(), 3, "c and d each started one");
        for (i, (counter, arrival, data)) in records.iter().enumerate() {
            let r = log.get(i as u64).unwrap();
            assert_eq!(
                (r.counter, r.arrival_ms, r.data),
                (*counter, *arrival, data.as_bytes())
            );
        }
        assert_eq!(log.position_of_counter(7), 2);
        assert_eq!(log.position_at_time(1_002), 3);
        assert_eq!(log.last_arrival_ms(), Some(1_002 + 60 * day));
    }

    #[test]
    fn large_records_get_their_own_chunk() {
        let mut log = ShardLog::new();
        log.append(1, 1, "a", &[1; 10]);
        log.append(2, 2, "b", &vec![2; 3 << 20]);
        log.append(3, 3, "c", &[3; 10]);
        assert_eq!(log.get(1).unwrap().data.len(), 3 << 20);
        assert_eq!(log.get(2).unwrap().data, &[3; 10]);
    }

    #[test]
    fn trimming_drops_expired_chunks_only() {
        let mut log = ShardLog::new();
        let data = vec![0u8; 100_000];
        for i in 0..100i64 {
            log.append(i as u64, i, "k", &data);
        }
        let before = log.payload_bytes();
        log.trim_before(50);
        assert!(
            log.start() > 0 && log.start() <= 50,
            "start {}",
            log.start()
        );
        assert!(log.payload_bytes() < before);
        assert_eq!(log.get(99).unwrap().counter, 99);
        log.trim_before(1000);
        assert!(log.is_empty());
        assert_eq!(log.end(), 100);
        assert_eq!(log.payload_bytes(), 0);
        assert_eq!(log.append(100, 1001, "k", b"x"), 100);
    }
}
