//! `taskhunt events` as a user runs it: what reaches stdout, the problems and summary on stderr,
//! and the exit status (0 when anything was read, even with problems; non-zero when nothing was).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use taskhunt_events::testing::evtx_samples;

/// A corpus file of three chunks; `evtx_dump -o jsonl` prints 87 records for it, 42 of them from
/// chunk 1, which starts at byte 0x11000.
const THREE_CHUNKS: &str = "Privilege Escalation/privesc_unquoted_svc_sysmon_1_11.evtx";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/tests/fixtures").join(name)
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Runs `taskhunt events ARGS...` and checks that it did not panic.
fn events(args: &[&Path]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_taskhunt")).arg("events").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "{stderr}");
    out
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8(out.stdout.clone()).unwrap().lines().map(String::from).collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The summary line without the timing and rates that end it (`, 0.01s, 900 events/s, 1.0 MB/s`).
fn summary(out: &Output) -> String {
    let err = stderr(out);
    let last = err.lines().last().unwrap_or_default();
    last.rsplitn(4, ", ").last().unwrap_or_default().to_string()
}

/// The evtx-dump fixture with the `:` after `"EventID"` on line 3 removed (byte 221 of the line).
fn json_lines_broken_on_line_3() -> String {
    let text = std::fs::read_to_string(fixture("evtx_dump_records.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[2] = lines[2].replacen("\"EventID\":1,", "\"EventID\"1,", 1);
    lines.join("\n") + "\n"
}

#[test]
fn corpus_prints_one_line_per_record() {
    let Some(samples) = evtx_samples("corpus_prints_one_line_per_record") else { return };
    let out = events(&[&samples]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 8255);
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["event_id"].is_u64() && v["file"].as_str().unwrap().ends_with(".evtx"), "{line}");
    }
    // LICENSE.GPL sits among the samples: a problem that costs no record.
    assert_eq!(summary(&out), "taskhunt: 278 files, 8255 records read, 0 skipped [unrecognized content: 1]");
    assert!(stderr(&out).contains("LICENSE.GPL: unrecognized content"));
}

#[test]
fn paths_with_spaces_and_ampersands() {
    let dir = scratch();
    let folder = dir.path().join("R&D logs/two words & more");
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("dump & co.jsonl");
    std::fs::copy(fixture("evtx_dump_records.jsonl"), &file).unwrap();
    let mut expected = 5;
    if let Some(samples) = evtx_samples("paths_with_spaces_and_ampersands") {
        std::fs::copy(samples.join("Execution/temp_scheduled_task_4698_4699.evtx"), folder.join("tasks & more.evtx")).unwrap();
        expected += 2;
    }
    let out = events(&[&dir.path().join("R&D logs")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), expected);
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["file"], file.to_str().unwrap());
    assert_eq!(first["event_id"], 4698);
    assert_eq!(first["fields"]["TaskName"], "\\CYAlyNSS");
    assert!(summary(&out).contains("0 skipped"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn gzip_prints_the_same_events() {
    let dir = scratch();
    let packed = dir.path().join("dump.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&std::fs::read(fixture("evtx_dump_records.jsonl")).unwrap()).unwrap();
    std::fs::write(&packed, enc.finish().unwrap()).unwrap();
    let plain = events(&[&fixture("evtx_dump_records.jsonl")]);
    let gz = events(&[&packed]);
    let without_file = |line: &String| {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        v.as_object_mut().unwrap().remove("file");
        v
    };
    let a: Vec<_> = stdout_lines(&plain).iter().map(without_file).collect();
    let b: Vec<_> = stdout_lines(&gz).iter().map(without_file).collect();
    assert_eq!(a.len(), 5);
    assert_eq!(a, b);
}

#[test]
fn damaged_inputs_still_exit_zero_with_a_summary() {
    let dir = scratch();
    let d = dir.path();
    std::fs::copy(fixture("evtx_dump_records.jsonl"), d.join("good.jsonl")).unwrap();
    std::fs::write(d.join("broken line.jsonl"), json_lines_broken_on_line_3()).unwrap();
    std::fs::write(d.join("empty.evtx"), b"").unwrap();
    std::fs::write(d.join("noise.bin"), (0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect::<Vec<u8>>()).unwrap();
    let out = events(&[d]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_lines(&out).len(), 5 + 4);
    let err = stderr(&out);
    let name = |f: &str| d.join(f).display().to_string();
    assert!(err.contains(&format!("warning: {}: 3:221: JSON syntax error: expected `:`", name("broken line.jsonl"))), "{err}");
    assert!(err.contains(&format!("warning: {}: empty file", name("empty.evtx"))), "{err}");
    assert!(err.contains(&format!("warning: {}: unrecognized content", name("noise.bin"))), "{err}");
    assert_eq!(
        summary(&out),
        // Reasons in byte order of their names.
        "taskhunt: 4 files, 9 records read, 1 skipped [JSON syntax error: 1 (1 records), empty file: 1, unrecognized content: 1]"
    );
}

#[test]
fn damaged_evtx_still_exits_zero_with_a_summary() {
    let Some(samples) = evtx_samples("damaged_evtx_still_exits_zero_with_a_summary") else { return };
    let dir = scratch();
    let mut data = std::fs::read(samples.join(THREE_CHUNKS)).unwrap();
    data[0x11000 + 2000] ^= 0xff;
    let path = dir.path().join("damaged.evtx");
    std::fs::write(&path, &data).unwrap();
    let out = events(&[&path]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_lines(&out).len(), 87 - 42);
    assert!(stderr(&out).contains(&format!("warning: {}: chunk 1 (offset 0x11000): corrupt evtx chunk: ", path.display())));
    assert_eq!(summary(&out), "taskhunt: 1 files, 45 records read, 42 skipped [corrupt evtx chunk: 1 (42 records)]");
}

#[test]
fn nothing_readable_exits_non_zero() {
    let dir = scratch();
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, b"").unwrap();
    let noise = dir.path().join("noise.evtx");
    std::fs::write(&noise, b"MZ\x90\x00 not telemetry at all").unwrap();
    let missing = dir.path().join("missing.evtx");
    let out = events(&[&empty, &noise, &missing]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains(&format!("warning: {}: unreadable file: ", missing.display())));
    assert_eq!(summary(&out), "taskhunt: 3 files, 0 records read, 0 skipped [empty file: 1, unreadable file: 1, unrecognized content: 1]");
    // A file whose every line is broken reads nothing either.
    let junk = dir.path().join("junk.jsonl");
    std::fs::write(&junk, "{\"Event\": \n{\"Event\": {]\n").unwrap();
    let out = events(&[&junk]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(summary(&out).starts_with("taskhunt: 1 files, 0 records read, 2 skipped [JSON syntax error: 2 (2 records)]"));
}

#[test]
fn defender_export_prints_its_table_as_csv() {
    let path = fixture("DeviceProcessEvents.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_taskhunt"))
        .args(["events", "--table", "DeviceProcessEvents", "--format", "csv"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut reader = csv::Reader::from_reader(&out.stdout[..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..5], ["Timestamp", "DeviceName", "ActionType", "FileName", "FolderPath"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let col = |row: &csv::StringRecord, name: &str| row[header.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(col(&rows[0], "FileName"), "schtasks.exe");
    assert_eq!(
        col(&rows[0], "ProcessCommandLine"),
        r#"schtasks.exe /Create /SC ONLOGON /TN "\Microsoft\Windows\Update\Sync" /TR "C:\Users\Public\sync.exe, -q""#
    );
    assert_eq!(col(&rows[1], "ProcessId"), "5020");
    assert_eq!(col(&rows[2], "InitiatingProcessFileName"), "sync.exe");
    assert_eq!(col(&rows[2], "ReportId"), format!("{}:4", path.display()));
}
