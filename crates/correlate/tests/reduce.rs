//! The bounded-memory path (a host at a time through `Reducer`, then `build_with`) gives the
//! same incidents as building from every event in memory, on a simulated fleet with every
//! attack scenario and its benign look-alikes.

use std::path::Path;
use taskhunt_correlate::incident::Detections;
use taskhunt_correlate::{Config, FleetContext, Incident, ReduceConfig, Reducer, build, build_with, fleet_incidents};
use taskhunt_events::{Event, ReadOptions, read_paths};
use taskhunt_simulate::{FleetSpec, simulate};

fn read_sorted(path: &Path) -> Vec<Event> {
    let mut events = Vec::new();
    read_paths(&[path.to_path_buf()], &ReadOptions::default(), |b| events.extend(b.events), |_, _| {});
    // As `taskhunt hunt` orders them.
    events.sort_by(|a, b| (a.timestamp, &a.computer, a.record_id).cmp(&(b.timestamp, &b.computer, b.record_id)));
    events
}

/// What a hunter reads of an incident, in a form that compares whole.
fn summary(i: &Incident) -> String {
    let reasons: Vec<String> = i.reasons.iter().map(|r| format!("{} {} {}", r.signal, r.weight, r.detail)).collect();
    let events: Vec<String> = i.events.iter().map(|e| format!("{}:{} {}", e.file, e.record_id, e.role)).collect();
    format!(
        "{} score {} {:?} hosts {:?} {}..{}\n  reasons {reasons:#?}\n  techniques {:?}\n  domains {:?}\n  beacons {}\n  events {events:?}\n  trees {:?}",
        i.task_name,
        i.score,
        i.severity,
        i.hosts,
        i.first_seen.map(|t| t.to_string()).unwrap_or_default(),
        i.last_seen.map(|t| t.to_string()).unwrap_or_default(),
        i.techniques,
        i.domains.iter().map(|d| &d.rarity.domain).collect::<Vec<_>>(),
        i.beacons.len(),
        i.process_trees,
    )
}

#[test]
fn reduced_fleet_gives_the_same_incidents() {
    let dir = tempfile::tempdir().unwrap();
    // Background at the simulator's default volume: most of it is activity no task chain
    // touches, beside the updater tasks' hourly runs.
    let spec = FleetSpec::new(12, 3, 11);
    simulate(&spec, dir.path()).unwrap();
    let cfg = Config::default();
    let none = Detections::new();

    let all = read_sorted(dir.path());
    let full = build(&all, &none, &cfg);
    let total = all.len();
    drop(all);

    // One host folder at a time, as a fleet collection is laid out.
    let mut hosts: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    hosts.sort();
    assert_eq!(hosts.len(), 12);
    let mut reducer = Reducer::new(ReduceConfig::default());
    for host in &hosts {
        for e in read_sorted(host) {
            reducer.push(e, false);
        }
    }
    let reduced = reducer.finish();
    assert_eq!(reduced.stats.events_seen as usize, total);
    let mut kept = reduced.events;
    kept.sort_by(|a, b| (a.timestamp, &a.computer, a.record_id).cmp(&(b.timestamp, &b.computer, b.record_id)));
    // The point of it: most of the input is not needed.
    eprintln!("kept {} of {total} events; {:?}", kept.len(), reduced.stats);
    assert!(kept.len() * 2 < total, "kept {} of {total}", kept.len());
    let bounded = build_with(&kept, &reduced.context, &none, &cfg);

    assert!(full.iter().any(|i| i.score >= 70), "the fleet's scenarios make high incidents");
    let a: Vec<String> = full.iter().map(summary).collect();
    let b: Vec<String> = bounded.iter().map(summary).collect();
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            // Show where they part, not two whole incidents.
            let at = x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count();
            let from = at.saturating_sub(300);
            let tail = |s: &str| s.chars().skip(from).take(700).collect::<String>();
            panic!("incidents differ at char {at}:\nfull:    {}\nbounded: {}", tail(x), tail(y));
        }
    }
    assert_eq!(a.len(), b.len(), "full {} incidents, bounded {}", a.len(), b.len());

    // A host folder (or a group of them, linked by a remote task creation) at a time, against
    // the fleet's context: the same again, ids and campaigns included.
    let (by_host, run) = fleet_incidents(&hosts, &|p: &Path| read_sorted(p), &cfg, &ReduceConfig::default());
    eprintln!("{run:?}");
    assert_eq!(run.reduce.events_seen as usize, total);
    // The lateral-movement scenario creates a task from one host onto another.
    assert!(run.largest_group >= 2 && run.groups < 12, "{run:?}");
    let c: Vec<String> = by_host.iter().map(|i| format!("{} {:?} {}", i.id, i.campaign, summary(i))).collect();
    let a: Vec<String> = full.iter().map(|i| format!("{} {:?} {}", i.id, i.campaign, summary(i))).collect();
    for (x, y) in a.iter().zip(&c) {
        if x != y {
            let at = x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count();
            let from = at.saturating_sub(300);
            let tail = |s: &str| s.chars().skip(from).take(700).collect::<String>();
            panic!("incidents differ at char {at}:\nfull:     {}\nby host:  {}", tail(x), tail(y));
        }
    }
    assert_eq!(a.len(), c.len());
}

#[test]
fn context_of_all_events_is_what_build_uses() {
    // `build` is `build_with` over every event and their own context.
    let dir = tempfile::tempdir().unwrap();
    let mut spec = FleetSpec::new(4, 2, 5);
    spec.events_per_host_day = 200;
    simulate(&spec, dir.path()).unwrap();
    let all = read_sorted(dir.path());
    let cfg = Config::default();
    let a: Vec<String> = build(&all, &Detections::new(), &cfg).iter().map(summary).collect();
    let b: Vec<String> = build_with(&all, &FleetContext::of(&all), &Detections::new(), &cfg).iter().map(summary).collect();
    assert_eq!(a, b);
    assert!(!a.is_empty());
}
