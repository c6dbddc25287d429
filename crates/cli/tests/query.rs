//! `taskhunt query` as a user runs it: rows on stdout in each format, notes and errors on stderr.
//! The telemetry is four Sysmon process creations in the evtx-dump JSON shape, written here with
//! hostile command lines (a spreadsheet formula, a terminal escape).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn process_event(record: u64, host: &str, image: &str, command_line: &str) -> String {
    serde_json::json!({"Event": {
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
            "EventID": 1,
            "TimeCreated": {"#attributes": {"SystemTime": format!("2026-11-02T10:00:0{record}.0000000Z")}},
            "EventRecordID": record,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": host,
        },
        "EventData": {"Image": image, "CommandLine": command_line, "ProcessId": 100 + record, "User": "CORP\\alice"},
    }})
    .to_string()
}

fn telemetry(dir: &Path) -> PathBuf {
    let ps = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
    let lines = [
        process_event(1, "HOST-A", ps, "powershell.exe -nop -enc SQBFAFgA"),
        process_event(2, "HOST-A", r"C:\Windows\System32\cmd.exe", "=HYPERLINK(\"http://evil.example/\",\"x\")"),
        process_event(3, "HOST-B", r"C:\Windows\System32\cmd.exe", "cmd /c echo \u{1b}]0;pwned\u{7}\u{1b}[31mred"),
        process_event(4, "HOST-B", ps, "POWERSHELL -ENC QgBCAEIA"),
    ];
    let path = dir.join("process.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn query(args: &[&str], path: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_taskhunt")).arg("query").args(args).arg(path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn kql_summarize_names_the_count_column_and_render_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let path = telemetry(dir.path());
    let q = "DeviceProcessEvents | where ProcessCommandLine contains \"-enc\" | summarize count() by DeviceName \
             | sort by DeviceName asc | render columnchart";
    let out = query(&[q, "--format", "jsonl"], &path);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Records 1 and 4 contain -enc / -ENC (KQL contains ignores case), one per host.
    let rows: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        rows,
        vec![serde_json::json!({"DeviceName": "HOST-A", "count_": 1}), serde_json::json!({"DeviceName": "HOST-B", "count_": 1})]
    );
    let err = text(&out.stderr);
    assert!(err.contains("note: render columnchart: ignored"), "{err}");
}

#[test]
fn spl_stats_count_is_named_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = telemetry(dir.path());
    let out = query(&["index=sysmon Image=\"*powershell.exe\" | stats count by Computer | sort Computer", "--format", "jsonl"], &path);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows, vec![serde_json::json!({"Computer": "HOST-A", "count": 1}), serde_json::json!({"Computer": "HOST-B", "count": 1})]);
    assert!(!text(&out.stderr).contains("note:"));
}

#[test]
fn csv_defuses_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let path = telemetry(dir.path());
    let out = query(&["DeviceProcessEvents | where ReportId endswith \":2\" | project ProcessCommandLine", "--format", "csv"], &path);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("ProcessCommandLine"));
    let cell = lines.next().unwrap();
    // The cell is quoted (it holds quotes and a comma) and starts with the apostrophe that
    // keeps a spreadsheet from evaluating it.
    assert!(cell.starts_with("\"'=HYPERLINK("), "{cell}");
    assert_eq!(lines.next(), None);
}

#[test]
fn terminal_table_shows_escapes_without_emitting_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = telemetry(dir.path());
    let out = query(&["DeviceProcessEvents | where DeviceName == \"HOST-B\" | project ProcessCommandLine", "--wide"], &path);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(!table.contains('\u{1b}') && !table.contains('\u{7}'), "{table:?}");
    assert!(table.contains("pwned") && table.contains("red"), "{table}");
}

#[test]
fn a_syntax_error_points_at_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = telemetry(dir.path());
    let out = query(&["DeviceProcessEvents\n| wher ProcessCommandLine contains \"x\""], &path);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("2:3") || err.contains("line 2"), "{err}");
    assert!(err.contains('^'), "{err}");
    assert!(err.contains("wher"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_case_store_answers_as_the_files_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = telemetry(dir.path());
    let store = dir.path().join("store");
    let store_arg = store.to_string_lossy().into_owned();
    let ingest = |p: &Path| Command::new(env!("CARGO_BIN_EXE_taskhunt")).args(["ingest", "--store", &store_arg]).arg(p).output().unwrap();
    let out = ingest(&path);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("1 files ingested (4 records"), "{}", text(&out.stderr));
    // The same content again, under another name: recognised, nothing added.
    let copy = dir.path().join("copy.jsonl");
    std::fs::copy(&path, &copy).unwrap();
    let out = ingest(&copy);
    assert!(text(&out.stderr).contains("already in the store"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("0 files ingested"), "{}", text(&out.stderr));

    let q = "DeviceProcessEvents | summarize n = count() by DeviceName | sort by DeviceName asc";
    let from_files = query(&[q, "--format", "jsonl"], &path);
    let from_store =
        Command::new(env!("CARGO_BIN_EXE_taskhunt")).args(["query", q, "--format", "jsonl", "--store", &store_arg]).output().unwrap();
    assert!(from_store.status.success(), "{}", text(&from_store.stderr));
    assert_eq!(text(&from_store.stdout), text(&from_files.stdout));
    assert_eq!(text(&from_store.stdout).lines().count(), 2);
}
