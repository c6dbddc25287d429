//! KQL's string semantics as plain functions: the string operators (`has` matches whole terms,
//! the others substrings, case-insensitive unless `_cs`), `substring`, `split`, `parse_url`,
//! base64. The UDFs in [`super::udf`] apply these to Arrow arrays.

use memchr::memmem::Finder;
use serde_json::{Map, Value as Json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum MatchOp {
    Contains,
    StartsWith,
    EndsWith,
    Has,
    HasPrefix,
    HasSuffix,
    Equals,
}

/// A term character: `has` needs the match to start and end at term boundaries.
fn is_term(c: char) -> bool {
    c.is_alphanumeric()
}

/// One operator with its right-hand side prepared (lowercased unless case-sensitive).
pub struct Matcher {
    op: MatchOp,
    cs: bool,
    needle: String,
    finder: Finder<'static>,
    first_is_term: bool,
    last_is_term: bool,
}

impl Matcher {
    pub fn new(op: MatchOp, cs: bool, needle: &str) -> Matcher {
        let needle = if cs { needle.to_string() } else { fold(needle) };
        let finder = Finder::new(needle.as_bytes()).into_owned();
        let first_is_term = needle.chars().next().is_some_and(is_term);
        let last_is_term = needle.chars().next_back().is_some_and(is_term);
        Matcher { op, cs, needle, finder, first_is_term, last_is_term }
    }

    pub fn matches(&self, hay: &str) -> bool {
        if self.cs {
            self.matches_folded(hay)
        } else if hay.is_ascii() && self.needle.is_ascii() {
            // ASCII fast path without allocating when nothing needs folding.
            if hay.bytes().any(|b| b.is_ascii_uppercase()) {
                self.matches_folded(&hay.to_ascii_lowercase())
            } else {
                self.matches_folded(hay)
            }
        } else {
            self.matches_folded(&fold(hay))
        }
    }

    fn matches_folded(&self, hay: &str) -> bool {
        let n = &self.needle;
        match self.op {
            MatchOp::Equals => hay == n,
            MatchOp::StartsWith => hay.starts_with(n.as_str()),
            MatchOp::EndsWith => hay.ends_with(n.as_str()),
            MatchOp::Contains => n.is_empty() || self.finder.find(hay.as_bytes()).is_some(),
            MatchOp::Has | MatchOp::HasPrefix | MatchOp::HasSuffix => {
                if n.is_empty() {
                    return true;
                }
                let need_start = self.op != MatchOp::HasSuffix && self.first_is_term;
                let need_end = self.op != MatchOp::HasPrefix && self.last_is_term;
                let mut from = 0;
                while from <= hay.len() {
                    let Some(p) = self.finder.find(&hay.as_bytes()[from..]) else { return false };
                    let s = from + p;
                    let e = s + n.len();
                    let start_ok = !need_start || hay[..s].chars().next_back().is_none_or(|c| !is_term(c));
                    let end_ok = !need_end || hay[e..].chars().next().is_none_or(|c| !is_term(c));
                    if start_ok && end_ok {
                        return true;
                    }
                    from = s + hay[s..].chars().next().map_or(1, char::len_utf8);
                }
                false
            }
        }
    }
}

/// Case folding for the case-insensitive operators.
pub fn fold(s: &str) -> String {
    if s.is_ascii() { s.to_ascii_lowercase() } else { s.to_lowercase() }
}

/// `substring(s, start[, length])`: zero-based, in characters; a negative start counts from
/// the end.
pub fn substring(s: &str, start: i64, len: Option<i64>) -> String {
    let n = s.chars().count() as i64;
    let st = if start < 0 { (n + start).max(0) } else { start };
    if st >= n {
        return String::new();
    }
    let take = match len {
        Some(l) if l <= 0 => return String::new(),
        Some(l) => l.min(n - st),
        None => n - st,
    };
    s.chars().skip(st as usize).take(take as usize).collect()
}

/// `split(s, delimiter[, index])` as a dynamic array.
pub fn split(s: &str, delim: &str, index: Option<i64>) -> Json {
    let parts: Vec<&str> = if delim.is_empty() { vec![s] } else { s.split(delim).collect() };
    match index {
        None => Json::Array(parts.into_iter().map(|p| Json::String(p.into())).collect()),
        Some(i) if i >= 0 && (i as usize) < parts.len() => Json::Array(vec![Json::String(parts[i as usize].into())]),
        Some(_) => Json::Array(vec![]),
    }
}

/// `parse_url(url)`: the parts of an absolute URL as a property bag (values as written, no
/// percent-decoding); every part empty when the text is not an absolute URL.
pub fn parse_url(url: &str) -> Json {
    let mut parts = [""; 7];
    let mut query = Map::new();
    if let Some((scheme, rest)) = url.split_once("://")
        && !scheme.is_empty()
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
        let (rest, q) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (&authority[..i], &authority[i + 1..]),
            None => ("", authority),
        };
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        let (host, port) = if hostport.starts_with('[') {
            match hostport.find(']') {
                Some(i) => (&hostport[..=i], hostport[i + 1..].strip_prefix(':').unwrap_or("")),
                None => (hostport, ""),
            }
        } else {
            hostport.rsplit_once(':').unwrap_or((hostport, ""))
        };
        parts = [scheme, host, port, path, user, password, fragment];
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            query.insert(k.to_string(), Json::String(v.to_string()));
        }
    }
    let mut m = Map::new();
    for (name, v) in ["Scheme", "Host", "Port", "Path", "Username", "Password"].iter().zip(parts) {
        m.insert(name.to_string(), Json::String(v.to_string()));
    }
    m.insert("Query Parameters".into(), Json::Object(query));
    m.insert("Fragment".into(), Json::String(parts[6].to_string()));
    Json::Object(m)
}

/// Standard base64 (padding optional) to bytes; None when the text is not base64.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(op: MatchOp, cs: bool, hay: &str, needle: &str) -> bool {
        Matcher::new(op, cs, needle).matches(hay)
    }

    #[test]
    fn has_matches_whole_terms() {
        assert!(m(MatchOp::Has, false, "cmd.exe /c whoami", "WHOAMI"));
        assert!(!m(MatchOp::Has, false, "cmd.exe /c whoami.exe", "who"));
        assert!(m(MatchOp::Has, false, "C:\\Windows\\System32\\schtasks.exe", "schtasks.exe"));
        assert!(!m(MatchOp::Has, false, "xschtasks.exe", "schtasks.exe"));
        // Overlapping candidates: the first occurrence fails the boundary test, a later one passes.
        assert!(m(MatchOp::Has, false, "ba-a-a", "a-a"));
        assert!(m(MatchOp::HasPrefix, false, "run powershell now", "power"));
        assert!(!m(MatchOp::HasPrefix, false, "run xpowershell", "power"));
        assert!(m(MatchOp::HasSuffix, false, "run powershell", "shell"));
        assert!(!m(MatchOp::Has, true, "Run WhoAmI", "whoami"));
        assert!(m(MatchOp::Has, true, "Run WhoAmI", "WhoAmI"));
    }

    #[test]
    fn substring_and_friends() {
        assert_eq!(substring("123456", 1, None), "23456");
        assert_eq!(substring("123456", 2, Some(2)), "34");
        assert_eq!(substring("123456", -2, Some(2)), "56");
        assert_eq!(substring("abc", 5, None), "");
        assert_eq!(split("a_b_c", "_", Some(1)).to_string(), r#"["b"]"#);
        assert_eq!(base64_decode("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(base64_decode("a$"), None);
        let u = parse_url("https://john:123@www.contoso.com:1234/this/is?k1=v1&k2=v2#frag");
        assert_eq!(
            u.to_string(),
            r#"{"Scheme":"https","Host":"www.contoso.com","Port":"1234","Path":"/this/is","Username":"john","Password":"123","Query Parameters":{"k1":"v1","k2":"v2"},"Fragment":"frag"}"#
        );
    }
}
