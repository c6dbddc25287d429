//! JSON lines (evtx-dump's and Winlogbeat's shapes) and JSON arrays: the unit of damage is the
//! line or the array element. The JSON is real: what the evtx crate (evtx_dump's library)
//! prints for corpus records, and Winlogbeat documents carrying the values of corpus events.

use crate::{assert_issues_name, assert_same_events, corpus_files, issues_on_line, line_starts};
use serde_json::{Value as Json, json};
use std::path::Path;
use taskhunt_events::{Event, FileBatch, IssueKind, Location, read_bytes};

/// Corpus files the JSON is made from, and how many of their records each gives: Sysmon,
/// Security share auditing and RDP, with EventData and UserData.
const SOURCES: &[(&str, usize)] = &[
    ("Privilege Escalation/privesc_unquoted_svc_sysmon_1_11.evtx", 60),
    ("Lateral Movement/LM_5145_Remote_FileCopy.evtx", 40),
    ("Other/rdpcorets_148_mst120_bluekeep_rpdscan_full.evtx", 30),
];

/// Records of the corpus files as evtx_dump prints them (`-o jsonl`: one compact document a
/// line), or `None` when the corpus is not there.
pub fn evtx_dump_documents(test: &str) -> Option<Vec<Json>> {
    let files = corpus_files(test, &SOURCES.iter().map(|s| s.0).collect::<Vec<_>>())?;
    let mut docs = Vec::new();
    for ((path, data), (_, take)) in files.into_iter().zip(SOURCES) {
        let mut parser = evtx::EvtxParser::from_buffer(data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let before = docs.len();
        docs.extend(parser.records_json_value().filter_map(Result::ok).map(|r| r.data).take(*take));
        assert_eq!(docs.len() - before, *take, "{}", path.display());
    }
    Some(docs)
}

fn json_lines(docs: &[Json]) -> Vec<u8> {
    docs.iter().map(|d| serde_json::to_string(d).unwrap() + "\n").collect::<String>().into_bytes()
}

/// 1-based line and column of byte `at`.
fn position(starts: &[usize], at: usize) -> (u64, u64) {
    let line = starts.partition_point(|&s| s <= at);
    (line as u64, (at - starts[line - 1] + 1) as u64)
}

/// Reads `text`, checking that it loses nothing and reports nothing.
fn clean_read(path: &Path, text: &[u8], lines: usize) -> FileBatch {
    let batch = read_bytes(path, text.to_vec());
    assert!(batch.issues.is_empty(), "{}: {:?}", path.display(), batch.issues);
    assert_eq!(batch.events.len(), lines, "{}", path.display());
    batch
}

/// A damaged read of JSON lines: every line but `line` (1-based) read as in `clean`, and one
/// issue, a syntax error on that line costing one record, at `column` when given.
fn assert_one_line_lost(batch: &FileBatch, clean: &[Event], line: u64, column: Option<u64>, case: &str) {
    let want: Vec<&Event> = clean.iter().enumerate().filter(|(i, _)| *i as u64 + 1 != line).map(|(_, e)| e).collect();
    assert_same_events(&batch.events.iter().collect::<Vec<_>>(), &want, case);
    assert_eq!(batch.issues.len(), 1, "{case}: {:?}", batch.issues);
    let issue = &batch.issues[0];
    assert_eq!(issues_on_line(batch, line).len(), 1, "{case}: {issue}");
    assert_eq!((issue.kind, issue.records_skipped), (IssueKind::JsonSyntax, 1), "{case}: {issue}");
    if let Some(column) = column {
        assert_eq!(issue.location, Location::Line { line, column }, "{case}: {issue}");
    }
}

/// Damages JSON lines one line at a time: a control byte (which JSON allows nowhere, in a
/// string or out of one) or an invalid UTF-8 byte in place of one byte, at 60 places; a
/// string's quote deleted, on 30 lines; the text cut inside a line, at 30 places.
fn damage_json_lines(path: &Path, text: &[u8]) {
    let starts = line_starts(text);
    let clean = clean_read(path, text, starts.len());
    let name = path.display();
    for k in 0..60 {
        let mut at = text.len() * (2 * k + 1) / 120 + k;
        if text[at] == b'\n' {
            at -= 1;
        }
        let mut damaged = text.to_vec();
        // serde_json places a control byte exactly; an invalid UTF-8 byte inside a string it
        // may report where the string ends.
        let (byte, exact) = if k % 2 == 0 { (0x01, true) } else { (0xff, false) };
        damaged[at] = byte;
        let (line, column) = position(&starts, at);
        let case = format!("{name}: byte {at} ({line}:{column}) set to {byte:#04x}");
        let batch = read_bytes(path, damaged);
        assert_issues_name(&batch, path, &case);
        assert_one_line_lost(&batch, &clean.events, line, exact.then_some(column), &case);
        if let Location::Line { column: found, .. } = batch.issues[0].location {
            assert!(found >= column, "{case}: reported at column {found}, before the damage");
        }
    }
    for k in 0..30 {
        // A quote that is not escaped: taking it leaves a string open, which no line survives.
        let line = k * starts.len() / 30;
        let end = starts.get(line + 1).copied().unwrap_or(text.len());
        let quotes: Vec<usize> = (starts[line]..end).filter(|&i| text[i] == b'"' && text[i - 1] != b'\\').collect();
        let at = quotes[(k * 7) % quotes.len()];
        let mut damaged = text.to_vec();
        damaged.remove(at);
        let (line, column) = position(&starts, at);
        let case = format!("{name}: quote at {line}:{column} deleted");
        let batch = read_bytes(path, damaged);
        assert_one_line_lost(&batch, &clean.events, line, None, &case);
    }
    for k in 0..30 {
        let mut cut = text.len() * (2 * k + 1) / 60 + 3 * k;
        if starts.contains(&cut) || text[cut - 1] == b'}' {
            cut -= 2;
        }
        let (line, column) = position(&starts, cut);
        let case = format!("{name}: cut at byte {cut} ({line}:{column})");
        let batch = read_bytes(path, text[..cut].to_vec());
        // The lines before the cut, and the cut line reported (its record is gone).
        let want: Vec<&Event> = clean.events[..line as usize - 1].iter().collect();
        assert_same_events(&batch.events.iter().collect::<Vec<_>>(), &want, &case);
        assert_eq!(batch.issues.len(), 1, "{case}: {:?}", batch.issues);
        assert_eq!(issues_on_line(&batch, line).len(), 1, "{case}: {:?}", batch.issues);
        assert_eq!(batch.issues[0].records_skipped, 1, "{case}");
    }
}

#[test]
fn evtx_dump_json_lines_damage_costs_one_line() {
    let Some(docs) = evtx_dump_documents("evtx_dump_json_lines_damage_costs_one_line") else { return };
    damage_json_lines(Path::new("evtx_dump.jsonl"), &json_lines(&docs));
}

/// Winlogbeat's document for an event, in the shape of `tests/fixtures/winlogbeat_records.jsonl`:
/// `winlog.event_id` as text, ids as numbers, every `event_data` value as text.
fn winlogbeat_document(e: &Event) -> Json {
    let data: serde_json::Map<String, Json> = e.fields.iter().map(|(n, v)| (n.as_str().to_string(), Json::from(v.to_text()))).collect();
    let time = e.timestamp.to_string();
    json!({
        "@timestamp": format!("{}Z", &time[..23]),
        "event": {"code": e.event_id.to_string(), "provider": &*e.provider},
        "host": {"name": &*e.computer},
        "winlog": {
            "channel": &*e.channel,
            "event_id": e.event_id.to_string(),
            "provider_name": &*e.provider,
            "record_id": e.record_id,
            "computer_name": &*e.computer,
            "process": {"pid": e.system.get_str("Execution_ProcessID").and_then(|v| v.as_u64())},
            "event_data": data,
        }
    })
}

#[test]
fn ecs_json_lines_damage_costs_one_line() {
    let test = "ecs_json_lines_damage_costs_one_line";
    let Some(files) = corpus_files(test, &SOURCES.iter().map(|s| s.0).collect::<Vec<_>>()) else { return };
    let mut docs = Vec::new();
    for ((path, data), (_, take)) in files.iter().zip(SOURCES) {
        let batch = read_bytes(path, data.clone());
        docs.extend(batch.events.iter().take(*take).map(winlogbeat_document));
    }
    let text = json_lines(&docs);
    let path = Path::new("winlogbeat.jsonl");
    let clean = read_bytes(path, text.clone());
    assert_eq!(clean.format.map(|f| f.name()), Some("ecs-json"));
    damage_json_lines(path, &text);
}

/// The records as one pretty-printed array (as `jq -s .` or the fixture `evtx_dump_records.json`
/// hold them), and where each element opens and closes: each spans many lines, and only its own
/// first line starts with `{`.
fn pretty_array(docs: &[Json]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let text = serde_json::to_string_pretty(&Json::Array(docs.to_vec())).unwrap() + "\n";
    let opens: Vec<usize> = line_starts(text.as_bytes()).into_iter().filter(|&s| text[s..].starts_with("  {")).map(|s| s + 2).collect();
    assert_eq!(opens.len(), docs.len());
    let spans = opens
        .iter()
        .enumerate()
        .map(|(e, &open)| (open, open + text[open..opens.get(e + 1).copied().unwrap_or(text.len())].rfind('}').unwrap()))
        .collect();
    (text.into_bytes(), spans)
}

#[test]
fn evtx_dump_json_array_damage_costs_one_element() {
    let Some(docs) = evtx_dump_documents("evtx_dump_json_array_damage_costs_one_element") else { return };
    let docs = &docs[..60];
    let (text, spans) = pretty_array(docs);
    let starts = line_starts(&text);
    let path = Path::new("evtx_dump.json");
    let name = path.display();
    let clean = clean_read(path, &text, docs.len());
    let others = |lost: usize| -> Vec<&Event> { clean.events.iter().enumerate().filter(|(i, _)| *i != lost).map(|(_, e)| e).collect() };
    // A control byte in place of one byte of an element, at 60 places: that element is lost,
    // and reported exactly there.
    for k in 0..60 {
        let mut at = text.len() * (2 * k + 1) / 120 + k;
        let e = spans.iter().position(|&(_, close)| at <= close).unwrap();
        at = at.max(spans[e].0);
        let (line, column) = position(&starts, at);
        let case = format!("{name}: byte {at} ({line}:{column}) of element {e} set to 0x01");
        let mut damaged = text.clone();
        damaged[at] = 0x01;
        let batch = read_bytes(path, damaged);
        assert_issues_name(&batch, path, &case);
        assert_same_events(&batch.events.iter().collect::<Vec<_>>(), &others(e), &case);
        assert_eq!(batch.issues.len(), 1, "{case}: {:?}", batch.issues);
        assert_eq!(batch.issues[0].location, Location::Line { line, column }, "{case}: {}", batch.issues[0]);
        assert_eq!((batch.issues[0].kind, batch.issues[0].records_skipped), (IssueKind::JsonSyntax, 1), "{case}");
    }
    // Each element's closing `}` deleted: the element runs into the next one, where the error
    // shows; only the damaged element is lost.
    for (e, &(_, close)) in spans.iter().enumerate() {
        let mut damaged = text.clone();
        damaged.remove(close);
        let case = format!("{name}: element {e}'s closing brace deleted");
        let batch = read_bytes(path, damaged);
        assert_same_events(&batch.events.iter().collect::<Vec<_>>(), &others(e), &case);
        assert_eq!(batch.issues.len(), 1, "{case}: {:?}", batch.issues);
        let Location::Line { line, .. } = batch.issues[0].location else { panic!("{case}: {}", batch.issues[0]) };
        let (from, _) = position(&starts, close);
        assert!((from..=from + 1).contains(&line), "{case}: reported on line {line}, the brace was on line {from}");
    }
    // Cut at 20 places: the elements closed before the cut are read, and the cut reported.
    for k in 0..20 {
        let cut = 2 + (text.len() - 4) * (2 * k + 1) / 40;
        let read = spans.iter().filter(|&&(_, close)| close < cut).count();
        let case = format!("{name}: cut at byte {cut}, after {read} elements");
        let batch = read_bytes(path, text[..cut].to_vec());
        assert_same_events(&batch.events.iter().collect::<Vec<_>>(), &clean.events[..read].iter().collect::<Vec<_>>(), &case);
        assert_eq!(batch.issues.len(), 1, "{case}: {:?}", batch.issues);
        assert_eq!(batch.issues[0].kind, IssueKind::JsonSyntax, "{case}: {}", batch.issues[0]);
    }
}
