//! KQL tokens with byte offsets into the query text.

use crate::error::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Names and keywords alike (KQL keywords are not reserved); `$left` and `$right` too.
    Ident(String),
    Str(String),
    Long(i64),
    Real(f64),
    /// A timespan literal such as `10m`, in nanoseconds.
    Span(i64),
    Sym(&'static str),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn is_sym(&self, s: &str) -> bool {
        matches!(&self.tok, Tok::Sym(x) if *x == s)
    }

    pub fn is_ident(&self, s: &str) -> bool {
        matches!(&self.tok, Tok::Ident(x) if x == s)
    }

    pub fn ident(&self) -> Option<&str> {
        match &self.tok {
            Tok::Ident(x) => Some(x),
            _ => None,
        }
    }

    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match &self.tok {
            Tok::Ident(x) => format!("`{x}`"),
            Tok::Str(_) => "a string".into(),
            Tok::Long(_) | Tok::Real(_) => "a number".into(),
            Tok::Span(_) => "a timespan".into(),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::End => "the end of the query".into(),
        }
    }
}

const SYMBOLS: &[&str] = &[
    "==", "!=", "<>", "<=", ">=", "=~", "!~", "..", "=>", "|", "(", ")", "[", "]", "{", "}", ",", ";", ":", ".", "=", "<", ">", "+", "-",
    "*", "/", "%", "!", "~", "?",
];

const NS_PER_TICK: f64 = 100.0;

/// Nanoseconds per unit of a timespan suffix, KQL spellings.
fn span_unit(suffix: &str) -> Option<f64> {
    Some(match suffix {
        "d" | "day" | "days" => 86_400e9,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600e9,
        "m" | "min" | "minute" | "minutes" => 60e9,
        "s" | "sec" | "second" | "seconds" => 1e9,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1e6,
        "microsecond" | "microseconds" => 1e3,
        "tick" | "ticks" => NS_PER_TICK,
        _ => return None,
    })
}

pub fn lex(text: &str) -> Result<Vec<Token>, ParseError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if text[i..].starts_with("//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        // String literals: "..." '...' @"..." h"..." h@"..." ```...```
        let mut j = i;
        let quote_at = |k: usize| matches!(b.get(k), Some(b'"' | b'\''));
        if (c == b'h' || c == b'H') && (quote_at(i + 1) || (b.get(i + 1) == Some(&b'@') && quote_at(i + 2))) {
            j += 1;
        }
        let verbatim = b.get(j) == Some(&b'@') && quote_at(j + 1);
        if verbatim {
            j += 1;
        }
        if j == i && text[i..].starts_with("```") {
            let body_start = i + 3;
            let Some(len) = text[body_start..].find("```") else {
                return Err(ParseError::at(text, start, "unterminated ``` string"));
            };
            out.push(Token { tok: Tok::Str(text[body_start..body_start + len].to_string()), start, end: body_start + len + 3 });
            i = body_start + len + 3;
            continue;
        }
        if quote_at(j) {
            let (s, end) = string(text, start, j, verbatim)?;
            out.push(Token { tok: Tok::Str(s), start, end });
            i = end;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || (c == b'$' && b.get(i + 1).is_some_and(|d| d.is_ascii_alphabetic())) {
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Token { tok: Tok::Ident(text[start..i].to_string()), start, end: i });
            continue;
        }
        if c.is_ascii_digit() {
            let (tok, end) = number(text, start)?;
            out.push(Token { tok, start, end });
            i = end;
            continue;
        }
        if let Some(sym) = SYMBOLS.iter().find(|s| text[i..].starts_with(**s)) {
            i += sym.len();
            out.push(Token { tok: Tok::Sym(sym), start, end: i });
            continue;
        }
        let ch = text[i..].chars().next().unwrap_or('?');
        return Err(ParseError::at(text, start, format!("unexpected character `{}`", ch.escape_debug())));
    }
    out.push(Token { tok: Tok::End, start: b.len(), end: b.len() });
    Ok(out)
}

/// A quoted string whose opening quote is at `q`; returns its value and the end offset.
fn string(text: &str, start: usize, q: usize, verbatim: bool) -> Result<(String, usize), ParseError> {
    let quote = text.as_bytes()[q] as char;
    let mut s = String::new();
    let mut chars = text[q + 1..].char_indices().peekable();
    while let Some((k, ch)) = chars.next() {
        let at = q + 1 + k;
        if ch == quote {
            if verbatim && chars.peek().map(|p| p.1) == Some(quote) {
                chars.next();
                s.push(quote);
                continue;
            }
            return Ok((s, at + 1));
        }
        if ch == '\n' && !verbatim {
            break;
        }
        if ch == '\\' && !verbatim {
            let Some((_, e)) = chars.next() else { break };
            match e {
                'n' => s.push('\n'),
                't' => s.push('\t'),
                'r' => s.push('\r'),
                '0' => s.push('\0'),
                'a' => s.push('\u{7}'),
                'b' => s.push('\u{8}'),
                'f' => s.push('\u{c}'),
                'v' => s.push('\u{b}'),
                '\\' | '"' | '\'' => s.push(e),
                'u' | 'x' => {
                    let want = if e == 'u' { 4 } else { 2 };
                    let mut hex = String::new();
                    for _ in 0..want {
                        match chars.next() {
                            Some((_, h)) if h.is_ascii_hexdigit() => hex.push(h),
                            _ => return Err(ParseError::at(text, at, "invalid escape sequence in string")),
                        }
                    }
                    let code = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                    s.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                }
                _ => return Err(ParseError::at(text, at, format!("invalid escape sequence `\\{e}` in string"))),
            }
            continue;
        }
        s.push(ch);
    }
    Err(ParseError::at(text, start, "unterminated string"))
}

fn number(text: &str, start: usize) -> Result<(Tok, usize), ParseError> {
    let b = text.as_bytes();
    let mut i = start;
    if text[i..].starts_with("0x") || text[i..].starts_with("0X") {
        i += 2;
        let h = i;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        let v = i64::from_str_radix(&text[h..i], 16).map_err(|_| ParseError::at(text, start, "invalid hexadecimal number"))?;
        return Ok((Tok::Long(v), i));
    }
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut real = false;
    if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
        real = true;
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut k = i + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        if k < b.len() && b[k].is_ascii_digit() {
            real = true;
            i = k;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    let digits = &text[start..i];
    let mut k = i;
    while k < b.len() && b[k].is_ascii_alphabetic() {
        k += 1;
    }
    if let Some(unit) = span_unit(&text[i..k]) {
        let v: f64 = digits.parse().map_err(|_| ParseError::at(text, start, "invalid timespan"))?;
        let ns = (v * unit).round();
        if !ns.is_finite() || ns.abs() >= 9.2e18 {
            return Err(ParseError::at(text, start, "timespan out of range"));
        }
        return Ok((Tok::Span(ns as i64), k));
    }
    if real {
        let v: f64 = digits.parse().map_err(|_| ParseError::at(text, start, "invalid number"))?;
        Ok((Tok::Real(v), i))
    } else {
        match digits.parse::<i64>() {
            Ok(v) => Ok((Tok::Long(v), i)),
            Err(_) => Err(ParseError::at(text, start, "number out of range for a long")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_literals_and_symbols() {
        assert_eq!(
            toks("x >= 10m and y != 'a\\'b' // c\n| z =~ @\"C:\\t\""),
            vec![
                Tok::Ident("x".into()),
                Tok::Sym(">="),
                Tok::Span(600_000_000_000),
                Tok::Ident("and".into()),
                Tok::Ident("y".into()),
                Tok::Sym("!="),
                Tok::Str("a'b".into()),
                Tok::Sym("|"),
                Tok::Ident("z".into()),
                Tok::Sym("=~"),
                Tok::Str("C:\\t".into()),
                Tok::End
            ]
        );
        assert_eq!(toks("1..2")[..3], [Tok::Long(1), Tok::Sym(".."), Tok::Long(2)]);
        assert_eq!(toks("1.5h 0x10 2e3 1tick")[..4], [Tok::Span(5_400_000_000_000), Tok::Long(16), Tok::Real(2000.0), Tok::Span(100)]);
        assert_eq!(toks("h'x' $left"), vec![Tok::Str("x".into()), Tok::Ident("$left".into()), Tok::End]);
    }

    #[test]
    fn reports_bad_input_with_offsets() {
        assert_eq!(lex("a | b == \"x").unwrap_err().column, 10);
        assert_eq!(lex("a # b").unwrap_err().column, 3);
        assert!(lex("99999999999999999999").is_err());
    }
}
