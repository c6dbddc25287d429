//! eval and where: every function, worked out by hand on fixture record 1
//! (Image C:\Windows\System32\RUNDLL32.EXE, CommandLine "rundll32.exe shell32.dll,Control_RunDLL",
//! User alice, no LogonType, EventCode 1, _time 2024-01-10T10:00:00Z) unless noted.

use super::{fixture, ids, rows, run};

/// `eval x=<expr>` on record 1, as text.
fn one(expr: &str) -> String {
    let e = fixture();
    let out = run(&e, &format!("EventRecordID=1 | eval x={expr} | table x"));
    assert_eq!(out.rows.len(), 1, "{expr}");
    out.rows[0][0].clone()
}

#[test]
fn text_functions() {
    assert_eq!(one("lower(Image)"), r"c:\windows\system32\rundll32.exe");
    assert_eq!(one("upper(User)"), "ALICE");
    assert_eq!(one("len(User)"), "5");
    assert_eq!(one("len(CommandLine)"), "39");
    assert_eq!(one("substr(User, 2, 3)"), "lic");
    assert_eq!(one("substr(User, -3)"), "ice");
    assert_eq!(one("substr(Image, 4)"), r"Windows\System32\RUNDLL32.EXE");
    assert_eq!(one("substr(User, 4, 10)"), "ce");
    assert_eq!(one(r#"replace(CommandLine, "(\w+)\.dll", "\1.DLL")"#), "rundll32.exe shell32.DLL,Control_RunDLL");
    assert_eq!(one(r#"replace(User, "l", "$")"#), "a$ice");
    assert_eq!(one("trim(\"  x  \")"), "x");
    assert_eq!(one("ltrim(\"xxy\", \"x\")"), "y");
    assert_eq!(one("EventRecordID . \"-\" . User"), "1-alice");
    assert_eq!(one("\"a\" + User"), "aalice");
    assert_eq!(one("len(Missing)"), "∅");
    assert_eq!(one("Missing . \"x\""), "∅");
}

#[test]
fn conditions_and_matching() {
    assert_eq!(one(r#"match(Image, "(?i)rundll32\.exe$")"#), "true");
    assert_eq!(one(r#"match(Image, "rundll32\.exe$")"#), "false");
    assert_eq!(one(r#"if(match(Image, "(?i)RUNDLL"), "yes", "no")"#), "yes");
    assert_eq!(one("like(User, \"al%\")"), "true");
    assert_eq!(one("like(User, \"AL%\")"), "false");
    assert_eq!(one("if(len(CommandLine) > 20, \"long\", \"short\")"), "long");
    assert_eq!(one("case(EventCode=4624, \"logon\", EventCode=1, \"proc\")"), "proc");
    assert_eq!(one("case(EventCode=4624, \"logon\")"), "∅");
    assert_eq!(one("case(EventCode=4624, \"logon\", true(), \"other\")"), "other");
    assert_eq!(one("coalesce(LogonType, User)"), "alice");
    assert_eq!(one("coalesce(LogonType, EventRecordID)"), "1");
    assert_eq!(one("isnull(LogonType)"), "true");
    assert_eq!(one("isnotnull(User)"), "true");
    assert_eq!(one("in(User, \"bob\", \"alice\")"), "true");
    assert_eq!(one("User IN (\"bob\", \"carol\")"), "false");
    assert_eq!(one("searchmatch(\"User=ALICE rundll32\")"), "true");
    assert_eq!(one("isnum(\"12\")"), "true");
    assert_eq!(one("isnum(User)"), "false");
    assert_eq!(one("isstr(User)"), "true");
    assert_eq!(one("if(isnull(null()), 1, 2)"), "1");
}

#[test]
fn numbers_and_times() {
    assert_eq!(one("EventRecordID * 10 + 1"), "11");
    assert_eq!(one("7 / 2"), "3.5");
    assert_eq!(one("7 % 3"), "1");
    assert_eq!(one("-EventRecordID - 1"), "-2");
    assert_eq!(one("EventRecordID / 0"), "∅");
    assert_eq!(one("EventRecordID % 0"), "∅");
    assert_eq!(one("abs(-3)"), "3");
    assert_eq!(one("round(2.567, 2)"), "2.57");
    assert_eq!(one("round(2.5)"), "3");
    assert_eq!(one("floor(2.7)"), "2");
    assert_eq!(one("ceil(2.1)"), "3");
    assert_eq!(one("tonumber(\"0x1F\", 16)"), "31");
    assert_eq!(one("tonumber(\"12.5\") * 2"), "25.0");
    assert_eq!(one("tonumber(\"abc\")"), "∅");
    assert_eq!(one("tostring(1234567, \"commas\")"), "1,234,567");
    // Upper-case hex digits, as in the Splunk reference (tostring(15, "hex") is 0xF).
    assert_eq!(one("tostring(255, \"hex\")"), "0xFF");
    assert_eq!(one("tostring(3725, \"duration\")"), "01:02:05");
    assert_eq!(one("tostring(90061, \"duration\")"), "1+01:01:01");
    assert_eq!(one("tostring(EventRecordID) . \"\""), "1");
    assert_eq!(one("tostring(2.50)"), "2.5");
    assert_eq!(one("strftime(_time, \"%Y-%m-%d %H:%M:%S\")"), "2024-01-10 10:00:00");
    // 2024-01-10T10:00:00Z is 1704880800 seconds after the epoch; the engine's now is 12:00.
    assert_eq!(one("strftime(_time, \"%s\")"), "1704880800");
    assert_eq!(one("strftime(1704880800.5, \"%H:%M:%S.%3N\")"), "10:00:00.500");
    assert_eq!(one("strptime(\"2024-01-10 10:00:00\", \"%Y-%m-%d %H:%M:%S\")"), "1704880800.0");
    assert_eq!(one("now()"), "1704888000");
    assert_eq!(one("now() - _time"), "7200.0");
    // A text field holding a number adds as a number (record 4's LogonType is "3").
    let e = fixture();
    assert_eq!(run(&e, "EventRecordID=4 | eval x=LogonType+1 | table x").rows, vec![vec!["4.0"]]);
}

#[test]
fn multivalue_functions() {
    let e = fixture();
    let out = run(&e, "* | stats values(User) as u by Computer | eval n=mvcount(u), j=mvjoin(u, \";\") | table Computer n j");
    assert_eq!(rows(&out), vec![vec!["HOST-A", "1", "alice"], vec!["HOST-B", "2", "bob;carol"], vec!["host-c", "1", "dave"]]);
}

#[test]
fn eval_assigns_in_order_and_overwrites() {
    let e = fixture();
    let out = run(&e, "EventRecordID<3 | eval a=EventRecordID*2, b=a+1, User=upper(User) | table EventRecordID a b User");
    assert_eq!(rows(&out), vec![vec!["2", "4", "5", "ALICE"], vec!["1", "2", "3", "ALICE"]]);
    let out = run(&e, "* | eval User=upper(User) | stats count by User");
    assert_eq!(rows(&out), vec![vec!["ALICE", "3"], vec!["BOB", "2"], vec!["CAROL", "1"], vec!["DAVE", "1"]]);
}

#[test]
fn where_conditions() {
    let e = fixture();
    assert_eq!(ids(&e, "* | where LogonType > 2"), [5, 4]);
    assert_eq!(ids(&e, "* | where LogonType=10"), [5]);
    assert_eq!(ids(&e, "* | where LogonType=\"10\""), [5]);
    // Eval comparisons are case-sensitive, unlike search.
    assert_eq!(ids(&e, "* | where User=\"Alice\""), Vec::<i64>::new());
    assert_eq!(ids(&e, "* | where User==\"alice\""), [6, 2, 1]);
    assert_eq!(ids(&e, "* | where like(Image, \"%rundll32%\")"), [7, 3]);
    assert_eq!(ids(&e, "* | where Image LIKE \"%RUNDLL32%\""), [1]);
    assert_eq!(ids(&e, "* | where _time >= \"2024-01-10T11:00:00Z\""), [8, 7]);
    assert_eq!(ids(&e, "* | where _time > now() - 3600"), [8]);
    assert_eq!(ids(&e, "* | where EventCode=4624 AND NOT User=\"bob\""), [6, 5]);
    assert_eq!(ids(&e, "* | where EventCode IN (1, 4688) AND isnull(CommandLine)"), [3]);
    assert_eq!(ids(&e, r#"* | where match(CommandLine, "^\S+\.exe")"#), [8, 7, 1]);
    // Exactly one side true; record 8 (no User) compares to null and is dropped.
    assert_eq!(ids(&e, "* | where EventCode=4624 XOR User=\"alice\""), [5, 4, 2, 1]);
    assert_eq!(ids(&e, "* | where Missing=1 OR EventRecordID=2"), [2]);
}
