//! Hunt playbooks: a hypothesis, its ATT&CK mapping, the telemetry it needs, and the steps that
//! test it (Sigma rule sets, KQL/SPL/SQL hunts, task scoring, correlation). `docs/playbooks.md`
//! documents the format.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const BUILTIN: &[(&str, &str)] = &[("t1053-scheduled-task-abuse", include_str!("../../playbooks/t1053-scheduled-task-abuse.yml"))];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Technique {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Telemetry {
    pub channel: String,
    #[serde(default)]
    pub event_ids: Vec<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineQuery {
    #[serde(default)]
    pub title: String,
    pub lang: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum QueryRef {
    Named(String),
    Inline(InlineQuery),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Step {
    /// `builtin`, or a path to Sigma rules.
    Sigma(String),
    Query(QueryRef),
    /// Task inventory and scoring (always part of a hunt; options reserved).
    #[allow(dead_code)]
    Tasks(BTreeMap<String, serde_json::Value>),
    /// Correlation into incidents; `min_score` sets the reporting threshold.
    Correlate(BTreeMap<String, serde_json::Value>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub name: String,
    pub title: String,
    pub hypothesis: String,
    #[serde(default)]
    pub attack: Vec<Technique>,
    #[serde(default)]
    pub telemetry: Vec<Telemetry>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub meaning: String,
    #[serde(default)]
    pub recommendations: Vec<String>,
}

impl Playbook {
    pub fn parse(text: &str, origin: &str) -> Result<Playbook> {
        let p: Playbook = serde_saphyr::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        if p.steps.is_empty() {
            bail!("{origin}: a playbook needs at least one step");
        }
        // Mistakes that would otherwise only show up in the report, after the whole hunt ran.
        for (i, step) in p.steps.iter().enumerate() {
            let n = i + 1;
            match step {
                Step::Query(QueryRef::Named(name)) if taskhunt_query::hunts::find(name).is_none() => {
                    let known: Vec<String> = taskhunt_query::hunts::builtin().into_iter().map(|h| h.name).collect();
                    bail!("{origin}: step {n}: no built-in hunt named {name:?} (built-in: {})", known.join(", "));
                }
                Step::Query(QueryRef::Inline(q)) if taskhunt_query::Lang::parse(&q.lang).is_none() => {
                    bail!("{origin}: step {n}: query language {:?} is not kql, spl or sql", q.lang);
                }
                Step::Correlate(opts) => {
                    for (k, v) in opts {
                        if k != "min_score" {
                            bail!("{origin}: step {n}: unknown correlate option {k:?} (known: min_score)");
                        }
                        if v.as_u64().is_none_or(|x| x > 100) {
                            bail!("{origin}: step {n}: min_score must be a whole number from 0 to 100, not {v}");
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(p)
    }

    /// A built-in playbook by name, or a YAML file.
    pub fn load(name_or_path: &str) -> Result<Playbook> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Playbook::parse(text, name_or_path);
        }
        let path = std::path::Path::new(name_or_path);
        if !path.exists() {
            bail!(
                "no playbook {name_or_path:?}: built-in playbooks are {}, or give a YAML file",
                BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            );
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Playbook::parse(&text, name_or_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_playbook_parses() {
        let p = Playbook::load("t1053-scheduled-task-abuse").unwrap();
        assert_eq!(p.attack[0].id, "T1053.005");
        assert!(p.steps.iter().any(|s| matches!(s, Step::Correlate(_))));
        assert!(p.steps.iter().any(|s| matches!(s, Step::Query(QueryRef::Named(n)) if n == "writeup-rundll32")));
        assert!(Playbook::parse("name: x\ntitle: y\nhypothesis: z\nsteps: []\n", "t").is_err());
        assert!(Playbook::parse("name: x\ntitle: y\nhypothesis: z\nsteps:\n  - bogus: 1\n", "t").is_err());
    }

    #[test]
    fn steps_are_checked_when_the_playbook_loads() {
        let with = |step: &str| Playbook::parse(&format!("name: x\ntitle: y\nhypothesis: z\nsteps:\n  - {step}\n"), "p.yml");
        let err = |step: &str| with(step).unwrap_err().to_string();
        assert!(with("query: hidden-tasks").is_ok());
        assert!(with("query: {title: t, lang: SPL, text: 'index=security'}").is_ok());
        assert!(with("correlate: {min_score: 40}").is_ok());
        assert!(
            err("query: no-such-hunt").starts_with("p.yml: step 1: no built-in hunt named \"no-such-hunt\""),
            "{}",
            err("query: no-such-hunt")
        );
        assert_eq!(err("query: {lang: eql, text: x}"), "p.yml: step 1: query language \"eql\" is not kql, spl or sql");
        assert_eq!(err("correlate: {min_scor: 40}"), "p.yml: step 1: unknown correlate option \"min_scor\" (known: min_score)");
        assert_eq!(err("correlate: {min_score: high}"), "p.yml: step 1: min_score must be a whole number from 0 to 100, not \"high\"");
        assert!(with("correlate: {min_score: 101}").is_err());
    }
}
