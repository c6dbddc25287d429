//! Process lineage: process trees from Sysmon and Security process events, which processes the
//! Task Scheduler started, and which task each of them ran.
//!
//! Sysmon 1 names a process and its parent by GUID, which survives pid reuse; Security 4688 only
//! by pid (hex), so a parent is the most recent earlier creation of that pid on the same host that
//! had not exited yet. Input is attacker-controlled: links that would form a cycle are cut, and
//! every walk over the tree is bounded by the number of nodes.

use crate::model::TaskDefinition;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::fmt;
use taskhunt_events::tables::{SECURITY, SYSMON, TASK_SCHEDULER, file_name};
use taskhunt_events::text::terminal_safe;
use taskhunt_events::{Event, Timestamp, Value};

const SECOND: i64 = 10_000_000;
/// Sysmon 1 and Security 4688 for one creation are written within this of each other.
const SAME_CREATION: i64 = SECOND;
/// A TaskScheduler event may carry a time slightly off the process event of the pid it names.
const SCHEDULER_SKEW: i64 = 2 * SECOND;
/// Deeper levels of a rendered tree are summarised, not drawn.
pub const MAX_RENDER_DEPTH: usize = 64;

/// One process: its creation event, its parent, its children.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessNode {
    /// The `Computer` of the creation event, as written.
    pub host: String,
    pub pid: u64,
    /// Sysmon `ProcessGuid` (never the all-zero GUID).
    pub guid: Option<String>,
    /// Full image path (`Image`, `NewProcessName`); empty when the event named none.
    pub image: String,
    pub command_line: Option<String>,
    /// `DOMAIN\user` the process runs as.
    pub user: Option<String>,
    /// `High`, `System`, ... (Sysmon `IntegrityLevel`, or 4688's `MandatoryLabel` named).
    pub integrity: Option<String>,
    /// Sysmon `UtcTime` (the creation itself), else the event time.
    pub start: Timestamp,
    /// From Sysmon 5 or Security 4689.
    pub end: Option<Timestamp>,
    pub parent: Option<usize>,
    /// In start order.
    pub children: Vec<usize>,
    /// What the creation event says of the parent, whether or not the parent is a node.
    pub parent_image: Option<String>,
    pub parent_command_line: Option<String>,
    pub parent_pid: Option<u64>,
    pub parent_guid: Option<String>,
    /// `file:record` of the creation event.
    pub evidence: String,
    /// Further events of the same creation (the 4688 next to a Sysmon 1, or a copy of the event).
    pub other_evidence: Vec<String>,
}

/// What started a task's process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Launcher {
    /// The Schedule service: `svchost.exe -k netsvcs -p -s Schedule` (Windows 10/11 Exec
    /// actions), or on 4688 an svchost whose pid is known to be the Schedule service's.
    ScheduleService,
    /// `taskeng.exe` (Windows 7 and Server 2008 R2).
    TaskEng,
    /// `taskhostw.exe` (and Windows 7's `taskhost.exe`, Windows 8's `taskhostex.exe`): COM tasks.
    TaskHostW,
}

impl fmt::Display for Launcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Launcher::ScheduleService => "the Schedule service (svchost.exe -s Schedule)",
            Launcher::TaskEng => "taskeng.exe",
            Launcher::TaskHostW => "taskhostw.exe",
        })
    }
}

/// Processes of one or many hosts, sorted by start time.
#[derive(Debug, Clone, Default)]
pub struct ProcessTree {
    pub nodes: Vec<ProcessNode>,
    /// (lower-cased host, pid) → nodes in start order.
    by_pid: HashMap<(String, u64), Vec<usize>>,
    /// (lower-cased host, lower-cased GUID) → node.
    by_guid: HashMap<(String, String), usize>,
    /// (lower-cased host, pid) → times the pid was seen to be the Schedule service.
    schedule_pids: HashMap<(String, u64), Vec<Timestamp>>,
    /// Short host name → the lower-cased host names that start with it.
    hosts: HashMap<String, Vec<String>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Log {
    Sysmon,
    Security,
    Scheduler,
    Other,
}

fn log_of(e: &Event) -> Log {
    match &*e.channel {
        SYSMON => Log::Sysmon,
        SECURITY => Log::Security,
        TASK_SCHEDULER => Log::Scheduler,
        "" => match &*e.provider {
            "Microsoft-Windows-Sysmon" => Log::Sysmon,
            "Microsoft-Windows-Security-Auditing" => Log::Security,
            "Microsoft-Windows-TaskScheduler" => Log::Scheduler,
            _ => Log::Other,
        },
        _ => Log::Other,
    }
}

/// A text field, `None` when absent, empty or Windows' `-` placeholder.
fn text(e: &Event, name: &str) -> Option<String> {
    let v = e.fields.get_str(name).filter(|v| !v.is_null())?.to_text();
    let t = v.trim();
    (!t.is_empty() && t != "-").then(|| v.into_owned())
}

/// A Sysmon text field; `?` is Sysmon's "could not tell".
fn sysmon_text(e: &Event, name: &str) -> Option<String> {
    text(e, name).filter(|s| s.trim() != "?")
}

/// A process GUID, `None` for the all-zero GUID.
fn guid(e: &Event, name: &str) -> Option<String> {
    text(e, name).filter(|g| g.bytes().any(|b| b.is_ascii_alphanumeric() && b != b'0'))
}

fn number(e: &Event, name: &str) -> Option<u64> {
    e.fields.get_str(name).and_then(Value::as_u64)
}

fn key(host: &str) -> String {
    host.trim().to_lowercase()
}

fn short_host(host_key: &str) -> &str {
    host_key.split('.').next().unwrap_or(host_key)
}

fn guid_key(g: &str) -> String {
    g.trim().trim_matches(['{', '}']).to_ascii_lowercase()
}

/// Hosts are equal ignoring case, and a short name equals the FQDN that starts with it.
pub fn same_host(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let (sa, da) = a.split_once('.').map_or((a, false), |(s, _)| (s, true));
    let (sb, db) = b.split_once('.').map_or((b, false), |(s, _)| (s, true));
    !sa.is_empty() && sa.eq_ignore_ascii_case(sb) && !(da && db)
}

fn integrity_name(label: &str) -> Option<&'static str> {
    let rid = label.trim().to_ascii_uppercase();
    let rid = rid.strip_prefix("S-1-16-")?;
    Some(match rid {
        "0" => "Untrusted",
        "4096" => "Low",
        "8192" => "Medium",
        "8448" => "MediumPlus",
        "12288" => "High",
        "16384" => "System",
        "20480" => "ProtectedProcess",
        _ => return None,
    })
}

fn account(e: &Event, prefix: &str) -> Option<String> {
    let user = text(e, &format!("{prefix}UserName"))?;
    Some(match text(e, &format!("{prefix}DomainName")) {
        Some(d) => format!("{d}\\{user}"),
        None => user,
    })
}

/// A creation event, before it becomes (or merges into) a node.
struct Draft {
    node: ProcessNode,
    /// Lower-cased host.
    host: String,
    log: Log,
    record: u64,
}

fn sysmon_creation(e: &Event) -> Option<Draft> {
    let start = text(e, "UtcTime").and_then(|t| Timestamp::parse(&t)).unwrap_or(e.timestamp);
    let node = ProcessNode {
        host: e.computer.to_string(),
        pid: number(e, "ProcessId")?,
        guid: guid(e, "ProcessGuid"),
        image: sysmon_text(e, "Image").unwrap_or_default(),
        command_line: text(e, "CommandLine"),
        user: text(e, "User"),
        integrity: text(e, "IntegrityLevel"),
        start,
        end: None,
        parent: None,
        children: Vec::new(),
        parent_image: sysmon_text(e, "ParentImage"),
        parent_command_line: sysmon_text(e, "ParentCommandLine"),
        parent_pid: number(e, "ParentProcessId"),
        parent_guid: guid(e, "ParentProcessGuid"),
        evidence: e.report_id(),
        other_evidence: Vec::new(),
    };
    Some(Draft { host: key(&node.host), node, log: Log::Sysmon, record: e.record_id })
}

fn security_creation(e: &Event) -> Option<Draft> {
    // Version 2 names the new process's account in Target* (sometimes with the null SID next to
    // a real name); when Target* is empty, and always before version 2, it runs as the Subject.
    let target = text(e, "TargetUserName").is_some();
    let node = ProcessNode {
        host: e.computer.to_string(),
        pid: number(e, "NewProcessId")?,
        guid: None,
        image: text(e, "NewProcessName").unwrap_or_default(),
        command_line: text(e, "CommandLine"),
        user: if target { account(e, "Target") } else { account(e, "Subject") },
        integrity: text(e, "MandatoryLabel").and_then(|l| integrity_name(&l)).map(str::to_string),
        start: e.timestamp,
        end: None,
        parent: None,
        children: Vec::new(),
        parent_image: text(e, "ParentProcessName"),
        parent_command_line: None,
        parent_pid: number(e, "ProcessId"),
        parent_guid: None,
        evidence: e.report_id(),
        other_evidence: Vec::new(),
    };
    Some(Draft { host: key(&node.host), node, log: Log::Security, record: e.record_id })
}

fn base_name(image: &str) -> String {
    file_name(image.trim().trim_matches('"')).to_ascii_lowercase()
}

/// The first token of a command line (quoted or not), as a lower-cased file name.
fn command_name(command_line: &str) -> String {
    let t = command_line.trim_start();
    let first = match t.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or(rest),
        None => t.split_whitespace().next().unwrap_or(""),
    };
    base_name(first)
}

/// `svchost.exe ... -s Schedule` (any case, `-` or `/`).
fn is_schedule_command(command_line: &str) -> bool {
    let lower = command_line.to_ascii_lowercase();
    let tokens: Vec<&str> = lower.split_whitespace().map(|t| t.trim_matches('"')).collect();
    tokens.windows(2).any(|w| (w[0] == "-s" || w[0] == "/s") && w[1] == "schedule")
}

/// An image with a folder must be in System32 (or SysWOW64) to count as a Windows binary.
fn in_system_folder(image: Option<&str>, name: &str) -> bool {
    match image.map(|i| i.trim().trim_matches('"').to_ascii_lowercase().replace('/', "\\")) {
        Some(i) if i.contains('\\') => i.ends_with(&format!("\\system32\\{name}")) || i.ends_with(&format!("\\syswow64\\{name}")),
        _ => true,
    }
}

fn later(t: Timestamp, ticks: i64) -> Timestamp {
    Timestamp::from_ticks(t.ticks().saturating_add(ticks))
}

impl ProcessTree {
    /// Builds the tree from Sysmon 1 (`ProcessGuid`/`ParentProcessGuid`, with `ProcessTerminate`
    /// 5) and Security 4688/4689 (`NewProcessId`/`ProcessId` in hex, matched per host to the most
    /// recent earlier creation of the parent pid that had not exited). Events may come in any
    /// order and of any kind; those that are not process events are ignored, except that
    /// TaskScheduler/Operational events tell which pid the Schedule service has (the process
    /// that wrote them). A Sysmon 1 and a 4688 of the same creation become one node.
    pub fn build<'a>(events: impl IntoIterator<Item = &'a Event>) -> ProcessTree {
        let mut drafts = Vec::new();
        let mut ends: Vec<(Timestamp, String, Option<String>, u64)> = Vec::new();
        let mut schedule: Vec<(String, u64, Timestamp)> = Vec::new();
        for e in events {
            match (log_of(e), e.event_id) {
                (Log::Sysmon, 1) => drafts.extend(sysmon_creation(e)),
                (Log::Security, 4688) => drafts.extend(security_creation(e)),
                (Log::Sysmon, 5) => {
                    let at = text(e, "UtcTime").and_then(|t| Timestamp::parse(&t)).unwrap_or(e.timestamp);
                    if let Some(pid) = number(e, "ProcessId") {
                        ends.push((at, key(&e.computer), guid(e, "ProcessGuid"), pid));
                    }
                }
                (Log::Security, 4689) => {
                    if let Some(pid) = number(e, "ProcessId") {
                        ends.push((e.timestamp, key(&e.computer), None, pid));
                    }
                }
                (Log::Scheduler, _) => {
                    let pid = e.system.get_str("Execution_ProcessID").and_then(Value::as_u64);
                    if let Some(pid) = pid.filter(|p| *p > 4) {
                        schedule.push((key(&e.computer), pid, e.timestamp));
                    }
                }
                _ => {}
            }
        }
        drafts
            .sort_by(|a, b| (a.node.start, &a.host, a.record, &a.node.evidence).cmp(&(b.node.start, &b.host, b.record, &b.node.evidence)));

        let mut tree = ProcessTree::default();
        let mut logs: Vec<Vec<Log>> = Vec::new();
        for d in drafts {
            let host = d.host.clone();
            if let (Some(pp), Some(cmd)) = (d.node.parent_pid, d.node.parent_command_line.as_deref())
                && is_schedule_command(cmd)
                && in_system_folder(d.node.parent_image.as_deref(), "svchost.exe")
            {
                schedule.push((host.clone(), pp, d.node.start));
            }
            if d.node.command_line.as_deref().is_some_and(is_schedule_command)
                && base_name(&d.node.image) == "svchost.exe"
                && in_system_folder(Some(&d.node.image), "svchost.exe")
            {
                schedule.push((host.clone(), d.node.pid, d.node.start));
            }
            match tree.same_creation(&host, &d, &logs) {
                Some(i) => {
                    tree.merge(i, d.node, d.log == Log::Sysmon);
                    logs[i].push(d.log);
                    tree.index_guid(&host, i);
                }
                None => {
                    let i = tree.nodes.len();
                    let aliases = tree.hosts.entry(short_host(&host).to_string()).or_default();
                    if !aliases.contains(&host) {
                        aliases.push(host.clone());
                    }
                    tree.by_pid.entry((host.clone(), d.node.pid)).or_default().push(i);
                    tree.nodes.push(d.node);
                    logs.push(vec![d.log]);
                    tree.index_guid(&host, i);
                }
            }
        }
        for (host, pid, at) in schedule {
            tree.schedule_pids.entry((host, pid)).or_default().push(at);
        }

        ends.sort_by_key(|e| e.0);
        for (at, host, g, pid) in ends {
            let by_guid = g.and_then(|g| tree.by_guid.get(&(host.clone(), guid_key(&g))).copied());
            let target = by_guid.or_else(|| tree.latest(&host, pid, at).filter(|&i| tree.nodes[i].end.is_none()));
            if let Some(i) = target {
                let node = &mut tree.nodes[i];
                node.end = Some(node.end.map_or(at, |e| e.min(at)));
            }
        }

        for i in 0..tree.nodes.len() {
            tree.nodes[i].parent = tree.find_parent(i);
        }
        tree.cut_cycles();
        for i in 0..tree.nodes.len() {
            if let Some(p) = tree.nodes[i].parent {
                tree.nodes[p].children.push(i);
            }
        }
        tree
    }

    /// The node an incoming creation event duplicates: the same Sysmon GUID, the same record of
    /// the same log (one event read from two exports), or a Sysmon 1 and a 4688 for the same
    /// pid and image within a second.
    fn same_creation(&self, host: &str, d: &Draft, logs: &[Vec<Log>]) -> Option<usize> {
        if let Some(g) = &d.node.guid
            && let Some(&i) = self.by_guid.get(&(host.to_string(), guid_key(g)))
        {
            return Some(i);
        }
        let list = self.by_pid.get(&(host.to_string(), d.node.pid))?;
        let image = base_name(&d.node.image);
        let record = d.record.to_string();
        let recent = list.iter().rev().copied();
        let mut recent = recent.take_while(|&i| self.nodes[i].start.ticks() >= d.node.start.ticks().saturating_sub(SAME_CREATION));
        recent.find(|&i| {
            let n = &self.nodes[i];
            let copy = n.start == d.node.start && logs[i].contains(&d.log) && n.evidence.rsplit(':').next() == Some(&record);
            let other_log = !logs[i].contains(&d.log) && (n.guid.is_none() || d.node.guid.is_none());
            copy || (other_log && base_name(&n.image) == image)
        })
    }

    fn merge(&mut self, i: usize, new: ProcessNode, prefer_new: bool) {
        let node = &mut self.nodes[i];
        fn fill<T>(old: &mut Option<T>, new: Option<T>, prefer_new: bool) {
            if new.is_some() && (prefer_new || old.is_none()) {
                *old = new;
            }
        }
        fill(&mut node.guid, new.guid, prefer_new);
        fill(&mut node.command_line, new.command_line, prefer_new);
        fill(&mut node.user, new.user, prefer_new);
        fill(&mut node.integrity, new.integrity, prefer_new);
        fill(&mut node.parent_image, new.parent_image, prefer_new);
        fill(&mut node.parent_command_line, new.parent_command_line, prefer_new);
        fill(&mut node.parent_pid, new.parent_pid, prefer_new);
        fill(&mut node.parent_guid, new.parent_guid, prefer_new);
        if node.image.is_empty() || (prefer_new && !new.image.is_empty()) {
            node.image = new.image;
        }
        if new.evidence != node.evidence && !node.other_evidence.contains(&new.evidence) {
            node.other_evidence.push(new.evidence);
        }
    }

    fn index_guid(&mut self, host: &str, i: usize) {
        if let Some(g) = &self.nodes[i].guid {
            self.by_guid.entry((host.to_string(), guid_key(g))).or_insert(i);
        }
    }

    /// The most recent creation of `pid` on `host` (lower-cased) at or before `at`.
    fn latest(&self, host: &str, pid: u64, at: Timestamp) -> Option<usize> {
        let list = self.by_pid.get(&(host.to_string(), pid))?;
        let n = list.partition_point(|&i| self.nodes[i].start <= at);
        n.checked_sub(1).map(|k| list[k])
    }

    fn find_parent(&self, i: usize) -> Option<usize> {
        let node = &self.nodes[i];
        let host = key(&node.host);
        if let Some(pg) = &node.parent_guid
            && let Some(&p) = self.by_guid.get(&(host.clone(), guid_key(pg)))
        {
            return (p != i).then_some(p);
        }
        let pp = node.parent_pid.filter(|&pp| pp != node.pid)?;
        let list = self.by_pid.get(&(host, pp))?;
        let n = list.partition_point(|&c| self.nodes[c].start <= node.start);
        let p = *list[..n].iter().rev().find(|&&c| c != i)?;
        let parent = &self.nodes[p];
        // A parent GUID that names no node means the process with this pid is someone else.
        let compatible = parent.guid.is_none() || node.parent_guid.is_none();
        let alive = parent.end.is_none_or(|e| e >= node.start);
        (compatible && alive).then_some(p)
    }

    /// Hostile data can make parents point in a circle; the link that closes one is cut.
    fn cut_cycles(&mut self) {
        // 0 unvisited, 1 on the current path, 2 done.
        let mut state = vec![0u8; self.nodes.len()];
        let mut path = Vec::new();
        for start in 0..self.nodes.len() {
            let mut i = start;
            while state[i] == 0 {
                state[i] = 1;
                path.push(i);
                match self.nodes[i].parent {
                    Some(p) if state[p] == 1 => {
                        self.nodes[i].parent = None;
                        break;
                    }
                    Some(p) => i = p,
                    None => break,
                }
            }
            for j in path.drain(..) {
                state[j] = 2;
            }
        }
    }

    /// Parent, grandparent, ... up to the root.
    pub fn ancestors(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut cur = self.nodes.get(i).and_then(|n| n.parent);
        while let Some(p) = cur {
            if out.len() >= self.nodes.len() || !seen.insert(p) || p == i {
                break;
            }
            out.push(p);
            cur = self.nodes.get(p).and_then(|n| n.parent);
        }
        out
    }

    /// Every process below `i`, depth-first (a child, its subtree, then the next child).
    pub fn descendants(&self, i: usize) -> Vec<usize> {
        self.walk(i, usize::MAX).into_iter().skip(1).map(|(n, _)| n).collect()
    }

    /// `(node, depth)` depth-first from `root` (included), each node at most once, depth capped.
    fn walk(&self, root: usize, max_depth: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        if root >= self.nodes.len() {
            return out;
        }
        // A set, not a bitmap over all nodes: the cost follows the subtree, not the tree.
        let mut seen = HashSet::new();
        let mut stack = vec![(root, 0usize)];
        while let Some((n, depth)) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            out.push((n, depth));
            if depth < max_depth {
                for &c in self.nodes[n].children.iter().rev() {
                    if c < self.nodes.len() && !seen.contains(&c) {
                        stack.push((c, depth + 1));
                    }
                }
            }
        }
        out
    }

    /// Whether the Task Scheduler started process `i`, judged by its parent node, or by what its
    /// creation event says of the parent (image, command line, pid) when that is not a node.
    pub fn launched_by_scheduler(&self, i: usize) -> Option<Launcher> {
        let node = self.nodes.get(i)?;
        match node.parent.and_then(|p| self.nodes.get(p)) {
            Some(p) => {
                let image = (!p.image.is_empty()).then_some(p.image.as_str());
                let command = p.command_line.as_deref().or(node.parent_command_line.as_deref());
                self.classify(&node.host, image, command, Some(p.pid), node.start)
            }
            None => {
                self.classify(&node.host, node.parent_image.as_deref(), node.parent_command_line.as_deref(), node.parent_pid, node.start)
            }
        }
    }

    fn classify(&self, host: &str, image: Option<&str>, command: Option<&str>, pid: Option<u64>, at: Timestamp) -> Option<Launcher> {
        let name = match (image, command) {
            (Some(i), _) => base_name(i),
            (None, Some(c)) => command_name(c),
            (None, None) => String::new(),
        };
        // Without an image, the command line's first token stands for it.
        let path = image.or_else(|| command.map(|c| c.trim().trim_start_matches('"').split(['"', ' ']).next().unwrap_or("")));
        match name.as_str() {
            "taskeng.exe" if in_system_folder(path, &name) => Some(Launcher::TaskEng),
            "taskhostw.exe" | "taskhostex.exe" | "taskhost.exe" if in_system_folder(path, &name) => Some(Launcher::TaskHostW),
            "svchost.exe" | "" if in_system_folder(path, "svchost.exe") => match command {
                Some(c) => (command_name(c) == "svchost.exe" && is_schedule_command(c)).then_some(Launcher::ScheduleService),
                None => pid.filter(|&p| self.is_schedule_pid(host, p, at)).map(|_| Launcher::ScheduleService),
            },
            _ => None,
        }
    }

    /// Whether `pid` on `host` was seen as the Schedule service with no other creation of that
    /// pid between the sighting and `at`.
    fn is_schedule_pid(&self, host: &str, pid: u64, at: Timestamp) -> bool {
        let host = key(host);
        let Some(times) = self.schedule_pids.get(&(host.clone(), pid)) else {
            return false;
        };
        let creations = self.by_pid.get(&(host, pid));
        times.iter().any(|&seen| {
            let (lo, hi) = if seen <= at { (seen, at) } else { (at, seen) };
            creations.is_none_or(|list| !list.iter().any(|&c| self.nodes[c].start > lo && self.nodes[c].start <= hi))
        })
    }

    /// The process that had `pid` on `host` at `at`: the most recent creation at or before `at`
    /// that had not exited by then.
    pub fn find(&self, host: &str, pid: u64, at: Timestamp) -> Option<usize> {
        self.find_within(host, pid, at, 0)
    }

    fn find_within(&self, host: &str, pid: u64, at: Timestamp, skew: i64) -> Option<usize> {
        let alive = |i: usize| self.nodes[i].end.is_none_or(|e| later(e, skew) >= at);
        let exact = key(host);
        if let Some(i) = self.latest(&exact, pid, later(at, skew)) {
            return alive(i).then_some(i);
        }
        // The same machine under its short name or FQDN.
        let mut best: Option<usize> = None;
        for h in self.hosts.get(short_host(&exact)).into_iter().flatten() {
            if *h != exact
                && same_host(h, host)
                && let Some(i) = self.latest(h, pid, later(at, skew))
                && best.is_none_or(|b| self.nodes[b].start < self.nodes[i].start)
            {
                best = Some(i);
            }
        }
        best.filter(|&i| alive(i))
    }

    /// An indented text tree below `root`: image, pid, start time and command line per line,
    /// control characters escaped. Levels deeper than [`MAX_RENDER_DEPTH`] are counted, not drawn.
    pub fn render(&self, root: usize) -> String {
        let mut out = String::new();
        for (n, depth) in self.walk(root, MAX_RENDER_DEPTH) {
            let node = &self.nodes[n];
            out.push_str(&"  ".repeat(depth));
            let image = if node.image.is_empty() { "<unknown image>" } else { &node.image };
            out.push_str(&format!("{} (pid {}) {}", terminal_safe(image), node.pid, node.start));
            if let Some(c) = &node.command_line {
                out.push_str(": ");
                out.push_str(&terminal_safe(c));
            }
            out.push('\n');
            if depth == MAX_RENDER_DEPTH && !node.children.is_empty() {
                let hidden = self.descendants(n).len();
                out.push_str(&format!("{}... {hidden} more processes below\n", "  ".repeat(depth + 1)));
            }
        }
        out
    }
}

/// A command line for comparison: lower case, quotes dropped, whitespace runs as one space.
fn normalize_command(c: &str) -> String {
    c.to_lowercase().replace('"', " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

fn task_key(name: &str) -> String {
    name.trim().trim_start_matches('\\').to_lowercase()
}

/// Of several definitions of one task, the last one known at `at` (or the first one).
fn pick(candidates: &[usize], tasks: &[(String, TaskDefinition)], at: Timestamp) -> Option<usize> {
    let known = candidates.iter().copied().filter(|&t| tasks[t].1.origin.time.is_none_or(|o| o <= at));
    known.max_by_key(|&t| tasks[t].1.origin.time).or_else(|| candidates.first().copied())
}

/// A task created (4698, TaskScheduler 106) after the process started cannot have started it.
fn created_after(task: &TaskDefinition, at: Timestamp) -> bool {
    matches!(task.origin.event_id, Some(4698 | 106)) && task.origin.time.is_some_and(|t| later(at, SCHEDULER_SKEW) < t)
}

/// Ties scheduler-launched processes to the tasks that ran them. First by TaskScheduler events on
/// the same host: 129 ("created task process": `TaskName`, `Path`, `ProcessID`) and 200/201
/// (action started / completed: `EnginePID`), with the task name taken from any event of the
/// same run (`ActivityID` = `TaskInstanceId`) when the event lacks it. Then, for processes no
/// event named, by the command line equal to a task's Exec action (case-insensitive, whitespace
/// normalized, quotes ignored) when the process was launched by the scheduler or its parent is
/// unknown. Returns `(node, task, why)`, ordered by node then task.
pub fn attach_tasks(tree: &ProcessTree, tasks: &[(String, TaskDefinition)], scheduler_events: &[&Event]) -> Vec<(usize, usize, String)> {
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    let mut named_nodes = HashSet::new();
    let events: Vec<&Event> = scheduler_events.iter().copied().filter(|e| log_of(e) == Log::Scheduler).collect();

    let run_ids = |e: &Event| -> Vec<String> {
        let mut ids: Vec<String> = ["TaskInstanceId", "InstanceId"].iter().filter_map(|f| text(e, f)).collect();
        ids.extend(e.system.get_str("Correlation_ActivityID").filter(|v| !v.is_null()).map(|v| v.to_text().into_owned()));
        ids.into_iter().map(|g| guid_key(&g)).filter(|g| !g.is_empty()).collect()
    };
    let mut run_task: HashMap<(String, String), String> = HashMap::new();
    for e in &events {
        if let Some(name) = text(e, "TaskName") {
            for id in run_ids(e) {
                run_task.entry((key(&e.computer), id)).or_insert_with(|| name.clone());
            }
        }
    }

    let mut ordered = events.clone();
    ordered.sort_by_key(|e| (e.timestamp, e.record_id));
    for e in ordered {
        let field = match e.event_id {
            129 => "ProcessID",
            200 | 201 => "EnginePID",
            _ => continue,
        };
        let Some(pid) = number(e, field).filter(|&p| p != 0) else {
            continue;
        };
        let name = text(e, "TaskName").or_else(|| run_ids(e).into_iter().find_map(|id| run_task.get(&(key(&e.computer), id)).cloned()));
        let Some(name) = name else { continue };
        let Some(node) = tree.find_within(&e.computer, pid, e.timestamp, SCHEDULER_SKEW) else {
            continue;
        };
        let n = &tree.nodes[node];
        // The Schedule service itself is no task's process.
        if n.command_line.as_deref().is_some_and(is_schedule_command) {
            continue;
        }
        if e.event_id == 129
            && let Some(path) = text(e, "Path")
            && !n.image.is_empty()
            && base_name(&path) != base_name(&n.image)
        {
            continue;
        }
        let same: Vec<usize> =
            (0..tasks.len()).filter(|&t| same_host(&tasks[t].0, &e.computer) && task_key(&tasks[t].1.name) == task_key(&name)).collect();
        let Some(t) = pick(&same, tasks, e.timestamp) else {
            continue;
        };
        named_nodes.insert(node);
        if !out.iter().any(|(a, b, _)| *a == node && *b == t) {
            let why = format!("TaskScheduler {} names pid {pid} for {}", e.event_id, tasks[t].1.name);
            out.push((node, t, terminal_safe(&why).into_owned()));
        }
    }

    let actions: Vec<(usize, String)> = tasks
        .iter()
        .enumerate()
        .flat_map(|(t, (_, task))| task.actions.iter().filter_map(move |a| a.command_line().map(|c| (t, normalize_command(&c)))))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    for (i, node) in tree.nodes.iter().enumerate() {
        if named_nodes.contains(&i) {
            continue;
        }
        let Some(command) = node.command_line.as_deref().map(normalize_command).filter(|c| !c.is_empty()) else {
            continue;
        };
        let launcher = tree.launched_by_scheduler(i);
        let parent_known = node.parent.is_some() || node.parent_image.is_some() || node.parent_command_line.is_some();
        if launcher.is_none() && parent_known {
            continue;
        }
        let mut matched: Vec<usize> = actions
            .iter()
            .filter(|(t, c)| *c == command && same_host(&tasks[*t].0, &node.host) && !created_after(&tasks[*t].1, node.start))
            .map(|(t, _)| *t)
            .collect();
        matched.dedup();
        // One definition per task name: the one in force when the process started.
        let mut names: Vec<String> = matched.iter().map(|&t| task_key(&tasks[t].1.name)).collect();
        names.sort();
        names.dedup();
        for name in names {
            let same: Vec<usize> = matched.iter().copied().filter(|&t| task_key(&tasks[t].1.name) == name).collect();
            if let Some(t) = pick(&same, tasks, node.start) {
                let why = match launcher {
                    Some(l) => format!("command line equals the task's action; launched by {l}"),
                    None => "command line equals the task's action; parent process unknown".to_string(),
                };
                out.push((i, t, why));
            }
        }
    }
    out.sort_by_key(|x| (x.0, x.1));
    out
}
