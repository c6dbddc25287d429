//! The evtx-dump JSON shape: `{"Event":{"System":{...},"EventData":{...}}}`, exactly as the
//! `evtx` crate's `evtx_dump -o jsonl` prints it, with `#attributes` and `#text` keys.

use super::Interned;
use crate::model::{Event, FieldName, Fields, SourceFile, Timestamp, Value};
use serde_json::{Map, Value as Json};
use std::sync::{Arc, OnceLock};

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
    let event = doc.get("Event").and_then(Json::as_object).ok_or("no \"Event\" object")?;
    let system = event.get("System").and_then(Json::as_object).ok_or("no \"Event.System\" object")?;

    let mut sys = Fields::with_capacity(20);
    flatten_into(None, system, &mut sys);
    let mut fields = Fields::with_capacity(24);
    for part in ["EventData", "UserData", "ProcessingErrorData"] {
        match event.get(part) {
            Some(Json::Object(map)) => flatten_into(Some(part), map, &mut fields),
            Some(Json::Null) | None => {}
            Some(other) => fields.insert_str(part, Value::from_json(other)),
        }
    }
    event_from_fields(sys, fields, source, strings, fallback_time, fallback_record)
}

/// Field names every event is asked for, interned once: looking a name up by text takes
/// the interner's lock, once per field per record otherwise.
pub(crate) struct Known {
    pub time_created: FieldName,
    pub event_id: FieldName,
    pub event_record_id: FieldName,
    pub computer: FieldName,
    pub channel: FieldName,
    pub provider_name: FieldName,
    pub data: FieldName,
    pub system: FieldName,
    pub event: FieldName,
    pub parts: [FieldName; 3],
}

pub(crate) fn known() -> &'static Known {
    static KNOWN: OnceLock<Known> = OnceLock::new();
    KNOWN.get_or_init(|| Known {
        time_created: FieldName::intern("TimeCreated_SystemTime"),
        event_id: FieldName::intern("EventID"),
        event_record_id: FieldName::intern("EventRecordID"),
        computer: FieldName::intern("Computer"),
        channel: FieldName::intern("Channel"),
        provider_name: FieldName::intern("Provider_Name"),
        data: FieldName::intern("Data"),
        system: FieldName::intern("System"),
        event: FieldName::intern("Event"),
        parts: ["EventData", "UserData", "ProcessingErrorData"].map(FieldName::intern),
    })
}

/// The event of a record whose System header and EventData/UserData have been flattened.
pub(crate) fn event_from_fields(
    sys: Fields,
    fields: Fields,
    source: &Arc<SourceFile>,
    strings: &mut Interned,
    fallback_time: Option<Timestamp>,
    fallback_record: Option<u64>,
) -> Result<Event, String> {
    let k = known();
    fn text_of(f: &Fields, name: FieldName) -> Option<std::borrow::Cow<'_, str>> {
        f.get(name).filter(|v| !v.is_null()).map(|v| v.to_text())
    }
    let timestamp = text_of(&sys, k.time_created)
        .and_then(|t| Timestamp::parse(&t))
        .or(fallback_time)
        .ok_or("no parseable System.TimeCreated.SystemTime")?;
    let event_id = sys.get(k.event_id).and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok()).ok_or("no numeric System.EventID")?;
    let record_id = sys.get(k.event_record_id).and_then(Value::as_u64).or(fallback_record).unwrap_or(0);
    let computer = strings.get(text_of(&sys, k.computer).as_deref().unwrap_or(""));
    let channel = strings.get(text_of(&sys, k.channel).as_deref().unwrap_or(""));
    let provider = strings.get(text_of(&sys, k.provider_name).as_deref().unwrap_or(""));
    Ok(Event { timestamp, computer, channel, provider, event_id, record_id, source: source.clone(), system: sys, fields })
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
