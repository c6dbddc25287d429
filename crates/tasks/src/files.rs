//! Task definitions from the files a hunter collects: a copied `C:\Windows\System32\Tasks` tree
//! (one task XML per file, UTF-16LE with BOM as Windows writes them, or UTF-8), `schtasks /query
//! /xml` output (many `<Task>` under `<Tasks>`, each named by the comment before it), and
//! `Get-ScheduledTask` exports (`ConvertTo-Json` arrays, objects or lines; `Export-Csv`).
//!
//! Files are recognised by content, never by name; anything else gives `None` so the caller can
//! try the event readers. Input is hostile: size is bounded (gzip included), nothing panics, and
//! a damaged JSON object or CSV row costs only itself — it comes back as a record named
//! [`UNREADABLE`] with no definition and the reason in `problem`. How PowerShell's objects and
//! rows map onto [`TaskDefinition`] is in `ps_export`.

use crate::model::*;
use crate::sources::{TaskRecord, TaskState};
use crate::xml::{self, Node};
use ps_export::{def_from_ps_object, get, has_key, str_of};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

mod ps_export;

/// Largest task file (after gunzip) we read: a fleet's export fits, a runaway file does not.
pub const MAX_TASK_FILE_BYTES: usize = 32 << 20;
/// How much of a file decides what it is.
const SNIFF_BYTES: usize = 1 << 20;
/// Name of the records that report a JSON object or CSV row that could not be read.
pub const UNREADABLE: &str = "\\<unreadable>";

/// Keys that make a JSON object an event (evtx-dump, Winlogbeat, Defender), not a task.
const EVENT_KEYS: &[&str] = &["Event", "EventData", "winlog", "@timestamp", "ActionType", "AdditionalFields", "EventID"];
/// CSV columns of event exports and of `schtasks /query /fo csv /v` (not read here).
const NOT_TASK_COLUMNS: &[&str] =
    &["EventID", "EventCode", "Timestamp", "TimeCreated", "TimeGenerated", "ActionType", "TaskContent", "Task To Run", "Next Run Time"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Xml,
    Json,
    Csv,
}

/// Recognises task files by content and returns their tasks as TaskRecords (state Present,
/// origin TaskFile or PowerShellExport, evidence "file" or "file:line"), or None when the bytes
/// are not a task file (so the caller tries the event readers).
///
/// The host is `host` when given, else the export's `PSComputerName`, else [`host_from_path`].
/// `Some(Err)` says why a task file could not be read at all; when only some objects or rows are
/// damaged, the others are returned along with one [`UNREADABLE`] record per damaged one.
pub fn read_task_file(path: &Path, bytes: &[u8], host: Option<&str>) -> Option<Result<Vec<TaskRecord>, String>> {
    let bytes: Cow<'_, [u8]> = if bytes.starts_with(&[0x1f, 0x8b]) {
        match gunzip(bytes)? {
            Ok(b) => Cow::Owned(b),
            Err(e) => return Some(Err(e)),
        }
    } else {
        Cow::Borrowed(bytes)
    };
    let kind = sniff(&decode(&bytes[..bytes.len().min(SNIFF_BYTES)]))?;
    if bytes.len() > MAX_TASK_FILE_BYTES {
        return Some(Err(format!("{} bytes is over the {MAX_TASK_FILE_BYTES}-byte limit for a task file", bytes.len())));
    }
    let decoded = decode(&bytes);
    let text = trim_lead(&decoded);
    let lead = &decoded[..decoded.len() - text.len()];
    let file = File {
        path,
        host: host.map(str::to_string),
        path_host: host_from_path(path),
        first_line: 1 + lead.bytes().filter(|b| *b == b'\n').count(),
    };
    Some(match kind {
        Kind::Xml => read_xml(&file, text),
        Kind::Json => finish(read_json(&file, text)),
        Kind::Csv => finish(read_csv(&file, text)),
    })
}

/// The host a collected file belongs to when not given: the directory above the collected
/// drive (`.../HOST/C/Windows/System32/...`, also `C:`, `C$`, `C%3A`) or above `Windows`
/// (`.../HOST/Windows/System32/...`); otherwise "unknown".
pub fn host_from_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    let parts: Vec<&str> = s.split(['/', '\\']).filter(|c| !c.is_empty() && *c != ".").collect();
    let Some(win) = parts.windows(2).position(|w| w[0].eq_ignore_ascii_case("Windows") && w[1].eq_ignore_ascii_case("System32")) else {
        return "unknown".into();
    };
    let mut above = win;
    if above > 0 && is_drive(parts[above - 1]) {
        above -= 1;
    }
    match above.checked_sub(1).map(|i| parts[i]) {
        Some(h) if h != ".." && !h.contains([':', '?', '*']) && !COLLECTOR_DIRS.iter().any(|d| h.eq_ignore_ascii_case(d)) => h.to_string(),
        _ => "unknown".into(),
    }
}

/// Directories collectors put between the host and the drive (Velociraptor's accessors).
const COLLECTOR_DIRS: &[&str] = &["uploads", "auto", "ntfs", "lazy_ntfs"];

fn is_drive(c: &str) -> bool {
    let c = c.strip_prefix("%5C%5C.%5C").unwrap_or(c);
    let mut chars = c.chars();
    chars.next().is_some_and(|l| l.is_ascii_alphabetic()) && matches!(chars.as_str().to_ascii_uppercase().as_str(), "" | ":" | "$" | "%3A")
}

struct File<'a> {
    path: &'a Path,
    host: Option<String>,
    path_host: String,
    /// Line of the file where the (trimmed) text starts.
    first_line: usize,
}

impl File<'_> {
    fn evidence(&self, line: Option<usize>) -> String {
        match line {
            Some(l) => format!("{}:{}", self.path.display(), l + self.first_line - 1),
            None => self.path.display().to_string(),
        }
    }

    fn host_for(&self, exported: Option<String>) -> String {
        self.host.clone().or(exported).unwrap_or_else(|| self.path_host.clone())
    }

    fn record(
        &self,
        mut def: TaskDefinition,
        kind: OriginKind,
        line: Option<usize>,
        exported_host: Option<String>,
        notes: Vec<String>,
    ) -> TaskRecord {
        let host = self.host_for(exported_host);
        let evidence = self.evidence(line);
        def.origin.kind = kind;
        def.origin.host = Some(host.clone());
        def.origin.evidence = Some(evidence.clone());
        TaskRecord {
            host,
            name: def.name.clone(),
            time: None,
            state: TaskState::Present,
            definition: Some(def),
            run: None,
            event_id: None,
            evidence,
            problem: (!notes.is_empty()).then(|| notes.join("; ")),
        }
    }

    fn unreadable(&self, line: usize, why: String) -> TaskRecord {
        TaskRecord {
            host: self.host_for(None),
            name: UNREADABLE.into(),
            time: None,
            state: TaskState::Present,
            definition: None,
            run: None,
            event_id: None,
            evidence: self.evidence(Some(line)),
            problem: Some(format!("line {}: {why}", line + self.first_line - 1)),
        }
    }
}

/// A file where nothing could be read is an error; otherwise the damage rides along.
fn finish(records: Vec<TaskRecord>) -> Result<Vec<TaskRecord>, String> {
    if records.iter().any(|r| r.definition.is_some()) {
        return Ok(records);
    }
    let mut problems = records.into_iter().filter_map(|r| r.problem);
    match (problems.next(), problems.count()) {
        (Some(p), 0) => Err(p),
        (Some(p), more) => Err(format!("{p} (and {more} more unreadable)")),
        (None, _) => Err("no tasks in the file".into()),
    }
}

fn gunzip(bytes: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let mut dec = flate2::read::MultiGzDecoder::new(bytes);
    let mut out = Vec::new();
    // Decide on the first megabyte; a corrupt or foreign gzip is the event readers' business.
    let head = (&mut dec).take(SNIFF_BYTES as u64).read_to_end(&mut out);
    if head.is_err() && out.is_empty() {
        return None;
    }
    sniff(&decode(&out))?;
    if head.is_ok() {
        // A stream cut short keeps what came before the cut: the format readers report the rest.
        let _ = dec.take((MAX_TASK_FILE_BYTES + 1 - out.len()) as u64).read_to_end(&mut out);
    }
    if out.len() > MAX_TASK_FILE_BYTES {
        return Some(Err(format!("decompresses to over the {MAX_TASK_FILE_BYTES}-byte limit for a task file")));
    }
    Some(Ok(out))
}

/// Text from UTF-16 (LE or BE, with BOM, or LE/BE detected by its zero bytes) or UTF-8. A
/// trailing odd byte is dropped and unpaired surrogates or bad UTF-8 become U+FFFD.
fn decode(b: &[u8]) -> String {
    if let Some(r) = b.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        String::from_utf8_lossy(r).into_owned()
    } else if let Some(r) = b.strip_prefix(&[0xff, 0xfe]) {
        utf16(r, true)
    } else if let Some(r) = b.strip_prefix(&[0xfe, 0xff]) {
        utf16(r, false)
    } else if b.len() >= 2 && b[0] != 0 && b[0].is_ascii() && b[1] == 0 {
        utf16(b, true)
    } else if b.len() >= 2 && b[0] == 0 && b[1] != 0 && b[1].is_ascii() {
        utf16(b, false)
    } else {
        String::from_utf8_lossy(b).into_owned()
    }
}

fn utf16(b: &[u8], le: bool) -> String {
    let units = b.chunks_exact(2).map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) });
    char::decode_utf16(units).map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
}

fn trim_lead(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

fn sniff(text: &str) -> Option<Kind> {
    let t = trim_lead(text);
    match t.as_bytes().first()? {
        b'<' => matches!(xml_root(t)?, "Task" | "Tasks").then_some(Kind::Xml),
        b'{' | b'[' => json_is_tasks(t).then_some(Kind::Json),
        _ => csv_header(t).is_some().then_some(Kind::Csv),
    }
}

// ------------------------------------------------------------------------------------------------
// XML: a task file or `schtasks /query /xml`

/// The root element's local name, past the declaration, comments and a DOCTYPE.
fn xml_root(mut s: &str) -> Option<&str> {
    loop {
        s = trim_lead(s);
        if let Some(r) = s.strip_prefix("<?") {
            s = &r[r.find("?>")? + 2..];
        } else if let Some(r) = s.strip_prefix("<!--") {
            s = &r[r.find("-->")? + 3..];
        } else if let Some(r) = s.strip_prefix("<!") {
            // A DOCTYPE, perhaps with an internal subset in brackets.
            let close = r.find('>')?;
            let end = match r[..close].find('[') {
                Some(open) => {
                    let subset_end = open + r[open..].find(']')?;
                    subset_end + r[subset_end..].find('>')?
                }
                None => close,
            };
            s = &r[end + 1..];
        } else {
            let r = s.strip_prefix('<')?;
            let name = &r[..r.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(r.len())];
            return Some(name.rsplit(':').next().unwrap_or(name));
        }
    }
}

fn read_xml(file: &File, text: &str) -> Result<Vec<TaskRecord>, String> {
    let root = xml::parse_tree(text).map_err(|e| {
        let line = 1 + text.as_bytes()[..e.offset.min(text.len())].iter().filter(|b| **b == b'\n').count();
        format!("task XML, line {}: {}", line + file.first_line - 1, e.message)
    })?;
    if root.name == "Task" {
        let mut def = xml::task_from_node(&root);
        def.name = name_from_tasks_dir(file.path)
            .or_else(|| def.registration.uri.as_deref().map(backslashed))
            .unwrap_or_else(|| backslashed(&file_stem(file.path)));
        return Ok(vec![file.record(def, OriginKind::TaskFile, None, None, vec![])]);
    }
    if root.name != "Tasks" {
        return Err(format!("task XML: root element is <{}>, not <Task> or <Tasks>", root.name));
    }
    let tasks: Vec<&Node> = root.children.iter().filter(|c| c.name == "Task").collect();
    let lines = task_start_lines(text);
    let lines = (lines.len() == tasks.len()).then_some(lines);
    Ok(tasks
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let mut def = xml::task_from_node(node);
            // schtasks writes the task's real path in the comment; the URI is whatever the
            // registration said.
            let comment = node.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
            def.name = comment.or(def.registration.uri.as_deref()).map(backslashed).unwrap_or_else(|| "\\<unnamed>".into());
            file.record(def, OriginKind::TaskFile, lines.as_ref().map(|l| l[i]), None, vec![])
        })
        .collect())
}

/// Lines of the `<Task` start tags, skipping comments and CDATA.
fn task_start_lines(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    while i < b.len() {
        if b[i] == b'\n' {
            line += 1;
        } else if b[i] == b'<' {
            let skip = [("<!--", "-->"), ("<![CDATA[", "]]>")].iter().find_map(|(open, close)| {
                let rest = &text[i..];
                rest.starts_with(open).then(|| rest[open.len()..].find(close).map_or(rest.len(), |e| open.len() + e + close.len()))
            });
            if let Some(n) = skip {
                line += b[i..i + n].iter().filter(|c| **c == b'\n').count();
                i += n;
                continue;
            }
            if b[i..].starts_with(b"<Task") && matches!(b.get(i + 5), Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')) {
                out.push(line);
            }
        }
        i += 1;
    }
    out
}

/// `.../Windows/System32/Tasks/Microsoft/Windows/Defrag/ScheduledDefrag` →
/// `\Microsoft\Windows\Defrag\ScheduledDefrag` (or below the first `Tasks` directory).
fn name_from_tasks_dir(path: &Path) -> Option<String> {
    let s = path.to_string_lossy();
    let parts: Vec<&str> = s.split(['/', '\\']).filter(|c| !c.is_empty() && *c != ".").collect();
    let is_tasks = |i: usize| parts[i].eq_ignore_ascii_case("Tasks");
    let at = (1..parts.len())
        .find(|&i| is_tasks(i) && parts[i - 1].eq_ignore_ascii_case("System32"))
        .or_else(|| (0..parts.len()).find(|&i| is_tasks(i)))?;
    let below = &parts[at + 1..];
    (!below.is_empty()).then(|| format!("\\{}", below.join("\\")))
}

fn file_stem(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match name.len().checked_sub(4) {
        Some(cut) if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(".xml") => name[..cut].to_string(),
        _ => name,
    }
}

fn backslashed(name: &str) -> String {
    if name.starts_with('\\') { name.to_string() } else { format!("\\{name}") }
}

// ------------------------------------------------------------------------------------------------
// JSON: Get-ScheduledTask | ConvertTo-Json (array, object, concatenated objects, JSON lines)

struct Span {
    start: usize,
    /// One past the closing brace; None when the text ends inside the object.
    end: Option<usize>,
    line: usize,
}

/// The top-level objects (also those directly inside top-level arrays), and the lines holding
/// text outside any object.
fn object_spans(text: &str) -> (Vec<Span>, Vec<usize>) {
    let (mut spans, mut junk): (Vec<Span>, Vec<usize>) = (Vec::new(), Vec::new());
    let (mut line, mut in_array, mut depth, mut in_str, mut esc) = (1usize, false, 0usize, false, false);
    for (i, &c) in text.as_bytes().iter().enumerate() {
        if c == b'\n' {
            line += 1;
        }
        if depth > 0 {
            if in_str {
                match (esc, c) {
                    (true, _) => esc = false,
                    (false, b'\\') => esc = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
            } else {
                match c {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0
                            && let Some(s) = spans.last_mut()
                        {
                            s.end = Some(i + 1);
                        }
                    }
                    _ => {}
                }
            }
            continue;
        }
        match c {
            b'{' => {
                spans.push(Span { start: i, end: None, line });
                depth = 1;
            }
            b'[' if !in_array => in_array = true,
            b']' if in_array => in_array = false,
            b',' => {}
            c if c.is_ascii_whitespace() => {}
            _ if junk.last() != Some(&line) => junk.push(line),
            _ => {}
        }
    }
    (spans, junk)
}

fn is_task_object(m: &Map<String, Value>) -> bool {
    matches!(get(m, "TaskName"), Some(Value::String(s)) if !s.trim().is_empty())
        && ["TaskPath", "Actions", "Triggers"].iter().any(|k| has_key(m, k))
        && !EVENT_KEYS.iter().any(|k| has_key(m, k))
}

/// For an object too big or too damaged to parse: the keys as text.
fn looks_like_task_text(s: &str) -> bool {
    s.contains("\"TaskName\"") && s.contains("\"TaskPath\"") && !EVENT_KEYS.iter().any(|k| s.contains(&format!("\"{k}\"")))
}

fn json_is_tasks(t: &str) -> bool {
    let (spans, _) = object_spans(t);
    let Some(first) = spans.first() else { return false };
    let body = &t[first.start..first.end.unwrap_or(t.len())];
    match first.end.map(|_| serde_json::from_str::<Value>(body)) {
        Some(Ok(Value::Object(m))) => is_task_object(&m),
        Some(Ok(_)) => false,
        _ => looks_like_task_text(body),
    }
}

fn read_json(file: &File, text: &str) -> Vec<TaskRecord> {
    let (spans, junk) = object_spans(text);
    let mut out: Vec<(usize, TaskRecord)> =
        junk.into_iter().map(|l| (l, file.unreadable(l, "text outside any JSON object".into()))).collect();
    for span in spans {
        let line = span.line;
        let Some(end) = span.end else {
            out.push((line, file.unreadable(line, "the JSON object is cut off (file truncated?)".into())));
            continue;
        };
        let record = match serde_json::from_str::<Value>(&text[span.start..end]) {
            Ok(Value::Object(m)) if is_task_object(&m) => {
                let mut notes = Vec::new();
                let def = def_from_ps_object(&m, &mut notes);
                file.record(def, OriginKind::PowerShellExport, Some(line), str_of(&m, "PSComputerName"), notes)
            }
            Ok(_) => file.unreadable(line, "a JSON object that is not a scheduled task (no TaskName and TaskPath)".into()),
            Err(e) => file.unreadable(line + e.line().saturating_sub(1), format!("bad JSON: {e}")),
        };
        out.push((line, record));
    }
    out.sort_by_key(|(line, _)| *line);
    out.into_iter().map(|(_, r)| r).collect()
}

// ------------------------------------------------------------------------------------------------
// CSV: Get-ScheduledTask | Select-Object ... | Export-Csv

/// The header of a task CSV: (text after any `#TYPE` line, lines skipped, delimiter, columns).
fn csv_header(t: &str) -> Option<(&str, usize, char, Vec<String>)> {
    let (body, skipped) = match t.strip_prefix("#TYPE") {
        Some(r) => (r.find('\n').map_or("", |n| &r[n + 1..]), 1),
        None => (t, 0),
    };
    let first = body.lines().next()?;
    let delim =
        [',', ';', '\t'].into_iter().rev().max_by_key(|d| csv_rows(first, *d).first().map_or(0, |r| r.1.as_ref().map_or(0, Vec::len)))?;
    let columns = match csv_rows(first, delim).into_iter().next()? {
        (_, Ok(c)) => c.into_iter().map(|c| c.trim().to_string()).collect::<Vec<_>>(),
        _ => return None,
    };
    let has = |name: &str| columns.iter().any(|c| c.eq_ignore_ascii_case(name));
    ((has("TaskName") || has("URI")) && !NOT_TASK_COLUMNS.iter().any(|c| has(c))).then_some((body, skipped, delim, columns))
}

/// RFC 4180 rows as Export-Csv writes them (quoted fields, `""` for a quote, newlines inside
/// quotes), each with its first line; a row the text ends inside of is an error.
fn csv_rows(text: &str, delim: char) -> Vec<(usize, Result<Vec<String>, String>)> {
    let (mut rows, mut fields, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut line, mut row_line, mut in_quotes, mut quoted) = (1, 1, false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                c => {
                    line += usize::from(c == '\n');
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted => (in_quotes, quoted) = (true, true),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                if fields.len() > 1 || !fields[0].is_empty() || quoted {
                    rows.push((row_line, Ok(std::mem::take(&mut fields))));
                }
                fields.clear();
                line += 1;
                row_line = line;
                quoted = false;
            }
            c if c == delim => {
                fields.push(std::mem::take(&mut field));
                quoted = false;
            }
            c => field.push(c),
        }
    }
    if in_quotes {
        rows.push((row_line, Err("the row ends inside a quoted field (file truncated?)".to_string())));
    } else if !field.is_empty() || !fields.is_empty() || quoted {
        fields.push(field);
        rows.push((row_line, Ok(fields)));
    }
    rows
}

fn read_csv(file: &File, text: &str) -> Vec<TaskRecord> {
    let Some((body, skipped, delim, columns)) = csv_header(text) else { return vec![] };
    let mut out = Vec::new();
    for (line, row) in csv_rows(body, delim).into_iter().skip(1) {
        let line = line + skipped;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                out.push(file.unreadable(line, e));
                continue;
            }
        };
        let mut notes = Vec::new();
        match ps_export::def_from_csv_row(&columns, &row, &mut notes) {
            Ok((def, exported_host)) => out.push(file.record(def, OriginKind::PowerShellExport, Some(line), exported_host, notes)),
            Err(e) => out.push(file.unreadable(line, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_never_fails() {
        assert_eq!(decode(b"\xff\xfe<\0T\0"), "<T");
        assert_eq!(decode(b"\xff\xfe<\0T\0a"), "<T", "odd trailing byte dropped");
        assert_eq!(decode(b"\xfe\xff\0<\0T"), "<T");
        assert_eq!(decode(b"<\0T\0"), "<T", "UTF-16LE without BOM");
        assert_eq!(decode(b"\xff\xfe\x00\xd8"), "\u{fffd}", "lone high surrogate");
        assert_eq!(decode(b"\xef\xbb\xbf{}"), "{}");
        assert_eq!(decode(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(decode(b""), "");
    }

    #[test]
    fn xml_roots() {
        assert_eq!(xml_root("<?xml version=\"1.0\"?>\n<!-- x -->\n<Task a='1'>"), Some("Task"));
        assert_eq!(xml_root("<!DOCTYPE t [<!ENTITY a \"b\">]><Task/>"), Some("Task"));
        assert_eq!(xml_root("<t:Tasks>"), Some("Tasks"));
        assert_eq!(xml_root("<Events><Event>"), Some("Events"));
        assert_eq!(xml_root("<?xml unterminated"), None);
        assert_eq!(xml_root("<!-- unterminated"), None);
    }

    #[test]
    fn spans_and_junk() {
        let (s, j) = object_spans("[{\"a\":\"}\"},\n {\"b\":[1,{}]}]\nxx\n{\"c\":");
        assert_eq!(
            s.iter().map(|s| (s.start, s.end, s.line)).collect::<Vec<_>>(),
            vec![(1, Some(10), 1), (13, Some(25), 2), (30, None, 4)]
        );
        assert_eq!(j, vec![3]);
    }

    #[test]
    fn csv_quoting() {
        let rows = csv_rows("\"a\",\"b \"\"q\"\"\",c\r\n\"x\ny\",,\"\"\n\n\"open", ',');
        assert_eq!(rows[0], (1, Ok(vec!["a".into(), "b \"q\"".into(), "c".into()])));
        assert_eq!(rows[1], (2, Ok(vec!["x\ny".into(), "".into(), "".into()])));
        assert_eq!(rows[2].0, 5);
        assert!(rows[2].1.is_err());
    }
}
