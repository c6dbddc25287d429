//! Incidents on real corpus data.

use taskhunt_correlate::incident::{Config, Detections, build};

#[test]
fn mshta_task_is_linked_to_its_network_events() {
    let Some(dir) = taskhunt_events::testing::evtx_samples("mshta_task_is_linked_to_its_network_events") else { return };
    let file = dir.join("Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx");
    let events = taskhunt_events::read_file(&file).events;
    let incidents = build(&events, &Detections::new(), &Config::default());
    let inc = incidents.iter().find(|i| i.task_name == "\\MSOFFICE_").expect("an incident for the schtasks-made task");
    // The creating chain cmd → rundll32 → mshta (pid 2432) → schtasks, and mshta's three
    // Sysmon 3 connections (108.179.232.58, 105.73.6.112, 105.73.6.105), per the evtx_dump output.
    let net: Vec<&str> = inc.events.iter().filter(|e| e.role == "network").map(|e| e.summary.as_str()).collect();
    assert_eq!(net.len(), 3, "{net:?}");
    assert!(net.iter().any(|s| s.contains("108.179.232.58")));
    assert!(inc.events.iter().any(|e| e.role == "process" && e.summary.contains("schtasks.exe")));
    assert!(inc.process_trees.iter().any(|t| t.contains("mshta.exe") && t.contains("rundll32.exe")), "{:?}", inc.process_trees);
    for t in ["T1053.005", "T1218.005", "T1218.011", "T1071"] {
        assert!(inc.techniques.iter().any(|x| x == t), "{t} missing: {:?}", inc.techniques);
    }
    assert!(inc.score >= 40, "{} {:?}", inc.score, inc.reasons);
}
