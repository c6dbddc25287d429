//! Field maps of the pipelines for other systems: Defender XDR, Sentinel, Splunk (Windows
//! add-on and CIM). The column names are the ones those systems document; the Sigma names on
//! the left are Sysmon's, as SigmaHQ's Windows rules use them.

use super::Unsupported;
use super::ir::Bool;
use super::pipeline::{Col, Field, Spec, event_ids, exact, field_4688, numeric, plain, spec};
use crate::logsource::{SECURITY, Scope, Target};
use crate::rule::Rule;
use crate::view::Mapping;

fn lossy(name: &str, why: &str) -> Field {
    Field::Lossy(name.to_string(), Col { expr: None, numeric: false, optional: false }, why.to_string())
}

fn no_column(system: &str, f: &str) -> Field {
    Field::Fail(format!("`{f}` has no {system} column"))
}

const ACCOUNT: &str = "`User` (DOMAIN\\name) is compared with the account name column alone";

/// Defender XDR advanced hunting: one table per category.
pub fn defender(rule: &Rule) -> Result<Vec<Spec>, Unsupported> {
    if let Scope::Unmapped(why) = &rule.scope {
        return Err(Unsupported::new(why.clone()));
    }
    let category = rule.logsource.category.as_deref().unwrap_or("");
    let action = |values: &[&str]| vec![exact("ActionType", values, false)];
    let (table, filters, map): (&str, Vec<Bool>, fn(&str) -> Field) = match category {
        "process_creation" => ("DeviceProcessEvents", vec![], defender_process),
        "network_connection" => ("DeviceNetworkEvents", vec![], defender_network),
        "file_event" => ("DeviceFileEvents", action(&["FileCreated"]), defender_file),
        "file_delete" => ("DeviceFileEvents", action(&["FileDeleted"]), defender_file),
        "image_load" => ("DeviceImageLoadEvents", vec![], defender_image_load),
        "registry_event" => ("DeviceRegistryEvents", vec![], defender_registry),
        "registry_add" => ("DeviceRegistryEvents", action(&["RegistryKeyCreated"]), defender_registry),
        "registry_delete" => ("DeviceRegistryEvents", action(&["RegistryKeyDeleted", "RegistryValueDeleted"]), defender_registry),
        "registry_set" => ("DeviceRegistryEvents", action(&["RegistryValueSet"]), defender_registry),
        _ => {
            let what = match (&rule.logsource.category, &rule.logsource.service) {
                (Some(c), _) => format!("category {c}"),
                (None, Some(s)) => format!("service {s}"),
                _ => "this logsource".into(),
            };
            return Err(Unsupported::new(format!("Defender has no table for {what}")));
        }
    };
    Ok(vec![spec(table, "", "", filters, Box::new(move |f| defender_common(f).unwrap_or_else(|| map(f))))])
}

fn defender_common(f: &str) -> Option<Field> {
    Some(match f {
        "Computer" => plain("DeviceName"),
        "md5" | "MD5" => plain("MD5"),
        "sha1" | "SHA1" => plain("SHA1"),
        "sha256" | "SHA256" => plain("SHA256"),
        "Hashes" => Field::Fail("`Hashes` has no single Defender column (SHA1, SHA256 and MD5 are separate; no IMPHASH)".into()),
        _ => return None,
    })
}

fn defender_process(f: &str) -> Field {
    match f {
        "Image" => plain("FolderPath"),
        "OriginalFileName" => plain("ProcessVersionInfoOriginalFileName"),
        "CommandLine" => plain("ProcessCommandLine"),
        "ParentImage" => plain("InitiatingProcessFolderPath"),
        "ParentCommandLine" => plain("InitiatingProcessCommandLine"),
        "ProcessId" => numeric("ProcessId"),
        "ParentProcessId" => numeric("InitiatingProcessId"),
        "IntegrityLevel" => plain("ProcessIntegrityLevel"),
        "User" => lossy("AccountName", ACCOUNT),
        "ParentUser" => lossy("InitiatingProcessAccountName", ACCOUNT),
        "Product" => plain("ProcessVersionInfoProductName"),
        "Company" => plain("ProcessVersionInfoCompanyName"),
        "Description" => plain("ProcessVersionInfoFileDescription"),
        "FileVersion" => plain("ProcessVersionInfoFileVersion"),
        "CurrentDirectory" => plain("ProcessCurrentDirectory"),
        "LogonId" => Field::Lossy(
            "LogonId".into(),
            Col { expr: None, numeric: true, optional: false },
            "Defender's LogonId is a number, Sysmon's hex text".into(),
        ),
        f => no_column("DeviceProcessEvents", f),
    }
}

fn initiating(f: &str) -> Option<Field> {
    Some(match f {
        "Image" => plain("InitiatingProcessFolderPath"),
        "ProcessId" => numeric("InitiatingProcessId"),
        "User" => lossy("InitiatingProcessAccountName", ACCOUNT),
        _ => return None,
    })
}

fn defender_network(f: &str) -> Field {
    initiating(f).unwrap_or_else(|| match f {
        "DestinationIp" => plain("RemoteIP"),
        "DestinationPort" => numeric("RemotePort"),
        "DestinationHostname" => plain("RemoteUrl"),
        "SourceIp" => plain("LocalIP"),
        "SourcePort" => numeric("LocalPort"),
        "Protocol" => plain("Protocol"),
        f => no_column("DeviceNetworkEvents", f),
    })
}

fn defender_file(f: &str) -> Field {
    initiating(f).unwrap_or_else(|| match f {
        "TargetFilename" => plain("FolderPath"),
        f => no_column("DeviceFileEvents", f),
    })
}

fn defender_image_load(f: &str) -> Field {
    initiating(f).unwrap_or_else(|| match f {
        "ImageLoaded" => plain("FolderPath"),
        f => no_column("DeviceImageLoadEvents", f),
    })
}

fn defender_registry(f: &str) -> Field {
    initiating(f).unwrap_or_else(|| match f {
        "TargetObject" => lossy(
            "RegistryKey",
            "`TargetObject` is compared with RegistryKey, where Defender spells hives out (HKEY_LOCAL_MACHINE) and keeps a value's name in RegistryValueName",
        ),
        "Details" => plain("RegistryValueData"),
        f => no_column("DeviceRegistryEvents", f),
    })
}

/// Sentinel: Security events in `SecurityEvent` (EventData fields are its columns), every other
/// channel in `WindowsEvent` (the Windows Forwarded Events connector), whose `EventData` is a
/// dynamic bag of the event's fields.
pub fn sentinel(scope: &Scope) -> Result<Vec<Spec>, Unsupported> {
    let targets = match scope {
        Scope::Unmapped(why) => return Err(Unsupported::new(why.clone())),
        Scope::AnyWindows => return Ok(vec![spec("WindowsEvent", "", "", vec![], Box::new(windows_event_field))]),
        Scope::Targets(t) => t,
    };
    Ok(targets
        .iter()
        .map(|t: &Target| {
            let mut filters: Vec<Bool> = event_ids("EventID", t).into_iter().collect();
            if let Some((field, values)) = t.extra {
                filters.push(exact(field, values, true));
            }
            if t.channel == SECURITY {
                let map: Box<dyn Fn(&str) -> Field> = match t.mapping {
                    Mapping::Process4688 => Box::new(|f| field_4688(f, &security_event_field)),
                    Mapping::Direct => Box::new(security_event_field),
                };
                spec("SecurityEvent", "", t.channel, filters, map)
            } else {
                filters.insert(0, exact("Channel", &[t.channel], false));
                spec("WindowsEvent", "", t.channel, filters, Box::new(windows_event_field))
            }
        })
        .collect())
}

fn security_event_field(f: &str) -> Field {
    match f {
        "EventID" => numeric("EventID"),
        f => plain(f),
    }
}

fn windows_event_field(f: &str) -> Field {
    match f {
        "EventID" => numeric("EventID"),
        "Computer" | "Channel" => plain(f),
        "Provider_Name" => plain("Provider"),
        f => Field::Col(
            f.to_string(),
            Col { expr: Some(format!("tostring(EventData{})", super::kql::member(f))), numeric: false, optional: false },
        ),
    }
}

/// Splunk with the Windows add-on, XML event logs: `source` names the channel, `EventCode`
/// the event id, fields keep their Windows names.
pub fn splunk_windows(scope: &Scope) -> Result<Vec<Spec>, Unsupported> {
    let targets = match scope {
        Scope::Unmapped(why) => return Err(Unsupported::new(why.clone())),
        Scope::AnyWindows => return Ok(vec![spec("", "source=\"XmlWinEventLog:*\"", "", vec![], Box::new(splunk_field))]),
        Scope::Targets(t) => t,
    };
    Ok(targets
        .iter()
        .map(|t| {
            let mut filters: Vec<Bool> = event_ids("EventCode", t).into_iter().collect();
            if let Some((field, values)) = t.extra {
                filters.push(exact(field, values, true));
            }
            let map: Box<dyn Fn(&str) -> Field> = match t.mapping {
                Mapping::Process4688 => Box::new(|f| field_4688(f, &splunk_field)),
                Mapping::Direct => Box::new(splunk_field),
            };
            let source = format!("source=\"XmlWinEventLog:{}\"", t.channel);
            spec("", &source, t.channel, filters, map)
        })
        .collect())
}

fn splunk_field(f: &str) -> Field {
    match f {
        "EventID" => numeric("EventCode"),
        f => plain(f),
    }
}

/// Splunk CIM: process creation as the `Endpoint.Processes` data model, through `tstats`.
pub fn splunk_cim(rule: &Rule) -> Result<Vec<Spec>, Unsupported> {
    if let Scope::Unmapped(why) = &rule.scope {
        return Err(Unsupported::new(why.clone()));
    }
    if rule.logsource.category.as_deref() != Some("process_creation") {
        return Err(Unsupported::new("splunk-cim converts process_creation rules only (the Endpoint.Processes data model)"));
    }
    Ok(vec![spec("datamodel=Endpoint.Processes", "", "", vec![], Box::new(cim_process))])
}

fn cim_process(f: &str) -> Field {
    let p = |n: &str| plain(&format!("Processes.{n}"));
    match f {
        "Image" => p("process_path"),
        "CommandLine" => p("process"),
        "ParentImage" => p("parent_process_path"),
        "ParentCommandLine" => p("parent_process"),
        "User" => p("user"),
        "OriginalFileName" => p("original_file_name"),
        "ProcessId" => p("process_id"),
        "ParentProcessId" => p("parent_process_id"),
        "IntegrityLevel" => p("process_integrity_level"),
        "Computer" => p("dest"),
        "CurrentDirectory" => p("process_current_directory"),
        "ProcessGuid" => p("process_guid"),
        "ParentProcessGuid" => p("parent_process_guid"),
        "Hashes" => p("process_hash"),
        f => Field::Fail(format!("`{f}` has no field in the Endpoint.Processes data model")),
    }
}
