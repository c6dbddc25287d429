//! `taskhunt events`: read telemetry and print it, as source events or as table rows.

use crate::output::{OutputFormat, RowWriter, open_output};
use crate::progress::Progress;
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use taskhunt_events::tables::{self, RAW_HEADER, RAW_TABLES};
use taskhunt_events::text::terminal_safe;
use taskhunt_events::{Event, ReadOptions, ReadSummary, Value, read_paths};

#[derive(Args)]
pub struct EventsArgs {
    /// Files or directories (walked recursively). Format is detected from content.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Print rows of one table instead of source events: a normalized table
    /// (DeviceProcessEvents, DeviceNetworkEvents, DeviceFileEvents, DeviceRegistryEvents,
    /// DeviceImageLoadEvents, DeviceLogonEvents, DeviceEvents) or a raw one (sysmon, security,
    /// taskscheduler, powershell, system, other).
    #[arg(long, short = 't', value_name = "NAME")]
    table: Option<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Jsonl)]
    format: OutputFormat,

    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Print every read problem, not just the first 20.
    #[arg(long, short = 'v')]
    verbose: bool,
}

enum Target {
    Events,
    Normalized(&'static tables::TableSchema),
    Raw(&'static str),
}

pub fn run(args: EventsArgs) -> Result<ExitCode> {
    let target = match args.table.as_deref() {
        None => Target::Events,
        Some(name) => match tables::table(name) {
            Some(t) => Target::Normalized(t),
            None => match RAW_TABLES.iter().find(|t| t.eq_ignore_ascii_case(name)) {
                Some(t) => Target::Raw(t),
                None => bail!(
                    "no table named {:?}; tables: {}, {}",
                    terminal_safe(name),
                    tables::TABLES.iter().map(|t| t.name).collect::<Vec<_>>().join(", "),
                    RAW_TABLES.join(", ")
                ),
            },
        },
    };
    let columns: Vec<String> = match &target {
        Target::Events => {
            ["timestamp", "computer", "channel", "provider", "event_id", "record_id", "file", "fields"].map(String::from).to_vec()
        }
        Target::Normalized(t) => t.columns.iter().map(|(c, _)| c.to_string()).collect(),
        Target::Raw(_) => RAW_HEADER.iter().map(|c| c.to_string()).collect(),
    };
    let mut writer = RowWriter::new(open_output(args.output.as_deref())?, args.format, columns);
    let mut progress = Progress::new();
    let mut write_error: Option<std::io::Error> = None;
    let summary = read_paths(
        &args.paths,
        &ReadOptions::default(),
        |batch| {
            if write_error.is_some() {
                return;
            }
            for event in &batch.events {
                if let Err(e) = write_event(&mut writer, &target, args.format, event) {
                    write_error = Some(e);
                    return;
                }
            }
        },
        |done, total| progress.update(done, total),
    );
    progress.finish();
    if let Some(e) = write_error {
        return Err(e.into());
    }
    writer.finish()?;
    report(&summary, args.verbose);
    Ok(exit_code(&summary))
}

fn write_event(w: &mut RowWriter, target: &Target, format: OutputFormat, event: &Event) -> std::io::Result<()> {
    match target {
        Target::Events if format == OutputFormat::Jsonl => w.raw_json(event),
        Target::Events => {
            let fields = serde_json::to_string(&event.fields).unwrap_or_default();
            w.row([
                ("timestamp", Value::from(event.timestamp.to_string())),
                ("computer", Value::from(&*event.computer)),
                ("channel", Value::from(&*event.channel)),
                ("provider", Value::from(&*event.provider)),
                ("event_id", Value::UInt(event.event_id as u64)),
                ("record_id", Value::UInt(event.record_id)),
                ("file", Value::from(event.source.path.to_string_lossy().into_owned())),
                ("fields", Value::from(fields)),
            ])
        }
        Target::Normalized(table) => match tables::normalize(event) {
            Some(row) if row.table.name == table.name => w.row(row.table.columns.iter().map(|(c, _)| *c).zip(row.values)),
            _ => Ok(()),
        },
        Target::Raw(name) => {
            if tables::raw_table(event) != *name {
                return Ok(());
            }
            let header = [
                ("Timestamp", Value::from(event.timestamp.to_string())),
                ("Computer", Value::from(&*event.computer)),
                ("Channel", Value::from(&*event.channel)),
                ("Provider", Value::from(&*event.provider)),
                ("EventID", Value::UInt(event.event_id as u64)),
                ("EventRecordID", Value::UInt(event.record_id)),
                ("SourceFile", Value::from(event.source.path.to_string_lossy().into_owned())),
            ];
            w.row(header.into_iter().chain(event.fields.iter().map(|(n, v)| (n.as_str(), v.clone()))))
        }
    }
}

/// Problems and the summary go to stderr, after the data, so stdout stays machine-readable.
pub fn report(summary: &ReadSummary, verbose: bool) {
    let shown = if verbose { usize::MAX } else { 20 };
    for issue in summary.issues.iter().take(shown) {
        eprintln!("taskhunt: warning: {}", terminal_safe(&issue.to_string()));
    }
    if summary.issues.len() > shown {
        eprintln!("taskhunt: ... {} more problems (use --verbose to list all)", summary.issues.len() - shown);
    }
    if summary.issues_not_kept > 0 {
        eprintln!("taskhunt: ... and {} more problems not kept (counted in the summary below)", summary.issues_not_kept);
    }
    eprintln!("taskhunt: {}", summary.line());
}

/// Non-zero only when nothing at all could be read.
pub fn exit_code(summary: &ReadSummary) -> ExitCode {
    if summary.records == 0 && !summary.issues.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
