//! Running every correlation of a rule set over a list of detections, chained correlations
//! included (a correlation may consume another's alerts).

use crate::correlation::{Alert, Input};
use crate::ruleset::RuleSet;
use taskhunt_events::Event;

/// A correlation that fired, with the detections (indices into the input list) behind it.
#[derive(Debug, Clone)]
pub struct CorrelationHit {
    pub correlation: usize,
    pub alert: Alert,
    /// Indices into the detections given to [`RuleSet::correlate`], oldest first.
    pub detections: Vec<usize>,
}

impl RuleSet {
    /// Evaluates all correlations over `detections` (rule index, event). Correlations are run
    /// in dependency order; one that references itself through a cycle is skipped.
    pub fn correlate(&self, detections: &[(usize, &Event)]) -> Vec<CorrelationHit> {
        let n = self.correlations.len();
        let mut done: Vec<Option<Vec<CorrelationHit>>> = (0..n).map(|_| None).collect();
        // Repeatedly run the correlations whose references are all available.
        loop {
            let mut progressed = false;
            for ci in 0..n {
                if done[ci].is_some() {
                    continue;
                }
                let c = &self.correlations[ci];
                let deps: Vec<Option<usize>> = c.rules.iter().map(|r| self.correlation_index(r).filter(|_| self.rule_index(r).is_none())).collect();
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
                                    inputs.push(Input { time: event.timestamp, rule: pos, rule_name: name, event, key: members.len() });
                                    members.push(vec![di]);
                                }
                            }
                        }
                        Some(d) => {
                            let name = self.correlations[d].meta.name.as_deref();
                            for hit in done[d].iter().flatten() {
                                let Some(&last) = hit.detections.last() else { continue };
                                inputs.push(Input { time: hit.alert.last, rule: pos, rule_name: name, event: detections[last].1, key: members.len() });
                                members.push(hit.detections.clone());
                            }
                        }
                    }
                }
                let hits = c
                    .evaluate(&inputs)
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
        all
    }
}
