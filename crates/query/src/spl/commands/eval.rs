//! Eval expressions → DataFusion expressions, with SPL's typing: text fields that hold numbers
//! act as numbers next to numbers, `_time` is epoch seconds in arithmetic, missing fields are
//! null, division by zero is null.

use super::super::ast::{self, BinOp, UnOp};
use super::super::lexer::Span;
use super::super::plan::{HIDDEN, Planner, Stream, is_int, is_list, is_num, is_text, null_text};
use super::super::udf::{self, Kind, NumFormat};
use super::functions;
use super::search::ts_literal;
use crate::error::QueryError;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::nullif;
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator, cast, lit, not, try_cast, when};

pub struct Ctx<'a> {
    pub p: &'a Planner<'a>,
    pub s: &'a Stream,
}

pub fn eval(p: &Planner, mut s: Stream, assignments: &[(ast::Name, ast::Expr)], _span: Span) -> Result<Stream, QueryError> {
    for (name, e) in assignments {
        if name.text.starts_with(HIDDEN) || name.text.is_empty() {
            return Err(p.err(name.span, format!("`{}` cannot be assigned", name.text)));
        }
        let x = Ctx { p, s: &s }.compile(e)?;
        s.df = p.df(name.span, s.df.clone().with_column(&name.text, x))?;
    }
    Ok(s)
}

fn null_bool() -> Expr {
    lit(ScalarValue::Boolean(None))
}

pub fn null_float() -> Expr {
    lit(ScalarValue::Float64(None))
}

/// An operand that is text whatever the event holds: a quoted string, a function that always
/// returns text (`substr("string", 1, 3) + substr("string", -3)` in Splunk's reference), or a
/// join of such. `+` with one of these joins text; between two fields it would be ambiguous
/// (a field's text may hold a number).
fn text_by_construction(e: &ast::Expr) -> bool {
    match e {
        ast::Expr::Str(..) => true,
        ast::Expr::Call { name, .. } => matches!(
            name.to_ascii_lowercase().as_str(),
            "lower" | "upper" | "substr" | "replace" | "tostring" | "trim" | "ltrim" | "rtrim" | "strftime" | "mvjoin"
        ),
        ast::Expr::Binary { op: ast::BinOp::Concat, .. } => true,
        ast::Expr::Binary { op: ast::BinOp::Add, left, right, .. } => text_by_construction(left) || text_by_construction(right),
        _ => false,
    }
}

fn bin(l: Expr, op: Operator, r: Expr) -> Expr {
    Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r)))
}

pub fn type_name(t: &DataType) -> &'static str {
    match t {
        t if is_text(t) => "text",
        t if is_num(t) => "number",
        DataType::Boolean => "condition",
        DataType::Timestamp(..) => "time",
        DataType::Null => "null",
        t if is_list(t) => "multivalue field",
        _ => "value",
    }
}

impl Ctx<'_> {
    pub fn err(&self, span: Span, msg: impl Into<String>) -> QueryError {
        self.p.err(span, msg)
    }

    pub fn ty(&self, e: &Expr, span: Span) -> Result<DataType, QueryError> {
        self.p.df(span, e.get_type(self.s.schema()))
    }

    /// Compiles and types.
    pub fn typed(&self, e: &ast::Expr) -> Result<(Expr, DataType), QueryError> {
        let x = self.compile(e)?;
        let t = self.ty(&x, e.span())?;
        Ok((x, t))
    }

    #[recursive::recursive]
    pub fn compile(&self, e: &ast::Expr) -> Result<Expr, QueryError> {
        Ok(match e {
            ast::Expr::Field(n) => self.s.field(&n.text).map_or_else(null_text, |(c, _)| c),
            ast::Expr::Str(s, _) => lit(s.clone()),
            ast::Expr::Int(i, _) => lit(*i),
            ast::Expr::Float(f, _) => lit(*f),
            ast::Expr::Unary { op: UnOp::Not, expr, .. } => not(self.condition(expr, "NOT")?),
            ast::Expr::Unary { op: UnOp::Neg, expr, span } => {
                let (x, t) = self.typed(expr)?;
                Expr::Negative(Box::new(self.to_num(x, &t, *span)?))
            }
            ast::Expr::Binary { op, left, right, span } => self.binary(*op, left, right, *span)?,
            ast::Expr::In { expr, list, span } => {
                let l = self.typed(expr)?;
                let mut out = Vec::new();
                for item in list {
                    let r = self.typed(item)?;
                    out.push(self.compare(BinOp::Eq, l.clone(), r, item, *span)?);
                }
                out.into_iter().reduce(Expr::or).unwrap_or(lit(false))
            }
            ast::Expr::Call { name, args, span } => functions::call(self, name, args, *span)?,
        })
    }

    /// An expression that must be a condition (where, if, AND/OR/NOT).
    pub fn condition(&self, e: &ast::Expr, what: &str) -> Result<Expr, QueryError> {
        let (x, t) = self.typed(e)?;
        match t {
            DataType::Boolean => Ok(x),
            DataType::Null => Ok(null_bool()),
            other => Err(self.err(
                e.span(),
                format!("{what} needs a condition (a comparison, like(), match(), isnull(), ...), not a {}", type_name(&other)),
            )),
        }
    }

    pub fn to_num(&self, e: Expr, t: &DataType, span: Span) -> Result<Expr, QueryError> {
        Ok(match t {
            t if is_num(t) => e,
            t if is_text(t) => try_cast(e, DataType::Float64),
            DataType::Null => cast(e, DataType::Float64),
            DataType::Timestamp(..) => bin(cast(cast(e, DataType::Int64), DataType::Float64), Operator::Divide, lit(1e9)),
            other => return Err(self.err(span, format!("expected a number, not a {}", type_name(other)))),
        })
    }

    pub fn to_text(&self, e: Expr, t: &DataType, span: Span) -> Result<Expr, QueryError> {
        Ok(match t {
            t if is_text(t) => e,
            t if is_int(t) => cast(e, DataType::Utf8),
            t if t.is_floating() => udf::call(Kind::NumText(NumFormat::Plain), vec![e]),
            DataType::Null | DataType::Timestamp(..) => cast(e, DataType::Utf8),
            DataType::Boolean => {
                when(e.clone(), lit("true")).when(not(e), lit("false")).end().map_err(|x| self.err(span, x.to_string()))?
            }
            other => return Err(self.err(span, format!("expected text, not a {}", type_name(other)))),
        })
    }

    fn binary(&self, op: BinOp, left: &ast::Expr, right: &ast::Expr, span: Span) -> Result<Expr, QueryError> {
        match op {
            BinOp::Or => return Ok(self.condition(left, "OR")?.or(self.condition(right, "OR")?)),
            BinOp::And => return Ok(self.condition(left, "AND")?.and(self.condition(right, "AND")?)),
            BinOp::Xor => return Ok(self.condition(left, "XOR")?.not_eq(self.condition(right, "XOR")?)),
            _ => {}
        }
        let (l, lt) = self.typed(left)?;
        let (r, rt) = self.typed(right)?;
        match op {
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => self.compare(op, (l, lt), (r, rt), right, span),
            BinOp::Like => {
                let l = self.to_text(l, &lt, left.span())?;
                let r = self.to_text(r, &rt, right.span())?;
                Ok(Expr::Like(Like::new(false, Box::new(l), Box::new(r), None, false)))
            }
            BinOp::Concat => {
                let l = self.to_text(l, &lt, left.span())?;
                let r = self.to_text(r, &rt, right.span())?;
                Ok(bin(l, Operator::StringConcat, r))
            }
            BinOp::Add if is_text(&lt) && is_text(&rt) => {
                if text_by_construction(left) || text_by_construction(right) {
                    Ok(bin(l, Operator::StringConcat, r))
                } else {
                    Err(self.err(span, "`+` between two text fields is ambiguous: use `.` to join text, or tonumber() to add"))
                }
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                if lt == DataType::Null || rt == DataType::Null {
                    return Ok(null_float());
                }
                let l = self.to_num(l, &lt, left.span())?;
                let r = self.to_num(r, &rt, right.span())?;
                let both_int = is_int(&lt) && is_int(&rt);
                Ok(match op {
                    BinOp::Add => bin(l, Operator::Plus, r),
                    BinOp::Sub => bin(l, Operator::Minus, r),
                    BinOp::Mul => bin(l, Operator::Multiply, r),
                    BinOp::Mod if both_int => bin(l, Operator::Modulo, nullif(r, lit(0i64))),
                    BinOp::Mod => bin(cast(l, DataType::Float64), Operator::Modulo, nullif(cast(r, DataType::Float64), lit(0.0))),
                    _ => bin(cast(l, DataType::Float64), Operator::Divide, nullif(cast(r, DataType::Float64), lit(0.0))),
                })
            }
            _ => Err(self.err(span, "unsupported operator")),
        }
    }

    /// `l op r` with SPL's coercions; `right` is the right operand's syntax (for literals).
    pub fn compare(&self, op: BinOp, l: (Expr, DataType), r: (Expr, DataType), right: &ast::Expr, span: Span) -> Result<Expr, QueryError> {
        let (l, lt) = l;
        let (r, rt) = r;
        let op = match op {
            BinOp::Eq => Operator::Eq,
            BinOp::Ne => Operator::NotEq,
            BinOp::Lt => Operator::Lt,
            BinOp::Le => Operator::LtEq,
            BinOp::Gt => Operator::Gt,
            _ => Operator::GtEq,
        };
        if lt == DataType::Null || rt == DataType::Null {
            return Ok(null_bool());
        }
        if is_list(&lt) || is_list(&rt) {
            return Err(self.err(span, "comparisons with multivalue fields are not supported: use mvcount() or search"));
        }
        let ts = |e: Expr, t: &DataType, node: &ast::Expr| -> Result<Expr, QueryError> {
            if let DataType::Timestamp(..) = t {
                return Ok(cast(e, DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))));
            }
            if let ast::Expr::Str(s, sp) = node {
                let t = taskhunt_events::Timestamp::parse(s).ok_or_else(|| self.err(*sp, format!("\"{s}\" is not a time (RFC 3339)")))?;
                return Ok(ts_literal(t.unix_nanos()));
            }
            Ok(try_cast(e, DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))))
        };
        let same = |a: &DataType, b: &DataType| {
            (is_text(a) && is_text(b)) || (is_num(a) && is_num(b)) || (a == &DataType::Boolean && b == &DataType::Boolean)
        };
        Ok(match (&lt, &rt) {
            (a, b) if same(a, b) => bin(l, op, r),
            (DataType::Timestamp(..), b) | (b, DataType::Timestamp(..)) if is_num(b) => {
                bin(self.to_num(l, &lt, span)?, op, self.to_num(r, &rt, span)?)
            }
            (DataType::Timestamp(..), b) if is_text(b) || matches!(b, DataType::Timestamp(..)) => {
                bin(ts(l, &lt, right)?, op, ts(r, &rt, right)?)
            }
            (a, DataType::Timestamp(..)) if is_text(a) => {
                bin(try_cast(l, DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))), op, ts(r, &rt, right)?)
            }
            (a, b) if (is_num(a) && is_text(b)) || (is_text(a) && is_num(b)) => {
                bin(self.to_num(l, &lt, span)?, op, self.to_num(r, &rt, span)?)
            }
            (DataType::Boolean, b) if is_text(b) => bin(self.to_text(l, &lt, span)?, op, r),
            (a, DataType::Boolean) if is_text(a) => bin(l, op, self.to_text(r, &rt, span)?),
            (a, b) => return Err(self.err(span, format!("cannot compare a {} with a {}", type_name(a), type_name(b)))),
        })
    }
}
