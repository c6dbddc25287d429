//! PowerShell ScheduledTasks cmdlets (in `-Command` text, `-EncodedCommand`, and scripts) into task
//! commands. Expected values are worked out by hand from the cmdlets' documented parameters.

use base64::Engine;
use taskhunt_tasks::schtasks::{Tool, Verb, parse_all, parse_command_line, parse_powershell};
use taskhunt_tasks::{Action, TaskDefinition, TriggerKind};

fn exec(command: &str, arguments: Option<&str>) -> Action {
    Action::Exec { command: command.into(), arguments: arguments.map(str::to_string), working_directory: None }
}

fn script_def(script: &str) -> TaskDefinition {
    parse_powershell(script).and_then(|c| c.definition).unwrap_or_else(|| panic!("no definition: {script}"))
}

/// What `powershell -EncodedCommand` expects: base64 of the UTF-16LE text.
fn encode(script: &str) -> String {
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn command_with_variables() {
    let line = r#"powershell.exe -NoProfile -WindowStyle Hidden -Command "$a = New-ScheduledTaskAction -Execute 'C:\Windows\System32\cmd.exe' -Argument '/c C:\ProgramData\x.bat'; $t = New-ScheduledTaskTrigger -Daily -At 3am; Register-ScheduledTask -TaskName 'Updater' -Action $a -Trigger $t -User 'NT AUTHORITY\SYSTEM' -RunLevel Highest -Force""#;
    let c = parse_command_line(line).unwrap();
    assert_eq!((c.tool, c.verb, c.task_name.as_deref(), c.force), (Tool::PowerShell, Verb::Create, Some(r"\Updater"), true));
    assert_eq!(c.run_as.as_deref(), Some(r"NT AUTHORITY\SYSTEM"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let d = c.definition.unwrap();
    assert_eq!(d.name, r"\Updater");
    assert_eq!(d.actions, vec![exec(r"C:\Windows\System32\cmd.exe", Some(r"/c C:\ProgramData\x.bat"))]);
    let t = &d.triggers[0];
    assert_eq!((t.kind, t.days_interval, t.start_boundary.as_deref()), (TriggerKind::Daily, Some(1), Some("T03:00:00")));
    assert_eq!(d.principal.user_id.as_deref(), Some(r"NT AUTHORITY\SYSTEM"));
    assert_eq!(d.principal.run_level.as_deref(), Some("HighestAvailable"));
}

#[test]
fn command_line_quoting_and_script_blocks() {
    // `\"` on the command line is a literal quote inside the -Command text.
    let c = parse_command_line(
        r#"pwsh.exe -nop -c "Register-ScheduledTask -TaskName \"q t\" -Action (New-ScheduledTaskAction -Execute \"C:\x.exe\")""#,
    )
    .unwrap();
    assert_eq!((c.tool, c.task_name.as_deref()), (Tool::PowerShell, Some(r"\q t")));
    assert_eq!(c.definition.unwrap().actions, vec![exec(r"C:\x.exe", None)]);
    // `& { ... }` runs the block.
    let c = parse_command_line(
        r#"powershell -Command "& {Register-ScheduledTask -TaskName blk -Action (New-ScheduledTaskAction -Execute b.exe)}""#,
    )
    .unwrap();
    assert_eq!(c.task_name.as_deref(), Some(r"\blk"));
    // A script file cannot be read from the command line.
    assert!(parse_command_line(r"powershell.exe -ExecutionPolicy Bypass -File C:\t\install.ps1").is_none());
    // Behind cmd /c.
    let c = parse_command_line(r#"cmd /c "powershell -c Start-ScheduledTask -TaskName w""#).unwrap();
    assert_eq!((c.verb, c.task_name.as_deref()), (Verb::Run, Some(r"\w")));
}

#[test]
fn nested_cmdlets_timespan_and_hidden() {
    let d = script_def(
        r#"Register-ScheduledTask -TaskName x -TaskPath '\Microsoft\Windows\' -Action (New-ScheduledTaskAction -Execute powershell.exe -Argument '-w hidden -enc AAAA') -Trigger (New-ScheduledTaskTrigger -Once -At '2026-01-05 14:30' -RepetitionInterval (New-TimeSpan -Minutes 10)) -Settings (New-ScheduledTaskSettingsSet -Hidden)"#,
    );
    assert_eq!(d.name, r"\Microsoft\Windows\x");
    assert_eq!(d.actions, vec![exec("powershell.exe", Some("-w hidden -enc AAAA"))]);
    let t = &d.triggers[0];
    assert_eq!(
        (t.kind, t.start_boundary.as_deref(), t.repetition_interval.as_deref()),
        (TriggerKind::Time, Some("2026-01-05T14:30:00"), Some("PT10M"))
    );
    assert!(d.settings.hidden);
}

#[test]
fn trigger_kinds() {
    let kinds = |s: &str| script_def(s).triggers.iter().map(|t| (t.kind, t.detail.clone())).collect::<Vec<_>>();
    let base = "$a = New-ScheduledTaskAction -Execute calc.exe\n";
    assert_eq!(
        kinds(&format!("{base}Register-ScheduledTask t -Action $a -Trigger (New-ScheduledTaskTrigger -AtLogOn -User 'CORP\\bob')")),
        vec![(TriggerKind::Logon, Some(r"CORP\bob".to_string()))]
    );
    assert_eq!(
        kinds(&format!("{base}Register-ScheduledTask t -Action $a -Trigger (New-ScheduledTaskTrigger -AtStartup)")),
        vec![(TriggerKind::Boot, None)]
    );
    // Two triggers in an array.
    let s = format!(
        "{base}$t1 = New-ScheduledTaskTrigger -AtStartup\n$t2 = New-ScheduledTaskTrigger -AtLogOn\nRegister-ScheduledTask t -Action $a -Trigger $t1,$t2"
    );
    assert_eq!(kinds(&s), vec![(TriggerKind::Boot, None), (TriggerKind::Logon, None)]);

    let d = script_def(&format!(
        "{base}Register-ScheduledTask t -Action $a -Trigger (New-ScheduledTaskTrigger -Weekly -WeeksInterval 2 -DaysOfWeek Monday, Friday -At '9:15 PM')"
    ));
    let t = &d.triggers[0];
    assert_eq!((t.kind, t.weeks_interval, t.start_boundary.as_deref()), (TriggerKind::Weekly, Some(2), Some("T21:15:00")));
    assert_eq!(t.days_of_week, vec!["Monday".to_string(), "Friday".to_string()]);
}

#[test]
fn principal_and_settings_objects() {
    let d = script_def(
        r#"
        $p = New-ScheduledTaskPrincipal -UserId "NT AUTHORITY\SYSTEM" -LogonType ServiceAccount -RunLevel Highest
        $s = New-ScheduledTaskSettingsSet -Hidden -ExecutionTimeLimit (New-TimeSpan -Hours 0) -Priority 4 -MultipleInstances parallel -WakeToRun
        $a = New-ScheduledTaskAction -Execute 'rundll32.exe' -Argument 'C:\Users\Public\x.dll,Start'
        Register-ScheduledTask -TaskName 'OneDrive Sync' -Action $a -Principal $p -Settings $s
        "#,
    );
    assert_eq!(d.name, r"\OneDrive Sync");
    assert_eq!(d.principal.user_id.as_deref(), Some(r"NT AUTHORITY\SYSTEM"));
    assert_eq!(d.principal.logon_type.as_deref(), Some("ServiceAccount"));
    assert_eq!(d.principal.run_level.as_deref(), Some("HighestAvailable"));
    assert!(d.settings.hidden && d.settings.wake_to_run);
    assert_eq!(d.settings.execution_time_limit.as_deref(), Some("PT0S"));
    assert_eq!(d.settings.priority, Some(4));
    assert_eq!(d.settings.multiple_instances_policy.as_deref(), Some("Parallel"));
    assert_eq!(d.actions, vec![exec("rundll32.exe", Some(r"C:\Users\Public\x.dll,Start"))]);
}

#[test]
fn encoded_command() {
    let script = "Register-ScheduledTask -TaskName enc -Action (New-ScheduledTaskAction -Execute 'C:\\Temp\\e.exe') -Trigger (New-ScheduledTaskTrigger -AtLogOn)";
    for switch in ["-EncodedCommand", "-enc", "-e", "-ec", "/enc", "\u{2013}ec"] {
        let line = format!("powershell.exe -NoP -NonI -W Hidden -Exec Bypass {switch} {}", encode(script));
        let c = parse_command_line(&line).unwrap_or_else(|| panic!("{switch}"));
        assert_eq!((c.verb, c.task_name.as_deref()), (Verb::Create, Some(r"\enc")), "{switch}");
        assert!(c.warnings.iter().any(|w| w.contains("EncodedCommand")), "{switch}");
        assert_eq!(c.definition.unwrap().actions, vec![exec(r"C:\Temp\e.exe", None)]);
    }
    // Not base64 at all.
    assert!(parse_command_line("powershell -enc !!!notbase64!!!").is_none());
}

#[test]
fn script_shapes() {
    // Comments, line continuations, a guard, here-string description, typographic quotes,
    // backtick-obfuscated cmdlet names.
    let script = "
        # persistence
        <# block
           comment #>
        $action = New-ScheduledTaskAction `
            -Execute \u{2018}C:\\Users\\Public\\u.exe\u{2019} `
            -Argument \"-silent\"
        if (-not (Get-ScheduledTask -TaskName 'Upd' -ErrorAction SilentlyContinue)) {
            Reg`ister-Sched`uledTask -TaskName \u{201C}Upd\u{201D} -Action $action -Description @'
Keeps things updated
'@
        }
    ";
    let c = parse_powershell(script).unwrap();
    assert_eq!((c.verb, c.task_name.as_deref()), (Verb::Create, Some(r"\Upd")));
    let d = c.definition.unwrap();
    assert_eq!(d.actions, vec![exec(r"C:\Users\Public\u.exe", Some("-silent"))]);
    assert_eq!(d.registration.description.as_deref(), Some("Keeps things updated"));
    // The query in the guard is seen too.
    assert!(parse_all(&format!("powershell -c \"{}\"", "Get-ScheduledTask -TaskName q")).iter().any(|c| c.verb == Verb::Query));
}

#[test]
fn piped_task_and_string_variables() {
    let d = script_def(
        r#"$exe = "C:\ProgramData\svc.exe"; $name = 'Piped'
        $a = New-ScheduledTaskAction -Execute "$exe" -Argument "--run"
        New-ScheduledTask -Action $a -Trigger (New-ScheduledTaskTrigger -AtStartup) | Register-ScheduledTask -TaskName $name"#,
    );
    assert_eq!(d.name, r"\Piped");
    assert_eq!(d.actions, vec![exec(r"C:\ProgramData\svc.exe", Some("--run"))]);
    assert_eq!(d.triggers[0].kind, TriggerKind::Boot);
}

#[test]
fn other_cmdlets() {
    let c = parse_powershell("Unregister-ScheduledTask -TaskName x -Confirm:$false").unwrap();
    assert_eq!((c.verb, c.task_name.as_deref(), c.definition.is_none()), (Verb::Delete, Some(r"\x"), true));
    assert_eq!(
        parse_powershell(r"Start-ScheduledTask -TaskPath \Microsoft\ -TaskName y").unwrap().task_name.as_deref(),
        Some(r"\Microsoft\y")
    );
    assert_eq!(parse_powershell("Start-ScheduledTask y").unwrap().verb, Verb::Run);
    assert_eq!(parse_powershell("Stop-ScheduledTask y").unwrap().verb, Verb::End);
    let c = parse_powershell("Disable-ScheduledTask -TaskName z").unwrap();
    assert_eq!(c.verb, Verb::Change);
    assert!(!c.definition.unwrap().settings.enabled);
    let c = parse_powershell("Set-ScheduledTask -TaskName z -Action (New-ScheduledTaskAction -Execute evil.exe)").unwrap();
    assert_eq!((c.verb, c.definition.unwrap().actions), (Verb::Change, vec![exec("evil.exe", None)]));
    // Delete then re-create: the create is the telling one.
    let c = parse_powershell("Unregister-ScheduledTask -TaskName r -Confirm:$false; Register-ScheduledTask -TaskName r -Action (New-ScheduledTaskAction -Execute a.exe)").unwrap();
    assert_eq!(c.verb, Verb::Create);
}

#[test]
fn schtasks_started_from_powershell() {
    let c = parse_command_line(r#"powershell -c "schtasks /create /tn ps /tr 'C:\a b\x.exe' /sc onstart /ru SYSTEM""#).unwrap();
    assert_eq!((c.tool, c.verb, c.task_name.as_deref()), (Tool::Schtasks, Verb::Create, Some(r"\ps")));
    let d = c.definition.unwrap();
    // PowerShell hands 'C:\a b\x.exe' to schtasks as one argument; Task Scheduler then splits it.
    assert_eq!(d.actions, vec![exec(r"C:\a", Some(r"b\x.exe"))]);
    assert_eq!(d.triggers[0].kind, TriggerKind::Boot);
    let c =
        parse_powershell(r#"Start-Process schtasks.exe -ArgumentList '/run /tn "\Microsoft\Windows\Foo"' -WindowStyle Hidden"#).unwrap();
    assert_eq!((c.tool, c.verb, c.task_name.as_deref()), (Tool::Schtasks, Verb::Run, Some(r"\Microsoft\Windows\Foo")));
    let c = parse_powershell(r#"& "C:\Windows\System32\schtasks.exe" /delete /tn x /f"#).unwrap();
    assert_eq!((c.verb, c.force), (Verb::Delete, true));
}

#[test]
fn remote_through_invoke_command_and_cimsession() {
    let c = parse_powershell("Invoke-Command -ComputerName srv01 -ScriptBlock { Register-ScheduledTask -TaskName r -Action (New-ScheduledTaskAction -Execute x.exe) }").unwrap();
    assert_eq!(c.remote_host.as_deref(), Some("srv01"));
    assert_eq!(c.definition.unwrap().origin.remote, Some(true));
    let c =
        parse_powershell("Register-ScheduledTask -TaskName r -Action (New-ScheduledTaskAction -Execute x.exe) -CimSession dc02").unwrap();
    assert_eq!(c.remote_host.as_deref(), Some("dc02"));
}

#[test]
fn time_span_spellings() {
    let interval = |expr: &str| {
        let d = script_def(&format!(
            "Register-ScheduledTask t -Action (New-ScheduledTaskAction -Execute x) -Trigger (New-ScheduledTaskTrigger -Once -At 00:00 -RepetitionInterval {expr})"
        ));
        d.triggers[0].repetition_interval.clone()
    };
    assert_eq!(interval("(New-TimeSpan -Minutes 5)").as_deref(), Some("PT5M"));
    assert_eq!(interval("([TimeSpan]::FromMinutes(5))").as_deref(), Some("PT5M"));
    assert_eq!(interval("'00:15:00'").as_deref(), Some("PT15M"));
    assert_eq!(interval("(New-TimeSpan -Hours 1 -Minutes 30)").as_deref(), Some("PT1H30M"));
    assert_eq!(interval("'1.00:00:00'").as_deref(), Some("P1D"));
}

#[test]
fn unresolved_and_computed_values_are_reported() {
    let c = parse_powershell(
        "Register-ScheduledTask -TaskName u -Action $fromElsewhere -Trigger (New-ScheduledTaskTrigger -Once -At (Get-Date).AddMinutes(1))",
    )
    .unwrap();
    assert!(c.warnings.iter().any(|w| w.contains("-Action $fromElsewhere")), "{:?}", c.warnings);
    assert!(c.warnings.iter().any(|w| w.contains("(Get-Date).AddMinutes(1)")), "{:?}", c.warnings);
    let d = c.definition.unwrap();
    assert!(d.actions.is_empty());
    assert_eq!((d.triggers[0].kind, d.triggers[0].start_boundary.clone()), (TriggerKind::Time, None));
}

#[test]
fn inline_xml_is_read() {
    let c = parse_powershell(
        r#"Register-ScheduledTask -TaskName fromxml -Xml '<Task xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task"><Triggers><BootTrigger/></Triggers><Actions><Exec><Command>c.exe</Command><Arguments>-q</Arguments></Exec></Actions></Task>'"#,
    )
    .unwrap();
    assert_eq!(c.xml_file, None);
    let d = c.definition.unwrap();
    assert_eq!(d.name, r"\fromxml");
    assert_eq!(d.actions, vec![exec("c.exe", Some("-q"))]);
    assert_eq!(d.triggers[0].kind, TriggerKind::Boot);
    let c = parse_powershell(r#"Register-ScheduledTask -TaskName f -Xml (Get-Content 'C:\t.xml' | Out-String)"#).unwrap();
    assert_eq!(c.xml_file.as_deref(), Some(r"(Get-Content 'C:\t.xml' | Out-String)"));
}

#[test]
fn hostile_scripts_do_not_hang_or_panic() {
    let deep = format!(
        "Register-ScheduledTask -TaskName d -Action {}New-ScheduledTaskAction -Execute x{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let _ = parse_powershell(&deep);
    let unclosed = format!("Register-ScheduledTask -TaskName d -Action {}", "(@{$(\"'".repeat(50_000));
    let _ = parse_powershell(&unclosed);
    // Doubling a variable many times must not double memory each time.
    let mut grow = String::from("$a = New-ScheduledTaskAction -Execute x;");
    for _ in 0..200 {
        grow.push_str("$a = @($a, $a);");
    }
    grow.push_str("Register-ScheduledTask -TaskName g -Action $a");
    let c = parse_powershell(&grow).unwrap();
    assert!(c.definition.unwrap().actions.len() <= 64);
    let many = "Register-ScheduledTask -TaskName m -Action (New-ScheduledTaskAction -Execute x);".repeat(20_000);
    assert!(parse_all(&format!("powershell -c \"{many}\"")).len() <= 64);
    // Long assignment chains are not followed by recursion.
    let chain = format!("{}New-ScheduledTaskAction -Execute c.exe; Register-ScheduledTask -TaskName c -Action $a", "$a=".repeat(15_000));
    assert_eq!(parse_powershell(&chain).unwrap().definition.unwrap().actions, vec![exec("c.exe", None)]);
    let _ = parse_powershell("\"unterminated `");
    let _ = parse_powershell("@'\nno end");
    let _ = parse_powershell("${unterminated");
    let _ = parse_powershell("-At: -Hidden:$false $ & . ` \u{0}\u{1b}");
}
