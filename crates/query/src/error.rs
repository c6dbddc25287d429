//! Query errors that point at the place: line, column, a caret, and what was expected.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// 1-based; 0 when the error has no position (engine errors).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl QueryError {
    pub fn at(text: &str, offset: usize, message: impl Into<String>) -> QueryError {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        QueryError { line, column, message: message.into() }
    }

    pub fn plain(message: impl Into<String>) -> QueryError {
        QueryError { line: 0, column: 0, message: message.into() }
    }

    /// The message with the offending line and a caret under the column.
    pub fn render(&self, text: &str) -> String {
        if self.line == 0 {
            return self.message.clone();
        }
        let src = text.lines().nth(self.line - 1).unwrap_or("");
        let src = taskhunt_events::text::terminal_safe(src);
        format!("{}:{}: {}\n  {}\n  {}^", self.line, self.column, self.message, src, " ".repeat(self.column.saturating_sub(1)))
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 { f.write_str(&self.message) } else { write!(f, "{}:{}: {}", self.line, self.column, self.message) }
    }
}

impl std::error::Error for QueryError {}

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
        assert_eq!(e.render(q), "2:3: unknown operator `whre`\n  | whre x == 1\n    ^");
    }
}
