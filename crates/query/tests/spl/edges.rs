//! Edge semantics the other files leave open, on the fixture of spl.rs (records 1-8, newest
//! first: 8 7 6 5 4 3 2 1). Each expectation is worked out by hand from the Splunk
//! documentation:
//!
//! | id | time  | Computer | EventCode | CommandLine                              | User  | LogonType |
//! | 1  | 10:00 | HOST-A   | 1         | rundll32.exe shell32.dll,Control_RunDLL  | alice |           |
//! | 2  | 10:01 | HOST-A   | 1         | cmd /c whoami                            | alice |           |
//! | 3  | 10:02 | HOST-B   | 1         |                                          | bob   |           |
//! | 4  | 10:03 | HOST-B   | 4624      |                                          | bob   | 3         |
//! | 5  | 10:04 | HOST-B   | 4624      |                                          | carol | 10        |
//! | 6  | 10:10 | HOST-A   | 4624      |                                          | alice | 2         |
//! | 7  | 11:00 | host-c   | 1         | notepad.exe rundll32 payload             | dave  |           |
//! | 8  | 11:30 | host-c   | 4688      | svchost.exe -k netsvcs                   |       |           |

use super::{fixture, ids, rows, run};

/// `eval x=<expr>` on record 1, as text.
fn one(expr: &str) -> String {
    let e = fixture();
    let out = run(&e, &format!("EventRecordID=1 | eval x={expr} | table x"));
    assert_eq!(out.rows.len(), 1, "{expr}");
    out.rows[0][0].clone()
}

/// A cell read as a number, for results whose text form (3 or 3.0) Splunk leaves to display.
fn num(cell: &str) -> f64 {
    cell.parse().unwrap_or_else(|_| panic!("not a number: {cell}"))
}

#[test]
fn search_terms_values_and_booleans() {
    let e = fixture();
    // Values match in any case, phrases too.
    assert_eq!(ids(&e, "User=ALICE"), [6, 2, 1]);
    assert_eq!(ids(&e, "Computer=HOST-*"), [8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(ids(&e, "CommandLine=\"*WHOAMI\""), [2]);
    assert_eq!(ids(&e, "\"CMD /C WHOAMI\""), [2]);
    assert_eq!(ids(&e, "EventCode=1 AND User=bob"), [3]);
    assert_eq!(ids(&e, "EventCode=1 User=bob OR User=dave"), [7, 3]);
    assert_eq!(ids(&e, "EventCode!=1"), [8, 6, 5, 4]);
    assert_eq!(ids(&e, "NOT EventRecordID>2"), [2, 1]);
    assert_eq!(ids(&e, "EventRecordID>=7"), [8, 7]);
    assert_eq!(ids(&e, "User IN (ALICE, dave)"), [7, 6, 2, 1]);
    assert_eq!(ids(&e, "source=a.evtx User=alice EventCode=1"), [2, 1]);
    // A bare term is a word, in any case: "whoami" is in record 2 only; rundll32 is a word
    // of records 1, 3 and 7, and NOT drops alice's record 1.
    assert_eq!(ids(&e, "WHOAMI"), [2]);
    assert_eq!(ids(&e, "rundll32 NOT alice"), [7, 3]);
}

#[test]
fn where_and_eval_edges() {
    let e = fixture();
    // A comparison with a missing field is not true: record 8 (no User) is dropped by !=.
    assert_eq!(ids(&e, "* | where User!=\"alice\""), [7, 5, 4, 3]);
    assert_eq!(ids(&e, "* | where isnotnull(LogonType) AND LogonType<5"), [6, 4]);
    // like: % is any run, _ exactly one character; match() is a regex search, not anchored.
    assert_eq!(one("like(User, \"a_ice\")"), "true");
    assert_eq!(one("like(User, \"a_ce\")"), "false");
    assert_eq!(one("like(User, \"%ic%\")"), "true");
    assert_eq!(one("match(User, \"lic\")"), "true");
    assert_eq!(one("match(User, \"^lic\")"), "false");
    assert_eq!(one("if(EventCode=1, \"proc\", \"other\")"), "proc");
    assert_eq!(one("if(EventCode=4624, \"logon\", \"other\")"), "other");
    assert_eq!(one("case(EventCode=4624, \"logon\", EventCode=4688, \"proc\", 1=1, \"else\")"), "else");
    assert_eq!(one("upper(Image)"), r"C:\WINDOWS\SYSTEM32\RUNDLL32.EXE");
    assert_eq!(one("lower(Missing)"), "∅");
    assert_eq!(one("len(\"\")"), "0");
    assert_eq!(one("substr(User, 1, 1)"), "a");
    assert_eq!(one("replace(User, \"x\", \"y\")"), "alice");
    assert_eq!(one("replace(User, \"[aeiou]\", \"\")"), "lc");
    assert_eq!(one("coalesce(Missing, LogonType, \"none\")"), "none");
    assert_eq!(num(&one("tonumber(\"12\") + 1")), 13.0);
    assert_eq!(num(&one("tonumber(\"-2.5\")")), -2.5);
    // Spaces around the number make tonumber() NULL; trim() first (Splunk's reference).
    assert_eq!(one("tonumber(\" 12 \")"), "∅");
    assert_eq!(num(&one("tonumber(trim(\" 12 \"))")), 12.0);
    // `+` joins text when an operand is text by construction (the reference's examples).
    assert_eq!(one("substr(\"string\", 1, 3) + substr(\"string\", -3)"), "string");
    assert_eq!(one("tostring(1==1) + \" \" + tostring(15, \"hex\") + \" \" + tostring(12345.6789, \"commas\")"), "True 0xF 12,345.68");
    assert_eq!(one("lower(User) + upper(User)"), "aliceALICE");
    assert_eq!(one("tostring(EventCode) . \"x\""), "1x");
    // tostring of a Boolean is "True" or "False"; the reference's own example (with `.`).
    assert_eq!(one("tostring(EventCode=1)"), "True");
    assert_eq!(one("tostring(User=\"bob\")"), "False");
    assert_eq!(one("tostring(1==1) . \" \" . tostring(15, \"hex\") . \" \" . tostring(12345.6789, \"commas\")"), "True 0xF 12,345.68");
    assert_eq!(one("strftime(_time, \"%H:%M\")"), "10:00");
    assert_eq!(one("strftime(_time, \"%d/%m/%Y\")"), "10/01/2024");
    // The same functions per event.
    let out =
        run(&e, "EventCode=4624 | eval t=tonumber(LogonType)*2, k=if(LogonType=\"10\", \"remote\", \"other\") | table EventRecordID t k");
    assert_eq!(out.col("EventRecordID"), ["6", "5", "4"]);
    assert_eq!(out.col("t").iter().map(|c| num(c)).collect::<Vec<_>>(), [4.0, 20.0, 6.0]);
    assert_eq!(out.col("k"), ["other", "remote", "other"]);
}

#[test]
fn stats_by_several_fields_and_each_function_per_group() {
    let e = fixture();
    // Only records 4, 5 and 6 have a LogonType: the others are dropped, by any of the fields.
    let out = run(&e, "* | stats count by Computer, LogonType");
    assert_eq!(out.columns, ["Computer", "LogonType", "count"]);
    assert_eq!(rows(&out), vec![vec!["HOST-A", "2", "1"], vec!["HOST-B", "10", "1"], vec!["HOST-B", "3", "1"]]);
    // count(field) counts events that have the field: record 8 has no User.
    let out = run(&e, "* | stats count(User) as n, dc(EventCode) as d by Computer");
    assert_eq!(rows(&out), vec![vec!["HOST-A", "3", "2"], vec!["HOST-B", "3", "2"], vec!["host-c", "1", "2"]]);
    // Record ids per computer: HOST-A 1 2 6, HOST-B 3 4 5, host-c 7 8.
    let out = run(
        &e,
        "* | stats min(EventRecordID) as lo, max(EventRecordID) as hi, sum(EventRecordID) as s, avg(EventRecordID) as a by Computer",
    );
    let got: Vec<Vec<f64>> = out.rows.iter().map(|r| r[1..].iter().map(|c| num(c)).collect()).collect();
    assert_eq!(out.col("Computer"), ["HOST-A", "HOST-B", "host-c"]);
    assert_eq!(got, vec![vec![1.0, 6.0, 9.0, 3.0], vec![3.0, 5.0, 12.0, 4.0], vec![7.0, 8.0, 15.0, 7.5]]);
    // earliest/latest by _time, skipping events without the field; HOST-B has no command line.
    let out = run(&e, "* | stats earliest(CommandLine) as first_cmd, latest(CommandLine) as last_cmd by Computer");
    assert_eq!(
        rows(&out),
        vec![
            vec!["HOST-A", "rundll32.exe shell32.dll,Control_RunDLL", "cmd /c whoami"],
            vec!["HOST-B", "∅", "∅"],
            vec!["host-c", "notepad.exe rundll32 payload", "svchost.exe -k netsvcs"],
        ]
    );
    // values: distinct and sorted; list: every value in event order (newest first).
    let out = run(&e, "* | stats values(EventCode) as codes, list(User) as users by Computer");
    assert_eq!(
        rows(&out),
        vec![
            vec!["HOST-A", "[1, 4624]", "[alice, alice, alice]"],
            vec!["HOST-B", "[1, 4624]", "[carol, bob, bob]"],
            vec!["host-c", "[1, 4688]", "[dave]"],
        ]
    );
}

#[test]
fn sort_head_tail_dedup_edges() {
    let e = fixture();
    // Text sorts as text; events without the field sort last in either direction; equal
    // values keep their event order.
    assert_eq!(ids(&e, "* | sort User"), [6, 2, 1, 4, 3, 5, 7, 8]);
    assert_eq!(ids(&e, "* | sort -User"), [7, 5, 4, 3, 6, 2, 1, 8]);
    assert_eq!(ids(&e, "* | sort -EventCode, +EventRecordID"), [8, 4, 5, 6, 1, 2, 3, 7]);
    // head then tail: the first three are 8 7 6; the last of those is 6.
    assert_eq!(ids(&e, "* | head 3 | tail 1"), [6]);
    // tail's default is 10: all eight, last first.
    assert_eq!(ids(&e, "* | tail"), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(ids(&e, "EventCode=4624 | tail 2"), [4, 5]);
    // dedup keeps the first event of each value in the current order.
    assert_eq!(ids(&e, "* | dedup EventCode"), [8, 7, 6]);
    assert_eq!(ids(&e, "* | dedup User"), [7, 6, 5, 4]);
    assert_eq!(ids(&e, "* | sort EventRecordID | dedup Computer"), [1, 3, 7]);
}

#[test]
fn rex_top_rare_edges() {
    let e = fixture();
    // A new field from rex is missing where the regex does not match (or the field is missing).
    let out = run(&e, r#"* | rex field=CommandLine "^(?<first>\S+)\s" | table EventRecordID first"#);
    assert_eq!(out.col("first"), ["svchost.exe", "notepad.exe", "∅", "∅", "∅", "∅", "cmd", "rundll32.exe"]);
    // EventCode: 1 four times (50%), 4624 three times (37.5%), 4688 once (12.5%).
    let out = run(&e, "* | top EventCode");
    assert_eq!(out.col("EventCode"), ["1", "4624", "4688"]);
    assert_eq!(out.col("count"), ["4", "3", "1"]);
    assert_eq!(out.col("percent").iter().map(|c| num(c)).collect::<Vec<_>>(), [50.0, 37.5, 12.5]);
    let out = run(&e, "* | rare EventCode showperc=false");
    assert_eq!(rows(&out), vec![vec!["4688", "1"], vec!["4624", "3"], vec!["1", "4"]]);
}
