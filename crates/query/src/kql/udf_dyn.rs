//! The UDF kinds over dynamic values (canonical JSON text): parse_json, member access,
//! tostring, array_length, what mv-expand expands, make_set/make_list results, split,
//! parse_url.

use super::ast::TypeName;
use super::literal::{parse_datetime, parse_timespan};
use super::text;
use super::udf::{Kind, i64s, utf8};
use super::values::{format_datetime, format_timespan};
use datafusion::arrow::array::*;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::*;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ColumnarValue;
use serde_json::Value as Json;
use std::sync::Arc;

/// Text as a dynamic value: JSON when it parses, otherwise the text itself as a dynamic string;
/// None (null) for empty text and JSON `null`.
pub fn parse_dynamic(s: &str) -> Option<Json> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    match serde_json::from_str::<Json>(t) {
        Ok(Json::Null) => None,
        Ok(v) => Some(v),
        Err(_) => Some(Json::String(s.to_string())),
    }
}

fn read(s: &str) -> Option<Json> {
    serde_json::from_str::<Json>(s).ok().filter(|v| !v.is_null())
}

/// A dynamic value as a string: strings unquoted, anything else as JSON text.
pub fn dyn_to_string(s: &str) -> String {
    if s.starts_with('"')
        && let Ok(Json::String(inner)) = serde_json::from_str::<Json>(s)
    {
        return inner;
    }
    s.to_string()
}

fn strings_out(v: impl Iterator<Item = Option<String>>) -> ArrayRef {
    Arc::new(v.collect::<StringArray>())
}

pub fn invoke(kind: &Kind, _args: &[ColumnarValue], cols: &[ArrayRef]) -> Result<ArrayRef> {
    Ok(match kind {
        Kind::ParseJson => strings_out(utf8(&cols[0])?.iter().map(|s| s.and_then(parse_dynamic).map(|v| v.to_string()))),
        Kind::DynGet => {
            let obj = utf8(&cols[0])?;
            let text_key = matches!(cols[1].data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
            let keys = if text_key { Some(utf8(&cols[1])?) } else { None };
            let idx = if text_key { None } else { Some(i64s(&cols[1])?) };
            strings_out((0..obj.len()).map(|i| {
                if obj.is_null(i) {
                    return None;
                }
                let v = read(obj.value(i))?;
                let found = match (&keys, &idx, v) {
                    (Some(k), _, Json::Object(m)) if k.is_valid(i) => m.get(k.value(i)).cloned(),
                    (_, Some(x), Json::Array(a)) if x.is_valid(i) => {
                        let n = a.len() as i64;
                        let k = x.value(i);
                        let k = if k < 0 { n + k } else { k };
                        if (0..n).contains(&k) { a.get(k as usize).cloned() } else { None }
                    }
                    _ => None,
                };
                found.filter(|v| !v.is_null()).map(|v| v.to_string())
            }))
        }
        Kind::DynToString => strings_out(utf8(&cols[0])?.iter().map(|s| Some(s.map(dyn_to_string).unwrap_or_default()))),
        Kind::DynCast(t) => dyn_cast(&utf8(&cols[0])?, *t)?,
        Kind::ArrayLength => Arc::new(
            utf8(&cols[0])?
                .iter()
                .map(|s| match read(s?)? {
                    Json::Array(a) => Some(a.len() as i64),
                    _ => None,
                })
                .collect::<Int64Array>(),
        ),
        Kind::MvElements { bag_as_array } => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for s in utf8(&cols[0])?.iter() {
                let Some(v) = s.and_then(read) else {
                    b.append(false);
                    continue;
                };
                match v {
                    Json::Array(items) => {
                        for it in items {
                            if it.is_null() { b.values().append_null() } else { b.values().append_value(it.to_string()) }
                        }
                    }
                    Json::Object(m) => {
                        for (k, v) in m {
                            let entry = if *bag_as_array {
                                Json::Array(vec![Json::String(k), v])
                            } else {
                                let mut one = serde_json::Map::new();
                                one.insert(k, v);
                                Json::Object(one)
                            };
                            b.values().append_value(entry.to_string());
                        }
                    }
                    other => b.values().append_value(other.to_string()),
                }
                b.append(true);
            }
            Arc::new(b.finish())
        }
        Kind::MvIndex => {
            let arrays = cols.iter().map(utf8).collect::<Result<Vec<_>>>()?;
            let n = arrays.first().map_or(0, |a| a.len());
            let mut b = ListBuilder::new(Int64Builder::new());
            for i in 0..n {
                let len = arrays
                    .iter()
                    .map(|a| match (!a.is_null(i)).then(|| read(a.value(i))).flatten() {
                        None => 1,
                        Some(Json::Array(x)) => x.len(),
                        Some(Json::Object(m)) => m.len(),
                        Some(_) => 1,
                    })
                    .max()
                    .unwrap_or(0);
                for k in 0..len {
                    b.values().append_value(k as i64);
                }
                b.append(true);
            }
            Arc::new(b.finish())
        }
        Kind::ListToJson { json_elems, max, flatten } => list_to_json(&cols[0], *json_elems, *max, *flatten)?,
        Kind::Split => {
            let (s, d) = (utf8(&cols[0])?, utf8(&cols[1])?);
            let idx = cols.get(2).map(i64s).transpose()?;
            strings_out((0..s.len()).map(|i| {
                let at = match &idx {
                    Some(x) if x.is_null(i) => return None,
                    Some(x) => Some(x.value(i)),
                    None => None,
                };
                let (sv, dv) = (if s.is_null(i) { "" } else { s.value(i) }, if d.is_null(i) { "" } else { d.value(i) });
                Some(text::split(sv, dv, at).to_string())
            }))
        }
        Kind::ParseUrl => strings_out(utf8(&cols[0])?.iter().map(|s| Some(text::parse_url(s.unwrap_or("")).to_string()))),
        k => return exec_err!("internal: {k:?} is not a dynamic function"),
    })
}

fn dyn_cast(s: &StringArray, t: TypeName) -> Result<ArrayRef> {
    let vals = s.iter().map(|s| s.and_then(read));
    Ok(match t {
        TypeName::Dynamic => Arc::new(s.clone()),
        TypeName::String => strings_out(vals.map(|v| match v {
            Some(Json::String(x)) => Some(x),
            _ => Some(String::new()),
        })),
        TypeName::Long => Arc::new(vals.map(|v| v?.as_i64()).collect::<Int64Array>()),
        TypeName::Int => Arc::new(vals.map(|v| i32::try_from(v?.as_i64()?).ok()).collect::<Int32Array>()),
        TypeName::Real => Arc::new(vals.map(|v| v?.as_f64()).collect::<Float64Array>()),
        TypeName::Bool => Arc::new(vals.map(|v| v?.as_bool()).collect::<BooleanArray>()),
        TypeName::DateTime => {
            Arc::new(vals.map(|v| parse_datetime(v?.as_str()?)).collect::<TimestampNanosecondArray>().with_timezone("UTC"))
        }
        TypeName::TimeSpan => Arc::new(vals.map(|v| parse_timespan(v?.as_str()?)).collect::<DurationNanosecondArray>()),
    })
}

/// One element of an aggregated list as a JSON value.
fn element(a: &ArrayRef, i: usize, json_elems: bool) -> Result<Json> {
    if a.is_null(i) {
        return Ok(Json::Null);
    }
    Ok(match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = utf8(a)?;
            let v = s.value(i);
            if json_elems { read(v).unwrap_or(Json::Null) } else { Json::String(v.to_string()) }
        }
        DataType::Boolean => Json::Bool(a.as_boolean().value(i)),
        DataType::Float32 | DataType::Float64 => {
            let f = cast(a, &DataType::Float64)?.as_primitive::<Float64Type>().value(i);
            serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
        }
        DataType::Timestamp(..) => {
            let c = cast(a, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
            Json::String(format_datetime(c.as_primitive::<TimestampNanosecondType>().value(i)))
        }
        DataType::Duration(..) => {
            let c = cast(a, &DataType::Duration(TimeUnit::Nanosecond))?;
            Json::String(format_timespan(c.as_primitive::<DurationNanosecondType>().value(i)))
        }
        t if t.is_integer() => Json::from(cast(a, &DataType::Int64)?.as_primitive::<Int64Type>().value(i)),
        _ => Json::String(utf8(a)?.value(i).to_string()),
    })
}

fn list_to_json(a: &ArrayRef, json_elems: bool, max: Option<usize>, flatten: bool) -> Result<ArrayRef> {
    let list = match a.data_type() {
        DataType::List(_) => a.as_list::<i32>().clone(),
        DataType::Null => return Ok(strings_out((0..a.len()).map(|_| Some("[]".to_string())))),
        DataType::LargeList(_) => {
            let c = cast(a, &DataType::new_list(a.as_list::<i64>().value_type(), true))?;
            c.as_list::<i32>().clone()
        }
        t => return exec_err!("expected a list, found {t}"),
    };
    let mut out = StringBuilder::new();
    for i in 0..list.len() {
        if list.is_null(i) {
            out.append_value("[]");
            continue;
        }
        let vals = list.value(i);
        let mut items = (0..vals.len()).map(|k| element(&vals, k, json_elems)).collect::<Result<Vec<_>>>()?;
        if flatten {
            let mut seen = std::collections::HashSet::new();
            items = items
                .into_iter()
                .flat_map(|v| match v {
                    Json::Array(inner) => inner,
                    other => vec![other],
                })
                .filter(|v| !v.is_null() && seen.insert(v.to_string()))
                .collect();
        }
        items.truncate(max.unwrap_or(usize::MAX));
        out.append_value(Json::Array(items).to_string());
    }
    Ok(Arc::new(out.finish()))
}
