//! Scalar expressions: names, literals, operators. Every expression is planned together with
//! its KQL type ([`Ty`]); dynamic values are JSON text, so their type is tracked here rather
//! than read from Arrow.

use super::ast::{self, BinOp, ExprKind, LetValue, Span, StrOp, TypeName};
use super::plan::Planner;
use super::text::MatchOp;
use super::udf::{self, Kind};
use crate::error::QueryError;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::functions::expr_fn::{lower, nullif};
use datafusion::logical_expr::{ExprSchemable, Operator, binary_expr, cast, in_subquery, not_in_subquery, try_cast};
use datafusion::prelude::{Expr, lit};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Str,
    Long,
    Int,
    Real,
    Bool,
    DateTime,
    TimeSpan,
    Dynamic,
    Other,
}

impl Ty {
    pub fn of(dt: &DataType) -> Ty {
        match dt {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ty::Str,
            DataType::Int64 | DataType::UInt64 | DataType::UInt32 => Ty::Long,
            DataType::Int32 | DataType::Int16 | DataType::Int8 | DataType::UInt16 | DataType::UInt8 => Ty::Int,
            DataType::Float64 | DataType::Float32 => Ty::Real,
            DataType::Boolean => Ty::Bool,
            DataType::Timestamp(..) => Ty::DateTime,
            DataType::Duration(..) => Ty::TimeSpan,
            _ => Ty::Other,
        }
    }

    pub fn from_name(t: TypeName) -> Ty {
        match t {
            TypeName::String => Ty::Str,
            TypeName::Long => Ty::Long,
            TypeName::Int => Ty::Int,
            TypeName::Real => Ty::Real,
            TypeName::Bool => Ty::Bool,
            TypeName::DateTime => Ty::DateTime,
            TypeName::TimeSpan => Ty::TimeSpan,
            TypeName::Dynamic => Ty::Dynamic,
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Ty::Long | Ty::Int | Ty::Real)
    }

    /// KQL's name for the type, for messages and union's `name_type` columns.
    pub fn kql(self) -> &'static str {
        match self {
            Ty::Str => "string",
            Ty::Long => "long",
            Ty::Int => "int",
            Ty::Real => "real",
            Ty::Bool => "bool",
            Ty::DateTime => "datetime",
            Ty::TimeSpan => "timespan",
            Ty::Dynamic => "dynamic",
            Ty::Other => "unknown",
        }
    }
}

/// A planned expression and its KQL type.
#[derive(Debug, Clone)]
pub struct TE {
    pub e: Expr,
    pub ty: Ty,
}

/// What names resolve to while planning an expression: the input's columns, which of them
/// hold dynamic values, and (after summarize) the aggregation results standing in for calls.
pub struct Scope<'s> {
    pub schema: &'s DFSchema,
    pub dynamic: &'s BTreeSet<String>,
    pub aggs: Option<&'s HashMap<usize, (String, Ty)>>,
}

pub fn column_expr(schema: &DFSchema, name: &str) -> Option<Expr> {
    schema.iter().find(|(_, f)| f.name() == name).map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name())))
}

pub fn null_of(t: Ty) -> Expr {
    let dt = match t {
        Ty::Str | Ty::Dynamic | Ty::Other => DataType::Utf8,
        Ty::Long => DataType::Int64,
        Ty::Int => DataType::Int32,
        Ty::Real => DataType::Float64,
        Ty::Bool => DataType::Boolean,
        Ty::DateTime => crate::catalog::timestamp_type(),
        Ty::TimeSpan => DataType::Duration(TimeUnit::Nanosecond),
    };
    lit(ScalarValue::try_from(&dt).unwrap_or(ScalarValue::Null))
}

pub fn ts_lit(ns: i64) -> Expr {
    lit(ScalarValue::TimestampNanosecond(Some(ns), Some("UTC".into())))
}

pub fn span_lit(ns: i64) -> Expr {
    lit(ScalarValue::DurationNanosecond(Some(ns)))
}

impl Planner<'_> {
    pub fn err(&self, span: Span, msg: impl Into<String>) -> QueryError {
        QueryError::at(self.text, span.0, msg)
    }

    /// The type DataFusion gives an expression, as a [`TE`].
    pub fn typed(&self, sc: &Scope, e: Expr, span: Span) -> Result<TE, QueryError> {
        let dt = e.get_type(sc.schema).map_err(|x| self.err(span, format!("cannot type this expression: {x}")))?;
        Ok(TE { ty: Ty::of(&dt), e })
    }

    pub fn expr(&self, sc: &Scope, e: &ast::Expr) -> Result<TE, QueryError> {
        self.deeper(e.span, || self.expr_inner(sc, e))
    }

    fn expr_inner(&self, sc: &Scope, e: &ast::Expr) -> Result<TE, QueryError> {
        if let Some(m) = sc.aggs
            && let Some((name, ty)) = m.get(&(e as *const ast::Expr as usize))
        {
            let c = column_expr(sc.schema, name).ok_or_else(|| self.err(e.span, "internal: lost an aggregation result"))?;
            return Ok(TE { e: c, ty: *ty });
        }
        let te = |e: Expr, ty: Ty| Ok(TE { e, ty });
        match &e.kind {
            ExprKind::Name(n) => self.name(sc, n, e.span),
            ExprKind::Str(s) => te(lit(s.clone()), Ty::Str),
            ExprKind::Long(v) => te(lit(*v), Ty::Long),
            ExprKind::Real(v) => te(lit(*v), Ty::Real),
            ExprKind::Bool(v) => te(lit(*v), Ty::Bool),
            ExprKind::DateTime(ns) => te(ts_lit(*ns), Ty::DateTime),
            ExprKind::TimeSpan(ns) => te(span_lit(*ns), Ty::TimeSpan),
            ExprKind::Dynamic(v) if v.is_null() => te(null_of(Ty::Dynamic), Ty::Dynamic),
            ExprKind::Dynamic(v) => te(lit(v.to_string()), Ty::Dynamic),
            ExprKind::Null(t) => te(null_of(Ty::from_name(*t)), Ty::from_name(*t)),
            ExprKind::TypeOf(_) => Err(self.err(e.span, "typeof() is only accepted by extract() and mv-expand ... to typeof()")),
            ExprKind::Star => Err(self.err(e.span, "`*` is not allowed here")),
            ExprKind::Neg(x) => {
                let v = self.expr(sc, x)?;
                if !(v.ty.is_numeric() || v.ty == Ty::TimeSpan) {
                    return Err(self.err(e.span, format!("cannot negate a {}", v.ty.kql())));
                }
                te(Expr::Negative(Box::new(v.e)), v.ty)
            }
            ExprKind::Binary(op, a, b) => self.binary(sc, *op, a, b, e.span),
            ExprKind::In { lhs, items, negated, ci } => self.in_list(sc, lhs, items, *negated, *ci, e.span),
            ExprKind::InQuery { lhs, query, negated, ci } => {
                let l = self.expr(sc, lhs)?;
                self.in_query(l, query, *negated, *ci, e.span)
            }
            ExprKind::HasAny { lhs, items, all } => {
                let l = self.as_string(self.expr(sc, lhs)?);
                let mut args = vec![l.e];
                for t in self.constant_list(items)? {
                    args.push(lit(t));
                }
                te(udf::call(Kind::HasAny { all: *all }, args), Ty::Bool)
            }
            ExprKind::Between { lhs, lo, hi, negated } => {
                let v = self.expr(sc, lhs)?;
                if !(v.ty.is_numeric() || matches!(v.ty, Ty::DateTime | Ty::TimeSpan | Ty::Dynamic)) {
                    return Err(self.err(lhs.span, format!("between takes numbers, datetimes or timespans, not a {}", v.ty.kql())));
                }
                let lo_t = self.expr(sc, lo)?;
                let mut hi_t = self.expr(sc, hi)?;
                if v.ty == Ty::DateTime && lo_t.ty == Ty::DateTime && hi_t.ty == Ty::TimeSpan {
                    hi_t = TE { e: lo_t.e.clone() + hi_t.e, ty: Ty::DateTime };
                }
                let (v1, lo_t) = self.comparable(v.clone(), lo_t, e.span)?;
                let (v2, hi_t) = self.comparable(v, hi_t, e.span)?;
                let inside = v1.e.gt_eq(lo_t.e).and(v2.e.lt_eq(hi_t.e));
                te(if *negated { Expr::Not(Box::new(inside)) } else { inside }, Ty::Bool)
            }
            ExprKind::Call { name, args } => self.call(sc, name, args, e.span),
            ExprKind::Member(base, field) => {
                let b = self.expr(sc, base)?;
                let obj = self.dynamic_of(b, base.span)?;
                te(udf::call(Kind::DynGet, vec![obj, lit(field.clone())]), Ty::Dynamic)
            }
            ExprKind::Index(base, idx) => {
                let b = self.expr(sc, base)?;
                let obj = self.dynamic_of(b, base.span)?;
                let i = self.expr(sc, idx)?;
                let key = match i.ty {
                    Ty::Str => i.e,
                    Ty::Long | Ty::Int => cast(i.e, DataType::Int64),
                    Ty::Dynamic => udf::call(Kind::DynToString, vec![i.e]),
                    t => return Err(self.err(idx.span, format!("an index must be a string or a number, not a {}", t.kql()))),
                };
                te(udf::call(Kind::DynGet, vec![obj, key]), Ty::Dynamic)
            }
        }
    }

    fn name(&self, sc: &Scope, n: &str, span: Span) -> Result<TE, QueryError> {
        if let Some(c) = column_expr(sc.schema, n) {
            if sc.dynamic.contains(n) {
                return Ok(TE { e: c, ty: Ty::Dynamic });
            }
            return self.typed(sc, c, span);
        }
        if let Some((i, l)) = self.find_let(n) {
            return match &l.value {
                LetValue::Scalar(x) => match x.as_name() {
                    Some(inner) if self.with_visible(i, || self.find_let(inner).is_none()) && self.engine_has_table(inner) => {
                        Err(self.err(span, format!("`{n}` is a table, not a value")))
                    }
                    _ => self.with_visible(i, || self.expr(sc, x)),
                },
                LetValue::Tabular(_) => Err(self.err(span, format!("`{n}` is a table, not a value"))),
            };
        }
        let mut msg = format!("unknown column `{n}`");
        let names: Vec<&str> = sc.schema.fields().iter().map(|f| f.name().as_str()).collect();
        if let Some(s) = names.iter().find(|c| c.eq_ignore_ascii_case(n)) {
            msg.push_str(&format!(" (did you mean `{s}`? names are case-sensitive)"));
        } else if self.engine_has_table(n) {
            msg = format!("`{n}` is a table, not a value");
        }
        Err(self.err(span, msg))
    }

    /// A value's text, as KQL converts non-strings for string operators.
    pub fn as_string(&self, v: TE) -> TE {
        let e = match v.ty {
            Ty::Str => v.e,
            Ty::Dynamic => udf::call(Kind::DynToString, vec![v.e]),
            _ => udf::call(Kind::ToStr, vec![v.e]),
        };
        TE { e, ty: Ty::Str }
    }

    /// A value usable as dynamic: dynamic as is, text parsed as JSON (so that `.field` works on
    /// Defender's `AdditionalFields`, a string here).
    pub fn dynamic_of(&self, v: TE, span: Span) -> Result<Expr, QueryError> {
        match v.ty {
            Ty::Dynamic => Ok(v.e),
            Ty::Str => Ok(udf::call(Kind::ParseJson, vec![v.e])),
            t => Err(self.err(span, format!("expected a dynamic value, found a {}", t.kql()))),
        }
    }

    /// A dynamic value converted to a scalar type (through its text, as KQL's to*() do).
    pub fn dyn_to(&self, v: Expr, t: Ty) -> TE {
        let s = udf::call(Kind::DynToString, vec![v]);
        let e = match t {
            Ty::Str => s,
            Ty::Long => udf::call(Kind::Convert(TypeName::Long), vec![s]),
            Ty::Int => udf::call(Kind::Convert(TypeName::Int), vec![s]),
            Ty::Real => udf::call(Kind::Convert(TypeName::Real), vec![s]),
            Ty::Bool => udf::call(Kind::Convert(TypeName::Bool), vec![s]),
            Ty::DateTime => udf::call(Kind::Convert(TypeName::DateTime), vec![s]),
            Ty::TimeSpan => udf::call(Kind::Convert(TypeName::TimeSpan), vec![s]),
            Ty::Dynamic | Ty::Other => return TE { e: s, ty: Ty::Str },
        };
        TE { e, ty: t }
    }

    /// Brings two operands of a comparison to one type, or says why KQL would not compare them.
    pub fn comparable(&self, a: TE, b: TE, span: Span) -> Result<(TE, TE), QueryError> {
        let same_family = |x: Ty, y: Ty| x == y || x.is_numeric() && y.is_numeric();
        match (a.ty, b.ty) {
            (x, y) if same_family(x, y) && x != Ty::Other => Ok((a, b)),
            (Ty::Dynamic, t) if t != Ty::Other => Ok((self.dyn_to(a.e, t), b)),
            (t, Ty::Dynamic) if t != Ty::Other => Ok((a, self.dyn_to(b.e, t))),
            (x, y) => Err(self.err(
                span,
                format!("cannot compare a {} with a {}; convert one side (tostring(), tolong(), todatetime() ...)", x.kql(), y.kql()),
            )),
        }
    }

    pub fn predicate(&self, v: TE, span: Span) -> Result<Expr, QueryError> {
        match v.ty {
            Ty::Bool => Ok(v.e),
            Ty::Dynamic => Ok(self.dyn_to(v.e, Ty::Bool).e),
            t => Err(self.err(span, format!("expected a boolean condition, found a {}", t.kql()))),
        }
    }

    fn binary(&self, sc: &Scope, op: BinOp, a: &ast::Expr, b: &ast::Expr, span: Span) -> Result<TE, QueryError> {
        let l = self.expr(sc, a)?;
        let r = self.expr(sc, b)?;
        let te = |e: Expr, ty: Ty| Ok(TE { e, ty });
        match op {
            BinOp::And | BinOp::Or => {
                let (x, y) = (self.predicate(l, a.span)?, self.predicate(r, b.span)?);
                te(if op == BinOp::And { x.and(y) } else { x.or(y) }, Ty::Bool)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                if l.ty == Ty::Dynamic && r.ty == Ty::Dynamic && !matches!(op, BinOp::Eq | BinOp::Ne) {
                    return Err(self.err(span, "cannot order dynamic values; convert them first (tolong(), todatetime() ...)"));
                }
                let (x, y) = self.comparable(l, r, span)?;
                let o = match op {
                    BinOp::Eq => Operator::Eq,
                    BinOp::Ne => Operator::NotEq,
                    BinOp::Lt => Operator::Lt,
                    BinOp::Le => Operator::LtEq,
                    BinOp::Gt => Operator::Gt,
                    _ => Operator::GtEq,
                };
                te(binary_expr(x.e, o, y.e), Ty::Bool)
            }
            BinOp::EqCi | BinOp::NeCi => {
                self.stringish(&l, a.span, "=~")?;
                self.stringish(&r, b.span, "=~")?;
                let m = udf::call(Kind::Match { op: MatchOp::Equals, cs: false }, vec![self.as_string(l).e, self.as_string(r).e]);
                te(if op == BinOp::NeCi { Expr::Not(Box::new(m)) } else { m }, Ty::Bool)
            }
            BinOp::Str { op: s, cs, negated } => {
                let mop = match s {
                    StrOp::Contains => MatchOp::Contains,
                    StrOp::StartsWith => MatchOp::StartsWith,
                    StrOp::EndsWith => MatchOp::EndsWith,
                    StrOp::Has => MatchOp::Has,
                    StrOp::HasPrefix => MatchOp::HasPrefix,
                    StrOp::HasSuffix => MatchOp::HasSuffix,
                };
                let m = udf::call(Kind::Match { op: mop, cs }, vec![self.as_string(l).e, self.as_string(r).e]);
                te(if negated { Expr::Not(Box::new(m)) } else { m }, Ty::Bool)
            }
            BinOp::Regex => {
                if let ExprKind::Str(p) = &b.kind
                    && let Err(x) = regex::Regex::new(p)
                {
                    return Err(self.err(b.span, format!("invalid regular expression: {}", first_line(&x.to_string()))));
                }
                te(udf::call(Kind::RegexMatch, vec![self.as_string(l).e, self.as_string(r).e]), Ty::Bool)
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => self.arith(sc, op, l, r, span),
        }
    }

    fn stringish(&self, v: &TE, span: Span, op: &str) -> Result<(), QueryError> {
        match v.ty {
            Ty::Str | Ty::Dynamic => Ok(()),
            t => Err(self.err(span, format!("`{op}` compares strings, not a {}", t.kql()))),
        }
    }

    fn arith(&self, sc: &Scope, op: BinOp, l: TE, r: TE, span: Span) -> Result<TE, QueryError> {
        let (l, r) = match (l.ty, r.ty) {
            (Ty::Dynamic, t) if t.is_numeric() => (self.dyn_to(l.e, Ty::Real), r),
            (t, Ty::Dynamic) if t.is_numeric() => (l, self.dyn_to(r.e, Ty::Real)),
            _ => (l, r),
        };
        let ns = |e: Expr| cast(e, DataType::Int64);
        let dur = |e: Expr| cast(e, DataType::Duration(TimeUnit::Nanosecond));
        let bad = || Err(self.err(span, format!("cannot apply `{}` to a {} and a {}", op_text(op), l.ty.kql(), r.ty.kql())));
        let int_like = |t: Ty| matches!(t, Ty::Long | Ty::Int);
        let e = match (op, l.ty, r.ty) {
            (BinOp::Div | BinOp::Mod, a, b) if int_like(a) && int_like(b) => {
                let o = if op == BinOp::Div { Operator::Divide } else { Operator::Modulo };
                binary_expr(l.e, o, nullif(r.e, lit(0i64)))
            }
            (_, a, b) if a.is_numeric() && b.is_numeric() => {
                let o = match op {
                    BinOp::Add => Operator::Plus,
                    BinOp::Sub => Operator::Minus,
                    BinOp::Mul => Operator::Multiply,
                    BinOp::Div => Operator::Divide,
                    _ => Operator::Modulo,
                };
                binary_expr(l.e, o, r.e)
            }
            (BinOp::Add, Ty::DateTime, Ty::TimeSpan)
            | (BinOp::Sub, Ty::DateTime, Ty::TimeSpan)
            | (BinOp::Sub, Ty::DateTime, Ty::DateTime) => {
                let o = if op == BinOp::Add { Operator::Plus } else { Operator::Minus };
                binary_expr(l.e, o, r.e)
            }
            (BinOp::Add, Ty::TimeSpan, Ty::DateTime) => binary_expr(r.e, Operator::Plus, l.e),
            (BinOp::Add | BinOp::Sub, Ty::TimeSpan, Ty::TimeSpan) => {
                let o = if op == BinOp::Add { Operator::Plus } else { Operator::Minus };
                dur(binary_expr(ns(l.e), o, ns(r.e)))
            }
            (BinOp::Div, Ty::TimeSpan, Ty::TimeSpan) => {
                let f = |e| cast(ns(e), DataType::Float64);
                binary_expr(f(l.e), Operator::Divide, f(r.e))
            }
            (BinOp::Mul | BinOp::Div, Ty::TimeSpan, b) if b.is_numeric() => {
                let o = if op == BinOp::Mul { Operator::Multiply } else { Operator::Divide };
                let f = |e| cast(e, DataType::Float64);
                let v = if int_like(b) && op == BinOp::Div {
                    binary_expr(ns(l.e), o, nullif(cast(r.e, DataType::Int64), lit(0i64)))
                } else {
                    cast(binary_expr(f(ns(l.e)), o, f(r.e)), DataType::Int64)
                };
                dur(v)
            }
            (BinOp::Mul, a, Ty::TimeSpan) if a.is_numeric() => {
                dur(cast(binary_expr(cast(l.e, DataType::Float64), Operator::Multiply, cast(ns(r.e), DataType::Float64)), DataType::Int64))
            }
            _ => return bad(),
        };
        self.typed(sc, e, span)
    }

    fn in_list(&self, sc: &Scope, lhs: &ast::Expr, items: &[ast::Expr], negated: bool, ci: bool, span: Span) -> Result<TE, QueryError> {
        // `x in (T)` with T a table or tabular let: a sub-query.
        if let [one] = items
            && let Some(n) = one.as_name()
            && column_expr(sc.schema, n).is_none()
            && self.names_table(n)
        {
            let l = self.expr(sc, lhs)?;
            let q = ast::Pipeline { source: ast::Source::Name(n.to_string(), one.span), ops: Vec::new() };
            return self.in_query(l, &q, negated, ci, span);
        }
        let mut l = self.expr(sc, lhs)?;
        let mut list = Vec::new();
        for it in items {
            match self.resolve_const(it).map(|c| &c.kind) {
                Some(ExprKind::Dynamic(serde_json::Value::Array(values))) => {
                    for v in values {
                        list.push(
                            json_item(v, l.ty)
                                .ok_or_else(|| self.err(it.span, format!("`{v}` cannot be compared with a {}", l.ty.kql())))?,
                        );
                    }
                }
                _ => {
                    let v = self.expr(sc, it)?;
                    let (_, v) = self.comparable(l.clone(), v, it.span)?;
                    list.push(v);
                }
            }
        }
        if l.ty == Ty::Dynamic {
            let target = list.first().map_or(Ty::Str, |v| v.ty);
            l = self.dyn_to(l.e, target);
        }
        if ci {
            self.stringish(&l, lhs.span, "in~")?;
            let items = list.into_iter().map(|v| lower(self.as_string(v).e)).collect();
            return Ok(TE { e: lower(self.as_string(l).e).in_list(items, negated), ty: Ty::Bool });
        }
        if list.is_empty() {
            return Ok(TE { e: lit(negated), ty: Ty::Bool });
        }
        Ok(TE { e: l.e.in_list(list.into_iter().map(|v| v.e).collect(), negated), ty: Ty::Bool })
    }

    fn in_query(&self, l: TE, q: &ast::Pipeline, negated: bool, ci: bool, span: Span) -> Result<TE, QueryError> {
        let tab = self.pipeline(q)?;
        let schema = tab.df.schema().clone();
        let Some((qual, field)) = schema.iter().next() else {
            return Err(self.err(span, "the sub-query returns no columns"));
        };
        let c = Expr::Column(Column::new(qual.cloned(), field.name()));
        let mut inner = TE { e: c, ty: if tab.dynamic.contains(field.name()) { Ty::Dynamic } else { Ty::of(field.data_type()) } };
        let mut l = l;
        if ci {
            l = TE { e: lower(self.as_string(l).e), ty: Ty::Str };
            inner = TE { e: lower(self.as_string(inner).e), ty: Ty::Str };
        } else {
            (l, inner) = self.comparable(l, inner, span)?;
        }
        let df = tab.df.select(vec![inner.e.alias("__kql_in")]).map_err(|x| self.err(span, x.to_string()))?;
        let plan = Arc::new(df.logical_plan().clone());
        let e = if negated { not_in_subquery(l.e, plan) } else { in_subquery(l.e, plan) };
        Ok(TE { e, ty: Ty::Bool })
    }

    /// Constant strings for has_any / has_all: literals, dynamic arrays, lets naming them.
    fn constant_list(&self, items: &[ast::Expr]) -> Result<Vec<String>, QueryError> {
        let mut out = Vec::new();
        for it in items {
            match self.resolve_const(it).map(|c| &c.kind) {
                Some(ExprKind::Str(s)) => out.push(s.clone()),
                Some(ExprKind::Long(v)) => out.push(v.to_string()),
                Some(ExprKind::Dynamic(serde_json::Value::Array(vs))) => {
                    for v in vs {
                        out.push(match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        });
                    }
                }
                _ => return Err(self.err(it.span, "has_any and has_all need constant terms (strings or a dynamic array)")),
            }
        }
        Ok(out)
    }

    /// The literal an expression stands for, following scalar lets.
    pub fn resolve_const<'e>(&'e self, e: &'e ast::Expr) -> Option<&'e ast::Expr> {
        match &e.kind {
            ExprKind::Name(n) => {
                let (i, l) = self.find_let(n)?;
                match &l.value {
                    LetValue::Scalar(x) => self.with_visible(i, || self.resolve_const(x)),
                    LetValue::Tabular(_) => None,
                }
            }
            ExprKind::Str(_)
            | ExprKind::Long(_)
            | ExprKind::Real(_)
            | ExprKind::Bool(_)
            | ExprKind::Dynamic(_)
            | ExprKind::DateTime(_)
            | ExprKind::TimeSpan(_) => Some(e),
            _ => None,
        }
    }

    /// A constant whole number (take, top, limits).
    pub fn const_long(&self, e: &ast::Expr, what: &str) -> Result<i64, QueryError> {
        match self.resolve_const(e).map(|c| &c.kind) {
            Some(ExprKind::Long(v)) if *v >= 0 => Ok(*v),
            _ => Err(self.err(e.span, format!("{what} must be a constant, non-negative whole number"))),
        }
    }

    pub fn try_cast_to(&self, v: TE, t: Ty) -> TE {
        let dt = match t {
            Ty::Long => DataType::Int64,
            Ty::Int => DataType::Int32,
            Ty::Real => DataType::Float64,
            Ty::Bool => DataType::Boolean,
            _ => DataType::Utf8,
        };
        TE { e: try_cast(v.e, dt), ty: t }
    }
}

fn json_item(v: &serde_json::Value, t: Ty) -> Option<TE> {
    use serde_json::Value as J;
    let (e, ty) = match (v, t) {
        (J::String(s), Ty::Str | Ty::Dynamic) => (lit(s.clone()), Ty::Str),
        (J::Number(n), Ty::Long | Ty::Int | Ty::Dynamic) if n.is_i64() => (lit(n.as_i64()?), Ty::Long),
        (J::Number(n), Ty::Real | Ty::Long | Ty::Int | Ty::Dynamic) => (lit(n.as_f64()?), Ty::Real),
        (J::Bool(b), Ty::Bool | Ty::Dynamic) => (lit(*b), Ty::Bool),
        _ => return None,
    };
    Some(TE { e, ty })
}

fn op_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        _ => "%",
    }
}

pub fn first_line(s: &str) -> String {
    s.lines().rfind(|l| !l.trim().is_empty()).unwrap_or(s).trim().to_string()
}
