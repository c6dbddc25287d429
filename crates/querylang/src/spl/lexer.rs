//! SPL tokens with byte spans. SPL has two lexical worlds: search terms (`Image=*\rundll32.exe`,
//! `10.0.0.*`, `web-01`), where almost anything up to a space or operator is one word, and eval
//! expressions (`len(CommandLine)-1`), where identifiers, numbers and operators split finely. The
//! parser asks for the next token in the mode it is in; comments are blanked out beforehand so
//! that every offset still points into the original text.

use crate::error::ParseError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Search terms and command arguments: words run to whitespace or `| ( ) [ ] " , = < > !=`.
    Search,
    /// Eval expressions: identifiers, numbers, `'field'`, operators.
    Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A search-mode word, or an expression-mode identifier.
    Word(String),
    /// An expression-mode number, as written.
    Num(String),
    /// A double-quoted string, unescaped (`\"` and `\\`; other backslashes stay).
    Str(String),
    /// A single-quoted field name (expression mode).
    Field(String),
    Pipe,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Eq,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Dot,
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Num(n) => format!("`{n}`"),
            Tok::Str(s) => format!("\"{s}\""),
            Tok::Field(f) => format!("'{f}'"),
            Tok::Eof => "the end of the query".to_string(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::Pipe => "|",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Eq => "=",
            Tok::EqEq => "==",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Dot => ".",
            _ => "",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

pub struct Lexer<'a> {
    /// The original query, for error messages.
    pub text: &'a str,
    /// The query with comments replaced by spaces (same byte offsets).
    src: String,
    pos: usize,
}

/// Replaces comments by spaces, byte for byte: ```` ```...``` ```` anywhere outside quotes, and
/// lines whose first non-blank character is `#` (hunt-file headers).
fn blank_comments(text: &str) -> Result<String, ParseError> {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let mut line_start = true;
    while i < b.len() {
        let c = b[i];
        if c == b'"' {
            line_start = false;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            continue;
        }
        if b[i..].starts_with(b"```") {
            let Some(len) = text[i + 3..].find("```") else {
                return Err(ParseError::at(text, i, "unterminated comment: ``` needs a closing ```"));
            };
            let end = i + 3 + len + 3;
            out[i..end].iter_mut().for_each(|x| *x = if *x == b'\n' { b'\n' } else { b' ' });
            i = end;
            line_start = false;
            continue;
        }
        if line_start && c == b'#' {
            let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
            out[i..end].iter_mut().for_each(|x| *x = b' ');
            i = end;
            continue;
        }
        if c == b'\n' {
            line_start = true;
        } else if !c.is_ascii_whitespace() {
            line_start = false;
        }
        i += 1;
    }
    // Only ASCII bytes were written over whole characters' bytes, so this stays UTF-8; fall back
    // to the original should that ever not hold.
    Ok(String::from_utf8(out).unwrap_or_else(|_| text.to_string()))
}

fn is_search_word_char(c: char) -> bool {
    !(c.is_whitespace() || matches!(c, '|' | '(' | ')' | '[' | ']' | '"' | ',' | '=' | '<' | '>'))
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Result<Lexer<'a>, ParseError> {
        Ok(Lexer { text, src: blank_comments(text)?, pos: 0 })
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn err(&self, at: usize, msg: impl Into<String>) -> ParseError {
        ParseError::at(self.text, at, msg)
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while let Some(c) = self.src[i..].chars().next() {
            if !c.is_whitespace() {
                break;
            }
            i += c.len_utf8();
        }
        i
    }

    /// Whether whitespace (or the end) follows the current position.
    pub fn at_space(&self) -> bool {
        self.src[self.pos..].chars().next().is_none_or(char::is_whitespace)
    }

    pub fn peek(&self, mode: Mode) -> Result<Token, ParseError> {
        self.lex_at(self.pos, mode).map(|(t, _)| t)
    }

    pub fn next(&mut self, mode: Mode) -> Result<Token, ParseError> {
        let (t, end) = self.lex_at(self.pos, mode)?;
        self.pos = end;
        Ok(t)
    }

    /// The `n`th token ahead (0 is the next one).
    pub fn peek_nth(&self, mode: Mode, n: usize) -> Result<Token, ParseError> {
        let mut at = self.pos;
        for _ in 0..n {
            at = self.lex_at(at, mode)?.1;
        }
        self.lex_at(at, mode).map(|(t, _)| t)
    }

    /// Whether the next token starts right where the previous one ended (no space between).
    pub fn next_is_adjacent(&self) -> bool {
        self.skip_ws(self.pos) == self.pos
    }

    fn lex_at(&self, at: usize, mode: Mode) -> Result<(Token, usize), ParseError> {
        let start = self.skip_ws(at);
        let rest = &self.src[start..];
        let Some(c) = rest.chars().next() else {
            return Ok((Token { tok: Tok::Eof, span: Span::new(start, start) }, start));
        };
        let two = |t: Tok| Ok((Token { tok: t, span: Span::new(start, start + 2) }, start + 2));
        let one = |t: Tok| Ok((Token { tok: t, span: Span::new(start, start + 1) }, start + 1));
        if rest.starts_with("==") {
            return two(Tok::EqEq);
        }
        if rest.starts_with("!=") {
            return two(Tok::Ne);
        }
        if rest.starts_with("<=") {
            return two(Tok::Le);
        }
        if rest.starts_with(">=") {
            return two(Tok::Ge);
        }
        match c {
            '|' => return one(Tok::Pipe),
            '(' => return one(Tok::LParen),
            ')' => return one(Tok::RParen),
            '[' => return one(Tok::LBracket),
            ']' => return one(Tok::RBracket),
            ',' => return one(Tok::Comma),
            '=' => return one(Tok::Eq),
            '<' => return one(Tok::Lt),
            '>' => return one(Tok::Gt),
            '"' => return self.string(start, '"').map(|(s, end)| (Token { tok: Tok::Str(s), span: Span::new(start, end) }, end)),
            _ => {}
        }
        match mode {
            Mode::Search => {
                let len: usize = rest
                    .char_indices()
                    .take_while(|(i, ch)| is_search_word_char(*ch) && !(*ch == '!' && rest[*i..].starts_with("!=")))
                    .map(|(_, ch)| ch.len_utf8())
                    .sum();
                let end = start + len.max(c.len_utf8());
                Ok((Token { tok: Tok::Word(self.src[start..end].to_string()), span: Span::new(start, end) }, end))
            }
            Mode::Expr => self.expr_token(start, c),
        }
    }

    fn expr_token(&self, start: usize, c: char) -> Result<(Token, usize), ParseError> {
        let rest = &self.src[start..];
        let tok = |t: Tok, end: usize| Ok((Token { tok: t, span: Span::new(start, end) }, end));
        match c {
            '+' => return tok(Tok::Plus, start + 1),
            '-' => return tok(Tok::Minus, start + 1),
            '*' => return tok(Tok::Star, start + 1),
            '/' => return tok(Tok::Slash, start + 1),
            '%' => return tok(Tok::Percent, start + 1),
            '\'' => {
                let (s, end) = self.string(start, '\'')?;
                return tok(Tok::Field(s), end);
            }
            _ => {}
        }
        let next_is_digit = rest[c.len_utf8()..].starts_with(|d: char| d.is_ascii_digit());
        if c.is_ascii_digit() || (c == '.' && next_is_digit) {
            let b = rest.as_bytes();
            let mut i = 0;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i < b.len() && b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            return tok(Tok::Num(rest[..i].to_string()), start + i);
        }
        if c == '.' {
            return tok(Tok::Dot, start + 1);
        }
        if c.is_alphabetic() || c == '_' {
            let len: usize = rest.chars().take_while(|ch| ch.is_alphanumeric() || *ch == '_').map(char::len_utf8).sum();
            return tok(Tok::Word(rest[..len].to_string()), start + len);
        }
        Err(self.err(start, format!("unexpected character `{c}` in an expression")))
    }

    /// A quoted string starting at `start` (the quote). Returns the unescaped text and the end.
    fn string(&self, start: usize, quote: char) -> Result<(String, usize), ParseError> {
        let mut out = String::new();
        let mut chars = self.src[start + 1..].char_indices();
        while let Some((i, ch)) = chars.next() {
            if ch == quote {
                return Ok((out, start + 1 + i + 1));
            }
            if ch == '\\' {
                match chars.next() {
                    Some((_, n)) if n == quote || n == '\\' => out.push(n),
                    Some((_, n)) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
                continue;
            }
            out.push(ch);
        }
        let what = if quote == '"' { "string" } else { "field name" };
        Err(self.err(start, format!("unterminated {what}: {quote} needs a closing {quote}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(q: &str, mode: Mode) -> Vec<Tok> {
        let mut l = Lexer::new(q).unwrap();
        let mut out = vec![];
        loop {
            let t = l.next(mode).unwrap();
            if t.tok == Tok::Eof {
                return out;
            }
            out.push(t.tok);
        }
    }

    #[test]
    fn search_words_keep_paths_and_wildcards() {
        assert_eq!(
            words(r#"index=sysmon Image="*\\rundll32.exe" host!=web-01 x<=5"#, Mode::Search),
            vec![
                Tok::Word("index".into()),
                Tok::Eq,
                Tok::Word("sysmon".into()),
                Tok::Word("Image".into()),
                Tok::Eq,
                Tok::Str(r"*\rundll32.exe".into()),
                Tok::Word("host".into()),
                Tok::Ne,
                Tok::Word("web-01".into()),
                Tok::Word("x".into()),
                Tok::Le,
                Tok::Word("5".into()),
            ]
        );
    }

    #[test]
    fn expressions_split_operators() {
        assert_eq!(
            words("len('Command Line')-1.5*x.y", Mode::Expr),
            vec![
                Tok::Word("len".into()),
                Tok::LParen,
                Tok::Field("Command Line".into()),
                Tok::RParen,
                Tok::Minus,
                Tok::Num("1.5".into()),
                Tok::Star,
                Tok::Word("x".into()),
                Tok::Dot,
                Tok::Word("y".into()),
            ]
        );
    }

    #[test]
    fn comments_are_blanked_and_offsets_kept() {
        let q = "# title: x\nindex=sysmon ```a | b``` | head 1";
        let mut l = Lexer::new(q).unwrap();
        let t = l.next(Mode::Search).unwrap();
        assert_eq!(t.span.start, q.find("index").unwrap());
        assert_eq!(words(q, Mode::Search).len(), 6);
        let e = Lexer::new("a ```b").err().unwrap();
        assert_eq!((e.line, e.column), (1, 3));
        assert!(Lexer::new("a \"```\" b").is_ok());
    }

    #[test]
    fn unterminated_string_points_at_the_quote() {
        let mut l = Lexer::new("x=\"abc").unwrap();
        l.next(Mode::Search).unwrap();
        l.next(Mode::Search).unwrap();
        let e = l.next(Mode::Search).unwrap_err();
        assert_eq!(e.column, 3);
    }
}
