//! Shared helpers: simulate a small fleet once per test binary and load what it wrote.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use taskhunt_events::{Event, read_file};
use taskhunt_simulate::{FleetSpec, Summary, simulate};

/// 12 hosts (one server) for four days from Monday, every scenario once.
pub fn small_spec(seed: u64) -> FleetSpec {
    let mut spec = FleetSpec::new(12, 4, seed);
    spec.events_per_host_day = 700;
    spec
}

/// A fresh output folder under cargo's per-test temp dir.
pub fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("simulate").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub struct Loaded {
    pub dir: PathBuf,
    pub summary: Summary,
    /// Events by (file relative to `dir` with `/`, record id).
    pub by_record: HashMap<(String, u64), Event>,
    /// Events of each file in file order.
    pub files: Vec<(String, Vec<Event>)>,
}

pub fn relative(dir: &Path, file: &Path) -> String {
    file.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/")
}

pub fn generate_and_load(name: &str, spec: &FleetSpec) -> Loaded {
    let dir = out_dir(name);
    let summary = simulate(spec, &dir).expect("simulate");
    let mut by_record = HashMap::new();
    let mut files = Vec::new();
    for f in &summary.files {
        let batch = read_file(f);
        assert!(batch.issues.is_empty(), "{}: {:?}", f.display(), batch.issues.first());
        let rel = relative(&dir, f);
        for e in &batch.events {
            by_record.insert((rel.clone(), e.record_id), e.clone());
        }
        files.push((rel, batch.events));
    }
    Loaded { dir, summary, by_record, files }
}

pub fn text(e: &Event, name: &str) -> String {
    e.text(name).map(|t| t.into_owned()).unwrap_or_default()
}

pub fn num(e: &Event, name: &str) -> Option<u64> {
    e.get_str(name).and_then(|v| v.as_u64())
}

/// Decodes standard base64 (test-side, independent of the crate's encoder).
pub fn unbase64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    } as u32;
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

pub fn utf16le(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    String::from_utf16(&units).expect("utf-16")
}
