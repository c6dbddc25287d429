//! Sigma rules as query text: KQL, SPL and SQL, through a pipeline that says where the events
//! live in the target and what their fields are called there ([`pipeline`], [`fieldmaps`]).
//!
//! A rule is turned into one boolean expression over field tests ([`ir`]), mapped onto each
//! branch of its logsource, and rendered ([`kql`], [`spl`], [`sql`]). What a target can only
//! approximate is kept and reported as lossy (a comment in the query); what it cannot express
//! at all is an [`Unsupported`] reason and the rule is not converted.

mod fieldmaps;
pub mod ir;
pub mod kql;
pub mod pipeline;
pub mod spl;
pub mod sql;

use crate::modifiers::Placeholders;
use crate::rule::Rule;
use ir::{Bool, Leaf, Test};
use pipeline::Mapped;
pub use pipeline::Pipeline;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Kql,
    Spl,
    Sql,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        Some(match s {
            "kql" => Lang::Kql,
            "spl" => Lang::Spl,
            "sql" => Lang::Sql,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::Kql => "kql",
            Lang::Spl => "spl",
            Lang::Sql => "sql",
        }
    }

    /// A comment line in this language; the text is kept on one line and cannot close the
    /// comment early.
    pub fn comment(self, text: &str) -> String {
        let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        match self {
            Lang::Kql => format!("// {one_line}"),
            Lang::Spl => format!("``` {} ```", one_line.replace('`', "'")),
            Lang::Sql => format!("-- {one_line}"),
        }
    }
}

/// Why a rule (or part of it) cannot be expressed in the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl Unsupported {
    pub fn new(why: impl Into<String>) -> Unsupported {
        Unsupported(why.into())
    }
}

/// A rule that could not be converted: which one, and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {} ({}): {reason}", path.display(), id.as_deref().unwrap_or("no id"), title)]
pub struct ConvertError {
    pub path: PathBuf,
    pub id: Option<String>,
    pub title: String,
    pub reason: String,
}

/// A converted rule: the query (with its comments) and what it only approximates.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The query alone, without comments.
    pub query: String,
    pub lossy: Vec<String>,
    /// Comment lines (rule title and id, lossy notes) then the query.
    pub text: String,
}

/// Converts one detection rule.
pub fn convert(rule: &Rule, lang: Lang, pipeline: Pipeline, placeholders: Option<&Placeholders>) -> Result<Converted, ConvertError> {
    convert_inner(rule, lang, pipeline, placeholders).map_err(|u| ConvertError {
        path: rule.meta.path.clone(),
        id: rule.meta.id.clone(),
        title: rule.meta.title.clone(),
        reason: u.0,
    })
}

fn convert_inner(rule: &Rule, lang: Lang, pipeline: Pipeline, placeholders: Option<&Placeholders>) -> Result<Converted, Unsupported> {
    if !pipeline.supports(lang) {
        return Err(Unsupported::new(format!("pipeline {} does not target {}", pipeline.name(), lang.name())));
    }
    let expr = ir::rule_expr(rule, placeholders)?;
    let Mapped { branches, mut lossy } = pipeline::map(rule, &expr, pipeline, lang)?;
    let (query, more) = match lang {
        Lang::Kql => kql::render(&branches, pipeline)?,
        Lang::Spl => spl::render(&branches, pipeline)?,
        Lang::Sql => sql::render(&branches)?,
    };
    for l in more {
        if !lossy.contains(&l) {
            lossy.push(l);
        }
    }
    let mut text = lang.comment(&format!("{} ({})", rule.meta.title, rule.meta.id.as_deref().unwrap_or("no id")));
    text.push('\n');
    text.push_str(&lang.comment(&format!("converted by taskhunt, pipeline {}", pipeline.name())));
    text.push('\n');
    for l in &lossy {
        text.push_str(&lang.comment(&format!("lossy: {l}")));
        text.push('\n');
    }
    text.push_str(&query);
    text.push('\n');
    Ok(Converted { query, lossy, text })
}

/// Notes for lossy rendering, shared by the renderers.
pub(crate) const EMPTY_IS_MISSING: &str =
    "KQL does not tell an empty value from a missing field (isempty/isnotempty), Sigma does (null, '', neq, exists, fieldref)";
pub(crate) const CIDR_V6: &str = "IPv6 ranges are matched as text prefixes, which miss other spellings of the same address";

/// Replaces `cidr` tests by the text patterns of the addresses in the range, for targets
/// without a CIDR function. IPv4 ranges are exact for dotted-quad text; IPv6 is lossy.
pub fn cidr_as_patterns(b: &Bool, lossy: &mut Vec<String>) -> Result<Bool, Unsupported> {
    Ok(match b {
        Bool::Leaf(Leaf { field, test: Test::Cidr(net) }) => {
            let (patterns, exact) = ir::cidr_patterns(net)?;
            if !exact && !lossy.iter().any(|l| l == CIDR_V6) {
                lossy.push(CIDR_V6.into());
            }
            Bool::Or(patterns.into_iter().map(|p| Bool::leaf(field.as_deref(), Test::Str { pieces: p, fold: true })).collect())
        }
        Bool::Leaf(Leaf { field, test: Test::Neq(inner) }) if matches!(**inner, Test::Cidr(_)) => {
            let Test::Cidr(net) = &**inner else { unreachable!() };
            let positive = cidr_as_patterns(&Bool::leaf(field.as_deref(), Test::Cidr(*net)), lossy)?;
            Bool::And(vec![Bool::leaf(field.as_deref(), Test::Exists(true)), Bool::Not(Box::new(positive))])
        }
        Bool::Leaf(l) => Bool::Leaf(l.clone()),
        Bool::Const(c) => Bool::Const(*c),
        Bool::Not(x) => Bool::Not(Box::new(cidr_as_patterns(x, lossy)?)),
        Bool::And(xs) => Bool::And(xs.iter().map(|x| cidr_as_patterns(x, lossy)).collect::<Result<_, _>>()?),
        Bool::Or(xs) => Bool::Or(xs.iter().map(|x| cidr_as_patterns(x, lossy)).collect::<Result<_, _>>()?),
    })
}
