//! Making attacker-controlled strings safe for the places a hunter reads them.

/// Escapes control characters (ANSI/OSC escape sequences, carriage returns, bidi overrides) so
/// that a terminal shows them instead of obeying them. Tabs and newlines are escaped too: one
/// value stays on one line.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Defuses spreadsheet formulas: a cell starting with `=`, `+`, `-`, `@`, tab or carriage
/// return gets a leading apostrophe, as OWASP's CSV-injection guidance recommends.
pub fn csv_safe(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{s}")),
        _ => std::borrow::Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_are_shown_not_run() {
        assert_eq!(terminal_safe("plain"), "plain");
        assert_eq!(terminal_safe("a\x1b[31mred"), "a\\u{001b}[31mred");
        assert_eq!(terminal_safe("x\u{202e}y\r\n"), "x\\u{202e}y\\r\\n");
    }

    #[test]
    fn csv_formulas_are_defused() {
        assert_eq!(csv_safe("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_safe("-2+3"), "'-2+3");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("C:\\Windows"), "C:\\Windows");
    }
}
