//! A Sigma rule from an incident's indicators, and the same detection in KQL and SPL, for the
//! report's detection opportunities. Indicator text comes from events: it is quoted for each
//! language, never pasted raw.

use taskhunt_correlate::Incident;
use taskhunt_report::model::GeneratedRule;

fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// Characters a reader of a rule file must see spelled out: control characters, bidi overrides
/// and invisible formatting characters (zero-width, tag characters).
fn needs_yaml_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{e0000}'..='\u{e007f}')
}

/// A YAML scalar holding exactly `s`: single-quoted when every character is plain, otherwise
/// double-quoted with the invisible characters as `\uXXXX` escapes, so that the rule matches the
/// event's text byte for byte and a reader sees what is there.
fn yaml_quote(s: &str) -> String {
    if !s.chars().any(needs_yaml_escape) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::with_capacity(s.len() + 8);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if needs_yaml_escape(c) && (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if needs_yaml_escape(c) => out.push_str(&format!("\\U{:08X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` as a Sigma string that matches only itself: `*` and `?` escaped, and a backslash doubled
/// where Sigma would otherwise read it as an escape (before `*`, `?`, another backslash, or at
/// the end). Other backslashes stay single, so Windows paths read naturally.
fn sigma_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' => {
                out.push('\\');
                out.push(c);
            }
            '\\' if matches!(chars.peek(), None | Some('*' | '?' | '\\')) => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
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
    let from_security = inc.task.history.iter().any(|(_, _, ev)| {
        inc.events.iter().any(|e| e.role == "task" && matches!(e.event_id, 4698..=4702) && ev.ends_with(&format!(":{}", e.record_id)))
    });
    let title = format!("taskhunt {}: scheduled task {}", inc.id, name);
    let techniques: Vec<String> = inc.techniques.iter().map(|t| format!("    - attack.{}", t.to_lowercase())).collect();
    let header = format!(
        "title: {}\nid: {}\nstatus: experimental\ndescription: Indicators of incident {} found by taskhunt (score {}).\nauthor: taskhunt\ndate: {}\ntags:\n{}\n",
        yaml_quote(&title),
        rule_id(&format!("{}{}", inc.id, name)),
        inc.id,
        inc.score,
        inc.first_seen.map(|t| t.to_string()[..10].to_string()).unwrap_or_else(|| "2026-01-01".into()),
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
            kql: format!(
                "DeviceProcessEvents\n| where FileName =~ \"schtasks.exe\"\n| where ProcessCommandLine contains {}",
                kql_quote(leaf)
            ),
            spl: format!("index=sysmon EventCode=1 Image=\"*\\\\schtasks.exe\" CommandLine={}", spl_quote(&format!("*{leaf}*"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskhunt_sigma::pattern::{Piece, parse_wildcards};

    #[test]
    fn sigma_literals_match_only_themselves() {
        for s in [r"\qZeXihGQ", r"a*b?c", r"C:\Temp\*", r"x\\y", r"ends\", r"\?\\*", "plain"] {
            assert_eq!(parse_wildcards(&sigma_literal(s)), vec![Piece::Lit(s.to_string())], "{s} -> {}", sigma_literal(s));
        }
        // Backslashes that Sigma reads as literal stay single.
        assert_eq!(sigma_literal(r"\Microsoft\Windows\x"), r"\Microsoft\Windows\x");
        assert_eq!(sigma_literal(r"C:\Temp\*"), r"C:\Temp\\\*");
    }

    #[test]
    fn yaml_scalars_hold_the_exact_text() {
        assert_eq!(yaml_quote(r"\Updater 'x'"), r"'\Updater ''x'''");
        assert_eq!(yaml_quote("a\u{202e}b\x1b[31m\"\\"), "\"a\\u202Eb\\u001B[31m\\\"\\\\\"");
        assert_eq!(yaml_quote("\u{e0041}"), "\"\\U000E0041\"");
        for s in ["plain", "it's", "a\u{202e}b", "esc\x1b[0m\x07 \"q\" \\ end", "line\nbreak\ttab", "tag \u{e0041}"] {
            let back: String = serde_saphyr::from_str(&yaml_quote(s)).unwrap();
            assert_eq!(back, s);
        }
    }
}
