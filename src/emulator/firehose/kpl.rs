//! De-aggregation of Kinesis Producer Library (KPL) records, as Firehose does for a Kinesis
//! source: an aggregated record (the magic `F3 89 9A C2`, an `AggregatedRecord` protobuf, and
//! the MD5 of that protobuf) is delivered as the user records it holds. Anything else,
//! including a record that only looks aggregated (bad checksum, malformed protobuf), is
//! delivered as it is.

use bytes::Bytes;
use md5::{Digest, Md5};

/// The KPL aggregation magic.
const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];

/// Reads a protobuf varint at `*at`.
fn varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The fields of a protobuf message: (field number, length-delimited payload range) for
/// wire type 2; other wire types are skipped. `None` when malformed.
fn fields(buf: &[u8]) -> Option<Vec<(u64, std::ops::Range<usize>)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let key = varint(buf, &mut at)?;
        match key & 7 {
            0 => {
                varint(buf, &mut at)?;
            }
            1 => at = at.checked_add(8).filter(|e| *e <= buf.len())?,
            2 => {
                let len = usize::try_from(varint(buf, &mut at)?).ok()?;
                let end = at.checked_add(len).filter(|e| *e <= buf.len())?;
                out.push((key >> 3, at..end));
                at = end;
            }
            5 => at = at.checked_add(4).filter(|e| *e <= buf.len())?,
            _ => return None,
        }
    }
    Some(out)
}

/// The user records of `record`: its sub-records when it is a valid KPL aggregate, else itself.
pub fn deaggregate(record: Bytes) -> Vec<Bytes> {
    let Some(rest) = record.strip_prefix(&MAGIC) else {
        return vec![record];
    };
    if rest.len() < 16 {
        return vec![record];
    }
    let (message, digest) = rest.split_at(rest.len() - 16);
    if Md5::digest(message).as_slice() != digest {
        return vec![record];
    }
    let Some(top) = fields(message) else {
        return vec![record];
    };
    let mut out = Vec::new();
    for (number, range) in top {
        // Field 3: `repeated Record records`; in a Record, field 3 is `required bytes data`.
        if number != 3 {
            continue;
        }
        let sub = &message[range.clone()];
        let Some(sub_fields) = fields(sub) else {
            return vec![record];
        };
        let Some((_, data)) = sub_fields.into_iter().find(|(n, _)| *n == 3) else {
            return vec![record];
        };
        let start = MAGIC.len() + range.start + data.start;
        out.push(record.slice(start..start + data.len()));
    }
    if out.is_empty() {
        return vec![record];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![((number << 3) | 2) as u8, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    fn aggregate(records: &[&[u8]]) -> Vec<u8> {
        let mut message = field(1, b"pk");
        for r in records {
            let mut sub = vec![0x08, 0x00]; // partition_key_index = 0
            sub.extend(field(3, r));
            message.extend(field(3, &sub));
        }
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&message);
        out.extend_from_slice(&Md5::digest(&message));
        out
    }

    #[test]
    fn aggregates_are_split_and_everything_else_kept() {
        let agg = aggregate(&[b"one", b"", b"three"]);
        let out = deaggregate(Bytes::from(agg.clone()));
        assert_eq!(out, [&b"one"[..], b"", b"three"]);

        let mut corrupt = agg.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 1;
        assert_eq!(deaggregate(Bytes::from(corrupt.clone())), [corrupt]);

        for plain in [&b"plain"[..], b"", &MAGIC, b"\xF3\x89\x9A\xC2short"] {
            assert_eq!(deaggregate(Bytes::copy_from_slice(plain)), [plain]);
        }
    }
}
