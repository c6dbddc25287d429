//! Correlation in bounded memory: a pass over the events, a host at a time in time order, that
//! keeps only what an incident can be made of and sums up the rest.
//!
//! Nearly every event of a fleet is ordinary process, network and file activity that no task
//! chain touches. [`Reducer`] keeps what [`incident::build`](crate::incident::build) reads:
//! every task event (4698–4702, TaskScheduler, schtasks / Register-ScheduledTask command
//! lines), the processes a chain is made of (a task's creator and its ancestors, processes the
//! scheduler started, and their descendants), those processes' DNS, network, file, registry and
//! image-load events, and the logon, share and COM-registration events the remote-creation,
//! human-involvement and COM-hijack checks use. Everything else updates the fleet-wide
//! [`FleetContext`] (domain prevalence, time span, when each host was first seen) and is dropped.
//!
//! State between events is each host's window of recent processes (created in the last
//! `process_window_secs`, exited or not: a task's creator needs its ancestors and their other
//! children), a few seconds of activity waiting for its process, the chain processes and the
//! kept events: it grows with the window and the chains found, not with the input.

use crate::activity::{Kind, destination, kind_of};
use crate::incident::{Detections, FleetContext};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use taskhunt_events::{Event, Timestamp, Value};
use taskhunt_tasks::sources::records_from_event;

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
const SCHEDULER: &str = "Microsoft-Windows-TaskScheduler/Operational";
/// How long activity waits for its process's creation event (10 s, in 100 ns ticks).
const GRACE_TICKS: i64 = 10 * 10_000_000;

#[derive(Debug, Clone)]
pub struct ReduceConfig {
    /// How long a process stays in the window after its creation: a task created by a child of
    /// a process older than this loses that ancestor from its creator chain (the creation event
    /// still names its parent).
    pub process_window_secs: i64,
}

impl Default for ReduceConfig {
    fn default() -> Self {
        ReduceConfig { process_window_secs: 24 * 3600 }
    }
}

/// What a reduction did, for the run summary and the benchmark.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReduceStats {
    pub events_seen: u64,
    pub events_kept: u64,
    /// Most processes in one host's window at once.
    pub peak_window_processes: usize,
    /// Processes that left the window by age.
    pub expired_processes: u64,
    pub chain_processes: u64,
}

/// The kept events and the fleet-wide context (empty for a reducer made `without_context`).
/// Events come out roughly in push order: a task creator's family joins when the task is
/// created, after events pushed later than them.
pub struct Reduced {
    pub events: Vec<Event>,
    /// Where each kept event came in: its place in the push order, from 0. Identifies it
    /// exactly where nothing in the event itself does (record ids repeat across files and
    /// channels, some JSON inputs have none), so that what the caller knows of each pushed event
    /// (its Sigma detections) can follow it.
    pub positions: Vec<u64>,
    pub context: FleetContext,
    pub stats: ReduceStats,
}

impl Reduced {
    /// Puts the kept events back in the order they were pushed (for input pushed in the order
    /// `build` wants, that order again) and gives `pushed`, detections keyed by push position,
    /// keyed by the kept events' new indexes instead. Detections on dropped events are left out.
    pub fn restore_order(&mut self, pushed: &Detections) -> Detections {
        let mut order: Vec<(u64, Event)> = self.positions.drain(..).zip(self.events.drain(..)).collect();
        order.sort_by_key(|(p, _)| *p);
        let mut detections = Detections::new();
        for (i, (p, e)) in order.into_iter().enumerate() {
            if let Some(d) = usize::try_from(p).ok().and_then(|p| pushed.get(&p)) {
                detections.insert(i, d.clone());
            }
            self.positions.push(p);
            self.events.push(e);
        }
        detections
    }
}

/// A process on a host: Sysmon's ProcessGuid, or the pid of a Security 4688 (reused by
/// Windows, so only while the process is open).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum ProcKey {
    Guid(Box<str>),
    Pid(u64),
}

struct OpenProcess {
    event: Event,
    parent: Option<ProcKey>,
    position: u64,
    /// Its activity so far (with push positions), while it is not in a chain: should it turn
    /// out to be the ancestor of a task's creator (mshta connecting out, then running
    /// schtasks), the incident shows what it did before.
    activity: Vec<(u64, Event)>,
}

#[derive(Default)]
struct HostState {
    /// Activity of a process not seen yet: Sysmon may log a process's first image loads or
    /// connections a moment before its creation. Held for [`GRACE_TICKS`], then dropped.
    /// (time, process, push position, event)
    pending: VecDeque<(Timestamp, ProcKey, u64, Event)>,
    open: HashMap<ProcKey, OpenProcess>,
    /// Open processes by creation time, for closing them by age.
    by_age: VecDeque<(Timestamp, ProcKey)>,
    chain: HashSet<ProcKey>,
    /// The latest process created with each pid, and whether it has exited: a Sysmon creation
    /// that names no parent GUID has, for the process tree, the latest live process of its
    /// parent pid as parent (however old), and so joins that one's chain.
    latest_by_pid: HashMap<u64, (ProcKey, bool)>,
}

impl HostState {
    /// The held activity of `key` (with push positions), taken out of `pending`.
    fn take_pending(&mut self, key: &ProcKey) -> Vec<(u64, Event)> {
        if !self.pending.iter().any(|(_, k, _, _)| k == key) {
            return Vec::new();
        }
        let (early, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending).into_iter().partition(|(_, k, _, _)| k == key);
        self.pending = rest.into();
        early.into_iter().map(|(_, _, p, a)| (p, a)).collect()
    }
}

pub struct Reducer {
    cfg: ReduceConfig,
    hosts: HashMap<Arc<str>, HostState>,
    kept: Vec<Event>,
    positions: Vec<u64>,
    /// Processes whose creation event is kept already (no duplicates when a creator's family
    /// is gathered).
    kept_keys: HashSet<(Arc<str>, ProcKey)>,
    /// Built from every event pushed, unless the caller has one (`without_context`).
    context: Option<FleetContext>,
    stats: ReduceStats,
}

impl Reducer {
    pub fn new(cfg: ReduceConfig) -> Reducer {
        Reducer {
            cfg,
            hosts: HashMap::new(),
            kept: Vec::new(),
            positions: Vec::new(),
            kept_keys: HashSet::new(),
            context: Some(FleetContext::default()),
            stats: ReduceStats::default(),
        }
    }

    /// A reducer for a caller that has the fleet's context already (`fleet_incidents` builds it
    /// in its first pass): the events are not observed a second time.
    pub fn without_context(cfg: ReduceConfig) -> Reducer {
        Reducer { context: None, ..Reducer::new(cfg) }
    }

    /// Takes one event; each host's events must come in time order (hosts may interleave).
    /// `keep` forces the event to be kept (a Sigma detection, which an incident may cite).
    pub fn push(&mut self, e: Event, keep: bool) {
        let position = self.stats.events_seen;
        self.stats.events_seen += 1;
        // Parsed once: the context, the creator test and the kept-always test all need them.
        let records = records_from_event(&e);
        if let Some(context) = &mut self.context {
            context.observe_with(&e, &records);
        }
        let window = self.cfg.process_window_secs * 10_000_000;
        let host = self.hosts.entry(e.computer.clone()).or_default();
        while let Some((start, key)) = host.by_age.front() {
            if e.timestamp.ticks() - start.ticks() <= window {
                break;
            }
            // A pid reused since (4688) belongs to a younger process: leave that one open.
            if host.open.get(key).is_some_and(|o| o.event.timestamp == *start) {
                host.open.remove(key);
                self.stats.expired_processes += 1;
            }
            host.by_age.pop_front();
        }
        while host.pending.front().is_some_and(|(t, _, _, _)| e.timestamp.ticks() - t.ticks() > GRACE_TICKS) {
            host.pending.pop_front();
        }
        let channel = &*e.channel;
        let creation = (channel == SYSMON && e.event_id == 1) || (channel == "Security" && e.event_id == 4688);
        if creation {
            let key = own_key(&e);
            let own_pid = if channel == SYSMON { pid_number(&e, "ProcessId") } else { pid_number(&e, "NewProcessId") };
            let parent = parent_key(&e).or_else(|| {
                let pp = pid_number(&e, "ParentProcessId").filter(|pp| channel == SYSMON && Some(*pp) != own_pid)?;
                host.latest_by_pid.get(&pp).filter(|(_, exited)| !exited).map(|(k, _)| k.clone())
            });
            if let (Some(k), Some(n)) = (&key, own_pid) {
                host.latest_by_pid.insert(n, (k.clone(), false));
            }
            let creates_task = !records.is_empty();
            let in_chain = creates_task
                || keep
                || parent.as_ref().is_some_and(|p| host.chain.contains(p))
                || started_by_scheduler(&e)
                || is_schedule_service(&e);
            let Some(key) = key else {
                if in_chain {
                    self.keep(e, position);
                }
                return;
            };
            if in_chain {
                host.chain.insert(key.clone());
                self.stats.chain_processes += 1;
                // Its activity that came in before it.
                for (p, a) in host.take_pending(&key) {
                    self.keep(a, p);
                }
                if creates_task {
                    self.creator_family(&e.computer, parent.clone());
                }
                let host = self.hosts.entry(e.computer.clone()).or_default();
                // Still recorded as open, so that its children can find it as an ancestor.
                host.open.insert(key.clone(), OpenProcess { event: e.clone(), parent: parent.clone(), position, activity: Vec::new() });
                host.by_age.push_back((e.timestamp, key.clone()));
                self.stats.peak_window_processes = self.stats.peak_window_processes.max(host.open.len());
                self.kept_keys.insert((e.computer.clone(), key));
                self.keep(e, position);
            } else {
                host.by_age.push_back((e.timestamp, key.clone()));
                let activity = host.take_pending(&key);
                host.open.insert(key, OpenProcess { event: e, parent, position, activity });
                self.stats.peak_window_processes = self.stats.peak_window_processes.max(host.open.len());
            }
            return;
        }
        // An exited process stays in the window: a task's creator may be its sibling, and the
        // report draws the family tree.
        if (channel == SYSMON && e.event_id == 5) || (channel == "Security" && e.event_id == 4689) {
            let key = own_key(&e).or_else(|| exit_pid(&e));
            if let Some(k) = &key
                && let Some(n) = pid_number(&e, "ProcessId")
                && let Some(latest) = host.latest_by_pid.get_mut(&n)
                && latest.0 == *k
            {
                latest.1 = true;
            }
            if keep || key.is_some_and(|k| host.chain.contains(&k)) {
                self.keep(e, position);
            }
            return;
        }
        if keep || !records.is_empty() || always_kept(&e) {
            self.keep(e, position);
            return;
        }
        if kind_of(&e).is_some()
            && let Some(k) = own_key(&e)
        {
            if host.chain.contains(&k) {
                self.keep(e, position);
            } else if let Some(open) = host.open.get_mut(&k) {
                open.activity.push((position, e));
            } else {
                host.pending.push_back((e.timestamp, k, position, e));
            }
        }
    }

    /// A task's creator was just seen: its ancestors (the report shows who made the task, and
    /// what they did) and everything under the topmost of them still in the window (the report
    /// draws that tree) join the chain; their creation events and the ancestors' activity so
    /// far are kept.
    fn creator_family(&mut self, computer: &Arc<str>, parent: Option<ProcKey>) {
        let Some(host) = self.hosts.get_mut(computer) else { return };
        let mut root = None;
        let mut next = parent;
        let mut depth = 0;
        let mut past: Vec<(u64, Event)> = Vec::new();
        while let Some(p) = next.take() {
            depth += 1;
            if depth > 64 {
                break;
            }
            if let Some(open) = host.open.get_mut(&p) {
                next = open.parent.clone();
                past.append(&mut open.activity);
                root = Some(p.clone());
            }
            host.chain.insert(p);
        }
        for (p, a) in past {
            self.keep(a, p);
        }
        let Some(host) = self.hosts.get_mut(computer) else { return };
        let Some(root) = root else { return };
        let descends = |mut k: ProcKey| {
            for _ in 0..64 {
                if k == root {
                    return true;
                }
                match host.open.get(&k).and_then(|o| o.parent.clone()) {
                    Some(p) => k = p,
                    None => return false,
                }
            }
            false
        };
        let mut family: Vec<(ProcKey, u64, Event)> =
            host.open.iter().filter(|(k, _)| descends((*k).clone())).map(|(k, o)| (k.clone(), o.position, o.event.clone())).collect();
        family.retain(|(k, _, _)| !self.kept_keys.contains(&(computer.clone(), k.clone())));
        // Their creation came first: keep time order.
        family.sort_by_key(|(_, _, e)| (e.timestamp, e.record_id));
        for (k, _, _) in &family {
            host.chain.insert(k.clone());
            self.kept_keys.insert((computer.clone(), k.clone()));
        }
        for (_, p, e) in family {
            self.stats.chain_processes += 1;
            self.keep(e, p);
        }
    }

    fn keep(&mut self, e: Event, position: u64) {
        self.stats.events_kept += 1;
        self.kept.push(e);
        self.positions.push(position);
    }

    pub fn stats(&self) -> &ReduceStats {
        &self.stats
    }

    pub fn finish(self) -> Reduced {
        Reduced { events: self.kept, positions: self.positions, context: self.context.unwrap_or_default(), stats: self.stats }
    }
}

fn text<'e>(e: &'e Event, name: &str) -> Option<&'e str> {
    match e.fields.get_str(name)? {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn guid(e: &Event, name: &str) -> Option<ProcKey> {
    text(e, name).filter(|g| !g.is_empty() && !g.starts_with("{00000000")).map(|g| ProcKey::Guid(g.to_ascii_lowercase().into()))
}

fn pid(e: &Event, name: &str) -> Option<ProcKey> {
    pid_number(e, name).map(ProcKey::Pid)
}

fn pid_number(e: &Event, name: &str) -> Option<u64> {
    let v = e.fields.get_str(name)?;
    let n = match v {
        Value::Str(s) => {
            let s = s.trim();
            match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(hex, 16).ok()?,
                None => s.parse().ok()?,
            }
        }
        other => other.as_u64()?,
    };
    Some(n)
}

/// The process an event is about (or was made by): Sysmon's ProcessGuid; 4688's NewProcessId.
fn own_key(e: &Event) -> Option<ProcKey> {
    if &*e.channel == "Security" {
        return pid(e, "NewProcessId");
    }
    guid(e, "ProcessGuid")
}

fn parent_key(e: &Event) -> Option<ProcKey> {
    if &*e.channel == "Security" {
        return pid(e, "ProcessId");
    }
    guid(e, "ParentProcessGuid")
}

fn exit_pid(e: &Event) -> Option<ProcKey> {
    pid(e, "ProcessId")
}

fn leaf(path: &str) -> String {
    path.rsplit(['\\', '/']).next().unwrap_or(path).to_ascii_lowercase()
}

/// Started by the Task Scheduler, by what the creation event says of the parent: the Schedule
/// service's svchost, taskeng.exe or taskhostw.exe. A 4688 names no parent command line, so
/// any svchost parent counts there: keeping a few too many is harmless, the incident builder
/// judges again.
fn started_by_scheduler(e: &Event) -> bool {
    let parent = text(e, "ParentImage").or_else(|| text(e, "ParentProcessName")).map(leaf).unwrap_or_default();
    match parent.as_str() {
        "taskeng.exe" | "taskhostw.exe" | "taskhostex.exe" | "taskhost.exe" => true,
        "svchost.exe" => text(e, "ParentCommandLine").is_none_or(|c| c.to_ascii_lowercase().contains("schedule")),
        _ => false,
    }
}

/// The Schedule service's own svchost (its pid identifies the scheduler for 4688 children).
fn is_schedule_service(e: &Event) -> bool {
    let image = text(e, "Image").or_else(|| text(e, "NewProcessName")).map(leaf).unwrap_or_default();
    image == "svchost.exe" && text(e, "CommandLine").is_some_and(|c| c.to_ascii_lowercase().contains("schedule"))
}

/// Events every incident check may read whatever process made them (besides task events).
fn always_kept(e: &Event) -> bool {
    let channel = &*e.channel;
    if channel == SCHEDULER {
        return true;
    }
    match (channel, e.event_id) {
        // Logons: interactive ones (human involvement) and network ones (remote creation).
        ("Security", 4624) => matches!(e.fields.get_str("LogonType").and_then(Value::as_i64), Some(2 | 3 | 10 | 11)),
        // The ATSVC pipe opened over IPC$ (remote task creation).
        ("Security", 5145) => text(e, "RelativeTargetName").is_some_and(|t| t.to_ascii_lowercase().contains("atsvc")),
        // Per-user COM registrations (COM hijack of a task's handler).
        (SYSMON, 12 | 13) => text(e, "TargetObject").is_some_and(|t| t.to_ascii_lowercase().contains("\\clsid\\{")),
        _ => false,
    }
}

/// What a DNS or network event says about its destination, for [`FleetContext`].
pub(crate) fn destination_name(e: &Event) -> Option<String> {
    match kind_of(e) {
        Some(Kind::Dns) => text(e, "QueryName").map(str::to_string),
        Some(Kind::Network) => destination(e).0,
        _ => None,
    }
}
