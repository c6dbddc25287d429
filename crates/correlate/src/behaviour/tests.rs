//! Expected values below are worked out by hand from the inputs each test builds.

use super::*;
use taskhunt_tasks::model::Trigger;
use taskhunt_tasks::sources::RunInfo;

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap_or_else(|| panic!("bad time {s}"))
}

fn def_record(time: &str, state: TaskState, command: &str, args: Option<&str>, triggers: &[TriggerKind]) -> TaskRecord {
    TaskRecord {
        host: "PC01.corp.example".into(),
        name: "\\Contoso\\Sync".into(),
        time: Some(t(time)),
        state,
        definition: Some(TaskDefinition {
            name: "\\Contoso\\Sync".into(),
            actions: vec![Action::Exec { command: command.into(), arguments: args.map(Into::into), working_directory: None }],
            triggers: triggers.iter().map(|&kind| Trigger { kind, ..Trigger::default() }).collect(),
            ..TaskDefinition::default()
        }),
        run: None,
        event_id: Some(4698),
        evidence: format!("def@{time}"),
        problem: None,
    }
}

fn run_record(time: &str, instance: &str, path: Option<&str>) -> TaskRecord {
    TaskRecord {
        host: "PC01".into(),
        name: "\\Contoso\\Sync".into(),
        time: Some(t(time)),
        state: TaskState::SeenRunning,
        definition: None,
        run: Some(RunInfo { instance_id: Some(instance.into()), action: path.map(Into::into), pid: None, result: None }),
        event_id: Some(129),
        evidence: format!("run@{time}"),
        problem: None,
    }
}

fn history(records: &[TaskRecord]) -> TaskHistory {
    let mut h = Histories::default();
    for r in records {
        h.add_record(r);
    }
    h.get("pc01", "\\contoso\\sync").expect("one task").clone()
}

fn changes(records: &[TaskRecord]) -> Vec<BehaviourChange> {
    analyse(&history(records), None, (1, 1), &BehaviourConfig::default(), &ScoringConfig::default())
}

/// Daily runs at 03:MM on 2024-03-01 + day for `days` days, MM = day.
fn daily(days: u32) -> Vec<TaskRecord> {
    (0..days).map(|d| run_record(&format!("2024-03-{:02}T03:{:02}:00Z", d + 1, d), &format!("i{d}"), None)).collect()
}

#[test]
fn normalise_makes_updater_versions_env_vars_and_profiles_compare_equal() {
    assert_eq!(
        normalise("\"C:\\Program Files\\Google\\Update\\1.3.36.152\\GoogleUpdate.exe\" /c"),
        "c:\\program files\\google\\update\\<ver>\\googleupdate.exe /c"
    );
    assert_eq!(normalise("%windir%\\system32\\cmd.exe"), "c:\\windows\\system32\\cmd.exe");
    assert_eq!(normalise("C:\\Users\\bob\\AppData\\Local\\x.exe"), normalise("%LOCALAPPDATA%\\x.exe"));
    assert_eq!(normalise("C:\\Users\\bob\\AppData\\Local\\x.exe"), "c:\\users\\*\\appdata\\local\\x.exe");
    assert_eq!(normalise("C:\\Windows\\SysWOW64\\rundll32.exe"), "c:\\windows\\system32\\rundll32.exe");
    assert_eq!(normalise("a   b\t c"), "a b c");
    // A URL keeps its address: only backslash-separated segments are version-shaped.
    assert_eq!(normalise("x.exe http://10.1.2.3/a"), "x.exe http://10.1.2.3/a");
    assert_eq!(normalise("C:\\A\\1.2\\b.exe"), "c:\\a\\<ver>\\b.exe");
    // The file itself is never a version segment.
    assert_eq!(normalise("C:\\A\\1.2"), "c:\\a\\1.2");
}

#[test]
fn version_segments() {
    for v in ["1.3.36.152", "4.18.24010.12-0", "v1.0", "app-1.0.9003", "120.0.2210.91"] {
        assert!(is_version(v), "{v}");
    }
    for v in ["Office16", "7-zip", "1", "x.dll,start", "v1", "python3.11", "1.", "windows defender"] {
        assert!(!is_version(v), "{v}");
    }
}

#[test]
fn records_of_one_run_merge() {
    let mut rs = vec![
        run_record("2024-03-01T03:00:00.00Z", "a", None),
        run_record("2024-03-01T03:00:00.05Z", "a", Some("C:\\x.exe")),
        run_record("2024-03-01T04:00:00Z", "b", None),
        // Another instance half a second later is another run.
        run_record("2024-03-01T04:00:00.5Z", "c", None),
    ];
    let mut no_id = run_record("2024-03-01T03:00:10Z", "", None);
    no_id.run = None;
    rs.push(no_id);
    let runs = history(&rs).runs(30);
    assert_eq!(runs, vec![t("2024-03-01T03:00:00Z"), t("2024-03-01T04:00:00Z"), t("2024-03-01T04:00:00.5Z")]);
}

#[test]
fn action_change_to_rundll32_names_both_values_times_and_new_traits() {
    let mut rs = vec![def_record(
        "2024-03-01T02:00:00Z",
        TaskState::Created,
        "C:\\Program Files\\Contoso\\agent.exe",
        Some("/sync"),
        &[TriggerKind::Daily],
    )];
    for d in 0..3 {
        rs.push(run_record(&format!("2024-03-{:02}T03:00:00Z", d + 1), &format!("i{d}"), Some("C:\\Program Files\\Contoso\\agent.exe")));
    }
    rs.push(def_record(
        "2024-03-03T10:00:00Z",
        TaskState::Updated,
        "rundll32.exe",
        Some("C:\\ProgramData\\x.dll,Start"),
        &[TriggerKind::Daily],
    ));
    rs.push(run_record("2024-03-04T03:00:00Z", "i9", Some("C:\\Windows\\System32\\rundll32.exe")));
    let c = changes(&rs);
    assert_eq!(
        c,
        vec![BehaviourChange::ActionChanged {
            from: "C:\\Program Files\\Contoso\\agent.exe /sync".into(),
            from_source: SightingSource::Definition,
            // The last run of the old binary.
            from_last_seen: t("2024-03-03T03:00:00Z"),
            to: "rundll32.exe C:\\ProgramData\\x.dll,Start".into(),
            to_source: SightingSource::Definition,
            to_first_seen: t("2024-03-03T10:00:00Z"),
            new_signals: vec!["lolbin".into(), "user_writable_path".into()],
            evidence: "def@2024-03-03T10:00:00Z".into(),
        }]
    );
    let cfg = BehaviourConfig::default();
    let mut reasons = Vec::new();
    apply(&mut reasons, &c, &cfg);
    assert_eq!(reasons.len(), 1);
    assert_eq!((reasons[0].signal.as_str(), reasons[0].weight), ("action_changed", 35), "suspicious on its own: 20 + 15");
    assert!(reasons[0].detail.contains("from \"C:\\Program Files\\Contoso\\agent.exe /sync\""), "{}", reasons[0].detail);
    assert!(reasons[0].detail.contains("to \"rundll32.exe C:\\ProgramData\\x.dll,Start\""), "{}", reasons[0].detail);
    assert!(reasons[0].detail.contains("2024-03-03T10:00:00.0000000Z"), "{}", reasons[0].detail);
}

#[test]
fn argument_change_is_a_change_and_version_folders_are_not() {
    let rs = vec![
        def_record("2024-03-01T02:00:00Z", TaskState::Created, "C:\\Tools\\sync.exe", Some("/a"), &[]),
        def_record("2024-03-02T02:00:00Z", TaskState::Updated, "C:\\Tools\\sync.exe", Some("/a  /exfil"), &[]),
    ];
    match &changes(&rs)[..] {
        [BehaviourChange::ActionChanged { from, to, new_signals, .. }] => {
            assert_eq!((from.as_str(), to.as_str()), ("C:\\Tools\\sync.exe /a", "C:\\Tools\\sync.exe /a  /exfil"));
            assert!(new_signals.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let google = "C:\\Program Files (x86)\\Google\\Update";
    let rs = vec![
        def_record("2024-03-01T02:00:00Z", TaskState::Created, &format!("{google}\\1.3.36.142\\GoogleUpdate.exe"), Some("/c"), &[]),
        run_record("2024-03-01T05:00:00Z", "a", Some(&format!("{google}\\1.3.36.142\\GoogleUpdate.exe"))),
        def_record("2024-03-02T02:00:00Z", TaskState::Updated, &format!("{google}\\1.3.36.152\\GoogleUpdate.exe"), Some("/c"), &[]),
        run_record("2024-03-02T05:00:00Z", "b", Some(&format!("{google}\\1.3.36.152\\GoogleUpdate.exe"))),
    ];
    assert_eq!(changes(&rs), vec![]);
}

#[test]
fn one_registration_seen_twice_is_not_a_change() {
    // A re-registration on day 2: the schtasks command line (quoting left as typed) and its
    // 4698 a few hundred milliseconds later.
    let rs = vec![
        def_record("2024-03-01T02:00:00Z", TaskState::Created, "C:\\Tools\\clean.exe", Some("/c \"x y\""), &[]),
        def_record("2024-03-02T02:00:00.0Z", TaskState::Created, "C:\\Tools\\clean.exe", Some("/c \\\"x y\\\""), &[]),
        def_record("2024-03-02T02:00:00.3Z", TaskState::Created, "C:\\Tools\\clean.exe", Some("/c \"x y\""), &[]),
    ];
    assert_eq!(changes(&rs), vec![]);
    // Without the confirming 4698 the odd quoting is a different argument.
    assert_eq!(changes(&rs[..2]).len(), 1);
}

#[test]
fn two_actions_of_one_run_or_definition_are_not_a_change() {
    let mut d = def_record("2024-03-01T02:00:00Z", TaskState::Created, "a.exe", None, &[]);
    if let Some(def) = &mut d.definition {
        def.actions.push(Action::Exec { command: "b.exe".into(), arguments: None, working_directory: None });
    }
    assert_eq!(changes(&[d]), vec![]);
    // Runs only: 129 for each action of one run, milliseconds apart.
    let rs = vec![
        run_record("2024-03-01T03:00:00.00Z", "a", Some("C:\\a.exe")),
        run_record("2024-03-01T03:00:00.20Z", "a", Some("C:\\b.exe")),
        run_record("2024-03-02T03:00:00.00Z", "b", Some("C:\\a.exe")),
        run_record("2024-03-02T03:00:00.20Z", "b", Some("C:\\b.exe")),
    ];
    assert_eq!(changes(&rs), vec![]);
}

#[test]
fn process_lines_compare_with_definitions_through_environment_variables() {
    let mut hs = Histories::default();
    hs.add_record(&def_record("2024-03-01T02:00:00Z", TaskState::Created, "%ProgramFiles%\\X\\y.exe", Some("/q %COMPUTERNAME%"), &[]));
    let node = |time: &str, line: &str| ProcessNode {
        host: "PC01".into(),
        pid: 4,
        guid: None,
        image: "C:\\Program Files\\X\\y.exe".into(),
        command_line: Some(line.into()),
        user: None,
        integrity: None,
        start: t(time),
        end: None,
        parent: None,
        children: vec![],
        parent_image: None,
        parent_command_line: None,
        parent_pid: None,
        parent_guid: None,
        evidence: format!("proc@{time}"),
        other_evidence: vec![],
    };
    // %COMPUTERNAME% expanded by Windows: cannot be told from the definition, so no change.
    hs.add_process("PC01", "\\Contoso\\Sync", &node("2024-03-01T03:00:00Z", "\"C:\\Program Files\\X\\y.exe\" /q PC01"));
    let cfg = BehaviourConfig::default();
    let h = hs.get("PC01", "\\Contoso\\Sync").unwrap().clone();
    assert_eq!(analyse(&h, None, (1, 1), &cfg, &ScoringConfig::default()), vec![]);
    // A later run with other arguments, though, is.
    hs.add_process(
        "PC01",
        "\\Contoso\\Sync",
        &node("2024-03-02T03:00:00Z", "\"C:\\Program Files\\X\\y.exe\" /q PC01 -u http://a.example/p"),
    );
    let h = hs.get("PC01", "\\Contoso\\Sync").unwrap().clone();
    match &analyse(&h, None, (1, 1), &cfg, &ScoringConfig::default())[..] {
        [BehaviourChange::ActionChanged { from, to, to_source, new_signals, .. }] => {
            assert_eq!(from, "\"C:\\Program Files\\X\\y.exe\" /q PC01");
            assert_eq!(to, "\"C:\\Program Files\\X\\y.exe\" /q PC01 -u http://a.example/p");
            assert_eq!(*to_source, SightingSource::Process);
            assert_eq!(new_signals, &vec!["url_or_ip".to_string()]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn run_at_a_new_hour_after_enough_history() {
    let mut rs = daily(6);
    rs.push(run_record("2024-03-07T14:05:00Z", "x", None));
    assert_eq!(
        changes(&rs),
        vec![BehaviourChange::NewRunHour {
            at: t("2024-03-07T14:05:00Z"),
            hour: 14,
            usual_hours: vec![3],
            earlier_runs: 6,
            earlier_days: 6
        }]
    );
    // One hour off the usual is a random delay, not a new time.
    let mut near = daily(6);
    near.push(run_record("2024-03-07T05:05:00Z", "x", None));
    assert_eq!(changes(&near), vec![]);
    // Too little history: four earlier runs.
    let mut short = daily(4);
    short.push(run_record("2024-03-05T14:05:00Z", "x", None));
    assert_eq!(changes(&short), vec![]);
    // Five earlier runs, but all on one day.
    let mut one_day: Vec<TaskRecord> =
        (0..5).map(|i| run_record(&format!("2024-03-01T03:{:02}:00Z", i * 5), &format!("i{i}"), None)).collect();
    one_day.push(run_record("2024-03-02T14:05:00Z", "x", None));
    assert_eq!(changes(&one_day), vec![]);
    // A logon-triggered task runs when people log on: its hour says nothing.
    let mut logon = rs.clone();
    logon.insert(0, def_record("2024-02-01T00:00:00Z", TaskState::Updated, "a.exe", None, &[TriggerKind::Logon]));
    assert_eq!(changes(&logon), vec![]);
}

#[test]
fn daily_task_switching_to_every_ten_minutes() {
    let mut rs = daily(6);
    // 2024-03-06T03:05 is the last daily run; from 14:00 that day every 10 minutes, 20 runs.
    for i in 0..20 {
        rs.push(run_record(&format!("2024-03-06T{:02}:{:02}:00Z", 14 + i / 6, (i % 6) * 10), &format!("f{i}"), None));
    }
    let c = changes(&rs);
    let cadence: Vec<&BehaviourChange> = c.iter().filter(|c| c.signal() == "cadence_changed").collect();
    // Intervals: five of ~24 h (03:00, 03:01, ... 03:05: 86,460 s each), 39,300 s to 14:00,
    // then nineteen of 600 s; the new cadence starts at 14:00, the bridge counts as before.
    assert_eq!(
        cadence,
        vec![&BehaviourChange::CadenceChanged {
            before_secs: 86_460,
            before_intervals: 6,
            after_secs: 600,
            after_intervals: 19,
            since: t("2024-03-06T14:00:00Z"),
        }]
    );
    let mut reasons = Vec::new();
    apply(&mut reasons, &c, &BehaviourConfig { corroboration_min: 0, ..BehaviourConfig::default() });
    let r = reasons.iter().find(|r| r.signal == "cadence_changed").unwrap();
    assert_eq!(
        r.detail,
        "runs every 10 min (median of 19 intervals) since 2024-03-06T14:00:00.0000000Z, every 24.0 h before (median of 6 intervals)"
    );
    // A steady daily task with a jittered hour is no change.
    let jitter: Vec<TaskRecord> = (0..12)
        .map(|d| run_record(&format!("2024-03-{:02}T{:02}:00:00Z", d + 1, [1, 4, 2, 5, 1, 3][d as usize % 6]), &format!("j{d}"), None))
        .collect();
    assert!(changes(&jitter).iter().all(|c| c.signal() != "cadence_changed"), "{:?}", changes(&jitter));
}

#[test]
fn first_on_host_needs_a_day_of_telemetry_before_the_creation() {
    let rs = vec![def_record("2024-03-03T10:00:00Z", TaskState::Created, "a.exe", None, &[])];
    let h = history(&rs);
    let cfg = BehaviourConfig::default();
    let s = ScoringConfig::default();
    assert_eq!(
        analyse(&h, Some(t("2024-03-01T00:00:00Z")), (1, 50), &cfg, &s),
        vec![BehaviourChange::FirstOnHost {
            at: t("2024-03-03T10:00:00Z"),
            host_since: t("2024-03-01T00:00:00Z"),
            hosts_with_name: 1,
            fleet_hosts: 50
        }]
    );
    assert_eq!(analyse(&h, Some(t("2024-03-02T10:00:01Z")), (1, 50), &cfg, &s), vec![], "23:59:59 of telemetry is not enough");
    // Seen running before any creation: the task existed already.
    let mut rs2 = rs.clone();
    rs2.push(run_record("2024-03-02T03:00:00Z", "a", None));
    assert_eq!(analyse(&history(&rs2), Some(t("2024-03-01T00:00:00Z")), (1, 50), &cfg, &s), vec![]);
    // Rare names weigh 10, names on many hosts 5.
    let mut reasons = vec![Reason { signal: "lolbin".into(), weight: 20, detail: String::new() }];
    apply(&mut reasons, &analyse(&h, Some(t("2024-03-01T00:00:00Z")), (30, 50), &cfg, &s), &cfg);
    assert_eq!(reasons[1].weight, 5);
    assert!(reasons[1].detail.contains("2.4 days after"), "{}", reasons[1].detail);
    // Created by an administrator at a console: new on the host for that reason.
    let mut reasons = vec![
        Reason { signal: "lolbin".into(), weight: 20, detail: String::new() },
        Reason { signal: "human_admin".into(), weight: -15, detail: String::new() },
    ];
    apply(&mut reasons, &analyse(&h, Some(t("2024-03-01T00:00:00Z")), (1, 50), &cfg, &s), &cfg);
    assert_eq!(reasons.len(), 2, "{reasons:?}");
}

#[test]
fn uncorroborated_behaviour_counts_for_little() {
    let cfg = BehaviourConfig::default();
    let hour =
        BehaviourChange::NewRunHour { at: t("2024-03-07T14:05:00Z"), hour: 14, usual_hours: vec![3], earlier_runs: 6, earlier_days: 6 };
    let cadence = BehaviourChange::CadenceChanged {
        before_secs: 86_400,
        before_intervals: 5,
        after_secs: 600,
        after_intervals: 19,
        since: t("2024-03-07T14:05:00Z"),
    };
    // Only `system_principal` (5) besides: 15 + 15 become 10 + 0.
    let mut reasons = vec![Reason { signal: "system_principal".into(), weight: 5, detail: String::new() }];
    apply(&mut reasons, &[hour.clone(), cadence.clone()], &cfg);
    let w: Vec<(&str, i32)> = reasons.iter().map(|r| (r.signal.as_str(), r.weight)).collect();
    assert_eq!(w, vec![("system_principal", 5), ("new_run_hour", 10), ("cadence_changed", 0)]);
    assert!(reasons[1].detail.ends_with("; counted 10 of 15: no other evidence against this task"), "{}", reasons[1].detail);
    // With a LOLBin (20) behind it, each counts in full.
    let mut reasons = vec![Reason { signal: "lolbin".into(), weight: 20, detail: String::new() }];
    apply(&mut reasons, &[hour, cadence], &cfg);
    assert_eq!(reasons.iter().map(|r| r.weight).sum::<i32>(), 50);
    // Switched off: nothing.
    let off = BehaviourConfig { enabled: false, ..cfg };
    assert_eq!(analyse(&history(&daily(3)), None, (1, 1), &off, &ScoringConfig::default()), vec![]);
}
