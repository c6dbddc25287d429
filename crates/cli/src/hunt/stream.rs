//! The hunt's two passes over its input, so that memory follows the largest group of hosts
//! rather than the input (docs/correlation.md).
//!
//! The first pass streams every file once: coverage, Sigma matching, the query tables, and the
//! fleet's context for incidents (`FleetPlan`). It keeps copies only of the events some rule
//! matched (detections and correlation rules need them). The second pass reads one group of
//! files at a time (the files of one host, with those of hosts a remote task creation links
//! it to), sorts it as the in-memory hunt sorted everything, and builds that group's task
//! inventory and incidents. The outputs are those of a hunt holding every event: what depends
//! on order is put in the order of the sorted input.

use super::sample;
use anyhow::Result;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use taskhunt_correlate::incident::{Config, Detections, sigma_labels};
use taskhunt_correlate::{FleetPlan, FleetRun, Incident, ReduceConfig};
use taskhunt_events::{Event, FileBatch, ReadSummary, Timestamp};
use taskhunt_report::coverage::CoverageBuilder;
use taskhunt_sigma::{Hit, RuleSet};
use taskhunt_tasks::inventory::TaskEntry;
use taskhunt_tasks::score::ScoringConfig;

type Labels = Vec<(Option<String>, String, String)>;

/// What the hunt reads (twice).
pub enum Input<'a> {
    Sample,
    Files { paths: &'a [PathBuf], store: Option<&'a Path> },
}

pub struct FirstPass {
    pub coverage: CoverageBuilder,
    pub plan: FleetPlan,
    /// The query tables, when the playbook has queries.
    pub tables: Option<taskhunt_query::CatalogBuilder>,
    pub last: Option<Timestamp>,
    /// Events read.
    pub events: u64,
    /// Events some rule matched (suppressed rules too: correlations count them), with the
    /// hits, in the order the hunt sorts events: time, host, record id, then reading order.
    pub hits: Vec<(Event, Vec<Hit>)>,
    /// The read's summary (files, records, problems); `None` for the built-in sample.
    pub summary: Option<ReadSummary>,
    /// Each unit's (name shown, file read); a unit is a file of the input.
    units: Vec<(PathBuf, PathBuf)>,
    /// The Sigma labels of events with detections, by (unit, place in the unit's reading
    /// order): the second pass reads the same files in the same order.
    labels: HashMap<(usize, usize), Labels>,
}

/// Streams the input once. `tables`: build the query tables too.
pub fn first_pass(input: &Input, set: &RuleSet, tables: bool) -> Result<FirstPass> {
    let mut pass = FirstPass {
        coverage: CoverageBuilder::default(),
        plan: FleetPlan::default(),
        tables: tables.then(taskhunt_query::CatalogBuilder::sorted),
        last: None,
        events: 0,
        hits: Vec::new(),
        summary: None,
        units: Vec::new(),
        labels: HashMap::new(),
    };
    let stored: HashMap<PathBuf, PathBuf> = match input {
        Input::Sample => HashMap::new(),
        Input::Files { paths, store } => crate::commands::input_files(paths, *store)?.0.into_iter().collect(),
    };
    let mut unit_of: HashMap<PathBuf, usize> = HashMap::new();
    let mut read_so_far: Vec<usize> = Vec::new();
    let mut take = |batch: FileBatch| {
        let unit = *unit_of.entry(batch.path.clone()).or_insert_with(|| {
            let file = stored.get(&batch.path).cloned().unwrap_or_else(|| batch.path.clone());
            pass.units.push((batch.path.clone(), file));
            read_so_far.push(0);
            pass.units.len() - 1
        });
        let hits: Vec<Vec<Hit>> = batch.events.par_iter().map(|e| set.matches(e)).collect();
        for (e, hs) in batch.events.into_iter().zip(hits) {
            let place = read_so_far[unit];
            read_so_far[unit] += 1;
            pass.events += 1;
            pass.coverage.add(&e);
            pass.plan.observe(unit, &e);
            if let Some(t) = &mut pass.tables {
                t.add(&e);
            }
            pass.last = Some(pass.last.map_or(e.timestamp, |l| l.max(e.timestamp)));
            if !hs.is_empty() {
                let labels = sigma_labels(set, &hs);
                if !labels.is_empty() {
                    pass.labels.insert((unit, place), labels);
                }
                pass.hits.push((e, hs));
            }
        }
    };
    match input {
        Input::Sample => take(sample::read()),
        Input::Files { paths, store } => {
            let summary = crate::commands::read_telemetry(paths, *store, &mut take, |_, _| {})?;
            pass.summary = Some(summary);
        }
    }
    // Stable: events of one key stay in reading order, as when the hunt sorted them all.
    pass.hits.sort_by(|(a, _), (b, _)| a.hunt_order().cmp(&b.hunt_order()));
    Ok(pass)
}

/// The task inventory and incidents, a group of units at a time. Groups share nothing but the
/// fleet's context, so two are built at once on two threads (memory: the two largest groups);
/// their results are joined in group order, so the output does not depend on which finishes
/// first.
pub fn second_pass(input: &Input, pass: &FirstPass, cfg: &Config, scoring: &ScoringConfig) -> (Vec<TaskEntry>, Vec<Incident>, FleetRun) {
    let groups = pass.plan.groups();
    let mut run = FleetRun { folders: pass.units.len(), groups: groups.len(), ..FleetRun::default() };
    let built: Vec<(Vec<TaskEntry>, Vec<Incident>, FleetRun)> = groups
        .into_par_iter()
        .map(|group| {
            let mut run = FleetRun { largest_group: group.len(), ..FleetRun::default() };
            let mut events: Vec<(Event, Option<&Labels>)> = Vec::new();
            for unit in group {
                let batch = match input {
                    Input::Sample => sample::read(),
                    Input::Files { .. } => {
                        let (shown, file) = &pass.units[unit];
                        taskhunt_events::read::read_file_as(file, shown)
                    }
                };
                for (place, e) in batch.events.into_iter().enumerate() {
                    events.push((e, pass.labels.get(&(unit, place))));
                }
            }
            events.sort_by(|(a, _), (b, _)| a.hunt_order().cmp(&b.hunt_order()));
            let mut detections = Detections::new();
            let events: Vec<Event> = events
                .into_iter()
                .enumerate()
                .map(|(i, (e, labels))| {
                    if let Some(l) = labels {
                        detections.insert(i, l.clone());
                    }
                    e
                })
                .collect();
            let tasks = taskhunt_tasks::inventory::from_events(&events, scoring);
            let incidents =
                taskhunt_correlate::group_incidents(events, &detections, &pass.plan.context, cfg, &ReduceConfig::default(), &mut run);
            (tasks, incidents, run)
        })
        .collect();
    let (mut tasks, mut incidents) = (Vec::new(), Vec::new());
    for (t, i, r) in built {
        tasks.extend(t);
        incidents.extend(i);
        run.absorb(&r);
    }
    taskhunt_correlate::incident::finish(&mut incidents);
    taskhunt_tasks::inventory::sort(&mut tasks);
    (tasks, incidents, run)
}
