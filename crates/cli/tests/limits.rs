//! `--limit NAME=VALUE`: each limit against hostile input, lowered so that small inputs written
//! here reach it, is reported with where it was reached (file and line, task record, rule),
//! and what lies beyond it is still processed.

use std::path::Path;
use std::process::{Command, Output};

fn taskhunt(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_taskhunt")).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn system(event_id: u32, record: u64, channel: &str, provider: &str) -> serde_json::Value {
    serde_json::json!({
        "Provider": {"#attributes": {"Name": provider}},
        "EventID": event_id,
        "TimeCreated": {"#attributes": {"SystemTime": format!("2026-11-02T10:00:{:02}.0000000Z", record % 60)}},
        "EventRecordID": record,
        "Channel": channel,
        "Computer": "HOST-A",
    })
}

fn process(record: u64, command_line: &str) -> String {
    serde_json::json!({"Event": {
        "System": system(1, record, "Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon"),
        "EventData": {"Image": r"C:\Windows\System32\cmd.exe", "CommandLine": command_line, "ProcessId": record},
    }})
    .to_string()
}

fn task_created(record: u64, name: &str, xml: &str) -> String {
    serde_json::json!({"Event": {
        "System": system(4698, record, "Security", "Microsoft-Windows-Security-Auditing"),
        "EventData": {"SubjectUserName": "mallory", "SubjectDomainName": "CORP", "TaskName": name, "TaskContent": xml},
    }})
    .to_string()
}

fn write(dir: &Path, name: &str, lines: &[String]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn long_lines_are_skipped_and_long_fields_cut_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "p.jsonl", &[process(1, "short"), process(2, &"A".repeat(3000)), process(3, "after")]);
    // Line 2 is over 2 KiB: skipped, and the lines around it still read.
    let out = taskhunt(&["--limit", "line_bytes=2k", "events", &path]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stderr.contains("p.jsonl") && stderr.contains("2:1") && stderr.contains("limit line_bytes = 2048"), "{stderr}");
    assert!(stderr.contains("1 skipped"), "{stderr}");
    // With a field limit instead, line 2 is kept with its command line cut to 100 bytes.
    let out = taskhunt(&["--limit", "field_bytes=100", "events", &path, "--format", "jsonl"]);
    let rows: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["fields"]["CommandLine"].as_str().unwrap(), "A".repeat(100));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("field CommandLine of 3000 bytes cut to 100 (limit field_bytes)") && stderr.contains("2:1"), "{stderr}");
}

#[test]
fn deep_task_xml_is_refused_with_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let exec = "<Actions><Exec><Command>C:\\x.exe</Command></Exec></Actions>";
    let shallow = format!("<Task>{exec}</Task>");
    let deep = format!("<Task>{}{exec}{}</Task>", "<a>".repeat(10), "</a>".repeat(10));
    let path = write(dir.path(), "t.jsonl", &[task_created(7, "\\Shallow", &shallow), task_created(8, "\\Deep", &deep)]);
    let out = taskhunt(&["--limit", "xml_depth=8", "tasks", &path, "--format", "jsonl"]);
    let rows: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let row = |name: &str| rows.iter().find(|r| r["task_name"] == name).unwrap_or_else(|| panic!("no {name} in {rows:?}"));
    // The problem is on the deep task, whose history names the file and record it came from.
    let deep = row("\\Deep");
    assert!(deep["problems"].to_string().contains("nesting deeper than 8 (limit xml_depth)"), "{deep}");
    assert!(deep["history"].to_string().contains("t.jsonl:8"), "{deep}");
    // The shallow task is unaffected: its action was read.
    let shallow = row("\\Shallow");
    assert!(shallow["actions"].as_str().unwrap().contains("C:\\x.exe"), "{shallow}");
    assert!(!shallow.to_string().contains("limit xml_depth"), "{shallow}");
    // With the default depth (64) the deep one parses.
    let out = taskhunt(&["tasks", &path, "--format", "jsonl"]);
    assert!(!(text(&out.stdout) + &text(&out.stderr)).contains("limit xml_depth"));
}

#[test]
fn powershell_layers_stop_at_the_limit() {
    // Two layers (the first is the decoded payload): -enc of `powershell -enc dwBoAG8AYQBtAGkA`, which is -enc of `whoami`
    // (UTF-16LE base64, made with Python's base64 module).
    let outer = "powershell -enc cABvAHcAZQByAHMAaABlAGwAbAAgAC0AZQBuAGMAIABkAHcAQgBvAEEARwA4AEEAWQBRAEIAdABBAEcAawBBAA==";
    let out = taskhunt(&["--limit", "decoder_layers=1", "decode", outer]);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("stopped after 1 layers (limit decoder_layers)") && !all.contains("whoami"), "{all}");
    let out = taskhunt(&["decode", outer]);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("whoami") && !all.contains("limit decoder_layers"), "{all}");
}

#[test]
fn a_regex_over_the_compile_limit_rejects_its_rule_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "title: Big regex\nid: 7f0b6d0e-1c1a-4d43-9d55-0b0f5d0c1a01\nlogsource:\n  product: windows\n  category: process_creation\n\
                detection:\n  sel:\n    CommandLine|re: '\\w{1,200}x'\n  condition: sel\nlevel: high\n";
    std::fs::write(dir.path().join("big.yml"), rule).unwrap();
    let events = write(dir.path(), "p.jsonl", &[process(1, "abcx")]);
    let rules = dir.path().join("big.yml").to_string_lossy().into_owned();
    let out = taskhunt(&["--limit", "regex_bytes=4k", "detect", &events, "--rules", &rules, "--no-builtin-rules"]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("big.yml") && stderr.contains("(limit regex_bytes)"), "{stderr}");
    // Within the default limit the same rule loads and fires.
    let out = taskhunt(&["detect", &events, "--rules", &rules, "--no-builtin-rules", "--format", "jsonl"]);
    assert!(text(&out.stdout).contains("Big regex"), "{}", text(&out.stderr));
}

#[test]
fn correlation_groups_over_the_limit_are_reported_by_rule() {
    let dir = tempfile::tempdir().unwrap();
    let rules = "title: Any cmd\nname: any_cmd\nid: 0c7e1d4f-7a35-4d0b-9a71-5a3c3f1f2b10\nlogsource:\n  product: windows\n  category: process_creation\n\
                 detection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel\nlevel: low\n---\n\
                 title: Many cmd per command line\nid: 5d2b8f6a-3f0e-4b8e-8f4c-2c9d7e1a6b21\ncorrelation:\n  type: event_count\n  rules: [any_cmd]\n\
                 \x20 group-by: [CommandLine]\n  timespan: 1h\n  condition:\n    gte: 2\nlevel: high\n";
    std::fs::write(dir.path().join("corr.yml"), rules).unwrap();
    let events = write(dir.path(), "p.jsonl", &[process(1, "one"), process(2, "one"), process(3, "two"), process(4, "two")]);
    let rules = dir.path().join("corr.yml").to_string_lossy().into_owned();
    let run = |limit: Option<&str>| {
        let mut args = vec![];
        if let Some(l) = limit {
            args.extend(["--limit", l]);
        }
        args.extend(["detect", &events, "--rules", &rules, "--no-builtin-rules", "--format", "jsonl"]);
        taskhunt(&args)
    };
    // Two groups ("one", "two"), each reaching the count.
    let out = run(None);
    assert_eq!(text(&out.stdout).matches("Many cmd per command line").count(), 2, "{}", text(&out.stdout));
    let out = run(Some("correlation_groups=1"));
    assert_eq!(text(&out.stdout).matches("Many cmd per command line").count(), 1, "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("\"Many cmd per command line\"") && stderr.contains("2 events dropped after 1 open groups"), "{stderr}");
}

/// `crates/events/tests/fixtures/crafted_templates.evtx` (from a fuzz finding): one chunk of 50
/// readable records, each instantiating templates of thousands of elements.
#[test]
fn a_chunk_over_its_work_limit_keeps_the_records_before_it() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/tests/fixtures/crafted_templates.evtx");
    let fixture = fixture.to_string_lossy().into_owned();
    let all = taskhunt(&["events", &fixture]);
    assert_eq!(text(&all.stdout).lines().count(), 50, "{}", text(&all.stderr));
    assert!(!text(&all.stderr).contains("chunk_work"), "{}", text(&all.stderr));
    let out = taskhunt(&["--limit", "chunk_work=20k", "events", &fixture]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let kept = stdout.lines().count();
    assert!(kept > 0 && kept < 50, "{kept} records kept\n{stderr}");
    // The records kept are the first ones of the full read.
    assert!(text(&all.stdout).starts_with(&stdout));
    assert!(stderr.contains("crafted_templates.evtx") && stderr.contains("limit chunk_work") && stderr.contains("chunk 0"), "{stderr}");
}

#[test]
fn unknown_limits_are_refused_with_the_list() {
    let out = taskhunt(&["--limit", "xml_dept=3", "rules", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unknown limit \"xml_dept\"") && stderr.contains("correlation_groups"), "{stderr}");
}
