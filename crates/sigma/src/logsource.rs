//! Logsource → the events a rule can apply to, following SigmaHQ's own conventions (the mapping
//! its regression tests use): Windows categories are Sysmon event ids (process_creation is also
//! Security 4688, seen through a field mapping), services are event log channels.

use crate::view::Mapping;
use serde::Serialize;

pub const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
pub const SECURITY: &str = "Security";
const PS: &str = "Microsoft-Windows-PowerShell/Operational";
const PS_CORE: &str = "PowerShellCore/Operational";
const PS_CLASSIC: &str = "Windows PowerShell";
const DEFENDER: &str = "Microsoft-Windows-Windows Defender/Operational";

/// The `logsource` of a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// One kind of event a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub channel: &'static str,
    /// `None`: every event of the channel.
    pub event_ids: Option<&'static [u32]>,
    /// An extra field condition (`EventType: CreateKey` for registry_add).
    pub extra: Option<(&'static str, &'static [&'static str])>,
    pub mapping: Mapping,
}

const fn sysmon(ids: &'static [u32]) -> Target {
    Target { channel: SYSMON, event_ids: Some(ids), extra: None, mapping: Mapping::Direct }
}

/// Windows categories: (category, targets).
fn category_targets(category: &str) -> Option<Vec<Target>> {
    let one = |t: Target| Some(vec![t]);
    match category {
        "process_creation" => {
            Some(vec![sysmon(&[1]), Target { channel: SECURITY, event_ids: Some(&[4688]), extra: None, mapping: Mapping::Process4688 }])
        }
        "file_change" => one(sysmon(&[2])),
        "network_connection" => one(sysmon(&[3])),
        "sysmon_status" => one(sysmon(&[4, 16])),
        "process_termination" => one(sysmon(&[5])),
        "driver_load" => one(sysmon(&[6])),
        "image_load" => one(sysmon(&[7])),
        "create_remote_thread" => one(sysmon(&[8])),
        "raw_access_thread" => one(sysmon(&[9])),
        "process_access" => one(sysmon(&[10])),
        "file_event" => one(sysmon(&[11])),
        "registry_event" => one(sysmon(&[12, 13, 14])),
        "registry_add" => one(Target { extra: Some(("EventType", &["CreateKey"])), ..sysmon(&[12]) }),
        "registry_delete" => one(Target { extra: Some(("EventType", &["DeleteKey", "DeleteValue"])), ..sysmon(&[12]) }),
        "registry_set" => one(sysmon(&[13])),
        "registry_rename" => one(sysmon(&[14])),
        "create_stream_hash" => one(sysmon(&[15])),
        "pipe_created" => one(sysmon(&[17, 18])),
        "wmi_event" => one(sysmon(&[19, 20, 21])),
        "dns_query" => one(sysmon(&[22])),
        "file_delete" => one(sysmon(&[23])),
        "clipboard_change" => one(sysmon(&[24])),
        "process_tampering" => one(sysmon(&[25])),
        "file_delete_detected" => one(sysmon(&[26])),
        "file_block_executable" => one(sysmon(&[27])),
        "file_block_shredding" => one(sysmon(&[28])),
        "file_executable_detected" => one(sysmon(&[29])),
        "sysmon_error" => one(sysmon(&[255])),
        "ps_module" => Some(ps(&[4103])),
        "ps_script" => Some(ps(&[4104])),
        "ps_classic_start" => one(classic(&[400])),
        "ps_classic_provider_start" => one(classic(&[600])),
        "ps_classic_script" => one(classic(&[800])),
        "antivirus" => one(Target {
            channel: DEFENDER,
            event_ids: Some(&[1006, 1007, 1008, 1009, 1010, 1011, 1012, 1017, 1018, 1019, 1115, 1116]),
            extra: None,
            mapping: Mapping::Direct,
        }),
        _ => None,
    }
}

fn ps(ids: &'static [u32]) -> Vec<Target> {
    [PS, PS_CORE].into_iter().map(|channel| Target { channel, event_ids: Some(ids), extra: None, mapping: Mapping::Direct }).collect()
}

const fn classic(ids: &'static [u32]) -> Target {
    Target { channel: PS_CLASSIC, event_ids: Some(ids), extra: None, mapping: Mapping::Direct }
}

/// Windows services → channels (SigmaHQ's naming).
pub const SERVICES: &[(&str, &[&str])] = &[
    ("application", &["Application"]),
    ("security", &["Security"]),
    ("system", &["System"]),
    ("ntlm", &["Microsoft-Windows-NTLM/Operational"]),
    ("sysmon", &[SYSMON]),
    ("powershell", &[PS, PS_CORE]),
    ("powershell-classic", &[PS_CLASSIC]),
    ("taskscheduler", &["Microsoft-Windows-TaskScheduler/Operational"]),
    ("wmi", &["Microsoft-Windows-WMI-Activity/Operational"]),
    ("dhcp", &["Microsoft-Windows-DHCP-Server/Operational"]),
    ("printservice-admin", &["Microsoft-Windows-PrintService/Admin"]),
    ("smbclient-security", &["Microsoft-Windows-SmbClient/Security"]),
    ("smbclient-connectivity", &["Microsoft-Windows-SmbClient/Connectivity"]),
    ("smbserver-connectivity", &["Microsoft-Windows-SMBServer/Connectivity"]),
    ("printservice-operational", &["Microsoft-Windows-PrintService/Operational"]),
    ("terminalservices-localsessionmanager", &["Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"]),
    ("codeintegrity-operational", &["Microsoft-Windows-CodeIntegrity/Operational"]),
    (
        "applocker",
        &[
            "Microsoft-Windows-AppLocker/MSI and Script",
            "Microsoft-Windows-AppLocker/EXE and DLL",
            "Microsoft-Windows-AppLocker/Packaged app-Deployment",
            "Microsoft-Windows-AppLocker/Packaged app-Execution",
        ],
    ),
    ("msexchange-management", &["MSExchange Management"]),
    ("windefend", &[DEFENDER]),
    ("firewall-as", &["Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"]),
    ("bits-client", &["Microsoft-Windows-Bits-Client/Operational"]),
    ("security-mitigations", &["Microsoft-Windows-Security-Mitigations/Kernel Mode", "Microsoft-Windows-Security-Mitigations/User Mode"]),
    ("diagnosis-scripted", &["Microsoft-Windows-Diagnosis-Scripted/Operational"]),
    ("shell-core", &["Microsoft-Windows-Shell-Core/Operational"]),
    ("openssh", &["OpenSSH/Operational"]),
    ("ldap", &["Microsoft-Windows-LDAP-Client/Debug"]),
    ("bitlocker", &["Microsoft-Windows-BitLocker/BitLocker Management"]),
    ("vhdmp", &["Microsoft-Windows-VHDMP/Operational"]),
    ("appxdeployment-server", &["Microsoft-Windows-AppXDeploymentServer/Operational"]),
    ("lsa-server", &["Microsoft-Windows-LSA/Operational"]),
    ("appxpackaging-om", &["Microsoft-Windows-AppxPackaging/Operational"]),
    ("dns-client", &["Microsoft-Windows-DNS Client Events/Operational"]),
    ("appmodel-runtime", &["Microsoft-Windows-AppModel-Runtime/Admin"]),
    ("capi2", &["Microsoft-Windows-CAPI2/Operational"]),
    ("certificateservicesclient-lifecycle-system", &["Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"]),
    ("kernel-shimengine", &["Microsoft-Windows-Kernel-ShimEngine/Operational", "Microsoft-Windows-Kernel-ShimEngine/Diagnostic"]),
    (
        "application-experience",
        &[
            "Microsoft-Windows-Application-Experience/Program-Telemetry",
            "Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant",
        ],
    ),
    ("ntfs", &["Microsoft-Windows-Ntfs/Operational"]),
    ("hyper-v-worker", &["Microsoft-Windows-Hyper-V-Worker"]),
    ("kernel-event-tracing", &["Microsoft-Windows-Kernel-EventTracing"]),
    ("sense", &["Microsoft-Windows-SENSE/Operational"]),
    ("servicebus-client", &["Microsoft-ServiceBus-Client/Admin", "Microsoft-ServiceBus-Client/Operational"]),
    ("microsoft-servicebus-client", &["Microsoft-ServiceBus-Client/Admin", "Microsoft-ServiceBus-Client/Operational"]),
    ("dns-server-analytic", &["Microsoft-Windows-DNSServer/Analytical"]),
    ("iis-configuration", &["Microsoft-IIS-Configuration/Operational"]),
    ("dns-server", &["DNS Server"]),
    ("driver-framework", &["Microsoft-Windows-DriverFrameworks-UserMode/Operational"]),
];

/// Where a rule can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Only these kinds of events.
    Targets(Vec<Target>),
    /// Every Windows event (`product: windows` with neither category nor service).
    AnyWindows,
    /// A logsource with no Windows event log behind it (Linux, cloud, proxy, or an ETW-only
    /// category such as file_access): the rule loads but cannot match; the reason says why.
    Unmapped(String),
}

pub fn scope(ls: &LogSource) -> Scope {
    let product = ls.product.as_deref().map(str::to_ascii_lowercase);
    let windows = product.as_deref() == Some("windows");
    if !windows && product.is_some() {
        return Scope::Unmapped(format!("product {} is not Windows event logs", product.unwrap_or_default()));
    }
    let from_category = ls.category.as_deref().map(|c| (c, category_targets(c)));
    let from_service = ls.service.as_deref().map(|s| {
        (
            s,
            SERVICES.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)).map(|(_, chans)| {
                chans.iter().map(|c| Target { channel: c, event_ids: None, extra: None, mapping: Mapping::Direct }).collect::<Vec<_>>()
            }),
        )
    });
    match (from_category, from_service) {
        (None, None) if windows => Scope::AnyWindows,
        (None, None) => Scope::Unmapped("logsource names no product, category or service".into()),
        (Some((c, None)), _) => Scope::Unmapped(format!("no Windows event log records category {c}")),
        (_, Some((s, None))) => Scope::Unmapped(format!("no channel known for service {s}")),
        (Some((_, Some(cat))), Some((_, Some(svc)))) => {
            // Both: the category's targets on the service's channels.
            let chans: Vec<&str> = svc.iter().map(|t| t.channel).collect();
            let both: Vec<Target> = cat.into_iter().filter(|t| chans.contains(&t.channel)).collect();
            if both.is_empty() { Scope::Unmapped("category and service name different logs".into()) } else { Scope::Targets(both) }
        }
        (Some((_, Some(t))), None) | (None, Some((_, Some(t)))) => Scope::Targets(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(p: Option<&str>, c: Option<&str>, s: Option<&str>) -> LogSource {
        LogSource { product: p.map(String::from), category: c.map(String::from), service: s.map(String::from) }
    }

    #[test]
    fn process_creation_is_sysmon_1_and_4688() {
        let Scope::Targets(t) = scope(&ls(Some("windows"), Some("process_creation"), None)) else { panic!() };
        assert_eq!(t.len(), 2);
        assert_eq!((t[1].channel, t[1].event_ids, t[1].mapping), (SECURITY, Some(&[4688u32][..]), Mapping::Process4688));
    }

    #[test]
    fn services_and_unmapped() {
        let Scope::Targets(t) = scope(&ls(Some("windows"), None, Some("powershell"))) else { panic!() };
        assert_eq!(t.iter().map(|t| t.channel).collect::<Vec<_>>(), vec![PS, PS_CORE]);
        assert!(matches!(scope(&ls(Some("linux"), Some("process_creation"), None)), Scope::Unmapped(_)));
        assert!(matches!(scope(&ls(Some("windows"), Some("file_access"), None)), Scope::Unmapped(_)));
        assert_eq!(scope(&ls(Some("windows"), None, None)), Scope::AnyWindows);
    }
}
