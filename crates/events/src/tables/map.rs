//! Source event → normalized row. Each mapping follows Microsoft's meaning of the column, not
//! just its name: `FolderPath` is the full path of the file, `AccountName` in
//! DeviceProcessEvents is the account the new process runs as, `RegistryKey` uses the long
//! hive names.

use super::schema::{self, TableSchema};
use crate::model::{Event, Value};

pub const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
pub const SECURITY: &str = "Security";
pub const TASK_SCHEDULER: &str = "Microsoft-Windows-TaskScheduler/Operational";
pub const POWERSHELL: &str = "Microsoft-Windows-PowerShell/Operational";
pub const POWERSHELL_CLASSIC: &str = "Windows PowerShell";

/// One row of a normalized table; `values` follow `table.columns`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub table: &'static TableSchema,
    pub values: Vec<Value>,
}

impl Row {
    fn new(table: &'static TableSchema, event: &Event, action: &str) -> Row {
        // The schema's tables are constants, and each `&CONSTANT` may be a different copy: take
        // the reference `TABLES` holds, which is the one `table(name)` hands callers, so that
        // comparing a row's table with a looked-up one by address works.
        let table = schema::table(table.name).unwrap_or(table);
        let mut row = Row { table, values: vec![Value::Null; table.columns.len()] };
        row.set("Timestamp", Value::Str(event.timestamp.to_string().into()));
        row.set("DeviceName", Value::Str((*event.computer).into()));
        row.set("ActionType", Value::from(action));
        row.set("ReportId", Value::from(event.report_id()));
        row.set("SourceEventId", Value::UInt(event.event_id as u64));
        row
    }

    /// Sets a column; a value that is empty or Windows' `-` placeholder stays null.
    pub fn set(&mut self, column: &str, value: Value) {
        if let Value::Str(s) = &value
            && (s.is_empty() || &**s == "-")
        {
            return;
        }
        match self.table.column_index(column) {
            Some(i) => self.values[i] = value,
            None => debug_assert!(false, "{} has no column {column}", self.table.name),
        }
    }

    fn copy(&mut self, column: &str, event: &Event, field: &str) {
        if let Some(v) = event.fields.get_str(field) {
            self.set(column, v.clone());
        }
    }

    fn long(&mut self, column: &str, event: &Event, field: &str) {
        if let Some(v) = event.fields.get_str(field).and_then(Value::as_i64) {
            self.set(column, Value::Int(v));
        }
    }

    pub fn get(&self, column: &str) -> Option<&Value> {
        self.table.column_index(column).map(|i| &self.values[i]).filter(|v| !v.is_null())
    }

    /// The row as a JSON object with the table's columns in order.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for ((name, _), v) in self.table.columns.iter().zip(&self.values) {
            map.insert((*name).into(), serde_json::to_value(v).unwrap_or(serde_json::Value::Null));
        }
        serde_json::Value::Object(map)
    }
}

fn text<'e>(event: &'e Event, field: &str) -> Option<std::borrow::Cow<'e, str>> {
    event.fields.get_str(field).filter(|v| !v.is_null()).map(|v| v.to_text()).filter(|s| !s.is_empty() && s != "-")
}

/// A Sysmon text field, or `None` where Sysmon writes its "could not tell" markers: `?` for an
/// unknown parent or missing version information, `<unknown process>` for a connection whose
/// process it could not name.
fn sysmon_text<'e>(event: &'e Event, field: &str) -> Option<std::borrow::Cow<'e, str>> {
    text(event, field).filter(|s| s != "?" && s != "<unknown process>")
}

/// A Sysmon process GUID, or `None` for the all-zero GUID Sysmon writes when it does not know
/// the process.
fn sysmon_guid<'e>(event: &'e Event, field: &str) -> Option<std::borrow::Cow<'e, str>> {
    text(event, field).filter(|g| g.trim_matches(['{', '}']).bytes().any(|b| b != b'0' && b != b'-'))
}

/// `C:\Windows\System32\cmd.exe` → `cmd.exe`.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

fn set_path(row: &mut Row, name_col: &str, path_col: &str, path: Option<std::borrow::Cow<'_, str>>) {
    if let Some(p) = path {
        row.set(name_col, Value::from(file_name(&p)));
        row.set(path_col, Value::from(p.as_ref()));
    }
}

/// `DOMAIN\user` → (`DOMAIN`, `user`).
fn split_account(user: &str) -> (Option<&str>, &str) {
    match user.split_once('\\') {
        Some((d, u)) => (Some(d), u),
        None => (None, user),
    }
}

fn set_account(row: &mut Row, domain_col: &str, name_col: &str, user: Option<std::borrow::Cow<'_, str>>) {
    if let Some(u) = user {
        let (d, n) = split_account(&u);
        if let Some(d) = d {
            row.set(domain_col, Value::from(d));
        }
        row.set(name_col, Value::from(n));
    }
}

/// Sysmon `Hashes` (`SHA1=..,MD5=..,SHA256=..,IMPHASH=..`) into the hash columns.
fn set_hashes(row: &mut Row, event: &Event) {
    let Some(hashes) = text(event, "Hashes") else { return };
    for part in hashes.split(',') {
        if let Some((algo, digest)) = part.split_once('=') {
            let col = match algo.trim().to_ascii_uppercase().as_str() {
                "SHA1" => "SHA1",
                "SHA256" => "SHA256",
                "MD5" => "MD5",
                _ => continue,
            };
            row.set(col, Value::from(digest.trim().to_ascii_lowercase()));
        }
    }
}

/// The process behind a Sysmon event (Image, ProcessId, ProcessGuid, User) as the initiator.
fn sysmon_initiator(row: &mut Row, event: &Event) {
    set_path(row, "InitiatingProcessFileName", "InitiatingProcessFolderPath", sysmon_text(event, "Image"));
    row.long("InitiatingProcessId", event, "ProcessId");
    set_text(row, "InitiatingProcessUniqueId", sysmon_guid(event, "ProcessGuid"));
    set_account(row, "InitiatingProcessAccountDomain", "InitiatingProcessAccountName", text(event, "User"));
}

/// Integrity level names (as Sysmon and Defender write them) for the mandatory-label SIDs 4688
/// carries.
pub fn integrity_from_label(label: &str) -> Option<&'static str> {
    Some(match label.to_ascii_uppercase().as_str() {
        "S-1-16-0" => "Untrusted",
        "S-1-16-4096" => "Low",
        "S-1-16-8192" => "Medium",
        "S-1-16-8448" => "MediumPlus",
        "S-1-16-12288" => "High",
        "S-1-16-16384" => "System",
        "S-1-16-20480" => "ProtectedProcess",
        _ => return None,
    })
}

/// Defender's names for Windows logon types.
pub fn logon_type_name(t: i64) -> Option<&'static str> {
    Some(match t {
        2 => "Interactive",
        3 => "Network",
        4 => "Batch",
        5 => "Service",
        7 => "Unlock",
        8 => "NetworkCleartext",
        9 => "NewCredentials",
        10 => "RemoteInteractive",
        11 => "CachedInteractive",
        12 => "CachedRemoteInteractive",
        13 => "CachedUnlock",
        _ => return None,
    })
}

/// Sysmon's short hive names → the long names Defender uses. Defender writes a user's hive,
/// which Sysmon names `HKU\<SID>`, as `HKEY_CURRENT_USER\<SID>`; other keys under `HKU`
/// (`.DEFAULT`) stay under `HKEY_USERS`.
pub fn long_hive(key: &str) -> String {
    if let Some(rest) = key.strip_prefix("HKU\\")
        && rest.starts_with("S-1-")
    {
        return format!("HKEY_CURRENT_USER\\{rest}");
    }
    const HIVES: &[(&str, &str)] = &[
        ("HKLM", "HKEY_LOCAL_MACHINE"),
        ("HKU", "HKEY_USERS"),
        ("HKCU", "HKEY_CURRENT_USER"),
        ("HKCR", "HKEY_CLASSES_ROOT"),
        ("HKCC", "HKEY_CURRENT_CONFIG"),
    ];
    for (short, long) in HIVES {
        if let Some(rest) = key.strip_prefix(short)
            && (rest.is_empty() || rest.starts_with('\\'))
        {
            return format!("{long}{rest}");
        }
    }
    key.to_string()
}

fn set_text(row: &mut Row, column: &str, value: Option<std::borrow::Cow<'_, str>>) {
    if let Some(v) = value {
        row.set(column, Value::from(v.as_ref()));
    }
}

fn additional_fields(pairs: &[(&str, Option<std::borrow::Cow<'_, str>>)]) -> Value {
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        if let Some(v) = v {
            map.insert((*k).into(), serde_json::Value::String(v.to_string()));
        }
    }
    Value::from(serde_json::Value::Object(map).to_string())
}

/// Maps an event to its normalized row, if it belongs to a normalized table.
pub fn normalize(event: &Event) -> Option<Row> {
    let channel = &*event.channel;
    if event.provider.as_ref() == crate::read::DEFENDER_PROVIDER {
        return defender_row(event, schema::table(channel)?);
    }
    match (channel, event.event_id) {
        (SYSMON, 1) => Some(sysmon_process(event)),
        (SECURITY, 4688) => Some(security_process(event)),
        (SYSMON, 3) => Some(sysmon_network(event)),
        (SYSMON, 11 | 23 | 26) => Some(sysmon_file(event)),
        (SYSMON, 12..=14) => Some(sysmon_registry(event)),
        (SYSMON, 7) => Some(sysmon_image_load(event)),
        (SECURITY, 4624 | 4625 | 4634) => Some(security_logon(event)),
        (SECURITY, 4698..=4702) => Some(security_task(event)),
        (TASK_SCHEDULER, 106 | 140 | 141 | 142) => Some(scheduler_task(event)),
        (SYSMON, 22) => Some(sysmon_dns(event)),
        (POWERSHELL, 4104) => Some(powershell_block(event)),
        _ => None,
    }
}

fn sysmon_process(e: &Event) -> Row {
    let mut r = Row::new(&schema::DEVICE_PROCESS_EVENTS, e, "ProcessCreated");
    set_path(&mut r, "FileName", "FolderPath", text(e, "Image"));
    set_hashes(&mut r, e);
    r.long("ProcessId", e, "ProcessId");
    r.copy("ProcessCommandLine", e, "CommandLine");
    r.copy("ProcessIntegrityLevel", e, "IntegrityLevel");
    r.copy("ProcessCurrentDirectory", e, "CurrentDirectory");
    set_text(&mut r, "ProcessUniqueId", sysmon_guid(e, "ProcessGuid"));
    set_text(&mut r, "ProcessVersionInfoOriginalFileName", sysmon_text(e, "OriginalFileName"));
    set_text(&mut r, "ProcessVersionInfoCompanyName", sysmon_text(e, "Company"));
    set_text(&mut r, "ProcessVersionInfoProductName", sysmon_text(e, "Product"));
    set_text(&mut r, "ProcessVersionInfoFileDescription", sysmon_text(e, "Description"));
    set_account(&mut r, "AccountDomain", "AccountName", text(e, "User"));
    r.long("LogonId", e, "LogonId");
    // Sysmon writes `?` for a parent it cannot name (one that exited before Sysmon saw it).
    set_path(&mut r, "InitiatingProcessFileName", "InitiatingProcessFolderPath", sysmon_text(e, "ParentImage"));
    set_text(&mut r, "InitiatingProcessCommandLine", sysmon_text(e, "ParentCommandLine"));
    r.long("InitiatingProcessId", e, "ParentProcessId");
    set_text(&mut r, "InitiatingProcessUniqueId", sysmon_guid(e, "ParentProcessGuid"));
    set_account(&mut r, "InitiatingProcessAccountDomain", "InitiatingProcessAccountName", text(e, "ParentUser"));
    r
}

fn security_process(e: &Event) -> Row {
    let mut r = Row::new(&schema::DEVICE_PROCESS_EVENTS, e, "ProcessCreated");
    set_path(&mut r, "FileName", "FolderPath", text(e, "NewProcessName"));
    r.long("ProcessId", e, "NewProcessId");
    r.copy("ProcessCommandLine", e, "CommandLine");
    if let Some(level) = text(e, "MandatoryLabel").and_then(|l| integrity_from_label(&l)) {
        r.set("ProcessIntegrityLevel", Value::from(level));
    }
    // Version 2 names the new process's account in Target*. When the process runs as its
    // creator, Target* is empty (`-`, the null SID S-1-0-0, logon id 0x0), as it is always in
    // versions 0 and 1, and the Subject is the account. Windows also writes the null SID next
    // to a real target name and logon id (a process started under another logon, such as a
    // relayed one): the target is still the account, only its SID is unknown.
    let target_sid = text(e, "TargetUserSid").filter(|s| s != "S-1-0-0");
    if target_sid.is_some() || text(e, "TargetUserName").is_some() {
        r.copy("AccountDomain", e, "TargetDomainName");
        r.copy("AccountName", e, "TargetUserName");
        set_text(&mut r, "AccountSid", target_sid);
        r.long("LogonId", e, "TargetLogonId");
    } else {
        r.copy("AccountDomain", e, "SubjectDomainName");
        r.copy("AccountName", e, "SubjectUserName");
        r.copy("AccountSid", e, "SubjectUserSid");
        r.long("LogonId", e, "SubjectLogonId");
    }
    set_path(&mut r, "InitiatingProcessFileName", "InitiatingProcessFolderPath", text(e, "ParentProcessName"));
    r.long("InitiatingProcessId", e, "ProcessId");
    r.copy("InitiatingProcessAccountDomain", e, "SubjectDomainName");
    r.copy("InitiatingProcessAccountName", e, "SubjectUserName");
    r.copy("InitiatingProcessAccountSid", e, "SubjectUserSid");
    r.long("InitiatingProcessLogonId", e, "SubjectLogonId");
    r
}

fn sysmon_network(e: &Event) -> Row {
    let initiated = e.fields.get_str("Initiated").is_none_or(|v| match v {
        Value::Bool(b) => *b,
        other => other.to_text().eq_ignore_ascii_case("true"),
    });
    let action = if initiated { "ConnectionSuccess" } else { "InboundConnectionAccepted" };
    let mut r = Row::new(&schema::DEVICE_NETWORK_EVENTS, e, action);
    // Sysmon names the initiator Source; Defender names the far end Remote.
    let (remote, local) = if initiated { ("Destination", "Source") } else { ("Source", "Destination") };
    r.copy("RemoteIP", e, &format!("{remote}Ip"));
    r.long("RemotePort", e, &format!("{remote}Port"));
    r.copy("RemoteUrl", e, &format!("{remote}Hostname"));
    r.copy("LocalIP", e, &format!("{local}Ip"));
    r.long("LocalPort", e, &format!("{local}Port"));
    // Sysmon writes `tcp` and `udp`; Defender's column holds `Tcp` and `Udp`, and KQL's `==`
    // is case-sensitive.
    if let Some(p) = text(e, "Protocol") {
        r.set("Protocol", Value::from(title_case(&p)));
    }
    sysmon_initiator(&mut r, e);
    r
}

/// `tcp` → `Tcp`.
fn title_case(s: &str) -> String {
    let mut out = s.to_ascii_lowercase();
    if let Some(first) = out.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    out
}

fn sysmon_file(e: &Event) -> Row {
    let action = if e.event_id == 11 { "FileCreated" } else { "FileDeleted" };
    let mut r = Row::new(&schema::DEVICE_FILE_EVENTS, e, action);
    set_path(&mut r, "FileName", "FolderPath", text(e, "TargetFilename"));
    set_hashes(&mut r, e);
    sysmon_initiator(&mut r, e);
    r
}

fn sysmon_registry(e: &Event) -> Row {
    let event_type = text(e, "EventType").map(|s| s.to_string()).unwrap_or_default();
    let (action, is_value) = match (e.event_id, event_type.as_str()) {
        (12, "DeleteKey") => ("RegistryKeyDeleted", false),
        (12, "DeleteValue") => ("RegistryValueDeleted", true),
        (12, _) => ("RegistryKeyCreated", false),
        (13, _) => ("RegistryValueSet", true),
        _ => ("RegistryKeyRenamed", false),
    };
    let mut r = Row::new(&schema::DEVICE_REGISTRY_EVENTS, e, action);
    if let Some(target) = text(e, "TargetObject") {
        let target = long_hive(&target);
        if is_value {
            let (key, value) = target.rsplit_once('\\').unwrap_or((&target, ""));
            r.set("RegistryKey", Value::from(key));
            r.set("RegistryValueName", Value::from(value));
        } else {
            r.set("RegistryKey", Value::from(target.as_str()));
        }
    }
    if e.event_id == 14 {
        if let Some(new) = text(e, "NewName") {
            let old = r.get("RegistryKey").cloned();
            r.set("RegistryKey", Value::from(long_hive(&new)));
            if let Some(old) = old {
                r.set("PreviousRegistryKey", old);
            }
        }
    } else if let Some(details) = text(e, "Details") {
        r.set("RegistryValueData", Value::from(registry_data(&details)));
    }
    sysmon_initiator(&mut r, e);
    r
}

/// Sysmon's `Details` as Defender's `RegistryValueData`: Sysmon writes numbers as
/// `DWORD (0x00000001)` and `QWORD (0xHIGH-0xLOW)`, Defender as decimal text (`1`). Strings, and
/// Sysmon's `Binary Data` (it does not log the bytes), stay as they are.
fn registry_data(details: &str) -> String {
    let hex = |h: &str| u64::from_str_radix(h.trim().strip_prefix("0x")?, 16).ok();
    let inner = |prefix: &str| details.strip_prefix(prefix)?.strip_suffix(')');
    if let Some(n) = inner("DWORD (").and_then(hex) {
        return n.to_string();
    }
    if let Some((high, low)) = inner("QWORD (").and_then(|q| q.split_once('-'))
        && let (Some(h), Some(l)) = (hex(high), hex(low))
    {
        return ((h << 32) | l).to_string();
    }
    details.to_string()
}

fn sysmon_image_load(e: &Event) -> Row {
    let mut r = Row::new(&schema::DEVICE_IMAGE_LOAD_EVENTS, e, "ImageLoaded");
    set_path(&mut r, "FileName", "FolderPath", text(e, "ImageLoaded"));
    set_hashes(&mut r, e);
    sysmon_initiator(&mut r, e);
    r
}

fn security_logon(e: &Event) -> Row {
    let action = match e.event_id {
        4624 => "LogonSuccess",
        4625 => "LogonFailed",
        _ => "Logoff",
    };
    let mut r = Row::new(&schema::DEVICE_LOGON_EVENTS, e, action);
    if let Some(name) = e.fields.get_str("LogonType").and_then(Value::as_i64).and_then(logon_type_name) {
        r.set("LogonType", Value::from(name));
    }
    r.copy("AccountDomain", e, "TargetDomainName");
    r.copy("AccountName", e, "TargetUserName");
    // A failed logon of an unknown user carries the null SID: the account has no SID to give.
    set_text(&mut r, "AccountSid", text(e, "TargetUserSid").filter(|s| s != "S-1-0-0"));
    r.long("LogonId", e, "TargetLogonId");
    r.copy("Protocol", e, "AuthenticationPackageName");
    if e.event_id == 4625 {
        let reason =
            [text(e, "FailureReason"), text(e, "Status"), text(e, "SubStatus")].into_iter().flatten().collect::<Vec<_>>().join(" ");
        r.set("FailureReason", Value::from(reason));
    }
    r.copy("RemoteDeviceName", e, "WorkstationName");
    r.copy("RemoteIP", e, "IpAddress");
    r.long("RemotePort", e, "IpPort");
    set_path(&mut r, "InitiatingProcessFileName", "InitiatingProcessFolderPath", text(e, "ProcessName"));
    // Network logons name no local process: ProcessName `-` and ProcessId `0x0`, which is not a
    // process (PID 0 is the idle process).
    if let Some(pid) = e.fields.get_str("ProcessId").and_then(Value::as_i64).filter(|p| *p != 0) {
        r.set("InitiatingProcessId", Value::Int(pid));
    }
    r
}

fn security_task(e: &Event) -> Row {
    let action = match e.event_id {
        4698 => "ScheduledTaskCreated",
        4699 => "ScheduledTaskDeleted",
        4700 => "ScheduledTaskEnabled",
        4701 => "ScheduledTaskDisabled",
        _ => "ScheduledTaskUpdated",
    };
    let mut r = Row::new(&schema::DEVICE_EVENTS, e, action);
    r.copy("AccountDomain", e, "SubjectDomainName");
    r.copy("AccountName", e, "SubjectUserName");
    r.copy("AccountSid", e, "SubjectUserSid");
    r.long("LogonId", e, "SubjectLogonId");
    r.long("InitiatingProcessId", e, "ClientProcessId");
    let content = text(e, "TaskContent").or_else(|| text(e, "TaskContentNew"));
    r.set("AdditionalFields", additional_fields(&[("TaskName", text(e, "TaskName")), ("TaskContent", content)]));
    r
}

fn scheduler_task(e: &Event) -> Row {
    let action = match e.event_id {
        106 => "ScheduledTaskCreated",
        140 => "ScheduledTaskUpdated",
        141 => "ScheduledTaskDeleted",
        _ => "ScheduledTaskDisabled",
    };
    let mut r = Row::new(&schema::DEVICE_EVENTS, e, action);
    set_account(&mut r, "AccountDomain", "AccountName", text(e, "UserContext").or_else(|| text(e, "UserName")));
    r.set("AdditionalFields", additional_fields(&[("TaskName", text(e, "TaskName"))]));
    r
}

fn sysmon_dns(e: &Event) -> Row {
    let mut r = Row::new(&schema::DEVICE_EVENTS, e, "DnsQueryResponse");
    r.copy("RemoteUrl", e, "QueryName");
    sysmon_initiator(&mut r, e);
    r.set(
        "AdditionalFields",
        additional_fields(&[
            ("DnsQueryString", text(e, "QueryName")),
            ("DnsQueryResult", text(e, "QueryResults")),
            ("QueryStatus", text(e, "QueryStatus")),
        ]),
    );
    r
}

fn powershell_block(e: &Event) -> Row {
    let mut r = Row::new(&schema::DEVICE_EVENTS, e, "PowerShellCommand");
    r.set(
        "AdditionalFields",
        additional_fields(&[
            ("Command", text(e, "ScriptBlockText")),
            ("ScriptBlockId", text(e, "ScriptBlockId")),
            ("Path", text(e, "Path")),
            ("MessageNumber", text(e, "MessageNumber")),
            ("MessageTotal", text(e, "MessageTotal")),
        ]),
    );
    if let Some(v) = e.system.get_str("Execution_ProcessID").and_then(Value::as_i64) {
        r.set("InitiatingProcessId", Value::Int(v));
    }
    r
}

/// A Defender export row goes into its own table with its own column values.
fn defender_row(e: &Event, table: &'static TableSchema) -> Option<Row> {
    let mut r = Row { table, values: vec![Value::Null; table.columns.len()] };
    for (i, (col, ty)) in table.columns.iter().enumerate() {
        let Some(v) = e.fields.get_str(col).filter(|v| !v.is_null()) else { continue };
        r.values[i] = match ty {
            schema::ColumnType::Long => v.as_i64().map_or(Value::Null, Value::Int),
            schema::ColumnType::Timestamp => Value::from(e.timestamp.to_string()),
            schema::ColumnType::String => Value::from(v.to_text().into_owned()),
        };
    }
    // Our ReportId names file and line; Defender's own ReportId stays in the raw fields.
    r.set("ReportId", Value::from(e.report_id()));
    Some(r)
}

/// The raw table an event belongs to: its source log, by channel (or provider when the event
/// has no channel).
pub fn raw_table(event: &Event) -> &'static str {
    match &*event.channel {
        SYSMON => "sysmon",
        SECURITY => "security",
        TASK_SCHEDULER => "taskscheduler",
        POWERSHELL | POWERSHELL_CLASSIC => "powershell",
        "System" => "system",
        "" => match &*event.provider {
            "Microsoft-Windows-Sysmon" => "sysmon",
            "Microsoft-Windows-Security-Auditing" => "security",
            "Microsoft-Windows-TaskScheduler" => "taskscheduler",
            "Microsoft-Windows-PowerShell" => "powershell",
            _ => "other",
        },
        _ => "other",
    }
}
