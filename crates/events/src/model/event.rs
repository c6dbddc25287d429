//! One Windows event, whatever file format it came from.

use super::{FieldName, Timestamp, Value};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::collections::HashMap;
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
/// integer keys beats hashing; but a crafted record can flatten into thousands of distinct
/// names, and a scan per push made such a record cost the square of its size, so past
/// [`SCAN_MAX`] fields lookups go through an index built on the spot.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    items: Vec<(FieldName, Value)>,
    // Boxed: an event has two `Fields`, and almost none need the index; a pointer keeps them
    // small.
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<FieldName, usize>>>,
}

/// Up to this many fields a scan is cheaper than a hash lookup.
const SCAN_MAX: usize = 48;

impl PartialEq for Fields {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl Fields {
    pub fn new() -> Self {
        Fields::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Fields { items: Vec::with_capacity(n), index: None }
    }

    fn position(&self, name: FieldName) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(&name).copied(),
            None => self.items.iter().position(|(n, _)| *n == name),
        }
    }

    fn append(&mut self, name: FieldName, value: Value) {
        self.items.push((name, value));
        let at = self.items.len() - 1;
        match &mut self.index {
            Some(index) => {
                index.insert(name, at);
            }
            None if self.items.len() > SCAN_MAX => {
                // First occurrence wins, as the scan finds it.
                let mut index = HashMap::with_capacity(self.items.len() * 2);
                for (i, (n, _)) in self.items.iter().enumerate() {
                    index.entry(*n).or_insert(i);
                }
                self.index = Some(Box::new(index));
            }
            None => {}
        }
    }

    /// Adds a field; a repeated name (unnamed `<Data>` elements, say) turns into an array so
    /// that no value is lost.
    pub fn push(&mut self, name: FieldName, value: Value) {
        match self.position(name) {
            Some(at) => match &mut self.items[at].1 {
                Value::Array(items) => items.push(value),
                other => {
                    let first = std::mem::replace(other, Value::Null);
                    *other = Value::Array(vec![first, value]);
                }
            },
            None => self.append(name, value),
        }
    }

    /// Adds a field the caller knows is not there yet, without looking for it: the evtx
    /// decoder's plans know it from the record they were recorded from.
    pub(crate) fn push_new(&mut self, name: FieldName, value: Value) {
        debug_assert!(self.get(name).is_none(), "{name} is already there");
        self.append(name, value);
    }

    pub fn insert_str(&mut self, name: &str, value: Value) {
        self.push(FieldName::intern(name), value);
    }

    pub fn get(&self, name: FieldName) -> Option<&Value> {
        self.position(name).map(|at| &self.items[at].1)
    }

    /// Lookup by text without allocating.
    pub fn get_str(&self, name: &str) -> Option<&Value> {
        FieldName::lookup(name).and_then(|n| self.get(n))
    }

    pub fn iter(&self) -> impl Iterator<Item = (FieldName, &Value)> {
        self.items.iter().map(|(n, v)| (*n, v))
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = (FieldName, &mut Value)> {
        self.items.iter_mut().map(|(n, v)| (*n, v))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.items.len()))?;
        for (name, value) in &self.items {
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

    /// The order a hunt reads events in: time, then host, then record id. Sorting by it (stably)
    /// gives the same order whether the events came a file at a time or all at once.
    pub fn hunt_order(&self) -> (Timestamp, &str, u64) {
        (self.timestamp, &self.computer, self.record_id)
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

    /// Past `SCAN_MAX` fields lookups go through the index: it must find what the scan found,
    /// keep document order, merge repeats into arrays and not count in equality.
    #[test]
    fn many_fields_behave_as_few() {
        let n = SCAN_MAX * 4;
        let mut f = Fields::new();
        for i in 0..n {
            f.insert_str(&format!("ManyFieldsTest{i}"), Value::Int(i as i64));
        }
        assert!(f.index.is_some());
        assert_eq!(f.len(), n);
        assert_eq!(f.get_str("ManyFieldsTest0"), Some(&Value::Int(0)));
        assert_eq!(f.get_str(&format!("ManyFieldsTest{}", n - 1)), Some(&Value::Int(n as i64 - 1)));
        assert_eq!(f.get_str("ManyFieldsTestNone"), None);
        // A repeat of an early field and of one added after the index was built.
        f.insert_str("ManyFieldsTest3", Value::str("again"));
        f.insert_str(&format!("ManyFieldsTest{}", n - 2), Value::str("again"));
        assert_eq!(f.len(), n);
        assert_eq!(f.get_str("ManyFieldsTest3"), Some(&Value::Array(vec![Value::Int(3), Value::str("again")])));
        assert_eq!(
            f.get_str(&format!("ManyFieldsTest{}", n - 2)),
            Some(&Value::Array(vec![Value::Int(n as i64 - 2), Value::str("again")]))
        );
        let names: Vec<String> = f.iter().map(|(name, _)| name.as_str().to_string()).collect();
        assert_eq!(names, (0..n).map(|i| format!("ManyFieldsTest{i}")).collect::<Vec<_>>());
        // Same items built without the index (the scan only) compare equal.
        let plain = Fields { items: f.items.clone(), index: None };
        assert_eq!(plain, f);
    }
}
