//! One Windows event, whatever file format it came from.

use super::{FieldName, Timestamp, Value};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::path::PathBuf;
use std::sync::Arc;

/// The file an event was read from, shared by all of its events.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceFile {
    pub path: PathBuf,
    /// What the content was recognised as (`evtx`, `evtx-json`, `ecs-json`, `defender-csv`, ...).
    pub format: &'static str,
}

/// Named values in document order. Events hold 5 to 40 fields, so a linear scan over
/// integer keys beats hashing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(Vec<(FieldName, Value)>);

impl Fields {
    pub fn new() -> Self {
        Fields(Vec::new())
    }

    pub fn with_capacity(n: usize) -> Self {
        Fields(Vec::with_capacity(n))
    }

    /// Adds a field; a repeated name (unnamed `<Data>` elements, say) turns into an array so
    /// that no value is lost.
    pub fn push(&mut self, name: FieldName, value: Value) {
        if let Some((_, existing)) = self.0.iter_mut().find(|(n, _)| *n == name) {
            match existing {
                Value::Array(items) => items.push(value),
                other => {
                    let first = std::mem::replace(other, Value::Null);
                    *other = Value::Array(vec![first, value]);
                }
            }
        } else {
            self.0.push((name, value));
        }
    }

    /// Adds a field the caller knows is not there yet, without looking for it: the evtx
    /// decoder's plans know it from the record they were recorded from.
    pub(crate) fn push_new(&mut self, name: FieldName, value: Value) {
        debug_assert!(self.get(name).is_none(), "{name} is already there");
        self.0.push((name, value));
    }

    pub fn insert_str(&mut self, name: &str, value: Value) {
        self.push(FieldName::intern(name), value);
    }

    pub fn get(&self, name: FieldName) -> Option<&Value> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Lookup by text without allocating.
    pub fn get_str(&self, name: &str) -> Option<&Value> {
        FieldName::lookup(name).and_then(|n| self.get(n))
    }

    pub fn iter(&self) -> impl Iterator<Item = (FieldName, &Value)> {
        self.0.iter().map(|(n, v)| (*n, v))
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = (FieldName, &mut Value)> {
        self.0.iter_mut().map(|(n, v)| (*n, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name.as_str(), value)?;
        }
        map.end()
    }
}

/// A Windows event: the System header every event has, and its EventData or UserData flattened
/// to name → value.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `System/TimeCreated/@SystemTime` (the record header time when absent).
    pub timestamp: Timestamp,
    pub computer: Arc<str>,
    /// Empty when the event has no `Channel` element (some corpus files do not).
    pub channel: Arc<str>,
    pub provider: Arc<str>,
    pub event_id: u32,
    pub record_id: u64,
    pub source: Arc<SourceFile>,
    /// Every System element and attribute under the names Sigma uses: `EventID`, `Channel`,
    /// `Computer`, `Provider_Name`, `Provider_Guid`, `Level`, `Task`, `Keywords`,
    /// `Execution_ProcessID`, `Security_UserID`, ...
    pub system: Fields,
    /// EventData `Data` elements by their `Name`, or the leaves of UserData.
    pub fields: Fields,
}

impl Event {
    /// A field by name: EventData/UserData first, then the System header.
    pub fn get(&self, name: FieldName) -> Option<&Value> {
        self.fields.get(name).or_else(|| self.system.get(name))
    }

    pub fn get_str(&self, name: &str) -> Option<&Value> {
        FieldName::lookup(name).and_then(|n| self.get(n))
    }

    /// Text of a field, or `None` when absent or null.
    pub fn text(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.get_str(name).filter(|v| !v.is_null()).map(|v| v.to_text())
    }

    /// `file:record`, the pointer back to the source that normalized rows carry as `ReportId`.
    pub fn report_id(&self) -> String {
        format!("{}:{}", self.source.path.display(), self.record_id)
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(8))?;
        map.serialize_entry("timestamp", &self.timestamp.to_string())?;
        map.serialize_entry("computer", &*self.computer)?;
        map.serialize_entry("channel", &*self.channel)?;
        map.serialize_entry("provider", &*self.provider)?;
        map.serialize_entry("event_id", &self.event_id)?;
        map.serialize_entry("record_id", &self.record_id)?;
        map.serialize_entry("file", &self.source.path.to_string_lossy())?;
        map.serialize_entry("fields", &self.fields)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_become_arrays() {
        let mut f = Fields::new();
        f.insert_str("Data", Value::str("a"));
        f.insert_str("Data", Value::str("b"));
        f.insert_str("Data", Value::str("c"));
        assert_eq!(f.get_str("Data"), Some(&Value::Array(vec![Value::str("a"), Value::str("b"), Value::str("c")])));
        assert_eq!(f.len(), 1);
    }
}
