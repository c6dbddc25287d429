//! Large logs are read in parts, so memory stays bounded by a part whatever the file's size,
//! and the parts add up to exactly what reading the file whole gives.

use std::path::Path;
use taskhunt_events::read::STREAM_ABOVE_BYTES;
use taskhunt_events::read::collect_inputs;
use taskhunt_events::testing::{concat_evtx, evtx_samples};
use taskhunt_events::{Event, ReadOptions, read_file, read_file_parts, read_paths};

const CHUNK: u64 = 65536;

/// One log made of every chunk in use in the corpus, repeated until it is larger than `min`
/// bytes, written to `path`; returns its chunk count.
fn big_log(samples: &Path, path: &Path, min: u64) -> u64 {
    let (files, _) = collect_inputs(&[samples.to_path_buf()]);
    let logs: Vec<Vec<u8>> = files.iter().filter_map(|f| std::fs::read(f).ok()).filter(|d| d.starts_with(b"ElfFile\0")).collect();
    let one = concat_evtx(&logs);
    let mut out = one.clone();
    while (out.len() as u64) <= min {
        out.extend_from_slice(&one[4096..]);
    }
    std::fs::write(path, &out).unwrap();
    (out.len() as u64 - 4096) / CHUNK
}

/// A fresh folder of the test's own, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("taskhunt-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn key(e: &Event) -> (u64, u32, String) {
    (e.record_id, e.event_id, serde_json::to_string(&e.fields).unwrap())
}

#[test]
fn parts_add_up_to_the_whole_file() {
    let Some(samples) = evtx_samples("parts_add_up_to_the_whole_file") else { return };
    let dir = Scratch::new("parts");
    let path = dir.path().join("big.evtx");
    let chunks = big_log(&samples, &path, 20 << 20);
    let whole = read_file(&path);
    assert!(whole.issues.is_empty(), "{:?}", whole.issues.first());
    let mut parts = Vec::new();
    read_file_parts(&path, &mut |p| parts.push(p));
    // 64 chunks a part, and the last part also carries the file's size.
    assert_eq!(parts.len() as u64, chunks.div_ceil(64), "{chunks} chunks");
    assert_eq!(parts.iter().map(|p| p.bytes).sum::<u64>(), std::fs::metadata(&path).unwrap().len());
    assert!(parts.iter().all(|p| p.path == path && p.issues.is_empty()));
    let streamed: Vec<_> = parts.iter().flat_map(|p| p.events.iter().map(key)).collect();
    let expected: Vec<_> = whole.events.iter().map(key).collect();
    assert_eq!(streamed.len(), expected.len());
    assert!(streamed == expected, "the parts differ from the whole read");
}

#[test]
fn read_paths_hands_a_large_log_over_in_parts_and_counts_it_once() {
    let Some(samples) = evtx_samples("read_paths_hands_a_large_log_over_in_parts_and_counts_it_once") else { return };
    let dir = Scratch::new("read-paths-parts");
    let big = dir.path().join("a-big.evtx");
    big_log(&samples, &big, STREAM_ABOVE_BYTES);
    let small = samples.join("Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx");
    std::fs::copy(&small, dir.path().join("b-small.evtx")).unwrap();
    let expected = read_file(&big).events.len() + read_file(&small).events.len();
    let mut deliveries = Vec::new();
    let summary =
        read_paths(&[dir.path().to_path_buf()], &ReadOptions::default(), |b| deliveries.push((b.path, b.events.len())), |_, _| {});
    assert_eq!(summary.files, 2);
    assert_eq!(summary.files_failed, 0);
    assert_eq!(summary.records as usize, expected);
    assert_eq!(deliveries.iter().map(|(_, n)| n).sum::<usize>(), expected);
    // The big file first (input order is kept), in several deliveries, then the small one in one.
    let big_parts = deliveries.iter().take_while(|(p, _)| *p == big).count();
    assert!(big_parts > 1, "{deliveries:?}");
    assert_eq!(deliveries.len(), big_parts + 1);
    assert!(deliveries.last().unwrap().0.ends_with("b-small.evtx"));
}
