//! Process-wide interner for field names.
//!
//! Every event carries a handful of named fields, and every Sigma rule or table column asks for
//! fields by name millions of times. Interning turns each name into a `u32` once, so an event
//! stores `(FieldName, Value)` pairs and a lookup compares integers. Looking a name up never
//! allocates: a name that was never interned cannot be in any event.

use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, RwLock};

/// Upper bound on distinct field names. Field names come from the input, so a hostile file could
/// otherwise grow the table without bound; past the limit new names share one overflow slot.
pub const MAX_FIELD_NAMES: usize = 1 << 20;

/// An interned field name (`CommandLine`, `TaskName`, `Provider_Name`, ...).
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldName(u32);

struct Interner {
    ids: HashMap<&'static str, u32>,
    names: Vec<&'static str>,
}

fn interner() -> &'static RwLock<Interner> {
    static INTERNER: OnceLock<RwLock<Interner>> = OnceLock::new();
    INTERNER.get_or_init(|| RwLock::new(Interner { ids: HashMap::new(), names: Vec::new() }))
}

const OVERFLOW_NAME: &str = "<too many field names>";

impl FieldName {
    /// Interns `name`, returning the same id for the same text every time.
    pub fn intern(name: &str) -> FieldName {
        if let Some(id) = Self::lookup(name) {
            return id;
        }
        let mut table = interner().write().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = table.ids.get(name) {
            return FieldName(id);
        }
        if table.names.len() >= MAX_FIELD_NAMES {
            // Keep the overflow name itself interned so that `as_str` always works.
            if let Some(&id) = table.ids.get(OVERFLOW_NAME) {
                return FieldName(id);
            }
            let id = table.names.len() as u32;
            table.names.push(OVERFLOW_NAME);
            table.ids.insert(OVERFLOW_NAME, id);
            return FieldName(id);
        }
        // Names live for the whole process; leaking gives `&'static str` without a lifetime
        // on every event, and the set is bounded above.
        let stored: &'static str = Box::leak(name.to_owned().into_boxed_str());
        let id = table.names.len() as u32;
        table.names.push(stored);
        table.ids.insert(stored, id);
        FieldName(id)
    }

    /// The id of `name` if any event or rule has used it; never allocates.
    pub fn lookup(name: &str) -> Option<FieldName> {
        let table = interner().read().unwrap_or_else(|e| e.into_inner());
        table.ids.get(name).map(|&id| FieldName(id))
    }

    pub fn as_str(self) -> &'static str {
        let table = interner().read().unwrap_or_else(|e| e.into_inner());
        table.names[self.0 as usize]
    }

    pub fn id(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_str())
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_same_id_and_lookup_does_not_create() {
        let a = FieldName::intern("CommandLine");
        let b = FieldName::intern("CommandLine");
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "CommandLine");
        assert_eq!(FieldName::lookup("CommandLine"), Some(a));
        assert_eq!(FieldName::lookup("NeverSeenFieldName-xyz"), None);
        assert_ne!(FieldName::intern("commandline"), a, "names are case-sensitive");
    }
}
