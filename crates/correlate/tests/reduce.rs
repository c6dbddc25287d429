//! The bounded-memory path (a host at a time through `Reducer`, then `build_with`) gives the
//! same incidents as building from every event in memory, on a simulated fleet with every
//! attack scenario and its benign look-alikes, Sigma detections included.

use std::path::Path;
use taskhunt_correlate::incident::{Detections, sigma_detections};
use taskhunt_correlate::{Config, FleetContext, Incident, ReduceConfig, Reducer, build, build_with, fleet_incidents};
use taskhunt_events::{Event, ReadOptions, read_paths};
use taskhunt_sigma::{RuleSet, Source};
use taskhunt_simulate::{FleetSpec, simulate};

/// taskhunt's rule pack, and SigmaHQ's Windows rules when the corpus is there.
fn rules() -> RuleSet {
    let mut sources = taskhunt_sigma::builtin::sources();
    let sigmahq = taskhunt_events::testing::corpus("reduced_fleet_gives_the_same_incidents with SigmaHQ rules")
        .map(|c| c.join("sigma/rules/windows"));
    if let Some(dir) = &sigmahq {
        sources.push(Source::Path(dir));
    }
    let set = RuleSet::load(&sources, None);
    eprintln!("{} rules", set.rules.len());
    set
}

fn read_sorted(path: &Path) -> Vec<Event> {
    let mut events = Vec::new();
    read_paths(&[path.to_path_buf()], &ReadOptions::default(), |b| events.extend(b.events), |_, _| {});
    // As `taskhunt hunt` orders them.
    events.sort_by(|a, b| a.hunt_order().cmp(&b.hunt_order()));
    events
}

/// What a hunter reads of an incident, in a form that compares whole.
fn summary(i: &Incident) -> String {
    let reasons: Vec<String> = i.reasons.iter().map(|r| format!("{} {} {}", r.signal, r.weight, r.detail)).collect();
    let detections: Vec<String> =
        i.detections.iter().map(|d| format!("{}:{} {:?} {} {}", d.file, d.record_id, d.rule_id, d.title, d.level)).collect();
    let events: Vec<String> = i.events.iter().map(|e| format!("{}:{} {}", e.file, e.record_id, e.role)).collect();
    format!(
        "{} score {} {:?} hosts {:?} {}..{}\n  reasons {reasons:#?}\n  detections {detections:#?}\n  techniques {:?}\n  domains {:?}\n  beacons {}\n  events {events:?}\n  trees {:?}",
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
    let rules = rules();

    let all = read_sorted(dir.path());
    let detections = sigma_detections(&rules, &all);
    let full = build(&all, &detections, &cfg);
    let total = all.len();
    drop(all);
    // The test is only as good as the detections the incidents carry.
    let cited: usize = full.iter().map(|i| i.detections.len()).sum();
    eprintln!("{} events with detections, {cited} detections cited by incidents", detections.len());
    assert!(cited > 0, "no Sigma detection inside an incident");
    assert!(full.iter().any(|i| i.reasons.iter().any(|r| r.signal == "sigma")));

    // One host folder at a time, as a fleet collection is laid out.
    let mut hosts: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    hosts.sort();
    assert_eq!(hosts.len(), 12);
    let mut reducer = Reducer::new(ReduceConfig::default());
    // Detections by push position, as the reducer numbers the events.
    let mut pushed = Detections::new();
    for host in &hosts {
        let events = read_sorted(host);
        let found = sigma_detections(&rules, &events);
        let base = reducer.stats().events_seen as usize;
        for (i, e) in events.into_iter().enumerate() {
            reducer.push(e, found.contains_key(&i));
        }
        pushed.extend(found.into_iter().map(|(i, d)| (base + i, d)));
    }
    let mut reduced = reducer.finish();
    assert_eq!(reduced.stats.events_seen as usize, total);
    let kept_detections = reduced.restore_order(&pushed);
    // Every detection follows its event (they are all kept).
    assert_eq!(kept_detections.len(), pushed.len());
    // Pushed a host at a time: into the whole input's order, the detections following.
    let mut kept: Vec<(Event, Option<_>)> =
        reduced.events.into_iter().enumerate().map(|(i, e)| (e, kept_detections.get(&i).cloned())).collect();
    kept.sort_by(|(a, _), (b, _)| a.hunt_order().cmp(&b.hunt_order()));
    let detections: Detections = kept.iter().enumerate().filter_map(|(i, (_, d))| Some((i, d.clone()?))).collect();
    let kept: Vec<Event> = kept.into_iter().map(|(e, _)| e).collect();
    // The point of it: most of the input is not needed.
    eprintln!("kept {} of {total} events; {:?}", kept.len(), reduced.stats);
    assert!(kept.len() * 2 < total, "kept {} of {total}", kept.len());
    let bounded = build_with(&kept, &reduced.context, &detections, &cfg);

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
    let (by_host, run) = fleet_incidents(
        &hosts,
        &|p: &Path| read_sorted(p),
        &|events: &[Event]| sigma_detections(&rules, events),
        &cfg,
        &ReduceConfig::default(),
    );
    eprintln!("{run:?}");
    assert_eq!(run.reduce.events_seen as usize, total);
    assert_eq!(run.detected_events as usize, pushed.len());
    // The lateral-movement scenario creates a task from one host onto another.
    assert!(run.largest_group >= 2 && run.groups < 12, "{run:?}");
    assert_same_incidents(&full, &by_host);
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

#[test]
fn fleet_of_files_gives_the_same_incidents() {
    // A unit per file: a host's Sysmon, Security and scheduler logs are separate files and
    // must be read together.
    let dir = tempfile::tempdir().unwrap();
    let mut spec = FleetSpec::new(6, 2, 3);
    spec.events_per_host_day = 600;
    simulate(&spec, dir.path()).unwrap();
    let mut files: Vec<_> = walk(dir.path()).into_iter().filter(|p| p.extension().is_some_and(|x| x == "jsonl")).collect();
    files.sort();
    same_as_in_memory(dir.path(), &files, 3);
}

#[test]
fn corpus_gives_the_same_incidents() {
    // Real logs: processes whose parent GUID is null (linked by pid, however old the parent),
    // a task's creator that connected out before it ran schtasks.
    let Some(dir) = taskhunt_events::testing::evtx_samples("corpus_gives_the_same_incidents") else { return };
    let mut files = walk(&dir);
    files.sort();
    same_as_in_memory(&dir, &files, 10);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

/// `fleet_incidents` with a unit per file gives what `build` gives from everything, Sigma
/// detections (taskhunt's rule pack) included; the hosts split into more than one group.
fn same_as_in_memory(dir: &Path, files: &[std::path::PathBuf], min_incidents: usize) {
    let rules = RuleSet::load(&taskhunt_sigma::builtin::sources(), None);
    let cfg = Config::default();
    let all = read_sorted(dir);
    let full = build(&all, &sigma_detections(&rules, &all), &cfg);
    drop(all);
    let (bounded, run) =
        fleet_incidents(files, &|p: &Path| read_sorted(p), &|e: &[Event]| sigma_detections(&rules, e), &cfg, &ReduceConfig::default());
    eprintln!("{run:?}");
    assert!(run.groups > 1 && run.largest_group > 1, "{run:?}");
    assert!(full.len() >= min_incidents, "{} incidents", full.len());
    assert_same_incidents(&full, &bounded);
}

/// The in-memory incidents and the bounded ones are the same, ids and campaigns included; the
/// first difference is shown in context.
fn assert_same_incidents(full: &[Incident], bounded: &[Incident]) {
    let a: Vec<String> = full.iter().map(|i| format!("{} {:?} {}", i.id, i.campaign, summary(i))).collect();
    let b: Vec<String> = bounded.iter().map(|i| format!("{} {:?} {}", i.id, i.campaign, summary(i))).collect();
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            let at = x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count();
            let from = at.saturating_sub(300);
            let tail = |s: &str| s.chars().skip(from).take(700).collect::<String>();
            panic!("incidents differ at char {at}:\nfull:    {}\nbounded: {}", tail(x), tail(y));
        }
    }
    assert_eq!(a.len(), b.len());
}
