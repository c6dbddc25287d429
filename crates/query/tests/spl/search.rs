//! Search semantics on the fixture (see `fixture()` in spl.rs for the eight events). Results
//! are record ids in Splunk's order, newest first.

use super::{C, batch, engine, fixture, ids, run};

#[test]
fn field_values_match_case_insensitively_with_wildcards() {
    let e = fixture();
    // Records 1 (...\RUNDLL32.EXE) and 3 (...\rundll32.exe); not 7 (rundll32x.exe).
    assert_eq!(ids(&e, r#"Image="*rundll32.exe""#), [3, 1]);
    assert_eq!(ids(&e, r#"Image="*\\RunDll32.exe""#), [3, 1]);
    assert_eq!(ids(&e, "Image=*rundll32*"), [7, 3, 1]);
    assert_eq!(ids(&e, r"Image=C:\Windows\System32\cmd.exe"), [2]);
    // The whole value must match: no implicit substring.
    assert_eq!(ids(&e, "Image=rundll32.exe"), Vec::<i64>::new());
    // Field names are case-sensitive.
    assert_eq!(ids(&e, r#"image="*rundll32.exe""#), Vec::<i64>::new());
    // `field=*` means the field is present.
    assert_eq!(ids(&e, "CommandLine=*"), [8, 7, 2, 1]);
    assert_eq!(ids(&e, "EventCode=4624"), [6, 5, 4]);
    assert_eq!(ids(&e, "EventCode=46*"), [8, 6, 5, 4]);
    // LIKE's own characters are literal in SPL values.
    assert_eq!(ids(&e, "CommandLine=\"%\""), Vec::<i64>::new());
    assert_eq!(ids(&e, "User=a_ice"), Vec::<i64>::new());
}

#[test]
fn missing_fields_and_negation() {
    let e = fixture();
    // != needs the field: record 8 has no User.
    assert_eq!(ids(&e, "User!=alice"), [7, 5, 4, 3]);
    // NOT also keeps events without the field.
    assert_eq!(ids(&e, "NOT User=alice"), [8, 7, 5, 4, 3]);
    assert_eq!(ids(&e, "User IN (bob, \"CAROL\")"), [5, 4, 3]);
    assert_eq!(ids(&e, "NOT User IN (bob, carol, alice)"), [8, 7]);
    // A field no event has: nothing equals it, everything is NOT it.
    assert_eq!(ids(&e, "Nope=1"), Vec::<i64>::new());
    assert_eq!(ids(&e, "NOT Nope=1").len(), 8);
}

#[test]
fn comparisons_are_numeric_for_numbers() {
    let e = fixture();
    // LogonType is text ("3", "10", "2"): as text "10" < "2", as numbers 10 > 2.
    assert_eq!(ids(&e, "LogonType>2"), [5, 4]);
    assert_eq!(ids(&e, "LogonType<=2"), [6]);
    assert_eq!(ids(&e, "EventCode>=4624"), [8, 6, 5, 4]);
    assert_eq!(ids(&e, "EventRecordID<3"), [2, 1]);
    // A text value compares as text.
    assert_eq!(ids(&e, "User>c"), [7, 5]);
}

#[test]
fn bare_terms_match_words_in_any_field() {
    let e = fixture();
    // rundll32 is a whole word in records 1 (Image, CommandLine), 3 (Image) and 7
    // (CommandLine "notepad.exe rundll32 payload"; its Image rundll32x.exe would not match).
    assert_eq!(ids(&e, "rundll32"), [7, 3, 1]);
    assert_eq!(ids(&e, "RUNDLL32"), [7, 3, 1]);
    // `rundll` is no word of rundll32.exe, but `_` breaks words too (as in Splunk), so
    // record 1's "Control_RunDLL" holds it.
    assert_eq!(ids(&e, "rundll"), [1]);
    assert_eq!(ids(&e, "undll32"), Vec::<i64>::new());
    assert_eq!(ids(&e, "rundll*"), [7, 3, 1]);
    assert_eq!(ids(&e, "rundll32x"), [7]);
    assert_eq!(ids(&e, "\"shell32.dll,Control_RunDLL\""), [1]);
    assert_eq!(ids(&e, "\"-k netsvcs\""), [8]);
    // Numbers are searched as text too, but not the source file name.
    assert_eq!(ids(&e, "4688"), [8]);
    assert_eq!(ids(&e, "evtx"), Vec::<i64>::new());
    assert_eq!(ids(&e, "alice whoami"), [2]);
}

#[test]
fn boolean_precedence_is_splunks() {
    let e = fixture();
    // Splunk evaluates OR before the implicit AND: (bob OR alice) AND EventCode=1 → 1, 2, 3.
    // (With AND first it would be bob OR (alice AND 1), which adds record 4.)
    assert_eq!(ids(&e, "User=bob OR User=alice EventCode=1"), [3, 2, 1]);
    assert_eq!(ids(&e, "User=bob OR User=alice AND EventCode=1"), [3, 2, 1]);
    assert_eq!(ids(&e, "EventCode=1 (User=alice OR User=dave) NOT Image=*cmd.exe"), [7, 1]);
    assert_eq!(ids(&e, "NOT (EventCode=1 OR EventCode=4624)"), [8]);
    // Lowercase operators are plain words.
    assert_eq!(ids(&e, "User=bob or User=alice"), Vec::<i64>::new());
}

#[test]
fn host_source_and_time_bounds() {
    let e = fixture();
    assert_eq!(ids(&e, "host=host-a"), [6, 2, 1]);
    assert_eq!(ids(&e, "source=b.evtx"), [5, 4, 3]);
    // now is 12:00: earliest=-2h is 10:00 (inclusive), latest=-1h is 11:00 (exclusive).
    assert_eq!(ids(&e, "EventCode=1 earliest=-2h latest=-1h"), [3, 2, 1]);
    assert_eq!(ids(&e, "earliest=\"2024-01-10T11:00:00Z\""), [8, 7]);
    assert_eq!(ids(&e, "earliest=01/10/2024:10:05:00 latest=@h"), [8, 7, 6]);
    assert_eq!(ids(&e, "earliest=01/10/2024:10:05:00 latest=-1h@h"), [6]);
    assert_eq!(ids(&e, "latest=-7d@d"), Vec::<i64>::new());
}

#[test]
fn later_search_commands_filter_the_results() {
    let e = fixture();
    assert_eq!(ids(&e, "EventCode=1 | search User=alice"), [2, 1]);
    assert_eq!(ids(&e, "search EventCode=1 | search NOT rundll32"), [2]);
    // After stats, search sees the stats columns.
    let out = run(&e, "* | stats count by User | search count>1");
    assert_eq!(super::rows(&out), vec![vec!["alice", "3"], vec!["bob", "2"]]);
    // Multivalue fields match when any value does.
    let out = run(&e, "* | stats values(User) as users by Computer | search users=CAR*");
    assert_eq!(super::rows(&out), vec![vec!["HOST-B", "[bob, carol]"]]);
}

/// index/sourcetype choose among the raw tables; each test table holds one marker row.
#[test]
fn index_and_sourcetype_choose_tables() {
    let one = |t: &'static [&'static str], c: &'static [&'static str]| batch(vec![("which", C::S(t)), ("Channel", C::S(c))]);
    let e = engine(vec![
        ("main", one(&["main", "main-app"], &["Security", "Application"])),
        ("sysmon", one(&["sysmon"], &["Microsoft-Windows-Sysmon/Operational"])),
        ("security", one(&["security"], &["Security"])),
        ("other", one(&["other-app", "other-x"], &["Application", "X"])),
        ("DeviceProcessEvents", one(&["dpe"], &["∅"])),
    ]);
    // These tables have no _time, so no order: compare sorted.
    let which = |q: &str| {
        let mut w = run(&e, &format!("{q} | table which")).rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
        w.sort();
        w
    };
    assert_eq!(which("index=sysmon"), ["sysmon"]);
    assert_eq!(which("index=SYSMON"), ["sysmon"]);
    assert_eq!(which("index=wineventlog"), ["security"]);
    assert_eq!(which("index=security"), ["security"]);
    assert_eq!(which("sourcetype=WinEventLog:Security"), ["security"]);
    assert_eq!(which("sourcetype=\"XmlWinEventLog:Microsoft-Windows-Sysmon/Operational\""), ["sysmon"]);
    assert_eq!(which("source=\"WinEventLog:Security\""), ["security"]);
    assert_eq!(which("index=main sourcetype=WinEventLog:Security"), ["security"]);
    assert_eq!(which("sourcetype=WinEventLog:Application"), ["other-app"]);
    assert_eq!(which("index=* which=main"), ["main"]);
    assert_eq!(which("which=main*"), ["main", "main-app"]);
    assert_eq!(which("index=other"), ["other-app", "other-x"]);
    // Any other registered table by its exact name.
    assert_eq!(which("index=DeviceProcessEvents"), ["dpe"]);
}
