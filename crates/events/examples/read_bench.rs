//! Reads a folder of telemetry into the event model N times and prints records/s and MB/s.
//! Used by `scripts/bench`; `cargo bench -p taskhunt-events` has the criterion version.

use std::path::PathBuf;
use std::time::Instant;
use taskhunt_events::{ReadOptions, read_paths};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: read_bench DIR [ROUNDS]"));
    let rounds: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(10);
    let (mut records, mut bytes) = (0u64, 0u64);
    let start = Instant::now();
    for _ in 0..rounds {
        let s = read_paths(std::slice::from_ref(&dir), &ReadOptions::default(), |_| {}, |_, _| {});
        records += s.records;
        bytes += s.bytes;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "taskhunt event model: {records} records in {secs:.2}s: {:.0} records/s, {:.1} MB/s",
        records as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
}
