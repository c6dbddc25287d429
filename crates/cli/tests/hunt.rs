//! `taskhunt hunt` as a user runs it: the report set it writes for the built-in sample, whether
//! the sample's injected scenarios are found and nothing else is, whether the Sigma rules it
//! generates are usable, and what hostile event text does to the report, the CSV timeline, the
//! terminal and a real browser (headless Chromium).

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use taskhunt_sigma::{RuleSet, Source};

/// The report title for the built-in playbook: "Hunt report: " and the title in
/// crates/cli/playbooks/t1053-scheduled-task-abuse.yml.
const REPORT_TITLE: &str = "Hunt report: Scheduled task abuse (T1053.005)";

const REPORT_SET: &[&str] = &[
    "report.md",
    "report.html",
    "incidents.jsonl",
    "detections.jsonl",
    "timeline.csv",
    "tasks.jsonl",
    "navigator.json",
    "generated-rules.yml",
];

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample")
}

/// Runs `taskhunt ARGS...` in `dir` and checks that it succeeded without a panic.
fn taskhunt(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_taskhunt")).args(args).current_dir(dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "taskhunt {args:?} failed: {stderr}");
    out
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", path.display()))).collect()
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "informational" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        other => panic!("unknown severity {other:?}"),
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no string {key} in {v}"))
}

/// A labelled scenario of the built-in sample (crates/cli/sample/sample-labels.json).
struct Scenario {
    name: String,
    host: String,
    task_name: String,
    record_ids: BTreeSet<u64>,
}

fn scenarios() -> Vec<Scenario> {
    let labels: Value = serde_json::from_str(&std::fs::read_to_string(sample_dir().join("sample-labels.json")).unwrap()).unwrap();
    labels
        .as_array()
        .unwrap()
        .iter()
        .map(|l| Scenario {
            name: str_of(l, "scenario").to_string(),
            host: str_of(l, "host").to_string(),
            task_name: str_of(l, "task_name").to_string(),
            record_ids: l["record_ids"].as_array().unwrap().iter().map(|r| r[1].as_u64().unwrap()).collect(),
        })
        .collect()
}

fn is_scenario_incident(inc: &Value, s: &Scenario) -> bool {
    str_of(inc, "task_name") == s.task_name && inc["hosts"].as_array().unwrap().iter().any(|h| h == s.host.as_str())
}

#[test]
fn hunt_without_paths_reports_the_sample_scenarios_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    taskhunt(dir.path(), &["hunt"]);
    let out = dir.path().join("taskhunt-report");
    for name in REPORT_SET {
        let meta = std::fs::metadata(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(meta.len() > 0, "{name} is empty");
    }

    let scenarios = scenarios();
    // The sample holds the write-up's chain and an Emotet-style task (checked by hand).
    assert_eq!(scenarios.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["writeup", "emotet"]);
    let incidents = read_jsonl(&out.join("incidents.jsonl"));
    for s in &scenarios {
        let found: Vec<&Value> = incidents.iter().filter(|i| is_scenario_incident(i, s)).collect();
        assert_eq!(found.len(), 1, "scenario {} ({} on {}): incidents {found:?}", s.name, s.task_name, s.host);
        let inc = found[0];
        assert!(severity_rank(str_of(inc, "severity")) >= 3, "scenario {} is only {}", s.name, inc["severity"]);
        // Every event the incident cites is one of the scenario's injected events.
        let events = inc["events"].as_array().unwrap();
        assert!(!events.is_empty());
        for e in events {
            assert_eq!(str_of(e, "host"), s.host);
            assert!(s.record_ids.contains(&e["record_id"].as_u64().unwrap()), "scenario {}: event {e} is not labelled", s.name);
            let file = str_of(e, "file");
            assert!(
                file.starts_with("built-in:sample-fleet.jsonl.gz/") && file.contains(&s.host),
                "events name the sample (by host and log), not a deleted temporary copy: {file}"
            );
        }
    }
    for inc in incidents.iter().filter(|i| !scenarios.iter().any(|s| is_scenario_incident(i, s))) {
        assert!(
            severity_rank(str_of(inc, "severity")) <= 1,
            "benign incident above low: {} {} {}",
            inc["id"],
            inc["task_name"],
            inc["severity"]
        );
    }

    let tasks = read_jsonl(&out.join("tasks.jsonl"));
    let is_scenario_task = |t: &Value| scenarios.iter().any(|s| str_of(t, "host") == s.host && str_of(t, "task_name") == s.task_name);
    // Both scenario tasks are in the inventory, so the matching below compares the right keys.
    assert_eq!(tasks.iter().filter(|t| is_scenario_task(t)).count(), 2);
    // 102 tasks on 6 hosts (counted by hand from tasks.jsonl).
    assert_eq!(tasks.len(), 102);
    for t in tasks.iter().filter(|t| !is_scenario_task(t)) {
        assert!(
            severity_rank(str_of(t, "severity")) <= 1,
            "benign task above low: {} on {}: {} {}",
            t["task_name"],
            t["host"],
            t["severity"],
            t["score"]
        );
    }

    // The other outputs carry the same incidents.
    let ids: Vec<&str> = incidents.iter().map(|i| str_of(i, "id")).collect();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let csv = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    assert!(csv.starts_with("Timestamp,Host,Kind,Subject,EventID,Summary,File,RecordID\n"));
    for id in &ids {
        assert!(md.contains(&format!("### {id} — ")), "{id} missing from report.md");
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id} missing from report.html");
        assert!(csv.contains(&format!(",incident,{id} ")), "{id} missing from timeline.csv");
    }
    // Markdown tables: each delimiter row has as many cells as its header row (else no table
    // renders); `\|` inside a cell is text.
    let pipes = |l: &str| l.char_indices().filter(|(i, c)| *c == '|' && !l[..*i].ends_with('\\')).count();
    let lines: Vec<&str> = md.lines().collect();
    let mut tables = 0;
    for w in lines.windows(2).filter(|w| w[1].starts_with("|---")) {
        tables += 1;
        assert_eq!(pipes(w[0]), pipes(w[1]), "table header and delimiter differ:\n{}\n{}", w[0], w[1]);
    }
    assert!(tables >= 5, "{tables} tables");
    let layer: Value = serde_json::from_str(&std::fs::read_to_string(out.join("navigator.json")).unwrap()).unwrap();
    assert!(layer["techniques"].as_array().unwrap().iter().any(|t| t["techniqueID"] == "T1053.005"));
    assert!(!read_jsonl(&out.join("detections.jsonl")).is_empty());
}

/// Loads generated-rules.yml and checks, for each incident with a generated rule, that the rule
/// fires on at least one of the incident's events and on no event outside the incident.
fn check_generated_rules(report: &Path, events: &[taskhunt_events::Event], incidents: &[Value]) {
    let text = std::fs::read_to_string(report.join("generated-rules.yml")).unwrap();
    let set = RuleSet::load(&[Source::Text { name: "generated-rules.yml", text: &text }], None);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    // The hunt generates a rule for each incident scoring 40 or more.
    let expected: Vec<&Value> = incidents.iter().filter(|i| i["score"].as_u64().unwrap() >= 40).collect();
    assert!(!expected.is_empty());
    assert_eq!(set.rules.len(), expected.len());
    for inc in expected {
        let id = str_of(inc, "id");
        let prefix = format!("taskhunt {id}: ");
        let ri = set.rules.iter().position(|r| r.meta.title.starts_with(&prefix)).unwrap_or_else(|| panic!("no rule for {id}"));
        let rule = &set.rules[ri];
        assert!(rule.inactive.is_none() && rule.warnings.is_empty(), "{id}: {:?} {:?}", rule.inactive, rule.warnings);
        let own: BTreeSet<(String, u64)> =
            inc["events"].as_array().unwrap().iter().map(|e| (str_of(e, "host").to_string(), e["record_id"].as_u64().unwrap())).collect();
        let fired: BTreeSet<(String, u64)> =
            events.iter().filter(|e| set.rule_matches(ri, e).is_some()).map(|e| (e.computer.to_string(), e.record_id)).collect();
        assert!(!fired.is_empty(), "{id}: the generated rule fires on nothing");
        assert!(fired.is_subset(&own), "{id}: the rule fires outside the incident: {:?}", fired.difference(&own).collect::<Vec<_>>());
    }
}

#[test]
fn generated_sigma_rules_load_and_fire_on_their_incidents() {
    let dir = tempfile::tempdir().unwrap();
    taskhunt(dir.path(), &["hunt", "--out", "case"]);
    let report = dir.path().join("case");
    let incidents = read_jsonl(&report.join("incidents.jsonl"));
    assert_eq!(incidents.len(), 2, "the sample's two scenarios");
    let batch = taskhunt_events::read_file(&sample_dir().join("sample-fleet.jsonl.gz"));
    assert!(batch.issues.is_empty(), "{:?}", batch.issues);
    // 7899 events, as `taskhunt hunt` reports for the sample.
    assert_eq!(batch.events.len(), 7899);
    check_generated_rules(&report, &batch.events, &incidents);
}

// --- Hostile input -------------------------------------------------------------------------

const SCRIPT: &str = "<script>document.title='pwned'</script>";
const ATTR: &str = "\" onmouseover=\"alert(1)";
const JS_URL: &str = "javascript:alert(document.domain)";
const RLO: &str = "\u{202e}";
/// Red text, reset, and an OSC sequence that would retitle the terminal.
const ANSI: &str = "\x1b[31mRED\x1b[0m\x1b]0;owned\x07";
const FORMULA: &str = "=HYPERLINK(\"http://evil.example/\",\"open\")";

fn hostile_task_name() -> String {
    format!("\\Updater {SCRIPT}{ATTR} {JS_URL} {RLO}gpj.exe {ANSI} {FORMULA}")
}

fn hostile_command() -> String {
    format!("C:\\Users\\Public\\{SCRIPT}{ATTR} {JS_URL}{RLO}fdp.exe{ANSI}{FORMULA}")
}

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn system(provider: &str, guid: &str, event_id: u32, record: u64, time: &str, channel: &str, host: &str) -> Value {
    serde_json::json!({
        "Provider": {"#attributes": {"Name": provider, "Guid": guid}},
        "EventID": event_id, "Version": 0, "Level": 4, "Task": 0, "Opcode": 0, "Keywords": "0x8000000000000000",
        "TimeCreated": {"#attributes": {"SystemTime": time}}, "EventRecordID": record, "Correlation": null,
        "Execution": {"#attributes": {"ProcessID": 452, "ThreadID": 2836}}, "Channel": channel, "Computer": host, "Security": null
    })
}

/// A Security 4698 in evtx_dump's JSON shape: a hidden task running `command` as SYSTEM.
fn task_created(host: &str, record: u64, time: &str, name: &str, command: &str, arguments: &str) -> Value {
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\
         <Triggers><TimeTrigger><StartBoundary>2024-05-01T10:00:00</StartBoundary><Enabled>true</Enabled></TimeTrigger></Triggers>\
         <Principals><Principal id=\"Author\"><UserId>S-1-5-18</UserId><RunLevel>HighestAvailable</RunLevel></Principal></Principals>\
         <Settings><Hidden>true</Hidden></Settings><Actions Context=\"Author\"><Exec><Command>{}</Command><Arguments>{}</Arguments></Exec></Actions></Task>",
        xml_text(command),
        xml_text(arguments)
    );
    let guid = "{54849625-5478-4994-a5ba-3e3b0328c30d}";
    serde_json::json!({"Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": system("Microsoft-Windows-Security-Auditing", guid, 4698, record, time, "Security", host),
        "EventData": {
            "SubjectUserSid": "S-1-5-21-1-2-3-1104", "SubjectUserName": "mallory", "SubjectDomainName": "CORP",
            "SubjectLogonId": "0x17e2d2", "TaskName": name, "TaskContent": content
        }
    }})
}

/// A Sysmon 1: mshta starting schtasks.exe with `command_line`.
fn schtasks_started(host: &str, record: u64, time: &str, command_line: &str) -> Value {
    let guid = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}";
    serde_json::json!({"Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": system("Microsoft-Windows-Sysmon", guid, 1, record, time, "Microsoft-Windows-Sysmon/Operational", host),
        "EventData": {
            "RuleName": "", "UtcTime": time.replace('T', " ").trim_end_matches('Z').get(..23).unwrap_or_default(),
            "ProcessGuid": "{365abb72-1a29-5ce4-0000-001054e32101}", "ProcessId": 1532,
            "Image": "C:\\Windows\\System32\\schtasks.exe", "CommandLine": command_line,
            "CurrentDirectory": "C:\\Users\\Public\\", "User": "CORP\\mallory", "LogonId": "0xc796", "IntegrityLevel": "High",
            "ParentProcessGuid": "{365abb72-4f8a-5ce3-0000-0010c5bb4800}", "ParentProcessId": 3548,
            "ParentImage": "C:\\Windows\\System32\\mshta.exe", "ParentCommandLine": format!("mshta.exe {JS_URL}{SCRIPT}")
        }
    }})
}

/// Hosts whose names a spreadsheet would run as formulas, one per dangerous first character.
const FORMULA_HOSTS: &[&str] = &[FORMULA, "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "+cmd|' /C calc'!A0"];

/// Writes the hostile fixture into `dir` and hunts it; returns the report directory and the
/// command's output.
fn hostile_hunt(dir: &Path) -> (PathBuf, Output) {
    let name = hostile_task_name();
    let command = hostile_command();
    let quoted = |s: &str| s.replace('"', "\\\"");
    let mut lines = vec![
        schtasks_started(
            FORMULA_HOSTS[0],
            7001,
            "2024-05-01T09:59:58.1000000Z",
            &format!("schtasks.exe /create /tn \"{}\" /tr \"{}\" /sc once /st 10:00 /ru SYSTEM /f", quoted(&name), quoted(&command)),
        ),
        task_created(FORMULA_HOSTS[0], 566836, "2024-05-01T09:59:58.2000000Z", &name, &command, &format!("{JS_URL} {FORMULA}")),
    ];
    for (i, host) in FORMULA_HOSTS[1..].iter().enumerate() {
        let time = format!("2024-05-01T1{i}:00:00.0000000Z");
        lines.push(task_created(host, 600 + i as u64, &time, &format!("\\{host}"), "C:\\Users\\Public\\a.exe", ""));
    }
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("hostile.jsonl"), text).unwrap();
    let out = taskhunt(dir, &["hunt", "hostile.jsonl", "--out", "case"]);
    (dir.join("case"), out)
}

/// Tags of an HTML page with their attributes, by a small scanner: text and attribute values
/// are escaped, so every `<` starts markup the renderer wrote.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        i += off + 1;
        if b.get(i) == Some(&b'!') || b.get(i) == Some(&b'/') {
            i += html[i..].find('>').unwrap() + 1;
            continue;
        }
        let name_len = html[i..].find(|c: char| !c.is_ascii_alphanumeric()).unwrap();
        let name = html[i..i + name_len].to_ascii_lowercase();
        i += name_len;
        let mut attrs = Vec::new();
        loop {
            while b[i].is_ascii_whitespace() {
                i += 1;
            }
            if b[i] == b'>' || html[i..].starts_with("/>") {
                i += html[i..].find('>').unwrap() + 1;
                break;
            }
            let n = html[i..].find(|c: char| c == '=' || c == '>' || c.is_ascii_whitespace()).unwrap();
            let attr = html[i..i + n].to_ascii_lowercase();
            i += n;
            let mut value = String::new();
            if b[i] == b'=' {
                i += 1;
                let q = b[i];
                assert!(q == b'"', "unquoted value of {attr} in <{name}>");
                let end = html[i + 1..].find('"').unwrap();
                value = html[i + 1..i + 1 + end].to_string();
                i += end + 2;
            }
            attrs.push((attr, value));
        }
        out.push((name, attrs));
    }
    out
}

/// Every element and attribute of `html` is one the report renderer writes (the browser adds
/// `tbody` to tables), and every link stays inside the page.
fn assert_only_own_markup(html: &str) {
    let allowed_tags = [
        "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "div", "main", "section", "table", "tbody", "tr",
        "th", "td", "a", "code", "ul", "ol", "li", "p", "pre", "details", "summary", "small", "b", "br", "span", "svg", "text", "line",
        "circle",
    ];
    let allowed_attrs = [
        "lang",
        "charset",
        "http-equiv",
        "content",
        "name",
        "id",
        "class",
        "href",
        "colspan",
        "open",
        "xmlns",
        "width",
        "viewbox",
        "role",
        "aria-label",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "stroke",
        "cx",
        "cy",
        "r",
        "fill",
        "font-size",
        "text-anchor",
    ];
    let all = tags(html);
    assert!(all.len() > 100, "{} tags", all.len());
    for (tag, attrs) in &all {
        assert!(allowed_tags.contains(&tag.as_str()), "unexpected <{tag}>");
        for (a, v) in attrs {
            assert!(allowed_attrs.contains(&a.as_str()), "unexpected attribute {a}={v:?} on <{tag}>");
            if a == "href" {
                assert!(v.starts_with('#'), "link out of the page: {v:?}");
            }
        }
    }
}

#[test]
fn hostile_event_text_stays_text() {
    let dir = tempfile::tempdir().unwrap();
    let (report, output) = hostile_hunt(dir.path());

    // The terminal: nothing to obey.
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        assert!(!bytes.contains(&0x1b), "raw ESC on {stream}");
        assert!(!String::from_utf8_lossy(bytes).contains(RLO), "raw RLO on {stream}");
    }
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("\\u{001b}[31mRED"), "the escape is shown, escaped: {stderr}");

    // The data keep the text exactly.
    let incidents = read_jsonl(&report.join("incidents.jsonl"));
    let inc = incidents.iter().find(|i| i["task_name"] == hostile_task_name().as_str()).expect("the hostile task is an incident");
    assert!(severity_rank(str_of(inc, "severity")) >= 3, "{inc}");
    assert!(str_of(&inc["task"], "actions").contains(&hostile_command()));

    // The HTML page: only the renderer's own markup.
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    for raw in [SCRIPT, ATTR, RLO, "\x1b", "\x07", FORMULA, "<script", "href=\"javascript:"] {
        assert!(!html.contains(raw), "report.html contains {raw:?} unescaped");
    }
    for escaped in [
        "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;",
        "&quot; onmouseover=&quot;alert(1)",
        "javascript:alert(document.domain)",
        "\\u{202e}gpj.exe",
        "\\u{001b}[31mRED\\u{001b}[0m\\u{001b}]0;owned\\u{0007}",
        "=HYPERLINK(&quot;http://evil.example/&quot;,&quot;open&quot;)",
    ] {
        assert!(html.contains(escaped), "report.html lacks the escaped text {escaped:?}");
    }
    assert!(html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\""), "the CSP is in place");
    assert_only_own_markup(&html);

    // Markdown and CSV: no raw control or bidi characters either.
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(!md.contains('\x1b') && !md.contains(RLO));
    let csv_text = std::fs::read_to_string(report.join("timeline.csv")).unwrap();
    assert!(!csv_text.contains('\x1b') && !csv_text.contains(RLO));
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let mut defused = BTreeSet::new();
    for row in reader.records() {
        for cell in row.unwrap().iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "formula cell {cell:?}");
            if let Some(rest) = cell.strip_prefix('\'') {
                defused.insert(rest.to_string());
            }
        }
    }
    // Each formula host appears, defused (on its incident or detection rows).
    for host in FORMULA_HOSTS {
        assert!(defused.contains(*host), "{host:?} not in timeline.csv as a defused cell: {defused:?}");
    }

    // The rule generated from the hostile task loads, and fires on exactly its task's event.
    let batch = taskhunt_events::read_file(&dir.path().join("hostile.jsonl"));
    assert_eq!(batch.events.len(), 5);
    check_generated_rules(&report, &batch.events, &incidents);
}

// --- A real browser ------------------------------------------------------------------------

const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs `program args` with stdout and stderr to files, killing it after `limit`.
fn run_with_limit(program: &str, args: &[String], stdout: &Path, stderr: &Path, limit: Duration) -> std::process::ExitStatus {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout).unwrap())
        .stderr(std::fs::File::create(stderr).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} did not finish in {limit:?}; its log: {}", std::fs::read_to_string(stderr).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Messages the page's console produced (script errors, CSP violations, console calls) in
/// Chromium's stderr log. The report has no script, so there should be none.
fn console_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).collect()
}

#[test]
fn hostile_report_renders_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() {
        if std::env::var("TASKHUNT_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("TASKHUNT_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)");
        }
        eprintln!(
            "skipped hostile_report_renders_in_headless_chromium: {CHROMIUM} not found (apt-get install chromium; set TASKHUNT_REQUIRE_BROWSER=1 to make this a failure)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = hostile_hunt(dir.path());
    let page = format!("file://{}", report.join("report.html").canonicalize().unwrap().display());
    let profile = dir.path().join("chromium-profile");
    let common: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect();
    let limit = Duration::from_secs(180);

    // The DOM after the page loaded: a script that ran would have changed the title.
    let (dom_file, dom_log) = (dir.path().join("dom.html"), dir.path().join("dom.log"));
    let mut args = common.clone();
    args.extend(["--dump-dom".to_string(), page.clone()]);
    let status = run_with_limit(CHROMIUM, &args, &dom_file, &dom_log, limit);
    let dom = std::fs::read_to_string(&dom_file).unwrap();
    let log = std::fs::read_to_string(&dom_log).unwrap();
    assert!(status.success() && dom.contains("</html>"), "chromium --dump-dom failed ({status}): {log}");
    let title = dom.split_once("<title>").and_then(|(_, rest)| rest.split_once("</title>")).map(|(t, _)| t).unwrap_or_default();
    assert_eq!(title, REPORT_TITLE, "the document title changed: a script ran");
    assert!(!dom.contains("<script"), "a script element reached the DOM");
    // The payload is text in the DOM (Chromium's serializer escapes < > & in text, not quotes).
    assert!(dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"), "the script payload is not shown as text");
    // Chromium leaves quotes in text unescaped, so the attribute payload is there as text; as
    // markup, the DOM holds only the renderer's elements and attributes (no `onmouseover`).
    assert!(dom.contains("\" onmouseover=\"alert(1)"));
    assert_only_own_markup(&dom);
    assert!(console_lines(&log).is_empty(), "console messages: {:?}", console_lines(&log));

    // A screenshot, for the tests and for people.
    let png = dir.path().join("report.png");
    let mut args = common;
    args.extend([format!("--screenshot={}", png.display()), "--window-size=1400,2400".to_string(), page]);
    let (shot_out, shot_log) = (dir.path().join("shot.out"), dir.path().join("shot.log"));
    let status = run_with_limit(CHROMIUM, &args, &shot_out, &shot_log, limit);
    let log = std::fs::read_to_string(&shot_log).unwrap();
    assert!(status.success(), "chromium --screenshot failed ({status}): {log}");
    assert!(console_lines(&log).is_empty(), "console messages: {:?}", console_lines(&log));
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot at {}: {e}; log: {log}", png.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let (width, height) = (u32::from_be_bytes(bytes[16..20].try_into().unwrap()), u32::from_be_bytes(bytes[20..24].try_into().unwrap()));
    assert_eq!((width, height), (1400, 2400));
    // target/hunt-report.png: the binary lives in target/debug (or target/<profile>).
    let target = Path::new(env!("CARGO_BIN_EXE_taskhunt")).parent().and_then(Path::parent).unwrap();
    std::fs::copy(&png, target.join("hunt-report.png")).unwrap();
}
