//! Task behaviour over time: what one task on one host did earlier in the data, and where it
//! departs from that — a different binary or arguments, a run at an hour of day never seen
//! for it, a run cadence that changed markedly, or a task name appearing on a host that had
//! been reporting for a while. Each departure is a [`BehaviourChange`] that becomes a scored
//! [`Reason`] on the task's incident (fleet-wide stack counting lives in `incident`).
//!
//! Histories are built from what the hunt already has: task records (definitions from
//! 4698/4702/Defender/schtasks, runs from TaskScheduler 100/107/110/119/129/200) and the
//! processes lineage attached to each task.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use taskhunt_events::Timestamp;
use taskhunt_tasks::lineage::ProcessNode;
use taskhunt_tasks::model::{Action, TaskDefinition, TriggerKind};
use taskhunt_tasks::score::{Context, Reason, ScoringConfig, score};
use taskhunt_tasks::sources::{TaskRecord, TaskState};

const SECOND: i64 = 10_000_000;
const HOUR_SECS: i64 = 3600;
const DAY_SECS: i64 = 86_400;

/// Thresholds and weights of the behaviour findings (see docs/tasks.md, "Behaviour over time").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BehaviourConfig {
    pub enabled: bool,
    /// `action_changed`: the task runs or registers a different binary or arguments.
    pub action_changed_weight: i32,
    /// Added when the new action has suspicious traits the old one lacked (a LOLBin, a
    /// user-writable path, encoded PowerShell, a URL or IP, msiexec from a URL).
    pub suspicious_action_bonus: i32,
    /// `new_run_hour`: a run at an hour of day (UTC) the task never ran at before.
    pub new_hour_weight: i32,
    /// Earlier runs needed before an hour can be new, and the distinct days they span.
    pub new_hour_min_runs: usize,
    pub new_hour_min_days: usize,
    /// The new hour must be at least this many hours (around the clock) from every earlier one,
    /// so that a task with a random delay drifting one hour over does not count.
    pub new_hour_min_distance: u32,
    /// `cadence_changed`: the median interval between runs before and after some run differs
    /// by `cadence_factor` or more, each side with at least `cadence_min_intervals` intervals.
    pub cadence_weight: i32,
    pub cadence_min_intervals: usize,
    pub cadence_factor: f64,
    /// `first_on_host`: a task created on a host that had already reported for
    /// `first_on_host_after_secs`; the weight when the name is rare in the fleet (or the fleet
    /// is small), and when it is common (a fleet-wide roll-out).
    pub first_on_host_weight: i32,
    pub first_on_host_common_weight: i32,
    pub first_on_host_after_secs: i64,
    /// TaskScheduler events and processes this close together are one run.
    pub run_merge_secs: i64,
    /// Behaviour alone is weak evidence: unless the task's other reasons add up to
    /// `corroboration_min` (or the new action is itself suspicious), the behaviour reasons
    /// together count for at most `uncorroborated_max`.
    pub corroboration_min: i32,
    pub uncorroborated_max: i32,
}

impl Default for BehaviourConfig {
    fn default() -> Self {
        BehaviourConfig {
            enabled: true,
            action_changed_weight: 20,
            suspicious_action_bonus: 15,
            new_hour_weight: 15,
            new_hour_min_runs: 5,
            new_hour_min_days: 2,
            new_hour_min_distance: 3,
            cadence_weight: 15,
            cadence_min_intervals: 3,
            cadence_factor: 4.0,
            first_on_host_weight: 10,
            first_on_host_common_weight: 5,
            first_on_host_after_secs: DAY_SECS,
            run_merge_secs: 30,
            corroboration_min: 10,
            uncorroborated_max: 10,
        }
    }
}

/// Where an action was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SightingSource {
    /// A task definition (4698, 4702, Defender, a schtasks command line).
    Definition,
    /// TaskScheduler 129/200: the image a run started (no arguments).
    ScheduledRun,
    /// A process lineage tied to the task: image and command line.
    Process,
}

impl SightingSource {
    fn words(self) -> &'static str {
        match self {
            SightingSource::Definition => "task definition",
            SightingSource::ScheduledRun => "TaskScheduler run",
            SightingSource::Process => "process of a run",
        }
    }
}

/// One observation of what a task runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionSighting {
    pub time: Timestamp,
    pub source: SightingSource,
    /// As written: command and arguments, or the image alone.
    pub shown: String,
    /// `file:record` of the evidence.
    pub evidence: String,
    binary_key: String,
    /// The whole command line normalised, when the sighting has arguments to compare.
    line_key: Option<String>,
}

/// Everything seen of one task on one host, in time.
#[derive(Debug, Clone, Default)]
pub struct TaskHistory {
    pub host: String,
    pub task_name: String,
    /// The earliest record, and whether it was the creation.
    pub first_seen: Option<(Timestamp, TaskState)>,
    pub actions: Vec<ActionSighting>,
    /// (time, run instance id) of every run-related record and attached process.
    run_points: Vec<(Timestamp, Option<String>)>,
    /// Triggers of the latest definition that has any, with its time.
    triggers: Option<(Timestamp, Vec<TriggerKind>)>,
}

/// What changed about a task.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum BehaviourChange {
    ActionChanged {
        from: String,
        from_source: SightingSource,
        from_last_seen: Timestamp,
        to: String,
        to_source: SightingSource,
        to_first_seen: Timestamp,
        /// Suspicious traits of the new action the old one lacked (score signal ids).
        new_signals: Vec<String>,
        evidence: String,
    },
    NewRunHour {
        at: Timestamp,
        hour: u32,
        usual_hours: Vec<u32>,
        earlier_runs: usize,
        earlier_days: usize,
    },
    CadenceChanged {
        before_secs: i64,
        before_intervals: usize,
        after_secs: i64,
        after_intervals: usize,
        /// The first run at the new cadence.
        since: Timestamp,
    },
    FirstOnHost {
        at: Timestamp,
        host_since: Timestamp,
        hosts_with_name: usize,
        fleet_hosts: usize,
    },
}

impl BehaviourChange {
    pub fn signal(&self) -> &'static str {
        match self {
            BehaviourChange::ActionChanged { .. } => "action_changed",
            BehaviourChange::NewRunHour { .. } => "new_run_hour",
            BehaviourChange::CadenceChanged { .. } => "cadence_changed",
            BehaviourChange::FirstOnHost { .. } => "first_on_host",
        }
    }

    /// Every signal id this module adds.
    pub const SIGNALS: [&'static str; 4] = ["action_changed", "new_run_hour", "cadence_changed", "first_on_host"];

    fn weight(&self, cfg: &BehaviourConfig) -> i32 {
        match self {
            BehaviourChange::ActionChanged { new_signals, .. } => {
                cfg.action_changed_weight + if new_signals.is_empty() { 0 } else { cfg.suspicious_action_bonus }
            }
            BehaviourChange::NewRunHour { .. } => cfg.new_hour_weight,
            BehaviourChange::CadenceChanged { .. } => cfg.cadence_weight,
            BehaviourChange::FirstOnHost { hosts_with_name, fleet_hosts, .. } => {
                if rare_in_fleet(*hosts_with_name, *fleet_hosts) {
                    cfg.first_on_host_weight
                } else {
                    cfg.first_on_host_common_weight
                }
            }
        }
    }

    fn detail(&self) -> String {
        match self {
            BehaviourChange::ActionChanged { from, from_source, from_last_seen, to, to_source, to_first_seen, new_signals, .. } => {
                let mut s = format!(
                    "action changed from \"{from}\" ({}, last seen {from_last_seen}) to \"{to}\" ({}, first seen {to_first_seen})",
                    from_source.words(),
                    to_source.words()
                );
                if !new_signals.is_empty() {
                    s.push_str(&format!("; the new action adds {}", new_signals.join(", ")));
                }
                s
            }
            BehaviourChange::NewRunHour { at, hour, usual_hours, earlier_runs, earlier_days } => format!(
                "ran at {at}, hour {hour:02} UTC; its {earlier_runs} earlier runs on {earlier_days} days were at hour(s) {}",
                usual_hours.iter().map(|h| format!("{h:02}")).collect::<Vec<_>>().join(", ")
            ),
            BehaviourChange::CadenceChanged { before_secs, before_intervals, after_secs, after_intervals, since } => format!(
                "runs every {} (median of {after_intervals} intervals) since {since}, every {} before (median of {before_intervals} intervals)",
                interval_words(*after_secs),
                interval_words(*before_secs)
            ),
            BehaviourChange::FirstOnHost { at, host_since, hosts_with_name, fleet_hosts } => format!(
                "task first seen on this host at {at} (created), {} after the host's telemetry began at {host_since}; the name is on {hosts_with_name} of {fleet_hosts} hosts",
                interval_words((at.ticks() - host_since.ticks()) / SECOND)
            ),
        }
    }
}

/// The stack-count test of `rare_task`: on at most one host in 20 of a fleet of 10 or more;
/// in a smaller fleet every name counts as rare.
fn rare_in_fleet(n: usize, fleet: usize) -> bool {
    fleet < 10 || n * 20 <= fleet
}

fn interval_words(secs: i64) -> String {
    let s = secs.max(0);
    if s < 120 {
        format!("{s} s")
    } else if s < 2 * HOUR_SECS {
        format!("{} min", (s + 30) / 60)
    } else if s < 2 * DAY_SECS {
        format!("{:.1} h", s as f64 / HOUR_SECS as f64)
    } else {
        format!("{:.1} days", s as f64 / DAY_SECS as f64)
    }
}

/// Histories of every task on every host in the data, and when each host began reporting.
#[derive(Debug, Default)]
pub struct Histories {
    tasks: HashMap<(String, String), TaskHistory>,
    host_since: HashMap<String, Timestamp>,
}

/// Hosts group by their first label, as the inventory groups them (`PC01` and
/// `PC01.example.corp` are one host).
pub(crate) fn host_key(host: &str) -> String {
    host.split('.').next().unwrap_or(host).to_ascii_lowercase()
}

impl Histories {
    /// Notes that `host` reported something at `at`.
    pub fn observe_host(&mut self, host: &str, at: Timestamp) {
        let since = self.host_since.entry(host_key(host)).or_insert(at);
        if at < *since {
            *since = at;
        }
    }

    pub fn host_since(&self, host: &str) -> Option<Timestamp> {
        self.host_since.get(&host_key(host)).copied()
    }

    fn entry(&mut self, host: &str, task: &str) -> &mut TaskHistory {
        self.tasks.entry((host_key(host), task.to_ascii_lowercase())).or_insert_with(|| TaskHistory {
            host: host.to_string(),
            task_name: task.to_string(),
            ..TaskHistory::default()
        })
    }

    pub fn add_record(&mut self, r: &TaskRecord) {
        let Some(time) = r.time else { return };
        let h = self.entry(&r.host, &r.name);
        if h.first_seen.is_none_or(|f| (time, r.state) < f) {
            h.first_seen = Some((time, r.state));
        }
        if r.state == TaskState::SeenRunning {
            let run = r.run.as_ref();
            h.run_points.push((time, run.and_then(|i| i.instance_id.as_ref()).map(|s| s.to_ascii_lowercase())));
            // 200's ActionName is a CLSID or handler name for COM actions: only image paths count.
            if let Some(image) = run.and_then(|i| i.action.as_deref()).filter(|a| looks_like_image(a)) {
                h.actions.push(sighting(time, SightingSource::ScheduledRun, image, None, &r.evidence));
            }
        }
        if let Some(def) = &r.definition {
            for a in &def.actions {
                if let Action::Exec { command, .. } = a {
                    let line = a.command_line().unwrap_or_default();
                    h.actions.push(sighting(time, SightingSource::Definition, command, Some(&line), &r.evidence));
                }
            }
            if !def.triggers.is_empty() && h.triggers.as_ref().is_none_or(|(t, _)| time >= *t) {
                h.triggers = Some((time, def.triggers.iter().map(|t| t.kind).collect()));
            }
        }
    }

    /// A process that lineage tied to the task: one run, and what it ran.
    pub fn add_process(&mut self, host: &str, task: &str, node: &ProcessNode) {
        let h = self.entry(host, task);
        h.run_points.push((node.start, None));
        // COM-handler tasks run in the task host; that process is not the task's action.
        let leaf = file_leaf(&node.image).to_ascii_lowercase();
        if node.image.is_empty() || ["taskhostw.exe", "taskhost.exe", "taskhostex.exe", "taskeng.exe"].contains(&leaf.as_str()) {
            return;
        }
        h.actions.push(sighting(node.start, SightingSource::Process, &node.image, node.command_line.as_deref(), &node.evidence));
    }

    pub fn get(&self, host: &str, task: &str) -> Option<&TaskHistory> {
        self.tasks.get(&(host_key(host), task.to_ascii_lowercase()))
    }
}

fn looks_like_image(s: &str) -> bool {
    let l = s.trim().to_ascii_lowercase();
    !l.starts_with('{') && (l.contains('\\') || l.ends_with(".exe"))
}

fn file_leaf(p: &str) -> &str {
    p.rsplit(['\\', '/']).next().unwrap_or(p)
}

fn sighting(time: Timestamp, source: SightingSource, binary: &str, line: Option<&str>, evidence: &str) -> ActionSighting {
    ActionSighting {
        time,
        source,
        shown: line.unwrap_or(binary).to_string(),
        evidence: evidence.to_string(),
        binary_key: normalise(binary),
        line_key: line.map(normalise),
    }
}

/// A command or path as compared: lower case, quotes dropped, whitespace collapsed, the usual
/// environment variables expanded, a user's profile folder made any user's, SysWOW64 and
/// Sysnative read as System32, and version-number path segments replaced by `<ver>`.
///
/// The version segments matter because updaters install each release in a folder named after
/// it (`C:\Program Files\Google\Update\1.3.36.152\GoogleUpdate.exe`, Defender's
/// `Platform\4.18.24010.12-0\MpCmdRun.exe`, `app-1.0.9003`) and rewrite their task to point
/// there: without this every update would read as a changed action. Only segments between
/// backslashes are touched, so a URL's host (`http://10.1.2.3/`) still compares exactly.
pub fn normalise(s: &str) -> String {
    let mut t = s.to_ascii_lowercase().replace('"', "");
    for (var, value) in [
        ("%windir%", "c:\\windows"),
        ("%systemroot%", "c:\\windows"),
        ("%systemdrive%", "c:"),
        ("%programfiles(x86)%", "c:\\program files (x86)"),
        ("%programfiles%", "c:\\program files"),
        ("%programw6432%", "c:\\program files"),
        ("%programdata%", "c:\\programdata"),
        ("%allusersprofile%", "c:\\programdata"),
        ("%localappdata%", "c:\\users\\*\\appdata\\local"),
        ("%appdata%", "c:\\users\\*\\appdata\\roaming"),
        ("%userprofile%", "c:\\users\\*"),
        ("%temp%", "c:\\users\\*\\appdata\\local\\temp"),
        ("%tmp%", "c:\\users\\*\\appdata\\local\\temp"),
        ("\\syswow64\\", "\\system32\\"),
        ("\\sysnative\\", "\\system32\\"),
    ] {
        if t.contains(var) {
            t = t.replace(var, value);
        }
    }
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut parts: Vec<String> = t.split('\\').map(str::to_string).collect();
    for i in 0..parts.len() {
        if i > 0 && parts[i - 1].ends_with("users") && i + 1 < parts.len() && !parts[i].contains(' ') {
            parts[i] = "*".into();
        } else if i + 1 < parts.len() && is_version(&parts[i]) {
            parts[i] = "<ver>".into();
        }
    }
    parts.join("\\")
}

/// `1.3.36.152`, `4.18.24010.12-0`, `v1.0`, `app-1.0.9003`: digit groups with at least one dot,
/// after an optional `v` or a word ending in `-` or `_`.
fn is_version(seg: &str) -> bool {
    let rest = match seg.find(|c: char| c.is_ascii_digit()) {
        Some(0) => seg,
        Some(i) => {
            let prefix = &seg[..i];
            let ok = prefix == "v"
                || (prefix.len() > 1 && prefix.ends_with(['-', '_']) && prefix[..i - 1].chars().all(|c| c.is_ascii_alphabetic()));
            if !ok {
                return false;
            }
            &seg[i..]
        }
        None => return false,
    };
    rest.contains('.')
        && rest.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
        && rest.split(['.', '-', '_']).filter(|g| !g.is_empty()).count() >= 2
        && rest.starts_with(|c: char| c.is_ascii_digit())
}

fn same_binary(a: &str, b: &str) -> bool {
    // `powershell.exe` as a task writes it and the image the scheduler started: a bare name
    // compares by name only.
    if !a.contains('\\') || !b.contains('\\') {
        let leaf = |s: &str| {
            let l = file_leaf(s);
            l.strip_suffix(".exe").unwrap_or(l).to_string()
        };
        return leaf(a) == leaf(b);
    }
    a == b
}

/// Whether two command lines can be compared: a definition's unexpanded `%VAR%` cannot be
/// told from the expanded line of a process.
fn comparable(a: &ActionSighting, b: &ActionSighting) -> bool {
    match (&a.line_key, &b.line_key) {
        (Some(x), Some(y)) => x == y || !((x.contains('%') || y.contains('%')) && a.source != b.source),
        _ => false,
    }
}

impl TaskHistory {
    /// Run start times, the records of one run merged: they share an instance id, or (without
    /// one) fall within `merge_secs` of the run's first record.
    pub fn runs(&self, merge_secs: i64) -> Vec<Timestamp> {
        let mut points = self.run_points.clone();
        points.sort();
        let mut runs: Vec<(Timestamp, Option<String>)> = Vec::new();
        for (t, id) in points {
            if let Some((start, run_id)) = runs.last_mut() {
                let close = t.ticks() - start.ticks() <= merge_secs * SECOND;
                let other_instance = matches!((&id, &*run_id), (Some(a), Some(b)) if a != b);
                if close && !other_instance {
                    if run_id.is_none() {
                        *run_id = id;
                    }
                    continue;
                }
            }
            runs.push((t, id));
        }
        runs.into_iter().map(|(t, _)| t).collect()
    }

    /// Whether the task runs by the clock: its latest triggers are all time or calendar
    /// triggers (unknown triggers count as the clock). Logon, boot, idle and event triggers
    /// follow people and machines, so their hour of day says nothing.
    fn clock_driven(&self) -> bool {
        self.triggers.as_ref().is_none_or(|(_, kinds)| {
            kinds.iter().all(|k| {
                matches!(
                    k,
                    TriggerKind::Time | TriggerKind::Daily | TriggerKind::Weekly | TriggerKind::Monthly | TriggerKind::MonthlyDayOfWeek
                )
            })
        })
    }
}

/// Everything notable in one task's history. `stack` is (hosts with the task name, hosts in
/// the data).
pub fn analyse(
    h: &TaskHistory,
    host_since: Option<Timestamp>,
    stack: (usize, usize),
    cfg: &BehaviourConfig,
    scoring: &ScoringConfig,
) -> Vec<BehaviourChange> {
    if !cfg.enabled {
        return Vec::new();
    }
    let mut out = action_changes(&h.actions, cfg.run_merge_secs, scoring);
    let runs = h.runs(cfg.run_merge_secs);
    if h.clock_driven()
        && let Some(c) = new_run_hour(&runs, cfg)
    {
        out.push(c);
    }
    if let Some(c) = cadence_change(&runs, cfg) {
        out.push(c);
    }
    if let (Some((at, TaskState::Created)), Some(since)) = (h.first_seen, host_since)
        && at.ticks() - since.ticks() >= cfg.first_on_host_after_secs * SECOND
    {
        out.push(BehaviourChange::FirstOnHost { at, host_since: since, hosts_with_name: stack.0, fleet_hosts: stack.1 });
    }
    out
}

/// Action-related score signals that make a new action worse than the old one.
const ACTION_SIGNALS: [&str; 5] = ["user_writable_path", "encoded_powershell", "lolbin", "msiexec_url", "url_or_ip"];

fn action_signals(s: &ActionSighting, scoring: &ScoringConfig) -> BTreeSet<String> {
    // A version folder (`\1.3.36.152\`) reads as a dotted-quad IP to the scorer.
    let parts: Vec<&str> = s.shown.split('\\').collect();
    let last = parts.len().saturating_sub(1);
    let shown: Vec<&str> = parts.iter().enumerate().map(|(i, p)| if i < last && is_version(p) { "ver" } else { p }).collect();
    let def = TaskDefinition {
        actions: vec![Action::Exec { command: shown.join("\\"), arguments: None, working_directory: None }],
        ..TaskDefinition::default()
    };
    score(&def, &Context::default(), scoring)
        .reasons
        .into_iter()
        .map(|r| r.signal)
        .filter(|s| ACTION_SIGNALS.contains(&s.as_str()))
        .collect()
}

/// Known values (by index into `known`, within `range`) that a sighting matches, and the ones
/// it should be reported against when it matches none.
struct Judgement {
    matching: Vec<usize>,
    /// Whether some known line could be compared with the sighting's own line.
    compared: bool,
    /// Where to take the old value from: comparable lines, any lines of the binary, anything.
    pool: Vec<usize>,
}

fn judge(known: &[(&ActionSighting, Timestamp)], range: std::ops::Range<usize>, s: &ActionSighting) -> Judgement {
    let candidates: Vec<usize> = range.clone().filter(|&i| same_binary(&known[i].0.binary_key, &s.binary_key)).collect();
    let with_line: Vec<usize> = candidates.iter().copied().filter(|&i| known[i].0.line_key.is_some()).collect();
    // A line is judged against the known lines it can be compared with; only when there are
    // none does an incomparable one (or a bare binary) vouch for it.
    let exact: Vec<usize> = with_line.iter().copied().filter(|&i| comparable(known[i].0, s)).collect();
    let matching: Vec<usize> = match (&s.line_key, exact.is_empty(), with_line.is_empty()) {
        (Some(line), false, _) => exact.iter().copied().filter(|&i| known[i].0.line_key.as_ref() == Some(line)).collect(),
        (Some(_), true, false) => with_line.clone(),
        _ => candidates,
    };
    let compared = !exact.is_empty();
    let pool = [exact, with_line, range.collect()].into_iter().find(|p| !p.is_empty()).unwrap_or_default();
    Judgement { matching, compared, pool }
}

/// Values first seen after another value was established. Sightings are taken a group at a
/// time — the records of one registration (a schtasks command line, its 4698) or of one run
/// (TaskScheduler events and the process), which fall within `merge_secs` — because a task
/// with two actions shows both in one group, and neither is a change of the other.
fn action_changes(sightings: &[ActionSighting], merge_secs: i64, scoring: &ScoringConfig) -> Vec<BehaviourChange> {
    let mut all: Vec<&ActionSighting> = sightings.iter().collect();
    all.sort_by_key(|s| (s.time, s.source));
    let mut groups: Vec<Vec<&ActionSighting>> = Vec::new();
    for s in all {
        match groups.last_mut() {
            Some(g) if s.time.ticks() - g[0].time.ticks() <= merge_secs * SECOND => g.push(s),
            _ => groups.push(vec![s]),
        }
    }
    // Distinct values seen so far, each with when it was last seen.
    let mut known: Vec<(&ActionSighting, Timestamp)> = Vec::new();
    let mut out = Vec::new();
    for g in groups {
        let before = known.len();
        // One registration seen twice (a schtasks command line and its 4698) may be split and
        // quoted differently: a definition whose binary another definition of the group
        // confirms is not a change.
        let confirmed: Vec<&str> = g
            .iter()
            .filter(|s| s.source == SightingSource::Definition && !judge(&known, 0..before, s).matching.is_empty())
            .map(|s| s.binary_key.as_str())
            .collect();
        for s in g {
            let j = judge(&known, 0..before, s);
            let confirmed = s.source == SightingSource::Definition && confirmed.iter().any(|b| same_binary(b, &s.binary_key));
            if confirmed && j.matching.is_empty() {
                continue;
            }
            if !j.matching.is_empty() {
                for &i in &j.matching {
                    known[i].1 = known[i].1.max(s.time);
                }
                // Vouched for without a comparable line: keep it as the reference for later
                // lines of its kind.
                if s.line_key.is_some() && !j.compared {
                    known.push((s, s.time));
                }
                continue;
            }
            // New in this group: the same new value seen again in the group is one change.
            let again = judge(&known, before..known.len(), s);
            if before > 0 && again.matching.is_empty() {
                // The old value: for an argument change the same binary's, else the most
                // recently seen one; a sighting with arguments shows more than one without.
                let from = j.pool.iter().copied().max_by_key(|&i| (known[i].0.line_key.is_some(), known[i].1));
                let (old, last) = known[from.expect("values are known before this group")];
                let old_signals = action_signals(old, scoring);
                let new_signals = action_signals(s, scoring).into_iter().filter(|x| !old_signals.contains(x)).collect();
                out.push(BehaviourChange::ActionChanged {
                    from: old.shown.clone(),
                    from_source: old.source,
                    from_last_seen: last,
                    to: s.shown.clone(),
                    to_source: s.source,
                    to_first_seen: s.time,
                    new_signals,
                    evidence: s.evidence.clone(),
                });
            }
            known.push((s, s.time));
        }
    }
    out
}

fn utc_hour(t: Timestamp) -> u32 {
    (t.unix_seconds().rem_euclid(DAY_SECS) / HOUR_SECS) as u32
}

fn utc_day(t: Timestamp) -> i64 {
    t.unix_seconds().div_euclid(DAY_SECS)
}

/// The first run at an hour of day far from every hour the task ran at before, once it has
/// `new_hour_min_runs` earlier runs on `new_hour_min_days` days.
fn new_run_hour(runs: &[Timestamp], cfg: &BehaviourConfig) -> Option<BehaviourChange> {
    let mut hours: BTreeSet<u32> = BTreeSet::new();
    let mut days: BTreeSet<i64> = BTreeSet::new();
    for (i, &t) in runs.iter().enumerate() {
        let hour = utc_hour(t);
        if i >= cfg.new_hour_min_runs.max(1) && days.len() >= cfg.new_hour_min_days && !hours.contains(&hour) {
            let distance = hours.iter().map(|&h| h.abs_diff(hour).min(24 - h.abs_diff(hour))).min().unwrap_or(24);
            if distance >= cfg.new_hour_min_distance {
                return Some(BehaviourChange::NewRunHour {
                    at: t,
                    hour,
                    usual_hours: hours.into_iter().collect(),
                    earlier_runs: i,
                    earlier_days: days.len(),
                });
            }
        }
        hours.insert(hour);
        days.insert(utc_day(t));
    }
    None
}

fn median(v: &[i64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_unstable();
    let n = s.len();
    if n % 2 == 1 { s[n / 2] as f64 } else { (s[n / 2 - 1] + s[n / 2]) as f64 / 2.0 }
}

/// The split of the run intervals where the medians before and after differ the most, if
/// they differ by `cadence_factor` or more.
fn cadence_change(runs: &[Timestamp], cfg: &BehaviourConfig) -> Option<BehaviourChange> {
    let m = cfg.cadence_min_intervals.max(1);
    let intervals: Vec<i64> = runs.windows(2).map(|w| (w[1].ticks() - w[0].ticks()) / SECOND).collect();
    if intervals.len() < 2 * m {
        return None;
    }
    let ratio = |a: f64, b: f64| if a > b { a / b } else { b / a };
    let medians = |k: usize| (median(&intervals[..k]).max(1.0), median(&intervals[k..]).max(1.0));
    let mut best: Option<(f64, usize)> = None;
    for k in m..=intervals.len() - m {
        let (b, a) = medians(k);
        if best.is_none_or(|(r, _)| ratio(b, a) > r) {
            best = Some((ratio(b, a), k));
        }
    }
    let (_, k) = best?;
    // Several splits share the largest ratio, and the interval at the true split bridges both
    // cadences: the new cadence starts at the first run whose following interval is close to
    // the new median, and the medians are taken again either side of it.
    let after = medians(k).1;
    let split = (k..intervals.len()).find(|&i| ratio(intervals[i].max(1) as f64, after) <= 2.0)?;
    if split < m || intervals.len() - split < m {
        return None;
    }
    let (before, after) = medians(split);
    if ratio(before, after) < cfg.cadence_factor {
        return None;
    }
    Some(BehaviourChange::CadenceChanged {
        before_secs: before.round() as i64,
        before_intervals: split,
        after_secs: after.round() as i64,
        after_intervals: intervals.len() - split,
        since: runs[split],
    })
}

/// Adds the behaviour reasons to a task's other reasons. Behaviour alone is weak evidence
/// (admins move jobs, vendors re-point updaters): unless the other reasons reach
/// `corroboration_min` or a new action is itself suspicious, the behaviour reasons together
/// count for at most `uncorroborated_max`, and say so. A task an administrator created at a
/// console with ordinary tools (`human_admin`) is new on its host for that very reason, so it
/// gets no `first_on_host`.
pub fn apply(reasons: &mut Vec<Reason>, changes: &[BehaviourChange], cfg: &BehaviourConfig) {
    let by_admin = reasons.iter().any(|r| r.signal == "human_admin");
    let changes: Vec<&BehaviourChange> =
        changes.iter().filter(|c| !(by_admin && matches!(c, BehaviourChange::FirstOnHost { .. }))).collect();
    let other: i32 = reasons.iter().map(|r| r.weight).sum();
    let suspicious = changes.iter().any(|c| matches!(c, BehaviourChange::ActionChanged { new_signals, .. } if !new_signals.is_empty()));
    let corroborated = other >= cfg.corroboration_min || suspicious;
    let mut budget = cfg.uncorroborated_max.max(0);
    for signal in BehaviourChange::SIGNALS {
        let mut of: Vec<&BehaviourChange> = changes.iter().copied().filter(|c| c.signal() == signal).collect();
        // The worst of several action changes leads.
        of.sort_by_key(|c| std::cmp::Reverse(c.weight(cfg)));
        let Some(first) = of.first() else { continue };
        let mut weight = first.weight(cfg);
        let mut detail = first.detail();
        if of.len() > 1 {
            detail.push_str(&format!(" (and {} more such change(s))", of.len() - 1));
        }
        if !corroborated {
            let capped = weight.min(budget).max(0);
            if capped < weight {
                detail.push_str(&format!("; counted {capped} of {weight}: no other evidence against this task"));
            }
            budget -= capped;
            weight = capped;
        }
        if !reasons.iter().any(|r| r.signal == signal) {
            reasons.push(Reason { signal: signal.into(), weight, detail });
        }
    }
}

#[cfg(test)]
mod tests;
