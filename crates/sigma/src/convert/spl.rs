//! SPL rendering. A rule whose every test is a search term (`field="value"` with `*`, which
//! Splunk compares case-insensitively; `field!=value`; `NOT field=*` for null; numeric
//! comparisons) becomes a plain search. Tests search terms cannot express — `?`, a literal `*`,
//! `cased`, base64 (case-sensitive), regular expressions, field references — move the whole
//! condition into `| where`, where `match()` runs a regular expression per test and `isnull()`
//! guards keep missing fields from turning a negation into null.

use super::ir::{Bool, Leaf, Shape, Test, pattern_regex, shape};
use super::pipeline::{Branch, Col, Pipeline};
use super::{Unsupported, cidr_as_patterns};
use crate::modifiers::{NumOp, RefKind};
use crate::pattern::Piece;
use std::collections::BTreeMap;

const KEYWORDS: &str = "keywords are bare search terms, which Splunk also finds in the header fields (host, source, EventCode ...)";
const FIELDREF_LIKE: &str =
    "a field reference with contains/startswith/endswith uses like(), where % and _ in the other field's value act as wildcards";

/// A double-quoted SPL string (search and eval agree: `\\` and `\"` are the escapes).
pub fn string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A field name: bare when Splunk reads it as one word, single-quoted otherwise (eval syntax).
fn name(n: &str) -> String {
    if n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.')) {
        n.to_string()
    } else {
        format!("'{}'", n.replace('\'', ""))
    }
}

struct Ctx<'a> {
    cols: &'a BTreeMap<String, Col>,
    lossy: Vec<String>,
}

impl Ctx<'_> {
    fn numeric(&self, f: &str) -> bool {
        self.cols.get(f).is_some_and(|c| c.numeric)
    }

    fn note(&mut self, why: &str) {
        if !self.lossy.iter().any(|l| l == why) {
            self.lossy.push(why.to_string());
        }
    }
}

/// A branch's condition (scope included) and its columns.
type BranchCond = (Bool, BTreeMap<String, Col>);

pub fn render(branches: &[Branch], pipeline: Pipeline) -> Result<(String, Vec<String>), Unsupported> {
    let mut lossy = Vec::new();
    // Several branches query every event at once; each names its own events.
    let (prefix, conds): (String, Vec<BranchCond>) = if branches.len() == 1 {
        (branches[0].spl_source.clone(), vec![(cidr_as_patterns(&branches[0].cond, &mut lossy)?, branches[0].cols.clone())])
    } else {
        let (prefix, scope_field) = match pipeline {
            Pipeline::Taskhunt => ("index=main".to_string(), "Channel"),
            _ => (String::new(), "source"),
        };
        let mut conds = Vec::new();
        for b in branches {
            let value = if scope_field == "source" { format!("XmlWinEventLog:{}", b.channel) } else { b.channel.to_string() };
            let scope = Bool::leaf(Some(scope_field), Test::Str { pieces: vec![Piece::Lit(value)], fold: true });
            conds.push((Bool::And(vec![scope, cidr_as_patterns(&b.cond, &mut lossy)?]).simplify(), b.cols.clone()));
        }
        (prefix, conds)
    };
    let searchable = conds.iter().all(|(c, cols)| search(c, &mut Ctx { cols, lossy: vec![] }, false).is_some());
    let cim = branches[0].table.starts_with("datamodel=");
    let mut query;
    if searchable {
        let mut parts = Vec::new();
        for (c, cols) in &conds {
            let mut cx = Ctx { cols, lossy: vec![] };
            let text = search(c, &mut cx, false).unwrap_or_default();
            lossy.extend(cx.lossy);
            parts.push(text);
        }
        let body = if parts.len() == 1 {
            parts.pop().unwrap_or_default()
        } else {
            parts.iter().map(|p| format!("({p})")).collect::<Vec<_>>().join(" OR ")
        };
        if cim {
            query = format!(
                "| tstats summariesonly=false count min(_time) as firstTime max(_time) as lastTime from {} where {body} by Processes.dest Processes.user Processes.parent_process Processes.process_name Processes.process",
                branches[0].table
            );
        } else {
            query = [prefix.as_str(), body.as_str()].iter().filter(|s| !s.is_empty() && **s != "*").copied().collect::<Vec<_>>().join(" ");
        }
    } else {
        if cim {
            return Err(Unsupported::new("tstats takes search terms only, and this rule needs eval (regex, cased, ? or field references)"));
        }
        // Top-level conjuncts that are search terms stay in the search (they select the events
        // cheaply); the rest goes to `where`.
        let mut searches = vec![prefix.clone()];
        let mut wheres = Vec::new();
        for (c, cols) in &conds {
            let mut cx = Ctx { cols, lossy: vec![] };
            let items = match (c, conds.len()) {
                (Bool::And(xs), 1) => xs.clone(),
                (x, _) => vec![x.clone()],
            };
            let mut branch_where = Vec::new();
            for x in &items {
                let mut tmp = Ctx { cols, lossy: vec![] };
                match (conds.len(), search(x, &mut tmp, false)) {
                    (1, Some(s)) => {
                        searches.push(s);
                        cx.lossy.extend(tmp.lossy);
                    }
                    _ => branch_where.push(eval(x, &mut cx, false)?),
                }
            }
            lossy.extend(cx.lossy);
            wheres.push(branch_where.join(" AND "));
        }
        let search_part = searches.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
        let where_part = if wheres.len() == 1 {
            wheres.pop().unwrap_or_default()
        } else {
            wheres.iter().map(|w| format!("({w})")).collect::<Vec<_>>().join(" OR ")
        };
        let search_part = if search_part.is_empty() && pipeline == Pipeline::SplunkWindows {
            branches.iter().map(|b| format!("source={}", string(&format!("XmlWinEventLog:{}", b.channel)))).collect::<Vec<_>>().join(" OR ")
        } else {
            search_part
        };
        query = format!("{search_part} | where {where_part}");
    }
    let mut seen = Vec::new();
    lossy.retain(|l| {
        let new = !seen.contains(l);
        seen.push(l.clone());
        new
    });
    if query.starts_with(' ') {
        query = query.trim_start().to_string();
    }
    Ok((query, lossy))
}

/// A search-language rendering, or `None` when some test needs eval.
fn search(b: &Bool, cx: &mut Ctx, nested: bool) -> Option<String> {
    Some(match b {
        Bool::Const(true) => "*".into(),
        // No search term is false on every event; the eval form has `false()`.
        Bool::Const(false) => return None,
        Bool::Leaf(l) => search_leaf(l, cx)?,
        // `NOT NOT f=*` reads better as `f=*`.
        Bool::Not(x) if matches!(&**x, Bool::Leaf(Leaf { field: Some(_), test: Test::Null | Test::Exists(false) })) => {
            let Bool::Leaf(Leaf { field: Some(f), .. }) = &**x else { return None };
            format!("{}=*", name(f))
        }
        Bool::Not(x) => format!("NOT {}", search(x, cx, true)?),
        Bool::And(xs) => {
            let items = xs.iter().map(|x| search(x, cx, true)).collect::<Option<Vec<_>>>()?;
            let s = items.join(" ");
            if nested { format!("({s})") } else { s }
        }
        Bool::Or(xs) => {
            let items = xs.iter().map(|x| search(x, cx, true)).collect::<Option<Vec<_>>>()?;
            let s = items.join(" OR ");
            if nested { format!("({s})") } else { s }
        }
    })
}

/// A wildcard pattern as a search value, when search can express it (`*` only, no literal `*`).
fn search_value(pieces: &[Piece]) -> Option<String> {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Star => out.push('*'),
            Piece::One => return None,
            Piece::Lit(s) if s.contains('*') => return None,
            Piece::Lit(s) => out.push_str(s),
        }
    }
    Some(string(&out))
}

fn search_leaf(l: &Leaf, cx: &mut Ctx) -> Option<String> {
    let Some(f) = &l.field else {
        let Test::Str { pieces, fold: true } = &l.test else { return None };
        cx.note(KEYWORDS);
        return search_value(pieces);
    };
    let n = name(f);
    Some(match &l.test {
        Test::Str { pieces, fold: true } => {
            if cx.numeric(f)
                && let Shape::Exact(s) = shape(pieces)
                && s.parse::<i64>().is_ok_and(|i| i.to_string() == s)
            {
                return Some(format!("{n}={s}"));
            }
            if shape(pieces) == Shape::Any {
                return Some(format!("{n}=*"));
            }
            format!("{n}={}", search_value(pieces)?)
        }
        Test::Num { op, value } => format!("{n}{}{value}", op_text(*op)),
        Test::IntIn(ids) => match ids.as_slice() {
            [one] => format!("{n}={one}"),
            many => format!("{n} IN ({})", many.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
        },
        Test::Null | Test::Exists(false) => format!("NOT {n}=*"),
        Test::Exists(true) => format!("{n}=*"),
        Test::Neq(inner) => match &**inner {
            Test::Str { pieces, fold: true } if shape(pieces) != Shape::Any => format!("{n}!={}", search_value(pieces)?),
            other => format!("({n}=* NOT {})", search_leaf(&Leaf { field: Some(f.clone()), test: other.clone() }, cx)?),
        },
        _ => return None,
    })
}

fn op_text(o: NumOp) -> &'static str {
    match o {
        NumOp::Gt => ">",
        NumOp::Gte => ">=",
        NumOp::Lt => "<",
        NumOp::Lte => "<=",
    }
}

/// An eval rendering. `negated`: under an odd number of NOTs, where a null (missing field)
/// would make the whole condition null, so tests are guarded by `isnotnull()`.
fn eval(b: &Bool, cx: &mut Ctx, negated: bool) -> Result<String, Unsupported> {
    Ok(match b {
        Bool::Const(c) => format!("{c}()"),
        Bool::Leaf(l) => eval_leaf(l, cx, negated)?,
        Bool::Not(x) => format!("NOT ({})", eval(x, cx, !negated)?),
        Bool::And(xs) => {
            let items = xs.iter().map(|x| eval(x, cx, negated).map(|s| paren(x, s))).collect::<Result<Vec<_>, _>>()?;
            items.join(" AND ")
        }
        Bool::Or(xs) => {
            let items = xs.iter().map(|x| eval(x, cx, negated).map(|s| paren(x, s))).collect::<Result<Vec<_>, _>>()?;
            items.join(" OR ")
        }
    })
}

fn paren(b: &Bool, s: String) -> String {
    if matches!(b, Bool::And(_) | Bool::Or(_)) { format!("({s})") } else { s }
}

fn eval_leaf(l: &Leaf, cx: &mut Ctx, negated: bool) -> Result<String, Unsupported> {
    let Some(f) = &l.field else {
        return Err(Unsupported::new("keywords are search terms, and this rule needs eval for another test"));
    };
    let n = name(f);
    let guard = |s: String| if negated { format!("(isnotnull({n}) AND {s})") } else { s };
    Ok(match &l.test {
        Test::Str { pieces, fold } => {
            if cx.numeric(f)
                && let Shape::Exact(s) = shape(pieces)
                && s.parse::<i64>().is_ok_and(|i| i.to_string() == s)
            {
                return Ok(guard(format!("{n}=={s}")));
            }
            let text = if cx.numeric(f) { format!("tostring({n})") } else { n.clone() };
            guard(format!("match({text}, {})", string(&pattern_regex(pieces, *fold))))
        }
        Test::Regex { pattern, .. } => guard(format!("match({n}, {})", string(pattern))),
        Test::Num { op, value } => {
            // tonumber() is NULL for text with spaces around the number; the matcher trims.
            let v = if cx.numeric(f) { n.clone() } else { format!("tonumber(trim({n}))") };
            format!("(isnotnull({v}) AND {v}{}{value})", op_text(*op))
        }
        Test::IntIn(ids) => guard(format!("in({n}, {})", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", "))),
        Test::Null | Test::Exists(false) => format!("isnull({n})"),
        Test::Exists(true) => format!("isnotnull({n})"),
        Test::Cidr(_) => return Err(Unsupported::new("internal: cidr reached eval")),
        Test::FieldRef { other, kind, fold } => {
            let o = name(other);
            let (a, b) = if *fold { (format!("lower({n})"), format!("lower({o})")) } else { (n.clone(), o.clone()) };
            let cmp = match kind {
                RefKind::Exact => format!("{a}=={b}"),
                k => {
                    cx.note(FIELDREF_LIKE);
                    let (pre, post) = match k {
                        RefKind::Contains => ("\"%\".", ".\"%\""),
                        RefKind::Prefix => ("", ".\"%\""),
                        _ => ("\"%\".", ""),
                    };
                    format!("like({a}, {pre}{b}{post})")
                }
            };
            format!("(isnotnull({n}) AND isnotnull({o}) AND {cmp})")
        }
        Test::Neq(inner) => {
            let positive = eval_leaf(&Leaf { field: Some(f.clone()), test: (**inner).clone() }, cx, true)?;
            format!("(isnotnull({n}) AND NOT {positive})")
        }
    })
}
