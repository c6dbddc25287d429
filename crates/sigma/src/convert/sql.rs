//! SQL rendering, for taskhunt's own tables on DataFusion (`taskhunt query --lang sql`).
//! Case-insensitive tests compare `lower(column)` with a lowercased literal or LIKE pattern;
//! regular expressions use `~`; tests under a negation are wrapped in `IS TRUE` so that a
//! missing field or an unreadable number does not turn `NOT` into null (which would drop the row).

use super::ir::{Bool, Leaf, Shape, Test, shape};
use super::pipeline::{Branch, Col};
use super::{Unsupported, cidr_as_patterns};
use crate::modifiers::{NumOp, RefKind};
use crate::pattern::Piece;
use std::collections::BTreeMap;

pub fn string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub fn ident(n: &str) -> String {
    format!("\"{}\"", n.replace('"', "\"\""))
}

/// A LIKE pattern with `\` as its escape character (`%`, `_` and `\` in literals escaped);
/// lowercased for `lower`. The compiled rules (`taskhunt_query::sigma`) use it too.
pub fn like(pieces: &[Piece], lower: bool) -> String {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Star => out.push('%'),
            Piece::One => out.push('_'),
            Piece::Lit(s) => {
                let s = if lower { s.to_lowercase() } else { s.clone() };
                for c in s.chars() {
                    if matches!(c, '%' | '_' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
        }
    }
    out
}

pub fn render(branches: &[Branch]) -> Result<(String, Vec<String>), Unsupported> {
    let mut lossy = Vec::new();
    let query = if branches.len() == 1 {
        let b = &branches[0];
        let cond = cidr_as_patterns(&b.cond, &mut lossy)?;
        let w = expr(&cond, &b.cols, false)?;
        if cond == Bool::Const(true) {
            format!("SELECT * FROM {}", ident(&b.table))
        } else {
            format!("SELECT * FROM {}\nWHERE {w}", ident(&b.table))
        }
    } else {
        // Branches of several raw tables: `main` holds every event under the union of columns.
        let mut parts = Vec::new();
        for b in branches {
            let cond = cidr_as_patterns(&b.cond, &mut lossy)?;
            let scope = Bool::leaf(Some("Channel"), Test::Str { pieces: vec![Piece::Lit(b.channel.to_string())], fold: false });
            let mut cols = b.cols.clone();
            cols.insert("Channel".into(), Col { expr: None, numeric: false, optional: false });
            parts.push(format!("({})", expr(&Bool::And(vec![scope, cond]).simplify(), &cols, false)?));
        }
        format!("SELECT * FROM main\nWHERE {}", parts.join("\n   OR "))
    };
    Ok((query, lossy))
}

fn expr(b: &Bool, cols: &BTreeMap<String, Col>, negated: bool) -> Result<String, Unsupported> {
    let paren = |x: &Bool, s: String| if matches!(x, Bool::And(_) | Bool::Or(_)) { format!("({s})") } else { s };
    Ok(match b {
        Bool::Const(c) => c.to_string().to_uppercase(),
        Bool::Leaf(l) => leaf(l, cols, negated)?,
        Bool::Not(x) => format!("NOT ({})", expr(x, cols, !negated)?),
        Bool::And(xs) => xs.iter().map(|x| expr(x, cols, negated).map(|s| paren(x, s))).collect::<Result<Vec<_>, _>>()?.join(" AND "),
        Bool::Or(xs) => xs.iter().map(|x| expr(x, cols, negated).map(|s| paren(x, s))).collect::<Result<Vec<_>, _>>()?.join(" OR "),
    })
}

fn op(o: NumOp) -> &'static str {
    match o {
        NumOp::Gt => ">",
        NumOp::Gte => ">=",
        NumOp::Lt => "<",
        NumOp::Lte => "<=",
    }
}

fn leaf(l: &Leaf, cols: &BTreeMap<String, Col>, negated: bool) -> Result<String, Unsupported> {
    let Some(f) = &l.field else { return Err(Unsupported::new("keywords need full-text search, which SQL does not have")) };
    let c = ident(f);
    let numeric = cols.get(f).is_some_and(|c| c.numeric);
    // Under a negation a test must be false, not null, where it does not hold: a missing field,
    // or a present value TRY_CAST cannot read, would otherwise make the NOT null and drop the row.
    let guard = |s: String| if negated { format!("({s}) IS TRUE") } else { s };
    Ok(match &l.test {
        Test::Str { pieces, fold } => {
            if numeric
                && let Shape::Exact(s) = shape(pieces)
                && s.parse::<i64>().is_ok_and(|i| i.to_string() == s)
            {
                return Ok(guard(format!("{c} = {s}")));
            }
            let text = if numeric { format!("CAST({c} AS VARCHAR)") } else { c.clone() };
            let text = if *fold { format!("lower({text})") } else { text };
            match shape(pieces) {
                Shape::Exact(s) => guard(format!("{text} = {}", string(&if *fold { s.to_lowercase() } else { s.to_string() }))),
                Shape::Any => format!("{c} IS NOT NULL"),
                _ => guard(format!("{text} LIKE {} ESCAPE '\\'", string(&like(pieces, *fold)))),
            }
        }
        Test::Regex { pattern, backtracking } => {
            if *backtracking {
                return Err(Unsupported::new(format!("regex {pattern:?} needs look-around or back-references")));
            }
            guard(format!("{c} ~ {}", string(pattern)))
        }
        Test::Num { op: o, value } => {
            let v = if numeric { c.clone() } else { format!("TRY_CAST({c} AS DOUBLE)") };
            guard(format!("{v} {} {value}", op(*o)))
        }
        Test::IntIn(ids) => guard(format!("{c} IN ({})", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", "))),
        Test::Null | Test::Exists(false) => format!("{c} IS NULL"),
        Test::Exists(true) => format!("{c} IS NOT NULL"),
        Test::Cidr(_) => return Err(Unsupported::new("internal: cidr reached SQL")),
        Test::FieldRef { other, kind, fold } => {
            let o = ident(other);
            let (a, b) = if *fold { (format!("lower({c})"), format!("lower({o})")) } else { (c.clone(), o.clone()) };
            let cmp = match kind {
                RefKind::Exact => format!("{a} = {b}"),
                RefKind::Contains => format!("strpos({a}, {b}) > 0"),
                RefKind::Prefix => format!("starts_with({a}, {b})"),
                RefKind::Suffix => format!("ends_with({a}, {b})"),
            };
            format!("({c} IS NOT NULL AND {o} IS NOT NULL AND {cmp})")
        }
        Test::Neq(inner) => {
            let positive = leaf(&Leaf { field: Some(f.clone()), test: (**inner).clone() }, cols, true)?;
            format!("({c} IS NOT NULL AND NOT {positive})")
        }
    })
}
