//! A COM-handler task whose class a user re-registered (per-user InprocServer32) is scored as a
//! COM hijack, with the registry event as evidence.

use std::path::PathBuf;
use std::sync::Arc;
use taskhunt_events::{Event, Fields, SourceFile, Timestamp, Value};
use taskhunt_tasks::inventory;
use taskhunt_tasks::score::ScoringConfig;

fn event(channel: &str, id: u32, record: u64, fields: &[(&str, &str)]) -> Event {
    let mut f = Fields::new();
    for (k, v) in fields {
        f.insert_str(k, Value::from(*v));
    }
    Event {
        timestamp: Timestamp::parse("2026-03-04T10:00:00Z").unwrap(),
        computer: "WS1.corp.example".into(),
        channel: channel.into(),
        provider: "test".into(),
        event_id: id,
        record_id: record,
        source: Arc::new(SourceFile { path: PathBuf::from("hand-built"), format: "evtx-json" }),
        system: Fields::new(),
        fields: f,
    }
}

const TASK: &str = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><Task xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\
<Principals><Principal id=\"Users\"><GroupId>S-1-5-32-545</GroupId></Principal></Principals>\
<Actions Context=\"Users\"><ComHandler><ClassId>{58FB76B9-AC85-4E55-AC04-427593B1D060}</ClassId></ComHandler></Actions></Task>";

#[test]
fn per_user_inprocserver32_of_the_task_class_is_a_hijack() {
    let task = event(
        "Security",
        4702,
        1,
        &[("TaskName", "\\Microsoft\\Windows\\Maintenance\\Sample"), ("TaskContentNew", TASK), ("SubjectUserName", "SYSTEM")],
    );
    let reg = event(
        "Microsoft-Windows-Sysmon/Operational",
        13,
        2,
        &[
            ("EventType", "SetValue"),
            ("TargetObject", "HKU\\S-1-5-21-1-2-3-1001_Classes\\CLSID\\{58FB76B9-AC85-4E55-AC04-427593B1D060}\\InprocServer32\\(Default)"),
            ("Details", "C:\\Users\\bob\\AppData\\Roaming\\x.dll"),
        ],
    );
    let other = event(
        "Microsoft-Windows-Sysmon/Operational",
        13,
        3,
        &[
            ("TargetObject", "HKLM\\SOFTWARE\\Classes\\CLSID\\{58FB76B9-AC85-4E55-AC04-427593B1D060}\\InprocServer32\\(Default)"),
            ("Details", "x"),
        ],
    );
    let entries = inventory::from_events(&[task.clone(), reg], &ScoringConfig::default());
    let r = entries[0].reasons.iter().find(|r| r.signal == "com_hijack").expect("com_hijack reason");
    assert!(r.detail.contains("x.dll") && r.detail.contains("hand-built:2"), "{}", r.detail);
    // A machine-wide registration is not a per-user override.
    let entries = inventory::from_events(&[task, other], &ScoringConfig::default());
    assert!(!entries[0].reasons.iter().any(|r| r.signal == "com_hijack"));
}
