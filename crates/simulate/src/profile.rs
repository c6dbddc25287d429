//! What is installed on each host before the window opens, and which legitimate task changes
//! administrators make during it: the built-in `\Microsoft\Windows\...` tasks, browser, OneDrive
//! and Adobe updaters, the SCCM health task, and the admins' own `\Corp\...` jobs.

use crate::host::{Fleet, Host, Kind, TAG_ADMIN};
use crate::record::{DAY, HOUR, MIN, SEC, weekday, xml_time};
use crate::rng::{Rng, hash_str};
use crate::task::{Action, Principal, Settings, TaskDef, Trigger};

/// When a background task runs.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// Every day at `at` (offset into the day) plus up to `jitter`.
    Daily { at: i64, jitter: i64 },
    /// One weekday (0 = Monday) at `at`.
    Weekly { weekday: u32, at: i64 },
    /// Every hour at `minute` past.
    Hourly { minute: i64 },
    /// A little after the owner logs on.
    AtLogon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAs {
    System,
    LocalService,
    /// The workstation's owner, inside their session.
    Owner,
}

/// What the started process does that shows in telemetry.
#[derive(Debug, Clone, Copy)]
pub enum Behavior {
    Quiet,
    /// Resolves and connects to these names over HTTPS.
    Net(&'static [&'static str]),
    /// A PowerShell script file, logged by 4104.
    Script {
        path: &'static str,
        text: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Create,
    Update,
    Disable,
    Enable,
    Delete,
    /// The SCCM client (as SYSTEM) rewrites its own task's schedule.
    AgentUpdate,
}

/// A registration change made during the window.
#[derive(Debug, Clone)]
pub struct Change {
    pub t: i64,
    pub kind: ChangeKind,
    pub admin: usize,
    /// The definition after the change.
    pub def: TaskDef,
}

#[derive(Debug, Clone)]
pub struct Installed {
    pub def: TaskDef,
    pub when: When,
    pub run_as: RunAs,
    pub behavior: Behavior,
    /// Registration and later changes inside the window, in time order. A task whose first
    /// change is `Create` does not exist before it.
    pub changes: Vec<Change>,
}

impl Installed {
    /// Whether the task exists and is enabled at `t`.
    pub fn active_at(&self, t: i64) -> bool {
        let mut active = !matches!(self.changes.first(), Some(c) if c.kind == ChangeKind::Create);
        for c in &self.changes {
            if c.t > t {
                break;
            }
            active = !matches!(c.kind, ChangeKind::Disable | ChangeKind::Delete);
        }
        active
    }
}

const ROTATE_LOGS: &str = "param([int]$KeepDays = 14)\n$root = 'D:\\Logs'\nGet-ChildItem -Path $root -Filter *.log -Recurse |\n    Where-Object { $_.LastWriteTime -lt (Get-Date).AddDays(-$KeepDays) } |\n    Remove-Item -Force\nWrite-Output \"Rotated logs older than $KeepDays days under $root\"";
const DISK_REPORT: &str = "$disks = Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType=3'\n$report = foreach ($d in $disks) {\n    [pscustomobject]@{ Drive = $d.DeviceID; FreeGB = [math]::Round($d.FreeSpace / 1GB, 1) }\n}\n$report | Export-Csv -Path 'C:\\Scripts\\Reports\\disk-space.csv' -NoTypeInformation";

/// A GUID that is a stable function of a name (CLSIDs, per-install task ids).
pub fn name_guid(name: &str, upper: bool) -> String {
    let mut r = Rng::new(hash_str(name));
    let g = r.guid();
    if upper { g.to_ascii_uppercase() } else { g }
}

fn ms_task(name: &str, action: Action, principal: Principal, trigger: Trigger) -> TaskDef {
    TaskDef {
        name: name.to_string(),
        id: name_guid(name, true),
        version: "1.4",
        author: Some("Microsoft Corporation".into()),
        description: None,
        date: None,
        uri: true,
        trigger,
        principal,
        settings: Settings::relaxed("PT4H"),
        action,
        context: "Author",
    }
}

fn exec(command: &str, args: Option<&str>) -> Action {
    Action::Exec { command: command.into(), args: args.map(Into::into), workdir: None }
}

fn system_principal(level: &'static str) -> Principal {
    Principal { id: "Author", user_id: Some("S-1-5-18".into()), group_id: None, logon_type: None, run_level: Some(level) }
}

fn daily_at(fleet: &Fleet, at: i64) -> Trigger {
    Trigger::Daily { start: xml_time(fleet.start - 400 * DAY + at, false), random_delay: None }
}

/// Everything present on `host` at the start of the window, plus the admin changes to come.
pub fn installed(fleet: &Fleet, host: &Host) -> Vec<Installed> {
    let mut r = Rng::derive(fleet.seed, &[TAG_ADMIN, host.index as u64, 1]);
    let mut list = Vec::new();
    let mut add = |def: TaskDef, when: When, run_as: RunAs, behavior: Behavior| {
        list.push(Installed { def, when, run_as, behavior, changes: Vec::new() })
    };
    let jitter = HOUR;
    let sys = || system_principal("HighestAvailable");
    let at = |r: &mut Rng, h: i64| h * HOUR + r.range(0, 59) * MIN;

    let t = at(&mut r, 3);
    add(
        ms_task(
            "\\Microsoft\\Windows\\Application Experience\\Microsoft Compatibility Appraiser",
            exec("%windir%\\system32\\compattelrunner.exe", None),
            sys(),
            daily_at(fleet, t),
        ),
        When::Daily { at: t, jitter },
        RunAs::System,
        Behavior::Net(&["v10.events.data.microsoft.com"]),
    );
    let t = at(&mut r, 2);
    add(
        ms_task(
            "\\Microsoft\\Windows\\Windows Error Reporting\\QueueReporting",
            exec("%windir%\\system32\\wermgr.exe", Some("-upload")),
            sys(),
            daily_at(fleet, t),
        ),
        When::Daily { at: t, jitter },
        RunAs::System,
        Behavior::Quiet,
    );
    let t = at(&mut r, 1);
    add(
        ms_task(
            "\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan",
            exec("%systemroot%\\system32\\usoclient.exe", Some("StartScan")),
            sys(),
            daily_at(fleet, t),
        ),
        When::Daily { at: t, jitter: 4 * HOUR },
        RunAs::System,
        Behavior::Quiet,
    );
    let t = at(&mut r, 1);
    let ls = Principal { id: "LocalService", user_id: Some("S-1-5-19".into()), group_id: None, logon_type: None, run_level: None };
    add(
        ms_task(
            "\\Microsoft\\Windows\\Time Synchronization\\SynchronizeTime",
            exec("%windir%\\system32\\sc.exe", Some("start w32time task_started")),
            ls,
            daily_at(fleet, t),
        ),
        When::Daily { at: t, jitter: 10 * MIN },
        RunAs::LocalService,
        Behavior::Quiet,
    );
    let t = at(&mut r, 4);
    add(
        ms_task(
            "\\Microsoft\\Windows\\Windows Defender\\Windows Defender Scheduled Scan",
            exec(
                "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MpCmdRun.exe",
                Some("Scan -ScheduleJob -ScanTrigger 55 -IdleScheduledJob"),
            ),
            sys(),
            daily_at(fleet, t),
        ),
        When::Daily { at: t, jitter: 2 * HOUR },
        RunAs::System,
        Behavior::Net(&["wdcp.microsoft.com"]),
    );
    let t = at(&mut r, 5);
    add(
        ms_task(
            "\\Microsoft\\Windows\\Customer Experience Improvement Program\\Consolidator",
            exec("%SystemRoot%\\System32\\wsqmcons.exe", None),
            sys(),
            daily_at(fleet, t),
        ),
        When::Daily { at: t, jitter: 30 * MIN },
        RunAs::System,
        Behavior::Quiet,
    );
    let t = at(&mut r, 1);
    add(
        ms_task(
            "\\Microsoft\\Windows\\Defrag\\ScheduledDefrag",
            exec("%windir%\\system32\\defrag.exe", Some("-c -h -o -$")),
            sys(),
            daily_at(fleet, t),
        ),
        When::Weekly { weekday: 2, at: t },
        RunAs::System,
        Behavior::Quiet,
    );
    let t = at(&mut r, 6);
    add(
        ms_task(
            "\\Microsoft\\Windows\\WindowsUpdate\\Scheduled Start",
            exec("C:\\Windows\\system32\\sc.exe", Some("start wuauserv")),
            sys(),
            daily_at(fleet, t),
        ),
        When::Daily { at: t, jitter: 3 * HOUR },
        RunAs::System,
        Behavior::Quiet,
    );
    for (name, h) in [("\\Microsoft\\Windows\\Registry\\RegIdleBackup", 0), ("\\Microsoft\\Windows\\Diagnosis\\Scheduled", 4)] {
        let t = at(&mut r, h);
        let com = Action::Com { clsid: name_guid(name, true), data: None };
        add(ms_task(name, com, sys(), daily_at(fleet, t)), When::Daily { at: t, jitter: 2 * HOUR }, RunAs::System, Behavior::Quiet);
    }
    let t = at(&mut r, 5);
    let com = Action::Com { clsid: name_guid("StartComponentCleanup", true), data: None };
    add(
        ms_task("\\Microsoft\\Windows\\Servicing\\StartComponentCleanup", com, sys(), daily_at(fleet, t)),
        When::Weekly { weekday: 6, at: t },
        RunAs::System,
        Behavior::Quiet,
    );

    if host.kind == Kind::Workstation {
        let users = Principal {
            id: "Users",
            user_id: None,
            group_id: Some("S-1-5-32-545".into()),
            logon_type: None,
            run_level: Some("HighestAvailable"),
        };
        add(
            ms_task(
                "\\Microsoft\\Windows\\DiskCleanup\\SilentCleanup",
                exec("%windir%\\system32\\cleanmgr.exe", Some("/autoclean /d %systemdrive%")),
                users.clone(),
                Trigger::Logon { user: None },
            ),
            When::AtLogon,
            RunAs::Owner,
            Behavior::Quiet,
        );
        let com = Action::Com { clsid: name_guid("CertificateServicesClient", true), data: Some("UserTask".into()) };
        add(
            ms_task("\\Microsoft\\Windows\\CertificateServicesClient\\UserTask", com, users, Trigger::Logon { user: None }),
            When::AtLogon,
            RunAs::Owner,
            Behavior::Quiet,
        );
    }

    // Vendor updaters, from their install folders against their own domains.
    let installed_at = fleet.start - r.range(30, 700) * DAY;
    let minute = r.range(0, 59) * MIN + r.range(0, 59) * SEC;
    let updater = |name: String, cmd: &str, args: &str, trigger: Trigger| TaskDef {
        id: name_guid(&format!("{name}{}", host.short), true),
        name,
        version: "1.2",
        author: None,
        description: None,
        date: Some(installed_at),
        uri: false,
        trigger,
        principal: Principal {
            id: "Author",
            user_id: Some("S-1-5-18".into()),
            group_id: None,
            logon_type: None,
            run_level: Some("HighestAvailable"),
        },
        settings: Settings::relaxed("PT72H"),
        action: exec(cmd, Some(args)),
        context: "Author",
    };
    let vendors: [(&str, &str, &'static [&'static str], f64); 2] = [
        (
            "GoogleUpdateTaskMachine",
            "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe",
            &["update.googleapis.com", "dl.google.com"],
            if host.kind == Kind::Workstation { 0.75 } else { 0.1 },
        ),
        (
            "MicrosoftEdgeUpdateTaskMachine",
            "C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe",
            &["msedge.api.cdp.microsoft.com", "edge.microsoft.com"],
            1.0,
        ),
    ];
    for (prefix, cmd, domains, p) in vendors {
        if !r.chance(p) {
            continue;
        }
        let guid = r.guid().to_ascii_uppercase();
        let core_at = (installed_at.rem_euclid(DAY) / HOUR) * HOUR + minute;
        add(
            updater(
                format!("\\{prefix}Core{guid}"),
                cmd,
                "/c",
                Trigger::Daily { start: xml_time(installed_at, false), random_delay: None },
            ),
            When::Daily { at: core_at, jitter: 90 * SEC },
            RunAs::System,
            Behavior::Net(&domains[..1]),
        );
        let repeat = Trigger::Repeat { start: xml_time(installed_at, false), interval: "PT1H", duration: Some("P1D") };
        add(
            updater(format!("\\{prefix}UA{guid}"), cmd, "/ua /installsource scheduler", repeat),
            When::Hourly { minute },
            RunAs::System,
            Behavior::Net(domains),
        );
    }
    if let Some(u) = host.user {
        let user = &fleet.users[u];
        let owner = Principal {
            id: "Author",
            user_id: Some(user.sid.clone()),
            group_id: None,
            logon_type: Some("InteractiveToken"),
            run_level: Some("LeastPrivilege"),
        };
        let mut od = updater(
            format!("\\OneDrive Standalone Update Task-{}", user.sid),
            "%localappdata%\\Microsoft\\OneDrive\\OneDriveStandaloneUpdater.exe",
            "",
            Trigger::Daily { start: xml_time(installed_at, false), random_delay: Some("PT1H") },
        );
        od.action = exec("%localappdata%\\Microsoft\\OneDrive\\OneDriveStandaloneUpdater.exe", None);
        od.principal = owner.clone();
        add(od, When::AtLogon, RunAs::Owner, Behavior::Net(&["oneclient.sfx.ms", "g.live.com"]));
        if r.chance(0.5) {
            let mut adobe = updater(
                "\\Adobe Acrobat Update Task".into(),
                "C:\\Program Files (x86)\\Common Files\\Adobe\\ARM\\1.0\\AdobeARM.exe",
                "",
                Trigger::Logon { user: None },
            );
            adobe.action = exec("C:\\Program Files (x86)\\Common Files\\Adobe\\ARM\\1.0\\AdobeARM.exe", None);
            adobe.principal = Principal {
                id: "Author",
                user_id: None,
                group_id: Some("S-1-5-4".into()),
                logon_type: None,
                run_level: Some("LeastPrivilege"),
            };
            add(adobe, When::AtLogon, RunAs::Owner, Behavior::Net(&["armmf.adobe.com"]));
        }
    }
    admin_tasks(fleet, host, &mut r, &mut list);
    list
}

struct Job {
    name: &'static str,
    command: &'static str,
    args: &'static str,
    behavior: Behavior,
}

const JOBS: &[Job] = &[
    Job {
        name: "\\Corp\\Rotate Logs",
        command: "powershell.exe",
        args: "-NoProfile -ExecutionPolicy Bypass -File C:\\Scripts\\Rotate-Logs.ps1",
        behavior: Behavior::Script { path: "C:\\Scripts\\Rotate-Logs.ps1", text: ROTATE_LOGS },
    },
    Job {
        name: "\\Corp\\Disk Space Report",
        command: "powershell.exe",
        args: "-NoProfile -ExecutionPolicy Bypass -File C:\\Scripts\\Get-DiskReport.ps1",
        behavior: Behavior::Script { path: "C:\\Scripts\\Get-DiskReport.ps1", text: DISK_REPORT },
    },
    Job {
        name: "\\Corp\\Inventory Upload",
        command: "C:\\Program Files\\CorpTools\\Inventory\\InvAgent.exe",
        args: "--upload --quiet",
        behavior: Behavior::Net(&["inventory.corp.example.com"]),
    },
    Job {
        name: "\\Corp\\Cleanup Temp",
        command: "C:\\Windows\\System32\\forfiles.exe",
        args: "/p D:\\Temp /s /m *.* /d -7 /c \"cmd /c del @path\"",
        behavior: Behavior::Quiet,
    },
    Job { name: "\\Corp\\Resync Time", command: "C:\\Windows\\System32\\w32tm.exe", args: "/resync /nowait", behavior: Behavior::Quiet },
    Job {
        name: "\\Corp\\Backup SystemState",
        command: "C:\\Windows\\System32\\wbadmin.exe",
        args: "start systemstatebackup -backupTarget:E: -quiet",
        behavior: Behavior::Quiet,
    },
    Job {
        name: "\\Corp\\Refresh Group Policy",
        command: "C:\\Windows\\System32\\gpupdate.exe",
        args: "/target:computer /force",
        behavior: Behavior::Quiet,
    },
];

/// A business-hours instant (weekday, 09:00–17:00) inside the window, or `None` if the window
/// has no weekday.
pub fn business_time(fleet: &Fleet, r: &mut Rng) -> Option<i64> {
    for _ in 0..64 {
        let day = r.below(fleet.days as u64) as u32;
        let d0 = fleet.day_start(day);
        if weekday(d0) < 5 {
            return Some(d0 + 9 * HOUR + r.range(0, 8 * HOUR / SEC - 1) * SEC + r.range(0, 9_999_999));
        }
    }
    None
}

/// The SCCM health task on managed hosts, and the admins' `\Corp\...` jobs (mostly on servers):
/// some registered long ago, some registered, changed or disabled during the window, always
/// from an interactive (RDP) session in business hours.
fn admin_tasks(fleet: &Fleet, host: &Host, r: &mut Rng, list: &mut Vec<Installed>) {
    if r.chance(0.7) {
        let t = at_night(r);
        let name = "\\Microsoft\\Configuration Manager\\Configuration Manager Health Evaluation";
        let mut def = ms_task(name, exec("C:\\Windows\\CCM\\ccmeval.exe", None), system_principal("HighestAvailable"), daily_at(fleet, t));
        def.settings = Settings::schtasks();
        let mut item = Installed {
            def: def.clone(),
            when: When::Daily { at: t, jitter: 5 * MIN },
            run_as: RunAs::System,
            behavior: Behavior::Quiet,
            changes: Vec::new(),
        };
        if r.chance(0.6)
            && let Some(ct) = business_time(fleet, r)
        {
            def.trigger = Trigger::Daily { start: xml_time(fleet.start - 400 * DAY + t, false), random_delay: Some("PT5M") };
            item.changes.push(Change { t: ct, kind: ChangeKind::AgentUpdate, admin: 0, def });
        }
        list.push(item);
    }
    let p = match (host.kind, fleet.hosts.len() < 8) {
        (Kind::Server, _) => 1.0,
        (Kind::Workstation, true) => 0.4,
        (Kind::Workstation, false) => 0.08,
    };
    if !r.chance(p) {
        return;
    }
    let count = r.range(1, 3) as usize;
    let mut picks: Vec<usize> = (0..JOBS.len()).collect();
    for n in 0..count {
        let j = picks.swap_remove(r.below(picks.len() as u64) as usize);
        let job = &JOBS[j];
        let admin = r.below(fleet.admins.len() as u64) as usize;
        let run_at = at_night(r);
        let created = if n == 0 || r.chance(0.5) { business_time(fleet, r) } else { None };
        let date = created.unwrap_or(fleet.start - r.range(20, 400) * DAY);
        let def = TaskDef {
            name: job.name.to_string(),
            id: r.guid().to_ascii_uppercase(),
            version: "1.2",
            author: Some(fleet.admins[admin].qualified()),
            description: None,
            date: Some(date),
            uri: true,
            trigger: Trigger::Daily { start: xml_time(date - date.rem_euclid(DAY) + DAY + run_at, false), random_delay: None },
            principal: system_principal("HighestAvailable"),
            settings: Settings::schtasks(),
            action: exec(job.command, Some(job.args)),
            context: "Author",
        };
        let mut item = Installed {
            def: def.clone(),
            when: When::Daily { at: run_at, jitter: 20 * SEC },
            run_as: RunAs::System,
            behavior: job.behavior,
            changes: Vec::new(),
        };
        if let Some(ct) = created {
            item.changes.push(Change { t: ct, kind: ChangeKind::Create, admin, def: def.clone() });
        }
        let after = created.unwrap_or(fleet.start);
        if r.chance(0.35)
            && let Some(t2) = business_time(fleet, r).filter(|t2| *t2 > after + HOUR)
        {
            let mut d2 = def.clone();
            let pick = r.below(3);
            if pick == 2 {
                item.changes.push(Change { t: t2, kind: ChangeKind::Delete, admin, def: d2 });
            } else if pick == 0 {
                d2.settings.enabled = false;
                item.changes.push(Change { t: t2, kind: ChangeKind::Disable, admin, def: d2.clone() });
                if let Some(t3) = business_time(fleet, r).filter(|t3| *t3 > t2 + HOUR) {
                    d2.settings.enabled = true;
                    item.changes.push(Change { t: t3, kind: ChangeKind::Enable, admin, def: d2 });
                }
            } else {
                d2.description = Some(format!("Maintained by IT operations; contact {}", fleet.admins[admin].name));
                item.changes.push(Change { t: t2, kind: ChangeKind::Update, admin, def: d2 });
            }
        }
        list.push(item);
    }
}

/// A time of night (22:00–05:59) as an offset into the day, where maintenance jobs live.
fn at_night(r: &mut Rng) -> i64 {
    let hour = *r.pick(&[22, 23, 0, 1, 2, 3, 4, 5]);
    hour * HOUR + r.range(0, 3) * 15 * MIN
}
