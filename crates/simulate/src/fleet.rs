//! Orchestration: hosts in parallel, one day at a time, events sorted and streamed to files with
//! per-channel record ids; labels gathered from the records each chain produced.

use crate::emit::Cx;
use crate::host::{Fleet, TAG_DAY, TAG_HOST, TAG_SCENARIO};
use crate::record::{Chan, NO_LABEL, Out, Pending, render};
use crate::rng::Rng;
use crate::scenario::{self, Instance};
use crate::{FleetSpec, Label, Summary, background, profile};
use serde_json::{Value as Json, json};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use taskhunt_events::Timestamp;

/// One labelled record: label, file (relative), record id, time.
type Hit = (u32, String, u64, i64);

struct HostResult {
    files: Vec<PathBuf>,
    events: u64,
    hits: Vec<Hit>,
}

pub(crate) fn run(spec: &FleetSpec, out: &Path) -> io::Result<Summary> {
    if spec.hosts == 0 || spec.days == 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "a fleet needs at least one host and one day"));
    }
    if spec.hosts > 100_000 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "at most 100000 hosts"));
    }
    std::fs::create_dir_all(out)?;
    let fleet = Fleet::new(spec.seed, spec.hosts, spec.days, spec.start.ticks());
    let plan = scenario::plan(&fleet, &spec.scenarios);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(spec.hosts);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<io::Result<HostResult>>>> = Mutex::new((0..spec.hosts).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= spec.hosts {
                        break;
                    }
                    let r = host_worker(&fleet, &plan, spec, out, i);
                    let failed = r.is_err();
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                    if failed {
                        // Let the other workers run out quickly.
                        next.store(spec.hosts, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let mut labels: Vec<Label> = plan
        .iter()
        .map(|inst| Label {
            scenario: inst.scenario.name().to_string(),
            host: fleet.hosts[inst.host].fqdn.clone(),
            task_name: inst.task.name.clone(),
            files: Vec::new(),
            record_ids: Vec::new(),
            c2_domains: inst.c2.clone(),
            first: Timestamp::from_ticks(i64::MAX),
            last: Timestamp::from_ticks(i64::MIN),
        })
        .collect();
    let mut files = Vec::new();
    let mut events = 0;
    for r in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
        let r = r.ok_or_else(|| io::Error::other("a host was not generated"))??;
        files.extend(r.files);
        events += r.events;
        for (label, file, rid, ts) in r.hits {
            let l = &mut labels[label as usize];
            if !l.files.contains(&file) {
                l.files.push(file.clone());
            }
            l.record_ids.push((file, rid));
            l.first = l.first.min(Timestamp::from_ticks(ts));
            l.last = l.last.max(Timestamp::from_ticks(ts));
        }
    }
    let json = Json::Array(labels.iter().map(label_json).collect());
    let mut text = serde_json::to_string_pretty(&json).map_err(io::Error::other)?;
    text.push('\n');
    std::fs::write(out.join("labels.json"), text)?;
    Ok(Summary { files, events, labels })
}

fn host_worker(fleet: &Fleet, plan: &[Instance], spec: &FleetSpec, out: &Path, index: usize) -> io::Result<HostResult> {
    let host = &fleet.hosts[index];
    let dir = out.join(&host.short);
    std::fs::create_dir_all(&dir)?;
    let installed = profile::installed(fleet, host);
    let services = background::services(host, &mut Rng::derive(fleet.seed, &[TAG_HOST, index as u64, 2]));
    let mine: Vec<&Instance> = plan.iter().filter(|p| p.host == index || p.source == Some(index)).collect();
    let mut writers: [Option<BufWriter<File>>; 4] = [None, None, None, None];
    let mut written = [0u64; 4];
    let mut result = HostResult { files: Vec::new(), events: 0, hits: Vec::new() };
    let mut out_buf = Out::new();
    let mut carry: Vec<Pending> = Vec::new();
    let mut line = String::with_capacity(4096);
    let mut last_ts = i64::MIN;
    for day in 0..fleet.days {
        out_buf.events.append(&mut carry);
        {
            let rng = Rng::derive(fleet.seed, &[TAG_DAY, index as u64, day as u64]);
            let mut cx = Cx { fleet, host, out: &mut out_buf, rng };
            background::day(&mut cx, &services, &installed, day, spec.events_per_host_day);
        }
        for inst in &mine {
            out_buf.label = inst.label;
            let rng = Rng::derive(fleet.seed, &[TAG_SCENARIO, inst.label as u64, day as u64, index as u64]);
            let mut cx = Cx { fleet, host, out: &mut out_buf, rng };
            scenario::emit(&mut cx, inst, day);
            out_buf.label = NO_LABEL;
        }
        let mut events = std::mem::take(&mut out_buf.events);
        events.sort_by_key(|e| e.ts);
        let cut = if day + 1 == fleet.days { events.len() } else { events.partition_point(|e| e.ts < fleet.day_start(day + 1)) };
        carry = events.split_off(cut);
        for ev in &events {
            debug_assert!(ev.ts >= last_ts, "events must be generated no earlier than their day");
            last_ts = last_ts.max(ev.ts);
            let c = ev.chan.index();
            if writers[c].is_none() {
                let path = dir.join(ev.chan.file_name());
                writers[c] = Some(BufWriter::with_capacity(1 << 20, File::create(&path)?));
                result.files.push(path);
            }
            let rid = host.record_base[c] + written[c];
            written[c] += 1;
            line.clear();
            render(&mut line, ev, rid, &host.fqdn);
            line.push('\n');
            if let Some(w) = writers[c].as_mut() {
                w.write_all(line.as_bytes())?;
            }
            if ev.label != NO_LABEL {
                result.hits.push((ev.label, format!("{}/{}", host.short, ev.chan.file_name()), rid, ev.ts));
            }
        }
        result.events += events.len() as u64;
        // Keep the allocation for the next day.
        events.clear();
        out_buf.events = events;
    }
    for w in writers.iter_mut().flatten() {
        w.flush()?;
    }
    // Channel order within a host, whatever order the files were opened in.
    result.files.sort_by_key(|p| Chan::ALL.iter().position(|c| p.ends_with(c.file_name())));
    Ok(result)
}

fn label_json(l: &Label) -> Json {
    json!({
        "scenario": l.scenario,
        "host": l.host,
        "task_name": l.task_name,
        "files": l.files,
        "record_ids": l.record_ids.iter().map(|(f, r)| json!([f, r])).collect::<Vec<_>>(),
        "c2_domains": l.c2_domains,
        "first": l.first.to_string(),
        "last": l.last.to_string(),
    })
}

/// Reads a `labels.json` written by [`crate::simulate`].
pub fn load_labels(path: &Path) -> io::Result<Vec<Label>> {
    let text = std::fs::read_to_string(path)?;
    let v: Json = serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("labels.json: {what}"));
    let strings = |v: &Json, key: &str| -> io::Result<Vec<String>> {
        v[key].as_array().ok_or_else(|| bad(key))?.iter().map(|s| s.as_str().map(String::from).ok_or_else(|| bad(key))).collect()
    };
    let text_of = |v: &Json, key: &str| v[key].as_str().map(String::from).ok_or_else(|| bad(key));
    let time_of = |v: &Json, key: &str| text_of(v, key).and_then(|t| Timestamp::parse(&t).ok_or_else(|| bad(key)));
    let mut labels = Vec::new();
    for l in v.as_array().ok_or_else(|| bad("not an array"))? {
        let mut record_ids = Vec::new();
        for pair in l["record_ids"].as_array().ok_or_else(|| bad("record_ids"))? {
            let file = pair[0].as_str().ok_or_else(|| bad("record_ids"))?;
            let id = pair[1].as_u64().ok_or_else(|| bad("record_ids"))?;
            record_ids.push((file.to_string(), id));
        }
        labels.push(Label {
            scenario: text_of(l, "scenario")?,
            host: text_of(l, "host")?,
            task_name: text_of(l, "task_name")?,
            files: strings(l, "files")?,
            record_ids,
            c2_domains: strings(l, "c2_domains")?,
            first: time_of(l, "first")?,
            last: time_of(l, "last")?,
        });
    }
    Ok(labels)
}
