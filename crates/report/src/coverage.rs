//! Telemetry available and missing: what the hunt could see, per host, channel and event id,
//! and the gaps that limit what it can conclude ("no Sysmon 3: C2 correlation impossible").

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use taskhunt_events::{Event, Timestamp};

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
const SCHEDULER: &str = "Microsoft-Windows-TaskScheduler/Operational";

#[derive(Debug, Clone, Default, Serialize)]
pub struct HostCoverage {
    pub host: String,
    pub events: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// channel → event id → count.
    pub channels: BTreeMap<String, BTreeMap<u32, u64>>,
    /// Periods with no events much longer than the host's usual spacing.
    pub silent_periods: Vec<(Timestamp, Timestamp)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    /// Hosts the gap applies to (empty: all).
    pub hosts: Vec<String>,
    pub what: String,
    /// What the hunt cannot do because of it.
    pub consequence: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    pub hosts: Vec<HostCoverage>,
    pub gaps: Vec<Gap>,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub events: u64,
}

/// A silence at least this long, and this many times the host's median spacing, is reported.
const MIN_SILENCE_SECS: i64 = 6 * 3600;
const SILENCE_FACTOR: i64 = 50;

type NamedBy = (Timestamp, u64);

#[derive(Default)]
pub struct CoverageBuilder {
    /// Per host (lower case): its coverage, its events' times, and the time and record id of
    /// the event its name was taken from.
    hosts: BTreeMap<String, (HostCoverage, Vec<i64>, NamedBy)>,
    cmdline_4688: (u64, u64),
    cleared: Vec<(String, Timestamp)>,
}

impl CoverageBuilder {
    /// Events may come in any order: the coverage is the same (a host's name as its earliest
    /// event by time, name and record id spells it).
    pub fn add(&mut self, e: &Event) {
        let (h, times, named_by) = self.hosts.entry(e.computer.to_ascii_lowercase()).or_insert_with(|| {
            (HostCoverage { host: e.computer.to_string(), ..HostCoverage::default() }, Vec::new(), (e.timestamp, e.record_id))
        });
        if e.hunt_order() < (named_by.0, h.host.as_str(), named_by.1) {
            h.host = e.computer.to_string();
            *named_by = (e.timestamp, e.record_id);
        }
        h.events += 1;
        h.first = Some(h.first.map_or(e.timestamp, |f| f.min(e.timestamp)));
        h.last = Some(h.last.map_or(e.timestamp, |l| l.max(e.timestamp)));
        let channel = if e.channel.is_empty() { format!("(no channel: {})", e.provider) } else { e.channel.to_string() };
        *h.channels.entry(channel).or_default().entry(e.event_id).or_default() += 1;
        times.push(e.timestamp.unix_seconds());
        if &*e.channel == "Security" && e.event_id == 4688 {
            self.cmdline_4688.0 += 1;
            if e.text("CommandLine").is_some_and(|c| !c.is_empty()) {
                self.cmdline_4688.1 += 1;
            }
        }
        if (&*e.channel == "Security" && e.event_id == 1102) || (&*e.channel == "System" && e.event_id == 104) {
            self.cleared.push((e.computer.to_string(), e.timestamp));
        }
    }

    pub fn finish(mut self) -> Coverage {
        self.cleared.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        let mut cov = Coverage::default();
        let has = |chan: &str, id: Option<u32>| -> Vec<String> {
            Vec::from_iter(
                self.hosts
                    .values()
                    .filter(|(h, _, _)| !h.channels.get(chan).is_some_and(|ids| id.is_none_or(|i| ids.contains_key(&i))))
                    .map(|(h, _, _)| h.host.clone()),
            )
        };
        let all_hosts = self.hosts.len();
        let mut gaps = Vec::new();
        let mut gap = |missing: Vec<String>, what: &str, consequence: &str| {
            if !missing.is_empty() {
                gaps.push(Gap {
                    hosts: if missing.len() == all_hosts { vec![] } else { missing },
                    what: what.to_string(),
                    consequence: consequence.to_string(),
                });
            }
        };
        gap(
            has(SYSMON, Some(3)),
            "no Sysmon 3 (network connections)",
            "C2 correlation from task processes to network traffic is impossible",
        );
        gap(has(SYSMON, Some(22)), "no Sysmon 22 (DNS queries)", "rare-domain analysis is limited to connection hostnames");
        gap(
            has(SYSMON, Some(1)),
            "no Sysmon 1 (process creation)",
            "process lineage rests on Security 4688 alone (no GUIDs, hashes or parent command lines)",
        );
        gap(
            has(SCHEDULER, None),
            "TaskScheduler/Operational absent",
            "task runs cannot be tied to processes by instance id; only command-line matching remains",
        );
        gap(
            has("Security", Some(4698)),
            "no Security 4698 (task registered)",
            "task definitions come only from command lines and other sources (audit Other Object Access Events)",
        );
        gap(has("Security", Some(4624)), "no Security 4624 (logons)", "remote creation and human involvement cannot be checked");
        gap(
            has("Microsoft-Windows-PowerShell/Operational", Some(4104)),
            "no PowerShell 4104 (script blocks)",
            "decoded scripts cannot be confirmed from the engine's own logging",
        );
        let (total, with) = self.cmdline_4688;
        if total > 0 && with < total {
            gap(
                vec![],
                &format!("{} of {total} Security 4688 events without command lines", total - with),
                "process command-line auditing is off on some hosts; detections on command lines miss them",
            );
        }
        for (host, t) in &self.cleared {
            gaps.push(Gap {
                hosts: vec![host.clone()],
                what: format!("event log cleared at {t}"),
                consequence: "events before this point may be missing".into(),
            });
        }
        for (_, (mut h, mut times, _)) in self.hosts {
            times.sort_unstable();
            let mut spacing: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
            spacing.sort_unstable();
            let median = spacing.get(spacing.len() / 2).copied().unwrap_or(0).max(1);
            for w in times.windows(2) {
                let d = w[1] - w[0];
                if times.len() >= 20 && d >= MIN_SILENCE_SECS && d >= median * SILENCE_FACTOR {
                    h.silent_periods.push((Timestamp::from_ticks(w[0] * 10_000_000), Timestamp::from_ticks(w[1] * 10_000_000)));
                }
            }
            if !h.silent_periods.is_empty() {
                gaps.push(Gap {
                    hosts: vec![h.host.clone()],
                    what: format!(
                        "{} silent period(s), longest {}h",
                        h.silent_periods.len(),
                        h.silent_periods.iter().map(|(a, b)| (b.unix_seconds() - a.unix_seconds()) / 3600).max().unwrap_or(0)
                    ),
                    consequence: "logs may have been cleared or the host was off; activity then is unseen".into(),
                });
            }
            cov.events += h.events;
            cov.first = [cov.first, h.first].into_iter().flatten().min();
            cov.last = [cov.last, h.last].into_iter().flatten().max();
            cov.hosts.push(h);
        }
        cov.gaps = gaps;
        cov
    }
}

impl Coverage {
    pub fn channels(&self) -> BTreeSet<String> {
        self.hosts.iter().flat_map(|h| h.channels.keys().cloned()).collect()
    }
}
