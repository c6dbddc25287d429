//! Content sniffing: magic bytes for binary formats, the first JSON value for JSON.

use serde_json::Value as Json;
use std::path::Path;

/// Microsoft Defender Advanced Hunting tables an export file may hold.
pub const DEFENDER_TABLES: &[&str] = &[
    "DeviceProcessEvents",
    "DeviceNetworkEvents",
    "DeviceFileEvents",
    "DeviceRegistryEvents",
    "DeviceImageLoadEvents",
    "DeviceLogonEvents",
    "DeviceEvents",
    "DeviceInfo",
    "DeviceNetworkInfo",
    "DeviceFileCertificateInfo",
    "AlertInfo",
    "AlertEvidence",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Evtx,
    Gzip,
    /// evtx-dump JSON (lines or an array).
    EvtxJson,
    /// Winlogbeat / Elastic Common Schema JSON.
    EcsJson,
    /// A Defender Advanced Hunting export as JSON lines or array; the table comes from the name.
    DefenderJson(&'static str),
    DefenderCsv(&'static str),
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::Gzip => "gzip",
            Format::EvtxJson => "evtx-json",
            Format::EcsJson => "ecs-json",
            Format::DefenderJson(_) => "defender-json",
            Format::DefenderCsv(_) => "defender-csv",
        }
    }
}

/// The Defender table a file holds, from its name (`DeviceProcessEvents.csv`,
/// `DeviceProcessEvents-2024-05-01.json.gz`): the longest table name the file name starts with.
pub fn defender_table_for(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_string_lossy();
    DEFENDER_TABLES
        .iter()
        .filter(|t| {
            name.len() >= t.len()
                && name[..t.len()].eq_ignore_ascii_case(t)
                && !name[t.len()..].starts_with(|c: char| c.is_ascii_alphabetic())
        })
        .max_by_key(|t| t.len())
        .copied()
}

/// Identifies `data`; `path` is consulted only to name a Defender table.
pub fn detect_format(data: &[u8], path: &Path) -> Option<Format> {
    if super::evtx_file::is_evtx(data) {
        return Some(Format::Evtx);
    }
    if data.starts_with(&[0x1f, 0x8b]) {
        return Some(Format::Gzip);
    }
    let text = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &text[start..];
    match text[0] {
        b'{' | b'[' => detect_json(text, path),
        _ => detect_csv(text, path),
    }
}

fn detect_json(text: &[u8], path: &Path) -> Option<Format> {
    // First value: the first line of JSON lines, or the first element of an array.
    let body = if text[0] == b'[' {
        let inner = &text[1..];
        let s = inner.iter().position(|b| !b.is_ascii_whitespace())?;
        &inner[s..]
    } else {
        text
    };
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Json>();
    let first = match stream.next() {
        Some(Ok(v)) => v,
        // A first value we cannot parse: fall back to the line-level shape so the reader
        // reports the error with its position rather than "unrecognised".
        _ => return guess_from_text(body, path),
    };
    classify(&first, path)
}

pub(crate) fn classify(v: &Json, path: &Path) -> Option<Format> {
    let obj = v.as_object()?;
    if obj.get("Event").is_some_and(Json::is_object) {
        return Some(Format::EvtxJson);
    }
    if obj.get("winlog").is_some_and(Json::is_object) {
        return Some(Format::EcsJson);
    }
    if obj.contains_key("DeviceName") || obj.contains_key("Timestamp") {
        return defender_table_for(path).map(Format::DefenderJson);
    }
    None
}

fn guess_from_text(body: &[u8], path: &Path) -> Option<Format> {
    let head = &body[..body.len().min(4096)];
    let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
    if has(b"\"Event\"") {
        Some(Format::EvtxJson)
    } else if has(b"\"winlog\"") {
        Some(Format::EcsJson)
    } else if has(b"\"DeviceName\"") {
        defender_table_for(path).map(Format::DefenderJson)
    } else {
        None
    }
}

fn detect_csv(text: &[u8], path: &Path) -> Option<Format> {
    let end = memchr::memchr(b'\n', text).unwrap_or(text.len());
    let header = std::str::from_utf8(&text[..end]).ok()?;
    let columns: Vec<&str> = header.split(',').map(|c| c.trim().trim_matches('"')).collect();
    if columns.contains(&"Timestamp") && columns.contains(&"DeviceName") {
        return defender_table_for(path).map(Format::DefenderCsv);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content_not_extension() {
        let p = Path::new("whatever.txt");
        assert_eq!(detect_format(b"ElfFile\0rest", p), Some(Format::Evtx));
        assert_eq!(detect_format(&[0x1f, 0x8b, 8, 0], p), Some(Format::Gzip));
        assert_eq!(detect_format(b"  {\"Event\":{\"System\":{}}}\n", p), Some(Format::EvtxJson));
        assert_eq!(detect_format(b"[{\"winlog\":{}}]", p), Some(Format::EcsJson));
        assert_eq!(detect_format(b"\x00\x01binary", p), None);
        assert_eq!(detect_format(b"{\"Timestamp\":\"x\",\"DeviceName\":\"h\"}", p), None, "table unknown");
        let d = Path::new("/x/DeviceProcessEvents.csv");
        assert_eq!(detect_format(b"Timestamp,DeviceName,ActionType\n", d), Some(Format::DefenderCsv("DeviceProcessEvents")));
    }

    #[test]
    fn defender_table_is_longest_prefix_of_name() {
        assert_eq!(defender_table_for(Path::new("DeviceEvents.json")), Some("DeviceEvents"));
        assert_eq!(defender_table_for(Path::new("DeviceNetworkEvents-2024.csv.gz")), Some("DeviceNetworkEvents"));
        assert_eq!(defender_table_for(Path::new("DeviceNetworkInfo.csv")), Some("DeviceNetworkInfo"));
        assert_eq!(defender_table_for(Path::new("Devices.csv")), None);
    }
}
