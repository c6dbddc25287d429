//! Writes a simulated fleet: `cargo run -p taskhunt-simulate --example simulate -- OUT [HOSTS] [DAYS] [SEED] [EVENTS_PER_HOST_DAY]`.

use std::time::Instant;
use taskhunt_simulate::{FleetSpec, simulate};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: simulate OUT [HOSTS] [DAYS] [SEED] [EVENTS_PER_HOST_DAY]");
        std::process::exit(2);
    };
    let num = |i: usize, default: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let mut spec = FleetSpec::new(num(1, 20) as usize, num(2, 7) as u32, num(3, 1));
    spec.events_per_host_day = num(4, 1500) as usize;
    let started = Instant::now();
    let summary = simulate(&spec, std::path::Path::new(out))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} events in {} files, {} labels, {:.1}s ({:.0} events/s)",
        summary.events,
        summary.files.len(),
        summary.labels.len(),
        secs,
        summary.events as f64 / secs
    );
    for l in &summary.labels {
        println!("{:18} {:28} {:60} {} records, {} .. {}", l.scenario, l.host, l.task_name, l.record_ids.len(), l.first, l.last);
    }
    Ok(())
}
