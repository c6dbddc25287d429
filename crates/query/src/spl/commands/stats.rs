//! `stats`, `top` and `rare`. Events missing a by-field (or a top field) are dropped, as Splunk
//! does; a multivalue by-field counts the event once per value. Output columns are named as
//! Splunk names them: `count`, `dc(User)`, `values(CommandLine)`, or the `as` name.

use super::super::ast::{Agg, Name, TopArgs};
use super::super::lexer::Span;
use super::super::plan::{Planner, Stream, is_list, is_num, is_text, null_text};
use super::super::udf::{self, Kind, NumFormat};
use super::eval::Ctx;
use crate::error::QueryError;
use datafusion::arrow::datatypes::DataType;
use datafusion::functions::expr_fn::round;
use datafusion::functions_aggregate::expr_fn as a;
use datafusion::functions_aggregate::first_last::first_value_udaf;
use datafusion::functions_nested::expr_fn::array_sort;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{Expr, ExprFunctionExt, SortExpr, cast, lit, try_cast, when};

/// Drops events missing any of `names`, expands multivalue ones, and returns the group
/// expressions (named as written).
pub fn prepare_by(p: &Planner, mut s: Stream, names: &[Name]) -> Result<(Stream, Vec<Expr>), QueryError> {
    let mut conds = Vec::new();
    let mut missing = false;
    for n in names {
        if n.text.contains('*') {
            return Err(p.err(n.span, "wildcards are not supported in by-fields"));
        }
        match s.field(&n.text) {
            None => missing = true,
            Some((c, t)) => {
                if is_list(&t) {
                    let Expr::Column(col) = &c else { continue };
                    s.df = p.df(n.span, s.df.clone().unnest_columns(&[col.name.as_str()]))?;
                }
            }
        }
    }
    for n in names {
        if let Some((c, _)) = s.field(&n.text) {
            conds.push(c.is_not_null());
        }
    }
    if missing {
        conds.push(lit(false));
    }
    if let Some(c) = conds.into_iter().reduce(Expr::and) {
        s.df = p.df(names[0].span, s.df.clone().filter(c))?;
    }
    let groups = names.iter().map(|n| s.field(&n.text).map_or_else(null_text, |(c, _)| c).alias(&n.text)).collect();
    Ok((s, groups))
}

/// One aggregation: the raw aggregates (hidden names) and the final value over them.
struct Planned {
    raws: Vec<Expr>,
    value: Expr,
}

fn agg(p: &Planner, s: &Stream, ids: &mut usize, g: &Agg) -> Result<Planned, QueryError> {
    let f = g.func.to_ascii_lowercase();
    if let Some(arg) = &g.arg
        && arg.text.contains('*')
    {
        return Err(p.err(arg.span, format!("stats: wildcards in {}({}) are not supported", g.func, arg.text)));
    }
    let needs_arg = !matches!(f.as_str(), "count" | "c");
    if needs_arg && g.arg.is_none() {
        return Err(p.err(g.span, format!("stats: {}() needs a field, e.g. {}(CommandLine)", g.func, g.func)));
    }
    let (x, t) = g.arg.as_ref().and_then(|n| s.field(&n.text)).unwrap_or((null_text(), DataType::Utf8));
    let cx = Ctx { p, s };
    let num = || -> Result<Expr, QueryError> {
        if is_num(&t) {
            Ok(x.clone())
        } else if is_text(&t) {
            Ok(try_cast(x.clone(), DataType::Float64))
        } else {
            cx.to_num(x.clone(), &t, g.span)
        }
    };
    let text = || cx.to_text(x.clone(), &t, g.span);
    let order = cx.s.sort_exprs();
    let time = || -> Result<Expr, QueryError> {
        match cx.s.field("_time") {
            Some((c, DataType::Timestamp(..))) => Ok(c),
            _ => Err(p.err(g.span, format!("stats: {}() needs _time", g.func))),
        }
    };
    let built = |r: datafusion::error::Result<Expr>| p.df(g.span, r);
    let mut raws = Vec::new();
    let mut raw = |e: Expr| -> Expr {
        *ids += 1;
        let name = format!("{}a{}", super::super::plan::HIDDEN, ids);
        raws.push(e.alias(&name));
        Expr::Column(datafusion::common::Column::new_unqualified(name))
    };
    let not_null = x.clone().is_not_null();
    let value = match f.as_str() {
        "count" | "c" => raw(if g.arg.is_some() { a::count(x.clone()) } else { a::count(lit(1i64)) }),
        "dc" | "distinct_count" => raw(a::count_distinct(x.clone())),
        "values" => {
            let v = raw(built(a::array_agg(text()?).distinct().filter(not_null).build())?);
            array_sort(v, lit("ASC"), lit("NULLS LAST"))
        }
        "list" => raw(built(a::array_agg(text()?).order_by(order).filter(not_null).build())?),
        "sum" => raw(a::sum(num()?)),
        "avg" | "mean" => raw(a::avg(num()?)),
        "median" => raw(a::median(cast(num()?, DataType::Float64))),
        "stdev" => raw(a::stddev(cast(num()?, DataType::Float64))),
        "stdevp" => raw(a::stddev_pop(cast(num()?, DataType::Float64))),
        "var" => raw(a::var_sample(cast(num()?, DataType::Float64))),
        "varp" => raw(a::var_pop(cast(num()?, DataType::Float64))),
        "range" => {
            let lo = raw(a::min(num()?));
            let hi = raw(a::max(num()?));
            hi - lo
        }
        "min" | "max" if is_text(&t) => {
            // Splunk: numbers sort before text, so min is the least number if there is one,
            // max the greatest non-number if there is one.
            let n = try_cast(x.clone(), DataType::Float64);
            let numbers = raw(a::count(n.clone()));
            let words = raw(built(a::count(x.clone()).filter(n.clone().is_null()).build())?);
            let as_text = |e: Expr| udf::call(Kind::NumText(NumFormat::Plain), vec![e]);
            if f == "min" {
                let lo = raw(a::min(n));
                let lo_text = raw(a::min(x.clone()));
                built(when(numbers.gt(lit(0i64)), as_text(lo)).otherwise(lo_text))?
            } else {
                let hi = raw(a::max(n.clone()));
                let hi_text = raw(built(a::max(x.clone()).filter(n.is_null()).build())?);
                built(when(words.gt(lit(0i64)), hi_text).otherwise(as_text(hi)))?
            }
        }
        "min" => raw(a::min(x.clone())),
        "max" => raw(a::max(x.clone())),
        "earliest" | "latest" => {
            let ts = time()?;
            let sort = vec![SortExpr::new(ts, f == "earliest", false)];
            raw(built(first_value_udaf().call(vec![x.clone()]).order_by(sort).filter(not_null).build())?)
        }
        "first" | "last" => {
            let mut sort = order;
            if f == "last" {
                sort.iter_mut().for_each(|k| {
                    k.asc = !k.asc;
                    k.nulls_first = !k.nulls_first;
                });
            }
            raw(built(first_value_udaf().call(vec![x.clone()]).order_by(sort).filter(not_null).build())?)
        }
        _ => return Err(p.err(g.span, format!("stats function `{}` is not supported", g.func))),
    };
    Ok(Planned { raws, value })
}

fn output_name(g: &Agg) -> String {
    g.alias.clone().unwrap_or_else(|| match &g.arg {
        Some(n) => format!("{}({})", g.func, n.text),
        None => g.func.clone(),
    })
}

pub fn stats(p: &Planner, s: Stream, aggs: &[Agg], by: &[Name], span: Span) -> Result<Stream, QueryError> {
    let (s, groups) = if by.is_empty() { (s, vec![]) } else { prepare_by(p, s, by)? };
    let mut raws = Vec::new();
    let mut finals = Vec::new();
    let mut ids = s.next_id;
    for g in aggs {
        let planned = agg(p, &s, &mut ids, g)?;
        raws.extend(planned.raws);
        finals.push(planned.value.alias(output_name(g)));
    }
    let df = p.df(span, s.df.clone().aggregate(groups, raws))?;
    let mut out = Stream { df, order: vec![], next_id: ids };
    let mut visible: Vec<Expr> = by.iter().filter_map(|n| out.column(&n.text)).collect();
    visible.extend(finals);
    out = p.df(span, out.project(visible))?;
    // Splunk lists stats rows by the by-fields, ascending.
    let keys = by.iter().filter_map(|n| out.column(&n.text)).map(|c| (c, true, false)).collect();
    p.df(span, out.with_order(keys))
}

pub fn top(p: &Planner, s: Stream, t: &TopArgs, rare: bool, span: Span) -> Result<Stream, QueryError> {
    let all: Vec<Name> = t.by.iter().chain(&t.fields).cloned().collect();
    let (mut s, groups) = prepare_by(p, s, &all)?;
    let cnt = s.fresh("n");
    let df = p.df(span, s.df.clone().aggregate(groups, vec![a::count(lit(1i64)).alias(&cnt)]))?;
    let mut out = Stream { df, order: vec![], next_id: s.next_id };
    let col = |s: &Stream, n: &str| s.column(n).unwrap_or(null_text());
    let by_cols: Vec<Expr> = t.by.iter().map(|n| col(&out, &n.text)).collect();
    let field_cols: Vec<Expr> = t.fields.iter().map(|n| col(&out, &n.text)).collect();
    let count = col(&out, &cnt);
    let total_name = out.fresh("t");
    let rank_name = out.fresh("r");
    let total = Expr::from(WindowFunction::new(datafusion::functions_aggregate::sum::sum_udaf(), vec![count.clone()]));
    let total = p.df(span, total.partition_by(by_cols.clone()).build())?;
    let mut rank_order = vec![SortExpr::new(count.clone(), rare, false)];
    rank_order.extend(field_cols.iter().map(|c| SortExpr::new(c.clone(), true, false)));
    let rank =
        p.df(span, datafusion::functions_window::expr_fn::row_number().partition_by(by_cols.clone()).order_by(rank_order).build())?;
    // One window node per partitioning/ordering: DataFusion requires equal keys within a node.
    out.df = p.df(span, out.df.clone().window(vec![total.alias(&total_name)]))?;
    out.df = p.df(span, out.df.clone().window(vec![rank.alias(&rank_name)]))?;
    if t.limit > 0 {
        out.df = p.df(span, out.df.clone().filter(col(&out, &rank_name).lt_eq(lit(t.limit as u64))))?;
    }
    let percent =
        round(vec![cast(col(&out, &cnt), DataType::Float64) * lit(100.0) / cast(col(&out, &total_name), DataType::Float64), lit(6i64)]);
    let mut visible: Vec<Expr> = t.by.iter().chain(&t.fields).map(|n| col(&out, &n.text)).collect();
    if t.showcount {
        visible.push(col(&out, &cnt).alias(&t.countfield));
    }
    if t.showperc {
        visible.push(percent.alias(&t.percentfield));
    }
    let mut keys: Vec<(Expr, bool, bool)> = t.by.iter().map(|n| (col(&out, &n.text), true, false)).collect();
    keys.push((col(&out, &cnt), rare, false));
    keys.extend(t.fields.iter().map(|n| (col(&out, &n.text), true, false)));
    // Order first (the count column is still there), then show only what top shows.
    let mut exprs = visible;
    let mut order = Vec::new();
    for (e, asc, nulls_first) in keys {
        let name = out.fresh("o");
        exprs.push(e.alias(&name));
        order.push(super::super::plan::OrderKey { column: name, asc, nulls_first });
    }
    out.df = p.df(span, out.df.clone().select(exprs))?;
    out.order = order;
    Ok(out)
}
