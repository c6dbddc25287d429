//! Shared by the specification-example tests: where the Sigma specification lives in the
//! corpus, its YAML snippets, and small Windows events built for the examples.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use taskhunt_events::{Event, Fields, SourceFile, Timestamp, Value};
use taskhunt_sigma::{CorrelationHit, RuleSet};

pub const SECURITY: &str = "Security";
pub const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

/// The specification checkout inside the corpus, or `None` (the test prints that it skips).
pub fn spec(test: &str) -> Option<PathBuf> {
    taskhunt_events::testing::corpus(test).map(|c| c.join("sigma-specification"))
}

pub fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fenced code blocks of a Markdown text.
pub fn code_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(String::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    blocks
}

/// The one code block of `markdown` that contains every needle.
pub fn block_with(markdown: &str, needles: &[&str]) -> String {
    let found: Vec<String> = code_blocks(markdown).into_iter().filter(|b| needles.iter().all(|n| b.contains(n))).collect();
    assert_eq!(found.len(), 1, "expected one code block containing {needles:?}, found {}", found.len());
    found.into_iter().next().unwrap_or_default()
}

/// 2024-05-01T00:00:00Z plus `secs` seconds.
pub fn at(secs: i64) -> Timestamp {
    let t0 = Timestamp::parse("2024-05-01T00:00:00Z").expect("base time");
    Timestamp::from_ticks(t0.ticks() + secs * 10_000_000)
}

fn provider(channel: &str) -> &'static str {
    match channel {
        SECURITY => "Microsoft-Windows-Security-Auditing",
        SYSMON => "Microsoft-Windows-Sysmon",
        _ => "Test-Provider",
    }
}

/// A Windows event as the readers produce it: System header fields (`EventID`, `Channel`,
/// `Computer`, `Provider_Name`) and the given EventData.
pub fn event(channel: &str, event_id: u32, computer: &str, secs: i64, data: &[(&str, Value)]) -> Event {
    let mut system = Fields::new();
    system.insert_str("EventID", Value::UInt(event_id as u64));
    system.insert_str("Channel", Value::from(channel));
    system.insert_str("Computer", Value::from(computer));
    system.insert_str("Provider_Name", Value::from(provider(channel)));
    let mut fields = Fields::new();
    for (name, value) in data {
        fields.insert_str(name, value.clone());
    }
    Event {
        timestamp: at(secs),
        computer: computer.into(),
        channel: channel.into(),
        provider: provider(channel).into(),
        event_id,
        record_id: 0,
        source: Arc::new(SourceFile { path: PathBuf::from("spec-example.evtx"), format: "test" }),
        system,
        fields,
    }
}

pub fn s(text: &str) -> Value {
    Value::from(text)
}

/// Loads rule texts and files; the load must be clean.
pub fn load(sources: &[taskhunt_sigma::Source]) -> RuleSet {
    let set = RuleSet::load(sources, None);
    assert!(set.errors.is_empty(), "load errors: {:#?}", set.errors);
    set
}

/// Every detection of `events`, as (rule, index into `events`).
pub fn detect(set: &RuleSet, events: &[Event]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        for hit in set.matches(e) {
            out.push((hit.rule, i));
        }
    }
    out
}

/// A correlation alert reduced to what the tests compare.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub correlation: String,
    pub group: BTreeMap<String, String>,
    /// Indices into the test's events, oldest first.
    pub events: Vec<usize>,
    pub value: f64,
    pub first: Timestamp,
    pub last: Timestamp,
}

pub fn group(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn reduce(set: &RuleSet, detections: &[(usize, usize)], hits: Vec<CorrelationHit>) -> Vec<Fired> {
    hits.into_iter()
        .map(|h| {
            let mut events: Vec<usize> = h.detections.iter().map(|&d| detections[d].1).collect();
            events.dedup();
            Fired {
                correlation: set.correlations[h.correlation].meta.title.clone(),
                group: h.alert.group,
                events,
                value: h.alert.value,
                first: h.alert.first,
                last: h.alert.last,
            }
        })
        .collect()
}

/// Detection over `events`, then the reported correlation alerts.
pub fn correlate(set: &RuleSet, events: &[Event]) -> Vec<Fired> {
    let detections = detect(set, events);
    let pairs: Vec<(usize, &Event)> = detections.iter().map(|&(r, i)| (r, &events[i])).collect();
    reduce(set, &detections, set.correlate(&pairs))
}

/// As [`correlate`], intermediate correlations of a chain included.
pub fn correlate_all(set: &RuleSet, events: &[Event]) -> Vec<Fired> {
    let detections = detect(set, events);
    let pairs: Vec<(usize, &Event)> = detections.iter().map(|&(r, i)| (r, &events[i])).collect();
    reduce(set, &detections, set.correlate_all(&pairs))
}

/// `start..end` as a list.
pub fn span(start: usize, end: usize) -> Vec<usize> {
    (start..end).collect()
}
