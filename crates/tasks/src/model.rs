//! What a scheduled task is (MS-TSCH task XML, as Windows stores and logs it) and how we came
//! to know about it.

use serde::Serialize;
use taskhunt_events::Timestamp;

/// A task definition: registration info, triggers, principal, settings, actions, provenance.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TaskDefinition {
    /// Full task path, starting with `\` (`\Microsoft\Windows\Defrag\ScheduledDefrag`).
    pub name: String,
    pub registration: Registration,
    pub triggers: Vec<Trigger>,
    pub principal: Principal,
    pub settings: Settings,
    pub actions: Vec<Action>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Registration {
    pub author: Option<String>,
    pub date: Option<String>,
    pub uri: Option<String>,
    pub source: Option<String>,
    pub description: Option<String>,
    pub security_descriptor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    Time,
    Daily,
    Weekly,
    Monthly,
    MonthlyDayOfWeek,
    Boot,
    Logon,
    Idle,
    Event,
    Registration,
    SessionStateChange,
    /// `schtasks /sc onstart|once|...` values we could not place, or unknown XML elements.
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub kind: TriggerKind,
    pub enabled: bool,
    /// ISO 8601 local time as written (`2015-07-15T20:35:13.2757294`).
    pub start_boundary: Option<String>,
    pub end_boundary: Option<String>,
    /// Repetition interval and duration (ISO 8601 durations such as `PT10M`).
    pub repetition_interval: Option<String>,
    pub repetition_duration: Option<String>,
    pub delay: Option<String>,
    /// Days interval, weeks interval, days of week / month as written.
    pub days_interval: Option<u32>,
    pub weeks_interval: Option<u32>,
    pub days_of_week: Vec<String>,
    pub days_of_month: Vec<String>,
    pub months: Vec<String>,
    /// LogonTrigger user, EventTrigger subscription, etc.
    pub detail: Option<String>,
}

impl Default for Trigger {
    fn default() -> Self {
        Trigger {
            kind: TriggerKind::Other,
            enabled: true,
            start_boundary: None,
            end_boundary: None,
            repetition_interval: None,
            repetition_duration: None,
            delay: None,
            days_interval: None,
            weeks_interval: None,
            days_of_week: vec![],
            days_of_month: vec![],
            months: vec![],
            detail: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Principal {
    /// UserId: a SID (`S-1-5-18`) or a name (`SYSTEM`, `DOMAIN\user`).
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    /// S4U, Password, InteractiveToken, InteractiveTokenOrPassword, ServiceAccount...
    pub logon_type: Option<String>,
    /// LeastPrivilege or HighestAvailable.
    pub run_level: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    pub hidden: bool,
    pub enabled: bool,
    pub execution_time_limit: Option<String>,
    pub wake_to_run: bool,
    pub start_when_available: bool,
    pub delete_expired_task_after: Option<String>,
    pub multiple_instances_policy: Option<String>,
    pub priority: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hidden: false,
            enabled: true,
            execution_time_limit: None,
            wake_to_run: false,
            start_when_available: false,
            delete_expired_task_after: None,
            multiple_instances_policy: None,
            priority: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    Exec {
        command: String,
        arguments: Option<String>,
        working_directory: Option<String>,
    },
    ComHandler {
        class_id: String,
        data: Option<String>,
    },
    /// SendEmail / ShowMessage (deprecated action types) or unknown elements.
    Other {
        kind: String,
    },
}

impl Action {
    /// The command line the action runs (`command arguments`), for Exec actions.
    pub fn command_line(&self) -> Option<String> {
        match self {
            Action::Exec { command, arguments, .. } => Some(match arguments {
                Some(a) if !a.is_empty() => format!("{command} {a}"),
                _ => command.clone(),
            }),
            _ => None,
        }
    }
}

/// How the task came to our knowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginKind {
    /// Security 4698/4699/4700/4701/4702.
    SecurityEvent,
    /// TaskScheduler/Operational 106/140/141/142.
    SchedulerEvent,
    /// Defender DeviceEvents ScheduledTask*.
    DefenderEvent,
    /// A task XML file (C:\Windows\System32\Tasks, schtasks /query /xml).
    TaskFile,
    /// Get-ScheduledTask export (JSON or CSV).
    PowerShellExport,
    /// A schtasks.exe / at.exe / Register-ScheduledTask command line in a process event.
    CommandLine,
    Unknown,
}

impl Default for OriginKind {
    fn default() -> Self {
        OriginKind::Unknown
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Origin {
    pub kind: OriginKind,
    /// Event id (4698, 106, ...) when from an event.
    pub event_id: Option<u32>,
    pub host: Option<String>,
    pub time: Option<Timestamp>,
    /// The account that created or changed the task (`DOMAIN\user`), its SID and logon id.
    pub account: Option<String>,
    pub account_sid: Option<String>,
    pub logon_id: Option<String>,
    /// The creating process, when known (4698 v1 ClientProcessId, or the schtasks process).
    pub process: Option<String>,
    pub process_id: Option<u64>,
    /// The task was registered from another machine (`schtasks /s`, RPC over ATSVC).
    pub remote: Option<bool>,
    /// `file:record` or `file:line` of the evidence.
    pub evidence: Option<String>,
}
