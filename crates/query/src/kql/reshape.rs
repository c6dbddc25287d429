//! Operators that reshape rows: `parse` / `parse-where` (a pattern compiled to one regex with
//! a named group per column), `mv-expand` (DataFusion's unnest over the elements of dynamic
//! arrays and bags), and the `datatable` source.

use super::ast::{self, ExprKind, MvItem, ParseKind, ParsePart, Span, TypeName};
use super::expr::{TE, Ty};
use super::plan::{Planner, Tab};
use super::udf::{self, Kind, arrow_type};
use crate::error::QueryError;
use datafusion::arrow::array::{ArrayRef, RecordBatch, new_empty_array};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::common::{Column, ScalarValue, UnnestOptions};
use datafusion::prelude::{Expr, lit};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

impl Planner<'_> {
    #[allow(clippy::too_many_arguments)]
    pub fn parse_op(
        &self,
        tab: Tab,
        kind: ParseKind,
        flags: &str,
        expr: &ast::Expr,
        parts: &[ParsePart],
        keep_failed: bool,
        span: Span,
    ) -> Result<Tab, QueryError> {
        let source = {
            let sc = tab.scope();
            self.as_string(self.expr(&sc, expr)?).e
        };
        let mut re = String::new();
        if !flags.is_empty() {
            if kind != ParseKind::Regex || !flags.chars().all(|c| "Uims".contains(c)) {
                return Err(self.err(span, format!("unsupported parse flags `{flags}` (regex mode takes U, i, m, s)")));
            }
            re.push_str(&format!("(?{flags})"));
        }
        re.push('^');
        let mut types = Vec::new();
        let mut names: Vec<(String, Span)> = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            match p {
                ParsePart::Star => re.push_str(".*?"),
                ParsePart::Lit(s) if kind == ParseKind::Regex => re.push_str(&format!("(?:{s})")),
                ParsePart::Lit(s) => re.push_str(&regex::escape(s)),
                ParsePart::Col(n, s, ty) => {
                    if names.iter().any(|(m, _)| m == n) {
                        return Err(self.err(*s, format!("column `{n}` is declared twice")));
                    }
                    let g = format!("c{}", names.len());
                    // Strict modes match numbers by shape; relaxed mode takes the text and
                    // leaves the column null when it does not convert.
                    let body = match ty {
                        TypeName::Long | TypeName::Int if kind != ParseKind::Relaxed => r"-?\d+",
                        TypeName::Real if kind != ParseKind::Relaxed => r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
                        // A column that ends the pattern takes the rest of the text.
                        _ if last => ".*",
                        _ => ".*?",
                    };
                    re.push_str(&format!("(?P<{g}>{body})"));
                    types.push(*ty);
                    names.push((n.clone(), *s));
                }
            }
        }
        if let Err(e) = regex::Regex::new(&re) {
            return Err(self.err(span, format!("invalid parse pattern: {}", super::expr::first_line(&e.to_string()))));
        }
        let call =
            udf::call(Kind::Parse { regex: re.clone(), types: types.clone(), relaxed: kind == ParseKind::Relaxed }, vec![source.clone()]);
        let mut tab = tab;
        for (i, ((n, s), ty)) in names.iter().zip(&types).enumerate() {
            let v = TE { e: udf::call(Kind::Field(i), vec![call.clone()]), ty: Ty::from_name(*ty) };
            tab = self.set_column(tab, n, v, *s)?;
        }
        if !keep_failed {
            // parse-where: only rows whose text matched and whose typed columns converted.
            let mut keep = udf::call(Kind::RegexMatch, vec![source, lit(re)]);
            for ((n, _), ty) in names.iter().zip(&types) {
                if !matches!(ty, TypeName::String | TypeName::Dynamic)
                    && let Some(c) = tab.col(n)
                {
                    keep = keep.and(c.is_not_null());
                }
            }
            tab = Tab { df: tab.df.filter(keep).map_err(self.df_err(span))?, dynamic: tab.dynamic };
        }
        Ok(tab)
    }

    pub fn mv_expand(
        &self,
        tab: Tab,
        bag_as_array: bool,
        index: Option<&str>,
        items: &[MvItem],
        limit: Option<i64>,
        span: Span,
    ) -> Result<Tab, QueryError> {
        let names = tab.names();
        let mut expanded: Vec<(String, Option<TypeName>)> = Vec::new();
        let mut values = Vec::new();
        {
            let sc = tab.scope();
            for it in items {
                let v = self.expr(&sc, &it.expr)?;
                let d = self.dynamic_of(v, it.expr.span)?;
                let name = match (&it.name, super::names::result_name(&it.expr)) {
                    (Some((n, _)), _) => n.clone(),
                    (None, Some(n)) => n,
                    (None, None) => return Err(self.err(it.expr.span, "name the expanded value: mv-expand Name = expression")),
                };
                if expanded.iter().any(|(n, _)| *n == name) {
                    return Err(self.err(it.expr.span, format!("column `{name}` is expanded twice")));
                }
                expanded.push((name, it.to));
                values.push(d);
            }
        }
        let need_index = index.is_some() || limit.is_some();
        let mut exprs: Vec<Expr> =
            names.iter().filter(|n| !expanded.iter().any(|(e, _)| e == *n)).filter_map(|n| tab.col(n).map(|c| c.alias(n))).collect();
        let mut lists = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let l = format!("__kql_mv{i}");
            exprs.push(udf::call(Kind::MvElements { bag_as_array }, vec![v.clone()]).alias(&l));
            lists.push(l);
        }
        if need_index {
            exprs.push(udf::call(Kind::MvIndex, values.clone()).alias("__kql_mvi"));
            lists.push("__kql_mvi".to_string());
        }
        let df = tab.df.select(exprs).map_err(self.df_err(span))?;
        let refs: Vec<&str> = lists.iter().map(String::as_str).collect();
        let mut df = df.unnest_columns_with_options(&refs, UnnestOptions::default()).map_err(self.df_err(span))?;
        if let Some(n) = limit {
            df = df.filter(Expr::Column(Column::from_name("__kql_mvi")).lt(lit(n))).map_err(self.df_err(span))?;
        }
        // Expanded columns replace the originals in place; new ones are appended.
        let mut dynamic: BTreeSet<String> = tab.dynamic.iter().filter(|d| !expanded.iter().any(|(e, _)| e == *d)).cloned().collect();
        let mut out = Vec::new();
        let mut placed = HashSet::new();
        let value_of = |i: usize, to: Option<TypeName>| {
            let c = Expr::Column(Column::from_name(format!("__kql_mv{i}")));
            match to {
                None | Some(TypeName::Dynamic) => c,
                Some(t) => udf::call(Kind::DynCast(t), vec![c]),
            }
        };
        for n in &names {
            match expanded.iter().position(|(e, _)| e == n) {
                Some(i) => {
                    out.push(value_of(i, expanded[i].1).alias(n));
                    placed.insert(i);
                }
                None => out.push(Expr::Column(Column::from_name(n)).alias(n)),
            }
        }
        for (i, (n, to)) in expanded.iter().enumerate() {
            if !placed.contains(&i) {
                out.push(value_of(i, *to).alias(n));
            }
            if matches!(to, None | Some(TypeName::Dynamic)) {
                dynamic.insert(n.clone());
            }
        }
        if let Some(ix) = index {
            out.push(Expr::Column(Column::from_name("__kql_mvi")).alias(ix));
        }
        let df = df.select(out).map_err(self.df_err(span))?;
        self.normalize(df, dynamic, span)
    }

    pub fn datatable(&self, columns: &[(String, Span, TypeName)], values: &[ast::Expr], span: Span) -> Result<Tab, QueryError> {
        if !values.len().is_multiple_of(columns.len()) {
            return Err(
                self.err(span, format!("datatable has {} columns but {} values, not a whole number of rows", columns.len(), values.len()))
            );
        }
        let mut cols: Vec<Vec<ScalarValue>> = vec![Vec::new(); columns.len()];
        for (i, v) in values.iter().enumerate() {
            let (_, _, t) = &columns[i % columns.len()];
            cols[i % columns.len()].push(self.datatable_value(v, *t)?);
        }
        let fields: Vec<Field> = columns.iter().map(|(n, _, t)| Field::new(n, arrow_type(*t), true)).collect();
        let arrays = cols
            .into_iter()
            .zip(columns)
            .map(|(c, (_, _, t))| if c.is_empty() { Ok(new_empty_array(&arrow_type(*t))) } else { ScalarValue::iter_to_array(c) })
            .collect::<Result<Vec<ArrayRef>, _>>()
            .map_err(self.df_err(span))?;
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| self.err(span, e.to_string()))?;
        let df = self.engine.ctx.read_batch(batch).map_err(self.df_err(span))?;
        let dynamic = columns.iter().filter(|(_, _, t)| *t == TypeName::Dynamic).map(|(n, _, _)| n.clone()).collect();
        self.normalize(df, dynamic, span)
    }

    fn datatable_value(&self, v: &ast::Expr, t: TypeName) -> Result<ScalarValue, QueryError> {
        let bad = || self.err(v.span, format!("expected a {} literal", Ty::from_name(t).kql()));
        Ok(match (&v.kind, t) {
            (ExprKind::Null(_), _) => ScalarValue::try_from(&arrow_type(t)).map_err(self.df_err(v.span))?,
            (ExprKind::Str(s), TypeName::String) => ScalarValue::Utf8(Some(s.clone())),
            (ExprKind::Long(x), TypeName::Long) => ScalarValue::Int64(Some(*x)),
            (ExprKind::Long(x), TypeName::Int) => ScalarValue::Int32(Some(i32::try_from(*x).map_err(|_| bad())?)),
            (ExprKind::Long(x), TypeName::Real) => ScalarValue::Float64(Some(*x as f64)),
            (ExprKind::Real(x), TypeName::Real) => ScalarValue::Float64(Some(*x)),
            (ExprKind::Bool(b), TypeName::Bool) => ScalarValue::Boolean(Some(*b)),
            (ExprKind::DateTime(ns), TypeName::DateTime) => ScalarValue::TimestampNanosecond(Some(*ns), Some("UTC".into())),
            (ExprKind::TimeSpan(ns), TypeName::TimeSpan) => ScalarValue::DurationNanosecond(Some(*ns)),
            (k, TypeName::Dynamic) => {
                let j = match k {
                    ExprKind::Dynamic(j) => j.clone(),
                    ExprKind::Str(s) => serde_json::Value::String(s.clone()),
                    ExprKind::Long(x) => serde_json::Value::from(*x),
                    ExprKind::Real(x) => serde_json::Number::from_f64(*x).map_or(serde_json::Value::Null, serde_json::Value::Number),
                    ExprKind::Bool(b) => serde_json::Value::Bool(*b),
                    _ => return Err(bad()),
                };
                ScalarValue::Utf8((!j.is_null()).then(|| j.to_string()))
            }
            _ => return Err(bad()),
        })
    }
}
