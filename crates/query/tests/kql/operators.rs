//! Scalar operators: comparison, the string operators with KQL's case rules and `has`'s
//! whole-term matching, in / in~, between, matches regex, logic.

use super::common::*;

fn hosts(e: &taskhunt_query::Engine, filter: &str) -> Vec<String> {
    run(e, &format!("Events | where {filter} | project Pid")).sorted("Pid")
}

#[test]
fn equality_is_case_sensitive_and_tilde_is_not() {
    let e = small();
    assert_eq!(hosts(&e, r#"Host == "ws2""#), strs(&["400"]));
    assert_eq!(hosts(&e, r#"Host =~ "WS2""#), strs(&["300", "400"]));
    assert_eq!(hosts(&e, r#"Host != "WS1""#), strs(&["300", "400", "null"]));
    assert_eq!(hosts(&e, r#"Host !~ "ws2""#), strs(&["100", "200", "null"]));
    assert_eq!(value(&e, r#""ABC" == "abc""#), "false");
    assert_eq!(value(&e, r#""ABC" =~ "abc""#), "true");
    assert_eq!(value(&e, r#""ABC" != "abc""#), "true");
    assert_eq!(value(&e, r#""ABC" !~ "abc""#), "false");
}

#[test]
fn missing_text_is_empty_not_null() {
    let e = small();
    // KQL strings are never null: the missing user is "" and is found by == "" and isempty.
    assert_eq!(hosts(&e, r#"User == """#), strs(&["400"]));
    assert_eq!(hosts(&e, "isempty(User)"), strs(&["400"]));
    assert_eq!(hosts(&e, "isnull(User)"), Vec::<String>::new());
    // ... and a negated operator keeps the row whose text is missing.
    assert_eq!(hosts(&e, r#"Cmd !contains ".exe""#), strs(&["null"]));
    assert_eq!(hosts(&e, "isnull(Pid)"), strs(&["null"]));
}

#[test]
fn contains_startswith_endswith() {
    let e = small();
    assert_eq!(hosts(&e, r#"Cmd contains "ENCODED""#), strs(&["100"]));
    assert_eq!(hosts(&e, r#"Cmd contains_cs "ENCODED""#), Vec::<String>::new());
    assert_eq!(hosts(&e, r#"Cmd contains_cs "Encoded""#), strs(&["100"]));
    assert_eq!(hosts(&e, r#"Cmd !contains "exe""#), strs(&["null"]));
    assert_eq!(hosts(&e, r#"Cmd !contains_cs "EXE""#), strs(&["100", "200", "300", "400", "null"]));
    assert_eq!(hosts(&e, r#"Cmd startswith "CMD.""#), strs(&["200"]));
    assert_eq!(hosts(&e, r#"Cmd startswith_cs "CMD.""#), Vec::<String>::new());
    assert_eq!(hosts(&e, r#"Cmd endswith "UPDATER""#), strs(&["300"]));
    assert_eq!(hosts(&e, r#"Cmd !endswith "updater""#), strs(&["100", "200", "400", "null"]));
    assert_eq!(value(&e, r#""Hello World" contains "O W""#), "true");
}

#[test]
fn has_matches_whole_terms() {
    let e = small();
    assert_eq!(hosts(&e, r#"Cmd has "whoami""#), strs(&["200"]));
    assert_eq!(hosts(&e, r#"Cmd has "WHOAMI""#), strs(&["200"]));
    // A part of a term is not a term.
    assert_eq!(hosts(&e, r#"Cmd has "who""#), Vec::<String>::new());
    assert_eq!(hosts(&e, r#"Cmd has "schtasks.exe""#), strs(&["300"]));
    assert_eq!(hosts(&e, r#"Cmd has "System32""#), strs(&["300"]));
    assert_eq!(hosts(&e, r#"Cmd has_cs "system32""#), Vec::<String>::new());
    assert_eq!(hosts(&e, r#"Cmd has_cs "System32""#), strs(&["300"]));
    // "exe" is a term of every command line but the missing one.
    assert_eq!(hosts(&e, r#"Cmd !has "exe""#), strs(&["null"]));
    assert_eq!(hosts(&e, r#"Cmd hasprefix "Encoded""#), strs(&["100"]));
    assert_eq!(hosts(&e, r#"Cmd hasprefix "ncoded""#), Vec::<String>::new());
    assert_eq!(hosts(&e, r#"Cmd hassuffix "command""#), strs(&["100"]));
    assert_eq!(hosts(&e, r#"Cmd hassuffix "comman""#), Vec::<String>::new());
    assert_eq!(value(&e, r#""the cmdx ran" has "cmd""#), "false");
    assert_eq!(value(&e, r#""the cmd ran" has "CMD""#), "true");
}

#[test]
fn has_any_and_has_all() {
    let e = small();
    assert_eq!(hosts(&e, r#"Cmd has_any ("whoami", "rundll32.exe", "nothing")"#), strs(&["200", "400"]));
    assert_eq!(hosts(&e, r#"Cmd has_any (dynamic(["WHOAMI"]))"#), strs(&["200"]));
    assert_eq!(hosts(&e, r#"Cmd has_all ("cmd.exe", "whoami")"#), strs(&["200"]));
    assert_eq!(hosts(&e, r#"Cmd has_all ("cmd.exe", "who")"#), Vec::<String>::new());
    let q = r#"let lolbins = dynamic(["rundll32.exe", "schtasks.exe"]); Events | where Cmd has_any (lolbins) | project Pid"#;
    assert_eq!(run(&e, q).sorted("Pid"), strs(&["300", "400"]));
}

#[test]
fn in_and_case_insensitive_in() {
    let e = small();
    assert_eq!(hosts(&e, r#"Host in ("WS1", "WS3")"#), strs(&["100", "200", "null"]));
    assert_eq!(hosts(&e, r#"Host in ("ws1")"#), Vec::<String>::new());
    assert_eq!(hosts(&e, r#"Host in~ ("ws1")"#), strs(&["100", "200"]));
    assert_eq!(hosts(&e, r#"Host !in ("WS1", "WS2")"#), strs(&["400", "null"]));
    assert_eq!(hosts(&e, r#"Host !in~ ("WS1", "WS2")"#), strs(&["null"]));
    assert_eq!(hosts(&e, "Pid in (100, 300)"), strs(&["100", "300"]));
    assert_eq!(hosts(&e, r#"Host in (dynamic(["WS2", "WS3"]))"#), strs(&["300", "null"]));
    // A tabular argument is a sub-query.
    assert_eq!(hosts(&e, "Host in (Hosts | where Tier > 1 | project Host)"), strs(&["300"]));
    assert_eq!(hosts(&e, "Host !in (Hosts | project Host)"), strs(&["400", "null"]));
    let q = "let owned = Hosts | project Host; Events | where Host in~ (owned) | project Pid";
    assert_eq!(run(&e, q).sorted("Pid"), strs(&["100", "200", "300", "400"]));
}

#[test]
fn between_is_inclusive() {
    let e = small();
    assert_eq!(hosts(&e, "Pid between (200 .. 300)"), strs(&["200", "300"]));
    assert_eq!(hosts(&e, "Pid !between (200 .. 300)"), strs(&["100", "400"]));
    assert_eq!(hosts(&e, "Timestamp between (datetime(2024-01-01 00:50) .. datetime(2024-01-01 01:05))"), strs(&["200", "300"]));
    // datetime .. timespan means start .. start + span.
    assert_eq!(hosts(&e, "Timestamp between (datetime(2024-01-01 00:30) .. 1h)"), strs(&["200", "300"]));
    assert_eq!(hosts(&e, "Score between (1.5 .. 2.5)"), strs(&["100", "200"]));
}

#[test]
fn regex_logic_and_comparisons() {
    let e = small();
    assert_eq!(hosts(&e, r#"Cmd matches regex @"^[a-z]+\.exe /c""#), strs(&["200"]));
    assert_eq!(hosts(&e, r#"Cmd matches regex "(?i)^CMD""#), strs(&["200"]));
    assert_eq!(hosts(&e, r#"Host == "WS1" and Score > 2"#), strs(&["200"]));
    assert_eq!(hosts(&e, r#"Host == "WS3" or Pid >= 400"#), strs(&["400", "null"]));
    assert_eq!(hosts(&e, "not(Pid < 300)"), strs(&["300", "400"]));
    assert_eq!(hosts(&e, "Pid <= 200 and Pid > 100"), strs(&["200"]));
    assert_eq!(hosts(&e, "Pid <> 100 and Pid != 200"), strs(&["300", "400"]));
    assert_eq!(hosts(&e, "Timestamp > datetime(2024-01-01 01:00)"), strs(&["300", "400", "null"]));
    assert_eq!(hosts(&e, "Timestamp > ago(13h)"), strs(&["null"]));
    assert_eq!(hosts(&e, "Timestamp > ago(12h)"), Vec::<String>::new());
    assert_eq!(hosts(&e, "Timestamp < now() - 1d"), strs(&["100", "200", "300", "400"]));
}

#[test]
fn arithmetic_and_timespans() {
    let e = small();
    assert_eq!(value(&e, "7 / 2"), "3");
    assert_eq!(value(&e, "7.0 / 2"), "3.5");
    assert_eq!(value(&e, "7 % 4"), "3");
    assert_eq!(value(&e, "1 / 0"), "null");
    assert_eq!(value(&e, "1d == 24h and 2h == 120m and 30m == 1800s and 10s == 10000ms"), "true");
    assert_eq!(value(&e, "datetime(2024-01-01) + 1d + 2h + 30m + 10s"), "2024-01-02T02:30:10Z");
    assert_eq!(value(&e, "(datetime(2024-01-01 12:00) - datetime(2024-01-01)) / 1h"), "12.0");
    assert_eq!(value(&e, "tostring(2 * 90m)"), "03:00:00");
    assert_eq!(value(&e, "tostring(1d + 1.5s)"), "1.00:00:01.5000000");
    assert_eq!(value(&e, "-(5 - 8)"), "3");
    let q = "Events | where Timestamp - datetime(2024-01-01) < 1h | project Pid";
    assert_eq!(run(&e, q).sorted("Pid"), strs(&["100", "200"]));
}
