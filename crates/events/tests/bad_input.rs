//! Damaged input costs only the damaged part: each problem is reported with the file and the
//! chunk, record or line:column, everything else is read, and the summary counts what was lost.

use std::io::Write;
use std::path::{Path, PathBuf};
use taskhunt_events::testing::evtx_samples;
use taskhunt_events::{Event, FileBatch, IssueKind, Location, ReadOptions, ReadSummary, read_file, read_paths};

/// A corpus file of three chunks. `evtx_dump -o jsonl` prints 87 records for it; its chunk
/// headers (and the order evtx_dump prints them in) put 39 records in chunk 0 (EventRecordID
/// 27292..=27553), 42 in chunk 1 (27554..=28049) and 6 in chunk 2 (28050..=28173).
const THREE_CHUNKS: &str = "Privilege Escalation/privesc_unquoted_svc_sysmon_1_11.evtx";
const CHUNK_1: std::ops::RangeInclusive<u64> = 27554..=28049;
const CHUNK_1_OFFSET: u64 = 0x1000 + 0x10000;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad_input").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read_all(paths: &[PathBuf]) -> (Vec<Event>, ReadSummary) {
    let mut events = Vec::new();
    let summary = read_paths(paths, &ReadOptions::default(), |b| events.extend(b.events), |_, _| {});
    (events, summary)
}

fn ids(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.record_id).collect()
}

/// Bytes that look like nothing in particular (xorshift, so every run writes the same).
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// The evtx-dump fixture with the `:` after `"EventID"` on line 3 (record 4125) removed: the
/// parser meets `1` where the colon should be, at byte 221 of that line.
fn json_lines_broken_on_line_3() -> String {
    let text = std::fs::read_to_string(fixture("evtx_dump_records.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    assert_eq!(lines.len(), 5);
    let at = lines[2].find("\"EventID\":1,").unwrap() + "\"EventID\"".len();
    assert_eq!(at, 220);
    lines[2].remove(at);
    lines.join("\n") + "\n"
}

/// The pretty-printed evtx-dump array with the same colon removed: line 104 of the file is
/// `    "EventID": 1,`, so the parser meets `1` at column 15.
fn json_array_broken_in_element_3() -> String {
    let text = std::fs::read_to_string(fixture("evtx_dump_records.json")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    assert_eq!(lines[103], "    \"EventID\": 1,");
    lines[103] = "    \"EventID\" 1,".into();
    lines.join("\n") + "\n"
}

fn only_issue(batch: &FileBatch) -> &taskhunt_events::ReadIssue {
    assert_eq!(batch.issues.len(), 1, "{:?}", batch.issues);
    &batch.issues[0]
}

#[test]
fn truncated_evtx_keeps_the_records_before_the_cut() {
    let Some(samples) = evtx_samples("truncated_evtx_keeps_the_records_before_the_cut") else { return };
    let intact = read_file(&samples.join(THREE_CHUNKS));
    assert_eq!(intact.events.len(), 87);
    let data = std::fs::read(samples.join(THREE_CHUNKS)).unwrap();
    let path = scratch("truncated").join("cut.evtx");
    // 30000 bytes into chunk 1: its record headers say 17 records end before that byte.
    std::fs::write(&path, &data[..CHUNK_1_OFFSET as usize + 30000]).unwrap();

    let batch = read_file(&path);
    assert_eq!(batch.events.len(), 39 + 17);
    for (got, want) in batch.events.iter().zip(&intact.events) {
        assert_eq!(got.record_id, want.record_id);
        assert_eq!(got.fields, want.fields);
    }
    assert_eq!(batch.events.last().unwrap().record_id, 27641, "evtx_dump's 56th record");

    assert_eq!(batch.issues.len(), 2, "{:?}", batch.issues);
    let cut = &batch.issues[0];
    assert_eq!(cut.location, Location::Chunk { index: 1, offset: CHUNK_1_OFFSET });
    assert_eq!(cut.kind, IssueKind::CorruptChunk);
    assert_eq!(cut.records_skipped, 42 - 17);
    let text = cut.to_string();
    assert!(text.starts_with(&format!("{}: chunk 1 (offset 0x11000): ", path.display())), "{text}");
    assert!(text.contains("truncated 30000 bytes into this chunk") && text.contains("17 of its 42 records"), "{text}");
    // The file header lists three chunks; the third, with 6 records, is gone entirely.
    let missing = &batch.issues[1];
    assert_eq!(missing.location, Location::Chunk { index: 2, offset: CHUNK_1_OFFSET + 0x10000 });
    assert_eq!(missing.records_skipped, 6);
    assert!(missing.message.contains("header lists 3 chunks"), "{}", missing.message);

    let (_, summary) = read_all(&[path]);
    assert_eq!(summary.records, 56);
    assert_eq!(summary.records_skipped(), 25 + 6);
    assert_eq!(summary.skipped.get("corrupt evtx chunk"), Some(&31));
    assert_eq!(summary.files_failed, 0, "records were read from it");
}

#[test]
fn evtx_cut_inside_its_file_header_is_reported() {
    let Some(samples) = evtx_samples("evtx_cut_inside_its_file_header_is_reported") else { return };
    let data = std::fs::read(samples.join(THREE_CHUNKS)).unwrap();
    let path = scratch("header_cut").join("stub.evtx");
    std::fs::write(&path, &data[..3000]).unwrap();
    let batch = read_file(&path);
    assert!(batch.events.is_empty());
    let issue = only_issue(&batch);
    assert_eq!(issue.location, Location::File);
    assert!(issue.message.contains("3000 bytes, shorter than the 4096-byte file header"), "{}", issue.message);
}

#[test]
fn corrupt_chunk_costs_only_that_chunk() {
    let Some(samples) = evtx_samples("corrupt_chunk_costs_only_that_chunk") else { return };
    let intact = read_file(&samples.join(THREE_CHUNKS));
    let mut data = std::fs::read(samples.join(THREE_CHUNKS)).unwrap();
    // 2000 bytes into chunk 1 is inside its records, which its CRC32 covers.
    let at = CHUNK_1_OFFSET as usize + 2000;
    data[at..at + 16].copy_from_slice(b"XXXXXXXXXXXXXXXX");
    let path = scratch("corrupt").join("damaged chunk.evtx");
    std::fs::write(&path, &data).unwrap();

    let batch = read_file(&path);
    let expected: Vec<&Event> = intact.events.iter().filter(|e| !CHUNK_1.contains(&e.record_id)).collect();
    assert_eq!(expected.len(), 39 + 6);
    assert_eq!(ids(&batch.events), expected.iter().map(|e| e.record_id).collect::<Vec<_>>());
    for (got, want) in batch.events.iter().zip(&expected) {
        assert_eq!(got.fields, want.fields);
    }
    let issue = only_issue(&batch);
    assert_eq!(issue.location, Location::Chunk { index: 1, offset: CHUNK_1_OFFSET });
    assert_eq!(issue.kind, IssueKind::CorruptChunk);
    assert_eq!(issue.records_skipped, 42);
    assert!(issue.to_string().starts_with(&format!("{}: chunk 1 (offset 0x11000): corrupt evtx chunk: ", path.display())));
    assert!(issue.message.contains("CRC32"), "{}", issue.message);

    let (_, summary) = read_all(&[path]);
    assert_eq!((summary.records, summary.records_skipped()), (45, 42));
    assert!(summary.line().contains("45 records read, 42 skipped [corrupt evtx chunk: 1 (42 records)]"), "{}", summary.line());
}

#[test]
fn random_binary_is_reported_not_decoded() {
    let dir = scratch("random");
    let path = dir.join("blob.evtx");
    std::fs::write(&path, noise(70_000, 0x9e37_79b9_7f4a_7c15)).unwrap();
    let batch = read_file(&path);
    assert!(batch.events.is_empty());
    assert_eq!(batch.format, None);
    let issue = only_issue(&batch);
    assert_eq!((issue.kind, &issue.location), (IssueKind::Unrecognized, &Location::File));
    assert!(issue.to_string().starts_with(&format!("{}: unrecognized content: ", path.display())));
    assert!(issue.message.contains("first bytes: "), "{}", issue.message);

    // Noise behind an evtx magic: decoded as evtx, and every chunk of it fails on its own.
    let mut fake = b"ElfFile\0".to_vec();
    fake.extend(noise(4096 + 2 * 65536, 7));
    let path = dir.join("fake.evtx");
    std::fs::write(&path, &fake).unwrap();
    let batch = read_file(&path);
    assert!(batch.events.is_empty());
    assert!(!batch.issues.is_empty());
    assert!(batch.issues.iter().all(|i| i.file == path && i.kind == IssueKind::CorruptChunk), "{:?}", batch.issues);
}

#[test]
fn empty_file_is_a_problem_that_skips_nothing() {
    let path = scratch("empty").join("Security.evtx");
    std::fs::write(&path, b"").unwrap();
    let (events, summary) = read_all(std::slice::from_ref(&path));
    assert!(events.is_empty());
    assert_eq!(summary.issues.len(), 1);
    assert_eq!(summary.issues[0].to_string(), format!("{}: empty file: file is empty", path.display()));
    assert_eq!(summary.problems.get("empty file"), Some(&1));
    assert_eq!(summary.records_skipped(), 0);
    assert_eq!(summary.files_failed, 1);
}

#[test]
fn json_lines_syntax_error_costs_one_line() {
    let path = scratch("json_lines").join("dump.jsonl");
    std::fs::write(&path, json_lines_broken_on_line_3()).unwrap();
    let batch = read_file(&path);
    assert_eq!(ids(&batch.events), [566836, 566840, 4128, 4130]);
    let issue = only_issue(&batch);
    assert_eq!(issue.location, Location::Line { line: 3, column: 221 });
    assert_eq!(issue.kind, IssueKind::JsonSyntax);
    assert_eq!(issue.records_skipped, 1);
    assert_eq!(issue.to_string(), format!("{}: 3:221: JSON syntax error: expected `:`", path.display()));

    let (_, summary) = read_all(&[path]);
    assert_eq!((summary.records, summary.records_skipped()), (4, 1));
    assert_eq!(summary.skipped.get("JSON syntax error"), Some(&1));
}

#[test]
fn json_array_broken_element_costs_that_element() {
    let dir = scratch("json_array");
    let path = dir.join("dump.json");
    std::fs::write(&path, json_array_broken_in_element_3()).unwrap();
    let batch = read_file(&path);
    assert_eq!(ids(&batch.events), [566836, 566840, 4128, 4130]);
    let issue = only_issue(&batch);
    assert_eq!(issue.location, Location::Line { line: 104, column: 15 });
    assert_eq!(issue.to_string(), format!("{}: 104:15: JSON syntax error: expected `:`", path.display()));

    // One element a line, as `jq -c` writes arrays: the element starts on line 4 (line 1 is `[`).
    let text = std::fs::read_to_string(fixture("evtx_dump_records.jsonl")).unwrap();
    let broken = json_lines_broken_on_line_3();
    let compact = format!("[\n{}\n]\n", broken.lines().collect::<Vec<_>>().join(",\n"));
    assert_ne!(text, broken);
    let path = dir.join("compact.json");
    std::fs::write(&path, compact).unwrap();
    let batch = read_file(&path);
    assert_eq!(ids(&batch.events), [566836, 566840, 4128, 4130]);
    assert_eq!(only_issue(&batch).location, Location::Line { line: 4, column: 221 });
}

#[test]
fn unreadable_and_missing_paths_are_reported() {
    let dir = scratch("unreadable");
    let missing = dir.join("no such dir/Security.evtx");
    let (events, summary) = read_all(std::slice::from_ref(&missing));
    assert!(events.is_empty());
    assert_eq!(summary.issues.len(), 1);
    let issue = &summary.issues[0];
    assert_eq!((issue.kind, &issue.file), (IssueKind::Unreadable, &missing));
    assert!(issue.to_string().starts_with(&format!("{}: unreadable file: ", missing.display())));
    assert_eq!((summary.files, summary.files_failed), (1, 1));

    // A folder where a file was expected cannot be read as one.
    let batch = read_file(&dir);
    assert_eq!(only_issue(&batch).kind, IssueKind::Unreadable);

    // A link to nothing inside a folder being walked.
    let walked = dir.join("walked");
    std::fs::create_dir_all(&walked).unwrap();
    std::os::unix::fs::symlink(dir.join("gone.evtx"), walked.join("dangling.evtx")).unwrap();
    std::fs::copy(fixture("evtx_dump_records.jsonl"), walked.join("good.jsonl")).unwrap();
    let (events, summary) = read_all(std::slice::from_ref(&walked));
    assert_eq!(events.len(), 5);
    assert_eq!(summary.issues.len(), 1, "{:?}", summary.issues);
    assert_eq!(summary.issues[0].kind, IssueKind::Unreadable);
    assert_eq!(summary.issues[0].file, walked.join("dangling.evtx"));
}

#[test]
fn truncated_gzip_keeps_what_was_decompressed() {
    let text = std::fs::read_to_string(fixture("evtx_dump_records.jsonl")).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(lines[..3].concat().as_bytes()).unwrap();
    // A sync flush makes the first three lines decodable on their own; the cut falls just after.
    enc.flush().unwrap();
    let cut = enc.get_ref().len();
    enc.write_all(lines[3..].concat().as_bytes()).unwrap();
    let packed = enc.finish().unwrap();
    assert!(cut < packed.len());
    let path = scratch("gzip").join("dump.jsonl.gz");
    std::fs::write(&path, &packed[..cut]).unwrap();

    let batch = read_file(&path);
    assert_eq!(ids(&batch.events), [566836, 566840, 4125]);
    let whole = read_file(&fixture("evtx_dump_records.jsonl"));
    for (got, want) in batch.events.iter().zip(&whole.events) {
        assert_eq!((&got.fields, &got.system), (&want.fields, &want.system));
    }
    let issue = only_issue(&batch);
    assert_eq!((issue.kind, &issue.location, &issue.file), (IssueKind::Decompress, &Location::File, &path));
    assert!(issue.to_string().starts_with(&format!("{}: gzip error: ", path.display())), "{issue}");
}

#[test]
fn folder_of_damaged_files_still_reads_the_good_one() {
    let dir = scratch("folder");
    let good = dir.join("good.jsonl");
    std::fs::copy(fixture("evtx_dump_records.jsonl"), &good).unwrap();
    std::fs::write(dir.join("broken line.jsonl"), json_lines_broken_on_line_3()).unwrap();
    std::fs::write(dir.join("broken element.json"), json_array_broken_in_element_3()).unwrap();
    std::fs::write(dir.join("empty.evtx"), b"").unwrap();
    std::fs::write(dir.join("noise.bin"), noise(5000, 42)).unwrap();
    std::os::unix::fs::symlink(dir.join("gone"), dir.join("dangling.evtx")).unwrap();
    let missing = dir.join("never there.evtx");
    // Per file: the good one 5 records; each broken JSON file 4 read and 1 skipped.
    let (mut records, mut skipped, mut files, mut failed) = (5 + 4 + 4, 2, 6, 3);
    if let Some(samples) = evtx_samples("folder_of_damaged_files_still_reads_the_good_one") {
        let data = std::fs::read(samples.join(THREE_CHUNKS)).unwrap();
        std::fs::write(dir.join("cut.evtx"), &data[..CHUNK_1_OFFSET as usize + 30000]).unwrap();
        let mut damaged = data.clone();
        damaged[CHUNK_1_OFFSET as usize + 2000] ^= 0xff;
        std::fs::write(dir.join("damaged.evtx"), &damaged).unwrap();
        records += 56 + 45;
        skipped += 31 + 42;
        files += 2;
    }
    let mut good_events = Vec::new();
    let mut all = 0;
    let summary = read_paths(
        &[dir.clone(), missing.clone()],
        &ReadOptions::default(),
        |b| {
            all += b.events.len();
            if b.path == good {
                good_events = b.events;
            }
        },
        |_, _| {},
    );
    let alone = read_file(&fixture("evtx_dump_records.jsonl"));
    assert_eq!(good_events.len(), 5);
    for (got, want) in good_events.iter().zip(&alone.events) {
        assert_eq!((got.record_id, &got.fields, &got.system), (want.record_id, &want.fields, &want.system));
    }
    failed += 1; // the missing path
    files += 1;
    assert_eq!(summary.records, records);
    assert_eq!(all as u64, records);
    assert_eq!(summary.records_skipped(), skipped);
    assert_eq!(summary.files, files);
    assert_eq!(summary.files_failed, failed, "empty, noise, dangling link and missing path");
    assert_eq!(summary.problems.get("empty file"), Some(&1));
    assert_eq!(summary.problems.get("unrecognized content"), Some(&1));
    assert_eq!(summary.problems.get("unreadable file"), Some(&2));
    assert_eq!(summary.problems.get("JSON syntax error"), Some(&2));
    assert_eq!(summary.skipped.get("JSON syntax error"), Some(&2));
    for issue in &summary.issues {
        assert!(issue.file.starts_with(&dir), "{issue}");
    }
}

#[test]
fn flipped_bytes_never_panic_and_losses_are_reported() {
    let Some(samples) = evtx_samples("flipped_bytes_never_panic_and_losses_are_reported") else { return };
    let data = std::fs::read(samples.join(THREE_CHUNKS)).unwrap();
    let intact = read_file(&samples.join(THREE_CHUNKS)).events.len();
    let path = scratch("flips").join("flipped.evtx");
    // Each byte of the file header's fields, then every 509th byte of the three chunks, one at
    // a time.
    let used = 0x1000 + 3 * 0x10000;
    for at in (0..128).chain((128..used).step_by(509)) {
        let mut copy = data.clone();
        copy[at] ^= 0x5a;
        std::fs::write(&path, &copy).unwrap();
        let batch = read_file(&path);
        if batch.events.len() < intact {
            assert!(!batch.issues.is_empty(), "byte {at:#x}: {} of {intact} records, no issue", batch.events.len());
        }
        assert!(batch.events.len() <= intact, "byte {at:#x}");
        assert!(batch.issues.iter().all(|i| i.file == path));
    }
}
