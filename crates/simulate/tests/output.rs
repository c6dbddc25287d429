//! The written files: deterministic, readable by taskhunt-events without a single issue, counted
//! as the summary says, in time order with consecutive record ids.

mod common;

use common::{generate_and_load, out_dir, small_spec};
use std::collections::BTreeMap;
use std::path::Path;
use taskhunt_simulate::{FleetSpec, Scenario, load_labels, simulate};

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut map = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                map.insert(common::relative(dir, &p), std::fs::read(&p).unwrap());
            }
        }
    }
    map
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let mut spec = FleetSpec::new(5, 2, 42);
    spec.events_per_host_day = 400;
    let a = out_dir("det-a");
    let b = out_dir("det-b");
    let c = out_dir("det-c");
    let sa = simulate(&spec, &a).unwrap();
    let sb = simulate(&spec, &b).unwrap();
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(ta.len() > 10);
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (name, bytes) in &ta {
        assert!(bytes == &tb[name], "{name} differs between two runs with the same seed");
    }
    assert_eq!(sa.events, sb.events);
    assert_eq!(sa.labels, sb.labels);

    spec.seed = 43;
    simulate(&spec, &c).unwrap();
    let tc = tree(&c);
    let differing = ta.iter().filter(|(k, v)| tc.get(*k) != Some(v)).count();
    assert!(differing * 2 > ta.len(), "another seed should change most files ({differing} of {} differ)", ta.len());
}

#[test]
fn every_line_reads_cleanly_in_order_with_consecutive_record_ids() {
    let loaded = generate_and_load("parse", &small_spec(7));
    let s = &loaded.summary;
    let total: usize = loaded.files.iter().map(|(_, evs)| evs.len()).sum();
    assert_eq!(total as u64, s.events, "summary count equals events read");
    assert_eq!(loaded.by_record.len(), total, "(file, record id) is unique");
    // Lines on disk equal events read (nothing skipped silently).
    let lines: usize = s.files.iter().map(|f| std::fs::read_to_string(f).unwrap().lines().count()).sum();
    assert_eq!(lines, total);
    let mut channels = std::collections::HashSet::new();
    for (file, events) in &loaded.files {
        let host = file.split('/').next().unwrap();
        assert!(!events.is_empty(), "{file} was created empty");
        for pair in events.windows(2) {
            assert!(pair[0].timestamp <= pair[1].timestamp, "{file}: time goes back at record {}", pair[1].record_id);
            assert_eq!(pair[0].record_id + 1, pair[1].record_id, "{file}: record ids are consecutive");
        }
        for e in events {
            assert!(e.computer.starts_with(&format!("{host}.")), "{file}: computer {}", e.computer);
            assert!(e.timestamp >= small_spec(7).start, "{file}: event before the window");
            channels.insert((file.rsplit('/').next().unwrap().to_string(), e.channel.to_string()));
        }
    }
    let expect = [
        ("Security.jsonl", "Security"),
        ("Sysmon.jsonl", "Microsoft-Windows-Sysmon/Operational"),
        ("TaskScheduler.jsonl", "Microsoft-Windows-TaskScheduler/Operational"),
        ("PowerShell.jsonl", "Microsoft-Windows-PowerShell/Operational"),
    ];
    for (file, channel) in expect {
        assert!(channels.contains(&(file.to_string(), channel.to_string())), "{file} holds {channel}");
    }
    assert_eq!(channels.len(), 4, "each file holds exactly its channel: {channels:?}");
    // labels.json round-trips to the summary's labels.
    assert_eq!(load_labels(&loaded.dir.join("labels.json")).unwrap(), s.labels);
}

#[test]
fn volume_knob_sets_background_size() {
    let mut spec = FleetSpec::new(3, 2, 5);
    spec.scenarios.clear();
    spec.events_per_host_day = 3000;
    let big = simulate(&spec, &out_dir("vol-big")).unwrap();
    let per_host_day = big.events as f64 / 6.0;
    assert!((3000.0..3400.0).contains(&per_host_day), "{per_host_day} events per host and day for a target of 3000");
    spec.events_per_host_day = 0;
    let base = simulate(&spec, &out_dir("vol-base")).unwrap();
    assert!(base.events > 0 && base.events < big.events / 2, "baseline {} vs {}", base.events, big.events);
    assert!(big.labels.is_empty());
}

#[test]
fn scenario_names_parse_and_bad_input_fails() {
    for s in Scenario::ALL {
        assert_eq!(s.name().parse::<Scenario>().unwrap(), s);
        assert_eq!(s.to_string(), s.name());
    }
    assert_eq!("Remote-Schtasks".parse::<Scenario>().unwrap(), Scenario::RemoteSchtasksRunDelete);
    assert!("ryuk".parse::<Scenario>().unwrap_err().to_string().contains("ryuk"));
    let mut spec = FleetSpec::new(0, 1, 1);
    assert!(simulate(&spec, &out_dir("bad")).is_err());
    spec.hosts = 1;
    spec.days = 0;
    assert!(simulate(&spec, &out_dir("bad")).is_err());
}
