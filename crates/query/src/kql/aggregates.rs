//! `summarize`: group keys, aggregation calls (also inside larger expressions such as
//! `count() * 2`), KQL's result names, and the multi-column aggregations arg_max, arg_min and
//! take_any (one row per group, taken whole through a struct so its columns stay together).

use super::ast::{self, ExprKind, Item, Span};
use super::expr::{Scope, TE, Ty};
use super::names::{aggregate_prefix, result_name, unique};
use super::plan::{Planner, Tab};
use super::udf::{self, Kind};
use crate::error::QueryError;
use datafusion::functions::expr_fn::{coalesce, named_struct};
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::functions_aggregate::expr_fn::{array_agg, avg, count, max, min, sum};
use datafusion::functions_aggregate::first_last::first_value_udaf;
use datafusion::logical_expr::ExprFunctionExt;
use datafusion::prelude::{Expr, lit};
use std::collections::{BTreeSet, HashMap, HashSet};

/// What to apply to an aggregation's raw result.
#[derive(Clone, Copy)]
enum Post {
    None,
    /// sum() of no rows is 0 in KQL.
    Zero,
    /// make_set / make_list: the list as a dynamic array.
    Json {
        json_elems: bool,
        max: Option<usize>,
        flatten: bool,
    },
}

/// A struct-valued aggregation and its output columns (struct field, column name, type).
type RowAggregate = (Expr, Vec<(usize, String, Ty)>);

enum Output {
    /// An item computed from aggregation results.
    Item { index: usize, name: String },
    /// arg_max / arg_min / take_any: fields of one struct-valued aggregation.
    Fields { agg: String, fields: Vec<(usize, String, Ty)> },
}

fn children(e: &ast::Expr) -> Vec<&ast::Expr> {
    match &e.kind {
        ExprKind::Neg(x) | ExprKind::Member(x, _) => vec![x],
        ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => vec![a, b],
        ExprKind::In { lhs, items, .. } | ExprKind::HasAny { lhs, items, .. } => std::iter::once(&**lhs).chain(items).collect(),
        ExprKind::InQuery { lhs, .. } => vec![lhs],
        ExprKind::Between { lhs, lo, hi, .. } => vec![lhs, lo, hi],
        ExprKind::Call { args, .. } => args.iter().collect(),
        _ => vec![],
    }
}

fn collect_aggregates<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    if let ExprKind::Call { name, .. } = &e.kind
        && aggregate_prefix(name).is_some()
    {
        out.push(e);
        return;
    }
    for c in children(e) {
        collect_aggregates(c, out);
    }
}

impl Planner<'_> {
    pub fn summarize(&self, tab: Tab, aggs: &[Item], by: &[Item], span: Span) -> Result<Tab, QueryError> {
        let mut taken: HashSet<String> = HashSet::new();
        let mut group_names = Vec::new();
        let mut group_exprs = Vec::new();
        let mut by_cols = HashSet::new();
        let mut agg_exprs = Vec::new();
        let mut posts: Vec<(String, Post)> = Vec::new();
        let mut subst: HashMap<usize, String> = HashMap::new();
        let mut outputs = Vec::new();
        let input_names = tab.names();
        {
            let sc = tab.scope();
            for it in by {
                let v = self.expr(&sc, &it.expr)?;
                if v.ty == Ty::Dynamic {
                    return Err(self.err(it.expr.span, "cannot group by a dynamic value; convert it first (tostring(), tolong() ...)"));
                }
                let name = match &it.name {
                    Some((n, _)) => n.clone(),
                    None => result_name(&it.expr).unwrap_or_else(|| unique(&taken, "Column1", Some("Column"))),
                };
                if taken.contains(&name) {
                    return Err(self.err(it.expr.span, format!("column `{name}` is declared twice")));
                }
                if it.name.is_none()
                    && let Some(n) = it.expr.as_name()
                {
                    by_cols.insert(n.to_string());
                }
                taken.insert(name.clone());
                // Internal names: an alias equal to an input column confuses DataFusion's
                // projection push-down when the aggregations read that column too.
                let internal = format!("__kql_by{}", group_names.len());
                group_exprs.push(v.e.alias(&internal));
                group_names.push((internal, name));
            }
            for (index, it) in aggs.iter().enumerate() {
                if let ExprKind::Call { name, args } = &it.expr.kind
                    && matches!(name.as_str(), "arg_max" | "arg_min" | "take_any" | "any")
                {
                    let agg = format!("__kql_agg{}", agg_exprs.len());
                    let (e, fields) = self.row_aggregate(&sc, name, args, it, &input_names, &by_cols, &mut taken, it.expr.span)?;
                    agg_exprs.push(e.alias(&agg));
                    posts.push((agg.clone(), Post::None));
                    outputs.push(Output::Fields { agg, fields });
                    continue;
                }
                let mut calls = Vec::new();
                collect_aggregates(&it.expr, &mut calls);
                if calls.is_empty() {
                    return Err(self.err(it.expr.span, "summarize needs an aggregation here (count(), sum(), make_set() ...)"));
                }
                for c in calls {
                    let ExprKind::Call { name, args } = &c.kind else { continue };
                    let agg = format!("__kql_agg{}", agg_exprs.len());
                    let (e, post) = self.aggregate(&sc, name, args, c.span)?;
                    agg_exprs.push(e.alias(&agg));
                    posts.push((agg.clone(), post));
                    subst.insert(c as *const ast::Expr as usize, agg);
                }
                let name = match &it.name {
                    Some((n, s)) if taken.contains(n) => return Err(self.err(*s, format!("column `{n}` is declared twice"))),
                    Some((n, _)) => n.clone(),
                    None => match result_name(&it.expr) {
                        Some(n) => unique(&taken, &n, None),
                        None => unique(&taken, "Column1", Some("Column")),
                    },
                };
                taken.insert(name.clone());
                outputs.push(Output::Item { index, name });
            }
        }
        let df = tab.df.aggregate(group_exprs, agg_exprs).map_err(self.df_err(span))?;
        // Post-process raw aggregation results (sum's 0, make_set's dynamic array).
        let mut types: HashMap<String, Ty> = HashMap::new();
        let mut exprs = Vec::new();
        let mut dynamic = BTreeSet::new();
        for (g, _) in &group_names {
            exprs.push(self.col_of(&df, g, span)?.alias(g));
        }
        for (agg, post) in &posts {
            let c = self.col_of(&df, agg, span)?;
            let field_ty = df.schema().fields().iter().find(|f| f.name() == agg).map_or(Ty::Other, |f| Ty::of(f.data_type()));
            let (e, ty) = match *post {
                Post::None => (c, field_ty),
                Post::Zero => (coalesce(vec![c, lit(0i64)]), field_ty),
                Post::Json { json_elems, max, flatten } => (udf::call(Kind::ListToJson { json_elems, max, flatten }, vec![c]), Ty::Dynamic),
            };
            if ty == Ty::Dynamic {
                dynamic.insert(agg.clone());
            }
            types.insert(agg.clone(), ty);
            exprs.push(e.alias(agg));
        }
        let df = df.select(exprs).map_err(self.df_err(span))?;
        let subst: HashMap<usize, (String, Ty)> = subst.into_iter().map(|(k, v)| (k, (v.clone(), types[&v]))).collect();
        let mut finals: Vec<Expr> =
            group_names.iter().map(|(g, name)| self.col_of(&df, g, span).map(|c| c.alias(name))).collect::<Result<_, _>>()?;
        let mut out_dynamic = BTreeSet::new();
        {
            let sc = Scope { schema: df.schema(), dynamic: &dynamic, aggs: Some(&subst) };
            for o in &outputs {
                match o {
                    Output::Item { index, name } => {
                        let v = self.expr(&sc, &aggs[*index].expr)?;
                        if v.ty == Ty::Dynamic {
                            out_dynamic.insert(name.clone());
                        }
                        finals.push(v.e.alias(name));
                    }
                    Output::Fields { agg, fields } => {
                        let s = self.col_of(&df, agg, span)?;
                        for (field, name, ty) in fields {
                            if *ty == Ty::Dynamic {
                                out_dynamic.insert(name.clone());
                            }
                            finals.push(udf::call(Kind::Field(*field), vec![s.clone()]).alias(name));
                        }
                    }
                }
            }
        }
        let df = df.select(finals).map_err(self.df_err(span))?;
        self.normalize(df, out_dynamic, span)
    }

    fn col_of(&self, df: &datafusion::prelude::DataFrame, name: &str, span: Span) -> Result<Expr, QueryError> {
        super::expr::column_expr(df.schema(), name).ok_or_else(|| self.err(span, format!("internal: lost column {name}")))
    }

    /// One aggregation call: the DataFusion aggregate and what to do with its result.
    fn aggregate(&self, sc: &Scope, name: &str, args: &[ast::Expr], span: Span) -> Result<(Expr, Post), QueryError> {
        let want = |n: usize, m: usize| {
            if args.len() < n || args.len() > m {
                Err(self.err(
                    span,
                    format!(
                        "{name}() takes {} argument(s), got {}",
                        if n == m { n.to_string() } else { format!("{n} to {m}") },
                        args.len()
                    ),
                ))
            } else {
                Ok(())
            }
        };
        let arg = |i: usize| self.expr(sc, &args[i]);
        let pred = |i: usize| -> Result<Expr, QueryError> { self.predicate(arg(i)?, args[i].span) };
        let build = |b: datafusion::logical_expr::expr_fn::ExprFuncBuilder| b.build().map_err(self.df_err(span));
        let plain = |t: &TE, what: &str, i: usize| -> Result<(), QueryError> {
            if t.ty == Ty::Dynamic {
                return Err(
                    self.err(args[i].span, format!("{name}() cannot {what} dynamic values; convert them first (tostring(), tolong() ...)"))
                );
            }
            Ok(())
        };
        let numeric = |t: &TE, i: usize| -> Result<(), QueryError> {
            if !t.ty.is_numeric() {
                return Err(self.err(args[i].span, format!("{name}() takes a number, not a {}", t.ty.kql())));
            }
            Ok(())
        };
        let max_size = |i: usize| -> Result<Option<usize>, QueryError> {
            match args.get(i) {
                Some(a) => Ok(Some(self.const_long(a, "the maximum size")? as usize)),
                None => Ok(None),
            }
        };
        Ok(match name {
            "count" => {
                want(0, 0)?;
                (count(lit(1i64)), Post::None)
            }
            "countif" => {
                want(1, 1)?;
                (build(count(lit(1i64)).filter(pred(0)?))?, Post::None)
            }
            "dcount" | "count_distinct" => {
                want(1, 2)?;
                let x = arg(0)?;
                (build(count_udaf().call(vec![x.e]).distinct())?, Post::None)
            }
            "dcountif" | "count_distinctif" => {
                want(2, 3)?;
                let x = arg(0)?;
                (build(count_udaf().call(vec![x.e]).distinct().filter(pred(1)?))?, Post::None)
            }
            "sum" | "sumif" => {
                want(if name == "sum" { 1 } else { 2 }, if name == "sum" { 1 } else { 2 })?;
                let x = arg(0)?;
                numeric(&x, 0)?;
                let e = if name == "sumif" { build(sum(x.e).filter(pred(1)?))? } else { sum(x.e) };
                (e, Post::Zero)
            }
            "avg" | "avgif" => {
                want(if name == "avg" { 1 } else { 2 }, if name == "avg" { 1 } else { 2 })?;
                let x = arg(0)?;
                numeric(&x, 0)?;
                (if name == "avgif" { build(avg(x.e).filter(pred(1)?))? } else { avg(x.e) }, Post::None)
            }
            "min" | "max" | "minif" | "maxif" => {
                let cond = name.ends_with("if");
                want(if cond { 2 } else { 1 }, if cond { 2 } else { 1 })?;
                let x = arg(0)?;
                plain(&x, "order", 0)?;
                let e = if name.starts_with("min") { min(x.e) } else { max(x.e) };
                (if cond { build(e.filter(pred(1)?))? } else { e }, Post::None)
            }
            "make_set" | "make_set_if" | "make_list" | "make_list_if" => {
                let cond = name.ends_with("_if");
                let set = name.starts_with("make_set");
                let base = if cond { 2 } else { 1 };
                want(base, base + 1)?;
                let x = arg(0)?;
                if x.ty == Ty::Dynamic && !set {
                    return Err(self.err(args[0].span, "make_list() of dynamic values is not supported; convert them (tostring()) first"));
                }
                let dynamic = x.ty == Ty::Dynamic;
                let mut keep = x.e.clone().is_not_null();
                if cond {
                    keep = keep.and(pred(1)?);
                }
                let b = array_agg(x.e).filter(keep);
                let e = if set { build(b.distinct())? } else { build(b)? };
                (e, Post::Json { json_elems: dynamic, max: max_size(base)?, flatten: dynamic })
            }
            _ => return Err(self.err(span, format!("unsupported aggregation `{name}()`"))),
        })
    }

    /// arg_max / arg_min / take_any: the struct-valued aggregation and its output columns
    /// (struct field, column name, type), named as KQL names them.
    #[allow(clippy::too_many_arguments)]
    fn row_aggregate(
        &self,
        sc: &Scope,
        name: &str,
        args: &[ast::Expr],
        item: &Item,
        input: &[String],
        by_cols: &HashSet<String>,
        taken: &mut HashSet<String>,
        span: Span,
    ) -> Result<RowAggregate, QueryError> {
        if args.is_empty() {
            return Err(self.err(span, format!("{name}() needs at least one argument")));
        }
        let ordered = name.starts_with("arg_");
        let prefix = if name == "arg_min" { "min" } else { "max" };
        let mut cols: Vec<(TE, String)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let primary = if ordered {
            let x = self.expr(sc, &args[0])?;
            if x.ty == Ty::Dynamic {
                return Err(self.err(args[0].span, format!("{name}() cannot order dynamic values; convert them first")));
            }
            Some(x)
        } else {
            None
        };
        let primary_name = result_name(&args[0]).unwrap_or_default();
        for (i, a) in args.iter().enumerate() {
            match &a.kind {
                ExprKind::Star => {
                    for c in input {
                        if !seen.contains(c) && !by_cols.contains(c) {
                            let v = self.expr(sc, &ast::Expr::new(ExprKind::Name(c.clone()), a.span))?;
                            seen.insert(c.clone());
                            cols.push((v, c.clone()));
                        }
                    }
                }
                ExprKind::Name(n) => {
                    let v = self.expr(sc, a)?;
                    seen.insert(n.clone());
                    cols.push((v, n.clone()));
                }
                _ => {
                    let v = self.expr(sc, a)?;
                    let n = result_name(a).unwrap_or_else(|| match (ordered, i) {
                        (true, 0) => format!("{prefix}_"),
                        (true, _) => format!("{prefix}_{primary_name}_arg{i}"),
                        (false, _) => format!("any_arg{i}"),
                    });
                    cols.push((v, n));
                }
            }
        }
        if let (Some((n, _)), Some(first)) = (&item.name, cols.first_mut()) {
            first.1 = n.clone();
        }
        let mut fields = Vec::new();
        let mut struct_args = Vec::new();
        for (i, (v, n)) in cols.into_iter().enumerate() {
            let field = format!("c{i}");
            let out = unique(taken, &n, None);
            taken.insert(out.clone());
            struct_args.push(lit(field.clone()));
            struct_args.push(v.e);
            fields.push((i, out, v.ty));
        }
        let s = named_struct(struct_args);
        let b = first_value_udaf().call(vec![s]);
        let e = match primary {
            Some(x) => {
                b.order_by(vec![x.e.clone().sort(name == "arg_min", false)]).filter(x.e.is_not_null()).build().map_err(self.df_err(span))?
            }
            None => b,
        };
        Ok((e, fields))
    }
}
