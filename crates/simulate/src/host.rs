//! The simulated organisation: domain accounts, hosts, logon sessions and process identities.
//!
//! Everything here is a pure function of the fleet seed (and host index, day), so background
//! and scenario generators can both ask "who is logged on to this host today, and what is the
//! explorer.exe process guid?" and get the same answer.

use crate::record::{DAY, HOUR, MIN, SEC, weekday};
use crate::rng::{Rng, hash_str};

pub const DOMAIN: &str = "CORP";
pub const DNS_DOMAIN: &str = "corp.example.com";
pub const SCHEDULE_CMD: &str = "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule";
pub const SVCHOST: &str = "C:\\Windows\\System32\\svchost.exe";

// Tags for derived random streams.
pub const TAG_HOST: u64 = 1;
pub const TAG_SESSION: u64 = 2;
pub const TAG_DAY: u64 = 3;
pub const TAG_PLAN: u64 = 4;
pub const TAG_SCENARIO: u64 = 5;
pub const TAG_ADMIN: u64 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Workstation,
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrity {
    System,
    High,
    Medium,
}

impl Integrity {
    pub fn sysmon(self) -> &'static str {
        match self {
            Integrity::System => "System",
            Integrity::High => "High",
            Integrity::Medium => "Medium",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Integrity::System => "S-1-16-16384",
            Integrity::High => "S-1-16-12288",
            Integrity::Medium => "S-1-16-8192",
        }
    }

    pub fn elevation(self) -> &'static str {
        match self {
            Integrity::High => "%%1937",
            _ => "%%1936",
        }
    }
}

/// A domain or built-in account.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub domain: String,
    pub sid: String,
}

impl Account {
    pub fn qualified(&self) -> String {
        format!("{}\\{}", self.domain, self.name)
    }
}

/// The token a process runs with.
#[derive(Debug, Clone)]
pub struct Acct {
    pub account: Account,
    pub logon_id: u64,
    pub logon_guid: String,
    pub session: u32,
    pub integrity: Integrity,
}

impl Acct {
    pub fn is_system(&self) -> bool {
        self.account.sid == "S-1-5-18"
    }

    /// `User` as Sysmon prints it.
    pub fn display(&self) -> String {
        self.account.qualified()
    }
}

/// A process as Sysmon identifies it.
#[derive(Debug, Clone)]
pub struct Proc {
    pub guid: String,
    pub pid: u32,
    pub image: String,
    pub cmd: String,
    pub acct: Acct,
}

/// An interactive logon session on a workstation for one day.
#[derive(Debug, Clone)]
pub struct Session {
    pub start: i64,
    pub end: i64,
    /// 2 (interactive) or 11 (cached interactive, laptops off the network).
    pub logon_type: u8,
    pub acct: Acct,
    pub userinit_t: i64,
    pub userinit: Proc,
    pub explorer_t: i64,
    pub explorer: Proc,
}

#[derive(Debug, Clone)]
pub struct Host {
    pub index: usize,
    pub short: String,
    pub fqdn: String,
    pub ip: String,
    pub kind: Kind,
    pub laptop: bool,
    /// First 32 bits of every Sysmon guid on this machine.
    pub machine: u32,
    /// Index into [`Fleet::users`] of the workstation's owner.
    pub user: Option<usize>,
    pub boot: i64,
    pub lsass_pid: u32,
    pub sysmon_pid: u32,
    pub services: Proc,
    pub winlogon: Proc,
    pub schedule: Proc,
    pub system: Acct,
    pub local_service: Acct,
    /// The first record id of each channel file (logs rarely start at 1).
    pub record_base: [u64; 4],
}

impl Host {
    pub fn computer_account(&self) -> Account {
        Account { name: format!("{}$", self.short), domain: DOMAIN.into(), sid: "S-1-5-18".into() }
    }

    pub fn is_workstation(&self) -> bool {
        self.kind == Kind::Workstation
    }

    /// The `System` process (pid 4), which Sysmon names as the writer of files arriving over SMB.
    pub fn system_process(&self) -> Proc {
        let secs = (self.boot - 60 * SEC).div_euclid(SEC) as u32;
        Proc {
            guid: format!("{{{:08x}-{:04x}-{:04x}-0000-0010eb030000}}", self.machine, secs & 0xffff, secs >> 16),
            pid: 4,
            image: "System".into(),
            cmd: String::new(),
            acct: self.system.clone(),
        }
    }
}

#[derive(Debug)]
pub struct Fleet {
    pub seed: u64,
    pub start: i64,
    pub days: u32,
    pub users: Vec<Account>,
    pub admins: Vec<Account>,
    /// The workstation each admin works from (their RDP source), by admin index.
    pub admin_homes: Vec<String>,
    /// The inventory service account, which reads workstation registries remotely.
    pub inventory: Account,
    pub hosts: Vec<Host>,
}

const FIRST: &[&str] = &[
    "anna", "ben", "carla", "david", "elena", "frank", "grace", "henry", "irene", "jonas", "karen", "liam", "maria", "nina", "oscar",
    "paula", "quinn", "rosa", "samir", "tina", "umar", "vera", "walter", "xenia", "yusuf", "zoe",
];
const LAST: &[&str] = &[
    "adams", "becker", "costa", "dubois", "evans", "fischer", "garcia", "hansen", "ito", "jensen", "kowalski", "lopez", "meyer", "novak",
    "olsen", "petrov", "quarles", "rossi", "schmidt", "tanaka", "ueda", "vargas", "weber", "young",
];

/// A Sysmon process guid: machine id, the start time in seconds split in two 16-bit groups, and
/// a unique process key.
pub fn proc_guid(machine: u32, t: i64, rng: &mut Rng) -> String {
    let secs = t.div_euclid(SEC) as u32;
    format!("{{{machine:08x}-{:04x}-{:04x}-0000-0010{:08x}}}", secs & 0xffff, secs >> 16, rng.next_u64() as u32 | 1)
}

/// A Sysmon logon guid: machine id, logon time, and the logon id in little-endian byte order.
pub fn logon_guid(machine: u32, t: i64, logon_id: u64) -> String {
    let secs = t.div_euclid(SEC) as u32;
    format!("{{{machine:08x}-{:04x}-{:04x}-0000-0020{:08x}}}", secs & 0xffff, secs >> 16, (logon_id as u32).swap_bytes())
}

/// A fresh logon id as Windows hands them out (hex, growing, never the well-known ones).
pub fn logon_id(rng: &mut Rng) -> u64 {
    rng.range(0x10_0000, 0x4ff_ffff) as u64
}

impl Fleet {
    pub fn new(seed: u64, hosts: usize, days: u32, start: i64) -> Fleet {
        let mut r = Rng::derive(seed, &[TAG_PLAN, 0]);
        let domain_sid = format!(
            "S-1-5-21-{}-{}-{}",
            r.range(1_000_000_000, 4_000_000_000),
            r.range(1_000_000_000, 4_000_000_000),
            r.range(1_000_000_000, 4_000_000_000)
        );
        let servers = hosts / 8;
        let workstations = hosts - servers;
        let mut users = Vec::with_capacity(workstations);
        let mut seen = std::collections::HashSet::new();
        for i in 0..workstations {
            let base = format!("{}.{}", r.pick(FIRST), r.pick(LAST));
            let mut name = base.clone();
            let mut n = 2;
            while !seen.insert(name.clone()) {
                name = format!("{base}{n}");
                n += 1;
            }
            users.push(Account { name, domain: DOMAIN.into(), sid: format!("{domain_sid}-{}", 1104 + i) });
        }
        let admins: Vec<Account> = (0..3)
            .map(|i| Account { name: format!("adm-{}", r.pick(LAST)), domain: DOMAIN.into(), sid: format!("{domain_sid}-{}", 5001 + i) })
            .collect();
        let mut host_list = Vec::with_capacity(hosts);
        for i in 0..hosts {
            host_list.push(make_host(seed, i, workstations, start));
        }
        let admin_homes = (0..admins.len())
            .map(|i| match host_list.get(i).filter(|h| h.kind == Kind::Workstation) {
                Some(h) => h.ip.clone(),
                None => format!("10.20.9.{}", 10 + i),
            })
            .collect();
        let inventory = Account { name: "svc-inventory".into(), domain: DOMAIN.into(), sid: format!("{domain_sid}-5100") };
        Fleet { seed, start, days, inventory, users, admins, admin_homes, hosts: host_list }
    }

    pub fn day_start(&self, day: u32) -> i64 {
        self.start + day as i64 * DAY
    }

    /// The owner's interactive session on a workstation that day, if they came to work.
    pub fn session(&self, host: &Host, day: u32) -> Option<Session> {
        let user = &self.users[host.user?];
        let mut r = Rng::derive(self.seed, &[TAG_SESSION, host.index as u64, day as u64]);
        let d0 = self.day_start(day);
        let working = weekday(d0) < 5;
        if !r.chance(if working { 0.93 } else { 0.07 }) {
            return None;
        }
        let arrive = (8.25 * HOUR as f64 + r.gauss(0.6) * HOUR as f64) as i64;
        let start = d0 + arrive.clamp(6 * HOUR + 30 * MIN, 11 * HOUR) + r.range(0, 59) * SEC + r.range(0, 9_999_999);
        let start = start.max(host.boot + 5 * MIN);
        let stay = if working { 8 * HOUR + 30 * MIN } else { 2 * HOUR };
        let end = (start + stay + (r.gauss(0.7) * HOUR as f64) as i64).min(d0 + DAY - 20 * MIN);
        let logon_type = if host.laptop && r.chance(0.5) { 11 } else { 2 };
        let lid = logon_id(&mut r);
        let acct = Acct {
            account: user.clone(),
            logon_id: lid,
            logon_guid: logon_guid(host.machine, start, lid),
            session: 1,
            integrity: Integrity::Medium,
        };
        let t_init = start + r.range(800, 2500) * crate::record::MS;
        let userinit = Proc {
            guid: proc_guid(host.machine, t_init, &mut r),
            pid: r.pid(),
            image: "C:\\Windows\\System32\\userinit.exe".into(),
            cmd: "C:\\Windows\\system32\\userinit.exe".into(),
            acct: acct.clone(),
        };
        let t_exp = t_init + r.range(300, 900) * crate::record::MS;
        let explorer = Proc {
            guid: proc_guid(host.machine, t_exp, &mut r),
            pid: r.pid(),
            image: "C:\\Windows\\explorer.exe".into(),
            cmd: "C:\\Windows\\Explorer.EXE".into(),
            acct: acct.clone(),
        };
        Some(Session { start, end, logon_type, acct, userinit_t: t_init, userinit, explorer_t: t_exp, explorer })
    }

    /// A domain admin's token for a network or RDP logon on `host`.
    pub fn admin_acct(&self, host: &Host, admin: usize, t: i64, rng: &mut Rng, integrity: Integrity) -> Acct {
        let lid = logon_id(rng);
        Acct {
            account: self.admins[admin % self.admins.len()].clone(),
            logon_id: lid,
            logon_guid: logon_guid(host.machine, t, lid),
            session: 2,
            integrity,
        }
    }
}

fn make_host(seed: u64, i: usize, workstations: usize, start: i64) -> Host {
    let mut r = Rng::derive(seed, &[TAG_HOST, i as u64]);
    let kind = if i < workstations { Kind::Workstation } else { Kind::Server };
    let (short, ip) = match kind {
        Kind::Workstation => (format!("WKS-{:04}", i + 1), format!("10.20.{}.{}", 10 + i / 200, 20 + i % 200)),
        Kind::Server => {
            let n = i - workstations;
            (format!("SRV-{:04}", n + 1), format!("10.20.1.{}", 20 + n % 200))
        }
    };
    let machine = (hash_str(&short) ^ r.next_u64()) as u32;
    let boot = start + r.range(20, 240) * SEC;
    let system_logon = logon_guid(machine, boot - 30 * SEC, 0x3e7);
    let system = Acct {
        account: Account { name: "SYSTEM".into(), domain: "NT AUTHORITY".into(), sid: "S-1-5-18".into() },
        logon_id: 0x3e7,
        logon_guid: system_logon,
        session: 0,
        integrity: Integrity::System,
    };
    let local_service = Acct {
        account: Account { name: "LOCAL SERVICE".into(), domain: "NT AUTHORITY".into(), sid: "S-1-5-19".into() },
        logon_id: 0x3e5,
        logon_guid: logon_guid(machine, boot - 25 * SEC, 0x3e5),
        session: 0,
        integrity: Integrity::System,
    };
    let early = boot - 40 * SEC;
    let services = Proc {
        guid: proc_guid(machine, early, &mut r),
        pid: r.range(150, 200) as u32 * 4,
        image: "C:\\Windows\\System32\\services.exe".into(),
        cmd: "C:\\Windows\\system32\\services.exe".into(),
        acct: system.clone(),
    };
    let winlogon = Proc {
        guid: proc_guid(machine, early, &mut r),
        pid: r.range(140, 180) as u32 * 4,
        image: "C:\\Windows\\System32\\winlogon.exe".into(),
        cmd: "winlogon.exe".into(),
        acct: system.clone(),
    };
    let schedule = Proc {
        guid: proc_guid(machine, boot, &mut r),
        pid: r.range(300, 500) as u32 * 4,
        image: SVCHOST.into(),
        cmd: SCHEDULE_CMD.into(),
        acct: system.clone(),
    };
    let record_base =
        [r.range(10_000, 2_000_000) as u64, r.range(1_000, 900_000) as u64, r.range(100, 90_000) as u64, r.range(100, 20_000) as u64];
    Host {
        index: i,
        fqdn: format!("{short}.{DNS_DOMAIN}"),
        short,
        ip,
        kind,
        // Every third workstation is a laptop that often logs on with cached credentials.
        laptop: kind == Kind::Workstation && i % 3 == 1,
        machine,
        user: (kind == Kind::Workstation).then_some(i),
        boot,
        lsass_pid: r.range(150, 200) as u32 * 4 + 8,
        sysmon_pid: r.range(600, 1200) as u32 * 4,
        services,
        winlogon,
        schedule,
        system,
        local_service,
        record_base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_stable_and_inside_the_day() {
        let start = taskhunt_events::Timestamp::parse("2024-03-04T00:00:00Z").unwrap().ticks();
        let fleet = Fleet::new(9, 10, 7, start);
        assert_eq!(fleet.hosts.iter().filter(|h| h.kind == Kind::Server).count(), 1);
        let h = &fleet.hosts[0];
        let mut weekdays = 0;
        for day in 0..7 {
            let a = fleet.session(h, day);
            let b = fleet.session(h, day);
            assert_eq!(a.as_ref().map(|s| s.explorer.guid.clone()), b.map(|s| s.explorer.guid));
            if let Some(s) = a {
                let d0 = fleet.day_start(day);
                assert!(s.start > d0 && s.end < d0 + DAY && s.start < s.end);
                assert!(s.explorer.guid.starts_with(&format!("{{{:08x}-", h.machine)));
                if day < 5 {
                    weekdays += 1;
                }
            }
        }
        assert!(weekdays >= 3);
        assert!(fleet.session(&fleet.hosts[9], 0).is_none(), "servers have no owner session");
    }

    #[test]
    fn logon_guid_embeds_logon_id() {
        assert!(logon_guid(0x747f3d96, 0, 0x2de43).ends_with("-0000-002043de0200}"));
    }
}
