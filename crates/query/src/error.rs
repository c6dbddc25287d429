//! Query errors that point at the place: line, column, a caret, and what was expected. Parse
//! errors come from the front ends ([`ParseError`]); planning and engine errors are made here.

use taskhunt_querylang::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct QueryError {
    /// 1-based; 0 when the error has no position (engine errors).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl QueryError {
    pub fn at(text: &str, offset: usize, message: impl Into<String>) -> QueryError {
        ParseError::at(text, offset, message).into()
    }

    pub fn plain(message: impl Into<String>) -> QueryError {
        QueryError { line: 0, column: 0, message: message.into() }
    }

    /// The message with the offending line and a caret under the column.
    pub fn render(&self, text: &str) -> String {
        match self.positioned() {
            Some(e) => e.render(text),
            None => self.message.clone(),
        }
    }

    fn describe(&self) -> String {
        if self.line == 0 { self.message.clone() } else { format!("{}:{}: {}", self.line, self.column, self.message) }
    }

    fn positioned(&self) -> Option<ParseError> {
        (self.line != 0).then(|| ParseError { line: self.line, column: self.column, message: self.message.clone() })
    }
}

impl From<ParseError> for QueryError {
    fn from(e: ParseError) -> Self {
        QueryError { line: e.line, column: e.column, message: e.message }
    }
}

impl From<datafusion::error::DataFusionError> for QueryError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        QueryError::plain(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_the_column() {
        let q = "DeviceProcessEvents\n| whre x == 1";
        let e = QueryError::at(q, q.find("whre").unwrap(), "unknown operator `whre`");
        assert_eq!((e.line, e.column), (2, 3));
        assert_eq!(e.to_string(), "2:3: unknown operator `whre`");
        assert_eq!(e.render(q), "2:3: unknown operator `whre`\n  | whre x == 1\n    ^");
    }

    #[test]
    fn engine_errors_have_no_position() {
        let e = QueryError::plain("table not found");
        assert_eq!(e.to_string(), "table not found");
        assert_eq!(e.render("T | take 1"), "table not found");
    }
}
