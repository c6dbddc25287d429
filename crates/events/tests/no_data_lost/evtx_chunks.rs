//! `.evtx`: the unit of damage is the 64 KiB chunk. Its checksums cover its records, so noise
//! inside a chunk may cost the whole chunk, but never a record of another chunk, and never a
//! record nobody is told about.

use crate::{MULTI_CHUNK, assert_issues_name, by_id, corpus_files, difference, noise};
use std::collections::HashMap;
use std::path::Path;
use taskhunt_events::{Event, FileBatch, Location, read_bytes, read_file};

const HEADER: usize = 4096;
const CHUNK: usize = 65536;

/// Chunk `index` starts here.
fn chunk_start(index: usize) -> usize {
    HEADER + index * CHUNK
}

/// Chunks in use (with the chunk magic) from the start of the file.
fn chunks_in_use(data: &[u8]) -> usize {
    (0..(data.len() - HEADER) / CHUNK).take_while(|&i| data[chunk_start(i)..].starts_with(b"ElfChnk\0")).count()
}

/// The undamaged read of one corpus file, with each record's chunk.
struct Clean<'a> {
    path: &'a Path,
    events: Vec<Event>,
    chunk_of: HashMap<u64, usize>,
    /// Chunks in use; the corpus files chosen use chunks 0..used, without wrapping around.
    used: usize,
}

impl<'a> Clean<'a> {
    fn new(path: &'a Path, data: &[u8]) -> Self {
        let batch = read_bytes(path, data.to_vec());
        assert!(batch.issues.is_empty(), "{}: {:?}", path.display(), batch.issues);
        // Which chunk each record is in: the file read with every other chunk zeroed, as a
        // chunk never used is. (Chunk headers count records in their own numbering, which
        // need not be the events' EventRecordID.)
        let used = chunks_in_use(data);
        assert!(used >= 3, "{}: a test file needs several chunks", path.display());
        let mut chunk_of = HashMap::new();
        for chunk in 0..used {
            let mut alone = data.to_vec();
            for (i, bytes) in alone[HEADER..].chunks_mut(CHUNK).enumerate().take(used) {
                if i != chunk {
                    bytes.fill(0);
                }
            }
            for e in read_bytes(path, alone).events {
                assert!(chunk_of.insert(e.record_id, chunk).is_none(), "{}: record {} in two chunks", path.display(), e.record_id);
            }
        }
        let ids = by_id(&batch.events);
        assert!(ids.keys().all(|id| chunk_of.contains_key(id)) && ids.len() == chunk_of.len(), "{}: chunks one by one", path.display());
        Clean { path, events: batch.events, chunk_of, used }
    }

    /// Checks a damaged read: every record in `whole` (chunks the damage cannot have touched)
    /// is there exactly once and identical; every record read at all is one of the undamaged
    /// read's and identical to it. Returns, per chunk, how many of its records were not read.
    fn missing_per_chunk(&self, batch: &FileBatch, whole: impl Fn(usize) -> bool, case: &str) -> HashMap<usize, u64> {
        assert_issues_name(batch, self.path, case);
        let clean = by_id(&self.events);
        let mut seen: HashMap<u64, usize> = HashMap::new();
        for e in &batch.events {
            let Some(want) = clean.get(&e.record_id) else {
                // A record the undamaged file does not have can only come out of a damaged
                // chunk whose checksums were not checked; none of these cases is that.
                panic!("{case}: record {} is not in the undamaged read", e.record_id);
            };
            if let Some(what) = difference(e, want) {
                panic!("{case}: record {} differs in its {what} from the undamaged read", e.record_id);
            }
            *seen.entry(e.record_id).or_default() += 1;
        }
        let mut missing = HashMap::new();
        for e in &self.events {
            let chunk = self.chunk_of[&e.record_id];
            match seen.get(&e.record_id).copied().unwrap_or(0) {
                1 => {}
                0 if whole(chunk) => panic!("{case}: record {} of undamaged chunk {chunk} was lost", e.record_id),
                0 => *missing.entry(chunk).or_default() += 1,
                n => panic!("{case}: record {} read {n} times", e.record_id),
            }
        }
        missing
    }
}

/// Records the issues located in chunk `index` say were skipped.
fn skipped_in_chunk(batch: &FileBatch, index: usize) -> u64 {
    let index = index as u64;
    batch
        .issues
        .iter()
        .filter(|i| match i.location {
            Location::Chunk { index: c, offset } => c == index && offset == chunk_start(c as usize) as u64,
            Location::EvtxRecord { chunk, .. } => chunk == index,
            _ => false,
        })
        .map(|i| i.records_skipped)
        .sum()
}

/// Where 32 bytes of noise go: fields of the file header, fields of chunk headers (record
/// offsets, checksums, the string and template tables), and evenly over the chunks in use and
/// past them. 36 places for every file, among them the file header's magic (the chunks must
/// still be read) and chunk headers' magic and record numbers (the loss must still be counted,
/// from the records the chunk holds).
fn noise_offsets(used: usize, len: usize) -> Vec<usize> {
    let last = used - 1;
    let mut at = vec![0, 8, 24, 40, 96, 120, 1000, HEADER - 32];
    for (chunk, field) in [(0, 0), (0, 8), (0, 24), (0, 40), (0, 52), (1, 24), (1, 40), (1, 120), (last, 0), (last, 256), (last, 480)] {
        at.push(chunk_start(chunk) + field);
    }
    let span = used * CHUNK;
    let even = (0..15).map(|k| HEADER + span * (2 * k + 1) / 30 + k * 7);
    // Moved off the first 40 bytes of a chunk in use (see above).
    at.extend(even.map(|at| {
        let (chunk, into) = ((at - HEADER) / CHUNK, (at - HEADER) % CHUNK);
        if chunk < used { chunk_start(chunk) + into.clamp(40, CHUNK - 32) } else { at }
    }));
    // Preallocated chunks never used: noise there makes a chunk without a magic, losing nothing.
    at.extend([chunk_start(used) + 1000, len - 32]);
    at
}

#[test]
fn evtx_noise_costs_only_the_damaged_chunk() {
    let Some(files) = corpus_files("evtx_noise_costs_only_the_damaged_chunk", MULTI_CHUNK) else { return };
    let (mut cases, mut chunks_lost) = (0, 0);
    for (path, data) in &files {
        let clean = Clean::new(path, data);
        for (k, at) in noise_offsets(clean.used, data.len()).into_iter().enumerate() {
            let mut damaged = data.clone();
            damaged[at..at + 32].copy_from_slice(&noise(32, (k as u64 + 1) * 0x9e37_79b9));
            let batch = read_bytes(path, damaged);
            let case = format!("{}: 32 bytes of noise at {at:#x}", path.display());
            // The chunks the noise touches; none when it is inside the file header.
            let touched: Vec<usize> = if at < HEADER { vec![] } else { vec![(at - HEADER) / CHUNK, (at + 31 - HEADER) / CHUNK] };
            let missing = clean.missing_per_chunk(&batch, |c| !touched.contains(&c), &case);
            for (chunk, lost) in missing {
                chunks_lost += 1;
                let reported = skipped_in_chunk(&batch, chunk);
                assert!(reported >= lost, "{case}: {lost} records of chunk {chunk} lost, issues say {reported}: {:?}", batch.issues);
            }
            cases += 1;
        }
    }
    assert_eq!(cases, 36 * MULTI_CHUNK.len());
    // Most of the noise lands inside chunks in use, whose checksums must catch it: had none
    // been caught, the checks above would have checked nothing.
    assert!(chunks_lost >= 15 * MULTI_CHUNK.len(), "only {chunks_lost} damaged chunks were rejected");
}

/// Where the file is cut: inside the file header, at chunk boundaries, inside chunk headers
/// and evenly over the chunks in use. 30 places for every file.
fn cut_offsets(used: usize) -> Vec<usize> {
    let mut at = vec![100, HEADER - 1, HEADER];
    at.extend([1, used / 2, used].map(chunk_start));
    for field in [8, 30, 40, 511, 512, 600] {
        at.push(chunk_start(1) + field);
    }
    let span = used * CHUNK;
    at.extend((0..17).map(|k| HEADER + span * (2 * k + 1) / 34 + k * 13));
    at.push(chunk_start(used) + 5000);
    at
}

#[test]
fn evtx_cut_keeps_every_record_before_the_cut() {
    let Some(files) = corpus_files("evtx_cut_keeps_every_record_before_the_cut", MULTI_CHUNK) else { return };
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no_data_lost");
    std::fs::create_dir_all(&scratch).unwrap();
    let (mut cases, mut cut_short) = (0, 0);
    for (n, (path, data)) in files.iter().enumerate() {
        let clean = Clean::new(path, data);
        for cut in cut_offsets(clean.used) {
            let case = format!("{}: cut at {cut:#x}", path.display());
            let batch = read_bytes(path, data[..cut].to_vec());
            let missing = clean.missing_per_chunk(&batch, |c| chunk_start(c + 1) <= cut, &case);
            let lost: u64 = missing.values().sum();
            cut_short += u64::from(lost > 0);
            if cut < HEADER {
                assert!(batch.issues.iter().any(|i| i.location == Location::File), "{case}: {:?}", batch.issues);
            } else if cut < chunk_start(0) + 512 {
                // No chunk header is left to say how many records there were.
                assert!(!batch.issues.is_empty(), "{case}: every record lost, nothing reported");
            } else if lost > 0 {
                let reported: u64 = batch.issues.iter().map(|i| i.records_skipped).sum();
                assert!(reported >= lost, "{case}: {lost} records lost, issues say {reported}: {:?}", batch.issues);
            }
            // `read_file` reads a file chunk by chunk from disk, not from one buffer: a cut file
            // must cost it exactly what it costs `read_bytes`. Checked for the first two files.
            if n < 2 {
                let copy = scratch.join(format!("cut-{n}-{cut}.evtx"));
                std::fs::write(&copy, &data[..cut]).unwrap();
                let from_disk = read_file(&copy);
                std::fs::remove_file(&copy).unwrap();
                let ids = |b: &FileBatch| b.events.iter().map(|e| e.record_id).collect::<Vec<_>>();
                assert_eq!(ids(&from_disk), ids(&batch), "{case}: read_file");
                let issues = |b: &FileBatch| b.issues.iter().map(|i| (i.location.clone(), i.kind, i.records_skipped)).collect::<Vec<_>>();
                assert_eq!(issues(&from_disk), issues(&batch), "{case}: read_file");
            }
            cases += 1;
        }
    }
    assert_eq!(cases, 30 * MULTI_CHUNK.len());
    assert!(cut_short >= 25 * MULTI_CHUNK.len() as u64, "only {cut_short} cuts lost records");
}
