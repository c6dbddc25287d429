//! `Get-ScheduledTask` exports → [`TaskDefinition`]: ConvertTo-Json objects (MSFT_ScheduledTask
//! with its MSFT_Task*Trigger, MSFT_Task*Action, MSFT_TaskPrincipal and MSFT_TaskSettings
//! instances) and Export-Csv rows. PowerShell renders enums as numbers (or names, with
//! `-EnumsAsStrings` and in CSV); both become the words task XML uses, so definitions from every
//! source compare alike.

use super::backslashed;
use crate::model::*;
use serde_json::{Map, Value};

pub(super) fn get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)).filter(|v| !v.is_null())
}

pub(super) fn has_key(m: &Map<String, Value>, key: &str) -> bool {
    m.keys().any(|k| k.eq_ignore_ascii_case(key))
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn str_of(m: &Map<String, Value>, key: &str) -> Option<String> {
    get(m, key).and_then(text_of)
}

fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        other => match text_of(other)?.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
    }
}

fn number(v: Option<&Value>) -> Option<u32> {
    text_of(v?)?.parse().ok()
}

/// (number, the name task XML uses, the PowerShell enum's name).
type EnumTable = [(u64, &'static str, &'static str)];
const LOGON_TYPES: &EnumTable = &[
    (0, "", "None"),
    (1, "Password", "Password"),
    (2, "S4U", "S4U"),
    (3, "InteractiveToken", "Interactive"),
    (4, "Group", "Group"),
    (5, "ServiceAccount", "ServiceAccount"),
    (6, "InteractiveTokenOrPassword", "InteractiveOrPassword"),
];
const RUN_LEVELS: &EnumTable = &[(0, "LeastPrivilege", "Limited"), (1, "HighestAvailable", "Highest")];
const TASK_STATES: &EnumTable =
    &[(0, "Unknown", "Unknown"), (1, "Disabled", "Disabled"), (2, "Queued", "Queued"), (3, "Ready", "Ready"), (4, "Running", "Running")];
const INSTANCE_POLICIES: &EnumTable =
    &[(0, "Parallel", "Parallel"), (1, "Queue", "Queue"), (2, "IgnoreNew", "IgnoreNew"), (3, "StopExisting", "StopExisting")];
const STATE_CHANGES: &EnumTable = &[
    (1, "ConsoleConnect", "ConsoleConnect"),
    (2, "ConsoleDisconnect", "ConsoleDisconnect"),
    (3, "RemoteConnect", "RemoteConnect"),
    (4, "RemoteDisconnect", "RemoteDisconnect"),
    (7, "SessionLock", "SessionLock"),
    (8, "SessionUnlock", "SessionUnlock"),
];

/// A number or either name → the task XML name; an unknown value is kept as written.
fn enum_name(v: Option<&Value>, table: &EnumTable) -> Option<String> {
    let raw = text_of(v?)?;
    let hit = match raw.parse::<u64>() {
        Ok(n) => table.iter().find(|e| e.0 == n),
        Err(_) => table.iter().find(|e| raw.eq_ignore_ascii_case(e.1) || raw.eq_ignore_ascii_case(e.2)),
    };
    match hit {
        Some((_, xml_name, _)) => Some(xml_name.to_string()).filter(|s| !s.is_empty()),
        None => Some(raw),
    }
}

const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// DaysOfWeek as MSFT_TaskWeeklyTrigger's bit mask (Sunday = 1 … Saturday = 64) or names.
fn days_of_week(v: Option<&Value>) -> Vec<String> {
    let Some(v) = v else { return vec![] };
    if let Value::Array(items) = v {
        return items.iter().flat_map(|i| days_of_week(Some(i))).collect();
    }
    let raw = text_of(v).unwrap_or_default();
    if let Ok(mask) = raw.parse::<u64>() {
        return DAYS.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, d)| d.to_string()).collect();
    }
    raw.split(|c: char| !c.is_ascii_alphabetic())
        .filter_map(|w| DAYS.iter().find(|d| d.eq_ignore_ascii_case(w)))
        .map(|d| d.to_string())
        .collect()
}

/// A trigger kind from a CIM class name (`MSFT_TaskDailyTrigger`,
/// `Root/Microsoft/Windows/TaskScheduler:MSFT_TaskLogonTrigger`) or a bare word (`Daily`).
fn kind_from_word(word: &str) -> Option<TriggerKind> {
    let w = word.rsplit(':').next().unwrap_or(word).trim().to_ascii_lowercase();
    let w = w.strip_prefix("msft_task").unwrap_or(&w);
    let w = w.strip_suffix("trigger").unwrap_or(w);
    Some(match w {
        "time" | "once" => TriggerKind::Time,
        "daily" => TriggerKind::Daily,
        "weekly" => TriggerKind::Weekly,
        "monthly" => TriggerKind::Monthly,
        "monthlydow" | "monthlydayofweek" => TriggerKind::MonthlyDayOfWeek,
        "logon" | "atlogon" => TriggerKind::Logon,
        "boot" | "startup" | "atstartup" => TriggerKind::Boot,
        "idle" => TriggerKind::Idle,
        "event" => TriggerKind::Event,
        "registration" => TriggerKind::Registration,
        "sessionstatechange" => TriggerKind::SessionStateChange,
        _ => return None,
    })
}

/// The CIM class of an exported instance, wherever ConvertTo-Json's depth left it.
fn cim_class(m: &Map<String, Value>) -> Option<String> {
    let class_name = |p: Option<&Value>| p.and_then(Value::as_object).and_then(|p| str_of(p, "ClassName"));
    let name = match get(m, "CimClass") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(c)) => str_of(c, "CimClassName").or_else(|| class_name(get(c, "CimSystemProperties"))),
        _ => None,
    }
    .or_else(|| class_name(get(m, "CimSystemProperties")))?;
    Some(name.rsplit(':').next().unwrap_or(&name).trim().to_string())
}

const DEPTH_NOTE: &str = "ConvertTo-Json cut the export off at its depth limit (only type names left); export with -Depth 5";

fn items(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().filter(|v| !v.is_null()).collect(),
        Some(other) => vec![other],
        None => vec![],
    }
}

fn note(notes: &mut Vec<String>, n: &str) {
    if !notes.iter().any(|x| x == n) {
        notes.push(n.to_string());
    }
}

fn ps_trigger(v: &Value, notes: &mut Vec<String>) -> Trigger {
    let Value::Object(m) = v else {
        note(notes, DEPTH_NOTE);
        let word = text_of(v).unwrap_or_default();
        let kind = kind_from_word(&word);
        return Trigger { kind: kind.unwrap_or(TriggerKind::Other), detail: kind.is_none().then_some(word), ..Trigger::default() };
    };
    let class = cim_class(m);
    let mut t = Trigger {
        enabled: flag(get(m, "Enabled")).unwrap_or(true),
        start_boundary: str_of(m, "StartBoundary"),
        end_boundary: str_of(m, "EndBoundary"),
        delay: str_of(m, "Delay").or_else(|| str_of(m, "RandomDelay")),
        ..Trigger::default()
    };
    match get(m, "Repetition") {
        Some(Value::Object(r)) => {
            t.repetition_interval = str_of(r, "Interval");
            t.repetition_duration = str_of(r, "Duration");
        }
        Some(_) => note(notes, DEPTH_NOTE),
        None => {}
    }
    // Without a class name the properties tell most kinds apart.
    let inferred = || {
        let has = |k: &str| has_key(m, k);
        Some(if has("DaysInterval") {
            TriggerKind::Daily
        } else if has("WeeksInterval") || has("DaysOfWeek") {
            TriggerKind::Weekly
        } else if has("Subscription") {
            TriggerKind::Event
        } else if has("StateChange") {
            TriggerKind::SessionStateChange
        } else if has("UserId") {
            TriggerKind::Logon
        } else {
            return None;
        })
    };
    t.kind = class.as_deref().and_then(kind_from_word).or_else(inferred).unwrap_or(TriggerKind::Other);
    match t.kind {
        TriggerKind::Daily => t.days_interval = number(get(m, "DaysInterval")).or(Some(1)),
        TriggerKind::Weekly => {
            t.weeks_interval = number(get(m, "WeeksInterval")).or(Some(1));
            t.days_of_week = days_of_week(get(m, "DaysOfWeek"));
        }
        TriggerKind::Logon => t.detail = str_of(m, "UserId"),
        TriggerKind::Event => t.detail = str_of(m, "Subscription"),
        TriggerKind::SessionStateChange => t.detail = enum_name(get(m, "StateChange"), STATE_CHANGES),
        TriggerKind::Other => t.detail = class,
        _ => {}
    }
    t
}

fn ps_action(v: &Value, notes: &mut Vec<String>) -> Action {
    let Value::Object(m) = v else {
        note(notes, DEPTH_NOTE);
        return Action::Other { kind: text_of(v).unwrap_or_else(|| "unknown".into()) };
    };
    if let Some(command) = str_of(m, "Execute") {
        Action::Exec { command, arguments: str_of(m, "Arguments"), working_directory: str_of(m, "WorkingDirectory") }
    } else if let Some(class_id) = str_of(m, "ClassId") {
        Action::ComHandler { class_id, data: str_of(m, "Data") }
    } else {
        Action::Other { kind: cim_class(m).unwrap_or_else(|| "unknown".into()) }
    }
}

/// `\Path\` + `Name`, else the URI, else `\Name`.
fn ps_name(path: Option<String>, name: Option<String>, uri: Option<&str>) -> String {
    match (path, name) {
        (_, Some(n)) if n.starts_with('\\') => n,
        (Some(p), Some(n)) => {
            let p = backslashed(&p);
            if p.ends_with('\\') { format!("{p}{n}") } else { format!("{p}\\{n}") }
        }
        (_, n) => uri.map(backslashed).or(n.map(|n| backslashed(&n))).unwrap_or_else(|| "\\<unnamed>".into()),
    }
}

/// A `Get-ScheduledTask` object (ConvertTo-Json) → definition; what was lost goes to `notes`.
pub(super) fn def_from_ps_object(m: &Map<String, Value>, notes: &mut Vec<String>) -> TaskDefinition {
    let mut def = TaskDefinition {
        registration: Registration {
            author: str_of(m, "Author"),
            date: str_of(m, "Date"),
            uri: str_of(m, "URI"),
            source: str_of(m, "Source"),
            description: str_of(m, "Description"),
            security_descriptor: str_of(m, "SecurityDescriptor"),
        },
        triggers: items(get(m, "Triggers")).into_iter().map(|t| ps_trigger(t, notes)).collect(),
        actions: items(get(m, "Actions")).into_iter().map(|a| ps_action(a, notes)).collect(),
        ..TaskDefinition::default()
    };
    def.name = ps_name(str_of(m, "TaskPath"), str_of(m, "TaskName"), def.registration.uri.as_deref());
    match get(m, "Principal") {
        Some(Value::Object(p)) => {
            def.principal = Principal {
                user_id: str_of(p, "UserId"),
                group_id: str_of(p, "GroupId"),
                logon_type: enum_name(get(p, "LogonType"), LOGON_TYPES),
                run_level: enum_name(get(p, "RunLevel"), RUN_LEVELS),
            }
        }
        Some(_) => note(notes, DEPTH_NOTE),
        None => {}
    }
    match get(m, "Settings") {
        Some(Value::Object(s)) => {
            def.settings = Settings {
                hidden: flag(get(s, "Hidden")).unwrap_or(false),
                enabled: flag(get(s, "Enabled")).unwrap_or(true),
                execution_time_limit: str_of(s, "ExecutionTimeLimit"),
                wake_to_run: flag(get(s, "WakeToRun")).unwrap_or(false),
                start_when_available: flag(get(s, "StartWhenAvailable")).unwrap_or(false),
                delete_expired_task_after: str_of(s, "DeleteExpiredTaskAfter"),
                multiple_instances_policy: enum_name(get(s, "MultipleInstances"), INSTANCE_POLICIES),
                priority: number(get(s, "Priority")),
            }
        }
        Some(_) => note(notes, DEPTH_NOTE),
        None => {}
    }
    // The task's State says Disabled even when the exported Settings were cut off.
    if enum_name(get(m, "State"), TASK_STATES).as_deref() == Some("Disabled") {
        def.settings.enabled = false;
    }
    def
}

/// Export-Csv writes a .NET type name where a column held an object or a list.
pub(super) fn is_type_name(v: &str) -> bool {
    v.ends_with("[]") || v.starts_with("System.") || v.starts_with("Microsoft.Management.Infrastructure.")
}

/// An Export-Csv row (`columns` from its header) → definition and PSComputerName; a row with
/// neither TaskName nor URI is an error.
pub(super) fn def_from_csv_row(
    columns: &[String],
    row: &[String],
    notes: &mut Vec<String>,
) -> Result<(TaskDefinition, Option<String>), String> {
    let mut cell = |name: &str| -> Option<String> {
        let i = columns.iter().position(|c| c.eq_ignore_ascii_case(name))?;
        let v = row.get(i).map(|v| v.trim()).filter(|v| !v.is_empty())?;
        if is_type_name(v) {
            note(notes, &format!("column {name} holds the type name {v}, not its value"));
            return None;
        }
        Some(v.to_string())
    };
    let as_value = |v: Option<String>| v.map(Value::String);
    let (task_name, task_path, uri) = (cell("TaskName"), cell("TaskPath"), cell("URI"));
    if task_name.is_none() && uri.is_none() {
        return Err("a row with no TaskName".into());
    }
    let mut def = TaskDefinition {
        name: ps_name(task_path, task_name, uri.as_deref()),
        registration: Registration {
            author: cell("Author"),
            date: cell("Date"),
            uri,
            source: cell("Source"),
            description: cell("Description"),
            security_descriptor: None,
        },
        principal: Principal {
            user_id: cell("UserId"),
            group_id: cell("GroupId"),
            logon_type: enum_name(as_value(cell("LogonType")).as_ref(), LOGON_TYPES),
            run_level: enum_name(as_value(cell("RunLevel")).as_ref(), RUN_LEVELS),
        },
        ..TaskDefinition::default()
    };
    def.settings.hidden = flag(as_value(cell("Hidden")).as_ref()).unwrap_or(false);
    def.settings.enabled = flag(as_value(cell("Enabled")).as_ref()).unwrap_or(true)
        && enum_name(as_value(cell("State")).as_ref(), TASK_STATES).as_deref() != Some("Disabled");
    let (execute, arguments, working_directory) = (cell("Execute"), cell("Arguments"), cell("WorkingDirectory"));
    if let Some(command) = execute {
        def.actions.push(Action::Exec { command, arguments, working_directory });
    }
    // Free text: class names (`MSFT_TaskLogonTrigger MSFT_TaskDailyTrigger`) or kind words.
    if let Some(text) = cell("Triggers") {
        def.triggers = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter_map(kind_from_word)
            .map(|kind| Trigger { kind, ..Trigger::default() })
            .collect();
        if def.triggers.is_empty() {
            def.triggers.push(Trigger { kind: TriggerKind::Other, detail: Some(text.chars().take(200).collect()), ..Trigger::default() });
        }
    }
    Ok((def, cell("PSComputerName")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_map_to_task_xml_names() {
        let v = |s: &str| Some(Value::String(s.into()));
        assert_eq!(enum_name(Some(&Value::from(5)), LOGON_TYPES).as_deref(), Some("ServiceAccount"));
        assert_eq!(enum_name(v("Interactive").as_ref(), LOGON_TYPES).as_deref(), Some("InteractiveToken"));
        assert_eq!(enum_name(Some(&Value::from(0)), LOGON_TYPES), None);
        assert_eq!(enum_name(v("1").as_ref(), RUN_LEVELS).as_deref(), Some("HighestAvailable"));
        assert_eq!(enum_name(v("limited").as_ref(), RUN_LEVELS).as_deref(), Some("LeastPrivilege"));
        assert_eq!(enum_name(Some(&Value::from(9)), RUN_LEVELS).as_deref(), Some("9"));
        assert_eq!(days_of_week(Some(&Value::from(65))), vec!["Sunday", "Saturday"]);
        assert_eq!(days_of_week(v("Monday, friday").as_ref()), vec!["Monday", "Friday"]);
    }
}
