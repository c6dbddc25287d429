//! Commands that choose, rename, order and cut rows and columns: table, fields, rename, sort,
//! head, tail, dedup.

use super::super::ast::{Name, SortHow, SortKey};
use super::super::lexer::Span;
use super::super::plan::{Planner, Stream, is_list, is_num, is_text, null_text};
use super::eval::Ctx;
use crate::error::QueryError;
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{Expr, ExprFunctionExt, SortExpr, lit, try_cast};

/// `^pattern$` with `*` as any run, for field-name wildcards (case-sensitive).
fn name_regex(pattern: &str) -> Option<regex::Regex> {
    let body: Vec<String> = pattern.split('*').map(regex::escape).collect();
    regex::Regex::new(&format!("^{}$", body.join("(.*)"))).ok()
}

/// The visible columns a name matches: itself, or every match of its wildcards.
fn expand(s: &Stream, n: &Name) -> Vec<String> {
    if !n.text.contains('*') {
        return vec![n.text.clone()];
    }
    let Some(re) = name_regex(&n.text) else { return vec![] };
    s.visible().into_iter().filter(|c| re.is_match(c)).collect()
}

pub fn table(p: &Planner, s: Stream, names: &[Name], span: Span) -> Result<Stream, QueryError> {
    let mut seen: Vec<String> = Vec::new();
    let mut exprs = Vec::new();
    for n in names {
        for c in expand(&s, n) {
            if seen.contains(&c) {
                continue;
            }
            // A listed field no event has is an empty column, as in Splunk's table.
            exprs.push(s.field(&c).map_or_else(null_text, |(e, _)| e).alias(&c));
            seen.push(c);
        }
    }
    p.df(span, s.project(exprs))
}

pub fn fields(p: &Planner, s: Stream, remove: bool, names: &[Name], span: Span) -> Result<Stream, QueryError> {
    let listed: Vec<String> = names.iter().flat_map(|n| expand(&s, n)).collect();
    let visible = s.visible();
    let keep: Vec<String> = if remove {
        visible.into_iter().filter(|c| !listed.contains(c)).collect()
    } else {
        // Like Splunk, `fields` keeps _time unless it is removed explicitly.
        let mut k: Vec<String> = Vec::new();
        if visible.iter().any(|c| c == "_time") && !listed.iter().any(|c| c == "_time") {
            k.push("_time".into());
        }
        for c in listed {
            if visible.contains(&c) && !k.contains(&c) {
                k.push(c);
            }
        }
        k
    };
    let exprs = keep.iter().filter_map(|c| s.column(c)).collect();
    p.df(span, s.project(exprs))
}

pub fn rename(p: &Planner, mut s: Stream, pairs: &[(Name, Name)], span: Span) -> Result<Stream, QueryError> {
    for (from, to) in pairs {
        let mut renames: Vec<(String, String)> = Vec::new();
        if from.text.contains('*') {
            let Some(re) = name_regex(&from.text) else { continue };
            for c in s.visible() {
                let Some(caps) = re.captures(&c) else { continue };
                let mut new = String::new();
                let mut parts = to.text.split('*');
                new.push_str(parts.next().unwrap_or(""));
                for (i, part) in parts.enumerate() {
                    new.push_str(caps.get(i + 1).map_or("", |m| m.as_str()));
                    new.push_str(part);
                }
                renames.push((c, new));
            }
        } else if s.field(&from.text).is_some() {
            let actual = if s.column(&from.text).is_some() { from.text.clone() } else { "Computer".to_string() };
            renames.push((actual, to.text.clone()));
        }
        if renames.is_empty() {
            continue;
        }
        let targets: Vec<&String> = renames.iter().map(|r| &r.1).collect();
        let mut exprs = Vec::new();
        for c in s.visible() {
            let Some(col) = s.column(&c) else { continue };
            match renames.iter().find(|r| r.0 == c) {
                Some((_, new)) => exprs.push(col.alias(new)),
                // A column another one is renamed onto is replaced.
                None if targets.contains(&&c) => {}
                None => exprs.push(col),
            }
        }
        s = p.df(span, s.project(exprs))?;
    }
    Ok(s)
}

/// Sort keys as (expression, ascending, nulls first). Missing fields are skipped; events
/// missing a field sort last either way.
fn sort_keys(p: &Planner, s: &Stream, keys: &[SortKey]) -> Result<Vec<(Expr, bool, bool)>, QueryError> {
    let cx = Ctx { p, s };
    let mut out = Vec::new();
    for k in keys {
        if k.field.text.contains('*') {
            return Err(p.err(k.field.span, "wildcards are not supported in sort"));
        }
        let Some((x, t)) = s.field(&k.field.text) else { continue };
        let asc = !k.descending;
        if is_list(&t) {
            return Err(p.err(k.field.span, "sorting by a multivalue field is not supported"));
        }
        match k.how {
            SortHow::Num if !is_num(&t) => out.push((cx.to_num(x, &t, k.field.span)?, asc, false)),
            SortHow::Str if !is_text(&t) => out.push((cx.to_text(x, &t, k.field.span)?, asc, false)),
            SortHow::Auto if is_text(&t) => {
                // Numbers before text, each in its own order; missing values last.
                out.push((x.clone().is_null(), true, false));
                out.push((try_cast(x.clone(), DataType::Float64), asc, !asc));
                out.push((x, asc, false));
            }
            _ => out.push((x, asc, false)),
        }
    }
    Ok(out)
}

pub fn sort(p: &Planner, s: Stream, keys: &[SortKey], limit: Option<usize>, span: Span) -> Result<Stream, QueryError> {
    let mut k = sort_keys(p, &s, keys)?;
    // Ties keep their previous order (Splunk's sort is stable).
    k.extend(s.order.iter().filter_map(|o| Some((s.column(&o.column)?, o.asc, o.nulls_first))));
    let mut s = p.df(span, s.with_order(k))?;
    if let Some(n) = limit {
        s.df = p.df(span, s.sorted().and_then(|d| d.limit(0, Some(n))))?;
    }
    Ok(s)
}

pub fn head(p: &Planner, mut s: Stream, n: usize, span: Span) -> Result<Stream, QueryError> {
    s.df = p.df(span, s.sorted().and_then(|d| d.limit(0, Some(n))))?;
    Ok(s)
}

/// The last `n` rows, last first (Splunk's tail reverses them).
pub fn tail(p: &Planner, mut s: Stream, n: usize, span: Span) -> Result<Stream, QueryError> {
    if s.order.is_empty() {
        return Err(p.err(span, "tail: these rows have no order (no _time); sort them first"));
    }
    for k in &mut s.order {
        k.asc = !k.asc;
        k.nulls_first = !k.nulls_first;
    }
    s.df = p.df(span, s.sorted().and_then(|d| d.limit(0, Some(n))))?;
    Ok(s)
}

pub fn dedup(
    p: &Planner,
    s: Stream,
    limit: usize,
    fields: &[Name],
    keepempty: bool,
    sortby: &[SortKey],
    span: Span,
) -> Result<Stream, QueryError> {
    let mut s = s;
    let mut cols = Vec::new();
    let mut missing = false;
    for f in fields {
        if f.text.contains('*') {
            return Err(p.err(f.span, "wildcards are not supported in dedup"));
        }
        match s.field(&f.text) {
            Some((c, _)) => cols.push(c),
            None => missing = true,
        }
    }
    let any_null = cols.iter().map(|c| c.clone().is_null()).reduce(Expr::or).unwrap_or(lit(false));
    let rn_name = s.fresh("rn");
    let order: Vec<SortExpr> = s.sort_exprs();
    // Tables without `_time` (the normalized ones) have no event order to keep; an empty
    // ORDER BY in the window is an error in DataFusion, so leave it out then.
    let window = datafusion::functions_window::expr_fn::row_number().partition_by(cols.clone());
    let window = if order.is_empty() { window } else { window.order_by(order) };
    let rn = p.df(span, window.build())?;
    s.df = p.df(span, s.df.clone().window(vec![rn.alias(&rn_name)]))?;
    let rn_col = s.column(&rn_name).unwrap_or(lit(1u64));
    let first_n = rn_col.lt_eq(lit(limit as u64));
    let keep = match (keepempty, missing) {
        (true, true) => lit(true),
        (false, true) => lit(false),
        (true, false) => any_null.or(first_n),
        (false, false) => datafusion::logical_expr::not(any_null).and(first_n),
    };
    s.df = p.df(span, s.df.clone().filter(keep))?;
    let visible: Vec<Expr> = s.visible().iter().filter_map(|c| s.column(c)).collect();
    let s = p.df(span, s.project(visible))?;
    if sortby.is_empty() { Ok(s) } else { sort(p, s, sortby, None, span) }
}
