//! KQL rendering. `=~`, `contains`, `startswith`, `endswith`, `in~` are case-insensitive in
//! Kusto, their `_cs` forms and `==` are not; other wildcard patterns become an anchored
//! `matches regex`. Kusto strings are never null: a missing field reads as empty, so tests that
//! tell the two apart in Sigma are lossy here.

use super::ir::{Bool, Leaf, Shape, Test, pattern_regex, shape};
use super::pipeline::{Branch, Col, Pipeline};
use super::{EMPTY_IS_MISSING, Unsupported, cidr_as_patterns};
use crate::modifiers::{NumOp, RefKind};
use std::collections::BTreeMap;

const KEYWORDS: &str = "keywords are searched in every column (`* contains`), not only the event's data fields";

/// A quoted KQL string: verbatim (`@"..."`) when that reads better (backslashes, no quotes or
/// control characters), escaped otherwise.
pub fn string(s: &str) -> String {
    if s.contains('\\') && !s.contains('"') && !s.chars().any(char::is_control) {
        return format!("@\"{s}\"");
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A column name, bracketed when it is not a plain identifier.
pub fn name(n: &str) -> String {
    let plain =
        n.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain { n.to_string() } else { format!("[{}]", string_plain(n)) }
}

/// A member access on a dynamic value (`.Name` or `["odd name"]`).
pub fn member(n: &str) -> String {
    let plain =
        n.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain { format!(".{n}") } else { format!("[{}]", string_plain(n)) }
}

fn string_plain(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

struct Ctx<'a> {
    cols: &'a BTreeMap<String, Col>,
    real_kusto: bool,
    lossy: Vec<String>,
}

impl Ctx<'_> {
    fn note(&mut self, why: &str) {
        if !self.lossy.iter().any(|l| l == why) {
            self.lossy.push(why.to_string());
        }
    }

    fn col(&self, f: &str) -> (String, bool) {
        match self.cols.get(f) {
            Some(Col { expr: Some(e), numeric, .. }) => (e.clone(), *numeric),
            Some(c) => (name(f), c.numeric),
            None => (name(f), false),
        }
    }
}

pub fn render(branches: &[Branch], pipeline: Pipeline) -> Result<(String, Vec<String>), Unsupported> {
    let mut lossy = Vec::new();
    let mut parts = Vec::new();
    for b in branches {
        let real_kusto = pipeline != Pipeline::Taskhunt;
        // taskhunt's KQL has no CIDR function; Kusto has ipv4/ipv6_is_in_range.
        let cond = if real_kusto { b.cond.clone() } else { cidr_as_patterns(&b.cond, &mut lossy)? };
        let mut cx = Ctx { cols: &b.cols, real_kusto, lossy: Vec::new() };
        let text = expr(&cond, &mut cx, true)?;
        lossy.extend(cx.lossy.into_iter().filter(|l| !lossy.contains(l)).collect::<Vec<_>>());
        let mut q = b.table.clone();
        let optional: Vec<&String> = b.cols.iter().filter(|(_, c)| c.optional).map(|(n, _)| n).collect();
        if !optional.is_empty() {
            // taskhunt's raw tables have a column only where some event has the field.
            let ext: Vec<String> = optional.iter().map(|n| format!("{} = column_ifexists({}, \"\")", name(n), string(n))).collect();
            q.push_str(&format!("\n| extend {}", ext.join(", ")));
        }
        if cond != Bool::Const(true) {
            q.push_str(&format!("\n| where {text}"));
        }
        parts.push(q);
    }
    let query = if parts.len() == 1 {
        parts.pop().unwrap_or_default()
    } else {
        let inner: Vec<String> = parts.iter().map(|p| format!("({})", p.replace('\n', "\n    "))).collect();
        format!("union\n    {}", inner.join(",\n    "))
    };
    Ok((query, lossy))
}

fn expr(b: &Bool, cx: &mut Ctx, top: bool) -> Result<String, Unsupported> {
    Ok(match b {
        Bool::Const(c) => c.to_string(),
        Bool::Leaf(l) => leaf(l, cx)?,
        Bool::Not(x) => format!("not({})", expr(x, cx, false)?),
        Bool::And(xs) => {
            let items = xs
                .iter()
                .map(|x| Ok(if matches!(x, Bool::Or(_)) { format!("({})", expr(x, cx, false)?) } else { expr(x, cx, false)? }))
                .collect::<Result<Vec<_>, Unsupported>>()?;
            items.join(if top { "\n    and " } else { " and " })
        }
        Bool::Or(xs) => {
            let mut items = Vec::new();
            let mut rest: Vec<&Bool> = Vec::new();
            // Case-insensitive equalities on one field read better as `in~`.
            let mut groups: BTreeMap<(String, bool), Vec<String>> = BTreeMap::new();
            for x in xs {
                match x {
                    Bool::Leaf(Leaf { field: Some(f), test: Test::Str { pieces, fold } })
                        if matches!(shape(pieces), Shape::Exact(s) if !s.is_empty()) && !cx.col(f).1 =>
                    {
                        let Shape::Exact(s) = shape(pieces) else { unreachable!() };
                        groups.entry((f.clone(), *fold)).or_default().push(string(s));
                    }
                    other => rest.push(other),
                }
            }
            for ((f, fold), values) in groups {
                let (c, _) = cx.col(&f);
                items.push(match (values.len(), fold) {
                    (1, true) => format!("{c} =~ {}", values[0]),
                    (1, false) => format!("{c} == {}", values[0]),
                    (_, true) => format!("{c} in~ ({})", values.join(", ")),
                    (_, false) => format!("{c} in ({})", values.join(", ")),
                });
            }
            for x in rest {
                items.push(if matches!(x, Bool::And(_)) { format!("({})", expr(x, cx, false)?) } else { expr(x, cx, false)? });
            }
            items.join(if top { "\n    or " } else { " or " })
        }
    })
}

fn num(v: f64) -> String {
    format!("{v}")
}

fn op(o: NumOp) -> &'static str {
    match o {
        NumOp::Gt => ">",
        NumOp::Gte => ">=",
        NumOp::Lt => "<",
        NumOp::Lte => "<=",
    }
}

fn leaf(l: &Leaf, cx: &mut Ctx) -> Result<String, Unsupported> {
    let Some(f) = &l.field else { return keyword(&l.test, cx) };
    let (c, numeric) = cx.col(f);
    test(&c, numeric, &l.test, cx)
}

fn test(c: &str, numeric: bool, t: &Test, cx: &mut Ctx) -> Result<String, Unsupported> {
    Ok(match t {
        Test::Str { pieces, fold } => {
            let sh = shape(pieces);
            if numeric {
                if let Shape::Exact(s) = sh
                    && let Ok(n) = s.parse::<i64>()
                    && n.to_string() == s
                {
                    return Ok(format!("{c} == {n}"));
                }
                return test(&format!("tostring({c})"), false, t, cx);
            }
            let cs = if *fold { "" } else { "_cs" };
            match sh {
                Shape::Exact("") | Shape::Any => {
                    cx.note(EMPTY_IS_MISSING);
                    if sh == Shape::Any { format!("isnotempty({c})") } else { format!("isempty({c})") }
                }
                Shape::Exact(s) => format!("{c} {} {}", if *fold { "=~" } else { "==" }, string(s)),
                Shape::Prefix(s) => format!("{c} startswith{cs} {}", string(s)),
                Shape::Suffix(s) => format!("{c} endswith{cs} {}", string(s)),
                Shape::Contains(s) => format!("{c} contains{cs} {}", string(s)),
                Shape::Glob => format!("{c} matches regex {}", string(&pattern_regex(pieces, *fold))),
            }
        }
        Test::Regex { pattern, backtracking } => {
            if *backtracking {
                return Err(Unsupported::new(format!("regex {pattern:?} needs look-around or back-references, which KQL's RE2 lacks")));
            }
            format!("{c} matches regex {}", string(pattern))
        }
        Test::Cidr(net) => {
            let f = if net.addr().is_ipv4() { "ipv4_is_in_range" } else { "ipv6_is_in_range" };
            format!("{f}({c}, {})", string(&net.to_string()))
        }
        Test::Num { op: o, value } => {
            if numeric {
                format!("{c} {} {}", op(*o), num(*value))
            } else {
                format!("toreal({c}) {} {}", op(*o), num(*value))
            }
        }
        Test::IntIn(ids) => match ids.as_slice() {
            [one] => format!("{c} == {one}"),
            many => format!("{c} in ({})", many.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
        },
        Test::Null | Test::Exists(false) if numeric => format!("isnull({c})"),
        Test::Exists(true) if numeric => format!("isnotnull({c})"),
        Test::Null | Test::Exists(false) => {
            cx.note(EMPTY_IS_MISSING);
            format!("isempty({c})")
        }
        Test::Exists(true) => {
            cx.note(EMPTY_IS_MISSING);
            format!("isnotempty({c})")
        }
        Test::FieldRef { other, kind, fold } => {
            cx.note(EMPTY_IS_MISSING);
            let (o, _) = cx.col(other);
            let cs = if *fold { "" } else { "_cs" };
            let cmp = match kind {
                RefKind::Exact => format!("{c} {} {o}", if *fold { "=~" } else { "==" }),
                RefKind::Contains => format!("{c} contains{cs} {o}"),
                RefKind::Prefix => format!("{c} startswith{cs} {o}"),
                RefKind::Suffix => format!("{c} endswith{cs} {o}"),
            };
            format!("(isnotempty({c}) and isnotempty({o}) and {cmp})")
        }
        Test::Neq(inner) => {
            let present = if numeric {
                format!("isnotnull({c})")
            } else {
                cx.note(EMPTY_IS_MISSING);
                format!("isnotempty({c})")
            };
            format!("({present} and not({}))", test(c, numeric, inner, cx)?)
        }
    })
}

fn keyword(t: &Test, cx: &mut Ctx) -> Result<String, Unsupported> {
    if !cx.real_kusto {
        return Err(Unsupported::new("keywords need full-text search (`* contains`), which taskhunt's KQL does not have; use --to spl"));
    }
    let Test::Str { pieces, fold } = t else { return Err(Unsupported::new("keywords take plain values only")) };
    cx.note(KEYWORDS);
    let cs = if *fold { "" } else { "_cs" };
    match shape(pieces) {
        Shape::Contains(s) => Ok(format!("* contains{cs} {}", string(s))),
        _ => Err(Unsupported::new("a keyword with inner wildcards has no `* contains` form")),
    }
}
