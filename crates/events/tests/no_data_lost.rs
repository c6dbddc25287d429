//! No data lost (issue 9, item 4): real corpus data, damaged at many places, one reader at a
//! time. Whatever the damage, every record outside the damaged unit (evtx chunk, JSON line or
//! element, CSV row, the gzip stream past the cut) is read and is identical to what the
//! undamaged input gives, and the damage is reported with the file and where it is, counting
//! what it cost.
//!
//! Every input is made from corpus files at test time (`TASKHUNT_CORPUS`; skipped when unset),
//! and every damage is at a fixed place with seeded noise, so a failure names a file and an
//! offset that reproduce it.

mod no_data_lost {
    mod defender_csv;
    mod evtx_chunks;
    mod gzip;
    mod json;
}

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use taskhunt_events::testing::evtx_samples;
use taskhunt_events::{Event, FileBatch, Location, ReadIssue};

/// Corpus evtx files of 3 to 12 chunks in use, of different channels (Sysmon, Security,
/// RDP, SMB share auditing).
pub const MULTI_CHUNK: &[&str] = &[
    "Privilege Escalation/privesc_unquoted_svc_sysmon_1_11.evtx",
    "AutomatedTestingTools/panache_sysmon_vs_EDRTestingScript.evtx",
    "Credential Access/discovery_sysmon_1_iis_pwd_and_config_discovery_appcmd.evtx",
    "Persistence/persistence_sysmon_11_13_1_shime_appfix.evtx",
    "Other/rdpcorets_148_mst120_bluekeep_rpdscan_full.evtx",
    "Lateral Movement/LM_5145_Remote_FileCopy.evtx",
];

/// `(path, bytes)` of corpus files under `evtx-attack-samples`, or `None` (the test is
/// skipped) when `TASKHUNT_CORPUS` is unset.
pub fn corpus_files(test: &str, names: &[&str]) -> Option<Vec<(PathBuf, Vec<u8>)>> {
    let samples = evtx_samples(test)?;
    Some(names.iter().map(|n| (samples.join(n), std::fs::read(samples.join(n)).unwrap_or_else(|e| panic!("{n}: {e}")))).collect())
}

/// Bytes that look like nothing in particular (xorshift, so every run writes the same).
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    seed |= 1;
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// What `a` and `b` disagree on, or `None` when they are the same event. The source file is
/// left out: a damaged copy may be read under another name.
pub fn difference(a: &Event, b: &Event) -> Option<&'static str> {
    if a.record_id != b.record_id {
        Some("record id")
    } else if a.timestamp != b.timestamp {
        Some("timestamp")
    } else if a.event_id != b.event_id {
        Some("event id")
    } else if (&a.computer, &a.channel, &a.provider) != (&b.computer, &b.channel, &b.provider) {
        Some("computer, channel or provider")
    } else if a.system != b.system {
        Some("system fields")
    } else if a.fields != b.fields {
        Some("event fields")
    } else {
        None
    }
}

/// Asserts that `got` holds exactly `want`, in order: what a damaged input must still give for
/// its undamaged units when those are told apart by position (lines, rows, elements).
pub fn assert_same_events(got: &[&Event], want: &[&Event], case: &str) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if let Some(what) = difference(g, w) {
            panic!("{case}: event {i} (record {}) differs in its {what} from the undamaged read (record {})", g.record_id, w.record_id);
        }
    }
    assert_eq!(got.len(), want.len(), "{case}: {} events read, {} expected", got.len(), want.len());
}

/// Events by record id; ids must be unique in the undamaged read for this to be a fair key.
pub fn by_id(events: &[Event]) -> HashMap<u64, &Event> {
    let map: HashMap<u64, &Event> = events.iter().map(|e| (e.record_id, e)).collect();
    assert_eq!(map.len(), events.len(), "record ids are not unique");
    map
}

/// Every issue names the file that was read.
pub fn assert_issues_name(batch: &FileBatch, path: &Path, case: &str) {
    for issue in &batch.issues {
        assert_eq!(issue.file, path, "{case}: {issue}");
    }
}

/// The issues at line `line`.
pub fn issues_on_line(batch: &FileBatch, line: u64) -> Vec<&ReadIssue> {
    batch.issues.iter().filter(|i| matches!(i.location, Location::Line { line: l, .. } if l == line)).collect()
}

/// Where each line of `text` starts (lines end with `\n`).
pub fn line_starts(text: &[u8]) -> Vec<usize> {
    let breaks = text.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1);
    std::iter::once(0).chain(breaks).filter(|&s| s < text.len()).collect()
}
