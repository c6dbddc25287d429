//! SPL front end: a two-mode lexer ([`lexer`]: search terms and eval expressions) and a parser
//! ([`parser`]) from the text to the pipeline of commands ([`ast::Stage`]).

pub mod ast;
pub mod lexer;
pub mod parser;
mod parser_commands;
mod parser_expr;

use crate::error::ParseError;

/// Parses an SPL query into its pipeline of commands.
///
/// Nesting is bounded (100 levels) and the recursive descent grows its own stack as it needs to,
/// so any thread will do.
pub fn parse(text: &str) -> Result<Vec<ast::Stage>, ParseError> {
    parser::parse(text)
}
