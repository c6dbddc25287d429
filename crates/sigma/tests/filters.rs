//! The Sigma 2.1 filter specification's examples (`tests/schema/filter/*.yml` in the
//! specification checkout), applied as pySigma applies filters: a rule the filter names, whose
//! logsource lies within the filter's, gets the condition `(original) and (filter condition)`.
//! The rules the examples name are not part of them and are written here.

mod spec_support;

use spec_support::*;
use taskhunt_events::Event;
use taskhunt_sigma::view::{Mapping, View};
use taskhunt_sigma::{Rule, RuleSet, Source};

/// The rules `filter_1.yml` names, and one it does not. The jump host rule reads the Security
/// log, outside the filter's `process_creation` logsource.
const WINDOWS_RULES: &str = r#"
title: Data compressed with rar
id: 6f3e2987-db24-4c78-a860-b4f4095a7095
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\rar.exe'
    condition: selection
---
title: Logon on the jump host
id: df0841c0-9846-4e9f-ad8a-7df91571771b
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4624
        Computer: JUMP01
    condition: selection
---
title: Whoami
id: 3f1b0d55-52a5-4c1e-9b7a-5d0c2f7e8a10
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
"#;

const RAR: &str = "6f3e2987-db24-4c78-a860-b4f4095a7095";
const JUMP: &str = "df0841c0-9846-4e9f-ad8a-7df91571771b";
const WHOAMI: &str = "3f1b0d55-52a5-4c1e-9b7a-5d0c2f7e8a10";

fn process(image: &str, user: Option<&str>, secs: i64) -> Event {
    let mut data = vec![("Image", s(image))];
    if let Some(u) = user {
        data.push(("User", s(u)));
    }
    event(SYSMON, 1, "WS1", secs, &data)
}

fn windows_events() -> Vec<Event> {
    vec![
        process(r"C:\Program Files\WinRAR\rar.exe", Some("adm_alice"), 0),
        process(r"C:\Program Files\WinRAR\rar.exe", Some("bob"), 1),
        process(r"C:\Program Files\WinRAR\rar.exe", None, 2),
        event(SECURITY, 4624, "JUMP01", 3, &[("TargetUserName", s("bob")), ("User", s("bob"))]),
        process(r"C:\Windows\System32\whoami.exe", Some("bob"), 4),
    ]
}

/// (rule id, event index) of every detection.
fn detections(set: &RuleSet, events: &[Event]) -> Vec<(String, usize)> {
    detect(set, events).into_iter().map(|(r, i)| (set.rules[r].meta.id.clone().unwrap_or_default(), i)).collect()
}

fn rule<'s>(set: &'s RuleSet, id: &str) -> &'s Rule {
    &set.rules[set.rule_index(id).unwrap_or_else(|| panic!("no rule {id}"))]
}

/// `filter_1.yml`: the rar rule now also needs a `User` starting with `adm_`; the jump host rule,
/// named too but of another logsource, and the unnamed whoami rule are unchanged.
#[test]
fn filter_1_example() {
    let Some(spec) = spec("filter_1_example") else { return };
    let path = spec.join("tests/schema/filter/filter_1.yml");
    let set = load(&[Source::Path(&path), Source::Text { name: "rules.yml", text: WINDOWS_RULES }]);
    assert_eq!(set.filters.len(), 1);
    assert_eq!(rule(&set, RAR).condition_text, "(selection) and (selection)");
    assert_eq!(rule(&set, JUMP).condition_text, "selection");
    assert_eq!(rule(&set, WHOAMI).condition_text, "selection");

    let fired = detections(&set, &windows_events());
    let expected = vec![(RAR.to_string(), 0), (JUMP.to_string(), 3), (WHOAMI.to_string(), 4)];
    assert_eq!(fired, expected);
}

/// The filter's condition is ANDed as written, so excluding what the selection describes takes
/// `not selection` (as the filter schema's description of `condition` has it).
#[test]
fn filter_with_not_excludes() {
    let filter = r#"
title: Not for administrators
logsource:
    category: process_creation
    product: windows
filter:
    rules:
        - 6f3e2987-db24-4c78-a860-b4f4095a7095
    admins:
        User|startswith: 'adm_'
    condition: not admins
"#;
    let set = load(&[Source::Text { name: "filter.yml", text: filter }, Source::Text { name: "rules.yml", text: WINDOWS_RULES }]);
    assert_eq!(rule(&set, RAR).condition_text, "(selection) and (not admins)");
    let fired = detections(&set, &windows_events());
    // rar.exe by bob, and by no recorded user, still fire; by adm_alice it does not.
    let expected = vec![(RAR.to_string(), 1), (RAR.to_string(), 2), (JUMP.to_string(), 3), (WHOAMI.to_string(), 4)];
    assert_eq!(fired, expected);
}

/// A filter that applies to no loaded rule, and one without a condition, are reported with file
/// and line; the rules load and run unfiltered.
#[test]
fn bad_filters_are_reported() {
    let filters = "\
title: Names nothing loaded
logsource:
    product: windows
filter:
    rules:
        - 00000000-0000-0000-0000-000000000000
    selection:
        User: bob
    condition: selection
---
title: No condition
logsource:
    product: windows
filter:
    rules:
        - 6f3e2987-db24-4c78-a860-b4f4095a7095
    selection:
        User: bob
";
    let set = RuleSet::load(
        &[Source::Text { name: "filters.yml", text: filters }, Source::Text { name: "rules.yml", text: WINDOWS_RULES }],
        None,
    );
    let mut errors: Vec<(String, Option<usize>)> = set.errors.iter().map(|e| (e.path.display().to_string(), e.line)).collect();
    errors.sort();
    // The first filter starts on line 1; the second document's `filter:` is on line 14.
    assert_eq!(errors, vec![("filters.yml".to_string(), Some(1)), ("filters.yml".to_string(), Some(14))], "{:#?}", set.errors);
    assert_eq!(set.rules.len(), 3);
    assert_eq!(rule(&set, RAR).condition_text, "selection");
}

/// Evaluates a rule's compiled condition on an event directly, whatever its logsource.
fn accepts(rule: &Rule, e: &Event) -> bool {
    let view = View::new(e, Mapping::Direct);
    rule.condition.eval(&mut |i| rule.selections[i].eval(&view))
}

/// `filter_ecs.yml` (network/dns logsource, ECS field names). Such logs are not Windows event
/// logs, so the filtered rules are evaluated on the events directly.
#[test]
fn filter_ecs_example() {
    let Some(spec) = spec("filter_ecs_example") else { return };
    let path = spec.join("tests/schema/filter/filter_ecs.yml");
    let rules = r#"
title: DNS lookup of a .com name
id: 6f3e2987-db24-4c78-a860-b4f4095a7095
logsource:
    product: zeek
    category: network
    service: dns
detection:
    selection:
        dns.question.name|endswith: '.com'
    condition: selection
---
title: Network flow over TCP
id: df0841c0-9846-4e9f-ad8a-7df91571771b
logsource:
    category: network
detection:
    selection:
        network.transport: tcp
    condition: selection
"#;
    let set = load(&[Source::Path(&path), Source::Text { name: "ecs-rules.yml", text: rules }]);
    // The DNS rule lies within the filter's logsource (category network, service dns, any
    // product); the flow rule has no service, so the filter does not reach it.
    let dns = rule(&set, RAR);
    let flow = rule(&set, JUMP);
    assert_eq!(dns.condition_text, "(selection) and (selection)");
    assert_eq!(flow.condition_text, "selection");

    let lookup = |name: &str| event("dns", 1, "NS1", 0, &[("dns.question.name", s(name)), ("network.transport", s("tcp"))]);
    assert!(accepts(dns, &lookup("www.google.com")));
    assert!(!accepts(dns, &lookup("www.bing.com")), "the filter's selection fails");
    assert!(!accepts(dns, &lookup("www.google.de")), "the rule's selection fails");
    assert!(accepts(flow, &lookup("www.bing.com")));
}
