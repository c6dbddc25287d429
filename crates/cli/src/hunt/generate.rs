//! A Sigma rule from an incident's indicators, and the same detection in KQL and SPL, for the
//! report's detection opportunities. Indicator text comes from events: it is quoted for each
//! language, never pasted raw.

use taskhunt_correlate::Incident;
use taskhunt_report::model::GeneratedRule;

fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

fn yaml_quote(s: &str) -> String {
    format!("'{}'", clean(s).replace('\'', "''"))
}

/// Sigma escapes: wildcards and backslashes before them must not act as wildcards.
fn sigma_literal(s: &str) -> String {
    clean(s).replace('*', "\\*").replace('?', "\\?")
}

fn kql_quote(s: &str) -> String {
    format!("@\"{}\"", clean(s).replace('"', "\"\""))
}

fn spl_quote(s: &str) -> String {
    format!("\"{}\"", clean(s).replace('\\', "\\\\").replace('"', "\\\""))
}

/// A stable UUID-shaped id from the incident, so re-running a hunt gives the same rule id.
fn rule_id(seed: &str) -> String {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in seed.bytes() {
        h ^= b as u128;
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    let x = format!("{h:032x}");
    format!("{}-{}-4{}-a{}-{}", &x[0..8], &x[8..12], &x[13..16], &x[17..20], &x[20..32])
}

pub fn generate(inc: &Incident) -> GeneratedRule {
    let name = &inc.task_name;
    let from_security = inc.task.history.iter().any(|(_, _, ev)| inc.events.iter().any(|e| e.role == "task" && matches!(e.event_id, 4698..=4702) && ev.ends_with(&format!(":{}", e.record_id))));
    let title = format!("taskhunt {}: scheduled task {}", inc.id, clean(name));
    let techniques: Vec<String> = inc.techniques.iter().map(|t| format!("    - attack.{}", t.to_lowercase())).collect();
    let header = format!(
        "title: {}\nid: {}\nstatus: experimental\ndescription: Indicators of incident {} found by taskhunt (score {}).\nauthor: taskhunt\ndate: {}\ntags:\n{}\n",
        yaml_quote(&title),
        rule_id(&format!("{}{}", inc.id, name)),
        inc.id,
        inc.score,
        inc.first_seen.map(|t| t.to_string()[..10].replace('-', "-")).unwrap_or_else(|| "2026-01-01".into()),
        techniques.join("\n")
    );
    if from_security {
        GeneratedRule {
            incident: inc.id.clone(),
            sigma: format!(
                "{header}logsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID:\n            - 4698\n            - 4699\n            - 4702\n        TaskName: {}\n    condition: selection\nfalsepositives:\n    - None expected for this task name\nlevel: high\n",
                yaml_quote(&sigma_literal(name))
            ),
            kql: format!(
                "DeviceEvents\n| where ActionType in (\"ScheduledTaskCreated\", \"ScheduledTaskDeleted\", \"ScheduledTaskUpdated\")\n| where tostring(parse_json(AdditionalFields).TaskName) =~ {}",
                kql_quote(name)
            ),
            spl: format!("index=security (EventCode=4698 OR EventCode=4699 OR EventCode=4702) TaskName={}", spl_quote(name)),
        }
    } else {
        let leaf = name.rsplit('\\').next().unwrap_or(name);
        GeneratedRule {
            incident: inc.id.clone(),
            sigma: format!(
                "{header}logsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        Image|endswith: '\\schtasks.exe'\n        CommandLine|contains: {}\n    condition: selection\nfalsepositives:\n    - None expected for this task name\nlevel: high\n",
                yaml_quote(&sigma_literal(leaf))
            ),
            kql: format!("DeviceProcessEvents\n| where FileName =~ \"schtasks.exe\"\n| where ProcessCommandLine contains {}", kql_quote(leaf)),
            spl: format!("index=sysmon EventCode=1 Image=\"*\\\\schtasks.exe\" CommandLine={}", spl_quote(&format!("*{leaf}*"))),
        }
    }
}
