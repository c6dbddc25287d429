//! The string-level peelers. A script is lexed once into code and string literals, and every
//! literal is replaced by an opaque token (`U+E000 index U+E001`) in a masked copy of the code,
//! so that no pattern can match across, or inside, a string: `'a''+''b'` stays one literal. The
//! peelers rewrite the masked code (new strings become new tokens) and [`unmask`] puts the
//! literals back as written.

use super::max_decoded_bytes;
use regex::{Captures, Regex};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';
const TOKEN: &str = r"\x{E000}[0-9]{1,9}\x{E001}";
const NUM: &str = r"(?:0x[0-9a-f]{1,6}|[0-9]{1,7})\b";
const ARG: &str = r"(?:LIT|\$\w+|-join\s*\$\w+|-join\s*\(\s*\$\w+\s*\))";

/// Compiles a built-in pattern; `LIT` stands for a string token, `NUM` for a character code,
/// `ARG` for a string or a variable (optionally `-join`ed).
pub(super) fn regex(pattern: &str) -> Regex {
    let p = pattern.replace("ARG", ARG).replace("LIT", TOKEN).replace("NUM", NUM);
    Regex::new(&p).expect("built-in pattern compiles")
}

/// A string-level peeler: the rewritten masked code, or `None` when it changed nothing.
pub(super) type Peeler = fn(&mut Masked, &Vars) -> Option<String>;

/// Code with its string literals replaced by tokens, and the literals as written.
pub(super) struct Masked {
    pub code: String,
    pub lits: Vec<String>,
}

fn is_single(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

fn is_double(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

/// Lexes `text`: quoted strings (PowerShell also takes the typographic quotes), here-strings,
/// comments and backtick escapes are told apart from code in one linear pass. The two marker
/// characters, should the input contain them, are read as U+FFFD.
pub(super) fn mask(text: &str) -> Masked {
    let text: Cow<str> =
        if text.contains([OPEN, CLOSE]) { Cow::Owned(text.replace([OPEN, CLOSE], "\u{FFFD}")) } else { Cow::Borrowed(text) };
    let mut code = String::with_capacity(text.len());
    let mut lits = Vec::new();
    let mut prev: Option<char> = None;
    let mut rest: &str = &text;
    while let Some(c) = rest.chars().next() {
        let at_token_start = prev.is_none_or(|p| p.is_whitespace() || matches!(p, ';' | '(' | ')' | '{' | '}' | '|' | ','));
        let (len, literal) = if is_single(c) {
            (single_end(rest), true)
        } else if is_double(c) {
            (double_end(rest), true)
        } else if c == '@' && here_start(rest) {
            (here_end(rest), true)
        } else if c == '#' && at_token_start {
            (rest.find('\n').unwrap_or(rest.len()), false)
        } else if rest.starts_with("<#") {
            (rest.find("#>").map_or(rest.len(), |p| p + 2), false)
        } else if c == '`' {
            (1 + rest.get(1..).and_then(|r| r.chars().next()).map_or(0, char::len_utf8), false)
        } else {
            (c.len_utf8(), false)
        };
        let piece = rest.get(..len).unwrap_or(rest);
        if literal {
            code.push_str(&token(lits.len()));
            lits.push(piece.to_string());
        } else {
            code.push_str(piece);
        }
        prev = piece.chars().next_back();
        rest = rest.get(piece.len().max(1)..).unwrap_or("");
    }
    Masked { code, lits }
}

fn token(index: usize) -> String {
    format!("{OPEN}{index}{CLOSE}")
}

/// Length of the single-quoted string at the start of `s` (`''` is an escaped quote); the rest
/// of the text when it is not closed.
fn single_end(s: &str) -> usize {
    let mut it = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = it.next() {
        if is_single(c) {
            if it.peek().is_some_and(|&(_, n)| is_single(n)) {
                it.next();
            } else {
                return i + c.len_utf8();
            }
        }
    }
    s.len()
}

/// Length of the double-quoted string at the start of `s`: backtick escapes, `""`, and `$(...)`
/// subexpressions (whose parentheses are counted, whatever they hold).
fn double_end(s: &str) -> usize {
    let mut it = s.char_indices().skip(1).peekable();
    let mut depth = 0usize;
    while let Some((i, c)) = it.next() {
        if depth > 0 {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
        } else if c == '`' {
            it.next();
        } else if c == '$' && it.peek().is_some_and(|&(_, n)| n == '(') {
            it.next();
            depth = 1;
        } else if is_double(c) {
            if it.peek().is_some_and(|&(_, n)| is_double(n)) {
                it.next();
            } else {
                return i + c.len_utf8();
            }
        }
    }
    s.len()
}

fn here_start(s: &str) -> bool {
    let Some(after) = s.strip_prefix("@'").or_else(|| s.strip_prefix("@\"")) else { return false };
    after.trim_start_matches([' ', '\t']).starts_with(['\n', '\r'])
}

fn here_end(s: &str) -> usize {
    let q = if s.starts_with("@'") { "\n'@" } else { "\n\"@" };
    s.get(2..).and_then(|r| r.find(q)).map_or(s.len(), |p| p + 2 + q.len())
}

/// The value of a literal as written, `None` when it is not a constant (an expandable string
/// with `$var` or `$(...)`, an unclosed string).
fn lit_value(raw: &str) -> Option<String> {
    let first = raw.chars().next()?;
    if first == '@' {
        let single = raw.starts_with("@'");
        let body = raw.get(2..)?;
        let start = body.find('\n')? + 1;
        let end = body.rfind('\n')?;
        if !(raw.ends_with("'@") || raw.ends_with("\"@")) {
            return None;
        }
        let content = body.get(start..end.max(start))?.trim_end_matches('\r');
        return if single { Some(content.to_string()) } else { unescape_double(content) };
    }
    let inner = raw.get(first.len_utf8()..)?;
    let last = inner.chars().next_back()?;
    let inner = inner.get(..inner.len() - last.len_utf8())?;
    if is_single(first) && is_single(last) {
        let mut out = String::with_capacity(inner.len());
        let mut it = inner.chars().peekable();
        while let Some(c) = it.next() {
            if is_single(c) && !it.next().is_some_and(is_single) {
                return None;
            }
            out.push(c);
        }
        return Some(out);
    }
    if is_double(first) && is_double(last) {
        return unescape_double(inner);
    }
    None
}

fn unescape_double(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '`' => match it.next() {
                Some('0') => out.push('\0'),
                Some('a') => out.push('\u{7}'),
                Some('b') => out.push('\u{8}'),
                Some('e') => out.push('\u{1b}'),
                Some('f') => out.push('\u{c}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('v') => out.push('\u{b}'),
                Some(other) => out.push(other),
                None => {}
            },
            '$' if it.peek().is_some_and(|&n| n.is_alphanumeric() || matches!(n, '_' | '{' | '(' | ':' | '?' | '^' | '$')) => return None,
            c if is_double(c) => {
                it.next();
                out.push(c);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// A single-quoted literal holding `value` (quote characters doubled).
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        out.push(c);
        if is_single(c) {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

fn new_lit(lits: &mut Vec<String>, value: &str) -> String {
    lits.push(quote(value));
    token(lits.len() - 1)
}

fn token_index(tok: &str) -> Option<usize> {
    tok.strip_prefix(OPEN)?.strip_suffix(CLOSE)?.parse().ok()
}

/// The constant value of a token (`U+E000 n U+E001`).
pub(super) fn token_value(tok: &str, lits: &[String]) -> Option<String> {
    lit_value(lits.get(token_index(tok)?)?)
}

/// The masked code with the literals put back as written.
pub(super) fn unmask(code: &str, lits: &[String]) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(p) = rest.find(OPEN) {
        out.push_str(rest.get(..p).unwrap_or(""));
        let after = rest.get(p + OPEN.len_utf8()..).unwrap_or("");
        let close = after.char_indices().take(12).find(|&(_, c)| c == CLOSE).map(|(i, _)| i);
        let raw = close.and_then(|q| after.get(..q)?.parse::<usize>().ok()).and_then(|i| lits.get(i));
        match (raw, close) {
            (Some(raw), Some(q)) => {
                out.push_str(raw);
                rest = after.get(q + CLOSE.len_utf8()..).unwrap_or("");
            }
            _ => {
                out.push(OPEN);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Variables assigned a constant string (`$s = '...'`, `'...'.ToCharArray()`, `[char[]]'...'`);
/// the last assignment wins.
pub(super) struct Vars(HashMap<String, usize>);

impl Vars {
    pub(super) fn value(&self, name: &str, lits: &[String]) -> Option<String> {
        lit_value(lits.get(*self.0.get(&name.to_lowercase())?)?)
    }
}

static ASSIGN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?im)\$(?P<name>\w+)\s*=\s*(?:\[char\[\]\]\s*)?(?P<lit>LIT)(?:\s*\.\s*tochararray\(\s*\))?\s*(?:;|$)"));

pub(super) fn vars(m: &Masked) -> Vars {
    let mut map = HashMap::new();
    if !m.code.contains('=') {
        return Vars(map);
    }
    for caps in ASSIGN.captures_iter(&m.code) {
        if let (Some(name), Some(i)) = (caps.name("name"), caps.name("lit").and_then(|t| token_index(t.as_str()))) {
            map.insert(name.as_str().to_lowercase(), i);
        }
    }
    Vars(map)
}

/// `$name`, `-join $name`, `-join ($name)` or a literal, as a constant.
fn resolve(arg: &str, lits: &[String], vars: &Vars) -> Option<String> {
    let arg = arg.trim();
    if arg.starts_with(OPEN) {
        return token_value(arg, lits);
    }
    let name = match arg.get(..5) {
        Some(j) if j.eq_ignore_ascii_case("-join") => arg.get(5..).unwrap_or(""),
        _ => arg,
    };
    let name = name.trim_matches(|c: char| c.is_whitespace() || c == '(' || c == ')');
    vars.value(name.strip_prefix('$')?, lits)
}

/// Rewrites every match for which `f` has a replacement; `None` when nothing changed. The
/// replacements of one pass add up to at most [`max_decoded_bytes`] (later ones are declined).
fn rewrite(re: &Regex, code: &str, mut f: impl FnMut(&Captures) -> Option<String>) -> Option<String> {
    let mut changed = false;
    let mut budget = max_decoded_bytes();
    let out = re.replace_all(code, |caps: &Captures| {
        let whole = caps.get(0).map_or("", |m| m.as_str());
        match f(caps) {
            Some(r) if r.len() <= budget => {
                budget -= r.len();
                changed |= r != whole;
                r
            }
            _ => whole.to_string(),
        }
    });
    changed.then(|| out.into_owned())
}

/// [`rewrite`] for patterns without groups: matches are found by the DFA alone, so even one
/// match spanning megabytes stays fast.
fn rewrite_plain(re: &Regex, code: &str, mut f: impl FnMut(regex::Match) -> Option<String>) -> Option<String> {
    let mut changed = false;
    let mut budget = max_decoded_bytes();
    let mut out = String::new();
    let mut last = 0;
    for m in re.find_iter(code) {
        let Some(r) = f(m).filter(|r| r.len() <= budget && r != m.as_str()) else { continue };
        budget -= r.len();
        changed = true;
        out.push_str(code.get(last..m.start()).unwrap_or(""));
        out.push_str(&r);
        last = m.end();
    }
    out.push_str(code.get(last..).unwrap_or(""));
    changed.then_some(out)
}

fn char_before(code: &str, caps: &Captures) -> Option<char> {
    code.get(..caps.get(0)?.start())?.chars().next_back()
}

fn char_after(code: &str, caps: &Captures) -> Option<char> {
    code.get(caps.get(0)?.end()..)?.chars().find(|c| !c.is_whitespace())
}

/// A new string token in place of a match with optional `ujoin` / `open` / `close` groups:
/// parentheses are dropped when both were matched and they are not a call's.
fn wrap(code: &str, caps: &Captures, lits: &mut Vec<String>, value: &str) -> String {
    let open = caps.name("open").map_or("", |m| m.as_str());
    let close = caps.name("close").map_or("", |m| m.as_str());
    let call = char_before(code, caps).is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ']' | ')' | '.' | '$'));
    let tok = new_lit(lits, value);
    if !open.is_empty() && !close.is_empty() && !call { tok } else { format!("{open}{tok}{close}") }
}

/// `chars` joined by `sep`, `None` beyond [`max_decoded_bytes`].
fn join_bounded(chars: &[char], sep: &str) -> Option<String> {
    let size = chars.len().checked_mul(sep.len().max(1))?.checked_add(chars.len().saturating_mul(4))?;
    if size > max_decoded_bytes() {
        return None;
    }
    let mut out = String::with_capacity(size);
    for (i, c) in chars.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push(*c);
    }
    Some(out)
}

fn parse_char(num: &str) -> Option<char> {
    let lower = num.trim().to_ascii_lowercase();
    let n = match lower.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => lower.parse().ok()?,
    };
    char::from_u32(n)
}

static PARENS: LazyLock<Regex> = LazyLock::new(|| regex(r"(?P<pre>^|[^\w\])}.$@])\(\s*(?P<lit>LIT)\s*\)"));

/// `('text')` → `'text'` where the parentheses only group (not a call's, not `$(` or `@(`).
fn tidy(code: &str) -> Option<String> {
    rewrite(&PARENS, code, |caps| Some(format!("{}{}", caps.name("pre")?.as_str(), caps.name("lit")?.as_str())))
}

/// Applies one rewriting step to the current code (the last rewrite, or `code`).
fn step(current: &mut Option<String>, code: &str, f: impl FnOnce(&str) -> Option<String>) {
    if let Some(next) = f(current.as_deref().unwrap_or(code)) {
        *current = Some(next);
    }
}

/// The rewritten code, tidied; `None` when no step changed anything.
fn finish(current: Option<String>) -> Option<String> {
    let done = current?;
    Some(tidy(&done).unwrap_or(done))
}

static CHARS: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?P<ujoin>-join\s*)?(?P<open>\(\s*)?\[char\[\]\]\s*@?\(\s*(?P<nums>NUM(?:\s*,\s*NUM)*)\s*\)(?P<close>\s*\))?(?:\s*-join\s*(?P<sep>LIT))?",
    )
});
static CHAR1: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)\[char\]\s*(?:\[int\]\s*)?(?:\(\s*(?P<a>NUM)\s*\)|(?P<b>NUM))"));
static CHAR_HINT: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)\[char"));

/// `[char[]](73,69,88) -join ''` → `'IEX'`; `[char]73` → `'I'` (then [`concat`] joins them).
pub(super) fn char_array(m: &mut Masked, _vars: &Vars) -> Option<String> {
    if !CHAR_HINT.is_match(&m.code) {
        return None;
    }
    let Masked { code, lits } = m;
    let mut current = None;
    step(&mut current, code, |c| {
        rewrite(&CHARS, c, |caps| {
            let chars: Vec<char> = caps.name("nums")?.as_str().split(',').map(parse_char).collect::<Option<_>>()?;
            let sep = match caps.name("sep") {
                Some(t) => token_value(t.as_str(), lits)?,
                None => String::new(),
            };
            let joined = join_bounded(&chars, &sep)?;
            Some(wrap(c, caps, lits, &joined))
        })
    });
    step(&mut current, code, |c| {
        rewrite(&CHAR1, c, |caps| {
            let ch = parse_char(caps.name("a").or(caps.name("b"))?.as_str())?;
            Some(new_lit(lits, &ch.to_string()))
        })
    });
    finish(current)
}

static REV: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?P<ujoin>-join\s*)?(?P<open>\(\s*)?(?:(?P<lit>LIT)|\$(?P<var>\w+))\s*\[\s*-1\s*\.\.\s*-\s*(?P<n>[^\[\]\n]{1,80})\](?P<close>\s*\))?(?:\s*-join\s*(?P<sep>LIT))?",
    )
});
static ARRAY_REVERSE: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)\[(?:system\.)?array\]\s*::\s*reverse\s*\(\s*\$(?P<var>\w+)\s*\)"));
static REVERSE_HINT: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)-1|reverse"));

/// `'txet'[-1..-4] -join ''`, `-join $s[-1..-($s.Length)]` → `'text'`; `[array]::Reverse($a)`
/// of a variable holding a constant → `$a = 'reversed'`.
pub(super) fn reverse(m: &mut Masked, vars: &Vars) -> Option<String> {
    if !REVERSE_HINT.is_match(&m.code) {
        return None;
    }
    let Masked { code, lits } = m;
    let mut current = None;
    step(&mut current, code, |c| {
        rewrite(&REV, c, |caps| {
            let value = match (caps.name("lit"), caps.name("var")) {
                (Some(t), _) => token_value(t.as_str(), lits)?,
                (None, Some(v)) => vars.value(v.as_str(), lits)?,
                _ => return None,
            };
            let n = caps.name("n").and_then(|n| n.as_str().trim().parse::<usize>().ok()).unwrap_or(usize::MAX);
            let chars: Vec<char> = value.chars().rev().take(n).collect();
            let sep = match caps.name("sep") {
                Some(t) => token_value(t.as_str(), lits)?,
                None => String::new(),
            };
            let joined = join_bounded(&chars, &sep)?;
            Some(wrap(c, caps, lits, &joined))
        })
    });
    step(&mut current, code, |c| {
        rewrite(&ARRAY_REVERSE, c, |caps| {
            let name = caps.name("var")?.as_str();
            let value: String = vars.value(name, lits)?.chars().rev().collect();
            Some(format!("${name} = {}", new_lit(lits, &value)))
        })
    });
    finish(current)
}

static FORMAT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)(?P<fmt>LIT)\s*-f\s*(?P<args>(?:LIT|\(\s*LIT\s*\)|[0-9]{1,10}\b)(?:\s*,\s*(?:LIT|\(\s*LIT\s*\)|[0-9]{1,10}\b))*)")
});
static FORMAT_HINT: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)-f"));

/// `"{1}{0}" -f 'a','b'` → `'ba'` (plain `{n}` items, `{{` and `}}`; alignment and format
/// strings are left alone).
pub(super) fn format(m: &mut Masked, _vars: &Vars) -> Option<String> {
    if !FORMAT_HINT.is_match(&m.code) {
        return None;
    }
    let Masked { code, lits } = m;
    let mut current = None;
    step(&mut current, code, |c| {
        rewrite(&FORMAT, c, |caps| {
            let fmt = token_value(caps.name("fmt")?.as_str(), lits)?;
            let args: Vec<String> = caps
                .name("args")?
                .as_str()
                .split(',')
                .map(|a| {
                    let a = a.trim().trim_start_matches('(').trim_end_matches(')').trim();
                    if a.starts_with(OPEN) { token_value(a, lits) } else { Some(a.to_string()) }
                })
                .collect::<Option<_>>()?;
            let value = apply_format(&fmt, &args)?;
            Some(new_lit(lits, &value))
        })
    });
    finish(current)
}

fn apply_format(fmt: &str, args: &[String]) -> Option<String> {
    let mut out = String::with_capacity(fmt.len());
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '{' if it.peek() == Some(&'{') => {
                it.next();
                out.push('{');
            }
            '{' => {
                let mut index = String::new();
                while let Some(d) = it.peek().copied().filter(char::is_ascii_digit) {
                    index.push(d);
                    it.next();
                    if index.len() > 6 {
                        return None;
                    }
                }
                while it.peek() == Some(&' ') {
                    it.next();
                }
                if it.next() != Some('}') {
                    return None;
                }
                let arg = args.get(index.parse::<usize>().ok()?)?;
                if out.len().saturating_add(arg.len()) > max_decoded_bytes() {
                    return None;
                }
                out.push_str(arg);
            }
            '}' if it.peek() == Some(&'}') => {
                it.next();
                out.push('}');
            }
            '}' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

static CONCAT: LazyLock<Regex> = LazyLock::new(|| regex(r"LIT(?:\s*\+\s*LIT)+"));
static CONCAT_HINT: LazyLock<Regex> = LazyLock::new(|| regex(r"[+`]"));

/// Backtick escapes dropped from code (`` N`e`w `` → `New`; not before `0abfnrtv`, which are
/// escapes of their own, nor before quotes or `$`), then `'Ne'+'w-Obj'+'ect'` → `'New-Object'`
/// (not when the last piece is indexed, called or multiplied).
pub(super) fn concat(m: &mut Masked, _vars: &Vars) -> Option<String> {
    if !CONCAT_HINT.is_match(&m.code) {
        return None;
    }
    let Masked { code, lits } = m;
    let mut current = None;
    step(&mut current, code, drop_backticks);
    step(&mut current, code, |c| {
        rewrite_plain(&CONCAT, c, |m| {
            let next = c.get(m.end()..).and_then(|r| r.chars().find(|ch| !ch.is_whitespace()));
            if next.is_some_and(|n| matches!(n, '[' | '.' | '*' | '/' | '%')) {
                return None;
            }
            let mut value = String::new();
            for piece in m.as_str().split('+') {
                value.push_str(&token_value(piece.trim(), lits)?);
            }
            Some(new_lit(lits, &value))
        })
    });
    finish(current)
}

fn drop_backticks(code: &str) -> Option<String> {
    if !code.contains('`') {
        return None;
    }
    let mut out = String::with_capacity(code.len());
    let mut changed = false;
    let mut it = code.chars().peekable();
    while let Some(c) = it.next() {
        if c == '`' {
            match it.peek().copied() {
                Some(n) if (n.is_ascii_alphanumeric() || matches!(n, '-' | '_')) && !"0abfnrtv".contains(n) => {
                    changed = true;
                    continue;
                }
                Some(n) => {
                    out.push(c);
                    out.push(n);
                    it.next();
                    continue;
                }
                None => {}
            }
        }
        out.push(c);
    }
    changed.then_some(out)
}

static IEX_ALIAS: LazyLock<Regex> = LazyLock::new(|| {
    regex(concat!(
        r"(?i)[&.]\s*\(\s*(?:",
        r"\$pshome\[[0-9]{1,3}\]\s*\+\s*\$pshome\[[0-9]{1,3}\]\s*\+\s*LIT",
        r"|\$shellid\[[0-9]{1,3}\]\s*\+\s*\$shellid\[[0-9]{1,3}\]\s*\+\s*LIT",
        r"|\$env:comspec\[[0-9 ,]{1,20}\]\s*-join\s*LIT",
        r"|\(\s*(?:\$verbosepreference\s*\.\s*tostring\(\s*\)|\[string\]\s*\$verbosepreference)\s*\)\s*\[[0-9 ,]{1,20}\]\s*\+\s*LIT\s*-join\s*LIT",
        r"|\$verbosepreference\s*\.\s*tostring\(\s*\)\s*\[[0-9 ,]{1,20}\]\s*\+\s*LIT\s*-join\s*LIT",
        r"|\(\s*(?:gv|get-variable|variable)\s+LIT\s*\)\s*\.\s*name\s*\[[0-9 ,]{1,20}\]\s*-join\s*LIT",
        r"|(?P<n1>LIT))\s*\)|[&.]\s*(?P<n2>LIT)",
    ))
});
static SCRIPTBLOCK: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?:(?P<sb>\[(?:system\.management\.automation\.)?scriptblock\]\s*::\s*create|\$executioncontext\s*\.\s*invokecommand\s*\.\s*newscriptblock)|\$executioncontext\s*\.\s*invokecommand\s*\.\s*invokescript)\s*\(\s*(?P<arg>ARG)\s*\)",
    )
});
static IEX_CALL: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)(?P<pre>^|[^\w$.\-])(?:iex|invoke-expression)(?:\s+-c(?:ommand)?)?\s*(?:\(\s*(?P<a1>ARG)\s*\)|(?P<a2>ARG))")
});
static IEX_PIPE: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)(?:\(\s*(?P<a1>ARG)\s*\)|(?P<a2>ARG))\s*\|\s*(?:iex|invoke-expression)\b"));
static IEX_HINT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)iex|invoke-?expression|scriptblock|invokecommand|pshome|shellid|comspec|verbosepreference|gv|variable|[&.]\s*\(?\s*LIT")
});

/// `IEX 'code'`, `Invoke-Expression ('code')`, `'code' | iex`, `IEX $s` (a constant) → `code`;
/// obfuscated names of IEX (`&('iex')`, `.($pshome[4]+$pshome[30]+'x')`, `$env:comspec[4,15,25]
/// -join ''`, `$VerbosePreference`, `gv '*mdr*'`) → `iex`; `[scriptblock]::Create('code')` →
/// `{code}`, `$ExecutionContext.InvokeCommand.InvokeScript('code')` → `code`.
pub(super) fn iex(m: &mut Masked, vars: &Vars) -> Option<String> {
    if !IEX_HINT.is_match(&m.code) {
        return None;
    }
    let Masked { code, lits } = m;
    let lits: &Vec<String> = lits;
    let mut current = None;
    step(&mut current, code, |c| {
        rewrite(&IEX_ALIAS, c, |caps| {
            if caps.get(0)?.as_str().starts_with('.')
                && char_before(c, caps).is_some_and(|p| p.is_alphanumeric() || matches!(p, '_' | ')' | ']' | '$'))
            {
                return None;
            }
            if let Some(n) = caps.name("n1").or(caps.name("n2")) {
                let name = token_value(n.as_str(), lits)?.trim().to_ascii_lowercase();
                if name != "iex" && name != "invoke-expression" {
                    return None;
                }
            }
            Some("iex".to_string())
        })
    });
    step(&mut current, code, |c| {
        rewrite(&SCRIPTBLOCK, c, |caps| {
            let value = resolve(caps.name("arg")?.as_str(), lits, vars)?;
            Some(if caps.name("sb").is_some() { format!("{{{value}}}") } else { value })
        })
    });
    step(&mut current, code, |c| {
        rewrite(&IEX_CALL, c, |caps| {
            if caps.name("a2").is_some() && char_after(c, caps).is_some_and(|n| matches!(n, '.' | '[' | '(')) {
                return None;
            }
            let value = resolve(caps.name("a1").or(caps.name("a2"))?.as_str(), lits, vars)?;
            Some(format!("{}{value}", caps.name("pre").map_or("", |p| p.as_str())))
        })
    });
    step(&mut current, code, |c| rewrite(&IEX_PIPE, c, |caps| resolve(caps.name("a1").or(caps.name("a2"))?.as_str(), lits, vars)));
    current
}
