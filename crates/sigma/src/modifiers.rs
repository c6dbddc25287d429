//! Value modifiers: turning one rule value into the comparisons it stands for.
//!
//! Transformations (`windash`, `expand`, `wide`/`utf16*`, `base64`, `base64offset`) run first, in
//! the order written, and each may multiply the value into variants; the comparison modifier
//! (`contains`, `startswith`, `endswith`, `re`, `cidr`, `gt`...) then applies to every variant.

use crate::pattern::{Piece, StrMatch, literal, parse_wildcards};
use base64::Engine;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Most variants one value may expand into (windash on a long command line multiplies by 5
/// per dash); beyond it the rule is rejected rather than eating memory.
pub const MAX_VARIANTS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Re,
    ReI,
    ReM,
    ReS,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Windash,
    Cidr,
    Exists,
    Cased,
    FieldRef,
    Expand,
    Gt,
    Gte,
    Lt,
    Lte,
    Neq,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Modifier {
    pub fn parse(name: &str) -> Option<Modifier> {
        use Modifier::*;
        Some(match name {
            "contains" => Contains,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "all" => All,
            "re" => Re,
            "i" => ReI,
            "m" => ReM,
            "s" => ReS,
            "base64" => Base64,
            "base64offset" => Base64Offset,
            "wide" | "utf16le" => Utf16Le,
            "utf16be" => Utf16Be,
            "utf16" => Utf16,
            "windash" => Windash,
            "cidr" => Cidr,
            "exists" => Exists,
            "cased" => Cased,
            "fieldref" => FieldRef,
            "expand" => Expand,
            "gt" => Gt,
            "gte" => Gte,
            "lt" => Lt,
            "lte" => Lte,
            "neq" => Neq,
            "minute" => Minute,
            "hour" => Hour,
            "day" => Day,
            "week" => Week,
            "month" => Month,
            "year" => Year,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl NumOp {
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            NumOp::Gt => a > b,
            NumOp::Gte => a >= b,
            NumOp::Lt => a < b,
            NumOp::Lte => a <= b,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

#[derive(Debug)]
pub enum Regex {
    Fast(regex::Regex),
    /// Look-around or back-references: a backtracking engine with a step limit.
    Backtracking(fancy_regex::Regex),
}

impl Regex {
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Regex::Fast(r) => r.is_match(text),
            // A pathological pattern that exceeds the backtrack limit counts as no match.
            Regex::Backtracking(r) => r.is_match(text).unwrap_or(false),
        }
    }
}

/// How a field reference compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Exact,
    Contains,
    Prefix,
    Suffix,
}

/// One comparison against one field value.
#[derive(Debug)]
pub enum ValueTest {
    /// String comparison; `fold` means case-insensitive (needles are lowercased).
    Str {
        m: StrMatch,
        fold: bool,
    },
    Regex(Regex),
    Cidr(ipnet::IpNet),
    Num {
        op: NumOp,
        value: f64,
    },
    /// `null`: the field is absent or null.
    Null,
    Exists(bool),
    FieldRef {
        other: String,
        kind: RefKind,
        fold: bool,
    },
    Time {
        part: TimePart,
        op: Option<NumOp>,
        value: f64,
    },
    /// `neq`: present and different.
    Not(Box<ValueTest>),
}

/// Placeholder values for `|expand` (`%Administrators%` → names).
pub type Placeholders = BTreeMap<String, Vec<String>>;

/// What compiling one `field|modifiers: values` entry yields.
pub struct Compiled {
    /// Per listed value, the OR of its variants.
    pub values: Vec<Vec<ValueTest>>,
    pub all: bool,
    /// Placeholders the values need and the configuration lacks.
    pub missing_placeholders: Vec<String>,
}

/// Compiles the values of one detection key. `values` are YAML scalars (strings, numbers,
/// booleans, null); `field` is `None` for keywords.
pub fn compile(
    field: Option<&str>,
    modifiers: &[Modifier],
    values: &[serde_json::Value],
    placeholders: Option<&Placeholders>,
) -> Result<Compiled, String> {
    use Modifier::*;
    let has = |m: Modifier| modifiers.contains(&m);
    let all = has(All);
    if all && values.len() < 2 && field.is_some() {
        // The specification forbids it; it still means what it says, so accept it.
    }
    let cased = has(Cased);
    // A field reference takes contains/startswith/endswith as pySigma does: they apply to the
    // referenced field's value.
    let comparison: Vec<Modifier> = modifiers
        .iter()
        .copied()
        .filter(|m| matches!(m, Contains | StartsWith | EndsWith | Re | Cidr | Exists | FieldRef | Gt | Gte | Lt | Lte))
        .filter(|m| !(has(FieldRef) && matches!(m, Contains | StartsWith | EndsWith)))
        .collect();
    if comparison.len() > 1 {
        return Err(format!("modifiers {comparison:?} cannot be combined"));
    }
    if (has(ReI) || has(ReM) || has(ReS)) && !has(Re) {
        return Err("regex flags i, m, s need the `re` modifier".into());
    }
    let time_part = modifiers.iter().find_map(|m| match m {
        Minute => Some(TimePart::Minute),
        Hour => Some(TimePart::Hour),
        Day => Some(TimePart::Day),
        Week => Some(TimePart::Week),
        Month => Some(TimePart::Month),
        Year => Some(TimePart::Year),
        _ => None,
    });
    let num_op = modifiers.iter().find_map(|m| match m {
        Gt => Some(NumOp::Gt),
        Gte => Some(NumOp::Gte),
        Lt => Some(NumOp::Lt),
        Lte => Some(NumOp::Lte),
        _ => None,
    });
    let mut out = Compiled { values: Vec::with_capacity(values.len()), all, missing_placeholders: Vec::new() };
    if has(Neq) && (field.is_none() || has(Exists)) {
        return Err("`neq` needs a field and a value to differ from".into());
    }
    for value in values {
        // Special values first.
        if has(Exists) {
            let b = match value {
                serde_json::Value::Bool(b) => *b,
                serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => true,
                serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return Err("`exists` takes true or false".into()),
            };
            out.values.push(vec![ValueTest::Exists(b)]);
            continue;
        }
        if value.is_null() {
            if !comparison.is_empty() || has(Neq) {
                return Err("null cannot take comparison modifiers".into());
            }
            out.values.push(vec![ValueTest::Null]);
            continue;
        }
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            other => return Err(format!("value {other} is not a scalar")),
        };
        if let Some(part) = time_part {
            let v: f64 = text.trim().parse().map_err(|_| format!("time modifier needs a number, not {text:?}"))?;
            out.values.push(vec![ValueTest::Time { part, op: num_op, value: v }]);
            continue;
        }
        if let Some(op) = num_op {
            let v: f64 = text.trim().parse().map_err(|_| format!("{op:?} needs a number, not {text:?}"))?;
            out.values.push(vec![ValueTest::Num { op, value: v }]);
            continue;
        }
        if has(FieldRef) {
            let kind = match (has(Contains) || (has(StartsWith) && has(EndsWith)), has(StartsWith), has(EndsWith)) {
                (true, _, _) => RefKind::Contains,
                (false, true, _) => RefKind::Prefix,
                (false, _, true) => RefKind::Suffix,
                _ => RefKind::Exact,
            };
            out.values.push(vec![ValueTest::FieldRef { other: text, kind, fold: !cased }]);
            continue;
        }
        if has(Re) {
            out.values.push(vec![compile_regex(&text, has(ReI), has(ReM), has(ReS))?]);
            continue;
        }
        if has(Cidr) {
            let net: ipnet::IpNet = text
                .trim()
                .parse()
                .or_else(|_| text.trim().parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("{text:?} is not a CIDR range"))?;
            out.values.push(vec![ValueTest::Cidr(net)]);
            continue;
        }

        // String transformations, each multiplying variants.
        let mut variants: Vec<String> = vec![text.clone()];
        if has(Expand) {
            variants = expand(&variants, placeholders, &mut out.missing_placeholders);
        }
        if has(Windash) {
            // Checked before expanding: 5 spellings per flag grow fast, and a partial expansion
            // would silently miss spellings.
            let total = variants.iter().map(|v| 5f64.powi(flag_dashes(&v.chars().collect::<Vec<_>>()).len() as i32)).sum::<f64>();
            if total > MAX_VARIANTS as f64 {
                return Err(format!("windash expands {text:?} into {total} variants (limit {MAX_VARIANTS})"));
            }
            variants = variants.iter().flat_map(|v| windash(v)).collect();
        }
        let encoded = has(Base64) || has(Base64Offset);
        let mut variant_pieces: Vec<Vec<Piece>> = if encoded {
            let bytes: Vec<Vec<u8>> = variants.iter().map(|v| encode_text(v, modifiers)).collect();
            let mut texts = Vec::new();
            for b in &bytes {
                if has(Base64Offset) {
                    texts.extend(base64_offsets(b));
                } else {
                    texts.push(base64::engine::general_purpose::STANDARD.encode(b));
                }
            }
            texts.iter().map(|t| literal(t)).collect()
        } else {
            variants.iter().map(|v| parse_wildcards(v)).collect()
        };
        if variant_pieces.len() > MAX_VARIANTS {
            return Err(format!("value expands into {} variants (limit {MAX_VARIANTS})", variant_pieces.len()));
        }
        for pieces in &mut variant_pieces {
            wrap(pieces, has(Contains) || field.is_none(), has(StartsWith), has(EndsWith));
        }
        // Base64 text is case-sensitive by nature: folding it would match other payloads.
        let fold = !cased && !encoded;
        let tests: Vec<ValueTest> = variant_pieces.into_iter().map(|p| ValueTest::Str { m: StrMatch::compile(p, fold), fold }).collect();
        out.values.push(tests);
    }
    if has(Neq) {
        // "The field is different from the specified values": from every one of them and every
        // spelling of each, so each test is negated and the negations are ANDed.
        out.values = out.values.into_iter().flatten().map(|t| vec![ValueTest::Not(Box::new(t))]).collect();
        out.all = true;
    }
    Ok(out)
}

/// `contains` / `startswith` / `endswith` (and keywords, which search anywhere) add stars.
fn wrap(pieces: &mut Vec<Piece>, contains: bool, starts: bool, ends: bool) {
    if (contains || ends) && pieces.first() != Some(&Piece::Star) {
        pieces.insert(0, Piece::Star);
    }
    if (contains || starts) && pieces.last() != Some(&Piece::Star) {
        pieces.push(Piece::Star);
    }
}

fn compile_regex(pattern: &str, i: bool, m: bool, s: bool) -> Result<ValueTest, String> {
    let mut flags = String::new();
    if i {
        flags.push('i');
    }
    if m {
        flags.push('m');
    }
    if s {
        flags.push('s');
    }
    let full = if flags.is_empty() { pattern.to_string() } else { format!("(?{flags}){pattern}") };
    // Limits `regex_bytes` (compiled size; the regex crate's own default of 10 MiB: Unicode
    // classes are large, SigmaHQ's `-k\s\w{1,64}` for svchost flags compiles to about 4 MiB) and
    // `regex_backtrack` (steps the backtracking engine may take on one value before giving up).
    let limits = taskhunt_events::limits::current();
    match regex::RegexBuilder::new(&full).size_limit(limits.regex_bytes).build() {
        Ok(r) => Ok(ValueTest::Regex(Regex::Fast(r))),
        // Too big is too big for either engine (the backtracking one delegates to the same).
        Err(regex::Error::CompiledTooBig(limit)) => {
            Err(format!("regular expression {pattern:?} compiles to more than {limit} bytes (limit regex_bytes)"))
        }
        // Only patterns the fast engine cannot express (look-around, back-references) go to the
        // backtracking one.
        Err(fast_err) => {
            match fancy_regex::RegexBuilder::new(&full)
                .backtrack_limit(limits.regex_backtrack)
                .delegate_size_limit(limits.regex_bytes)
                .build()
            {
                Ok(r) => Ok(ValueTest::Regex(Regex::Backtracking(r))),
                Err(_) => Err(format!("invalid regular expression {pattern:?}: {fast_err}")),
            }
        }
    }
}

/// Bytes for base64 modifiers: UTF-16 variants when asked, UTF-8 otherwise.
fn encode_text(text: &str, modifiers: &[Modifier]) -> Vec<u8> {
    if modifiers.contains(&Modifier::Utf16Le) {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    } else if modifiers.contains(&Modifier::Utf16Be) {
        text.encode_utf16().flat_map(u16::to_be_bytes).collect()
    } else if modifiers.contains(&Modifier::Utf16) {
        let mut b = vec![0xff, 0xfe];
        b.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        b
    } else {
        text.as_bytes().to_vec()
    }
}

/// The three shifted encodings of `bytes`, trimmed to the characters that do not depend on
/// what surrounds the value in the encoded text.
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    let mut out = Vec::with_capacity(3);
    for shift in 0..3 {
        let mut padded = vec![0u8; shift];
        padded.extend_from_slice(bytes);
        let enc = base64::engine::general_purpose::STANDARD.encode(&padded);
        let end_trim = match padded.len() % 3 {
            0 => 0,
            1 => 3,
            _ => 2,
        };
        let end = enc.len().saturating_sub(end_trim);
        let start = START[shift].min(end);
        out.push(enc[start..end].to_string());
    }
    out
}

/// Every spelling of a command-line flag: each `-` or `/` that starts a flag (not preceded by
/// a word character, followed by one) as `-`, `/`, en dash, em dash or horizontal bar.
pub fn windash(value: &str) -> Vec<String> {
    const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
    let chars: Vec<char> = value.chars().collect();
    let positions = flag_dashes(&chars);
    let mut out = vec![chars.clone()];
    for &p in &positions {
        out = out
            .into_iter()
            .flat_map(|v| {
                DASHES.iter().map(move |&d| {
                    let mut v = v.clone();
                    v[p] = d;
                    v
                })
            })
            .collect();
    }
    out.into_iter().map(|v| v.into_iter().collect()).collect()
}

/// Positions of the `-` and `/` that start a flag (`\B[-/]\b`).
fn flag_dashes(chars: &[char]) -> Vec<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    (0..chars.len())
        .filter(|&i| {
            (chars[i] == '-' || chars[i] == '/') && (i == 0 || !is_word(chars[i - 1])) && chars.get(i + 1).is_some_and(|&c| is_word(c))
        })
        .collect()
}

/// Replaces `%name%` placeholders with their configured values (every combination). `\%` is a
/// plain percent sign (the specification's `\%plain%name%`: `%plain` text, `%name%` placeholder).
fn expand(values: &[String], placeholders: Option<&Placeholders>, missing: &mut Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for v in values {
        let mut partial = vec![String::new()];
        let mut rest = v.as_str();
        while let Some(start) = rest.find('%') {
            if rest[..start].ends_with('\\') {
                let plain = format!("{}%", &rest[..start - 1]);
                partial.iter_mut().for_each(|p| p.push_str(&plain));
                rest = &rest[start + 1..];
                continue;
            }
            let Some(len) = rest[start + 1..].find('%') else { break };
            let name = &rest[start + 1..start + 1 + len];
            let prefix = &rest[..start];
            match placeholders.and_then(|p| p.get(name)) {
                Some(subs) => {
                    partial = partial.iter().flat_map(|p| subs.iter().map(move |s| format!("{p}{prefix}{s}"))).collect();
                }
                None => {
                    if !missing.iter().any(|m| m == name) {
                        missing.push(name.to_string());
                    }
                    partial.iter_mut().for_each(|p| {
                        p.push_str(prefix);
                        p.push('%');
                        p.push_str(name);
                        p.push('%');
                    });
                }
            }
            rest = &rest[start + len + 2..];
        }
        out.extend(partial.into_iter().map(|p| p + rest));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64offset_matches_all_three_alignments() {
        // "ping" at each offset of a longer string: the trimmed variants must occur in the
        // encoding of any text containing "ping" (checked with Python's base64 by hand:
        // b64("ping")="cGluZw==", b64(" ping")="IHBpbmc=", b64("  ping")="ICBwaW5n").
        let v = base64_offsets(b"ping");
        assert_eq!(v, vec!["cGluZ", "Bpbm", "waW5n"]);
        for prefix in ["", "a", "ab", "abc"] {
            let enc = base64::engine::general_purpose::STANDARD.encode(format!("{prefix}ping tail"));
            assert!(v.iter().any(|x| enc.contains(x.as_str())), "{prefix}: {enc}");
        }
    }

    #[test]
    fn windash_expands_flag_starts_only() {
        let v = windash("-enc x-y");
        assert_eq!(v.len(), 5);
        assert!(v.contains(&"/enc x-y".to_string()));
        assert!(v.contains(&"\u{2015}enc x-y".to_string()));
        assert!(v.iter().all(|s| s.ends_with("x-y")), "a dash inside a word stays");
        assert_eq!(windash(" -a -b").len(), 25);
    }

    #[test]
    fn expand_reports_missing_placeholders() {
        let mut missing = vec![];
        let mut p = Placeholders::new();
        p.insert("Admins".into(), vec!["root".into(), "admin".into()]);
        let out = expand(&["x%Admins%y".into()], Some(&p), &mut missing);
        assert_eq!(out, vec!["xrooty", "xadminy"]);
        let out = expand(&["%Servers%".into()], Some(&p), &mut missing);
        assert_eq!(out, vec!["%Servers%"]);
        assert_eq!(missing, vec!["Servers"]);
    }
}
