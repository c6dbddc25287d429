//! The evtx-dump JSON shape: `{"Event":{"System":{...},"EventData":{...}}}`, exactly as the
//! `evtx` crate's `evtx_dump -o jsonl` prints it, with `#attributes` and `#text` keys.

use super::Interned;
use crate::model::{Event, FieldName, Fields, SourceFile, Timestamp, Value};
use serde_json::{Map, Value as Json};
use std::sync::Arc;

/// Converts one parsed `{"Event": ...}` document. `fallback_time` is used when the document has
/// no `TimeCreated` (the evtx record header carries one). Returns a reason when the document is
/// not an event.
pub(crate) fn event_from_dump(
    doc: &Json,
    source: &Arc<SourceFile>,
    strings: &mut Interned,
    fallback_time: Option<Timestamp>,
    fallback_record: Option<u64>,
) -> Result<Event, String> {
    let event = doc
        .get("Event")
        .and_then(Json::as_object)
        .ok_or("no \"Event\" object")?;
    let system = event
        .get("System")
        .and_then(Json::as_object)
        .ok_or("no \"Event.System\" object")?;

    let mut sys = Fields::with_capacity(20);
    flatten_into(None, system, &mut sys);

    let text_of = |f: &Fields, name: &str| -> Option<String> {
        f.get_str(name).filter(|v| !v.is_null()).map(|v| v.to_text().into_owned())
    };
    let timestamp = text_of(&sys, "TimeCreated_SystemTime")
        .and_then(|t| Timestamp::parse(&t))
        .or(fallback_time)
        .ok_or("no parseable System.TimeCreated.SystemTime")?;
    let event_id = sys
        .get_str("EventID")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or("no numeric System.EventID")?;
    let record_id = sys
        .get_str("EventRecordID")
        .and_then(Value::as_u64)
        .or(fallback_record)
        .unwrap_or(0);
    let computer = strings.get(text_of(&sys, "Computer").as_deref().unwrap_or(""));
    let channel = strings.get(text_of(&sys, "Channel").as_deref().unwrap_or(""));
    let provider = strings.get(text_of(&sys, "Provider_Name").as_deref().unwrap_or(""));

    let mut fields = Fields::with_capacity(24);
    for part in ["EventData", "UserData", "ProcessingErrorData"] {
        match event.get(part) {
            Some(Json::Object(map)) => flatten_into(Some(part), map, &mut fields),
            Some(Json::Null) | None => {}
            Some(other) => fields.insert_str(part, Value::from_json(other)),
        }
    }
    Ok(Event {
        timestamp,
        computer,
        channel,
        provider,
        event_id,
        record_id,
        source: source.clone(),
        system: sys,
        fields,
    })
}

/// Flattens XML-as-JSON into `name → value`: leaves keep their element name, attributes become
/// `Element_Attribute` (Sigma's `Provider_Name`), `#text` takes its element's name, and
/// namespace declarations are dropped. Wrapper elements (UserData's `EventXML`) vanish.
pub(crate) fn flatten_into(parent: Option<&str>, map: &Map<String, Json>, out: &mut Fields) {
    for (key, value) in map {
        match key.as_str() {
            "#attributes" => {
                if let Json::Object(attrs) = value {
                    for (attr, v) in attrs {
                        if attr == "xmlns" || attr.starts_with("xmlns:") {
                            continue;
                        }
                        let name = match parent {
                            Some(p) => FieldName::intern(&format!("{p}_{attr}")),
                            None => FieldName::intern(attr),
                        };
                        out.push(name, Value::from_json(v));
                    }
                }
            }
            "#text" => out.push(FieldName::intern(parent.unwrap_or("Data")), Value::from_json(value)),
            _ => match value {
                Json::Object(inner) => flatten_into(Some(key), inner, out),
                other => out.push(FieldName::intern(key), Value::from_json(other)),
            },
        }
    }
}
