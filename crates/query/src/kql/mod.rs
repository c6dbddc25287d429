//! KQL: the front end in `taskhunt-querylang` (a hand-written lexer and recursive-descent parser)
//! builds our own syntax tree ([`ast`]); the planner here maps it onto DataFusion's DataFrame API
//! (never SQL text).
//!
//! Semantics follow Kusto: `==` and the `_cs` operators are case-sensitive, `=~`, `contains`,
//! `has`, `startswith`, `in~` ... are not; `has` matches whole terms; strings are never null
//! (missing text is empty); dynamic values are carried as JSON text; default column names are
//! the ones Kusto gives (`count_`, `dcount_X`, `Column1`). What is not supported is an error that
//! names it, never a different answer.

mod aggregates;
mod expr;
mod functions;
mod join;
mod names;
mod plan;
mod reshape;
pub mod text;
pub(crate) mod udf;
mod udf_dyn;

/// The syntax tree, from the front end in `taskhunt-querylang`.
pub use taskhunt_querylang::kql::ast;
use taskhunt_querylang::kql::{lexer, literal, values};

use crate::engine::Engine;
use crate::error::QueryError;
use datafusion::prelude::DataFrame;
use std::cell::{Cell, RefCell};

/// A planned query and the notes for the caller (operators accepted but ignored, such as
/// `render`).
pub struct Planned {
    pub df: DataFrame,
    pub notes: Vec<String>,
}

pub fn plan(engine: &Engine, text: &str) -> Result<DataFrame, QueryError> {
    plan_with_notes(engine, text).map(|p| p.df)
}

/// Parsing and planning recurse over the query; they run on a thread of their own with a
/// stack sized for the deepest query the parser accepts, whatever thread calls.
const PLAN_STACK: usize = 64 << 20;

pub fn plan_with_notes(engine: &Engine, text: &str) -> Result<Planned, QueryError> {
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("kql-plan".into())
            .stack_size(PLAN_STACK)
            .spawn_scoped(s, || plan_here(engine, text))
            .map_err(|e| QueryError::plain(format!("cannot start the KQL planner: {e}")))?;
        worker.join().unwrap_or_else(|_| Err(QueryError::plain("internal error while planning the KQL query")))
    })
}

fn plan_here(engine: &Engine, text: &str) -> Result<Planned, QueryError> {
    let q = taskhunt_querylang::kql::parse(text)?;
    let planner = plan::Planner {
        engine,
        text,
        lets: &q.lets,
        visible: Cell::new(q.lets.len()),
        notes: RefCell::new(Vec::new()),
        depth: Cell::new(0),
    };
    let tab = planner.pipeline(&q.body)?;
    let df = planner.finish(tab)?;
    Ok(Planned { df, notes: planner.notes.into_inner() })
}

/// Parses `text` and returns the notes planning would give (e.g. that `render` is ignored),
/// without needing an engine. Empty when the query does not parse.
pub fn notes(text: &str) -> Vec<String> {
    let Ok(q) = taskhunt_querylang::kql::parse(text) else { return Vec::new() };
    let mut out = Vec::new();
    let mut pipelines = vec![&q.body];
    for l in &q.lets {
        if let ast::LetValue::Tabular(p) = &l.value {
            pipelines.push(p);
        }
    }
    for p in pipelines {
        for (op, _) in &p.ops {
            if let ast::Op::Render(what) = op {
                out.push(format!("render {what}: ignored; taskhunt returns the table, not a chart"));
            }
        }
    }
    out
}

/// Parses without planning: for syntax checks (`taskhunt` hunts lint) and tests.
pub fn parse(text: &str) -> Result<ast::Query, QueryError> {
    Ok(taskhunt_querylang::kql::parse(text)?)
}
