//! `rules lint`: specification checks beyond what loading needs, each with file, line, what is
//! wrong and how to fix it.

use crate::rule::{Document, Level, Locator, RuleError, load_file};
use serde_json::Value as Json;
use std::path::Path;

const TOP_LEVEL_KEYS: &[&str] = &[
    "title",
    "id",
    "name",
    "related",
    "taxonomy",
    "status",
    "description",
    "license",
    "references",
    "author",
    "date",
    "modified",
    "tags",
    "logsource",
    "detection",
    "fields",
    "falsepositives",
    "level",
    "scope",
    "correlation",
    "filter",
    "generate",
    "regression_tests_path",
    "simulation",
];
const STATUSES: &[&str] = &["stable", "test", "experimental", "deprecated", "unsupported"];

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5 && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && (b[4] == b'-' || b[4] == b'/')
        && b[7] == b[4]
        && s.chars().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Problems in one rule file: load errors, loader warnings and the checks below.
pub fn lint_file(path: &Path, text: &str) -> Vec<RuleError> {
    let mut out = Vec::new();
    for doc in load_file(path, text, None) {
        match doc {
            Ok(Document::Rule(r)) => out.extend(r.warnings),
            Ok(_) => {}
            Err(e) => out.push(e),
        }
    }
    let options = serde_saphyr::options! {
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        strict_booleans: true,
    };
    let Ok(docs) = serde_saphyr::from_multiple_with_options::<Json>(text, options) else { return out };
    let mut from_line = 1;
    for doc in docs {
        let Some(map) = doc.as_object() else { continue };
        let loc = Locator { path, text, from_line };
        let title_line = loc.line_of("title:").unwrap_or(from_line);
        from_line = title_line + 1;
        let mut warn = |near: Option<&str>, msg: String| out.push(loc.error(near, msg));
        for key in map.keys() {
            if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
                warn(
                    Some(&format!("{key}:")),
                    format!("unknown top-level key `{key}`; check its spelling or move it where the specification puts it"),
                );
            }
        }
        match map.get("id").and_then(Json::as_str) {
            None => warn(Some("title:"), "no `id`; add `id:` with a random UUID (e.g. from `uuidgen`)".into()),
            Some(id) if !is_uuid(id) => warn(Some("id:"), format!("id {id:?} is not a UUID")),
            _ => {}
        }
        let is_rule = !map.contains_key("correlation") && !map.contains_key("filter");
        if is_rule {
            match map.get("status").and_then(Json::as_str) {
                None => warn(Some("title:"), "no `status`; add one of stable, test, experimental, deprecated, unsupported".into()),
                Some(s) if !STATUSES.contains(&s) => warn(Some("status:"), format!("status {s:?} is not one of {}", STATUSES.join(", "))),
                _ => {}
            }
            match map.get("level").and_then(Json::as_str) {
                None => warn(Some("title:"), "no `level`; add one of informational, low, medium, high, critical".into()),
                Some(l) if Level::parse(l).is_none() => {} // reported by the loader
                _ => {}
            }
            if map.get("description").is_none() {
                warn(Some("title:"), "no `description`; say what the rule detects and why it matters".into());
            }
        }
        for key in ["date", "modified"] {
            if let Some(d) = map.get(key).and_then(Json::as_str)
                && !is_date(d)
            {
                warn(Some(&format!("{key}:")), format!("{key} {d:?} is not YYYY-MM-DD"));
            }
        }
        if let Some(Json::Array(tags)) = map.get("tags") {
            for t in tags.iter().filter_map(Json::as_str) {
                let ok = t.contains('.') && t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
                if !ok {
                    warn(Some(t), format!("tag {t:?} is not `namespace.value` in lowercase (e.g. attack.t1053.005)"));
                }
            }
        }
        if let Some(Json::Object(det)) = map.get("detection") {
            for (name, sel) in det {
                let maps: Vec<&serde_json::Map<String, Json>> = match sel {
                    Json::Object(m) => vec![m],
                    Json::Array(items) => items.iter().filter_map(Json::as_object).collect(),
                    _ => vec![],
                };
                for m in maps {
                    for (k, v) in m {
                        let single = !matches!(v, Json::Array(a) if a.len() > 1);
                        if k.split('|').any(|p| p == "all") && single {
                            warn(Some(k), format!("`{k}` in `{name}` uses `all` with a single value; drop `|all`"));
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_condition_is_named_exactly() {
        let text = "title: Suspicious Encoded PowerShell\nlogsource:\n  category: process_creation\n\ndetection:\n  selection:\n    CommandLine|contains:\n      - '-enc'\n      - 'EncodedCommand'\n\ncondition: selection\n\nlevel: high\n";
        let problems = lint_file(Path::new("writeup.yml"), text);
        let cond = problems.iter().find(|p| p.message.contains("top level")).expect("condition problem reported");
        assert_eq!(cond.line, Some(11));
        assert!(cond.message.contains("inside `detection:`"));
        assert!(problems.iter().any(|p| p.message.contains("no `id`")));
    }
}
