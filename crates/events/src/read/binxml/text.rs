//! The text of values: numbers, hexadecimal, GUIDs, SIDs, times and UTF-16 strings, each
//! written the way the evtx crate (and Windows) writes it, straight into a `String`.

use super::values::{Res, bytes};

// Numbers are written digit by digit: `write!` goes through the formatting machinery, which
// costs more than the rest of rendering a timestamp.

pub(super) fn push_uint(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

pub(super) fn push_int(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    push_uint(out, v.unsigned_abs());
}

/// `v` in exactly `width` digits, zero-padded (`v` has no more digits than that).
fn push_padded(out: &mut String, mut v: u64, width: usize) {
    let mut digits = [b'0'; 8];
    for d in digits[..width].iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend(digits[..width].iter().map(|&d| char::from(d)));
}

pub(super) fn hex_digit(n: u8, ten: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { ten + n - 10 })
}

pub(super) fn hex(v: u64, out: &mut String) {
    out.push_str("0x");
    let digits = (64 - v.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(hex_digit((v >> (4 * i)) as u8 & 15, b'a'));
    }
}

/// `{d1-d2-d3-d4-d5}` lowercase, the first three groups little-endian as GUIDs store them.
pub(super) fn guid(b: &[u8; 16], out: &mut String) {
    out.push('{');
    for (i, &at) in [3usize, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15].iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(hex_digit(b[at] >> 4, b'a'));
        out.push(hex_digit(b[at] & 15, b'a'));
    }
    out.push('}');
}

/// `S-<revision>-<authority>-<sub>...`: the authority is 48-bit big-endian, the
/// sub-authorities 32-bit little-endian, as many as the count byte says.
pub(super) fn sid(b: &[u8], out: &mut String) {
    let [revision, count, a @ ..] = b else {
        out.push_str("S-?");
        return;
    };
    let Some(auth) = a.get(..6) else {
        out.push_str("S-?");
        return;
    };
    let authority = auth.iter().fold(0u64, |acc, &x| acc << 8 | x as u64);
    out.push_str("S-");
    push_uint(out, *revision as u64);
    out.push('-');
    push_uint(out, authority);
    for sub in a[6..].chunks_exact(4).take(*count as usize) {
        out.push('-');
        push_uint(out, u32::from_le_bytes([sub[0], sub[1], sub[2], sub[3]]) as u64);
    }
}

const TICKS_PER_SECOND: u64 = 10_000_000;
pub(super) const TICKS_PER_DAY: u64 = 86_400 * TICKS_PER_SECOND;

/// A FILETIME as Windows shows it. Years past 9999 keep their last four digits, and values
/// past `i64::MAX` (which Windows rejects) show as all zeros, as the evtx crate shows them.
pub(super) fn filetime(ft: u64, out: &mut String) {
    if ft > i64::MAX as u64 {
        out.push_str("0000-00-00T00:00:00.0000000Z");
        return;
    }
    let (days, ticks) = (ft / TICKS_PER_DAY, ft % TICKS_PER_DAY);
    let (y, m, d) = civil_since_1601(days);
    let secs = ticks / TICKS_PER_SECOND;
    push_datetime(out, [y % 10_000, m, d, secs / 3600, secs / 60 % 60, secs % 60], ticks % TICKS_PER_SECOND);
}

/// The proleptic Gregorian date `days` after 1601-01-01, counted in 400-year eras from
/// 1600-03-01 so that leap days fall at the end of each counted year (Howard Hinnant's
/// `civil_from_days`).
fn civil_since_1601(days: u64) -> (u64, u64, u64) {
    // 1600-03-01 is 306 days before 1601-01-01.
    let z = days + 306;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = 1600 + era * 400 + yoe + u64::from(m <= 2);
    (y, m, d)
}

/// A SYSTEMTIME as Windows shows it; one that is not a valid time shows as 1601-01-01.
pub(super) fn systime(b: &[u8; 16], out: &mut String) {
    let f = |i: usize| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]) as u64;
    let (y, mo, d, h, mi, s, ms) = (f(0), f(1), f(3), f(4), f(5), f(6), f(7));
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match mo {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let valid =
        (1601..=30827).contains(&y) && (1..=12).contains(&mo) && (1..=month_days).contains(&d) && h < 24 && mi < 60 && s < 60 && ms < 1000;
    if valid {
        push_datetime(out, [y % 10_000, mo, d, h, mi, s], ms * 10_000);
    } else {
        push_datetime(out, [1601, 1, 1, 0, 0, 0], 0);
    }
}

/// `YYYY-MM-DDThh:mm:ss.fffffffZ`; every part fits its width (years are taken mod 10,000).
fn push_datetime(out: &mut String, [y, mo, d, h, mi, s]: [u64; 6], ticks: u64) {
    push_padded(out, y, 4);
    for (sep, v) in [('-', mo), ('-', d), ('T', h), (':', mi), (':', s)] {
        out.push(sep);
        push_padded(out, v, 2);
    }
    out.push('.');
    push_padded(out, ticks, 7);
    out.push('Z');
}

/// UTF-16LE to UTF-8; unpaired surrogates become U+FFFD.
pub(super) fn utf16_lossy(data: &[u8], off: usize, units: usize, out: &mut String) -> Res<()> {
    let raw = bytes(data, off, units * 2, "string")?;
    out.reserve(units);
    // Most event text is ASCII, with a few other characters (`®`, accents) here and there:
    // taken 64 units at a time, ASCII blocks go through a stack buffer in one piece, and
    // only the other blocks are decoded character by character.
    let mut block = [0u8; 64];
    let mut rest = raw;
    while !rest.is_empty() {
        let mut n = rest.len().min(128);
        let (low, high) = rest[..n].chunks_exact(2).fold((0u8, 0u8), |(l, h), c| (l | c[0], h | c[1]));
        if high == 0 && low < 0x80 {
            for (b, c) in block.iter_mut().zip(rest[..n].chunks_exact(2)) {
                *b = c[0];
            }
            if let Ok(ascii) = std::str::from_utf8(&block[..n / 2]) {
                out.push_str(ascii);
            }
        } else {
            // A surrogate pair must not be split between blocks.
            if n < rest.len() && (0xd8..0xdc).contains(&rest[n - 1]) {
                n += 2;
            }
            let units = rest[..n].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
            out.extend(char::decode_utf16(units).map(|r| r.unwrap_or('\u{fffd}')));
        }
        rest = &rest[n..];
    }
    Ok(())
}
