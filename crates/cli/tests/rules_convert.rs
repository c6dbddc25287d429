//! `taskhunt rules convert` as a user runs it: the queries on stdout (or in `-o FILE`), the
//! rules that cannot be converted and the counts on stderr, for each target.

use std::path::Path;
use std::process::{Command, Output};

/// Two rules in one file: one every target converts, one with a time-part modifier, which no
/// target converts; and a correlation, which is never converted.
const RULES: &str = r#"title: Schtasks Creates a Task
id: 0c7d1a8e-0000-4000-8000-000000000001
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\schtasks.exe'
    CommandLine|contains: '/create'
  condition: sel
---
title: Night Owl
id: 0c7d1a8e-0000-4000-8000-000000000002
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    UtcTime|hour: 3
  condition: sel
---
title: Many Tasks
id: 0c7d1a8e-0000-4000-8000-000000000003
correlation:
  type: event_count
  rules: [0c7d1a8e-0000-4000-8000-000000000001]
  group-by: [Computer]
  timespan: 1h
  condition:
    gte: 10
"#;

fn convert(dir: &Path, args: &[&str]) -> Output {
    let out =
        Command::new(env!("CARGO_BIN_EXE_taskhunt")).args(["rules", "convert"]).arg(dir.join("rules.yml")).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    dir
}

fn check_failures(out: &Output, summary: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rules.yml: 0c7d1a8e-0000-4000-8000-000000000002 (Night Owl): time-part modifiers"), "{err}");
    assert!(err.contains("(Many Tasks): correlation rules are not converted"), "{err}");
    assert!(err.lines().last().unwrap_or("").ends_with(summary), "{err}");
    assert_eq!(out.status.code(), Some(1), "a failed rule makes the exit status 1");
}

#[test]
fn kql_for_defender() {
    let dir = setup();
    let out = convert(dir.path(), &["--to", "kql"]);
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    // Defender is the default KQL pipeline: one table, Defender's column names.
    assert_eq!(
        stdout,
        "// Schtasks Creates a Task (0c7d1a8e-0000-4000-8000-000000000001)\n// converted by taskhunt, pipeline defender\nDeviceProcessEvents\n| where FolderPath endswith @\"\\schtasks.exe\"\n    and ProcessCommandLine contains \"/create\"\n"
    );
    check_failures(&out, "rules convert (kql, pipeline defender): 1 converted (0 lossy), 2 failed");
}

#[test]
fn spl_for_splunk_and_to_a_file() {
    let dir = setup();
    let file = dir.path().join("out.spl");
    let out = convert(dir.path(), &["--to", "spl", "-o", file.to_str().unwrap()]);
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    // Sysmon 1 and Security 4688 (with the 4688 name of Image), comments in Splunk's syntax.
    assert!(text.starts_with("``` Schtasks Creates a Task (0c7d1a8e-0000-4000-8000-000000000001) ```\n"), "{text}");
    assert!(text.ends_with(
        "(source=\"XmlWinEventLog:Microsoft-Windows-Sysmon/Operational\" EventCode=1 Image=\"*\\\\schtasks.exe\" CommandLine=\"*/create*\") OR (source=\"XmlWinEventLog:Security\" EventCode=4688 NewProcessName=\"*\\\\schtasks.exe\" CommandLine=\"*/create*\")\n"
    ), "{text}");
    check_failures(&out, "rules convert (spl, pipeline splunk-windows): 1 converted (0 lossy), 2 failed");
}

#[test]
fn sql_for_taskhunt_and_kql_for_sentinel() {
    let dir = setup();
    let out = convert(dir.path(), &["--to", "sql"]);
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(stdout.contains("-- converted by taskhunt, pipeline taskhunt\nSELECT * FROM main\nWHERE (\"Channel\" = 'Microsoft-Windows-Sysmon/Operational' AND \"EventID\" IN (1) AND lower(\"Image\") LIKE '%\\\\schtasks.exe' ESCAPE '\\'"), "{stdout}");
    check_failures(&out, "rules convert (sql, pipeline taskhunt): 1 converted (0 lossy), 2 failed");

    let out = convert(dir.path(), &["--to", "kql", "--pipeline", "sentinel"]);
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(stdout.contains("(WindowsEvent\n    | where Channel == \"Microsoft-Windows-Sysmon/Operational\"\n        and EventID == 1\n        and tostring(EventData.Image) endswith @\"\\schtasks.exe\""), "{stdout}");
    assert!(
        stdout.contains("(SecurityEvent\n    | where EventID == 4688\n        and NewProcessName endswith @\"\\schtasks.exe\""),
        "{stdout}"
    );

    // A pipeline that does not produce the language is refused before any rule is read.
    let out = convert(dir.path(), &["--to", "sql", "--pipeline", "splunk-cim"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not produce sql"));
}
