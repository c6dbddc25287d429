//! Indicators of compromise in (deobfuscated) PowerShell text: URLs, domains, IPv4/IPv6
//! addresses and Windows file paths. Patterns run in linear time; every list is deduplicated,
//! in order of appearance, capped at [`MAX_IOCS`], and values longer than 2048 bytes are skipped.

use super::Iocs;
use regex::Regex;
use std::collections::HashSet;
use std::net::Ipv6Addr;
use std::sync::LazyLock;

/// At most this many values per list.
pub const MAX_IOCS: usize = 1000;
const MAX_IOC_LEN: usize = 2048;
/// A quoted path may hold spaces up to this far (`'C:\Program Files\x.exe'`).
const MAX_QUOTED_PATH: usize = 300;

fn re(p: &str) -> Regex {
    Regex::new(p).expect("built-in pattern compiles")
}

static URL: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)\b(?:https?|ftps?|wss?)://[^\s'"<>`{}|\\^()]+"#));
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,23}"));
static IPV4: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b"));
static IPV6: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)(?:[0-9a-f]{1,4})?:(?:[0-9a-f]{0,4}:){1,7}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-f]{1,4})?"));
static PATH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\b[a-z]:\\[^\s'"<>|*?;]*|%[a-z_][a-z0-9_()]{0,40}%\\[^\s'"<>|*?;]*|\$env:[a-z_][a-z0-9_]{0,40}\\[^\s'"<>|*?;]*|\\\\[a-z0-9._$-]+\\[^\s'"<>|*?;]*"#,
    )
});

/// Top-level domains that make a bare `name.tld` a host name. File extensions that are also
/// TLDs (`.zip`, `.mov`, `.sh`, `.py`, `.pl`, `.md`, `.ps`, `.rs`) and words PowerShell uses as
/// member names (`.name`) are left out; names found in URLs need no listed TLD.
const TLDS: &str = "\
    com net org info biz edu gov mil int io co me ru su cn top xyz online site club live pw tk \
    ml ga cf gq cc ws tv ly to in uk de fr jp kr br nl eu us ca au ch it es se no fi dk cz sk hu \
    ro bg ua by kz ir tr il za ng ke mx ar cl pe ve vn th id my sg hk tw ph pk bd lk np ae sa qa \
    at be gr pt ie lt lv ee nz ms icu vip app dev cloud host space fun website tech store shop \
    work link click download win bid loan men date stream trade review party science onion local \
    lan internal corp example invalid localhost xn--p1ai";

/// Extracts URLs, domains, IPs and paths from `text`.
pub fn extract_iocs(text: &str) -> Iocs {
    let mut urls: Vec<(usize, String)> = Vec::new();
    let mut domains: Vec<(usize, String)> = Vec::new();
    let mut ips: Vec<(usize, String)> = Vec::new();
    let mut paths: Vec<(usize, String)> = Vec::new();

    for m in URL.find_iter(text).take(MAX_IOCS * 4) {
        let url = trim_url(m.as_str());
        if url.len() > MAX_IOC_LEN || url.ends_with("://") || is_fragment(text, m.start(), m.start() + url.len()) {
            continue;
        }
        urls.push((m.start(), url.to_string()));
        match url_host(url) {
            Some(Host::Ip(ip)) => ips.push((m.start(), ip)),
            Some(Host::Name(name)) => domains.push((m.start(), name)),
            None => {}
        }
    }
    for m in DOMAIN.find_iter(text) {
        if domains.len() > MAX_IOCS * 4 {
            break;
        }
        let before = text.get(..m.start()).and_then(|b| b.chars().next_back());
        let after = text.get(m.end()..).and_then(|a| a.chars().next());
        if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '$' | '.' | '-' | '_'))
            || after.is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
        {
            continue;
        }
        if is_fragment(text, m.start(), m.end()) {
            continue;
        }
        let name = m.as_str().to_ascii_lowercase();
        if let Some(name) = bare_domain(&name) {
            domains.push((m.start(), name));
        }
    }
    for m in IPV4.find_iter(text) {
        if ips.len() > MAX_IOCS * 4 {
            break;
        }
        if is_ipv4_at(text, m.start(), m.end()) {
            ips.push((m.start(), m.as_str().to_string()));
        }
    }
    for m in IPV6.find_iter(text) {
        if ips.len() > MAX_IOCS * 4 {
            break;
        }
        let before = text.get(..m.start()).and_then(|b| b.chars().next_back());
        let after = text.get(m.end()..).and_then(|a| a.chars().next());
        if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, ':' | '.' | ']' | '_' | '$'))
            || after.is_some_and(|c| c.is_alphanumeric() || matches!(c, ':' | '_' | '.'))
        {
            continue;
        }
        if is_ipv6(m.as_str()) {
            ips.push((m.start(), m.as_str().to_string()));
        }
    }
    for m in PATH.find_iter(text) {
        if paths.len() > MAX_IOCS * 4 {
            break;
        }
        let before = text.get(..m.start()).and_then(|b| b.chars().next_back());
        if m.as_str().starts_with("\\\\") && before.is_some_and(|c| !(c.is_whitespace() || matches!(c, '"' | '\'' | '(' | '=' | ',' | '>')))
        {
            continue;
        }
        let path = match before {
            Some(q @ ('"' | '\'')) => quoted_path(text, m.start(), q).unwrap_or(m.as_str()),
            _ => m.as_str(),
        };
        let path = trim_path(path);
        if is_fragment(text, m.start(), m.start() + path.len()) {
            continue;
        }
        if path.len() > 3 && path.len() <= MAX_IOC_LEN {
            paths.push((m.start(), path.to_string()));
        }
    }
    Iocs { urls: dedup(urls), domains: dedup(domains), ips: dedup(ips), paths: dedup(paths) }
}

/// A piece of a string being concatenated (`'http://ev'+'il.example'`): not an IOC by itself; the
/// joined string, in a later layer, is.
fn is_fragment(text: &str, start: usize, end: usize) -> bool {
    let after = text.get(end..).unwrap_or("");
    let after = after.strip_prefix(['\'', '"']).map(str::trim_start);
    let before = text.get(..start).unwrap_or("");
    let before = before.strip_suffix(['\'', '"']).map(str::trim_end);
    after.is_some_and(|a| a.starts_with('+')) || before.is_some_and(|b| b.ends_with('+'))
}

fn dedup(mut found: Vec<(usize, String)>) -> Vec<String> {
    found.sort_by_key(|(pos, _)| *pos);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (_, v) in found {
        if out.len() >= MAX_IOCS {
            break;
        }
        if seen.insert(v.clone()) {
            out.push(v);
        }
    }
    out
}

fn trim_url(url: &str) -> &str {
    let mut u = url.trim_end_matches(['.', ',', ';', ':', '!', '?']);
    if u.ends_with(']') && !u.contains('[') {
        u = u.trim_end_matches(']');
    }
    u
}

enum Host {
    Ip(String),
    Name(String),
}

/// The host of a URL: an IP (`[v6]` unbracketed) or a lowercase name; `None` for hosts that are
/// not names (a `$variable`, an empty host).
fn url_host(url: &str) -> Option<Host> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[') {
        let v6 = v6.split(']').next()?;
        return is_ipv6(v6).then(|| Host::Ip(v6.to_string()));
    }
    let host = host_port.split(':').next()?.trim_end_matches('.');
    if is_ipv4(host) {
        return Some(Host::Ip(host.to_string()));
    }
    let valid = !host.is_empty() && host.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'));
    valid.then(|| Host::Name(host.to_lowercase()))
}

fn bare_domain(name: &str) -> Option<String> {
    let (first, _) = name.split_once('.')?;
    let tld = name.rsplit('.').next()?;
    if first == "system" || !TLDS.split_ascii_whitespace().any(|t| t == tld) {
        return None;
    }
    Some(name.to_string())
}

fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n <= 255))
}

/// An IPv4 address that is not part of a longer dotted number or a `Version=` string.
fn is_ipv4_at(text: &str, start: usize, end: usize) -> bool {
    let before = text.get(..start).and_then(|b| b.chars().next_back());
    if before.is_some_and(|c| c == '.' || c.is_alphanumeric()) {
        return false;
    }
    let mut after = text.get(end..).unwrap_or("").chars();
    if after.next() == Some('.') && after.next().is_some_and(|c| c.is_ascii_digit()) {
        return false;
    }
    let window = text.get(start.saturating_sub(10)..start).unwrap_or("").to_ascii_lowercase();
    !window.contains("version") && text.get(start..end).is_some_and(is_ipv4)
}

/// A valid IPv6 address with at least two groups written (`fe80::1`, not `::` or `::1`).
fn is_ipv6(s: &str) -> bool {
    let groups = s.split(':').filter(|g| !g.is_empty()).count();
    groups >= 2 && s.matches(':').count() >= 2 && s.parse::<Ipv6Addr>().is_ok()
}

/// A path opened by a quote runs to the closing quote on the same line (it may hold spaces).
fn quoted_path(text: &str, start: usize, quote: char) -> Option<&str> {
    let rest = text.get(start..)?;
    let end = rest.char_indices().take(MAX_QUOTED_PATH).find(|&(_, c)| c == quote || c == '\n')?;
    (end.1 == quote).then(|| rest.get(..end.0)).flatten()
}

fn trim_path(path: &str) -> &str {
    let mut p = path.trim_end_matches(['.', ',', ':']);
    while p.ends_with(')') && p.matches(')').count() > p.matches('(').count() {
        p = p.get(..p.len() - 1).unwrap_or("");
    }
    p
}
