//! Correlation rules (Sigma 2.1): event_count, value_count, temporal, temporal_ordered,
//! value_sum, value_avg, value_percentile over sliding time windows per group.
//!
//! Where the specification leaves the semantics open, this engine decides (see
//! [`Correlation::evaluate`]): a window spans `timespan` inclusive of both ends; an input without
//! a group-by value belongs to no group; every input is part of at most one alert of a
//! correlation; value_percentile is the share, in percent, of the window's values that equal the
//! newest event's value (a rare process name makes up at most 1%).

use crate::rule::{Locator, Meta, RuleError, meta_of, scalar_text};
use crate::view::{Mapping, View};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use taskhunt_events::{Event, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
}

impl CorrelationType {
    fn parse(s: &str) -> Option<Self> {
        use CorrelationType::*;
        Some(match s {
            "event_count" => EventCount,
            "value_count" => ValueCount,
            "temporal" => Temporal,
            "temporal_ordered" => TemporalOrdered,
            "value_sum" => ValueSum,
            "value_avg" => ValueAvg,
            "value_percentile" => ValuePercentile,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        use CorrelationType::*;
        match self {
            EventCount => "event_count",
            ValueCount => "value_count",
            Temporal => "temporal",
            TemporalOrdered => "temporal_ordered",
            ValueSum => "value_sum",
            ValueAvg => "value_avg",
            ValuePercentile => "value_percentile",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

impl CmpOp {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Gt => a > b,
            CmpOp::Gte => a >= b,
            CmpOp::Lt => a < b,
            CmpOp::Lte => a <= b,
            CmpOp::Eq => a == b,
            CmpOp::Neq => a != b,
        }
    }
}

#[derive(Debug)]
pub struct Correlation {
    pub meta: Meta,
    pub kind: CorrelationType,
    /// Referenced rules and correlations, by id or name.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    /// Window length in 100 ns ticks.
    pub timespan: i64,
    pub timespan_text: String,
    /// `condition.field`: one field, or for value_count several whose value combinations are
    /// counted ("linked by an AND").
    pub fields: Vec<String>,
    /// ANDed comparisons; empty for temporal types means "all referenced rules".
    pub condition: Vec<(CmpOp, f64)>,
    /// alias → (rule name → field).
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
    pub generate: bool,
}

/// Parses `90m`, `1h`, `30s`, `2d` into 100 ns ticks.
pub fn parse_timespan(text: &str) -> Option<i64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.len().checked_sub(1)?);
    let n: i64 = num.trim().parse().ok()?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    (n > 0).then(|| n * secs * 10_000_000)
}

pub(crate) fn parse(map: &serde_json::Map<String, Json>, loc: &Locator) -> Result<Correlation, RuleError> {
    let meta = meta_of(map, loc);
    let Some(Json::Object(c)) = map.get("correlation") else {
        return Err(loc.error(Some("correlation:"), "`correlation` must be a map"));
    };
    // Locator lines are searched from the document start onwards, so a key this document lacks
    // would be found in a later one: errors about absent keys point at `correlation:` instead.
    let Some(kind_text) = c.get("type").and_then(scalar_text) else {
        return Err(loc.error(Some("correlation:"), "correlation has no `type`"));
    };
    let kind = CorrelationType::parse(&kind_text).ok_or_else(|| {
        loc.error(
            Some("type:"),
            format!("unknown correlation type {kind_text:?}: use event_count, value_count, temporal, temporal_ordered, value_sum, value_avg or value_percentile"),
        )
    })?;
    let list = |k: &str| -> Vec<String> {
        match c.get(k) {
            Some(Json::Array(items)) => items.iter().filter_map(scalar_text).collect(),
            Some(v) => scalar_text(v).into_iter().collect(),
            None => vec![],
        }
    };
    let rules = list("rules");
    if rules.is_empty() {
        return Err(loc.error(Some("correlation:"), "correlation has no `rules`"));
    }
    let group_by = list("group-by");
    let Some(timespan_text) = c.get("timespan").and_then(scalar_text) else {
        return Err(loc.error(Some("correlation:"), "correlation has no `timespan` (such as 10m or 1h)"));
    };
    let timespan = parse_timespan(&timespan_text)
        .ok_or_else(|| loc.error(Some("timespan:"), format!("timespan {timespan_text:?} is not a number followed by s, m, h or d")))?;
    let mut condition = Vec::new();
    let mut fields = Vec::new();
    match c.get("condition") {
        Some(Json::Object(cond)) => {
            for (k, v) in cond {
                let op = match k.as_str() {
                    "gt" => CmpOp::Gt,
                    "gte" => CmpOp::Gte,
                    "lt" => CmpOp::Lt,
                    "lte" => CmpOp::Lte,
                    "eq" => CmpOp::Eq,
                    "neq" => CmpOp::Neq,
                    "field" => {
                        fields = match v {
                            Json::Array(items) => items.iter().filter_map(scalar_text).collect(),
                            v => scalar_text(v).into_iter().collect(),
                        };
                        continue;
                    }
                    other => return Err(loc.error(Some("condition"), format!("unknown condition operator `{other}`"))),
                };
                let n = scalar_text(v)
                    .and_then(|t| t.parse::<f64>().ok())
                    .ok_or_else(|| loc.error(Some("condition"), format!("`{k}` needs a number")))?;
                condition.push((op, n));
            }
        }
        None => {}
        Some(_) => return Err(loc.error(Some("condition"), "correlation `condition` must be a map such as {gte: 10}")),
    }
    let temporal = matches!(kind, CorrelationType::Temporal | CorrelationType::TemporalOrdered);
    if condition.is_empty() && !temporal {
        return Err(loc.error(Some("correlation:"), format!("{} needs a condition such as {{gte: 10}}", kind.as_str())));
    }
    let needs_field = matches!(
        kind,
        CorrelationType::ValueCount | CorrelationType::ValueSum | CorrelationType::ValueAvg | CorrelationType::ValuePercentile
    );
    if needs_field && fields.is_empty() {
        return Err(loc.error(Some("condition"), format!("{} needs `field` in its condition", kind.as_str())));
    }
    if fields.len() > 1 && kind != CorrelationType::ValueCount {
        return Err(loc.error(Some("field"), format!("{} aggregates one field; `field` lists {}", kind.as_str(), fields.len())));
    }
    let mut aliases = BTreeMap::new();
    if let Some(Json::Object(a)) = c.get("aliases") {
        for (alias, per_rule) in a {
            let Json::Object(per_rule) = per_rule else {
                return Err(loc.error(Some(alias), format!("alias `{alias}` must map rule names to fields")));
            };
            aliases.insert(alias.clone(), per_rule.iter().filter_map(|(r, f)| scalar_text(f).map(|f| (r.clone(), f))).collect());
        }
    }
    let generate = matches!(c.get("generate").or_else(|| map.get("generate")), Some(Json::Bool(true)));
    Ok(Correlation { meta, kind, rules, group_by, timespan, timespan_text, fields, condition, aliases, generate })
}

/// One event a correlation consumes: a detection (or a lower correlation's alert) with the
/// rule that produced it.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub time: Timestamp,
    /// Index into the correlation's `rules` list.
    pub rule: usize,
    /// The referenced rule's `name`, for aliases.
    pub rule_name: Option<&'a str>,
    pub event: &'a Event,
    /// The field mapping the detection saw the event through (a Security 4688 seen as a process
    /// creation has `Image`), so that group-by and value fields read what the rule read.
    pub mapping: Mapping,
    /// For a lower correlation's alert: its group, consulted before the event's own fields (a
    /// group-by alias exists only there).
    pub group: Option<&'a BTreeMap<String, String>>,
    /// Identifies the input for the alert's event list (e.g. an index into the hit list).
    pub key: usize,
}

impl<'a> Input<'a> {
    /// A detection seen through `mapping`, with no lower correlation behind it.
    pub fn detection(time: Timestamp, rule: usize, event: &'a Event, mapping: Mapping, key: usize) -> Input<'a> {
        Input { time, rule, rule_name: None, event, mapping, group: None, key }
    }
}

/// A fired correlation.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub first: Timestamp,
    pub last: Timestamp,
    pub group: BTreeMap<String, String>,
    /// The inputs (their `key`s) that made the alert, oldest first.
    pub events: Vec<usize>,
    /// The aggregated value the condition was met by: a count, sum or average, the percentage of
    /// the window's values the newest value makes up (value_percentile), or the number of rules
    /// seen (temporal types).
    pub value: f64,
}

/// An input reduced to what the window needs.
struct Item {
    time: i64,
    rule: usize,
    key: usize,
    /// The value of `fields` (the tuple joined by U+001F for several fields); `None` when absent.
    value: Option<Box<str>>,
    number: Option<f64>,
}

/// Aggregates over the current window, updated as items enter and leave it.
struct Window {
    len: usize,
    /// Occurrences of each value among the window's items that have one.
    values: HashMap<Box<str>, usize>,
    valued: usize,
    sum: f64,
    numbers: usize,
    /// Items per referenced rule.
    per_rule: Vec<usize>,
    /// temporal_ordered: for each position p, the index of the latest item that starts a chain of
    /// the rules 0..=p in order, among the items seen since the last alert.
    chain: Vec<Option<usize>>,
}

impl Window {
    fn new(rules: usize) -> Window {
        Window { len: 0, values: HashMap::new(), valued: 0, sum: 0.0, numbers: 0, per_rule: vec![0; rules], chain: vec![None; rules] }
    }

    fn add(&mut self, index: usize, item: &Item) {
        self.len += 1;
        if let Some(v) = &item.value {
            *self.values.entry(v.clone()).or_default() += 1;
            self.valued += 1;
        }
        if let Some(n) = item.number {
            self.sum += n;
            self.numbers += 1;
        }
        if let Some(c) = self.per_rule.get_mut(item.rule) {
            *c += 1;
        }
        let p = item.rule;
        if p < self.chain.len() {
            let start = if p == 0 { Some(index) } else { self.chain[p - 1] };
            self.chain[p] = self.chain[p].max(start);
        }
    }

    fn remove(&mut self, item: &Item) {
        self.len -= 1;
        if let Some(v) = &item.value
            && let Some(c) = self.values.get_mut(v)
        {
            *c -= 1;
            if *c == 0 {
                self.values.remove(v);
            }
            self.valued -= 1;
        }
        if let Some(n) = item.number {
            self.sum -= n;
            self.numbers -= 1;
            if self.numbers == 0 {
                self.sum = 0.0;
            }
        }
        if let Some(c) = self.per_rule.get_mut(item.rule) {
            *c -= 1;
        }
    }

    fn clear(&mut self) {
        *self = Window::new(self.per_rule.len());
    }
}

/// Text of a field for grouping or aggregation: the lower correlation's group first, then the
/// event through the detection's field mapping. `ComputerName` (the host field the
/// specification's examples group by) falls back to the event's `Computer`.
fn field_text(input: &Input, view: &View, name: &str) -> Option<String> {
    if let Some(v) = input.group.and_then(|g| g.get(name)) {
        return Some(v.clone());
    }
    match view.get_str(name) {
        Some(v) if !v.is_null() => Some(v.to_text().into_owned()),
        _ if name == "ComputerName" && !input.event.computer.is_empty() => Some(input.event.computer.to_string()),
        _ => None,
    }
}

impl Correlation {
    /// The field a group-by name reads for this input: an alias resolves per referenced rule
    /// (by the rule's `name`, or the reference as the correlation writes it).
    fn group_field<'s>(&'s self, input: &Input, name: &'s str) -> &'s str {
        self.aliases
            .get(name)
            .and_then(|per_rule| {
                input.rule_name.and_then(|r| per_rule.get(r)).or_else(|| self.rules.get(input.rule).and_then(|r| per_rule.get(r)))
            })
            .map(String::as_str)
            .unwrap_or(name)
    }

    fn holds(&self, value: f64) -> bool {
        self.condition.iter().all(|(op, n)| op.holds(value, *n))
    }

    /// Runs the correlation over its inputs (any order).
    ///
    /// Inputs are grouped by the `group-by` values; an input lacking one of them belongs to no
    /// group. Within a group the window holds the inputs at most `timespan` older than the
    /// newest (both ends inclusive: two events exactly `timespan` apart are within it), and the
    /// condition is tested each time an input enters. When it holds, the window's inputs become
    /// an alert and the next window starts after them, so every input is part of at most one
    /// alert of a correlation.
    pub fn evaluate(&self, inputs: &[Input]) -> Vec<Alert> {
        self.evaluate_limited(inputs, taskhunt_events::limits::current().correlation_groups).0
    }

    /// [`evaluate`](Self::evaluate) keeping at most `max_groups` groups (open windows): an input
    /// of a new group past that is dropped. Returns the alerts and the inputs dropped, for the
    /// caller to report (limit `correlation_groups`).
    pub fn evaluate_limited(&self, inputs: &[Input], max_groups: usize) -> (Vec<Alert>, u64) {
        let mut groups: HashMap<Vec<String>, Vec<Item>> = HashMap::new();
        let mut dropped = 0u64;
        for input in inputs {
            let view = View::new(input.event, input.mapping);
            let key: Option<Vec<String>> = self.group_by.iter().map(|g| field_text(input, &view, self.group_field(input, g))).collect();
            let Some(key) = key else { continue };
            if groups.len() >= max_groups && !groups.contains_key(&key) {
                dropped += 1;
                continue;
            }
            let value = if self.fields.is_empty() {
                None
            } else {
                let parts: Option<Vec<String>> = self.fields.iter().map(|f| field_text(input, &view, f)).collect();
                parts.map(|p| p.join("\u{1f}").into_boxed_str())
            };
            let number = value.as_deref().and_then(|v| v.trim().parse::<f64>().ok()).filter(|n| n.is_finite());
            groups.entry(key).or_default().push(Item { time: input.time.ticks(), rule: input.rule, key: input.key, value, number });
        }
        let mut keys: Vec<_> = groups.keys().cloned().collect();
        keys.sort();
        let mut alerts = Vec::new();
        for key in keys {
            let mut items = groups.remove(&key).unwrap_or_default();
            items.sort_by_key(|i| (i.time, i.key));
            let group: BTreeMap<String, String> = self.group_by.iter().cloned().zip(key).collect();
            let mut window = Window::new(self.rules.len());
            let mut start = 0;
            for end in 0..items.len() {
                window.add(end, &items[end]);
                let oldest = items[end].time.saturating_sub(self.timespan);
                while items[start].time < oldest {
                    window.remove(&items[start]);
                    start += 1;
                }
                let Some((value, from)) = self.fires(&window, &items[end], start) else { continue };
                let used = &items[from..=end];
                alerts.push(Alert {
                    first: Timestamp::from_ticks(used[0].time),
                    last: Timestamp::from_ticks(items[end].time),
                    group: group.clone(),
                    events: used.iter().map(|i| i.key).collect(),
                    value,
                });
                window.clear();
                start = end + 1;
            }
        }
        alerts.sort_by_key(|a| (a.last, a.first));
        (alerts, dropped)
    }

    /// The aggregate value when the window satisfies the condition, and the index of the first
    /// item the alert reports.
    fn fires(&self, w: &Window, newest: &Item, start: usize) -> Option<(f64, usize)> {
        let all = |v: f64| self.holds(v).then_some((v, start));
        match self.kind {
            CorrelationType::EventCount => all(w.len as f64),
            CorrelationType::ValueCount => all(w.values.len() as f64),
            CorrelationType::ValueSum => (w.numbers > 0).then_some(w.sum).and_then(all),
            CorrelationType::ValueAvg => (w.numbers > 0).then(|| w.sum / w.numbers as f64).and_then(all),
            CorrelationType::ValuePercentile => {
                // How common the newest event's value is among the window's values, in percent:
                // a process name seen in 1% of a host's process starts meets `lte: 1`.
                let same = *w.values.get(newest.value.as_deref()?)?;
                all(100.0 * same as f64 / w.valued as f64)
            }
            CorrelationType::Temporal => {
                let seen = w.per_rule.iter().filter(|&&n| n > 0).count();
                let ok = if self.condition.is_empty() { seen == self.rules.len() } else { self.holds(seen as f64) };
                ok.then_some((seen as f64, start))
            }
            CorrelationType::TemporalOrdered => {
                // The longest prefix of the rule order that occurs, in order, inside the window;
                // the alert starts at that chain's first event.
                let (n, from) = (0..self.rules.len()).rev().find_map(|p| w.chain[p].filter(|&s| s >= start).map(|s| (p + 1, s)))?;
                let ok = if self.condition.is_empty() { n == self.rules.len() } else { self.holds(n as f64) };
                ok.then_some((n as f64, from))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("90m"), Some(90 * 60 * 10_000_000));
        assert_eq!(parse_timespan("1d"), Some(86_400 * 10_000_000));
        assert_eq!(parse_timespan("5x"), None);
        assert_eq!(parse_timespan("m"), None);
        assert_eq!(parse_timespan("0s"), None);
    }
}
