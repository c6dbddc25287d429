//! `taskhunt detect`: run Sigma rules (the built-in pack and any given) over telemetry.

use crate::commands::events::{exit_code, report};
use crate::commands::rules::{RuleArgs, load_rules, print_load_summary};
use crate::output::{OutputFormat, RowWriter, open_output};
use crate::progress::Progress;
use anyhow::Result;
use clap::Args;
use rayon::prelude::*;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use taskhunt_events::text::terminal_safe;
use taskhunt_events::{Event, Value};
use taskhunt_sigma::view::View;
use taskhunt_sigma::{Level, RuleSet};

#[derive(Args)]
pub struct DetectArgs {
    /// Files or directories of telemetry (evtx, JSON, Defender exports; gzip or not).
    #[arg(required_unless_present = "store", value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Read the files kept in a case store made by `taskhunt ingest` instead of PATHs.
    #[arg(long, value_name = "DIR", conflicts_with = "paths")]
    store: Option<PathBuf>,

    /// Match the rules on an Apache Ballista cluster (`df://HOST:PORT`) over the `--store`'s
    /// Parquet tables, as rules compiled to DataFusion expressions: one JSON line per hit (rule,
    /// file, record). Rules that do not compile are listed on stderr with the reason.
    #[arg(long, value_name = "URL", requires = "store")]
    cluster: Option<String>,

    #[command(flatten)]
    rules: RuleArgs,

    /// Report only detections at or above this level.
    #[arg(long, value_name = "LEVEL", value_parser = parse_level, default_value = "informational")]
    min_level: Level,

    /// Output format (csv is Timeline Explorer-friendly).
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Jsonl)]
    format: OutputFormat,

    /// Write detections to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Print every read problem, not just the first 20.
    #[arg(long, short = 'v')]
    verbose: bool,
}

pub fn parse_level(s: &str) -> Result<Level, String> {
    Level::parse(s).ok_or_else(|| format!("{s:?} is not a level (informational, low, medium, high, critical)"))
}

const CSV_COLUMNS: &[&str] =
    &["Timestamp", "Computer", "Channel", "EventID", "RecordID", "Level", "RuleTitle", "RuleID", "Tags", "Details", "Reasons", "File"];

pub fn run(args: DetectArgs) -> Result<ExitCode> {
    let load_started = Instant::now();
    let set = load_rules(&args.rules)?;
    let load_time = load_started.elapsed();
    if let (Some(url), Some(store)) = (&args.cluster, &args.store) {
        return detect_on_cluster(&set, url, store, &args);
    }
    let columns = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
    let mut writer = RowWriter::new(open_output(args.output.as_deref())?, args.format, columns);
    let mut progress = Progress::new();
    let mut kept: Vec<Event> = Vec::new();
    let mut detections: Vec<(usize, usize)> = Vec::new(); // (rule, index into kept)
    let mut by_level: BTreeMap<Level, u64> = BTreeMap::new();
    let mut by_rule: BTreeMap<usize, u64> = BTreeMap::new();
    let mut write_error = None;
    let scan_started = Instant::now();
    let summary = super::read_telemetry(
        &args.paths,
        args.store.as_deref(),
        |batch| {
            let hits: Vec<Vec<taskhunt_sigma::Hit>> = batch.events.par_iter().map(|e| set.matches(e)).collect();
            for (event, hits) in batch.events.into_iter().zip(hits) {
                if hits.is_empty() {
                    continue;
                }
                let idx = kept.len();
                for hit in &hits {
                    let rule = &set.rules[hit.rule];
                    detections.push((hit.rule, idx));
                    let level = rule.meta.level.unwrap_or(Level::Medium);
                    if rule.suppressed || level < args.min_level || write_error.is_some() {
                        continue;
                    }
                    *by_level.entry(level).or_default() += 1;
                    *by_rule.entry(hit.rule).or_default() += 1;
                    if let Err(e) = write_detection(&mut writer, args.format, &set, *hit, &event) {
                        write_error = Some(e);
                    }
                }
                kept.push(event);
            }
        },
        |done, total| progress.update(done, total),
    )?;
    progress.finish();
    if let Some(e) = write_error {
        return Err(e.into());
    }
    let pairs: Vec<(usize, &Event)> = detections.iter().map(|&(r, i)| (r, &kept[i])).collect();
    let (alerts, limit_warnings) = set.correlate_reporting(&pairs);
    for w in &limit_warnings {
        eprintln!("taskhunt: warning: {}", terminal_safe(w));
    }
    let mut correlation_count = 0u64;
    for hit in &alerts {
        let c = &set.correlations[hit.correlation];
        let level = c.meta.level.unwrap_or(Level::Medium);
        if level < args.min_level {
            continue;
        }
        correlation_count += 1;
        write_correlation(&mut writer, args.format, &set, hit, &pairs)?;
    }
    writer.finish()?;
    let scan_time = scan_started.elapsed();
    report(&summary, args.verbose);
    print_load_summary(&set, load_time);
    let levels: Vec<String> = by_level.iter().rev().map(|(l, n)| format!("{l}: {n}")).collect();
    eprintln!(
        "taskhunt: {} detections ({}), {} correlation alerts; {} events scanned in {:.2}s ({:.0} events/s)",
        by_level.values().sum::<u64>(),
        if levels.is_empty() { "none".to_string() } else { levels.join(", ") },
        correlation_count,
        summary.records,
        scan_time.as_secs_f64(),
        summary.records as f64 / scan_time.as_secs_f64().max(1e-9)
    );
    let mut top: Vec<(&usize, &u64)> = by_rule.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (ri, n) in top.iter().take(5) {
        eprintln!("taskhunt:   {n:>6}  {}", taskhunt_events::text::terminal_safe(&set.rules[**ri].meta.title));
    }
    Ok(exit_code(&summary))
}

fn rule_fields(set: &RuleSet, rule: usize) -> (Json, Json, Json, Json) {
    let r = &set.rules[rule];
    (json!(r.meta.id), json!(r.meta.title), json!(r.meta.level.unwrap_or(Level::Medium)), json!(r.meta.tags))
}

fn write_detection(w: &mut RowWriter, format: OutputFormat, set: &RuleSet, hit: taskhunt_sigma::Hit, event: &Event) -> std::io::Result<()> {
    let rule = &set.rules[hit.rule];
    let view = View::new(event, hit.mapping);
    let reasons = taskhunt_sigma::explain::explain(rule, &view);
    let (id, title, level, tags) = rule_fields(set, hit.rule);
    if format == OutputFormat::Jsonl {
        return w.raw_json(&json!({
            "timestamp": event.timestamp.to_string(),
            "computer": &*event.computer,
            "channel": &*event.channel,
            "event_id": event.event_id,
            "record_id": event.record_id,
            "file": event.source.path.to_string_lossy(),
            "rule_id": id,
            "rule_title": title,
            "level": level,
            "tags": tags,
            "rule_path": rule.meta.path.to_string_lossy(),
            "reasons": reasons,
            "fields": &event.fields,
        }));
    }
    let reason_text: Vec<String> = reasons
        .iter()
        .map(|r| format!("{}: {}={}", r.selection, r.field.as_deref().unwrap_or("<keyword>"), r.value.as_deref().unwrap_or("")))
        .collect();
    w.row([
        ("Timestamp", Value::from(event.timestamp.to_string())),
        ("Computer", Value::from(&*event.computer)),
        ("Channel", Value::from(&*event.channel)),
        ("EventID", Value::UInt(event.event_id as u64)),
        ("RecordID", Value::UInt(event.record_id)),
        ("Level", Value::from(rule.meta.level.unwrap_or(Level::Medium).as_str())),
        ("RuleTitle", Value::from(rule.meta.title.as_str())),
        ("RuleID", Value::from(rule.meta.id.clone().unwrap_or_default())),
        ("Tags", Value::from(rule.meta.tags.join(" "))),
        ("Details", Value::from(details(event))),
        ("Reasons", Value::from(reason_text.join(" ¦ "))),
        ("File", Value::from(event.source.path.to_string_lossy().into_owned())),
    ])
}

/// The fields a hunter reads first, as `Name: value ¦ ...` for one CSV cell.
fn details(event: &Event) -> String {
    event
        .fields
        .iter()
        .filter(|(_, v)| !v.is_null() && !v.to_text().is_empty())
        .take(12)
        .map(|(n, v)| format!("{n}: {}", v.to_text()))
        .collect::<Vec<_>>()
        .join(" ¦ ")
}

fn write_correlation(
    w: &mut RowWriter,
    format: OutputFormat,
    set: &RuleSet,
    hit: &taskhunt_sigma::CorrelationHit,
    pairs: &[(usize, &Event)],
) -> std::io::Result<()> {
    let c = &set.correlations[hit.correlation];
    let events: Vec<Json> = hit
        .detections
        .iter()
        .map(|&d| {
            let (rule, e) = pairs[d];
            json!({
                "timestamp": e.timestamp.to_string(),
                "computer": &*e.computer,
                "event_id": e.event_id,
                "record_id": e.record_id,
                "file": e.source.path.to_string_lossy(),
                "rule_title": set.rules[rule].meta.title,
            })
        })
        .collect();
    let level = c.meta.level.unwrap_or(Level::Medium);
    if format == OutputFormat::Jsonl {
        return w.raw_json(&json!({
            "timestamp": hit.alert.last.to_string(),
            "first_timestamp": hit.alert.first.to_string(),
            "rule_id": c.meta.id,
            "rule_title": c.meta.title,
            "level": level,
            "tags": c.meta.tags,
            "correlation_type": c.kind.as_str(),
            "timespan": c.timespan_text,
            "group": hit.alert.group,
            "value": hit.alert.value,
            "events": events,
        }));
    }
    let group: Vec<String> = hit.alert.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let last = hit.detections.last().map(|&d| pairs[d].1);
    w.row([
        ("Timestamp", Value::from(hit.alert.last.to_string())),
        ("Computer", Value::from(last.map(|e| e.computer.to_string()).unwrap_or_default())),
        ("Channel", Value::from("correlation")),
        ("Level", Value::from(level.as_str())),
        ("RuleTitle", Value::from(c.meta.title.as_str())),
        ("RuleID", Value::from(c.meta.id.clone().unwrap_or_default())),
        ("Tags", Value::from(c.meta.tags.join(" "))),
        (
            "Details",
            Value::from(format!(
                "{} {} in {}: {} events; {}",
                c.kind.as_str(),
                hit.alert.value,
                c.timespan_text,
                events.len(),
                group.join(" ")
            )),
        ),
    ])
}

/// `detect --cluster`: the rules compiled to expressions and matched by the cluster's executors
/// over the store's raw tables, a few scans per table for the whole rule set.
fn detect_on_cluster(set: &taskhunt_sigma::RuleSet, url: &str, store: &std::path::Path, args: &DetectArgs) -> Result<ExitCode> {
    use std::io::Write;
    use taskhunt_query::sigma;
    let now = taskhunt_events::Timestamp::from_ticks(0);
    let engine = taskhunt_cluster::remote_engine(url, store, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut compiled = Vec::new();
    let mut which = Vec::new();
    let mut refused = 0usize;
    for (i, rule) in set.rules.iter().enumerate() {
        if rule.suppressed || rule.meta.level.unwrap_or(Level::Medium) < args.min_level {
            continue;
        }
        match sigma::compile(rule, None) {
            Ok(c) => {
                compiled.push(c);
                which.push(i);
            }
            Err(e) => {
                refused += 1;
                if args.verbose {
                    eprintln!("taskhunt: not compiled: {}", terminal_safe(&e.to_string()));
                }
            }
        }
    }
    let hits = engine.sigma_hits_all(&compiled, 200).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = open_output(args.output.as_deref())?;
    for (rule, file, record) in &hits {
        let r = &set.rules[which[*rule]];
        let line = serde_json::json!({
            "rule_id": r.meta.id,
            "rule_title": r.meta.title,
            "level": r.meta.level.unwrap_or(Level::Medium).as_str(),
            "file": file,
            "record_id": record,
        });
        writeln!(out, "{line}")?;
    }
    eprintln!(
        "taskhunt: {} rules matched on cluster {} over store {}: {} hits; {refused} rules not compiled{}",
        compiled.len(),
        terminal_safe(url),
        terminal_safe(&store.display().to_string()),
        hits.len(),
        if args.verbose { "" } else { " (-v lists them with the reason)" }
    );
    Ok(ExitCode::SUCCESS)
}
