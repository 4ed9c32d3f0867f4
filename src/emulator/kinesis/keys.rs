//! The numbers Kinesis clients see: MD5 hash keys, AWS's even split of the 128-bit hash key
//! space into shards, shard IDs and 56-digit sequence numbers.

use md5::{Digest, Md5};

/// The hash key of a partition key: its MD5 digest read as a big-endian 128-bit integer.
pub fn hash_key(partition_key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// Parses an ExplicitHashKey: a decimal integer in `0..=2^128-1`.
pub fn parse_hash_key(text: &str) -> Option<u128> {
    if text.is_empty() || text.len() > 39 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The `(start, end)` hash key range of shard `index` of `count` shards splitting the space
/// evenly, as AWS does: shard i starts at floor(i * 2^128 / count) and ends where the next
/// begins, the last one at 2^128 - 1.
pub fn even_range(index: u32, count: u32) -> (u128, u128) {
    let start = split_point(index, count);
    let end = if index + 1 == count {
        u128::MAX
    } else {
        split_point(index + 1, count) - 1
    };
    (start, end)
}

/// floor(i * 2^128 / n) without overflow.
fn split_point(i: u32, n: u32) -> u128 {
    let n = n as u128;
    let i = i as u128;
    let quotient = u128::MAX / n; // floor((2^128 - 1) / n)
    let remainder = u128::MAX % n + 1; // (2^128 - 1) % n + 1, i.e. 2^128 - quotient * n
    // 2^128 = quotient * n + remainder, and remainder may equal n.
    i * quotient + (i * remainder) / n
}

/// `shardId-000000000007` for index 7.
pub fn shard_id(index: u32) -> String {
    format!("shardId-{index:012}")
}

/// The index of a shard ID, accepting AWS's form and the bare 12 digits some clients send.
pub fn parse_shard_id(id: &str) -> Option<u32> {
    let digits = id.strip_prefix("shardId-").unwrap_or(id);
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A sequence number: 56 digits, `49`, 14 digits identifying the stream's incarnation, a
/// 20-digit counter that increases across the whole stream (so children's numbers exceed their
/// parents'), and the 20-digit shard index.
pub fn sequence_number(stream_tag: u64, counter: u64, shard: u32) -> String {
    // Written digit by digit: one is made for every record written, and `format!` with
    // zero-padded widths costs several times as much.
    let mut digits = [b'0'; 56];
    digits[..2].copy_from_slice(b"49");
    write_padded(&mut digits[2..16], stream_tag % 100_000_000_000_000);
    write_padded(&mut digits[16..36], counter);
    write_padded(&mut digits[36..], u64::from(shard));
    String::from_utf8(digits.to_vec()).expect("ASCII digits")
}

/// Writes `value` in decimal into all of `out`, zero-padded on the left (the caller's width
/// holds every digit).
fn write_padded(out: &mut [u8], mut value: u64) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// The parts of a sequence number written by [`sequence_number`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequenceParts {
    /// Stream incarnation.
    pub stream_tag: u64,
    /// Counter.
    pub counter: u64,
    /// Shard index.
    pub shard: u32,
}

/// Parses a sequence number written by [`sequence_number`].
pub fn parse_sequence_number(text: &str) -> Option<SequenceParts> {
    if text.len() != 56 || !text.starts_with("49") || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(SequenceParts {
        stream_tag: text[2..16].parse().ok()?,
        counter: text[16..36].parse().ok()?,
        shard: u32::try_from(text[36..56].parse::<u64>().ok()?).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_are_56_digits_that_parse_back() {
        let cases = [
            (1_700_000_000_000, 0, 0),
            (123_456_789_012_345, 42, 7),
            (u64::MAX, u64::MAX, u32::MAX),
        ];
        for (stream_tag, counter, shard) in cases {
            let text = sequence_number(stream_tag, counter, shard);
            assert_eq!(
                text,
                format!(
                    "49{:014}{counter:020}{shard:020}",
                    stream_tag % 100_000_000_000_000
                )
            );
            assert_eq!(
                parse_sequence_number(&text),
                Some(SequenceParts {
                    stream_tag: stream_tag % 100_000_000_000_000,
                    counter,
                    shard,
                })
            );
        }
    }

    #[test]
    fn md5_hash_keys_match_aws() {
        // Values from AWS documentation and SDK examples.
        assert_eq!(hash_key(""), 0xd41d8cd98f00b204e9800998ecf8427e);
        assert_eq!(hash_key("a"), 0x0cc175b9c0f1b6a831c399e269772661);
    }

    #[test]
    fn even_split_matches_aws_ranges() {
        let cases: &[(u32, &[(&str, &str)])] = &[
            (1, &[("0", "340282366920938463463374607431768211455")]),
            (
                2,
                &[
                    ("0", "170141183460469231731687303715884105727"),
                    (
                        "170141183460469231731687303715884105728",
                        "340282366920938463463374607431768211455",
                    ),
                ],
            ),
            (
                3,
                &[
                    ("0", "113427455640312821154458202477256070484"),
                    (
                        "113427455640312821154458202477256070485",
                        "226854911280625642308916404954512140969",
                    ),
                    (
                        "226854911280625642308916404954512140970",
                        "340282366920938463463374607431768211455",
                    ),
                ],
            ),
        ];
        for (count, ranges) in cases {
            for (i, (start, end)) in ranges.iter().enumerate() {
                let (s, e) = even_range(i as u32, *count);
                assert_eq!(
                    (s.to_string(), e.to_string()),
                    (start.to_string(), end.to_string()),
                    "{i} of {count}"
                );
            }
        }
        for count in 1..=300 {
            let mut next = 0u128;
            for i in 0..count {
                let (s, e) = even_range(i, count);
                assert_eq!(s, next, "contiguous at {i} of {count}");
                assert!(e >= s);
                next = e.wrapping_add(1);
            }
            assert_eq!(even_range(count - 1, count).1, u128::MAX);
        }
    }

    #[test]
    fn sequence_numbers_are_56_digits_and_round_trip() {
        let s = sequence_number(1_700_000_000_123, 42, 7);
        assert_eq!(s.len(), 56);
        assert!(s.starts_with("49"));
        assert_eq!(
            parse_sequence_number(&s),
            Some(SequenceParts {
                stream_tag: 1_700_000_000_123,
                counter: 42,
                shard: 7
            })
        );
        assert!(sequence_number(1, 43, 0) > sequence_number(1, 42, 9));
        for bad in ["", "1", "x".repeat(56).as_str(), &"1".repeat(56)] {
            assert_eq!(parse_sequence_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn shard_ids() {
        assert_eq!(shard_id(7), "shardId-000000000007");
        assert_eq!(parse_shard_id("shardId-000000000007"), Some(7));
        assert_eq!(parse_shard_id("000000000007"), Some(7));
        assert_eq!(parse_shard_id("shard-7"), None);
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211455"),
            Some(u128::MAX)
        );
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211456"),
            None
        );
        assert_eq!(parse_hash_key("-1"), None);
    }
}
