//! taskhunt-querylang: the KQL and SPL front ends — lexers, parsers, syntax trees and parse
//! errors — with no query engine behind them.
//!
//! [`kql::parse`] and [`spl::parse`] turn query text into our own syntax trees ([`kql::ast`],
//! [`spl::ast`]) or a [`ParseError`] that points at the place (line, column, caret). Planning
//! those trees onto Apache DataFusion is `taskhunt-query`'s job; this crate stays free of
//! DataFusion, Arrow and tokio so that it builds in seconds, for the parser fuzz targets and
//! for anything else that only needs to read a query.

pub mod error;
pub mod kql;
pub mod spl;

pub use error::ParseError;
