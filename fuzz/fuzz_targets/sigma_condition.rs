//! A Sigma condition. Input: the search identifiers on the first line (blank-separated), the
//! condition after it. Invariants: every index names an identifier, evaluation terminates, and
//! a condition without quantifiers, rendered back to text with full parentheses, re-parses to
//! the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskhunt_sigma::condition::{Cond, parse};

fn indices_ok(c: &Cond, n: usize) -> bool {
    match c {
        Cond::Sel(i) => *i < n,
        Cond::Not(c) => indices_ok(c, n),
        Cond::And(cs) | Cond::Or(cs) => cs.iter().all(|c| indices_ok(c, n)),
        Cond::AtLeast(_, ids) => ids.iter().all(|i| *i < n),
    }
}

/// Text for `c`, or None when it holds a quantifier (its identifier pattern is not kept).
fn render(c: &Cond, names: &[String]) -> Option<String> {
    Some(match c {
        Cond::Sel(i) => names[*i].clone(),
        Cond::Not(c) => format!("not ({})", render(c, names)?),
        Cond::And(cs) => cs.iter().map(|c| render(c, names).map(|t| format!("({t})"))).collect::<Option<Vec<_>>>()?.join(" and "),
        Cond::Or(cs) => cs.iter().map(|c| render(c, names).map(|t| format!("({t})"))).collect::<Option<Vec<_>>>()?.join(" or "),
        Cond::AtLeast(..) => return None,
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (head, condition) = text.split_once('\n').unwrap_or(("selection filter", text));
    let mut names: Vec<String> = Vec::new();
    for n in head.split_whitespace() {
        if !names.iter().any(|m| m == n) {
            names.push(n.to_string());
        }
    }
    let Ok(cond) = parse(condition, &names) else { return };
    assert!(indices_ok(&cond, names.len()));
    let _ = cond.eval(&mut |i| i % 2 == 0);
    // Only identifiers the lexer reads as one word and that are not keywords or numbers
    // round-trip; skip the rest rather than re-implement the lexer here.
    let plain = |n: &String| {
        n.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
            && n.parse::<usize>().is_err()
            && !["and", "or", "not", "of", "them", "all"].iter().any(|k| n.eq_ignore_ascii_case(k))
    };
    if names.iter().all(plain)
        && let Some(rendered) = render(&cond, &names)
    {
        let again = parse(&rendered, &names).unwrap_or_else(|e| panic!("{rendered:?} does not re-parse: {e}"));
        assert_eq!(strip(again), strip(cond), "{rendered:?}");
    }
});

/// Parentheses around a single item add nothing; nested same-kind lists stay as written.
fn strip(c: Cond) -> Cond {
    match c {
        Cond::Not(c) => Cond::Not(Box::new(strip(*c))),
        Cond::And(cs) => Cond::And(cs.into_iter().map(strip).collect()),
        Cond::Or(cs) => Cond::Or(cs.into_iter().map(strip).collect()),
        other => other,
    }
}
