//! `taskhunt hunt`: the write-up's investigation as a program. Runs a playbook over telemetry
//! (or the built-in sample) and writes the report set: report.md, report.html, incidents.jsonl,
//! detections.jsonl, timeline.csv, tasks.jsonl, navigator.json and generated-rules.yml.
//! Memory follows the largest group of hosts, not the input ([`stream`]).

pub mod generate;
pub mod playbook;
mod sample;
mod stream;

use crate::commands::rules::{RuleArgs, load_rules};
use anyhow::{Context, Result};
use clap::Args;
use playbook::{Playbook, QueryRef, Step};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use taskhunt_correlate::incident::Config;
use taskhunt_events::text::terminal_safe;
use taskhunt_events::{Event, Timestamp};
use taskhunt_report::model::{DetectionSummary, HuntReport, QueryResult};
use taskhunt_report::timeline::TimelineRow;

#[derive(Args)]
pub struct HuntArgs {
    /// Telemetry files or directories; without any, the built-in sample fleet is hunted.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Hunt over the files kept in a case store made by `taskhunt ingest` instead of PATHs.
    #[arg(long, value_name = "DIR", conflicts_with = "paths")]
    store: Option<PathBuf>,

    /// A built-in playbook name or a playbook YAML file.
    #[arg(long, default_value = "t1053-scheduled-task-abuse")]
    playbook: String,

    #[command(flatten)]
    rules: RuleArgs,

    /// Where the report set is written.
    #[arg(long, default_value = "taskhunt-report")]
    out: PathBuf,

    /// YAML overriding task-scoring weights and the allowlist (docs/tasks.md).
    #[arg(long, value_name = "FILE")]
    scoring: Option<PathBuf>,

    /// File of known registered domains (one per line), not counted as rare.
    #[arg(long, value_name = "FILE")]
    known_domains: Option<PathBuf>,
}

struct Stage {
    started: Instant,
}

impl Stage {
    fn start(name: &str) -> Stage {
        eprint!("taskhunt: {name:<28}");
        let _ = std::io::stderr().flush();
        Stage { started: Instant::now() }
    }

    fn done(self, what: String) {
        eprintln!(" {what} ({:.2}s)", self.started.elapsed().as_secs_f64());
    }
}

pub fn run(args: HuntArgs) -> Result<ExitCode> {
    let total = Instant::now();
    let playbook = Playbook::load(&args.playbook)?;
    let scoring = crate::commands::tasks::load_scoring(args.scoring.as_deref())?;
    let mut known = BTreeSet::new();
    if let Some(p) = &args.known_domains {
        let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        known.extend(text.lines().map(|l| l.trim().to_ascii_lowercase()).filter(|l| !l.is_empty() && !l.starts_with('#')));
    }

    // 1. Read once: coverage, Sigma, the query tables and the fleet's context.
    let stage = Stage::start("reading telemetry, Sigma");
    let mut rule_args = args.rules.clone();
    for step in &playbook.steps {
        if let Step::Sigma(s) = step
            && s != "builtin"
        {
            rule_args.rules.push(PathBuf::from(s));
        }
    }
    let set = load_rules(&rule_args)?;
    let input = match (args.paths.is_empty(), &args.store) {
        (true, None) => stream::Input::Sample,
        _ => stream::Input::Files { paths: &args.paths, store: args.store.as_deref() },
    };
    let has_queries = playbook.steps.iter().any(|s| matches!(s, Step::Query(_)));
    let mut pass = stream::first_pass(&input, &set, has_queries)?;
    let (inputs, files, records, skipped) = match &pass.summary {
        None => (vec!["built-in sample fleet".to_string()], 1, pass.events, 0),
        Some(s) => {
            for issue in s.issues.iter().take(10) {
                eprintln!("\ntaskhunt: warning: {}", terminal_safe(&issue.to_string()));
            }
            let inputs = match &args.store {
                Some(store) => vec![format!("case store {}", store.display())],
                None => args.paths.iter().map(|p| p.display().to_string()).collect(),
            };
            (inputs, s.files, s.records, s.records_skipped())
        }
    };
    let mut coverage = std::mem::take(&mut pass.coverage).finish();
    // What the playbook says it needs and the data lacks.
    for need in &playbook.telemetry {
        let have: BTreeSet<u32> =
            coverage.hosts.iter().filter_map(|h| h.channels.get(&need.channel)).flat_map(|ids| ids.keys().copied()).collect();
        let missing: Vec<String> = need.event_ids.iter().filter(|id| !have.contains(id)).map(|id| id.to_string()).collect();
        if have.is_empty() {
            coverage.gaps.push(taskhunt_report::coverage::Gap {
                hosts: vec![],
                what: format!("playbook needs {} and the data has none", need.channel),
                consequence: "the steps that rely on it see nothing".into(),
            });
        } else if !missing.is_empty() {
            coverage.gaps.push(taskhunt_report::coverage::Gap {
                hosts: vec![],
                what: format!("playbook needs {} event ids {} and the data has none of them", need.channel, missing.join(", ")),
                consequence: "the steps that rely on them see nothing".into(),
            });
        }
    }
    stage.done(format!("{records} events, {} hosts", coverage.hosts.len()));

    // 2. Sigma: the events with hits, in the sorted input's order.
    let stage = Stage::start("Sigma detection");
    let hit_events = std::mem::take(&mut pass.hits);
    let mut detections: Vec<(&Event, &str, String)> = Vec::new();
    let mut pairs: Vec<(usize, &Event)> = Vec::new();
    let mut det_rows = Vec::new();
    let mut by_rule: BTreeMap<usize, (u64, BTreeSet<String>)> = BTreeMap::new();
    for (event, hs) in &hit_events {
        for h in hs {
            let r = &set.rules[h.rule];
            pairs.push((h.rule, event));
            if r.suppressed {
                continue;
            }
            let level = r.meta.level.map(|l| l.as_str()).unwrap_or("medium").to_string();
            detections.push((event, &r.meta.title, level.clone()));
            let e = by_rule.entry(h.rule).or_default();
            e.0 += 1;
            e.1.insert(event.computer.to_string());
            det_rows.push(serde_json::json!({
                "timestamp": event.timestamp, "computer": &*event.computer, "channel": &*event.channel,
                "event_id": event.event_id, "record_id": event.record_id, "file": event.source.path.to_string_lossy(),
                "rule_id": r.meta.id, "rule_title": r.meta.title, "level": level, "tags": r.meta.tags,
            }));
        }
    }
    let (correlations, limit_warnings) = set.correlate_reporting(&pairs);
    for w in &limit_warnings {
        eprintln!("taskhunt: warning: {}", terminal_safe(w));
    }
    for c in &correlations {
        let rule = &set.correlations[c.correlation];
        det_rows.push(serde_json::json!({
            "timestamp": c.alert.last, "rule_id": rule.meta.id, "rule_title": rule.meta.title,
            "level": rule.meta.level.map(|l| l.as_str()).unwrap_or("medium"), "correlation_type": rule.kind.as_str(),
            "group": c.alert.group, "events": c.detections.iter().map(|&d| serde_json::json!({"file": pairs[d].1.source.path.to_string_lossy(), "record_id": pairs[d].1.record_id})).collect::<Vec<_>>(),
        }));
    }
    let mut det_summary: Vec<DetectionSummary> = by_rule
        .iter()
        .map(|(ri, (n, hosts))| DetectionSummary {
            rule_title: set.rules[*ri].meta.title.clone(),
            rule_id: set.rules[*ri].meta.id.clone(),
            level: set.rules[*ri].meta.level.map(|l| l.as_str()).unwrap_or("medium").to_string(),
            count: *n,
            hosts: hosts.iter().cloned().collect(),
        })
        .collect();
    det_summary.sort_by_key(|d| std::cmp::Reverse(d.count));
    stage.done(format!(
        "{} rules, {} detections, {} correlation alerts",
        set.active_rules(),
        det_rows.len() - correlations.len(),
        correlations.len()
    ));

    // 3. Queries.
    let stage = Stage::start("hunting queries");
    let queries = run_queries(&playbook, pass.tables.take(), pass.last.unwrap_or_default());
    stage.done(format!("{} queries", queries.len()));

    // 4. Tasks and correlation, a group of hosts at a time.
    let stage = Stage::start("tasks and correlation");
    let mut cfg = Config { scoring: scoring.clone(), known_domains: known, ..Config::default() };
    for step in &playbook.steps {
        if let Step::Correlate(opts) = step
            && let Some(v) = opts.get("min_score").and_then(|v| v.as_u64())
        {
            cfg.min_score = v as u32;
        }
    }
    let (tasks, incidents, run) = stream::second_pass(&input, &pass, &cfg, &scoring);
    stage.done(format!(
        "{} tasks, {} incidents; {} host groups (largest {} files), {} of {} events kept",
        tasks.len(),
        incidents.len(),
        run.groups,
        run.largest_group,
        run.reduce.events_kept,
        run.reduce.events_seen
    ));

    // 5. Outputs.
    let stage = Stage::start("writing the report");
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let out = |name: &str| args.out.join(name);
    write_jsonl(&out("incidents.jsonl"), incidents.iter())?;
    write_jsonl(&out("detections.jsonl"), det_rows.iter())?;
    write_jsonl(&out("tasks.jsonl"), tasks.iter())?;
    let mut timeline: Vec<TimelineRow> = Vec::new();
    for inc in &incidents {
        timeline.extend(inc.events.iter().map(|e| TimelineRow {
            timestamp: e.time,
            host: e.host.clone(),
            kind: "incident".into(),
            subject: format!("{} {}", inc.id, inc.task_name),
            event_id: e.event_id,
            summary: format!("[{}] {}", e.role, e.summary),
            file: e.file.clone(),
            record_id: e.record_id,
        }));
    }
    for (e, title, level) in &detections {
        timeline.push(TimelineRow {
            timestamp: e.timestamp,
            host: e.computer.to_string(),
            kind: "detection".into(),
            subject: title.to_string(),
            event_id: e.event_id,
            summary: format!("{level}: {}", title),
            file: e.source.path.to_string_lossy().into_owned(),
            record_id: e.record_id,
        });
    }
    timeline.sort();
    timeline.dedup();
    taskhunt_report::timeline::write_csv(&timeline, std::io::BufWriter::new(std::fs::File::create(out("timeline.csv"))?))?;
    let layer = taskhunt_report::navigator::layer(&format!("taskhunt: {}", playbook.title), &incidents);
    std::fs::write(out("navigator.json"), serde_json::to_vec_pretty(&layer)?)?;
    let mut by_sev: BTreeMap<taskhunt_tasks::score::Severity, usize> = BTreeMap::new();
    tasks.iter().for_each(|t| *by_sev.entry(t.severity).or_default() += 1);
    let generated_rules: Vec<_> = incidents.iter().filter(|i| i.score >= 40).map(generate::generate).collect();
    // The generated Sigma rules as one multi-document file, ready for `taskhunt detect --rules`.
    let mut sigma = String::from("# Sigma rules taskhunt generated from this hunt's incidents (one YAML document each).\n");
    for g in &generated_rules {
        sigma.push_str("---\n");
        sigma.push_str(&g.sigma);
    }
    std::fs::write(out("generated-rules.yml"), sigma)?;
    let report = HuntReport {
        title: format!("Hunt report: {}", playbook.title),
        generated: now(),
        inputs,
        playbook: taskhunt_report::model::Playbook {
            name: playbook.name.clone(),
            title: playbook.title.clone(),
            hypothesis: playbook.hypothesis.clone(),
            attack: playbook.attack.iter().map(|t| (t.id.clone(), t.name.clone())).collect(),
            meaning: playbook.meaning.clone(),
        },
        files,
        records,
        skipped,
        coverage,
        incidents,
        detections: det_summary,
        queries,
        tasks_total: tasks.len(),
        tasks_by_severity: by_sev.iter().rev().map(|(s, n)| (s.as_str().to_string(), *n)).collect(),
        generated_rules,
        recommendations: playbook.recommendations.clone(),
    };
    std::fs::write(out("report.md"), taskhunt_report::markdown::render(&report))?;
    std::fs::write(out("report.html"), taskhunt_report::html::render(&report))?;
    stage.done(format!("{}", args.out.display()));

    eprintln!("taskhunt: {} incidents:", report.incidents.len());
    for inc in report.incidents.iter().take(15) {
        eprintln!(
            "taskhunt:   {} {:<13} {:>3}  {:<32} {}",
            inc.id,
            inc.severity.as_str(),
            inc.score,
            terminal_safe(&inc.hosts.join(",")).chars().take(32).collect::<String>(),
            terminal_safe(&inc.task_name)
        );
    }
    if report.incidents.len() > 15 {
        eprintln!("taskhunt:   ... {} more in incidents.jsonl", report.incidents.len() - 15);
    }
    eprintln!("taskhunt: done in {:.2}s; open {}", total.elapsed().as_secs_f64(), out("report.html").display());
    Ok(ExitCode::SUCCESS)
}

fn now() -> Timestamp {
    Timestamp::from_unix_nanos(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i128).unwrap_or(0),
    )
}

fn write_jsonl<T: serde::Serialize>(path: &Path, items: impl Iterator<Item = T>) -> Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?);
    for item in items {
        serde_json::to_writer(&mut w, &item)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(())
}

/// The playbook's queries over `tables` (built from every event; `None` when there are no
/// queries) as of `last`, the input's latest event.
fn run_queries(playbook: &Playbook, tables: Option<taskhunt_query::CatalogBuilder>, last: Timestamp) -> Vec<QueryResult> {
    let steps: Vec<&QueryRef> = playbook.steps.iter().filter_map(|s| if let Step::Query(q) = s { Some(q) } else { None }).collect();
    let Some(builder) = tables.filter(|_| !steps.is_empty()) else {
        return vec![];
    };
    let engine = match taskhunt_query::Engine::new(builder.finish(), last) {
        Ok(e) => e,
        Err(e) => {
            return vec![QueryResult {
                name: "engine".into(),
                title: "query engine".into(),
                lang: String::new(),
                text: String::new(),
                rows: 0,
                columns: vec![],
                sample: vec![],
                error: Some(e.to_string()),
            }];
        }
    };
    steps
        .into_iter()
        .map(|q| {
            let (name, title, lang, text) = match q {
                QueryRef::Named(n) => match taskhunt_query::hunts::find(n) {
                    Some(h) => (h.name, h.title, h.lang, h.text),
                    None => (n.clone(), n.clone(), taskhunt_query::Lang::Kql, String::new()),
                },
                QueryRef::Inline(i) => (
                    i.title.clone(),
                    i.title.clone(),
                    taskhunt_query::Lang::parse(&i.lang).unwrap_or(taskhunt_query::Lang::Kql),
                    i.text.clone(),
                ),
            };
            let lang_name = format!("{lang:?}").to_lowercase();
            if text.is_empty() {
                return QueryResult {
                    name: name.clone(),
                    title,
                    lang: lang_name,
                    text,
                    rows: 0,
                    columns: vec![],
                    sample: vec![],
                    error: Some(format!("no built-in hunt named {name}")),
                };
            }
            match engine.run(lang, &text) {
                Ok(batches) => {
                    let (columns, sample) = sample_rows(&batches, 10);
                    QueryResult {
                        name,
                        title,
                        lang: lang_name,
                        rows: batches.iter().map(|b| b.num_rows()).sum(),
                        text,
                        columns,
                        sample,
                        error: None,
                    }
                }
                Err(e) => QueryResult {
                    name,
                    title,
                    lang: lang_name,
                    error: Some(e.render(&text)),
                    text,
                    rows: 0,
                    columns: vec![],
                    sample: vec![],
                },
            }
        })
        .collect()
}

fn sample_rows(batches: &[taskhunt_query::arrow::array::RecordBatch], n: usize) -> (Vec<String>, Vec<Vec<String>>) {
    use taskhunt_query::arrow::util::display::{ArrayFormatter, FormatOptions};
    let Some(first) = batches.first() else { return (vec![], vec![]) };
    let columns = first.schema().fields().iter().map(|f| f.name().clone()).collect();
    let opts = FormatOptions::default().with_null("");
    let mut rows = Vec::new();
    for b in batches {
        let fmts: Vec<ArrayFormatter> = b.columns().iter().filter_map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).ok()).collect();
        for r in 0..b.num_rows() {
            if rows.len() >= n {
                return (columns, rows);
            }
            rows.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    (columns, rows)
}
