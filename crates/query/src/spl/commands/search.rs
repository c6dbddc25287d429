//! The first search (table selection, time bounds, event order) and search expressions.

use super::super::ast::{CmpOp, Name, Search, SearchValue};
use super::super::lexer::Span;
use super::super::plan::{Planner, Stream, is_int, is_list, is_num, is_text};
use super::super::udf::{self, Kind, Re};
use super::timeparse::parse_time;
use crate::error::QueryError;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, cast, lit, not, try_cast};

/// Fields that select data rather than filter it; only at the top of the first search.
const SELECTORS: &[&str] = &["index", "sourcetype", "earliest", "latest"];

fn is_selector(field: &str, value: Option<&str>) -> bool {
    let f = field.to_ascii_lowercase();
    SELECTORS.contains(&f.as_str()) || (f == "source" && value.is_some_and(is_wineventlog))
}

fn is_wineventlog(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    l.starts_with("wineventlog:") || l.starts_with("xmlwineventlog:")
}

/// A table and, for channels without a table of their own, a `Channel` value to filter on.
type Choice = (String, Option<String>);

fn index_table(v: &str) -> Option<&'static str> {
    Some(match v.to_ascii_lowercase().as_str() {
        "sysmon" => "sysmon",
        "wineventlog" | "security" => "security",
        "taskscheduler" => "taskscheduler",
        "powershell" => "powershell",
        "system" => "system",
        "other" => "other",
        "main" | "*" => "main",
        _ => return None,
    })
}

/// `[Xml]WinEventLog:<channel>` and friends → table.
fn sourcetype_table(v: &str) -> Result<Choice, String> {
    let l = v.to_ascii_lowercase();
    let channel = match l.strip_prefix("xmlwineventlog:").or_else(|| l.strip_prefix("wineventlog:")) {
        Some(c) => c,
        None => {
            return match l.as_str() {
                "wineventlog" | "xmlwineventlog" | "*" => Ok(("main".into(), None)),
                "sysmon" => Ok(("sysmon".into(), None)),
                _ => Err(format!("unknown sourcetype `{v}`: use [Xml]WinEventLog:<channel>, e.g. WinEventLog:Security")),
            };
        }
    };
    let table = match channel {
        "*" => "main",
        "security" => "security",
        "microsoft-windows-sysmon/operational" => "sysmon",
        "microsoft-windows-taskscheduler/operational" => "taskscheduler",
        "microsoft-windows-powershell/operational" | "windows powershell" => "powershell",
        "system" => "system",
        c if c.contains('*') => return Err(format!("wildcards in `{v}` are not supported (only a whole `*`)")),
        _ => {
            let original = &v[v.len() - channel.len()..];
            return Ok(("other".into(), Some(original.to_string())));
        }
    };
    Ok((table.into(), None))
}

fn conjuncts(s: &Search, out: &mut Vec<Search>) {
    match s {
        Search::And(a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        other => out.push(other.clone()),
    }
}

/// Errors for selectors anywhere inside `s` (they are only valid at the top level).
#[recursive::recursive]
fn no_nested_selectors(p: &Planner, s: &Search) -> Result<(), QueryError> {
    match s {
        Search::And(a, b) | Search::Or(a, b) => {
            no_nested_selectors(p, a)?;
            no_nested_selectors(p, b)
        }
        Search::Not(a) => no_nested_selectors(p, a),
        Search::Term(_) => Ok(()),
        Search::Cmp { field, value, .. } if is_selector(&field.text, Some(&value.text)) => Err(p.err(
            field.span,
            format!("{}= chooses what is searched: put it at the top level of the first search, not under OR or NOT", field.text),
        )),
        Search::In { field, .. } if is_selector(&field.text, None) || field.text.eq_ignore_ascii_case("source") => {
            Err(p.err(field.span, format!("{} IN (...) is not supported: name one", field.text)))
        }
        _ => Ok(()),
    }
}

/// The first search: picks the table, applies time bounds and the filter, sets event order.
pub fn source(p: &Planner, search: Option<&Search>, span: Span) -> Result<Stream, QueryError> {
    let mut parts = Vec::new();
    if let Some(s) = search {
        conjuncts(s, &mut parts);
    }
    let mut rest = Vec::new();
    let mut choice: Option<(Choice, Span)> = None;
    let mut channels = Vec::new();
    let mut bounds = Vec::new();
    for part in parts {
        let Search::Cmp { field, op, value } = &part else {
            no_nested_selectors(p, &part)?;
            rest.push(part);
            continue;
        };
        if !is_selector(&field.text, Some(&value.text)) {
            rest.push(part);
            continue;
        }
        let key = field.text.to_ascii_lowercase();
        if *op != CmpOp::Eq {
            return Err(p.err(field.span, format!("only {key}=VALUE is supported")));
        }
        if key == "earliest" || key == "latest" {
            let t = parse_time(&value.text, p.engine.now.unix_nanos()).map_err(|m| p.err(value.span, format!("{key}: {m}")))?;
            bounds.push((key == "earliest", t));
            continue;
        }
        let picked: Choice = if key == "index" {
            match index_table(&value.text) {
                Some(t) => (t.to_string(), None),
                None if p.engine.table(&value.text).is_some() => (value.text.clone(), None),
                None => {
                    return Err(p.err(
                        value.span,
                        format!(
                            "unknown index `{}`: use sysmon, wineventlog (security), taskscheduler, powershell, system, other or main",
                            value.text
                        ),
                    ));
                }
            }
        } else {
            sourcetype_table(&value.text).map_err(|m| p.err(value.span, m))?
        };
        if let Some(c) = picked.1.clone() {
            channels.push(c);
        }
        choice = match choice {
            None => Some((picked, value.span)),
            Some((prev, prev_span)) if prev.0 == "main" => Some(((picked.0, None), prev_span.to(value.span))),
            Some((prev, sp)) if picked.0 == "main" || picked.0 == prev.0 => Some((prev, sp)),
            Some((prev, _)) => {
                return Err(p.err(
                    value.span,
                    format!("{}={} selects table `{}` but an earlier selector chose `{}`", field.text, value.text, picked.0, prev.0),
                ));
            }
        };
    }
    let table = choice.map_or_else(|| "main".to_string(), |(c, _)| c.0);
    let df = p.engine.table(&table).ok_or_else(|| p.err(span, format!("no table `{table}` to search")))?;
    let mut s = Stream::new(df);
    let mut filters = Vec::new();
    for c in channels {
        let Some((col, _)) = s.field("Channel") else { continue };
        filters.push(ilike(col, &c, false).is_true());
    }
    for (earliest, nanos) in bounds {
        let Some((col, DataType::Timestamp(..))) = s.field("_time") else {
            return Err(p.err(span, format!("table `{table}` has no _time to bound")));
        };
        let t = ts_literal(nanos);
        filters.push(if earliest { col.gt_eq(t) } else { col.lt(t) });
    }
    let rest = rest.into_iter().reduce(|a, b| Search::And(Box::new(a), Box::new(b)));
    if let Some(r) = &rest {
        filters.push(compile(p, &s, r, true)?);
    }
    if let Some(f) = filters.into_iter().reduce(Expr::and) {
        s.df = p.df(span, s.df.clone().filter(f))?;
    }
    // Splunk returns events newest first.
    let mut keys = Vec::new();
    if let Some((c, _)) = s.field("_time") {
        keys.push((c, false, false));
    }
    if let Some((c, _)) = s.field("source") {
        keys.push((c, true, false));
    }
    if let Some((c, _)) = s.field("EventRecordID") {
        keys.push((c, false, false));
    }
    p.df(span, s.with_order(keys))
}

pub fn ts_literal(nanos: i128) -> Expr {
    let n = i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX });
    lit(ScalarValue::TimestampNanosecond(Some(n), Some("UTC".into())))
}

/// A search expression as a condition that is never null.
#[recursive::recursive]
pub fn compile(p: &Planner, s: &Stream, node: &Search, first: bool) -> Result<Expr, QueryError> {
    Ok(match node {
        Search::And(a, b) => compile(p, s, a, first)?.and(compile(p, s, b, first)?),
        Search::Or(a, b) => compile(p, s, a, first)?.or(compile(p, s, b, first)?),
        Search::Not(a) => not(compile(p, s, a, first)?),
        Search::Term(v) => term(s, v),
        Search::Cmp { field, op, value } => {
            check_field(p, field, Some(&value.text), first)?;
            let Some((col, ty)) = s.field(&field.text) else { return Ok(lit(false)) };
            match op {
                CmpOp::Eq => value_match(col, &ty, value).is_true(),
                CmpOp::Ne => not(value_match(col, &ty, value)).is_true(),
                _ => order_cmp(p, col, &ty, *op, value)?.is_true(),
            }
        }
        Search::In { field, values } => {
            check_field(p, field, None, first)?;
            let Some((col, ty)) = s.field(&field.text) else { return Ok(lit(false)) };
            values.iter().map(|v| value_match(col.clone(), &ty, v).is_true()).reduce(Expr::or).unwrap_or(lit(false))
        }
    })
}

fn check_field(p: &Planner, field: &Name, value: Option<&str>, first: bool) -> Result<(), QueryError> {
    if is_selector(&field.text, value) {
        let msg = if first {
            format!("{}= must be at the top level of the first search", field.text)
        } else {
            format!("{}= only works in the first search", field.text)
        };
        return Err(p.err(field.span, msg));
    }
    if field.text == "_raw" {
        return Err(p.err(field.span, "there is no _raw field: search a bare term or quoted phrase to match any field"));
    }
    if field.text.contains('*') {
        return Err(p.err(field.span, "wildcards in field names are not supported in search"));
    }
    Ok(())
}

/// The LIKE pattern for a Splunk wildcard value (`*` → `%`, LIKE's own characters escaped).
pub fn like_pattern(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    for c in v.chars() {
        match c {
            '*' => out.push('%'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

pub fn ilike(text: Expr, value: &str, negated: bool) -> Expr {
    Expr::Like(Like::new(negated, Box::new(text), Box::new(lit(like_pattern(value))), None, true))
}

/// A whole-value, case-insensitive regex for a wildcard value (used on multivalue fields).
pub fn wildcard_regex(v: &str) -> String {
    let body: Vec<String> = v.split('*').map(regex::escape).collect();
    format!("(?is)^{}$", body.join(".*"))
}

/// `field=value` as a condition, null when the field is null.
pub fn value_match(col: Expr, ty: &DataType, v: &SearchValue) -> Expr {
    let wild = v.text.contains('*');
    if is_list(ty) {
        return match Re::new(&wildcard_regex(&v.text)) {
            Ok(re) => udf::call(Kind::MvMatch(re), vec![col]),
            Err(_) => lit(false),
        };
    }
    if !wild && is_int(ty) {
        if let Ok(i) = v.text.trim().parse::<i64>() {
            return cast(col, DataType::Int64).eq(lit(i));
        }
    } else if !wild
        && ty.is_floating()
        && let Ok(f) = v.text.trim().parse::<f64>()
    {
        return cast(col, DataType::Float64).eq(lit(f));
    }
    let text = if is_text(ty) { col } else { cast(col, DataType::Utf8) };
    ilike(text, &v.text, false)
}

fn binary(l: Expr, op: CmpOp, r: Expr) -> Expr {
    let op = match op {
        CmpOp::Eq => Operator::Eq,
        CmpOp::Ne => Operator::NotEq,
        CmpOp::Lt => Operator::Lt,
        CmpOp::Le => Operator::LtEq,
        CmpOp::Gt => Operator::Gt,
        CmpOp::Ge => Operator::GtEq,
    };
    Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r)))
}

/// `field<value` and friends: numeric when the value is a number, else text order.
fn order_cmp(p: &Planner, col: Expr, ty: &DataType, op: CmpOp, v: &SearchValue) -> Result<Expr, QueryError> {
    if is_list(ty) {
        return Err(p.err(v.span, "ordering comparisons on multivalue fields are not supported"));
    }
    let number = v.text.trim().parse::<f64>().ok().filter(|f| f.is_finite());
    if let DataType::Timestamp(..) = ty {
        let nanos = match number {
            Some(secs) => (secs * 1e9) as i128,
            None => taskhunt_events::Timestamp::parse(&v.text)
                .map(|t| t.unix_nanos())
                .ok_or_else(|| p.err(v.span, format!("`{}` is not a time (RFC 3339 or epoch seconds)", v.text)))?,
        };
        return Ok(binary(cast(col, DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))), op, ts_literal(nanos)));
    }
    Ok(match number {
        Some(n) if is_num(ty) => binary(cast(col, DataType::Float64), op, lit(n)),
        Some(n) if is_text(ty) => binary(try_cast(col, DataType::Float64), op, lit(n)),
        _ if is_text(ty) => binary(col, op, lit(v.text.clone())),
        _ => binary(cast(col, DataType::Utf8), op, lit(v.text.clone())),
    })
}

/// The regex for a bare term: case-insensitive, `*` any run, anchored at token boundaries
/// where the term starts or ends with a letter or digit.
pub fn term_regex(text: &str) -> String {
    let body: Vec<String> = text.split('*').map(regex::escape).collect();
    let first = text.chars().next().is_some_and(char::is_alphanumeric);
    let last = text.chars().last().is_some_and(char::is_alphanumeric);
    format!("(?is){}{}{}", if first { r"(?:^|[^\p{L}\p{N}])" } else { "" }, body.join(".*"), if last { r"(?:$|[^\p{L}\p{N}])" } else { "" })
}

/// A bare term over every text field (numbers as text; not `source`, the input file).
fn term(s: &Stream, v: &SearchValue) -> Expr {
    if v.text.chars().all(|c| c == '*') {
        return lit(true);
    }
    let Ok(re) = Re::new(&term_regex(&v.text)) else { return lit(false) };
    let mut args = Vec::new();
    for name in s.visible() {
        if name == "source" {
            continue;
        }
        let Some((col, ty)) = s.field(&name) else { continue };
        if is_text(&ty) || is_list(&ty) {
            args.push(col);
        } else if is_num(&ty) || ty == DataType::Boolean {
            args.push(cast(col, DataType::Utf8));
        }
    }
    if args.is_empty() {
        return lit(false);
    }
    udf::call(Kind::Term(re), args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_regexes_respect_token_boundaries() {
        let m = |t: &str, v: &str| regex::Regex::new(&term_regex(t)).unwrap().is_match(v);
        assert!(m("rundll32", r"C:\Windows\System32\RUNDLL32.EXE"));
        assert!(!m("rundll", r"C:\Windows\System32\rundll32.exe"));
        assert!(m("rundll*", r"C:\Windows\System32\rundll32.exe"));
        assert!(m("*undll3*", r"rundll32"));
        assert!(m("<Hidden>true</Hidden>", "<Task><Hidden>TRUE</Hidden></Task>"));
        assert!(!m("-enc", "powershell -encodedcommand"));
        assert!(m("-enc", "powershell -enc AAAA"));
        assert!(m("svc", "svc_host"));
    }

    #[test]
    fn like_patterns_escape() {
        assert_eq!(like_pattern(r"*\rundll32_x%.exe"), r"%\\rundll32\_x\%.exe");
        assert_eq!(sourcetype_table("XmlWinEventLog:Microsoft-Windows-Sysmon/Operational").unwrap().0, "sysmon");
        assert_eq!(sourcetype_table("WinEventLog:Application").unwrap(), ("other".into(), Some("Application".into())));
        assert!(sourcetype_table("access_combined").is_err());
    }
}
