//! ATT&CK Navigator layers: the techniques a hunt found, scored by the worst incident behind
//! each, with the incidents named in the comment.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use taskhunt_correlate::Incident;

/// A Navigator layer (format 4.5) for the enterprise matrix.
pub fn layer(name: &str, incidents: &[Incident]) -> Value {
    let mut by_tech: BTreeMap<&str, (u32, Vec<&str>)> = BTreeMap::new();
    for inc in incidents {
        for t in &inc.techniques {
            let e = by_tech.entry(t.as_str()).or_insert((0, vec![]));
            e.0 = e.0.max(inc.score);
            e.1.push(inc.id.as_str());
        }
    }
    let techniques: Vec<Value> = by_tech
        .iter()
        .map(|(t, (score, ids))| {
            json!({
                "techniqueID": t,
                "score": score,
                "comment": format!("incidents: {}", ids.join(", ")),
                "enabled": true,
                "showSubtechniques": t.contains('.'),
            })
        })
        .collect();
    json!({
        "name": name,
        "versions": {"attack": "16", "navigator": "5.1.0", "layer": "4.5"},
        "domain": "enterprise-attack",
        "description": "Techniques seen in taskhunt incidents; score = highest incident score (0-100).",
        "sorting": 3,
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {"colors": ["#ffffff", "#ffb000", "#d00000"], "minValue": 0, "maxValue": 100},
        "legendItems": [
            {"label": "low (20-39)", "color": "#ffe08a"},
            {"label": "medium (40-69)", "color": "#ffb000"},
            {"label": "high / critical (70+)", "color": "#d00000"}
        ],
        "metadata": [],
        "showTacticRowBackground": false,
        "selectTechniquesAcrossTactics": true,
    })
}
