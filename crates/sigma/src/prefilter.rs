//! Literal prefiltering: most rules can only match if some literal appears in some field
//! (`CommandLine` contains `-enc`, `Image` ends with `\rundll32.exe`). Those literals are
//! gathered per field into one Aho-Corasick automaton across all rules, so one pass over an
//! event's text says which rules are worth evaluating. The literals are a necessary condition
//! only: a rule that passes is still evaluated in full, so the prefilter never changes results.

use crate::condition::Cond;
use crate::detection::{FieldTest, Selection};
use crate::modifiers::ValueTest;
use crate::rule::Rule;
use crate::view::View;
use aho_corasick::AhoCorasick;
use std::collections::{BTreeSet, HashMap};
use taskhunt_events::FieldName;

/// A necessary condition: `None` means "no literal is required"; `Some(set)` means at least one
/// (field, literal) of the set occurs (field `None` = any field, for keywords).
type Need = Option<BTreeSet<(Option<FieldName>, String)>>;

/// Literals shorter than this say little and would make most rules pass anyway.
const MIN_LITERAL: usize = 3;

fn test_need(t: &FieldTest) -> Need {
    let value_need = |variants: &Vec<ValueTest>| -> Need {
        let mut set = BTreeSet::new();
        for v in variants {
            match v {
                // Only case-folded comparisons: their needles are already lowercased, and the
                // event text is lowercased the same way.
                ValueTest::Str { m, fold: true } => match m.required_literal() {
                    Some(l) if l.len() >= MIN_LITERAL => {
                        set.insert((t.field_id, l.to_string()));
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
        (!set.is_empty()).then_some(set)
    };
    if t.all {
        // Every value must match: any one value's literals are necessary; take the smallest.
        t.values.iter().filter_map(value_need).min_by_key(BTreeSet::len)
    } else {
        let mut all = BTreeSet::new();
        for v in &t.values {
            all.extend(value_need(v)?);
        }
        (!all.is_empty()).then_some(all)
    }
}

fn selection_need(s: &Selection) -> Need {
    let mut all = BTreeSet::new();
    for map in &s.maps {
        // Within a map every test must hold: the most selective test's literals suffice.
        let best = map.iter().filter_map(test_need).min_by_key(BTreeSet::len)?;
        all.extend(best);
    }
    (!all.is_empty()).then_some(all)
}

fn cond_need(c: &Cond, sels: &[Need]) -> Need {
    let union = |items: &mut dyn Iterator<Item = Need>| -> Need {
        let mut all = BTreeSet::new();
        for n in items {
            all.extend(n?);
        }
        Some(all)
    };
    match c {
        Cond::Sel(i) => sels[*i].clone(),
        Cond::Not(_) => None,
        Cond::And(cs) => cs.iter().filter_map(|c| cond_need(c, sels)).min_by_key(BTreeSet::len),
        Cond::Or(cs) => union(&mut cs.iter().map(|c| cond_need(c, sels))),
        Cond::AtLeast(n, ids) if *n >= ids.len() => ids.iter().filter_map(|i| sels[*i].clone()).min_by_key(BTreeSet::len),
        Cond::AtLeast(_, ids) => union(&mut ids.iter().map(|i| sels[*i].clone())),
    }
}

/// The necessary literals of a rule, or `None` when it has to be evaluated on every event.
pub fn rule_need(rule: &Rule) -> Need {
    let sels: Vec<Need> = rule.selections.iter().map(selection_need).collect();
    cond_need(&rule.condition, &sels).filter(|s| !s.is_empty())
}

struct FieldAutomaton {
    field: Option<FieldName>,
    ac: AhoCorasick,
    /// Pattern index → rules needing it.
    rules: Vec<Vec<u32>>,
}

/// Per-field automata over all rules' necessary literals.
#[derive(Default)]
pub struct Prefilter {
    automata: Vec<FieldAutomaton>,
    /// Rules with no necessary literal: always evaluated.
    pub always: Vec<bool>,
}

impl std::fmt::Debug for Prefilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prefilter({} fields, {} unfiltered rules)", self.automata.len(), self.always.iter().filter(|a| **a).count())
    }
}

impl Prefilter {
    pub fn build(rules: &[Rule]) -> Prefilter {
        let mut always = vec![true; rules.len()];
        let mut per_field: HashMap<Option<FieldName>, HashMap<String, Vec<u32>>> = HashMap::new();
        for (ri, rule) in rules.iter().enumerate() {
            if let Some(need) = rule_need(rule) {
                always[ri] = false;
                for (field, lit) in need {
                    per_field.entry(field).or_default().entry(lit).or_default().push(ri as u32);
                }
            }
        }
        let mut automata = Vec::new();
        for (field, lits) in per_field {
            let (patterns, rules): (Vec<String>, Vec<Vec<u32>>) = lits.into_iter().unzip();
            match AhoCorasick::new(&patterns) {
                Ok(ac) => automata.push(FieldAutomaton { field, ac, rules }),
                Err(_) => {
                    // Cannot build (should not happen): evaluate those rules unconditionally.
                    for rs in rules {
                        for r in rs {
                            always[r as usize] = true;
                        }
                    }
                }
            }
        }
        Prefilter { automata, always }
    }

    /// Marks in `possible` (indexed by rule) every rule whose literals occur in the event.
    pub fn scan(&self, view: &View, possible: &mut [bool]) {
        for a in &self.automata {
            let mut mark = |text: &str| {
                for m in a.ac.find_overlapping_iter(text) {
                    for &r in &a.rules[m.pattern().as_usize()] {
                        possible[r as usize] = true;
                    }
                }
            };
            match a.field {
                Some(id) => {
                    for (_, lower) in view.texts(id).iter() {
                        mark(lower);
                    }
                }
                None => {
                    for (_, lower) in view.keyword_texts() {
                        mark(lower);
                    }
                }
            }
        }
    }
}
