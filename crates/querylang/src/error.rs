//! Parse errors that point at the place: line, column, a caret, and what was expected.

/// A query that does not lex or parse, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl ParseError {
    /// An error at byte `offset` of `text`.
    pub fn at(text: &str, offset: usize, message: impl Into<String>) -> ParseError {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ParseError { line, column, message: message.into() }
    }

    /// The message with the offending line and a caret under the column.
    pub fn render(&self, text: &str) -> String {
        let src = text.lines().nth(self.line.saturating_sub(1)).unwrap_or("");
        let src = taskhunt_events::text::terminal_safe(src);
        format!("{}:{}: {}\n  {}\n  {}^", self.line, self.column, self.message, src, " ".repeat(self.column.saturating_sub(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_the_column() {
        let q = "DeviceProcessEvents\n| whre x == 1";
        let e = ParseError::at(q, q.find("whre").unwrap(), "unknown operator `whre`");
        assert_eq!((e.line, e.column), (2, 3));
        assert_eq!(e.to_string(), "2:3: unknown operator `whre`");
        assert_eq!(e.render(q), "2:3: unknown operator `whre`\n  | whre x == 1\n    ^");
    }
}
