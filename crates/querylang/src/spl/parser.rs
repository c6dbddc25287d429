//! SPL text → [`Stage`]s: the pipeline and each command's arguments. Search and eval expression
//! grammars are in `parser_expr.rs`; rex, top/rare and transaction options in
//! `parser_commands.rs`.

use super::ast::*;
use super::lexer::{Lexer, Mode, Span, Tok, Token};
use crate::error::ParseError;

pub struct Parser<'a> {
    pub lex: Lexer<'a>,
}

/// Splunk commands taskhunt knows of but does not run: named in the error instead of "unknown".
const UNSUPPORTED: &[&str] = &[
    "append",
    "appendcols",
    "appendpipe",
    "bin",
    "bucket",
    "chart",
    "collect",
    "convert",
    "datamodel",
    "delete",
    "eventstats",
    "extract",
    "fieldformat",
    "fillnull",
    "foreach",
    "format",
    "from",
    "geostats",
    "inputlookup",
    "iplocation",
    "join",
    "kv",
    "lookup",
    "makemv",
    "makeresults",
    "map",
    "multisearch",
    "mvcombine",
    "mvexpand",
    "nomv",
    "outputlookup",
    "regex",
    "replace",
    "rest",
    "return",
    "reverse",
    "spath",
    "streamstats",
    "sistats",
    "tstats",
    "timechart",
    "transpose",
    "uniq",
    "untable",
    "xyseries",
    "addtotals",
    "addinfo",
    "accum",
    "autoregress",
    "cluster",
    "contingency",
    "correlate",
    "delta",
    "eventcount",
    "filldown",
    "gentimes",
    "kvform",
    "localize",
    "metadata",
    "multikv",
    "outlier",
    "predict",
    "rangemap",
    "sendemail",
    "set",
    "tags",
    "typer",
    "union",
];

pub fn parse(text: &str) -> Result<Vec<Stage>, ParseError> {
    let mut p = Parser { lex: Lexer::new(text)? };
    p.pipeline()
}

pub fn is_word(t: &Tok, w: &str) -> bool {
    matches!(t, Tok::Word(x) if x.eq_ignore_ascii_case(w))
}

impl<'a> Parser<'a> {
    pub fn err(&self, at: usize, msg: impl Into<String>) -> ParseError {
        self.lex.err(at, msg)
    }

    pub fn peek(&self, m: Mode) -> Result<Token, ParseError> {
        self.lex.peek(m)
    }

    pub fn next(&mut self, m: Mode) -> Result<Token, ParseError> {
        self.lex.next(m)
    }

    pub fn expect(&mut self, m: Mode, want: Tok, what: &str) -> Result<Token, ParseError> {
        let t = self.next(m)?;
        if t.tok == want { Ok(t) } else { Err(self.err(t.span.start, format!("expected {what}, found {}", t.tok.describe()))) }
    }

    /// Whether the command's arguments are over (`|` or the end comes next).
    pub fn at_end(&self) -> Result<bool, ParseError> {
        Ok(matches!(self.peek(Mode::Search)?.tok, Tok::Pipe | Tok::Eof))
    }

    fn pipeline(&mut self) -> Result<Vec<Stage>, ParseError> {
        let first = self.peek(Mode::Search)?;
        let mut stages = Vec::new();
        match &first.tok {
            Tok::Eof => return Err(self.err(first.span.start, "empty query: start with a search such as index=sysmon")),
            Tok::Pipe => {
                self.next(Mode::Search)?;
                let t = self.next(Mode::Search)?;
                match &t.tok {
                    Tok::Word(w) if w.eq_ignore_ascii_case("search") => {}
                    Tok::Word(w) => {
                        let why = if UNSUPPORTED.contains(&w.to_ascii_lowercase().as_str()) {
                            format!("`{w}` is not supported")
                        } else {
                            format!("`{w}` cannot start a query")
                        };
                        return Err(self.err(t.span.start, format!("{why}: start with a search such as index=sysmon")));
                    }
                    other => return Err(self.err(t.span.start, format!("expected a command after `|`, found {}", other.describe()))),
                }
                let s = self.search_opt()?;
                stages.push(Stage { command: Command::Search(s), span: t.span });
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("search") && !matches!(self.lex.peek_nth(Mode::Search, 1)?.tok, Tok::Eq | Tok::Ne) => {
                let t = self.next(Mode::Search)?;
                let s = self.search_opt()?;
                stages.push(Stage { command: Command::Search(s), span: t.span });
            }
            _ => {
                let s = self.search_opt()?;
                stages.push(Stage { command: Command::Search(s), span: first.span });
            }
        }
        loop {
            let t = self.next(Mode::Search)?;
            match t.tok {
                Tok::Eof => return Ok(stages),
                Tok::Pipe => {}
                other => return Err(self.err(t.span.start, format!("expected `|` or the end of the query, found {}", other.describe()))),
            }
            let name = self.next(Mode::Search)?;
            let Tok::Word(w) = &name.tok else {
                return Err(self.err(name.span.start, format!("expected a command after `|`, found {}", name.tok.describe())));
            };
            let command = self.command(&w.to_ascii_lowercase(), name.span)?;
            stages.push(Stage { command, span: name.span });
        }
    }

    fn command(&mut self, name: &str, span: Span) -> Result<Command, ParseError> {
        Ok(match name {
            "search" => Command::Search(self.search_opt()?),
            "where" => {
                if self.at_end()? {
                    return Err(self.err(span.end, "where needs a condition"));
                }
                let e = self.expr()?;
                self.end_of_command("where")?;
                Command::Where(e)
            }
            "eval" => Command::Eval(self.eval_assignments(span)?),
            "stats" => self.stats(span)?,
            "table" => Command::Table(self.non_empty_fields("table", span)?),
            "fields" => {
                let mut remove = false;
                match self.peek(Mode::Search)?.tok {
                    Tok::Word(w) if w == "-" => {
                        self.next(Mode::Search)?;
                        remove = true;
                    }
                    Tok::Word(w) if w == "+" => {
                        self.next(Mode::Search)?;
                    }
                    _ => {}
                }
                Command::Fields { remove, names: self.non_empty_fields("fields", span)? }
            }
            "rename" => self.rename(span)?,
            "sort" => self.sort(span)?,
            "head" => Command::Head(self.count_arg("head")?),
            "tail" => Command::Tail(self.count_arg("tail")?),
            "dedup" => self.dedup(span)?,
            "rex" => self.rex(span)?,
            "top" => Command::Top(self.top_args("top", span)?),
            "rare" => Command::Rare(self.top_args("rare", span)?),
            "transaction" => Command::Transaction(Box::new(self.transaction()?)),
            "xmlkv" => {
                let mut field = None;
                while !self.at_end()? {
                    let (key, value) = self.option("xmlkv")?;
                    match key.text.to_ascii_lowercase().as_str() {
                        "field" => field = Some(value_name(value)),
                        _ => return Err(self.err(key.span.start, format!("xmlkv: option `{}` is not supported (only field=)", key.text))),
                    }
                }
                Command::Xmlkv { field }
            }
            other if UNSUPPORTED.contains(&other) => {
                return Err(self.err(span.start, format!("the `{other}` command is not supported by taskhunt's SPL")));
            }
            other => return Err(self.err(span.start, format!("unknown SPL command `{other}`"))),
        })
    }

    pub fn end_of_command(&self, cmd: &str) -> Result<(), ParseError> {
        let t = self.peek(Mode::Search)?;
        if matches!(t.tok, Tok::Pipe | Tok::Eof) {
            Ok(())
        } else {
            Err(self.err(t.span.start, format!("{cmd}: unexpected {}", t.tok.describe())))
        }
    }

    /// A field name: a word or a quoted string.
    pub fn name(&mut self, what: &str) -> Result<Name, ParseError> {
        let t = self.next(Mode::Search)?;
        match t.tok {
            Tok::Word(w) => Ok(Name { text: w, span: t.span }),
            Tok::Str(s) => Ok(Name { text: s, span: t.span }),
            other => Err(self.err(t.span.start, format!("expected {what}, found {}", other.describe()))),
        }
    }

    /// Field names separated by spaces or commas, up to `|`, the end, or a `stop` word.
    pub(super) fn fields(&mut self, stop: &[&str]) -> Result<Vec<Name>, ParseError> {
        let mut out = Vec::new();
        loop {
            let t = self.peek(Mode::Search)?;
            match &t.tok {
                Tok::Pipe | Tok::Eof => return Ok(out),
                Tok::Comma => {
                    self.next(Mode::Search)?;
                }
                Tok::Word(w) if stop.iter().any(|s| w.eq_ignore_ascii_case(s)) => return Ok(out),
                Tok::Word(_) | Tok::Str(_) if matches!(self.lex.peek_nth(Mode::Search, 1)?.tok, Tok::Eq) => return Ok(out),
                _ => out.push(self.name("a field name")?),
            }
        }
    }

    fn non_empty_fields(&mut self, cmd: &str, span: Span) -> Result<Vec<Name>, ParseError> {
        let f = self.fields(&[])?;
        if f.is_empty() {
            return Err(self.err(span.end, format!("{cmd} needs at least one field")));
        }
        self.end_of_command(cmd)?;
        Ok(f)
    }

    /// `key=value`; the value a word or string.
    pub(super) fn option(&mut self, cmd: &str) -> Result<(Name, SearchValue), ParseError> {
        let key = self.name("an option")?;
        let eq = self.next(Mode::Search)?;
        if eq.tok != Tok::Eq {
            return Err(self.err(key.span.start, format!("{cmd}: unexpected `{}`", key.text)));
        }
        let v = self.next(Mode::Search)?;
        let value = match v.tok {
            Tok::Word(w) => SearchValue { text: w, quoted: false, span: v.span },
            Tok::Str(s) => SearchValue { text: s, quoted: true, span: v.span },
            other => return Err(self.err(v.span.start, format!("{cmd}: expected a value for {}=, found {}", key.text, other.describe()))),
        };
        Ok((key, value))
    }

    pub(super) fn number(&self, v: &SearchValue, what: &str) -> Result<usize, ParseError> {
        v.text.parse::<usize>().map_err(|_| self.err(v.span.start, format!("{what} must be a whole number, not `{}`", v.text)))
    }

    pub(super) fn boolean(&self, v: &SearchValue, what: &str) -> Result<bool, ParseError> {
        match v.text.to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" => Ok(true),
            "false" | "f" | "0" | "no" => Ok(false),
            _ => Err(self.err(v.span.start, format!("{what} must be true or false, not `{}`", v.text))),
        }
    }

    /// `head`/`tail`: `[N]` or `limit=N`, default 10.
    fn count_arg(&mut self, cmd: &str) -> Result<usize, ParseError> {
        let mut n = 10;
        while !self.at_end()? {
            let t = self.peek(Mode::Search)?;
            match &t.tok {
                Tok::Word(w) if w.bytes().all(|b| b.is_ascii_digit()) => {
                    self.next(Mode::Search)?;
                    n = self.number(&SearchValue { text: w.clone(), quoted: false, span: t.span }, cmd)?;
                }
                Tok::Word(w) if w.eq_ignore_ascii_case("limit") => {
                    let (_, v) = self.option(cmd)?;
                    n = self.number(&v, "limit")?;
                }
                Tok::LParen => return Err(self.err(t.span.start, format!("{cmd} with an eval condition is not supported"))),
                other => return Err(self.err(t.span.start, format!("{cmd}: unexpected {}", other.describe()))),
            }
        }
        Ok(n)
    }

    fn eval_assignments(&mut self, span: Span) -> Result<Vec<(Name, Expr)>, ParseError> {
        let mut out = Vec::new();
        loop {
            let t = self.next(Mode::Expr)?;
            let target = match t.tok {
                Tok::Word(w) => Name { text: w, span: t.span },
                Tok::Field(s) | Tok::Str(s) => Name { text: s, span: t.span },
                Tok::Eof | Tok::Pipe if out.is_empty() => {
                    return Err(self.err(span.end, "eval needs an assignment such as x=len(CommandLine)"));
                }
                other => return Err(self.err(t.span.start, format!("eval: expected a field name, found {}", other.describe()))),
            };
            let eq = self.next(Mode::Expr)?;
            if eq.tok != Tok::Eq {
                return Err(self.err(eq.span.start, format!("eval: expected `=` after {}, found {}", target.text, eq.tok.describe())));
            }
            let e = self.expr()?;
            out.push((target, e));
            match self.peek(Mode::Expr)?.tok {
                Tok::Comma => {
                    self.next(Mode::Expr)?;
                }
                _ => {
                    self.end_of_command("eval")?;
                    return Ok(out);
                }
            }
        }
    }

    fn stats(&mut self, span: Span) -> Result<Command, ParseError> {
        let mut aggs = Vec::new();
        let mut by = Vec::new();
        loop {
            let t = self.peek(Mode::Search)?;
            match &t.tok {
                Tok::Pipe | Tok::Eof => break,
                Tok::Comma => {
                    self.next(Mode::Search)?;
                }
                Tok::Word(w) if w.eq_ignore_ascii_case("by") => {
                    self.next(Mode::Search)?;
                    by = self.fields(&[])?;
                    if by.is_empty() {
                        return Err(self.err(t.span.end, "stats: `by` needs at least one field"));
                    }
                    self.end_of_command("stats")?;
                    break;
                }
                Tok::Word(w) => {
                    let func = w.clone();
                    self.next(Mode::Search)?;
                    let mut arg = None;
                    let mut end = t.span;
                    if self.lex.next_is_adjacent() && self.peek(Mode::Search)?.tok == Tok::LParen {
                        self.next(Mode::Search)?;
                        let a = self.name("a field name")?;
                        if a.text.eq_ignore_ascii_case("eval") && self.peek(Mode::Search)?.tok == Tok::LParen {
                            return Err(self.err(a.span.start, format!("stats: {func}(eval(...)) is not supported; eval a field first")));
                        }
                        arg = Some(a);
                        end = self.expect(Mode::Search, Tok::RParen, "`)`")?.span;
                    }
                    let mut alias = None;
                    if is_word(&self.peek(Mode::Search)?.tok, "as") {
                        self.next(Mode::Search)?;
                        alias = Some(self.name("a name after `as`")?.text);
                    }
                    aggs.push(Agg { func, arg, alias, span: t.span.to(end) });
                }
                other => {
                    return Err(self.err(t.span.start, format!("stats: expected a function such as count, found {}", other.describe())));
                }
            }
        }
        if aggs.is_empty() {
            return Err(self.err(span.end, "stats needs a function such as count"));
        }
        Ok(Command::Stats { aggs, by })
    }

    fn rename(&mut self, span: Span) -> Result<Command, ParseError> {
        let mut pairs = Vec::new();
        while !self.at_end()? {
            if self.peek(Mode::Search)?.tok == Tok::Comma {
                self.next(Mode::Search)?;
                continue;
            }
            let from = self.name("a field name")?;
            let t = self.next(Mode::Search)?;
            if !is_word(&t.tok, "as") {
                return Err(self.err(t.span.start, format!("rename: expected `as` after {}, found {}", from.text, t.tok.describe())));
            }
            let to = self.name("a new name")?;
            if from.text.matches('*').count() != to.text.matches('*').count() && to.text.contains('*') {
                return Err(self.err(to.span.start, "rename: the new name must have as many `*` as the old one"));
            }
            pairs.push((from, to));
        }
        if pairs.is_empty() {
            return Err(self.err(span.end, "rename needs `field AS newname`"));
        }
        Ok(Command::Rename(pairs))
    }

    /// Sort keys: `[+|-]field`, `- field`, `num(field)`, `str(field)`, `auto(field)`.
    fn sort_keys(&mut self, stop_at_option: bool) -> Result<Vec<SortKey>, ParseError> {
        let mut keys = Vec::new();
        let mut pending_desc = None;
        loop {
            let t = self.peek(Mode::Search)?;
            let (mut text, span) = match &t.tok {
                Tok::Pipe | Tok::Eof => break,
                Tok::Comma => {
                    self.next(Mode::Search)?;
                    continue;
                }
                Tok::Word(_) if stop_at_option && self.lex.peek_nth(Mode::Search, 1)?.tok == Tok::Eq => break,
                Tok::Word(w) => (w.clone(), t.span),
                Tok::Str(s) => (s.clone(), t.span),
                other => return Err(self.err(t.span.start, format!("sort: unexpected {}", other.describe()))),
            };
            self.next(Mode::Search)?;
            if matches!(t.tok, Tok::Word(_)) && (text == "-" || text == "+") {
                pending_desc = Some(text == "-");
                continue;
            }
            let mut descending = pending_desc.take().unwrap_or(false);
            let mut start = span.start;
            if matches!(t.tok, Tok::Word(_)) && (text.starts_with('-') || text.starts_with('+')) {
                descending = text.starts_with('-');
                text.remove(0);
                start += 1;
            }
            if !keys.is_empty() && (text.eq_ignore_ascii_case("d") || text.eq_ignore_ascii_case("desc")) && self.at_end()? {
                keys.iter_mut().for_each(|k: &mut SortKey| k.descending = !k.descending);
                break;
            }
            let how = match text.to_ascii_lowercase().as_str() {
                f @ ("num" | "str" | "auto" | "ip") if self.lex.next_is_adjacent() && self.peek(Mode::Search)?.tok == Tok::LParen => {
                    if f == "ip" {
                        return Err(self.err(start, "sort: ip() ordering is not supported"));
                    }
                    Some(match f {
                        "num" => SortHow::Num,
                        "str" => SortHow::Str,
                        _ => SortHow::Auto,
                    })
                }
                _ => None,
            };
            let field = match how {
                Some(_) => {
                    self.next(Mode::Search)?;
                    let n = self.name("a field name")?;
                    self.expect(Mode::Search, Tok::RParen, "`)`")?;
                    n
                }
                None => Name { text, span: Span::new(start, span.end) },
            };
            keys.push(SortKey { field, descending, how: how.unwrap_or(SortHow::Auto) });
        }
        if pending_desc.is_some() {
            return Err(self.err(self.lex.pos(), "sort: `-`/`+` must be followed by a field"));
        }
        Ok(keys)
    }

    fn sort(&mut self, span: Span) -> Result<Command, ParseError> {
        let mut limit = None;
        let t = self.peek(Mode::Search)?;
        if let Tok::Word(w) = &t.tok {
            if w.bytes().all(|b| b.is_ascii_digit()) {
                self.next(Mode::Search)?;
                limit = Some(self.number(&SearchValue { text: w.clone(), quoted: false, span: t.span }, "sort count")?);
            } else if w.eq_ignore_ascii_case("limit") && self.lex.peek_nth(Mode::Search, 1)?.tok == Tok::Eq {
                let (_, v) = self.option("sort")?;
                limit = Some(self.number(&v, "limit")?);
            }
        }
        let keys = self.sort_keys(false)?;
        if keys.is_empty() {
            return Err(self.err(span.end, "sort needs at least one field"));
        }
        // `sort 0 x` means no limit, as in Splunk.
        Ok(Command::Sort { keys, limit: limit.filter(|n| *n > 0) })
    }

    fn dedup(&mut self, span: Span) -> Result<Command, ParseError> {
        let mut limit = 1;
        let t = self.peek(Mode::Search)?;
        if let Tok::Word(w) = &t.tok
            && w.bytes().all(|b| b.is_ascii_digit())
        {
            self.next(Mode::Search)?;
            limit = self.number(&SearchValue { text: w.clone(), quoted: false, span: t.span }, "dedup count")?.max(1);
        }
        let mut fields = Vec::new();
        let mut keepempty = false;
        let mut sortby = Vec::new();
        loop {
            fields.extend(self.fields(&["sortby"])?);
            let t = self.peek(Mode::Search)?;
            match &t.tok {
                Tok::Pipe | Tok::Eof => break,
                Tok::Word(w) if w.eq_ignore_ascii_case("sortby") => {
                    self.next(Mode::Search)?;
                    sortby = self.sort_keys(true)?;
                }
                _ => {
                    let (k, v) = self.option("dedup")?;
                    match k.text.to_ascii_lowercase().as_str() {
                        "keepempty" => keepempty = self.boolean(&v, "keepempty")?,
                        "consecutive" | "keepevents" if !self.boolean(&v, &k.text)? => {}
                        _ => return Err(self.err(k.span.start, format!("dedup: option `{}` is not supported", k.text))),
                    }
                }
            }
        }
        if fields.is_empty() {
            return Err(self.err(span.end, "dedup needs at least one field"));
        }
        Ok(Command::Dedup { limit, fields, keepempty, sortby })
    }
}

pub(super) fn value_name(v: SearchValue) -> Name {
    Name { text: v.text, span: v.span }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_shapes() {
        let s = parse("index=sysmon Image=\"*rundll32.exe\"\n| stats count by Computer, CommandLine").unwrap();
        assert_eq!(s.len(), 2);
        let Command::Stats { aggs, by } = &s[1].command else { panic!() };
        assert_eq!(aggs[0].func, "count");
        assert_eq!(by.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(), ["Computer", "CommandLine"]);
        let s = parse("x | sort 5 - count, +num(pid) | head limit=3").unwrap();
        let Command::Sort { keys, limit } = &s[1].command else { panic!() };
        assert_eq!(*limit, Some(5));
        assert!(keys[0].descending && !keys[1].descending && keys[1].how == SortHow::Num);
        assert_eq!(s[2].command, Command::Head(3));
    }
}
