//! Per-process activity: the file writes, registry changes, DNS queries and network connections
//! each process made, indexed by host and process GUID (Sysmon) or pid and time.

use std::collections::HashMap;
use taskhunt_events::{Event, Timestamp, Value};

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

/// What kind of activity an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Network,
    Dns,
    FileWrite,
    Registry,
    ImageLoad,
}

pub fn kind_of(e: &Event) -> Option<Kind> {
    if &*e.channel != SYSMON {
        return None;
    }
    Some(match e.event_id {
        3 => Kind::Network,
        22 => Kind::Dns,
        11 | 23 | 26 => Kind::FileWrite,
        12..=14 => Kind::Registry,
        7 => Kind::ImageLoad,
        _ => return None,
    })
}

fn key(host: &str) -> String {
    host.to_ascii_lowercase()
}

/// Activity events (indices into the event slice) by process.
#[derive(Default)]
pub struct ActivityIndex {
    by_guid: HashMap<(String, String), Vec<usize>>,
    by_pid: HashMap<(String, u64), Vec<usize>>,
}

impl ActivityIndex {
    pub fn build(events: &[Event]) -> ActivityIndex {
        let mut idx = ActivityIndex::default();
        for (i, e) in events.iter().enumerate() {
            if kind_of(e).is_none() {
                continue;
            }
            let host = key(&e.computer);
            if let Some(g) = e.text("ProcessGuid") {
                idx.by_guid.entry((host.clone(), g.to_ascii_lowercase())).or_default().push(i);
            } else if let Some(pid) = e.fields.get_str("ProcessId").and_then(Value::as_u64) {
                idx.by_pid.entry((host, pid)).or_default().push(i);
            }
        }
        idx
    }

    /// Activity of one process: by GUID when known, else by pid between its start and end.
    pub fn of(&self, events: &[Event], host: &str, guid: Option<&str>, pid: u64, start: Timestamp, end: Option<Timestamp>) -> Vec<usize> {
        let host = key(host);
        if let Some(g) = guid
            && let Some(v) = self.by_guid.get(&(host.clone(), g.to_ascii_lowercase()))
        {
            return v.clone();
        }
        self.by_pid
            .get(&(host, pid))
            .map(|v| v.iter().copied().filter(|&i| events[i].timestamp >= start && end.is_none_or(|e| events[i].timestamp <= e)).collect())
            .unwrap_or_default()
    }
}

/// The destination of a network or DNS event: (hostname if known, IP if known, port).
pub fn destination(e: &Event) -> (Option<String>, Option<String>, Option<u64>) {
    match e.event_id {
        3 => {
            let outbound = e.fields.get_str("Initiated").is_none_or(|v| v.to_text().eq_ignore_ascii_case("true"));
            let side = if outbound { "Destination" } else { "Source" };
            (
                e.text(&format!("{side}Hostname")).map(|s| s.into_owned()).filter(|s| !s.is_empty() && s != "-"),
                e.text(&format!("{side}Ip")).map(|s| s.into_owned()),
                e.fields.get_str(&format!("{side}Port")).and_then(Value::as_u64),
            )
        }
        22 => (e.text("QueryName").map(|s| s.into_owned()), None, None),
        _ => (None, None, None),
    }
}
