//! Scalar function calls: KQL names and semantics mapped onto DataFusion built-ins where they
//! agree, and onto the UDFs in [`super::udf`] where KQL differs.

use super::ast::{self, ExprKind, Span, TypeName};
use super::expr::{Scope, TE, Ty, column_expr, first_line, ts_lit};
use super::names::aggregate_prefix;
use super::plan::Planner;
use super::udf::{self, Kind};
use crate::error::QueryError;
use datafusion::arrow::datatypes::DataType;
use datafusion::functions::expr_fn::{character_length, coalesce, concat, date_trunc, lower, upper};
use datafusion::logical_expr::{cast, when};
use datafusion::prelude::{Expr, lit};

/// Aggregations that only summarize accepts.
const AGGREGATES: &[&str] = &["arg_max", "arg_min", "take_any", "any"];

/// Nanoseconds from 0001-01-01 to the Unix epoch, divided into ticks: tolong(datetime).
const EPOCH_TICKS: i64 = 621_355_968_000_000_000;

impl Planner<'_> {
    fn arity(&self, name: &str, args: &[ast::Expr], span: Span, min: usize, max: usize) -> Result<(), QueryError> {
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(self.err(span, format!("{name}() takes {want} argument{}, got {}", if max == 1 { "" } else { "s" }, args.len())));
        }
        Ok(())
    }

    pub fn call(&self, sc: &Scope, name: &str, args: &[ast::Expr], span: Span) -> Result<TE, QueryError> {
        if aggregate_prefix(name).is_some() || AGGREGATES.contains(&name) {
            return Err(self.err(span, format!("{name}() is an aggregation: use it in summarize")));
        }
        let arg = |i: usize| self.expr(sc, &args[i]);
        let te = |e: Expr, ty: Ty| Ok(TE { e, ty });
        let a = |n: usize, m: usize| self.arity(name, args, span, n, m);
        match name {
            "ago" => {
                a(1, 1)?;
                let v = arg(0)?;
                if v.ty != Ty::TimeSpan {
                    return Err(self.err(args[0].span, "ago() takes a timespan such as 1d or 30m"));
                }
                let now = ts_lit(self.now_ns(span)?);
                te(now - v.e, Ty::DateTime)
            }
            "now" => {
                a(0, 1)?;
                let now = ts_lit(self.now_ns(span)?);
                if args.is_empty() {
                    return te(now, Ty::DateTime);
                }
                let v = arg(0)?;
                if v.ty != Ty::TimeSpan {
                    return Err(self.err(args[0].span, "now() takes a timespan offset"));
                }
                te(now + v.e, Ty::DateTime)
            }
            "bin" | "floor" => {
                a(2, 2)?;
                let (v, size) = (arg(0)?, arg(1)?);
                let (v, size) = match (v.ty, size.ty) {
                    (Ty::DateTime, Ty::TimeSpan) | (Ty::TimeSpan, Ty::TimeSpan) => (v.e, size.e),
                    (x, y) if matches!(x, Ty::Long | Ty::Int) && matches!(y, Ty::Long | Ty::Int) => {
                        (cast(v.e, DataType::Int64), cast(size.e, DataType::Int64))
                    }
                    (x, y) if x.is_numeric() && y.is_numeric() => (cast(v.e, DataType::Float64), cast(size.e, DataType::Float64)),
                    (x, y) => return Err(self.err(span, format!("{name}() cannot round a {} to a {}", x.kql(), y.kql()))),
                };
                self.typed(sc, udf::call(Kind::Bin, vec![v, size]), span)
            }
            "startofday" => {
                a(1, 2)?;
                let v = arg(0)?;
                if v.ty != Ty::DateTime {
                    return Err(self.err(args[0].span, "startofday() takes a datetime"));
                }
                let mut d = date_trunc(lit("day"), v.e);
                if args.len() == 2 {
                    let days = arg(1)?;
                    if !matches!(days.ty, Ty::Long | Ty::Int) {
                        return Err(self.err(args[1].span, "the offset of startofday() is a number of days"));
                    }
                    let ns = cast(
                        cast(days.e, DataType::Int64) * lit(86_400_000_000_000i64),
                        DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Nanosecond),
                    );
                    d = d + ns;
                }
                self.typed(sc, d, span)
            }
            "tolower" | "toupper" => {
                a(1, 1)?;
                let s = self.as_string(arg(0)?).e;
                te(if name == "tolower" { lower(s) } else { upper(s) }, Ty::Str)
            }
            "tostring" => {
                a(1, 1)?;
                Ok(self.as_string(arg(0)?))
            }
            "toint" | "tolong" | "toreal" | "todouble" | "tobool" | "toboolean" | "todatetime" | "totimespan" | "totime" => {
                a(1, 1)?;
                let t = match name {
                    "toint" => TypeName::Int,
                    "tolong" => TypeName::Long,
                    "toreal" | "todouble" => TypeName::Real,
                    "tobool" | "toboolean" => TypeName::Bool,
                    "todatetime" => TypeName::DateTime,
                    _ => TypeName::TimeSpan,
                };
                self.convert(arg(0)?, t, args[0].span)
            }
            "strlen" => {
                a(1, 1)?;
                te(cast(character_length(self.as_string(arg(0)?).e), DataType::Int64), Ty::Long)
            }
            "substring" => {
                a(2, 3)?;
                let mut v = vec![self.as_string(arg(0)?).e];
                for (i, a) in args.iter().enumerate().skip(1) {
                    v.push(self.integer(arg(i)?, a.span)?);
                }
                te(udf::call(Kind::Substring, v), Ty::Str)
            }
            "strcat" => {
                a(1, 64)?;
                let parts = (0..args.len()).map(|i| Ok(self.as_string(arg(i)?).e)).collect::<Result<Vec<_>, QueryError>>()?;
                te(concat(parts), Ty::Str)
            }
            "split" => {
                a(2, 3)?;
                let mut v = vec![self.as_string(arg(0)?).e, self.as_string(arg(1)?).e];
                if args.len() == 3 {
                    v.push(self.integer(arg(2)?, args[2].span)?);
                }
                te(udf::call(Kind::Split, v), Ty::Dynamic)
            }
            "replace_string" => {
                a(3, 3)?;
                let v = (0..3).map(|i| Ok(self.as_string(arg(i)?).e)).collect::<Result<Vec<_>, QueryError>>()?;
                te(udf::call(Kind::ReplaceString, v), Ty::Str)
            }
            "extract" => {
                a(3, 4)?;
                if let ExprKind::Str(p) = &args[0].kind
                    && let Err(x) = regex::Regex::new(p)
                {
                    return Err(self.err(args[0].span, format!("invalid regular expression: {}", first_line(&x.to_string()))));
                }
                let re = self.as_string(arg(0)?).e;
                let group = self.integer(arg(1)?, args[1].span)?;
                let text = self.as_string(arg(2)?).e;
                let out = TE { e: udf::call(Kind::Extract, vec![text, re, group]), ty: Ty::Str };
                match args.get(3).map(|x| &x.kind) {
                    None => Ok(out),
                    Some(ExprKind::TypeOf(t)) => self.convert(out, *t, args[3].span),
                    Some(_) => Err(self.err(args[3].span, "the fourth argument of extract() is typeof(type)")),
                }
            }
            "iff" | "iif" => {
                a(3, 3)?;
                let c = self.predicate(arg(0)?, args[0].span)?;
                let (x, y) = self.common(arg(1)?, arg(2)?, span)?;
                let e = when(c, x.e).otherwise(y.e).map_err(self.df_err(span))?;
                te(e, x.ty)
            }
            "case" => {
                if args.len() < 3 || args.len().is_multiple_of(2) {
                    return Err(self.err(span, "case() takes condition/value pairs and an else value"));
                }
                let mut ty: Option<TE> = None;
                let mut pairs = Vec::new();
                for i in (0..args.len() - 1).step_by(2) {
                    pairs.push((self.predicate(arg(i)?, args[i].span)?, arg(i + 1)?));
                }
                let mut other = arg(args.len() - 1)?;
                for (_, v) in &mut pairs {
                    let (x, y) = self.common(v.clone(), other.clone(), span)?;
                    *v = x;
                    other = y;
                    ty = Some(v.clone());
                }
                let (c0, v0) = pairs.remove(0);
                let mut b = when(c0, v0.e);
                for (c, v) in pairs {
                    b = b.when(c, v.e);
                }
                te(b.otherwise(other.e).map_err(self.df_err(span))?, ty.map_or(Ty::Other, |t| t.ty))
            }
            "isempty" | "isnotempty" => {
                a(1, 1)?;
                let v = arg(0)?;
                let empty = match v.ty {
                    Ty::Str => v.e.clone().is_null().or(v.e.eq(lit(""))),
                    Ty::Dynamic => v.e.clone().is_null().or(v.e.eq(lit("\"\""))),
                    _ => v.e.is_null(),
                };
                te(if name == "isempty" { empty } else { Expr::Not(Box::new(empty)) }, Ty::Bool)
            }
            "isnull" | "isnotnull" => {
                a(1, 1)?;
                let v = arg(0)?.e;
                te(if name == "isnull" { v.is_null() } else { v.is_not_null() }, Ty::Bool)
            }
            "not" => {
                a(1, 1)?;
                te(Expr::Not(Box::new(self.predicate(arg(0)?, args[0].span)?)), Ty::Bool)
            }
            "parse_json" | "parsejson" | "todynamic" | "toobject" => {
                a(1, 1)?;
                let v = arg(0)?;
                let e = match v.ty {
                    Ty::Dynamic => v.e,
                    _ => udf::call(Kind::ParseJson, vec![self.as_string(v).e]),
                };
                te(e, Ty::Dynamic)
            }
            "parse_url" => {
                a(1, 1)?;
                te(udf::call(Kind::ParseUrl, vec![self.as_string(arg(0)?).e]), Ty::Dynamic)
            }
            "base64_decode_tostring" | "base64_decodestring" => {
                a(1, 1)?;
                te(udf::call(Kind::Base64Decode, vec![self.as_string(arg(0)?).e]), Ty::Str)
            }
            "array_length" | "arraylength" => {
                a(1, 1)?;
                let d = self.dynamic_of(arg(0)?, args[0].span)?;
                te(udf::call(Kind::ArrayLength, vec![d]), Ty::Long)
            }
            "coalesce" => {
                a(2, 64)?;
                let mut vals = vec![arg(0)?];
                for i in 1..args.len() {
                    let (x, y) = self.common(vals[0].clone(), arg(i)?, span)?;
                    vals[0] = x;
                    vals.push(y);
                }
                let ty = vals[0].ty;
                if ty == Ty::Str {
                    // KQL: the first non-empty string.
                    let mut b = when(vals[0].e.clone().not_eq(lit("")), vals[0].e.clone());
                    for v in &vals[1..] {
                        b = b.when(v.e.clone().not_eq(lit("")), v.e.clone());
                    }
                    return te(b.otherwise(lit("")).map_err(self.df_err(span))?, ty);
                }
                te(coalesce(vals.into_iter().map(|v| v.e).collect()), ty)
            }
            "column_ifexists" | "columnifexists" => {
                a(2, 2)?;
                let ExprKind::Str(col) = &args[0].kind else {
                    return Err(self.err(args[0].span, "column_ifexists() takes the column name as a string literal"));
                };
                match column_expr(sc.schema, col) {
                    Some(_) => self.expr(sc, &ast::Expr::new(ExprKind::Name(col.clone()), args[0].span)),
                    None => arg(1),
                }
            }
            "datetime" | "dynamic" | "timespan" | "time" => Err(self.err(
                span,
                format!(
                    "{name}() takes a literal value, e.g. {name}({})",
                    match name {
                        "datetime" => "2024-01-31 12:00",
                        "dynamic" => "[\"a\", \"b\"]",
                        _ => "1.00:00:00",
                    }
                ),
            )),
            _ => Err(self.err(span, format!("unsupported function `{name}()`"))),
        }
    }

    fn now_ns(&self, span: Span) -> Result<i64, QueryError> {
        i64::try_from(self.engine.now.unix_nanos()).map_err(|_| self.err(span, "now is out of the datetime range"))
    }

    fn integer(&self, v: TE, span: Span) -> Result<Expr, QueryError> {
        match v.ty {
            Ty::Long | Ty::Int => Ok(cast(v.e, DataType::Int64)),
            Ty::Dynamic => Ok(self.dyn_to(v.e, Ty::Long).e),
            t => Err(self.err(span, format!("expected a whole number, found a {}", t.kql()))),
        }
    }

    /// KQL's conversion functions: text and dynamic values are parsed, numbers cast.
    pub fn convert(&self, v: TE, t: TypeName, span: Span) -> Result<TE, QueryError> {
        let target = Ty::from_name(t);
        if v.ty == target {
            return Ok(v);
        }
        Ok(match (v.ty, target) {
            (Ty::Str, _) => TE { e: udf::call(Kind::Convert(t), vec![v.e]), ty: target },
            (Ty::Dynamic, _) => self.dyn_to(v.e, target),
            (a, b) if (a.is_numeric() || a == Ty::Bool) && (b.is_numeric() || b == Ty::Bool) => self.try_cast_to(v, target),
            (Ty::DateTime, Ty::Long) => {
                let ns = cast(v.e, DataType::Int64);
                TE { e: ns / lit(100i64) + lit(EPOCH_TICKS), ty: Ty::Long }
            }
            (Ty::TimeSpan, Ty::Long | Ty::Real) => {
                let ticks = cast(v.e, DataType::Int64) / lit(100i64);
                if target == Ty::Long { TE { e: ticks, ty: Ty::Long } } else { TE { e: cast(ticks, DataType::Float64), ty: Ty::Real } }
            }
            (Ty::Long | Ty::Int, Ty::TimeSpan) => TE {
                e: cast(cast(v.e, DataType::Int64) * lit(100i64), DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Nanosecond)),
                ty: Ty::TimeSpan,
            },
            (a, b) => return Err(self.err(span, format!("cannot convert a {} to {}", a.kql(), b.kql()))),
        })
    }

    /// The common type of two branches (iff, case, coalesce); a dynamic branch takes the other's.
    fn common(&self, x: TE, y: TE, span: Span) -> Result<(TE, TE), QueryError> {
        match (x.ty, y.ty) {
            (a, b) if a == b => Ok((x, y)),
            (a, b) if a.is_numeric() && b.is_numeric() => {
                let t = if a == Ty::Real || b == Ty::Real { Ty::Real } else { Ty::Long };
                Ok((self.try_cast_to(x, t), self.try_cast_to(y, t)))
            }
            (Ty::Dynamic, t) => Ok((self.dyn_to(x.e, t), y)),
            (t, Ty::Dynamic) => Ok((x, self.dyn_to(y.e, t))),
            (a, b) => Err(self.err(span, format!("the branches have different types ({} and {})", a.kql(), b.kql()))),
        }
    }
}
