//! Recursive-descent parser from tokens to the syntax tree ([`super::ast`]); expressions by
//! precedence climbing. Errors carry the byte offset of the token they are about.

use super::ast::*;
use super::lexer::{Tok, Token, lex};
use crate::error::ParseError;

/// How deep expressions and sub-queries may nest before the parser gives up (keeps hostile
/// queries from exhausting the stack, here or in the planner).
const MAX_DEPTH: usize = 64;

/// Operands of one `and` / `or` chain.
pub(super) const MAX_OPERANDS: usize = 100_000;

/// Operators in one pipeline, and let statements in one query.
const MAX_OPERATORS: usize = 256;

/// Operators KQL has that this front end does not implement; named in the error.
const UNSUPPORTED_OPERATORS: &[&str] = &[
    "as",
    "consume",
    "evaluate",
    "facet",
    "find",
    "fork",
    "getschema",
    "invoke",
    "lookup",
    "make-series",
    "mv-apply",
    "partition",
    "project-smart",
    "range",
    "reduce",
    "sample",
    "sample-distinct",
    "scan",
    "search",
    "serialize",
    "top-hitters",
    "top-nested",
    "parse-kv",
    "externaldata",
    "make-graph",
    "graph-match",
    "macro-expand",
    "execute",
];

const KNOWN_OPERATORS: &[&str] = &[
    "where",
    "filter",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "extend",
    "summarize",
    "count",
    "sort",
    "order",
    "top",
    "take",
    "limit",
    "distinct",
    "join",
    "union",
    "parse",
    "parse-where",
    "mv-expand",
    "render",
];

pub fn parse(text: &str) -> Result<Query, ParseError> {
    let tokens = lex(text)?;
    let mut p = Parser { text, tokens, pos: 0, depth: 0 };
    p.query()
}

pub(super) struct Parser<'a> {
    pub(super) text: &'a str,
    pub(super) tokens: Vec<Token>,
    pub(super) pos: usize,
    pub(super) depth: usize,
}

impl<'a> Parser<'a> {
    // ---- token helpers ----

    pub(super) fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    pub(super) fn peek_at(&self, k: usize) -> &Token {
        &self.tokens[(self.pos + k).min(self.tokens.len() - 1)]
    }

    pub(super) fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    pub(super) fn prev_end(&self) -> usize {
        if self.pos == 0 { 0 } else { self.tokens[self.pos - 1].end }
    }

    pub(super) fn err<T>(&self, at: usize, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError::at(self.text, at, msg))
    }

    pub(super) fn expected<T>(&self, what: &str) -> Result<T, ParseError> {
        let t = self.peek();
        self.err(t.start, format!("expected {what}, found {}", t.describe()))
    }

    pub(super) fn eat_sym(&mut self, s: &str) -> bool {
        if self.peek().is_sym(s) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(super) fn expect_sym(&mut self, s: &str) -> Result<Token, ParseError> {
        if self.peek().is_sym(s) { Ok(self.bump()) } else { self.expected(&format!("`{s}`")) }
    }

    pub(super) fn eat_ident(&mut self, s: &str) -> bool {
        if self.peek().is_ident(s) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_ident(&mut self, s: &str) -> Result<(), ParseError> {
        if self.eat_ident(s) { Ok(()) } else { self.expected(&format!("`{s}`")) }
    }

    /// A name: identifier or `['quoted name']`.
    pub(super) fn name(&mut self, what: &str) -> Result<(String, Span), ParseError> {
        let t = self.peek().clone();
        if let Tok::Ident(n) = &t.tok {
            self.bump();
            return Ok((n.clone(), (t.start, t.end)));
        }
        if t.is_sym("[")
            && let Tok::Str(s) = &self.peek_at(1).tok
            && self.peek_at(2).is_sym("]")
        {
            let s = s.clone();
            let end = self.peek_at(2).end;
            self.pos += 3;
            return Ok((s, (t.start, end)));
        }
        self.expected(what)
    }

    /// True when the next token starts right where the previous one ended.
    pub(super) fn adjacent(&self, k: usize) -> bool {
        let a = self.peek_at(k);
        let prev = if self.pos + k == 0 { return false } else { &self.tokens[(self.pos + k - 1).min(self.tokens.len() - 1)] };
        prev.end == a.start
    }

    /// A name pattern for project-away / project-keep / union: identifiers and `*` written
    /// without spaces (`Initiating*`, `*Name`, `Device*Events`).
    fn name_pattern(&mut self) -> Result<(String, Span), ParseError> {
        let start = self.peek().start;
        if self.peek().is_sym("[") {
            return self.name("a column name");
        }
        let mut s = String::new();
        loop {
            let t = self.peek().clone();
            let ok = match &t.tok {
                Tok::Ident(n) => {
                    s.push_str(n);
                    true
                }
                Tok::Sym("*") => {
                    s.push('*');
                    true
                }
                _ => false,
            };
            if !ok {
                break;
            }
            self.bump();
            if !self.adjacent(0) {
                break;
            }
        }
        if s.is_empty() {
            return self.expected("a column name");
        }
        Ok((s, (start, self.prev_end())))
    }

    pub(super) fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(self.peek().start, "the query nests too deeply");
        }
        Ok(())
    }

    // ---- statements ----

    fn query(&mut self) -> Result<Query, ParseError> {
        let mut lets = Vec::new();
        let mut body = None;
        loop {
            while self.eat_sym(";") {}
            let t = self.peek().clone();
            if matches!(t.tok, Tok::End) {
                break;
            }
            if body.is_some() {
                return self.err(t.start, "only one tabular expression is supported; expected end of query");
            }
            if t.is_ident("let") {
                if lets.len() >= MAX_OPERATORS {
                    return self.err(t.start, format!("too many let statements (at most {MAX_OPERATORS})"));
                }
                self.bump();
                lets.push(self.let_statement()?);
                if !self.eat_sym(";") {
                    return self.expected("`;` after the let statement");
                }
                continue;
            }
            if t.is_ident("set") || t.is_ident("declare") || t.is_ident("alias") || t.is_ident("pattern") {
                return self.err(t.start, format!("unsupported statement `{}`", t.ident().unwrap_or_default()));
            }
            body = Some(self.pipeline()?);
            let t = self.peek();
            if !matches!(t.tok, Tok::End) && !t.is_sym(";") {
                return self.err(t.start, format!("expected `|` or end of query, found {}", t.describe()));
            }
        }
        match body {
            Some(body) => Ok(Query { lets, body }),
            None => self.err(self.text.len(), "the query has no tabular expression"),
        }
    }

    fn let_statement(&mut self) -> Result<Let, ParseError> {
        let (name, span) = self.name("a name after `let`")?;
        self.expect_sym("=")?;
        let t = self.peek().clone();
        if t.is_sym("(") && matches!(self.peek_at(1).tok, Tok::Ident(_)) && self.peek_at(2).is_sym(":")
            || t.is_sym("(") && self.peek_at(1).is_sym(")")
        {
            return self.err(t.start, "user-defined functions (`let f = (...) { ... }`) are not supported");
        }
        let save = (self.pos, self.depth);
        let scalar = self.expr();
        match scalar {
            Ok(e) if self.peek().is_sym(";") || matches!(self.peek().tok, Tok::End) => {
                return Ok(Let { name, span, value: LetValue::Scalar(e) });
            }
            Err(e) if !matches!(t.tok, Tok::Ident(_)) && !t.is_sym("(") => return Err(e),
            _ => {}
        }
        (self.pos, self.depth) = save;
        let p = self.pipeline()?;
        Ok(Let { name, span, value: LetValue::Tabular(p) })
    }

    // ---- tabular ----

    pub(super) fn pipeline(&mut self) -> Result<Pipeline, ParseError> {
        self.enter()?;
        let source = self.source()?;
        let mut ops = Vec::new();
        while self.eat_sym("|") {
            if ops.len() >= MAX_OPERATORS {
                return self.err(self.prev_end(), format!("too many operators in one pipeline (at most {MAX_OPERATORS})"));
            }
            ops.push(self.operator()?);
        }
        self.depth -= 1;
        Ok(Pipeline { source, ops })
    }

    fn source(&mut self) -> Result<Source, ParseError> {
        let t = self.peek().clone();
        if self.eat_sym("(") {
            let p = self.pipeline()?;
            self.expect_sym(")")?;
            return Ok(Source::Paren(Box::new(p)));
        }
        match t.ident() {
            Some("union") => {
                self.bump();
                return Ok(Source::Union(self.union_spec()?));
            }
            Some("print") => {
                self.bump();
                return Ok(Source::Print(self.items(false)?));
            }
            Some("datatable") => {
                self.bump();
                return self.datatable(t.start);
            }
            Some("materialize") if self.peek_at(1).is_sym("(") => {
                self.bump();
                self.bump();
                let p = self.pipeline()?;
                self.expect_sym(")")?;
                return Ok(Source::Paren(Box::new(p)));
            }
            Some(op @ ("range" | "search" | "find" | "evaluate" | "externaldata" | "cluster" | "database" | "table")) => {
                return self.err(t.start, format!("unsupported operator `{op}`"));
            }
            _ => {}
        }
        let (n, span) = self.name("a table name")?;
        Ok(Source::Name(n, span))
    }

    fn datatable(&mut self, start: usize) -> Result<Source, ParseError> {
        self.expect_sym("(")?;
        let mut columns = Vec::new();
        loop {
            let (n, span) = self.name("a column name")?;
            self.expect_sym(":")?;
            let ty = self.type_name()?;
            columns.push((n, span, ty));
            if !self.eat_sym(",") {
                break;
            }
        }
        self.expect_sym(")")?;
        self.expect_sym("[")?;
        let mut values = Vec::new();
        while !self.peek().is_sym("]") {
            values.push(self.expr()?);
            if !self.eat_sym(",") {
                break;
            }
        }
        self.expect_sym("]")?;
        Ok(Source::Datatable { columns, values, span: (start, self.prev_end()) })
    }

    fn type_name(&mut self) -> Result<TypeName, ParseError> {
        let t = self.peek().clone();
        match t.ident().and_then(TypeName::parse) {
            Some(ty) => {
                self.bump();
                Ok(ty)
            }
            None => self.expected("a type (string, long, int, real, bool, datetime, timespan, dynamic)"),
        }
    }

    /// The operator's name, joining hyphenated names (`project-away`, `mv-expand`).
    fn operator_name(&mut self) -> Result<(String, Span), ParseError> {
        let t = self.peek().clone();
        let Some(first) = t.ident() else {
            return self.expected("a query operator after `|`");
        };
        let mut name = first.to_string();
        self.bump();
        while self.peek().is_sym("-") && self.adjacent(0) && matches!(self.peek_at(1).tok, Tok::Ident(_)) && self.adjacent(1) {
            self.bump();
            name.push('-');
            name.push_str(self.bump().ident().unwrap_or_default());
        }
        Ok((name, (t.start, self.prev_end())))
    }

    fn operator(&mut self) -> Result<(Op, Span), ParseError> {
        let (name, span) = self.operator_name()?;
        let op = match name.as_str() {
            "where" | "filter" => Op::Where(self.expr()?),
            "project" => Op::Project(self.items(false)?),
            "extend" => Op::Extend(self.items(false)?),
            "project-away" => Op::ProjectAway(self.list(Self::name_pattern)?),
            "project-keep" => Op::ProjectKeep(self.list(Self::name_pattern)?),
            "project-reorder" => Op::ProjectReorder(self.list(Self::name_pattern)?),
            "project-rename" => Op::ProjectRename(self.list(|p| {
                let new = p.name("a new column name")?;
                p.expect_sym("=")?;
                let old = p.name("the column to rename")?;
                Ok((new, old))
            })?),
            "summarize" => {
                self.skip_hints()?;
                let aggs = if self.peek().is_ident("by") { Vec::new() } else { self.items(true)? };
                let by = if self.eat_ident("by") { self.items(false)? } else { Vec::new() };
                if aggs.is_empty() && by.is_empty() {
                    return self.expected("an aggregation or `by`");
                }
                Op::Summarize { aggs, by }
            }
            "count" => Op::Count,
            "sort" | "order" => {
                self.expect_ident("by")?;
                Op::Sort(self.list(Self::sort_key)?)
            }
            "top" => {
                let n = self.expr()?;
                self.expect_ident("by")?;
                Op::Top { n, key: self.sort_key()? }
            }
            "take" | "limit" => Op::Take(self.expr()?),
            "distinct" => {
                if self.eat_sym("*") {
                    Op::Distinct(Vec::new())
                } else {
                    Op::Distinct(self.items(false)?)
                }
            }
            "join" => self.join()?,
            "union" => Op::Union(self.union_spec()?),
            "parse" | "parse-where" => self.parse_op(name == "parse")?,
            "mv-expand" => self.mv_expand()?,
            "render" => {
                let start = self.peek().start;
                if self.peek().ident().is_none() {
                    return self.expected("a chart type after `render` (table, timechart, barchart ...)");
                }
                while !self.peek().is_sym("|") && !self.peek().is_sym(";") && !matches!(self.peek().tok, Tok::End) {
                    self.bump();
                }
                if self.peek().is_sym("|") {
                    return self.err(self.peek().start, "render must be the last operator");
                }
                Op::Render(self.text[start..self.prev_end().max(start)].trim().to_string())
            }
            other => {
                if UNSUPPORTED_OPERATORS.contains(&other) {
                    return self.err(span.0, format!("unsupported operator `{other}`"));
                }
                let hint = KNOWN_OPERATORS
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(other) || edit_distance(k, other) <= 1)
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .unwrap_or_default();
                return self.err(span.0, format!("unsupported operator `{other}`{hint}"));
            }
        };
        Ok((op, span))
    }

    pub(super) fn list<T>(&mut self, mut f: impl FnMut(&mut Self) -> Result<T, ParseError>) -> Result<Vec<T>, ParseError> {
        let mut v = vec![f(self)?];
        while self.eat_sym(",") {
            v.push(f(self)?);
        }
        Ok(v)
    }

    /// `hint.name = value` parameters, accepted and ignored.
    fn skip_hints(&mut self) -> Result<(), ParseError> {
        while self.peek().is_ident("hint") && self.peek_at(1).is_sym(".") {
            self.bump();
            self.bump();
            self.name("a hint name")?;
            self.expect_sym("=")?;
            self.bump();
        }
        Ok(())
    }

    /// `name = value` operator parameters (`kind=inner`, `withsource=T`).
    fn params(&mut self, allowed: &[&str]) -> Result<Vec<(String, String, usize)>, ParseError> {
        let mut out = Vec::new();
        loop {
            self.skip_hints()?;
            let t = self.peek().clone();
            match t.ident() {
                Some(n) if allowed.contains(&n) && self.peek_at(1).is_sym("=") => {
                    self.bump();
                    self.bump();
                    let v = self.bump();
                    let value = match &v.tok {
                        Tok::Ident(s) | Tok::Str(s) => s.clone(),
                        _ => return self.err(v.start, format!("expected a value for `{n}`")),
                    };
                    out.push((n.to_string(), value, v.start));
                }
                _ => return Ok(out),
            }
        }
    }

    fn items(&mut self, stop_at_by: bool) -> Result<Vec<Item>, ParseError> {
        let mut items = Vec::new();
        loop {
            if self.peek().is_sym("(") && matches!(self.peek_at(1).tok, Tok::Ident(_)) && self.peek_at(2).is_sym(",") {
                return self.err(self.peek().start, "assigning several names at once (`(a, b) = ...`) is not supported");
            }
            let named = matches!(self.peek().tok, Tok::Ident(_)) && self.peek_at(1).is_sym("=")
                || self.peek().is_sym("[")
                    && matches!(self.peek_at(1).tok, Tok::Str(_))
                    && self.peek_at(2).is_sym("]")
                    && self.peek_at(3).is_sym("=");
            let name = if named {
                let n = self.name("a column name")?;
                self.expect_sym("=")?;
                Some(n)
            } else {
                None
            };
            items.push(Item { name, expr: self.expr()? });
            if !self.eat_sym(",") || stop_at_by && self.peek().is_ident("by") {
                return Ok(items);
            }
        }
    }

    fn sort_key(&mut self) -> Result<SortKey, ParseError> {
        let expr = self.expr()?;
        let mut asc = false;
        if self.eat_ident("asc") {
            asc = true;
        } else {
            self.eat_ident("desc");
        }
        let mut nulls_first = None;
        if self.eat_ident("nulls") {
            if self.eat_ident("first") {
                nulls_first = Some(true);
            } else {
                self.expect_ident("last")?;
                nulls_first = Some(false);
            }
        }
        Ok(SortKey { expr, asc, nulls_first })
    }

    fn join(&mut self) -> Result<Op, ParseError> {
        let params = self.params(&["kind"])?;
        let mut kind = JoinKind::InnerUnique;
        for (_, v, at) in params {
            kind = match JoinKind::parse(&v) {
                Some(k) => k,
                None => return self.err(at, format!("unsupported join kind `{v}`")),
            };
        }
        let rs = self.peek().start;
        let right = if self.eat_sym("(") {
            let p = self.pipeline()?;
            self.expect_sym(")")?;
            p
        } else {
            let (n, span) = self.name("the right side of the join: a table name or `(query)`")?;
            Pipeline { source: Source::Name(n, span), ops: Vec::new() }
        };
        let right_span = (rs, self.prev_end());
        if !self.eat_ident("on") {
            if self.peek().is_ident("where") {
                return self.err(self.peek().start, "join ... where (non-equality conditions) is not supported");
            }
            return self.expected("`on` and the join columns");
        }
        let mut on = Vec::new();
        loop {
            on.push(self.join_key()?);
            if !(self.eat_sym(",") || self.eat_ident("and")) {
                break;
            }
        }
        Ok(Op::Join { kind, right: Box::new(right), right_span, on })
    }

    fn join_key(&mut self) -> Result<JoinKey, ParseError> {
        let t = self.peek().clone();
        if t.is_ident("$left") || t.is_ident("$right") {
            let a = self.side_column()?;
            let op = self.peek().clone();
            if !op.is_sym("==") {
                return self.err(op.start, "expected `==`: only equality joins are supported");
            }
            self.bump();
            let b = self.side_column()?;
            return match (a, b) {
                ((true, l), (false, r)) | ((false, r), (true, l)) => Ok(JoinKey::Pair { left: l, right: r }),
                _ => self.err(t.start, "a join condition must compare a `$left` column with a `$right` column"),
            };
        }
        let (n, span) = self.name("a join column")?;
        if self.peek().is_sym("==") {
            return self.err(self.peek().start, "write join conditions as `$left.Column == $right.Column`");
        }
        Ok(JoinKey::Same(n, span))
    }

    /// `$left.Name` or `$right.Name`: (is_left, name).
    fn side_column(&mut self) -> Result<(bool, (String, Span)), ParseError> {
        let t = self.bump();
        let left = match t.ident() {
            Some("$left") => true,
            Some("$right") => false,
            _ => return self.err(t.start, "expected `$left.Column` or `$right.Column`"),
        };
        self.expect_sym(".")?;
        Ok((left, self.name("a column name")?))
    }

    fn union_spec(&mut self) -> Result<UnionSpec, ParseError> {
        let mut spec = UnionSpec { inner: false, withsource: None, args: Vec::new() };
        for (k, v, at) in self.params(&["kind", "withsource", "isfuzzy"])? {
            match (k.as_str(), v.as_str()) {
                ("kind", "inner") => spec.inner = true,
                ("kind", "outer") => spec.inner = false,
                ("kind", _) => return self.err(at, format!("unsupported union kind `{v}`")),
                ("withsource", _) => spec.withsource = Some(v),
                _ => {}
            }
        }
        loop {
            let start = self.peek().start;
            if self.eat_sym("(") {
                let p = self.pipeline()?;
                self.expect_sym(")")?;
                spec.args.push(UnionArg::Query(p, (start, self.prev_end())));
            } else {
                let (n, span) = self.name_pattern()?;
                spec.args.push(UnionArg::Pattern(n, span));
            }
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(spec)
    }

    fn parse_op(&mut self, keep_failed: bool) -> Result<Op, ParseError> {
        let mut kind = ParseKind::Simple;
        let mut flags = String::new();
        for (k, v, at) in self.params(&["kind", "flags"])? {
            if k == "flags" {
                flags = v;
                continue;
            }
            kind = match v.as_str() {
                "simple" => ParseKind::Simple,
                "regex" => ParseKind::Regex,
                "relaxed" => ParseKind::Relaxed,
                _ => return self.err(at, format!("unsupported parse kind `{v}`")),
            };
        }
        let expr = self.expr()?;
        self.expect_ident("with")?;
        let mut parts = Vec::new();
        loop {
            let t = self.peek().clone();
            match &t.tok {
                Tok::Sym("*") => {
                    self.bump();
                    parts.push(ParsePart::Star);
                }
                Tok::Str(s) => {
                    self.bump();
                    parts.push(ParsePart::Lit(s.clone()));
                }
                Tok::Ident(_) => {
                    let (n, span) = self.name("a column name")?;
                    let ty = if self.eat_sym(":") { self.type_name()? } else { TypeName::String };
                    parts.push(ParsePart::Col(n, span, ty));
                }
                Tok::Sym(",") => {
                    self.bump();
                }
                _ => break,
            }
        }
        if !parts.iter().any(|p| matches!(p, ParsePart::Col(..))) {
            return self.expected("a column to extract after `with`");
        }
        Ok(Op::Parse { kind, flags, expr, parts, keep_failed })
    }

    fn mv_expand(&mut self) -> Result<Op, ParseError> {
        let mut bag_as_array = false;
        let mut index = None;
        for (k, v, at) in self.params(&["kind", "bagexpansion", "with_itemindex"])? {
            match (k.as_str(), v.as_str()) {
                ("with_itemindex", _) => index = Some(v),
                (_, "bag") => bag_as_array = false,
                (_, "array") => bag_as_array = true,
                _ => return self.err(at, format!("unsupported mv-expand kind `{v}`")),
            }
        }
        let mut items = Vec::new();
        loop {
            let name = if matches!(self.peek().tok, Tok::Ident(_)) && self.peek_at(1).is_sym("=") {
                let n = self.name("a column name")?;
                self.bump();
                Some(n)
            } else {
                None
            };
            let expr = self.expr()?;
            let to = if self.eat_ident("to") {
                self.expect_ident("typeof")?;
                self.expect_sym("(")?;
                let ty = self.type_name()?;
                self.expect_sym(")")?;
                Some(ty)
            } else {
                None
            };
            items.push(MvItem { name, expr, to });
            if !self.eat_sym(",") {
                break;
            }
        }
        let limit = if self.eat_ident("limit") {
            let t = self.bump();
            match t.tok {
                Tok::Long(n) if n >= 0 => Some(n),
                _ => return self.err(t.start, "expected a row limit (a non-negative whole number)"),
            }
        } else {
            None
        };
        Ok(Op::MvExpand { bag_as_array, index, items, limit })
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = if ca == b[j] { prev } else { 1 + prev.min(row[j]).min(row[j + 1]) };
            prev = cur;
        }
    }
    row[b.len()]
}
