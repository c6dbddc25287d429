//! Event timestamps: UTC, 100-nanosecond ticks, the resolution Windows records.

use std::fmt;

/// Windows FILETIME ticks (100 ns) between 1601-01-01 and 1970-01-01.
const FILETIME_UNIX_OFFSET: i64 = 116_444_736_000_000_000;
const TICKS_PER_SECOND: i64 = 10_000_000;

/// A UTC instant with 100 ns precision, stored as ticks since the Unix epoch.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_ticks(ticks: i64) -> Self {
        Timestamp(ticks)
    }

    /// 100 ns ticks since 1970-01-01T00:00:00Z.
    pub const fn ticks(self) -> i64 {
        self.0
    }

    pub fn from_filetime(filetime: u64) -> Self {
        Timestamp((filetime as i64).wrapping_sub(FILETIME_UNIX_OFFSET))
    }

    pub fn from_unix_nanos(nanos: i128) -> Self {
        Timestamp((nanos / 100) as i64)
    }

    pub fn unix_nanos(self) -> i128 {
        self.0 as i128 * 100
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(TICKS_PER_SECOND)
    }

    /// Parses RFC 3339 / ISO 8601 as found in event exports: `2019-03-19T23:34:26.1234567Z`,
    /// `2019-03-19 23:34:26.123456 UTC`, offsets such as `+02:00`, or a naive time taken as UTC.
    /// Fractions beyond 100 ns are truncated.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let t = t.strip_suffix(" UTC").unwrap_or(t);
        let b = t.as_bytes();
        if b.len() < 19 {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let s = t.get(r)?;
            if !s.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ' || b[10] == b't') {
            return None;
        }
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
            return None;
        }
        if second > 60 {
            return None;
        }
        let mut i = 19;
        let mut frac_ticks = 0i64;
        if i < b.len() && (b[i] == b'.' || b[i] == b',') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 7 {
                    frac_ticks = frac_ticks * 10 + (b[i] - b'0') as i64;
                }
                i += 1;
            }
            let digits = (i - start).min(7);
            if i == start {
                return None;
            }
            frac_ticks *= 10i64.pow(7 - digits as u32);
        }
        let rest = &t[i..];
        let offset_seconds = match rest {
            "" | "Z" | "z" => 0,
            _ => {
                let rb = rest.as_bytes();
                let sign = match rb[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let digits: String = rest[1..].chars().filter(|c| *c != ':').collect();
                if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                let h: i64 = digits[..2].parse().ok()?;
                let m: i64 = digits[2..].parse().ok()?;
                sign * (h * 3600 + m * 60)
            }
        };
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
        Some(Timestamp(secs * TICKS_PER_SECOND + frac_ticks))
    }

    /// RFC 3339 in UTC with all seven fractional digits: `2019-03-19T23:34:26.1234567Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(TICKS_PER_SECOND);
        let frac = self.0.rem_euclid(TICKS_PER_SECOND);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:07}Z", sod / 3600, sod % 3600 / 60, sod % 60)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_with_100ns_precision() {
        let t = Timestamp::parse("2019-03-19T23:34:26.1234567Z").unwrap();
        assert_eq!(t.to_string(), "2019-03-19T23:34:26.1234567Z");
        // 2019-03-19T23:34:26Z is 1553038466 seconds after the epoch (checked with `date -d`).
        assert_eq!(t.unix_seconds(), 1_553_038_466);
        let micro = Timestamp::parse("2019-03-19 23:34:26.123456 UTC").unwrap();
        assert_eq!(micro.ticks(), t.ticks() - 7);
        let offset = Timestamp::parse("2019-03-20T01:34:26.1234567+02:00").unwrap();
        assert_eq!(offset, t);
        assert_eq!(Timestamp::parse("2019-13-19T23:34:26Z"), None);
        assert_eq!(Timestamp::parse("not a time"), None);
    }

    #[test]
    fn filetime_conversion() {
        // FILETIME 132_000_000_000_000_000 = 2019-04-17T18:40:00Z (checked with Python's
        // datetime(1601,1,1) + timedelta(microseconds=13200000000000000)).
        let t = Timestamp::from_filetime(132_000_000_000_000_000);
        assert_eq!(t.to_string(), "2019-04-17T18:40:00.0000000Z");
        assert_eq!(Timestamp::from_ticks(-1).to_string(), "1969-12-31T23:59:59.9999999Z");
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
