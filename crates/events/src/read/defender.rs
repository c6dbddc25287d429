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
    // Flexible: a row of the wrong number of fields may hold rows that a quote never closed
    // swallowed, which are looked for before the row is reported. Seekable, to resume there.
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(std::io::Cursor::new(body));
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            batch.issue(Location::Line { line: 1, column: 1 }, IssueKind::CsvRow, format!("header: {e}"), 0);
            return;
        }
    };
    let names: Vec<_> = headers.iter().map(crate::model::FieldName::intern).collect();
    let timestamp_column = headers.iter().position(|h| h == "Timestamp");
    let mut record = csv::StringRecord::new();
    let limits = crate::limits::current();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let at = record.position().cloned().unwrap_or_else(csv::Position::new);
                let line = at.line();
                // A quote opened and never closed makes one "row" of every line up to the next
                // quote; the rows swallowed are found again where a line starts a whole row.
                let end = reader.position().byte() as usize;
                let span = body.get(at.byte() as usize..end).unwrap_or_default();
                if let Some(resume) = row_inside(span, headers.len(), timestamp_column) {
                    let msg = format!("a quoted field runs into line {}, which starts a row of its own", line + resume.1);
                    batch.issue(Location::Line { line, column: 1 }, IssueKind::CsvRow, msg, 1);
                    let mut pos = csv::Position::new();
                    pos.set_byte(at.byte() + resume.0 as u64).set_line(line + resume.1).set_record(at.record() + 1);
                    if reader.seek(pos).is_err() {
                        break;
                    }
                    continue;
                }
                if record.len() != headers.len() {
                    let msg = format!("row has {} fields, the header {}", record.len(), headers.len());
                    batch.issue(Location::Line { line, column: 1 }, IssueKind::CsvRow, msg, 1);
                    continue;
                }
                if record.as_slice().len() > limits.line_bytes {
                    let msg = format!("row of {} bytes skipped (limit line_bytes = {})", record.as_slice().len(), limits.line_bytes);
                    batch.issue(Location::Line { line, column: 1 }, IssueKind::Limit, msg, 1);
                    continue;
                }
                let mut fields = Fields::with_capacity(names.len());
                for (name, value) in names.iter().zip(record.iter()) {
                    if value.is_empty() {
                        continue;
                    }
                    let kept = match crate::limits::cut(value, limits.field_bytes) {
                        Some(kept) => {
                            let msg = format!("column {name} of {} bytes cut to {} (limit field_bytes)", value.len(), limits.field_bytes);
                            batch.issue(Location::Line { line, column: 1 }, IssueKind::Limit, msg, 0);
                            kept
                        }
                        None => value,
                    };
                    fields.push(*name, Value::from(kept));
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

/// Where, inside the text of one record spanning several lines, a later line starts a whole
/// row (as many fields as the header, a time in the Timestamp column): `(byte offset, lines
/// after the record's first)`. A line break inside a field is otherwise ordinary (a command
/// line may hold one), so only a line that reads as a row of its own counts.
fn row_inside(span: &[u8], columns: usize, timestamp_column: Option<usize>) -> Option<(usize, u64)> {
    let timestamp_column = timestamp_column?;
    let body = span.strip_suffix(b"\n").unwrap_or(span);
    let mut lines = 0;
    for nl in memchr::memchr_iter(b'\n', body) {
        lines += 1;
        let from = nl + 1;
        let mut row = csv::StringRecord::new();
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&span[from..]);
        if reader.read_record(&mut row).unwrap_or(false)
            && row.len() == columns
            && row.get(timestamp_column).is_some_and(|t| Timestamp::parse(t).is_some())
        {
            return Some((from, lines));
        }
    }
    None
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
