//! `join` (all KQL kinds; innerunique keeps one left row per key, as KQL's default does) and
//! `union` (outer or inner, `withsource=`, table wildcards, KQL's `name_type` columns when
//! inputs disagree on a column's type).

use super::ast::{JoinKey, JoinKind, Pipeline, Source, Span, UnionArg, UnionSpec};
use super::expr::{Ty, null_of};
use super::names::{unique, wildcard_match};
use super::plan::{Planner, Tab};
use crate::error::QueryError;
use datafusion::common::{Column, JoinType, TableReference};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::ExprFunctionExt;
use datafusion::prelude::{DataFrame, Expr, lit};
use std::collections::{BTreeSet, HashSet};

const LEFT: &str = "__kql_left";
const RIGHT: &str = "__kql_right";

fn side(alias: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(TableReference::bare(alias)), name))
}

impl Planner<'_> {
    pub fn join(
        &self,
        left: Tab,
        kind: JoinKind,
        right: &Pipeline,
        right_span: Span,
        on: &[JoinKey],
        span: Span,
    ) -> Result<Tab, QueryError> {
        let right = self.pipeline(right)?;
        let mut keys = Vec::new();
        for k in on {
            let ((l, ls), (r, rs)) = match k {
                JoinKey::Same(n, s) => ((n.clone(), *s), (n.clone(), *s)),
                JoinKey::Pair { left, right } => (left.clone(), right.clone()),
            };
            if left.col(&l).is_none() {
                return Err(self.err(ls, format!("unknown column `{l}` on the left side of the join")));
            }
            if right.col(&r).is_none() {
                return Err(self.err(rs, format!("unknown column `{r}` on the right side of the join")));
            }
            let (lt, rt) = (left.ty(&l), right.ty(&r));
            if lt == Ty::Dynamic || rt == Ty::Dynamic {
                return Err(self.err(ls, "cannot join on dynamic values; convert them first (tostring() ...)"));
            }
            if lt != rt && !(lt.is_numeric() && rt.is_numeric()) {
                return Err(self.err(ls, format!("join columns `{l}` ({}) and `{r}` ({}) have different types", lt.kql(), rt.kql())));
            }
            keys.push((l, r));
        }
        let left_df = if kind == JoinKind::InnerUnique {
            self.first_per_key(&left, keys.iter().map(|k| k.0.as_str()), span)?
        } else {
            left.df.clone()
        };
        let l = left_df.alias(LEFT).map_err(self.df_err(span))?;
        let r = right.df.clone().alias(RIGHT).map_err(self.df_err(right_span))?;
        let on_exprs: Vec<Expr> = keys.iter().map(|(a, b)| side(LEFT, a).eq(side(RIGHT, b))).collect();
        let jt = match kind {
            JoinKind::InnerUnique | JoinKind::Inner => JoinType::Inner,
            JoinKind::LeftOuter => JoinType::Left,
            JoinKind::RightOuter => JoinType::Right,
            JoinKind::FullOuter => JoinType::Full,
            JoinKind::LeftAnti => JoinType::LeftAnti,
            JoinKind::LeftSemi => JoinType::LeftSemi,
            JoinKind::RightAnti => JoinType::RightAnti,
            JoinKind::RightSemi => JoinType::RightSemi,
        };
        let joined = l.join_on(r, jt, on_exprs).map_err(self.df_err(span))?;
        let (lnames, rnames) = (left.names(), right.names());
        let mut exprs = Vec::new();
        let mut dynamic = BTreeSet::new();
        let left_side = !matches!(kind, JoinKind::RightAnti | JoinKind::RightSemi);
        let right_side = !matches!(kind, JoinKind::LeftAnti | JoinKind::LeftSemi);
        let mut taken: HashSet<String> = HashSet::new();
        if left_side {
            for n in &lnames {
                exprs.push(side(LEFT, n).alias(n));
                taken.insert(n.clone());
                if left.dynamic.contains(n) {
                    dynamic.insert(n.clone());
                }
            }
        }
        if right_side {
            for n in &rnames {
                // KQL renames right-side columns whose names are taken: DeviceName → DeviceName1.
                let out = unique(&taken, n, None);
                taken.insert(out.clone());
                exprs.push(side(RIGHT, n).alias(&out));
                if right.dynamic.contains(n) {
                    dynamic.insert(out);
                }
            }
        }
        let df = joined.select(exprs).map_err(self.df_err(span))?;
        self.normalize(df, dynamic, span)
    }

    /// One (arbitrary) row per key, for innerunique.
    fn first_per_key<'k>(&self, tab: &Tab, keys: impl Iterator<Item = &'k str>, span: Span) -> Result<DataFrame, QueryError> {
        let parts: Vec<Expr> = keys.filter_map(|k| tab.col(k)).collect();
        let rn = row_number().partition_by(parts).build().map_err(self.df_err(span))?.alias("__kql_rn");
        let df = tab.df.clone().window(vec![rn]).map_err(self.df_err(span))?;
        let df = df.filter(Expr::Column(Column::from_name("__kql_rn")).eq(lit(1u64))).map_err(self.df_err(span))?;
        let cols: Vec<Expr> = tab.names().iter().map(|n| Expr::Column(Column::from_name(n)).alias(n)).collect();
        df.select(cols).map_err(self.df_err(span))
    }

    pub fn union(&self, first: Option<Tab>, spec: &UnionSpec, span: Span) -> Result<Tab, QueryError> {
        let mut inputs: Vec<(String, Tab)> = Vec::new();
        if let Some(t) = first {
            inputs.push(("union_arg0".to_string(), t));
        }
        for a in &spec.args {
            match a {
                UnionArg::Pattern(p, s) if p.contains('*') => {
                    let mut names: Vec<String> = self.engine.table_names().into_iter().filter(|t| wildcard_match(p, t)).collect();
                    names.extend(
                        self.lets[..self.visible.get().min(self.lets.len())]
                            .iter()
                            .filter(|l| wildcard_match(p, &l.name) && self.names_table(&l.name))
                            .map(|l| l.name.clone()),
                    );
                    names.sort();
                    names.dedup();
                    if names.is_empty() {
                        return Err(self.err(*s, format!("no table matches `{p}`")));
                    }
                    for n in names {
                        let t = self.table(&n, *s)?;
                        inputs.push((n, t));
                    }
                }
                UnionArg::Pattern(p, s) => inputs.push((p.clone(), self.table(p, *s)?)),
                UnionArg::Query(q, _) => {
                    let name = match (&q.source, q.ops.is_empty()) {
                        (Source::Name(n, _), true) => n.clone(),
                        _ => format!("union_arg{}", inputs.len()),
                    };
                    inputs.push((name, self.pipeline(q)?));
                }
            }
        }
        // Columns by first appearance; a name seen with several types becomes name_type each.
        let mut variants: Vec<(String, Vec<Ty>)> = Vec::new();
        for (_, t) in &inputs {
            for n in t.names() {
                let ty = t.ty(&n);
                match variants.iter_mut().find(|(v, _)| *v == n) {
                    Some((_, tys)) if !tys.contains(&ty) => tys.push(ty),
                    Some(_) => {}
                    None => variants.push((n, vec![ty])),
                }
            }
        }
        let mut columns: Vec<(String, String, Ty)> = Vec::new();
        for (n, tys) in &variants {
            for ty in tys {
                let out = if tys.len() > 1 { format!("{n}_{}", ty.kql()) } else { n.clone() };
                columns.push((n.clone(), out, *ty));
            }
        }
        if spec.inner {
            columns.retain(|(n, _, ty)| inputs.iter().all(|(_, t)| t.col(n).is_some() && t.ty(n) == *ty));
        }
        let mut result: Option<DataFrame> = None;
        for (source, t) in &inputs {
            let mut exprs = Vec::new();
            if let Some(ws) = &spec.withsource {
                exprs.push(lit(source.clone()).alias(ws));
            }
            for (n, out, ty) in &columns {
                let e = match t.col(n) {
                    Some(c) if t.ty(n) == *ty => c,
                    _ if *ty == Ty::Str => lit(""),
                    _ => null_of(*ty),
                };
                exprs.push(e.alias(out));
            }
            let df = t.df.clone().select(exprs).map_err(self.df_err(span))?;
            result = Some(match result {
                None => df,
                Some(acc) => acc.union(df).map_err(self.df_err(span))?,
            });
        }
        let df = result.ok_or_else(|| self.err(span, "union needs at least one table"))?;
        let dynamic = columns.iter().filter(|(_, _, ty)| *ty == Ty::Dynamic).map(|(_, o, _)| o.clone()).collect();
        Ok(Tab { df, dynamic })
    }
}
