//! `transaction`: events grouped by fields into sessions.
//!
//! Within each group, events are taken in time order. A transaction opens at an event matching
//! `startswith` (any event when there is none) and takes the following events until one of:
//! the next event would make it span more than `maxspan` from its first event, or follow the
//! previous one by more than `maxpause`; an event matching `startswith` arrives (it opens the
//! next one); the transaction already holds its `endswith` event; it holds `maxevents` events
//! (1000 by default, as in Splunk). Events outside any transaction are dropped. With
//! `endswith`, a transaction that never saw its end is evicted (dropped) unless
//! `keepevicted=true`, which keeps it with `closed_txn=0`. Events missing a group field are
//! dropped. Each transaction is one row: the group fields, `_time` (its first event),
//! `duration` (seconds from first to last event), `eventcount`, and every other field as the
//! sorted distinct values of its events.

use super::super::ast::{Boundary, TransactionArgs};
use super::super::lexer::Span;
use super::super::plan::{Planner, Stream, is_list};
use super::eval::Ctx;
use super::search;
use super::stats::prepare_by;
use crate::error::QueryError;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Builder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{Column, Result};
use datafusion::functions_aggregate::expr_fn as a;
use datafusion::functions_nested::expr_fn::array_sort;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, PartitionEvaluator, Signature, SortExpr, Volatility, WindowUDF, WindowUDFImpl, cast as cast_expr, lit,
};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Rules {
    maxspan_ns: Option<i64>,
    maxpause_ns: Option<i64>,
    maxevents: Option<usize>,
    has_start: bool,
    has_end: bool,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Sessions {
    rules: Rules,
    signature: Signature,
}

impl WindowUDFImpl for Sessions {
    fn name(&self) -> &str {
        "spl_transaction"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn partition_evaluator(&self, _args: PartitionEvaluatorArgs) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(SessionEvaluator { rules: self.rules.clone() }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(field_args.name(), DataType::Int64, true)))
    }
}

#[derive(Debug)]
struct SessionEvaluator {
    rules: Rules,
}

struct Open {
    id: i64,
    first: i64,
    last: i64,
    rows: Vec<usize>,
    ended: bool,
}

/// Session numbers for one group's events in time order: positive for kept transactions,
/// negative for evicted ones, null for events in none.
fn sessions(rules: &Rules, ts: &[Option<i64>], start: &[bool], end: &[bool]) -> Vec<Option<i64>> {
    let mut ids = vec![None; ts.len()];
    let mut cur: Option<Open> = None;
    let mut next = 0i64;
    let finish = |o: Open, ids: &mut Vec<Option<i64>>| {
        let id = if !rules.has_end || o.ended { o.id } else { -o.id };
        o.rows.iter().for_each(|r| ids[*r] = Some(id));
    };
    for i in 0..ts.len() {
        let Some(t) = ts[i] else { continue };
        if let Some(o) = &cur {
            let close = o.ended
                || rules.maxspan_ns.is_some_and(|m| t.saturating_sub(o.first) > m)
                || rules.maxpause_ns.is_some_and(|m| t.saturating_sub(o.last) > m)
                || (rules.has_start && start[i])
                || rules.maxevents.is_some_and(|m| o.rows.len() >= m);
            if close && let Some(o) = cur.take() {
                finish(o, &mut ids);
            }
        }
        if cur.is_none() {
            if rules.has_start && !start[i] {
                continue;
            }
            next += 1;
            cur = Some(Open { id: next, first: t, last: t, rows: vec![], ended: false });
        }
        if let Some(o) = cur.as_mut() {
            o.rows.push(i);
            o.last = t;
            if rules.has_end && end[i] {
                o.ended = true;
            }
        }
    }
    if let Some(o) = cur.take() {
        finish(o, &mut ids);
    }
    ids
}

impl PartitionEvaluator for SessionEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let col = |i: usize| -> Result<ArrayRef> {
            values.get(i).cloned().ok_or_else(|| datafusion::error::DataFusionError::Execution("transaction: missing input".into()))
        };
        let ts = cast(&col(0)?, &DataType::Int64)?;
        let ts = ts
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| datafusion::error::DataFusionError::Execution("transaction: bad time".into()))?;
        let flags = |i: usize| -> Result<Vec<bool>> {
            let a = cast(&col(i)?, &DataType::Boolean)?;
            let b = a.as_boolean_opt().ok_or_else(|| datafusion::error::DataFusionError::Execution("transaction: bad flag".into()))?;
            Ok((0..num_rows).map(|r| b.is_valid(r) && b.value(r)).collect())
        };
        let times: Vec<Option<i64>> = (0..num_rows).map(|r| ts.is_valid(r).then(|| ts.value(r))).collect();
        let ids = sessions(&self.rules, &times, &flags(1)?, &flags(2)?);
        let mut b = Int64Builder::with_capacity(num_rows);
        ids.into_iter().for_each(|v| b.append_option(v));
        Ok(Arc::new(b.finish()))
    }
}

fn boundary(p: &Planner, s: &Stream, b: Option<&Boundary>) -> Result<Expr, QueryError> {
    Ok(match b {
        None => lit(false),
        Some(Boundary::Search(q)) => search::compile(p, s, q, false)?,
        Some(Boundary::Eval(e)) => Ctx { p, s }.condition(e, "startswith/endswith")?.is_true(),
    })
}

fn nanos(secs: Option<f64>) -> Option<i64> {
    secs.map(|s| (s * 1e9).min(i64::MAX as f64) as i64)
}

pub fn transaction(p: &Planner, s: Stream, t: &TransactionArgs, span: Span) -> Result<Stream, QueryError> {
    if !matches!(s.field("_time"), Some((_, DataType::Timestamp(..)))) {
        return Err(p.err(span, "transaction needs events with _time"));
    }
    let (mut s, groups) = if t.fields.is_empty() { (s, vec![]) } else { prepare_by(p, s, &t.fields)? };
    let Some((time, _)) = s.field("_time") else { return Err(p.err(span, "transaction needs events with _time")) };
    let start = boundary(p, &s, t.startswith.as_ref())?;
    let end = boundary(p, &s, t.endswith.as_ref())?;
    let rules = Rules {
        maxspan_ns: nanos(t.maxspan),
        maxpause_ns: nanos(t.maxpause),
        maxevents: t.maxevents,
        has_start: t.startswith.is_some(),
        has_end: t.endswith.is_some(),
    };
    let udwf = Arc::new(WindowUDF::from(Sessions { rules, signature: Signature::any(3, Volatility::Immutable) }));
    let ts_ns = cast_expr(time.clone(), DataType::Int64);
    let mut order = vec![SortExpr::new(time.clone(), true, false)];
    // Ties in time: the reverse of event order (oldest record first).
    order.extend(s.sort_exprs().into_iter().skip(1).map(|k| SortExpr::new(k.expr, !k.asc, !k.nulls_first)));
    let partition: Vec<Expr> = groups.iter().map(|g| g.clone().unalias()).collect();
    let win = Expr::from(WindowFunction::new(udwf, vec![ts_ns.clone(), start, end]));
    let win = p.df(span, win.partition_by(partition).order_by(order).build())?;
    let id_name = s.fresh("txn");
    s.df = p.df(span, s.df.clone().window(vec![win.alias(&id_name)]))?;
    let id = Expr::Column(Column::new_unqualified(&id_name));
    let keep = if t.keepevicted { id.clone().is_not_null() } else { id.clone().gt(lit(0i64)) };
    s.df = p.df(span, s.df.clone().filter(keep))?;

    let mut group_by: Vec<Expr> =
        t.fields.iter().map(|f| s.field(&f.text).map_or_else(super::super::plan::null_text, |(c, _)| c).alias(&f.text)).collect();
    group_by.push(id.clone().alias(&id_name));
    let (time, _) = s.field("_time").ok_or_else(|| p.err(span, "transaction needs _time"))?;
    let ts_ns = cast_expr(time.clone(), DataType::Int64);
    let mut aggs = vec![
        a::min(time).alias("_time"),
        ((cast_expr(a::max(ts_ns.clone()) - a::min(ts_ns), DataType::Float64)) / lit(1e9)).alias("duration"),
        a::count(lit(1i64)).alias("eventcount"),
    ];
    if t.keepevicted {
        aggs.push(cast_expr(a::min(id).gt(lit(0i64)), DataType::Int64).alias("closed_txn"));
    }
    let cx = Ctx { p, s: &s };
    for name in s.visible() {
        if name == "_time" || t.fields.iter().any(|f| f.text == name) || ["duration", "eventcount", "closed_txn"].contains(&name.as_str()) {
            continue;
        }
        let Some((x, ty)) = s.field(&name) else { continue };
        if is_list(&ty) {
            continue;
        }
        let Ok(text) = cx.to_text(x.clone(), &ty, span) else { continue };
        let agg = p.df(span, a::array_agg(text).distinct().filter(x.is_not_null()).build())?;
        aggs.push(array_sort(agg, lit("ASC"), lit("NULLS LAST")).alias(&name));
    }
    // Aggregate first (sorting the value lists happens in a projection on top).
    let (raw_aggs, finals) = split_aggregates(aggs);
    let df = p.df(span, s.df.clone().aggregate(group_by, raw_aggs))?;
    let mut out = Stream { df, order: vec![], next_id: s.next_id };
    let mut visible: Vec<Expr> = t.fields.iter().filter_map(|f| out.column(&f.text)).collect();
    visible.extend(finals);
    out = p.df(span, out.project(visible))?;
    let key = out.column("_time").map(|c| vec![(c, false, false)]).unwrap_or_default();
    p.df(span, out.with_order(key))
}

/// Splits `f(agg(x)) AS name` into the bare aggregate (under a hidden name) and the outer
/// expression over it, since an Aggregate node takes only aggregate calls.
fn split_aggregates(aggs: Vec<Expr>) -> (Vec<Expr>, Vec<Expr>) {
    let mut raws = Vec::new();
    let mut finals = Vec::new();
    for (i, e) in aggs.into_iter().enumerate() {
        let (inner, name) = match e {
            Expr::Alias(al) => (*al.expr, al.name),
            other => {
                let n = other.schema_name().to_string();
                (other, n)
            }
        };
        let hidden = format!("{}t{i}", super::super::plan::HIDDEN);
        let mut found = Vec::new();
        let rewritten = replace_aggregates(inner, &hidden, &mut found);
        raws.extend(found);
        finals.push(rewritten.alias(name));
    }
    (raws, finals)
}

fn replace_aggregates(e: Expr, prefix: &str, found: &mut Vec<Expr>) -> Expr {
    use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
    e.transform_down(|node| {
        if let Expr::AggregateFunction(_) = &node {
            let name = format!("{prefix}_{}", found.len());
            found.push(node.alias(&name));
            return Ok(Transformed::new(Expr::Column(Column::new_unqualified(name)), true, TreeNodeRecursion::Jump));
        }
        Ok(Transformed::no(node))
    })
    .map(|t| t.data)
    .unwrap_or_else(|_| lit(datafusion::common::ScalarValue::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(span: Option<i64>, start: bool, end: bool) -> Rules {
        Rules { maxspan_ns: span, maxpause_ns: None, maxevents: Some(1000), has_start: start, has_end: end }
    }

    #[test]
    fn sessions_follow_the_rules() {
        let ts: Vec<Option<i64>> = [0, 10, 20, 100, 105].iter().map(|t| Some(*t)).collect();
        let none = vec![false; 5];
        // maxspan 50: {0,10,20} {100,105}
        assert_eq!(sessions(&rules(Some(50), false, false), &ts, &none, &none), vec![Some(1), Some(1), Some(1), Some(2), Some(2)]);
        // startswith at 10 and 100: the event at 0 is in no transaction.
        let start = vec![false, true, false, true, false];
        assert_eq!(sessions(&rules(None, true, false), &ts, &start, &none), vec![None, Some(1), Some(1), Some(2), Some(2)]);
        // endswith at 20: {0,10,20} closed; {100,105} never ends → evicted (negative).
        let end = vec![false, false, true, false, false];
        assert_eq!(sessions(&rules(None, false, true), &ts, &none, &end), vec![Some(1), Some(1), Some(1), Some(-2), Some(-2)]);
    }
}
