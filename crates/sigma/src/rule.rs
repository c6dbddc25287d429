//! Sigma documents → rules: detection rules, correlation rules and filters, with every problem
//! reported as a [`RuleError`] naming file and line.

use crate::condition::{self, Cond};
use crate::correlation::{self, Correlation};
use crate::detection::{Selection, compile_selection};
use crate::filter::{self, Filter};
use crate::logsource::{LogSource, Scope, scope};
use crate::modifiers::Placeholders;
use serde::Serialize;
use serde_json::Value as Json;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem with a rule file, located as precisely as the YAML allows.
#[derive(Debug, Clone, Serialize)]
pub struct RuleError {
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.path.display(), l, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// Metadata every kind of Sigma document shares.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Meta {
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: String,
    pub status: Option<String>,
    pub level: Option<Level>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub falsepositives: Vec<String>,
    pub path: PathBuf,
    pub line: usize,
}

/// A detection rule, compiled.
#[derive(Debug)]
pub struct Rule {
    pub meta: Meta,
    pub logsource: LogSource,
    pub scope: Scope,
    pub selections: Vec<Selection>,
    pub condition: Cond,
    pub condition_text: String,
    /// Why the rule cannot run (missing placeholder values); it still loads and is listed.
    pub inactive: Option<String>,
    /// Deviations from the specification the loader tolerated (see `rules lint`).
    pub warnings: Vec<RuleError>,
    /// Set when a correlation that does not `generate` uses this rule.
    pub suppressed: bool,
}

/// What one YAML document turned out to be.
#[derive(Debug)]
pub enum Document {
    Rule(Rule),
    Correlation(Correlation),
    Filter(Filter),
}

/// Reads one file: every document in it, each to a rule or an error.
pub fn load_file(path: &Path, text: &str, placeholders: Option<&Placeholders>) -> Vec<Result<Document, RuleError>> {
    let options = serde_saphyr::options! {
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        strict_booleans: true,
    };
    let docs: Vec<Json> = match serde_saphyr::from_multiple_with_options(text, options) {
        Ok(d) => d,
        Err(e) => {
            let line = e.location().map(|l| l.line() as usize);
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid YAML").to_string();
            return vec![Err(RuleError { path: path.to_path_buf(), line, message: format!("invalid YAML: {first}") })];
        }
    };
    let starts = document_starts(text);
    docs.into_iter()
        .enumerate()
        .filter(|(_, d)| !d.is_null())
        .map(|(i, doc)| {
            let line = starts.get(i).copied().unwrap_or(1);
            let loc = Locator { path, text, from_line: line };
            load_document(&doc, &loc, placeholders)
        })
        .collect()
}

/// 1-based first line of each YAML document in `text`.
fn document_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![1];
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() == "---" && i > 0 {
            starts.push(i + 2);
        }
    }
    // A leading `---` does not open a second document.
    if text.lines().next().is_some_and(|l| l.trim_end() == "---") {
        starts[0] = 2;
    }
    starts
}

/// Finds lines of a document by the text they contain.
pub(crate) struct Locator<'a> {
    pub path: &'a Path,
    pub text: &'a str,
    pub from_line: usize,
}

impl Locator<'_> {
    pub(crate) fn line_of(&self, needle: &str) -> Option<usize> {
        self.text.lines().enumerate().skip(self.from_line.saturating_sub(1)).find(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1)
    }

    pub(crate) fn error(&self, near: Option<&str>, message: impl Into<String>) -> RuleError {
        RuleError {
            path: self.path.to_path_buf(),
            line: near.and_then(|n| self.line_of(n)).or(Some(self.from_line)),
            message: message.into(),
        }
    }
}

fn string_list(v: Option<&Json>) -> Vec<String> {
    match v {
        Some(Json::Array(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(other) => scalar_text(other).into_iter().collect(),
        None => vec![],
    }
}

pub(crate) fn scalar_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn meta_of(doc: &serde_json::Map<String, Json>, loc: &Locator) -> Meta {
    let s = |k: &str| doc.get(k).and_then(scalar_text);
    Meta {
        id: s("id"),
        name: s("name"),
        title: s("title").unwrap_or_default(),
        status: s("status"),
        level: s("level").and_then(|l| Level::parse(&l)),
        description: s("description"),
        author: s("author"),
        date: s("date"),
        tags: string_list(doc.get("tags")),
        references: string_list(doc.get("references")),
        falsepositives: string_list(doc.get("falsepositives")),
        path: loc.path.to_path_buf(),
        line: loc.from_line,
    }
}

fn load_document(doc: &Json, loc: &Locator, placeholders: Option<&Placeholders>) -> Result<Document, RuleError> {
    let Some(map) = doc.as_object() else {
        return Err(loc.error(None, "a Sigma document must be a YAML map"));
    };
    if map.contains_key("correlation") {
        return correlation::parse(map, loc).map(Document::Correlation);
    }
    if map.contains_key("filter") {
        return filter::parse(map, loc, placeholders).map(Document::Filter);
    }
    if map.get("action").and_then(Json::as_str).is_some() {
        return Err(loc.error(Some("action:"), "`action:` multi-document rules are Sigma 1 syntax; write each rule as one document"));
    }
    let meta = meta_of(map, loc);
    let mut warnings = Vec::new();
    if meta.title.is_empty() {
        return Err(loc.error(None, "rule has no `title`"));
    }
    let logsource = match map.get("logsource") {
        Some(Json::Object(ls)) => LogSource {
            product: ls.get("product").and_then(scalar_text),
            category: ls.get("category").and_then(scalar_text),
            service: ls.get("service").and_then(scalar_text),
        },
        _ => return Err(loc.error(Some("title:"), "rule has no `logsource` map")),
    };
    let Some(Json::Object(detection)) = map.get("detection") else {
        return Err(loc.error(Some("detection"), "rule has no `detection` map"));
    };
    if let Some(l) = map.get("level").and_then(scalar_text)
        && Level::parse(&l).is_none()
    {
        warnings.push(loc.error(Some("level:"), format!("unknown level {l:?}: use informational, low, medium, high or critical")));
    }

    // The condition belongs inside `detection:`; a rule that has it at the top level (as in the
    // write-up) is loaded with a warning rather than dropped.
    let condition_json = match (detection.get("condition"), map.get("condition")) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => {
            warnings.push(
                loc.error(Some("condition:"), "`condition:` is at the top level of the rule; it must be indented inside `detection:`"),
            );
            c.clone()
        }
        (None, None) => return Err(loc.error(Some("detection:"), "`detection` has no `condition`")),
    };
    let conditions: Vec<String> = match &condition_json {
        Json::String(s) => vec![s.clone()],
        Json::Array(items) => items.iter().filter_map(scalar_text).collect(),
        _ => return Err(loc.error(Some("condition:"), "`condition` must be a string")),
    };
    if conditions.is_empty() {
        return Err(loc.error(Some("condition:"), "`condition` is empty"));
    }

    let mut selections = Vec::new();
    let mut names = Vec::new();
    let mut missing = Vec::new();
    for (name, body) in detection {
        if name == "condition" || name == "timeframe" {
            continue;
        }
        let sel = compile_selection(name, body, placeholders, &mut missing).map_err(|e| loc.error(e.near.as_deref(), e.message))?;
        names.push(name.clone());
        selections.push(sel);
    }
    if detection.contains_key("timeframe") {
        warnings.push(loc.error(Some("timeframe:"), "`timeframe` in a detection rule is Sigma 1 syntax and is ignored"));
    }
    let mut conds = Vec::new();
    for text in &conditions {
        let c = condition::parse(text, &names).map_err(|e| loc.error(Some("condition"), format!("condition {text:?}: {e}")))?;
        conds.push(c);
    }
    let condition = if conds.len() == 1 { conds.pop().unwrap_or(Cond::Or(vec![])) } else { Cond::Or(conds) };
    let inactive = (!missing.is_empty())
        .then(|| format!("needs placeholder values for {}", missing.iter().map(|m| format!("%{m}%")).collect::<Vec<_>>().join(", ")));
    Ok(Document::Rule(Rule {
        scope: scope(&logsource),
        meta,
        logsource,
        selections,
        condition,
        condition_text: conditions.join(" | "),
        inactive,
        warnings,
        suppressed: false,
    }))
}
