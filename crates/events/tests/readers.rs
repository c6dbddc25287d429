//! Readers against real records: the whole corpus, and the same corpus records as .evtx,
//! evtx-dump JSON (lines and array), Winlogbeat/ECS JSON and gzip. Fixtures and where they came
//! from are listed in `tests/fixtures/README.md`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use taskhunt_events::tables::{self, Row};
use taskhunt_events::testing::evtx_samples;
use taskhunt_events::{Event, FileBatch, ReadOptions, Value, read_file, read_paths};

/// The corpus files the fixtures were cut from.
const TASK_EVTX: &str = "Execution/temp_scheduled_task_4698_4699.evtx";
const SYSMON_EVTX: &str = "Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A fresh, empty folder for one test's generated files.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("readers").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Reads a file that must read cleanly.
fn read_clean(path: &Path) -> FileBatch {
    let batch = read_file(path);
    assert!(batch.issues.is_empty(), "{}: unexpected issues {:?}", path.display(), batch.issues);
    batch
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Every part of two events except the file they came from.
fn assert_same_event(a: &Event, b: &Event) {
    let what = format!("record {} of {} vs {}", a.record_id, a.source.path.display(), b.source.path.display());
    assert_eq!(a.timestamp, b.timestamp, "{what}: timestamp");
    assert_eq!(a.computer, b.computer, "{what}: computer");
    assert_eq!(a.channel, b.channel, "{what}: channel");
    assert_eq!(a.provider, b.provider, "{what}: provider");
    assert_eq!(a.event_id, b.event_id, "{what}: event_id");
    assert_eq!(a.record_id, b.record_id, "{what}: record_id");
    assert_eq!(a.system, b.system, "{what}: system fields");
    assert_eq!(a.fields, b.fields, "{what}: fields");
}

fn assert_same_events(a: &[Event], b: &[Event]) {
    assert_eq!(a.len(), b.len(), "event counts differ");
    for (x, y) in a.iter().zip(b) {
        assert_same_event(x, y);
    }
}

/// The events of `evtx` (a corpus file) with these record ids, in that order.
fn evtx_records(evtx: &Path, ids: &[u64]) -> Vec<Event> {
    let batch = read_clean(evtx);
    ids.iter()
        .map(|id| {
            let found: Vec<&Event> = batch.events.iter().filter(|e| e.record_id == *id).collect();
            assert_eq!(found.len(), 1, "record {id} in {}", evtx.display());
            found[0].clone()
        })
        .collect()
}

/// The fixture's records, read from the corpus .evtx files they were cut from.
fn fixture_records_from_corpus(test: &str) -> Option<Vec<Event>> {
    let samples = evtx_samples(test)?;
    let mut events = evtx_records(&samples.join(TASK_EVTX), &[566836, 566840]);
    events.extend(evtx_records(&samples.join(SYSMON_EVTX), &[4125, 4128, 4130]));
    Some(events)
}

#[test]
fn corpus_reads_every_record_and_skips_none() {
    let Some(samples) = evtx_samples("corpus_reads_every_record_and_skips_none") else { return };
    let mut channels: BTreeMap<String, u64> = BTreeMap::new();
    let mut tasks_created = 0;
    let mut delivered = 0u64;
    let summary = read_paths(
        &[samples],
        &ReadOptions::default(),
        |batch| {
            delivered += batch.events.len() as u64;
            for e in &batch.events {
                *channels.entry(e.channel.to_string()).or_default() += 1;
                if &*e.channel == "Security" && e.event_id == 4698 {
                    tasks_created += 1;
                }
            }
        },
        |_, _| {},
    );
    assert_eq!(summary.records, 8255);
    assert_eq!(delivered, 8255, "the sink sees every event the summary counts");
    assert_eq!(summary.records_skipped(), 0, "{:?}", summary.issues);
    // 277 .evtx files and the folder's LICENSE.GPL, the one file that is not telemetry.
    assert_eq!(summary.files, 278);
    assert_eq!(summary.issues.len(), 1, "{:?}", summary.issues);
    assert!(summary.issues[0].file.ends_with("LICENSE.GPL"));
    assert_eq!(summary.problems.get("unrecognized content"), Some(&1));
    // Counted from `evtx_dump -o jsonl` over every file: 3241 Sysmon, 1577 Security and 415
    // events without a Channel element; 3 of them are Security 4698.
    assert_eq!(channels.get("Microsoft-Windows-Sysmon/Operational"), Some(&3241));
    assert_eq!(channels.get("Security"), Some(&1577));
    assert_eq!(channels.get(""), Some(&415));
    assert_eq!(tasks_created, 3);
}

#[test]
fn path_with_spaces_and_ampersand_reads() {
    let Some(samples) = evtx_samples("path_with_spaces_and_ampersand_reads") else { return };
    let dir = scratch("spaces").join("R&D logs & more/Task Scheduler");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tasks & stuff.evtx");
    std::fs::copy(samples.join(TASK_EVTX), &file).unwrap();
    let mut events = Vec::new();
    let summary = read_paths(&[dir.parent().unwrap().to_path_buf()], &ReadOptions::default(), |b| events.extend(b.events), |_, _| {});
    assert!(summary.issues.is_empty(), "{:?}", summary.issues);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].source.path, file);
    assert_eq!(events[0].report_id(), format!("{}:566836", file.display()));
}

#[test]
fn evtx_dump_fixture_reads_as_the_records_say() {
    // Values checked by hand against evtx_dump_records.jsonl.
    let batch = read_clean(&fixture("evtx_dump_records.jsonl"));
    assert_eq!(batch.format.map(|f| f.name()), Some("evtx-json"));
    let ids: Vec<(u32, u64)> = batch.events.iter().map(|e| (e.event_id, e.record_id)).collect();
    assert_eq!(ids, [(4698, 566836), (4699, 566840), (1, 4125), (3, 4128), (11, 4130)]);

    let task = &batch.events[0];
    assert_eq!(task.timestamp.to_string(), "2019-03-19T00:02:04.3199452Z");
    assert_eq!(&*task.computer, "WIN-77LTAPHIQ1R.example.corp");
    assert_eq!(&*task.channel, "Security");
    assert_eq!(&*task.provider, "Microsoft-Windows-Security-Auditing");
    assert_eq!(task.text("TaskName").as_deref(), Some("\\CYAlyNSS"));
    let content = task.text("TaskContent").unwrap();
    assert!(content.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.2\""));
    assert!(content.contains("<Command>cmd.exe</Command>"));
    assert!(content.contains("<Arguments>/C tasklist &gt; %windir%\\Temp\\CYAlyNSS.tmp 2&gt;&amp;1</Arguments>"));
    assert_eq!(task.system.get_str("Provider_Guid"), Some(&Value::str("{54849625-5478-4994-a5ba-3e3b0328c30d}")));
    assert_eq!(task.system.get_str("Execution_ProcessID"), Some(&Value::UInt(452)));
    assert_eq!(task.system.get_str("Keywords"), Some(&Value::str("0x8020000000000000")));
    assert_eq!(task.fields.len(), 6, "SubjectUserSid, SubjectUserName, SubjectDomainName, SubjectLogonId, TaskName, TaskContent");

    let process = &batch.events[2];
    assert_eq!(process.text("Image").as_deref(), Some("C:\\Windows\\System32\\cmd.exe"));
    assert_eq!(process.fields.get_str("ProcessId"), Some(&Value::UInt(1532)));
    assert_eq!(process.fields.get_str("LogonId"), Some(&Value::str("0xc796")));
    assert_eq!(process.text("Product").as_deref(), Some("Microsoft® Windows® Operating System"));
    assert_eq!(process.system.get_str("Security_UserID"), Some(&Value::str("S-1-5-18")));

    let network = &batch.events[3];
    assert_eq!(network.fields.get_str("Initiated"), Some(&Value::Bool(true)));
    assert_eq!(network.fields.get_str("DestinationPort"), Some(&Value::UInt(443)));
    assert_eq!(network.text("DestinationHostname").as_deref(), Some("gator4243.hostgator.com"));
}

#[test]
fn evtx_dump_lines_and_array_match_the_evtx_records() {
    let lines = read_clean(&fixture("evtx_dump_records.jsonl"));
    let array = read_clean(&fixture("evtx_dump_records.json"));
    assert_eq!(array.format, lines.format);
    assert_same_events(&array.events, &lines.events);
    let Some(evtx) = fixture_records_from_corpus("evtx_dump_lines_and_array_match_the_evtx_records") else { return };
    assert_eq!(evtx[0].source.format, "evtx");
    assert_same_events(&lines.events, &evtx);
}

/// Winlogbeat sends every EventData value as text, leaves out empty ones and turns Windows line
/// endings into `\n`; `@timestamp` has milliseconds. Everything else must agree.
fn assert_same_modulo_winlogbeat(evtx: &Event, ecs: &Event) {
    let what = format!("record {}", evtx.record_id);
    assert_eq!(evtx.timestamp.ticks() / 10_000, ecs.timestamp.ticks() / 10_000, "{what}: timestamp to the ms");
    assert_eq!(evtx.computer, ecs.computer, "{what}");
    assert_eq!(evtx.channel, ecs.channel, "{what}");
    assert_eq!(evtx.provider, ecs.provider, "{what}");
    assert_eq!(evtx.event_id, ecs.event_id, "{what}");
    assert_eq!(evtx.record_id, ecs.record_id, "{what}");
    let mut expected = 0;
    for (name, value) in evtx.fields.iter() {
        let text = value.to_text().replace("\r\n", "\n");
        if text.is_empty() {
            assert_eq!(ecs.fields.get(name), None, "{what}: empty {name} is left out");
            continue;
        }
        expected += 1;
        let got = ecs.fields.get(name).map(|v| v.to_text().into_owned());
        assert_eq!(got.as_deref(), Some(text.as_str()), "{what}: field {name}");
    }
    assert_eq!(ecs.fields.len(), expected, "{what}: no extra fields");
    // System values Winlogbeat carries, under the evtx-dump names.
    for name in [
        "Provider_Name",
        "Provider_Guid",
        "EventID",
        "EventRecordID",
        "Channel",
        "Computer",
        "Execution_ProcessID",
        "Execution_ThreadID",
        "Security_UserID",
    ] {
        let text = |e: &Event| e.system.get_str(name).map(|v| v.to_text().into_owned());
        assert_eq!(text(ecs), text(evtx), "{what}: system {name}");
    }
}

#[test]
fn winlogbeat_documents_match_the_same_records() {
    let ecs = read_clean(&fixture("winlogbeat_records.jsonl"));
    assert_eq!(ecs.format.map(|f| f.name()), Some("ecs-json"));
    assert_eq!(ecs.events.len(), 5);
    // Winlogbeat's text values, not evtx-dump's typed ones.
    assert_eq!(ecs.events[3].fields.get_str("DestinationPort"), Some(&Value::str("443")));
    assert_eq!(ecs.events[3].fields.get_str("Initiated"), Some(&Value::str("true")));
    assert_eq!(ecs.events[0].timestamp.to_string(), "2019-03-19T00:02:04.3190000Z");
    let dump = read_clean(&fixture("evtx_dump_records.jsonl"));
    for (d, e) in dump.events.iter().zip(&ecs.events) {
        assert_same_modulo_winlogbeat(d, e);
    }
    let Some(evtx) = fixture_records_from_corpus("winlogbeat_documents_match_the_same_records") else { return };
    for (d, e) in evtx.iter().zip(&ecs.events) {
        assert_same_modulo_winlogbeat(d, e);
    }
}

#[test]
fn gzipped_inputs_read_the_same() {
    let dir = scratch("gzip");
    for name in ["evtx_dump_records.jsonl", "evtx_dump_records.json", "winlogbeat_records.jsonl"] {
        let plain = read_clean(&fixture(name));
        // No .gz in the name: the content, not the extension, says it is gzip.
        let packed = dir.join(format!("{name}.packed"));
        std::fs::write(&packed, gzip(&std::fs::read(fixture(name)).unwrap())).unwrap();
        let unpacked = read_clean(&packed);
        assert_eq!(unpacked.format, plain.format, "{name}");
        assert_eq!(unpacked.events.len(), 5, "{name}");
        assert_same_events(&unpacked.events, &plain.events);
    }
    let Some(samples) = evtx_samples("gzipped_inputs_read_the_same") else { return };
    let evtx = samples.join(SYSMON_EVTX);
    let plain = read_clean(&evtx);
    let packed = dir.join("sysmon.evtx.gz");
    std::fs::write(&packed, gzip(&std::fs::read(&evtx).unwrap())).unwrap();
    let unpacked = read_clean(&packed);
    assert_eq!(unpacked.format.map(|f| f.name()), Some("evtx"));
    assert_eq!(plain.events.len(), 8, "evtx_dump prints 8 records for this file");
    assert_same_events(&unpacked.events, &plain.events);
}

fn row_text(row: &Row, column: &str) -> Option<String> {
    row.get(column).map(|v| v.to_text().into_owned())
}

#[test]
fn defender_process_csv_normalizes_into_device_process_events() {
    let path = fixture("DeviceProcessEvents.csv");
    let batch = read_clean(&path);
    assert_eq!(batch.format.map(|f| f.name()), Some("defender-csv"));
    assert_eq!(batch.events.len(), 3);
    let first = &batch.events[0];
    assert_eq!(&*first.channel, "DeviceProcessEvents");
    assert_eq!(&*first.provider, taskhunt_events::read::DEFENDER_PROVIDER);
    assert_eq!(&*first.computer, "ws-fin-07.contoso.local");
    assert_eq!(first.timestamp.to_string(), "2024-05-01T10:15:22.1234567Z");
    // A quoted cell with doubled quotes and a comma.
    assert_eq!(
        first.text("ProcessCommandLine").as_deref(),
        Some(r#"schtasks.exe /Create /SC ONLOGON /TN "\Microsoft\Windows\Update\Sync" /TR "C:\Users\Public\sync.exe, -q""#)
    );
    assert_eq!(first.fields.get_str("SHA1"), None, "empty cells are absent");

    let row = tables::normalize(first).expect("a Defender row has a table");
    assert_eq!(row.table.name, "DeviceProcessEvents");
    assert_eq!(row.get("ProcessId"), Some(&Value::Int(4412)));
    assert_eq!(row.get("InitiatingProcessId"), Some(&Value::Int(3120)));
    assert_eq!(row.get("LogonId"), Some(&Value::Int(998877)));
    assert_eq!(row_text(&row, "FileName").as_deref(), Some("schtasks.exe"));
    assert_eq!(row_text(&row, "InitiatingProcessCommandLine").as_deref(), Some(r#""cmd.exe" /c setup.bat"#));
    assert_eq!(row_text(&row, "AccountName").as_deref(), Some("alice"));
    assert_eq!(row_text(&row, "Timestamp").as_deref(), Some("2024-05-01T10:15:22.1234567Z"));
    // ReportId points back at the file and line (the header is line 1).
    assert_eq!(row_text(&row, "ReportId"), Some(format!("{}:2", path.display())));

    let third = tables::normalize(&batch.events[2]).unwrap();
    assert_eq!(row_text(&third, "Timestamp").as_deref(), Some("2024-05-01T10:16:00.0000000Z"));
    assert_eq!(row_text(&third, "InitiatingProcessFolderPath").as_deref(), Some("C:\\Users\\Public\\sync.exe"));
    assert_eq!(row_text(&third, "ReportId"), Some(format!("{}:4", path.display())));
}

#[test]
fn defender_events_json_normalizes_into_device_events() {
    let path = fixture("DeviceEvents.json");
    let batch = read_clean(&path);
    assert_eq!(batch.format.map(|f| f.name()), Some("defender-json"));
    assert_eq!(batch.events.len(), 2);
    let rows: Vec<Row> = batch.events.iter().map(|e| tables::normalize(e).unwrap()).collect();
    assert!(rows.iter().all(|r| r.table.name == "DeviceEvents"));
    assert_eq!(row_text(&rows[0], "ActionType").as_deref(), Some("ScheduledTaskCreated"));
    assert_eq!(row_text(&rows[1], "ActionType").as_deref(), Some("ScheduledTaskDeleted"));
    // LogonId is a number in one row and a string in the other; both are longs in the table.
    assert_eq!(rows[0].get("LogonId"), Some(&Value::Int(998877)));
    assert_eq!(rows[1].get("LogonId"), Some(&Value::Int(998877)));
    assert_eq!(rows[0].get("InitiatingProcessId"), Some(&Value::Int(4412)));
    assert_eq!(rows[1].get("InitiatingProcessId"), None, "null stays null");
    // AdditionalFields, an object in one row and JSON text in the other, is JSON text in both.
    let task = |r: &Row| -> serde_json::Value { serde_json::from_str(&row_text(r, "AdditionalFields").unwrap()).unwrap() };
    assert_eq!(task(&rows[0])["TaskName"], "\\Microsoft\\Windows\\Update\\Sync");
    assert_eq!(task(&rows[0]), task(&rows[1]));
    assert_eq!(row_text(&rows[1], "Timestamp").as_deref(), Some("2024-05-01T10:20:05.0000000Z"));
    assert_eq!(row_text(&rows[1], "ReportId"), Some(format!("{}:2", path.display())));
}

#[test]
fn scheduled_task_record_normalizes_from_every_shape() {
    // The 4698 from evtx-dump JSON and from Winlogbeat lands in DeviceEvents with its task.
    for name in ["evtx_dump_records.jsonl", "winlogbeat_records.jsonl"] {
        let batch = read_clean(&fixture(name));
        let row = tables::normalize(&batch.events[0]).unwrap();
        assert_eq!(row.table.name, "DeviceEvents", "{name}");
        assert_eq!(row_text(&row, "ActionType").as_deref(), Some("ScheduledTaskCreated"), "{name}");
        assert_eq!(row_text(&row, "AccountName").as_deref(), Some("Administrator"), "{name}");
        let extra: serde_json::Value = serde_json::from_str(&row_text(&row, "AdditionalFields").unwrap()).unwrap();
        assert_eq!(extra["TaskName"], "\\CYAlyNSS", "{name}");
        assert!(extra["TaskContent"].as_str().unwrap().contains("<Command>cmd.exe</Command>"), "{name}");
        let network = tables::normalize(&batch.events[3]).unwrap();
        assert_eq!(network.table.name, "DeviceNetworkEvents", "{name}");
        assert_eq!(row_text(&network, "RemoteIP").as_deref(), Some("108.179.232.58"), "{name}");
        assert_eq!(network.get("RemotePort"), Some(&Value::Int(443)), "{name}");
    }
}
