//! `taskhunt rules list|lint|convert`, and the rule-loading options `detect` shares.

use crate::output::{OutputFormat, RowWriter, open_output};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use taskhunt_events::Value;
use taskhunt_events::text::terminal_safe;
use taskhunt_sigma::{Placeholders, RuleSet, Source};

/// Where rules come from.
#[derive(Args, Clone)]
pub struct RuleArgs {
    /// Sigma rule files or directories (walked recursively); may be repeated.
    #[arg(long = "rules", short = 'r', value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Do not load taskhunt's built-in scheduled-task rule pack.
    #[arg(long)]
    pub no_builtin_rules: bool,

    /// YAML map of placeholder name to values, for rules using `|expand`
    /// (e.g. `Admins_Workstations: [ws01, ws02]`). Without it such rules are listed as inactive.
    #[arg(long, value_name = "FILE")]
    pub placeholders: Option<PathBuf>,
}

pub fn load_placeholders(path: Option<&std::path::Path>) -> Result<Option<Placeholders>> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read placeholders file {}", path.display()))?;
    let raw: std::collections::BTreeMap<String, serde_json::Value> =
        serde_saphyr::from_str(&text).with_context(|| format!("{}: placeholders must be a YAML map of name to list", path.display()))?;
    let mut out = Placeholders::new();
    for (name, v) in raw {
        let values = match v {
            serde_json::Value::Array(items) => {
                items.iter().map(|i| i.as_str().map(String::from).unwrap_or_else(|| i.to_string())).collect()
            }
            serde_json::Value::String(s) => vec![s],
            other => vec![other.to_string()],
        };
        out.insert(name.trim_matches('%').to_string(), values);
    }
    Ok(Some(out))
}

pub fn load_rules(args: &RuleArgs) -> Result<RuleSet> {
    let placeholders = load_placeholders(args.placeholders.as_deref())?;
    let mut sources: Vec<Source> = if args.no_builtin_rules { vec![] } else { taskhunt_sigma::builtin::sources() };
    sources.extend(args.rules.iter().map(|p| Source::Path(p)));
    if sources.is_empty() {
        anyhow::bail!("no rules: give --rules PATH or drop --no-builtin-rules");
    }
    Ok(RuleSet::load(&sources, placeholders.as_ref()))
}

/// Rules loaded, inactive and rejected (with the reasons), on stderr.
pub fn print_load_summary(set: &RuleSet, took: Duration) {
    let inactive = set.rules.len() - set.active_rules();
    eprintln!(
        "taskhunt: rules: {} loaded ({} active, {} inactive), {} correlations, {} filters, {} rejected, in {:.2}s",
        set.rules.len(),
        set.active_rules(),
        inactive,
        set.correlations.len(),
        set.filters.len(),
        set.errors.len(),
        took.as_secs_f64()
    );
    for e in set.errors.iter().take(20) {
        eprintln!("taskhunt: rejected rule: {}", terminal_safe(&e.to_string()));
    }
    if set.errors.len() > 20 {
        eprintln!("taskhunt: ... {} more rejected (see `taskhunt rules list`)", set.errors.len() - 20);
    }
    if inactive > 0 {
        eprintln!("taskhunt: {inactive} rules inactive: they need placeholder values (--placeholders FILE; see `taskhunt rules list`)");
    }
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// List rules with id, title, level, status, logsource, path; rejected files with the error.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Jsonl)]
        format: OutputFormat,
    },
    /// Check rule files against the Sigma specification: file, line, what is wrong, how to fix it.
    Lint {
        /// Rule files or directories.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Convert detection rules to KQL, SPL or SQL for another system (see docs/sigma.md,
    /// "Converting rules"); rules that cannot be converted are reported on stderr.
    Convert {
        /// Rule files or directories (walked recursively).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Target language.
        #[arg(long, value_parser = ["kql", "spl", "sql"])]
        to: String,
        /// Where the events live and what their fields are called: defender, sentinel,
        /// splunk-windows, splunk-cim, taskhunt (default: defender for kql, splunk-windows for
        /// spl, taskhunt for sql).
        #[arg(long, value_parser = ["defender", "sentinel", "splunk-windows", "splunk-cim", "taskhunt"])]
        pipeline: Option<String>,
        /// Placeholder values for rules using `|expand`.
        #[arg(long, value_name = "FILE")]
        placeholders: Option<PathBuf>,
        /// Write the queries to this file instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub fn run(cmd: RulesCommand) -> Result<ExitCode> {
    match cmd {
        RulesCommand::List { rules, format } => list(&rules, format),
        RulesCommand::Lint { paths } => lint(&paths),
        RulesCommand::Convert { paths, to, pipeline, placeholders, output } => {
            convert(&paths, &to, pipeline.as_deref(), placeholders.as_deref(), output.as_deref())
        }
    }
}

fn list(args: &RuleArgs, format: OutputFormat) -> Result<ExitCode> {
    let set = load_rules(args)?;
    let columns = ["kind", "id", "title", "level", "status", "logsource", "path", "inactive", "error"].map(String::from).to_vec();
    let mut w = RowWriter::new(open_output(None)?, format, columns);
    for r in &set.rules {
        let ls = serde_json::to_value(&r.logsource)?;
        let scope_note = match &r.scope {
            taskhunt_sigma::logsource::Scope::Unmapped(why) => Some(why.clone()),
            _ => None,
        };
        if format == OutputFormat::Jsonl {
            w.raw_json(&json!({
                "kind": "rule",
                "id": r.meta.id, "title": r.meta.title, "level": r.meta.level, "status": r.meta.status,
                "logsource": ls, "path": r.meta.path.to_string_lossy(), "line": r.meta.line,
                "inactive": r.inactive, "unmapped": scope_note, "tags": r.meta.tags,
            }))?;
        } else {
            w.row([
                ("kind", Value::from("rule")),
                ("id", Value::from(r.meta.id.clone().unwrap_or_default())),
                ("title", Value::from(r.meta.title.as_str())),
                ("level", Value::from(r.meta.level.map(|l| l.as_str()).unwrap_or(""))),
                ("status", Value::from(r.meta.status.clone().unwrap_or_default())),
                ("logsource", Value::from(ls.to_string())),
                ("path", Value::from(r.meta.path.to_string_lossy().into_owned())),
                ("inactive", Value::from(r.inactive.clone().unwrap_or_default())),
            ])?;
        }
    }
    for c in &set.correlations {
        w.raw_json_or_row(
            format,
            json!({
                "kind": "correlation", "id": c.meta.id, "title": c.meta.title, "level": c.meta.level,
                "status": c.meta.status, "correlation_type": c.kind.as_str(), "rules": c.rules,
                "path": c.meta.path.to_string_lossy(),
            }),
        )?;
    }
    for e in &set.errors {
        w.raw_json_or_row(format, json!({"kind": "error", "path": e.path.to_string_lossy(), "line": e.line, "error": e.message}))?;
    }
    w.finish()?;
    Ok(ExitCode::SUCCESS)
}

fn lint(paths: &[PathBuf]) -> Result<ExitCode> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = walkdir_yaml(p);
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    let mut problems = 0usize;
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                println!("{}: cannot read: {e}", f.display());
                problems += 1;
                continue;
            }
        };
        for p in taskhunt_sigma::lint::lint_file(f, &text) {
            println!("{}", terminal_safe(&p.to_string()));
            problems += 1;
        }
    }
    eprintln!("taskhunt: {} files checked, {problems} problems", files.len());
    Ok(if problems == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn convert(
    paths: &[PathBuf],
    to: &str,
    pipeline: Option<&str>,
    placeholders: Option<&std::path::Path>,
    output: Option<&std::path::Path>,
) -> Result<ExitCode> {
    use taskhunt_sigma::convert::{self, Lang, Pipeline};
    let lang = Lang::parse(to).context("--to must be kql, spl or sql")?;
    let pipeline = match pipeline {
        Some(p) => Pipeline::parse(p).context("unknown --pipeline")?,
        None => Pipeline::default_for(lang),
    };
    if !pipeline.supports(lang) {
        anyhow::bail!("pipeline {} does not produce {}", pipeline.name(), lang.name());
    }
    let placeholders = load_placeholders(placeholders)?;
    let sources: Vec<Source> = paths.iter().map(|p| Source::Path(p)).collect();
    let set = RuleSet::load(&sources, placeholders.as_ref());
    let mut out = String::new();
    let (mut converted, mut lossy, mut failed) = (0usize, 0usize, 0usize);
    for e in &set.errors {
        eprintln!("taskhunt: cannot convert: {}", terminal_safe(&e.to_string()));
        failed += 1;
    }
    for c in &set.correlations {
        eprintln!(
            "taskhunt: cannot convert: {}: {} ({}): correlation rules are not converted (each target needs its own aggregation)",
            c.meta.path.display(),
            c.meta.id.as_deref().unwrap_or("no id"),
            terminal_safe(&c.meta.title)
        );
        failed += 1;
    }
    for r in &set.rules {
        match convert::convert(r, lang, pipeline, placeholders.as_ref()) {
            Ok(c) => {
                converted += 1;
                lossy += usize::from(!c.lossy.is_empty());
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&c.text);
            }
            Err(e) => {
                eprintln!("taskhunt: cannot convert: {}", terminal_safe(&e.to_string()));
                failed += 1;
            }
        }
    }
    match output {
        Some(p) => std::fs::write(p, &out).with_context(|| format!("cannot write {}", p.display()))?,
        None => {
            use std::io::Write;
            std::io::stdout().lock().write_all(out.as_bytes())?;
        }
    }
    eprintln!(
        "taskhunt: rules convert ({}, pipeline {}): {converted} converted ({lossy} lossy), {failed} failed",
        lang.name(),
        pipeline.name()
    );
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn walkdir_yaml(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walkdir_yaml(&p));
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
    out
}
