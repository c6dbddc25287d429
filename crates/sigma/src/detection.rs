//! The `detection` section: search identifiers made of field tests, evaluated on an event.

use crate::modifiers::{self, Modifier, Placeholders, RefKind, TimePart, ValueTest};
use crate::view::View;
use serde_json::Value as Json;
use taskhunt_events::{FieldName, Value};

/// `field|modifiers: values`. `field` is `None` for keywords (searched in every field).
#[derive(Debug)]
pub struct FieldTest {
    pub field: Option<String>,
    pub field_id: Option<FieldName>,
    pub modifiers: Vec<Modifier>,
    /// Per listed value, the OR of its variants.
    pub values: Vec<Vec<ValueTest>>,
    pub all: bool,
    /// The values as written in the rule, kept for conversion to query languages, which needs
    /// them in their original case (compiled needles are lowercased).
    pub raw_values: Vec<Json>,
}

/// A search identifier: a map (all tests), a list of maps (any map), or keywords.
#[derive(Debug)]
pub struct Selection {
    pub name: String,
    /// OR over maps, AND within a map.
    pub maps: Vec<Vec<FieldTest>>,
}

/// Errors found while compiling the detection section, with the text to locate them by.
#[derive(Debug, Clone)]
pub struct DetectionError {
    pub message: String,
    /// A snippet of the rule text (a key) near the problem, used to find its line.
    pub near: Option<String>,
}

fn err(message: impl Into<String>, near: Option<&str>) -> DetectionError {
    DetectionError { message: message.into(), near: near.map(String::from) }
}

/// Compiles one search identifier. Missing placeholders are appended to `missing`.
pub fn compile_selection(
    name: &str,
    body: &Json,
    placeholders: Option<&Placeholders>,
    missing: &mut Vec<String>,
) -> Result<Selection, DetectionError> {
    let maps = match body {
        Json::Object(map) => vec![compile_map(map, placeholders, missing)?],
        Json::Array(items) if !items.is_empty() && items.iter().all(Json::is_object) => {
            items.iter().filter_map(Json::as_object).map(|m| compile_map(m, placeholders, missing)).collect::<Result<_, _>>()?
        }
        Json::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) && !items.is_empty() => {
            vec![vec![compile_test(None, &[], items, placeholders, missing, name)?]]
        }
        Json::String(_) | Json::Number(_) | Json::Bool(_) => {
            vec![vec![compile_test(None, &[], std::slice::from_ref(body), placeholders, missing, name)?]]
        }
        Json::Array(items) if items.is_empty() => return Err(err(format!("search identifier `{name}` is an empty list"), Some(name))),
        Json::Array(_) => {
            return Err(err(format!("search identifier `{name}` mixes maps and plain values in one list"), Some(name)));
        }
        Json::Null => return Err(err(format!("search identifier `{name}` is empty"), Some(name))),
    };
    Ok(Selection { name: name.to_string(), maps })
}

fn compile_map(
    map: &serde_json::Map<String, Json>,
    placeholders: Option<&Placeholders>,
    missing: &mut Vec<String>,
) -> Result<Vec<FieldTest>, DetectionError> {
    let mut tests = Vec::with_capacity(map.len());
    for (key, value) in map {
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or("");
        let mut mods = Vec::new();
        for m in parts {
            match Modifier::parse(m) {
                Some(m) => mods.push(m),
                None => return Err(err(format!("unknown modifier `{m}` in `{key}`"), Some(key))),
            }
        }
        let values: Vec<Json> = match value {
            Json::Array(items) => {
                if items.iter().any(|v| v.is_object() || v.is_array()) {
                    return Err(err(format!("`{key}` lists a map or list where values were expected"), Some(key)));
                }
                if items.is_empty() {
                    return Err(err(format!("`{key}` has an empty list of values"), Some(key)));
                }
                items.clone()
            }
            Json::Object(_) => return Err(err(format!("`{key}` has a map where a value was expected"), Some(key))),
            scalar => vec![scalar.clone()],
        };
        let field = if field.is_empty() { None } else { Some(field) };
        tests.push(compile_test(field, &mods, &values, placeholders, missing, key)?);
    }
    Ok(tests)
}

fn compile_test(
    field: Option<&str>,
    mods: &[Modifier],
    values: &[Json],
    placeholders: Option<&Placeholders>,
    missing: &mut Vec<String>,
    near: &str,
) -> Result<FieldTest, DetectionError> {
    let compiled = modifiers::compile(field, mods, values, placeholders).map_err(|m| err(format!("`{near}`: {m}"), Some(near)))?;
    for p in compiled.missing_placeholders {
        if !missing.contains(&p) {
            missing.push(p);
        }
    }
    Ok(FieldTest {
        field: field.map(String::from),
        field_id: field.map(FieldName::intern),
        modifiers: mods.to_vec(),
        values: compiled.values,
        all: compiled.all,
        raw_values: values.to_vec(),
    })
}

impl Selection {
    pub fn eval(&self, view: &View) -> bool {
        self.maps.iter().any(|tests| tests.iter().all(|t| t.eval(view)))
    }

    /// The first map that matched, for explaining a detection.
    pub fn matching_map(&self, view: &View) -> Option<&[FieldTest]> {
        self.maps.iter().find(|tests| tests.iter().all(|t| t.eval(view))).map(Vec::as_slice)
    }
}

impl FieldTest {
    pub fn eval(&self, view: &View) -> bool {
        let one = |variants: &Vec<ValueTest>| variants.iter().any(|t| self.eval_one(t, view));
        if self.all { self.values.iter().all(one) } else { self.values.iter().any(one) }
    }

    fn eval_one(&self, test: &ValueTest, view: &View) -> bool {
        match self.field_id {
            None => view.keyword_texts().iter().any(|(orig, lower)| text_test(test, orig, lower, view)),
            Some(id) => value_test(test, id, view),
        }
    }
}

fn value_test(test: &ValueTest, id: FieldName, view: &View) -> bool {
    match test {
        ValueTest::Null => view.get(id).is_none_or(Value::is_null),
        ValueTest::Exists(want) => view.get(id).is_some() == *want,
        ValueTest::Not(inner) => {
            // `neq`: the field must be there and differ.
            view.get(id).is_some_and(|v| !v.is_null()) && !value_test(inner, id, view)
        }
        ValueTest::Num { op, value } => match view.get(id) {
            Some(v) => elements(v).any(|e| number_of(e).is_some_and(|n| op.holds(n, *value))),
            None => false,
        },
        ValueTest::Time { part, op, value } => match view.get(id) {
            Some(v) => elements(v).any(|e| {
                time_part(&e.to_text(), *part).is_some_and(|n| match op {
                    Some(op) => op.holds(n, *value),
                    None => n == *value,
                })
            }),
            None => false,
        },
        ValueTest::FieldRef { other, kind, fold } => {
            let (Some(a), Some(b)) = (view.get(id), view.get_str(other)) else { return false };
            if a.is_null() || b.is_null() {
                return false;
            }
            let (a, b) = (a.to_text(), b.to_text());
            let (a, b) = if *fold { (a.to_lowercase(), b.to_lowercase()) } else { (a.into_owned(), b.into_owned()) };
            match kind {
                RefKind::Exact => a == b,
                RefKind::Contains => a.contains(&b),
                RefKind::Prefix => a.starts_with(&b),
                RefKind::Suffix => a.ends_with(&b),
            }
        }
        _ => view.texts(id).iter().any(|(orig, lower)| text_test(test, orig, lower, view)),
    }
}

fn text_test(test: &ValueTest, orig: &str, lower: &str, _view: &View) -> bool {
    match test {
        ValueTest::Str { m, fold } => m.matches(if *fold { lower } else { orig }),
        ValueTest::Regex(r) => r.is_match(orig),
        ValueTest::Cidr(net) => orig.trim().parse::<std::net::IpAddr>().is_ok_and(|ip| net.contains(&ip)),
        ValueTest::Num { op, value } => orig.trim().parse::<f64>().is_ok_and(|n| op.holds(n, *value)),
        ValueTest::Not(inner) => !text_test(inner, orig, lower, _view),
        // Presence tests make no sense for keywords; they never match there.
        _ => false,
    }
}

fn elements(v: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match v {
        Value::Array(items) => Box::new(items.iter()),
        other => Box::new(std::iter::once(other)),
    }
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn time_part(text: &str, part: TimePart) -> Option<f64> {
    let t = taskhunt_events::Timestamp::parse(text)?;
    let s = t.to_string(); // YYYY-MM-DDTHH:MM:SS...
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<f64>().ok());
    match part {
        TimePart::Year => num(0..4),
        TimePart::Month => num(5..7),
        TimePart::Day => num(8..10),
        TimePart::Hour => num(11..13),
        TimePart::Minute => num(14..16),
        TimePart::Week => {
            let days = t.unix_seconds().div_euclid(86_400);
            // ISO-8601-ish week of year: days since Jan 1 / 7 + 1.
            let year_start = taskhunt_events::Timestamp::parse(&format!("{}-01-01T00:00:00Z", &s[0..4]))?;
            Some(((days - year_start.unix_seconds().div_euclid(86_400)) / 7 + 1) as f64)
        }
    }
}
