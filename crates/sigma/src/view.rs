//! An event as one rule sees it: field lookups through the logsource's field mapping (Security
//! 4688 seen as a Sysmon-style process creation), with lowercased text computed once per field
//! and shared by every rule that tests it.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use taskhunt_events::{Event, FieldName, Value};

/// Field renames and value conversions for one kind of event under one logsource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mapping {
    /// Fields as the event has them.
    Direct,
    /// Security 4688 under `category: process_creation` (SigmaHQ's own mapping).
    Process4688,
}

/// Sysmon process-creation fields a 4688 does not have: a rule testing them must not match a
/// 4688 through a same-named field of different meaning, or by a `null` test by accident.
pub const FIELDS_4688_LACKS: &[&str] = &[
    "OriginalFileName",
    "Hashes",
    "md5",
    "sha1",
    "sha256",
    "Imphash",
    "ParentCommandLine",
    "Description",
    "Product",
    "Company",
    "FileVersion",
    "CurrentDirectory",
    "LogonGuid",
    "ProcessGuid",
    "ParentProcessGuid",
    "TerminalSessionId",
    "ParentUser",
    "GrandParentImage",
    "RuleName",
    "UtcTime",
];

type Texts = Rc<[(Box<str>, Box<str>)]>;

pub struct View<'e> {
    pub event: &'e Event,
    pub mapping: Mapping,
    virtuals: Vec<(FieldName, Value)>,
    hidden: &'static [FieldName],
    texts: RefCell<Vec<(FieldName, Texts)>>,
    keywords: OnceCell<Vec<(Box<str>, Box<str>)>>,
    /// Fields whose names contain spaces (Defender's `Threat Name`), under the space-stripped
    /// names Sigma rules use for them.
    spaced: OnceCell<Vec<(FieldName, usize)>>,
}

fn hidden_4688() -> &'static [FieldName] {
    static HIDDEN: std::sync::OnceLock<Vec<FieldName>> = std::sync::OnceLock::new();
    HIDDEN.get_or_init(|| FIELDS_4688_LACKS.iter().map(|n| FieldName::intern(n)).collect())
}

fn hex_to_uint(v: &Value) -> Option<Value> {
    v.as_u64().map(Value::UInt)
}

impl<'e> View<'e> {
    pub fn new(event: &'e Event, mapping: Mapping) -> View<'e> {
        let mut virtuals = Vec::new();
        let mut hidden: &'static [FieldName] = &[];
        if mapping == Mapping::Process4688 {
            hidden = hidden_4688();
            let f = |name: &str| event.fields.get_str(name);
            let mut put = |name: &str, v: Option<Value>| {
                // A mapped name always shadows the raw field, even when the source is absent.
                virtuals.push((FieldName::intern(name), v.unwrap_or(Value::Null)));
            };
            put("Image", f("NewProcessName").cloned());
            put("ParentImage", f("ParentProcessName").cloned());
            put("ProcessId", f("NewProcessId").and_then(hex_to_uint));
            put("ParentProcessId", f("ProcessId").and_then(hex_to_uint));
            put("IntegrityLevel", f("MandatoryLabel").and_then(|l| integrity_name(&l.to_text())).map(Value::from));
            // The new process runs as the "Target Subject" when the creator started it under
            // another account, and as the creator ("Subject") otherwise (Target is then the
            // null SID). Sysmon names the service accounts NT AUTHORITY\...; a 4688 names SYSTEM
            // after the computer account, so those are taken from the SID.
            let target = f("TargetUserSid").is_some_and(|s| {
                let s = s.to_text();
                !s.is_empty() && s != "S-1-0-0" && s != "-"
            });
            let side = if target { "Target" } else { "Subject" };
            let part = |name: &str| f(&format!("{side}{name}"));
            let user = match (part("UserSid").and_then(|s| service_account(&s.to_text())), part("DomainName"), part("UserName")) {
                (Some(known), _, _) => Some(Value::from(known)),
                (None, Some(d), Some(u)) => Some(Value::from(format!("{}\\{}", d.to_text(), u.to_text()))),
                (None, None, Some(u)) => Some(u.clone()),
                _ => None,
            };
            put("User", user);
            put("LogonId", part("LogonId").cloned());
        }
        View { event, mapping, virtuals, hidden, texts: RefCell::new(Vec::new()), keywords: OnceCell::new(), spaced: OnceCell::new() }
    }

    /// The value of a field as the rule names it; `None` when absent.
    pub fn get(&self, id: FieldName) -> Option<&Value> {
        if !self.virtuals.is_empty() {
            if let Some((_, v)) = self.virtuals.iter().find(|(n, _)| *n == id) {
                return if v.is_null() { None } else { Some(v) };
            }
            if self.hidden.contains(&id) {
                return None;
            }
        }
        self.event.get(id).or_else(|| self.get_spaced(id))
    }

    /// Sigma names fields "as they appear in the log source with all spaces stripped".
    fn get_spaced(&self, id: FieldName) -> Option<&Value> {
        let spaced = self.spaced.get_or_init(|| {
            self.event
                .fields
                .iter()
                .enumerate()
                .filter(|(_, (n, _))| n.as_str().contains(' '))
                .map(|(i, (n, _))| (FieldName::intern(&n.as_str().replace(' ', "")), i))
                .collect()
        });
        let (_, i) = spaced.iter().find(|(n, _)| *n == id)?;
        self.event.fields.iter().nth(*i).map(|(_, v)| v)
    }

    pub fn get_str(&self, name: &str) -> Option<&Value> {
        FieldName::lookup(name).and_then(|id| self.get(id))
    }

    /// The field's text (one per array element), original and lowercased, computed once.
    pub fn texts(&self, id: FieldName) -> Texts {
        if let Some((_, t)) = self.texts.borrow().iter().find(|(n, _)| *n == id) {
            return t.clone();
        }
        let texts: Texts = match self.get(id) {
            None | Some(Value::Null) => Rc::from(Vec::new()),
            Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).map(pair).collect(),
            Some(v) => Rc::from(vec![pair(v)]),
        };
        self.texts.borrow_mut().push((id, texts.clone()));
        texts
    }

    /// Every field value's text, for keyword searches.
    pub fn keyword_texts(&self) -> &[(Box<str>, Box<str>)] {
        self.keywords.get_or_init(|| {
            let mut out = Vec::new();
            for (_, v) in self.event.fields.iter() {
                match v {
                    Value::Null => {}
                    Value::Array(items) => out.extend(items.iter().filter(|v| !v.is_null()).map(pair)),
                    v => out.push(pair(v)),
                }
            }
            out
        })
    }
}

fn pair(v: &Value) -> (Box<str>, Box<str>) {
    let text = v.to_text();
    let lower = text.to_lowercase();
    (text.into_owned().into_boxed_str(), lower.into_boxed_str())
}

/// The names Sysmon reports for the built-in service accounts.
fn service_account(sid: &str) -> Option<&'static str> {
    Some(match sid.trim().to_ascii_uppercase().as_str() {
        "S-1-5-18" => "NT AUTHORITY\\SYSTEM",
        "S-1-5-19" => "NT AUTHORITY\\LOCAL SERVICE",
        "S-1-5-20" => "NT AUTHORITY\\NETWORK SERVICE",
        _ => return None,
    })
}

/// Sysmon's integrity level names for the mandatory-label SIDs of 4688.
pub fn integrity_name(label: &str) -> Option<&'static str> {
    taskhunt_events::tables::integrity_from_label(label)
}
