//! Errors point at the offending text with a caret and say what is wrong; unsupported things are
//! named; hostile input is an error, never a panic.

use super::common::*;
use taskhunt_query::Lang;

fn at(q: &str) -> (usize, usize, String) {
    let e = small();
    let err = fail(&e, q);
    (err.line, err.column, err.message)
}

#[test]
fn carets_and_messages() {
    let e = small();
    let q = r#"Events | whre Host == "x""#;
    let err = fail(&e, q);
    assert_eq!(err.render(q), "1:10: unsupported operator `whre` (did you mean `where`?)\n  Events | whre Host == \"x\"\n           ^");
    let q = r#"Events | where Host == "x" Pid"#;
    assert_eq!(at(q), (1, 28, "expected `|` or end of query, found `Pid`".to_string()));
    assert_eq!(at("Events | where Nope == 1"), (1, 16, "unknown column `Nope`".to_string()));
    assert_eq!(at("Events | where host == 'x'").2, "unknown column `host` (did you mean `Host`? names are case-sensitive)");
    assert_eq!(at("Events\n| project Host,\n| take 1"), (3, 1, "expected an expression, found `|`".to_string()));
    assert_eq!(at(r#"Events | where Host == "x"#), (1, 24, "unterminated string".to_string()));
    assert_eq!(at("Events | evaluate bag_unpack(Extra)"), (1, 10, "unsupported operator `evaluate`".to_string()));
    assert_eq!(at("Events | lookup Hosts on Host"), (1, 10, "unsupported operator `lookup`".to_string()));
    assert_eq!(at("Events | Where Pid > 1").2, "unsupported operator `Where` (did you mean `where`?)");
    assert_eq!(at("Events | extend x = frobnicate(1)"), (1, 21, "unsupported function `frobnicate()`".to_string()));
    let (line, col, msg) = at("Events | where Host == 1");
    assert_eq!((line, col), (1, 16));
    assert!(msg.starts_with("cannot compare a string with a long"), "{msg}");
    assert_eq!(at("Evnts | take 1"), (1, 1, "unknown table `Evnts`".to_string()));
    assert_eq!(at("events | take 1").2, "unknown table `events` (did you mean `Events`? names are case-sensitive)");
    let (_, col, msg) = at(r#"Events | where Cmd matches regex "(""#);
    assert_eq!(col, 34);
    assert!(msg.starts_with("invalid regular expression"), "{msg}");
    assert_eq!(at("Events | join kind=upsidedown Hosts on Host"), (1, 20, "unsupported join kind `upsidedown`".to_string()));
    assert_eq!(at("Events | extend c = count()"), (1, 21, "count() is an aggregation: use it in summarize".to_string()));
    assert_eq!(at("Events | take -1").2, "the number of rows to take must be a constant, non-negative whole number");
    assert_eq!(at("Events | project Host, Host"), (1, 24, "column `Host` is declared twice".to_string()));
    assert!(at("Events | summarize count() by parse_json(Extra)").2.starts_with("cannot group by a dynamic value"));
    assert!(at("let f = (x:long) { x + 1 }; print f(1)").2.contains("user-defined functions"));
    assert_eq!(at("Events | join Hosts on Nope").2, "unknown column `Nope` on the left side of the join");
    assert_eq!(at("Events | project-away Nope").2, "unknown column `Nope`");
    assert_eq!(
        at("Events | take 1 | render"),
        (1, 25, "expected a chart type after `render` (table, timechart, barchart ...), found the end of the query".to_string())
    );
    assert_eq!(at("Events | render table | take 1"), (1, 23, "render must be the last operator".to_string()));
    assert_eq!(
        at(r#"Events | where Host between ("a" .. "b")"#),
        (1, 16, "between takes numbers, datetimes or timespans, not a string".to_string())
    );
    assert_eq!(at("").2, "the query has no tabular expression");
}

/// Runs a query to the end; an error is fine, a panic (caught on the planner's thread or in
/// execution) is not.
fn survives(e: &taskhunt_query::Engine, q: &str) {
    if let Err(err) = e.run(Lang::Kql, q) {
        let m = err.message.to_lowercase();
        assert!(!m.contains("panic") && !m.contains("internal error"), "{q}: {}", err.message);
    }
}

#[test]
fn hostile_queries_are_errors_not_panics() {
    let e = small();
    let deep_parens = format!("print {}1{}", "(".repeat(5000), ")".repeat(5000));
    let deep_minus = format!("print {}1", "-".repeat(5000));
    let long_sum = format!("print {}1", "1 + ".repeat(5000));
    let long_or = format!("Events | where {} | count", vec!["Pid == 1"; 5000].join(" or "));
    let members = format!("print parse_json('{{}}'){}", ".a".repeat(5000));
    let ops = format!("Events{}", " | where true".repeat(2000));
    let lets: String = (0..2000).map(|i| format!("let v{} = {};", i + 1, if i == 0 { "1".to_string() } else { format!("v{i}") })).collect();
    let let_chain = format!("{lets} print v2000");
    let subqueries = format!("{}Events{}", "(".repeat(2000), ")".repeat(2000));
    let nested_dynamic = format!("print dynamic({}1{})", "[".repeat(5000), "]".repeat(5000));
    let hostile = [
        "",
        "// only a comment",
        "|",
        "Events |",
        "Events | where",
        "Events | where (",
        "Events | summarize",
        "Events | join",
        "Events | join kind=inner",
        "Events | parse Cmd with",
        "Events | mv-expand",
        "print datetime(",
        "print datetime(2024-13-45)",
        "print datetime(99999-01-01)",
        "print dynamic({\"a\":)",
        "print 99999999999999999999999",
        "print 1e999999",
        "print 9999999999999999d",
        "print \"\\u12\"",
        "print '\\q'",
        "print ```unterminated",
        "print h",
        "print @\"",
        "Events | where Cmd matches regex \"[\"",
        "Events | extend x = extract(\"(\", 1, Cmd)",
        "Events | extend x = extract(\"(a)\", 99, Cmd)",
        "Events | extend x = substring(Cmd, -99999999999, 5)",
        "Events | extend x = bin(Pid, 0)",
        "Events | extend x = bin(Timestamp, -1h)",
        "Events | extend x = Pid / 0, y = Pid % 0",
        "Events | take 99999999999999",
        "Events | parse kind=regex flags=Z Cmd with x",
        "Events | parse kind=regex Cmd with \"(\" x",
        "print x = 1 | mv-expand x",
        "print ∑ = 1",
        "print \"\u{0}\u{1b}[31m\"",
        "Events | where Host == \"WS1\" ; Events",
        "let = 1; print 1",
        "let x = ; print x",
        "let x = x; print x",
        "let t = t | take 1; t",
        "Events | union",
        "Events | union Nope*",
        "Events | project-rename A = Nope",
        "Events | sort by",
        "Events | top by Pid",
        "Events | summarize arg_max()",
        "Events | summarize make_set(Pid, -1)",
        "print tolong(datetime(2024-01-01)) + 9223372036854775807",
        "print datetime(2262-04-11) + 1000d",
        "print toint(\"99999999999\")",
        "print split(\"a\", \"\")",
        "print base64_decode_tostring(\"%%%\")",
        "print parse_url(\"::::\")",
        "datatable(a:long) [1, 2, \"x\"]",
        "datatable(a:long) [1, 2, 3",
        deep_parens.as_str(),
        deep_minus.as_str(),
        long_sum.as_str(),
        long_or.as_str(),
        members.as_str(),
        ops.as_str(),
        let_chain.as_str(),
        subqueries.as_str(),
        nested_dynamic.as_str(),
    ];
    for q in hostile {
        // Any outcome but a panic: run it in full, including execution.
        survives(&e, q);
    }
    // Truncations and byte-level damage of a realistic query.
    let base = r#"let t = 1h; Events | where Cmd has_any ("a", "b") and Timestamp > ago(t) | extend x = parse_json(Extra).Tags[0] | summarize n = count(), arg_max(Pid, *) by bin(Timestamp, 1h), Host | join kind=leftouter (Hosts) on Host | mv-expand y = dynamic([1,2]) | parse Cmd with * "/tn " T | top 3 by n desc nulls last | render table"#;
    assert!(e.run(Lang::Kql, base).is_ok(), "{:?}", e.run(Lang::Kql, base).err());
    for cut in 0..base.len() {
        if base.is_char_boundary(cut) {
            survives(&e, &base[..cut]);
        }
    }
    for (i, ch) in ['(', ')', '"', '|', '[', ']', ',', '.', '\''].iter().enumerate() {
        for pos in (i..base.len()).step_by(7) {
            let mut s = base.to_string();
            s.replace_range(pos..pos + 1, &ch.to_string());
            survives(&e, &s);
        }
    }
}
