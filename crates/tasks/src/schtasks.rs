//! Task-creating command lines, understood: `schtasks.exe`, `at.exe` and PowerShell's
//! ScheduledTasks cmdlets (`Register-ScheduledTask`, `New-ScheduledTaskAction`, ...), found in
//! process events, turned into [`TaskCommand`]s with a [`TaskDefinition`] when they create or
//! change a task.
//!
//! The command line may be the tool's own (`schtasks /create ...`) or a wrapper's: `cmd /c "..."`
//! (cmd's quote rule, `&`/`|` chains and redirections), `powershell -Command ...` or
//! `-EncodedCommand ...`, and PowerShell scripts that start schtasks. Every input is hostile:
//! lines are cut at [`MAX_COMMAND_LINE`] bytes, nesting is bounded, and malformed input gives what
//! could be read plus [`TaskCommand::warnings`].
//!
//! Times and dates: `/st 03:00` without `/sd` gives the start boundary `T03:00:00` (time of day;
//! schtasks fills in the day the command ran), `/sd` alone gives a date only, both give
//! `2026-01-05T03:00:00`. `/sd` is read in the en-US order `mm/dd/yyyy` unless it starts with the
//! year or the first number cannot be a month; a guessed order is reported as a warning.

mod args;
mod at;
mod cmdlets;
mod pslex;
mod script;

use serde::Serialize;

use crate::model::{Action, OriginKind, TaskDefinition, Trigger, TriggerKind};
use args::{
    DAYS, colon_duration, date_str, day_name, iso_duration, month_name, parse_date, parse_time, program_name, split_exec, split_spans,
    time_of_day,
};

pub use script::parse_powershell;

/// Longer command lines are cut (Windows' own limit is 32,767 UTF-16 units).
pub const MAX_COMMAND_LINE: usize = 64 * 1024;
/// How deep wrappers may nest (`cmd /c powershell -enc ...` is three levels).
const MAX_DEPTH: usize = 6;
/// At most this many task commands are kept from one command line or script.
const MAX_COMMANDS: usize = 64;
/// Warnings kept per command.
const MAX_WARNINGS: usize = 32;
/// schtasks.exe refuses a `/tr` longer than this.
const MAX_TR: usize = 261;

/// The program that created or handled the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    Schtasks,
    At,
    PowerShell,
}

/// What the command does to the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Create,
    Delete,
    Run,
    Change,
    End,
    Query,
    Other,
}

impl Verb {
    /// Lower is more telling: a line that deletes and re-creates a task is reported as a create.
    fn rank(self) -> u8 {
        match self {
            Verb::Create => 0,
            Verb::Change => 1,
            Verb::Delete => 2,
            Verb::Run => 3,
            Verb::End => 4,
            Verb::Query => 5,
            Verb::Other => 6,
        }
    }
}

/// One task command read from a command line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskCommand {
    pub tool: Tool,
    pub verb: Verb,
    /// For creates and changes. A change holds only what the command sets (everything else at its
    /// default). None for `schtasks /create /xml file`: the definition is in the file.
    pub definition: Option<TaskDefinition>,
    /// Full task name starting with `\` (`/tn`, `-TaskPath` + `-TaskName`).
    pub task_name: Option<String>,
    /// `/s`, `at \\host`, `-CimSession`, `Invoke-Command -ComputerName`.
    pub remote_host: Option<String>,
    /// `/ru`, `-User`, `-UserId`.
    pub run_as: Option<String>,
    /// `/f`, `-Force`, `at /yes`.
    pub force: bool,
    /// `/xml` file, or the `-Xml` expression when it is not literal XML.
    pub xml_file: Option<String>,
    pub warnings: Vec<String>,
}

impl TaskCommand {
    fn new(tool: Tool, verb: Verb) -> Self {
        TaskCommand {
            tool,
            verb,
            definition: None,
            task_name: None,
            remote_host: None,
            run_as: None,
            force: false,
            xml_file: None,
            warnings: Vec::new(),
        }
    }
}

/// Recognises schtasks.exe (any path or case, with or without `.exe`), at.exe, and PowerShell's
/// Register-ScheduledTask / New-ScheduledTaskAction / New-ScheduledTaskTrigger /
/// New-ScheduledTaskPrincipal (in `-Command` text or `-EncodedCommand`), directly or behind
/// `cmd /c`. When one line holds several task commands the most telling is returned (create, then
/// change, delete, run, end, query); [`parse_all`] returns all of them.
pub fn parse_command_line(command_line: &str) -> Option<TaskCommand> {
    best(parse_all(command_line))
}

/// The most telling command: lowest verb rank, then the earliest.
fn best(mut all: Vec<TaskCommand>) -> Option<TaskCommand> {
    let best = (0..all.len()).min_by_key(|&i| (all[i].verb.rank(), i))?;
    Some(all.swap_remove(best))
}

/// Every task command in a command line, in order.
pub fn parse_all(command_line: &str) -> Vec<TaskCommand> {
    let (text, cut) = args::bounded(command_line, MAX_COMMAND_LINE);
    let mut out = Vec::new();
    collect(text, 0, &mut out);
    if out.is_empty() {
        embedded(text, &mut out);
    }
    for c in &mut out {
        if cut {
            c.warnings.push(format!("command line longer than {MAX_COMMAND_LINE} bytes; read only the start"));
        }
        cap_warnings(c);
    }
    out
}

/// Keeps the first [`MAX_WARNINGS`] warnings and says how many more there were.
fn cap_warnings(c: &mut TaskCommand) {
    if c.warnings.len() > MAX_WARNINGS {
        let more = c.warnings.len() - MAX_WARNINGS;
        c.warnings.truncate(MAX_WARNINGS);
        c.warnings.push(format!("{more} more warnings"));
    }
}

/// cmd.exe-style argument splitting with the Windows rules (CommandLineToArgvW and the C runtime,
/// as Microsoft documents them): blanks separate arguments, quotes group, `2n` backslashes before a
/// quote are `n` backslashes and the quote groups, `2n+1` are `n` backslashes and a literal quote,
/// other backslashes are literal, `""` inside quotes is a literal quote (the documented rule; old
/// CommandLineToArgvW ends the quoting there). The program name (first argument) ends at its
/// closing quote or first blank, without backslash rules. Leading blanks are skipped.
pub fn split_args(command_line: &str) -> Vec<String> {
    split_spans(command_line).into_iter().map(|s| s.text).collect()
}

/// Reads one command line (or one command of a cmd chain) at nesting `depth` into `out`.
fn collect(text: &str, depth: usize, out: &mut Vec<TaskCommand>) {
    if depth > MAX_DEPTH || out.len() >= MAX_COMMANDS {
        return;
    }
    let spans = split_spans(text);
    for (i, sp) in spans.iter().enumerate() {
        let rest = || spans[i + 1..].iter().map(|s| s.text.clone()).collect::<Vec<_>>();
        match program_name(&sp.text).as_str() {
            "schtasks" => {
                out.push(schtasks(&rest()));
                return;
            }
            "at" if i == 0 => {
                out.push(at::at(&rest()));
                return;
            }
            "powershell" | "pwsh" | "powershell_ise" => {
                script::from_powershell_args(&rest(), depth + 1, out);
                return;
            }
            "cmd" => {
                let commands = args::cmd_commands(text, &spans, i);
                if !commands.is_empty() {
                    for c in commands {
                        collect(&c, depth + 1, out);
                    }
                    return;
                }
            }
            _ => {}
        }
    }
}

/// Last resort for lines where the tool is named inside another program's text (mshta, wmic,
/// rundll32 ... or a script file argument): read from the first `schtasks` word, or from the
/// first ScheduledTasks cmdlet as PowerShell.
fn embedded(text: &str, out: &mut Vec<TaskCommand>) {
    let lower = text.to_ascii_lowercase();
    let word_at = |p: usize, len: usize| {
        let before = lower[..p].chars().next_back();
        let after = lower[p + len..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != '-') && after.is_none_or(|c| !c.is_alphanumeric() && c != '_')
    };
    let note = "task command found inside another program's text; quoting there may differ";
    if let Some(p) = lower.match_indices("schtasks").map(|(p, _)| p).find(|&p| word_at(p, 8)) {
        // Quoted in the host text (`"schtasks ..."`, VBScript's `""schtasks ...""`, `\"...\"`):
        // the command ends where that same quoting ends.
        let opener_len = text[..p].bytes().rev().take(3).take_while(|b| matches!(b, b'"' | b'\'' | b'\\')).count();
        let opener = &text[p - opener_len..p];
        let body = &text[p..];
        let body = match body.find(opener).filter(|_| !opener.is_empty()) {
            Some(end) => &body[..end],
            None => body,
        };
        let mut c = schtasks(&split_args(body).into_iter().skip(1).collect::<Vec<_>>());
        c.warnings.push(note.into());
        out.push(c);
        return;
    }
    let cmdlet = ["register-scheduledtask", "new-scheduledtask", "set-scheduledtask", "unregister-scheduledtask"]
        .iter()
        .filter_map(|n| lower.match_indices(n).map(|(p, _)| p).find(|&p| p == 0 || word_at(p, 0)))
        .min();
    if let Some(p) = cmdlet {
        let start = out.len();
        script::run_script(&text[p..], 1, out);
        for c in out.iter_mut().skip(start) {
            c.warnings.push(note.into());
        }
    }
}

/// Full task name: a leading `\` added when missing.
pub(crate) fn full_name(name: &str) -> String {
    if name.starts_with('\\') { name.to_string() } else { format!("\\{name}") }
}

fn new_definition(name: Option<&String>) -> TaskDefinition {
    let mut def = TaskDefinition { name: name.cloned().unwrap_or_default(), ..TaskDefinition::default() };
    def.origin.kind = OriginKind::CommandLine;
    def
}

fn is_local_host(h: &str) -> bool {
    let h = h.trim_start_matches('\\').to_ascii_lowercase();
    matches!(h.as_str(), "localhost" | "127.0.0.1" | "::1" | ".")
}

// ---------------------------------------------------------------------------------------------
// schtasks.exe

#[derive(Clone, Copy, PartialEq)]
enum Arity {
    Flag,
    Value,
    /// A value when the next argument is not a switch (`/rp`, `/p` prompt when it is missing).
    Optional,
}

const VERBS: [(&str, Verb); 7] = [
    ("create", Verb::Create),
    ("delete", Verb::Delete),
    ("run", Verb::Run),
    ("change", Verb::Change),
    ("end", Verb::End),
    ("query", Verb::Query),
    ("showsid", Verb::Other),
];

/// Switches schtasks.exe knows (all verbs), and whether they take a value. `/i` (idle minutes
/// for create, a flag for run) and `/xml` (a file for create, optional for query) depend on the
/// verb and are handled in [`arity`].
const SWITCHES: &[(&str, Arity)] = &[
    ("tn", Arity::Value),
    ("tr", Arity::Value),
    ("sc", Arity::Value),
    ("mo", Arity::Value),
    ("st", Arity::Value),
    ("sd", Arity::Value),
    ("ed", Arity::Value),
    ("et", Arity::Value),
    ("du", Arity::Value),
    ("ri", Arity::Value),
    ("d", Arity::Value),
    ("m", Arity::Value),
    ("ru", Arity::Value),
    ("rp", Arity::Optional),
    ("rl", Arity::Value),
    ("s", Arity::Value),
    ("u", Arity::Value),
    ("p", Arity::Optional),
    ("delay", Arity::Value),
    ("ec", Arity::Value),
    ("fo", Arity::Value),
    ("f", Arity::Flag),
    ("it", Arity::Flag),
    ("np", Arity::Flag),
    ("z", Arity::Flag),
    ("v1", Arity::Flag),
    ("k", Arity::Flag),
    ("hresult", Arity::Flag),
    ("enable", Arity::Flag),
    ("disable", Arity::Flag),
    ("nh", Arity::Flag),
    ("v", Arity::Flag),
    ("?", Arity::Flag),
    ("i", Arity::Value),
    ("xml", Arity::Value),
];

fn arity(name: &str, verb: Verb) -> Option<Arity> {
    if VERBS.iter().any(|(v, _)| *v == name) {
        return Some(Arity::Flag);
    }
    let a = SWITCHES.iter().find(|(n, _)| *n == name)?.1;
    Some(match (name, verb) {
        ("i", Verb::Run) => Arity::Flag,
        ("xml", Verb::Query) => Arity::Optional,
        _ => a,
    })
}

/// `/TN`, `-tn` or `/tn:value` → (`tn`, inline value).
fn switch_of(arg: &str) -> Option<(String, Option<String>)> {
    let body = arg.strip_prefix('/').or_else(|| arg.strip_prefix('-'))?;
    let lower = body.to_ascii_lowercase();
    if arity(&lower, Verb::Create).is_some() {
        return Some((lower, None));
    }
    let (name, _) = lower.split_once(':')?;
    arity(name, Verb::Create)?;
    Some((name.to_string(), Some(body[name.len() + 1..].to_string())))
}

/// The switches of one schtasks command line, first occurrence of each.
struct Switches {
    seen: Vec<(String, Option<String>)>,
}

impl Switches {
    fn get(&self, name: &str) -> Option<&str> {
        self.seen.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.as_deref())
    }
    fn has(&self, name: &str) -> bool {
        self.seen.iter().any(|(n, _)| n == name)
    }
}

/// Parses schtasks.exe arguments (everything after the program name).
fn schtasks(args: &[String]) -> TaskCommand {
    let mut warnings = Vec::new();
    let verbs: Vec<Verb> =
        args.iter().filter_map(|a| switch_of(a)).filter_map(|(n, _)| VERBS.iter().find(|(v, _)| *v == n).map(|(_, v)| *v)).collect();
    let verb = match verbs.as_slice() {
        [] if args.iter().any(|a| a == "/?" || a == "-?") => Verb::Other,
        [] => Verb::Query,
        [v] => *v,
        [v, ..] => {
            warnings.push("more than one of /create /delete /run /change /end /query; using the first".into());
            *v
        }
    };
    let mut sw = Switches { seen: Vec::new() };
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let Some((name, inline)) = switch_of(arg) else {
            warnings.push(format!("unexpected argument {arg:?}"));
            continue;
        };
        let a = arity(&name, verb).unwrap_or(Arity::Flag);
        let value = match (a, inline) {
            (Arity::Flag, Some(v)) => {
                warnings.push(format!("/{name} takes no value, got {v:?}"));
                None
            }
            (Arity::Flag, None) => None,
            (_, Some(v)) => Some(v),
            (_, None) => match args.get(i) {
                Some(next) if switch_of(next).is_none() => {
                    i += 1;
                    Some(next.clone())
                }
                _ => {
                    if a == Arity::Value {
                        warnings.push(format!("/{name} has no value"));
                    }
                    None
                }
            },
        };
        if sw.has(&name) {
            if !VERBS.iter().any(|(v, _)| *v == name) {
                warnings.push(format!("/{name} given more than once (schtasks refuses this); using the first"));
            }
            continue;
        }
        sw.seen.push((name, value));
    }

    let mut cmd = TaskCommand::new(Tool::Schtasks, verb);
    cmd.warnings = warnings;
    cmd.task_name = sw.get("tn").map(full_name);
    cmd.remote_host = sw.get("s").map(|h| h.trim_start_matches('\\').to_string()).filter(|h| !h.is_empty());
    cmd.run_as = sw.get("ru").map(str::to_string);
    cmd.force = sw.has("f");
    if verb == Verb::Create {
        cmd.xml_file = sw.get("xml").map(str::to_string);
    }
    if sw.get("tn") == Some("*") {
        cmd.warnings.push("/tn * names every task".into());
    }
    if matches!(verb, Verb::Create | Verb::Change | Verb::Delete | Verb::Run | Verb::End) && cmd.task_name.is_none() {
        cmd.warnings.push("no /tn".into());
    }
    if let Some(h) = &cmd.remote_host
        && is_local_host(h)
    {
        cmd.warnings.push(format!("/s {h} names the local machine"));
    }
    match verb {
        Verb::Create if cmd.xml_file.is_some() => {
            cmd.warnings.push("the definition is in the /xml file, not on the command line".into());
        }
        Verb::Create | Verb::Change => {
            let w = std::mem::take(&mut cmd.warnings);
            let (def, w) = schtasks_definition(&sw, verb, &cmd, w);
            cmd.warnings = w;
            cmd.definition = Some(def);
        }
        _ => {}
    }
    cmd
}

fn schtasks_definition(sw: &Switches, verb: Verb, cmd: &TaskCommand, mut w: Vec<String>) -> (TaskDefinition, Vec<String>) {
    let mut def = new_definition(cmd.task_name.as_ref());
    if let Some(h) = &cmd.remote_host {
        def.origin.remote = Some(!is_local_host(h));
    }
    def.origin.account = sw.get("u").map(str::to_string);
    match sw.get("tr") {
        Some(tr) => {
            if tr.chars().count() > MAX_TR {
                w.push(format!("/tr is longer than {MAX_TR} characters (schtasks.exe refuses it)"));
            }
            let (command, arguments) = split_exec(tr);
            def.actions.push(Action::Exec { command, arguments, working_directory: None });
        }
        None if verb == Verb::Create => w.push("no /tr".into()),
        None => {}
    }
    // Principal. /ru "" means SYSTEM; passwords (/rp, /p) are never kept.
    if let Some(ru) = sw.get("ru") {
        def.principal.user_id = Some(if ru.is_empty() { "SYSTEM".into() } else { ru.to_string() });
    }
    def.principal.logon_type = match (sw.has("np"), sw.has("it"), sw.get("rp").is_some()) {
        (true, _, _) => Some("S4U".into()),
        (_, true, true) => Some("InteractiveTokenOrPassword".into()),
        (_, true, false) => Some("InteractiveToken".into()),
        (_, false, true) => Some("Password".into()),
        _ => None,
    };
    if let Some(rl) = sw.get("rl") {
        def.principal.run_level = Some(match rl.to_ascii_lowercase().as_str() {
            "highest" => "HighestAvailable".into(),
            "limited" => "LeastPrivilege".into(),
            _ => {
                w.push(format!("/rl {rl:?} is not LIMITED or HIGHEST"));
                rl.to_string()
            }
        });
    }
    if sw.has("z") {
        def.settings.delete_expired_task_after = Some("PT0S".into());
    }
    if sw.has("disable") {
        def.settings.enabled = false;
    }
    match (verb, sw.get("sc")) {
        (Verb::Create, Some(sc)) => def.triggers.push(schedule(sc, sw, &mut w)),
        (Verb::Create, None) => w.push("no /sc".into()),
        (_, Some(_)) => w.push("/sc cannot be changed with /change".into()),
        (_, None) => {
            if ["st", "sd", "ed", "et", "du", "ri", "delay"].iter().any(|s| sw.has(s)) {
                let mut t = Trigger { detail: Some("changed by schtasks /change".into()), ..Trigger::default() };
                timing(&mut t, sw, &mut w);
                def.triggers.push(t);
            }
        }
    }
    (def, w)
}

/// A number for `/mo`, checked against the range schtasks allows for the schedule.
fn modifier(sw: &Switches, lo: u32, hi: u32, sc: &str, w: &mut Vec<String>) -> u32 {
    let Some(mo) = sw.get("mo") else { return 1 };
    match mo.trim().parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) => n,
        Ok(n) => {
            w.push(format!("/mo {n} is outside {lo}-{hi} for /sc {sc}"));
            n
        }
        Err(_) => {
            w.push(format!("/mo {mo:?} is not a number"));
            1
        }
    }
}

/// The trigger for `/sc` and its companions.
fn schedule(sc: &str, sw: &Switches, w: &mut Vec<String>) -> Trigger {
    let mut t = Trigger::default();
    let lower = sc.trim().to_ascii_lowercase();
    let no_modifier = |w: &mut Vec<String>| {
        if sw.has("mo") {
            w.push(format!("/mo is not used with /sc {lower}"));
        }
    };
    match lower.as_str() {
        "minute" => {
            t.kind = TriggerKind::Time;
            t.repetition_interval = Some(iso_duration(u64::from(modifier(sw, 1, 1439, &lower, w)) * 60));
        }
        "hourly" => {
            t.kind = TriggerKind::Time;
            t.repetition_interval = Some(iso_duration(u64::from(modifier(sw, 1, 23, &lower, w)) * 3600));
        }
        "daily" => {
            t.kind = TriggerKind::Daily;
            t.days_interval = Some(modifier(sw, 1, 365, &lower, w));
        }
        "weekly" => {
            t.kind = TriggerKind::Weekly;
            t.weeks_interval = Some(modifier(sw, 1, 52, &lower, w));
            t.days_of_week = week_days(sw.get("d").unwrap_or("MON"), w);
        }
        "monthly" => monthly(&mut t, sw, w),
        "once" => {
            no_modifier(w);
            t.kind = TriggerKind::Time;
            if !sw.has("st") {
                w.push("/sc once without /st".into());
            }
        }
        "onstart" => {
            no_modifier(w);
            t.kind = TriggerKind::Boot;
        }
        "onlogon" => {
            no_modifier(w);
            t.kind = TriggerKind::Logon;
        }
        "onidle" => {
            no_modifier(w);
            t.kind = TriggerKind::Idle;
            match sw.get("i") {
                Some(i) => t.detail = Some(format!("idle for {i} minutes")),
                None => w.push("/sc onidle without /i".into()),
            }
        }
        "onevent" => {
            t.kind = TriggerKind::Event;
            t.detail = match (sw.get("ec"), sw.get("mo")) {
                (Some(ec), Some(mo)) => Some(format!("{ec}: {mo}")),
                (None, Some(mo)) => Some(mo.to_string()),
                (Some(ec), None) => Some(ec.to_string()),
                (None, None) => None,
            };
            if !sw.has("mo") {
                w.push("/sc onevent without an /mo event query".into());
            }
        }
        _ => {
            w.push(format!("unknown schedule /sc {sc:?}"));
            t.detail = Some(sc.to_string());
        }
    }
    if (sw.has("d") && !matches!(lower.as_str(), "weekly" | "monthly")) || (sw.has("m") && lower != "monthly") {
        w.push(format!("/d and /m are only used with weekly and monthly schedules, not /sc {lower}"));
    }
    if sw.has("ri") && matches!(lower.as_str(), "minute" | "hourly") {
        w.push(format!("/ri is not allowed with /sc {lower}"));
    }
    timing(&mut t, sw, w);
    t
}

fn monthly(t: &mut Trigger, sw: &Switches, w: &mut Vec<String>) {
    let mo = sw.get("mo").unwrap_or("1").trim().to_ascii_lowercase();
    let week = match mo.as_str() {
        "first" => Some("1"),
        "second" => Some("2"),
        "third" => Some("3"),
        "fourth" => Some("4"),
        "last" => Some("Last"),
        _ => None,
    };
    t.months = months(sw.get("m"), w);
    if let Some(week) = week {
        t.kind = TriggerKind::MonthlyDayOfWeek;
        t.detail = Some(format!("week {week}"));
        match sw.get("d") {
            Some(d) => t.days_of_week = week_days(d, w),
            None => w.push(format!("/sc monthly /mo {mo} needs /d with a day of the week")),
        }
        return;
    }
    t.kind = TriggerKind::Monthly;
    if mo == "lastday" {
        t.days_of_month = vec!["Last".into()];
        return;
    }
    let n = modifier(sw, 1, 12, "monthly", w);
    if n > 1 {
        t.detail = Some(format!("every {n} months"));
    }
    let d = sw.get("d").unwrap_or("1");
    for part in d.split(',').map(str::trim) {
        if part == "*" {
            t.days_of_month = (1..=31).map(|n| n.to_string()).collect();
            break;
        }
        match part.parse::<u32>() {
            Ok(n) if (1..=31).contains(&n) => {
                if !t.days_of_month.contains(&n.to_string()) {
                    t.days_of_month.push(n.to_string());
                }
            }
            _ => w.push(format!("/d {part:?} is not a day of the month")),
        }
    }
}

/// `/d MON,WED` or `*` as day element names.
fn week_days(d: &str, w: &mut Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in d.split(',').map(str::trim) {
        if part == "*" {
            return DAYS.iter().map(|d| d.to_string()).collect();
        }
        match day_name(part) {
            Some(day) if !out.iter().any(|d| d == day) => out.push(day.into()),
            Some(_) => {}
            None => w.push(format!("{part:?} is not a day of the week")),
        }
    }
    out
}

fn months(m: Option<&str>, w: &mut Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in m.unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part == "*" {
            return Vec::new();
        }
        match month_name(part) {
            Some(mon) if !out.iter().any(|x| x == mon) => out.push(mon.into()),
            Some(_) => {}
            None => w.push(format!("/m {part:?} is not a month")),
        }
    }
    out
}

/// Start and end boundaries, repetition, delay: `/sd /st /ed /ri /du /et /delay`.
fn timing(t: &mut Trigger, sw: &Switches, w: &mut Vec<String>) {
    let st = sw.get("st").and_then(|s| {
        let v = parse_time(s);
        if v.is_none() {
            w.push(format!("/st {s:?} is not a time (HH:mm)"));
        }
        v
    });
    let date = |name: &str, w: &mut Vec<String>| {
        let s = sw.get(name)?;
        match parse_date(s) {
            Some((d, guessed)) => {
                if guessed {
                    w.push(format!("/{name} {s} read as month/day/year"));
                }
                Some(d)
            }
            None => {
                w.push(format!("/{name} {s:?} is not a date"));
                None
            }
        }
    };
    let sd = date("sd", w);
    t.start_boundary = match (sd, st) {
        (Some(d), Some(tm)) => Some(format!("{}{}", date_str(d), time_of_day(tm))),
        (Some(d), None) => Some(date_str(d)),
        (None, Some(tm)) => Some(time_of_day(tm)),
        (None, None) => None,
    };
    t.end_boundary = date("ed", w).map(date_str);
    if let Some(ri) = sw.get("ri") {
        match ri.trim().parse::<u64>() {
            Ok(n) if (1..=599_940).contains(&n) => t.repetition_interval = Some(iso_duration(n * 60)),
            _ => w.push(format!("/ri {ri:?} is not 1-599940 minutes")),
        }
    }
    match (sw.get("du"), sw.get("et")) {
        (Some(_), Some(_)) => w.push("/du and /et cannot both be given".into()),
        (Some(du), None) => match colon_duration(du, 3600) {
            Some(secs) => t.repetition_duration = Some(iso_duration(secs)),
            None => w.push(format!("/du {du:?} is not HHHH:MM")),
        },
        (None, Some(et)) => match (parse_time(et), st) {
            (Some((eh, em, es)), Some((sh, sm, ss))) => {
                let (end, start) = (eh * 3600 + em * 60 + es, sh * 3600 + sm * 60 + ss);
                let secs = if end > start { end - start } else { end + 86_400 - start };
                t.repetition_duration = Some(iso_duration(u64::from(secs)));
            }
            (None, _) => w.push(format!("/et {et:?} is not a time (HH:mm)")),
            (Some(_), None) => w.push("/et without /st: the repetition length depends on the creation time".into()),
        },
        (None, None) => {}
    }
    if let Some(delay) = sw.get("delay") {
        match colon_duration(delay, 60) {
            Some(secs) => t.delay = Some(iso_duration(secs)),
            None => w.push(format!("/delay {delay:?} is not mmmm:ss")),
        }
    }
}
