//! Encoded and obfuscated PowerShell, peeled layer by layer.
//!
//! [`find_encoded_command`] spots an `-EncodedCommand` argument (any spelling PowerShell accepts)
//! in a command line; [`decode_command_line`] decodes it and [`decode_script`] peels a script
//! (4104 ScriptBlockText) the way an analyst would by hand: `[Convert]::FromBase64String`
//! payloads (UTF-16LE or UTF-8, gzip or raw deflate inside), `[char]` arrays, reversed strings,
//! the format operator, string concatenation and backtick escapes, and `IEX` wrappers. Every
//! layer is kept with what was peeled, and [`extract_iocs`] collects URLs, domains, IPs and
//! Windows paths from all of them.
//!
//! Every input is attacker-controlled: depth is bounded by [`max_layers`], every decoded or
//! decompressed text by [`max_decoded_bytes`] (so a gzip bomb costs at most that much), all
//! layers together by [`max_total_bytes`]; patterns are matched by the `regex` crate (linear
//! time), and nothing indexes or unwraps input-derived data.

mod iocs;
mod peel;

pub use iocs::{MAX_IOCS, extract_iocs};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use regex::Regex;
use serde::Serialize;
use std::io::Read;
use std::sync::LazyLock;

/// At most this many layers are kept, the first (the decoded payload or the input) included
/// (limit `decoder_layers`, see `taskhunt_events::limits`).
pub fn max_layers() -> usize {
    taskhunt_events::limits::current().decoder_layers
}

/// Bound on one decoded, decompressed or rewritten text, and on the input taken from a script
/// (limit `decoded_bytes`).
pub fn max_decoded_bytes() -> usize {
    taskhunt_events::limits::current().decoded_bytes
}

/// Bound on the text kept over all layers of one decode: four layers' worth.
pub fn max_total_bytes() -> usize {
    max_decoded_bytes().saturating_mul(4)
}
/// Bound on the number of warnings of one decode (repeated warnings are kept once).
pub const MAX_WARNINGS: usize = 64;

/// An `-EncodedCommand` argument as written in a command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EncodedCommand {
    /// The flag as written, introducer included (`-eNc`, `/e`, `–EncodedCommand`).
    pub flag: String,
    /// The base64 payload as written, without the quotes around it.
    pub payload: String,
}

/// What one layer peeled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    /// The `-EncodedCommand` payload, decoded (base64 of UTF-16LE, or of ASCII).
    EncodedCommand,
    /// `[Convert]::FromBase64String('...')` decoded to text.
    Base64,
    /// A base64 gzip stream (`H4sI...`) decompressed.
    Gzip,
    /// A base64 raw deflate stream (`DeflateStream`) decompressed.
    Deflate,
    /// `[char[]](73,69,88) -join ''`, `[char]73` turned into strings.
    CharArray,
    /// Reversed strings put back: `'txet'[-1..-4] -join ''`, `[array]::Reverse($a)`.
    Reverse,
    /// The format operator evaluated: `"{1}{0}" -f 'a','b'`.
    Format,
    /// Strings put back together: `'Ne'+'w-Obj'+'ect'`, backtick escapes (`` N`e`w ``), and
    /// the redundant parentheses left around a string by the other steps.
    Concat,
    /// `IEX` / `Invoke-Expression` / `&('iex')` / `[scriptblock]::Create` unwrapped: the string
    /// it runs, as code.
    Iex,
    /// The input as given (first layer of [`decode_script`]).
    Plain,
}

/// One layer: what was peeled and the text it revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    pub kind: LayerKind,
    pub text: String,
}

/// Indicators of compromise, each list deduplicated and in order of appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Iocs {
    pub urls: Vec<String>,
    /// Lowercase host names, from URLs and bare names with a real-looking TLD.
    pub domains: Vec<String>,
    /// IPv4 and IPv6 addresses as written.
    pub ips: Vec<String>,
    /// `C:\...`, `%TEMP%\...`, `$env:TEMP\...`, `\\server\share\...`.
    pub paths: Vec<String>,
}

impl Iocs {
    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty() && self.domains.is_empty() && self.ips.is_empty() && self.paths.is_empty()
    }

    fn merge(&mut self, other: Iocs) {
        fn add(into: &mut Vec<String>, from: Vec<String>) {
            for v in from {
                if into.len() >= MAX_IOCS {
                    break;
                }
                if !into.contains(&v) {
                    into.push(v);
                }
            }
        }
        add(&mut self.urls, other.urls);
        add(&mut self.domains, other.domains);
        add(&mut self.ips, other.ips);
        add(&mut self.paths, other.paths);
    }
}

/// The result of peeling: the layers (first = the decoded payload or the input, last = the most
/// readable form), the IOCs of all layers, and what went wrong or was cut short.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Decoded {
    pub layers: Vec<Layer>,
    pub iocs: Iocs,
    pub warnings: Vec<String>,
}

impl Decoded {
    /// The most readable form: the text of the last layer.
    pub fn innermost(&self) -> &str {
        self.layers.last().map(|l| l.text.as_str()).unwrap_or("")
    }

    /// The kinds of the layers, in order.
    pub fn kinds(&self) -> Vec<LayerKind> {
        self.layers.iter().map(|l| l.kind).collect()
    }
}

/// Collects warnings, each once, at most [`MAX_WARNINGS`].
pub(crate) struct Warnings<'a>(&'a mut Vec<String>);

impl Warnings<'_> {
    pub(crate) fn push(&mut self, w: String) {
        if self.0.len() < MAX_WARNINGS && !self.0.contains(&w) {
            self.0.push(w);
        }
    }
}

const INTRODUCERS: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

fn is_encoded_flag(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    lower == "ec" || (!lower.is_empty() && "encodedcommand".starts_with(&lower))
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'')
}

fn is_b64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    let n = needle.as_bytes();
    !n.is_empty() && haystack.as_bytes().windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Finds an -EncodedCommand argument in a command line: every case-insensitive prefix of
/// `encodedcommand` from `e` up (`-e`, `-en`, `-enc`, ... `-encodedcommand`) plus `-ec`;
/// introduced by `-`, `/`, en dash U+2013, em dash U+2014 or horizontal bar U+2015; but NOT
/// `-ex`/`-ep` (ExecutionPolicy) and not `-ea` / `-encodeda...` (EncodedArguments). The payload
/// is the next argument, quoted (`"..."`, `'...'`, `\"...\"`) or not.
///
/// The flag must start an argument (start of line, after whitespace or a quote, so that
/// `cmd /c "powershell -enc ..."` is found) and be followed by whitespace. When the command line
/// names neither `powershell` nor `pwsh` (a renamed copy), only a payload of at least 16 base64
/// characters counts, so that `findstr -e pattern` is not taken for an encoded command.
pub fn find_encoded_command(command_line: &str) -> Option<EncodedCommand> {
    let named = contains_ci(command_line, "powershell") || contains_ci(command_line, "pwsh");
    flags(command_line, 0).find_map(|(flag, word, after)| {
        if !is_encoded_flag(word) {
            return None;
        }
        let payload = next_argument(after.trim_start());
        if payload.is_empty() || (!named && (payload.len() < 16 || !payload.chars().all(is_b64_char))) {
            return None;
        }
        Some(EncodedCommand { flag: flag.to_string(), payload: payload.to_string() })
    })
}

/// The flags of a command line from byte `from` on: `(flag, word, rest)` for every introducer
/// that starts an argument (start, after whitespace or a quote) followed by ASCII letters and
/// whitespace (or the closing quote of `"-enc"` and whitespace); `flag` is as written, `word`
/// its letters, `rest` what follows.
fn flags(command_line: &str, from: usize) -> impl Iterator<Item = (&str, &str, &str)> {
    let tail = command_line.get(from..).unwrap_or("");
    tail.char_indices().filter_map(move |(j, c)| {
        let i = from + j;
        if !INTRODUCERS.contains(&c) {
            return None;
        }
        let before = command_line.get(..i).and_then(|b| b.chars().next_back());
        if !(before.is_none_or(|b| b.is_whitespace() || is_quote(b))) {
            return None;
        }
        let start_word = i + c.len_utf8();
        let rest = command_line.get(start_word..)?;
        let word_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (word, mut after) = (rest.get(..word_len)?, rest.get(word_len..)?);
        if let Some(q) = before.filter(|&b| is_quote(b)) {
            after = after.strip_prefix(q).unwrap_or(after);
        }
        let fits = word_len > 0 && word_len <= "encodedcommand".len() && after.starts_with(char::is_whitespace);
        fits.then_some((command_line.get(i..start_word + word_len)?, word, after))
    })
}

/// The script text of a command line without an encoded command: the argument of `-Command`
/// (`-c` ... `-command`, after the `powershell`/`pwsh` name when there is one) to the end of the
/// line, with one level of double quotes removed; else the whole line. `\"` is read as `"`.
fn command_text(command_line: &str) -> String {
    let lower = command_line.to_ascii_lowercase();
    let from = ["powershell", "pwsh"].iter().filter_map(|n| lower.find(n).map(|p| p + n.len())).min().unwrap_or(0);
    let found = flags(command_line, from).find(|(_, word, _)| "command".starts_with(&word.to_ascii_lowercase()));
    let text = match found {
        Some((_, _, after)) => {
            let arg = after.trim();
            match arg.strip_prefix('"') {
                Some(inner) => inner.strip_suffix('"').unwrap_or(inner),
                None => arg,
            }
        }
        None => command_line,
    };
    text.replace("\\\"", "\"")
}

/// The argument at the start of `s`, without its quotes: a quoted argument that holds only
/// base64 and whitespace is taken whole, otherwise up to whitespace or a quote.
fn next_argument(s: &str) -> &str {
    let s = s.strip_prefix('\\').filter(|r| r.starts_with('"')).unwrap_or(s);
    let Some(open) = s.chars().next() else { return "" };
    if is_quote(open) {
        let inner = s.get(open.len_utf8()..).unwrap_or_default();
        let close = inner.find(open).unwrap_or(inner.len());
        let quoted = inner.get(..close).unwrap_or_default();
        let quoted = quoted.strip_suffix('\\').unwrap_or(quoted);
        if quoted.chars().all(|c| is_b64_char(c) || c.is_whitespace()) {
            return quoted.trim();
        }
        return until_break(quoted);
    }
    until_break(s)
}

fn until_break(s: &str) -> &str {
    let end = s.find(|c: char| c.is_whitespace() || is_quote(c) || c == '\\').unwrap_or(s.len());
    s.get(..end).unwrap_or_default()
}

/// Decodes the command line's encoded command (base64 of UTF-16LE, or of ASCII when the payload
/// is the `SUVYI`/`aWV4I` variant), then peels the layers inside. Without an encoded command the
/// command line itself is peeled (`powershell -c "IEX ('Ne'+'w-Object ...')"`, with `\"` read as
/// `"`); `None` when there is neither an encoded command nor anything to peel.
pub fn decode_command_line(command_line: &str) -> Option<Decoded> {
    let mut d = Decoded::default();
    let encoded = find_encoded_command(command_line);
    let mut w = Warnings(&mut d.warnings);
    let first = match &encoded {
        Some(enc) => {
            let bytes = decode_base64(&enc.payload, "payload", &mut w);
            Layer { kind: LayerKind::EncodedCommand, text: bytes_to_text(&bytes, true, &mut w) }
        }
        None => Layer { kind: LayerKind::Plain, text: command_text(clamp(command_line, &mut w)) },
    };
    d.layers.push(first);
    peel_layers(&mut d);
    if encoded.is_none() && d.layers.len() < 2 {
        return None;
    }
    collect_iocs(&mut d);
    Some(d)
}

/// Peels layers from a script text (4104 ScriptBlockText, a `.ps1`); the first layer is the
/// script itself (cut at [`max_decoded_bytes`]).
pub fn decode_script(script: &str) -> Decoded {
    let mut d = Decoded::default();
    let text = clamp(script, &mut Warnings(&mut d.warnings)).to_string();
    d.layers.push(Layer { kind: LayerKind::Plain, text });
    peel_layers(&mut d);
    collect_iocs(&mut d);
    d
}

/// `s` cut to [`max_decoded_bytes`] at a character boundary.
fn clamp<'a>(s: &'a str, w: &mut Warnings) -> &'a str {
    let max = max_decoded_bytes();
    if s.len() <= max {
        return s;
    }
    w.push(format!("input of {} bytes cut to {max} bytes (limit decoded_bytes)", s.len()));
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

fn collect_iocs(d: &mut Decoded) {
    let mut all = Iocs::default();
    for layer in &d.layers {
        all.merge(extract_iocs(&layer.text));
    }
    d.iocs = all;
}

fn peel_layers(d: &mut Decoded) {
    let (max_layers, max_total) = (max_layers(), max_total_bytes());
    let mut total: usize = d.layers.iter().map(|l| l.text.len()).sum();
    while let Some(current) = d.layers.last() {
        let mut w = Warnings(&mut d.warnings);
        let Some((kind, next)) = peel_once(&current.text, &mut w) else { break };
        if next == current.text {
            break;
        }
        if d.layers.len() >= max_layers {
            w.push(format!("stopped after {max_layers} layers (limit decoder_layers)"));
            break;
        }
        let next = clamp(&next, &mut w).to_string();
        if total.saturating_add(next.len()) > max_total {
            w.push(format!("stopped: the layers exceed {max_total} bytes in all (4 × limit decoded_bytes)"));
            break;
        }
        total += next.len();
        d.layers.push(Layer { kind, text: next });
    }
}

/// One peeling step: the first rewrite that changes the text, in the order string-level
/// simplifications, base64 payloads, nested `-EncodedCommand`, `IEX` wrappers.
fn peel_once(text: &str, w: &mut Warnings) -> Option<(LayerKind, String)> {
    let mut m = peel::mask(text);
    let vars = peel::vars(&m);
    let simplifiers: [(LayerKind, peel::Peeler); 4] = [
        (LayerKind::CharArray, peel::char_array),
        (LayerKind::Reverse, peel::reverse),
        (LayerKind::Format, peel::format),
        (LayerKind::Concat, peel::concat),
    ];
    for (kind, f) in simplifiers {
        if let Some(code) = f(&mut m, &vars) {
            return Some((kind, peel::unmask(&code, &m.lits)));
        }
    }
    if let Some(found) = from_base64(&m, &vars, w) {
        return Some(found);
    }
    let nested = (contains_ci(text, "powershell") || contains_ci(text, "pwsh"))
        .then(|| find_encoded_command(text))
        .flatten()
        .filter(|e| e.payload.len() >= 8 && e.payload.chars().all(is_b64_char));
    if let Some(enc) = nested {
        let bytes = decode_base64(&enc.payload, "nested -EncodedCommand payload", w);
        let inner = bytes_to_text(&bytes, true, w);
        if !inner.trim().is_empty() {
            return Some((LayerKind::EncodedCommand, inner));
        }
    }
    peel::iex(&mut m, &vars).map(|code| (LayerKind::Iex, peel::unmask(&code, &m.lits)))
}

static FROM_BASE64: LazyLock<Regex> =
    LazyLock::new(|| peel::regex(r"(?i)\[(?:system\.)?convert\]\s*::\s*frombase64string\s*\(\s*(?:(?P<lit>LIT)|\$(?P<var>\w+))\s*\)"));
static FROM_BASE64_HINT: LazyLock<Regex> = LazyLock::new(|| peel::regex(r"(?i)frombase64string"));
static DEFLATE_STREAM: LazyLock<Regex> = LazyLock::new(|| peel::regex(r"(?i)deflatestream"));

/// At most this many `FromBase64String` payloads are decoded per layer.
const MAX_PAYLOADS_PER_LAYER: usize = 256;

/// The text of every `[Convert]::FromBase64String(...)` payload in the code (a literal or a
/// variable assigned one), decompressed when it is gzip (by its magic) or deflate (when the code
/// uses `DeflateStream`), joined by newlines. Binary payloads (shellcode, PE images) are
/// reported as warnings, not layers.
fn from_base64(m: &peel::Masked, vars: &peel::Vars, w: &mut Warnings) -> Option<(LayerKind, String)> {
    if !FROM_BASE64_HINT.is_match(&m.code) {
        return None;
    }
    let deflate = DEFLATE_STREAM.is_match(&m.code);
    let mut kind = None;
    let mut parts: Vec<String> = Vec::new();
    let mut size = 0usize;
    for caps in FROM_BASE64.captures_iter(&m.code).take(MAX_PAYLOADS_PER_LAYER) {
        let value = match (caps.name("lit"), caps.name("var")) {
            (Some(l), _) => peel::token_value(l.as_str(), &m.lits),
            (None, Some(v)) => vars.value(v.as_str(), &m.lits),
            _ => None,
        };
        let Some(value) = value else { continue };
        let bytes = decode_base64(&value, "base64 literal", w);
        if bytes.is_empty() {
            continue;
        }
        let (this_kind, bytes) = if bytes.starts_with(&[0x1f, 0x8b]) {
            match inflate(flate2::read::GzDecoder::new(bytes.as_slice()), "gzip", w) {
                Some(out) => (LayerKind::Gzip, out),
                None => continue,
            }
        } else if deflate {
            match inflate(flate2::read::DeflateDecoder::new(bytes.as_slice()), "deflate", w) {
                Some(out) => (LayerKind::Deflate, out),
                None => (LayerKind::Base64, bytes),
            }
        } else {
            (LayerKind::Base64, bytes)
        };
        let text = bytes_to_text(&bytes, false, w);
        if looks_binary(&text) {
            let what = if bytes.starts_with(b"MZ") { " (a PE image: starts with MZ)" } else { "" };
            w.push(format!("base64 literal decodes to {} bytes of binary data{what}", bytes.len()));
            continue;
        }
        if size.saturating_add(text.len()) > max_decoded_bytes() {
            w.push(format!("base64 payloads beyond {} bytes in one layer skipped (limit decoded_bytes)", max_decoded_bytes()));
            break;
        }
        size += text.len() + 1;
        kind.get_or_insert(this_kind);
        parts.push(text);
    }
    kind.map(|k| (k, parts.join("\n")))
}

const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true).with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Lenient base64, as `FromBase64String` reads it (whitespace ignored). At the first character
/// outside the alphabet decoding stops with a warning naming its byte offset in `s` as written,
/// and what came before is decoded; a dangling last character (a cut payload) is dropped.
fn decode_base64(s: &str, what: &str, w: &mut Warnings) -> Vec<u8> {
    let max = max_decoded_bytes();
    let max_chars = max / 3 * 4;
    let mut clean: Vec<u8> = Vec::with_capacity(s.len().min(max_chars));
    let mut padded = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if !padded => clean.push(b),
            b'=' => padded = true,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => {
                let c = s.get(i..).and_then(|r| r.chars().next()).unwrap_or('?');
                let why = if padded { "data after padding" } else { "not in the alphabet" };
                w.push(format!("{what} is not valid base64 at byte {i} ({c:?}: {why})"));
                break;
            }
        }
        if clean.len() >= max_chars {
            w.push(format!("{what} decodes to more than {max} bytes; kept the first {max} (limit decoded_bytes)"));
            break;
        }
    }
    if clean.len() % 4 == 1 {
        w.push(format!("{what} ends with a dangling base64 character (cut short?)"));
        clean.pop();
    }
    match B64.decode(&clean) {
        Ok(bytes) => bytes,
        Err(e) => {
            w.push(format!("{what} could not be decoded: {e}"));
            Vec::new()
        }
    }
}

/// Reads a decompressor to at most [`max_decoded_bytes`]; a corrupt or cut stream keeps what was
/// decompressed before the damage.
fn inflate<R: Read>(reader: R, what: &str, w: &mut Warnings) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let max = max_decoded_bytes();
    let limit = max as u64 + 1;
    if let Err(e) = reader.take(limit).read_to_end(&mut out) {
        if out.is_empty() {
            w.push(format!("{what} stream could not be decompressed: {e}"));
            return None;
        }
        w.push(format!("{what} stream is damaged or cut short after {} bytes: {e}", out.len()));
    }
    if out.len() > max {
        out.truncate(max);
        w.push(format!("{what} stream decompresses to more than {max} bytes; kept the first {max} (limit decoded_bytes)"));
    }
    Some(out)
}

/// Bytes to text: UTF-16LE when it has a BOM or looks like it (zero high bytes), else UTF-8 when
/// valid; otherwise UTF-16LE for `-EncodedCommand` (`utf16_default`, what PowerShell does) or
/// lossy UTF-8. Invalid sequences become U+FFFD with a warning, never a panic.
fn bytes_to_text(bytes: &[u8], utf16_default: bool, w: &mut Warnings) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        return utf16(rest, w);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    let pairs = bytes.len() / 2;
    let zero_high = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if pairs > 0 && zero_high * 4 >= pairs {
        return utf16(bytes, w);
    }
    if let Ok(s) = std::str::from_utf8(bytes)
        && !looks_binary(s)
    {
        return s.to_string();
    }
    if utf16_default {
        w.push("decoded payload does not look like UTF-16LE text".to_string());
        utf16(bytes, w)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

fn utf16(bytes: &[u8], w: &mut Warnings) -> String {
    if bytes.len() % 2 == 1 {
        w.push(format!("decoded payload has an odd number of bytes ({}): the last one is ignored", bytes.len()));
    }
    let units = bytes.chunks_exact(2).map(|p| u16::from_le_bytes([p.first().copied().unwrap_or(0), p.get(1).copied().unwrap_or(0)]));
    let mut bad = 0usize;
    let text: String = char::decode_utf16(units)
        .map(|r| {
            r.unwrap_or_else(|_| {
                bad += 1;
                char::REPLACEMENT_CHARACTER
            })
        })
        .collect();
    if bad > 0 {
        w.push(format!("decoded payload has {bad} invalid UTF-16 code units"));
    }
    text
}

/// More than a tenth control characters (other than tab and line breaks) or U+FFFD.
fn looks_binary(s: &str) -> bool {
    let mut total = 0usize;
    let mut odd = 0usize;
    for c in s.chars() {
        total += 1;
        if (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || c == char::REPLACEMENT_CHARACTER {
            odd += 1;
        }
    }
    total > 0 && odd * 10 > total
}
