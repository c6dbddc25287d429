//! Expressions, by precedence climbing: `or` < `and` < comparisons and string operators <
//! `+ -` < `* / %` < unary minus < postfix (`.name`, `[index]`) < primaries and calls.

use super::ast::*;
use super::lexer::Tok;
use super::parser::{MAX_OPERANDS, Parser};
use crate::error::ParseError;

fn str_op(name: &str) -> Option<(StrOp, bool)> {
    let (base, cs) = match name.strip_suffix("_cs") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let op = match base {
        "contains" => StrOp::Contains,
        "startswith" => StrOp::StartsWith,
        "endswith" => StrOp::EndsWith,
        "has" => StrOp::Has,
        "hasprefix" => StrOp::HasPrefix,
        "hassuffix" => StrOp::HasSuffix,
        _ => return None,
    };
    Some((op, cs))
}

/// Comparison-level operators, recognised by looking ahead.
enum CmpOp {
    Bin(BinOp),
    In { negated: bool, ci: bool },
    Between { negated: bool },
    HasAny { all: bool },
}

impl Parser<'_> {
    pub fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let e = self.binary(0)?;
        self.depth -= 1;
        Ok(e)
    }

    fn binary(&mut self, level: u8) -> Result<Expr, ParseError> {
        match level {
            0 | 1 => {
                // `and` / `or` chains (long IOC lists) become balanced trees, so that their depth
                // grows with the logarithm of their length.
                let word = if level == 0 { "or" } else { "and" };
                let op = if level == 0 { BinOp::Or } else { BinOp::And };
                let mut operands = vec![self.binary(level + 1)?];
                while self.eat_ident(word) {
                    if operands.len() >= MAX_OPERANDS {
                        return self.err(self.prev_end(), format!("too many `{word}` operands (at most {MAX_OPERANDS})"));
                    }
                    operands.push(self.binary(level + 1)?);
                }
                Ok(balance(op, operands))
            }
            2 => {
                let mut lhs = self.binary(3)?;
                let mut chained = 0;
                while let Some((op, n)) = self.cmp_op() {
                    self.enter()?;
                    chained += 1;
                    self.pos += n;
                    lhs = self.comparison(op, lhs)?;
                }
                self.depth -= chained;
                Ok(lhs)
            }
            3 | 4 => {
                // Other chains nest to the left: each link counts towards the depth limit.
                let mut lhs = self.binary(level + 1)?;
                let mut chained = 0;
                loop {
                    let t = self.peek();
                    let op = match &t.tok {
                        Tok::Sym("+") if level == 3 => BinOp::Add,
                        Tok::Sym("-") if level == 3 => BinOp::Sub,
                        Tok::Sym("*") if level == 4 => BinOp::Mul,
                        Tok::Sym("/") if level == 4 => BinOp::Div,
                        Tok::Sym("%") if level == 4 => BinOp::Mod,
                        _ => {
                            self.depth -= chained;
                            return Ok(lhs);
                        }
                    };
                    self.enter()?;
                    chained += 1;
                    self.bump();
                    let rhs = self.binary(level + 1)?;
                    lhs = join(op, lhs, rhs);
                }
            }
            _ => self.unary(),
        }
    }

    fn cmp_op(&self) -> Option<(CmpOp, usize)> {
        let t = self.peek();
        let sym = |s: &str| t.is_sym(s);
        let bin = |op| Some((CmpOp::Bin(op), 1));
        if sym("==") {
            return bin(BinOp::Eq);
        }
        if sym("!=") || sym("<>") {
            return bin(BinOp::Ne);
        }
        if sym("<") {
            return bin(BinOp::Lt);
        }
        if sym("<=") {
            return bin(BinOp::Le);
        }
        if sym(">") {
            return bin(BinOp::Gt);
        }
        if sym(">=") {
            return bin(BinOp::Ge);
        }
        if sym("=~") {
            return bin(BinOp::EqCi);
        }
        if sym("!~") {
            return bin(BinOp::NeCi);
        }
        let (negated, word_at) = if sym("!") && self.adjacent(1) { (true, 1) } else { (false, 0) };
        let word = self.peek_at(word_at).ident()?;
        let tilde = self.peek_at(word_at + 1).is_sym("~") && self.adjacent(word_at + 1);
        match word {
            "in" => Some((CmpOp::In { negated, ci: tilde }, word_at + 1 + tilde as usize)),
            "between" => Some((CmpOp::Between { negated }, word_at + 1)),
            "has_any" if !negated => Some((CmpOp::HasAny { all: false }, 1)),
            "has_all" if !negated => Some((CmpOp::HasAny { all: true }, 1)),
            "matches" if !negated && self.peek_at(1).is_ident("regex") => Some((CmpOp::Bin(BinOp::Regex), 2)),
            w => str_op(w).map(|(op, cs)| (CmpOp::Bin(BinOp::Str { op, cs, negated }), word_at + 1)),
        }
    }

    fn comparison(&mut self, op: CmpOp, lhs: Expr) -> Result<Expr, ParseError> {
        let start = lhs.span.0;
        match op {
            CmpOp::Bin(op) => {
                let rhs = self.binary(3)?;
                Ok(join(op, lhs, rhs))
            }
            CmpOp::Between { negated } => {
                self.expect_sym("(")?;
                let lo = self.binary(3)?;
                self.expect_sym("..")?;
                let hi = self.binary(3)?;
                self.expect_sym(")")?;
                let kind = ExprKind::Between { lhs: Box::new(lhs), lo: Box::new(lo), hi: Box::new(hi), negated };
                Ok(Expr::new(kind, (start, self.prev_end())))
            }
            CmpOp::In { negated, ci } => {
                if !self.peek().is_sym("(") {
                    let rhs = self.binary(3)?;
                    let kind = ExprKind::In { lhs: Box::new(lhs), items: vec![rhs], negated, ci };
                    return Ok(Expr::new(kind, (start, self.prev_end())));
                }
                self.bump();
                let save = (self.pos, self.depth);
                let first = self.expr();
                if first.is_err() || self.peek().is_sym("|") {
                    (self.pos, self.depth) = save;
                    let q = self.pipeline()?;
                    self.expect_sym(")")?;
                    let kind = ExprKind::InQuery { lhs: Box::new(lhs), query: Box::new(q), negated, ci };
                    return Ok(Expr::new(kind, (start, self.prev_end())));
                }
                let mut items = vec![first?];
                while self.eat_sym(",") {
                    items.push(self.expr()?);
                }
                self.expect_sym(")")?;
                Ok(Expr::new(ExprKind::In { lhs: Box::new(lhs), items, negated, ci }, (start, self.prev_end())))
            }
            CmpOp::HasAny { all } => {
                let items = if self.eat_sym("(") {
                    let items = if self.peek().is_sym(")") { Vec::new() } else { self.list(Self::expr)? };
                    self.expect_sym(")")?;
                    items
                } else {
                    vec![self.binary(3)?]
                };
                Ok(Expr::new(ExprKind::HasAny { lhs: Box::new(lhs), items, all }, (start, self.prev_end())))
            }
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        let t = self.peek().clone();
        if t.is_sym("-") || t.is_sym("+") {
            self.bump();
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            let span = (t.start, inner.span.1);
            if t.is_sym("+") {
                return Ok(inner);
            }
            return Ok(match inner.kind {
                ExprKind::Long(v) => Expr::new(ExprKind::Long(v.wrapping_neg()), span),
                ExprKind::Real(v) => Expr::new(ExprKind::Real(-v), span),
                ExprKind::TimeSpan(v) => Expr::new(ExprKind::TimeSpan(-v), span),
                _ => Expr::new(ExprKind::Neg(Box::new(inner)), span),
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.primary()?;
        let mut chained = 0;
        loop {
            if self.peek().is_sym(".") || self.peek().is_sym("[") {
                self.enter()?;
                chained += 1;
            }
            if self.peek().is_sym(".") && !self.peek_at(1).is_sym("[") {
                self.bump();
                let (field, span) = self.name("a property name after `.`")?;
                let start = e.span.0;
                e = Expr::new(ExprKind::Member(Box::new(e), field), (start, span.1));
            } else if self.peek().is_sym("[") || self.peek().is_sym(".") && self.peek_at(1).is_sym("[") {
                self.eat_sym(".");
                self.bump();
                let idx = self.expr()?;
                self.expect_sym("]")?;
                let span = (e.span.0, self.prev_end());
                e = Expr::new(ExprKind::Index(Box::new(e), Box::new(idx)), span);
            } else {
                self.depth -= chained;
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let t = self.peek().clone();
        let span = (t.start, t.end);
        let lit = |k| Ok(Expr::new(k, span));
        match &t.tok {
            Tok::Str(s) => {
                self.bump();
                // Adjacent string literals concatenate.
                let mut s = s.clone();
                let mut end = t.end;
                while let Tok::Str(more) = &self.peek().tok {
                    s.push_str(more);
                    end = self.bump().end;
                }
                Ok(Expr::new(ExprKind::Str(s), (t.start, end)))
            }
            Tok::Long(v) => {
                self.bump();
                lit(ExprKind::Long(*v))
            }
            Tok::Real(v) => {
                self.bump();
                lit(ExprKind::Real(*v))
            }
            Tok::Span(v) => {
                self.bump();
                lit(ExprKind::TimeSpan(*v))
            }
            Tok::Sym("(") => {
                self.bump();
                let mut e = self.expr()?;
                self.expect_sym(")")?;
                e.span = (t.start, self.prev_end());
                Ok(e)
            }
            Tok::Sym("[") => {
                let (n, span) = self.name("an expression")?;
                Ok(Expr::new(ExprKind::Name(n), span))
            }
            Tok::Ident(name) => {
                let name = name.clone();
                self.bump();
                if name == "true" || name == "false" {
                    return lit(ExprKind::Bool(name == "true"));
                }
                if !self.peek().is_sym("(") {
                    return lit(ExprKind::Name(name));
                }
                if let Some(e) = super::literal::special_literal(self.text, &self.tokens, &mut self.pos, &name, t.start)? {
                    return Ok(e);
                }
                self.bump();
                let mut args = Vec::new();
                if !self.peek().is_sym(")") {
                    loop {
                        if self.peek().is_sym("*") && (self.peek_at(1).is_sym(",") || self.peek_at(1).is_sym(")")) {
                            let s = self.bump();
                            args.push(Expr::new(ExprKind::Star, (s.start, s.end)));
                        } else {
                            args.push(self.expr()?);
                        }
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                }
                self.expect_sym(")")?;
                Ok(Expr::new(ExprKind::Call { name, args }, (t.start, self.prev_end())))
            }
            _ => self.expected("an expression"),
        }
    }
}

fn balance(op: BinOp, mut v: Vec<Expr>) -> Expr {
    while v.len() > 1 {
        let mut next = Vec::with_capacity(v.len().div_ceil(2));
        let mut it = v.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => join(op, a, b),
                None => a,
            });
        }
        v = next;
    }
    v.pop().expect("at least one operand")
}

fn join(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = (lhs.span.0, rhs.span.1);
    Expr::new(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span)
}
