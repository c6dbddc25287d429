//! at.exe: `at [\\\\host] time [/interactive] [/every:days|/next:days] command`, `/delete`, queries.

use super::args::{self, day_name, parse_time, split_exec, time_of_day};
use super::{TaskCommand, Tool, Verb, is_local_host, new_definition};
use crate::model::{Action, Trigger, TriggerKind};

/// Parses at.exe arguments: `at [\\host] time [/interactive] [/every:d,...|/next:d,...] command`,
/// `at [\\host] [id] /delete [/yes]`, `at [\\host] [id]`.
pub(super) fn at(args: &[String]) -> TaskCommand {
    let mut rest = args;
    let mut host = None;
    if let Some(first) = rest.first()
        && first.starts_with("\\\\")
    {
        host = Some(first.trim_start_matches('\\').to_string()).filter(|h| !h.is_empty());
        rest = &rest[1..];
    }
    let lower: Vec<String> = rest.iter().map(|a| a.to_ascii_lowercase()).collect();
    let id = rest.first().filter(|a| !a.is_empty() && a.len() < 10 && a.bytes().all(|b| b.is_ascii_digit()));
    let verb = if lower.iter().any(|a| a == "/delete") {
        Verb::Delete
    } else if rest.is_empty() || (id.is_some() && rest.len() == 1) {
        Verb::Query
    } else {
        Verb::Create
    };
    let mut cmd = TaskCommand::new(Tool::At, verb);
    cmd.remote_host = host;
    cmd.warnings.push("at.exe is deprecated and no longer creates tasks on Windows 8 / Server 2012 and later".into());
    if verb != Verb::Create {
        cmd.task_name = id.map(|n| format!("\\At{n}"));
        cmd.force = lower.iter().any(|a| a == "/yes");
        return cmd;
    }
    cmd.warnings.push("at.exe names the task At<n>; the number is not on the command line".into());
    let mut def = new_definition(Some(&"\\At".to_string()));
    def.origin.remote = cmd.remote_host.as_deref().map(|h| !is_local_host(h));
    // at.exe jobs run as the scheduler's AT service account, LocalSystem unless reconfigured.
    def.principal.user_id = Some("SYSTEM".into());
    let time = rest.first().and_then(|t| parse_time(t));
    if time.is_none() {
        cmd.warnings.push(format!("{:?} is not a time (hh:mm)", rest.first().map_or("", |s| s.as_str())));
    }
    let mut every = None;
    let mut next = None;
    let mut i = 1;
    while let Some(a) = rest.get(i) {
        let l = a.to_ascii_lowercase();
        if l.starts_with("/every:") {
            every = a.get(7..).filter(|v| !v.is_empty()).map(str::to_string);
        } else if l.starts_with("/next:") {
            next = a.get(6..).filter(|v| !v.is_empty()).map(str::to_string);
        } else if l != "/interactive" {
            break;
        }
        i += 1;
    }
    let command: Vec<&String> = rest.get(i..).unwrap_or(&[]).iter().collect();
    let line = match command.as_slice() {
        [] => {
            cmd.warnings.push("no command".into());
            String::new()
        }
        [one] => one.to_string(),
        many => many.iter().map(|a| args::quote_arg(a)).collect::<Vec<_>>().join(" "),
    };
    if !line.is_empty() {
        let (command, arguments) = split_exec(&line);
        def.actions.push(Action::Exec { command, arguments, working_directory: None });
    }
    let start = time.map(time_of_day);
    let mut base = Trigger { kind: TriggerKind::Time, start_boundary: start.clone(), ..Trigger::default() };
    match (every, next) {
        (Some(days), _) => {
            let (mut weekly, mut monthly) = (base.clone(), base);
            weekly.kind = TriggerKind::Weekly;
            weekly.weeks_interval = Some(1);
            monthly.kind = TriggerKind::Monthly;
            for d in days.split(',').map(str::trim) {
                match (day_name(d), d.parse::<u32>()) {
                    (Some(name), _) if !weekly.days_of_week.iter().any(|x| x == name) => weekly.days_of_week.push(name.into()),
                    (Some(_), _) => {}
                    (None, Ok(n)) if (1..=31).contains(&n) && !monthly.days_of_month.contains(&n.to_string()) => {
                        monthly.days_of_month.push(n.to_string())
                    }
                    (None, Ok(n)) if (1..=31).contains(&n) => {}
                    _ => cmd.warnings.push(format!("/every day {d:?} is not a weekday or a day of the month")),
                }
            }
            if !weekly.days_of_week.is_empty() {
                def.triggers.push(weekly);
            }
            if !monthly.days_of_month.is_empty() {
                def.triggers.push(monthly);
            }
        }
        (None, Some(days)) => {
            base.detail = Some(format!("next {days}"));
            def.triggers.push(base);
        }
        (None, None) => def.triggers.push(base),
    }
    cmd.definition = Some(def);
    cmd
}
