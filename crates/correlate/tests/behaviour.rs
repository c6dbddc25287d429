//! Task behaviour over time through the whole incident pipeline. The events are evtx-dump JSON
//! lines (the shape `evtx_dump -o jsonl` prints) written for this test and read by the events
//! crate's reader; one host per story. Expected scores and reasons are worked out by hand in
//! the comments.

use std::path::Path;
use taskhunt_correlate::behaviour::{BehaviourChange, BehaviourConfig, Histories, analyse};
use taskhunt_correlate::incident::{Config, Detections, Incident, build};
use taskhunt_events::{Event, Format, read_bytes_as};
use taskhunt_tasks::score::ScoringConfig;
use taskhunt_tasks::sources::records_from_event;

const SCHED: &str = "Microsoft-Windows-TaskScheduler/Operational";

/// One host's log, as evtx-dump JSON lines.
struct Log {
    host: String,
    lines: Vec<String>,
}

impl Log {
    fn new(host: &str) -> Log {
        Log { host: host.into(), lines: Vec::new() }
    }

    fn event(&mut self, channel: &str, provider: &str, id: u32, time: &str, activity: Option<&str>, data: serde_json::Value) {
        let mut system = serde_json::json!({
            "Provider": {"#attributes": {"Name": provider}},
            "EventID": id,
            "TimeCreated": {"#attributes": {"SystemTime": time}},
            "EventRecordID": self.lines.len() + 1,
            "Channel": channel,
            "Computer": self.host,
        });
        if let Some(a) = activity {
            system["Correlation"] = serde_json::json!({"#attributes": {"ActivityID": a}});
        }
        self.lines.push(serde_json::json!({"Event": {"System": system, "EventData": data}}).to_string());
    }

    /// Security 4698 (created) or 4702 (updated) with the task XML.
    fn register(&mut self, id: u32, time: &str, task: &str, xml: &str) {
        let key = if id == 4702 { "TaskContentNew" } else { "TaskContent" };
        let short = self.host.split('.').next().unwrap_or_default().to_string();
        let data = serde_json::json!({
            "SubjectUserSid": "S-1-5-18",
            "SubjectUserName": format!("{short}$"),
            "SubjectDomainName": "CORP",
            "SubjectLogonId": "0x3e7",
            "TaskName": task,
            key: xml,
        });
        self.event("Security", "Microsoft-Windows-Security-Auditing", id, time, None, data);
    }

    /// One scheduled run: 100, 129 with the image, 200 with the action, one instance id.
    fn run(&mut self, time: &str, task: &str, image: &str) {
        let n = self.lines.len();
        let instance = format!("{{6c0f5a3e-0000-4000-8000-{n:012}}}");
        let pid = 4000 + n as u64;
        let ts = |ms: u32| format!("{}.{ms:03}Z", time.trim_end_matches('Z'));
        self.event(
            SCHED,
            "Microsoft-Windows-TaskScheduler",
            100,
            &ts(10),
            Some(&instance),
            serde_json::json!({"TaskName": task, "UserContext": "NT AUTHORITY\\System", "InstanceId": instance}),
        );
        self.event(
            SCHED,
            "Microsoft-Windows-TaskScheduler",
            129,
            &ts(40),
            Some(&instance),
            serde_json::json!({"TaskName": task, "Path": image, "ProcessID": pid, "Priority": 16384}),
        );
        self.event(
            SCHED,
            "Microsoft-Windows-TaskScheduler",
            200,
            &ts(50),
            Some(&instance),
            serde_json::json!({"TaskName": task, "ActionName": image, "TaskInstanceId": instance, "EnginePID": pid}),
        );
    }

    fn events(&self) -> Vec<Event> {
        let text = self.lines.join("\n");
        let name = format!("written-for-this-test/{}.jsonl", self.host);
        let batch = read_bytes_as(Path::new(&name), text.as_bytes(), Format::EvtxJson);
        assert!(batch.issues.is_empty(), "{:?}", batch.issues);
        assert_eq!(batch.events.len(), self.lines.len());
        batch.events
    }
}

/// Task XML: a daily trigger at `start` (or a logon trigger), one Exec action, the principal.
fn task_xml(start: Option<&str>, user: &str, command: &str, args: Option<&str>) -> String {
    let trigger = match start {
        Some(s) => format!(
            "<CalendarTrigger><StartBoundary>{s}</StartBoundary><Enabled>true</Enabled><ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay></CalendarTrigger>"
        ),
        None => "<LogonTrigger><Enabled>true</Enabled></LogonTrigger>".into(),
    };
    let args = args.map(|a| format!("<Arguments>{a}</Arguments>")).unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\r\n\
         <Triggers>{trigger}</Triggers><Principals><Principal id=\"Author\"><UserId>{user}</UserId><RunLevel>LeastPrivilege</RunLevel></Principal></Principals>\
         <Settings><Enabled>true</Enabled><Hidden>false</Hidden></Settings><Actions Context=\"Author\"><Exec><Command>{command}</Command>{args}</Exec></Actions></Task>"
    )
}

fn day(d: u32, hm: &str) -> String {
    format!("2024-03-{:02}T{hm}:00Z", d + 1)
}

fn fleet() -> Vec<Log> {
    // A: a Contoso agent task, hijacked on day 4 to run rundll32 with a DLL in ProgramData.
    let mut a = Log::new("WKS-A.corp.example.com");
    let agent = "C:\\Program Files\\Contoso\\agent.exe";
    a.register(4698, &day(0, "01:00"), "\\Contoso\\Sync", &task_xml(Some("2024-03-01T03:00:00"), "S-1-5-18", agent, Some("/sync")));
    for d in 0..4 {
        a.run(&day(d, "03:00"), "\\Contoso\\Sync", agent);
    }
    let evil = task_xml(Some("2024-03-01T03:00:00"), "S-1-5-18", "rundll32.exe", Some("C:\\ProgramData\\x.dll,Start"));
    a.register(4702, &day(3, "10:00"), "\\Contoso\\Sync", &evil);
    a.run(&day(4, "03:00"), "\\Contoso\\Sync", "C:\\Windows\\System32\\rundll32.exe");

    // B: a report task at 03:00 every day for a week, then at 14:00.
    let mut b = Log::new("WKS-B.corp.example.com");
    let report = "C:\\Program Files\\Contoso\\report.exe";
    b.register(4698, &day(0, "01:00"), "\\Contoso\\Report", &task_xml(Some("2024-03-01T03:00:00"), "S-1-5-18", report, None));
    for d in 0..7 {
        b.run(&day(d, "03:00"), "\\Contoso\\Report", report);
    }
    b.run(&day(7, "14:00"), "\\Contoso\\Report", report);

    // C: a daily poll that starts running every 10 minutes on day 5 at 14:00.
    let mut c = Log::new("WKS-C.corp.example.com");
    let poll = "C:\\Program Files\\Contoso\\poll.exe";
    c.register(4698, &day(0, "01:00"), "\\Contoso\\Poll", &task_xml(Some("2024-03-01T03:00:00"), "S-1-5-18", poll, None));
    for d in 0..6 {
        c.run(&day(d, "03:00"), "\\Contoso\\Poll", poll);
    }
    for i in 0..20 {
        c.run(&day(5, &format!("{:02}:{:02}", 14 + i / 6, (i % 6) * 10)), "\\Contoso\\Poll", poll);
    }

    // D: Google's updater moving to its next version folder, as it does on every update.
    let mut d = Log::new("WKS-D.corp.example.com");
    let google = |v: &str| format!("C:\\Program Files (x86)\\Google\\Update\\{v}\\GoogleUpdate.exe");
    let name = "\\GoogleUpdateTaskMachineCore";
    d.register(4698, &day(0, "01:00"), name, &task_xml(Some("2024-03-01T03:00:00"), "S-1-5-18", &google("1.3.36.142"), Some("/c")));
    for n in 0..3 {
        d.run(&day(n, "03:00"), name, &google("1.3.36.142"));
    }
    d.register(4702, &day(2, "12:00"), name, &task_xml(Some("2024-03-01T03:00:00"), "S-1-5-18", &google("1.3.36.152"), Some("/c")));
    for n in 3..6 {
        d.run(&day(n, "03:00"), name, &google("1.3.36.152"));
    }

    // E: a host reporting since day 0 gets a new task from Users\Public on day 3 at 10:00.
    let mut e = Log::new("WKS-E.corp.example.com");
    e.event(
        "Security",
        "Microsoft-Windows-Security-Auditing",
        4624,
        &day(0, "00:00"),
        None,
        serde_json::json!({"TargetUserName": "svc-backup", "LogonType": 3, "TargetLogonId": "0x1234"}),
    );
    let user = "S-1-5-21-1-2-3-1001";
    e.register(4698, &day(3, "10:00"), "\\Updater", &task_xml(None, user, "C:\\Users\\Public\\upd.exe", None));
    vec![a, b, c, d, e]
}

fn incidents() -> (Vec<Event>, Vec<Incident>) {
    let events: Vec<Event> = fleet().iter().flat_map(Log::events).collect();
    let incidents = build(&events, &Detections::new(), &Config::default());
    (events, incidents)
}

fn incident<'a>(incidents: &'a [Incident], task: &str) -> &'a Incident {
    incidents.iter().find(|i| i.task_name == task).unwrap_or_else(|| panic!("no incident for {task}"))
}

fn reason<'a>(inc: &'a Incident, signal: &str) -> (i32, &'a str) {
    let r = inc.reasons.iter().find(|r| r.signal == signal).unwrap_or_else(|| panic!("no {signal} in {:?}", inc.reasons));
    (r.weight, r.detail.as_str())
}

#[test]
fn hijacked_task_reports_old_and_new_action() {
    let (_, incidents) = incidents();
    let inc = incident(&incidents, "\\Contoso\\Sync");
    let (w, detail) = reason(inc, "action_changed");
    // Last seen: the 200 of the 03:00 run on 2024-03-04, 50 ms after it started. 20 for the change, 15 because rundll32 and ProgramData are new traits.
    assert_eq!(w, 35);
    assert_eq!(
        detail,
        "action changed from \"C:\\Program Files\\Contoso\\agent.exe /sync\" (task definition, last seen \
         2024-03-04T03:00:00.0500000Z) to \"rundll32.exe C:\\ProgramData\\x.dll,Start\" (task definition, first seen \
         2024-03-04T10:00:00.0000000Z); the new action adds lolbin, user_writable_path"
    );
    assert!(inc.score >= 70, "{} {:?}", inc.score, inc.reasons);
    assert!(matches!(&inc.behaviour[..], [BehaviourChange::ActionChanged { .. }]), "{:?}", inc.behaviour);
}

#[test]
fn run_at_a_new_hour_is_a_reason() {
    let (_, incidents) = incidents();
    let inc = incident(&incidents, "\\Contoso\\Report");
    let (w, detail) = reason(inc, "new_run_hour");
    assert_eq!(w, 15);
    assert_eq!(detail, "ran at 2024-03-08T14:00:00.0100000Z, hour 14 UTC; its 7 earlier runs on 7 days were at hour(s) 03");
    // system_principal 5 + odd_hours 10 (a daily trigger at 03:00) corroborate; + 15 = 30.
    assert_eq!(inc.score, 30, "{:?}", inc.reasons);
}

#[test]
fn daily_task_now_every_ten_minutes() {
    let (_, incidents) = incidents();
    let inc = incident(&incidents, "\\Contoso\\Poll");
    let (w, detail) = reason(inc, "cadence_changed");
    assert_eq!(w, 15);
    // Five daily intervals and the 11 h bridge to 14:00 before; nineteen of 10 minutes after.
    assert_eq!(
        detail,
        "runs every 10 min (median of 19 intervals) since 2024-03-06T14:00:00.0100000Z, every 24.0 h before (median of 6 intervals)"
    );
    // The 14:00 run is also a new hour: 5 + 10 + 15 + 15.
    assert_eq!(reason(inc, "new_run_hour").0, 15);
    assert_eq!(inc.score, 45, "{:?}", inc.reasons);
}

#[test]
fn updater_version_folder_is_not_a_changed_action() {
    let (events, incidents) = incidents();
    assert!(
        incidents
            .iter()
            .filter(|i| i.task_name == "\\GoogleUpdateTaskMachineCore")
            .all(|i| i.reasons.iter().all(|r| r.signal != "action_changed")),
        "{incidents:#?}"
    );
    // And the analysis itself, which the allowlist could otherwise hide: the 4702 and the runs
    // point at 1.3.36.152 after 1.3.36.142, and nothing changed.
    let mut h = Histories::default();
    for e in &events {
        h.observe_host(&e.computer, e.timestamp);
        for r in records_from_event(e) {
            h.add_record(&r);
        }
    }
    let history = h.get("WKS-D", "\\GoogleUpdateTaskMachineCore").expect("history");
    assert_eq!(history.actions.len(), 2 + 6 * 2, "two definitions, and 129 and 200 of six runs");
    assert_eq!(analyse(history, h.host_since("WKS-D"), (1, 5), &BehaviourConfig::default(), &ScoringConfig::default()), vec![]);
    // The same analysis does see the hijack of WKS-A's task.
    let sync = h.get("wks-a.corp.example.com", "\\contoso\\sync").expect("history");
    assert_eq!(analyse(sync, None, (1, 5), &BehaviourConfig::default(), &ScoringConfig::default()).len(), 1);
}

#[test]
fn new_task_on_a_host_that_has_reported_for_days() {
    let (_, incidents) = incidents();
    let inc = incident(&incidents, "\\Updater");
    let (w, detail) = reason(inc, "first_on_host");
    // Five hosts in the data: too few to call any name common, so the rare weight.
    assert_eq!(w, 10);
    assert_eq!(
        detail,
        "task first seen on this host at 2024-03-04T10:00:00.0000000Z (created), 3.4 days after the host's telemetry began at \
         2024-03-01T00:00:00.0000000Z; the name is on 1 of 5 hosts"
    );
    // Tasks created at the start of their host's telemetry are not new.
    assert!(incidents.iter().all(|i| i.task_name == "\\Updater" || i.reasons.iter().all(|r| r.signal != "first_on_host")));
}
