//! Object keys as Firehose names them:
//! `<prefix>YYYY/MM/DD/HH/<DeliveryStreamName>-<DeliveryStreamVersion>-YYYY-MM-DD-HH-MM-SS-<uuid><extension>`
//! in UTC. A prefix with `!{...}` expressions replaces the `YYYY/MM/DD/HH/` part:
//! `!{timestamp:<Java DateTimeFormatter pattern>}`, `!{firehose:random-string}` (11 characters)
//! and, in the error prefix, `!{firehose:error-output-type}`. An error prefix without
//! expressions gets `<error-output-type>/YYYY/MM/DD/HH/` appended; without an error prefix, failed
//! data goes under `<prefix><error-output-type>/YYYY/MM/DD/HH/`.
//!
//! Everything random in a key (the UUID, the random string) is derived from the delivery stream's
//! incarnation and the buffer position of the batch's first record, and the time is the first
//! record's arrival, so a batch re-delivered after a crash lands on the same key.

use sha2::{Digest, Sha256};

use crate::emulator::dates::UtcTime;

/// Formats `t` with a Java `DateTimeFormatter` pattern (the letters Firehose documents:
/// `yyyy`, `yy`, `MM`, `dd`, `HH`, `mm`, `ss`, `SSS`; `'...'` quotes literal text; anything
/// else is copied).
pub fn java_format(pattern: &str, t: &UtcTime) -> String {
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '\'' {
                out.push(chars[j]);
                j += 1;
            }
            i = j + 1;
            continue;
        }
        let mut run = 1;
        while i + run < chars.len() && chars[i + run] == c {
            run += 1;
        }
        let width = run;
        match c {
            'y' | 'u' if run == 2 => out.push_str(&format!("{:02}", t.year.rem_euclid(100))),
            'y' | 'u' => out.push_str(&format!("{:0width$}", t.year)),
            'M' => out.push_str(&format!("{:0width$}", t.month)),
            'd' => out.push_str(&format!("{:0width$}", t.day)),
            'H' => out.push_str(&format!("{:0width$}", t.hour)),
            'm' => out.push_str(&format!("{:0width$}", t.minute)),
            's' => out.push_str(&format!("{:0width$}", t.second)),
            'S' => out.push_str(&format!("{:03}", t.millis)[..run.min(3)]),
            _ => {
                for _ in 0..run {
                    out.push(c);
                }
            }
        }
        i += run;
    }
    out
}

/// A version-4-shaped UUID derived from `seed`.
pub fn uuid(seed: &[u8]) -> String {
    let h = Sha256::digest(seed);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// 11 lower-case letters and digits derived from `seed` (`!{firehose:random-string}`).
pub fn random_string(seed: &[u8]) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let h = Sha256::new()
        .chain_update(seed)
        .chain_update(b"random-string")
        .finalize();
    h.iter()
        .take(11)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// What an object key is made of.
pub struct KeySpec<'a> {
    /// `Prefix` (or `ErrorOutputPrefix` when `error_type` is set).
    pub prefix: &'a str,
    /// The destination's `Prefix`, used for failed data when there is no error prefix.
    pub main_prefix: &'a str,
    /// Delivery stream name.
    pub name: &'a str,
    /// Delivery stream version.
    pub version: u64,
    /// Arrival of the batch's first record, epoch ms.
    pub arrival_ms: i64,
    /// Deterministic seed of the batch.
    pub seed: &'a [u8],
    /// `http-endpoint-failed`, ... for failed data.
    pub error_type: Option<&'a str>,
    /// File extension, with its dot, or empty.
    pub extension: &'a str,
}

/// The object key of a batch.
pub fn object_key(spec: &KeySpec<'_>) -> String {
    let t = UtcTime::from_ms(spec.arrival_ms);
    let hours = format!("{:04}/{:02}/{:02}/{:02}/", t.year, t.month, t.day, t.hour);
    let prefix = match (spec.error_type, spec.prefix.contains("!{")) {
        (_, true) => expand(spec.prefix, &t, spec.seed, spec.error_type),
        (None, false) => format!("{}{hours}", spec.prefix),
        (Some(kind), false) if spec.prefix.is_empty() => {
            format!("{}{kind}/{hours}", spec.main_prefix)
        }
        (Some(kind), false) => format!("{}{kind}/{hours}", spec.prefix),
    };
    format!(
        "{prefix}{}-{}-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{}{}",
        spec.name,
        spec.version,
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        uuid(spec.seed),
        spec.extension
    )
}

fn expand(prefix: &str, t: &UtcTime, seed: &[u8], error_type: Option<&str>) -> String {
    let mut out = String::new();
    let mut rest = prefix;
    while let Some(i) = rest.find("!{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let expr = &after[..end];
        if let Some(pattern) = expr.strip_prefix("timestamp:") {
            out.push_str(&java_format(pattern, t));
        } else if expr == "firehose:random-string" {
            out.push_str(&random_string(seed));
        } else if expr == "firehose:error-output-type" {
            out.push_str(error_type.unwrap_or_default());
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        let t = UtcTime::from_ms(0);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis),
            (1970, 1, 1, 0, 0, 0, 0)
        );
        // 2024-02-29T23:59:58.123Z
        let t = UtcTime::from_ms(1_709_251_198_123);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis),
            (2024, 2, 29, 23, 59, 58, 123)
        );
    }

    #[test]
    fn java_patterns() {
        let t = UtcTime::from_ms(1_709_251_198_123);
        for (pattern, expected) in [
            ("yyyy/MM/dd", "2024/02/29"),
            ("yyyy-MM-dd'T'HH", "2024-02-29T23"),
            ("yy/mm/ss.SSS", "24/59/58.123"),
            ("'year='yyyy", "year=2024"),
        ] {
            assert_eq!(java_format(pattern, &t), expected, "{pattern}");
        }
    }

    #[test]
    fn keys() {
        let spec = KeySpec {
            prefix: "logs/",
            main_prefix: "logs/",
            name: "ds",
            version: 3,
            arrival_ms: 1_709_251_198_123,
            seed: b"seed",
            error_type: None,
            extension: ".gz",
        };
        let key = object_key(&spec);
        let u = uuid(b"seed");
        assert_eq!(
            key,
            format!("logs/2024/02/29/23/ds-3-2024-02-29-23-59-58-{u}.gz")
        );
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");

        let custom = object_key(&KeySpec {
            prefix: "y=!{timestamp:yyyy}/!{firehose:random-string}/",
            ..spec
        });
        let r = random_string(b"seed");
        assert_eq!(r.len(), 11);
        assert!(custom.starts_with(&format!("y=2024/{r}/ds-3-")), "{custom}");

        let failed = object_key(&KeySpec {
            prefix: "",
            error_type: Some("http-endpoint-failed"),
            extension: "",
            ..spec
        });
        assert!(
            failed.starts_with("logs/http-endpoint-failed/2024/02/29/23/ds-3-"),
            "{failed}"
        );
        let failed = object_key(&KeySpec {
            prefix: "err/!{firehose:error-output-type}/",
            error_type: Some("http-endpoint-failed"),
            extension: "",
            ..spec
        });
        assert!(
            failed.starts_with("err/http-endpoint-failed/ds-3-"),
            "{failed}"
        );
    }
}
