//! Planning the syntax tree onto DataFusion DataFrames: sources, `let` resolution and the
//! row-shaping operators. Summarize, join/union and parse/mv-expand live in their own files.
//!
//! Strings follow KQL's model: a string is never null, only empty. Every table's text columns
//! are read as `coalesce(col, '')`, and operators that can introduce nulls (outer joins,
//! union) fill text columns the same way.

use super::ast::*;
use super::expr::{Scope, TE, Ty, column_expr};
use super::names::{unique, wildcard_match};
use super::udf::{self, Kind};
use crate::engine::Engine;
use crate::error::QueryError;
use datafusion::common::{Column, TableReference};
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::prelude::{DataFrame, Expr, lit};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashSet};

/// A tabular value: the DataFrame and which of its (Utf8) columns hold dynamic values.
pub struct Tab {
    pub df: DataFrame,
    pub dynamic: BTreeSet<String>,
}

impl Tab {
    pub fn names(&self) -> Vec<String> {
        self.df.schema().fields().iter().map(|f| f.name().clone()).collect()
    }

    pub fn scope(&self) -> Scope<'_> {
        Scope { schema: self.df.schema(), dynamic: &self.dynamic, aggs: None }
    }

    pub fn col(&self, name: &str) -> Option<Expr> {
        column_expr(self.df.schema(), name)
    }

    pub fn ty(&self, name: &str) -> Ty {
        if self.dynamic.contains(name) {
            return Ty::Dynamic;
        }
        self.df.schema().fields().iter().find(|f| f.name() == name).map_or(Ty::Other, |f| Ty::of(f.data_type()))
    }
}

pub struct Planner<'a> {
    pub engine: &'a Engine,
    pub text: &'a str,
    pub lets: &'a [Let],
    /// How many of `lets` are in scope: a let sees only the ones before it.
    pub visible: Cell<usize>,
    pub notes: RefCell<Vec<String>>,
    pub depth: Cell<usize>,
}

/// How deeply planning may recurse (expressions, sub-queries, lets naming lets).
const MAX_PLAN_DEPTH: usize = 96;

impl<'a> Planner<'a> {
    pub fn find_let(&self, name: &str) -> Option<(usize, &'a Let)> {
        let lets: &'a [Let] = self.lets;
        lets[..self.visible.get().min(lets.len())].iter().enumerate().rev().find(|(_, l)| l.name == name)
    }

    pub fn with_visible<T>(&self, n: usize, f: impl FnOnce() -> T) -> T {
        let old = self.visible.replace(n);
        let r = f();
        self.visible.set(old);
        r
    }

    pub fn engine_has_table(&self, name: &str) -> bool {
        self.engine.table_names().iter().any(|t| t == name)
    }

    /// Whether a bare name denotes a table (or a tabular let) rather than a value.
    pub fn names_table(&self, name: &str) -> bool {
        match self.find_let(name) {
            Some((i, l)) => match &l.value {
                LetValue::Tabular(_) => true,
                LetValue::Scalar(x) => x.as_name().is_some_and(|n| self.with_visible(i, || self.names_table(n))),
            },
            None => self.engine_has_table(name),
        }
    }

    pub fn df_err(&self, span: Span) -> impl Fn(datafusion::error::DataFusionError) -> QueryError + '_ {
        move |e| self.err(span, super::expr::first_line(&e.to_string()))
    }

    /// Reads text columns as never-null strings and gives every column a plain (unqualified)
    /// name.
    pub fn normalize(&self, df: DataFrame, dynamic: BTreeSet<String>, span: Span) -> Result<Tab, QueryError> {
        let exprs: Vec<Expr> = df
            .schema()
            .iter()
            .map(|(q, f)| {
                let c = Expr::Column(Column::new(q.cloned(), f.name()));
                let c = if Ty::of(f.data_type()) == Ty::Str && !dynamic.contains(f.name()) {
                    datafusion::functions::expr_fn::coalesce(vec![c, lit("")])
                } else {
                    c
                };
                c.alias(f.name())
            })
            .collect();
        let df = df.select(exprs).map_err(self.df_err(span))?;
        Ok(Tab { df, dynamic })
    }

    /// Runs `f` one level deeper in the query, refusing beyond [`MAX_PLAN_DEPTH`] (lets that
    /// name lets, sub-queries in sub-queries) before the stack would run out.
    pub fn deeper<T>(&self, span: Span, f: impl FnOnce() -> Result<T, QueryError>) -> Result<T, QueryError> {
        if self.depth.get() >= MAX_PLAN_DEPTH {
            return Err(self.err(span, "the query nests too deeply"));
        }
        self.depth.set(self.depth.get() + 1);
        let r = f();
        self.depth.set(self.depth.get() - 1);
        r
    }

    pub fn pipeline(&self, p: &Pipeline) -> Result<Tab, QueryError> {
        let span = match &p.source {
            Source::Name(_, s) => *s,
            _ => p.ops.first().map_or((0, 0), |o| o.1),
        };
        self.deeper(span, || self.pipeline_inner(p))
    }

    fn pipeline_inner(&self, p: &Pipeline) -> Result<Tab, QueryError> {
        let mut tab = self.source(&p.source)?;
        for (op, span) in &p.ops {
            tab = self.operator(tab, op, *span)?;
        }
        Ok(tab)
    }

    fn source(&self, s: &Source) -> Result<Tab, QueryError> {
        match s {
            Source::Name(n, span) => self.table(n, *span),
            Source::Paren(p) => self.pipeline(p),
            Source::Union(spec) => self.union(None, spec, (0, 0)),
            Source::Print(items) => self.print(items),
            Source::Datatable { columns, values, span } => self.datatable(columns, values, *span),
        }
    }

    /// A table of the engine or a tabular let.
    pub fn table(&self, name: &str, span: Span) -> Result<Tab, QueryError> {
        self.deeper(span, || self.table_inner(name, span))
    }

    fn table_inner(&self, name: &str, span: Span) -> Result<Tab, QueryError> {
        if let Some((i, l)) = self.find_let(name) {
            return match &l.value {
                LetValue::Tabular(p) => self.with_visible(i, || self.pipeline(p)),
                LetValue::Scalar(x) => match x.as_name() {
                    Some(inner) => self.with_visible(i, || self.table(inner, span)),
                    None => Err(self.err(span, format!("`{name}` is a value, not a table"))),
                },
            };
        }
        match self.engine.block_on(self.engine.ctx.table(TableReference::bare(name))) {
            Ok(df) => self.normalize(df, BTreeSet::new(), span),
            Err(_) => {
                let names = self.engine.table_names();
                let hint = names
                    .iter()
                    .find(|t| t.eq_ignore_ascii_case(name))
                    .map(|t| format!(" (did you mean `{t}`? names are case-sensitive)"))
                    .unwrap_or_default();
                Err(self.err(span, format!("unknown table `{name}`{hint}")))
            }
        }
    }

    fn operator(&self, tab: Tab, op: &Op, span: Span) -> Result<Tab, QueryError> {
        match op {
            Op::Where(e) => {
                let p = {
                    let sc = tab.scope();
                    let v = self.expr(&sc, e)?;
                    self.predicate(v, e.span)?
                };
                Ok(Tab { df: tab.df.filter(p).map_err(self.df_err(e.span))?, dynamic: tab.dynamic })
            }
            Op::Project(items) => self.project(tab, items),
            Op::Extend(items) => {
                let mut tab = tab;
                for it in items {
                    tab = self.extend_one(tab, it)?;
                }
                Ok(tab)
            }
            Op::ProjectAway(pats) => {
                let drop = self.matching(&tab, pats)?;
                let keep: Vec<String> = tab.names().into_iter().filter(|n| !drop.contains(n)).collect();
                self.keep(tab, &keep, span)
            }
            Op::ProjectKeep(pats) => {
                let keep = self.matching(&tab, pats)?;
                let keep: Vec<String> = tab.names().into_iter().filter(|n| keep.contains(n)).collect();
                self.keep(tab, &keep, span)
            }
            Op::ProjectReorder(pats) => {
                let mut order: Vec<String> = Vec::new();
                for (p, s) in pats {
                    let m = self.matching(&tab, &[(p.clone(), *s)])?;
                    for n in tab.names() {
                        if m.contains(&n) && !order.contains(&n) {
                            order.push(n);
                        }
                    }
                }
                for n in tab.names() {
                    if !order.contains(&n) {
                        order.push(n);
                    }
                }
                self.keep(tab, &order, span)
            }
            Op::ProjectRename(pairs) => {
                let mut names = tab.names();
                let mut dynamic = tab.dynamic.clone();
                for ((new, nspan), (old, ospan)) in pairs {
                    let Some(i) = names.iter().position(|n| n == old) else {
                        return Err(self.err(*ospan, format!("unknown column `{old}`")));
                    };
                    if names.iter().any(|n| n == new) && new != old {
                        return Err(self.err(*nspan, format!("a column named `{new}` already exists")));
                    }
                    names[i] = new.clone();
                    if dynamic.remove(old) {
                        dynamic.insert(new.clone());
                    }
                }
                let exprs = tab.names().iter().zip(&names).map(|(o, n)| tab.col(o).map(|c| c.alias(n))).collect::<Option<Vec<_>>>();
                let exprs = exprs.ok_or_else(|| self.err(span, "internal: lost a column"))?;
                Ok(Tab { df: tab.df.select(exprs).map_err(self.df_err(span))?, dynamic })
            }
            Op::Summarize { aggs, by } => self.summarize(tab, aggs, by, span),
            Op::Count => {
                let count = datafusion::functions_aggregate::expr_fn::count(lit(1i64)).alias("Count");
                Ok(Tab { df: tab.df.aggregate(vec![], vec![count]).map_err(self.df_err(span))?, dynamic: BTreeSet::new() })
            }
            Op::Sort(keys) => self.sort(tab, keys, None, span),
            Op::Top { n, key } => {
                let n = self.const_long(n, "the number of rows of top")?;
                self.sort(tab, std::slice::from_ref(key), Some(n), span)
            }
            Op::Take(n) => {
                let n = self.const_long(n, "the number of rows to take")?;
                Ok(Tab { df: tab.df.limit(0, Some(n as usize)).map_err(self.df_err(span))?, dynamic: tab.dynamic })
            }
            Op::Distinct(items) => {
                let tab = if items.is_empty() { tab } else { self.project(tab, items)? };
                Ok(Tab { df: tab.df.distinct().map_err(self.df_err(span))?, dynamic: tab.dynamic })
            }
            Op::Join { kind, right, right_span, on } => self.join(tab, *kind, right, *right_span, on, span),
            Op::Union(spec) => self.union(Some(tab), spec, span),
            Op::Parse { kind, flags, expr, parts, keep_failed } => self.parse_op(tab, *kind, flags, expr, parts, *keep_failed, span),
            Op::MvExpand { bag_as_array, index, items, limit } => self.mv_expand(tab, *bag_as_array, index.as_deref(), items, *limit, span),
            Op::Render(what) => {
                self.notes.borrow_mut().push(format!("render {what}: ignored; taskhunt returns the table, not a chart"));
                Ok(tab)
            }
        }
    }

    /// Columns matched by names or `*` patterns; a plain name must exist.
    fn matching(&self, tab: &Tab, pats: &[(String, Span)]) -> Result<HashSet<String>, QueryError> {
        let names = tab.names();
        let mut out = HashSet::new();
        for (p, span) in pats {
            if !p.contains('*') && !names.contains(p) {
                return Err(self.err(*span, format!("unknown column `{p}`")));
            }
            out.extend(names.iter().filter(|n| wildcard_match(p, n)).cloned());
        }
        Ok(out)
    }

    fn keep(&self, tab: Tab, names: &[String], span: Span) -> Result<Tab, QueryError> {
        let exprs: Vec<Expr> = names.iter().filter_map(|n| tab.col(n).map(|c| c.alias(n))).collect();
        let dynamic = tab.dynamic.iter().filter(|d| names.contains(d)).cloned().collect();
        Ok(Tab { df: tab.df.select(exprs).map_err(self.df_err(span))?, dynamic })
    }

    fn project(&self, tab: Tab, items: &[Item]) -> Result<Tab, QueryError> {
        let mut out: Vec<(String, TE)> = Vec::new();
        let mut declared: HashSet<String> = HashSet::new();
        {
            let sc = tab.scope();
            for it in items {
                let v = self.expr(&sc, &it.expr)?;
                let taken: HashSet<String> = out.iter().map(|(n, _)| n.clone()).collect();
                let declared_name = it.name.as_ref().map(|(n, s)| (n.as_str(), *s)).or(it.expr.as_name().map(|n| (n, it.expr.span)));
                let name = match declared_name {
                    Some((n, span)) => {
                        if !declared.insert(n.to_string()) {
                            return Err(self.err(span, format!("column `{n}` is declared twice")));
                        }
                        unique(&taken, n, None)
                    }
                    None => match self.result_name(&it.expr) {
                        Some(n) => unique(&taken, &n, None),
                        None => unique(&taken, "Column1", Some("Column")),
                    },
                };
                out.push((name, v));
            }
        }
        let dynamic = out.iter().filter(|(_, v)| v.ty == Ty::Dynamic).map(|(n, _)| n.clone()).collect();
        let span = items.first().map_or((0, 0), |i| i.expr.span);
        let exprs: Vec<Expr> = out.into_iter().map(|(n, v)| v.e.alias(n)).collect();
        Ok(Tab { df: tab.df.select(exprs).map_err(self.df_err(span))?, dynamic })
    }

    /// One `extend` assignment: a new column is appended, an existing name replaced in place.
    pub fn extend_one(&self, tab: Tab, it: &Item) -> Result<Tab, QueryError> {
        let names = tab.names();
        let taken: HashSet<String> = names.iter().cloned().collect();
        let v = {
            let sc = tab.scope();
            self.expr(&sc, &it.expr)?
        };
        let name = match (&it.name, it.expr.as_name()) {
            (Some((n, _)), _) => n.clone(),
            (None, Some(n)) => unique(&taken, n, None),
            (None, None) => match self.result_name(&it.expr) {
                Some(n) => n,
                None if taken.contains("Column1") => "Column1".to_string(),
                None => unique(&taken, "Column1", Some("Column")),
            },
        };
        self.set_column(tab, &name, v, it.expr.span)
    }

    /// Replaces or appends one column.
    pub fn set_column(&self, tab: Tab, name: &str, v: TE, span: Span) -> Result<Tab, QueryError> {
        let names = tab.names();
        let mut value = Some(v.e.alias(name));
        let mut exprs: Vec<Expr> = Vec::with_capacity(names.len() + 1);
        for n in &names {
            if n == name {
                exprs.extend(value.take());
            } else if let Some(c) = tab.col(n) {
                exprs.push(c.alias(n));
            }
        }
        exprs.extend(value);
        let mut dynamic = tab.dynamic.clone();
        if v.ty == Ty::Dynamic {
            dynamic.insert(name.to_string());
        } else {
            dynamic.remove(name);
        }
        Ok(Tab { df: tab.df.select(exprs).map_err(self.df_err(span))?, dynamic })
    }

    fn sort(&self, tab: Tab, keys: &[SortKey], limit: Option<i64>, span: Span) -> Result<Tab, QueryError> {
        let mut sorts = Vec::new();
        {
            let sc = tab.scope();
            for k in keys {
                let v = self.expr(&sc, &k.expr)?;
                if v.ty == Ty::Dynamic {
                    return Err(self.err(k.expr.span, "cannot sort by a dynamic value; convert it first (tostring(), tolong() ...)"));
                }
                // KQL: ascending puts nulls first, descending (the default) puts them last.
                sorts.push(v.e.sort(k.asc, k.nulls_first.unwrap_or(k.asc)));
            }
        }
        let mut df = tab.df.sort(sorts).map_err(self.df_err(span))?;
        if let Some(n) = limit {
            df = df.limit(0, Some(n as usize)).map_err(self.df_err(span))?;
        }
        Ok(Tab { df, dynamic: tab.dynamic })
    }

    /// A one-row table with no columns, for `print`.
    pub fn one_row(&self, span: Span) -> Result<DataFrame, QueryError> {
        let plan = LogicalPlanBuilder::empty(true).build().map_err(self.df_err(span))?;
        Ok(DataFrame::new(self.engine.ctx.state(), plan))
    }

    fn print(&self, items: &[Item]) -> Result<Tab, QueryError> {
        let span = items.first().map_or((0, 0), |i| i.expr.span);
        let base = Tab { df: self.one_row(span)?, dynamic: BTreeSet::new() };
        let mut out = Vec::new();
        let mut dynamic = BTreeSet::new();
        {
            let sc = base.scope();
            for (i, it) in items.iter().enumerate() {
                let v = self.expr(&sc, &it.expr)?;
                let name = it.name.as_ref().map_or_else(|| format!("print_{i}"), |(n, _)| n.clone());
                if v.ty == Ty::Dynamic {
                    dynamic.insert(name.clone());
                }
                out.push(v.e.alias(name));
            }
        }
        Ok(Tab { df: base.df.select(out).map_err(self.df_err(span))?, dynamic })
    }

    /// The query's result: dynamic columns shown as KQL shows them (strings unquoted).
    pub fn finish(&self, tab: Tab) -> Result<DataFrame, QueryError> {
        if tab.dynamic.is_empty() {
            return Ok(tab.df);
        }
        let exprs: Vec<Expr> = tab
            .names()
            .iter()
            .filter_map(|n| {
                let c = tab.col(n)?;
                Some(if tab.dynamic.contains(n) { udf::call(Kind::DynToString, vec![c]).alias(n) } else { c.alias(n) })
            })
            .collect();
        tab.df.select(exprs).map_err(self.df_err((0, 0)))
    }
}
