//! Argument parsers of the commands with options: rex, top/rare, transaction.

use super::ast::*;
use super::lexer::{Lexer, Mode, Span, Tok};
use super::parser::{Parser, value_name};
use crate::error::ParseError;

impl Parser<'_> {
    pub(super) fn rex(&mut self, span: Span) -> Result<Command, ParseError> {
        let mut field = None;
        let mut regex = None;
        let mut sed = false;
        let mut max_match = 1;
        while !self.at_end()? {
            let t = self.peek(Mode::Search)?;
            if let Tok::Str(s) = &t.tok {
                self.next(Mode::Search)?;
                if regex.is_some() {
                    return Err(self.err(t.span.start, "rex takes one regular expression"));
                }
                regex = Some((s.clone(), t.span));
                continue;
            }
            let (k, v) = self.option("rex")?;
            match k.text.to_ascii_lowercase().as_str() {
                "field" => field = Some(value_name(v)),
                "mode" if v.text.eq_ignore_ascii_case("sed") => sed = true,
                "max_match" => max_match = self.number(&v, "max_match")?,
                _ => return Err(self.err(k.span.start, format!("rex: option `{}={}` is not supported", k.text, v.text))),
            }
        }
        let Some((regex, regex_span)) = regex else {
            return Err(self.err(span.end, "rex needs a quoted regular expression such as \"(?<user>\\w+)\""));
        };
        let Some(field) = field else {
            return Err(self.err(span.start, "rex needs field=NAME: taskhunt events have no _raw"));
        };
        let mode = if sed { self.sed(&regex, regex_span)? } else { RexMode::Extract { max_match } };
        let regex = if sed { sed_parts(&regex).map(|p| p.0).unwrap_or_default() } else { regex };
        Ok(Command::Rex { field, regex, regex_span, mode })
    }

    fn sed(&self, text: &str, span: Span) -> Result<RexMode, ParseError> {
        let Some((_, replacement, flags)) = sed_parts(text) else {
            return Err(self.err(span.start, "rex mode=sed needs \"s/regex/replacement/flags\""));
        };
        let global = match flags.as_str() {
            "" => false,
            "g" => true,
            _ => return Err(self.err(span.start, format!("rex mode=sed: flags `{flags}` are not supported (only g)"))),
        };
        Ok(RexMode::Sed { replacement, global })
    }

    pub(super) fn top_args(&mut self, cmd: &str, span: Span) -> Result<TopArgs, ParseError> {
        let mut a = TopArgs {
            limit: 10,
            fields: vec![],
            by: vec![],
            countfield: "count".into(),
            percentfield: "percent".into(),
            showcount: true,
            showperc: true,
        };
        let t = self.peek(Mode::Search)?;
        if let Tok::Word(w) = &t.tok
            && w.bytes().all(|b| b.is_ascii_digit())
        {
            self.next(Mode::Search)?;
            a.limit = self.number(&SearchValue { text: w.clone(), quoted: false, span: t.span }, "count")?;
        }
        loop {
            a.fields.extend(self.fields(&["by"])?);
            let t = self.peek(Mode::Search)?;
            match &t.tok {
                Tok::Pipe | Tok::Eof => break,
                Tok::Word(w) if w.eq_ignore_ascii_case("by") => {
                    self.next(Mode::Search)?;
                    a.by = self.fields(&[])?;
                    if a.by.is_empty() {
                        return Err(self.err(t.span.end, format!("{cmd}: `by` needs at least one field")));
                    }
                }
                _ => {
                    let (k, v) = self.option(cmd)?;
                    match k.text.to_ascii_lowercase().as_str() {
                        "limit" => a.limit = self.number(&v, "limit")?,
                        "countfield" => a.countfield = v.text,
                        "percentfield" => a.percentfield = v.text,
                        "showcount" => a.showcount = self.boolean(&v, "showcount")?,
                        "showperc" => a.showperc = self.boolean(&v, "showperc")?,
                        "useother" if !self.boolean(&v, "useother")? => {}
                        "otherstr" => {}
                        _ => return Err(self.err(k.span.start, format!("{cmd}: option `{}={}` is not supported", k.text, v.text))),
                    }
                }
            }
        }
        if a.fields.is_empty() {
            return Err(self.err(span.end, format!("{cmd} needs at least one field")));
        }
        Ok(a)
    }

    pub(super) fn transaction(&mut self) -> Result<TransactionArgs, ParseError> {
        let mut a = TransactionArgs {
            fields: vec![],
            startswith: None,
            endswith: None,
            maxspan: None,
            maxpause: None,
            maxevents: Some(1000),
            keepevicted: false,
        };
        loop {
            a.fields.extend(self.fields(&[])?);
            if self.at_end()? {
                return Ok(a);
            }
            let key = self.name("an option")?;
            self.expect(Mode::Search, Tok::Eq, "`=`")?;
            match key.text.to_ascii_lowercase().as_str() {
                k @ ("startswith" | "endswith") => {
                    let b = self.boundary()?;
                    if k == "startswith" {
                        a.startswith = Some(b);
                    } else {
                        a.endswith = Some(b);
                    }
                }
                k @ ("maxspan" | "maxpause" | "maxevents" | "keepevicted") => {
                    let v = self.next(Mode::Search)?;
                    let (Tok::Word(text) | Tok::Str(text)) = v.tok else {
                        return Err(self.err(v.span.start, format!("transaction: expected a value for {k}=")));
                    };
                    let sv = SearchValue { text, quoted: false, span: v.span };
                    match k {
                        "maxspan" | "maxpause" => {
                            let secs = duration_seconds(&sv.text).ok_or_else(|| {
                                self.err(v.span.start, format!("transaction: {k}={} is not a duration such as 30s, 5m, 1h or 2d", sv.text))
                            })?;
                            let secs = (secs >= 0.0).then_some(secs);
                            if k == "maxspan" { a.maxspan = secs } else { a.maxpause = secs }
                        }
                        "maxevents" => {
                            let n: i64 =
                                sv.text.parse().map_err(|_| self.err(v.span.start, "transaction: maxevents must be a whole number"))?;
                            a.maxevents = usize::try_from(n).ok().filter(|n| *n > 0);
                        }
                        _ => a.keepevicted = self.boolean(&sv, "keepevicted")?,
                    }
                }
                _ => return Err(self.err(key.span.start, format!("transaction: option `{}` is not supported", key.text))),
            }
        }
    }

    /// `startswith=`/`endswith=`: `"search terms"`, `eval(expr)`, or one bare term.
    fn boundary(&mut self) -> Result<Boundary, ParseError> {
        let t = self.next(Mode::Search)?;
        match t.tok {
            Tok::Word(w) if w.eq_ignore_ascii_case("eval") && self.peek(Mode::Search)?.tok == Tok::LParen => {
                self.next(Mode::Search)?;
                let e = self.expr()?;
                self.expect(Mode::Expr, Tok::RParen, "`)`")?;
                Ok(Boundary::Eval(e))
            }
            Tok::Word(w) => Ok(Boundary::Search(Search::Term(SearchValue { text: w, quoted: false, span: t.span }))),
            Tok::Str(s) => {
                let inner = parse_nested_search(&s).map_err(|(off, msg)| self.err(t.span.start + 1 + off.min(s.len()), msg))?;
                Ok(Boundary::Search(inner))
            }
            other => Err(self.err(t.span.start, format!("expected a quoted search or eval(...), found {}", other.describe()))),
        }
    }
}

/// A search written inside a quoted option value, parsed on its own; errors come back with the
/// byte offset inside `s`.
fn parse_nested_search(s: &str) -> Result<Search, (usize, String)> {
    let to_offset = |e: ParseError| {
        let line_start: usize = s.split_inclusive('\n').take(e.line.saturating_sub(1)).map(str::len).sum();
        let col: usize = s[line_start..].chars().take(e.column.saturating_sub(1)).map(char::len_utf8).sum();
        (line_start + col, e.message)
    };
    let mut p = Parser { lex: Lexer::new(s).map_err(to_offset)? };
    let r = p.search_opt().map_err(to_offset)?;
    p.end_of_command("search").map_err(to_offset)?;
    r.ok_or((0, "an empty search".to_string()))
}

/// `s/regex/replacement/flags` → parts (the separator is the character after `s`).
fn sed_parts(text: &str) -> Option<(String, String, String)> {
    let mut chars = text.chars();
    if chars.next()? != 's' {
        return None;
    }
    let sep = chars.next()?;
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in chars {
        if escaped {
            if c != sep {
                parts.last_mut()?.push('\\');
            }
            parts.last_mut()?.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(String::new());
        } else {
            parts.last_mut()?.push(c);
        }
    }
    if parts.len() != 3 {
        return None;
    }
    let flags = parts.pop()?;
    let replacement = parts.pop()?;
    let regex = parts.pop()?;
    Some((regex, replacement, flags))
}

/// `30s`, `5m`, `1h`, `2d`, `1w` or plain seconds; `-1` means no limit.
pub fn duration_seconds(text: &str) -> Option<f64> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() {
        return None;
    }
    let mult = match unit.to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "week" | "weeks" => 604_800.0,
        _ => return None,
    };
    Some(n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sed_and_durations() {
        assert_eq!(sed_parts("s/a\\/b/c/g"), Some(("a/b".into(), "c".into(), "g".into())));
        assert_eq!(sed_parts("s/(\\d+)/x/"), Some(("(\\d+)".into(), "x".into(), "".into())));
        assert_eq!(sed_parts("y/a/b/"), None);
        assert_eq!(duration_seconds("5m"), Some(300.0));
        assert_eq!(duration_seconds("90"), Some(90.0));
        assert_eq!(duration_seconds("-1"), Some(-1.0));
        assert_eq!(duration_seconds("5x"), None);
    }
}
