//! Planning: each stage turns a [`Stream`] (a DataFrame plus the order its rows are in) into the
//! next. Row order is carried in hidden columns (`__spl_o0`, ...) copied from the sort keys when
//! an order is set, so that later projections, renames and evals cannot disturb it; the final
//! DataFrame is sorted by them and they are dropped.

use super::ast::{Command, Stage};
use super::commands;
use super::lexer::Span;
use crate::engine::Engine;
use crate::error::QueryError;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr, SortExpr, lit};
use datafusion::prelude::DataFrame;

/// Prefix of the planner's own columns; never shown, never matched by wildcards.
pub const HIDDEN: &str = "__spl_";

pub struct Planner<'a> {
    pub engine: &'a Engine,
    pub text: &'a str,
}

#[derive(Clone, Debug)]
pub struct OrderKey {
    pub column: String,
    pub asc: bool,
    pub nulls_first: bool,
}

#[derive(Clone)]
pub struct Stream {
    pub df: DataFrame,
    /// The row order, as hidden columns.
    pub order: Vec<OrderKey>,
    /// Counter for fresh hidden column names.
    pub next_id: usize,
}

pub fn plan(engine: &Engine, text: &str, stages: &[Stage]) -> Result<DataFrame, QueryError> {
    let p = Planner { engine, text };
    let Some((first, rest)) = stages.split_first() else {
        return Err(QueryError::at(text, 0, "empty query"));
    };
    let Command::Search(search) = &first.command else {
        return Err(p.err(first.span, "a query starts with a search"));
    };
    let mut stream = commands::search::source(&p, search.as_ref(), first.span)?;
    for stage in rest {
        stream = commands::apply(&p, stream, stage)?;
    }
    let span = stages.last().map_or(first.span, |s| s.span);
    p.df(span, stream.finish())
}

impl Planner<'_> {
    pub fn err(&self, span: Span, msg: impl Into<String>) -> QueryError {
        QueryError::at(self.text, span.start, msg)
    }

    /// A DataFusion result, its error placed at `span`.
    pub fn df<T>(&self, span: Span, r: Result<T, DataFusionError>) -> Result<T, QueryError> {
        r.map_err(|e| {
            let msg = e.to_string();
            let msg = msg.strip_prefix("Error during planning: ").unwrap_or(&msg).to_string();
            self.err(span, msg)
        })
    }
}

pub fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

pub fn is_int(t: &DataType) -> bool {
    t.is_integer()
}

pub fn is_num(t: &DataType) -> bool {
    t.is_integer() || t.is_floating()
}

pub fn is_list(t: &DataType) -> bool {
    matches!(t, DataType::List(_) | DataType::LargeList(_))
}

pub fn null_text() -> Expr {
    lit(ScalarValue::Utf8(None))
}

impl Stream {
    pub fn new(df: DataFrame) -> Stream {
        Stream { df, order: Vec::new(), next_id: 0 }
    }

    pub fn schema(&self) -> &DFSchema {
        self.df.schema()
    }

    /// Visible column names, in schema order.
    pub fn visible(&self) -> Vec<String> {
        self.schema().fields().iter().map(|f| f.name().clone()).filter(|n| !n.starts_with(HIDDEN)).collect()
    }

    /// The column named exactly `name` (hidden ones included).
    pub fn column(&self, name: &str) -> Option<Expr> {
        self.schema().iter().find(|(_, f)| f.name() == name).map(|(q, f)| Expr::Column(Column::from((q, f))))
    }

    pub fn column_type(&self, name: &str) -> Option<DataType> {
        self.schema().fields().iter().find(|f| f.name() == name).map(|f| f.data_type().clone())
    }

    /// A field as a query names it: exact (case-sensitive) name, or `host` for `Computer`.
    pub fn field(&self, name: &str) -> Option<(Expr, DataType)> {
        if name.starts_with(HIDDEN) {
            return None;
        }
        let actual = if self.column_type(name).is_none() && name == "host" { "Computer" } else { name };
        Some((self.column(actual)?, self.column_type(actual)?))
    }

    pub fn fresh(&mut self, what: &str) -> String {
        self.next_id += 1;
        format!("{HIDDEN}{what}{}", self.next_id)
    }

    fn hidden_order_columns(&self) -> Vec<Expr> {
        self.order.iter().filter_map(|k| self.column(&k.column)).collect()
    }

    /// Projects `visible` (each named with an alias) and keeps the order columns.
    pub fn project(mut self, visible: Vec<Expr>) -> Result<Stream, DataFusionError> {
        let mut exprs = visible;
        exprs.extend(self.hidden_order_columns());
        self.df = self.df.select(exprs)?;
        Ok(self)
    }

    /// Sets a new row order: `keys` are copied into fresh hidden columns.
    pub fn with_order(mut self, keys: Vec<(Expr, bool, bool)>) -> Result<Stream, DataFusionError> {
        let mut exprs: Vec<Expr> = self.visible().iter().filter_map(|n| self.column(n)).collect();
        let mut order = Vec::new();
        for (e, asc, nulls_first) in keys {
            let name = self.fresh("o");
            exprs.push(e.alias(&name));
            order.push(OrderKey { column: name, asc, nulls_first });
        }
        self.df = self.df.select(exprs)?;
        self.order = order;
        Ok(self)
    }

    pub fn sort_exprs(&self) -> Vec<SortExpr> {
        self.order.iter().filter_map(|k| Some(SortExpr::new(self.column(&k.column)?, k.asc, k.nulls_first))).collect()
    }

    /// The DataFrame sorted in stream order (for limits).
    pub fn sorted(&self) -> Result<DataFrame, DataFusionError> {
        let keys = self.sort_exprs();
        if keys.is_empty() { Ok(self.df.clone()) } else { self.df.clone().sort(keys) }
    }

    /// The result: sorted, hidden columns dropped.
    pub fn finish(self) -> Result<DataFrame, DataFusionError> {
        let visible: Vec<Expr> = self.visible().iter().filter_map(|n| self.column(n)).collect();
        self.sorted()?.select(visible)
    }
}
