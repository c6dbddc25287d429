//! KQL front end: a hand-written lexer ([`lexer`]) and recursive-descent parser build our own
//! syntax tree ([`ast`]). The literal forms (`datetime(...)`, `timespan(...)`, `dynamic(...)`)
//! are read here too ([`literal`]), with the text formats KQL writes values in ([`values`]).

pub mod ast;
pub mod lexer;
pub mod literal;
mod parser;
mod parser_expr;
pub mod values;

use crate::error::ParseError;

/// Parses a whole KQL query (`let` statements, then the tabular expression).
///
/// Nesting is bounded (expressions and sub-queries at most 64 deep), so hostile input is an error,
/// but the deepest query accepted still recurses far: an unoptimized build needs more than 2 MiB
/// of stack for it. Call this on a thread with a large stack (`taskhunt-query` parses and plans on
/// a 64 MiB one).
pub fn parse(text: &str) -> Result<ast::Query, ParseError> {
    parser::parse(text)
}
