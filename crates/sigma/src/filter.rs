//! Filter documents (`filter:`): tuning applied to the rules they name, as pySigma applies
//! them: the rule's condition becomes `(original) and (filter condition)`.

use crate::condition::{self, Cond};
use crate::detection::compile_selection;
use crate::logsource::LogSource;
use crate::modifiers::Placeholders;
use crate::rule::{Locator, Meta, Rule, RuleError, meta_of, scalar_text};
use serde_json::Value as Json;

#[derive(Debug)]
pub struct Filter {
    pub meta: Meta,
    pub logsource: LogSource,
    /// Rule ids or names the filter applies to.
    pub rules: Vec<String>,
    /// The filter's search identifiers as written, compiled into each rule it applies to.
    pub sources: Vec<(String, Json)>,
    pub condition_text: String,
}

pub(crate) fn parse(map: &serde_json::Map<String, Json>, loc: &Locator, placeholders: Option<&Placeholders>) -> Result<Filter, RuleError> {
    let meta = meta_of(map, loc);
    let Some(Json::Object(f)) = map.get("filter") else {
        return Err(loc.error(Some("filter:"), "`filter` must be a map"));
    };
    let logsource = match map.get("logsource") {
        Some(Json::Object(ls)) => LogSource {
            product: ls.get("product").and_then(scalar_text),
            category: ls.get("category").and_then(scalar_text),
            service: ls.get("service").and_then(scalar_text),
        },
        _ => LogSource::default(),
    };
    let rules: Vec<String> = match f.get("rules") {
        Some(Json::Array(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(v) => scalar_text(v).into_iter().collect(),
        None => return Err(loc.error(Some("filter:"), "filter has no `rules` list")),
    };
    let condition_text = f.get("condition").and_then(scalar_text).ok_or_else(|| loc.error(Some("filter:"), "filter has no `condition`"))?;
    let mut sources = Vec::new();
    let mut missing = Vec::new();
    for (name, body) in f {
        if name == "rules" || name == "condition" {
            continue;
        }
        // Compiled once here only to report errors at load time.
        compile_selection(name, body, placeholders, &mut missing).map_err(|e| loc.error(e.near.as_deref(), e.message))?;
        sources.push((name.clone(), body.clone()));
    }
    let names: Vec<String> = sources.iter().map(|(n, _)| n.clone()).collect();
    condition::parse(&condition_text, &names).map_err(|e| loc.error(Some("condition"), format!("filter condition: {e}")))?;
    Ok(Filter { meta, logsource, rules, sources, condition_text })
}

impl Filter {
    /// Whether the rule's logsource falls within the filter's.
    pub fn covers(&self, rule: &Rule) -> bool {
        let within = |f: &Option<String>, r: &Option<String>| match f {
            None => true,
            Some(f) => r.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(f)),
        };
        let named = self.rules.iter().any(|r| Some(r) == rule.meta.id.as_ref() || Some(r) == rule.meta.name.as_ref());
        named
            && within(&self.logsource.product, &rule.logsource.product)
            && within(&self.logsource.category, &rule.logsource.category)
            && within(&self.logsource.service, &rule.logsource.service)
    }

    /// Adds the filter's selections to `rule` (under prefixed names, so they cannot collide
    /// with the rule's own) and ANDs the filter's condition onto the rule's.
    pub fn apply(&self, rule: &mut Rule, placeholders: Option<&Placeholders>) -> Result<(), String> {
        let offset = rule.selections.len();
        let names: Vec<String> = self.sources.iter().map(|(n, _)| n.clone()).collect();
        let cond = shift(condition::parse(&self.condition_text, &names).map_err(|e| e.to_string())?, offset);
        // Compiled selections hold regexes and cannot be shared, so each rule compiles its own.
        for (name, body) in &self.sources {
            let mut missing = Vec::new();
            let label = format!("filter:{}:{name}", self.meta.title);
            rule.selections.push(compile_selection(&label, body, placeholders, &mut missing).map_err(|e| e.message)?);
        }
        let original = std::mem::replace(&mut rule.condition, Cond::Or(vec![]));
        rule.condition = Cond::And(vec![original, cond]);
        rule.condition_text = format!("({}) and ({})", rule.condition_text, self.condition_text);
        Ok(())
    }
}

fn shift(c: Cond, by: usize) -> Cond {
    match c {
        Cond::Sel(i) => Cond::Sel(i + by),
        Cond::Not(b) => Cond::Not(Box::new(shift(*b, by))),
        Cond::And(v) => Cond::And(v.into_iter().map(|c| shift(c, by)).collect()),
        Cond::Or(v) => Cond::Or(v.into_iter().map(|c| shift(c, by)).collect()),
        Cond::AtLeast(n, ids) => Cond::AtLeast(n, ids.into_iter().map(|i| i + by).collect()),
    }
}
