//! Sigma conditions: `and` `or` `not`, parentheses, `1 of x*`, `all of x*`, `N of`, `them`,
//! with the specification's precedence (or < and < not < `x of` < parentheses).

use std::fmt;

/// A condition over the rule's search identifiers, resolved to their indices.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Sel(usize),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// At least `n` of the listed selections (`1 of` = any, `all of` = n equal to the count).
    AtLeast(usize, Vec<usize>),
}

impl Cond {
    pub fn eval(&self, sel: &mut impl FnMut(usize) -> bool) -> bool {
        match self {
            Cond::Sel(i) => sel(*i),
            Cond::Not(c) => !c.eval(sel),
            Cond::And(cs) => cs.iter().all(|c| c.eval(sel)),
            Cond::Or(cs) => cs.iter().any(|c| c.eval(sel)),
            Cond::AtLeast(n, ids) => {
                let mut hits = 0;
                for i in ids {
                    if sel(*i) {
                        hits += 1;
                        if hits >= *n {
                            return true;
                        }
                    }
                }
                hits >= *n
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    /// 0-based character offset in the condition text.
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.offset + 1, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Num(usize),
    LParen,
    RParen,
    Pipe,
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, ConditionError> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((pos, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((pos, Tok::RParen));
                i += 1;
            }
            '|' => {
                // Everything after a pipe is a Sigma 1 aggregation; the parser rejects it whole.
                out.push((pos, Tok::Pipe));
                break;
            }
            c if c.is_alphanumeric() || c == '_' || c == '*' || c == '-' || c == '.' => {
                let start = i;
                while i < chars.len() && {
                    let c = chars[i].1;
                    c.is_alphanumeric() || c == '_' || c == '*' || c == '-' || c == '.'
                } {
                    i += 1;
                }
                let word: String = chars[start..i].iter().map(|(_, c)| c).collect();
                match word.parse::<usize>() {
                    Ok(n) => out.push((pos, Tok::Num(n))),
                    Err(_) => out.push((pos, Tok::Word(word))),
                }
            }
            other => {
                return Err(ConditionError { offset: pos, message: format!("unexpected character {other:?}") });
            }
        }
    }
    Ok(out)
}

/// How deep `not` and parentheses may nest. Real rules nest a few levels; the bound turns a
/// hostile condition (a rule file of 100 000 `(`) into an error instead of a stack overflow.
pub const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    names: &'a [String],
    depth: usize,
}

/// Parses `text` against the rule's search identifiers `names`.
pub fn parse(text: &str, names: &[String]) -> Result<Cond, ConditionError> {
    let toks = lex(text)?;
    let mut p = Parser { toks, pos: 0, end: text.len(), names, depth: 0 };
    let cond = p.or()?;
    if let Some((off, tok)) = p.toks.get(p.pos) {
        let message = if *tok == Tok::Pipe {
            "pipe aggregations (`| count() ...`) are Sigma 1 syntax; write a correlation rule instead".to_string()
        } else {
            format!("unexpected {}", describe(tok))
        };
        return Err(ConditionError { offset: *off, message });
    }
    Ok(cond)
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("`{w}`"),
        Tok::Num(n) => format!("`{n}`"),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Pipe => "`|`".into(),
    }
}

fn is_kw(t: &Tok, kw: &str) -> bool {
    matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(o, _)| *o)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, ConditionError> {
        Err(ConditionError { offset: self.offset(), message: message.into() })
    }

    fn or(&mut self) -> Result<Cond, ConditionError> {
        let mut items = vec![self.and()?];
        while self.peek().is_some_and(|t| is_kw(t, "or")) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.pop().unwrap_or(Cond::Or(vec![])) } else { Cond::Or(items) })
    }

    fn and(&mut self) -> Result<Cond, ConditionError> {
        let mut items = vec![self.not()?];
        while self.peek().is_some_and(|t| is_kw(t, "and")) {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 { items.pop().unwrap_or(Cond::And(vec![])) } else { Cond::And(items) })
    }

    /// Every level of nesting passes through here (`not` recurses into itself, `(` into `or`
    /// and so back here), so the depth is counted once, here.
    fn not(&mut self) -> Result<Cond, ConditionError> {
        if self.depth >= MAX_DEPTH {
            return self.err(format!("condition nested more than {MAX_DEPTH} deep"));
        }
        self.depth += 1;
        let cond = self.not_inner();
        self.depth -= 1;
        cond
    }

    fn not_inner(&mut self) -> Result<Cond, ConditionError> {
        if self.peek().is_some_and(|t| is_kw(t, "not")) {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, ConditionError> {
        match self.peek().cloned() {
            None => self.err("condition ends where an identifier or `(` was expected"),
            Some(Tok::LParen) => {
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return self.err("missing `)`");
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Num(n)) => {
                self.pos += 1;
                self.quantified(Some(n))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("all") => {
                self.pos += 1;
                self.quantified(None)
            }
            Some(Tok::Word(w)) if ["and", "or", "not", "of", "them"].iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                self.err(format!("`{w}` where an identifier was expected"))
            }
            Some(Tok::Word(w)) => {
                if w.contains('*') {
                    return self.err(format!("wildcard identifier `{w}` needs `1 of` or `all of` before it"));
                }
                match self.names.iter().position(|n| *n == w) {
                    Some(i) => {
                        self.pos += 1;
                        Ok(Cond::Sel(i))
                    }
                    None => self.err(format!("no search identifier `{w}` in detection")),
                }
            }
            Some(t) => self.err(format!("unexpected {}", describe(&t))),
        }
    }

    /// After `N` or `all`: `of` then `them` or an identifier pattern.
    fn quantified(&mut self, n: Option<usize>) -> Result<Cond, ConditionError> {
        if !self.peek().is_some_and(|t| is_kw(t, "of")) {
            return self.err("expected `of`");
        }
        self.pos += 1;
        let ids: Vec<usize> = match self.peek().cloned() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("them") => {
                self.pos += 1;
                (0..self.names.len()).filter(|&i| !self.names[i].starts_with('_')).collect()
            }
            Some(Tok::Word(w)) => {
                let ids: Vec<usize> = (0..self.names.len()).filter(|&i| ident_glob(&w, &self.names[i])).collect();
                if ids.is_empty() {
                    return self.err(format!("no search identifier matches `{w}`"));
                }
                self.pos += 1;
                ids
            }
            _ => return self.err("expected `them` or an identifier pattern after `of`"),
        };
        let need = match n {
            None => ids.len(),
            Some(0) => return self.err("`0 of` can never be false; write `not 1 of` instead"),
            Some(n) => n,
        };
        Ok(Cond::AtLeast(need, ids))
    }
}

/// Identifier patterns use `*` only.
fn ident_glob(pattern: &str, name: &str) -> bool {
    let pieces = crate::pattern::parse_wildcards(pattern);
    crate::pattern::StrMatch::compile(pieces, false).matches(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["selection", "selection_b", "filter_1", "filter_2", "_hidden"].map(String::from).to_vec()
    }

    fn eval(cond: &str, truth: &[bool]) -> bool {
        parse(cond, &names()).unwrap().eval(&mut |i| truth[i])
    }

    #[test]
    fn precedence_or_and_not() {
        // not binds tighter than and, and tighter than or.
        let t = [true, false, true, false, false];
        assert!(eval("selection or selection_b and filter_2", &t));
        assert!(!eval("(selection or selection_b) and filter_2", &t));
        assert!(!eval("not selection or selection_b", &t));
        assert!(eval("selection and not filter_2", &t));
        assert!(eval("NOT selection_b AND selection", &t), "keywords are case-insensitive");
    }

    #[test]
    fn quantifiers_and_them() {
        let t = [true, false, true, false, true];
        assert!(eval("1 of selection*", &t));
        assert!(!eval("all of selection*", &t));
        assert!(eval("selection and not 1 of filter_2*", &t));
        assert!(!eval("all of them", &t));
        assert!(eval("2 of them", &t));
        assert!(!eval("3 of them", &t), "`_hidden` is not part of them");
        assert!(eval("1 of _*", &t));
    }

    #[test]
    fn errors_name_the_place() {
        let e = parse("selection and missing", &names()).unwrap_err();
        assert_eq!(e.offset, 14);
        assert!(e.message.contains("missing"));
        let e = parse("selection | count() > 5", &names()).unwrap_err();
        assert!(e.message.contains("correlation rule"));
        assert!(parse("(selection", &names()).unwrap_err().message.contains("`)`"));
        assert!(parse("1 of nomatch*", &names()).is_err());
        assert!(parse("selection and", &names()).is_err());
    }
}
