//! Incidents: each suspicious task with everything linked to it — the process chain that made
//! it, the processes it ran and their children, their DNS and network traffic to rare domains
//! or in beacons, the Sigma detections among those events — scored, explained and mapped to
//! ATT&CK; incidents on several hosts that share a task name, binary hash or C2 domain form a
//! campaign.

use crate::activity::{ActivityIndex, Kind, destination, kind_of};
use crate::beacon::{self, BeaconScore};
use crate::behaviour::{self, BehaviourChange, BehaviourConfig, Histories};
use crate::domains::{DomainStats, Rarity};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use taskhunt_events::{Event, Timestamp};
use taskhunt_tasks::inventory::{self, RemoteEvidence, TaskEntry};
use taskhunt_tasks::lineage::{ProcessTree, attach_tasks};
use taskhunt_tasks::score::{Reason, ScoringConfig, Severity};
use taskhunt_tasks::sources::{TaskState, records_from_event};

#[derive(Debug, Clone)]
pub struct Config {
    pub scoring: ScoringConfig,
    /// Registered domains known to the organisation (baseline); not rare by definition.
    pub known_domains: BTreeSet<String>,
    /// Incidents below this score are not reported.
    pub min_score: u32,
    /// A beacon counts from this score (0–1).
    pub beacon_threshold: f64,
    /// Around a task's creation, an interactive logon of the creating account within this many
    /// seconds counts as human involvement.
    pub human_window_secs: i64,
    /// Task behaviour over time: changed actions, new run hours, changed cadence, first
    /// appearance on a host.
    pub behaviour: BehaviourConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scoring: ScoringConfig::default(),
            known_domains: BTreeSet::new(),
            min_score: 20,
            beacon_threshold: 0.8,
            human_window_secs: 3600,
            behaviour: BehaviourConfig::default(),
        }
    }
}

/// A pointer to one event of an incident.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventRef {
    pub time: Timestamp,
    pub host: String,
    pub file: String,
    pub record_id: u64,
    pub event_id: u32,
    /// What the event is in the chain (`task created`, `process`, `dns`, `network`, ...).
    pub role: String,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DomainFinding {
    pub name: String,
    pub rarity: Rarity,
    pub first_seen: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct BeaconFinding {
    pub destination: String,
    pub process: String,
    pub score: BeaconScore,
}

#[derive(Debug, Clone, Serialize)]
pub struct DetectionRef {
    pub rule_id: Option<String>,
    pub title: String,
    pub level: String,
    pub file: String,
    pub record_id: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub id: String,
    pub score: u32,
    pub severity: Severity,
    pub hosts: Vec<String>,
    pub task_name: String,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    pub techniques: Vec<String>,
    pub detections: Vec<DetectionRef>,
    pub reasons: Vec<Reason>,
    pub domains: Vec<DomainFinding>,
    pub beacons: Vec<BeaconFinding>,
    pub events: Vec<EventRef>,
    pub task: TaskEntry,
    /// Rendered process trees: the chain that created the task, and each run.
    pub process_trees: Vec<String>,
    /// Command lines in the chain with encoded or obfuscated PowerShell, decoded.
    pub decoded: Vec<taskhunt_tasks::powershell::Decoded>,
    pub campaign: Option<String>,
    /// How the task departed from its own history (the reasons name them; here as data).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub behaviour: Vec<BehaviourChange>,
}

/// A detection (rule title, id, level) on an event, by event index.
pub type Detections = HashMap<usize, Vec<(Option<String>, String, String)>>;

/// What incidents cite of a rule's hits on one event: (id, title, level) of each rule not
/// suppressed by a filter, a rule without a level as `medium` (as `taskhunt detect` reports it).
pub fn sigma_labels(rules: &taskhunt_sigma::RuleSet, hits: &[taskhunt_sigma::Hit]) -> Vec<(Option<String>, String, String)> {
    hits.iter()
        .map(|h| &rules.rules[h.rule])
        .filter(|r| !r.suppressed)
        .map(|r| (r.meta.id.clone(), r.meta.title.clone(), r.meta.level.map(|l| l.as_str()).unwrap_or("medium").to_string()))
        .collect()
}

/// The detections of `rules` on `events`, by index (for [`build`] or a
/// [`fleet_incidents`](crate::fleet_incidents) group).
pub fn sigma_detections(rules: &taskhunt_sigma::RuleSet, events: &[Event]) -> Detections {
    let mut detections = Detections::new();
    for (i, e) in events.iter().enumerate() {
        let labels = sigma_labels(rules, &rules.matches(e));
        if !labels.is_empty() {
            detections.insert(i, labels);
        }
    }
    detections
}

fn summary(e: &Event) -> String {
    let t = |n: &str| e.text(n).map(|s| s.into_owned()).unwrap_or_default();
    match (&*e.channel, e.event_id) {
        (_, 1) | (_, 4688) => format!("{} {}", t("Image").max(t("NewProcessName")), t("CommandLine")),
        (_, 3) => {
            let (h, ip, port) = destination(e);
            format!("{} → {}{}:{}", t("Image"), h.map(|h| format!("{h} ")).unwrap_or_default(), ip.unwrap_or_default(), port.unwrap_or(0))
        }
        (_, 22) => format!("{} resolved {} → {}", t("Image"), t("QueryName"), t("QueryResults")),
        (_, 11) => format!("{} wrote {}", t("Image"), t("TargetFilename")),
        (_, 12..=14) => format!("{} set {} = {}", t("Image"), t("TargetObject"), t("Details")),
        _ => format!("{} {}", e.provider, e.event_id),
    }
}

fn eref(e: &Event, role: &str) -> EventRef {
    EventRef {
        time: e.timestamp,
        host: e.computer.to_string(),
        file: e.source.path.to_string_lossy().into_owned(),
        record_id: e.record_id,
        event_id: e.event_id,
        role: role.to_string(),
        summary: summary(e),
    }
}

fn add_reason(reasons: &mut Vec<Reason>, signal: &str, weight: i32, detail: String) {
    if !reasons.iter().any(|r| r.signal == signal) {
        reasons.push(Reason { signal: signal.into(), weight, detail });
    }
}

/// Builds incidents from all events of a hunt and the Sigma detections among them.
/// What incidents need to know of the whole input beyond the events an incident is made of:
/// the registered domains each host looked up or connected to (prevalence across the fleet),
/// the input's time span (beacon coverage), and when each host was first seen (a task's first
/// appearance). Built from every event, also those [`crate::reduce::Reducer`] drops.
#[derive(Default)]
pub struct FleetContext {
    domains: DomainStats,
    span: Option<(Timestamp, Timestamp)>,
    host_since: HashMap<std::sync::Arc<str>, Timestamp>,
    /// Task name (lower case) → hosts it was seen on; and every host with a task (stack counts).
    task_hosts: HashMap<String, BTreeSet<String>>,
    task_fleet: BTreeSet<String>,
    /// (host an event was logged on, host a task record of it is about), when they differ:
    /// a task created remotely (`schtasks /create /s HOST`).
    pub(crate) cross_host: BTreeSet<(String, String)>,
}

impl FleetContext {
    pub fn observe(&mut self, e: &Event) {
        self.observe_with(e, &records_from_event(e));
    }

    /// [`observe`](Self::observe) with the event's task records, for callers that have them.
    pub(crate) fn observe_with(&mut self, e: &Event, records: &[taskhunt_tasks::sources::TaskRecord]) {
        self.domains.add_host(&e.computer);
        let t = e.timestamp;
        self.span = Some(self.span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        match self.host_since.get_mut(&e.computer) {
            Some(since) => *since = (*since).min(t),
            None => {
                self.host_since.insert(e.computer.clone(), t);
            }
        }
        if let Some(name) = crate::reduce::destination_name(e) {
            self.domains.add(&e.computer, &name);
        }
        for r in records {
            // By short name: a remote creation names the host as typed (`/s WKS-0010`), its own
            // log by its FQDN, and both are one host.
            let short = r.host.split('.').next().unwrap_or(&r.host).to_ascii_lowercase();
            self.task_hosts.entry(r.name.to_ascii_lowercase()).or_default().insert(short.clone());
            self.task_fleet.insert(short);
            if !taskhunt_tasks::lineage::same_host(&r.host, &e.computer) {
                self.cross_host.insert((e.computer.to_string(), r.host.clone()));
            }
        }
    }

    /// Task name → (hosts with it, hosts with any task).
    fn stack_counts(&self) -> HashMap<String, (usize, usize)> {
        self.task_hosts.iter().map(|(k, v)| (k.clone(), (v.len(), self.task_fleet.len()))).collect()
    }

    pub fn of(events: &[Event]) -> FleetContext {
        let mut ctx = FleetContext::default();
        events.iter().for_each(|e| ctx.observe(e));
        ctx
    }
}

/// Incidents from all of the input in memory.
pub fn build(events: &[Event], detections: &Detections, cfg: &Config) -> Vec<Incident> {
    build_with(events, &FleetContext::of(events), detections, cfg)
}

/// Incidents from `events` (all of the input, or what a [`crate::reduce::Reducer`] kept of it)
/// and the context of the whole input.
pub fn build_with(events: &[Event], context: &FleetContext, detections: &Detections, cfg: &Config) -> Vec<Incident> {
    let mut remote = RemoteEvidence::default();
    let mut records = Vec::new();
    let domains = &context.domains;
    let mut interactive: HashMap<(String, String), Vec<Timestamp>> = HashMap::new();
    let mut record_event: HashMap<String, usize> = HashMap::new();
    let mut histories = Histories::default();
    for (host, since) in &context.host_since {
        histories.observe_host(host, *since);
    }
    for (i, e) in events.iter().enumerate() {
        remote.add(e);
        for r in records_from_event(e) {
            record_event.insert(r.evidence.clone(), i);
            histories.add_record(&r);
            records.push(r);
        }
        if &*e.channel == "Security"
            && e.event_id == 4624
            && matches!(e.fields.get_str("LogonType").and_then(|v| v.as_i64()), Some(2 | 10 | 11))
            && let Some(u) = e.text("TargetUserName")
        {
            interactive.entry((e.computer.to_ascii_lowercase(), u.to_ascii_lowercase())).or_default().push(e.timestamp);
        }
    }
    let tree = ProcessTree::build(events.iter());
    let resolve = |host: &str, pid: u64, at: Timestamp| tree.find(host, pid, at).map(|i| tree.nodes[i].image.clone());
    let entries = inventory::build(records, &remote, &resolve, &cfg.scoring);
    let activity = ActivityIndex::build(events);
    let sched: Vec<&Event> = events.iter().filter(|e| &*e.channel == "Microsoft-Windows-TaskScheduler/Operational").collect();
    let defs: Vec<(String, taskhunt_tasks::TaskDefinition)> =
        entries.iter().filter_map(|t| t.definition.clone().map(|d| (t.host.clone(), d))).collect();
    let def_entry: Vec<usize> = entries.iter().enumerate().filter(|(_, t)| t.definition.is_some()).map(|(i, _)| i).collect();
    let mut runs: HashMap<usize, Vec<(usize, String)>> = HashMap::new();
    for (node, task, why) in attach_tasks(&tree, &defs, &sched) {
        runs.entry(def_entry[task]).or_default().push((node, why));
        let entry = &entries[def_entry[task]];
        histories.add_process(&entry.host, &entry.task_name, &tree.nodes[node]);
    }
    // Process-creation events by evidence, to find the node of a schtasks command line.
    let node_by_evidence: HashMap<&str, usize> = tree.nodes.iter().enumerate().map(|(i, n)| (n.evidence.as_str(), i)).collect();
    let process_event: HashMap<String, usize> =
        events.iter().enumerate().filter(|(_, e)| matches!(e.event_id, 1 | 4688)).map(|(i, e)| (e.report_id(), i)).collect();
    let fleet_counts = context.stack_counts();

    let mut incidents = Vec::new();
    for (ei, entry) in entries.iter().enumerate() {
        let mut reasons = entry.reasons.clone();
        let mut evs: BTreeSet<EventRef> = BTreeSet::new();
        let mut chain_events: Vec<usize> = Vec::new();
        let mut trees = Vec::new();
        for (_, _, evidence) in &entry.history {
            if let Some(&i) = record_event.get(evidence) {
                chain_events.push(i);
                evs.insert(eref(&events[i], "task"));
            }
        }
        // The chain that created the task: the creating process and its ancestors.
        let mut nodes: Vec<usize> = Vec::new();
        for (_, state, evidence) in &entry.history {
            if *state == TaskState::Created
                && let Some(&n) = node_by_evidence.get(evidence.as_str())
            {
                let mut chain = tree.ancestors(n);
                chain.reverse();
                if let Some(&root) = chain.first() {
                    trees.push(format!("created by:\n{}", tree.render(root)));
                }
                chain.push(n);
                nodes.extend(chain);
            }
        }
        // The processes the task ran, and their descendants.
        for (node, why) in runs.get(&ei).into_iter().flatten() {
            add_reason(&mut reasons, "ran", 0, format!("ran pid {} ({})", tree.nodes[*node].pid, why));
            trees.push(format!("run:\n{}", tree.render(*node)));
            nodes.push(*node);
            nodes.extend(tree.descendants(*node));
        }
        nodes.sort_unstable();
        nodes.dedup();
        let mut conns: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
        let mut names: BTreeMap<String, Timestamp> = BTreeMap::new();
        let mut resolved_ips: BTreeSet<String> = BTreeSet::new();
        let mut decoded = Vec::new();
        for &n in &nodes {
            let p = &tree.nodes[n];
            if let Some(&pe) = process_event.get(&p.evidence) {
                chain_events.push(pe);
                evs.insert(eref(&events[pe], "process"));
            }
            if let Some(cmd) = &p.command_line
                && let Some(d) = taskhunt_tasks::powershell::decode_command_line(cmd)
            {
                decoded.push(d);
            }
            for i in activity.of(events, &p.host, p.guid.as_deref(), p.pid, p.start, p.end) {
                let e = &events[i];
                chain_events.push(i);
                let kind = kind_of(e);
                evs.insert(eref(
                    e,
                    match kind {
                        Some(Kind::Network) => "network",
                        Some(Kind::Dns) => "dns",
                        Some(Kind::FileWrite) => "file",
                        Some(Kind::Registry) => "registry",
                        _ => "image load",
                    },
                ));
                let (host, ip, _) = destination(e);
                if kind == Some(Kind::Dns) {
                    if let Some(r) = e.text("QueryResults") {
                        resolved_ips
                            .extend(r.split(';').map(|s| s.trim().trim_start_matches("::ffff:").to_string()).filter(|s| !s.is_empty()));
                    }
                }
                if let Some(h) = &host {
                    names.entry(h.to_ascii_lowercase()).and_modify(|t| *t = (*t).min(e.timestamp)).or_insert(e.timestamp);
                }
                if kind == Some(Kind::Network) {
                    let dest = host.clone().or(ip.clone()).unwrap_or_default();
                    conns.entry((p.image.clone(), dest)).or_default().push(e.timestamp.unix_seconds());
                    if host.is_none()
                        && let Some(ip) = &ip
                        && !resolved_ips.contains(ip)
                        && !is_private(ip)
                    {
                        add_reason(&mut reasons, "direct_ip", 10, format!("{} connected to {ip} with no DNS lookup", file_leaf(&p.image)));
                    }
                }
            }
        }
        // Rare domains.
        let mut domain_findings = Vec::new();
        for (name, first) in &names {
            if let Some(r) = domains.rarity(name, &cfg.known_domains)
                && !r.reasons.is_empty()
                && !domain_findings.iter().any(|d: &DomainFinding| d.rarity.domain == r.domain)
            {
                domain_findings.push(DomainFinding { name: name.clone(), rarity: r, first_seen: *first });
            }
        }
        let rare: Vec<&DomainFinding> = domain_findings.iter().filter(|d| d.rarity.prevalence <= 0.05 || d.rarity.fleet < 20).collect();
        if let Some(d) = rare.first() {
            add_reason(&mut reasons, "rare_domain", 20, format!("{}: {}", d.rarity.domain, d.rarity.reasons.join("; ")));
        }
        if let Some(d) = domain_findings.iter().find(|d| d.rarity.dga >= 0.6) {
            add_reason(&mut reasons, "dga_domain", 10, format!("{} looks generated ({:.2})", d.rarity.domain, d.rarity.dga));
        }
        // Beacons.
        let span = context.span.map_or((0, 0), |(a, b)| (a.unix_seconds(), b.unix_seconds()));
        let mut beacon_findings = Vec::new();
        for ((process, dest), times) in &conns {
            // A series that is not spread over the whole dataset (an implant that only runs
            // while its user is logged on) scores low on coverage and histogram; very regular
            // short intervals are a beacon all the same.
            if let Some(s) = beacon::score(times, &[], span)
                && (s.score >= cfg.beacon_threshold || (s.interval >= 0.9 && s.connections >= 12 && s.median_interval_secs <= 3600.0))
            {
                beacon_findings.push(BeaconFinding { destination: dest.clone(), process: process.clone(), score: s });
            }
        }
        if let Some(b) = beacon_findings.iter().max_by(|a, b| a.score.score.total_cmp(&b.score.score)) {
            add_reason(
                &mut reasons,
                "beacon",
                25,
                format!(
                    "{} → {}: {} connections every {:.0}s, beacon score {:.2}",
                    file_leaf(&b.process),
                    b.destination,
                    b.score.connections,
                    b.score.median_interval_secs,
                    b.score.score
                ),
            );
        }
        // Sigma detections among the chain's events.
        chain_events.sort_unstable();
        chain_events.dedup();
        let mut dets = Vec::new();
        for &i in &chain_events {
            for (id, title, level) in detections.get(&i).into_iter().flatten() {
                dets.push(DetectionRef {
                    rule_id: id.clone(),
                    title: title.clone(),
                    level: level.clone(),
                    file: events[i].source.path.to_string_lossy().into_owned(),
                    record_id: events[i].record_id,
                });
            }
        }
        if let Some(top) = dets.iter().map(|d| level_weight(&d.level)).max().filter(|w| *w > 0) {
            let d = dets.iter().find(|d| level_weight(&d.level) == top).map(|d| d.title.clone()).unwrap_or_default();
            add_reason(&mut reasons, "sigma", top, format!("{} Sigma detection(s), highest: {d}", dets.len()));
        }
        // Human involvement, as the write-up checked it: an interactive logon of the creating
        // account around the creation. An administrator at a console using ordinary tools lowers
        // the score; no logon at all raises it. Malware running in a user's session does not
        // count as a human: its creating chain holds Office, script hosts or LOLBins.
        if let (Some(account), Some(created)) =
            (&entry.created_by, entry.history.iter().find(|h| h.1 == TaskState::Created).and_then(|h| h.0))
        {
            let user = account.rsplit('\\').next().unwrap_or(account).to_ascii_lowercase();
            let near = interactive.get(&(entry.host.to_ascii_lowercase(), user.clone())).and_then(|ts| {
                ts.iter()
                    .filter(|t| (t.ticks() - created.ticks()).abs() <= cfg.human_window_secs * 10_000_000)
                    .min_by_key(|t| (t.ticks() - created.ticks()).abs())
                    .copied()
            });
            let suspicious_chain = nodes.iter().any(|&n| {
                let img = file_leaf(&tree.nodes[n].image).to_ascii_lowercase();
                SUSPICIOUS_CREATORS.contains(&img.as_str())
            }) || reasons.iter().any(|r| r.signal == "unusual_creator" || r.signal == "encoded_powershell");
            match near {
                None if !user.ends_with('$') && user != "system" => {
                    add_reason(
                        &mut reasons,
                        "no_human",
                        5,
                        format!("no interactive logon by {account} within {} min of the creation", cfg.human_window_secs / 60),
                    );
                }
                Some(t) if !suspicious_chain => {
                    add_reason(
                        &mut reasons,
                        "human_admin",
                        -15,
                        format!("created by {account} in an interactive session (logon at {t}) with ordinary tools"),
                    );
                }
                _ => {}
            }
        }
        if let Some((n, fleet)) = fleet_counts.get(&entry.task_name.to_ascii_lowercase()).copied()
            && fleet >= 10
            && n * 20 <= fleet
        {
            add_reason(&mut reasons, "rare_task", 10, format!("task name on {n} of {fleet} hosts"));
        }
        let mut changes = Vec::new();
        if let Some(h) = histories.get(&entry.host, &entry.task_name) {
            let stack = fleet_counts.get(&entry.task_name.to_ascii_lowercase()).copied().unwrap_or((1, 1));
            changes = behaviour::analyse(h, histories.host_since(&entry.host), stack, &cfg.behaviour, &cfg.scoring);
            behaviour::apply(&mut reasons, &changes, &cfg.behaviour);
        }
        let total: i32 = reasons.iter().map(|r| r.weight).sum();
        let score = total.clamp(0, 100) as u32;
        if score < cfg.min_score {
            continue;
        }
        reasons.retain(|r| r.weight != 0 || r.signal == "ran");
        reasons.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.signal.cmp(&b.signal)));
        let techniques = techniques(entry, &reasons, &evs, &decoded);
        let first = evs.iter().map(|e| e.time).min().or(entry.first_seen);
        let last = evs.iter().map(|e| e.time).max().or(entry.last_seen);
        let mut hosts: BTreeSet<String> = evs.iter().map(|e| e.host.clone()).collect();
        hosts.insert(entry.host.clone());
        incidents.push(Incident {
            id: String::new(),
            score,
            severity: Severity::of(score),
            hosts: hosts.into_iter().collect(),
            task_name: entry.task_name.clone(),
            first_seen: first,
            last_seen: last,
            techniques,
            detections: dets,
            reasons,
            domains: domain_findings,
            beacons: beacon_findings,
            events: evs.into_iter().collect(),
            task: entry.clone(),
            process_trees: trees,
            decoded,
            campaign: None,
            behaviour: changes,
        });
    }
    finish(&mut incidents);
    incidents
}

/// Orders incidents (highest score first), numbers them and groups campaigns: for incidents
/// built in pieces (a group of hosts at a time), once more over all of them.
pub fn finish(incidents: &mut [Incident]) {
    incidents.sort_by(|a, b| b.score.cmp(&a.score).then(a.first_seen.cmp(&b.first_seen)).then(a.task_name.cmp(&b.task_name)));
    for (i, inc) in incidents.iter_mut().enumerate() {
        inc.id = format!("INC-{:04}", i + 1);
        inc.campaign = None;
    }
    group_campaigns(incidents);
}

/// Creating processes that mean "a program did this", not a person at a console.
const SUSPICIOUS_CREATORS: &[&str] = &[
    "winword.exe",
    "excel.exe",
    "powerpnt.exe",
    "outlook.exe",
    "mshta.exe",
    "wscript.exe",
    "cscript.exe",
    "rundll32.exe",
    "regsvr32.exe",
    "wmiprvse.exe",
    "w3wp.exe",
    "sqlservr.exe",
];

fn level_weight(level: &str) -> i32 {
    match level {
        "critical" => 20,
        "high" => 15,
        "medium" => 5,
        _ => 0,
    }
}

fn file_leaf(p: &str) -> &str {
    p.rsplit(['\\', '/']).next().unwrap_or(p)
}

fn is_private(ip: &str) -> bool {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v)) => v.is_private() || v.is_loopback() || v.is_link_local(),
        Ok(std::net::IpAddr::V6(v)) => v.is_loopback() || (v.segments()[0] & 0xfe00) == 0xfc00,
        Err(_) => true,
    }
}

fn techniques(
    entry: &TaskEntry,
    reasons: &[Reason],
    evs: &BTreeSet<EventRef>,
    decoded: &[taskhunt_tasks::powershell::Decoded],
) -> Vec<String> {
    let mut t: BTreeSet<&str> = ["T1053.005"].into();
    let text: String =
        evs.iter().map(|e| e.summary.to_ascii_lowercase()).collect::<Vec<_>>().join("\n") + &entry.actions.to_ascii_lowercase();
    let has = |s: &str| reasons.iter().any(|r| r.signal == s);
    if text.contains("powershell") || text.contains("pwsh") {
        t.insert("T1059.001");
    }
    if text.contains("cmd.exe") {
        t.insert("T1059.003");
    }
    if text.contains("rundll32") {
        t.insert("T1218.011");
    }
    if text.contains("mshta") {
        t.insert("T1218.005");
    }
    if text.contains("regsvr32") {
        t.insert("T1218.010");
    }
    if has("encoded_powershell") || !decoded.is_empty() {
        t.insert("T1027");
    }
    if evs.iter().any(|e| e.role == "network") {
        t.insert("T1071");
    }
    if evs.iter().any(|e| e.role == "dns") {
        t.insert("T1071.004");
    }
    if has("dga_domain") {
        t.insert("T1568");
    }
    if has("hidden") {
        t.insert("T1564");
    }
    if has("remote_creation") {
        t.insert("T1021.002");
    }
    if has("quick_delete") {
        t.insert("T1070");
    }
    t.into_iter().map(String::from).collect()
}

/// Incidents on different hosts that share a task name, a C2 domain or a binary become one
/// campaign (named after the first incident in it).
fn group_campaigns(incidents: &mut [Incident]) {
    let mut parent: Vec<usize> = (0..incidents.len()).collect();
    fn root(p: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while p[r] != r {
            r = p[r];
        }
        p[i] = r;
        r
    }
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (i, inc) in incidents.iter().enumerate() {
        let mut keys = vec![format!("task:{}", inc.task_name.to_ascii_lowercase())];
        keys.extend(inc.domains.iter().filter(|d| !d.rarity.reasons.is_empty()).map(|d| format!("domain:{}", d.rarity.domain)));
        keys.extend(inc.task.actions.split(';').map(|a| format!("action:{}", a.trim().to_ascii_lowercase())).filter(|a| a.len() > 8));
        for k in keys {
            match by_key.get(&k) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    by_key.insert(k, i);
                }
            }
        }
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..incidents.len() {
        let r = root(&mut parent, i);
        members.entry(r).or_default().push(i);
    }
    for (r, m) in members {
        let hosts: BTreeSet<&String> = m.iter().flat_map(|&i| incidents[i].hosts.iter()).collect();
        if m.len() > 1 && hosts.len() > 1 {
            let name = format!("CAMPAIGN-{}", &incidents[r].id[4..]);
            for i in m {
                incidents[i].campaign = Some(name.clone());
            }
        }
    }
}
