//! Loading a rule set (files, directories, embedded packs), applying filters, resolving
//! correlations, and indexing rules by channel and event id so an event meets only the rules
//! that can apply to it.

use crate::correlation::Correlation;
use crate::filter::Filter;
use crate::logsource::{Scope, Target};
use crate::modifiers::Placeholders;
use crate::rule::{Document, Rule, RuleError, load_file};
use crate::view::{Mapping, View};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use taskhunt_events::Event;

/// All rules, correlations and problems of a load.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub correlations: Vec<Correlation>,
    pub filters: Vec<Filter>,
    /// Files or documents that could not be loaded.
    pub errors: Vec<RuleError>,
    index: Index,
    prefilter: crate::prefilter::Prefilter,
}

#[derive(Debug, Default)]
struct Index {
    by_event: HashMap<(Box<str>, u32), Vec<Candidate>>,
    by_channel: HashMap<Box<str>, Vec<Candidate>>,
    any: Vec<Candidate>,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    rule: u32,
    target: u16,
}

/// A rule that matched an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub rule: usize,
    pub mapping: Mapping,
}

/// Where rules come from: a path on disk, or text embedded in the binary.
pub enum Source<'a> {
    Path(&'a Path),
    Text { name: &'a str, text: &'a str },
}

impl RuleSet {
    /// Loads every `.yml`/`.yaml` under the sources. Bad files become errors; the rest load.
    pub fn load(sources: &[Source], placeholders: Option<&Placeholders>) -> RuleSet {
        let mut set = RuleSet::default();
        let mut texts: Vec<(PathBuf, Result<String, String>)> = Vec::new();
        for source in sources {
            match source {
                Source::Text { name, text } => texts.push((PathBuf::from(name), Ok(text.to_string()))),
                Source::Path(p) => {
                    for file in rule_files(p, &mut set.errors) {
                        let text = std::fs::read_to_string(&file).map_err(|e| e.to_string());
                        texts.push((file, text));
                    }
                }
            }
        }
        use rayon::prelude::*;
        let docs: Vec<Vec<Result<Document, RuleError>>> = texts
            .par_iter()
            .map(|(path, text)| match text {
                Ok(t) => load_file(path, t, placeholders),
                Err(e) => vec![Err(RuleError { path: path.clone(), line: None, message: format!("cannot read: {e}") })],
            })
            .collect();
        for d in docs.into_iter().flatten() {
            match d {
                Ok(Document::Rule(r)) => set.rules.push(r),
                Ok(Document::Correlation(c)) => set.correlations.push(c),
                Ok(Document::Filter(f)) => set.filters.push(f),
                Err(e) => set.errors.push(e),
            }
        }
        set.apply_filters(placeholders);
        set.resolve_correlations();
        set.build_index();
        set.prefilter = crate::prefilter::Prefilter::build(&set.rules);
        set
    }

    fn apply_filters(&mut self, placeholders: Option<&Placeholders>) {
        for f in &self.filters {
            let mut applied = 0;
            for rule in self.rules.iter_mut().filter(|r| f.covers(r)) {
                match f.apply(rule, placeholders) {
                    Ok(()) => applied += 1,
                    Err(e) => self.errors.push(RuleError {
                        path: f.meta.path.clone(),
                        line: Some(f.meta.line),
                        message: format!("filter {:?} on rule {:?}: {e}", f.meta.title, rule.meta.title),
                    }),
                }
            }
            if applied == 0 {
                self.errors.push(RuleError {
                    path: f.meta.path.clone(),
                    line: Some(f.meta.line),
                    message: format!("filter {:?} applies to no loaded rule (rules: {})", f.meta.title, f.rules.join(", ")),
                });
            }
        }
    }

    /// Checks every correlation reference and suppresses the referenced rules' own alerts
    /// unless some correlation asks to `generate` them.
    fn resolve_correlations(&mut self) {
        let mut keep = vec![false; self.correlations.len()];
        for (ci, c) in self.correlations.iter().enumerate() {
            let mut ok = true;
            for r in &c.rules {
                let known = self.rule_index(r).is_some() || self.correlation_index(r).is_some_and(|j| j != ci);
                if !known {
                    ok = false;
                    self.errors.push(RuleError {
                        path: c.meta.path.clone(),
                        line: Some(c.meta.line),
                        message: format!("correlation {:?} refers to unknown rule {r:?} (no rule has that id or name)", c.meta.title),
                    });
                }
            }
            keep[ci] = ok;
        }
        let mut k = keep.iter();
        self.correlations.retain(|_| *k.next().unwrap_or(&false));
        let mut generate: HashMap<usize, bool> = HashMap::new();
        for c in &self.correlations {
            for r in &c.rules {
                if let Some(i) = self.rule_index(r) {
                    let g = generate.entry(i).or_insert(false);
                    *g |= c.generate;
                }
            }
        }
        for (i, g) in generate {
            self.rules[i].suppressed = !g;
        }
    }

    pub fn rule_index(&self, id_or_name: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.meta.id.as_deref() == Some(id_or_name) || r.meta.name.as_deref() == Some(id_or_name))
    }

    pub fn correlation_index(&self, id_or_name: &str) -> Option<usize> {
        self.correlations.iter().position(|c| c.meta.id.as_deref() == Some(id_or_name) || c.meta.name.as_deref() == Some(id_or_name))
    }

    fn build_index(&mut self) {
        let mut index = Index::default();
        for (ri, rule) in self.rules.iter().enumerate() {
            if rule.inactive.is_some() {
                continue;
            }
            match &rule.scope {
                Scope::Unmapped(_) => {}
                Scope::AnyWindows => index.any.push(Candidate { rule: ri as u32, target: 0 }),
                Scope::Targets(targets) => {
                    for (ti, t) in targets.iter().enumerate() {
                        let c = Candidate { rule: ri as u32, target: ti as u16 };
                        match t.event_ids {
                            Some(ids) => {
                                for id in ids {
                                    index.by_event.entry((t.channel.into(), *id)).or_default().push(c);
                                }
                            }
                            None => index.by_channel.entry(t.channel.into()).or_default().push(c),
                        }
                    }
                }
            }
        }
        self.index = index;
    }

    fn target(&self, c: Candidate) -> Option<&Target> {
        match &self.rules[c.rule as usize].scope {
            Scope::Targets(t) => t.get(c.target as usize),
            _ => None,
        }
    }

    /// Rules (by index) that could apply to an event of this channel and id, with the field
    /// mapping each would see it through.
    fn candidates(&self, event: &Event) -> Vec<(usize, Mapping)> {
        let mut out = Vec::new();
        let mut push = |cands: &[Candidate]| {
            for &c in cands {
                let (mapping, extra_ok) = match self.target(c) {
                    Some(t) => (
                        t.mapping,
                        t.extra.is_none_or(|(field, values)| {
                            event.text(field).is_some_and(|v| values.iter().any(|x| v.eq_ignore_ascii_case(x)))
                        }),
                    ),
                    None => (Mapping::Direct, true),
                };
                if extra_ok {
                    out.push((c.rule as usize, mapping));
                }
            }
        };
        if let Some(c) = self.index.by_event.get(&(event.channel.as_ref().into(), event.event_id)) {
            push(c);
        }
        if let Some(c) = self.index.by_channel.get(event.channel.as_ref()) {
            push(c);
        }
        push(&self.index.any);
        out
    }

    /// Every rule that matches `event`, in rule order.
    pub fn matches(&self, event: &Event) -> Vec<Hit> {
        let candidates = self.candidates(event);
        if candidates.is_empty() {
            return vec![];
        }
        let direct = View::new(event, Mapping::Direct);
        let mut mapped: Option<View> = None;
        // Which rules' necessary literals occur, per view (computed on first need).
        let mut possible_direct: Option<Vec<bool>> = None;
        let mut possible_mapped: Option<Vec<bool>> = None;
        let mut hits = Vec::new();
        for (ri, mapping) in candidates {
            let (view, possible) = match mapping {
                Mapping::Direct => (&direct, &mut possible_direct),
                m => (&*mapped.get_or_insert_with(|| View::new(event, m)), &mut possible_mapped),
            };
            if !self.prefilter.always[ri] {
                let possible = possible.get_or_insert_with(|| {
                    let mut p = vec![false; self.rules.len()];
                    self.prefilter.scan(view, &mut p);
                    p
                });
                if !possible[ri] {
                    continue;
                }
            }
            let rule = &self.rules[ri];
            if rule.condition.eval(&mut |s| rule.selections[s].eval(view)) {
                hits.push(Hit { rule: ri, mapping });
            }
        }
        hits.sort_by_key(|h| h.rule);
        hits.dedup_by_key(|h| h.rule);
        hits
    }

    /// Whether rule `ri` matches `event` (through the index, so logsource applies).
    pub fn rule_matches(&self, ri: usize, event: &Event) -> Option<Mapping> {
        let rule = &self.rules[ri];
        self.candidates(event).into_iter().filter(|(r, _)| *r == ri).find_map(|(_, m)| {
            let view = View::new(event, m);
            rule.condition.eval(&mut |s| rule.selections[s].eval(&view)).then_some(m)
        })
    }

    /// Rules that load and can run.
    pub fn active_rules(&self) -> usize {
        self.rules.iter().filter(|r| r.inactive.is_none()).count()
    }
}

/// Rule files under `path`: the file itself, or every `.yml`/`.yaml` below a directory, sorted.
fn rule_files(path: &Path, errors: &mut Vec<RuleError>) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    if !path.exists() {
        errors.push(RuleError { path: path.to_path_buf(), line: None, message: "no such file or directory".into() });
        return vec![];
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    files
}
