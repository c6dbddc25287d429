//! How KQL writes values as text (`tostring()`, dynamic values): datetimes with seven fractional
//! digits, timespans as `[-][d.]hh:mm:ss[.fffffff]`, reals in .NET's round-trip style.

pub fn format_datetime(ns: i64) -> String {
    taskhunt_events::Timestamp::from_unix_nanos(ns as i128).to_string()
}

pub fn format_timespan(ns: i64) -> String {
    let neg = ns < 0;
    let ticks = (ns as i128).abs() / 100;
    let frac = ticks % 10_000_000;
    let secs = ticks / 10_000_000;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if d > 0 {
        out.push_str(&format!("{d}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if frac > 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    out
}

pub fn format_real(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..15).contains(&exp) { format!("{v}") } else { format!("{mantissa}E{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_kusto() {
        assert_eq!(format_datetime(1_565_791_604_495_674_800), "2019-08-14T14:06:44.4956748Z");
        assert_eq!(format_timespan(86_400_000_000_000), "1.00:00:00");
        assert_eq!(format_timespan(5_400_000_000_000), "01:30:00");
        assert_eq!(format_timespan(-1_500_000_000), "-00:00:01.5000000");
        assert_eq!(format_real(1.0), "1");
        assert_eq!(format_real(1.5), "1.5");
        assert_eq!(format_real(1e20), "1E+20");
        assert_eq!(format_real(0.00001), "1E-05");
    }
}
