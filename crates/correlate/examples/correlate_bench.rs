//! Correlation over a fleet folder (one sub-folder per host, as `simulate` writes and as
//! collections usually arrive), in bounded memory or all in memory, with time and peak memory.
//!
//!     correlate_bench FLEET_DIR bounded|full
//!
//! `bounded` runs `fleet_incidents`: a first pass over every host folder for the fleet-wide
//! context, then one host folder (or group linked by remote task creation) at a time, reduced and
//! built; `full` reads everything and builds from it all, as
//! `taskhunt hunt` does today. `scripts/bench-correlate` makes the fleet and runs both.

use std::path::PathBuf;
use std::time::Instant;
use taskhunt_correlate::incident::sigma_detections;
use taskhunt_correlate::{Config, ReduceConfig, build, fleet_incidents};
use taskhunt_events::{Event, ReadOptions, read_paths};

fn read_sorted(path: &PathBuf) -> Vec<Event> {
    let mut events = Vec::new();
    read_paths(std::slice::from_ref(path), &ReadOptions::default(), |b| events.extend(b.events), |_, _| {});
    events.sort_by(|a, b| (a.timestamp, &a.computer, a.record_id).cmp(&(b.timestamp, &b.computer, b.record_id)));
    events
}

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: correlate_bench FLEET_DIR bounded|full";
    let dir = PathBuf::from(args.next().expect(usage));
    let mode = args.next().expect(usage);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cfg = Config::default();
    // taskhunt's own rule pack, as `taskhunt hunt` runs it: the detections are part of the work.
    let rules = taskhunt_sigma::RuleSet::load(&taskhunt_sigma::builtin::sources(), None);
    let started = Instant::now();
    let (seen, kept, incidents, read_secs) = match mode.as_str() {
        "bounded" => {
            let mut hosts: Vec<PathBuf> =
                std::fs::read_dir(&dir).expect("fleet folder").flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
            hosts.sort();
            let (incidents, run) = fleet_incidents(
                &hosts,
                &|p: &std::path::Path| read_sorted(&p.to_path_buf()),
                &|events: &[Event]| sigma_detections(&rules, events),
                &cfg,
                &ReduceConfig::default(),
            );
            println!("{run:?}");
            (run.reduce.events_seen, run.reduce.events_kept as usize, incidents, 0.0)
        }
        "full" => {
            let all = read_sorted(&dir);
            let read_secs = started.elapsed().as_secs_f64();
            let incidents = build(&all, &sigma_detections(&rules, &all), &cfg);
            (all.len() as u64, all.len(), incidents, read_secs)
        }
        _ => panic!("{usage}"),
    };
    let total = started.elapsed().as_secs_f64();
    let serious = incidents.iter().filter(|i| i.score >= 50).count();
    println!(
        "{mode}: {seen} events ({cores} cores): {total:.1} s ({:.0} events/s){}; {kept} events kept for incidents; \
         {} incidents ({serious} scored 50 or more); peak RSS {:.0} MiB",
        seen as f64 / total,
        if read_secs > 0.0 { format!(", reading {read_secs:.1} s") } else { String::new() },
        incidents.len(),
        peak_rss_mib()
    );
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0.0);
    kb / 1024.0
}
