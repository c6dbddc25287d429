//! Each injected chain is present, internally consistent (task names, instance ids, process
//! ids and guids agree across Security, TaskScheduler and Sysmon), and its label points at
//! exactly its records; the background carries none of the chains' indicators.

mod common;

use common::{Loaded, generate_and_load, num, small_spec, text, unbase64, utf16le};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use taskhunt_events::Event;
use taskhunt_simulate::Label;

const SCHEDULE: &str = "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule";

fn fleet() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    // TASKHUNT_SIM_SEED runs the same checks on another fleet (used to sweep seeds by hand).
    let seed = std::env::var("TASKHUNT_SIM_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(11);
    LOADED.get_or_init(|| generate_and_load(&format!("scenarios-{seed}"), &small_spec(seed)))
}

fn label(scenario: &str) -> &'static Label {
    let l = fleet().summary.labels.iter().find(|l| l.scenario == scenario);
    l.unwrap_or_else(|| panic!("no {scenario} label"))
}

/// The labelled events, in time order.
fn events_of(l: &Label) -> Vec<&'static Event> {
    let mut v: Vec<&Event> = l
        .record_ids
        .iter()
        .map(|(f, r)| fleet().by_record.get(&(f.clone(), *r)).unwrap_or_else(|| panic!("{}: {f}:{r} is not a record", l.scenario)))
        .collect();
    v.sort_by_key(|e| e.timestamp);
    v
}

fn host_short(fqdn: &str) -> &str {
    fqdn.split('.').next().unwrap()
}

/// All events of one host, every channel.
fn host_events(short: &str) -> Vec<&'static Event> {
    fleet().files.iter().filter(|(f, _)| f.starts_with(&format!("{short}/"))).flat_map(|(_, evs)| evs.iter()).collect()
}

fn of<'a>(evs: &[&'a Event], channel_part: &str, id: u32) -> Vec<&'a Event> {
    evs.iter().filter(|e| e.event_id == id && e.channel.contains(channel_part)).copied().collect()
}

fn activity(e: &Event) -> String {
    text(e, "Correlation_ActivityID")
}

#[test]
fn labels_point_at_exactly_their_records() {
    let labels = &fleet().summary.labels;
    let names: Vec<&str> = labels.iter().map(|l| l.scenario.as_str()).collect();
    assert_eq!(names, ["writeup", "emotet", "remote-schtasks", "atexec", "onlogon-registry"]);
    let mut seen = HashSet::new();
    for l in labels {
        let evs = events_of(l);
        assert!(evs.len() >= 10, "{}: only {} records", l.scenario, evs.len());
        assert_eq!(l.first, evs[0].timestamp, "{}: first", l.scenario);
        assert_eq!(l.last, evs[evs.len() - 1].timestamp, "{}: last", l.scenario);
        let files: HashSet<&str> = l.record_ids.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(files, l.files.iter().map(String::as_str).collect(), "{}: files", l.scenario);
        for r in &l.record_ids {
            assert!(seen.insert(r.clone()), "{:?} belongs to two labels", r);
        }
        let created = of(&evs, "Security", 4698);
        assert_eq!(created.len(), 1, "{}: one 4698", l.scenario);
        assert_eq!(text(created[0], "TaskName"), l.task_name);
        assert_eq!(&*created[0].computer, l.host.as_str());
        let content = text(created[0], "TaskContent");
        assert!(content.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version="), "{}", l.scenario);
        for part in ["<Triggers>", "<Principals>", "<Settings>", "<Actions Context="] {
            assert!(content.contains(part), "{}: TaskContent lacks {part}", l.scenario);
        }
        let registered = of(&evs, "TaskScheduler", 106);
        assert_eq!(registered.len(), 1, "{}: one 106", l.scenario);
        assert_eq!(text(registered[0], "TaskName"), l.task_name);
        for e in &evs {
            if let Some(name) = e.text("TaskName") {
                assert_eq!(name, l.task_name, "{}: event {} names another task", l.scenario, e.event_id);
            }
        }
        assert!(!l.c2_domains.is_empty() || l.scenario == "atexec", "{}: C2 domains", l.scenario);
    }
}

/// Every run of every injected task: 100/129/200/201/102 share the instance id as ActivityID,
/// 129's pid is 200's EnginePID and the Sysmon 1 / 4688 process, a child of the Schedule
/// service whose own Sysmon 1 exists; every labelled process's parent guid exists on the host.
#[test]
fn runs_and_process_chains_are_consistent() {
    for l in &fleet().summary.labels {
        let evs = events_of(l);
        let short = host_short(&l.host);
        let all = host_events(short);
        let sysmon1: Vec<&Event> = of(&all, "Sysmon", 1);
        let guids: HashSet<String> = sysmon1.iter().map(|e| text(e, "ProcessGuid")).collect();
        let schedule: Vec<&&Event> = sysmon1.iter().filter(|e| text(e, "CommandLine") == SCHEDULE).collect();
        assert_eq!(schedule.len(), 1, "{short}: one Schedule service start");
        let schedule_guid = text(schedule[0], "ProcessGuid");
        let starts = of(&evs, "TaskScheduler", 100);
        assert!(!starts.is_empty(), "{}: never ran", l.scenario);
        for start in starts {
            let id = text(start, "InstanceId");
            assert_eq!(activity(start), id);
            let same: Vec<&Event> = evs.iter().filter(|e| e.channel.contains("TaskScheduler") && activity(e) == id).copied().collect();
            let action = same.iter().find(|e| e.event_id == 200).unwrap_or_else(|| panic!("{}: 200 for {id}", l.scenario));
            assert_eq!(text(action, "TaskInstanceId"), id);
            let created = same.iter().find(|e| e.event_id == 129).expect("129");
            let pid = num(action, "EnginePID").unwrap();
            assert_eq!(num(created, "ProcessID"), Some(pid));
            assert_eq!(text(created, "Path"), text(action, "ActionName"));
            for e in same.iter().filter(|e| [201, 102].contains(&e.event_id)) {
                assert_eq!(e.text("TaskInstanceId").or(e.text("InstanceId")).unwrap(), id);
            }
            let proc = evs
                .iter()
                .find(|e| e.event_id == 1 && num(e, "ProcessId") == Some(pid))
                .unwrap_or_else(|| panic!("{}: no Sysmon 1 for pid {pid}", l.scenario));
            assert_eq!(text(proc, "Image"), text(action, "ActionName"));
            assert_eq!(text(proc, "ParentCommandLine"), SCHEDULE);
            assert_eq!(text(proc, "ParentProcessGuid"), schedule_guid);
            let sec = evs.iter().find(|e| e.event_id == 4688 && text(e, "NewProcessId") == format!("{pid:#x}")).expect("4688");
            assert_eq!(text(sec, "CommandLine"), text(proc, "CommandLine"));
        }
        for e in evs.iter().filter(|e| e.channel.contains("Sysmon") && e.computer.starts_with(short)) {
            if e.event_id == 1 {
                if text(e, "ParentImage").ends_with("services.exe") {
                    continue; // started before Sysmon, as on real hosts
                }
                assert!(guids.contains(&text(e, "ParentProcessGuid")), "{}: parent of {} not logged", l.scenario, text(e, "Image"));
            } else if text(e, "Image") != "System" {
                assert!(guids.contains(&text(e, "ProcessGuid")), "{}: process of Sysmon {} not logged", l.scenario, e.event_id);
            }
        }
    }
}

fn decode_enc(command_line: &str) -> String {
    let b64 = command_line.split(" -enc ").nth(1).expect("-enc").split_whitespace().next().unwrap();
    utf16le(&unbase64(b64))
}

fn resolved(evs: &[&Event], domain: &str) -> String {
    let q = evs.iter().find(|e| e.event_id == 22 && text(e, "QueryName") == domain).unwrap_or_else(|| panic!("no DNS for {domain}"));
    let results = text(q, "QueryResults");
    let ip = results.trim_start_matches("::ffff:").trim_end_matches(';').to_string();
    assert!(results.starts_with("::ffff:") && ip.split('.').count() == 4, "{results}");
    assert!(evs.iter().any(|e| e.event_id == 3 && text(e, "DestinationIp") == ip), "no connection to {domain} ({ip})");
    ip
}

#[test]
fn writeup_daily_system_task_with_encoded_download() {
    let l = label("writeup");
    let evs = events_of(l);
    let created = of(&evs, "Security", 4698)[0];
    assert_eq!(text(created, "SubjectUserSid"), "S-1-5-18");
    let content = text(created, "TaskContent");
    assert!(content.contains("T03:00:00</StartBoundary>") && content.contains("<DaysInterval>1</DaysInterval>"));
    assert!(content.contains("<UserId>S-1-5-18</UserId>"));
    assert!(content.contains("<Command>C:\\Windows\\Temp\\") && content.contains(".exe</Command>"));
    for logon in of(&evs, "Security", 4624) {
        assert_eq!(num(logon, "LogonType"), Some(3), "only a network logon around creation");
    }
    let triggers = of(&evs, "TaskScheduler", 107);
    assert!(!triggers.is_empty());
    for t in &triggers {
        let s = t.timestamp.to_string();
        assert!(s[11..].starts_with("03:00:0"), "daily at 03:00: {s}");
    }
    let ps: Vec<&Event> = evs.iter().filter(|e| e.event_id == 1 && text(e, "Image").ends_with("powershell.exe")).copied().collect();
    assert_eq!(ps.len(), triggers.len(), "one encoded PowerShell per run");
    let domain = &l.c2_domains[0];
    for p in &ps {
        assert!(text(p, "ParentImage").starts_with("C:\\Windows\\Temp\\"));
        let script = decode_enc(&text(p, "CommandLine"));
        assert!(
            script.starts_with("IEX(New-Object Net.WebClient).DownloadString('http://") && script.contains(domain.as_str()),
            "{script}"
        );
    }
    resolved(&evs, domain);
    assert!(of(&evs, "PowerShell", 4104).iter().any(|e| text(e, "ScriptBlockText").contains("DownloadString")));
}

#[test]
fn emotet_rundll32_beacons_every_ten_minutes() {
    let l = label("emotet");
    let evs = events_of(l);
    let content = text(of(&evs, "Security", 4698)[0], "TaskContent");
    assert!(content.contains("<Interval>PT10M</Interval>"));
    assert!(content.contains("rundll32.exe</Command>") && content.contains("<Arguments>C:\\ProgramData\\"));
    let runs: Vec<i64> = of(&evs, "TaskScheduler", 200).iter().map(|e| e.timestamp.ticks()).collect();
    assert!(runs.len() >= 10, "{} runs", runs.len());
    let mut checked = 0;
    for w in runs.windows(2) {
        let secs = (w[1] - w[0]) as f64 / 1e7;
        if secs < 900.0 {
            assert!((569.0..=631.0).contains(&secs), "interval {secs}s is not 10 minutes ±5%");
            checked += 1;
        }
    }
    assert!(checked >= 5);
    for p in evs.iter().filter(|e| e.event_id == 1 && text(e, "ParentCommandLine") == SCHEDULE) {
        assert!(text(p, "Image").ends_with("rundll32.exe"));
        assert_eq!(text(p, "IntegrityLevel"), "Medium", "runs as the user");
    }
    resolved(&evs, &l.c2_domains[0]);
    assert!(evs.iter().any(|e| e.event_id == 7 && text(e, "Signed") == "false" && text(e, "ImageLoaded").starts_with("C:\\ProgramData\\")));
}

#[test]
fn remote_schtasks_share_logon_ids_and_delete_within_seconds() {
    let l = label("remote-schtasks");
    let evs = events_of(l);
    let target: Vec<&Event> = evs.iter().filter(|e| *e.computer == *l.host).copied().collect();
    let created = of(&target, "Security", 4698)[0];
    let lid = text(created, "SubjectLogonId");
    assert!(of(&target, "Security", 4624).iter().any(|e| text(e, "TargetLogonId") == lid && num(e, "LogonType") == Some(3)));
    assert!(
        of(&target, "Security", 5145)
            .iter()
            .any(|e| text(e, "SubjectLogonId") == lid && text(e, "ShareName") == "\\\\*\\IPC$" && text(e, "RelativeTargetName") == "atsvc")
    );
    let run = of(&target, "TaskScheduler", 110);
    assert_eq!(run.len(), 1);
    let deleted = of(&target, "Security", 4699);
    assert_eq!(deleted.len(), 1);
    let dl = text(deleted[0], "SubjectLogonId");
    assert!(of(&target, "Security", 5145).iter().any(|e| text(e, "SubjectLogonId") == dl && text(e, "RelativeTargetName") == "atsvc"));
    assert!((deleted[0].timestamp.ticks() - created.timestamp.ticks()) < 60 * 10_000_000, "deleted within a minute");
    let source: Vec<&Event> = evs.iter().filter(|e| *e.computer != *l.host).copied().collect();
    let short = host_short(&l.host);
    assert!(
        source.iter().any(|e| e.event_id == 1 && text(e, "CommandLine").contains(&format!("/create /s {short} /tn"))),
        "schtasks /create /s on the source host"
    );
    assert!(l.files.iter().any(|f| !f.starts_with(&format!("{short}/"))));
    resolved(&target, &l.c2_domains[0]);
}

#[test]
fn atexec_hidden_task_writes_tmp_and_is_deleted() {
    let l = label("atexec");
    let evs = events_of(l);
    let created = of(&evs, "Security", 4698)[0];
    let content = text(created, "TaskContent");
    assert!(content.contains("<StartBoundary>2015-07-15T20:35:13.2757294</StartBoundary>"));
    assert!(content.contains("<Hidden>true</Hidden>") && content.contains("<Command>cmd.exe</Command>"));
    let name = l.task_name.trim_start_matches('\\');
    assert!(content.contains(&format!("&gt; %windir%\\Temp\\{name}.tmp 2&gt;&amp;1</Arguments>")));
    let lid = text(created, "SubjectLogonId");
    assert!(of(&evs, "Security", 4624).iter().any(|e| text(e, "TargetLogonId") == lid && text(e, "AuthenticationPackageName") == "NTLM"));
    assert!(evs.iter().any(|e| e.event_id == 11 && text(e, "TargetFilename") == format!("C:\\Windows\\Temp\\{name}.tmp")));
    let deleted = of(&evs, "Security", 4699)[0];
    assert!(deleted.timestamp.ticks() - created.timestamp.ticks() < 10 * 10_000_000);
    let cmd = evs.iter().find(|e| e.event_id == 1 && text(e, "ParentCommandLine") == SCHEDULE).unwrap();
    assert!(text(cmd, "CommandLine").starts_with("cmd.exe /C "));
    assert!(text(cmd, "CommandLine").ends_with(&format!("> C:\\Windows\\Temp\\{name}.tmp 2>&1")));
}

#[test]
fn onlogon_payload_sits_in_the_registry_before_the_task() {
    let l = label("onlogon-registry");
    let evs = events_of(l);
    let created = of(&evs, "Security", 4698)[0];
    let content = text(created, "TaskContent");
    assert!(content.contains("<LogonTrigger>") && content.contains("(gp HKCU:\\Software\\"));
    let reg = evs.iter().find(|e| e.event_id == 13 && text(e, "TargetObject").starts_with("HKU\\S-1-5-21-")).expect("payload write");
    assert!(reg.timestamp < created.timestamp);
    let payload = utf16le(&unbase64(&text(reg, "Details")));
    assert!(payload.contains(&l.c2_domains[0]) && payload.contains("DownloadString"), "{payload}");
    assert!(!of(&evs, "TaskScheduler", 119).is_empty(), "ran at a later logon");
    let runs: Vec<&Event> = evs.iter().filter(|e| e.event_id == 1 && text(e, "ParentCommandLine") == SCHEDULE).copied().collect();
    assert!(!runs.is_empty());
    for p in runs {
        assert!(text(p, "CommandLine").contains("-nop -w hidden -c \"iex([Text.Encoding]::Unicode.GetString("));
    }
    assert!(of(&evs, "PowerShell", 4104).iter().any(|e| text(e, "ScriptBlockText") == payload));
    resolved(&evs, &l.c2_domains[0]);
}

#[test]
fn background_carries_no_scenario_indicators() {
    let loaded = fleet();
    let labelled: HashSet<(String, u64)> = loaded.summary.labels.iter().flat_map(|l| l.record_ids.iter().cloned()).collect();
    let mut needles: Vec<String> = Vec::new();
    for l in &loaded.summary.labels {
        needles.push(l.task_name.trim_start_matches('\\').to_ascii_lowercase());
        needles.extend(l.c2_domains.iter().map(|d| d.to_ascii_lowercase()));
    }
    let generic = [
        " -enc ",
        "-w hidden",
        "frombase64string",
        "iex(",
        "downloadstring",
        "2015-07-15t20:35:13",
        "c:\\windows\\temp\\",
        "atsvc",
        "admin$",
        "\\c$",
        "content.outlook",
    ];
    let mut counts: HashMap<u32, usize> = HashMap::new();
    let mut background = 0;
    let mut logon_types = HashSet::new();
    for (file, events) in &loaded.files {
        for e in events {
            if labelled.contains(&(file.clone(), e.record_id)) {
                continue;
            }
            background += 1;
            *counts.entry(e.event_id).or_default() += 1;
            if e.event_id == 4624 {
                logon_types.insert(num(e, "LogonType").unwrap());
            }
            let all: String = e.fields.iter().map(|(_, v)| v.to_text().to_ascii_lowercase()).collect::<Vec<_>>().join("\u{1}");
            for n in needles.iter().map(String::as_str).chain(generic) {
                assert!(!all.contains(n), "{file}:{} (event {}) carries {n:?}", e.record_id, e.event_id);
            }
            assert!(!(all.contains("rundll32") && all.contains("\\programdata\\")), "{file}:{}", e.record_id);
        }
    }
    assert!(background > 10 * labelled.len());
    // The background is not just task runs: logons of every kind asked for, process, network,
    // DNS, file, registry and PowerShell events, and task registrations by admins.
    for id in [4624, 4688, 4698, 4702, 5145, 1, 3, 7, 11, 13, 22, 4104, 100, 102, 106, 107, 119, 129, 200, 201] {
        assert!(counts.get(&id).copied().unwrap_or(0) > 0, "no background event {id}");
    }
    for logon_type in [2, 3, 10, 11] {
        assert!(logon_types.contains(&logon_type), "no background logon of type {logon_type}");
    }
}
