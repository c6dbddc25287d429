//! `taskhunt detect` and `taskhunt rules` end to end on the corpus, through the real binary.

use std::process::Command;

fn taskhunt() -> Command {
    Command::new(env!("CARGO_BIN_EXE_taskhunt"))
}

#[test]
fn detect_jsonl_has_every_field_and_the_correlation() {
    let Some(dir) = taskhunt_events::testing::evtx_samples("detect_jsonl_has_every_field_and_the_correlation") else { return };
    let out = taskhunt().arg("detect").arg(dir.join("Execution")).arg(dir.join("Lateral Movement")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let detections: Vec<&serde_json::Value> = lines.iter().filter(|l| l.get("correlation_type").is_none()).collect();
    assert!(!detections.is_empty());
    for d in &detections {
        for key in [
            "timestamp",
            "computer",
            "channel",
            "event_id",
            "record_id",
            "file",
            "rule_id",
            "rule_title",
            "level",
            "tags",
            "fields",
            "reasons",
        ] {
            assert!(d.get(key).is_some(), "{key} missing in {d}");
        }
        assert!(d["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(d["tags"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().starts_with("attack.")));
    }
    // The atexec task (record 566836, in both folders' files) fires the hidden-task rule.
    assert!(detections.iter().any(|d| d["record_id"] == 566836 && d["rule_title"] == "Hidden Scheduled Task Created"));
    // The 4698 + 4699 of \CYAlyNSS within seconds make one correlation alert per file's copy.
    let corr: Vec<&serde_json::Value> = lines.iter().filter(|l| l.get("correlation_type").is_some()).collect();
    assert!(!corr.is_empty(), "no correlation alert");
    assert_eq!(corr[0]["correlation_type"], "temporal_ordered");
    assert_eq!(corr[0]["group"]["TaskName"], "\\CYAlyNSS");
    assert!(corr[0]["events"].as_array().unwrap().len() >= 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rules:") && err.contains("detections (") && err.contains("events/s"), "{err}");
}

#[test]
fn detect_csv_is_formula_safe_and_min_level_filters() {
    let Some(dir) = taskhunt_events::testing::evtx_samples("detect_csv_is_formula_safe_and_min_level_filters") else { return };
    let out = taskhunt().args(["detect", "--format", "csv", "--min-level", "high"]).arg(&dir).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "Timestamp");
    let level = headers.iter().position(|h| h == "Level").unwrap();
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        rows += 1;
        assert!(["high", "critical"].contains(&&rec[level]), "{:?}", rec);
        for cell in rec.iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "undefused cell {cell:?}");
        }
    }
    assert!(rows > 0);
}

#[test]
fn rules_list_and_lint() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("writeup.yml");
    // The write-up's rule as published: `condition:` at the top level.
    std::fs::write(&bad, "title: Suspicious Encoded PowerShell\nlogsource:\n  category: process_creation\n\ndetection:\n  selection:\n    CommandLine|contains:\n      - '-enc'\n      - 'EncodedCommand'\n\ncondition: selection\n\nlevel: high\n").unwrap();
    std::fs::write(dir.path().join("broken.yml"), "title: x\ndetection: [\n").unwrap();
    let out = taskhunt().args(["rules", "lint"]).arg(&bad).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("writeup.yml:11: `condition:` is at the top level of the rule; it must be indented inside `detection:`"),
        "{text}"
    );
    let out = taskhunt().args(["rules", "list", "--no-builtin-rules", "--rules"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rule = lines.iter().find(|l| l["kind"] == "rule").expect("the write-up rule loads leniently");
    assert_eq!(rule["title"], "Suspicious Encoded PowerShell");
    let err = lines.iter().find(|l| l["kind"] == "error").expect("the broken file is listed with its error");
    assert!(err["path"].as_str().unwrap().ends_with("broken.yml"));
    assert!(err["error"].as_str().unwrap().contains("invalid YAML"));
}

/// `--store`: `detect`, `tasks` and `hunt` over a case store give what they give over the files
/// it was made from, files named as they were ingested; the store keeps each file verbatim.
#[test]
fn detect_tasks_and_hunt_over_a_store_match_the_files() {
    let Some(dir) = taskhunt_events::testing::evtx_samples("detect_tasks_and_hunt_over_a_store_match_the_files") else { return };
    let files = dir.join("Execution");
    let files = files.to_str().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let store = scratch.path().join("store");
    let store = store.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = taskhunt().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    run(&["ingest", files, "--store", store]);
    // Ingesting again adds nothing, so nothing is read twice from the store.
    run(&["ingest", files, "--store", store]);

    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(scratch.path().join("store/manifest.json")).unwrap()).unwrap();
    let sources = manifest["sources"].as_array().unwrap();
    assert!(sources.len() > 20, "{} sources", sources.len());
    for s in sources {
        let original = std::fs::read(s["path"].as_str().unwrap()).unwrap();
        let copy = std::fs::read(scratch.path().join("store/sources").join(s["sha256"].as_str().unwrap())).unwrap();
        assert!(copy == original, "{} is not kept verbatim", s["path"]);
    }

    let rules = dir.parent().unwrap().join("sigma/rules/windows");
    let rules = rules.to_str().unwrap();
    let from_files = run(&["detect", files, "--rules", rules, "--format", "jsonl"]);
    let from_store = run(&["detect", "--store", store, "--rules", rules, "--format", "jsonl"]);
    let text = String::from_utf8(from_files.clone()).unwrap();
    // SigmaHQ's Windows rules fire 115 times on the Execution folder (the native matcher; the
    // count only guards against an empty comparison), named by the files' own paths.
    assert!(text.lines().count() > 100, "{} detections", text.lines().count());
    assert!(text.contains(&format!("{files}/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx")));
    assert!(from_store == from_files, "detect differs over the store");

    let from_files = run(&["tasks", files, "--format", "jsonl"]);
    let from_store = run(&["tasks", "--store", store, "--format", "jsonl"]);
    // The task schtasks made in the mshta sample.
    assert!(!from_files.is_empty() && String::from_utf8_lossy(&from_files).contains("mshta"), "{}", String::from_utf8_lossy(&from_files));
    assert!(from_store == from_files, "tasks differs over the store");

    let (a, b) = (scratch.path().join("report-files"), scratch.path().join("report-store"));
    run(&["hunt", files, "--out", a.to_str().unwrap()]);
    run(&["hunt", "--store", store, "--out", b.to_str().unwrap()]);
    let incidents = |d: &std::path::Path| std::fs::read_to_string(d.join("incidents.jsonl")).unwrap();
    assert!(!incidents(&a).is_empty(), "the mshta task makes an incident");
    assert_eq!(incidents(&a), incidents(&b));
    assert_eq!(std::fs::read(a.join("timeline.csv")).unwrap(), std::fs::read(b.join("timeline.csv")).unwrap());

    // Files and a store together are refused.
    let out = taskhunt().args(["detect", files, "--store", store]).output().unwrap();
    assert!(!out.status.success());
}
