//! Static knowledge the generators draw on: version resources of common binaries, file hashes,
//! DNS names and the addresses they resolve to.

use crate::rng::{Rng, hash_str};

/// Version resource fields Sysmon copies into events 1 and 7.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub version: &'static str,
    pub description: &'static str,
    pub product: &'static str,
    pub company: &'static str,
    pub original: &'static str,
}

const WIN: &str = "10.0.19041.1 (WinBuild.160101.0800)";
const WINP: &str = "Microsoft® Windows® Operating System";
const MS: &str = "Microsoft Corporation";

const fn win(description: &'static str, original: &'static str) -> Meta {
    Meta { version: WIN, description, product: WINP, company: MS, original }
}

const UNKNOWN: Meta = Meta { version: "-", description: "-", product: "-", company: "-", original: "-" };

/// Version information for an image path (by file name, case-insensitive); `-` when unknown.
pub fn meta(image: &str) -> Meta {
    let name = image.rsplit('\\').next().unwrap_or(image).to_ascii_lowercase();
    match name.as_str() {
        "svchost.exe" => win("Host Process for Windows Services", "svchost.exe"),
        "cmd.exe" => win("Windows Command Processor", "Cmd.Exe"),
        "powershell.exe" => win("Windows PowerShell", "PowerShell.EXE"),
        "schtasks.exe" => win("Task Scheduler Configuration Tool", "schtasks.exe"),
        "rundll32.exe" => win("Windows host process (Rundll32)", "RUNDLL32.EXE"),
        "explorer.exe" => win("Windows Explorer", "EXPLORER.EXE"),
        "userinit.exe" => win("Userinit Logon Application", "USERINIT.EXE"),
        "whoami.exe" => win("whoami - displays logged on user information", "whoami.exe"),
        "ipconfig.exe" => win("IP Configuration Utility", "ipconfig.exe"),
        "tasklist.exe" => win("Lists the current running tasks", "tasklist.exe"),
        "systeminfo.exe" => win("Displays system information", "sysinfo.exe"),
        "net.exe" => win("Net Command", "net.exe"),
        "hostname.exe" => win("Hostname APP", "hostname.exe"),
        "compattelrunner.exe" => win("Microsoft Compatibility Telemetry", "CompatTelRunner.exe"),
        "wermgr.exe" => win("Windows Problem Reporting", "WerMgr"),
        "usoclient.exe" => win("UsoClient", "UsoClient"),
        "sc.exe" => win("Service Control Manager Configuration Tool", "sc.exe"),
        "defrag.exe" => win("Disk Defragmenter Module", "Defrag.EXE"),
        "cleanmgr.exe" => win("Disk Space Cleanup Manager for Windows", "CLEANMGR.EXE"),
        "wsqmcons.exe" => win("Windows SQM Consolidator", "wsqmcons.exe"),
        "taskhostw.exe" => win("Host Process for Windows Tasks", "taskhostw.exe"),
        "w32tm.exe" => win("Time Service Diagnostic Tool", "w32tm.exe"),
        "wbadmin.exe" => win("Command Line Interface for Microsoft® BLB Backup", "WBADMIN.EXE"),
        "forfiles.exe" => win("ForFiles - Executes a command on selected files", "forfiles.exe"),
        "backgroundtaskhost.exe" => win("Background Task Host", "backgroundTaskHost.exe"),
        "runtimebroker.exe" => win("Runtime Broker", "RuntimeBroker.exe"),
        "dllhost.exe" => win("COM Surrogate", "dllhost.exe"),
        "searchprotocolhost.exe" => win("Microsoft Windows Search Protocol Host", "SearchProtocolHost.exe"),
        "wmiprvse.exe" => win("WMI Provider Host", "Wmiprvse.exe"),
        "smartscreen.exe" => win("Windows Defender SmartScreen", "smartscreen.exe"),
        "conhost.exe" => win("Console Window Host", "CONHOST.EXE"),
        "mmc.exe" => win("Microsoft Management Console", "MMC.EXE"),
        "mstsc.exe" => win("Remote Desktop Connection", "mstsc.exe"),
        "notepad.exe" => win("Notepad", "NOTEPAD.EXE"),
        "gpupdate.exe" => win("Microsoft® Windows Group Policy Update Utility", "GPUpdate.exe"),
        "mpcmdrun.exe" => Meta {
            version: "4.18.24010.12 (WinBuild.160101.0800)",
            description: "Microsoft Malware Protection Command Line Utility",
            product: WINP,
            company: MS,
            original: "MpCmdRun.exe",
        },
        "chrome.exe" => Meta {
            version: "122.0.6261.112",
            description: "Google Chrome",
            product: "Google Chrome",
            company: "Google LLC",
            original: "chrome.exe",
        },
        "msedge.exe" => {
            Meta { version: "122.0.2365.80", description: "Microsoft Edge", product: "Microsoft Edge", company: MS, original: "msedge.exe" }
        }
        "outlook.exe" => office("Microsoft Outlook", "Outlook.exe"),
        "winword.exe" => office("Microsoft Word", "WinWord.exe"),
        "excel.exe" => office("Microsoft Excel", "Excel.exe"),
        "ms-teams.exe" => Meta {
            version: "24033.811.2738.2546",
            description: "Microsoft Teams",
            product: "Microsoft Teams",
            company: MS,
            original: "ms-teams.exe",
        },
        "onedrive.exe" => Meta {
            version: "24.030.0212.0003",
            description: "Microsoft OneDrive",
            product: "Microsoft OneDrive",
            company: MS,
            original: "OneDrive.exe",
        },
        "onedrivestandaloneupdater.exe" => Meta {
            version: "24.030.0212.0003",
            description: "Standalone Updater",
            product: "Microsoft OneDrive",
            company: MS,
            original: "OneDriveStandaloneUpdater.exe",
        },
        "googleupdate.exe" => Meta {
            version: "1.3.36.372",
            description: "Google Installer",
            product: "Google Update",
            company: "Google LLC",
            original: "GoogleUpdate.exe",
        },
        "microsoftedgeupdate.exe" => Meta {
            version: "1.3.185.17",
            description: "Microsoft Edge Update",
            product: "Microsoft Edge Update",
            company: MS,
            original: "msedgeupdate.dll",
        },
        "adobearm.exe" => Meta {
            version: "1.824.39.9311",
            description: "Adobe Reader and Acrobat Manager",
            product: "Adobe Reader and Acrobat Manager",
            company: "Adobe Systems Incorporated",
            original: "AdobeARM.exe",
        },
        "acrord32.exe" => Meta {
            version: "23.8.20470.0",
            description: "Adobe Acrobat Reader",
            product: "Adobe Acrobat Reader",
            company: "Adobe Systems Incorporated",
            original: "AcroRd32.exe",
        },
        "ccmeval.exe" => Meta {
            version: "5.00.9106.1000",
            description: "Configuration Manager Health Evaluation",
            product: "System Center Configuration Manager",
            company: MS,
            original: "CcmEval.exe",
        },
        "invagent.exe" => Meta {
            version: "3.2.1.0",
            description: "Corp Inventory Agent",
            product: "CorpTools",
            company: "Corp IT",
            original: "InvAgent.exe",
        },
        _ => UNKNOWN,
    }
}

const fn office(description: &'static str, original: &'static str) -> Meta {
    Meta { version: "16.0.17231.20236", description, product: "Microsoft Office", company: MS, original }
}

/// `MD5=...,SHA256=...,IMPHASH=...` (the hash set of a common Sysmon configuration). The same
/// path gives the same hashes on every host; `salt` makes one-off binaries unique.
pub fn hashes(path: &str, salt: u64) -> String {
    let mut r = Rng::derive(hash_str(&path.to_ascii_lowercase()), &[salt]);
    let mut hex = |n: usize| r.hex(n).to_ascii_uppercase();
    let md5 = hex(32);
    let sha = hex(64);
    let imp = hex(32);
    format!("MD5={md5},SHA256={sha},IMPHASH={imp}")
}

/// Popular destinations every host talks to, with their owner family for addressing.
pub const POPULAR: &[&str] = &[
    "www.microsoft.com",
    "login.microsoftonline.com",
    "outlook.office365.com",
    "www.office.com",
    "teams.microsoft.com",
    "graph.microsoft.com",
    "www.bing.com",
    "www.google.com",
    "fonts.googleapis.com",
    "www.gstatic.com",
    "www.youtube.com",
    "accounts.google.com",
    "www.linkedin.com",
    "github.com",
    "stackoverflow.com",
    "en.wikipedia.org",
    "www.amazon.com",
    "cdn.jsdelivr.net",
    "www.reddit.com",
    "news.ycombinator.com",
    "www.bbc.co.uk",
    "slack.com",
    "zoom.us",
    "www.dropbox.com",
];

/// Names Windows itself resolves all day.
pub const SYSTEM_DOMAINS: &[&str] = &[
    "ctldl.windowsupdate.com",
    "settings-win.data.microsoft.com",
    "login.live.com",
    "v10.events.data.microsoft.com",
    "wdcp.microsoft.com",
    "go.microsoft.com",
    "fe3cr.delivery.mp.microsoft.com",
    "time.windows.com",
    "www.msftconnecttest.com",
    "arc.msn.com",
];

/// A name's resolution: an optional CNAME, and the IPv4 address it ends at. Deterministic, so
/// every host sees the same answer.
pub fn resolve(domain: &str) -> (Option<String>, String) {
    let h = hash_str(domain);
    let a = (h >> 8) as u8;
    let b = (h >> 16) as u8;
    let c = ((h >> 24) as u8).max(1);
    let ends = |s: &str| domain == s.trim_start_matches('.') || domain.ends_with(s);
    let microsoft = [
        ".microsoft.com",
        ".office365.com",
        ".office.com",
        ".live.com",
        ".windowsupdate.com",
        ".bing.com",
        ".msn.com",
        ".sfx.ms",
        ".microsoftonline.com",
        ".msftconnecttest.com",
        ".windows.com",
    ];
    let google = [".google.com", ".googleapis.com", ".gstatic.com", ".youtube.com"];
    if microsoft.iter().any(|s| ends(s)) {
        let prefixes = [(13, 107), (20, 190), (40, 126), (52, 113)];
        let (p, q) = prefixes[(h % 4) as usize];
        let cname = h.is_multiple_of(3).then(|| format!("{}.a-0001.a-msedge.net", domain.replace('.', "-")));
        return (cname, format!("{p}.{q}.{b}.{c}"));
    }
    if google.iter().any(|s| ends(s)) {
        let prefixes = [(142, 250), (172, 217), (216, 58)];
        let (p, q) = prefixes[(h % 3) as usize];
        return (None, format!("{p}.{q}.{b}.{c}"));
    }
    if ends(".adobe.com") {
        return (Some(format!("{domain}.edgekey.net")), format!("23.{}.{b}.{c}", 32 + a % 32));
    }
    if POPULAR.contains(&domain) {
        let cdn = [(104, 16), (151, 101), (199, 232), (185, 199)];
        let (p, q) = cdn[(h % 4) as usize];
        return (None, format!("{p}.{q}.{b}.{c}"));
    }
    if domain.ends_with(crate::host::DNS_DOMAIN) {
        return (None, format!("10.20.2.{}", 10 + a % 200));
    }
    // Anything else: hosting-provider space, where throwaway C2 lives.
    let hosting = [45, 91, 185, 194, 146, 89];
    (None, format!("{}.{}.{b}.{c}", hosting[(h % 6) as usize], 10 + a % 200))
}

/// Sysmon 22 `QueryResults`: `type:  5 <cname>;::ffff:1.2.3.4;` or `::ffff:1.2.3.4;`.
pub fn query_results(domain: &str) -> (String, String) {
    let (cname, ip) = resolve(domain);
    let text = match cname {
        Some(c) => format!("type:  5 {c};::ffff:{ip};"),
        None => format!("::ffff:{ip};"),
    };
    (text, ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_and_hashes_are_stable() {
        assert_eq!(resolve("www.google.com"), resolve("www.google.com"));
        assert!(
            resolve("www.google.com").1.starts_with("142.")
                || resolve("www.google.com").1.starts_with("172.")
                || resolve("www.google.com").1.starts_with("216.")
        );
        let (text, ip) = query_results("kovarelu.top");
        assert_eq!(text, format!("::ffff:{ip};"));
        assert_eq!(hashes("C:\\Windows\\System32\\cmd.exe", 0), hashes("c:\\windows\\system32\\CMD.EXE", 0));
        assert_ne!(hashes("C:\\Windows\\System32\\cmd.exe", 0), hashes("C:\\Windows\\System32\\cmd.exe", 1));
        assert!(hashes("x", 0).contains(",SHA256="));
        assert_eq!(meta("C:\\Windows\\System32\\SCHTASKS.exe").original, "schtasks.exe");
        assert_eq!(meta("C:\\Windows\\Temp\\abc.exe").description, "-");
    }
}
