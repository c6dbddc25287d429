//! The `taskhunt` binary: argument parsing and dispatch. Each subcommand lives in
//! `commands/`; this file only wires them to clap.

mod commands;
mod hunt;
mod output;
mod progress;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// Hunt scheduled-task abuse (MITRE ATT&CK T1053.005) and the attack chains around it in
/// Windows event logs.
///
/// taskhunt reads .evtx files, evtx-dump / Winlogbeat JSON and Microsoft Defender Advanced
/// Hunting exports (plain or gzipped, chosen by content), from one host or thousands, and
/// normalizes them into Defender-style tables (DeviceProcessEvents, DeviceEvents, ...).
#[derive(Parser)]
#[command(name = "taskhunt", version, about, long_about, propagate_version = true)]
#[command(after_help = "Examples:\n  \
    taskhunt hunt                               hunt the built-in sample, report in taskhunt-report/\n  \
    taskhunt hunt ./logs --out case42           hunt your logs\n  \
    taskhunt events ./logs                      every event as JSON lines\n  \
    taskhunt events ./logs --table DeviceProcessEvents --format table\n  \
    taskhunt events Security.evtx.gz --format csv -o events.csv\n  \
    taskhunt detect ./logs --rules sigma/rules --min-level high\n  \
    taskhunt rules lint my-rules/\n  \
    taskhunt completions bash > /etc/bash_completion.d/taskhunt")]
struct Cli {
    /// Worker threads for decoding (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,

    /// Change a limit against hostile input, e.g. `--limit field_bytes=1M --limit xml_depth=32`
    /// (line_bytes, field_bytes, xml_bytes, xml_depth, xml_nodes, decoder_layers, decoded_bytes,
    /// regex_bytes, regex_backtrack, correlation_groups, chunk_work; see docs/limits.md).
    #[arg(long = "limit", global = true, value_name = "NAME=VALUE")]
    limits: Vec<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Hunt scheduled-task abuse end to end and write the report set (the main job; without
    /// PATHs it hunts the built-in sample fleet).
    Hunt(hunt::HuntArgs),
    /// Print events, or rows of a normalized table, from evtx / JSON / Defender files.
    Events(commands::events::EventsArgs),
    /// Run Sigma rules (built-in scheduled-task pack and your own) over telemetry.
    Detect(commands::detect::DetectArgs),
    /// The scheduled-task inventory: every task per host, scored with reasons; audit a baseline.
    Tasks(commands::tasks::TasksArgs),
    /// Decode an -EncodedCommand or obfuscated PowerShell command line, layer by layer, with IOCs.
    Decode(commands::decode::DecodeArgs),
    /// Ingest telemetry into a Parquet case store (partitioned by table, day and host) that
    /// `query --store` reads; files already stored are recognised by content and skipped.
    Ingest(commands::ingest::IngestArgs),
    /// Run a role of an Apache Ballista cluster for `query --cluster` and `detect --cluster`.
    #[command(subcommand)]
    Cluster(commands::cluster::ClusterCommand),
    /// Hunt with KQL, SPL or SQL over telemetry (tables as in Microsoft Defender and raw per source).
    Query(commands::query::QueryArgs),
    /// List or lint Sigma rules.
    #[command(subcommand)]
    Rules(commands::rules::RulesCommand),
    /// Write a simulated fleet's telemetry with labelled attack scenarios.
    Simulate(commands::simulate::SimulateArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        // Only fails if a pool already exists, which cannot happen this early.
        let _ = rayon_pool(n);
    }
    let mut limits = taskhunt_events::limits::current();
    for assignment in &cli.limits {
        if let Err(e) = limits.set_named(assignment) {
            eprintln!("taskhunt: error: --limit: {}", taskhunt_events::text::terminal_safe(&e.to_string()));
            return ExitCode::from(2);
        }
    }
    taskhunt_events::limits::set(limits);
    let result = match cli.command {
        Command::Hunt(args) => hunt::run(args),
        Command::Simulate(args) => commands::simulate::run(args),
        Command::Events(args) => commands::events::run(args),
        Command::Detect(args) => commands::detect::run(args),
        Command::Rules(cmd) => commands::rules::run(cmd),
        Command::Query(args) => commands::query::run(args),
        Command::Ingest(args) => commands::ingest::run(args),
        Command::Cluster(cmd) => commands::cluster::run(cmd),
        Command::Tasks(args) => commands::tasks::run(args),
        Command::Decode(args) => commands::decode::run(args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "taskhunt", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("taskhunt: error: {}", taskhunt_events::text::terminal_safe(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

fn rayon_pool(n: usize) -> Result<(), String> {
    taskhunt_events::read::set_threads(n)
}
