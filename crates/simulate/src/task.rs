//! Scheduled tasks: definitions, their XML (as Security 4698 `TaskContent` carries it), and the
//! telemetry of registering, changing, deleting and running them.

use crate::emit::Cx;
use crate::host::{Acct, Proc};
use crate::record::{Chan, Data, Header, MS, xml_escape, xml_time};

#[derive(Debug, Clone)]
pub enum Trigger {
    /// CalendarTrigger, every day from `start` (task XML local time, possibly a literal).
    Daily {
        start: String,
        random_delay: Option<&'static str>,
    },
    /// TimeTrigger repeated every `interval` (ISO 8601 duration) for `duration` (or forever).
    Repeat {
        start: String,
        interval: &'static str,
        duration: Option<&'static str>,
    },
    Once {
        start: String,
    },
    Logon {
        user: Option<String>,
    },
    Boot,
}

#[derive(Debug, Clone)]
pub enum Action {
    Exec { command: String, args: Option<String>, workdir: Option<String> },
    Com { clsid: String, data: Option<String> },
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub id: &'static str,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub logon_type: Option<&'static str>,
    pub run_level: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub hidden: bool,
    pub enabled: bool,
    pub start_when_available: bool,
    pub on_batteries: bool,
    pub idle_wait: bool,
    pub exec_limit: &'static str,
    pub priority: u8,
}

impl Settings {
    /// What `schtasks /create` writes.
    pub fn schtasks() -> Settings {
        Settings {
            hidden: false,
            enabled: true,
            start_when_available: false,
            on_batteries: false,
            idle_wait: true,
            exec_limit: "PT72H",
            priority: 7,
        }
    }

    /// What vendor installers and the OS register: runs on batteries, catches up missed runs.
    pub fn relaxed(limit: &'static str) -> Settings {
        Settings {
            hidden: false,
            enabled: true,
            start_when_available: true,
            on_batteries: true,
            idle_wait: false,
            exec_limit: limit,
            priority: 7,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TaskDef {
    /// Full path, starting with `\`.
    pub name: String,
    /// The task's GUID, as `TaskCache\Tree\<name>\Id` holds it.
    pub id: String,
    pub version: &'static str,
    pub author: Option<String>,
    pub description: Option<String>,
    /// Registration date (ticks); written as RegistrationInfo/Date.
    pub date: Option<i64>,
    pub uri: bool,
    pub trigger: Trigger,
    pub principal: Principal,
    pub settings: Settings,
    pub action: Action,
    pub context: &'static str,
}

impl TaskDef {
    /// The TaskContent XML: CRLF line ends, two-space indents, a UTF-16 declaration.
    pub fn xml(&self) -> String {
        let mut x = String::with_capacity(2048);
        let nl = "\r\n";
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n");
        x.push_str(&format!("<Task version=\"{}\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">{nl}", self.version));
        if self.date.is_some() || self.author.is_some() || self.description.is_some() || self.uri {
            x.push_str("  <RegistrationInfo>\r\n");
            if let Some(d) = self.date {
                x.push_str(&format!("    <Date>{}</Date>{nl}", xml_time(d, true)));
            }
            if let Some(a) = &self.author {
                x.push_str(&format!("    <Author>{}</Author>{nl}", xml_escape(a)));
            }
            if let Some(d) = &self.description {
                x.push_str(&format!("    <Description>{}</Description>{nl}", xml_escape(d)));
            }
            if self.uri {
                x.push_str(&format!("    <URI>{}</URI>{nl}", xml_escape(&self.name)));
            }
            x.push_str("  </RegistrationInfo>\r\n");
        }
        x.push_str("  <Triggers>\r\n");
        match &self.trigger {
            Trigger::Daily { start, random_delay } => {
                x.push_str("    <CalendarTrigger>\r\n");
                x.push_str(&format!("      <StartBoundary>{start}</StartBoundary>{nl}      <Enabled>true</Enabled>{nl}"));
                if let Some(d) = random_delay {
                    x.push_str(&format!("      <RandomDelay>{d}</RandomDelay>{nl}"));
                }
                x.push_str("      <ScheduleByDay>\r\n        <DaysInterval>1</DaysInterval>\r\n      </ScheduleByDay>\r\n    </CalendarTrigger>\r\n");
            }
            Trigger::Repeat { start, interval, duration } => {
                x.push_str("    <TimeTrigger>\r\n      <Repetition>\r\n");
                x.push_str(&format!("        <Interval>{interval}</Interval>{nl}"));
                if let Some(d) = duration {
                    x.push_str(&format!("        <Duration>{d}</Duration>{nl}"));
                }
                x.push_str("        <StopAtDurationEnd>false</StopAtDurationEnd>\r\n      </Repetition>\r\n");
                x.push_str(&format!(
                    "      <StartBoundary>{start}</StartBoundary>{nl}      <Enabled>true</Enabled>{nl}    </TimeTrigger>{nl}"
                ));
            }
            Trigger::Once { start } => {
                x.push_str(&format!("    <TimeTrigger>{nl}      <StartBoundary>{start}</StartBoundary>{nl}      <Enabled>true</Enabled>{nl}    </TimeTrigger>{nl}"));
            }
            Trigger::Logon { user } => {
                x.push_str("    <LogonTrigger>\r\n      <Enabled>true</Enabled>\r\n");
                if let Some(u) = user {
                    x.push_str(&format!("      <UserId>{}</UserId>{nl}", xml_escape(u)));
                }
                x.push_str("    </LogonTrigger>\r\n");
            }
            Trigger::Boot => x.push_str("    <BootTrigger>\r\n      <Enabled>true</Enabled>\r\n    </BootTrigger>\r\n"),
        }
        x.push_str("  </Triggers>\r\n  <Principals>\r\n");
        let p = &self.principal;
        x.push_str(&format!("    <Principal id=\"{}\">{nl}", p.id));
        if let Some(u) = &p.user_id {
            x.push_str(&format!("      <UserId>{}</UserId>{nl}", xml_escape(u)));
        }
        if let Some(g) = &p.group_id {
            x.push_str(&format!("      <GroupId>{}</GroupId>{nl}", xml_escape(g)));
        }
        if let Some(r) = p.run_level {
            x.push_str(&format!("      <RunLevel>{r}</RunLevel>{nl}"));
        }
        if let Some(l) = p.logon_type {
            x.push_str(&format!("      <LogonType>{l}</LogonType>{nl}"));
        }
        x.push_str("    </Principal>\r\n  </Principals>\r\n  <Settings>\r\n");
        let s = &self.settings;
        let b = |v: bool| if v { "true" } else { "false" };
        x.push_str("    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\r\n");
        x.push_str(&format!("    <DisallowStartIfOnBatteries>{}</DisallowStartIfOnBatteries>{nl}", b(!s.on_batteries)));
        x.push_str(&format!("    <StopIfGoingOnBatteries>{}</StopIfGoingOnBatteries>{nl}", b(!s.on_batteries)));
        x.push_str("    <AllowHardTerminate>true</AllowHardTerminate>\r\n");
        if s.start_when_available {
            x.push_str("    <StartWhenAvailable>true</StartWhenAvailable>\r\n");
        }
        x.push_str("    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>\r\n    <IdleSettings>\r\n");
        if s.idle_wait {
            x.push_str("      <Duration>PT10M</Duration>\r\n      <WaitTimeout>PT1H</WaitTimeout>\r\n");
        }
        x.push_str("      <StopOnIdleEnd>true</StopOnIdleEnd>\r\n      <RestartOnIdle>false</RestartOnIdle>\r\n    </IdleSettings>\r\n");
        x.push_str("    <AllowStartOnDemand>true</AllowStartOnDemand>\r\n");
        x.push_str(&format!("    <Enabled>{}</Enabled>{nl}    <Hidden>{}</Hidden>{nl}", b(s.enabled), b(s.hidden)));
        x.push_str("    <RunOnlyIfIdle>false</RunOnlyIfIdle>\r\n    <WakeToRun>false</WakeToRun>\r\n");
        x.push_str(&format!(
            "    <ExecutionTimeLimit>{}</ExecutionTimeLimit>{nl}    <Priority>{}</Priority>{nl}",
            s.exec_limit, s.priority
        ));
        x.push_str(&format!("  </Settings>{nl}  <Actions Context=\"{}\">{nl}", self.context));
        match &self.action {
            Action::Exec { command, args, workdir } => {
                x.push_str(&format!("    <Exec>{nl}      <Command>{}</Command>{nl}", xml_escape(command)));
                if let Some(a) = args {
                    x.push_str(&format!("      <Arguments>{}</Arguments>{nl}", xml_escape(a)));
                }
                if let Some(w) = workdir {
                    x.push_str(&format!("      <WorkingDirectory>{}</WorkingDirectory>{nl}", xml_escape(w)));
                }
                x.push_str("    </Exec>\r\n");
            }
            Action::Com { clsid, data } => {
                x.push_str(&format!("    <ComHandler>{nl}      <ClassId>{clsid}</ClassId>{nl}"));
                if let Some(d) = data {
                    x.push_str(&format!("      <Data><![CDATA[{d}]]></Data>{nl}"));
                }
                x.push_str("    </ComHandler>\r\n");
            }
        }
        x.push_str("  </Actions>\r\n</Task>");
        x
    }

    /// The process image an Exec action starts, environment variables expanded and the bare
    /// names the scheduler finds on the PATH completed.
    pub fn image(&self, user: &str) -> Option<String> {
        let Action::Exec { command, .. } = &self.action else { return None };
        let c = expand(command.trim_matches('"'), user);
        if c.contains('\\') {
            return Some(c);
        }
        let lower = c.to_ascii_lowercase();
        let name = if lower.ends_with(".exe") { c.clone() } else { format!("{c}.exe") };
        if lower.starts_with("powershell") {
            return Some(format!("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\{name}"));
        }
        Some(format!("C:\\Windows\\System32\\{name}"))
    }

    /// The command line of the started process: the command as written (quoted when it has
    /// spaces), a space, the expanded arguments.
    pub fn command_line(&self, user: &str) -> Option<String> {
        let Action::Exec { command, args, .. } = &self.action else { return None };
        let c = expand(command, user);
        let mut line = if c.contains(' ') && !c.starts_with('"') { format!("\"{c}\"") } else { c };
        if let Some(a) = args {
            line.push(' ');
            line.push_str(&expand(a, user));
        }
        Some(line)
    }
}

/// Expands the environment variables task actions use.
pub fn expand(s: &str, user: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('%') {
            Some(j) => {
                let var = &after[..j];
                let value = match var.to_ascii_lowercase().as_str() {
                    "windir" | "systemroot" => Some("C:\\Windows".to_string()),
                    "systemdrive" => Some("C:".to_string()),
                    "programfiles" => Some("C:\\Program Files".to_string()),
                    "programfiles(x86)" => Some("C:\\Program Files (x86)".to_string()),
                    "programdata" => Some("C:\\ProgramData".to_string()),
                    "localappdata" => Some(format!("C:\\Users\\{user}\\AppData\\Local")),
                    _ => None,
                };
                match value {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('%');
                        out.push_str(var);
                        out.push('%');
                    }
                }
                rest = &after[j + 1..];
            }
            None => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `UserContext` / `UserName` as TaskScheduler events print an account.
pub fn user_context(acct: &Acct) -> String {
    match acct.account.sid.as_str() {
        "S-1-5-18" => "NT AUTHORITY\\System".to_string(),
        "S-1-5-19" => "NT AUTHORITY\\LOCAL SERVICE".to_string(),
        _ => acct.account.qualified(),
    }
}

/// What fired a run, for the event that precedes TaskStartEvent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fired {
    /// 107: time or calendar trigger.
    Time,
    /// 119: logon trigger.
    Logon,
    /// 110: run on demand (`schtasks /run`, SchRpcRun), by the given account.
    Demand,
}

/// A task instance in flight.
#[derive(Debug, Clone)]
pub struct Run {
    pub instance: String,
    pub proc: Option<Proc>,
    pub engine_pid: u32,
    pub action_name: String,
}

impl<'a> Cx<'a> {
    fn ts_header(&mut self, id: u16, activity: &str) -> Header {
        let (version, opcode) = match id {
            100 | 200 => (0, 1),
            102 => (0, 2),
            201 => (2, 2),
            119 | 129 => (1, 0),
            _ => (0, 0),
        };
        Header {
            id,
            version,
            level: 4,
            task: id,
            opcode,
            keywords: "0x8000000000000000",
            activity: Some(activity.into()),
            pid: self.host.schedule.pid,
            tid: self.rng.pid(),
            user: Some("S-1-5-18".into()),
        }
    }

    fn security_task_event(&mut self, t: i64, id: u16, task: &TaskDef, subject: &Acct) {
        let host = self.host;
        let (name, domain) = if subject.is_system() {
            (format!("{}$", host.short), crate::host::DOMAIN.to_string())
        } else {
            (subject.account.name.clone(), subject.account.domain.clone())
        };
        let header = self.security_header(id, 0, 12804, host.lsass_pid);
        let content_key = if id == 4702 { "TaskContentNew" } else { "TaskContent" };
        let data = Data::new()
            .s("SubjectUserSid", &subject.account.sid)
            .s("SubjectUserName", &name)
            .s("SubjectDomainName", &domain)
            .x("SubjectLogonId", subject.logon_id)
            .s("TaskName", &task.name)
            .s(content_key, &task.xml());
        self.out.push(t, Chan::Security, header, data);
    }

    fn ts_registration(&mut self, t: i64, id: u16, template: &str, user_key: &str, task: &TaskDef, by: &Acct) {
        let activity = self.rng.guid();
        let header = self.ts_header(id, &activity);
        let data = Data::named(template).s("TaskName", &task.name).s(user_key, &user_context(by));
        self.out.push(t, Chan::TaskScheduler, header, data);
    }

    /// Registration: Security 4698, TaskScheduler 106, the task file under System32\Tasks and
    /// the TaskCache tree values, all written by the Schedule service.
    pub fn register_task(&mut self, t: i64, task: &TaskDef, by: &Acct) {
        let schedule = self.host.schedule.clone();
        self.security_task_event(t, 4698, task, by);
        let t1 = t + self.rng.range(MS, 30 * MS);
        self.ts_registration(t1, 106, "TaskRegisteredEvent", "UserContext", task, by);
        let at = t - self.rng.range(2 * MS, 9 * MS);
        self.file_create(at, &schedule, &format!("C:\\Windows\\System32\\Tasks{}", task.name));
        let tree = format!("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree{}", task.name);
        let t2 = t - self.rng.range(MS, 2 * MS);
        self.reg_set(t2, &schedule, &format!("{tree}\\Id"), &task.id);
        self.reg_set(t2 + 1, &schedule, &format!("{tree}\\Index"), "DWORD (0x00000003)");
        self.reg_set(t2 + 2, &schedule, &format!("{tree}\\SD"), "Binary Data");
    }

    /// Deletion: Security 4699 (with the content) and TaskScheduler 141.
    pub fn delete_task(&mut self, t: i64, task: &TaskDef, by: &Acct) {
        self.security_task_event(t, 4699, task, by);
        let t1 = t + self.rng.range(MS, 30 * MS);
        self.ts_registration(t1, 141, "TaskRegistrationDeleted", "UserName", task, by);
    }

    /// Update: Security 4702 with the new content, TaskScheduler 140.
    pub fn update_task(&mut self, t: i64, task: &TaskDef, by: &Acct) {
        self.security_task_event(t, 4702, task, by);
        let t1 = t + self.rng.range(MS, 30 * MS);
        self.ts_registration(t1, 140, "TaskRegistrationUpdatedEvent", "UserName", task, by);
    }

    /// Enable (4700, 140) or disable (4701, 142); `task` carries the new state.
    pub fn set_task_enabled(&mut self, t: i64, task: &TaskDef, by: &Acct) {
        let enabled = task.settings.enabled;
        self.security_task_event(t, if enabled { 4700 } else { 4701 }, task, by);
        let t1 = t + self.rng.range(MS, 30 * MS);
        if enabled {
            self.ts_registration(t1, 140, "TaskRegistrationUpdatedEvent", "UserName", task, by);
        } else {
            self.ts_registration(t1, 142, "TaskDisabled", "UserName", task, by);
        }
    }

    /// Starts one run of `task` as `acct`: the trigger event, 100, and for Exec actions 129, the
    /// process (4688 + Sysmon 1 as a child of the Schedule service) and 200. The caller adds
    /// what the process does, then calls [`Cx::finish_run`].
    pub fn start_run(&mut self, t: i64, task: &TaskDef, fired: Fired, acct: &Acct, demand_by: Option<&Acct>, salt: u64) -> Run {
        let instance = self.rng.guid();
        let ctx = user_context(acct);
        let mut at = t;
        match fired {
            Fired::Time => {
                let h = self.ts_header(107, &instance);
                self.out.push(
                    at,
                    Chan::TaskScheduler,
                    h,
                    Data::named("TimeTriggerEvent").s("TaskName", &task.name).s("InstanceId", &instance),
                );
            }
            Fired::Logon => {
                let h = self.ts_header(119, &instance);
                let d = Data::named("LogonTriggerEvent").s("TaskName", &task.name).s("UserName", &ctx).s("InstanceId", &instance);
                self.out.push(at, Chan::TaskScheduler, h, d);
            }
            Fired::Demand => {
                let by = demand_by.map(user_context).unwrap_or_else(|| ctx.clone());
                let h = self.ts_header(110, &instance);
                let d = Data::named("TaskRunEvent").s("TaskName", &task.name).s("InstanceId", &instance).s("UserContext", &by);
                self.out.push(at, Chan::TaskScheduler, h, d);
            }
        }
        at += self.rng.range(2 * MS, 40 * MS);
        let h = self.ts_header(100, &instance);
        let d = Data::named("TaskStartEvent").s("TaskName", &task.name).s("UserContext", &ctx).s("InstanceId", &instance);
        self.out.push(at, Chan::TaskScheduler, h, d);
        let user = &acct.account.name;
        let (proc, engine_pid, action_name) = match (&task.action, task.image(user), task.command_line(user)) {
            (Action::Exec { .. }, Some(image), Some(cmd)) => {
                at += self.rng.range(5 * MS, 60 * MS);
                let schedule = self.host.schedule.clone();
                let proc = self.spawn(at, &schedule, &image, &cmd, acct, salt);
                let h = self.ts_header(129, &instance);
                let prio = if task.settings.priority >= 7 { 16384 } else { 32 };
                let d = Data::named("CreatedTaskProcess")
                    .s("TaskName", &task.name)
                    .s("Path", &image)
                    .n("ProcessID", proc.pid as u64)
                    .n("Priority", prio);
                self.out.push(at + self.rng.range(MS, 5 * MS), Chan::TaskScheduler, h, d);
                (Some(proc.clone()), proc.pid, image)
            }
            (Action::Com { clsid, .. }, _, _) => (None, self.rng.pid(), clsid.clone()),
            _ => (None, self.rng.pid(), String::new()),
        };
        let h = self.ts_header(200, &instance);
        let d = Data::named("ActionStart")
            .s("TaskName", &task.name)
            .s("ActionName", &action_name)
            .s("TaskInstanceId", &instance)
            .n("EnginePID", engine_pid as u64);
        self.out.push(at + self.rng.range(5 * MS, 12 * MS), Chan::TaskScheduler, h, d);
        Run { instance, proc, engine_pid, action_name }
    }

    /// Ends a run: 201 with the action's result code, 102.
    pub fn finish_run(&mut self, t: i64, task: &TaskDef, run: &Run, acct: &Acct, result: u64) {
        let h = self.ts_header(201, &run.instance);
        let d = Data::named("ActionSuccess")
            .s("TaskName", &task.name)
            .s("TaskInstanceId", &run.instance)
            .s("ActionName", &run.action_name)
            .n("ResultCode", result)
            .n("EnginePID", run.engine_pid as u64);
        self.out.push(t, Chan::TaskScheduler, h, d);
        let h = self.ts_header(102, &run.instance);
        let d =
            Data::named("TaskSuccessEvent").s("TaskName", &task.name).s("UserContext", &user_context(acct)).s("InstanceId", &run.instance);
        self.out.push(t + self.rng.range(MS, 20 * MS), Chan::TaskScheduler, h, d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TaskDef {
        TaskDef {
            name: "\\Corp\\Job".into(),
            id: "{A}".into(),
            version: "1.2",
            author: Some("CORP\\adm-x".into()),
            description: None,
            date: Some(0),
            uri: true,
            trigger: Trigger::Daily { start: "2024-03-05T03:00:00".into(), random_delay: None },
            principal: Principal {
                id: "Author",
                user_id: Some("S-1-5-18".into()),
                group_id: None,
                logon_type: None,
                run_level: Some("LeastPrivilege"),
            },
            settings: Settings::schtasks(),
            action: Action::Exec {
                command: "%windir%\\system32\\cmd.exe".into(),
                args: Some("/c echo a > \"b c\" 2>&1".into()),
                workdir: None,
            },
            context: "Author",
        }
    }

    #[test]
    fn xml_has_every_section_and_escapes_text() {
        let x = sample().xml();
        assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.2\""));
        for part in [
            "<RegistrationInfo>",
            "<URI>\\Corp\\Job</URI>",
            "<CalendarTrigger>",
            "<Principals>",
            "<Settings>",
            "<Actions Context=\"Author\">",
        ] {
            assert!(x.contains(part), "{part} missing");
        }
        assert!(x.contains("<Arguments>/c echo a &gt; &quot;b c&quot; 2&gt;&amp;1</Arguments>"));
        assert!(x.ends_with("</Task>"));
    }

    #[test]
    fn command_lines_expand_variables_and_find_images() {
        let t = sample();
        assert_eq!(t.image("u").unwrap(), "C:\\Windows\\system32\\cmd.exe");
        assert_eq!(t.command_line("u").unwrap(), "C:\\Windows\\system32\\cmd.exe /c echo a > \"b c\" 2>&1");
        let mut p = sample();
        p.action = Action::Exec { command: "powershell".into(), args: Some("-nop".into()), workdir: None };
        assert_eq!(p.image("u").unwrap(), "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe");
        assert_eq!(expand("%LOCALAPPDATA%\\x %unknown% 100%", "bob"), "C:\\Users\\bob\\AppData\\Local\\x %unknown% 100%");
    }
}
