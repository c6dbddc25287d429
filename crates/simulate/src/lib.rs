//! taskhunt-simulate: a deterministic fleet telemetry generator for testing hunts.
//!
//! [`simulate`] writes realistic Windows event logs for a fleet of workstations and servers as
//! JSON lines in the `evtx_dump -o jsonl` shape that `taskhunt_events::read_file` reads: one
//! file per host and channel family (`<host>/Security.jsonl`, `Sysmon.jsonl`,
//! `TaskScheduler.jsonl`, `PowerShell.jsonl`), plus `labels.json`, the ground truth of the
//! injected attack chains.
//!
//! **Background** is ordinary enterprise life: boots, owners logging on in the morning
//! (4624 type 2/11) and starting Outlook, Teams, OneDrive and a browser; the built-in
//! `\Microsoft\Windows\...` tasks (Exec and ComHandler), Google/Edge hourly and daily updaters,
//! OneDrive and Adobe updaters at logon, all with TaskScheduler 107/119/100/129/200/201/102,
//! 4688 and Sysmon 1 under the Schedule service, DNS and connections to their vendor domains;
//! SCCM agent updates and admin `\Corp\...` jobs created, changed, disabled and re-enabled from
//! RDP sessions (4624 type 10) in business hours and running at night as SYSTEM; browsing,
//! document, registry and service noise; file-share logons (type 3) and 5145 on servers.
//!
//! **Scenarios** ([`Scenario`]) are Wizard Spider style T1053.005 chains placed on random hosts
//! at random times; each becomes one [`Label`].
//!
//! Output is a pure function of the [`FleetSpec`]: the same spec gives the same bytes, whatever
//! the number of threads. Events are generated one host-day at a time and streamed to buffered
//! files, so memory stays flat however many events are written.

mod background;
mod catalog;
mod emit;
mod fleet;
mod host;
mod profile;
mod record;
mod rng;
mod scenario;
mod task;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use taskhunt_events::Timestamp;

pub use fleet::load_labels;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct FleetSpec {
    /// Number of hosts; one in eight (rounded down) is a server, the rest are workstations
    /// each with an owner.
    pub hosts: usize,
    pub days: u32,
    pub seed: u64,
    /// Chains to inject; a scenario listed twice is injected twice (on hosts drawn separately).
    pub scenarios: Vec<Scenario>,
    /// Start of the window (the fleet's clocks run on UTC). Midnight keeps days aligned.
    pub start: Timestamp,
    /// Target background events per host and day. Task runs, logons, file-share visits and
    /// admin work come first (about 600 events a host-day on average, half of them the hourly
    /// updaters); filler activity (browsing, documents, registry, service processes) tops them
    /// up to this number, so smaller values give that baseline only.
    pub events_per_host_day: usize,
}

impl FleetSpec {
    /// `hosts` hosts for `days` days from Monday 2024-03-04, every scenario once, 1500
    /// background events per host and day.
    pub fn new(hosts: usize, days: u32, seed: u64) -> FleetSpec {
        FleetSpec {
            hosts,
            days,
            seed,
            scenarios: Scenario::ALL.to_vec(),
            start: Timestamp::parse("2024-03-04T00:00:00Z").expect("valid literal"),
            events_per_host_day: 1500,
        }
    }
}

/// The injectable attack chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// `writeup`: a SYSTEM task registered by a SYSTEM shell (binary copied over ADMIN$ with
    /// stolen admin credentials, no interactive logon), daily at 03:00, running
    /// `C:\Windows\Temp\<random>.exe`, whose child runs `powershell.exe -enc` (a base64 UTF-16LE
    /// `IEX(New-Object Net.WebClient).DownloadString(...)`) against a rare domain.
    WriteupDailySystemTask,
    /// `emotet`: a user's Word document drops a DLL in `C:\ProgramData\<rand>\` and a task runs
    /// `rundll32.exe <dll>,<Export>` every 10 minutes (±5%) while the user is logged on,
    /// beaconing to a never-seen domain.
    EmotetRundll32Every10Min,
    /// `remote-schtasks`: `schtasks /create /s` from another fleet host, then `/run` and
    /// `/delete` within seconds; on the target each step is a 4624 type 3 and a 5145 on
    /// `IPC$`\\`atsvc` sharing the logon id with 4698/110/4699.
    RemoteSchtasksRunDelete,
    /// `atexec`: Impacket-style hidden SYSTEM task (StartBoundary 2015-07-15T20:35:13.2757294)
    /// running `cmd.exe /C <cmd> > %windir%\Temp\<task>.tmp 2>&1`, created, run and deleted
    /// within seconds over NTLM.
    AtexecHidden,
    /// `onlogon-registry`: a PowerShell lure stores a base64 payload under `HKCU\Software\<x>`
    /// (Sysmon 13) and registers a logon task running `powershell -nop -w hidden -c "iex(...
    /// (gp HKCU:\Software\<x>).<y> ...)"` that fetches from a C2 at each later logon.
    OnlogonRegistryPayload,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::WriteupDailySystemTask,
        Scenario::EmotetRundll32Every10Min,
        Scenario::RemoteSchtasksRunDelete,
        Scenario::AtexecHidden,
        Scenario::OnlogonRegistryPayload,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::WriteupDailySystemTask => "writeup",
            Scenario::EmotetRundll32Every10Min => "emotet",
            Scenario::RemoteSchtasksRunDelete => "remote-schtasks",
            Scenario::AtexecHidden => "atexec",
            Scenario::OnlogonRegistryPayload => "onlogon-registry",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scenario name that is not one of [`Scenario::ALL`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario {0:?} (expected writeup, emotet, remote-schtasks, atexec or onlogon-registry)")]
pub struct UnknownScenario(pub String);

impl FromStr for Scenario {
    type Err = UnknownScenario;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL.into_iter().find(|sc| sc.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| UnknownScenario(s.to_string()))
    }
}

/// Ground truth for one injected chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// The scenario's name ([`Scenario::name`]).
    pub scenario: String,
    /// The victim host's `Computer` name (FQDN).
    pub host: String,
    /// The task's full name as `TaskName` fields carry it (leading `\`).
    pub task_name: String,
    /// Files holding the chain's events, relative to the output folder with `/` separators.
    pub files: Vec<String>,
    /// Every event of the chain as (file, EventRecordID), including events on the attacker's
    /// source host for remote creation.
    pub record_ids: Vec<(String, u64)>,
    pub c2_domains: Vec<String>,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// What [`simulate`] wrote.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The event files (`labels.json` not included), in host then channel order.
    pub files: Vec<PathBuf>,
    pub events: u64,
    pub labels: Vec<Label>,
}

/// Writes one JSON-lines file per host and channel family (`<host>/Security.jsonl`,
/// `Sysmon.jsonl`, `TaskScheduler.jsonl`, `PowerShell.jsonl`, each only when it has events)
/// under `out`, plus `labels.json`. Deterministic for a spec. Events within a file are in time
/// order with EventRecordID increasing by one per channel per host.
pub fn simulate(spec: &FleetSpec, out: &Path) -> std::io::Result<Summary> {
    fleet::run(spec, out)
}
