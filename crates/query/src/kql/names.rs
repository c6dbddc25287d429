//! Column names KQL gives results it was not told to name: `count_`, `dcount_DeviceName`,
//! `Timestamp` for `bin(Timestamp, 1h)`, `AdditionalFields_TaskName` for a dynamic member,
//! `Column1` otherwise; and the numbered renames that keep names unique (`DeviceName1`).

use super::ast::{Expr, ExprKind};
use super::plan::Planner;
use std::collections::HashSet;

/// Functions whose result takes the name of their first argument.
const FIRST_ARGUMENT: &[&str] = &[
    "tostring",
    "toint",
    "tolong",
    "toreal",
    "todouble",
    "todynamic",
    "toobject",
    "parse_json",
    "parsejson",
    "todatetime",
    "totimespan",
    "tobool",
    "toboolean",
    "bin",
    "floor",
    "startofday",
    "split",
];

/// Aggregations named `prefix_` + their first argument's name.
pub fn aggregate_prefix(name: &str) -> Option<&'static str> {
    Some(match name {
        "count" => "count",
        "countif" => "countif",
        "dcount" => "dcount",
        "dcountif" => "dcountif",
        "count_distinct" => "count_distinct",
        "sum" => "sum",
        "sumif" => "sumif",
        "avg" => "avg",
        "avgif" => "avgif",
        "min" => "min",
        "minif" => "minif",
        "max" => "max",
        "maxif" => "maxif",
        "make_set" | "make_set_if" => "set",
        "make_list" | "make_list_if" => "list",
        _ => return None,
    })
}

pub fn result_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(n) => Some(n.clone()),
        ExprKind::Member(base, field) => Some(match result_name(base) {
            Some(left) if !left.trim().is_empty() => format!("{left}_{field}"),
            _ => field.clone(),
        }),
        ExprKind::Index(base, idx) => {
            let right = match &idx.kind {
                ExprKind::Str(s) => s.clone(),
                ExprKind::Long(v) => v.to_string(),
                _ => return None,
            };
            Some(match result_name(base) {
                Some(left) if !left.trim().is_empty() => format!("{left}_{right}"),
                _ => right,
            })
        }
        ExprKind::Call { name, args } => {
            if FIRST_ARGUMENT.contains(&name.as_str()) {
                return args.first().and_then(result_name);
            }
            let prefix = aggregate_prefix(name)?;
            let arg = args.first().and_then(result_name).unwrap_or_default();
            Some(format!("{prefix}_{arg}"))
        }
        _ => None,
    }
}

impl Planner<'_> {
    pub fn result_name(&self, e: &Expr) -> Option<String> {
        result_name(e)
    }
}

/// `name` if free, else `base` (or `name`) followed by the first free number from 1.
pub fn unique(taken: &HashSet<String>, name: &str, base: Option<&str>) -> String {
    if !taken.contains(name) {
        return name.to_string();
    }
    let base = base.unwrap_or(name);
    (1..).map(|i| format!("{base}{i}")).find(|n| !taken.contains(n)).unwrap_or_else(|| name.to_string())
}

/// `*` matches any run of characters; everything else literally.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_unique_names() {
        assert!(wildcard_match("Initiating*", "InitiatingProcessId"));
        assert!(wildcard_match("*Id", "InitiatingProcessId"));
        assert!(wildcard_match("Device*Events", "DeviceProcessEvents"));
        assert!(!wildcard_match("Device*Events", "DeviceEvent"));
        assert!(!wildcard_match("a*a", "a"));
        let taken: HashSet<String> = ["x".to_string(), "x1".to_string(), "Column1".to_string()].into();
        assert_eq!(unique(&taken, "x", None), "x2");
        assert_eq!(unique(&taken, "Column1", Some("Column")), "Column2");
        assert_eq!(unique(&taken, "y", None), "y");
    }
}
