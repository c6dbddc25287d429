//! Our own evtx decoder (`read_file`) against the evtx crate's JSON flattened the old way
//! (`testing::read_evtx_with_crate`), which it replaced: every record of every corpus file
//! must give the same event, every field the same value of the same type, and every file the
//! same problems.

use rayon::prelude::*;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use taskhunt_events::testing::{concat_evtx, corpus, read_evtx_bytes, read_evtx_with_crate};
use taskhunt_events::{Event, Fields, FileBatch, read_file};

fn evtx_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "evtx"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// The first difference between two field lists, with both sides' types.
fn fields_diff(ours: &Fields, theirs: &Fields) -> Option<String> {
    let (a, b): (Vec<_>, Vec<_>) = (ours.iter().collect(), theirs.iter().collect());
    for i in 0..a.len().max(b.len()) {
        if a.get(i) != b.get(i) {
            return Some(format!("field #{i}: ours {:?}, evtx crate {:?}", a.get(i), b.get(i)));
        }
    }
    None
}

fn event_diff(ours: &Event, theirs: &Event) -> Option<String> {
    let scalars = [
        ("timestamp", ours.timestamp.to_string(), theirs.timestamp.to_string()),
        ("computer", ours.computer.to_string(), theirs.computer.to_string()),
        ("channel", ours.channel.to_string(), theirs.channel.to_string()),
        ("provider", ours.provider.to_string(), theirs.provider.to_string()),
        ("event_id", ours.event_id.to_string(), theirs.event_id.to_string()),
        ("record_id", ours.record_id.to_string(), theirs.record_id.to_string()),
    ];
    for (what, a, b) in scalars {
        if a != b {
            return Some(format!("{what}: ours {a:?}, evtx crate {b:?}"));
        }
    }
    if let Some(d) = fields_diff(&ours.system, &theirs.system) {
        return Some(format!("system {d}"));
    }
    fields_diff(&ours.fields, &theirs.fields).map(|d| format!("event data {d}"))
}

/// Problems as (kind, records lost), sorted: messages and locations are each decoder's own.
fn problems(batch: &FileBatch) -> Vec<(String, u64)> {
    let mut p: Vec<_> = batch.issues.iter().map(|i| (i.kind.as_str().to_string(), i.records_skipped)).collect();
    p.sort();
    p
}

/// Compares one file; returns (records compared, differences described).
fn compare(path: &Path) -> (usize, Vec<String>) {
    compare_batches(path, &read_file(path), &read_evtx_with_crate(path))
}

fn compare_batches(path: &Path, ours: &FileBatch, theirs: &FileBatch) -> (usize, Vec<String>) {
    let mut diffs = Vec::new();
    let name = path.display();
    if ours.events.len() != theirs.events.len() {
        diffs.push(format!("{name}: {} events, evtx crate {}", ours.events.len(), theirs.events.len()));
    }
    for (a, b) in ours.events.iter().zip(&theirs.events) {
        if let Some(d) = event_diff(a, b) {
            diffs.push(format!("{name}: record {}: {d}", b.record_id));
        }
    }
    if problems(ours) != problems(theirs) {
        diffs.push(format!("{name}: problems {:?}, evtx crate {:?}", ours.issues, theirs.issues));
    }
    (ours.events.len().min(theirs.events.len()), diffs)
}

#[test]
fn decoder_matches_the_evtx_crate_on_the_corpus() {
    let Some(root) = corpus("decoder_matches_the_evtx_crate_on_the_corpus") else { return };
    let mut report = String::new();
    let mut total_diffs = 0;
    for set in ["evtx-attack-samples", "sigma/regression_data"] {
        let files = evtx_files(&root.join(set));
        assert!(!files.is_empty(), "no .evtx under {set}");
        let results: Vec<(usize, Vec<String>)> = files.par_iter().map(|p| compare(p)).collect();
        let records: usize = results.iter().map(|r| r.0).sum();
        let diffs: Vec<&String> = results.iter().flat_map(|r| &r.1).collect();
        let _ = writeln!(report, "{set}: {} files, {records} records compared, {} differences", files.len(), diffs.len());
        for d in diffs.iter().take(20) {
            let _ = writeln!(report, "  {d}");
        }
        total_diffs += diffs.len();
    }
    eprintln!("{report}");
    assert_eq!(total_diffs, 0, "\n{report}");
}

/// Every chunk of the attack samples in one file: the chunks are decoded in parallel and must
/// come back in the evtx crate's order (from the chunk with the lowest record id, wrapping
/// around to the start of the file), every record the same.
#[test]
fn one_file_of_many_chunks_reads_as_the_evtx_crate_reads_it() {
    let Some(root) = corpus("one_file_of_many_chunks_reads_as_the_evtx_crate_reads_it") else { return };
    let files: Vec<Vec<u8>> = evtx_files(&root.join("evtx-attack-samples")).iter().map(|f| std::fs::read(f).unwrap()).collect();
    let joined = concat_evtx(&files);
    let chunks = (joined.len() - 4096) / 65536;
    // Each chunk's first record id (chunk header offset 24).
    let first_id = |file: &[u8], i: usize| u64::from_le_bytes(file[4096 + i * 65536 + 24..][..8].try_into().unwrap());
    // Most samples number their records from 1, so the joined file's first chunk is its
    // oldest. Starting it at the chunk with the highest first id instead puts the oldest
    // chunks after it, as in a log that has wrapped around.
    let newest = (0..chunks).max_by_key(|&i| first_id(&joined, i)).unwrap();
    let mut big = joined[..4096].to_vec();
    big.extend_from_slice(&joined[4096 + newest * 65536..]);
    big.extend_from_slice(&joined[4096..4096 + newest * 65536]);
    let path = Path::new("all-chunks.evtx");
    let ours = read_evtx_bytes(path, &big, false);
    let theirs = read_evtx_bytes(path, &big, true);
    let (n, diffs) = compare_batches(path, &ours, &theirs);
    eprintln!("{chunks} chunks, {n} records compared, {} differences", diffs.len());
    assert!(chunks > 300 && n == 8255, "{chunks} chunks, {n} records");
    assert!(diffs.is_empty(), "{:#?}", &diffs[..diffs.len().min(20)]);
    // The oldest chunk, whose records both decoders put first, is not the file's first.
    let oldest = (0..chunks).min_by_key(|&i| (first_id(&big, i), i)).unwrap();
    assert!(oldest > 0);
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Recomputes a chunk's records and header CRC32s, so that a mutated chunk passes them and
/// its records are decoded.
fn fix_checksums(chunk: &mut [u8]) {
    let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap()) as usize;
    let records = crc32fast::hash(&chunk[512..free.clamp(512, chunk.len())]);
    chunk[52..56].copy_from_slice(&records.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&chunk[..120]);
    h.update(&chunk[128..512]);
    chunk[124..128].copy_from_slice(&h.finalize().to_le_bytes());
}

/// Offsets (in `chunk`) of the substitution descriptors of the template instance a BinXML
/// stream at `at` starts with, and of those of the instances its BinXML values start with.
fn descriptors(chunk: &[u8], at: usize, depth: usize, out: &mut Vec<usize>) {
    let u32_at = |p: usize| chunk.get(p..p + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let at = if chunk.get(at) == Some(&0x0f) { at + 4 } else { at };
    if depth > 2 || chunk.get(at) != Some(&0x0c) {
        return;
    }
    let Some(def) = u32_at(at + 6) else { return };
    let mut p = at + 10;
    if def as usize == p {
        let Some(size) = u32_at(p + 20) else { return };
        p += 24 + size as usize;
    }
    let Some(count) = u32_at(p) else { return };
    let (table, mut value) = (p + 4, p + 4 + 4 * count as usize);
    for i in 0..count as usize {
        let d = table + 4 * i;
        let Some(&[lo, hi, ty, _]) = chunk.get(d..d + 4) else { return };
        out.push(d);
        if ty == 0x21 {
            descriptors(chunk, value, depth + 1, out);
        }
        value += u16::from_le_bytes([lo, hi]) as usize;
    }
}

/// Where our decoder means to differ from the evtx crate, which only damaged or crafted
/// files show:
/// - the crate gives up on a whole chunk when a link of its string table's hash chains is
///   broken; we read names where records point to them, so we read the records;
/// - the crate writes element and attribute names into its JSON unescaped, so one with a
///   quote, backslash or control character loses the record (its JSON does not parse) or
///   comes back changed (`a\nb` as a line break); we keep the name as it is.
fn deliberately_different(ours: &FileBatch, theirs: &FileBatch) -> bool {
    let odd = |name: &str| name.chars().any(|c| c == '"' || c == '\\' || c < ' ');
    let odd_names =
        ours.events.iter().chain(&theirs.events).any(|e| e.system.iter().chain(e.fields.iter()).any(|(name, _)| odd(name.as_str())));
    odd_names
        || theirs.issues.iter().any(|i| i.message.contains("Failed to build string cache") || i.message.contains("`serde_json` failed"))
}

/// Corpus records with a few bytes of their first chunk changed, checksums fixed so that
/// both decoders read them: every value type, size and token the mutations make must give
/// the same events and lose the same records. Iterations: `TASKHUNT_EVTX_MUTATIONS` (default
/// 300); the seed is fixed, so a failure repeats.
#[test]
fn mutated_records_decode_as_the_evtx_crate_does() {
    let Some(root) = corpus("mutated_records_decode_as_the_evtx_crate_does") else { return };
    let iterations: u64 = std::env::var("TASKHUNT_EVTX_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let files: Vec<PathBuf> = evtx_files(&root.join("evtx-attack-samples")).into_iter().step_by(7).collect();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("evtx_decoder_mutations");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let results: Vec<(usize, Vec<String>)> = (0..iterations)
        .into_par_iter()
        .map(|i| {
            let mut rng = 0x9e37_79b9_7f4a_7c15 ^ (i + 1).wrapping_mul(0x2545_f491_4f6c_dd1d);
            let source = &files[(xorshift(&mut rng) % files.len() as u64) as usize];
            let mut data = std::fs::read(source).unwrap();
            let chunk = &mut data[0x1000..0x11000];
            let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap()) as usize;
            if free <= 512 || free > chunk.len() {
                return (0, Vec::new());
            }
            let mut what = String::new();
            if i % 2 == 0 {
                // A byte anywhere in the records.
                for _ in 0..1 + xorshift(&mut rng) % 3 {
                    let at = 512 + (xorshift(&mut rng) % (free as u64 - 512)) as usize;
                    let byte = xorshift(&mut rng) as u8;
                    let _ = write!(what, " {at:#x}:{:#04x}->{byte:#04x}", chunk[at]);
                    chunk[at] = byte;
                }
            } else {
                // A substitution's type (and sometimes size), so that its bytes are read as
                // another type: every value type gets rendered, arrays repeat elements...
                let mut found = Vec::new();
                let mut at = 512;
                while at + 24 <= free && chunk[at..at + 4] == *b"\x2a\x2a\0\0" {
                    descriptors(chunk, at + 24, 0, &mut found);
                    at += u32::from_le_bytes(chunk[at + 4..at + 8].try_into().unwrap()).max(28) as usize;
                }
                const TYPES: &[u8] = &[
                    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
                    0x14, 0x15, 0x21, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8f, 0x91, 0x92, 0x93,
                    0x94, 0x95,
                ];
                for _ in 0..1 + xorshift(&mut rng) % 3 {
                    let Some(&d) = found.get((xorshift(&mut rng) % found.len().max(1) as u64) as usize) else { break };
                    let ty = TYPES[(xorshift(&mut rng) % TYPES.len() as u64) as usize];
                    let _ = write!(what, " type at {:#x}:{:#04x}->{ty:#04x}", d + 2, chunk[d + 2]);
                    chunk[d + 2] = ty;
                    if xorshift(&mut rng).is_multiple_of(4) {
                        let size = (xorshift(&mut rng) % 40) as u16;
                        let _ = write!(what, " size->{size}");
                        chunk[d..d + 2].copy_from_slice(&size.to_le_bytes());
                    }
                }
            }
            fix_checksums(chunk);
            let path = dir.join(format!("{i}.evtx"));
            std::fs::write(&path, &data).unwrap();
            let (ours, theirs) = (read_file(&path), read_evtx_with_crate(&path));
            let _ = std::fs::remove_file(&path);
            if deliberately_different(&ours, &theirs) {
                return (0, Vec::new());
            }
            let (n, diffs) = compare_batches(&path, &ours, &theirs);
            let diffs = diffs.into_iter().map(|d| format!("{d} (from {} with{what})", source.display())).collect();
            (n, diffs)
        })
        .collect();
    let records: usize = results.iter().map(|r| r.0).sum();
    let diffs: Vec<&String> = results.iter().flat_map(|r| &r.1).collect();
    let mut report = format!("{iterations} mutated files, {records} records compared, {} differences\n", diffs.len());
    for d in diffs.iter().take(30) {
        let _ = writeln!(report, "  {d}");
    }
    eprintln!("{report}");
    assert!(diffs.is_empty(), "\n{report}");
}

/// The input the `evtx_chunk` fuzz target timed out on (`fuzz/findings/evtx_chunk-slow-07925a6c`):
/// records that instantiate templates of thousands of elements. Each record's fields were
/// looked up by a scan per field, so decoding cost the square of the field count (0.29 s, then
/// 0.08 s, for 27 KiB). Now lookups past a few dozen fields are hashed; what is read must not
/// change: the same events and problems as the evtx crate, as the target wraps the input (cut
/// short) and as the padded fixture made from it (a whole chunk).
#[test]
fn the_fuzz_chunk_of_huge_templates_reads_as_the_evtx_crate_reads_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let finding = std::fs::read(root.join("../../fuzz/findings/evtx_chunk-slow-07925a6c")).unwrap();
    // As fuzz/fuzz_targets/evtx_chunk.rs builds its file.
    let mut file = vec![0u8; 4096];
    file[..8].copy_from_slice(b"ElfFile\0");
    let mut chunk = finding[..finding.len().min(65536)].to_vec();
    let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap()) as usize;
    if let Some(records) = chunk.get(512..free) {
        let crc = crc32fast::hash(records);
        chunk[52..56].copy_from_slice(&crc.to_le_bytes());
    }
    let mut h = crc32fast::Hasher::new();
    h.update(&chunk[..120]);
    h.update(&chunk[128..512]);
    chunk[124..128].copy_from_slice(&h.finalize().to_le_bytes());
    file.extend_from_slice(&chunk);

    let path = Path::new("fuzz.evtx");
    let (ours, theirs) = (read_evtx_bytes(path, &file, false), read_evtx_bytes(path, &file, true));
    let (n, diffs) = compare_batches(path, &ours, &theirs);
    // In a file cut short the evtx crate drops damaged records without a word (the old reader
    // iterated `.flatten()`); ours names them, so only the events are compared here.
    let diffs: Vec<_> = diffs.into_iter().filter(|d| !d.contains(": problems ")).collect();
    assert!(diffs.is_empty(), "{diffs:#?}");
    // The target's file is cut 27,227 bytes into a chunk that claims 140 records; 50 end
    // before the cut (until the damaged record at 0x1c08 ended the walk, only 11 were read).
    assert_eq!(n, 50);
    let cut: Vec<_> = ours.issues.iter().filter(|i| i.kind == taskhunt_events::IssueKind::CorruptChunk).collect();
    assert_eq!(cut.len(), 1, "{:?}", ours.issues);
    assert!(cut[0].message.contains("50 of its 140 records were read before the cut"), "{}", cut[0].message);
    assert_eq!(ours.issues.iter().map(|i| i.records_skipped).sum::<u64>(), 90, "lost records counted once: {:?}", ours.issues);
    assert!(ours.issues.iter().any(|i| i.message.contains("no record magic at chunk offset 0x1c08")), "{:?}", ours.issues);

    let padded = root.join("tests/fixtures/crafted_templates.evtx");
    let (ours, theirs) = (read_file(&padded), read_evtx_with_crate(&padded));
    let (n, diffs) = compare_batches(&padded, &ours, &theirs);
    assert!(diffs.is_empty(), "{diffs:#?}");
    assert_eq!(n, 50);
    // Thousands of fields per record is what made it slow; they are all there.
    assert!(ours.events.iter().map(|e| e.fields.len() + e.system.len()).max().unwrap() > 1000);
    assert!(ours.issues.iter().all(|i| i.kind != taskhunt_events::IssueKind::Limit), "{:?}", ours.issues);
}
