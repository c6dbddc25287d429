//! Scalar functions, each against values worked out by hand.

use super::common::*;

#[test]
fn time_functions() {
    let e = small();
    // now is 2024-01-02 12:00 UTC for this engine.
    assert_eq!(value(&e, "now()"), "2024-01-02T12:00:00Z");
    assert_eq!(value(&e, "now(-1h)"), "2024-01-02T11:00:00Z");
    assert_eq!(value(&e, "ago(1d)"), "2024-01-01T12:00:00Z");
    assert_eq!(value(&e, "ago(30m) == datetime(2024-01-02 11:30)"), "true");
    assert_eq!(value(&e, "datetime(2024-01-01)"), "2024-01-01T00:00:00Z");
    assert_eq!(value(&e, "datetime(2024-01-01 10:30)"), "2024-01-01T10:30:00Z");
    assert_eq!(value(&e, r#"datetime("2024-01-01T10:30:05.25Z")"#), "2024-01-01T10:30:05.250Z");
    assert_eq!(value(&e, "startofday(datetime(2024-01-01 13:37))"), "2024-01-01T00:00:00Z");
    assert_eq!(value(&e, "startofday(datetime(2024-01-01 13:37), 1)"), "2024-01-02T00:00:00Z");
    assert_eq!(value(&e, "bin(datetime(2024-01-01 13:37:12), 1h)"), "2024-01-01T13:00:00Z");
    assert_eq!(value(&e, "bin(datetime(2024-01-01 13:37:12), 15m)"), "2024-01-01T13:30:00Z");
    // KQL bins datetimes from 0001-01-01 (a Monday), not from 1970 (a Thursday): a week bin
    // starts on Monday 2024-01-01.
    assert_eq!(value(&e, "bin(datetime(2024-01-03), 7d)"), "2024-01-01T00:00:00Z");
    assert_eq!(value(&e, "tostring(bin(90m, 1h))"), "01:00:00");
    assert_eq!(value(&e, "bin(7, 5)"), "5");
    assert_eq!(value(&e, "bin(-1, 5)"), "-5");
    assert_eq!(value(&e, "bin(1.7, 0.5)"), "1.5");
    assert_eq!(value(&e, "floor(17, 10)"), "10");
    let q = "Events | summarize count() by bin(Timestamp, 1h) | sort by Timestamp asc";
    let out = run(&e, q);
    assert_eq!(out.cols, strs(&["Timestamp", "count_"]));
    assert_eq!(
        out.col("Timestamp"),
        strs(&["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z", "2024-01-02T00:00:00Z"])
    );
    assert_eq!(out.col("count_"), strs(&["2", "1", "1", "1"]));
}

#[test]
fn string_functions() {
    let e = small();
    assert_eq!(value(&e, r#"tolower("AbC")"#), "abc");
    assert_eq!(value(&e, r#"toupper("AbC")"#), "ABC");
    assert_eq!(value(&e, r#"strlen("héllo")"#), "5");
    assert_eq!(value(&e, r#"substring("123456", 1)"#), "23456");
    assert_eq!(value(&e, r#"substring("123456", 2, 2)"#), "34");
    assert_eq!(value(&e, r#"substring("123456", -2, 2)"#), "56");
    assert_eq!(value(&e, r#"substring("123", 7)"#), "");
    assert_eq!(value(&e, r#"strcat("a", 1, "b", 2.5)"#), "a1b2.5");
    assert_eq!(value(&e, r#"replace_string("a.b.c", ".", "-")"#), "a-b-c");
    assert_eq!(value(&e, r#"extract("(\\d+)", 1, "abc 123 def")"#), "123");
    assert_eq!(value(&e, r#"extract(@"x(\d)", 0, "ax1")"#), "x1");
    assert_eq!(value(&e, r#"extract(@"(\d+)", 1, "none here")"#), "");
    assert_eq!(value(&e, r#"extract(@"port (\d+)", 1, "port 8080", typeof(long)) + 1"#), "8081");
    assert_eq!(value(&e, r#"base64_decode_tostring("aGVsbG8gd29ybGQ=")"#), "hello world");
    assert_eq!(value(&e, r#"split("a,b,c", ",")"#), r#"["a","b","c"]"#);
    assert_eq!(value(&e, r#"split("a,b,c", ",", 1)"#), r#"["b"]"#);
    assert_eq!(value(&e, r#"split("a,b,c", ",")[2]"#), "c");
    let out = run(&e, "Events | where Pid == 300 | project Task = extract(@\"/tn (\\w+)\", 1, Cmd), Len = strlen(Host)");
    assert_eq!(out.rows, vec![strs(&["Updater", "3"])]);
}

#[test]
fn conversions() {
    let e = small();
    assert_eq!(value(&e, "tostring(42)"), "42");
    assert_eq!(value(&e, "tostring(1.5)"), "1.5");
    assert_eq!(value(&e, "tostring(2.0)"), "2");
    assert_eq!(value(&e, "tostring(true)"), "true");
    assert_eq!(value(&e, "tostring(datetime(2024-01-01))"), "2024-01-01T00:00:00.0000000Z");
    assert_eq!(value(&e, "tostring(90m)"), "01:30:00");
    assert_eq!(value(&e, "tostring(long(null))"), "");
    assert_eq!(value(&e, r#"toint("42")"#), "42");
    assert_eq!(value(&e, r#"toint("x")"#), "null");
    assert_eq!(value(&e, "toint(2.9)"), "2");
    assert_eq!(value(&e, r#"tolong("9000000000")"#), "9000000000");
    assert_eq!(value(&e, r#"toreal("2.5") * 2"#), "5.0");
    assert_eq!(value(&e, "toreal(3)"), "3.0");
    assert_eq!(value(&e, r#"todatetime("2024-01-01 10:00")"#), "2024-01-01T10:00:00Z");
    assert_eq!(value(&e, r#"tostring(totimespan("01:30:00"))"#), "01:30:00");
    let types = run(&e, r#"print a = toint("1"), b = tolong("1"), c = toreal("1"), d = tostring(1)"#);
    assert_eq!(types.rows, vec![strs(&["1", "1", "1.0", "1"])]);
}

#[test]
fn conditionals_and_emptiness() {
    let e = small();
    assert_eq!(value(&e, r#"iff(1 > 2, "y", "n")"#), "n");
    assert_eq!(value(&e, "iif(true, 1, 2)"), "1");
    assert_eq!(value(&e, r#"case(1 > 2, "a", 2 > 1, "b", "c")"#), "b");
    assert_eq!(value(&e, r#"case(false, "a", "else")"#), "else");
    assert_eq!(value(&e, r#"isempty("")"#), "true");
    assert_eq!(value(&e, r#"isempty("x")"#), "false");
    assert_eq!(value(&e, "isempty(long(null))"), "true");
    assert_eq!(value(&e, r#"isnotempty("x")"#), "true");
    assert_eq!(value(&e, "isnull(long(null))"), "true");
    assert_eq!(value(&e, "isnotnull(1)"), "true");
    assert_eq!(value(&e, r#"isnull("")"#), "false");
    assert_eq!(value(&e, "not(1 > 2)"), "true");
    let q = r#"Events | extend Size = case(Pid < 200, "small", Pid < 400, "mid", "big"), Hot = iff(Score > 2, "hot", "cold") | project Size, Hot"#;
    let out = run(&e, q);
    assert_eq!(out.col("Size"), strs(&["small", "mid", "mid", "big", "big"]));
    assert_eq!(out.col("Hot"), strs(&["cold", "hot", "cold", "hot", "cold"]));
}

#[test]
fn dynamic_values() {
    let e = small();
    assert_eq!(value(&e, r#"parse_json('{"a":{"b":[1,2,3]}}').a.b[1]"#), "2");
    assert_eq!(value(&e, r#"parse_json('{"a":{"b":[1,2,3]}}')["a"]["b"][-1]"#), "3");
    assert_eq!(value(&e, r#"todynamic('{"k":"v"}')["k"]"#), "v");
    assert_eq!(value(&e, r#"parse_json('{"k":"v"}').missing"#), "");
    assert_eq!(value(&e, r#"dynamic([1, "a", {"b": true}])"#), r#"[1,"a",{"b":true}]"#);
    assert_eq!(value(&e, "array_length(dynamic([1, 2, 3]))"), "3");
    assert_eq!(value(&e, r#"array_length(dynamic({"a": 1}))"#), "null");
    assert_eq!(value(&e, "array_length(parse_json('[]'))"), "0");
    assert_eq!(value(&e, r#"tolong(parse_json('{"n":41}').n) + 1"#), "42");
    assert_eq!(value(&e, r#"parse_json('{"n":41}').n > 40"#), "true");
    assert_eq!(value(&e, r#"parse_json('{"s":"x"}').s == "x""#), "true");
    let url = r#"parse_url("https://user:pw@host.example:8443/p/q?x=1&y=two#frag")"#;
    assert_eq!(value(&e, &format!("{url}.Host")), "host.example");
    assert_eq!(value(&e, &format!("{url}.Port")), "8443");
    assert_eq!(value(&e, &format!("{url}.Path")), "/p/q");
    assert_eq!(value(&e, &format!("{url}.Username")), "user");
    assert_eq!(value(&e, &format!("{url}[\"Query Parameters\"].y")), "two");
    assert_eq!(value(&e, &format!("{url}.Fragment")), "frag");
    // Defender's AdditionalFields is text here: member access parses it.
    let out = run(&e, "Events | project T = parse_json(Extra).TaskName, N = toint(parse_json(Extra).Count), Raw = Extra.TaskName");
    assert_eq!(out.col("T"), strs(&[r"\Updater", r"\Other", r"\Updater", "", ""]));
    assert_eq!(out.col("N"), strs(&["3", "1", "null", "null", "null"]));
    assert_eq!(out.col("Raw"), out.col("T"));
    // Default names of dynamic members: left_right.
    let out = run(&e, "Events | extend parse_json(Extra).TaskName | project-keep Extra_*");
    assert_eq!(out.cols, strs(&["Extra_TaskName"]));
}
