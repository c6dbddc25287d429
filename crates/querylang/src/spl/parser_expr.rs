//! The two expression grammars: search expressions (Splunk's precedence: NOT, then OR, then the
//! implicit or explicit AND) and eval expressions (OR < XOR < AND < NOT < comparison < `+ - .` <
//! `* / %` < unary minus).

use super::ast::*;
use super::lexer::{Mode, Tok};
use super::parser::{Parser, is_word};
use crate::error::ParseError;

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 100;

/// Folds a chain (`a OR b OR c ...`) into a balanced tree, so that long chains do not make
/// planning recurse once per element.
fn balance<T>(mut items: Vec<T>, join: &impl Fn(T, T) -> T) -> Option<T> {
    if items.len() <= 1 {
        return items.pop();
    }
    let right = items.split_off(items.len() / 2);
    Some(join(balance(items, join)?, balance(right, join)?))
}

impl Parser<'_> {
    /// A search expression up to `|`, `)` or the end; `None` when there is nothing.
    pub fn search_opt(&mut self) -> Result<Option<Search>, ParseError> {
        self.search_seq(0)
    }

    #[recursive::recursive]
    fn search_seq(&mut self, depth: usize) -> Result<Option<Search>, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err(self.lex.pos(), "search is nested too deeply"));
        }
        let mut items: Vec<Search> = Vec::new();
        loop {
            let t = self.peek(Mode::Search)?;
            match &t.tok {
                Tok::Pipe | Tok::Eof | Tok::RParen => return Ok(balance(items, &|a, b| Search::And(Box::new(a), Box::new(b)))),
                Tok::Word(w) if w == "AND" => {
                    self.next(Mode::Search)?;
                    if items.is_empty() || matches!(self.peek(Mode::Search)?.tok, Tok::Pipe | Tok::Eof | Tok::RParen) {
                        return Err(self.err(t.span.start, "AND needs a search term on each side"));
                    }
                    continue;
                }
                _ => {}
            }
            items.push(self.search_or(depth)?);
        }
    }

    fn search_or(&mut self, depth: usize) -> Result<Search, ParseError> {
        let mut items = vec![self.search_not(depth)?];
        loop {
            let t = self.peek(Mode::Search)?;
            if !matches!(&t.tok, Tok::Word(w) if w == "OR") {
                return balance(items, &|a, b| Search::Or(Box::new(a), Box::new(b))).ok_or_else(|| self.err(t.span.start, "empty search"));
            }
            self.next(Mode::Search)?;
            items.push(self.search_not(depth)?);
        }
    }

    #[recursive::recursive]
    fn search_not(&mut self, depth: usize) -> Result<Search, ParseError> {
        let t = self.peek(Mode::Search)?;
        if matches!(&t.tok, Tok::Word(w) if w == "NOT") {
            self.next(Mode::Search)?;
            if depth > MAX_DEPTH {
                return Err(self.err(t.span.start, "search is nested too deeply"));
            }
            return Ok(Search::Not(Box::new(self.search_not(depth + 1)?)));
        }
        self.search_primary(depth)
    }

    fn search_primary(&mut self, depth: usize) -> Result<Search, ParseError> {
        let t = self.next(Mode::Search)?;
        let (text, quoted) = match t.tok {
            Tok::LParen => {
                let inner = self.search_seq(depth + 1)?;
                let close = self.next(Mode::Search)?;
                if close.tok != Tok::RParen {
                    return Err(self.err(t.span.start, "this `(` is never closed"));
                }
                return inner.ok_or_else(|| self.err(t.span.start, "empty parentheses in search"));
            }
            Tok::LBracket => return Err(self.err(t.span.start, "subsearches ([...]) are not supported")),
            Tok::Word(w) if w == "AND" || w == "OR" => {
                return Err(self.err(t.span.start, format!("{w} needs a search term before it")));
            }
            Tok::Word(w) => (w, false),
            Tok::Str(s) => (s, true),
            other => return Err(self.err(t.span.start, format!("expected a search term, found {}", other.describe()))),
        };
        if !quoted
            && (text.eq_ignore_ascii_case("TERM") || text.eq_ignore_ascii_case("CASE"))
            && self.lex.next_is_adjacent()
            && self.peek(Mode::Search)?.tok == Tok::LParen
        {
            return Err(self.err(t.span.start, format!("the {}() search directive is not supported", text.to_ascii_uppercase())));
        }
        let field = Name { text: text.clone(), span: t.span };
        let op = match self.peek(Mode::Search)?.tok {
            Tok::Eq | Tok::EqEq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            let op_tok = self.next(Mode::Search)?;
            let v = self.next(Mode::Search)?;
            let value = match v.tok {
                Tok::Word(w) => SearchValue { text: w, quoted: false, span: v.span },
                Tok::Str(s) => SearchValue { text: s, quoted: true, span: v.span },
                other => {
                    return Err(self.err(op_tok.span.end, format!("expected a value after {}, found {}", field.text, other.describe())));
                }
            };
            return Ok(Search::Cmp { field, op, value });
        }
        if !quoted && is_word(&self.peek(Mode::Search)?.tok, "IN") && self.lex.peek_nth(Mode::Search, 1)?.tok == Tok::LParen {
            self.next(Mode::Search)?;
            let open = self.next(Mode::Search)?;
            let mut values = Vec::new();
            loop {
                let v = self.next(Mode::Search)?;
                match v.tok {
                    Tok::RParen => break,
                    Tok::Comma => {}
                    Tok::Word(w) => values.push(SearchValue { text: w, quoted: false, span: v.span }),
                    Tok::Str(s) => values.push(SearchValue { text: s, quoted: true, span: v.span }),
                    Tok::Eof | Tok::Pipe => return Err(self.err(open.span.start, "this `(` is never closed")),
                    other => return Err(self.err(v.span.start, format!("unexpected {} in IN (...)", other.describe()))),
                }
            }
            if values.is_empty() {
                return Err(self.err(open.span.start, "IN needs at least one value"));
            }
            return Ok(Search::In { field, values });
        }
        Ok(Search::Term(SearchValue { text, quoted, span: t.span }))
    }

    /// An eval expression.
    pub fn expr(&mut self) -> Result<Expr, ParseError> {
        self.expr_bin(0, 0)
    }

    fn binop_at(&self, level: usize) -> Result<Option<BinOp>, ParseError> {
        let t = self.peek(Mode::Expr)?;
        let word = |w: &str| is_word(&t.tok, w);
        Ok(match level {
            0 if word("OR") => Some(BinOp::Or),
            1 if word("XOR") => Some(BinOp::Xor),
            2 if word("AND") => Some(BinOp::And),
            4 => match t.tok {
                Tok::Eq | Tok::EqEq => Some(BinOp::Eq),
                Tok::Ne => Some(BinOp::Ne),
                Tok::Lt => Some(BinOp::Lt),
                Tok::Le => Some(BinOp::Le),
                Tok::Gt => Some(BinOp::Gt),
                Tok::Ge => Some(BinOp::Ge),
                _ if word("LIKE") => Some(BinOp::Like),
                _ => None,
            },
            5 => match t.tok {
                Tok::Plus => Some(BinOp::Add),
                Tok::Minus => Some(BinOp::Sub),
                Tok::Dot => Some(BinOp::Concat),
                _ => None,
            },
            6 => match t.tok {
                Tok::Star => Some(BinOp::Mul),
                Tok::Slash => Some(BinOp::Div),
                Tok::Percent => Some(BinOp::Mod),
                _ => None,
            },
            _ => None,
        })
    }

    /// Precedence climbing over levels 0 (OR) .. 6 (`* / %`); level 3 is NOT, 7 unary.
    #[recursive::recursive]
    fn expr_bin(&mut self, level: usize, depth: usize) -> Result<Expr, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err(self.lex.pos(), "expression is nested too deeply"));
        }
        if level == 3 {
            let t = self.peek(Mode::Expr)?;
            if is_word(&t.tok, "NOT") {
                self.next(Mode::Expr)?;
                let e = self.expr_bin(3, depth + 1)?;
                return Ok(Expr::Unary { op: UnOp::Not, expr: Box::new(e), span: t.span });
            }
            return self.expr_bin(4, depth);
        }
        if level == 7 {
            return self.expr_unary(depth);
        }
        let mut left = self.expr_bin(level + 1, depth)?;
        if level == 4 {
            // Comparisons do not chain; `x IN (...)` sits at this level too.
            let t = self.peek(Mode::Expr)?;
            if is_word(&t.tok, "IN") && self.lex.peek_nth(Mode::Expr, 1)?.tok == Tok::LParen {
                self.next(Mode::Expr)?;
                self.next(Mode::Expr)?;
                let list = self.call_args(depth)?;
                if list.is_empty() {
                    return Err(self.err(t.span.start, "IN needs at least one value"));
                }
                return Ok(Expr::In { expr: Box::new(left), list, span: t.span });
            }
            if let Some(op) = self.binop_at(4)? {
                let t = self.next(Mode::Expr)?;
                let right = self.expr_bin(5, depth + 1)?;
                return Ok(Expr::Binary { op, left: Box::new(left), right: Box::new(right), span: t.span });
            }
            return Ok(left);
        }
        if level <= 2 {
            // OR / XOR / AND chains: balanced, as search chains are.
            let mut items = vec![left];
            let mut span = None;
            let op = [BinOp::Or, BinOp::Xor, BinOp::And][level];
            while self.binop_at(level)?.is_some() {
                span.get_or_insert(self.next(Mode::Expr)?.span);
                items.push(self.expr_bin(level + 1, depth + 1)?);
            }
            let span = span.unwrap_or_default();
            let join = |a: Expr, b: Expr| Expr::Binary { op, left: Box::new(a), right: Box::new(b), span };
            return balance(items, &join).ok_or_else(|| self.err(self.lex.pos(), "empty expression"));
        }
        // Arithmetic chains nest to the left: each operand counts towards the depth limit.
        let mut depth = depth;
        while let Some(op) = self.binop_at(level)? {
            let t = self.next(Mode::Expr)?;
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(self.err(t.span.start, "expression is nested too deeply"));
            }
            let right = self.expr_bin(level + 1, depth)?;
            left = Expr::Binary { op, left: Box::new(left), right: Box::new(right), span: t.span };
        }
        Ok(left)
    }

    #[recursive::recursive]
    fn expr_unary(&mut self, depth: usize) -> Result<Expr, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err(self.lex.pos(), "expression is nested too deeply"));
        }
        let t = self.peek(Mode::Expr)?;
        match t.tok {
            Tok::Minus => {
                self.next(Mode::Expr)?;
                let e = self.expr_unary(depth + 1)?;
                Ok(match e {
                    Expr::Int(n, s) if n != i64::MIN => Expr::Int(-n, t.span.to(s)),
                    Expr::Float(f, s) => Expr::Float(-f, t.span.to(s)),
                    e => Expr::Unary { op: UnOp::Neg, expr: Box::new(e), span: t.span },
                })
            }
            Tok::Plus => {
                self.next(Mode::Expr)?;
                self.expr_unary(depth + 1)
            }
            _ => self.expr_primary(depth),
        }
    }

    fn expr_primary(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let t = self.next(Mode::Expr)?;
        match t.tok {
            Tok::Num(n) => {
                if let Ok(i) = n.parse::<i64>() {
                    return Ok(Expr::Int(i, t.span));
                }
                n.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| Expr::Float(f, t.span))
                    .ok_or_else(|| self.err(t.span.start, format!("`{n}` is not a number taskhunt can use")))
            }
            Tok::Str(s) => Ok(Expr::Str(s, t.span)),
            Tok::Field(f) => Ok(Expr::Field(Name { text: f, span: t.span })),
            Tok::Word(w) => {
                if self.peek(Mode::Expr)?.tok == Tok::LParen {
                    self.next(Mode::Expr)?;
                    let args = self.call_args(depth)?;
                    return Ok(Expr::Call { name: w, args, span: t.span });
                }
                Ok(Expr::Field(Name { text: w, span: t.span }))
            }
            Tok::LParen => {
                let e = self.expr_bin(0, depth + 1)?;
                let close = self.next(Mode::Expr)?;
                if close.tok != Tok::RParen {
                    return Err(self.err(close.span.start, format!("expected `)`, found {}", close.tok.describe())));
                }
                Ok(e)
            }
            other => Err(self.err(t.span.start, format!("expected a value, field or function, found {}", other.describe()))),
        }
    }

    /// Arguments after `(` up to the matching `)`.
    fn call_args(&mut self, depth: usize) -> Result<Vec<Expr>, ParseError> {
        let mut args = Vec::new();
        if self.peek(Mode::Expr)?.tok == Tok::RParen {
            self.next(Mode::Expr)?;
            return Ok(args);
        }
        loop {
            args.push(self.expr_bin(0, depth + 1)?);
            let t = self.next(Mode::Expr)?;
            match t.tok {
                Tok::Comma => {}
                Tok::RParen => return Ok(args),
                other => return Err(self.err(t.span.start, format!("expected `,` or `)`, found {}", other.describe()))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse;
    use super::*;

    fn first_search(q: &str) -> Search {
        match parse(q).unwrap().remove(0).command {
            Command::Search(Some(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn or_binds_tighter_than_and() {
        // Splunk: `a OR b c` is `(a OR b) AND c`.
        let s = first_search("a OR b c");
        let Search::And(l, r) = s else { panic!() };
        assert!(matches!(*l, Search::Or(..)));
        assert!(matches!(*r, Search::Term(ref v) if v.text == "c"));
        let s = first_search("NOT x=1 OR y IN (a, \"b c\")");
        let Search::Or(l, r) = s else { panic!() };
        assert!(matches!(*l, Search::Not(_)));
        assert!(matches!(*r, Search::In { ref values, .. } if values.len() == 2));
    }

    #[test]
    fn eval_precedence() {
        let s = parse("x | where a=1 OR b>2 AND NOT c LIKE \"x%\"").unwrap();
        let Command::Where(Expr::Binary { op: BinOp::Or, right, .. }) = &s[1].command else { panic!("{:?}", s[1]) };
        assert!(matches!(**right, Expr::Binary { op: BinOp::And, .. }));
        let s = parse("x | eval y=1+2*-3, z=\"a\".b").unwrap();
        let Command::Eval(a) = &s[1].command else { panic!() };
        assert!(matches!(&a[0].1, Expr::Binary { op: BinOp::Add, right, .. } if matches!(**right, Expr::Binary { op: BinOp::Mul, .. })));
        assert!(matches!(&a[1].1, Expr::Binary { op: BinOp::Concat, .. }));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let q = format!("x | where {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&q).is_err());
        let q = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&q).is_err());
        let q = format!("x | where {}1", "NOT ".repeat(5000));
        assert!(parse(&q).is_err());
        let q = format!("x | eval a={}1", "-".repeat(5000));
        assert!(parse(&q).is_err());
        let q = format!("x | eval a=1{}", "+1".repeat(5000));
        assert!(parse(&q).is_err());
        // Long OR chains are fine: they are balanced.
        let q = format!("x | where a=0{}", " OR a=1".repeat(5000));
        assert!(parse(&q).is_ok());
        let q = format!("a{}", " OR a".repeat(5000));
        assert!(parse(&q).is_ok());
    }
}
