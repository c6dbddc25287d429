//! Sigma string values: wildcards `*` `?`, the escapes `\*` `\?` `\\` (a lone backslash is a
//! literal backslash, so Windows paths need no escaping), and matching against event text.

/// One piece of a parsed Sigma string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
}

/// Parses Sigma's string syntax into pieces (adjacent literals merged).
pub fn parse_wildcards(value: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    lit.push(n);
                    chars.next();
                }
                _ => lit.push('\\'),
            },
            '*' | '?' => {
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                let p = if c == '*' { Piece::Star } else { Piece::One };
                // `**` is one star.
                if !(p == Piece::Star && pieces.last() == Some(&Piece::Star)) {
                    pieces.push(p);
                }
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    pieces
}

/// A literal string as pieces, with no wildcard interpretation (base64 output, say).
pub fn literal(value: &str) -> Vec<Piece> {
    if value.is_empty() { vec![] } else { vec![Piece::Lit(value.to_string())] }
}

/// The compiled form of one string comparison. Literal needles are stored lowercased unless the
/// comparison is case-sensitive, and the event text is lowercased once per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrMatch {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(Needle),
    /// `*` alone: any value, including the empty string (but not an absent field).
    Any,
    Glob(Vec<Piece>),
}

impl StrMatch {
    /// Builds the cheapest matcher for `pieces`; `fold` lowercases literals for
    /// case-insensitive matching.
    pub fn compile(pieces: Vec<Piece>, fold: bool) -> StrMatch {
        let pieces: Vec<Piece> = pieces
            .into_iter()
            .map(|p| match p {
                Piece::Lit(s) if fold => Piece::Lit(s.to_lowercase()),
                p => p,
            })
            .collect();
        match pieces.as_slice() {
            [] => StrMatch::Exact(String::new()),
            [Piece::Star] => StrMatch::Any,
            [Piece::Lit(s)] => StrMatch::Exact(s.clone()),
            [Piece::Lit(s), Piece::Star] => StrMatch::Prefix(s.clone()),
            [Piece::Star, Piece::Lit(s)] => StrMatch::Suffix(s.clone()),
            [Piece::Star, Piece::Lit(s), Piece::Star] => StrMatch::Contains(Needle::new(s)),
            _ => StrMatch::Glob(pieces),
        }
    }

    /// `text` must already be lowercased when the matcher was compiled with `fold`.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            StrMatch::Exact(s) => text == s,
            StrMatch::Prefix(s) => text.starts_with(s.as_str()),
            StrMatch::Suffix(s) => text.ends_with(s.as_str()),
            StrMatch::Contains(n) => n.finder.find(text.as_bytes()).is_some(),
            StrMatch::Any => true,
            StrMatch::Glob(p) => glob_match(p, text),
        }
    }

    /// The literal a matcher needs to find in the text, for prefiltering.
    pub fn required_literal(&self) -> Option<&str> {
        match self {
            StrMatch::Exact(s) | StrMatch::Prefix(s) | StrMatch::Suffix(s) => Some(s),
            StrMatch::Contains(n) => Some(&n.text),
            StrMatch::Glob(p) => p
                .iter()
                .filter_map(|x| match x {
                    Piece::Lit(s) => Some(s.as_str()),
                    _ => None,
                })
                .max_by_key(|s| s.len()),
            StrMatch::Any => None,
        }
    }
}

/// A substring to search for, with its searcher built once (building one per comparison
/// cost more than the search itself).
#[derive(Debug, Clone)]
pub struct Needle {
    pub text: String,
    finder: memchr::memmem::Finder<'static>,
}

impl Needle {
    pub fn new(text: &str) -> Needle {
        Needle { text: text.to_string(), finder: memchr::memmem::Finder::new(text.as_bytes()).into_owned() }
    }
}

impl PartialEq for Needle {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Needle {}

/// Wildcard match with backtracking limited to the last star (linear for typical patterns).
fn glob_match(pieces: &[Piece], text: &str) -> bool {
    // Iterative algorithm over pieces: remember the last `*` and the text position it covers.
    let mut pi = 0usize;
    let mut ti = 0usize;
    let mut star: Option<(usize, usize)> = None;
    let bytes = text.as_bytes();
    loop {
        if pi < pieces.len() {
            match &pieces[pi] {
                Piece::Star => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                Piece::One => {
                    if let Some(c) = text[ti..].chars().next() {
                        ti += c.len_utf8();
                        pi += 1;
                        continue;
                    }
                }
                Piece::Lit(s) => {
                    if bytes[ti..].starts_with(s.as_bytes()) {
                        ti += s.len();
                        pi += 1;
                        continue;
                    }
                }
            }
        } else if ti == bytes.len() {
            return true;
        }
        // Mismatch: let the last star swallow one more character.
        match star {
            Some((spi, sti)) if sti < bytes.len() => {
                let step = text[sti..].chars().next().map_or(1, char::len_utf8);
                star = Some((spi, sti + step));
                pi = spi + 1;
                ti = sti + step;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        StrMatch::compile(parse_wildcards(pattern), true).matches(&text.to_lowercase())
    }

    #[test]
    fn escapes_follow_the_specification() {
        // `\*` is an escaped star, not a backslash then a wildcard.
        assert_eq!(parse_wildcards(r"C:\Windows\*"), vec![Piece::Lit(r"C:\Windows*".into())]);
        assert_eq!(parse_wildcards(r"C:\Windows\System32"), vec![Piece::Lit(r"C:\Windows\System32".into())]);
        assert_eq!(parse_wildcards(r"a\*b"), vec![Piece::Lit("a*b".into())]);
        assert_eq!(parse_wildcards(r"a\\*"), vec![Piece::Lit(r"a\".into()), Piece::Star]);
        assert_eq!(parse_wildcards(r"a\\\*"), vec![Piece::Lit(r"a\*".into())]);
        assert_eq!(parse_wildcards(r"\\\\"), vec![Piece::Lit(r"\\".into())]);
        assert_eq!(parse_wildcards(r"a\?"), vec![Piece::Lit("a?".into())]);
    }

    #[test]
    fn wildcards_and_case() {
        assert!(m(r"*\cmd.exe", r"C:\Windows\System32\CMD.EXE"));
        assert!(!m(r"*\cmd.exe", r"C:\Windows\System32\xcmd.exe.bak"));
        assert!(m("prog?.exe", "progA.exe"));
        assert!(!m("prog?.exe", "prog.exe"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(m("a*b*c", "abbbc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("*", ""));
        assert!(m("?é*", "xÉtoile"), "? consumes one character, not one byte");
        assert!(m("", ""));
        assert!(!m("", "x"));
    }
}
