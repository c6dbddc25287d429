//! Event records as they wait to be written, and their rendering in the evtx-dump JSON shape
//! (`evtx_dump -o jsonl`): `{"Event":{"#attributes":{"xmlns":...},"System":{...},"EventData":{...}}}`
//! with keys in the order the dump prints them.

use std::fmt::Write as _;
use taskhunt_events::Timestamp;

pub const SEC: i64 = 10_000_000;
pub const MS: i64 = 10_000;
pub const MIN: i64 = 60 * SEC;
pub const HOUR: i64 = 60 * MIN;
pub const DAY: i64 = 24 * HOUR;

/// The channel families, one output file each per host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Chan {
    Security,
    Sysmon,
    TaskScheduler,
    PowerShell,
}

impl Chan {
    pub const ALL: [Chan; 4] = [Chan::Security, Chan::Sysmon, Chan::TaskScheduler, Chan::PowerShell];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Chan::Security => "Security.jsonl",
            Chan::Sysmon => "Sysmon.jsonl",
            Chan::TaskScheduler => "TaskScheduler.jsonl",
            Chan::PowerShell => "PowerShell.jsonl",
        }
    }

    pub fn channel(self) -> &'static str {
        match self {
            Chan::Security => "Security",
            Chan::Sysmon => "Microsoft-Windows-Sysmon/Operational",
            Chan::TaskScheduler => "Microsoft-Windows-TaskScheduler/Operational",
            Chan::PowerShell => "Microsoft-Windows-PowerShell/Operational",
        }
    }

    fn provider(self) -> (&'static str, &'static str) {
        match self {
            Chan::Security => ("Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-a5ba-3e3b0328c30d}"),
            Chan::Sysmon => ("Microsoft-Windows-Sysmon", "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"),
            Chan::TaskScheduler => ("Microsoft-Windows-TaskScheduler", "{de7b24ea-73c8-4a09-985d-5bdadcfa9017}"),
            Chan::PowerShell => ("Microsoft-Windows-PowerShell", "{a0c1853b-5c40-4b15-8766-3cf1c58f985a}"),
        }
    }
}

/// The System header values that vary between event types.
#[derive(Debug, Clone)]
pub struct Header {
    pub id: u16,
    pub version: u8,
    pub level: u8,
    pub task: u16,
    pub opcode: u8,
    pub keywords: &'static str,
    /// `Correlation/@ActivityID`, braces included; `None` renders `"Correlation":null`.
    pub activity: Option<Box<str>>,
    pub pid: u32,
    pub tid: u32,
    /// `Security/@UserID`; `None` renders `"Security":null`.
    pub user: Option<Box<str>>,
}

/// Marks an event that belongs to no injected chain.
pub const NO_LABEL: u32 = u32::MAX;

/// One generated event before its record id is known.
#[derive(Debug, Clone)]
pub struct Pending {
    pub ts: i64,
    pub chan: Chan,
    pub header: Header,
    /// The members of the `EventData` object, already rendered (without the braces).
    pub data: String,
    pub label: u32,
}

/// Collects the events of one host while they are generated.
#[derive(Debug, Default)]
pub struct Out {
    pub events: Vec<Pending>,
    /// The label the next pushed events belong to ([`NO_LABEL`] for background).
    pub label: u32,
}

impl Out {
    pub fn new() -> Self {
        Out { events: Vec::new(), label: NO_LABEL }
    }

    pub fn push(&mut self, ts: i64, chan: Chan, header: Header, data: Data) {
        self.events.push(Pending { ts, chan, header, data: data.0, label: self.label });
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }
}

/// Builder for the `EventData` members. Keys are trusted literals; values are escaped.
#[derive(Debug, Default)]
pub struct Data(String);

impl Data {
    pub fn new() -> Self {
        Data(String::with_capacity(512))
    }

    /// TaskScheduler events carry the template name as `EventData/@Name`.
    pub fn named(name: &str) -> Self {
        let mut d = Data::new();
        d.0.push_str("\"#attributes\":{\"Name\":");
        escape_into(&mut d.0, name);
        d.0.push('}');
        d
    }

    fn key(&mut self, key: &str) {
        if !self.0.is_empty() {
            self.0.push(',');
        }
        self.0.push('"');
        self.0.push_str(key);
        self.0.push_str("\":");
    }

    pub fn s(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        escape_into(&mut self.0, value);
        self
    }

    pub fn n(mut self, key: &str, value: u64) -> Self {
        self.key(key);
        let _ = write!(self.0, "{value}");
        self
    }

    pub fn b(mut self, key: &str, value: bool) -> Self {
        self.key(key);
        self.0.push_str(if value { "true" } else { "false" });
        self
    }

    /// A hex string as Windows renders pointers and logon ids (`0x3e7`).
    pub fn x(mut self, key: &str, value: u64) -> Self {
        self.key(key);
        let _ = write!(self.0, "\"{value:#x}\"");
        self
    }
}

/// JSON string escaping as serde_json does it (`"`, `\`, control characters).
pub fn escape_into(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Renders one full line (without the newline) into `line`.
pub fn render(line: &mut String, ev: &Pending, record_id: u64, computer: &str) {
    let (pname, pguid) = ev.chan.provider();
    let h = &ev.header;
    line.push_str("{\"Event\":{\"#attributes\":{\"xmlns\":\"http://schemas.microsoft.com/win/2004/08/events/event\"},\"System\":{\"Provider\":{\"#attributes\":{\"Name\":\"");
    line.push_str(pname);
    line.push_str("\",\"Guid\":\"");
    line.push_str(pguid);
    let _ = write!(
        line,
        "\"}}}},\"EventID\":{},\"Version\":{},\"Level\":{},\"Task\":{},\"Opcode\":{},\"Keywords\":\"{}\",\"TimeCreated\":{{\"#attributes\":{{\"SystemTime\":\"{}\"}}}},\"EventRecordID\":{},\"Correlation\":",
        h.id,
        h.version,
        h.level,
        h.task,
        h.opcode,
        h.keywords,
        Timestamp::from_ticks(ev.ts),
        record_id
    );
    match &h.activity {
        Some(a) => {
            line.push_str("{\"#attributes\":{\"ActivityID\":\"");
            line.push_str(a);
            line.push_str("\"}}");
        }
        None => line.push_str("null"),
    }
    let _ = write!(
        line,
        ",\"Execution\":{{\"#attributes\":{{\"ProcessID\":{},\"ThreadID\":{}}}}},\"Channel\":\"{}\",\"Computer\":",
        h.pid,
        h.tid,
        ev.chan.channel()
    );
    escape_into(line, computer);
    line.push_str(",\"Security\":");
    match &h.user {
        Some(u) => {
            line.push_str("{\"#attributes\":{\"UserID\":\"");
            line.push_str(u);
            line.push_str("\"}}");
        }
        None => line.push_str("null"),
    }
    line.push_str("},\"EventData\":{");
    line.push_str(&ev.data);
    line.push_str("}}}");
}

/// Sysmon's `UtcTime` / `CreationUtcTime`: `2019-05-19 17:32:00.478`.
pub fn utc_time(ticks: i64) -> String {
    let mut s = Timestamp::from_ticks(ticks).to_string();
    s.truncate(23);
    s.replace_range(10..11, " ");
    s
}

/// Local time as task XML writes it (`2024-03-05T03:00:00`); the simulated fleet runs on UTC.
pub fn xml_time(ticks: i64, fraction: bool) -> String {
    let mut s = Timestamp::from_ticks(ticks).to_string();
    s.pop(); // 'Z'
    if !fraction {
        s.truncate(19);
    }
    s
}

/// Days since the Unix epoch of a tick count, and the weekday (0 = Monday).
pub fn weekday(ticks: i64) -> u32 {
    let days = ticks.div_euclid(DAY);
    ((days + 3).rem_euclid(7)) as u32
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Base64 of the UTF-16LE encoding, what `powershell -EncodedCommand` expects.
pub fn base64_utf16le(text: &str) -> String {
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64(&bytes)
}

/// Escapes text for task XML element content the way the Task Scheduler serializes it.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_vectors() {
        // RFC 4648 section 10 test vectors.
        for (plain, enc) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(plain.as_bytes()), enc);
        }
        // "IEX" in UTF-16LE is 49 00 45 00 58 00, the well-known `SQBFAFgA` prefix.
        assert_eq!(base64_utf16le("IEX"), "SQBFAFgA");
    }

    #[test]
    fn escaping_and_times() {
        let mut s = String::new();
        escape_into(&mut s, "a\"b\\c\r\n\u{1}");
        assert_eq!(s, r#""a\"b\\c\r\n\u0001""#);
        let t = Timestamp::parse("2024-03-04T05:06:07.1234567Z").unwrap().ticks();
        assert_eq!(utc_time(t), "2024-03-04 05:06:07.123");
        assert_eq!(xml_time(t, false), "2024-03-04T05:06:07");
        assert_eq!(xml_time(t, true), "2024-03-04T05:06:07.1234567");
        assert_eq!(weekday(t), 0, "2024-03-04 was a Monday");
        assert_eq!(xml_escape("a > b & \"c\""), "a &gt; b &amp; &quot;c&quot;");
    }

    #[test]
    fn rendered_line_is_valid_json_in_dump_shape() {
        let ev = Pending {
            ts: 0,
            chan: Chan::TaskScheduler,
            header: Header {
                id: 100,
                version: 0,
                level: 4,
                task: 100,
                opcode: 1,
                keywords: "0x8000000000000000",
                activity: Some("{a}".into()),
                pid: 1,
                tid: 2,
                user: Some("S-1-5-18".into()),
            },
            data: Data::named("TaskStartEvent").s("TaskName", "\\x").n("N", 3).x("L", 999).b("B", true).0,
            label: NO_LABEL,
        };
        let mut line = String::new();
        render(&mut line, &ev, 7, "H\"1");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["Event"]["System"]["EventRecordID"], 7);
        assert_eq!(v["Event"]["System"]["Computer"], "H\"1");
        assert_eq!(v["Event"]["System"]["Correlation"]["#attributes"]["ActivityID"], "{a}");
        assert_eq!(v["Event"]["EventData"]["#attributes"]["Name"], "TaskStartEvent");
        assert_eq!(v["Event"]["EventData"]["L"], "0x3e7");
        assert_eq!(v["Event"]["EventData"]["B"], true);
    }
}
