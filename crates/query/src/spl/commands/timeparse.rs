//! Splunk time modifiers (`earliest=-7d@d`, `latest=now`) and time-format translation. All
//! times are UTC.

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};

/// A time modifier → Unix nanoseconds, relative to `now_ns`.
pub fn parse_time(text: &str, now_ns: i128) -> Result<i128, String> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("now") {
        return Ok(now_ns);
    }
    if let Ok(secs) = t.parse::<f64>()
        && secs.is_finite()
        && !t.starts_with(['+', '-'])
    {
        return Ok((secs * 1e9) as i128);
    }
    if let Some(ts) = taskhunt_events::Timestamp::parse(t) {
        return Ok(ts.unix_nanos());
    }
    if let Ok(bdt) = jiff::fmt::strtime::parse("%m/%d/%Y:%H:%M:%S", t) {
        let dt = bdt.to_datetime().map_err(|e| e.to_string())?;
        let z = dt.to_zoned(TimeZone::UTC).map_err(|e| e.to_string())?;
        return Ok(z.timestamp().as_nanosecond());
    }
    relative(t, now_ns).ok_or_else(|| format!("`{text}` is not a time: use -24h, -7d@d, now, epoch seconds, %m/%d/%Y:%H:%M:%S or RFC 3339"))
}

fn unit_of(u: &str) -> Option<&'static str> {
    Some(match u.to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        "d" | "day" | "days" => "d",
        "w" | "week" | "weeks" => "w",
        "mon" | "month" | "months" => "mon",
        "q" | "qtr" | "qtrs" | "quarter" | "quarters" => "q",
        "y" | "yr" | "yrs" | "year" | "years" => "y",
        _ => return None,
    })
}

/// `[+-][N]unit[@snap]` or `@snap`.
fn relative(t: &str, now_ns: i128) -> Option<i128> {
    let now = Timestamp::from_nanosecond(now_ns).ok()?.to_zoned(TimeZone::UTC);
    let (offset, snap) = match t.split_once('@') {
        Some((o, s)) => (o, Some(s)),
        None => (t, None),
    };
    let mut z = now;
    if !offset.is_empty() {
        let sign: i64 = match offset.as_bytes()[0] {
            b'-' => -1,
            b'+' => 1,
            _ => return None,
        };
        let body = &offset[1..];
        let digits = body.find(|c: char| !c.is_ascii_digit()).unwrap_or(body.len());
        let n: i64 = if digits == 0 { 1 } else { body[..digits].parse().ok()? };
        let n = n.checked_mul(sign)?;
        let span = match unit_of(&body[digits..])? {
            "s" => Span::new().try_seconds(n),
            "m" => Span::new().try_minutes(n),
            "h" => Span::new().try_hours(n),
            "d" => Span::new().try_days(n),
            "w" => Span::new().try_weeks(n),
            "mon" => Span::new().try_months(n),
            "q" => Span::new().try_months(n.checked_mul(3)?),
            _ => Span::new().try_years(n),
        }
        .ok()?;
        z = z.checked_add(span).ok()?;
    }
    if let Some(snap) = snap {
        z = snap_to(&z, snap)?;
    }
    Some(z.timestamp().as_nanosecond())
}

fn snap_to(z: &Zoned, snap: &str) -> Option<Zoned> {
    let lower = snap.to_ascii_lowercase();
    if let Some(day) = lower.strip_prefix('w').filter(|d| d.len() == 1 && d.as_bytes()[0].is_ascii_digit()) {
        // @w0 = Sunday ... @w6 = Saturday.
        let want: i8 = day.parse().ok().filter(|d| *d <= 6)?;
        let back = (z.weekday().to_sunday_zero_offset() - want).rem_euclid(7);
        return z.start_of_day().ok()?.checked_sub(Span::new().try_days(back as i64).ok()?).ok();
    }
    match unit_of(&lower)? {
        "s" => z.with().subsec_nanosecond(0).build().ok(),
        "m" => z.with().second(0).subsec_nanosecond(0).build().ok(),
        "h" => z.with().minute(0).second(0).subsec_nanosecond(0).build().ok(),
        "d" => z.start_of_day().ok(),
        "w" => snap_to(z, "w0"),
        "mon" => z.first_of_month().ok()?.start_of_day().ok(),
        "q" => {
            let m = z.first_of_month().ok()?.start_of_day().ok()?;
            let back = (m.month() - 1) % 3;
            m.checked_sub(Span::new().try_months(back as i64).ok()?).ok()
        }
        _ => z.first_of_year().ok()?.start_of_day().ok(),
    }
}

/// Splunk's time-format extensions → jiff's: `%N`/`%3N` (subseconds), `%Q` (milliseconds).
pub fn jiff_format(fmt: &str) -> String {
    let mut out = String::with_capacity(fmt.len());
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        match chars.next() {
            Some('N') => out.push_str(&format!("%{}f", if digits.is_empty() { "9" } else { &digits })),
            Some('Q') => out.push_str("%3f"),
            Some(other) => {
                out.push('%');
                out.push_str(&digits);
                out.push(other);
            }
            None => {
                out.push('%');
                out.push_str(&digits);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i128 {
        taskhunt_events::Timestamp::parse(s).unwrap().unix_nanos()
    }

    #[test]
    fn modifiers() {
        let now = at("2019-08-14T14:06:44.5Z");
        assert_eq!(parse_time("now", now).unwrap(), now);
        assert_eq!(parse_time("-24h", now).unwrap(), at("2019-08-13T14:06:44.5Z"));
        assert_eq!(parse_time("-7d@d", now).unwrap(), at("2019-08-07T00:00:00Z"));
        assert_eq!(parse_time("@h", now).unwrap(), at("2019-08-14T14:00:00Z"));
        assert_eq!(parse_time("-1mon@mon", now).unwrap(), at("2019-07-01T00:00:00Z"));
        // 2019-08-14 was a Wednesday.
        assert_eq!(parse_time("@w0", now).unwrap(), at("2019-08-11T00:00:00Z"));
        assert_eq!(parse_time("@w1", now).unwrap(), at("2019-08-12T00:00:00Z"));
        assert_eq!(parse_time("@q", now).unwrap(), at("2019-07-01T00:00:00Z"));
        assert_eq!(parse_time("08/14/2019:00:00:00", now).unwrap(), at("2019-08-14T00:00:00Z"));
        assert_eq!(parse_time("1565791604", now).unwrap(), at("2019-08-14T14:06:44Z"));
        assert!(parse_time("-99999999999999y", now).is_err());
        assert!(parse_time("yesterday", now).is_err());
        assert!(parse_time("-5x", now).is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(jiff_format("%Y-%m-%d %H:%M:%S.%3N"), "%Y-%m-%d %H:%M:%S.%3f");
        assert_eq!(jiff_format("%s.%Q %"), "%s.%3f %");
    }
}
