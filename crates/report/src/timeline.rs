//! Timelines: every event of every incident, detection and task change in time order, as CSV
//! (spreadsheet- and terminal-safe) or JSON lines.

use serde::Serialize;
use std::io::Write;
use taskhunt_events::Timestamp;
use taskhunt_events::text::{csv_safe, terminal_safe};

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimelineRow {
    pub timestamp: Timestamp,
    pub host: String,
    /// `incident`, `detection`, `task`.
    pub kind: String,
    /// Incident id, rule title or task name.
    pub subject: String,
    pub event_id: u32,
    pub summary: String,
    pub file: String,
    pub record_id: u64,
}

pub const COLUMNS: &[&str] = &["Timestamp", "Host", "Kind", "Subject", "EventID", "Summary", "File", "RecordID"];

/// Writes the timeline as CSV. Cells are attacker text: control characters and bidi overrides
/// are shown escaped (a `cat` of the file runs no terminal escape, a spreadsheet shows no
/// reversed text), then a cell a spreadsheet would run as a formula gets a leading apostrophe.
pub fn write_csv(rows: &[TimelineRow], out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for r in rows {
        let cells = [
            r.timestamp.to_string(),
            r.host.clone(),
            r.kind.clone(),
            r.subject.clone(),
            r.event_id.to_string(),
            r.summary.clone(),
            r.file.clone(),
            r.record_id.to_string(),
        ];
        w.write_record(cells.iter().map(|c| csv_safe(&terminal_safe(c)).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}

pub fn write_jsonl(rows: &[TimelineRow], mut out: impl Write) -> std::io::Result<()> {
    for r in rows {
        serde_json::to_writer(&mut out, r)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_defused() {
        let row = TimelineRow {
            timestamp: Timestamp::from_ticks(0),
            host: "=HYPERLINK(\"http://x\")".into(),
            kind: "incident".into(),
            subject: "@SUM(1)".into(),
            event_id: 1,
            summary: "-2+3 cmd \x1b[31m\u{202e}x".into(),
            file: "a.evtx".into(),
            record_id: 7,
        };
        let mut out = Vec::new();
        write_csv(&[row], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert!(line.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{line}");
        assert!(line.contains(",'@SUM(1),"));
        assert!(line.contains(",'-2+3 cmd \\u{001b}[31m\\u{202e}x,"), "{line}");
        assert!(!text.contains('\x1b') && !text.contains('\u{202e}'));
    }
}
