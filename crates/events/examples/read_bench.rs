//! Reads a folder of telemetry into the event model N times and prints records/s and MB/s.
//! Used by `scripts/bench`; `cargo bench -p taskhunt-events` has the criterion version.
//!
//! `read_bench DIR [ROUNDS] [own|crate|own-mem|crate-mem|own-big|crate-big]`: without the
//! third argument, `read_paths` reads the folder as `taskhunt events` does. With it, every
//! file is read on its own in parallel, `.evtx` through our decoder (`own`) or through the
//! evtx crate's JSON as before it (`crate`), so that the two compare on the same footing;
//! the `-mem` forms load the `.evtx` files first and time decoding alone, and the `-big`
//! forms decode one file made of all their chunks (`testing::concat_evtx`), which only
//! chunk-level parallelism can spread over the cores.

use rayon::prelude::*;
use std::path::PathBuf;
use std::time::Instant;
use taskhunt_events::read::collect_inputs;
use taskhunt_events::testing::{concat_evtx, read_evtx_bytes, read_evtx_with_crate};
use taskhunt_events::{ReadOptions, read_file, read_paths};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: read_bench DIR [ROUNDS] [own|crate]"));
    let rounds: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(10);
    let decoder = args.next();
    let (files, _) = collect_inputs(std::slice::from_ref(&dir));
    let loaded: Vec<(PathBuf, Vec<u8>)> = match decoder.as_deref() {
        Some(m) if m.ends_with("-mem") || m.ends_with("-big") => files
            .iter()
            .filter_map(|f| std::fs::read(f).ok().map(|d| (f.clone(), d)))
            .filter(|(_, d)| d.starts_with(b"ElfFile\0"))
            .collect(),
        _ => Vec::new(),
    };
    let big = match decoder.as_deref() {
        Some(m) if m.ends_with("-big") => {
            let data: Vec<Vec<u8>> = loaded.iter().map(|(_, d)| d.clone()).collect();
            let big = concat_evtx(&data);
            eprintln!("one file of {} chunks, {:.1} MB", (big.len() - 4096) / 65536, big.len() as f64 / 1e6);
            big
        }
        _ => Vec::new(),
    };
    let (mut records, mut bytes) = (0u64, 0u64);
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    for _ in 0..rounds {
        match decoder.as_deref() {
            None => {
                let s = read_paths(std::slice::from_ref(&dir), &ReadOptions::default(), |_| {}, |_, _| {});
                records += s.records;
                bytes += s.bytes;
            }
            Some(which) if which.ends_with("-big") => {
                let with_crate = which.starts_with("crate");
                records += read_evtx_bytes(&dir, &big, with_crate).events.len() as u64;
                bytes += big.len() as u64;
            }
            Some(which) if which.ends_with("-mem") => {
                let with_crate = which.starts_with("crate");
                let counts: Vec<u64> = loaded.par_iter().map(|(f, d)| read_evtx_bytes(f, d, with_crate).events.len() as u64).collect();
                records += counts.iter().sum::<u64>();
                bytes += loaded.iter().map(|(_, d)| d.len() as u64).sum::<u64>();
            }
            Some(which) => {
                let read = if which == "crate" { read_evtx_with_crate } else { read_file };
                let counts: Vec<(u64, u64)> = files
                    .par_iter()
                    .map(|f| {
                        let b = read(f);
                        (b.events.len() as u64, b.bytes)
                    })
                    .collect();
                records += counts.iter().map(|c| c.0).sum::<u64>();
                bytes += counts.iter().map(|c| c.1).sum::<u64>();
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu_start).map(|(end, start)| end - start);
    let label = match decoder.as_deref() {
        Some("crate") => "evtx crate JSON (previous reader)",
        Some("crate-mem") => "evtx crate JSON (previous reader), decoding only",
        Some("own-mem") => "own decoder, decoding only",
        Some("own-big") => "own decoder, one large file",
        Some("crate-big") => "evtx crate JSON (previous reader), one large file",
        Some(_) => "own decoder, files in parallel",
        None => "taskhunt event model",
    };
    // Other work on the machine slows the clock but not the CPU time the work took.
    let cpu = cpu.map_or(String::new(), |cpu| format!(" (CPU {cpu:.2}s: {:.0} records per CPU-second)", records as f64 / cpu));
    println!(
        "{label}: {records} records in {secs:.2}s: {:.0} records/s, {:.1} MB/s{cpu}",
        records as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
}

/// User and system CPU time of the whole process so far, from /proc (Linux only).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // Clock ticks are 1/100 s on Linux.
    Some(ticks / 100.0)
}
