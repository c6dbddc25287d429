//! JSON lines and JSON arrays. Each value is decoded on its own, so one malformed line costs
//! that line only; positions are reported as line:column of the whole file.

use super::{FileBatch, Format, Interned, IssueKind, Location, defender, ecs, evtx_json};
use crate::limits::Limits;
use crate::model::{Event, SourceFile};
use serde_json::Value as Json;
use std::sync::Arc;

pub(crate) fn read(batch: &mut FileBatch, data: &[u8], format: Format, source: &Arc<SourceFile>) {
    let mut strings = Interned::default();
    let body = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let first = body.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    let lines = LineIndex::new(body);
    if body.get(first) == Some(&b'[') {
        read_array(batch, body, first + 1, format, source, &mut strings, &lines);
    } else {
        read_lines(batch, body, format, source, &mut strings);
    }
}

fn convert(format: Format, v: &Json, source: &Arc<SourceFile>, strings: &mut Interned, ordinal: u64) -> Result<Event, String> {
    match format {
        Format::EvtxJson => evtx_json::event_from_dump(v, source, strings, None, None),
        Format::EcsJson => ecs::event_from_ecs(v, source, strings),
        Format::DefenderJson(table) => defender::event_from_json(v, table, source, strings, ordinal),
        _ => Err("not a JSON format".into()),
    }
}

/// Keeps `event` with its over-long values cut to the limit, each cut reported at `location`.
fn push_event(batch: &mut FileBatch, mut event: Event, location: Location, limits: &Limits) {
    for (name, len) in crate::limits::cut_fields(&mut event.fields, limits.field_bytes) {
        let msg = format!("record {}: field {name} of {len} bytes cut to {} (limit field_bytes)", event.record_id, limits.field_bytes);
        batch.issue(location.clone(), IssueKind::Limit, msg, 0);
    }
    batch.events.push(event);
}

fn read_lines(batch: &mut FileBatch, body: &[u8], format: Format, source: &Arc<SourceFile>, strings: &mut Interned) {
    let limits = crate::limits::current();
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let trimmed = line.strip_suffix(b"\r").unwrap_or(line);
        if trimmed.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if trimmed.len() > limits.line_bytes {
            let msg = format!("line of {} bytes skipped (limit line_bytes = {})", trimmed.len(), limits.line_bytes);
            batch.issue(Location::Line { line: line_no, column: 1 }, IssueKind::Limit, msg, 1);
            continue;
        }
        match serde_json::from_slice::<Json>(trimmed) {
            Ok(v) => match convert(format, &v, source, strings, line_no) {
                Ok(ev) => push_event(batch, ev, Location::Line { line: line_no, column: 1 }, &limits),
                Err(msg) => batch.issue(Location::Line { line: line_no, column: 1 }, IssueKind::NotAnEvent, msg, 1),
            },
            Err(e) => {
                batch.issue(Location::Line { line: line_no, column: e.column() as u64 }, IssueKind::JsonSyntax, syntax_message(&e), 1)
            }
        }
    }
}

/// Walks the elements of a top-level array one value at a time. After a syntax error inside an
/// element, reading resumes at the next line that starts an object, so later elements survive.
fn read_array(
    batch: &mut FileBatch,
    body: &[u8],
    mut pos: usize,
    format: Format,
    source: &Arc<SourceFile>,
    strings: &mut Interned,
    lines: &LineIndex,
) {
    let mut ordinal = 0u64;
    let limits = crate::limits::current();
    loop {
        while pos < body.len() && (body[pos].is_ascii_whitespace() || body[pos] == b',') {
            pos += 1;
        }
        if pos >= body.len() {
            let (line, column) = lines.position(pos);
            batch.issue(Location::Line { line, column }, IssueKind::JsonSyntax, "array is not closed", 0);
            return;
        }
        if body[pos] == b']' {
            return;
        }
        ordinal += 1;
        let mut stream = serde_json::Deserializer::from_slice(&body[pos..]).into_iter::<Json>();
        match stream.next() {
            Some(Ok(v)) => {
                let start = pos;
                pos += stream.byte_offset();
                match convert(format, &v, source, strings, ordinal) {
                    Ok(ev) => {
                        let (line, column) = lines.position(start);
                        push_event(batch, ev, Location::Line { line, column }, &limits)
                    }
                    Err(msg) => {
                        let (line, column) = lines.position(start);
                        batch.issue(Location::Line { line, column }, IssueKind::NotAnEvent, msg, 1);
                    }
                }
            }
            Some(Err(e)) => {
                let (line, column) = lines.position(pos);
                let (eline, ecol) =
                    (line + e.line() as u64 - 1, if e.line() == 1 { column + e.column() as u64 - 1 } else { e.column() as u64 });
                batch.issue(Location::Line { line: eline, column: ecol }, IssueKind::JsonSyntax, syntax_message(&e), 1);
                // Resume at the next line whose first non-blank byte opens an object.
                let mut next = pos + 1;
                loop {
                    match memchr::memchr(b'\n', &body[next.min(body.len())..]) {
                        None => return,
                        Some(nl) => {
                            next += nl + 1;
                            let rest = &body[next..];
                            let s = rest.iter().position(|b| *b != b' ' && *b != b'\t' && *b != b'\r').unwrap_or(rest.len());
                            if rest.get(s) == Some(&b'{') {
                                pos = next + s;
                                break;
                            }
                        }
                    }
                }
            }
            None => return,
        }
    }
}

/// serde_json's message without its " at line L column C": that position counts from where the
/// value started, not from the start of the file, and the issue's location already has the
/// position in the file.
fn syntax_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&position) {
        Some(message) => message.to_string(),
        None => text,
    }
}

/// Byte offset → 1-based line and column.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(body: &[u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', body).map(|i| i + 1));
        LineIndex(starts)
    }

    fn position(&self, offset: usize) -> (u64, u64) {
        let line = self.0.partition_point(|&s| s <= offset);
        let start = self.0[line.saturating_sub(1)];
        (line as u64, (offset - start) as u64 + 1)
    }
}
