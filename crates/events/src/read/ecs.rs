//! Winlogbeat / Elastic Common Schema documents: `@timestamp` and a `winlog` object with
//! `channel`, `event_id`, `computer_name`, `record_id`, `provider_name` and `event_data`.

use super::Interned;
use super::evtx_json::flatten_into;
use crate::model::{Event, FieldName, Fields, SourceFile, Timestamp, Value};
use serde_json::Value as Json;
use std::sync::Arc;

/// ECS paths that carry System header values, under the names the evtx-dump shape gives them.
const SYSTEM_MAP: &[(&str, &str)] = &[
    ("provider_guid", "Provider_Guid"),
    ("version", "Version"),
    ("opcode", "Opcode"),
    ("task", "Task"),
    ("keywords", "Keywords"),
    ("activity_id", "Correlation_ActivityID"),
    ("related_activity_id", "Correlation_RelatedActivityID"),
];

pub(crate) fn event_from_ecs(doc: &Json, source: &Arc<SourceFile>, strings: &mut Interned) -> Result<Event, String> {
    let winlog = doc.get("winlog").and_then(Json::as_object).ok_or("no \"winlog\" object")?;
    let text = |v: Option<&Json>| -> Option<String> {
        match v? {
            Json::String(s) => Some(s.clone()),
            Json::Null => None,
            other => Some(other.to_string()),
        }
    };
    let timestamp = text(doc.get("@timestamp")).and_then(|t| Timestamp::parse(&t)).ok_or("no parseable \"@timestamp\"")?;
    let event_id: u32 = text(winlog.get("event_id"))
        .or_else(|| text(doc.pointer("/event/code")))
        .and_then(|s| s.trim().parse().ok())
        .ok_or("no numeric winlog.event_id")?;
    let record_id: u64 = text(winlog.get("record_id")).and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let computer = text(winlog.get("computer_name")).or_else(|| text(doc.pointer("/host/name"))).unwrap_or_default();
    let channel = text(winlog.get("channel")).unwrap_or_default();
    let provider = text(winlog.get("provider_name")).unwrap_or_default();

    let mut system = Fields::with_capacity(16);
    system.insert_str("Provider_Name", Value::from(provider.as_str()));
    system.insert_str("EventID", Value::UInt(event_id as u64));
    system.insert_str("EventRecordID", Value::UInt(record_id));
    system.insert_str("Channel", Value::from(channel.as_str()));
    system.insert_str("Computer", Value::from(computer.as_str()));
    for (ecs, name) in SYSTEM_MAP {
        if let Some(v) = winlog.get(*ecs) {
            system.push(FieldName::intern(name), Value::from_json(v));
        }
    }
    if let Some(v) = doc.pointer("/winlog/process/pid") {
        system.insert_str("Execution_ProcessID", Value::from_json(v));
    }
    if let Some(v) = doc.pointer("/winlog/process/thread/id") {
        system.insert_str("Execution_ThreadID", Value::from_json(v));
    }
    if let Some(v) = doc.pointer("/winlog/user/identifier") {
        system.insert_str("Security_UserID", Value::from_json(v));
    }

    let mut fields = Fields::with_capacity(24);
    for part in ["event_data", "user_data"] {
        if let Some(Json::Object(map)) = winlog.get(part) {
            // Winlogbeat already flattened the XML; `xml_name` names the UserData wrapper.
            let mut map = map.clone();
            map.remove("xml_name");
            flatten_into(Some(part), &map, &mut fields);
        }
    }
    Ok(Event {
        timestamp,
        computer: strings.get(&computer),
        channel: strings.get(&channel),
        provider: strings.get(&provider),
        event_id,
        record_id,
        source: source.clone(),
        system,
        fields,
    })
}
