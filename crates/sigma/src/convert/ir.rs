//! A rule's detection as one boolean expression over field tests, in the values' original case:
//! the form every target language is rendered from.
//!
//! The tests come from the same compiler the matcher uses (`modifiers::compile`), so windash,
//! base64/base64offset, wide/utf16 and expand produce exactly the variants the matcher tries.
//! The compiler lowercases case-insensitive needles; to keep the rule's own spelling in the
//! output, each value is compiled a second time with `cased` added, and the case-sensitivity is
//! taken from the first compilation.

use super::Unsupported;
use crate::condition::Cond;
use crate::detection::{FieldTest, Selection};
use crate::modifiers::{self, Modifier, NumOp, Placeholders, RefKind, ValueTest};
use crate::pattern::{Piece, StrMatch};
use crate::rule::Rule;

/// A boolean expression over field tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Bool {
    Const(bool),
    Leaf(Leaf),
    Not(Box<Bool>),
    And(Vec<Bool>),
    Or(Vec<Bool>),
}

/// One test of one field (`None`: a keyword, searched in every field).
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    pub field: Option<String>,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Wildcard match of the whole value; `fold`: case-insensitive.
    Str {
        pieces: Vec<Piece>,
        fold: bool,
    },
    /// Unanchored regular expression, inline flags (`(?i)` ...) already in the pattern.
    Regex {
        pattern: String,
        backtracking: bool,
    },
    Cidr(ipnet::IpNet),
    Num {
        op: NumOp,
        value: f64,
    },
    /// One of these integers (event id filters of a logsource).
    IntIn(Vec<i64>),
    /// Absent or null.
    Null,
    Exists(bool),
    FieldRef {
        other: String,
        kind: RefKind,
        fold: bool,
    },
    /// `neq`: present and not matching.
    Neq(Box<Test>),
}

impl Bool {
    pub fn leaf(field: Option<&str>, test: Test) -> Bool {
        Bool::Leaf(Leaf { field: field.map(String::from), test })
    }

    /// Flattens nested and/or and folds constants.
    pub fn simplify(self) -> Bool {
        match self {
            Bool::Not(inner) => match inner.simplify() {
                Bool::Const(b) => Bool::Const(!b),
                Bool::Not(x) => *x,
                other => Bool::Not(Box::new(other)),
            },
            Bool::And(items) => combine(items, true),
            Bool::Or(items) => combine(items, false),
            other => other,
        }
    }

    /// Every leaf, for pipelines that need to know which fields a rule uses.
    pub fn leaves(&self, out: &mut Vec<Leaf>) {
        match self {
            Bool::Leaf(l) => out.push(l.clone()),
            Bool::Not(x) => x.leaves(out),
            Bool::And(xs) | Bool::Or(xs) => xs.iter().for_each(|x| x.leaves(out)),
            Bool::Const(_) => {}
        }
    }
}

fn combine(items: Vec<Bool>, and: bool) -> Bool {
    let mut out = Vec::new();
    for item in items.into_iter().map(Bool::simplify) {
        match item {
            // The identity element drops out; the absorbing one decides.
            Bool::Const(b) if b == and => {}
            Bool::Const(b) => return Bool::Const(b),
            Bool::And(xs) if and => out.extend(xs),
            Bool::Or(xs) if !and => out.extend(xs),
            x => out.push(x),
        }
    }
    match out.len() {
        0 => Bool::Const(and),
        1 => out.pop().unwrap_or(Bool::Const(and)),
        _ if and => Bool::And(out),
        _ => Bool::Or(out),
    }
}

/// The rule's condition over its selections, as one expression.
pub fn rule_expr(rule: &Rule, placeholders: Option<&Placeholders>) -> Result<Bool, Unsupported> {
    if let Some(why) = &rule.inactive {
        return Err(Unsupported::new(format!("inactive: {why}")));
    }
    let sels = rule.selections.iter().map(|s| selection(s, placeholders)).collect::<Result<Vec<_>, _>>()?;
    Ok(cond(&rule.condition, &sels)?.simplify())
}

/// `N of` with N strictly between 1 and all becomes an OR of ANDs over the combinations; past
/// this many combinations the query would be unreadable, so the rule is refused.
const MAX_COMBINATIONS: usize = 64;

fn cond(c: &Cond, sels: &[Bool]) -> Result<Bool, Unsupported> {
    Ok(match c {
        Cond::Sel(i) => sels[*i].clone(),
        Cond::Not(x) => Bool::Not(Box::new(cond(x, sels)?)),
        Cond::And(xs) => Bool::And(xs.iter().map(|x| cond(x, sels)).collect::<Result<_, _>>()?),
        Cond::Or(xs) => Bool::Or(xs.iter().map(|x| cond(x, sels)).collect::<Result<_, _>>()?),
        Cond::AtLeast(n, ids) => {
            let items: Vec<Bool> = ids.iter().map(|i| sels[*i].clone()).collect();
            if *n <= 1 {
                Bool::Or(items)
            } else if *n >= items.len() {
                // `all of` over more identifiers than exist is false; over exactly them, AND.
                if *n > items.len() { Bool::Const(false) } else { Bool::And(items) }
            } else {
                let combos = combinations(items.len(), *n);
                if combos.len() > MAX_COMBINATIONS {
                    return Err(Unsupported::new(format!("`{n} of` {} selections is {} combinations", items.len(), combos.len())));
                }
                Bool::Or(combos.into_iter().map(|c| Bool::And(c.into_iter().map(|i| items[i].clone()).collect())).collect())
            }
        }
    })
}

fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    fn rec(start: usize, n: usize, k: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if out.len() > MAX_COMBINATIONS {
            return;
        }
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(i + 1, n, k, cur, out);
            cur.pop();
        }
    }
    rec(0, n, k, &mut cur, &mut out);
    out
}

fn selection(sel: &Selection, placeholders: Option<&Placeholders>) -> Result<Bool, Unsupported> {
    let maps = sel
        .maps
        .iter()
        .map(|tests| Ok(Bool::And(tests.iter().map(|t| field_test(t, placeholders)).collect::<Result<_, Unsupported>>()?)))
        .collect::<Result<Vec<_>, Unsupported>>()?;
    Ok(Bool::Or(maps))
}

fn field_test(t: &FieldTest, placeholders: Option<&Placeholders>) -> Result<Bool, Unsupported> {
    let has = |m: Modifier| t.modifiers.contains(&m);
    if [Modifier::Minute, Modifier::Hour, Modifier::Day, Modifier::Week, Modifier::Month, Modifier::Year].iter().any(|m| has(*m)) {
        return Err(Unsupported::new("time-part modifiers (minute, hour, day, ...) are not converted"));
    }
    // Same shape as `t.values`, literals in the rule's case.
    let mut mods = t.modifiers.clone();
    if !has(Modifier::Cased) {
        mods.push(Modifier::Cased);
    }
    let spelled = modifiers::compile(t.field.as_deref(), &mods, &t.raw_values, placeholders).map_err(Unsupported::new)?;
    let mut values = Vec::new();
    for (orig, spelled) in t.values.iter().zip(&spelled.values) {
        let variants = orig
            .iter()
            .zip(spelled)
            .map(|(o, s)| Ok(Bool::leaf(t.field.as_deref(), test(o, s)?)))
            .collect::<Result<Vec<_>, Unsupported>>()?;
        values.push(Bool::Or(variants));
    }
    Ok(if t.all { Bool::And(values) } else { Bool::Or(values) })
}

/// `orig` decides case-sensitivity, `spelled` gives the text.
fn test(orig: &ValueTest, spelled: &ValueTest) -> Result<Test, Unsupported> {
    Ok(match (orig, spelled) {
        (ValueTest::Str { fold, .. }, ValueTest::Str { m, .. }) => Test::Str { pieces: pieces(m), fold: *fold },
        (ValueTest::Regex(_), ValueTest::Regex(r)) => match r {
            modifiers::Regex::Fast(r) => Test::Regex { pattern: r.as_str().to_string(), backtracking: false },
            modifiers::Regex::Backtracking(r) => Test::Regex { pattern: r.as_str().to_string(), backtracking: true },
        },
        (ValueTest::Cidr(n), _) => Test::Cidr(*n),
        (ValueTest::Num { op, value }, _) => Test::Num { op: *op, value: *value },
        (ValueTest::Null, _) => Test::Null,
        (ValueTest::Exists(b), _) => Test::Exists(*b),
        (ValueTest::FieldRef { other, kind, fold }, _) => Test::FieldRef { other: other.clone(), kind: *kind, fold: *fold },
        (ValueTest::Not(o), ValueTest::Not(s)) => Test::Neq(Box::new(test(o, s)?)),
        (ValueTest::Time { .. }, _) => return Err(Unsupported::new("time-part modifiers are not converted")),
        _ => return Err(Unsupported::new("internal: the two compilations of a value disagree")),
    })
}

/// A compiled string matcher back to wildcard pieces.
pub fn pieces(m: &StrMatch) -> Vec<Piece> {
    let lit = |s: &str| if s.is_empty() { vec![] } else { vec![Piece::Lit(s.to_string())] };
    match m {
        StrMatch::Exact(s) => lit(s),
        StrMatch::Prefix(s) => [lit(s), vec![Piece::Star]].concat(),
        StrMatch::Suffix(s) => [vec![Piece::Star], lit(s)].concat(),
        StrMatch::Contains(n) => [vec![Piece::Star], lit(&n.text), vec![Piece::Star]].concat(),
        StrMatch::Any => vec![Piece::Star],
        StrMatch::Glob(p) => p.clone(),
    }
}

/// What a wildcard pattern is, for targets with dedicated operators.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape<'a> {
    Exact(&'a str),
    Prefix(&'a str),
    Suffix(&'a str),
    Contains(&'a str),
    /// `*`: any present value.
    Any,
    /// `?` or inner stars: needs a pattern language (LIKE, regex).
    Glob,
}

pub fn shape(pieces: &[Piece]) -> Shape<'_> {
    match pieces {
        [] => Shape::Exact(""),
        [Piece::Star] => Shape::Any,
        [Piece::Lit(s)] => Shape::Exact(s),
        [Piece::Lit(s), Piece::Star] => Shape::Prefix(s),
        [Piece::Star, Piece::Lit(s)] => Shape::Suffix(s),
        [Piece::Star, Piece::Lit(s), Piece::Star] => Shape::Contains(s),
        _ => Shape::Glob,
    }
}

/// The pattern as an anchored regular expression body (`^...$` added by the caller's flags).
pub fn glob_regex(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Star => out.push_str(".*"),
            Piece::One => out.push('.'),
            Piece::Lit(s) => out.push_str(&regex_escape(s)),
        }
    }
    out
}

/// The pattern as an unanchored regular expression with its flags: `^`/`$` only where the
/// pattern does not start/end with `*`, dot-all only when a wildcard is left inside (Sigma's
/// `*` and `?` cross newlines), `(?i)` for case-insensitive values.
pub fn pattern_regex(pieces: &[Piece], fold: bool) -> String {
    let start = usize::from(pieces.first() == Some(&Piece::Star));
    let end = pieces.len() - usize::from(pieces.len() > start && pieces.last() == Some(&Piece::Star));
    let inner = &pieces[start..end];
    let dot = inner.iter().any(|p| !matches!(p, Piece::Lit(_)));
    let flags = match (fold, dot) {
        (true, true) => "(?is)",
        (true, false) => "(?i)",
        (false, true) => "(?s)",
        (false, false) => "",
    };
    format!("{flags}{}{}{}", if start == 0 { "^" } else { "" }, glob_regex(inner), if end == pieces.len() { "$" } else { "" })
}

/// Escapes every regex metacharacter (RE2, PCRE and the `regex` crate agree on these).
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The text patterns matching the addresses of a CIDR range, and whether they are exact.
///
/// IPv4: the fixed octets, then every value the partly fixed octet can take (a /12 is 16
/// patterns), then `*`. IPv6 text has several spellings (zero compression, leading zeros), so
/// only the prefix of the first hextet (written in full, as every textual form writes a
/// hextet whose first hex digit is not zero) or the loopback address are converted, lossily.
pub fn cidr_patterns(net: &ipnet::IpNet) -> Result<(Vec<Vec<Piece>>, bool), Unsupported> {
    match net {
        ipnet::IpNet::V4(n) => {
            let octets = n.network().octets();
            let len = n.prefix_len() as usize;
            let full = len / 8;
            let rest = len % 8;
            let fixed: Vec<String> = octets[..full].iter().map(u8::to_string).collect();
            let mut out = Vec::new();
            if full == 4 {
                out.push(vec![Piece::Lit(fixed.join("."))]);
            } else if rest == 0 {
                if full == 0 {
                    return Err(Unsupported::new(format!(
                        "cidr {net} matches every address, which text patterns cannot tell from non-addresses"
                    )));
                }
                out.push(vec![Piece::Lit(format!("{}.", fixed.join("."))), Piece::Star]);
            } else {
                let base = octets[full] & (0xffu8 << (8 - rest));
                let count = 1u16 << (8 - rest);
                for v in 0..count {
                    let mut parts = fixed.clone();
                    parts.push((u16::from(base) + v).to_string());
                    if full == 3 {
                        out.push(vec![Piece::Lit(parts.join("."))]);
                    } else {
                        out.push(vec![Piece::Lit(format!("{}.", parts.join("."))), Piece::Star]);
                    }
                }
            }
            Ok((out, true))
        }
        ipnet::IpNet::V6(n) => {
            let len = n.prefix_len();
            if len == 128 && n.network().is_loopback() {
                return Ok((vec![vec![Piece::Lit("::1".into())], vec![Piece::Lit("0:0:0:0:0:0:0:1".into())]], false));
            }
            let first = n.network().segments()[0];
            if len == 0 || len > 16 || first >> 12 == 0 {
                return Err(Unsupported::new(format!("cidr {net}: this IPv6 range has no text-prefix form")));
            }
            // Whole hex digits fixed, then every value of the partly fixed digit.
            let digits = (len / 4) as usize;
            let rest = len % 4;
            let hex = format!("{first:04x}");
            let mut out = Vec::new();
            if rest == 0 {
                let prefix = &hex[..digits];
                out.push(vec![Piece::Lit(if digits == 4 { format!("{prefix}:") } else { prefix.to_string() }), Piece::Star]);
            } else {
                let nibble = u8::from_str_radix(&hex[digits..=digits], 16).unwrap_or(0) & (0xf << (4 - rest));
                for v in 0..(1u8 << (4 - rest)) {
                    out.push(vec![Piece::Lit(format!("{}{:x}", &hex[..digits], nibble + v)), Piece::Star]);
                }
            }
            Ok((out, false))
        }
    }
}
