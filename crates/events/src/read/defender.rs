//! Microsoft Defender Advanced Hunting exports: one table per file (named by the file name),
//! as CSV with a header row or as JSON. Rows keep Microsoft's column names as fields.

use super::{FileBatch, Interned, IssueKind, Location};
use crate::model::{Event, Fields, SourceFile, Timestamp, Value};
use serde_json::Value as Json;
use std::sync::Arc;

pub const DEFENDER_PROVIDER: &str = "Microsoft-Defender-AdvancedHunting";

pub(crate) fn read_csv(batch: &mut FileBatch, data: &[u8], table: &'static str, source: &Arc<SourceFile>) {
    let mut strings = Interned::default();
    let body = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            batch.issue(Location::Line { line: 1, column: 1 }, IssueKind::CsvRow, format!("header: {e}"), 0);
            return;
        }
    };
    let names: Vec<_> = headers.iter().map(crate::model::FieldName::intern).collect();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let mut fields = Fields::with_capacity(names.len());
                for (name, value) in names.iter().zip(record.iter()) {
                    if !value.is_empty() {
                        fields.push(*name, Value::from(value));
                    }
                }
                match row_event(fields, table, source, &mut strings, line) {
                    Ok(ev) => batch.events.push(ev),
                    Err(msg) => batch.issue(Location::Line { line, column: 1 }, IssueKind::CsvRow, msg, 1),
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                batch.issue(Location::Line { line, column: 1 }, IssueKind::CsvRow, e.to_string(), 1);
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
}

pub(crate) fn event_from_json(
    v: &Json,
    table: &'static str,
    source: &Arc<SourceFile>,
    strings: &mut Interned,
    ordinal: u64,
) -> Result<Event, String> {
    let obj = v.as_object().ok_or("row is not a JSON object")?;
    let mut fields = Fields::with_capacity(obj.len());
    for (k, v) in obj {
        if !v.is_null() {
            // AdditionalFields and similar dynamic columns stay JSON text, as in CSV exports.
            let value = match v {
                Json::Object(_) | Json::Array(_) => Value::from(v.to_string()),
                other => Value::from_json(other),
            };
            fields.insert_str(k, value);
        }
    }
    row_event(fields, table, source, strings, ordinal)
}

fn row_event(fields: Fields, table: &'static str, source: &Arc<SourceFile>, strings: &mut Interned, ordinal: u64) -> Result<Event, String> {
    let timestamp = fields.get_str("Timestamp").and_then(|v| Timestamp::parse(&v.to_text())).ok_or("no parseable Timestamp column")?;
    let computer = fields.get_str("DeviceName").map(|v| v.to_text().into_owned()).unwrap_or_default();
    let mut system = Fields::with_capacity(4);
    system.insert_str("Channel", Value::from(table));
    system.insert_str("Computer", Value::from(computer.as_str()));
    system.insert_str("Provider_Name", Value::from(DEFENDER_PROVIDER));
    Ok(Event {
        timestamp,
        computer: strings.get(&computer),
        channel: strings.get(table),
        provider: strings.get(DEFENDER_PROVIDER),
        event_id: 0,
        record_id: ordinal,
        source: source.clone(),
        system,
        fields,
    })
}
