//! `rex` (named-group extraction, `mode=sed`) and `xmlkv` (leaf elements of task XML as fields).

use super::super::ast::{Name, RexMode};
use super::super::lexer::Span;
use super::super::plan::{Planner, Stream, is_list};
use super::super::udf::{self, Kind, Re};
use super::super::xml;
use super::eval::Ctx;
use super::functions::{one_line, replacement};
use crate::error::QueryError;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_nested::expr_fn::make_array;
use datafusion::logical_expr::{Expr, when};
use std::collections::BTreeMap;

/// More element names than this from one xmlkv is refused rather than building a huge table.
const MAX_XML_FIELDS: usize = 512;

/// The input of an extraction as text, or `None` when no event has the field.
fn input(p: &Planner, s: &Stream, field: &Name) -> Result<Option<Expr>, QueryError> {
    let Some((x, t)) = s.field(&field.text) else { return Ok(None) };
    if is_list(&t) {
        return Err(p.err(field.span, format!("{} is a multivalue field: extraction needs text", field.text)));
    }
    Ok(Some(Ctx { p, s }.to_text(x, &t, field.span)?))
}

/// `new` where it has a value, else the field's existing value (Splunk leaves fields alone when
/// nothing was extracted).
fn keep_existing(p: &Planner, s: &Stream, name: &str, new: Expr, new_is_list: bool, span: Span) -> Result<Expr, QueryError> {
    let Some((old, t)) = s.field(name) else { return Ok(new) };
    let cx = Ctx { p, s };
    if new_is_list {
        if is_list(&t) {
            return Ok(coalesce(vec![new, old]));
        }
        let old = cx.to_text(old, &t, span)?;
        return p.df(span, when(new.clone().is_null().and(old.clone().is_not_null()), make_array(vec![old])).otherwise(new));
    }
    if is_list(&t) {
        return Ok(new);
    }
    Ok(coalesce(vec![new, cx.to_text(old, &t, span)?]))
}

pub fn rex(
    p: &Planner,
    mut s: Stream,
    field: &Name,
    regex: &str,
    regex_span: Span,
    mode: &RexMode,
    span: Span,
) -> Result<Stream, QueryError> {
    let re =
        Re::new(regex).map_err(|e| p.err(regex_span, format!("rex: regular expression not supported: {}", one_line(&e.to_string()))))?;
    let Some(text) = input(p, &s, field)? else { return Ok(s) };
    match mode {
        RexMode::Sed { replacement: with, global } => {
            let e = udf::call(Kind::Replace { re, with: replacement(with), global: *global }, vec![text]);
            let target = if s.column(&field.text).is_some() { field.text.clone() } else { "Computer".into() };
            s.df = p.df(span, s.df.clone().with_column(&target, e))?;
        }
        RexMode::Extract { max_match } => {
            let names: Vec<String> = re.0.capture_names().flatten().map(str::to_string).collect();
            if names.is_empty() {
                return Err(p.err(regex_span, "rex: the regular expression needs a named group such as (?<user>\\w+)"));
            }
            if let Some(n) = names.iter().find(|n| n.starts_with("_KEY_") || n.starts_with("_VAL_")) {
                return Err(p.err(regex_span, format!("rex: dynamic field names ({n}) are not supported")));
            }
            for name in names {
                let multi = *max_match != 1;
                let kind = if multi {
                    Kind::ExtractAll { re: re.clone(), group: name.clone(), max: *max_match }
                } else {
                    Kind::Extract { re: re.clone(), group: name.clone() }
                };
                let e = udf::call(kind, vec![text.clone()]);
                let e = keep_existing(p, &s, &name, e, multi, span)?;
                s.df = p.df(span, s.df.clone().with_column(&name, e))?;
            }
        }
    }
    Ok(s)
}

/// Leaf element names in `docs`, in first-seen order, each with whether some document holds
/// more than one distinct value for it.
fn element_names(docs: &[String]) -> Vec<(String, bool)> {
    let mut order: Vec<String> = Vec::new();
    let mut multi: BTreeMap<String, bool> = BTreeMap::new();
    for doc in docs {
        let mut here: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (n, v) in xml::leaves(doc) {
            let vals = here.entry(n.clone()).or_default();
            if !vals.contains(&v) {
                vals.push(v);
            }
            if let std::collections::btree_map::Entry::Vacant(slot) = multi.entry(n.clone()) {
                order.push(n);
                slot.insert(false);
            }
        }
        for (n, vals) in here {
            if vals.len() > 1 {
                multi.insert(n, true);
            }
        }
    }
    order.into_iter().map(|n| (n.clone(), multi.get(&n).copied().unwrap_or(false))).collect()
}

/// `xmlkv`: every leaf element of the task XML (`TaskContent`, else `TaskContentNew`, or
/// `field=`) becomes a field. The set of fields depends on the data, so the XML of the events
/// reaching xmlkv is read once while planning.
pub fn xmlkv(p: &Planner, mut s: Stream, field: Option<&Name>, span: Span) -> Result<Stream, QueryError> {
    let text = match field {
        Some(f) => match input(p, &s, f)? {
            Some(t) => t,
            None => return Ok(s),
        },
        None => {
            let cx = Ctx { p, s: &s };
            let mut inputs = Vec::new();
            for name in ["TaskContent", "TaskContentNew"] {
                if let Some((x, t)) = s.field(name) {
                    inputs.push(cx.to_text(x, &t, span)?);
                }
            }
            if inputs.is_empty() {
                return Err(p.err(span, "xmlkv: these events have no TaskContent or TaskContentNew; name the XML field with field="));
            }
            coalesce(inputs)
        }
    };
    let probe =
        s.df.clone().filter(text.clone().is_not_null()).and_then(|d| d.select(vec![text.clone().alias("x")])).and_then(|d| d.distinct());
    let batches = p.df(span, p.engine.block_on(async { probe?.collect().await }))?;
    let mut docs: Vec<String> = Vec::new();
    for b in &batches {
        let Some(col) = b.columns().first() else { continue };
        let Ok(c) = cast(col, &DataType::Utf8) else { continue };
        if let Some(a) = c.as_string_opt::<i32>() {
            docs.extend((0..a.len()).filter(|i| a.is_valid(*i)).map(|i| a.value(i).to_string()));
        }
    }
    docs.sort();
    let names = element_names(&docs);
    if names.len() > MAX_XML_FIELDS {
        return Err(p.err(span, format!("xmlkv: the XML holds {} different element names, more than {MAX_XML_FIELDS}", names.len())));
    }
    for (name, multi) in names {
        let e = udf::call(Kind::XmlValue { name: name.clone(), multi }, vec![text.clone()]);
        let e = keep_existing(p, &s, &name, e, multi, span)?;
        s.df = p.df(span, s.df.clone().with_column(&name, e))?;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_first_seen_order_with_multivalue_flags() {
        let docs = vec![
            "<T><Enabled>true</Enabled><S><Enabled>true</Enabled><Hidden>true</Hidden></S></T>".to_string(),
            "<T><Command>a</Command><Command>b</Command><Enabled>false</Enabled></T>".to_string(),
        ];
        assert_eq!(element_names(&docs), vec![("Enabled".into(), false), ("Hidden".into(), false), ("Command".into(), true)]);
    }
}
