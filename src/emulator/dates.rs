//! Calendar arithmetic and the date formats the emulated services write and read, in one
//! place so that every service agrees on them: ISO 8601 (S3 and IAM bodies), RFC 1123 (HTTP
//! headers), SigV4's basic `20260101T000000Z`, and the UTC fields Firehose builds object keys
//! from. All times are UTC; the conversions are Howard Hinnant's `days_from_civil` /
//! `civil_from_days`, exact over the whole proleptic Gregorian calendar, so no date crate is
//! needed.

use std::time::{Duration, UNIX_EPOCH};

/// Three-letter English month names, January first.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Three-letter English weekday names, Monday first (the order of [`UtcTime::weekday`]).
pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A UTC date and time split into its calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    /// Year (proleptic Gregorian; may be negative).
    pub year: i64,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of month, 1..=31.
    pub day: u32,
    /// Hour, 0..=23.
    pub hour: u32,
    /// Minute, 0..=59.
    pub minute: u32,
    /// Second, 0..=59.
    pub second: u32,
    /// Millisecond, 0..=999.
    pub millis: u32,
    /// Day of the week, 0 = Monday ..= 6 = Sunday.
    pub weekday: u32,
}

impl UtcTime {
    /// The UTC date and time of `ms` milliseconds since the Unix epoch (negative is before 1970).
    pub fn from_ms(ms: i64) -> UtcTime {
        let secs = ms.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        UtcTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            millis: ms.rem_euclid(1000) as u32,
            // 1970-01-01 was a Thursday (3 with Monday as 0).
            weekday: (days + 3).rem_euclid(7) as u32,
        }
    }
}

/// Year, month (1..=12) and day (1..=31) of `days` since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of `year`-`month`-`day` (month 1..=12; a day past the month's end
/// rolls into the next month, as the arithmetic does).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `ms` (epoch milliseconds) as ISO 8601 UTC with milliseconds, `2026-01-02T03:04:05.678Z`
/// (S3's XML bodies).
pub fn iso8601_millis(ms: i64) -> String {
    let t = UtcTime::from_ms(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis
    )
}

/// `secs` (epoch seconds) as ISO 8601 UTC in whole seconds, `2026-12-07T10:00:00Z` (IAM's
/// bodies and `aws:CurrentTime`).
pub fn iso8601_seconds(secs: i64) -> String {
    let t = UtcTime::from_ms(secs.saturating_mul(1000));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// `ms` (epoch milliseconds) as an HTTP date (RFC 1123, whole seconds),
/// `Sun, 30 Aug 2015 12:36:00 GMT`; times before 1970 print as the epoch.
pub fn http_date(ms: i64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
}

/// An HTTP date (RFC 1123, RFC 850 or asctime) as epoch milliseconds.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// SigV4's basic ISO 8601 `20260101T000000Z` (`X-Amz-Date`) as epoch milliseconds.
pub fn parse_amz_date(text: &str) -> Option<i64> {
    if text.len() != 16 || text.get(8..9) != Some("T") || !text.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    let days = days_from_civil(y, m, d);
    Some(((days * 86_400) + hh * 3600 + mm * 60 + ss) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_across_leap_years_and_eras() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }

    #[test]
    fn splits_fields_and_weekdays() {
        let t = UtcTime::from_ms(1_421_889_722_345);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis),
            (2015, 1, 22, 1, 22, 2, 345)
        );
        assert_eq!(WEEKDAYS[t.weekday as usize], "Thu");
        assert_eq!(WEEKDAYS[UtcTime::from_ms(0).weekday as usize], "Thu");
        assert_eq!(WEEKDAYS[UtcTime::from_ms(-1).weekday as usize], "Wed");
        let before = UtcTime::from_ms(-1);
        assert_eq!((before.year, before.second, before.millis), (1969, 59, 999));
    }

    #[test]
    fn formats_iso8601_both_ways() {
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601_millis(1_440_938_160_123),
            "2015-08-30T12:36:00.123Z"
        );
        assert_eq!(iso8601_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601_seconds(1_796_637_600), "2026-12-07T10:00:00Z");
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            http_date(1_440_938_160_123),
            "Sun, 30 Aug 2015 12:36:00 GMT"
        );
        assert_eq!(
            parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"),
            Some(1_440_938_160_000)
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn amz_dates() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160_000));
        assert_eq!(parse_amz_date("2015-08-30"), None);
        assert_eq!(parse_amz_date("2015083éT12360Z"), None);
    }
}
