//! Peak memory of reading, as `taskhunt events` reads: does it grow with the input?
//!
//!     read_memory corpus DIR ROUNDS       read DIR ROUNDS times over in one process
//!     read_memory write-big DIR MIB OUT   write OUT, one .evtx of about MIB MiB made of DIR's chunks
//!     read_memory file PATH               read one file
//!
//! The reading modes print the records read and the process's peak resident set (VmHWM). Run it with
//! different ROUNDS or MIB (`scripts/bench-memory` does): the peak should stay flat.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use taskhunt_events::read::collect_inputs;
use taskhunt_events::testing::concat_evtx;
use taskhunt_events::{ReadOptions, read_paths};

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: read_memory corpus DIR ROUNDS | read_memory big DIR MIB";
    let mode = args.next().expect(usage);
    let dir = PathBuf::from(args.next().expect(usage));
    let started = Instant::now();
    let (records, bytes) = match mode.as_str() {
        "corpus" => {
            let n: u64 = args.next().and_then(|a| a.parse().ok()).expect(usage);
            let paths: Vec<PathBuf> = (0..n).map(|_| dir.clone()).collect();
            let s = read_paths(&paths, &ReadOptions::default(), |_| {}, |_, _| {});
            (s.records, s.bytes)
        }
        "write-big" => {
            let mib: u64 = args.next().and_then(|a| a.parse().ok()).expect(usage);
            let out = PathBuf::from(args.next().expect(usage));
            write_big_log(&dir, mib << 20, &out);
            println!("wrote {} ({:.0} MiB)", out.display(), size_mib(&out));
            return;
        }
        "file" => {
            let s = read_paths(std::slice::from_ref(&dir), &ReadOptions::default(), |_| {}, |_, _| {});
            (s.records, s.bytes)
        }
        _ => panic!("{usage}"),
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{mode} {}: {records} records, {:.0} MiB read in {secs:.1} s; peak RSS {:.0} MiB",
        std::env::args().skip(2).collect::<Vec<_>>().join(" "),
        bytes as f64 / (1 << 20) as f64,
        peak_rss_kb() as f64 / 1024.0
    );
}

fn size_mib(p: &PathBuf) -> f64 {
    std::fs::metadata(p).map_or(0.0, |m| m.len() as f64 / (1 << 20) as f64)
}

/// A log of about `bytes` made of the corpus' chunks, repeated.
fn write_big_log(dir: &PathBuf, bytes: u64, path: &PathBuf) {
    let (files, _) = collect_inputs(std::slice::from_ref(dir));
    let logs: Vec<Vec<u8>> = files.iter().filter_map(|f| std::fs::read(f).ok()).filter(|d| d.starts_with(b"ElfFile\0")).collect();
    let one = concat_evtx(&logs);
    let body = &one[4096..];
    let copies = (bytes / body.len() as u64).max(1);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("output file"));
    out.write_all(&one[..4096]).expect("write");
    for _ in 0..copies {
        out.write_all(body).expect("write");
    }
    out.flush().expect("write");
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0)
}
