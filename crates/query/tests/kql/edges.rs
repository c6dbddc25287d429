//! Edge semantics the other files leave open, each against a result worked out by hand from
//! the Kusto documentation on the small tables of `common.rs` (five events, pids 100-400 and
//! one missing; hosts WS1 WS1 WS2 ws2 WS3).

use super::common::*;

fn pids(e: &taskhunt_query::Engine, filter: &str) -> Vec<String> {
    run(e, &format!("Events | where {filter} | project Pid")).sorted("Pid")
}

#[test]
fn take_limit_distinct_and_the_project_variants_keep_values() {
    let e = small();
    // take after sort keeps the first rows of the sorted input.
    assert_eq!(run(&e, "Events | sort by Pid asc nulls last | take 2 | project Pid").col("Pid"), strs(&["100", "200"]));
    assert_eq!(run(&e, "Events | order by Pid desc | limit 3 | project Pid").col("Pid"), strs(&["400", "300", "200"]));
    // More than there are: all five.
    assert_eq!(run(&e, "Events | take 10 | count").one(), "5");
    // distinct compares text case-sensitively: WS2 and ws2 are two values.
    assert_eq!(run(&e, "Events | distinct Host").sorted("Host"), strs(&["WS1", "WS2", "WS3", "ws2"]));
    let pairs = run(&e, "Events | distinct Host, User | sort by Host asc, User asc");
    assert_eq!(pairs.cols, strs(&["Host", "User"]));
    assert_eq!(
        pairs.rows,
        vec![strs(&["WS1", "alice"]), strs(&["WS1", "bob"]), strs(&["WS2", "alice"]), strs(&["WS3", "carol"]), strs(&["ws2", ""])]
    );
    let away = run(&e, "Events | where Pid == 200 | project-away Extra, Cmd, Timestamp");
    assert_eq!(away.cols, strs(&["Host", "User", "Pid", "Score"]));
    assert_eq!(away.rows, vec![strs(&["WS1", "bob", "200", "2.5"])]);
    let renamed = run(&e, "Events | where Pid == 300 | project-rename Machine = Host | project Machine, User, Pid");
    assert_eq!(renamed.rows, vec![strs(&["WS2", "alice", "300"])]);
}

#[test]
fn join_kinds_by_name_and_their_columns() {
    let e = small();
    // kind=innerunique spelled out is the default: one left row per key (WS1 once, WS2).
    let unique = run(&e, "Events | join kind=innerunique Hosts on Host");
    assert_eq!(unique.sorted("Owner"), strs(&["dev", "ops"]));
    assert_eq!(unique.sorted("Host1"), strs(&["WS1", "WS2"]));
    // Keys compare case-sensitively: ws2 has no owner.
    let anti = run(&e, "Events | join kind=leftanti Hosts on Host");
    assert_eq!(anti.cols, strs(&["Timestamp", "Host", "User", "Cmd", "Pid", "Score", "Extra"]));
    assert_eq!(anti.sorted("Host"), strs(&["WS3", "ws2"]));
    // rightsemi returns the right side's columns, only the matched rows, each once.
    let rsemi = run(&e, "Events | join kind=rightsemi Hosts on Host | sort by Host asc");
    assert_eq!(rsemi.cols, strs(&["Host", "Owner", "Tier"]));
    assert_eq!(rsemi.rows, vec![strs(&["WS1", "ops", "1"]), strs(&["WS2", "dev", "2"])]);
    // leftsemi keeps each matching left row once even when the right side repeats the key.
    let q = "Events | join kind=leftsemi (union Hosts, Hosts) on Host | project Pid";
    assert_eq!(run(&e, q).sorted("Pid"), strs(&["100", "200", "300"]));
    // A tabular let on the right.
    assert_eq!(
        run(&e, "let cheap = Hosts | where Tier < 2; Events | join kind=inner cheap on Host | project Pid").sorted("Pid"),
        strs(&["100", "200"])
    );
}

#[test]
fn string_operator_edges() {
    let e = small();
    // has_any matches whole terms too: "who" is no term of "whoami"; "rundll32" is a term of
    // "rundll32.exe" (the dot breaks terms).
    assert_eq!(pids(&e, r#"Cmd has_any ("who", "rundll32")"#), strs(&["400"]));
    assert_eq!(pids(&e, r#"Cmd has_all ("CMD", "WHOAMI")"#), strs(&["200"]));
    // !has of a part of a word excludes nothing.
    assert_eq!(pids(&e, r#"Cmd !has "who""#), strs(&["100", "200", "300", "400", "null"]));
    assert_eq!(pids(&e, r#"Cmd has "javascript:alert""#), strs(&["400"]));
    assert_eq!(pids(&e, r#"Cmd has "Script""#), Vec::<String>::new());
    // A needle that starts or ends with punctuation needs a boundary only at its term ends:
    // "/c" is followed by a space in "cmd.exe /c whoami", "/cr" by the "e" of "/create".
    assert_eq!(pids(&e, r#"Cmd has "/c""#), strs(&["200"]));
    assert_eq!(pids(&e, r#"Cmd has "/cr""#), Vec::<String>::new());
    assert_eq!(pids(&e, r#"Cmd has ".EXE""#), strs(&["100", "200", "300", "400"]));
    // hasprefix and hassuffix are case-insensitive, on terms.
    assert_eq!(pids(&e, r#"Cmd hasprefix "encoded""#), strs(&["100"]));
    assert_eq!(pids(&e, r#"Cmd hassuffix "ALERT""#), strs(&["400"]));
    assert_eq!(pids(&e, r#"Cmd hasprefix "ALERT""#), strs(&["400"]));
    assert_eq!(pids(&e, r#"Cmd hassuffix "dll32""#), strs(&["400"]));
    // contains crosses term boundaries, in any case.
    assert_eq!(pids(&e, r#"Cmd contains @"SYSTEM32\SCH""#), strs(&["300"]));
    assert_eq!(pids(&e, r#"Cmd contains_cs @"System32\sch""#), strs(&["300"]));
    assert_eq!(pids(&e, r#"Cmd contains_cs @"system32\sch""#), Vec::<String>::new());
    assert_eq!(pids(&e, r#"Cmd endswith "ALERT""#), strs(&["400"]));
    // == and in are case-sensitive, so !in keeps the lower-case ws2.
    assert_eq!(pids(&e, r#"Host !in ("WS2")"#), strs(&["100", "200", "400", "null"]));
    assert_eq!(pids(&e, r#"Host !in~ ("ws1", "Ws3")"#), strs(&["300", "400"]));
    assert_eq!(pids(&e, r#"Host in~ ("Ws2")"#), strs(&["300", "400"]));
    assert_eq!(pids(&e, r#"User in~ ("ALICE", "")"#), strs(&["100", "300", "400"]));
    assert_eq!(pids(&e, r#"Host =~ "wS1" and User !~ "ALICE""#), strs(&["200"]));
}

#[test]
fn between_logic_and_nulls() {
    let e = small();
    // Both ends are inclusive, also when they are equal.
    assert_eq!(pids(&e, "Pid between (100 .. 100)"), strs(&["100"]));
    assert_eq!(pids(&e, "Score between (0.5 .. 1.5)"), strs(&["100", "null"]));
    assert_eq!(pids(&e, "Timestamp between (datetime(2024-01-01 00:10) .. datetime(2024-01-01 00:50))"), strs(&["100", "200"]));
    // A null compares to nothing, but `or` still succeeds on the other side: row 5 (no pid,
    // score 0.5) passes Score < 1.
    assert_eq!(pids(&e, "Pid > 350 or Score < 1"), strs(&["400", "null"]));
    // ... and `and` fails: pid 300 has no score, row 5 no pid.
    assert_eq!(pids(&e, "Pid > 0 and Score > 0"), strs(&["100", "200", "400"]));
    assert_eq!(pids(&e, r#"not(Host has "ws1")"#), strs(&["300", "400", "null"]));
    // == is case-sensitive: ws2 (pid 400) is not WS1.
    assert_eq!(pids(&e, r#"not(Cmd contains "schtasks" or Host == "WS1")"#), strs(&["400", "null"]));
    // A let computed from ago() is relative to the engine's now (2024-01-02 12:00): only the
    // event at 2024-01-02 00:00 is within the last day.
    assert_eq!(run(&e, "let since = ago(1d); Events | where Timestamp > since | project Host").one(), "WS3");
    assert_eq!(value(&e, "ago(0s) == now()"), "true");
}

#[test]
fn conversion_and_string_function_edges() {
    let e = small();
    assert_eq!(value(&e, r#"toint("abc")"#), "null");
    assert_eq!(value(&e, r#"toint("")"#), "null");
    assert_eq!(value(&e, r#"tolong("abc")"#), "null");
    assert_eq!(value(&e, r#"toreal("abc")"#), "null");
    assert_eq!(value(&e, r#"tolong("-12")"#), "-12");
    assert_eq!(value(&e, r#"toreal("1e3")"#), "1000.0");
    assert_eq!(value(&e, "tostring(-3)"), "-3");
    // split: an index past the end gives an empty array; indexing past the end is empty.
    assert_eq!(value(&e, r#"split("a,b,c", ",", 5)"#), "[]");
    assert_eq!(value(&e, r#"isempty(split("a,b,c", ",")[5])"#), "true");
    assert_eq!(value(&e, r#"array_length(split("a,b,c", ","))"#), "3");
    assert_eq!(value(&e, r#"split("a__b", "_")"#), r#"["a","","b"]"#);
    assert_eq!(value(&e, r#"split("", "_")"#), r#"[""]"#);
    // substring: a length past the end stops at the end; a start past the end is empty.
    assert_eq!(value(&e, r#"substring("123456", 4, 10)"#), "56");
    assert_eq!(value(&e, r#"substring("abc", 3)"#), "");
    assert_eq!(value(&e, r#"substring("abc", 1, 0)"#), "");
    assert_eq!(value(&e, r#"strlen("")"#), "0");
    assert_eq!(value(&e, r#"strcat("a", long(null), "b")"#), "ab");
    assert_eq!(value(&e, r#"replace_string("aaa", "a", "bb")"#), "bbbbbb");
    assert_eq!(value(&e, r#"replace_string("abc", "x", "y")"#), "abc");
    assert_eq!(value(&e, r#"tolower("ÄB")"#), "äb");
    assert_eq!(value(&e, r#"toupper("éa")"#), "ÉA");
    assert_eq!(value(&e, r#"extract("([a-z]+)=([0-9]+)", 2, "x=1 y=22")"#), "1");
    assert_eq!(value(&e, r#"base64_decode_tostring("")"#), "");
    assert_eq!(value(&e, r#"base64_decode_tostring("dGFza2h1bnQ=")"#), "taskhunt");
    // Per row: the missing command line is empty text.
    let out = run(&e, "Events | project L = strlen(Cmd), U = toupper(User), S = substring(Host, 1)");
    assert_eq!(out.col("L"), strs(&["39", "17", "52", "29", "0"]));
    assert_eq!(out.col("U"), strs(&["ALICE", "BOB", "ALICE", "", "CAROL"]));
    assert_eq!(out.col("S"), strs(&["S1", "S1", "S2", "s2", "S3"]));
}

#[test]
fn conditional_emptiness_and_dynamic_edges() {
    let e = small();
    // A null condition is not true: iff takes the else branch.
    let out = run(&e, r#"Events | project P = iff(Pid > 250, "big", "small"), C = case(Score >= 2.5, "hi", Score >= 1, "mid", "lo")"#);
    assert_eq!(out.col("P"), strs(&["small", "small", "big", "big", "small"]));
    assert_eq!(out.col("C"), strs(&["mid", "hi", "lo", "hi", "lo"]));
    assert_eq!(value(&e, r#"isempty(" ")"#), "false");
    assert_eq!(value(&e, r#"isnotempty("")"#), "false");
    assert_eq!(value(&e, "isnotnull(long(null))"), "false");
    assert_eq!(value(&e, "isnotempty(0)"), "true");
    let out = run(&e, "Events | project E = isempty(User), N = isnotnull(Score), M = isnotempty(Cmd)");
    assert_eq!(out.col("E"), strs(&["false", "false", "false", "true", "false"]));
    assert_eq!(out.col("N"), strs(&["true", "true", "false", "true", "true"]));
    assert_eq!(out.col("M"), strs(&["true", "true", "true", "true", "false"]));
    assert_eq!(value(&e, r#"parse_json('{"a b": {"c": [10, 20]}}')["a b"].c[1]"#), "20");
    assert_eq!(value(&e, r#"todynamic('{"a": {"b": "x"}}').a["b"]"#), "x");
    assert_eq!(value(&e, r#"isempty(parse_json('{"a": 1}').b)"#), "true");
    assert_eq!(value(&e, r#"isempty(parse_json('[1, 2]')[7])"#), "true");
    assert_eq!(value(&e, r#"array_length(dynamic([]))"#), "0");
    assert_eq!(value(&e, r#"array_length(parse_json('{"t": ["x", "y"]}').t)"#), "2");
    assert_eq!(value(&e, r#"dynamic({"k": [1, 2]}).k[1]"#), "2");
    // Per row, from the Extra column: tags counted (bob's [] has none; no Extra, no array).
    let out = run(&e, "Events | project N = array_length(parse_json(Extra).Tags), T = tostring(parse_json(Extra)['TaskName'])");
    assert_eq!(out.col("N"), strs(&["2", "0", "1", "null", "null"]));
    assert_eq!(out.col("T"), strs(&[r"\Updater", r"\Other", r"\Updater", "", ""]));
    let url = r#"parse_url("http://example.com/index.html")"#;
    assert_eq!(value(&e, &format!("{url}.Scheme")), "http");
    assert_eq!(value(&e, &format!("{url}.Host")), "example.com");
    assert_eq!(value(&e, &format!("{url}.Path")), "/index.html");
    assert_eq!(value(&e, &format!("{url}.Port")), "");
    // Times: a leap day, startofday with a negative offset, a day bin.
    assert_eq!(value(&e, "datetime(2024-02-29 23:59:59)"), "2024-02-29T23:59:59Z");
    assert_eq!(value(&e, "startofday(datetime(2024-01-01 08:00), -1)"), "2023-12-31T00:00:00Z");
    assert_eq!(value(&e, "bin(datetime(2024-01-01 23:59), 1d)"), "2024-01-01T00:00:00Z");
}

#[test]
fn aggregate_edges() {
    let e = small();
    // dcount is case-sensitive: WS1, WS2, ws2, WS3.
    assert_eq!(run(&e, "Events | summarize dcount(Host)").one(), "4");
    let out = run(&e, "Events | summarize min(Timestamp), max(Timestamp), avg(Pid), sum(Score), countif(isempty(Cmd))");
    assert_eq!(out.rows, vec![strs(&["2024-01-01T00:10:00Z", "2024-01-02T00:00:00Z", "250.0", "8.5", "1"])]);
    // arg_min ignores the null score of pid 300; arg_max's other columns come from its row.
    let out = run(&e, "Events | summarize arg_min(Score, Host, Pid)");
    assert_eq!(out.rows, vec![strs(&["0.5", "WS3", "null"])]);
    let out = run(&e, "Events | where isnotnull(Pid) | summarize arg_max(Pid, User, Score) by Host | sort by Host asc");
    assert_eq!(out.cols, strs(&["Host", "Pid", "User", "Score"]));
    assert_eq!(
        out.rows,
        vec![strs(&["WS1", "200", "bob", "2.5"]), strs(&["WS2", "300", "alice", "null"]), strs(&["ws2", "400", "", "4.0"])]
    );
    // Per host (WS1 WS2 WS3 ws2): countif, dcountif, min and max; WS3's only pid is missing.
    let out = run(
        &e,
        "Events | summarize c = countif(Pid >= 200), d = dcountif(User, Pid < 300), lo = min(Pid), hi = max(Pid) by Host | sort by Host asc",
    );
    assert_eq!(out.col("c"), strs(&["1", "1", "0", "1"]));
    assert_eq!(out.col("d"), strs(&["2", "0", "0", "0"]));
    assert_eq!(out.col("lo"), strs(&["100", "300", "null", "400"]));
    assert_eq!(out.col("hi"), strs(&["200", "300", "null", "400"]));
    // make_set keeps one of each value; make_list keeps repeats.
    let out = run(&e, "Events | where isnotempty(User) | summarize s = make_set(User), l = make_list(User)");
    let sorted = |cell: &str| {
        let mut v: Vec<String> = serde_json::from_str::<Vec<String>>(cell).unwrap();
        v.sort();
        v
    };
    assert_eq!(sorted(&out.col("s")[0]), strs(&["alice", "bob", "carol"]));
    assert_eq!(sorted(&out.col("l")[0]), strs(&["alice", "alice", "bob", "carol"]));
    // count() with a bin of 1d: four events on Jan 1, one on Jan 2.
    let out = run(&e, "Events | summarize n = count() by Day = bin(Timestamp, 1d) | sort by Day asc");
    assert_eq!(out.rows, vec![strs(&["2024-01-01T00:00:00Z", "4"]), strs(&["2024-01-02T00:00:00Z", "1"])]);
    // take_any of a column that is the same on every row of the group.
    assert_eq!(run(&e, "Events | where User == 'alice' | summarize take_any(User)").one(), "alice");
}

#[test]
fn null_groups_regex_search_and_top_by_an_expression() {
    let e = small();
    // summarize keeps a group for a missing key; bin(Pid, 200): 100 -> 0, 200 and 300 -> 200,
    // 400 -> 400. Ascending puts the null group first.
    let out = run(&e, "Events | summarize n = count() by bin(Pid, 200) | sort by Pid asc");
    assert_eq!(out.cols, strs(&["Pid", "n"]));
    assert_eq!(out.rows, vec![strs(&["null", "1"]), strs(&["0", "1"]), strs(&["200", "2"]), strs(&["400", "1"])]);
    // distinct keeps the missing pid as a value; dcount ignores it.
    assert_eq!(run(&e, "Events | distinct Pid | count").one(), "5");
    assert_eq!(run(&e, "Events | summarize dcount(Pid)").one(), "4");
    assert_eq!(run(&e, "Events | summarize countif(isnull(Pid))").one(), "1");
    // The missing user is the empty string, a group like any other.
    assert_eq!(run(&e, r#"Events | summarize n = count() by User | where User == "" | project n"#).one(), "1");
    // matches regex searches anywhere in the text and is case-sensitive.
    assert_eq!(pids(&e, r#"Cmd matches regex @"\d+""#), strs(&["300", "400"]));
    assert_eq!(pids(&e, r#"Cmd matches regex "WHOAMI""#), Vec::<String>::new());
    assert_eq!(pids(&e, r#"Cmd matches regex "who""#), strs(&["200"]));
    // A range whose start is past its end holds nothing.
    assert_eq!(pids(&e, "Pid between (300 .. 200)"), Vec::<String>::new());
    // top by an expression: command line lengths 39, 17, 52, 29, 0.
    assert_eq!(run(&e, "Events | top 2 by strlen(Cmd) | project Pid").col("Pid"), strs(&["300", "100"]));
    assert_eq!(run(&e, "Events | top 1 by Timestamp asc | project Pid").one(), "100");
    // render takes a chart type and options; the rows are those before it.
    let q = "Events | summarize n = count() by Host | render timechart with (title = \"x\")";
    assert_eq!(run(&e, q).rows.len(), 4);
}
