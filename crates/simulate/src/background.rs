//! Ordinary life on a host for one day: boot, the owner's logon and programs, scheduled task
//! runs, admin task changes, and filler activity (browsing, file and registry writes, service
//! processes, share access on servers) up to the configured volume.

use crate::catalog::{POPULAR, SYSTEM_DOMAINS};
use crate::emit::{Auth, Cx};
use crate::host::{Acct, Host, Integrity, Proc, SVCHOST, Session, proc_guid};
use crate::profile::{Behavior, ChangeKind, Installed, RunAs, When};
use crate::record::{DAY, HOUR, MIN, MS, SEC, weekday};
use crate::task::{Action, Fired, TaskDef};

/// Long-running service processes started at boot.
#[derive(Debug, Clone)]
pub struct Services {
    pub wuauserv: Proc,
    pub dcom: Proc,
    pub sysmain: Proc,
    pub defender: Proc,
    /// The configuration-management agent, which runs compliance scripts as SYSTEM.
    pub ccmexec: Proc,
}

const DEFENDER: &str = "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MsMpEng.exe";
const POWERSHELL: &str = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";

/// The service processes of `host` (identities only; [`boot`] logs their start).
pub fn services(host: &Host, rng: &mut crate::rng::Rng) -> Services {
    let mk = |rng: &mut crate::rng::Rng, image: &str, cmd: &str, dt: i64| Proc {
        guid: proc_guid(host.machine, host.boot + dt, rng),
        pid: rng.pid(),
        image: image.into(),
        cmd: cmd.into(),
        acct: host.system.clone(),
    };
    Services {
        dcom: mk(rng, SVCHOST, "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p", -2 * SEC),
        wuauserv: mk(rng, SVCHOST, "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s wuauserv", 9 * SEC),
        sysmain: mk(rng, SVCHOST, "C:\\Windows\\system32\\svchost.exe -k LocalSystemNetworkRestricted -p -s SysMain", 4 * SEC),
        defender: mk(rng, DEFENDER, &format!("\"{DEFENDER}\""), 6 * SEC),
        ccmexec: mk(rng, "C:\\Windows\\CCM\\CcmExec.exe", "C:\\Windows\\CCM\\CcmExec.exe", 14 * SEC),
    }
}

/// Boot: the service host processes as children of services.exe.
pub fn boot(cx: &mut Cx, svc: &Services) {
    let host = cx.host;
    let services = host.services.clone();
    cx.process_events(host.boot - 2 * SEC, &svc.dcom, &services, 0);
    cx.process_events(host.boot, &host.schedule.clone(), &services, 0);
    cx.process_events(host.boot + 4 * SEC, &svc.sysmain, &services, 0);
    cx.process_events(host.boot + 6 * SEC, &svc.defender, &services, 0);
    cx.process_events(host.boot + 9 * SEC, &svc.wuauserv, &services, 0);
    cx.process_events(host.boot + 14 * SEC, &svc.ccmexec, &services, 0);
}

/// Generates one day of background for the host into `cx.out`.
pub fn day(cx: &mut Cx, svc: &Services, installed: &[Installed], day: u32, target: usize) {
    let fleet = cx.fleet;
    let host = cx.host;
    let d0 = fleet.day_start(day);
    let lo = d0.max(host.boot + MIN);
    let first = cx.out.len();
    if day == 0 {
        boot(cx, svc);
    }
    let session = fleet.session(host, day);
    let mut apps: Vec<Proc> = Vec::new();
    if let Some(s) = &session {
        apps = logon(cx, s, installed);
    }
    for item in installed {
        for c in item.changes.iter().filter(|c| c.t >= d0 && c.t < d0 + DAY) {
            admin_change(cx, item, c);
        }
        let acct = match item.run_as {
            RunAs::System => host.system.clone(),
            RunAs::LocalService => host.local_service.clone(),
            RunAs::Owner => continue,
        };
        let mut times = Vec::new();
        match item.when {
            When::Daily { at, jitter } => times.push(d0 + at + cx.rng.range(0, jitter.max(1))),
            When::Weekly { weekday: wd, at } if weekday(d0) == wd => times.push(d0 + at + cx.rng.range(0, 30 * SEC)),
            When::Hourly { minute } => times.extend((0..24).map(|h| d0 + h * HOUR + minute + cx.rng.range(0, 2 * SEC))),
            _ => {}
        }
        for t in times.into_iter().filter(|&t| t >= lo && item.active_at(t)) {
            run_task(cx, item, t, Fired::Time, &acct);
        }
    }
    // File-server visits on servers, remote inventory reads on workstations.
    let business = weekday(d0) < 5;
    let visits = match (host.is_workstation(), business) {
        (false, true) => cx.rng.range(15, 40),
        (false, false) => cx.rng.range(1, 5),
        (true, _) => cx.rng.range(0, 2),
    };
    for _ in 0..visits {
        let t = if business { d0 + cx.rng.range(8 * HOUR, 18 * HOUR) } else { cx.rng.range(lo, d0 + DAY - MIN) }.max(lo);
        if host.is_workstation() {
            inventory_read(cx, t);
        } else {
            share_access(cx, t);
        }
    }
    let mut guard = 0;
    while cx.out.len() - first < target && guard < target * 4 + 100 {
        guard += 1;
        filler(cx, svc, session.as_ref(), &apps, lo, d0 + DAY);
    }
}

/// The owner's logon: 4624, userinit and explorer, startup programs, logon-triggered tasks.
fn logon(cx: &mut Cx, s: &Session, installed: &[Installed]) -> Vec<Proc> {
    let host = cx.host;
    cx.logon(s.start, s.logon_type, &s.acct, "127.0.0.1", Auth::Kerberos, false);
    cx.process_events(s.userinit_t, &s.userinit, &host.winlogon.clone(), 0);
    cx.process_events(s.explorer_t, &s.explorer, &s.userinit, 0);
    let user = s.acct.account.name.clone();
    let browser = if installed.iter().any(|i| i.def.name.starts_with("\\GoogleUpdate")) {
        ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" ")
    } else {
        (
            "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
            "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" ",
        )
    };
    let onedrive = format!("C:\\Users\\{user}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe");
    let teams = format!("C:\\Users\\{user}\\AppData\\Local\\Microsoft\\WindowsApps\\ms-teams.exe");
    let startup: Vec<(String, String, i64)> = vec![
        (onedrive.clone(), format!("\"{onedrive}\" /background"), 20),
        (teams.clone(), format!("\"{teams}\" msteams:system-initiated"), 25),
        (
            "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE".into(),
            "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\" ".into(),
            90,
        ),
        (browser.0.into(), browser.1.into(), 150),
    ];
    let mut apps = Vec::new();
    for (image, cmd, delay) in startup {
        let t = s.explorer_t + delay * SEC + cx.rng.range(0, 40 * SEC);
        let p = cx.spawn(t, &s.explorer, &image, &cmd, &s.acct, 0);
        cx.image_load(t + 80 * MS, &p, "C:\\Windows\\System32\\wininet.dll", true, 0);
        apps.push(p);
    }
    for item in installed.iter().filter(|i| i.run_as == RunAs::Owner && matches!(i.when, When::AtLogon)) {
        let t = s.explorer_t + cx.rng.range(30, 240) * SEC;
        if item.active_at(t) {
            run_task(cx, item, t, Fired::Logon, &s.acct);
        }
    }
    apps
}

/// One run of a background task, with what its process visibly does.
fn run_task(cx: &mut Cx, item: &Installed, t: i64, fired: Fired, acct: &Acct) {
    let run = cx.start_run(t, &item.def, fired, acct, None, 0);
    let mut end = t + cx.rng.range(400 * MS, 25 * SEC);
    if let Some(p) = &run.proc {
        match item.behavior {
            Behavior::Net(domains) => {
                for d in domains {
                    let at = t + cx.rng.range(300 * MS, 4 * SEC);
                    cx.browse(at, p, d, 443, 1);
                }
                end += 2 * SEC;
            }
            Behavior::Script { path, text } => {
                cx.image_load(t + 200 * MS, p, "C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Manaa57fc8cc#\\a6b1b1ef8ff9e0bbd3a0d1d6a3e5a2d2\\System.Management.Automation.ni.dll", true, 0);
                cx.script_block(t + 900 * MS, p, text, path, false);
                end += 3 * SEC;
            }
            Behavior::Quiet => {}
        }
    }
    cx.finish_run(end, &item.def, &run, acct, 0);
}

/// A legitimate registration change: the SCCM agent rewriting its task as SYSTEM, or an admin in
/// an RDP session using schtasks or the Task Scheduler console.
fn admin_change(cx: &mut Cx, item: &Installed, c: &crate::profile::Change) {
    let fleet = cx.fleet;
    let host = cx.host;
    if c.kind == ChangeKind::AgentUpdate {
        cx.update_task(c.t, &c.def, &host.system.clone());
        return;
    }
    let t_logon = c.t - cx.rng.range(3 * MIN, 20 * MIN);
    let mut r = cx.rng.clone();
    let acct = fleet.admin_acct(host, c.admin, t_logon, &mut r, Integrity::High);
    cx.rng = r;
    let source = fleet.admin_homes[c.admin % fleet.admin_homes.len()].clone();
    cx.logon(t_logon, 10, &acct, &source, Auth::Kerberos, true);
    let winlogon = host.winlogon.clone();
    let t1 = t_logon + cx.rng.range(1, 3) * SEC;
    let userinit = cx.spawn(t1, &winlogon, "C:\\Windows\\System32\\userinit.exe", "C:\\Windows\\system32\\userinit.exe", &acct, 0);
    let explorer = cx.spawn(t1 + 700 * MS, &userinit, "C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE", &acct, 0);
    let name = &item.def.name;
    let use_console = matches!(c.kind, ChangeKind::Update) || cx.rng.chance(0.3);
    if use_console {
        let t = c.t - cx.rng.range(30, 120) * SEC;
        cx.spawn(
            t,
            &explorer,
            "C:\\Windows\\System32\\mmc.exe",
            "\"C:\\Windows\\system32\\mmc.exe\" \"C:\\Windows\\system32\\taskschd.msc\" /s",
            &acct,
            0,
        );
    } else {
        let t = c.t - cx.rng.range(20, 90) * SEC;
        let cmd = cx.spawn(t, &explorer, "C:\\Windows\\System32\\cmd.exe", "\"C:\\Windows\\system32\\cmd.exe\" ", &acct, 0);
        let line = match c.kind {
            ChangeKind::Create => schtasks_create(&c.def),
            ChangeKind::Disable => format!("schtasks  /change /tn \"{name}\" /disable"),
            ChangeKind::Delete => format!("schtasks  /delete /tn \"{name}\" /f"),
            _ => format!("schtasks  /change /tn \"{name}\" /enable"),
        };
        let at = c.t - cx.rng.range(40, 400) * MS;
        cx.spawn(at, &cmd, "C:\\Windows\\System32\\schtasks.exe", &line, &acct, 0);
    }
    match c.kind {
        ChangeKind::Create => cx.register_task(c.t, &c.def, &acct),
        ChangeKind::Update => cx.update_task(c.t, &c.def, &acct),
        ChangeKind::Delete => cx.delete_task(c.t, &c.def, &acct),
        _ => cx.set_task_enabled(c.t, &c.def, &acct),
    }
    if cx.rng.chance(0.5) {
        let t = c.t + cx.rng.range(30, 300) * SEC;
        let ps = cx.spawn(t, &explorer, POWERSHELL, &format!("\"{POWERSHELL}\" "), &acct, 0);
        let text = format!(
            "Get-ScheduledTask -TaskPath '\\Corp\\' | Select-Object TaskName, State, Author | Format-Table -AutoSize\n# checked by {}",
            acct.account.name
        );
        cx.script_block(t + 20 * SEC, &ps, &text, "", false);
    }
}

/// The `schtasks /create` command line an admin would type for a `\Corp` job.
fn schtasks_create(def: &TaskDef) -> String {
    let Action::Exec { command, args, .. } = &def.action else { return String::new() };
    let tr = match args {
        Some(a) => format!("{command} {}", a.replace('"', "\\\"")),
        None => command.clone(),
    };
    let st = match &def.trigger {
        crate::task::Trigger::Daily { start, .. } => start.get(11..16).unwrap_or("02:00").to_string(),
        _ => "02:00".into(),
    };
    format!("schtasks  /create /tn \"{}\" /tr \"{tr}\" /sc daily /st {st} /ru SYSTEM /rl HIGHEST /f", def.name)
}

const SHARE_FILES: &[&str] = &[
    "Finance\\Reports\\monthly-close.xlsx",
    "Finance\\Invoices\\2024\\batch-17.pdf",
    "HR\\Policies\\travel-policy.docx",
    "Projects\\Atlas\\design-review.pptx",
    "Projects\\Atlas\\requirements.docx",
    "Sales\\Pipeline\\forecast.xlsx",
    "IT\\Software\\drivers\\readme.txt",
];

const USER_FILES: &[&str] =
    &["quarterly-report.docx", "budget.xlsx", "meeting-notes.docx", "slides.pptx", "invoice-scan.pdf", "timesheet.xlsx", "screenshot.png"];

/// One unit of filler activity at a random time.
fn filler(cx: &mut Cx, svc: &Services, session: Option<&Session>, apps: &[Proc], lo: i64, hi: i64) {
    let host = cx.host;
    let in_session = session.filter(|_| !apps.is_empty() && cx.rng.chance(0.8));
    let (a, b) = match in_session {
        Some(s) => (s.explorer_t + 5 * MIN, s.end),
        None => (lo, hi),
    };
    if b <= a {
        return;
    }
    let t = cx.rng.range(a, b - 1);
    if let (Some(s), false) = (in_session, apps.is_empty()) {
        match cx.rng.weighted(&[40, 15, 12, 8, 10, 8]) {
            0 => {
                let browser = &apps[apps.len() - 1];
                let d = *cx.rng.pick(POPULAR);
                let n = cx.rng.range(1, 4) as usize;
                cx.browse(t, browser, d, 443, n);
            }
            1 => {
                let p = &apps[cx.rng.below(2) as usize + 1];
                let d = if p.image.ends_with("OUTLOOK.EXE") { "outlook.office365.com" } else { "teams.microsoft.com" };
                cx.browse(t, p, d, 443, 1);
            }
            2 => {
                let user = &s.acct.account.name;
                let file = *cx.rng.pick(USER_FILES);
                let (image, cmd) = office_for(file, user);
                let p = cx.spawn(t, &s.explorer, &image, &cmd, &s.acct, 0);
                cx.image_load(t + 300 * MS, &p, "C:\\Windows\\System32\\mshtml.dll", true, 0);
                if cx.rng.chance(0.5) {
                    let at = t + cx.rng.range(1, 40) * MIN;
                    cx.file_create(at, &p, &format!("C:\\Users\\{user}\\Documents\\~${file}"));
                }
            }
            3 => {
                let user = &s.acct.account.name;
                let browser = &apps[apps.len() - 1];
                let file = *cx.rng.pick(USER_FILES);
                cx.file_create(t, browser, &format!("C:\\Users\\{user}\\Downloads\\{file}"));
            }
            4 => {
                let sid = &s.acct.account.sid;
                let ext = ["docx", "xlsx", "pdf"][cx.rng.below(3) as usize];
                let n = cx.rng.below(20);
                cx.reg_set(
                    t,
                    &s.explorer,
                    &format!("HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs\\.{ext}\\{n}"),
                    "Binary Data",
                );
            }
            _ => {
                let (image, cmd) = *cx.rng.pick(&[
                    ("C:\\Windows\\System32\\RuntimeBroker.exe", "C:\\Windows\\System32\\RuntimeBroker.exe -Embedding"),
                    (
                        "C:\\Windows\\System32\\backgroundTaskHost.exe",
                        "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" -ServerName:BackgroundTaskHost.WebAccountProvider",
                    ),
                    ("C:\\Windows\\System32\\smartscreen.exe", "C:\\Windows\\System32\\smartscreen.exe -Embedding"),
                ]);
                cx.spawn(t, &svc.dcom, image, cmd, &s.acct, 0);
            }
        }
        return;
    }
    let server = !host.is_workstation();
    let business = (9 * HOUR..18 * HOUR).contains(&(t.rem_euclid(DAY))) && weekday(t) < 5;
    let weights = if server { [if business { 45 } else { 12 }, 20, 15, 10, 3] } else { [0, 40, 30, 20, 3] };
    match cx.rng.weighted(&weights) {
        0 => share_access(cx, t),
        1 => {
            let p = if cx.rng.chance(0.5) { svc.wuauserv.clone() } else { svc.defender.clone() };
            let d = *cx.rng.pick(SYSTEM_DOMAINS);
            cx.browse(t, &p, d, 443, 1);
        }
        2 => {
            let (image, cmd) = *cx.rng.pick(&[
                ("C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding"),
                ("C:\\Windows\\System32\\dllhost.exe", "C:\\Windows\\system32\\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}"),
                ("C:\\Windows\\System32\\SearchProtocolHost.exe", "\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe1_ Global\\UsGthrCtrlFltPipeMssGthrPipe1 1 -2147483646 \"Software\\Microsoft\\Windows Search\" \"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)\" \"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc\" \"DownLevelDaemon\" "),
            ]);
            let dcom = svc.dcom.clone();
            let system = host.system.clone();
            cx.spawn(t, &dcom, image, cmd, &system, 0);
        }
        4 => compliance_script(cx, svc, t),
        _ => {
            let name = *cx.rng.pick(&[
                "SVCHOST.EXE",
                "MSEDGE.EXE",
                "CONHOST.EXE",
                "TASKHOSTW.EXE",
                "RUNTIMEBROKER.EXE",
                "WMIPRVSE.EXE",
                "SEARCHPROTOCOLHOST.EXE",
            ]);
            let h = cx.rng.hex(8).to_ascii_uppercase();
            let sysmain = svc.sysmain.clone();
            cx.file_create(t, &sysmain, &format!("C:\\Windows\\Prefetch\\{name}-{h}.pf"));
        }
    }
}

const COMPLIANCE: &[&str] = &[
    "$svc = Get-Service -Name 'WinRM' -ErrorAction SilentlyContinue\nif ($svc -and $svc.Status -eq 'Running') { 'Compliant' } else { 'NonCompliant' }",
    "$key = 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Defender'\n$value = Get-ItemProperty -Path $key -Name 'DisableAntiSpyware' -ErrorAction SilentlyContinue\nif ($null -eq $value -or $value.DisableAntiSpyware -eq 0) { 'Compliant' } else { 'NonCompliant' }",
    "$free = (Get-PSDrive -Name C).Free / 1GB\nif ($free -gt 10) { 'Compliant' } else { 'NonCompliant' }",
];

/// A configuration-management compliance check: the agent starts PowerShell as SYSTEM on a
/// script in its temp folder, which script block logging records.
fn compliance_script(cx: &mut Cx, svc: &Services, t: i64) {
    let script = format!("C:\\Windows\\CCM\\SystemTemp\\{}.ps1", &cx.rng.guid()[1..37]);
    let cmd = format!("\"{POWERSHELL}\" -NoLogo -NonInteractive -ExecutionPolicy Bypass -File \"{script}\"");
    let system = cx.host.system.clone();
    let ps = cx.spawn(t, &svc.ccmexec, POWERSHELL, &cmd, &system, 0);
    let text = *cx.rng.pick(COMPLIANCE);
    cx.script_block(t + 700 * MS, &ps, text, &script, false);
}

fn office_for(file: &str, user: &str) -> (String, String) {
    let app = match file.rsplit('.').next() {
        Some("xlsx") => "EXCEL.EXE",
        Some("pdf") => {
            return (
                "C:\\Program Files (x86)\\Adobe\\Acrobat Reader DC\\Reader\\AcroRd32.exe".into(),
                format!(
                    "\"C:\\Program Files (x86)\\Adobe\\Acrobat Reader DC\\Reader\\AcroRd32.exe\" \"C:\\Users\\{user}\\Downloads\\{file}\""
                ),
            );
        }
        Some("png") => return ("C:\\Windows\\System32\\notepad.exe".into(), "\"C:\\Windows\\system32\\NOTEPAD.EXE\" ".into()),
        _ => "WINWORD.EXE",
    };
    let image = format!("C:\\Program Files\\Microsoft Office\\root\\Office16\\{app}");
    let cmd = format!("\"{image}\" /n \"C:\\Users\\{user}\\Documents\\{file}\"");
    (image, cmd)
}

/// The inventory service reading a workstation's registry over the `winreg` pipe.
fn inventory_read(cx: &mut Cx, t: i64) {
    let fleet = cx.fleet;
    let host = cx.host;
    let source = fleet.hosts.iter().find(|h| !h.is_workstation()).map(|h| h.ip.clone()).unwrap_or_else(|| "10.20.2.15".into());
    let lid = crate::host::logon_id(&mut cx.rng);
    let acct = Acct {
        account: fleet.inventory.clone(),
        logon_id: lid,
        logon_guid: crate::host::logon_guid(host.machine, t, lid),
        session: 0,
        integrity: Integrity::Medium,
    };
    cx.logon(t, 3, &acct, &source, Auth::Kerberos, false);
    let at = t + cx.rng.range(10, 300) * MS;
    cx.share_access(at, &acct, &source, "\\\\*\\IPC$", "", "winreg", 0x3);
}

/// A file-share visit to a server: Kerberos network logon from a workstation and the 5145
/// checks of the pipes and files it touches.
fn share_access(cx: &mut Cx, t: i64) {
    let fleet = cx.fleet;
    let host = cx.host;
    if fleet.users.is_empty() {
        return;
    }
    let u = cx.rng.below(fleet.users.len() as u64) as usize;
    let client = fleet.hosts.get(u).filter(|h| h.is_workstation()).map(|h| h.ip.clone()).unwrap_or_else(|| "10.20.10.50".into());
    let lid = crate::host::logon_id(&mut cx.rng);
    let acct = Acct {
        account: fleet.users[u].clone(),
        logon_id: lid,
        logon_guid: crate::host::logon_guid(host.machine, t, lid),
        session: 0,
        integrity: Integrity::Medium,
    };
    cx.logon(t, 3, &acct, &client, Auth::Kerberos, false);
    let mut at = t + cx.rng.range(5, 60) * MS;
    if cx.rng.chance(0.6) {
        let pipe = *cx.rng.pick(&["srvsvc", "wkssvc", "lsarpc"]);
        cx.share_access(at, &acct, &client, "\\\\*\\IPC$", "", pipe, 0x3);
        at += cx.rng.range(5, 200) * MS;
    }
    for _ in 0..cx.rng.range(1, 3) {
        let f = *cx.rng.pick(SHARE_FILES);
        let mask = *cx.rng.pick(&[0x1, 0x1, 0x80, 0x12019f]);
        cx.share_access(at, &acct, &client, "\\\\*\\Shares", "\\??\\D:\\Shares", f, mask);
        at += cx.rng.range(20, 3000) * MS;
    }
}
