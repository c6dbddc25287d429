//! Literals written as calls: `datetime(...)`, `timespan(...)`, `dynamic(...)`, typed nulls such
//! as `long(null)`, and `typeof(...)`; plus the date and timespan text formats they accept.

use super::ast::{Expr, ExprKind, TypeName};
use super::lexer::{Tok, Token};
use crate::error::ParseError;
use serde_json::Value as Json;

/// If `name(` at `tokens[*pos]` (the `(`) is one of the literal forms, parses it and moves
/// `*pos` past the `)`. `Ok(None)` means "an ordinary function call".
pub(crate) fn special_literal(text: &str, tokens: &[Token], pos: &mut usize, name: &str, start: usize) -> Result<Option<Expr>, ParseError> {
    let lp = *pos;
    let Some(rp) = matching_paren(tokens, lp) else { return Ok(None) };
    let inner = &tokens[lp + 1..rp];
    let span = (start, tokens[rp].end);
    let raw = text[tokens[lp].end..tokens[rp].start].trim();
    let at = inner.first().map_or(tokens[rp].start, |t| t.start);
    let single = if inner.len() == 1 { Some(&inner[0].tok) } else { None };
    let is_null = matches!(single, Some(Tok::Ident(n)) if n == "null");
    let kind = match name {
        "datetime" | "todatetime" if is_null => ExprKind::Null(TypeName::DateTime),
        "datetime" => {
            let s = match single {
                Some(Tok::Str(s)) => s.as_str(),
                _ => raw,
            };
            match parse_datetime(s) {
                Some(ns) => ExprKind::DateTime(ns),
                None => return Err(ParseError::at(text, at, format!("invalid datetime literal `{s}`"))),
            }
        }
        "time" | "timespan" => match single {
            _ if is_null => ExprKind::Null(TypeName::TimeSpan),
            Some(Tok::Span(ns)) => ExprKind::TimeSpan(*ns),
            Some(Tok::Long(days)) => match days.checked_mul(86_400_000_000_000) {
                Some(ns) => ExprKind::TimeSpan(ns),
                None => return Err(ParseError::at(text, at, "timespan out of range")),
            },
            _ => {
                let s = match single {
                    Some(Tok::Str(s)) => s.as_str(),
                    _ => raw,
                };
                match parse_timespan(s) {
                    Some(ns) => ExprKind::TimeSpan(ns),
                    None => return Err(ParseError::at(text, at, format!("invalid timespan literal `{s}`"))),
                }
            }
        },
        "dynamic" => {
            let mut i = 0;
            let v = json(text, inner, &mut i, 0)?;
            if i != inner.len() {
                return Err(ParseError::at(text, inner[i].start, "expected `)` after the dynamic value"));
            }
            ExprKind::Dynamic(v)
        }
        "typeof" => match single.and_then(|t| if let Tok::Ident(n) = t { TypeName::parse(n) } else { None }) {
            Some(ty) => ExprKind::TypeOf(ty),
            None => return Err(ParseError::at(text, at, "expected a type name in typeof()")),
        },
        "long" | "int" | "real" | "double" | "bool" | "boolean" | "string" => {
            let ty = TypeName::parse(name).unwrap_or(TypeName::String);
            let (neg, tok) = match inner {
                [t] => (false, &t.tok),
                [m, t] if matches!(m.tok, Tok::Sym("-")) => (true, &t.tok),
                _ => return Ok(None),
            };
            match (ty, tok) {
                (_, Tok::Ident(n)) if n == "null" && !neg => ExprKind::Null(ty),
                (TypeName::Long | TypeName::Int, Tok::Long(v)) => ExprKind::Long(if neg { v.wrapping_neg() } else { *v }),
                (TypeName::Real, Tok::Long(v)) => ExprKind::Real(if neg { -(*v as f64) } else { *v as f64 }),
                (TypeName::Real, Tok::Real(v)) => ExprKind::Real(if neg { -v } else { *v }),
                (TypeName::Bool, Tok::Ident(b)) if !neg && (b == "true" || b == "false") => ExprKind::Bool(b == "true"),
                (TypeName::String, Tok::Str(s)) if !neg => ExprKind::Str(s.clone()),
                _ => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    *pos = rp + 1;
    Ok(Some(Expr::new(kind, span)))
}

fn matching_paren(tokens: &[Token], lp: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(lp) {
        if t.is_sym("(") {
            depth += 1;
        } else if t.is_sym(")") {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

fn json(text: &str, toks: &[Token], i: &mut usize, depth: usize) -> Result<Json, ParseError> {
    let end_at = toks.last().map_or(0, |t| t.end);
    let Some(t) = toks.get(*i) else {
        return Err(ParseError::at(text, end_at, "expected a dynamic value"));
    };
    if depth > 64 {
        return Err(ParseError::at(text, t.start, "the dynamic value nests too deeply"));
    }
    *i += 1;
    let bad = |t: &Token| Err(ParseError::at(text, t.start, format!("unexpected {} in a dynamic value", t.describe())));
    Ok(match &t.tok {
        Tok::Str(s) => Json::String(s.clone()),
        Tok::Long(v) => Json::from(*v),
        Tok::Real(v) => serde_json::Number::from_f64(*v).map(Json::Number).unwrap_or(Json::Null),
        Tok::Span(ns) => Json::String(super::values::format_timespan(*ns)),
        Tok::Sym("-") => match toks.get(*i).map(|t| &t.tok) {
            Some(Tok::Long(v)) => {
                *i += 1;
                Json::from(v.wrapping_neg())
            }
            Some(Tok::Real(v)) => {
                *i += 1;
                serde_json::Number::from_f64(-v).map(Json::Number).unwrap_or(Json::Null)
            }
            _ => return bad(t),
        },
        Tok::Ident(n) if n == "true" || n == "false" => Json::Bool(n == "true"),
        Tok::Ident(n) if n == "null" => Json::Null,
        Tok::Ident(n) if n == "datetime" && toks.get(*i).is_some_and(|p| p.is_sym("(")) => {
            let lp = *i;
            let Some(rp) = matching_paren(toks, lp) else { return bad(t) };
            let raw = text[toks[lp].end..toks[rp].start].trim();
            let raw = raw.trim_matches(|c| c == '"' || c == '\'');
            let Some(ns) = parse_datetime(raw) else {
                return Err(ParseError::at(text, t.start, format!("invalid datetime literal `{raw}`")));
            };
            *i = rp + 1;
            Json::String(super::values::format_datetime(ns))
        }
        Tok::Sym("[") => {
            let mut v = Vec::new();
            if toks.get(*i).is_some_and(|t| t.is_sym("]")) {
                *i += 1;
                return Ok(Json::Array(v));
            }
            loop {
                v.push(json(text, toks, i, depth + 1)?);
                match toks.get(*i) {
                    Some(t) if t.is_sym(",") => *i += 1,
                    Some(t) if t.is_sym("]") => {
                        *i += 1;
                        return Ok(Json::Array(v));
                    }
                    Some(t) => return bad(t),
                    None => return Err(ParseError::at(text, end_at, "expected `]` in the dynamic value")),
                }
            }
        }
        Tok::Sym("{") => {
            let mut m = serde_json::Map::new();
            if toks.get(*i).is_some_and(|t| t.is_sym("}")) {
                *i += 1;
                return Ok(Json::Object(m));
            }
            loop {
                let key = match toks.get(*i) {
                    Some(Token { tok: Tok::Str(s) | Tok::Ident(s), .. }) => s.clone(),
                    Some(t) => return bad(t),
                    None => return Err(ParseError::at(text, end_at, "expected a property name")),
                };
                *i += 1;
                match toks.get(*i) {
                    Some(t) if t.is_sym(":") => *i += 1,
                    Some(t) => return bad(t),
                    None => return Err(ParseError::at(text, end_at, "expected `:` in the dynamic value")),
                }
                let v = json(text, toks, i, depth + 1)?;
                m.insert(key, v);
                match toks.get(*i) {
                    Some(t) if t.is_sym(",") => *i += 1,
                    Some(t) if t.is_sym("}") => {
                        *i += 1;
                        return Ok(Json::Object(m));
                    }
                    Some(t) => return bad(t),
                    None => return Err(ParseError::at(text, end_at, "expected `}` in the dynamic value")),
                }
            }
        }
        _ => return bad(t),
    })
}

/// KQL datetime text: `2019-08-14`, `2019-08-14 14:06`, `2019-08-14T14:06:44.4956748Z`,
/// offsets; as nanoseconds since the Unix epoch (None outside 1677..2262, Arrow's range).
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let mut owned = s.to_string();
    let b = s.as_bytes();
    if b.len() == 10 {
        owned.push_str("T00:00:00");
    } else if b.len() == 16 && (b[10] == b'T' || b[10] == b' ') {
        owned.push_str(":00");
    } else if b.len() == 17 && b[16] == b'Z' {
        owned.insert_str(16, ":00");
    }
    let t = taskhunt_events::Timestamp::parse(&owned)?;
    i64::try_from(t.unix_nanos()).ok()
}

/// KQL timespan text `[-][d.]hh:mm[:ss[.fffffff]]` as nanoseconds.
pub fn parse_timespan(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (days, rest) = match s.split_once(':') {
        Some((head, _)) if head.contains('.') => {
            let (d, _) = head.split_once('.')?;
            (d.parse::<i64>().ok()?, &s[d.len() + 1..])
        }
        _ => (0, s),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let h: i64 = parts[0].parse().ok()?;
    let m: i64 = parts[1].parse().ok()?;
    let (sec, frac_ns) = match parts.get(2) {
        None => (0, 0),
        Some(p) => match p.split_once('.') {
            None => (p.parse::<i64>().ok()?, 0),
            Some((a, f)) => {
                if f.is_empty() || !f.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                let digits: String = f.chars().take(9).collect();
                let ns: i64 = digits.parse().ok()?;
                (a.parse::<i64>().ok()?, ns * 10i64.pow(9 - digits.len() as u32))
            }
        },
    };
    if h < 0 || m < 0 || sec < 0 || m > 59 || sec > 59 || days < 0 {
        return None;
    }
    let total = days.checked_mul(86_400)?.checked_add(h * 3600 + m * 60 + sec)?.checked_mul(1_000_000_000)?.checked_add(frac_ns)?;
    Some(if neg { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_and_timespan_text() {
        assert_eq!(parse_datetime("1970-01-02"), Some(86_400_000_000_000));
        assert_eq!(parse_datetime("1970-01-01 00:01"), Some(60_000_000_000));
        assert_eq!(parse_datetime("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
        assert_eq!(parse_datetime("9999-01-01"), None);
        assert_eq!(parse_datetime("yesterday"), None);
        assert_eq!(parse_timespan("1.02:03:04.5"), Some(((86_400 + 2 * 3600 + 3 * 60 + 4) * 1_000_000_000) + 500_000_000));
        assert_eq!(parse_timespan("-00:10"), Some(-600_000_000_000));
        assert_eq!(parse_timespan("10"), None);
    }
}
