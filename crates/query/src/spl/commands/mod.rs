//! One planning function per SPL command.

pub mod eval;
mod extract;
mod functions;
mod reshape;
pub mod search;
mod stats;
mod timeparse;
mod transaction;

use super::ast::{Command, Stage};
use super::plan::{Planner, Stream};
use crate::error::QueryError;

pub fn apply(p: &Planner, s: Stream, stage: &Stage) -> Result<Stream, QueryError> {
    let span = stage.span;
    match &stage.command {
        Command::Search(None) => Ok(s),
        Command::Search(Some(q)) => {
            let cond = search::compile(p, &s, q, false)?;
            let df = p.df(span, s.df.clone().filter(cond))?;
            Ok(Stream { df, ..s })
        }
        Command::Where(e) => {
            let cond = eval::Ctx { p, s: &s }.condition(e, "where")?;
            let df = p.df(span, s.df.clone().filter(cond))?;
            Ok(Stream { df, ..s })
        }
        Command::Eval(assignments) => eval::eval(p, s, assignments, span),
        Command::Stats { aggs, by } => stats::stats(p, s, aggs, by, span),
        Command::Top(a) => stats::top(p, s, a, false, span),
        Command::Rare(a) => stats::top(p, s, a, true, span),
        Command::Table(names) => reshape::table(p, s, names, span),
        Command::Fields { remove, names } => reshape::fields(p, s, *remove, names, span),
        Command::Rename(pairs) => reshape::rename(p, s, pairs, span),
        Command::Sort { keys, limit } => reshape::sort(p, s, keys, *limit, span),
        Command::Head(n) => reshape::head(p, s, *n, span),
        Command::Tail(n) => reshape::tail(p, s, *n, span),
        Command::Dedup { limit, fields, keepempty, sortby } => reshape::dedup(p, s, *limit, fields, *keepempty, sortby, span),
        Command::Rex { field, regex, regex_span, mode } => extract::rex(p, s, field, regex, *regex_span, mode, span),
        Command::Xmlkv { field } => extract::xmlkv(p, s, field.as_ref(), span),
        Command::Transaction(a) => transaction::transaction(p, s, a, span),
    }
}
