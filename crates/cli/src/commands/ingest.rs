//! `taskhunt ingest`: telemetry into a Parquet case store, once, for many queries.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use taskhunt_events::text::terminal_safe;

#[derive(Args)]
pub struct IngestArgs {
    /// Telemetry files or directories.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,

    /// The store's folder (created if missing; appended to if it exists).
    #[arg(long, value_name = "DIR")]
    store: PathBuf,
}

pub fn run(args: IngestArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let s = taskhunt_query::store::ingest(&args.paths, &args.store).map_err(|e| anyhow::anyhow!("{e}"))?;
    for issue in s.issues.iter().take(20) {
        eprintln!("taskhunt: warning: {}", terminal_safe(&issue.to_string()));
    }
    for f in &s.files_skipped {
        eprintln!("taskhunt: {}: already in the store (same content), skipped", terminal_safe(&f.display().to_string()));
    }
    eprintln!(
        "taskhunt: {} files ingested ({} records, {} Parquet files), {} skipped as already stored, {:.2}s; store {}",
        s.files_ingested,
        s.records,
        s.parts_written,
        s.files_skipped.len(),
        started.elapsed().as_secs_f64(),
        terminal_safe(&args.store.display().to_string())
    );
    Ok(ExitCode::SUCCESS)
}
