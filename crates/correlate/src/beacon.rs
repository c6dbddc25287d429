//! Beacon scoring in the manner RITA scores beacons: connections from one source to one
//! destination are periodic when their intervals are regular (Bowley skew and median absolute
//! deviation), their sizes are regular, they spread over the hours of the day, and they cover
//! the observed period consistently. Jitter of a few percent keeps a high score; a daily
//! updater over a week has too few, too long intervals to look like a beacon.

use serde::Serialize;

/// Connections needed before a pair is scored at all.
pub const MIN_CONNECTIONS: usize = 4;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BeaconScore {
    /// Mean of the four parts, 0–1.
    pub score: f64,
    pub interval: f64,
    pub size: f64,
    pub histogram: f64,
    pub duration: f64,
    pub connections: usize,
    /// Median interval between connections, seconds.
    pub median_interval_secs: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// (Bowley-skew score + MAD score) / 2 of a list of values (intervals or sizes).
pub fn regularity(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let (q1, q2, q3) = (quantile(&v, 0.25), quantile(&v, 0.5), quantile(&v, 0.75));
    let spread = q3 - q1;
    // A tight distribution (or a median sitting on a quartile) has no meaningful skew.
    let skew = if spread < 10.0 || q2 == q1 || q2 == q3 { 0.0 } else { (q1 + q3 - 2.0 * q2) / spread };
    let skew_score = 1.0 - skew.abs();
    let mut dev: Vec<f64> = v.iter().map(|x| (x - q2).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = quantile(&dev, 0.5);
    let mad_score = if q2 >= 1.0 { ((q2 - mad) / q2).max(0.0) } else { 0.0 };
    (skew_score + mad_score) / 2.0
}

/// Hourly spread: 1 − coefficient of variation of the 24 hourly counts (a beacon talks every
/// hour), or the share of the two busiest hours when the pattern is bimodal.
fn histogram_score(times: &[i64]) -> f64 {
    let mut bins = [0f64; 24];
    for t in times {
        bins[(t.rem_euclid(86_400) / 3600) as usize] += 1.0;
    }
    let mean = bins.iter().sum::<f64>() / 24.0;
    if mean == 0.0 {
        return 0.0;
    }
    let sd = (bins.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / 24.0).sqrt();
    let flat = (1.0 - sd / mean).max(0.0);
    let mut sorted = bins;
    sorted.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = bins.iter().sum();
    // Two busy hours that hold (nearly) everything: a twice-daily beacon.
    let bimodal = if total > 0.0 && (sorted[0] + sorted[1]) / total > 0.9 && times.len() >= 8 { 0.9 } else { 0.0 };
    flat.max(bimodal)
}

/// Scores connection times (unix seconds) and optional byte sizes; `span` is the whole
/// dataset's (first, last) seconds, for coverage.
pub fn score(times: &[i64], sizes: &[f64], span: (i64, i64)) -> Option<BeaconScore> {
    if times.len() < MIN_CONNECTIONS {
        return None;
    }
    let mut t = times.to_vec();
    t.sort_unstable();
    let intervals: Vec<f64> = t.windows(2).map(|w| (w[1] - w[0]) as f64).filter(|d| *d > 0.0).collect();
    if intervals.len() < MIN_CONNECTIONS - 1 {
        return None;
    }
    let interval = regularity(&intervals);
    let size = if sizes.len() >= MIN_CONNECTIONS { regularity(sizes) } else { interval };
    let histogram = histogram_score(&t);
    let dataset = (span.1 - span.0).max(1) as f64;
    let coverage = ((t[t.len() - 1] - t[0]) as f64 / dataset).min(1.0);
    // Longest run of consecutive active hours, over 12 hours.
    let mut hours: Vec<i64> = t.iter().map(|x| x.div_euclid(3600)).collect();
    hours.dedup();
    let mut best = 1;
    let mut run = 1;
    for w in hours.windows(2) {
        if w[1] == w[0] + 1 {
            run += 1;
            best = best.max(run);
        } else {
            run = 1;
        }
    }
    let consistency = (best as f64 / 12.0).min(1.0);
    let duration = coverage.max(consistency);
    let mut sorted = intervals.clone();
    sorted.sort_by(f64::total_cmp);
    Some(BeaconScore {
        score: (interval + size + histogram + duration) / 4.0,
        interval,
        size,
        histogram,
        duration,
        connections: t.len(),
        median_interval_secs: quantile(&sorted, 0.5),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic jitter in [-1, 1].
    fn jitter(i: u64) -> f64 {
        let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ 0xD1B5_4A32_D192_ED03;
        (x % 2001) as f64 / 1000.0 - 1.0
    }

    #[test]
    fn ten_minute_beacon_with_jitter_scores_high() {
        let day = 86_400;
        // Every 600 s ± 5%: each interval jitters, as a sleeping implant's would.
        let mut t = 0.0;
        let times: Vec<i64> = (0..(7 * 144))
            .map(|i| {
                t += 600.0 * (1.0 + 0.05 * jitter(i as u64));
                t as i64
            })
            .collect();
        let s = score(&times, &[], (0, 7 * day)).unwrap();
        assert!(s.score > 0.8, "{s:?}");
        assert!((s.median_interval_secs - 600.0).abs() < 40.0);
    }

    #[test]
    fn daily_updater_scores_low() {
        let day = 86_400;
        // Once a day at about 03:00 plus up to an hour of random delay, for a week.
        let times: Vec<i64> = (0..7).map(|d| d * day + 3 * 3600 + (1800.0 * (1.0 + jitter(d as u64))) as i64).collect();
        let s = score(&times, &[], (0, 7 * day)).unwrap();
        assert!(s.score < 0.6, "{s:?}");
        assert!(s.histogram < 0.2);
    }

    #[test]
    fn too_few_connections_are_not_scored() {
        assert!(score(&[0, 600, 1200], &[], (0, 1200)).is_none());
    }

    #[test]
    fn regularity_of_constant_and_spread_values() {
        assert!((regularity(&[600.0; 10]) - 1.0).abs() < 1e-9);
        assert!(regularity(&[10.0, 5000.0, 60.0, 90000.0, 300.0, 7.0]) < 0.6);
    }
}
