//! Why a rule matched: the selections that held and, for each, the fields and values that made
//! them hold, so a hunter can check a detection in seconds.

use crate::rule::Rule;
use crate::view::View;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub selection: String,
    /// `None` for keyword matches.
    pub field: Option<String>,
    pub modifiers: Vec<String>,
    /// The event's value of the field (cut to 200 characters).
    pub value: Option<String>,
}

/// Reasons for `rule` matching the event behind `view`: one per field test of each selection
/// that holds (negated selections are not listed: they hold by what is absent).
pub fn explain(rule: &Rule, view: &View) -> Vec<Reason> {
    let mut out = Vec::new();
    for sel in &rule.selections {
        let Some(tests) = sel.matching_map(view) else { continue };
        for t in tests {
            let value = t.field_id.and_then(|id| view.get(id)).map(|v| {
                let text = v.to_text();
                if text.chars().count() > 200 { text.chars().take(200).collect::<String>() + "…" } else { text.into_owned() }
            });
            out.push(Reason {
                selection: sel.name.clone(),
                field: t.field.clone(),
                modifiers: t.modifiers.iter().map(|m| format!("{m:?}").to_lowercase()).collect(),
                value,
            });
        }
    }
    out
}
