//! The Sigma 2.1 correlation specification's examples, run on small event streams whose
//! expected alerts are worked out by hand from the specification's wording.
//!
//! The correlation documents are read from the specification checkout in the corpus
//! (`tests/schema/correlation/*.yml`, and the Markdown for the aliases and chaining examples);
//! the detection rules they refer to are not part of the examples and are written here.

mod spec_support;

use spec_support::*;
use taskhunt_events::{Event, Value};
use taskhunt_sigma::correlation::Input;
use taskhunt_sigma::view::Mapping;
use taskhunt_sigma::{RuleSet, Source};

/// The rule `5638f7c0-…` the count examples refer to: a failed logon on a Windows host.
const FAILED_LOGON: &str = r#"
title: Failed logon
id: 5638f7c0-ac70-491d-8465-2a65075e0d86
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
"#;

/// Loads one example file of `tests/schema/correlation` with the rules it refers to.
fn example(spec: &std::path::Path, file: &str, rules: &str) -> RuleSet {
    let path = spec.join("tests/schema/correlation").join(file);
    load(&[Source::Path(&path), Source::Text { name: "base-rules.yml", text: rules }])
}

fn failed(host: &str, secs: i64) -> Event {
    event(SECURITY, 4625, host, secs, &[("TargetUserName", s("admin"))])
}

/// Event count: "More than or equal 100 failed login attempts to a destination host in an hour".
#[test]
fn event_count_example() {
    let Some(spec) = spec("event_count_example") else { return };
    let set = example(&spec, "event_count.yml", FAILED_LOGON);
    assert_eq!(set.correlations.len(), 1);
    // The base rule only feeds the correlation (no `generate`): it reports nothing itself.
    assert!(set.rules[set.rule_index("5638f7c0-ac70-491d-8465-2a65075e0d86").unwrap()].suppressed);

    let mut ev = Vec::new();
    // DC01: 100 failures, one every 30 s (49.5 minutes), given newest first: order is irrelevant.
    for k in (0..100).rev() {
        ev.push(failed("DC01", k * 30));
    }
    // DC02: 99 failures in the hour. Successful logons and a 4625 in another log do not count.
    let dc02 = ev.len();
    for k in 0..99 {
        ev.push(failed("DC02", k * 30));
    }
    for k in 0..5 {
        ev.push(event(SECURITY, 4624, "DC02", k * 60, &[]));
    }
    ev.push(event("Application", 4625, "DC02", 100, &[]));
    // DC03: the 100th failure exactly one hour after the first: still within the hour.
    let dc03 = ev.len();
    ev.push(failed("DC03", 0));
    for k in 1..99 {
        ev.push(failed("DC03", k));
    }
    ev.push(failed("DC03", 3600));
    // DC04: the same, one second later: no hour holds 100 of them.
    ev.push(failed("DC04", 0));
    for k in 1..99 {
        ev.push(failed("DC04", k));
    }
    ev.push(failed("DC04", 3601));
    // DC05: 100 failures spread over 99 × 37 s = 61 minutes: any hour holds at most 98.
    for k in 0..100 {
        ev.push(failed("DC05", k * 37));
    }
    // DC06: 250 failures 10 s apart. Each event is part of at most one alert: the first hundred
    // make one, the next hundred another, the last 50 none.
    let dc06 = ev.len();
    for k in 0..250 {
        ev.push(failed("DC06", k * 10));
    }
    assert_eq!(dc02, 100);

    let fired = correlate(&set, &ev);
    let dc01: Vec<usize> = (0..100).rev().collect();
    let expected = vec![
        (group(&[("ComputerName", "DC06")]), span(dc06, dc06 + 100), at(0), at(990)),
        (group(&[("ComputerName", "DC06")]), span(dc06 + 100, dc06 + 200), at(1000), at(1990)),
        (group(&[("ComputerName", "DC01")]), dc01, at(0), at(2970)),
        (group(&[("ComputerName", "DC03")]), span(dc03, dc03 + 100), at(0), at(3600)),
    ];
    let got: Vec<_> = fired.iter().map(|f| (f.group.clone(), f.events.clone(), f.first, f.last)).collect();
    assert_eq!(got, expected);
    assert!(fired.iter().all(|f| f.value == 100.0 && f.correlation == "Many failed logins"));
}

/// The same count grouped by an ECS field name (`taxonomy: ecs`). Field names are not
/// translated between taxonomies: the events must carry `dns.question.name`.
#[test]
fn event_count_ecs_example() {
    let Some(spec) = spec("event_count_ecs_example") else { return };
    let dns = r#"
title: DNS query
id: 5638f7c0-ac70-491d-8465-2a65075e0d86
logsource:
    product: windows
    category: dns_query
detection:
    selection:
        EventID: 22
    condition: selection
"#;
    let set = example(&spec, "event_count_ecs.yml", dns);
    let query = |name: &str, secs| event(SYSMON, 22, "WS1", secs, &[("dns.question.name", s(name))]);
    let mut ev = Vec::new();
    for k in 0..100 {
        ev.push(query("evil.example", k * 30));
    }
    for k in 0..99 {
        ev.push(query("rare.example", k * 30));
    }
    // 150 queries without the group-by field belong to no group.
    for k in 0..150 {
        ev.push(event(SYSMON, 22, "WS1", k, &[("QueryName", s("no-ecs.example"))]));
    }
    let fired = correlate(&set, &ev);
    assert_eq!(fired.len(), 1, "{fired:#?}");
    assert_eq!(fired[0].group, group(&[("dns.question.name", "evil.example")]));
    assert_eq!(fired[0].events, span(0, 100));
}

/// The ECS example on events from no Windows log at all, through `Correlation::evaluate`: the
/// inputs are what a detection stage produced for the referenced rule (position 0).
#[test]
fn event_count_ecs_evaluated_directly() {
    let Some(spec) = spec("event_count_ecs_evaluated_directly") else { return };
    let dns = r#"
title: DNS query
id: 5638f7c0-ac70-491d-8465-2a65075e0d86
logsource:
    category: network
    service: dns
detection:
    selection:
        dns.question.name|exists: true
    condition: selection
"#;
    let set = example(&spec, "event_count_ecs.yml", dns);
    let query = |name: &str, secs| event("", 0, "", secs, &[("dns.question.name", s(name))]);
    let mut ev: Vec<Event> = (0..100).map(|k| query("evil.example", k * 36)).collect();
    ev.extend((0..100).map(|k| query("spread.example", k * 37)));
    let inputs: Vec<Input> = ev.iter().enumerate().map(|(i, e)| Input::detection(e.timestamp, 0, e, Mapping::Direct, i)).collect();
    let alerts = set.correlations[0].evaluate(&inputs);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    // 100 queries 36 s apart span 3564 s; 37 s apart, 3663 s.
    assert_eq!(alerts[0].group, group(&[("dns.question.name", "evil.example")]));
    assert_eq!(alerts[0].events, span(0, 100));
    assert_eq!((alerts[0].first, alerts[0].last, alerts[0].value), (at(0), at(99 * 36), 100.0));
}

/// Value count: "Failed logon attempts with more than 100 different user accounts per source
/// and destination at a day" (condition `gte: 100` on distinct `User`).
#[test]
fn value_count_example() {
    let Some(spec) = spec("value_count_example") else { return };
    let set = example(&spec, "value_count.yml", FAILED_LOGON);
    let fail = |host: &str, ws: &str, user: String, secs| {
        event(SECURITY, 4625, host, secs, &[("WorkstationName", s(ws)), ("User", Value::from(user))])
    };
    let mut ev = Vec::new();
    // DC01/WS1: 100 different users over 8 hours 15 minutes.
    for k in 0..100 {
        ev.push(fail("DC01", "WS1", format!("user{k:03}"), k * 300));
    }
    // DC01/WS2: 99 users, each twice: 198 failures but 99 values.
    for k in 0..198 {
        ev.push(fail("DC01", "WS2", format!("user{:03}", k % 99), k * 120));
    }
    // DC02/WS1: 60 users on the first day and 40 others two days later.
    for k in 0..100 {
        let secs = if k < 60 { k * 60 } else { 2 * 86_400 + k * 60 };
        ev.push(fail("DC02", "WS1", format!("user{k:03}"), secs));
    }
    // WS3: 50 users against DC03 and 50 others against DC04: two groups of 50.
    for k in 0..100 {
        let host = if k < 50 { "DC03" } else { "DC04" };
        ev.push(fail(host, "WS3", format!("user{k:03}"), k * 60));
    }
    let fired = correlate(&set, &ev);
    assert_eq!(fired.len(), 1, "{fired:#?}");
    assert_eq!(fired[0].group, group(&[("ComputerName", "DC01"), ("WorkstationName", "WS1")]));
    assert_eq!(fired[0].events, span(0, 100));
    assert_eq!(fired[0].value, 100.0);
}

/// "When you use multiple values in `field` they are linked by an AND": the distinct
/// combinations are counted.
#[test]
fn value_count_over_several_fields() {
    let text = r#"
title: Accounts from workstations
correlation:
    type: value_count
    rules:
        - 5638f7c0-ac70-491d-8465-2a65075e0d86
    group-by:
        - ComputerName
    timespan: 1h
    condition:
        field:
            - User
            - WorkstationName
        gte: 3
"#;
    let set = load(&[Source::Text { name: "multi.yml", text }, Source::Text { name: "base.yml", text: FAILED_LOGON }]);
    assert_eq!(set.correlations[0].fields, vec!["User", "WorkstationName"]);
    let fail = |host: &str, user: &str, ws: &str, secs| event(SECURITY, 4625, host, secs, &[("User", s(user)), ("WorkstationName", s(ws))]);
    let ev = vec![
        // DC01: alice@WS1, alice@WS2, bob@WS1: three combinations of two users.
        fail("DC01", "alice", "WS1", 0),
        fail("DC01", "alice", "WS2", 10),
        fail("DC01", "alice", "WS1", 20),
        fail("DC01", "bob", "WS1", 30),
        // DC02: two combinations, repeated.
        fail("DC02", "alice", "WS1", 0),
        fail("DC02", "bob", "WS1", 10),
        fail("DC02", "alice", "WS1", 20),
        fail("DC02", "bob", "WS1", 30),
    ];
    let fired = correlate(&set, &ev);
    assert_eq!(fired.len(), 1, "{fired:#?}");
    assert_eq!(fired[0].group, group(&[("ComputerName", "DC01")]));
    assert_eq!(fired[0].events, vec![0, 1, 2, 3]);
    assert_eq!(fired[0].value, 3.0);
}

/// The three reconnaissance rules the temporal examples refer to by name.
const RECON: &str = r#"
title: Recon whoami
name: recon_cmd_a
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
---
title: Recon net
name: recon_cmd_b
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\net.exe'
    condition: selection
---
title: Recon ipconfig
name: recon_cmd_c
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\ipconfig.exe'
    condition: selection
"#;

/// A Sysmon process creation of recon command `which` ('a', 'b' or 'c').
fn recon(which: char, host: &str, user: &str, secs: i64) -> Event {
    let image = match which {
        'a' => r"C:\Windows\System32\whoami.exe",
        'b' => r"C:\Windows\System32\net.exe",
        _ => r"C:\Windows\System32\ipconfig.exe",
    };
    event(SYSMON, 1, host, secs, &[("Image", s(image)), ("User", s(user))])
}

/// Temporal proximity: the three rules "in arbitrary order within 5 minutes on a system by the
/// same user".
#[test]
fn temporal_example() {
    let Some(spec) = spec("temporal_example") else { return };
    let set = example(&spec, "temporal.yml", RECON);
    let ev = vec![
        // 0-2: WS1/alice, c a b within four minutes: fires.
        recon('c', "WS1", "alice", 0),
        recon('a', "WS1", "alice", 60),
        recon('b', "WS1", "alice", 240),
        // 3-5: WS1/bob, a b c over 301 s: when c comes, a is out of the window.
        recon('a', "WS1", "bob", 1000),
        recon('b', "WS1", "bob", 1100),
        recon('c', "WS1", "bob", 1301),
        // 6-8: WS1/carol, a b c over exactly 300 s: within five minutes.
        recon('a', "WS1", "carol", 2000),
        recon('b', "WS1", "carol", 2100),
        recon('c', "WS1", "carol", 2300),
        // 9-11: two users on WS1 share no group.
        recon('a', "WS1", "dave", 3000),
        recon('b', "WS1", "erin", 3010),
        recon('c', "WS1", "dave", 3020),
        // 12-14: the same user on two systems.
        recon('a', "WS3", "frank", 3000),
        recon('b', "WS4", "frank", 3010),
        recon('c', "WS3", "frank", 3020),
        // 15-16: two of the three rules only.
        recon('a', "WS2", "alice", 0),
        recon('b', "WS2", "alice", 10),
    ];
    let fired = correlate(&set, &ev);
    let got: Vec<_> = fired.iter().map(|f| (f.group.clone(), f.events.clone(), f.value)).collect();
    assert_eq!(
        got,
        vec![
            (group(&[("ComputerName", "WS1"), ("User", "alice")]), vec![0, 1, 2], 3.0),
            (group(&[("ComputerName", "WS1"), ("User", "carol")]), vec![6, 7, 8], 3.0),
        ]
    );
    // With bob's 'b' and 'c' still in the window, another 'a' completes the set.
    let mut more = ev.clone();
    more.push(recon('a', "WS1", "bob", 1350));
    let fired = correlate(&set, &more);
    let got: Vec<_> = fired.iter().map(|f| (f.group["User"].as_str(), f.events.clone())).collect();
    assert_eq!(got, vec![("alice", vec![0, 1, 2]), ("bob", vec![4, 5, 17]), ("carol", vec![6, 7, 8])]);
}

/// Ordered temporal proximity: as temporal, and the events "appear in the order provided in the
/// rule attribute" (a, then b, then c).
#[test]
fn temporal_ordered_example() {
    let Some(spec) = spec("temporal_ordered_example") else { return };
    let set = example(&spec, "temporal_ordered.yml", RECON);
    let ev = vec![
        // 0-2: alice, a b c: fires.
        recon('a', "WS1", "alice", 0),
        recon('b', "WS1", "alice", 60),
        recon('c', "WS1", "alice", 120),
        // 3-5: bob, c a b: c came first, no alert yet ...
        recon('c', "WS1", "bob", 0),
        recon('a', "WS1", "bob", 60),
        recon('b', "WS1", "bob", 120),
        // 6: ... until another c follows a and b. The first c is not part of the sequence.
        recon('c', "WS1", "bob", 180),
        // 7-9: carol, a c b: c before b.
        recon('a', "WS1", "carol", 0),
        recon('c', "WS1", "carol", 60),
        recon('b', "WS1", "carol", 120),
        // 10-12: dave, b a c: b before a.
        recon('b', "WS1", "dave", 0),
        recon('a', "WS1", "dave", 60),
        recon('c', "WS1", "dave", 120),
        // 13-15: erin, in order but over 301 s.
        recon('a', "WS1", "erin", 0),
        recon('b', "WS1", "erin", 200),
        recon('c', "WS1", "erin", 301),
    ];
    let fired = correlate(&set, &ev);
    let got: Vec<_> = fired.iter().map(|f| (f.group.clone(), f.events.clone())).collect();
    assert_eq!(
        got,
        vec![
            (group(&[("ComputerName", "WS1"), ("User", "alice")]), vec![0, 1, 2]),
            (group(&[("ComputerName", "WS1"), ("User", "bob")]), vec![4, 5, 6]),
        ]
    );
    assert_eq!(fired[1].first, at(60));
}

/// A network connection with the fields the metric examples aggregate.
fn connection(ip: &str, user: &str, secs: i64, field: &str, bytes: u64) -> Event {
    event(
        SYSMON,
        3,
        "WS1",
        secs,
        &[("SourceIP", s(ip)), ("User", s(user)), ("DestinationPort", Value::UInt(443)), (field, Value::UInt(bytes))],
    )
}

fn web_rule(reference: &str) -> String {
    format!(
        r#"
title: Web access
name: {reference}
logsource:
    product: windows
    category: network_connection
detection:
    selection:
        DestinationPort: 443
    condition: selection
"#
    )
}

/// Value sum: `bytes_sent` summed per source and user over an hour must exceed 1,000,000.
#[test]
fn value_sum_example() {
    let Some(spec) = spec("value_sum_example") else { return };
    let set = example(&spec, "value_sum.yml", &web_rule("website_access"));
    let ev = vec![
        // 0-2: 400k + 400k + 300k within 40 minutes = 1.1M.
        connection("10.0.0.1", "alice", 0, "bytes_sent", 400_000),
        connection("10.0.0.1", "alice", 1200, "bytes_sent", 400_000),
        connection("10.0.0.1", "alice", 2400, "bytes_sent", 300_000),
        // 3-4: exactly 1,000,000 is not greater.
        connection("10.0.0.2", "alice", 0, "bytes_sent", 500_000),
        connection("10.0.0.2", "alice", 1800, "bytes_sent", 500_000),
        // 5-6: 1.2M, but 61 minutes apart.
        connection("10.0.0.3", "bob", 0, "bytes_sent", 600_000),
        connection("10.0.0.3", "bob", 3660, "bytes_sent", 600_000),
        // 7-8: 1.2M from one address by two users.
        connection("10.0.0.4", "bob", 0, "bytes_sent", 600_000),
        connection("10.0.0.4", "carol", 10, "bytes_sent", 600_000),
    ];
    let fired = correlate(&set, &ev);
    assert_eq!(fired.len(), 1, "{fired:#?}");
    assert_eq!(fired[0].group, group(&[("SourceIP", "10.0.0.1"), ("User", "alice")]));
    assert_eq!(fired[0].events, vec![0, 1, 2]);
    assert_eq!(fired[0].value, 1_100_000.0);
}

/// Value average: the average `BytesOut` per source and user over 24 hours must exceed 500.
#[test]
fn value_avg_example() {
    let Some(spec) = spec("value_avg_example") else { return };
    let set = example(&spec, "value_avg.yml", &web_rule("rule_a_id"));
    let ev = vec![
        // 0-2: 100, 200, 1500: the averages are 100, 150, then 600.
        connection("10.0.0.1", "alice", 0, "BytesOut", 100),
        connection("10.0.0.1", "alice", 3600, "BytesOut", 200),
        connection("10.0.0.1", "alice", 7200, "BytesOut", 1500),
        // 3-4: an average of exactly 500.
        connection("10.0.0.2", "alice", 0, "BytesOut", 400),
        connection("10.0.0.2", "alice", 60, "BytesOut", 600),
        // 5-6: 300 then 600: 450 on average, though 600 alone would exceed 500.
        connection("10.0.0.3", "bob", 0, "BytesOut", 300),
        connection("10.0.0.3", "bob", 3600, "BytesOut", 600),
    ];
    let fired = correlate(&set, &ev);
    assert_eq!(fired.len(), 1, "{fired:#?}");
    assert_eq!(fired[0].group, group(&[("SourceIP", "10.0.0.1"), ("User", "alice")]));
    assert_eq!(fired[0].events, vec![0, 1, 2]);
    assert_eq!(fired[0].value, 600.0);

    // More than 24 hours after bob's others, a 600 is alone in its window.
    let mut later = ev.clone();
    later.push(connection("10.0.0.3", "bob", 26 * 3600, "BytesOut", 600));
    let fired = correlate(&set, &later);
    assert_eq!(fired.len(), 2);
    assert_eq!((fired[1].events.clone(), fired[1].value), (vec![7], 600.0));
}

/// Value percentile, read as the example's title puts it: a computer started a process whose
/// name makes up at most 1% of the processes it started in the last 24 hours.
#[test]
fn value_percentile_example() {
    let Some(spec) = spec("value_percentile_example") else { return };
    let rule = r#"
title: Process creation
name: process_creation
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '.exe'
    condition: selection
"#;
    let set = example(&spec, "value_percentile.yml", rule);
    let svchost = r"C:\Windows\System32\svchost.exe";
    let rare = r"C:\Users\Public\rare.exe";
    let sysmon = |host: &str, image: &str, secs| event(SYSMON, 1, host, secs, &[("Image", s(image))]);
    // Security 4688 names the image `NewProcessName`; under process_creation it is `Image`.
    let security = |host: &str, image: &str, secs| event(SECURITY, 4688, host, secs, &[("NewProcessName", s(image))]);
    let mut ev = Vec::new();
    // HOST-A: 99 svchost.exe, then rare.exe: 1 of 100 = 1%.
    for k in 0..99 {
        ev.push(sysmon("HOST-A", svchost, k * 60));
    }
    ev.push(sysmon("HOST-A", rare, 99 * 60));
    // HOST-B: 98 svchost.exe, then rare.exe: 1 of 99, just over 1%.
    for k in 0..98 {
        ev.push(sysmon("HOST-B", svchost, k * 60));
    }
    ev.push(sysmon("HOST-B", rare, 98 * 60));
    // HOST-C: as HOST-A, from the Security log.
    let host_c = ev.len();
    for k in 0..99 {
        ev.push(security("HOST-C", svchost, k * 60));
    }
    ev.push(security("HOST-C", rare, 99 * 60));
    // HOST-D: 99 svchost.exe, and rare.exe 25 hours later: alone in its window.
    for k in 0..99 {
        ev.push(sysmon("HOST-D", svchost, k * 60));
    }
    ev.push(sysmon("HOST-D", rare, 25 * 3600));
    let fired = correlate(&set, &ev);
    let got: Vec<_> = fired.iter().map(|f| (f.group.clone(), f.events.clone(), f.value)).collect();
    assert_eq!(
        got,
        vec![
            (group(&[("ComputerName", "HOST-A")]), span(0, 100), 1.0),
            (group(&[("ComputerName", "HOST-C")]), span(host_c, host_c + 100), 1.0),
        ]
    );
}

/// `generate: true` keeps the referenced rules' own alerts; without it they only feed the
/// correlation. A rule no correlation uses is never suppressed.
#[test]
fn generate_controls_base_rule_output() {
    let rules = r#"
title: Failed logon
name: failed
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
---
title: Logon
name: logon
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4624
    condition: selection
---
title: Explicit logon
name: explicit
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4648
    condition: selection
---
title: Many failures
correlation:
    type: event_count
    rules:
        - failed
    group-by:
        - TargetUserName
    timespan: 10m
    condition:
        gte: 5
---
title: Many logons
correlation:
    type: event_count
    rules:
        - logon
    group-by:
        - TargetUserName
    timespan: 10m
    condition:
        gte: 5
generate: true
"#;
    let set = load(&[Source::Text { name: "generate.yml", text: rules }]);
    let suppressed = |name: &str| set.rules[set.rule_index(name).unwrap()].suppressed;
    assert!(suppressed("failed"));
    assert!(!suppressed("logon"));
    assert!(!suppressed("explicit"));
    // Neither correlation feeds another: both report their alerts.
    assert!(!set.correlation_suppressed(0) && !set.correlation_suppressed(1));
}

/// Field name aliases: the specification's example, where `internal_ip` is the destination of
/// an HTTP 500 and the source of a new connection (and `remote_ip` the other way round), within
/// 10 seconds. The example's rules show only their detections; a logsource is added to load them.
#[test]
fn aliases_example() {
    let Some(spec) = spec("aliases_example") else { return };
    let md = read(&spec.join("specification/sigma-correlation-rules-specification.md"));
    let logsource = "logsource:\n    product: windows\n";
    let internal_error = format!("title: Internal error\n{}{logsource}", block_with(&md, &["name: internal_error", "detection:"]));
    let connection = format!("title: New connection\n{}{logsource}", block_with(&md, &["name: new_network_connection", "detection:"]));
    let correlation = block_with(&md, &["aliases:", "internal_ip:", "correlation:"]);
    let set = load(&[
        Source::Text { name: "internal_error.yml", text: &internal_error },
        Source::Text { name: "new_network_connection.yml", text: &connection },
        Source::Text { name: "aliases.yml", text: &correlation },
    ]);
    let http = |src: &str, dst: &str, secs| {
        event(
            "Application",
            1,
            "WEB1",
            secs,
            &[("http.response.status_code", Value::UInt(500)), ("source.ip", s(src)), ("destination.ip", s(dst))],
        )
    };
    let conn = |src: &str, dst: &str, secs| {
        event(
            "Application",
            2,
            "WEB1",
            secs,
            &[
                ("event.category", s("network")),
                ("event.type", s("connection")),
                ("event.outcome", s("success")),
                ("source.ip", s(src)),
                ("destination.ip", s(dst)),
            ],
        )
    };
    let ev = vec![
        // 0-1: the error reaches 10.0.0.5 from 203.0.113.7; 4 s later 10.0.0.5 connects back.
        http("203.0.113.7", "10.0.0.5", 0),
        conn("10.0.0.5", "203.0.113.7", 4),
        // 2-3: the connection goes the same way as the error: the addresses swap roles.
        http("203.0.113.8", "10.0.0.6", 100),
        conn("203.0.113.8", "10.0.0.6", 102),
        // 4-5: another internal host connects back.
        http("203.0.113.9", "10.0.0.7", 200),
        conn("10.0.0.99", "203.0.113.9", 201),
        // 6-7: 11 seconds later.
        http("203.0.113.10", "10.0.0.8", 300),
        conn("10.0.0.8", "203.0.113.10", 311),
    ];
    let fired = correlate(&set, &ev);
    assert_eq!(fired.len(), 1, "{fired:#?}");
    assert_eq!(fired[0].group, group(&[("internal_ip", "10.0.0.5"), ("remote_ip", "203.0.113.7")]));
    assert_eq!(fired[0].events, vec![0, 1]);
}

/// The specification's complete example: at least 10 failed logons of a user within 10 minutes
/// (an event_count correlation), followed within 10 minutes by a successful logon of that user
/// (a temporal_ordered correlation over the first one and a rule).
#[test]
fn chained_failed_then_successful_logon() {
    let Some(spec) = spec("chained_failed_then_successful_logon") else { return };
    let md = read(&spec.join("specification/sigma-correlation-rules-specification.md"));
    let text = block_with(&md, &["multiple_failed_login", "successful_login", "---"]);
    let set = load(&[Source::Text { name: "brute_force.yml", text: &text }]);
    assert_eq!((set.rules.len(), set.correlations.len()), (2, 2));
    assert!(set.rules.iter().all(|r| r.suppressed), "the base rules only feed the correlations");
    let inner = set.correlation_index("multiple_failed_login").unwrap();
    let outer = set.correlation_index("b180ead8-d58f-40b2-ae54-c8940995b9b6").unwrap();
    assert!(set.correlation_suppressed(inner) && !set.correlation_suppressed(outer));

    let fail = |user: &str, secs| event(SECURITY, 4625, "DC01", secs, &[("User", s(user))]);
    let ok = |user: &str, secs| event(SECURITY, 4624, "DC01", secs, &[("User", s(user))]);
    let mut ev = Vec::new();
    // 0-10: alice fails ten times in nine minutes and logs on three minutes later.
    for k in 0..10 {
        ev.push(fail("alice", k * 60));
    }
    ev.push(ok("alice", 12 * 60));
    // 11-20: bob fails nine times, then logs on.
    for k in 0..9 {
        ev.push(fail("bob", k * 60));
    }
    ev.push(ok("bob", 10 * 60));
    // 21-31: carol logs on, then fails ten times.
    ev.push(ok("carol", 0));
    for k in 1..=10 {
        ev.push(fail("carol", k * 60));
    }
    // 32-42: dave fails ten times and logs on eleven minutes after the tenth failure.
    for k in 0..10 {
        ev.push(fail("dave", k * 60));
    }
    ev.push(ok("dave", 20 * 60));
    // 43-53: erin fails ten times; the logon that follows is frank's.
    for k in 0..10 {
        ev.push(fail("erin", k * 60));
    }
    ev.push(ok("frank", 10 * 60 + 30));

    let fired = correlate(&set, &ev);
    assert_eq!(fired.len(), 1, "{fired:#?}");
    assert_eq!(fired[0].correlation, "Correlation - Multiple Failed Logins Followed by Successful Login");
    assert_eq!(fired[0].group, group(&[("User", "alice")]));
    assert_eq!(fired[0].events, span(0, 11));
    assert_eq!((fired[0].first, fired[0].last), (at(9 * 60), at(12 * 60)));

    // The intermediate correlation fired for everyone with ten failures in ten minutes.
    let all = correlate_all(&set, &ev);
    let mut inner_hits: Vec<_> =
        all.iter().filter(|f| f.correlation == "Multiple failed logons").map(|f| (f.group["User"].clone(), f.events.clone())).collect();
    inner_hits.sort();
    assert_eq!(
        inner_hits,
        vec![
            ("alice".to_string(), span(0, 10)),
            ("carol".to_string(), span(22, 32)),
            ("dave".to_string(), span(32, 42)),
            ("erin".to_string(), span(43, 53)),
        ]
    );
    assert_eq!(all.len(), 5);
}

/// Broken correlations are reported with file and line; everything else in the file loads.
#[test]
fn bad_correlations_are_reported_and_the_rest_loads() {
    let text = "\
title: Failed logon
name: failed
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
---
title: Unknown type
correlation:
    type: event_sum
    rules:
        - failed
    group-by:
        - User
    timespan: 1h
    condition:
        gte: 3
---
title: No timespan
correlation:
    type: event_count
    rules:
        - failed
    group-by:
        - User
    condition:
        gte: 3
---
title: Unknown rule
correlation:
    type: temporal
    rules:
        - failed
        - no_such_rule
    group-by:
        - User
    timespan: 5m
---
title: Fine
correlation:
    type: event_count
    rules:
        - failed
    group-by:
        - User
    timespan: 1h
    condition:
        gte: 3
";
    let set = RuleSet::load(&[Source::Text { name: "mixed.yml", text }], None);
    let mut errors: Vec<(String, Option<usize>, String)> =
        set.errors.iter().map(|e| (e.path.display().to_string(), e.line, e.message.clone())).collect();
    errors.sort_by_key(|e| e.1);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    // Lines: `type: event_sum` is line 13, the third document's `correlation:` line 23, and the
    // fourth document starts on line 32.
    let lines: Vec<Option<usize>> = errors.iter().map(|e| e.1).collect();
    assert_eq!(lines, vec![Some(13), Some(23), Some(32)]);
    assert!(errors.iter().all(|e| e.0 == "mixed.yml"));
    assert!(errors[0].2.contains("event_sum"), "{}", errors[0].2);
    assert!(errors[1].2.contains("timespan"), "{}", errors[1].2);
    assert!(errors[2].2.contains("no_such_rule"), "{}", errors[2].2);
    assert_eq!(set.rules.len(), 1);
    let titles: Vec<&str> = set.correlations.iter().map(|c| c.meta.title.as_str()).collect();
    assert_eq!(titles, vec!["Fine"]);

    let ev: Vec<Event> = (0..3).map(|k| event(SECURITY, 4625, "DC01", k, &[("User", s("alice"))])).collect();
    let fired = correlate(&set, &ev);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].events, vec![0, 1, 2]);
}
