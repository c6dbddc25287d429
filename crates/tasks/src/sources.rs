//! Task records from events: Security 4698–4702, TaskScheduler/Operational, Defender
//! DeviceEvents, and schtasks-style command lines in process events.

use crate::model::{OriginKind, TaskDefinition};
use crate::xml::{Node, parse_task, task_from_node};
use serde::Serialize;
use taskhunt_events::{Event, Timestamp, Value};

/// What happened to a task in one piece of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Created,
    Updated,
    Enabled,
    Disabled,
    Deleted,
    /// Started by the scheduler (TaskScheduler 100/107/110/129/200).
    SeenRunning,
    /// Found in a task folder or export.
    Present,
}

/// One observation of a task.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRecord {
    pub host: String,
    pub name: String,
    pub time: Option<Timestamp>,
    pub state: TaskState,
    /// Full definition when the evidence carries one (TaskContent, XML, command line).
    pub definition: Option<TaskDefinition>,
    /// TaskScheduler run details: instance id, action or path, pid, result code.
    pub run: Option<RunInfo>,
    pub event_id: Option<u32>,
    pub evidence: String,
    /// Why a definition could not be read (bad XML), if so.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RunInfo {
    pub instance_id: Option<String>,
    pub action: Option<String>,
    pub pid: Option<u64>,
    pub result: Option<String>,
}

const SECURITY: &str = "Security";
const SCHEDULER: &str = "Microsoft-Windows-TaskScheduler/Operational";

fn text(e: &Event, name: &str) -> Option<String> {
    e.fields.get_str(name).filter(|v| !v.is_null()).map(|v| v.to_text().into_owned()).filter(|s| !s.is_empty() && s != "-")
}

fn normalize_name(name: &str) -> String {
    if name.starts_with('\\') { name.to_string() } else { format!("\\{name}") }
}

/// The task records one event holds (none for unrelated events).
pub fn records_from_event(e: &Event) -> Vec<TaskRecord> {
    let host = e.computer.to_string();
    let base = |name: String, state: TaskState| TaskRecord {
        host: host.clone(),
        name: normalize_name(&name),
        time: Some(e.timestamp),
        state,
        definition: None,
        run: None,
        event_id: Some(e.event_id),
        evidence: e.report_id(),
        problem: None,
    };
    match (&*e.channel, e.event_id) {
        (SECURITY, 4698..=4702) => {
            let Some(name) = text(e, "TaskName") else { return vec![] };
            let state = match e.event_id {
                4698 => TaskState::Created,
                4699 => TaskState::Deleted,
                4700 => TaskState::Enabled,
                4701 => TaskState::Disabled,
                _ => TaskState::Updated,
            };
            let mut r = base(name, state);
            // Some 4699s carry an empty TaskContent: the definition then holds the name and who
            // deleted it, and the inventory keeps the content seen earlier.
            let parsed = match text(e, "TaskContentNew").or_else(|| text(e, "TaskContent")) {
                Some(xml) => parse_task(&xml).map_err(|err| err.to_string()),
                None => Ok(TaskDefinition::default()),
            };
            match parsed {
                Ok(mut def) => {
                    def.name = r.name.clone();
                    security_origin(&mut def, e);
                    r.definition = Some(def);
                }
                Err(err) => r.problem = Some(err),
            }
            vec![r]
        }
        (SCHEDULER, id) => {
            let Some(name) = text(e, "TaskName") else { return vec![] };
            let state = match id {
                106 => TaskState::Created,
                140 => TaskState::Updated,
                141 => TaskState::Deleted,
                142 => TaskState::Disabled,
                100 | 107 | 108 | 110 | 118 | 119 | 129 | 200 => TaskState::SeenRunning,
                _ => return vec![],
            };
            let mut r = base(name, state);
            if state == TaskState::SeenRunning {
                let instance = text(e, "InstanceId")
                    .or_else(|| text(e, "TaskInstanceId"))
                    .or_else(|| e.system.get_str("Correlation_ActivityID").filter(|v| !v.is_null()).map(|v| v.to_text().into_owned()));
                r.run = Some(RunInfo {
                    instance_id: instance,
                    action: text(e, "ActionName").or_else(|| text(e, "Path")),
                    pid: e.fields.get_str("ProcessID").or_else(|| e.fields.get_str("EnginePID")).and_then(Value::as_u64),
                    result: text(e, "ResultCode"),
                });
            } else {
                let mut def = TaskDefinition { name: r.name.clone(), ..TaskDefinition::default() };
                def.origin.kind = OriginKind::SchedulerEvent;
                def.origin.event_id = Some(id);
                def.origin.host = Some(host.clone());
                def.origin.time = Some(e.timestamp);
                def.origin.account = text(e, "UserContext").or_else(|| text(e, "UserName"));
                def.origin.evidence = Some(e.report_id());
                r.definition = Some(def);
            }
            vec![r]
        }
        ("DeviceEvents", _) => defender_record(e).into_iter().collect(),
        _ => command_line_records(e),
    }
}

fn security_origin(def: &mut TaskDefinition, e: &Event) {
    let o = &mut def.origin;
    o.kind = OriginKind::SecurityEvent;
    o.event_id = Some(e.event_id);
    o.host = Some(e.computer.to_string());
    o.time = Some(e.timestamp);
    o.account = match (text(e, "SubjectDomainName"), text(e, "SubjectUserName")) {
        (Some(d), Some(u)) => Some(format!("{d}\\{u}")),
        (None, u) => u,
        (d, None) => d,
    };
    o.account_sid = text(e, "SubjectUserSid");
    o.logon_id = text(e, "SubjectLogonId");
    o.process_id = e.fields.get_str("ClientProcessId").and_then(Value::as_u64).filter(|p| *p != 0);
    // Version 1 events say whether the RPC call came from this machine (0) or another.
    if let Some(loc) = e.fields.get_str("RpcCallClientLocality").and_then(Value::as_i64) {
        o.remote = Some(loc != 0);
    }
    o.evidence = Some(e.report_id());
}

/// Defender `DeviceEvents` ScheduledTask* rows: AdditionalFields JSON with TaskName and
/// TaskContent (XML, or Defender's JSON rendering of the task).
fn defender_record(e: &Event) -> Option<TaskRecord> {
    let action = text(e, "ActionType")?;
    let state = match action.as_str() {
        "ScheduledTaskCreated" => TaskState::Created,
        "ScheduledTaskUpdated" => TaskState::Updated,
        "ScheduledTaskDeleted" => TaskState::Deleted,
        "ScheduledTaskEnabled" => TaskState::Enabled,
        "ScheduledTaskDisabled" => TaskState::Disabled,
        _ => return None,
    };
    let extra: serde_json::Value = serde_json::from_str(&text(e, "AdditionalFields")?).ok()?;
    let name = normalize_name(extra.get("TaskName")?.as_str()?);
    let mut r = TaskRecord {
        host: e.computer.to_string(),
        name: name.clone(),
        time: Some(e.timestamp),
        state,
        definition: None,
        run: None,
        event_id: None,
        evidence: e.report_id(),
        problem: None,
    };
    let content = extra.get("TaskContent");
    let parsed = match content {
        Some(serde_json::Value::String(s)) if s.trim_start().starts_with('<') => parse_task(s).map_err(|e| e.to_string()),
        Some(serde_json::Value::String(s)) => serde_json::from_str::<serde_json::Value>(s)
            .map_err(|e| format!("TaskContent JSON: {e}"))
            .map(|j| task_from_node(&json_to_node("Task", &j))),
        Some(j @ serde_json::Value::Object(_)) => Ok(task_from_node(&json_to_node("Task", j))),
        _ => Err("no TaskContent".to_string()),
    };
    match parsed {
        Ok(mut def) => {
            def.name = name;
            def.origin.kind = OriginKind::DefenderEvent;
            def.origin.host = Some(r.host.clone());
            def.origin.time = Some(e.timestamp);
            def.origin.account = match (text(e, "AccountDomain"), text(e, "AccountName")) {
                (Some(d), Some(u)) => Some(format!("{d}\\{u}")),
                (_, u) => u,
            };
            def.origin.process = text(e, "InitiatingProcessFileName");
            def.origin.process_id = e.fields.get_str("InitiatingProcessId").and_then(Value::as_u64);
            def.origin.evidence = Some(e.report_id());
            r.definition = Some(def);
        }
        Err(p) => r.problem = Some(p),
    }
    Some(r)
}

/// Defender renders the task as JSON (`{"Actions":{"Exec":{"Command":...}}}`); turning it into
/// the XML tree shape lets one mapping serve both.
pub fn json_to_node(name: &str, j: &serde_json::Value) -> Node {
    let mut node = Node { name: name.to_string(), ..Node::default() };
    match j {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::Array(items) => node.children.extend(items.iter().map(|i| json_to_node(k, i))),
                    other => node.children.push(json_to_node(k, other)),
                }
            }
        }
        serde_json::Value::String(s) => node.text = s.clone(),
        serde_json::Value::Null => {}
        other => node.text = other.to_string(),
    }
    node
}

/// schtasks.exe / at.exe / Register-ScheduledTask command lines in Sysmon 1 or 4688 events.
fn command_line_records(e: &Event) -> Vec<TaskRecord> {
    let is_process = matches!((&*e.channel, e.event_id), ("Microsoft-Windows-Sysmon/Operational", 1) | (SECURITY, 4688))
        || &*e.channel == "DeviceProcessEvents";
    if !is_process {
        return vec![];
    }
    let Some(cmd) = text(e, "CommandLine").or_else(|| text(e, "ProcessCommandLine")) else { return vec![] };
    let Some(parsed) = crate::schtasks::parse_command_line(&cmd) else { return vec![] };
    let state = match parsed.verb {
        crate::schtasks::Verb::Create => TaskState::Created,
        crate::schtasks::Verb::Change => TaskState::Updated,
        crate::schtasks::Verb::Delete => TaskState::Deleted,
        crate::schtasks::Verb::Run => TaskState::SeenRunning,
        _ => return vec![],
    };
    let name = parsed
        .task_name
        .clone()
        .or_else(|| parsed.definition.as_ref().map(|d| d.name.clone()).filter(|n| !n.is_empty()))
        .unwrap_or_else(|| "\\<unnamed>".into());
    // `/s localhost` and the like name this very machine.
    let remote_host = parsed.remote_host.clone().filter(|h| {
        let h = h.trim_start_matches('\\').to_ascii_lowercase();
        !(h == "localhost" || h == "127.0.0.1" || h == "::1" || h == "." || e.computer.to_ascii_lowercase().starts_with(&h))
    });
    let host = remote_host.clone().unwrap_or_else(|| e.computer.to_string());
    let definition = parsed.definition.map(|mut def| {
        def.name = normalize_name(&name);
        def.origin.kind = OriginKind::CommandLine;
        def.origin.host = Some(e.computer.to_string());
        def.origin.time = Some(e.timestamp);
        def.origin.account = text(e, "User").or_else(|| match (text(e, "SubjectDomainName"), text(e, "SubjectUserName")) {
            (Some(d), Some(u)) => Some(format!("{d}\\{u}")),
            (_, u) => u,
        });
        def.origin.logon_id = text(e, "LogonId").or_else(|| text(e, "SubjectLogonId"));
        def.origin.process = text(e, "ParentImage").or_else(|| text(e, "ParentProcessName"));
        def.origin.process_id = e.fields.get_str("ParentProcessId").or_else(|| e.fields.get_str("ProcessId")).and_then(Value::as_u64);
        if remote_host.is_some() {
            def.origin.remote = Some(true);
        }
        def.origin.evidence = Some(e.report_id());
        def
    });
    vec![TaskRecord {
        host,
        name: normalize_name(&name),
        time: Some(e.timestamp),
        state,
        definition,
        run: None,
        event_id: Some(e.event_id),
        evidence: e.report_id(),
        problem: None,
    }]
}
