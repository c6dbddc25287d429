//! Scalar functions where SPL's semantics differ from DataFusion's built-ins: bare-term search,
//! multivalue matching, regexes compiled once at planning, Splunk's substr/tonumber/tostring,
//! strftime/strptime, and XML leaf values. Every one takes nulls and odd input without failing.

use super::xml;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Float64Builder, Int64Array, Int64Builder, ListArray, ListBuilder, StringArray,
    StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DataFusionError, Result, exec_err};
use datafusion::logical_expr::{ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use regex::Regex;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A compiled regex, compared and hashed by its pattern.
#[derive(Debug, Clone)]
pub struct Re(pub Regex);

impl Re {
    pub fn new(pattern: &str) -> Result<Re, regex::Error> {
        regex::RegexBuilder::new(pattern).size_limit(16 << 20).build().map(Re)
    }
}

impl PartialEq for Re {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}
impl Eq for Re {}
impl Hash for Re {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.as_str().hash(state);
    }
}

impl serde::Serialize for Re {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Re {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Re, D::Error> {
        let pattern = String::deserialize(d)?;
        Re::new(&pattern).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum NumFormat {
    Plain,
    Hex,
    Commas,
    Duration,
}

/// Serializable, so that a plan using it can be shipped to Ballista executors (`crate::portable`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// Any argument (text or list of text) matches: never null.
    Term(Re),
    /// Any element of a list matches.
    MvMatch(Re),
    /// `match(x, re)`.
    Match(Re),
    /// `replace(x, re, with)` / `rex mode=sed`; `with` in the regex crate's `${1}` syntax.
    Replace {
        re: Re,
        with: String,
        global: bool,
    },
    /// One named group of the first match.
    Extract {
        re: Re,
        group: String,
    },
    /// One named group of up to `max` matches (0: all), as a list.
    ExtractAll {
        re: Re,
        group: String,
        max: usize,
    },
    /// Splunk's substr(text, start, length): 1-based, negative start counts from the end.
    Substr,
    ToNumber {
        base: u32,
    },
    NumText(NumFormat),
    /// Unix nanoseconds → text, jiff format.
    Strftime(String),
    /// Text → Unix seconds, jiff format.
    Strptime(String),
    /// The text of leaf elements named `name`: the first, or all distinct ones as a list.
    XmlValue {
        name: String,
        multi: bool,
    },
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SplUdf {
    kind: Kind,
    signature: Signature,
}

pub fn list_of_text() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// `kind(args...)` as an expression.
pub fn call(kind: Kind, args: Vec<Expr>) -> Expr {
    udf(kind).call(args)
}

pub(crate) fn udf(kind: Kind) -> ScalarUDF {
    ScalarUDF::from(SplUdf { kind, signature: Signature::variadic_any(Volatility::Immutable) })
}

/// The kind of an SPL UDF, `None` for any other function.
pub(crate) fn kind_of(f: &ScalarUDF) -> Option<&Kind> {
    f.inner().downcast_ref::<SplUdf>().map(|u| &u.kind)
}

fn text(a: &ArrayRef) -> Result<StringArray> {
    let c = cast(a, &DataType::Utf8)?;
    c.as_string_opt::<i32>().cloned().ok_or_else(|| DataFusionError::Execution("expected text".into()))
}

fn list(a: &ArrayRef) -> Result<ListArray> {
    let c = cast(a, &list_of_text())?;
    c.as_list_opt::<i32>().cloned().ok_or_else(|| DataFusionError::Execution("expected a list".into()))
}

fn int(a: &ArrayRef) -> Result<Int64Array> {
    let c = cast(a, &DataType::Int64)?;
    c.as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>()
        .cloned()
        .ok_or_else(|| DataFusionError::Execution("expected an integer".into()))
}

fn list_any(l: &ListArray, i: usize, re: &Regex) -> bool {
    let v = l.value(i);
    v.as_string_opt::<i32>().is_some_and(|s| s.iter().flatten().any(|x| re.is_match(x)))
}

impl ScalarUDFImpl for SplUdf {
    fn name(&self) -> &str {
        match &self.kind {
            Kind::Term(_) => "spl_term",
            Kind::MvMatch(_) => "spl_mvmatch",
            Kind::Match(_) => "match",
            Kind::Replace { .. } => "replace",
            Kind::Extract { .. } | Kind::ExtractAll { .. } => "rex",
            Kind::Substr => "substr",
            Kind::ToNumber { .. } => "tonumber",
            Kind::NumText(_) => "tostring",
            Kind::Strftime(_) => "strftime",
            Kind::Strptime(_) => "strptime",
            Kind::XmlValue { .. } => "xmlkv",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match &self.kind {
            Kind::Term(_) | Kind::MvMatch(_) | Kind::Match(_) => DataType::Boolean,
            Kind::ToNumber { base: 10 } | Kind::Strptime(_) => DataType::Float64,
            Kind::ToNumber { .. } => DataType::Int64,
            Kind::ExtractAll { .. } | Kind::XmlValue { multi: true, .. } => list_of_text(),
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays: Vec<ArrayRef> = args.args.into_iter().map(|a| a.into_array(n)).collect::<Result<_>>()?;
        let Some(first) = arrays.first() else { return exec_err!("{} needs an argument", self.name()) };
        let out: ArrayRef = match &self.kind {
            Kind::Term(re) => term(&arrays, &re.0, n)?,
            Kind::MvMatch(re) => {
                let l = list(first)?;
                Arc::new((0..n).map(|i| l.is_valid(i).then(|| list_any(&l, i, &re.0))).collect::<BooleanArray>())
            }
            Kind::Match(re) => Arc::new(text(first)?.iter().map(|v| v.map(|s| re.0.is_match(s))).collect::<BooleanArray>()),
            Kind::Replace { re, with, global } => {
                let t = text(first)?;
                Arc::new(
                    t.iter()
                        .map(|v| v.map(|s| if *global { re.0.replace_all(s, with.as_str()) } else { re.0.replace(s, with.as_str()) }))
                        .collect::<StringArray>(),
                )
            }
            Kind::Extract { re, group } => {
                let t = text(first)?;
                Arc::new(t.iter().map(|v| v.and_then(|s| re.0.captures(s)?.name(group).map(|m| m.as_str()))).collect::<StringArray>())
            }
            Kind::ExtractAll { re, group, max } => {
                let t = text(first)?;
                let mut b = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new_list_field(DataType::Utf8, true)));
                for v in t.iter() {
                    let found: Vec<&str> = match v {
                        Some(s) => {
                            re.0.captures_iter(s)
                                .filter_map(|c| c.name(group).map(|m| m.as_str()))
                                .take(if *max == 0 { usize::MAX } else { *max })
                                .collect()
                        }
                        None => vec![],
                    };
                    found.iter().for_each(|f| b.values().append_value(f));
                    b.append(!found.is_empty());
                }
                Arc::new(b.finish())
            }
            Kind::Substr => substr(&arrays, n)?,
            Kind::ToNumber { base } => tonumber(first, *base)?,
            Kind::NumText(f) => num_text(first, *f)?,
            Kind::Strftime(fmt) => {
                let t = int(first)?;
                Arc::new(t.iter().map(|v| v.and_then(|ns| strftime(ns, fmt))).collect::<StringArray>())
            }
            Kind::Strptime(fmt) => {
                let t = text(first)?;
                let mut b = Float64Builder::new();
                t.iter().for_each(|v| b.append_option(v.and_then(|s| strptime(s, fmt))));
                Arc::new(b.finish())
            }
            Kind::XmlValue { name, multi } => xml_value(first, name, *multi)?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

fn term(arrays: &[ArrayRef], re: &Regex, n: usize) -> Result<ArrayRef> {
    enum Col {
        Text(StringArray),
        List(ListArray),
    }
    let cols: Vec<Col> = arrays
        .iter()
        .map(|a| {
            if matches!(a.data_type(), DataType::List(_) | DataType::LargeList(_)) {
                list(a).map(Col::List)
            } else {
                text(a).map(Col::Text)
            }
        })
        .collect::<Result<_>>()?;
    let mut b = BooleanBuilder::with_capacity(n);
    for i in 0..n {
        let hit = cols.iter().any(|c| match c {
            Col::Text(s) => s.is_valid(i) && re.is_match(s.value(i)),
            Col::List(l) => l.is_valid(i) && list_any(l, i, re),
        });
        b.append_value(hit);
    }
    Ok(Arc::new(b.finish()))
}

fn substr(arrays: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let (Some(s), Some(start)) = (arrays.first(), arrays.get(1)) else { return exec_err!("substr needs text and a start") };
    let s = text(s)?;
    let start = int(start)?;
    let len = arrays.get(2).map(int).transpose()?;
    let mut b = StringBuilder::new();
    for i in 0..n {
        if s.is_null(i) || start.is_null(i) || len.as_ref().is_some_and(|l| l.is_null(i)) {
            b.append_null();
            continue;
        }
        let chars: Vec<char> = s.value(i).chars().collect();
        let total = chars.len() as i64;
        let st = start.value(i);
        let from = if st < 0 { (total + st).max(0) } else { (st.max(1) - 1).min(total) };
        let count = len.as_ref().map_or(total, |l| l.value(i)).max(0);
        let to = from.saturating_add(count).min(total);
        b.append_value(chars[from as usize..to.max(from) as usize].iter().collect::<String>());
    }
    Ok(Arc::new(b.finish()))
}

/// Text to a number as tonumber() reads it. Spaces around the number are not skipped: Splunk's
/// reference says tonumber() returns NULL then and to trim() first.
fn parse_number(s: &str, base: u32) -> Option<(f64, i64)> {
    let t = s;
    if t.starts_with(char::is_whitespace) || t.ends_with(char::is_whitespace) {
        return None;
    }
    if base == 10 {
        let f: f64 = t.parse().ok().filter(|f: &f64| f.is_finite())?;
        if t.chars().any(|c| c.is_alphabetic() && c != 'e' && c != 'E') {
            return None;
        }
        return Some((f, f as i64));
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let body = if base == 16 { body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")).unwrap_or(body) } else { body };
    let v = i64::from_str_radix(body, base).ok()?;
    let v = if neg { v.checked_neg()? } else { v };
    Some((v as f64, v))
}

fn tonumber(a: &ArrayRef, base: u32) -> Result<ArrayRef> {
    let t = text(a)?;
    if base == 10 {
        let mut b = Float64Builder::new();
        t.iter().for_each(|v| b.append_option(v.and_then(|s| parse_number(s, 10)).map(|p| p.0)));
        Ok(Arc::new(b.finish()))
    } else {
        let mut b = Int64Builder::new();
        t.iter().for_each(|v| b.append_option(v.and_then(|s| parse_number(s, base)).map(|p| p.1)));
        Ok(Arc::new(b.finish()))
    }
}

/// A float as Splunk prints it: whole numbers without a fraction.
pub fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 { format!("{}", f as i64) } else { format!("{f}") }
}

fn group_thousands(digits: &str) -> String {
    let (sign, d) = digits.strip_prefix('-').map_or(("", digits), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

fn num_text(a: &ArrayRef, f: NumFormat) -> Result<ArrayRef> {
    let ints = a.data_type().is_integer();
    let (iv, fv) = if ints {
        (Some(int(a)?), None)
    } else {
        let c = cast(a, &DataType::Float64)?;
        (None, c.as_primitive_opt::<datafusion::arrow::datatypes::Float64Type>().cloned())
    };
    let mut b = StringBuilder::new();
    for i in 0..a.len() {
        let v: Option<(f64, Option<i64>)> = match (&iv, &fv) {
            (Some(x), _) if x.is_valid(i) => Some((x.value(i) as f64, Some(x.value(i)))),
            (_, Some(x)) if x.is_valid(i) && x.value(i).is_finite() => Some((x.value(i), None)),
            _ => None,
        };
        let Some((num, exact)) = v else {
            b.append_null();
            continue;
        };
        let s = match f {
            NumFormat::Plain => exact.map_or_else(|| format_float(num), |i| i.to_string()),
            // Upper-case digits, as Splunk documents: tostring(15, "hex") is 0xF.
            NumFormat::Hex => format!("0x{:X}", exact.unwrap_or(num.trunc() as i64)),
            NumFormat::Commas => match exact {
                Some(i) => group_thousands(&i.to_string()),
                None if num.fract() == 0.0 => group_thousands(&format!("{}", num as i64)),
                None => {
                    let r = format!("{:.2}", num);
                    let (w, frac) = r.split_once('.').unwrap_or((&r, "00"));
                    format!("{}.{frac}", group_thousands(w))
                }
            },
            NumFormat::Duration => {
                let total = exact.unwrap_or(num.trunc() as i64);
                let (sign, t) = if total < 0 { ("-", total.unsigned_abs()) } else { ("", total as u64) };
                let (d, h, m, s) = (t / 86_400, t % 86_400 / 3600, t % 3600 / 60, t % 60);
                if d > 0 { format!("{sign}{d}+{h:02}:{m:02}:{s:02}") } else { format!("{sign}{h:02}:{m:02}:{s:02}") }
            }
        };
        b.append_value(s);
    }
    Ok(Arc::new(b.finish()))
}

pub fn strftime(nanos: i64, fmt: &str) -> Option<String> {
    let ts = jiff::Timestamp::from_nanosecond(nanos as i128).ok()?;
    let z = ts.to_zoned(jiff::tz::TimeZone::UTC);
    jiff::fmt::strtime::format(fmt, &z).ok()
}

pub fn strptime(s: &str, fmt: &str) -> Option<f64> {
    let bdt = jiff::fmt::strtime::parse(fmt, s.trim()).ok()?;
    let ts = match bdt.to_timestamp() {
        Ok(t) => t,
        Err(_) => bdt.to_datetime().ok()?.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp(),
    };
    Some(ts.as_nanosecond() as f64 / 1e9)
}

fn xml_value(a: &ArrayRef, name: &str, multi: bool) -> Result<ArrayRef> {
    let t = text(a)?;
    if !multi {
        return Ok(Arc::new(
            t.iter()
                .map(|v| v.and_then(|doc| xml::leaves(doc).into_iter().find(|(n, _)| n == name).map(|(_, v)| v)))
                .collect::<StringArray>(),
        ));
    }
    let mut b = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new_list_field(DataType::Utf8, true)));
    for v in t.iter() {
        let mut found: Vec<String> = Vec::new();
        if let Some(doc) = v {
            for (n, val) in xml::leaves(doc) {
                if n == name && !found.contains(&val) {
                    found.push(val);
                }
            }
        }
        found.iter().for_each(|f| b.values().append_value(f));
        b.append(!found.is_empty());
    }
    Ok(Arc::new(b.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text() {
        assert_eq!(parse_number("12", 10), Some((12.0, 12)));
        assert_eq!(parse_number(" 12 ", 10), None);
        assert_eq!(parse_number("12 ", 16), None);
        assert_eq!(parse_number("0x1dc", 16), Some((476.0, 476)));
        assert_eq!(parse_number("inf", 10), None);
        assert_eq!(parse_number("NaN", 10), None);
        assert_eq!(parse_number("zz", 16), None);
        assert_eq!(format_float(3.0), "3");
        assert_eq!(format_float(2.5), "2.5");
        assert_eq!(group_thousands("-1234567"), "-1,234,567");
        assert_eq!(strftime(1_565_791_604_495_674_800, "%Y-%m-%d %H:%M:%S.%3f").as_deref(), Some("2019-08-14 14:06:44.495"));
        assert_eq!(strptime("2019-08-14 14:06:44", "%Y-%m-%d %H:%M:%S"), Some(1_565_791_604.0));
    }
}
