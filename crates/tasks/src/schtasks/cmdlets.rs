//! What the ScheduledTasks cmdlets build: actions, triggers, principals, settings and the task
//! that Register-/Set-ScheduledTask registers.

use std::rc::Rc;

use super::args::{date_str, day_name, iso_duration, parse_date, parse_time, time_of_day, timespan};
use super::pslex::Tok;
use super::script::{Bound, Eval, MAX_ITEMS, Val, bind, flatten};
use super::{TaskCommand, Tool, Verb, full_name, is_local_host, new_definition};
use crate::model::{Action, Principal, Settings, Trigger, TriggerKind};

impl Eval<'_> {
    pub(super) fn new_action(&mut self, src: &str, args: &[Tok], depth: usize) -> Val {
        let b = bind(args, &[("execute", false), ("argument", false), ("workingdirectory", false), ("id", false), ("cimsession", false)]);
        let mut pos = b.positional.iter();
        let command = self.param_text(src, &b, "execute", depth).or_else(|| pos.next().and_then(|a| self.arg_val(src, a, depth).text()));
        let arguments = self.param_text(src, &b, "argument", depth).or_else(|| pos.next().and_then(|a| self.arg_val(src, a, depth).text()));
        let Some(command) = command else {
            self.notes.push("New-ScheduledTaskAction without -Execute".into());
            return Val::Nil;
        };
        let working_directory = self.param_text(src, &b, "workingdirectory", depth);
        let size = command.len() + arguments.as_ref().map_or(0, String::len) + working_directory.as_ref().map_or(0, String::len);
        if !self.charge(size) {
            return Val::Nil;
        }
        let v = Val::Action(Rc::new(Action::Exec { command, arguments: arguments.filter(|a| !a.is_empty()), working_directory }));
        if self.seen_actions.len() < MAX_ITEMS {
            self.seen_actions.push(v.clone());
        }
        v
    }

    pub(super) fn new_trigger(&mut self, src: &str, args: &[Tok], depth: usize) -> Val {
        let b = bind(args, TRIGGER);
        let mut t = Trigger::default();
        if b.switch("atlogon") {
            t.kind = TriggerKind::Logon;
            t.detail = self.param_text(src, &b, "user", depth);
        } else if b.switch("atstartup") {
            t.kind = TriggerKind::Boot;
        } else if b.switch("once") {
            t.kind = TriggerKind::Time;
        } else if b.switch("daily") {
            t.kind = TriggerKind::Daily;
            t.days_interval = Some(self.param_text(src, &b, "daysinterval", depth).and_then(|d| d.trim().parse().ok()).unwrap_or(1));
        } else if b.switch("weekly") {
            t.kind = TriggerKind::Weekly;
            t.weeks_interval = Some(self.param_text(src, &b, "weeksinterval", depth).and_then(|d| d.trim().parse().ok()).unwrap_or(1));
            for v in self.items(src, &b, "daysofweek", depth) {
                let Some(text) = v.text() else { continue };
                // PowerShell's DayOfWeek numbers start at Sunday = 0.
                let day = match text.trim().parse::<usize>() {
                    Ok(n) => ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"].get(n).copied(),
                    Err(_) => day_name(&text),
                };
                match day {
                    Some(d) if !t.days_of_week.iter().any(|x| x == d) => t.days_of_week.push(d.into()),
                    Some(_) => {}
                    None => self.notes.push(format!("-DaysOfWeek {text:?} is not a day")),
                }
            }
        } else {
            self.notes.push("New-ScheduledTaskTrigger without -Once, -Daily, -Weekly, -AtLogOn or -AtStartup".into());
        }
        if let Some(at) = self.param_val(src, &b, "at", depth) {
            let raw = Self::param_raw(src, &b, "at").unwrap_or_default();
            t.start_boundary = at.text().and_then(|s| ps_datetime(&s));
            if t.start_boundary.is_none() {
                self.notes.push(format!("-At {raw} is not a literal date or time (computed when the script runs)"));
            }
        }
        t.repetition_interval = self.duration(src, &b, "repetitioninterval", depth);
        t.repetition_duration = self.duration(src, &b, "repetitionduration", depth);
        t.delay = self.duration(src, &b, "randomdelay", depth);
        let v = Val::Trigger(Rc::new(t));
        if self.seen_triggers.len() < MAX_ITEMS {
            self.seen_triggers.push(v.clone());
        }
        v
    }

    pub(super) fn duration(&mut self, src: &str, b: &Bound<'_>, name: &str, depth: usize) -> Option<String> {
        let v = self.param_val(src, b, name, depth)?;
        let raw = Self::param_raw(src, b, name).unwrap_or_default();
        let lower = raw.to_ascii_lowercase().replace(' ', "");
        if lower.contains("maxvalue") {
            return None;
        }
        let from =
            ["fromdays(", "fromhours(", "fromminutes(", "fromseconds("].iter().zip([86_400u64, 3600, 60, 1]).find_map(|(f, unit)| {
                let inner = lower.split(f).nth(1)?.split(')').next()?;
                inner.parse::<u64>().ok().filter(|n| *n < 10_000_000).map(|n| iso_duration(n * unit))
            });
        let d = match &v {
            Val::Duration(d) => Some(d.to_string()),
            _ => from.or_else(|| v.text().and_then(|t| timespan(&t))),
        };
        if d.is_none() {
            self.notes.push(format!("-{name} {raw} is not a literal time span"));
        }
        d
    }

    pub(super) fn new_settings(&mut self, src: &str, args: &[Tok], depth: usize) -> Val {
        let b = bind(args, SETTINGS);
        let mut s = Settings {
            hidden: b.switch("hidden"),
            enabled: !b.switch("disable"),
            wake_to_run: b.switch("waketorun"),
            start_when_available: b.switch("startwhenavailable"),
            ..Settings::default()
        };
        s.execution_time_limit = self.duration(src, &b, "executiontimelimit", depth);
        s.delete_expired_task_after = self.duration(src, &b, "deleteexpiredtaskafter", depth);
        s.priority = self.param_text(src, &b, "priority", depth).and_then(|p| p.trim().parse().ok()).filter(|p| *p <= 10);
        s.multiple_instances_policy = self.param_text(src, &b, "multipleinstances", depth).map(|m| {
            ["IgnoreNew", "Parallel", "Queue", "StopExisting"]
                .iter()
                .find(|x| x.eq_ignore_ascii_case(m.trim()))
                .map_or(m.clone(), |x| x.to_string())
        });
        Val::Settings(Rc::new(s))
    }

    pub(super) fn principal_params(&mut self, src: &str, b: &Bound<'_>, user: &str, p: &mut Principal, depth: usize) {
        if let Some(u) = self.param_text(src, b, user, depth) {
            p.user_id = Some(u);
        }
        if let Some(rl) = self.param_text(src, b, "runlevel", depth) {
            p.run_level = Some(match rl.trim().to_ascii_lowercase().as_str() {
                "highest" => "HighestAvailable".into(),
                "limited" => "LeastPrivilege".into(),
                _ => rl,
            });
        }
    }

    /// Register-/Set-/New-ScheduledTask and the name-only cmdlets.
    pub(super) fn task_command(&mut self, src: &str, b: &Bound<'_>, piped: Option<Val>, verb: Verb, depth: usize) -> TaskCommand {
        let mut cmd = TaskCommand::new(Tool::PowerShell, verb);
        let mut def = new_definition(None);
        let input = self.param_val(src, b, "inputobject", depth).or(piped);
        let mut texts = Vec::new();
        let mut objects = Vec::new();
        for a in &b.positional {
            let v = self.arg_val(src, a, depth);
            match v.text() {
                Some(t) if texts.len() < 2 => texts.push(t),
                _ => flatten(&v, &mut objects),
            }
        }
        if let Some(Val::Task(t)) = &input {
            def = (**t).clone();
            self.charge(def.actions.iter().filter_map(Action::command_line).map(|c| c.len()).sum());
        }
        let name = self.param_text(src, b, "taskname", depth).or_else(|| texts.first().cloned());
        let path = self.param_text(src, b, "taskpath", depth).or_else(|| texts.get(1).cloned());
        cmd.task_name = match (path, name) {
            (Some(p), Some(n)) => Some(join_path(&p, &n)),
            (None, Some(n)) => Some(full_name(&n)),
            (_, None) => (!def.name.is_empty()).then(|| def.name.clone()),
        };
        def.name = cmd.task_name.clone().unwrap_or_default();
        let mut pieces = self.items(src, b, "action", depth);
        let given_action = b.get("action").is_some();
        pieces.extend(self.items(src, b, "trigger", depth));
        let given_trigger = b.get("trigger").is_some();
        pieces.extend(self.param_val(src, b, "principal", depth));
        pieces.extend(self.param_val(src, b, "settings", depth));
        pieces.extend(objects);
        let (mut actions, mut triggers) = (Vec::new(), Vec::new());
        for p in &pieces {
            match p {
                Val::Action(a) => actions.push((**a).clone()),
                Val::Trigger(t) => triggers.push((**t).clone()),
                Val::Principal(pr) => def.principal = (**pr).clone(),
                Val::Settings(s) => def.settings = (**s).clone(),
                _ => {}
            }
        }
        if given_action && actions.is_empty() {
            let raw = Self::param_raw(src, b, "action").unwrap_or_default();
            if self.seen_actions.is_empty() {
                cmd.warnings.push(format!("-Action {raw} could not be followed"));
            } else {
                cmd.warnings.push(format!("-Action {raw} could not be followed; using the actions the script creates"));
                actions =
                    self.seen_actions.iter().filter_map(|v| if let Val::Action(a) = v { Some((**a).clone()) } else { None }).collect();
            }
        }
        if given_trigger && triggers.is_empty() {
            cmd.warnings.push(format!(
                "-Trigger {} could not be followed; using the triggers the script creates",
                Self::param_raw(src, b, "trigger").unwrap_or_default()
            ));
            triggers = self.seen_triggers.iter().filter_map(|v| if let Val::Trigger(t) = v { Some((**t).clone()) } else { None }).collect();
        }
        self.charge(actions.iter().filter_map(Action::command_line).map(|c| c.len()).sum());
        if !actions.is_empty() {
            def.actions = actions;
        }
        if !triggers.is_empty() {
            def.triggers = triggers;
        }
        self.principal_params(src, b, "user", &mut def.principal, depth);
        if b.get("password").is_some() {
            def.principal.logon_type = Some("Password".into());
        }
        if let Some(d) = self.param_text(src, b, "description", depth) {
            def.registration.description = Some(d);
        }
        if let Some(x) = self.param_val(src, b, "xml", depth) {
            match x.text().filter(|t| t.trim_start().starts_with('<')) {
                Some(text) => match crate::xml::parse_task(text.trim()) {
                    Ok(mut parsed) => {
                        parsed.name = def.name.clone();
                        parsed.origin = def.origin.clone();
                        def = parsed;
                    }
                    Err(e) => cmd.warnings.push(format!("-Xml is not a readable task: {}", e.message)),
                },
                None => cmd.xml_file = Self::param_raw(src, b, "xml"),
            }
        }
        cmd.force = b.switch("force");
        cmd.remote_host = self.param_text(src, b, "cimsession", depth).filter(|h| !h.starts_with('$'));
        if let Some(h) = &cmd.remote_host {
            def.origin.remote = Some(!is_local_host(h));
        }
        cmd.run_as = def.principal.user_id.clone();
        if verb == Verb::Create && def.actions.is_empty() && cmd.xml_file.is_none() {
            cmd.warnings.push("no -Action".into());
        }
        if matches!(verb, Verb::Create | Verb::Change) && cmd.task_name.is_none() {
            cmd.warnings.push("no -TaskName".into());
        }
        cmd.definition = Some(def);
        cmd
    }
}

/// `-TaskPath \\Microsoft\\` + `-TaskName x` → `\\Microsoft\\x`.
pub(super) fn join_path(path: &str, name: &str) -> String {
    let (p, n) = (path.trim_matches('\\'), name.trim_start_matches('\\'));
    if p.is_empty() { format!("\\{n}") } else { format!("\\{p}\\{n}") }
}

pub(super) fn set_remote(c: &mut TaskCommand, host: &str) {
    if c.remote_host.is_none() {
        c.remote_host = Some(host.to_string());
        if let Some(d) = &mut c.definition {
            d.origin.remote = Some(!is_local_host(host));
        }
    }
}

pub(super) fn logon_type(l: &str) -> String {
    match l.trim().to_ascii_lowercase().as_str() {
        "s4u" => "S4U".into(),
        "password" => "Password".into(),
        "interactive" => "InteractiveToken".into(),
        "interactiveorpassword" => "InteractiveTokenOrPassword".into(),
        "serviceaccount" => "ServiceAccount".into(),
        "group" => "Group".into(),
        "none" => "None".into(),
        _ => l.to_string(),
    }
}

/// A literal `-At` value: `3am`, `03:00`, `2026-01-05 03:00`, `1/5/2026 3:00 PM`,
/// `2026-01-05T03:00:00`.
pub(super) fn ps_datetime(s: &str) -> Option<String> {
    let s = s.trim();
    let mut date = None;
    let mut time_text = String::new();
    for part in s.split_whitespace() {
        let (d, t) = match part.split_once(['T', 't']) {
            Some((d, t)) if parse_date(d).is_some() => (Some(d), t),
            _ => (None, part),
        };
        if let Some(d) = d {
            date = parse_date(d).map(|x| x.0);
            time_text.push_str(t);
        } else if date.is_none() && time_text.is_empty() && parse_date(t).is_some() {
            date = parse_date(t).map(|x| x.0);
        } else {
            time_text.push_str(t);
        }
    }
    let time = if time_text.is_empty() { None } else { Some(parse_time(&time_text)?) };
    match (date, time) {
        (Some(d), Some(t)) => Some(format!("{}{}", date_str(d), time_of_day(t))),
        (Some(d), None) => Some(date_str(d)),
        (None, Some(t)) => Some(time_of_day(t)),
        (None, None) => None,
    }
}

pub(super) const PRINCIPAL: &[(&str, bool)] = &[
    ("userid", false),
    ("groupid", false),
    ("logontype", false),
    ("runlevel", false),
    ("processtokensidtype", false),
    ("requiredprivilege", false),
    ("id", false),
    ("cimsession", false),
];

pub(super) const TASK: &[(&str, bool)] = &[
    ("taskname", false),
    ("taskpath", false),
    ("action", false),
    ("trigger", false),
    ("settings", false),
    ("principal", false),
    ("user", false),
    ("password", false),
    ("runlevel", false),
    ("description", false),
    ("inputobject", false),
    ("xml", false),
    ("force", true),
    ("cimsession", false),
    ("confirm", true),
    ("asjob", true),
];

pub(super) const TRIGGER: &[(&str, bool)] = &[
    ("at", false),
    ("atlogon", true),
    ("atstartup", true),
    ("once", true),
    ("daily", true),
    ("weekly", true),
    ("daysinterval", false),
    ("weeksinterval", false),
    ("daysofweek", false),
    ("repetitioninterval", false),
    ("repetitionduration", false),
    ("randomdelay", false),
    ("user", false),
];

pub(super) const SETTINGS: &[(&str, bool)] = &[
    ("hidden", true),
    ("disable", true),
    ("waketorun", true),
    ("startwhenavailable", true),
    ("executiontimelimit", false),
    ("priority", false),
    ("multipleinstances", false),
    ("deleteexpiredtaskafter", false),
    ("allowstartifonbatteries", true),
    ("dontstopifgoingonbatteries", true),
    ("dontstoponidleend", true),
    ("disallowdemandstart", true),
    ("disallowhardterminate", true),
    ("runonlyifidle", true),
    ("runonlyifnetworkavailable", true),
    ("restartonidle", true),
    ("maintenanceexclusive", true),
    ("restartcount", false),
    ("restartinterval", false),
    ("idleduration", false),
    ("idlewaittimeout", false),
    ("compatibility", false),
    ("networkid", false),
    ("networkname", false),
    ("maintenanceperiod", false),
    ("maintenancedeadline", false),
];

pub(super) const TIMESPAN: &[(&str, bool)] =
    &[("days", false), ("hours", false), ("minutes", false), ("seconds", false), ("milliseconds", false), ("start", false), ("end", false)];
