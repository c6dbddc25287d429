//! `read_bytes` and `read_bytes_as`: bytes already in memory read exactly as `read_file` reads
//! them from disk (the fuzz targets depend on that), and a forced decoder that reports, rather
//! than panics on, input of another shape.

use std::path::{Path, PathBuf};
use taskhunt_events::{Format, IssueKind, Location, read_bytes, read_bytes_as, read_file};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[test]
fn read_bytes_matches_read_file() {
    for name in
        ["evtx_dump_records.jsonl", "evtx_dump_records.json", "winlogbeat_records.jsonl", "DeviceProcessEvents.csv", "DeviceEvents.json"]
    {
        let path = fixture(name);
        let from_disk = read_file(&path);
        let from_memory = read_bytes(&path, std::fs::read(&path).unwrap());
        assert!(!from_disk.events.is_empty(), "{name}");
        assert_eq!(from_memory.format, from_disk.format, "{name}");
        assert_eq!(from_memory.bytes, from_disk.bytes, "{name}");
        assert_eq!(from_memory.events, from_disk.events, "{name}");
        assert_eq!(from_memory.issues.len(), from_disk.issues.len(), "{name}");
    }
}

#[test]
fn read_bytes_reports_empty_and_unrecognised() {
    let batch = read_bytes(Path::new("x.bin"), Vec::new());
    assert_eq!(batch.issues[0].kind, IssueKind::Empty);
    let batch = read_bytes(Path::new("x.bin"), b"hello".to_vec());
    assert_eq!(batch.issues[0].kind, IssueKind::Unrecognized);
}

#[test]
fn read_bytes_as_forces_the_decoder() {
    let path = fixture("winlogbeat_records.jsonl");
    let ecs = std::fs::read(&path).unwrap();
    let as_ecs = read_bytes_as(&path, &ecs, Format::EcsJson);
    assert_eq!(as_ecs.events, read_file(&path).events);
    // The same lines through the evtx-dump decoder: each is a JSON object but not that shape.
    let as_dump = read_bytes_as(&path, &ecs, Format::EvtxJson);
    assert!(as_dump.events.is_empty());
    assert!(as_dump.issues.iter().all(|i| i.kind == IssueKind::NotAnEvent && matches!(i.location, Location::Line { .. })));
    assert_eq!(as_dump.format, Some(Format::EvtxJson));
    // Not evtx at all, as evtx: a file-level issue, no events.
    let as_evtx = read_bytes_as(&path, &ecs, Format::Evtx);
    assert!(as_evtx.events.is_empty());
    assert_eq!(as_evtx.issues.len(), 1);
    assert_eq!(as_evtx.issues[0].location, Location::File);
    // Empty input for each forced decoder.
    for format in [Format::Evtx, Format::Gzip, Format::EvtxJson, Format::EcsJson, Format::DefenderCsv("DeviceEvents")] {
        let batch = read_bytes_as(Path::new("empty"), b"", format);
        assert!(batch.events.is_empty(), "{format:?}");
    }
}
