//! The scalar UDFs KQL semantics need: one `KqlUdf` type whose [`Kind`] says what it computes.
//! Dynamic values travel as canonical JSON text (`Utf8`); the planner knows which columns hold
//! them. Argument types are checked by the planner, so every kind expects fixed input types.

use super::ast::TypeName;
use super::literal::{parse_datetime, parse_timespan};
use super::text::{MatchOp, Matcher, base64_decode, substring};
use super::values::{format_datetime, format_real, format_timespan};
use datafusion::arrow::array::*;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::*;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::Expr;
use regex::Regex;
use std::sync::Arc;

/// Serializable, so that a plan using it can be shipped to Ballista executors (`crate::portable`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// (text, needle) → bool
    Match {
        op: MatchOp,
        cs: bool,
    },
    /// (text, term, term, ...) → bool: `has_any` / `has_all`
    HasAny {
        all: bool,
    },
    /// (text, pattern) → bool
    RegexMatch,
    /// any → string, as KQL's tostring() writes it
    ToStr,
    /// string → the type, as KQL's to*() functions parse it (null when it does not parse)
    Convert(TypeName),
    /// (value, size) → value's type, floored to a multiple of size
    Bin,
    /// (text, regex, group) → string
    Extract,
    /// (text, lookup, rewrite) → string
    ReplaceString,
    /// (text, start[, length]) → string
    Substring,
    Base64Decode,
    /// text → struct of the captured columns (the `parse` operator)
    Parse {
        regex: String,
        types: Vec<TypeName>,
        relaxed: bool,
    },
    /// struct → its i-th field (null where the struct is). DataFusion's get_field would do, but
    /// its optimizer pass that moves field access towards the scan breaks on these plans.
    Field(usize),
    /// string → dynamic
    ParseJson,
    /// (dynamic, key string | index long) → dynamic
    DynGet,
    /// dynamic → string (strings unquoted, other values as JSON)
    DynToString,
    /// dynamic → the type, when the value already is one (mv-expand `to typeof()`)
    DynCast(TypeName),
    ArrayLength,
    /// dynamic → list of dynamic: what mv-expand expands
    MvElements {
        bag_as_array: bool,
    },
    /// (dynamic, ...) → list of 0..n, n the longest expansion
    MvIndex,
    /// list → dynamic array; `json_elems` when the elements already are dynamic values,
    /// `flatten` to splice array elements in and drop repeats (make_set of arrays)
    ListToJson {
        json_elems: bool,
        max: Option<usize>,
        flatten: bool,
    },
    /// (text, delimiter[, index]) → dynamic
    Split,
    ParseUrl,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct KqlUdf {
    name: String,
    kind: Kind,
    sig: Signature,
}

pub fn call(kind: Kind, args: Vec<Expr>) -> Expr {
    udf(kind).call(args)
}

pub(crate) fn udf(kind: Kind) -> ScalarUDF {
    let name = format!("kql_{}", format!("{kind:?}").split([' ', '(', '{']).next().unwrap_or("fn").to_lowercase());
    ScalarUDF::new_from_impl(KqlUdf { name, kind, sig: Signature::variadic_any(Volatility::Immutable) })
}

/// The kind of a KQL UDF, `None` for any other function.
pub(crate) fn kind_of(f: &ScalarUDF) -> Option<&Kind> {
    f.inner().downcast_ref::<KqlUdf>().map(|u| &u.kind)
}

pub fn arrow_type(t: TypeName) -> DataType {
    match t {
        TypeName::String | TypeName::Dynamic => DataType::Utf8,
        TypeName::Long => DataType::Int64,
        TypeName::Int => DataType::Int32,
        TypeName::Real => DataType::Float64,
        TypeName::Bool => DataType::Boolean,
        TypeName::DateTime => crate::catalog::timestamp_type(),
        TypeName::TimeSpan => DataType::Duration(TimeUnit::Nanosecond),
    }
}

impl ScalarUDFImpl for KqlUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.sig
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match &self.kind {
            Kind::Match { .. } | Kind::HasAny { .. } | Kind::RegexMatch => DataType::Boolean,
            Kind::Convert(t) | Kind::DynCast(t) => arrow_type(*t),
            Kind::Bin => arg_types.first().cloned().unwrap_or(DataType::Null),
            Kind::ArrayLength => DataType::Int64,
            Kind::MvElements { .. } => DataType::new_list(DataType::Utf8, true),
            Kind::MvIndex => DataType::new_list(DataType::Int64, true),
            Kind::Parse { types, .. } => DataType::Struct(parse_fields(types)),
            Kind::Field(i) => match arg_types.first() {
                Some(DataType::Struct(fields)) if *i < fields.len() => fields[*i].data_type().clone(),
                other => return exec_err!("internal: field {i} of {other:?}"),
            },
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let cols = ColumnarValue::values_to_arrays(&args.args)?;
        let out: ArrayRef = match &self.kind {
            Kind::Match { op, cs } => {
                let text = utf8(&cols[0])?;
                match scalar_str(&args.args[1]) {
                    Some(Some(needle)) => {
                        let m = Matcher::new(*op, *cs, &needle);
                        Arc::new(text.iter().map(|t| t.map(|t| m.matches(t))).collect::<BooleanArray>())
                    }
                    _ => {
                        let needle = utf8(&cols[1])?;
                        Arc::new(
                            text.iter()
                                .zip(needle.iter())
                                .map(|(t, n)| Some(Matcher::new(*op, *cs, n?).matches(t?)))
                                .collect::<BooleanArray>(),
                        )
                    }
                }
            }
            Kind::HasAny { all } => {
                let text = utf8(&cols[0])?;
                let mut terms = Vec::new();
                for a in &args.args[1..] {
                    match scalar_str(a) {
                        Some(Some(t)) => terms.push(Matcher::new(MatchOp::Has, false, &t)),
                        Some(None) => {}
                        None => return exec_err!("has_any/has_all need constant terms"),
                    }
                }
                Arc::new(
                    text.iter()
                        .map(|t| t.map(|t| if *all { terms.iter().all(|m| m.matches(t)) } else { terms.iter().any(|m| m.matches(t)) }))
                        .collect::<BooleanArray>(),
                )
            }
            Kind::RegexMatch => {
                let text = utf8(&cols[0])?;
                let pat = utf8(&cols[1])?;
                let mut cache = RegexCache::default();
                let mut out = BooleanBuilder::with_capacity(text.len());
                for (t, p) in text.iter().zip(pat.iter()) {
                    match (t, p) {
                        (Some(t), Some(p)) => out.append_value(cache.get(p)?.is_match(t)),
                        _ => out.append_null(),
                    }
                }
                Arc::new(out.finish())
            }
            Kind::ToStr => to_str(&cols[0])?,
            Kind::Convert(t) => convert(&utf8(&cols[0])?, *t)?,
            Kind::Bin => bin(&cols[0], &cols[1])?,
            Kind::Extract => {
                let (text, pat, group) = (utf8(&cols[0])?, utf8(&cols[1])?, i64s(&cols[2])?);
                let mut cache = RegexCache::default();
                let mut out = StringBuilder::new();
                for i in 0..text.len() {
                    let v = match (text.is_valid(i), pat.is_valid(i), group.is_valid(i)) {
                        (true, true, true) => {
                            let re = cache.get(pat.value(i))?;
                            let g = usize::try_from(group.value(i)).unwrap_or(usize::MAX);
                            re.captures(text.value(i)).and_then(|c| c.get(g)).map_or("", |m| m.as_str()).to_string()
                        }
                        _ => String::new(),
                    };
                    out.append_value(v);
                }
                Arc::new(out.finish())
            }
            Kind::ReplaceString => {
                let (t, a, b) = (utf8(&cols[0])?, utf8(&cols[1])?, utf8(&cols[2])?);
                let it = t.iter().zip(a.iter()).zip(b.iter());
                Arc::new(
                    it.map(|((t, a), b)| {
                        let (t, a, b) = (t.unwrap_or(""), a.unwrap_or(""), b.unwrap_or(""));
                        Some(if a.is_empty() { t.to_string() } else { t.replace(a, b) })
                    })
                    .collect::<StringArray>(),
                )
            }
            Kind::Substring => {
                let t = utf8(&cols[0])?;
                let st = i64s(&cols[1])?;
                let len = cols.get(2).map(i64s).transpose()?;
                Arc::new(
                    (0..t.len())
                        .map(|i| {
                            if t.is_null(i) || st.is_null(i) {
                                return Some(String::new());
                            }
                            let l = match &len {
                                Some(l) if l.is_null(i) => return Some(String::new()),
                                Some(l) => Some(l.value(i)),
                                None => None,
                            };
                            Some(substring(t.value(i), st.value(i), l))
                        })
                        .collect::<StringArray>(),
                )
            }
            Kind::Base64Decode => {
                let t = utf8(&cols[0])?;
                let dec = |s: &str| base64_decode(s).and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
                Arc::new(t.iter().map(|s| Some(s.map(dec).unwrap_or_default())).collect::<StringArray>())
            }
            Kind::Parse { regex, types, relaxed } => parse_struct(&utf8(&cols[0])?, regex, types, *relaxed)?,
            Kind::Field(i) => {
                let Some(s) = cols[0].as_any().downcast_ref::<StructArray>() else {
                    return exec_err!("internal: field of a non-struct");
                };
                let child = s.column(*i).clone();
                match s.nulls() {
                    None => child,
                    Some(n) => {
                        let nulls = datafusion::arrow::buffer::NullBuffer::union(Some(n), child.nulls());
                        make_array(child.to_data().into_builder().nulls(nulls).build()?)
                    }
                }
            }
            _ => super::udf_dyn::invoke(&self.kind, &args.args, &cols)?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

pub fn utf8(a: &ArrayRef) -> Result<StringArray> {
    if let Some(s) = a.as_any().downcast_ref::<StringArray>() {
        return Ok(s.clone());
    }
    let c = cast(a, &DataType::Utf8)?;
    match c.as_any().downcast_ref::<StringArray>() {
        Some(s) => Ok(s.clone()),
        None => exec_err!("expected text, found {}", a.data_type()),
    }
}

pub fn i64s(a: &ArrayRef) -> Result<Int64Array> {
    let c = cast(a, &DataType::Int64)?;
    match c.as_any().downcast_ref::<Int64Array>() {
        Some(s) => Ok(s.clone()),
        None => exec_err!("expected a long, found {}", a.data_type()),
    }
}

/// The value of a constant text argument: `Some(None)` for a null constant, `None` when the
/// argument varies by row.
pub fn scalar_str(v: &ColumnarValue) -> Option<Option<String>> {
    match v {
        ColumnarValue::Scalar(ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s)) => Some(s.clone()),
        ColumnarValue::Scalar(ScalarValue::Null) => Some(None),
        _ => None,
    }
}

/// Compiles each distinct pattern once per batch.
#[derive(Default)]
struct RegexCache {
    last: Option<(String, Regex)>,
}

impl RegexCache {
    fn get(&mut self, pattern: &str) -> Result<&Regex> {
        if self.last.as_ref().is_none_or(|(p, _)| p != pattern) {
            match Regex::new(pattern) {
                Ok(re) => self.last = Some((pattern.to_string(), re)),
                Err(e) => return exec_err!("invalid regular expression: {e}"),
            }
        }
        Ok(&self.last.as_ref().expect("set above").1)
    }
}

fn to_str(a: &ArrayRef) -> Result<ArrayRef> {
    let n = a.len();
    let mut out = StringBuilder::with_capacity(n, n * 8);
    fn each<A: Array, T>(out: &mut StringBuilder, arr: &A, value: impl Fn(&A, usize) -> T, f: impl Fn(T) -> String) {
        for i in 0..arr.len() {
            if arr.is_null(i) { out.append_value("") } else { out.append_value(f(value(arr, i))) }
        }
    }
    match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => each(&mut out, &utf8(a)?, |x, i| x.value(i).to_string(), |s| s),
        DataType::Float64 | DataType::Float32 => {
            let c = cast(a, &DataType::Float64)?;
            each(&mut out, c.as_primitive::<Float64Type>(), |x, i| x.value(i), format_real)
        }
        DataType::Boolean => each(&mut out, a.as_boolean(), |x, i| x.value(i), |b| b.to_string()),
        DataType::Timestamp(_, _) => {
            let c = cast(a, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
            each(&mut out, c.as_primitive::<TimestampNanosecondType>(), |x, i| x.value(i), format_datetime)
        }
        DataType::Duration(_) => {
            let c = cast(a, &DataType::Duration(TimeUnit::Nanosecond))?;
            each(&mut out, c.as_primitive::<DurationNanosecondType>(), |x, i| x.value(i), format_timespan)
        }
        DataType::Null => (0..n).for_each(|_| out.append_value("")),
        t if t.is_integer() => {
            let c = cast(a, &DataType::Int64)?;
            each(&mut out, c.as_primitive::<Int64Type>(), |x, i| x.value(i), |v| v.to_string())
        }
        _ => each(&mut out, &utf8(a)?, |x, i| x.value(i).to_string(), |s| s),
    }
    Ok(Arc::new(out.finish()))
}

/// Parses text as KQL's conversion functions do; None when it does not convert.
pub fn convert_one(s: &str, t: TypeName) -> Option<ScalarValue> {
    let s = s.trim();
    Some(match t {
        TypeName::String | TypeName::Dynamic => ScalarValue::Utf8(Some(s.to_string())),
        TypeName::Long => ScalarValue::Int64(Some(s.parse().ok()?)),
        TypeName::Int => ScalarValue::Int32(Some(s.parse().ok()?)),
        TypeName::Real => ScalarValue::Float64(Some(s.parse().ok()?)),
        TypeName::Bool => ScalarValue::Boolean(Some(match s.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return None,
        })),
        TypeName::DateTime => ScalarValue::TimestampNanosecond(Some(parse_datetime(s)?), Some("UTC".into())),
        TypeName::TimeSpan => ScalarValue::DurationNanosecond(Some(parse_timespan(s).or_else(|| span_literal(s))?)),
    })
}

/// `1d`, `30m`, `1.5h` as text.
fn span_literal(s: &str) -> Option<i64> {
    let toks = super::lexer::lex(s).ok()?;
    match toks.as_slice() {
        [super::lexer::Token { tok: super::lexer::Tok::Span(ns), .. }, _end] => Some(*ns),
        _ => None,
    }
}

fn convert(s: &StringArray, t: TypeName) -> Result<ArrayRef> {
    if matches!(t, TypeName::String | TypeName::Dynamic) {
        return Ok(Arc::new(s.clone()));
    }
    let values: Vec<ScalarValue> = s
        .iter()
        .map(|v| v.and_then(|v| convert_one(v, t)).unwrap_or(ScalarValue::try_from(&arrow_type(t)).unwrap_or(ScalarValue::Null)))
        .collect();
    if values.is_empty() {
        return Ok(new_empty_array(&arrow_type(t)));
    }
    ScalarValue::iter_to_array(values)
}

/// Ticks from 0001-01-01 to 1970-01-01, in nanoseconds: KQL bins datetimes from year 1.
const YEAR1_NS: i128 = 62_135_596_800 * 1_000_000_000;

fn bin(v: &ArrayRef, size: &ArrayRef) -> Result<ArrayRef> {
    fn floor_to(v: i128, size: i128, origin: i128) -> Option<i64> {
        if size <= 0 {
            return None;
        }
        i64::try_from((v + origin).div_euclid(size) * size - origin).ok()
    }
    match v.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, tz) => {
            let (v, s) = (v.as_primitive::<TimestampNanosecondType>(), size.as_primitive::<DurationNanosecondType>());
            let out: TimestampNanosecondArray = v.iter().zip(s.iter()).map(|(v, s)| floor_to(v? as i128, s? as i128, YEAR1_NS)).collect();
            Ok(Arc::new(out.with_timezone_opt(tz.clone())))
        }
        DataType::Duration(TimeUnit::Nanosecond) => {
            let (v, s) = (v.as_primitive::<DurationNanosecondType>(), size.as_primitive::<DurationNanosecondType>());
            Ok(Arc::new(v.iter().zip(s.iter()).map(|(v, s)| floor_to(v? as i128, s? as i128, 0)).collect::<DurationNanosecondArray>()))
        }
        DataType::Int64 => {
            let (v, s) = (v.as_primitive::<Int64Type>(), size.as_primitive::<Int64Type>());
            Ok(Arc::new(v.iter().zip(s.iter()).map(|(v, s)| floor_to(v? as i128, s? as i128, 0)).collect::<Int64Array>()))
        }
        DataType::Float64 => {
            let (v, s) = (v.as_primitive::<Float64Type>(), size.as_primitive::<Float64Type>());
            let f = |(v, s): (Option<f64>, Option<f64>)| {
                let (v, s) = (v?, s?);
                (s > 0.0).then(|| (v / s).floor() * s)
            };
            Ok(Arc::new(v.iter().zip(s.iter()).map(f).collect::<Float64Array>()))
        }
        t => exec_err!("bin() does not take {t}"),
    }
}

pub fn parse_fields(types: &[TypeName]) -> Fields {
    types.iter().enumerate().map(|(i, t)| Field::new(format!("f{i}"), arrow_type(*t), true)).collect()
}

/// The `parse` operator: each row's captures converted to the declared types. In simple and
/// regex mode a capture that does not convert fails the whole row; in relaxed mode only itself.
fn parse_struct(text: &StringArray, regex: &str, types: &[TypeName], relaxed: bool) -> Result<ArrayRef> {
    let re = match Regex::new(regex) {
        Ok(r) => r,
        Err(e) => return exec_err!("invalid parse pattern: {e}"),
    };
    let null_row = || -> Vec<ScalarValue> {
        types
            .iter()
            .map(|t| {
                if *t == TypeName::String {
                    ScalarValue::Utf8(Some(String::new()))
                } else {
                    ScalarValue::try_from(&arrow_type(*t)).unwrap_or(ScalarValue::Null)
                }
            })
            .collect()
    };
    let mut columns: Vec<Vec<ScalarValue>> = vec![Vec::with_capacity(text.len()); types.len()];
    for t in text.iter() {
        let mut row = null_row();
        if let Some(caps) = t.and_then(|t| re.captures(t)) {
            let mut ok = true;
            for (i, ty) in types.iter().enumerate() {
                let cap = caps.name(&format!("c{i}")).map_or("", |m| m.as_str());
                match convert_one(cap, *ty) {
                    Some(_) if *ty == TypeName::String => row[i] = ScalarValue::Utf8(Some(cap.to_string())),
                    Some(v) => row[i] = v,
                    None => ok = false,
                }
            }
            if !ok && !relaxed {
                row = null_row();
            }
        }
        for (c, v) in columns.iter_mut().zip(row) {
            c.push(v);
        }
    }
    let fields = parse_fields(types);
    let arrays = columns
        .into_iter()
        .zip(types)
        .map(|(c, t)| if c.is_empty() { Ok(new_empty_array(&arrow_type(*t))) } else { ScalarValue::iter_to_array(c) })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(StructArray::try_new(fields, arrays, None)?))
}
