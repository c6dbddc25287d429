//! Everything a hunt report shows, gathered by the `hunt` command.

use crate::coverage::Coverage;
use serde::Serialize;
use taskhunt_correlate::Incident;
use taskhunt_events::Timestamp;

#[derive(Debug, Clone, Serialize)]
pub struct Playbook {
    pub name: String,
    pub title: String,
    pub hypothesis: String,
    /// (technique id, name).
    pub attack: Vec<(String, String)>,
    /// What a finding means, in the playbook author's words.
    pub meaning: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DetectionSummary {
    pub rule_title: String,
    pub rule_id: Option<String>,
    pub level: String,
    pub count: u64,
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    pub name: String,
    pub title: String,
    pub lang: String,
    pub text: String,
    pub rows: usize,
    pub columns: Vec<String>,
    /// The first rows, as text.
    pub sample: Vec<Vec<String>>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GeneratedRule {
    pub incident: String,
    pub sigma: String,
    pub kql: String,
    pub spl: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HuntReport {
    pub title: String,
    pub generated: Timestamp,
    pub inputs: Vec<String>,
    pub playbook: Playbook,
    pub files: u64,
    pub records: u64,
    pub skipped: u64,
    pub coverage: Coverage,
    pub incidents: Vec<Incident>,
    pub detections: Vec<DetectionSummary>,
    pub queries: Vec<QueryResult>,
    pub tasks_total: usize,
    /// (severity, count) over the task inventory.
    pub tasks_by_severity: Vec<(String, usize)>,
    pub generated_rules: Vec<GeneratedRule>,
    pub recommendations: Vec<String>,
}
