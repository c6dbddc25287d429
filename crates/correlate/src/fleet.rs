//! A fleet's incidents a group of input units at a time (a unit is a folder or a file, whatever
//! the caller reads as one): a first pass over everything builds the [`FleetContext`] and finds
//! which units must be read together ([`FleetPlan`]); the second reads one group at a time and
//! builds its incidents from what a [`Reducer`] keeps of it ([`group_incidents`]).

use crate::behaviour::host_key;
use crate::incident::{Detections, FleetContext, Incident};
use crate::reduce::{ReduceConfig, ReduceStats, Reducer};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use taskhunt_events::Event;

/// What [`fleet_incidents`] (or a caller of [`group_incidents`]) did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FleetRun {
    pub folders: usize,
    /// Units read together because they log the same host or a task was created from one onto
    /// another (each group is reduced and built at once); the largest group's size.
    pub groups: usize,
    pub largest_group: usize,
    /// Events with a Sigma detection (all kept).
    pub detected_events: u64,
    pub reduce: ReduceStats,
}

/// The first pass: the fleet's context, and the hosts each unit logged.
#[derive(Default)]
pub struct FleetPlan {
    pub context: FleetContext,
    /// Computer names as logged, by unit (a few per unit: no per-event allocation).
    unit_hosts: Vec<HashSet<Arc<str>>>,
}

impl FleetPlan {
    /// Takes an event of unit `unit` (units are numbered from 0 by the caller).
    pub fn observe(&mut self, unit: usize, e: &Event) {
        self.context.observe(e);
        if self.unit_hosts.len() <= unit {
            self.unit_hosts.resize_with(unit + 1, HashSet::new);
        }
        let hosts = &mut self.unit_hosts[unit];
        if !hosts.contains(&*e.computer) {
            hosts.insert(e.computer.clone());
        }
    }

    /// Units to read together, each group in unit order, groups by their first unit: units that
    /// logged the same host (a host's Sysmon and Security logs may be separate files, and a
    /// host's tree, logons and task history must be seen whole), and units linked by a task one
    /// created on another's host (`schtasks /s`: the creating chain and the task are one
    /// incident). Hosts are one by their short name, as the context counts them. Units with no
    /// events are in no group.
    pub fn groups(&self) -> Vec<Vec<usize>> {
        let n = self.unit_hosts.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn root(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        fn join(p: &mut [usize], a: usize, b: usize) {
            let (a, b) = (root(p, a), root(p, b));
            p[a.max(b)] = a.min(b);
        }
        // Short host name → the first unit that logged it.
        let mut unit_of: HashMap<String, usize> = HashMap::new();
        for (u, hosts) in self.unit_hosts.iter().enumerate() {
            for h in hosts {
                match unit_of.get(&host_key(h)) {
                    Some(&first) => join(&mut parent, first, u),
                    None => {
                        unit_of.insert(host_key(h), u);
                    }
                }
            }
        }
        for (from, to) in &self.context.cross_host {
            if let (Some(&a), Some(&b)) = (unit_of.get(&host_key(from)), unit_of.get(&host_key(to))) {
                join(&mut parent, a, b);
            }
        }
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for u in (0..n).filter(|&u| !self.unit_hosts[u].is_empty()) {
            let r = root(&mut parent, u);
            groups.entry(r).or_default().push(u);
        }
        groups.into_values().collect()
    }
}

/// The incidents of one group: `events` are the group's events sorted by time, host and record
/// id (as `build` sorts all of them), `detections` their Sigma detections by index. An event
/// with a detection is always kept and its detections follow it to the incidents. The
/// incidents are numbered within the group only: number and group them into campaigns with
/// [`crate::incident::finish`] once all groups are done.
pub fn group_incidents(
    events: Vec<Event>,
    detections: &Detections,
    context: &FleetContext,
    cfg: &crate::Config,
    reduce: &ReduceConfig,
    run: &mut FleetRun,
) -> Vec<Incident> {
    run.detected_events += detections.len() as u64;
    let mut reducer = Reducer::without_context(reduce.clone());
    for (i, e) in events.into_iter().enumerate() {
        reducer.push(e, detections.contains_key(&i));
    }
    let mut reduced = reducer.finish();
    add_stats(&mut run.reduce, &reduced.stats);
    // Push order is the sorted order `build` sees all events in.
    let kept_detections = reduced.restore_order(detections);
    crate::incident::build_with(&reduced.events, context, &kept_detections, cfg)
}

/// Incidents for a fleet laid out a folder per host (as collections usually arrive), in memory
/// bounded by the largest group of connected hosts rather than by the fleet: a first pass over
/// every folder builds the [`FleetContext`] (domain prevalence, task stack counts, spans) and
/// finds which folders log the same host or had a task created from one onto another; the
/// second reads one group of folders at a time, reduces it and builds its incidents against
/// the fleet's context. `read` gives a folder's events. `detect` gives the Sigma detections of a
/// group's events (sorted by time, host and record id), by index, as [`build`](crate::build)
/// takes them ([`sigma_detections`](crate::incident::sigma_detections) for a rule set). The
/// incidents are those `build` makes from all the events at once, detections included.
pub fn fleet_incidents(
    folders: &[PathBuf],
    read: &dyn Fn(&Path) -> Vec<Event>,
    detect: &dyn Fn(&[Event]) -> Detections,
    cfg: &crate::Config,
    reduce: &ReduceConfig,
) -> (Vec<Incident>, FleetRun) {
    let mut plan = FleetPlan::default();
    for (i, f) in folders.iter().enumerate() {
        for e in read(f) {
            plan.observe(i, &e);
        }
    }
    let groups = plan.groups();
    let mut run = FleetRun { folders: folders.len(), groups: groups.len(), ..FleetRun::default() };
    let mut incidents = Vec::new();
    for members in &groups {
        run.largest_group = run.largest_group.max(members.len());
        let mut events: Vec<Event> = members.iter().flat_map(|&i| read(&folders[i])).collect();
        events.sort_by(|a, b| a.hunt_order().cmp(&b.hunt_order()));
        let detections = detect(&events);
        incidents.extend(group_incidents(events, &detections, &plan.context, cfg, reduce, &mut run));
    }
    crate::incident::finish(&mut incidents);
    (incidents, run)
}

impl FleetRun {
    /// Adds what another run over other groups did (groups built in parallel, then summed).
    pub fn absorb(&mut self, other: &FleetRun) {
        self.largest_group = self.largest_group.max(other.largest_group);
        self.detected_events += other.detected_events;
        add_stats(&mut self.reduce, &other.reduce);
    }
}

fn add_stats(total: &mut ReduceStats, s: &ReduceStats) {
    total.events_seen += s.events_seen;
    total.events_kept += s.events_kept;
    total.peak_window_processes = total.peak_window_processes.max(s.peak_window_processes);
    total.expired_processes += s.expired_processes;
    total.chain_processes += s.chain_processes;
}
