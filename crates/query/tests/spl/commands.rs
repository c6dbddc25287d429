//! stats, top, rare, table, fields, rename, sort, head, tail, dedup, rex, xmlkv, transaction —
//! on the fixture (records 1-8, newest first: 8 7 6 5 4 3 2 1) and small task/logon tables.

use super::{C, batch, engine, fixture, ids, rows, run};

#[test]
fn stats_functions_and_names() {
    let e = fixture();
    let out = run(&e, "* | stats count");
    assert_eq!((out.columns.clone(), rows(&out)), (vec!["count".to_string()], vec![vec!["8"]]));
    // HOST-A: records 1, 2, 6; HOST-B: 3, 4, 5; host-c: 7, 8 (byte order puts upper case first).
    let out = run(&e, "* | stats count(CommandLine) as cmds, dc(User), values(User), list(EventRecordID) by Computer");
    assert_eq!(out.columns, ["Computer", "cmds", "dc(User)", "values(User)", "list(EventRecordID)"]);
    assert_eq!(
        rows(&out),
        vec![
            vec!["HOST-A", "2", "1", "[alice]", "[6, 2, 1]"],
            vec!["HOST-B", "0", "2", "[bob, carol]", "[5, 4, 3]"],
            vec!["host-c", "2", "1", "[dave]", "[8, 7]"],
        ]
    );
    // Events without the by-field are dropped: only records 4, 5, 6 have a LogonType.
    let out = run(&e, "* | stats count by LogonType");
    assert_eq!(rows(&out), vec![vec!["10", "1"], vec!["2", "1"], vec!["3", "1"]]);
    assert!(run(&e, "* | stats count by Nope").rows.is_empty());
    assert_eq!(rows(&run(&e, "* | stats count(Nope) dc(Nope)")), vec![vec!["0", "0"]]);
    // LogonType "3", "10", "2": numbers, so min/max/sum/avg are numeric.
    let out = run(&e, "* | stats min(LogonType) max(LogonType) sum(LogonType) avg(LogonType) range(EventCode)");
    assert_eq!(rows(&out), vec![vec!["2", "10", "15.0", "5.0", "4687"]]);
    // Text min/max are in text order.
    assert_eq!(
        rows(&run(&e, "* | stats min(User) max(User) min(EventCode) max(_time)")),
        vec![vec!["alice", "dave", "1", "2024-01-10T11:30:00Z"]]
    );
    // earliest/latest by time; first/last in event order (newest first); nulls skipped:
    // record 8 has no User, so latest and first are dave (record 7).
    let out = run(&e, "* | stats earliest(User) latest(User) first(User) last(User) first(EventRecordID)");
    assert_eq!(rows(&out), vec![vec!["alice", "dave", "dave", "alice", "8"]]);
    let out = run(&e, "* | stats median(EventRecordID) as m, stdev(EventRecordID) as sd");
    // 1..8: median 4.5, sample standard deviation sqrt(6) = 2.449489742783178.
    assert_eq!(rows(&out), vec![vec!["4.5", "2.449489742783178"]]);
}

#[test]
fn stats_by_a_multivalue_field_counts_each_value() {
    let e = fixture();
    // users: HOST-A [alice], HOST-B [bob, carol], host-c [dave].
    let out = run(&e, "* | stats values(User) as users by Computer | stats count by users");
    assert_eq!(rows(&out), vec![vec!["alice", "1"], vec!["bob", "1"], vec!["carol", "1"], vec!["dave", "1"]]);
}

#[test]
fn top_and_rare() {
    let e = fixture();
    // 7 events have a User: alice 3, bob 2, carol 1, dave 1.
    let out = run(&e, "* | top User");
    assert_eq!(out.columns, ["User", "count", "percent"]);
    assert_eq!(
        rows(&out),
        vec![
            vec!["alice", "3", "42.857143"],
            vec!["bob", "2", "28.571429"],
            vec!["carol", "1", "14.285714"],
            vec!["dave", "1", "14.285714"]
        ]
    );
    let out = run(&e, "* | top limit=1 User by Computer");
    assert_eq!(out.columns, ["Computer", "User", "count", "percent"]);
    assert_eq!(
        rows(&out),
        vec![vec!["HOST-A", "alice", "3", "100.0"], vec!["HOST-B", "bob", "2", "66.666667"], vec!["host-c", "dave", "1", "100.0"]]
    );
    let out = run(&e, "* | rare User countfield=n percentfield=p limit=3");
    assert_eq!(out.columns, ["User", "n", "p"]);
    assert_eq!(rows(&out), vec![vec!["carol", "1", "14.285714"], vec!["dave", "1", "14.285714"], vec!["bob", "2", "28.571429"]]);
    let out = run(&e, "* | top 2 Computer, User showperc=false");
    assert_eq!(rows(&out), vec![vec!["HOST-A", "alice", "3"], vec!["HOST-B", "bob", "2"]]);
}

#[test]
fn table_fields_and_rename() {
    let e = fixture();
    let out = run(&e, "EventCode=1 | table EventRecordID, Us* Nope");
    assert_eq!(out.columns, ["EventRecordID", "User", "Nope"]);
    assert_eq!(rows(&out), vec![vec!["7", "dave", "∅"], vec!["3", "bob", "∅"], vec!["2", "alice", "∅"], vec!["1", "alice", "∅"]]);
    // fields keeps _time, like Splunk.
    let out = run(&e, "* | fields User, Computer | head 1");
    assert_eq!(out.columns, ["_time", "User", "Computer"]);
    assert_eq!(rows(&out), vec![vec!["2024-01-10T11:30:00Z", "∅", "host-c"]]);
    let out = run(&e, "* | fields - _time source LogonType Image CommandLine");
    assert_eq!(out.columns, ["Computer", "EventCode", "User", "EventRecordID"]);
    let out = run(&e, "* | fields + Event* | head 1");
    assert_eq!(out.columns, ["_time", "EventCode", "EventRecordID"]);
    let out = run(&e, "* | rename User as Account, Event* as Ev* | head 1");
    assert_eq!(out.columns, ["_time", "Computer", "EvCode", "Image", "CommandLine", "Account", "LogonType", "source", "EvRecordID"]);
    // Renaming onto an existing field replaces it.
    let out = run(&e, "EventRecordID=7 | rename User as Computer | table Computer");
    assert_eq!(rows(&out), vec![vec!["dave"]]);
    let out = run(&e, "EventRecordID=7 | rename User as \"Account Name\" | table \"Account Name\"");
    assert_eq!(rows(&out), vec![vec!["dave"]]);
}

#[test]
fn sort_head_tail() {
    let e = fixture();
    // Numbers sort as numbers even in a text field; str() forces text order.
    assert_eq!(ids(&e, "EventCode=4624 | sort - LogonType"), [5, 4, 6]);
    assert_eq!(ids(&e, "EventCode=4624 | sort LogonType"), [6, 4, 5]);
    assert_eq!(ids(&e, "EventCode=4624 | sort str(LogonType)"), [5, 6, 4]);
    // Events missing the key sort last either way; ties keep the previous (event) order.
    assert_eq!(ids(&e, "* | sort -LogonType"), [5, 4, 6, 8, 7, 3, 2, 1]);
    assert_eq!(ids(&e, "* | sort Computer, -EventRecordID"), [6, 2, 1, 5, 4, 3, 8, 7]);
    assert_eq!(ids(&e, "* | sort 2 - EventRecordID"), [8, 7]);
    assert_eq!(ids(&e, "* | sort limit=3 +EventRecordID"), [1, 2, 3]);
    assert_eq!(ids(&e, "* | sort EventRecordID desc"), [8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(ids(&e, "* | head 2"), [8, 7]);
    assert_eq!(ids(&e, "* | head"), [8, 7, 6, 5, 4, 3, 2, 1]);
    // tail gives the last rows, last first.
    assert_eq!(ids(&e, "* | tail 2"), [1, 2]);
    assert_eq!(ids(&e, "* | sort EventRecordID | tail 3"), [8, 7, 6]);
    assert_eq!(ids(&e, "* | stats count by EventRecordID | head 2"), [1, 2]);
}

#[test]
fn dedup() {
    let e = fixture();
    let out = run(&e, "* | dedup Computer | table Computer EventRecordID");
    assert_eq!(rows(&out), vec![vec!["host-c", "8"], vec!["HOST-A", "6"], vec!["HOST-B", "5"]]);
    assert_eq!(ids(&e, "* | dedup 2 Computer"), [8, 7, 6, 5, 4, 2]);
    // Events missing the field are dropped unless keepempty=true.
    assert_eq!(ids(&e, "* | dedup LogonType"), [6, 5, 4]);
    assert_eq!(ids(&e, "* | dedup LogonType keepempty=true").len(), 8);
    assert_eq!(ids(&e, "* | dedup User sortby +EventRecordID"), [4, 5, 6, 7]);
    assert_eq!(ids(&e, "* | dedup Computer User"), [7, 6, 5, 4]);
}

#[test]
fn rex_extracts_named_groups() {
    let e = fixture();
    let out = run(&e, r#"EventCode=1 | rex field=Image "(?<dir>.*)\\\\(?<exe>[^\\\\]+)$" | table EventRecordID dir exe"#);
    assert_eq!(
        rows(&out),
        vec![
            vec!["7", r"C:\Tools", "rundll32x.exe"],
            vec!["3", r"C:\Windows\System32", "rundll32.exe"],
            vec!["2", r"C:\Windows\System32", "cmd.exe"],
            vec!["1", r"C:\Windows\System32", "RUNDLL32.EXE"],
        ]
    );
    // No match leaves an existing field as it was.
    let out = run(&e, r#"EventCode=1 | rex field=CommandLine "^(?<User>cmd)" | table EventRecordID User"#);
    assert_eq!(rows(&out), vec![vec!["7", "dave"], vec!["3", "bob"], vec!["2", "cmd"], vec!["1", "alice"]]);
    // max_match=0: every match, as a multivalue field.
    let out = run(&e, r#"CommandLine=* | rex field=CommandLine max_match=0 "(?<w>\w+)\.(exe|dll)" | table EventRecordID w"#);
    assert_eq!(rows(&out), vec![vec!["8", "[svchost]"], vec!["7", "[notepad]"], vec!["2", "∅"], vec!["1", "[rundll32, shell32]"]]);
    // mode=sed rewrites the field.
    let out = run(&e, r#"CommandLine=* | rex field=CommandLine mode=sed "s/\.exe//g" | table CommandLine"#);
    assert_eq!(
        out.col("CommandLine"),
        ["svchost -k netsvcs", "notepad rundll32 payload", "cmd /c whoami", "rundll32 shell32.dll,Control_RunDLL"]
    );
    let out = run(&e, r#"EventRecordID=1 | rex field=User mode=sed "s/(a)(l)/\2\1/" | table User"#);
    assert_eq!(out.col("User"), ["laice"]);
}

fn tasks() -> super::Engine {
    let b = batch(vec![
        ("_time", C::T(&["2024-01-10T10:00:00Z", "2024-01-10T10:01:00Z", "2024-01-10T10:02:00Z", "2024-01-10T10:03:00Z"])),
        ("TaskName", C::S(&[r"\A", r"\B", r"\C", r"\D"])),
        (
            "TaskContent",
            C::S(&[
                "<?xml version=\"1.0\" encoding=\"UTF-16\"?><Task xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\"><Settings><Hidden>true</Hidden><Enabled>true</Enabled></Settings><Actions><Exec><Command>cmd.exe</Command><Arguments>/c echo &gt; x</Arguments></Exec></Actions></Task>",
                "<Task><Settings><Enabled>false</Enabled></Settings><Actions><Exec><Command>a.exe</Command></Exec><Exec><Command>b.exe</Command></Exec></Actions></Task>",
                "∅",
                "∅",
            ]),
        ),
        ("TaskContentNew", C::S(&["∅", "∅", "<Task><Actions><Exec><Command>new.exe</Command></Exec></Actions></Task>", "∅"])),
    ]);
    engine(vec![("security", b)])
}

#[test]
fn xmlkv_turns_task_xml_into_fields() {
    let e = tasks();
    // Command repeats with different values in \B, so it is multivalue for every event.
    let out = run(&e, "index=security | xmlkv | table TaskName Command Arguments Hidden Enabled");
    assert_eq!(
        rows(&out),
        vec![
            vec![r"\D", "∅", "∅", "∅", "∅"],
            vec![r"\C", "[new.exe]", "∅", "∅", "∅"],
            vec![r"\B", "[a.exe, b.exe]", "∅", "∅", "false"],
            vec![r"\A", "[cmd.exe]", "/c echo > x", "true", "true"],
        ]
    );
    let out = run(&e, "index=security | xmlkv | search Command=B.EXE | table TaskName");
    assert_eq!(out.col("TaskName"), [r"\B"]);
    let out = run(&e, "index=security | xmlkv field=TaskContentNew | table TaskName Command");
    assert_eq!(out.col("Command"), ["∅", "new.exe", "∅", "∅"]);
}

fn logons() -> super::Engine {
    // u1: 4624 at 0s, 4688 at 60s, 4634 at 120s; 4624 at 1000s and 4688 at 1010s, never ended.
    // u2: 4688 at 30s (before any logon), 4624 at 40s, 4634 at 50s.
    let b = batch(vec![
        (
            "_time",
            C::T(&[
                "2024-01-10T10:00:00Z",
                "2024-01-10T10:01:00Z",
                "2024-01-10T10:02:00Z",
                "2024-01-10T10:16:40Z",
                "2024-01-10T10:16:50Z",
                "2024-01-10T10:00:30Z",
                "2024-01-10T10:00:40Z",
                "2024-01-10T10:00:50Z",
            ]),
        ),
        ("User", C::S(&["u1", "u1", "u1", "u1", "u1", "u2", "u2", "u2"])),
        ("EventCode", C::I(&[4624, 4688, 4634, 4624, 4688, 4688, 4624, 4634])),
        ("EventRecordID", C::I(&[1, 2, 3, 4, 5, 6, 7, 8])),
    ]);
    engine(vec![("main", b)])
}

#[test]
fn transaction_sessions() {
    let e = logons();
    let q =
        "* | transaction User startswith=\"EventCode=4624\" endswith=\"EventCode=4634\" | table User _time duration eventcount EventCode";
    let out = run(&e, q);
    // Newest transaction first; u1's second session never ended and is evicted.
    assert_eq!(
        rows(&out),
        vec![
            vec!["u2", "2024-01-10T10:00:40Z", "10.0", "2", "[4624, 4634]"],
            vec!["u1", "2024-01-10T10:00:00Z", "120.0", "3", "[4624, 4634, 4688]"],
        ]
    );
    let q = "* | transaction User startswith=eval(EventCode=4624) endswith=eval(EventCode=4634) keepevicted=true | table User _time eventcount closed_txn";
    assert_eq!(
        rows(&run(&e, q)),
        vec![
            vec!["u1", "2024-01-10T10:16:40Z", "2", "0"],
            vec!["u2", "2024-01-10T10:00:40Z", "2", "1"],
            vec!["u1", "2024-01-10T10:00:00Z", "3", "1"],
        ]
    );
    // maxspan=90s: u1 {0, 60} {120} {1000, 1010}; u2 {30, 40, 50}.
    let out = run(&e, "* | transaction User maxspan=90s | table User eventcount duration");
    assert_eq!(rows(&out), vec![vec!["u1", "2", "10.0"], vec!["u1", "1", "0.0"], vec!["u2", "3", "20.0"], vec!["u1", "2", "60.0"]]);
    // maxpause=5m splits u1 at the 880 s gap; maxevents caps a transaction's size.
    assert_eq!(run(&e, "* | transaction User maxpause=5m | stats count").rows, vec![vec!["3"]]);
    assert_eq!(run(&e, "* | transaction User maxevents=2 | stats sum(eventcount) count").rows, vec![vec!["8", "5"]]);
}
