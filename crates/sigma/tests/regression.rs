//! SigmaHQ's true-positive regression suite: each tested rule fires on its evtx at least
//! `match_count` times, and the event it matched is the one in the test's `.json`.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use taskhunt_sigma::{RuleSet, Source};

struct Case {
    info: PathBuf,
    rule_id: String,
    evtx: PathBuf,
    match_count: usize,
    record_id: Option<u64>,
}

fn cases(sigma: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(sigma.join("regression_data")).sort_by_file_name() {
        let entry = entry.expect("walk regression_data");
        if entry.file_name() != "info.yml" {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("read info.yml");
        let info: Json = serde_saphyr::from_str(&text).expect("parse info.yml");
        let rule_id = info["rule_metadata"][0]["id"].as_str().expect("rule id").to_string();
        // One info.yml (a Cisco raw-log test) has its test list commented out: nothing to run.
        let Some(tests) = info["regression_tests_info"].as_array() else { continue };
        for t in tests.iter().filter(|t| t["type"].as_str() == Some("evtx")) {
            let evtx = sigma.join(t["path"].as_str().expect("path"));
            let match_count = t["match_count"].as_u64().unwrap_or(1) as usize;
            let json_path = evtx.with_extension("json");
            let record_id = std::fs::read_to_string(&json_path)
                .ok()
                .and_then(|j| serde_json::from_str::<Json>(&j).ok())
                .and_then(|j| j["Event"]["System"]["EventRecordID"].as_u64());
            out.push(Case { info: entry.path().to_path_buf(), rule_id: rule_id.clone(), evtx, match_count, record_id });
        }
    }
    out
}

#[test]
fn sigmahq_regression_suite() {
    let Some(corpus) = taskhunt_events::testing::corpus("sigmahq_regression_suite") else { return };
    let sigma = corpus.join("sigma");
    let folders = ["rules", "rules-threat-hunting", "rules-emerging-threats", "rules-compliance", "rules-placeholder", "deprecated"];
    let paths: Vec<PathBuf> = folders.iter().map(|f| sigma.join(f)).collect();
    let sources: Vec<Source> = paths.iter().map(|p| Source::Path(p)).collect();
    let set = RuleSet::load(&sources, None);
    let cases = cases(&sigma);
    let mut failures = Vec::new();
    for case in &cases {
        let Some(ri) = set.rule_index(&case.rule_id) else {
            failures.push(format!("{}: no rule with id {}", case.info.display(), case.rule_id));
            continue;
        };
        let batch = taskhunt_events::read_file(&case.evtx);
        if batch.events.is_empty() {
            failures.push(format!("{}: no events read ({:?})", case.evtx.display(), batch.issues));
            continue;
        }
        let hits: Vec<u64> = batch.events.iter().filter(|e| set.rule_matches(ri, e).is_some()).map(|e| e.record_id).collect();
        let title = &set.rules[ri].meta.title;
        if hits.len() < case.match_count {
            failures.push(format!(
                "{title} ({}): {} matches of {} events, expected at least {} [{}]",
                case.rule_id,
                hits.len(),
                batch.events.len(),
                case.match_count,
                case.evtx.display()
            ));
        } else if let Some(rid) = case.record_id
            && !hits.contains(&rid)
        {
            failures.push(format!("{title} ({}): matched records {hits:?} but not {rid} of the test's .json", case.rule_id));
        }
    }
    println!("regression suite: {} of {} tests pass", cases.len() - failures.len(), cases.len());
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert!(failures.is_empty(), "{} of {} regression tests fail", failures.len(), cases.len());
}
