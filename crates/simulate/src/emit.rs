//! Builders for the individual event types: Sysmon 1/3/7/11/13/22, Security 4624/4688/5145 and
//! PowerShell 4104, with field sets, order and value types as `evtx_dump` prints them.

use crate::catalog::{self, hashes, meta};
use crate::host::{Acct, Fleet, Host, Proc, proc_guid};
use crate::record::{Chan, Data, Header, MS, Out, utc_time};
use crate::rng::Rng;

/// Generation context for one host: where events go and the random stream to use.
pub struct Cx<'a> {
    pub fleet: &'a Fleet,
    pub host: &'a Host,
    pub out: &'a mut Out,
    pub rng: Rng,
}

/// How a network logon authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Kerberos,
    Ntlm,
}

impl<'a> Cx<'a> {
    pub fn sysmon_header(&mut self, id: u16, version: u8) -> Header {
        Header {
            id,
            version,
            level: 4,
            task: id,
            opcode: 0,
            keywords: "0x8000000000000000",
            activity: None,
            pid: self.host.sysmon_pid,
            tid: self.host.sysmon_pid + 4 * (1 + self.rng.below(6) as u32) + 1000,
            user: Some("S-1-5-18".into()),
        }
    }

    pub fn security_header(&mut self, id: u16, version: u8, task: u16, pid: u32) -> Header {
        Header {
            id,
            version,
            level: 0,
            task,
            opcode: 0,
            keywords: "0x8020000000000000",
            activity: None,
            pid,
            tid: self.rng.pid(),
            user: None,
        }
    }

    /// A process start: Security 4688 and Sysmon 1 (a few milliseconds later).
    pub fn spawn(&mut self, t: i64, parent: &Proc, image: &str, cmd: &str, acct: &Acct, salt: u64) -> Proc {
        let proc = Proc {
            guid: proc_guid(self.host.machine, t, &mut self.rng),
            pid: self.rng.pid(),
            image: image.to_string(),
            cmd: cmd.to_string(),
            acct: acct.clone(),
        };
        self.process_events(t, &proc, parent, salt);
        proc
    }

    pub fn process_events(&mut self, t: i64, proc: &Proc, parent: &Proc, salt: u64) {
        let host = self.host;
        let subject = if parent.acct.is_system() { host.computer_account() } else { parent.acct.account.clone() };
        let same = parent.acct.account.sid == proc.acct.account.sid;
        let (tsid, tname, tdom, tlid) = if same {
            ("S-1-0-0".to_string(), "-".to_string(), "-".to_string(), 0)
        } else {
            let a = &proc.acct;
            let name = if a.is_system() { host.computer_account().name } else { a.account.name.clone() };
            let dom = if a.is_system() { crate::host::DOMAIN.to_string() } else { a.account.domain.clone() };
            (a.account.sid.clone(), name, dom, a.logon_id)
        };
        let header = self.security_header(4688, 2, 13312, 4);
        let data = Data::new()
            .s("SubjectUserSid", &parent.acct.account.sid)
            .s("SubjectUserName", &subject.name)
            .s("SubjectDomainName", &subject.domain)
            .x("SubjectLogonId", parent.acct.logon_id)
            .x("NewProcessId", proc.pid as u64)
            .s("NewProcessName", &proc.image)
            .s("TokenElevationType", proc.acct.integrity.elevation())
            .x("ProcessId", parent.pid as u64)
            .s("CommandLine", &proc.cmd)
            .s("TargetUserSid", &tsid)
            .s("TargetUserName", &tname)
            .s("TargetDomainName", &tdom)
            .x("TargetLogonId", tlid)
            .s("ParentProcessName", &parent.image)
            .s("MandatoryLabel", proc.acct.integrity.label());
        self.out.push(t + self.rng.range(1, 20_000), Chan::Security, header, data);

        let m = meta(&proc.image);
        let cwd = working_dir(&proc.image, &proc.acct);
        let header = self.sysmon_header(1, 5);
        let data = Data::new()
            .s("RuleName", "-")
            .s("UtcTime", &utc_time(t))
            .s("ProcessGuid", &proc.guid)
            .n("ProcessId", proc.pid as u64)
            .s("Image", &proc.image)
            .s("FileVersion", m.version)
            .s("Description", m.description)
            .s("Product", m.product)
            .s("Company", m.company)
            .s("OriginalFileName", m.original)
            .s("CommandLine", &proc.cmd)
            .s("CurrentDirectory", &cwd)
            .s("User", &proc.acct.display())
            .s("LogonGuid", &proc.acct.logon_guid)
            .x("LogonId", proc.acct.logon_id)
            .n("TerminalSessionId", proc.acct.session as u64)
            .s("IntegrityLevel", proc.acct.integrity.sysmon())
            .s("Hashes", &hashes(&proc.image, salt))
            .s("ParentProcessGuid", &parent.guid)
            .n("ParentProcessId", parent.pid as u64)
            .s("ParentImage", &parent.image)
            .s("ParentCommandLine", &parent.cmd);
        self.out.push(t + self.rng.range(2 * MS, 15 * MS), Chan::Sysmon, header, data);
    }

    /// Sysmon 7: `proc` loaded `dll`.
    pub fn image_load(&mut self, t: i64, proc: &Proc, dll: &str, signed: bool, salt: u64) {
        let m = meta(dll);
        let header = self.sysmon_header(7, 3);
        let (signature, status) = if signed {
            let s = if m.company == "-" || m.company == "Microsoft Corporation" { "Microsoft Windows" } else { m.company };
            (s, "Valid")
        } else {
            ("-", "Unavailable")
        };
        let data = Data::new()
            .s("RuleName", "-")
            .s("UtcTime", &utc_time(t))
            .s("ProcessGuid", &proc.guid)
            .n("ProcessId", proc.pid as u64)
            .s("Image", &proc.image)
            .s("ImageLoaded", dll)
            .s("FileVersion", if signed && m.version == "-" { "10.0.19041.1 (WinBuild.160101.0800)" } else { m.version })
            .s("Description", m.description)
            .s("Product", if signed && m.product == "-" { "Microsoft® Windows® Operating System" } else { m.product })
            .s("Company", if signed && m.company == "-" { "Microsoft Corporation" } else { m.company })
            .s("OriginalFileName", m.original)
            .s("Hashes", &hashes(dll, salt))
            .s("Signed", if signed { "true" } else { "false" })
            .s("Signature", signature)
            .s("SignatureStatus", status);
        self.out.push(t + self.rng.range(MS, 10 * MS), Chan::Sysmon, header, data);
    }

    /// Sysmon 11: `proc` created `path`.
    pub fn file_create(&mut self, t: i64, proc: &Proc, path: &str) {
        let header = self.sysmon_header(11, 2);
        let data = Data::new()
            .s("RuleName", "-")
            .s("UtcTime", &utc_time(t))
            .s("ProcessGuid", &proc.guid)
            .n("ProcessId", proc.pid as u64)
            .s("Image", &proc.image)
            .s("TargetFilename", path)
            .s("CreationUtcTime", &utc_time(t));
        self.out.push(t + self.rng.range(MS, 8 * MS), Chan::Sysmon, header, data);
    }

    /// Sysmon 13: `proc` set a registry value.
    pub fn reg_set(&mut self, t: i64, proc: &Proc, target: &str, details: &str) {
        let header = self.sysmon_header(13, 2);
        let data = Data::new()
            .s("RuleName", "-")
            .s("EventType", "SetValue")
            .s("UtcTime", &utc_time(t))
            .s("ProcessGuid", &proc.guid)
            .n("ProcessId", proc.pid as u64)
            .s("Image", &proc.image)
            .s("TargetObject", target)
            .s("Details", details);
        self.out.push(t + self.rng.range(MS, 8 * MS), Chan::Sysmon, header, data);
    }

    /// Sysmon 22: `proc` resolved `domain`; returns the address it got.
    pub fn dns(&mut self, t: i64, proc: &Proc, domain: &str) -> String {
        let (results, ip) = catalog::query_results(domain);
        let header = self.sysmon_header(22, 5);
        let data = Data::new()
            .s("RuleName", "-")
            .s("UtcTime", &utc_time(t))
            .s("ProcessGuid", &proc.guid)
            .n("ProcessId", proc.pid as u64)
            .s("QueryName", domain)
            .s("QueryStatus", "0")
            .s("QueryResults", &results)
            .s("Image", &proc.image);
        self.out.push(t + self.rng.range(5 * MS, 120 * MS), Chan::Sysmon, header, data);
        ip
    }

    /// Sysmon 3: an outbound TCP connection from `proc`.
    pub fn connect(&mut self, t: i64, proc: &Proc, ip: &str, port: u16, dest_name: &str) {
        let port_name = match port {
            80 => "http",
            443 => "https",
            445 => "microsoft-ds",
            135 => "epmap",
            _ => "-",
        };
        let header = self.sysmon_header(3, 5);
        let data = Data::new()
            .s("RuleName", "-")
            .s("UtcTime", &utc_time(t))
            .s("ProcessGuid", &proc.guid)
            .n("ProcessId", proc.pid as u64)
            .s("Image", &proc.image)
            .s("User", &proc.acct.display())
            .s("Protocol", "tcp")
            .b("Initiated", true)
            .b("SourceIsIpv6", false)
            .s("SourceIp", &self.host.ip)
            .s("SourceHostname", &self.host.fqdn)
            .n("SourcePort", self.rng.range(49_152, 65_535) as u64)
            .s("SourcePortName", "-")
            .b("DestinationIsIpv6", false)
            .s("DestinationIp", ip)
            .s("DestinationHostname", dest_name)
            .n("DestinationPort", port as u64)
            .s("DestinationPortName", port_name);
        // Sysmon reports connections with a delay of up to a few seconds.
        self.out.push(t + self.rng.range(50 * MS, 3_000 * MS), Chan::Sysmon, header, data);
    }

    /// DNS lookup followed by `n` connections to the answer.
    pub fn browse(&mut self, t: i64, proc: &Proc, domain: &str, port: u16, n: usize) {
        let ip = self.dns(t, proc, domain);
        for i in 0..n {
            let at = t + 150 * MS + i as i64 * self.rng.range(MS, 40_000 * MS);
            self.connect(at, proc, &ip, port, "-");
        }
    }

    /// Security 4624. Interactive types (2, 11) come from winlogon on the console; 10 carries the
    /// RDP client address; 3 is a network logon from `ip`.
    pub fn logon(&mut self, t: i64, logon_type: u8, acct: &Acct, ip: &str, auth: Auth, elevated: bool) {
        let host = self.host;
        let network = logon_type == 3;
        let mut header = self.security_header(4624, 2, 12544, host.lsass_pid);
        if !network {
            header.activity = Some(self.rng.guid().into());
        }
        let (ssid, sname, sdom, slid) = if network {
            ("S-1-0-0".to_string(), "-".to_string(), "-".to_string(), 0)
        } else {
            ("S-1-5-18".to_string(), format!("{}$", host.short), crate::host::DOMAIN.to_string(), 0x3e7)
        };
        let kerberos = auth == Auth::Kerberos && logon_type != 11;
        let logon_guid = if kerberos { self.rng.guid() } else { "{00000000-0000-0000-0000-000000000000}".to_string() };
        let (process, pname, lproc, package) = if network {
            (
                "0x0".to_string(),
                "-",
                if auth == Auth::Kerberos { "Kerberos" } else { "NtLmSsp " },
                if auth == Auth::Kerberos { "Kerberos" } else { "NTLM" },
            )
        } else {
            (format!("{:#x}", host.winlogon.pid), "C:\\Windows\\System32\\winlogon.exe", "User32 ", "Negotiate")
        };
        let (address, port) = match logon_type {
            2 | 11 => ("127.0.0.1".to_string(), "0".to_string()),
            _ => (ip.to_string(), self.rng.range(49_152, 65_535).to_string()),
        };
        let workstation = if network { "-".to_string() } else { host.short.clone() };
        let data = Data::new()
            .s("SubjectUserSid", &ssid)
            .s("SubjectUserName", &sname)
            .s("SubjectDomainName", &sdom)
            .x("SubjectLogonId", slid)
            .s("TargetUserSid", &acct.account.sid)
            .s("TargetUserName", &acct.account.name)
            .s("TargetDomainName", &acct.account.domain)
            .x("TargetLogonId", acct.logon_id)
            .n("LogonType", logon_type as u64)
            .s("LogonProcessName", lproc)
            .s("AuthenticationPackageName", package)
            .s("WorkstationName", &workstation)
            .s("LogonGuid", &logon_guid)
            .s("TransmittedServices", "-")
            .s("LmPackageName", if package == "NTLM" { "NTLM V2" } else { "-" })
            .n("KeyLength", if package == "NTLM" { 128 } else { 0 })
            .s("ProcessId", &process)
            .s("ProcessName", pname)
            .s("IpAddress", &address)
            .s("IpPort", &port)
            .s("ImpersonationLevel", "%%1833")
            .s("RestrictedAdminMode", if logon_type == 10 { "%%1843" } else { "-" })
            .s("TargetOutboundUserName", "-")
            .s("TargetOutboundDomainName", "-")
            .s("VirtualAccount", "%%1843")
            .x("TargetLinkedLogonId", 0)
            .s("ElevatedToken", if elevated { "%%1842" } else { "%%1843" });
        self.out.push(t, Chan::Security, header, data);
    }

    /// Security 5145: a share object was checked for access by a network logon.
    #[allow(clippy::too_many_arguments)]
    pub fn share_access(&mut self, t: i64, acct: &Acct, ip: &str, share: &str, local: &str, relative: &str, mask: u32) {
        let mut list = String::new();
        for (bit, code) in [(0x1, "%%4416"), (0x2, "%%4417"), (0x4, "%%4418"), (0x80, "%%4423"), (0x20000, "%%1538"), (0x100000, "%%1541")]
        {
            if mask & bit != 0 {
                list.push_str(code);
                list.push_str("\r\n\t\t\t\t");
            }
        }
        let header = self.security_header(5145, 0, 12811, 4);
        let data = Data::new()
            .s("SubjectUserSid", &acct.account.sid)
            .s("SubjectUserName", &acct.account.name)
            .s("SubjectDomainName", &acct.account.domain)
            .x("SubjectLogonId", acct.logon_id)
            .s("ObjectType", "File")
            .s("IpAddress", ip)
            .s("IpPort", &self.rng.range(49_152, 65_535).to_string())
            .s("ShareName", share)
            .s("ShareLocalPath", local)
            .s("RelativeTargetName", relative)
            .x("AccessMask", mask as u64)
            .s("AccessList", &list)
            .s("AccessReason", "-");
        self.out.push(t, Chan::Security, header, data);
    }

    /// PowerShell 4104 script block logging. `warning` marks what PowerShell flags as suspicious
    /// on its own (logged at level 3 instead of 5).
    pub fn script_block(&mut self, t: i64, proc: &Proc, text: &str, path: &str, warning: bool) {
        let header = Header {
            id: 4104,
            version: 1,
            level: if warning { 3 } else { 5 },
            task: 2,
            opcode: 15,
            keywords: "0x0",
            activity: Some(self.rng.guid().into()),
            pid: proc.pid,
            tid: self.rng.pid(),
            user: Some(proc.acct.account.sid.clone().into()),
        };
        let id = self.rng.guid();
        let data = Data::new()
            .n("MessageNumber", 1)
            .n("MessageTotal", 1)
            .s("ScriptBlockText", text)
            .s("ScriptBlockId", &id[1..id.len() - 1])
            .s("Path", path);
        self.out.push(t, Chan::PowerShell, header, data);
    }
}

/// Where a process starts: the user's profile for interactive programs, system32 otherwise,
/// the install folder for programs under Program Files.
fn working_dir(image: &str, acct: &Acct) -> String {
    let lower = image.to_ascii_lowercase();
    if lower.starts_with("c:\\program files") {
        let dir = &image[..image.rfind('\\').unwrap_or(0)];
        return format!("{dir}\\");
    }
    if acct.session > 0 && !acct.is_system() && acct.account.domain != "NT AUTHORITY" && lower.ends_with("\\explorer.exe") {
        return format!("C:\\Users\\{}\\", acct.account.name);
    }
    "C:\\Windows\\system32\\".to_string()
}
