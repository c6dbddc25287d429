//! Eval functions. Regexes and formats must be literal strings: they are compiled and checked
//! while planning, so a bad one is an error with a caret rather than a failure mid-query.

use super::super::ast::{self, Search};
use super::super::lexer::Span;
use super::super::parser::Parser;
use super::super::plan::{is_int, is_list, is_num, is_text};
use super::super::udf::{self, Kind, NumFormat, Re};
use super::eval::{Ctx, type_name};
use super::search;
use super::timeparse::jiff_format;
use crate::error::QueryError;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::functions_nested::expr_fn as nested;
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{Expr, cast, lit, when};

const SUPPORTED: &str = "if, case, coalesce, lower, upper, len, substr, replace, match, like, tonumber, tostring, \
strftime, strptime, now, time, isnull, isnotnull, isnum, isstr, null, true, false, abs, round, floor, ceil, trim, \
ltrim, rtrim, in, mvcount, mvjoin, searchmatch";

fn arity(cx: &Ctx, name: &str, args: &[ast::Expr], min: usize, max: usize, span: Span) -> Result<(), QueryError> {
    if args.len() < min || args.len() > max {
        let want = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(cx.err(span, format!("{name}() takes {want} argument{}, not {}", if want == "1" { "" } else { "s" }, args.len())));
    }
    Ok(())
}

fn literal<'e>(cx: &Ctx, name: &str, what: &str, e: &'e ast::Expr) -> Result<(&'e str, Span), QueryError> {
    match e {
        ast::Expr::Str(s, sp) => Ok((s, *sp)),
        other => Err(cx.err(other.span(), format!("{name}(): the {what} must be a quoted string"))),
    }
}

fn regex(cx: &Ctx, name: &str, e: &ast::Expr) -> Result<Re, QueryError> {
    let (pattern, span) = literal(cx, name, "regular expression", e)?;
    Re::new(pattern).map_err(|err| cx.err(span, format!("{name}(): regular expression not supported: {}", one_line(&err.to_string()))))
}

pub fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// PCRE/Splunk replacement text (`\1`) → the regex crate's (`${1}`, `$$`).
pub fn replacement(with: &str) -> String {
    let mut out = String::new();
    let mut chars = with.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    n.push(*d);
                    chars.next();
                }
                out.push_str(&format!("${{{n}}}"));
            }
            '\\' if chars.peek() == Some(&'\\') => {
                chars.next();
                out.push('\\');
            }
            c => out.push(c),
        }
    }
    out
}

/// Casts values to one type: the shared type, numbers to a number, otherwise text.
fn unify(cx: &Ctx, items: Vec<(Expr, DataType, Span)>) -> Result<Vec<Expr>, QueryError> {
    let types: Vec<&DataType> = items.iter().map(|i| &i.1).filter(|t| **t != DataType::Null).collect();
    let target = match types.first() {
        None => return Ok(items.into_iter().map(|i| i.0).collect()),
        Some(t) if types.iter().all(|x| x == t) => (*t).clone(),
        Some(_) if types.iter().all(|t| is_int(t)) => DataType::Int64,
        Some(_) if types.iter().all(|t| is_num(t)) => DataType::Float64,
        Some(_) => DataType::Utf8,
    };
    items
        .into_iter()
        .map(|(e, t, sp)| {
            if t == target {
                Ok(e)
            } else if target == DataType::Utf8 {
                cx.to_text(e, &t, sp)
            } else {
                Ok(cast(e, target.clone()))
            }
        })
        .collect()
}

pub fn call(cx: &Ctx, name: &str, args: &[ast::Expr], span: Span) -> Result<Expr, QueryError> {
    let lower = name.to_ascii_lowercase();
    let n = lower.as_str();
    let typed = |i: usize| cx.typed(&args[i]);
    let text = |i: usize| -> Result<Expr, QueryError> {
        let (e, t) = cx.typed(&args[i])?;
        cx.to_text(e, &t, args[i].span())
    };
    let num = |i: usize| -> Result<Expr, QueryError> {
        let (e, t) = cx.typed(&args[i])?;
        cx.to_num(e, &t, args[i].span())
    };
    let df = |r: datafusion::error::Result<Expr>| cx.p.df(span, r);
    Ok(match n {
        "if" => {
            arity(cx, n, args, 3, 3, span)?;
            let c = cx.condition(&args[0], "if()")?;
            let (a, at) = typed(1)?;
            let (b, bt) = typed(2)?;
            let v = unify(cx, vec![(a, at, args[1].span()), (b, bt, args[2].span())])?;
            df(when(c, v[0].clone()).otherwise(v[1].clone()))?
        }
        "case" => {
            if args.is_empty() || !args.len().is_multiple_of(2) {
                return Err(cx.err(span, "case() takes condition, value pairs"));
            }
            let mut conds = Vec::new();
            let mut values = Vec::new();
            for pair in args.chunks(2) {
                conds.push(cx.condition(&pair[0], "case()")?);
                let (v, t) = cx.typed(&pair[1])?;
                values.push((v, t, pair[1].span()));
            }
            let values = unify(cx, values)?;
            let mut b = when(conds[0].clone(), values[0].clone());
            for (c, v) in conds.iter().zip(&values).skip(1) {
                b = b.when(c.clone(), v.clone());
            }
            df(b.end())?
        }
        "coalesce" => {
            arity(cx, n, args, 1, usize::MAX, span)?;
            let items = (0..args.len()).map(|i| typed(i).map(|(e, t)| (e, t, args[i].span()))).collect::<Result<_, _>>()?;
            f::coalesce(unify(cx, items)?)
        }
        "lower" | "upper" => {
            arity(cx, n, args, 1, 1, span)?;
            if n == "lower" { f::lower(text(0)?) } else { f::upper(text(0)?) }
        }
        "len" => {
            arity(cx, n, args, 1, 1, span)?;
            cast(f::character_length(text(0)?), DataType::Int64)
        }
        "substr" => {
            arity(cx, n, args, 2, 3, span)?;
            let mut a = vec![text(0)?, cast(num(1)?, DataType::Int64)];
            if args.len() == 3 {
                a.push(cast(num(2)?, DataType::Int64));
            }
            udf::call(Kind::Substr, a)
        }
        "replace" => {
            arity(cx, n, args, 3, 3, span)?;
            let re = regex(cx, n, &args[1])?;
            let (with, _) = literal(cx, n, "replacement", &args[2])?;
            udf::call(Kind::Replace { re, with: replacement(with), global: true }, vec![text(0)?])
        }
        "match" => {
            arity(cx, n, args, 2, 2, span)?;
            let re = regex(cx, n, &args[1])?;
            udf::call(Kind::Match(re), vec![text(0)?])
        }
        "like" => {
            arity(cx, n, args, 2, 2, span)?;
            Expr::Like(Like::new(false, Box::new(text(0)?), Box::new(text(1)?), None, false))
        }
        "tonumber" => {
            arity(cx, n, args, 1, 2, span)?;
            let base = match args.get(1) {
                None => 10,
                Some(ast::Expr::Int(b, _)) if (2..=36).contains(b) => *b as u32,
                Some(other) => return Err(cx.err(other.span(), "tonumber(): the base must be a number from 2 to 36")),
            };
            let (e, t) = typed(0)?;
            match t {
                t if is_num(&t) && base == 10 => e,
                t if is_int(&t) => e,
                t if is_text(&t) || t == DataType::Null => udf::call(Kind::ToNumber { base }, vec![e]),
                other => return Err(cx.err(args[0].span(), format!("tonumber() needs text, not a {}", type_name(&other)))),
            }
        }
        "tostring" => {
            arity(cx, n, args, 1, 2, span)?;
            let format = match args.get(1) {
                None => None,
                Some(a) => Some(match literal(cx, n, "format", a)?.0.to_ascii_lowercase().as_str() {
                    "hex" => NumFormat::Hex,
                    "commas" => NumFormat::Commas,
                    "duration" => NumFormat::Duration,
                    other => {
                        return Err(cx.err(a.span(), format!("tostring(): format \"{other}\" is not supported (hex, commas, duration)")));
                    }
                }),
            };
            let (e, t) = typed(0)?;
            match (format, &t) {
                (Some(fm), t) if is_num(t) => udf::call(Kind::NumText(fm), vec![e]),
                (Some(fm), t) if is_text(t) => udf::call(Kind::NumText(fm), vec![udf::call(Kind::ToNumber { base: 10 }, vec![e])]),
                // Splunk writes a Boolean as "True" or "False".
                (_, DataType::Boolean) => when(e.clone(), lit("True"))
                    .when(Expr::Not(Box::new(e)), lit("False"))
                    .end()
                    .map_err(|x| cx.err(span, x.to_string()))?,
                _ => cx.to_text(e, &t, args[0].span())?,
            }
        }
        "strftime" => {
            arity(cx, n, args, 2, 2, span)?;
            let (fmt, fsp) = literal(cx, n, "format", &args[1])?;
            let fmt = jiff_format(fmt);
            if udf::strftime(0, &fmt).is_none() {
                return Err(cx.err(fsp, "strftime(): this format is not supported"));
            }
            let (e, t) = typed(0)?;
            let nanos = match t {
                DataType::Timestamp(..) => cast(e, DataType::Int64),
                DataType::Null => cast(e, DataType::Int64),
                other => {
                    let secs = cx.to_num(e, &other, args[0].span())?;
                    cast(
                        datafusion::logical_expr::binary_expr(
                            cast(secs, DataType::Float64),
                            datafusion::logical_expr::Operator::Multiply,
                            lit(1e9),
                        ),
                        DataType::Int64,
                    )
                }
            };
            udf::call(Kind::Strftime(fmt), vec![nanos])
        }
        "strptime" => {
            arity(cx, n, args, 2, 2, span)?;
            let (fmt, _) = literal(cx, n, "format", &args[1])?;
            udf::call(Kind::Strptime(jiff_format(fmt)), vec![text(0)?])
        }
        "now" | "time" => {
            arity(cx, n, args, 0, 0, span)?;
            let nanos = cx.p.engine.now.unix_nanos();
            if n == "now" { lit(nanos.div_euclid(1_000_000_000) as i64) } else { lit(nanos as f64 / 1e9) }
        }
        "isnull" | "isnotnull" => {
            arity(cx, n, args, 1, 1, span)?;
            let (e, _) = typed(0)?;
            if n == "isnull" { e.is_null() } else { e.is_not_null() }
        }
        "isnum" => {
            arity(cx, n, args, 1, 1, span)?;
            let (e, t) = typed(0)?;
            match t {
                t if is_num(&t) => e.is_not_null(),
                t if is_text(&t) => udf::call(Kind::ToNumber { base: 10 }, vec![e]).is_not_null(),
                _ => lit(false),
            }
        }
        "isstr" => {
            arity(cx, n, args, 1, 1, span)?;
            let (e, t) = typed(0)?;
            if is_text(&t) { e.is_not_null() } else { lit(false) }
        }
        "null" => {
            arity(cx, n, args, 0, 0, span)?;
            lit(ScalarValue::Utf8(None))
        }
        "true" | "false" => {
            arity(cx, n, args, 0, 0, span)?;
            lit(n == "true")
        }
        "abs" => {
            arity(cx, n, args, 1, 1, span)?;
            f::abs(num(0)?)
        }
        "round" => {
            arity(cx, n, args, 1, 2, span)?;
            let places = match args.get(1) {
                None => 0,
                Some(ast::Expr::Int(p, _)) if (0..=15).contains(p) => *p,
                Some(other) => return Err(cx.err(other.span(), "round(): decimal places must be a number from 0 to 15")),
            };
            let r = f::round(vec![cast(num(0)?, DataType::Float64), lit(places)]);
            if places == 0 { cast(r, DataType::Int64) } else { r }
        }
        "floor" | "ceil" | "ceiling" => {
            arity(cx, n, args, 1, 1, span)?;
            let x = cast(num(0)?, DataType::Float64);
            cast(if n == "floor" { f::floor(x) } else { f::ceil(x) }, DataType::Int64)
        }
        "trim" | "ltrim" | "rtrim" => {
            arity(cx, n, args, 1, 2, span)?;
            let chars = match args.get(1) {
                Some(_) => text(1)?,
                None => lit(" \t"),
            };
            let a = vec![text(0)?, chars];
            match n {
                "trim" => f::btrim(a),
                "ltrim" => f::ltrim(a),
                _ => f::rtrim(a),
            }
        }
        "in" => {
            arity(cx, n, args, 2, usize::MAX, span)?;
            let l = typed(0)?;
            let mut out = Vec::new();
            for (i, item) in args.iter().enumerate().skip(1) {
                out.push(cx.compare(ast::BinOp::Eq, l.clone(), typed(i)?, item, span)?);
            }
            out.into_iter().reduce(Expr::or).unwrap_or(lit(false))
        }
        "mvcount" => {
            arity(cx, n, args, 1, 1, span)?;
            let (e, t) = typed(0)?;
            if is_list(&t) {
                cast(nested::cardinality(e), DataType::Int64)
            } else {
                df(when(e.is_null(), lit(ScalarValue::Int64(None))).otherwise(lit(1i64)))?
            }
        }
        "mvjoin" => {
            arity(cx, n, args, 2, 2, span)?;
            let (delim, _) = literal(cx, n, "delimiter", &args[1])?;
            let (e, t) = typed(0)?;
            if is_list(&t) { nested::array_to_string(e, lit(delim.to_string())) } else { cx.to_text(e, &t, args[0].span())? }
        }
        "searchmatch" => {
            arity(cx, n, args, 1, 1, span)?;
            let (q, qsp) = literal(cx, n, "search", &args[0])?;
            let inner = parse_inner_search(q).map_err(|(off, m)| cx.err(Span::new(qsp.start + 1 + off, qsp.end), m))?;
            search::compile(cx.p, cx.s, &inner, false)?
        }
        "sqrt" | "pow" | "exp" | "ln" | "log" => {
            return Err(cx.err(span, format!("eval function `{name}` is not supported (supported: {SUPPORTED})")));
        }
        _ => return Err(cx.err(span, format!("unknown eval function `{name}` (supported: {SUPPORTED})"))),
    })
}

fn parse_inner_search(q: &str) -> Result<Search, (usize, String)> {
    let lex = super::super::lexer::Lexer::new(q).map_err(|e| (0, e.message))?;
    let mut p = Parser { lex };
    let pos = |p: &Parser| p.lex.pos();
    match p.search_opt() {
        Ok(Some(s)) if p.at_end().unwrap_or(false) => Ok(s),
        Ok(_) => Err((pos(&p), "searchmatch() needs one search expression".into())),
        Err(e) => Err((pos(&p), e.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacements() {
        assert_eq!(replacement(r"\1-\2 $5 \\x"), r"${1}-${2} $$5 \x");
    }
}
