//! `taskhunt simulate`: write a simulated fleet's telemetry (evtx-dump JSON lines) with labelled
//! attack scenarios, for testing hunts and detections.

use anyhow::{Result, anyhow};
use std::path::PathBuf;
use std::process::ExitCode;
use taskhunt_simulate::{FleetSpec, Scenario, simulate};

#[derive(clap::Args)]
pub struct SimulateArgs {
    #[arg(long, default_value_t = 20)]
    hosts: usize,
    #[arg(long, default_value_t = 7)]
    days: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Attack scenarios to inject (default: all): writeup, emotet, remote-schtasks, atexec, onlogon-registry.
    #[arg(long = "scenario", value_name = "NAME")]
    scenarios: Vec<String>,
    /// Background events per host and day.
    #[arg(long, default_value_t = 1500)]
    events_per_host_day: usize,
    /// Output folder (one JSON-lines file per host and log, plus labels.json).
    #[arg(long, required = true)]
    out: PathBuf,
}

pub fn run(args: SimulateArgs) -> Result<ExitCode> {
    let mut spec = FleetSpec::new(args.hosts, args.days, args.seed);
    spec.events_per_host_day = args.events_per_host_day;
    if !args.scenarios.is_empty() {
        spec.scenarios = args.scenarios.iter().map(|s| s.parse::<Scenario>().map_err(|e| anyhow!("{e}"))).collect::<Result<_>>()?;
    }
    let started = std::time::Instant::now();
    let summary = simulate(&spec, &args.out)?;
    eprintln!(
        "taskhunt: {} events in {} files, {} labelled scenarios, {:.1}s; labels in {}",
        summary.events,
        summary.files.len(),
        summary.labels.len(),
        started.elapsed().as_secs_f64(),
        args.out.join("labels.json").display()
    );
    Ok(ExitCode::SUCCESS)
}
