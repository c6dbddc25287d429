//! Defender CSV: the unit of damage is the row. The rows are the DeviceProcessEvents rows of
//! real Sysmon 1 events (`tables::normalize`), written under Defender's column names.

use crate::{assert_issues_name, assert_same_events, corpus_files, noise};
use std::path::Path;
use taskhunt_events::tables::normalize;
use taskhunt_events::{Event, IssueKind, Location, read_bytes};

const SYSMON: &[&str] = &[
    "Privilege Escalation/privesc_unquoted_svc_sysmon_1_11.evtx",
    "AutomatedTestingTools/panache_sysmon_vs_EDRTestingScript.evtx",
    "Privilege Escalation/Sysmon_UACME_64.evtx",
];

/// A DeviceProcessEvents export of up to 80 Sysmon 1 events of the corpus. One command line
/// is given a second line, which a quoted field may hold: it must not pass for damage.
fn export(files: &[(std::path::PathBuf, Vec<u8>)]) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut rows = 0;
    for (path, data) in files {
        for event in read_bytes(path, data.clone()).events.iter().filter(|e| e.event_id == 1) {
            let Some(row) = normalize(event).filter(|r| r.table.name == "DeviceProcessEvents") else { continue };
            if rows == 0 {
                out.write_record(row.table.columns.iter().map(|(name, _)| *name)).unwrap();
            }
            let mut cells: Vec<String> =
                row.values.iter().map(|v| if v.is_null() { String::new() } else { v.to_text().into_owned() }).collect();
            if rows == 5 {
                let at = row.table.columns.iter().position(|(name, _)| *name == "ProcessCommandLine").unwrap();
                cells[at].push_str("\r\n2019-03-19T00:02:04Z, a second line");
            }
            out.write_record(&cells).unwrap();
            rows += 1;
            if rows == 80 {
                return out.into_inner().unwrap();
            }
        }
    }
    out.into_inner().unwrap()
}

/// Byte ranges of the rows after the header, by parsing the undamaged export.
fn row_ranges(text: &[u8]) -> Vec<(usize, usize)> {
    let mut reader = csv::Reader::from_reader(text);
    let mut starts = Vec::new();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).unwrap() {
        starts.push(record.position().unwrap().byte() as usize);
    }
    starts.iter().enumerate().map(|(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(text.len()))).collect()
}

/// Offsets of the commas of `row` that separate fields (outside quotes).
fn separators(row: &[u8]) -> Vec<usize> {
    let mut quoted = false;
    let mut out = Vec::new();
    for (i, &b) in row.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => out.push(i),
            _ => {}
        }
    }
    out
}

#[test]
fn defender_csv_damage_costs_one_row() {
    let Some(files) = corpus_files("defender_csv_damage_costs_one_row", SYSMON) else { return };
    let text = export(&files);
    let path = Path::new("DeviceProcessEvents.csv");
    let clean = read_bytes(path, text.clone());
    assert!(clean.issues.is_empty(), "{:?}", clean.issues);
    assert_eq!(clean.format.map(|f| f.name()), Some("defender-csv"));
    let rows = row_ranges(&text);
    assert_eq!((rows.len(), clean.events.len()), (80, 80));
    // 40 rows, each damaged one way: an opening quote that is never closed, the row cut off
    // after half its fields, junk with a field separator in it, an invalid UTF-8 byte.
    for k in 0..40 {
        let r = k * 2 + k % 2;
        let (start, end) = rows[r];
        let row = &text[start..end];
        let commas = separators(row);
        let middle = start + commas[commas.len() / 2] + 1;
        let (what, damaged) = match k % 4 {
            0 => ("an unclosed quote", [&text[..middle], b"\"", &text[middle..]].concat()),
            1 => ("the row cut off", [&text[..middle], b"\n", &text[end..]].concat()),
            2 => {
                let mut junk: Vec<u8> = noise(16, k as u64 + 1).into_iter().map(|b| b' ' + b % 95).filter(|b| *b != b'"').collect();
                junk.insert(junk.len() / 2, b',');
                ("junk", [&text[..middle], &junk, &text[middle..]].concat())
            }
            _ => {
                // The first letter of a field, so that the byte replaced is a whole character.
                let at = start + (0..row.len()).find(|&i| i > commas[1] && row[i].is_ascii_alphanumeric()).unwrap();
                let mut damaged = text.clone();
                damaged[at] = 0xff;
                ("an invalid UTF-8 byte", damaged)
            }
        };
        let line = clean.events[r].record_id;
        let case = format!("{}: row {r} (line {line}) damaged with {what}", path.display());
        let batch = read_bytes(path, damaged);
        assert_issues_name(&batch, path, &case);
        let want: Vec<&Event> = clean.events.iter().enumerate().filter(|(i, _)| *i != r).map(|(_, e)| e).collect();
        assert_same_events(&batch.events.iter().collect::<Vec<_>>(), &want, &case);
        assert!(!batch.issues.is_empty(), "{case}: not reported");
        for issue in &batch.issues {
            assert_eq!(issue.location, Location::Line { line, column: 1 }, "{case}: {issue}");
            assert_eq!(issue.kind, IssueKind::CsvRow, "{case}: {issue}");
        }
        assert_eq!(batch.issues.iter().map(|i| i.records_skipped).sum::<u64>(), 1, "{case}: {:?}", batch.issues);
    }
}
