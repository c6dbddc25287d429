//! PowerShell: powershell.exe's own switches (`-Command`, `-EncodedCommand`) and a small,
//! bounded reading of scripts that use the ScheduledTasks cmdlets. This is not a PowerShell
//! interpreter: it tokenises (strings, here-strings, groups, comments, backtick escapes),
//! remembers `$variable = <cmdlet or literal>` assignments, and follows
//! New-ScheduledTaskAction / -Trigger / -Principal / -SettingsSet / New-ScheduledTask /
//! New-TimeSpan into Register-ScheduledTask, Set-ScheduledTask and friends. Native schtasks, at,
//! cmd and powershell commands inside the script go back to the command-line parser.
//! Statements, values, variables and bytes produced are all capped.

use std::collections::HashMap;
use std::rc::Rc;

use base64::Engine;

use super::args::{self, iso_duration, program_name, quote_arg};
use super::cmdlets::{PRINCIPAL, TASK, TIMESPAN, logon_type, set_remote};
use super::pslex::{Tk, Tok, lex, statements};
use super::{MAX_COMMANDS, MAX_DEPTH, TaskCommand, Verb, new_definition};
use crate::model::{Action, Principal, Settings, TaskDefinition, Trigger};

pub(super) const MAX_STATEMENTS: usize = 4096;
pub(super) const MAX_ITEMS: usize = 64;
pub(super) const MAX_VARS: usize = 1024;
/// Bytes of text the evaluator may copy into values and definitions.
pub(super) const BYTE_BUDGET: usize = 8 * 1024 * 1024;

/// Task commands in a PowerShell script (a 4104 ScriptBlockText, a .ps1, `-Command` text). The
/// most telling one is returned, as with [`super::parse_command_line`].
pub fn parse_powershell(script: &str) -> Option<TaskCommand> {
    let (text, _) = args::bounded(script, super::MAX_COMMAND_LINE);
    let mut out = Vec::new();
    run_script(text, 0, &mut out);
    out.iter_mut().for_each(super::cap_warnings);
    super::best(out)
}

/// powershell.exe / pwsh.exe arguments after the program name.
pub(super) fn from_powershell_args(args: &[String], depth: usize, out: &mut Vec<TaskCommand>) {
    let mut i = 0;
    let mut note = None;
    let mut script = None;
    while let Some(a) = args.get(i) {
        let Some(name) = ps_switch(a) else {
            script = Some(args[i..].join(" "));
            break;
        };
        let n = name.to_ascii_lowercase();
        if !n.is_empty() && "command".starts_with(&n) {
            script = Some(args.get(i + 1..).unwrap_or(&[]).join(" "));
            break;
        }
        if n == "ec" || (!n.is_empty() && "encodedcommand".starts_with(&n)) {
            script = args.get(i + 1).and_then(|b| decode_base64_utf16(b));
            note = Some("decoded -EncodedCommand");
            break;
        }
        if !n.is_empty() && "file".starts_with(&n) {
            return;
        }
        let takes_value = n == "ea"
            || n.starts_with("encodeda")
            || n == "ep"
            || (n.len() >= 2 && "executionpolicy".starts_with(&n))
            || (!n.is_empty()
                && ["windowstyle", "version", "inputformat", "outputformat", "psconsolefile", "workingdirectory"]
                    .iter()
                    .any(|v| v.starts_with(&n)))
            || ["of", "if", "wd"].contains(&n.as_str())
            || n.starts_with("conf")
            || n.starts_with("settings")
            || n.starts_with("custompipe");
        i += if takes_value { 2 } else { 1 };
    }
    let Some(script) = script else { return };
    let start = out.len();
    run_script(&script, depth, out);
    if let Some(note) = note {
        for c in out.iter_mut().skip(start) {
            c.warnings.push(note.into());
        }
    }
}

/// `-x`, `/x` and the dash look-alikes PowerShell accepts.
pub(super) fn ps_switch(a: &str) -> Option<&str> {
    ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'].iter().find_map(|p| a.strip_prefix(*p))
}

pub(super) fn decode_base64_utf16(b64: &str) -> Option<String> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let clean: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(clean.trim_end_matches('=')).ok()?;
    let units: Vec<u16> = bytes.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
    Some(String::from_utf16_lossy(&units))
}

/// Reads a script at nesting `depth`, appending the task commands it holds to `out`.
pub(super) fn run_script(text: &str, depth: usize, out: &mut Vec<TaskCommand>) {
    let start = out.len();
    let mut e = Eval {
        vars: HashMap::new(),
        out,
        seen_actions: Vec::new(),
        seen_triggers: Vec::new(),
        statements: 0,
        budget: BYTE_BUDGET,
        notes: Vec::new(),
        remote: None,
    };
    e.run(text, depth);
    let notes = std::mem::take(&mut e.notes);
    for c in out.iter_mut().skip(start) {
        c.warnings.extend(notes.iter().cloned());
    }
}

// ---------------------------------------------------------------------------------------------
// Values and parameters

#[derive(Clone, Debug)]
pub(super) enum Val {
    Nil,
    Text(Rc<str>),
    Duration(Rc<str>),
    Action(Rc<Action>),
    Trigger(Rc<Trigger>),
    Principal(Rc<Principal>),
    Settings(Rc<Settings>),
    Task(Rc<TaskDefinition>),
    List(Rc<Vec<Val>>),
}

impl Val {
    pub(super) fn text(&self) -> Option<String> {
        match self {
            Val::Text(s) | Val::Duration(s) => Some(s.to_string()),
            Val::List(l) => l.first().and_then(Val::text),
            _ => None,
        }
    }
}

pub(super) fn flatten(v: &Val, out: &mut Vec<Val>) {
    match v {
        Val::List(l) => {
            for x in l.iter() {
                if out.len() >= MAX_ITEMS {
                    return;
                }
                flatten(x, out);
            }
        }
        Val::Nil => {}
        other if out.len() < MAX_ITEMS => out.push(other.clone()),
        _ => {}
    }
}

/// One argument: comma-separated items, each a run of glued tokens.
pub(super) type Arg<'t> = Vec<&'t [Tok]>;

pub(super) enum Param<'t> {
    Switch(bool),
    Value(Arg<'t>),
    Inline(String),
}

pub(super) struct Bound<'t> {
    pub(super) named: Vec<(&'static str, Param<'t>)>,
    pub(super) positional: Vec<Arg<'t>>,
}

impl<'t> Bound<'t> {
    pub(super) fn get(&self, name: &str) -> Option<&Param<'t>> {
        self.named.iter().find(|(n, _)| *n == name).map(|(_, p)| p)
    }
    pub(super) fn switch(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Param::Switch(true)))
    }
}

pub(super) fn collect_arg(toks: &[Tok], mut i: usize) -> (Arg<'_>, usize) {
    let mut items = Vec::new();
    while i < toks.len() {
        let s = i;
        i += 1;
        while i < toks.len() && toks[i].glued && !matches!(toks[i].k, Tk::Comma) {
            i += 1;
        }
        items.push(&toks[s..i]);
        if i < toks.len() && matches!(toks[i].k, Tk::Comma) && items.len() < MAX_ITEMS {
            i += 1;
        } else {
            break;
        }
    }
    (items, i)
}

pub(super) fn param_name(t: &Tok) -> Option<&str> {
    let Tk::Word(w) = &t.k else { return None };
    let rest = ps_switch(w).filter(|_| !w.starts_with('/'))?;
    rest.chars().next().filter(|c| c.is_alphabetic()).map(|_| rest)
}

/// Binds cmdlet arguments to `spec` (name, is-a-switch), accepting unique-enough prefixes
/// (`-Exec`) and `-Name:value`.
pub(super) fn bind<'t>(toks: &'t [Tok], spec: &[(&'static str, bool)]) -> Bound<'t> {
    let mut b = Bound { named: Vec::new(), positional: Vec::new() };
    let mut i = 0;
    while i < toks.len() {
        let Some(word) = param_name(&toks[i]) else {
            let (arg, next) = collect_arg(toks, i);
            b.positional.push(arg);
            i = next;
            continue;
        };
        i += 1;
        let (name, inline) = match word.split_once(':') {
            Some((n, v)) => (n.to_ascii_lowercase(), Some(v)),
            None => (word.to_ascii_lowercase(), None),
        };
        let found = spec.iter().find(|(p, _)| *p == name).or_else(|| spec.iter().find(|(p, _)| p.starts_with(&name))).copied();
        let takes_next = i < toks.len() && param_name(&toks[i]).is_none() && inline.is_none_or(str::is_empty);
        match (found, inline) {
            (Some((p, true)), Some(v)) if !v.is_empty() => b.named.push((p, Param::Switch(!is_false(v)))),
            (Some((p, true)), Some(_)) if takes_next && toks[i].glued => {
                let (arg, next) = collect_arg(toks, i);
                let off = arg.first().and_then(|r| r.first()).is_some_and(|t| matches!(&t.k, Tk::Var(v) if is_false(&format!("${v}"))));
                b.named.push((p, Param::Switch(!off)));
                i = next;
            }
            (Some((p, true)), _) => b.named.push((p, Param::Switch(true))),
            (Some((p, false)), Some(v)) if !v.is_empty() => b.named.push((p, Param::Inline(v.to_string()))),
            (Some((p, false)), _) if takes_next => {
                let (arg, next) = collect_arg(toks, i);
                b.named.push((p, Param::Value(arg)));
                i = next;
            }
            (Some(_), _) => {}
            (None, _) if takes_next => i = collect_arg(toks, i).1,
            (None, _) => {}
        }
    }
    b
}

pub(super) fn is_false(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "$false" | "false" | "0")
}

// ---------------------------------------------------------------------------------------------
// Evaluation

pub(super) struct Eval<'o> {
    pub(super) vars: HashMap<String, Val>,
    pub(super) out: &'o mut Vec<TaskCommand>,
    pub(super) seen_actions: Vec<Val>,
    pub(super) seen_triggers: Vec<Val>,
    pub(super) statements: usize,
    pub(super) budget: usize,
    pub(super) notes: Vec<String>,
    pub(super) remote: Option<String>,
}

impl Eval<'_> {
    pub(super) fn charge(&mut self, bytes: usize) -> bool {
        if bytes > self.budget {
            if self.budget > 0 {
                self.notes.push("script too large to follow completely; stopped early".into());
            }
            self.budget = 0;
            return false;
        }
        self.budget -= bytes;
        true
    }

    pub(super) fn text_val(&mut self, s: String) -> Val {
        if self.charge(s.len()) { Val::Text(s.into()) } else { Val::Nil }
    }

    pub(super) fn run(&mut self, src: &str, depth: usize) -> Val {
        if depth > MAX_DEPTH || self.budget == 0 {
            return Val::Nil;
        }
        let toks = lex(src);
        let mut last = Val::Nil;
        for (stmt, piped) in statements(&toks) {
            self.statements += 1;
            if self.statements > MAX_STATEMENTS || self.budget == 0 || self.out.len() >= MAX_COMMANDS {
                if self.statements == MAX_STATEMENTS + 1 {
                    self.notes.push(format!("script has more than {MAX_STATEMENTS} statements; read only the start"));
                }
                break;
            }
            let input = if piped { Some(last) } else { None };
            last = self.statement(src, stmt, input, depth);
        }
        last
    }

    pub(super) fn statement(&mut self, src: &str, toks: &[Tok], piped: Option<Val>, depth: usize) -> Val {
        // `$a = $b += <value>`: the targets first (a loop, not recursion: chains can be long).
        let mut targets = Vec::new();
        let mut toks = toks;
        while let [first, op, rest @ ..] = toks
            && let Tk::Var(name) = &first.k
            && matches!(op.k, Tk::Assign | Tk::Append)
        {
            targets.push((name.to_ascii_lowercase(), matches!(op.k, Tk::Append)));
            toks = rest;
        }
        if !targets.is_empty() {
            let v = self.statement(src, toks, None, depth);
            for (key, append) in targets.into_iter().rev() {
                let value = match (append, self.vars.get(&key)) {
                    (true, Some(old)) => {
                        let mut items = Vec::new();
                        flatten(old, &mut items);
                        flatten(&v, &mut items);
                        Val::List(Rc::new(items))
                    }
                    _ => v.clone(),
                };
                if self.vars.len() < MAX_VARS || self.vars.contains_key(&key) {
                    self.vars.insert(key, value);
                }
            }
            return Val::Nil;
        }
        let (call, toks) = match toks.first().map(|t| &t.k) {
            Some(Tk::Word(w)) if w == "&" || w == "." => (true, &toks[1..]),
            _ => (false, toks),
        };
        let Some(first) = toks.first() else { return Val::Nil };
        match &first.k {
            Tk::Word(w) if !w.starts_with('-') && !w.starts_with('[') && !w.starts_with(|c: char| c.is_ascii_digit()) => {
                self.command(src, w, &toks[1..], piped, depth)
            }
            Tk::Str(s, _) if call => self.command(src, &s.clone(), &toks[1..], piped, depth),
            Tk::Brace(a, b) if call => self.run(&src[*a..*b], depth + 1),
            Tk::Paren(a, b) if toks.len() == 1 => self.run(&src[*a..*b], depth + 1),
            _ => {
                let (arg, next) = collect_arg(toks, 0);
                if next >= toks.len() {
                    self.arg_val(src, &arg, depth)
                } else {
                    let raw = src.get(first.start..toks.last().map_or(first.end, |t| t.end)).unwrap_or("").to_string();
                    self.text_val(raw)
                }
            }
        }
    }

    pub(super) fn item_val(&mut self, src: &str, run: &[Tok], depth: usize) -> Val {
        match run {
            [t] => match &t.k {
                Tk::Word(w) => self.text_val(w.clone()),
                Tk::Str(s, expand) => {
                    let s = if *expand { self.expand(s) } else { s.clone() };
                    self.text_val(s)
                }
                Tk::Var(n) => match self.vars.get(&n.to_ascii_lowercase()) {
                    Some(v) => v.clone(),
                    None => self.text_val(format!("${n}")),
                },
                Tk::Paren(a, b) => self.run(&src[*a..*b], depth + 1),
                _ => self.text_val(src.get(t.start..t.end).unwrap_or("").to_string()),
            },
            _ if run.iter().all(|t| matches!(t.k, Tk::Word(_) | Tk::Str(..))) => {
                let mut s = String::new();
                for t in run {
                    match &t.k {
                        Tk::Word(w) => s.push_str(w),
                        Tk::Str(x, true) => s.push_str(&self.expand(x)),
                        Tk::Str(x, false) => s.push_str(x),
                        _ => {}
                    }
                }
                self.text_val(s)
            }
            _ => {
                let (a, b) = (run.first().map_or(0, |t| t.start), run.last().map_or(0, |t| t.end));
                self.text_val(src.get(a..b).unwrap_or("").to_string())
            }
        }
    }

    /// `$name` and `${name}` in a double-quoted string replaced by known text variables.
    pub(super) fn expand(&self, s: &str) -> String {
        if !s.contains('$') {
            return s.to_string();
        }
        let mut out = String::new();
        let mut rest = s;
        while let Some(p) = rest.find('$') {
            out.push_str(&rest[..p]);
            let after = &rest[p + 1..];
            let (name, len) = match after.strip_prefix('{') {
                Some(b) => match b.find('}') {
                    Some(e) => (&b[..e], e + 2),
                    None => ("", 0),
                },
                None => {
                    let e = after.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(after.len());
                    let name = after[..e].trim_end_matches(':');
                    (name, name.len())
                }
            };
            match self.vars.get(&name.to_ascii_lowercase()).and_then(|v| if let Val::Text(t) = v { Some(t) } else { None }) {
                Some(t) if !name.is_empty() => out.push_str(t),
                _ => out.push_str(&rest[p..p + 1 + len]),
            }
            rest = &rest[p + 1 + len..];
        }
        out.push_str(rest);
        out
    }

    pub(super) fn arg_val(&mut self, src: &str, arg: &Arg<'_>, depth: usize) -> Val {
        if let [run] = arg.as_slice() {
            return self.item_val(src, run, depth);
        }
        // Lists are kept flat and short, so no value can grow by nesting.
        let mut items = Vec::new();
        for run in arg {
            let v = self.item_val(src, run, depth);
            flatten(&v, &mut items);
        }
        Val::List(Rc::new(items))
    }

    pub(super) fn param_val(&mut self, src: &str, b: &Bound<'_>, name: &str, depth: usize) -> Option<Val> {
        match b.get(name)? {
            Param::Value(arg) => Some(self.arg_val(src, arg, depth)),
            Param::Inline(s) => Some(self.text_val(s.clone())),
            Param::Switch(_) => None,
        }
    }

    pub(super) fn param_text(&mut self, src: &str, b: &Bound<'_>, name: &str, depth: usize) -> Option<String> {
        self.param_val(src, b, name, depth)?.text()
    }

    pub(super) fn param_raw(src: &str, b: &Bound<'_>, name: &str) -> Option<String> {
        match b.get(name)? {
            Param::Value(arg) => {
                let a = arg.first()?.first()?.start;
                let e = arg.last()?.last()?.end;
                src.get(a..e).map(str::to_string)
            }
            Param::Inline(s) => Some(s.clone()),
            Param::Switch(_) => None,
        }
    }

    pub(super) fn items(&mut self, src: &str, b: &Bound<'_>, name: &str, depth: usize) -> Vec<Val> {
        let mut out = Vec::new();
        if let Some(v) = self.param_val(src, b, name, depth) {
            flatten(&v, &mut out);
        }
        out
    }

    pub(super) fn command(&mut self, src: &str, name: &str, args: &[Tok], piped: Option<Val>, depth: usize) -> Val {
        let lower = name.to_ascii_lowercase();
        let cmdlet = lower.strip_prefix("scheduledtasks\\").unwrap_or(&lower);
        match cmdlet {
            "new-scheduledtaskaction" => self.new_action(src, args, depth),
            "new-scheduledtasktrigger" => self.new_trigger(src, args, depth),
            "new-scheduledtaskprincipal" => {
                let b = bind(args, PRINCIPAL);
                let mut p = Principal::default();
                self.principal_params(src, &b, "userid", &mut p, depth);
                p.group_id = self.param_text(src, &b, "groupid", depth);
                p.logon_type = self.param_text(src, &b, "logontype", depth).map(|l| logon_type(&l));
                Val::Principal(Rc::new(p))
            }
            "new-scheduledtasksettingsset" => self.new_settings(src, args, depth),
            "new-scheduledtask" => {
                let b = bind(args, TASK);
                let cmd = self.task_command(src, &b, piped, Verb::Other, depth);
                cmd.definition.map_or(Val::Nil, |d| Val::Task(Rc::new(d)))
            }
            "register-scheduledtask" | "set-scheduledtask" => {
                let verb = if cmdlet.starts_with("register") { Verb::Create } else { Verb::Change };
                let b = bind(args, TASK);
                let cmd = self.task_command(src, &b, piped, verb, depth);
                self.push(cmd);
                Val::Nil
            }
            "unregister-scheduledtask"
            | "start-scheduledtask"
            | "stop-scheduledtask"
            | "get-scheduledtask"
            | "enable-scheduledtask"
            | "disable-scheduledtask" => {
                let verb = match cmdlet {
                    "unregister-scheduledtask" => Verb::Delete,
                    "start-scheduledtask" => Verb::Run,
                    "stop-scheduledtask" => Verb::End,
                    "get-scheduledtask" => Verb::Query,
                    _ => Verb::Change,
                };
                let b = bind(args, TASK);
                let mut cmd = self.task_command(src, &b, piped, verb, depth);
                if verb == Verb::Change {
                    let mut def = new_definition(cmd.task_name.as_ref());
                    def.settings.enabled = cmdlet.starts_with("enable");
                    cmd.definition = Some(def);
                } else {
                    cmd.definition = None;
                }
                let name = cmd.task_name.clone();
                self.push(cmd);
                name.map_or(Val::Nil, |n| Val::Task(Rc::new(new_definition(Some(&n)))))
            }
            "new-timespan" => {
                let b = bind(args, TIMESPAN);
                let mut total = 0u64;
                for (unit, secs) in [("days", 86_400u64), ("hours", 3600), ("minutes", 60), ("seconds", 1)] {
                    let n = self.param_text(src, &b, unit, depth).and_then(|t| t.trim().parse::<f64>().ok()).unwrap_or(0.0);
                    if n.is_finite() && n > 0.0 && n < 1e7 {
                        total = total.saturating_add((n * secs as f64) as u64);
                    }
                }
                Val::Duration(iso_duration(total).into())
            }
            "invoke-expression" | "iex" => {
                let b = bind(args, &[("command", false)]);
                let text = self
                    .param_text(src, &b, "command", depth)
                    .or_else(|| b.positional.first().and_then(|a| self.arg_val(src, a, depth).text()));
                if let Some(t) = text {
                    self.run(&t, depth + 1);
                }
                Val::Nil
            }
            "invoke-command" | "icm" => {
                let b = bind(
                    args,
                    &[
                        ("scriptblock", false),
                        ("computername", false),
                        ("cn", false),
                        ("session", false),
                        ("argumentlist", false),
                        ("filepath", false),
                        ("credential", false),
                    ],
                );
                let host = self.param_text(src, &b, "computername", depth).or_else(|| self.param_text(src, &b, "cn", depth));
                let block = match b.get("scriptblock") {
                    Some(Param::Value(arg)) => arg.first().copied(),
                    _ => b
                        .positional
                        .iter()
                        .find_map(|a| a.first().copied().filter(|r| matches!(r.first().map(|t| &t.k), Some(Tk::Brace(..))))),
                };
                if let Some([Tok { k: Tk::Brace(a, e), .. }]) = block {
                    let new = host.or_else(|| self.remote.clone());
                    let saved = std::mem::replace(&mut self.remote, new);
                    self.run(&src[*a..*e], depth + 1);
                    self.remote = saved;
                }
                Val::Nil
            }
            "start-process" | "saps" | "start" => {
                let b = bind(
                    args,
                    &[
                        ("filepath", false),
                        ("argumentlist", false),
                        ("verb", false),
                        ("windowstyle", false),
                        ("workingdirectory", false),
                        ("credential", false),
                        ("wait", true),
                        ("nonewwindow", true),
                        ("passthru", true),
                    ],
                );
                let mut pos = b.positional.iter();
                let file =
                    self.param_text(src, &b, "filepath", depth).or_else(|| pos.next().and_then(|a| self.arg_val(src, a, depth).text()));
                let mut argv = self.items(src, &b, "argumentlist", depth);
                if argv.is_empty()
                    && let Some(a) = pos.next()
                {
                    flatten(&self.arg_val(src, a, depth), &mut argv);
                }
                if let Some(file) = file {
                    let line = std::iter::once(quote_arg(&file)).chain(argv.iter().filter_map(Val::text)).collect::<Vec<_>>().join(" ");
                    self.native(&line, depth);
                }
                Val::Nil
            }
            _ => {
                let prog = program_name(name);
                if matches!(prog.as_str(), "schtasks" | "at" | "cmd" | "powershell" | "pwsh") {
                    let mut argv = vec![name.to_string()];
                    let mut i = 0;
                    while i < args.len() {
                        let (arg, next) = collect_arg(args, i);
                        for run in arg {
                            let v = self.item_val(src, run, depth);
                            argv.push(v.text().unwrap_or_default());
                        }
                        i = next;
                    }
                    let line = argv.iter().map(|a| quote_arg(a)).collect::<Vec<_>>().join(" ");
                    self.native(&line, depth);
                } else {
                    // if/try/foreach/function bodies and other blocks: look inside.
                    for t in args {
                        if let Tk::Brace(a, e) | Tk::Paren(a, e) = t.k {
                            self.run(&src[a..e], depth + 1);
                        }
                    }
                }
                Val::Nil
            }
        }
    }

    pub(super) fn native(&mut self, line: &str, depth: usize) {
        let start = self.out.len();
        super::collect(line, depth + 1, &mut *self.out);
        if let Some(h) = &self.remote {
            for c in self.out.iter_mut().skip(start) {
                set_remote(c, h);
            }
        }
    }

    pub(super) fn push(&mut self, mut cmd: TaskCommand) {
        if let Some(h) = &self.remote {
            set_remote(&mut cmd, h);
        }
        if self.out.len() < MAX_COMMANDS {
            self.out.push(cmd);
        }
    }
}
