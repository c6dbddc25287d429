//! Resource limits against hostile input: one place that says how far taskhunt goes with a
//! value an attacker controls before it stops, reports, and moves on.
//!
//! Every limit has a default sized well above anything real telemetry or the SigmaHQ rule set
//! needs (docs/limits.md gives the reasoning and where each is reported). The process-wide
//! values are read when a file, rule or task is processed, so a change applies to what is read
//! afterwards; `taskhunt --limit NAME=VALUE` sets them from the command line.

use serde::Serialize;
use std::sync::RwLock;

/// The limits, all in their natural unit (bytes, levels, counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// JSON lines and CSV: a line longer than this is skipped and reported (bytes).
    pub line_bytes: usize,
    /// Any text field of an event read from JSON or CSV is cut to this many bytes, and the cut
    /// is reported. (An evtx value cannot exceed its 64 KiB chunk.)
    pub field_bytes: usize,
    /// Task XML: the largest document parsed (bytes), the deepest nesting and the most elements.
    /// No DTD is ever processed, so entities cannot expand.
    pub xml_bytes: usize,
    pub xml_depth: usize,
    pub xml_nodes: usize,
    /// PowerShell decoding: layers peeled (base64 in base64 in a compressed stream ...), and the
    /// bytes any one layer may decode to.
    pub decoder_layers: usize,
    pub decoded_bytes: usize,
    /// Sigma: compiled size of one rule's regular expression (bytes), and the backtracking steps
    /// a look-around pattern may take on one value.
    pub regex_bytes: usize,
    pub regex_backtrack: usize,
    /// Sigma correlations: open windows (distinct group-by values) one correlation rule keeps;
    /// past it, new groups are dropped and the rule is reported.
    pub correlation_groups: usize,
    /// evtx: nodes built plus values produced while decoding one 64 KiB chunk. Templates let a
    /// few record bytes stand for thousands of nodes; past it, the chunk's remaining records
    /// are skipped and reported.
    pub chunk_work: usize,
}

const DEFAULTS: Limits = Limits {
    line_bytes: 64 << 20,
    field_bytes: 4 << 20,
    xml_bytes: 4 << 20,
    xml_depth: 64,
    xml_nodes: 100_000,
    decoder_layers: 16,
    decoded_bytes: 16 << 20,
    regex_bytes: 10 << 20,
    regex_backtrack: 100_000,
    correlation_groups: 1_000_000,
    chunk_work: 1 << 20,
};

impl Default for Limits {
    fn default() -> Self {
        DEFAULTS
    }
}

/// `NAME=VALUE` that does not name a limit or holds no number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimitError {
    #[error("unknown limit {0:?}; the limits are: {list}", list = Limits::NAMES.join(", "))]
    Unknown(String),
    #[error("limit {name}: {value:?} is not a positive whole number (suffixes k, M, G allowed)")]
    BadValue { name: String, value: String },
    #[error("expected NAME=VALUE, got {0:?}")]
    Syntax(String),
}

impl Limits {
    pub const NAMES: [&'static str; 11] = [
        "line_bytes",
        "field_bytes",
        "xml_bytes",
        "xml_depth",
        "xml_nodes",
        "decoder_layers",
        "decoded_bytes",
        "regex_bytes",
        "regex_backtrack",
        "correlation_groups",
        "chunk_work",
    ];

    fn slot(&mut self, name: &str) -> Option<&mut usize> {
        Some(match name {
            "line_bytes" => &mut self.line_bytes,
            "field_bytes" => &mut self.field_bytes,
            "xml_bytes" => &mut self.xml_bytes,
            "xml_depth" => &mut self.xml_depth,
            "xml_nodes" => &mut self.xml_nodes,
            "decoder_layers" => &mut self.decoder_layers,
            "decoded_bytes" => &mut self.decoded_bytes,
            "regex_bytes" => &mut self.regex_bytes,
            "regex_backtrack" => &mut self.regex_backtrack,
            "correlation_groups" => &mut self.correlation_groups,
            "chunk_work" => &mut self.chunk_work,
            _ => return None,
        })
    }

    /// Applies `NAME=VALUE` (`field_bytes=1M`, `xml_depth=32`).
    pub fn set_named(&mut self, assignment: &str) -> Result<(), LimitError> {
        let (name, value) = assignment.split_once('=').ok_or_else(|| LimitError::Syntax(assignment.to_string()))?;
        let (name, value) = (name.trim(), value.trim());
        let slot = self.slot(name).ok_or_else(|| LimitError::Unknown(name.to_string()))?;
        *slot = parse_size(value).filter(|&v| v > 0).ok_or_else(|| LimitError::BadValue { name: name.into(), value: value.into() })?;
        Ok(())
    }
}

fn parse_size(s: &str) -> Option<usize> {
    let (digits, scale) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 1 << 10),
        (i, 'm' | 'M') => (&s[..i], 1 << 20),
        (i, 'g' | 'G') => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    digits.replace('_', "").parse::<usize>().ok()?.checked_mul(scale)
}

static CURRENT: RwLock<Limits> = RwLock::new(DEFAULTS);

/// The limits in force.
pub fn current() -> Limits {
    *CURRENT.read().unwrap_or_else(|e| e.into_inner())
}

/// Sets the limits for everything read from now on.
pub fn set(limits: Limits) {
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = limits;
}

/// Cuts every text value of `fields` longer than `max` bytes (arrays included); returns the
/// names and original lengths of those cut, for the caller to report.
pub fn cut_fields(fields: &mut crate::Fields, max: usize) -> Vec<(crate::FieldName, usize)> {
    fn cut_value(v: &mut crate::Value, max: usize) -> Option<usize> {
        match v {
            crate::Value::Str(s) => {
                let len = s.len();
                let kept = cut(s, max)?.to_string();
                *s = kept.into();
                Some(len)
            }
            crate::Value::Array(items) => items.iter_mut().filter_map(|i| cut_value(i, max)).max(),
            _ => None,
        }
    }
    fields.values_mut().filter_map(|(name, v)| cut_value(v, max).map(|len| (name, len))).collect()
}

/// Cuts `text` to at most `max` bytes at a character boundary; `None` when it fits.
pub fn cut(text: &str, max: usize) -> Option<&str> {
    if text.len() <= max {
        return None;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(&text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_static_defaults_are_the_documented_ones() {
        assert_eq!(current(), Limits::default());
    }

    #[test]
    fn assignments_parse_with_suffixes_and_reject_nonsense() {
        let mut l = Limits::default();
        l.set_named("field_bytes=1M").unwrap();
        l.set_named(" xml_depth = 32 ").unwrap();
        l.set_named("line_bytes=2_048k").unwrap();
        assert_eq!((l.field_bytes, l.xml_depth, l.line_bytes), (1 << 20, 32, 2048 << 10));
        assert_eq!(l.set_named("xml_dept=3"), Err(LimitError::Unknown("xml_dept".into())));
        assert!(matches!(l.set_named("xml_depth=0"), Err(LimitError::BadValue { .. })));
        assert!(matches!(l.set_named("xml_depth=-1"), Err(LimitError::BadValue { .. })));
        assert!(matches!(l.set_named("xml_depth=99999999999999999999G"), Err(LimitError::BadValue { .. })));
        assert_eq!(l.set_named("xml_depth"), Err(LimitError::Syntax("xml_depth".into())));
        assert!(LimitError::Unknown("x".into()).to_string().contains("correlation_groups"));
    }

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut("abc", 3), None);
        assert_eq!(cut("abcd", 3), Some("abc"));
        // 'é' is two bytes: a cut inside it backs off to before it.
        assert_eq!(cut("aé", 2), Some("a"));
    }
}
