//! Correlation rules (Sigma 2.1): event_count, value_count, temporal, temporal_ordered,
//! value_sum, value_avg, value_percentile over sliding time windows per group.

use crate::rule::{Locator, Meta, RuleError, meta_of, scalar_text};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
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
    pub field: Option<String>,
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
    let kind_text = c.get("type").and_then(scalar_text).unwrap_or_default();
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
    let timespan_text = c.get("timespan").and_then(scalar_text).unwrap_or_default();
    let timespan = parse_timespan(&timespan_text)
        .ok_or_else(|| loc.error(Some("timespan"), format!("timespan {timespan_text:?} is not a number followed by s, m, h or d")))?;
    let mut condition = Vec::new();
    let mut field = None;
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
                        field = scalar_text(v);
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
    if needs_field && field.is_none() {
        return Err(loc.error(Some("condition"), format!("{} needs `field` in its condition", kind.as_str())));
    }
    let mut aliases = BTreeMap::new();
    if let Some(Json::Object(a)) = c.get("aliases") {
        for (alias, per_rule) in a {
            let Json::Object(per_rule) = per_rule else {
                return Err(loc.error(Some(alias), format!("alias `{alias}` must map rule names to fields")));
            };
            aliases.insert(
                alias.clone(),
                per_rule.iter().filter_map(|(r, f)| scalar_text(f).map(|f| (r.clone(), f))).collect(),
            );
        }
    }
    let generate = matches!(c.get("generate").or_else(|| map.get("generate")), Some(Json::Bool(true)));
    Ok(Correlation {
        meta,
        kind,
        rules,
        group_by,
        timespan,
        timespan_text,
        field,
        condition,
        aliases,
        generate,
    })
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
    /// Identifies the input for the alert's event list (e.g. an index into the hit list).
    pub key: usize,
}

/// A fired correlation.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub first: Timestamp,
    pub last: Timestamp,
    pub group: BTreeMap<String, String>,
    /// The inputs (their `key`s) that made the alert.
    pub events: Vec<usize>,
    /// The aggregated value the condition was met by (count, sum, average, percentage).
    pub value: f64,
}

impl Correlation {
    fn group_value(&self, input: &Input, name: &str) -> String {
        let field = self
            .aliases
            .get(name)
            .and_then(|per_rule| input.rule_name.and_then(|r| per_rule.get(r)))
            .map(String::as_str)
            .unwrap_or(name);
        input.event.text(field).map(|t| t.into_owned()).unwrap_or_default()
    }

    fn holds(&self, value: f64) -> bool {
        self.condition.iter().all(|(op, n)| op.holds(value, *n))
    }

    /// Runs the correlation over its inputs (any order). Windows slide over each group's
    /// events; after an alert, the next window starts after the alert's last event so one
    /// burst yields one alert.
    pub fn evaluate(&self, inputs: &[Input]) -> Vec<Alert> {
        let mut groups: HashMap<Vec<String>, Vec<&Input>> = HashMap::new();
        for i in inputs {
            let key: Vec<String> = self.group_by.iter().map(|g| self.group_value(i, g)).collect();
            groups.entry(key).or_default().push(i);
        }
        let mut keys: Vec<_> = groups.keys().cloned().collect();
        keys.sort();
        let mut alerts = Vec::new();
        for key in keys {
            let mut items = groups.remove(&key).unwrap_or_default();
            items.sort_by_key(|i| (i.time, i.key));
            let group: BTreeMap<String, String> = self.group_by.iter().cloned().zip(key).collect();
            let mut start = 0;
            let mut end = 0;
            while end < items.len() {
                // Window (items[end].time - timespan, items[end].time].
                while items[start].time.ticks() <= items[end].time.ticks() - self.timespan {
                    start += 1;
                }
                let window = &items[start..=end];
                if let Some(value) = self.fires(window, &items[..=end]) {
                    alerts.push(Alert {
                        first: window[0].time,
                        last: window[window.len() - 1].time,
                        group: group.clone(),
                        events: window.iter().map(|i| i.key).collect(),
                        value,
                    });
                    start = end + 1;
                }
                end += 1;
                if start > end && end < items.len() {
                    start = end;
                }
            }
        }
        alerts.sort_by_key(|a| (a.last, a.first));
        alerts
    }

    /// The aggregate value when the window satisfies the condition.
    fn fires(&self, window: &[&Input], _history: &[&Input]) -> Option<f64> {
        let field_values = || window.iter().filter_map(|i| self.field.as_deref().and_then(|f| i.event.text(f)));
        let numbers = || field_values().filter_map(|t| t.trim().parse::<f64>().ok());
        match self.kind {
            CorrelationType::EventCount => {
                let n = window.len() as f64;
                self.holds(n).then_some(n)
            }
            CorrelationType::ValueCount => {
                let distinct: BTreeSet<String> = field_values().map(|t| t.into_owned()).collect();
                let n = distinct.len() as f64;
                self.holds(n).then_some(n)
            }
            CorrelationType::ValueSum => {
                let s: f64 = numbers().sum();
                self.holds(s).then_some(s)
            }
            CorrelationType::ValueAvg => {
                let v: Vec<f64> = numbers().collect();
                if v.is_empty() {
                    return None;
                }
                let avg = v.iter().sum::<f64>() / v.len() as f64;
                self.holds(avg).then_some(avg)
            }
            CorrelationType::ValuePercentile => {
                // The newest event's value as a percentage of the window's values: a rare
                // value (an image seen in 1% of a host's process starts) meets `lte: 1`.
                let last = window.last()?;
                let value = self.field.as_deref().and_then(|f| last.event.text(f))?;
                let total = field_values().count() as f64;
                let same = field_values().filter(|v| *v == value).count() as f64;
                let pct = 100.0 * same / total.max(1.0);
                self.holds(pct).then_some(pct)
            }
            CorrelationType::Temporal => {
                let distinct: BTreeSet<usize> = window.iter().map(|i| i.rule).collect();
                let n = distinct.len() as f64;
                let ok = if self.condition.is_empty() { distinct.len() == self.rules.len() } else { self.holds(n) };
                ok.then_some(n)
            }
            CorrelationType::TemporalOrdered => {
                // The rules must occur in the listed order: find them as a subsequence.
                let mut next = 0;
                for i in window {
                    if next < self.rules.len() && i.rule == next {
                        next += 1;
                    }
                }
                let n = next as f64;
                let ok = if self.condition.is_empty() { next == self.rules.len() } else { self.holds(n) };
                ok.then_some(n)
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
