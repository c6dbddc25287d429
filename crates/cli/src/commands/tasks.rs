//! `taskhunt tasks`: the scheduled-task inventory, one row per task per host, scored with
//! reasons, and audited against a saved baseline.

use crate::output::{OutputFormat, RowWriter, open_output};
use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use taskhunt_events::Value;
use taskhunt_events::text::terminal_safe;
use taskhunt_tasks::files;
use taskhunt_tasks::inventory::{self, Baseline, TaskEntry};
use taskhunt_tasks::score::{ScoringConfig, Severity};
use taskhunt_tasks::sources::TaskRecord;

#[derive(Args)]
pub struct TasksArgs {
    /// Telemetry files or directories (evtx, JSON, Defender exports).
    #[arg(required_unless_present = "store", value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Read the files kept in a case store made by `taskhunt ingest` instead of PATHs.
    #[arg(long, value_name = "DIR", conflicts_with = "paths")]
    store: Option<PathBuf>,

    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,

    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Compare with a saved inventory: new, changed (which parts) and vanished tasks.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Save this inventory as a baseline for later audits.
    #[arg(long, value_name = "FILE")]
    save_baseline: Option<PathBuf>,

    /// YAML overriding scoring weights, thresholds and the allowlist (see docs/tasks.md).
    #[arg(long, value_name = "FILE")]
    scoring: Option<PathBuf>,

    /// Host name for task files whose path does not say it (collected `Tasks` folders, exports).
    #[arg(long, value_name = "NAME")]
    host: Option<String>,

    /// Show only tasks at or above this severity.
    #[arg(long, value_parser = parse_severity, default_value = "informational")]
    min_severity: Severity,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "informational" | "info" => Severity::Informational,
        "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        "critical" => Severity::Critical,
        _ => return Err(format!("{s:?} is not a severity")),
    })
}

pub fn load_scoring(path: Option<&std::path::Path>) -> Result<ScoringConfig> {
    match path {
        None => Ok(ScoringConfig::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            ScoringConfig::from_yaml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
        }
    }
}

pub fn run(args: TasksArgs) -> Result<ExitCode> {
    let cfg = load_scoring(args.scoring.as_deref())?;
    let (files, walk_issues) = super::input_files(&args.paths, args.store.as_deref())?;
    let (events, file_records, summary) = read_inputs(&files, walk_issues, args.host.as_deref());
    let entries = inventory::from_events_and_records(&events, file_records, &cfg);
    let columns = [
        "host",
        "task_name",
        "first_seen",
        "last_seen",
        "state",
        "created_by",
        "principal",
        "run_level",
        "hidden",
        "triggers",
        "actions",
        "runs",
        "score",
        "severity",
        "reasons",
    ];
    let mut w = RowWriter::new(open_output(args.output.as_deref())?, args.format, columns.map(String::from).to_vec());
    let shown: Vec<&TaskEntry> = entries.iter().filter(|e| e.severity >= args.min_severity).collect();
    for e in &shown {
        if args.format == OutputFormat::Jsonl {
            w.raw_json(&json!({
                "host": e.host, "task_name": e.task_name, "first_seen": e.first_seen, "last_seen": e.last_seen,
                "state": e.state, "created_by": e.created_by, "principal": e.principal, "run_level": e.run_level,
                "hidden": e.hidden, "triggers": e.triggers, "actions": e.actions, "runs": e.runs,
                "score": e.score, "severity": e.severity, "reasons": e.reasons, "history": e.history,
                "definition": e.definition, "problems": e.problems,
            }))?;
        } else {
            let reasons: Vec<String> = e.reasons.iter().map(|r| format!("{:+} {}: {}", r.weight, r.signal, r.detail)).collect();
            let opt = |v: &Option<String>| Value::from(v.clone().unwrap_or_default());
            w.row([
                ("host", Value::from(e.host.as_str())),
                ("task_name", Value::from(e.task_name.as_str())),
                ("first_seen", Value::from(e.first_seen.map(|t| t.to_string()).unwrap_or_default())),
                ("last_seen", Value::from(e.last_seen.map(|t| t.to_string()).unwrap_or_default())),
                ("state", Value::from(format!("{:?}", e.state).to_lowercase())),
                ("created_by", opt(&e.created_by)),
                ("principal", opt(&e.principal)),
                ("run_level", opt(&e.run_level)),
                ("hidden", Value::Bool(e.hidden)),
                ("triggers", Value::from(e.triggers.as_str())),
                ("actions", Value::from(e.actions.as_str())),
                ("runs", Value::UInt(e.runs as u64)),
                ("score", Value::UInt(e.score as u64)),
                ("severity", Value::from(e.severity.as_str())),
                ("reasons", Value::from(reasons.join(" ¦ "))),
            ])?;
        }
    }
    w.finish()?;
    let current = Baseline::from_inventory(&entries);
    if let Some(path) = &args.save_baseline {
        std::fs::write(path, serde_json::to_vec_pretty(&current)?).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("taskhunt: baseline of {} tasks saved to {}", current.tasks.len(), path.display());
    }
    if let Some(path) = &args.baseline {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read baseline {}", path.display()))?;
        let base: Baseline = serde_json::from_str(&text).with_context(|| format!("{} is not a taskhunt baseline", path.display()))?;
        let drift = inventory::compare(&base, &current);
        eprintln!("taskhunt: against baseline {}: {} changes", path.display(), drift.len());
        for d in &drift {
            eprintln!("taskhunt:   {}", terminal_safe(&drift_line(d)));
        }
    }
    let mut by_sev = std::collections::BTreeMap::new();
    for e in &entries {
        *by_sev.entry(e.severity).or_insert(0) += 1;
    }
    let sev: Vec<String> = by_sev.iter().rev().map(|(s, n)| format!("{}: {n}", s.as_str())).collect();
    eprintln!(
        "taskhunt: {} tasks ({}); {} shown; {} events and {} task files read",
        entries.len(),
        sev.join(", "),
        shown.len(),
        summary.records,
        summary.task_files
    );
    for p in summary.problems.iter().take(20) {
        eprintln!("taskhunt: warning: {}", terminal_safe(p));
    }
    Ok(if summary.records == 0 && summary.task_files == 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

#[derive(Default)]
struct InputSummary {
    records: u64,
    task_files: u64,
    problems: Vec<String>,
}

/// Task files and exports (recognised by content) become task records; every other file goes
/// to the event readers.
fn read_inputs(
    files: &[(PathBuf, PathBuf)],
    walk_issues: Vec<taskhunt_events::ReadIssue>,
    host: Option<&str>,
) -> (Vec<taskhunt_events::Event>, Vec<TaskRecord>, InputSummary) {
    use rayon::prelude::*;
    let mut summary = InputSummary { problems: walk_issues.iter().map(|i| i.to_string()).collect(), ..InputSummary::default() };
    let results: Vec<(Vec<TaskRecord>, Option<taskhunt_events::FileBatch>, Option<String>)> = files
        .par_iter()
        .map(|(p, stored)| match std::fs::read(stored) {
            Err(e) => (vec![], None, Some(format!("{}: {e}", p.display()))),
            Ok(bytes) => match files::read_task_file(p, &bytes, host) {
                Some(Ok(recs)) => (recs, None, None),
                Some(Err(e)) => (vec![], None, Some(format!("{}: {e}", p.display()))),
                None => (vec![], Some(taskhunt_events::read_file_as(stored, p)), None),
            },
        })
        .collect();
    let mut events = Vec::new();
    let mut records = Vec::new();
    for (recs, batch, problem) in results {
        if let Some(p) = problem {
            summary.problems.push(p);
        }
        if !recs.is_empty() {
            summary.task_files += 1;
        }
        for r in recs {
            // Damaged entries of an export are reported, not inventoried as tasks.
            match &r.problem {
                Some(p) if r.definition.is_none() => summary.problems.push(format!("{}: {p}", r.evidence)),
                _ => records.push(r),
            }
        }
        if let Some(b) = batch {
            summary.records += b.events.len() as u64;
            summary.problems.extend(b.issues.iter().map(|i| i.to_string()));
            events.extend(b.events);
        }
    }
    (events, records, summary)
}

pub fn drift_line(d: &inventory::Drift) -> String {
    match d {
        inventory::Drift::New { host, task_name } => format!("new      {host} {task_name}"),
        inventory::Drift::Vanished { host, task_name } => format!("vanished {host} {task_name}"),
        inventory::Drift::Changed { host, task_name, parts } => format!(
            "changed  {host} {task_name}: {}",
            parts.iter().map(|(p, a, b)| format!("{p}: {a:?} -> {b:?}")).collect::<Vec<_>>().join("; ")
        ),
    }
}
