//! Running every correlation of a rule set over a list of detections, chained correlations
//! included (a correlation may consume another's alerts).

use crate::correlation::{Alert, Input};
use crate::logsource::Scope;
use crate::rule::Rule;
use crate::ruleset::RuleSet;
use crate::view::Mapping;
use taskhunt_events::Event;

/// A correlation that fired, with the detections (indices into the input list) behind it.
#[derive(Debug, Clone)]
pub struct CorrelationHit {
    pub correlation: usize,
    pub alert: Alert,
    /// Indices into the detections given to [`RuleSet::correlate`], oldest first.
    pub detections: Vec<usize>,
}

/// The field mapping under which `rule` saw `event`: that of the logsource target the event
/// belongs to (a Security 4688 under `process_creation` is seen as a Sysmon process creation).
fn mapping_of(rule: &Rule, event: &Event) -> Mapping {
    match &rule.scope {
        Scope::Targets(targets) => targets
            .iter()
            .find(|t| t.channel == &*event.channel && t.event_ids.is_none_or(|ids| ids.contains(&event.event_id)))
            .map_or(Mapping::Direct, |t| t.mapping),
        _ => Mapping::Direct,
    }
}

impl RuleSet {
    /// Whether correlation `ci` only feeds other correlations: some correlation refers to it
    /// and none of those asks to `generate` its referenced rules as stand-alone rules.
    pub fn correlation_suppressed(&self, ci: usize) -> bool {
        let mut referenced = false;
        for (j, c) in self.correlations.iter().enumerate() {
            let refers = j != ci && c.rules.iter().any(|r| self.rule_index(r).is_none() && self.correlation_index(r) == Some(ci));
            if refers {
                if c.generate {
                    return false;
                }
                referenced = true;
            }
        }
        referenced
    }

    /// The correlation alerts to report: those of every correlation that is not only an
    /// intermediate step of another (see [`RuleSet::correlation_suppressed`]).
    pub fn correlate(&self, detections: &[(usize, &Event)]) -> Vec<CorrelationHit> {
        self.correlate_reporting(detections).0
    }

    /// [`correlate`](Self::correlate), with a message for each correlation that reached the
    /// `correlation_groups` limit (naming the rule and what was dropped).
    pub fn correlate_reporting(&self, detections: &[(usize, &Event)]) -> (Vec<CorrelationHit>, Vec<String>) {
        let suppressed: Vec<bool> = (0..self.correlations.len()).map(|ci| self.correlation_suppressed(ci)).collect();
        let (mut hits, warnings) = self.correlate_all_reporting(detections);
        hits.retain(|h| !suppressed[h.correlation]);
        (hits, warnings)
    }

    /// Evaluates all correlations over `detections` (rule index, event), intermediate ones of a
    /// chain included. Correlations are run in dependency order; one that references itself
    /// through a cycle is skipped.
    pub fn correlate_all(&self, detections: &[(usize, &Event)]) -> Vec<CorrelationHit> {
        self.correlate_all_reporting(detections).0
    }

    fn correlate_all_reporting(&self, detections: &[(usize, &Event)]) -> (Vec<CorrelationHit>, Vec<String>) {
        let max_groups = taskhunt_events::limits::current().correlation_groups;
        let mut warnings = Vec::new();
        let n = self.correlations.len();
        let mut done: Vec<Option<Vec<CorrelationHit>>> = (0..n).map(|_| None).collect();
        let mappings: Vec<Mapping> = detections.iter().map(|(r, e)| mapping_of(&self.rules[*r], e)).collect();
        // Repeatedly run the correlations whose references are all available.
        loop {
            let mut progressed = false;
            for ci in 0..n {
                if done[ci].is_some() {
                    continue;
                }
                let c = &self.correlations[ci];
                let deps: Vec<Option<usize>> =
                    c.rules.iter().map(|r| self.correlation_index(r).filter(|_| self.rule_index(r).is_none())).collect();
                if deps.iter().flatten().any(|&d| done[d].is_none()) {
                    continue;
                }
                // Inputs: detections of referenced rules, and alerts of referenced correlations.
                let mut inputs = Vec::new();
                let mut members: Vec<Vec<usize>> = Vec::new();
                for (pos, r) in c.rules.iter().enumerate() {
                    match deps[pos] {
                        None => {
                            let Some(ri) = self.rule_index(r) else { continue };
                            let name = self.rules[ri].meta.name.as_deref();
                            for (di, (rule, event)) in detections.iter().enumerate() {
                                if *rule == ri {
                                    inputs.push(Input {
                                        time: event.timestamp,
                                        rule: pos,
                                        rule_name: name,
                                        event,
                                        mapping: mappings[di],
                                        group: None,
                                        key: members.len(),
                                    });
                                    members.push(vec![di]);
                                }
                            }
                        }
                        Some(d) => {
                            let name = self.correlations[d].meta.name.as_deref();
                            for hit in done[d].iter().flatten() {
                                let Some(&last) = hit.detections.last() else { continue };
                                inputs.push(Input {
                                    time: hit.alert.last,
                                    rule: pos,
                                    rule_name: name,
                                    event: detections[last].1,
                                    mapping: mappings[last],
                                    group: Some(&hit.alert.group),
                                    key: members.len(),
                                });
                                members.push(hit.detections.clone());
                            }
                        }
                    }
                }
                let (alerts, dropped) = c.evaluate_limited(&inputs, max_groups);
                if dropped > 0 {
                    warnings.push(format!(
                        "correlation {:?} ({}): {dropped} events dropped after {max_groups} open groups (limit correlation_groups)",
                        c.meta.title,
                        c.meta.id.as_deref().unwrap_or("no id"),
                    ));
                }
                let hits = alerts
                    .into_iter()
                    .map(|alert| {
                        let mut dets: Vec<usize> = alert.events.iter().flat_map(|k| members[*k].iter().copied()).collect();
                        dets.sort_by_key(|&d| (detections[d].1.timestamp, d));
                        dets.dedup();
                        CorrelationHit { correlation: ci, alert, detections: dets }
                    })
                    .collect();
                done[ci] = Some(hits);
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        let mut all: Vec<CorrelationHit> = done.into_iter().flatten().flatten().collect();
        all.sort_by_key(|h| (h.alert.last, h.correlation));
        (all, warnings)
    }
}
