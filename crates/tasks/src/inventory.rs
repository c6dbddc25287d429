//! The task inventory: one entry per task per host across all evidence, scored, and audited
//! against a saved baseline (new, changed — which parts — and vanished tasks).

use crate::describe::{actions_words, triggers_words};
use crate::model::TaskDefinition;
use crate::score::{Context, Score, ScoringConfig, score};
use crate::sources::{TaskRecord, TaskState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use taskhunt_events::{Event, Timestamp, Value};

/// Logons and share accesses that tell a task was created over the network: a 4624 of type 3
/// and a 5145 on `IPC$\atsvc` with the logon id the task event carries.
#[derive(Debug, Default)]
pub struct RemoteEvidence {
    /// Per host: CLSID (lowercase, braced) → evidence of a per-user `InprocServer32` or
    /// `LocalServer32` registration, which shadows the machine's COM class for that user (a
    /// COM-handler task then loads the attacker's DLL).
    com_overrides: HashMap<(String, String), String>,
    network_logons: HashMap<(String, u64), String>,
    /// Per host: (time, logon id, evidence) of each 5145 on IPC$\atsvc.
    atsvc: HashMap<String, Vec<(Timestamp, Option<u64>, String)>>,
}

/// An ATSVC pipe access this close before a task registration is taken as its transport even
/// when the logon ids differ (Impacket's atexec binds the pipe in one SMB session and the
/// registration arrives in another).
const ATSVC_WINDOW_TICKS: i64 = 60 * 10_000_000;

fn logon_id(v: Option<&Value>) -> Option<u64> {
    v.and_then(Value::as_u64)
}

impl RemoteEvidence {
    pub fn add(&mut self, e: &Event) {
        if &*e.channel == "Microsoft-Windows-Sysmon/Operational" && matches!(e.event_id, 12 | 13) {
            self.add_com_override(e);
            return;
        }
        if &*e.channel != "Security" {
            return;
        }
        let host = e.computer.to_ascii_lowercase();
        match e.event_id {
            4624 if e.fields.get_str("LogonType").and_then(Value::as_i64) == Some(3) => {
                if let Some(id) = logon_id(e.fields.get_str("TargetLogonId")) {
                    let ip = e.text("IpAddress").map(|s| s.into_owned()).unwrap_or_else(|| "?".into());
                    self.network_logons.insert((host, id), format!("network logon (4624 type 3) from {ip} [{}]", e.report_id()));
                }
            }
            5145 => {
                let share = e.text("ShareName").unwrap_or_default().to_ascii_lowercase();
                let target = e.text("RelativeTargetName").unwrap_or_default().to_ascii_lowercase();
                if share.ends_with("ipc$") && target == "atsvc" {
                    let ip = e.text("IpAddress").map(|s| s.into_owned()).unwrap_or_else(|| "?".into());
                    let id = logon_id(e.fields.get_str("SubjectLogonId"));
                    self.atsvc.entry(host).or_default().push((
                        e.timestamp,
                        id,
                        format!("ATSVC pipe opened over IPC$ from {ip} (5145) [{}]", e.report_id()),
                    ));
                }
            }
            _ => {}
        }
    }

    fn add_com_override(&mut self, e: &Event) {
        let Some(target) = e.text("TargetObject") else { return };
        let lower = target.to_ascii_lowercase();
        // HKU\<sid>\Software\Classes\CLSID\{...}\InprocServer32 (or ..._Classes\CLSID\...).
        let per_user = lower.starts_with("hku\\") || lower.starts_with("hkcu\\") || lower.starts_with("hkey_users\\");
        let Some(at) = lower.find("\\clsid\\{") else { return };
        if !per_user || !(lower.contains("\\inprocserver32") || lower.contains("\\localserver32")) {
            return;
        }
        let rest = &lower[at + 7..];
        let Some(end) = rest.find('}') else { return };
        let clsid = rest[..=end].to_string();
        let details = e.text("Details").map(|d| d.into_owned()).unwrap_or_default();
        self.com_overrides
            .entry((e.computer.to_ascii_lowercase(), clsid))
            .or_insert_with(|| format!("per-user COM registration {target} = {details} [{}]", e.report_id()));
    }

    /// Evidence that a COM class a task uses was re-pointed for a user on this host.
    pub fn com_hijack(&self, host: &str, clsid: &str) -> Option<String> {
        let c = clsid.trim().to_ascii_lowercase();
        let c = if c.starts_with('{') { c } else { format!("{{{c}}}") };
        self.com_overrides.get(&(host.to_ascii_lowercase(), c)).cloned()
    }

    /// Evidence that the task was created remotely: a network logon with the task event's logon
    /// id, and an ATSVC pipe access with that logon id or just before the registration.
    pub fn for_task(&self, host: &str, logon: Option<&str>, at: Option<Timestamp>) -> Option<String> {
        let id = logon.and_then(|l| Value::from(l).as_u64());
        let mut parts: Vec<String> = Vec::new();
        if let Some(id) = id
            && let Some(l) = self.network_logons.get(&(host.to_string(), id))
        {
            parts.push(l.clone());
        }
        let pipe = self.atsvc.get(host).and_then(|v| {
            v.iter().find(|(t, pid, _)| {
                (id.is_some() && *pid == id) || at.is_some_and(|at| *t <= at && at.ticks() - t.ticks() <= ATSVC_WINDOW_TICKS)
            })
        });
        if let Some((t, _, ev)) = pipe {
            let when = at.map(|at| format!(", {:.1} s before the registration", (at.ticks() - t.ticks()) as f64 / 1e7)).unwrap_or_default();
            parts.push(format!("{ev}{when}"));
        }
        if parts.is_empty() {
            return None;
        }
        Some(match id {
            Some(id) => format!("logon id {id:#x}: {}", parts.join("; ")),
            None => parts.join("; "),
        })
    }
}

/// One task on one host.
#[derive(Debug, Clone, Serialize)]
pub struct TaskEntry {
    pub host: String,
    pub task_name: String,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// The latest state seen (created, updated, deleted, seen running, present).
    pub state: TaskState,
    pub history: Vec<(Option<Timestamp>, TaskState, String)>,
    pub created_by: Option<String>,
    pub principal: Option<String>,
    pub run_level: Option<String>,
    pub hidden: bool,
    pub triggers: String,
    pub actions: String,
    pub runs: usize,
    pub definition: Option<TaskDefinition>,
    pub score: u32,
    pub severity: crate::score::Severity,
    pub reasons: Vec<crate::score::Reason>,
    pub problems: Vec<String>,
}

/// Resolves the image of the process that created a task (host, pid, time), e.g. through a
/// process tree.
pub type ProcessResolver<'a> = dyn Fn(&str, u64, Timestamp) -> Option<String> + 'a;

pub fn build(records: Vec<TaskRecord>, remote: &RemoteEvidence, resolve: &ProcessResolver, cfg: &ScoringConfig) -> Vec<TaskEntry> {
    let mut groups: BTreeMap<(String, String), Vec<TaskRecord>> = BTreeMap::new();
    for r in records {
        // A collected folder names the host `PC01`, its events `PC01.example.corp`: group by
        // the first label so both land in one entry.
        let short = r.host.split('.').next().unwrap_or(&r.host).to_ascii_lowercase();
        groups.entry((short, r.name.to_ascii_lowercase())).or_default().push(r);
    }
    let mut out = Vec::new();
    for (_, mut recs) in groups {
        recs.sort_by_key(|r| (r.time, r.state));
        let first = &recs[0];
        // Prefer the fully qualified name for display.
        let host = recs.iter().find(|r| r.host.contains('.')).unwrap_or(first).host.clone();
        let last = &recs[recs.len() - 1];
        // The latest full definition wins; a deletion's 4699 still carries the content.
        let definition = recs
            .iter()
            .rev()
            .find_map(|r| r.definition.clone().filter(|d| !d.actions.is_empty() || !d.triggers.is_empty()))
            .or_else(|| recs.iter().rev().find_map(|r| r.definition.clone()));
        let created = recs.iter().find(|r| r.state == TaskState::Created);
        let deleted = recs.iter().rev().find(|r| r.state == TaskState::Deleted);
        let mut ctx = Context::default();
        if let (Some(c), Some(d)) = (created.and_then(|c| c.time), deleted.and_then(|d| d.time))
            && d >= c
        {
            ctx.deleted_after = Some((d.ticks() - c.ticks()) / 10_000_000);
        }
        let origin_def =
            recs.iter().find_map(|r| r.definition.as_ref().filter(|d| d.origin.account.is_some() || d.origin.logon_id.is_some()));
        ctx.remote = recs.iter().filter_map(|r| r.definition.as_ref()).find_map(|d| {
            remote.for_task(&first.host.to_ascii_lowercase(), d.origin.logon_id.as_deref(), d.origin.time).or_else(|| {
                (d.origin.remote == Some(true)).then(|| match &d.origin.host {
                    Some(from) if !from.eq_ignore_ascii_case(&first.host) => format!("created from {from}"),
                    _ => "registered by a remote RPC client".to_string(),
                })
            })
        });
        ctx.com_hijack = definition.as_ref().and_then(|d| {
            d.actions.iter().find_map(|a| match a {
                crate::model::Action::ComHandler { class_id, .. } => remote.com_hijack(&first.host, class_id),
                _ => None,
            })
        });
        ctx.creating_process = recs.iter().filter_map(|r| r.definition.as_ref()).find_map(|d| {
            d.origin.process.clone().or_else(|| {
                let pid = d.origin.process_id?;
                resolve(d.origin.host.as_deref().unwrap_or(&first.host), pid, d.origin.time?)
            })
        });
        let scored: Score = match &definition {
            Some(def) => score(def, &ctx, cfg),
            None => score(&TaskDefinition { name: first.name.clone(), ..TaskDefinition::default() }, &ctx, cfg),
        };
        let def = definition.as_ref();
        out.push(TaskEntry {
            host: host.clone(),
            task_name: first.name.clone(),
            first_seen: recs.iter().filter_map(|r| r.time).min(),
            last_seen: recs.iter().filter_map(|r| r.time).max(),
            state: if recs.iter().any(|r| r.state == TaskState::Deleted) && last.state == TaskState::Deleted {
                TaskState::Deleted
            } else {
                last.state
            },
            history: recs.iter().map(|r| (r.time, r.state, r.evidence.clone())).collect(),
            created_by: origin_def.and_then(|d| d.origin.account.clone()),
            principal: def.and_then(|d| d.principal.user_id.clone().or_else(|| d.principal.group_id.clone())),
            run_level: def.and_then(|d| d.principal.run_level.clone()),
            hidden: def.is_some_and(|d| d.settings.hidden),
            triggers: def.map(triggers_words).unwrap_or_default(),
            actions: def.map(actions_words).unwrap_or_default(),
            runs: recs.iter().filter(|r| r.state == TaskState::SeenRunning).count(),
            definition,
            score: scored.score,
            severity: scored.severity,
            reasons: scored.reasons,
            problems: recs.iter().filter_map(|r| r.problem.clone()).collect(),
        });
    }
    sort(&mut out);
    out
}

/// The inventory's order: highest score first, then by host and name (for inventories built
/// in parts, a group of hosts at a time, once more over all of them).
pub fn sort(entries: &mut [TaskEntry]) {
    entries.sort_by(|a, b| b.score.cmp(&a.score).then(a.host.cmp(&b.host)).then(a.task_name.cmp(&b.task_name)));
}

/// The scored inventory of every task the events show: records from each event, remote
/// creation evidence, and creating processes resolved through the process tree.
pub fn from_events(events: &[Event], cfg: &ScoringConfig) -> Vec<TaskEntry> {
    from_events_and_records(events, Vec::new(), cfg)
}

/// [`from_events`] plus records read from task files and exports (`files::read_task_file`).
pub fn from_events_and_records(events: &[Event], extra: Vec<TaskRecord>, cfg: &ScoringConfig) -> Vec<TaskEntry> {
    let mut remote = RemoteEvidence::default();
    let mut records = extra;
    for e in events {
        remote.add(e);
        records.extend(crate::sources::records_from_event(e));
    }
    let tree = crate::lineage::ProcessTree::build(events.iter());
    let resolve = |host: &str, pid: u64, at: Timestamp| tree.find(host, pid, at).map(|i| tree.nodes[i].image.clone());
    build(records, &remote, &resolve, cfg)
}

/// The parts of a task an audit compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineTask {
    pub host: String,
    pub task_name: String,
    pub principal: Option<String>,
    pub run_level: Option<String>,
    pub hidden: bool,
    pub triggers: String,
    pub actions: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub tasks: Vec<BaselineTask>,
}

impl Baseline {
    /// Tasks present at the end of the evidence (deleted ones are not part of a baseline).
    pub fn from_inventory(entries: &[TaskEntry]) -> Baseline {
        let mut tasks: Vec<BaselineTask> = entries
            .iter()
            .filter(|e| e.state != TaskState::Deleted)
            .map(|e| BaselineTask {
                host: e.host.clone(),
                task_name: e.task_name.clone(),
                principal: e.principal.clone(),
                run_level: e.run_level.clone(),
                hidden: e.hidden,
                triggers: e.triggers.clone(),
                actions: e.actions.clone(),
            })
            .collect();
        tasks.sort_by(|a, b| (&a.host, &a.task_name).cmp(&(&b.host, &b.task_name)));
        Baseline { version: 1, tasks }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Drift {
    New { host: String, task_name: String },
    Vanished { host: String, task_name: String },
    Changed { host: String, task_name: String, parts: Vec<(String, String, String)> },
}

/// Compares the current inventory with a baseline.
pub fn compare(baseline: &Baseline, current: &Baseline) -> Vec<Drift> {
    let key = |t: &BaselineTask| (t.host.to_ascii_lowercase(), t.task_name.to_ascii_lowercase());
    let old: BTreeMap<_, _> = baseline.tasks.iter().map(|t| (key(t), t)).collect();
    let new: BTreeMap<_, _> = current.tasks.iter().map(|t| (key(t), t)).collect();
    let mut out = Vec::new();
    for (k, n) in &new {
        match old.get(k) {
            None => out.push(Drift::New { host: n.host.clone(), task_name: n.task_name.clone() }),
            Some(o) => {
                let mut parts = Vec::new();
                let mut cmp = |name: &str, a: String, b: String| {
                    if a != b {
                        parts.push((name.to_string(), a, b));
                    }
                };
                cmp("principal", o.principal.clone().unwrap_or_default(), n.principal.clone().unwrap_or_default());
                cmp("run_level", o.run_level.clone().unwrap_or_default(), n.run_level.clone().unwrap_or_default());
                cmp("hidden", o.hidden.to_string(), n.hidden.to_string());
                cmp("triggers", o.triggers.clone(), n.triggers.clone());
                cmp("actions", o.actions.clone(), n.actions.clone());
                if !parts.is_empty() {
                    out.push(Drift::Changed { host: n.host.clone(), task_name: n.task_name.clone(), parts });
                }
            }
        }
    }
    for (k, o) in &old {
        if !new.contains_key(k) {
            out.push(Drift::Vanished { host: o.host.clone(), task_name: o.task_name.clone() });
        }
    }
    out
}
