//! PowerShell tokens: words, strings (single, double, here-strings, typographic quotes),
//! variables, `(...)`/`{...}` groups kept as source ranges, separators. Linear, never panics.

#[derive(Clone, Debug)]
pub(super) enum Tk {
    Word(String),
    /// String value; true when double-quoted (variables may be expanded).
    Str(String, bool),
    Var(String),
    Paren(usize, usize),
    Brace(usize, usize),
    Pipe,
    End,
    Comma,
    Assign,
    Append,
}

#[derive(Clone, Debug)]
pub(super) struct Tok {
    pub k: Tk,
    pub start: usize,
    pub end: usize,
    /// No blank between this token and the one before.
    pub glued: bool,
}

pub(super) fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

pub(super) fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

pub(super) fn char_at(s: &str, i: usize) -> Option<char> {
    s.get(i..)?.chars().next()
}

/// Finds the end of a group opened just before `from`: returns (inner end, index after the
/// closing bracket). Strings, escapes and comments inside are skipped; unclosed runs to the end.
pub(super) fn group_end(src: &str, from: usize) -> (usize, usize) {
    let mut depth = 1usize;
    let mut i = from;
    let mut prev_blank = true;
    while let Some(c) = char_at(src, i) {
        let n = c.len_utf8();
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return (i, i + 1);
                }
            }
            '`' => i += char_at(src, i + 1).map_or(0, char::len_utf8),
            '#' if prev_blank => {
                i = src[i..].find('\n').map_or(src.len(), |p| i + p);
                continue;
            }
            c if is_single_quote(c) => i = skip_string(src, i + n, is_single_quote, false) - n,
            c if is_double_quote(c) => i = skip_string(src, i + n, is_double_quote, true) - n,
            _ => {}
        }
        prev_blank = c.is_whitespace() || c == ';';
        i += n;
    }
    (src.len(), src.len())
}

/// Index just after the closing quote of a string whose body starts at `from`.
pub(super) fn skip_string(src: &str, from: usize, quote: fn(char) -> bool, escapes: bool) -> usize {
    let mut i = from;
    while let Some(c) = char_at(src, i) {
        i += c.len_utf8();
        if escapes && c == '`' {
            i += char_at(src, i).map_or(0, char::len_utf8);
        } else if quote(c) {
            return i;
        }
    }
    src.len()
}

pub(super) fn lex(src: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut i = 0;
    let mut glued = false;
    while let Some(c) = char_at(src, i) {
        let start = i;
        let n = c.len_utf8();
        let next = char_at(src, i + n);
        let k = match c {
            '\n' | ';' => {
                i += 1;
                Tk::End
            }
            '`' if matches!(next, Some('\n' | '\r')) => {
                i += 2;
                glued = false;
                continue;
            }
            c if c.is_whitespace() => {
                i += n;
                glued = false;
                continue;
            }
            '#' if !glued => {
                i = src[i..].find('\n').map_or(src.len(), |p| i + p);
                continue;
            }
            '<' if next == Some('#') => {
                i = src[i + 2..].find("#>").map_or(src.len(), |p| i + 2 + p + 2);
                glued = false;
                continue;
            }
            '|' if next == Some('|') => {
                i += 2;
                Tk::End
            }
            '|' => {
                i += 1;
                Tk::Pipe
            }
            '&' if next == Some('&') => {
                i += 2;
                Tk::End
            }
            ',' => {
                i += 1;
                Tk::Comma
            }
            '=' => {
                i += 1;
                Tk::Assign
            }
            '+' if next == Some('=') => {
                i += 2;
                Tk::Append
            }
            ')' | '}' => {
                i += 1;
                Tk::End
            }
            '(' | '{' => {
                let (end, after) = group_end(src, i + 1);
                let k = if c == '(' { Tk::Paren(i + 1, end) } else { Tk::Brace(i + 1, end) };
                i = after;
                k
            }
            '@' | '$' if matches!(next, Some('(' | '{')) && !(c == '$' && next == Some('{')) => {
                let (end, after) = group_end(src, i + 2);
                let k = if next == Some('(') { Tk::Paren(i + 2, end) } else { Tk::Brace(i + 2, end) };
                i = after;
                k
            }
            '@' if next.is_some_and(|q| is_single_quote(q) || is_double_quote(q)) => {
                let q = next.unwrap_or('\'');
                let body = i + 1 + q.len_utf8();
                let close = if is_single_quote(q) { "\n'@" } else { "\n\"@" };
                let (text, after) = match src[body..].find(close) {
                    Some(p) => (&src[body..body + p], body + p + close.len()),
                    None => (&src[body..], src.len()),
                };
                i = after;
                Tk::Str(text.trim_start_matches(['\r', ' ', '\t']).trim_start_matches('\n').to_string(), is_double_quote(q))
            }
            '$' => {
                let (name, after) = if next == Some('{') {
                    let close = src[i + 2..].find('}').map_or(src.len(), |p| i + 2 + p);
                    (src[i + 2..close].to_string(), (close + 1).min(src.len()))
                } else {
                    let len = src[i + 1..]
                        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '?'))
                        .unwrap_or(src.len() - i - 1);
                    (src[i + 1..i + 1 + len].trim_end_matches(':').to_string(), i + 1 + len)
                };
                i = after.max(i + 1);
                if name.is_empty() { Tk::Word("$".into()) } else { Tk::Var(name) }
            }
            c if is_single_quote(c) => {
                let mut s = String::new();
                i += n;
                while let Some(d) = char_at(src, i) {
                    i += d.len_utf8();
                    if is_single_quote(d) {
                        match char_at(src, i) {
                            Some(e) if is_single_quote(e) => {
                                s.push(e);
                                i += e.len_utf8();
                            }
                            _ => break,
                        }
                    } else {
                        s.push(d);
                    }
                }
                Tk::Str(s, false)
            }
            c if is_double_quote(c) => {
                let mut s = String::new();
                i += n;
                while let Some(d) = char_at(src, i) {
                    i += d.len_utf8();
                    match d {
                        '`' => {
                            if let Some(e) = char_at(src, i) {
                                i += e.len_utf8();
                                s.push(match e {
                                    'n' => '\n',
                                    't' => '\t',
                                    'r' => '\r',
                                    '0' => '\0',
                                    other => other,
                                });
                            }
                        }
                        '$' if char_at(src, i) == Some('(') => {
                            let (_, after) = group_end(src, i + 1);
                            s.push_str(&src[i - 1..after]);
                            i = after;
                        }
                        d if is_double_quote(d) => match char_at(src, i) {
                            Some(e) if is_double_quote(e) => {
                                s.push(e);
                                i += e.len_utf8();
                            }
                            _ => break,
                        },
                        d => s.push(d),
                    }
                }
                Tk::Str(s, true)
            }
            _ => {
                let mut s = String::new();
                while let Some(d) = char_at(src, i) {
                    if d.is_whitespace()
                        || matches!(d, ';' | '|' | '&' | '(' | ')' | '{' | '}' | ',')
                        || is_single_quote(d)
                        || is_double_quote(d)
                    {
                        break;
                    }
                    i += d.len_utf8();
                    if d == '`' {
                        if let Some(e) = char_at(src, i) {
                            s.push(e);
                            i += e.len_utf8();
                        }
                    } else {
                        s.push(d);
                    }
                }
                if i == start {
                    i += n;
                    s.push(c);
                }
                Tk::Word(s)
            }
        };
        let end_of_statement = matches!(k, Tk::End | Tk::Pipe);
        toks.push(Tok { k, start, end: i, glued });
        glued = !end_of_statement;
    }
    toks
}

/// Statements of a token list, each with whether it receives the previous one through a pipe.
pub(super) fn statements(toks: &[Tok]) -> Vec<(&[Tok], bool)> {
    let mut out = Vec::new();
    let (mut start, mut piped) = (0, false);
    for (i, t) in toks.iter().enumerate() {
        if matches!(t.k, Tk::Pipe | Tk::End) {
            if i > start {
                out.push((&toks[start..i], piped));
            }
            piped = matches!(t.k, Tk::Pipe);
            start = i + 1;
        }
    }
    if start < toks.len() {
        out.push((&toks[start..], piped));
    }
    out
}
