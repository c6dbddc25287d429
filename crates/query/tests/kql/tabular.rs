//! Tabular operators on the small tables: shapes, KQL's default column names, ordering, joins,
//! unions, parse, mv-expand, let, render.

use super::common::*;

fn json_sorted(cell: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(cell).expect(cell);
    let mut out: Vec<String> = v.as_array().expect(cell).iter().map(|x| x.to_string()).collect();
    out.sort();
    out
}

#[test]
fn project_and_its_variants() {
    let e = small();
    let out = run(&e, "Events | project H = Host, strlen(Cmd), Pid * 2, Pid | take 1");
    assert_eq!(out.cols, strs(&["H", "Column1", "Column2", "Pid"]));
    assert_eq!(out.rows, vec![strs(&["WS1", "39", "200", "100"])]);
    assert_eq!(run(&e, "Events | project-away Extra, Cmd, Sc* | take 1").cols, strs(&["Timestamp", "Host", "User", "Pid"]));
    let renamed = run(&e, "Events | project-rename Machine = Host, Who = User | take 1");
    assert_eq!(renamed.cols, strs(&["Timestamp", "Machine", "Who", "Cmd", "Pid", "Score", "Extra"]));
    // Wildcards are case-sensitive: Extra has no lower-case e.
    assert_eq!(run(&e, "Events | project-keep *e* | take 1").cols, strs(&["Timestamp", "User", "Score"]));
    assert_eq!(
        run(&e, "Events | project-reorder Pid, Host | take 1").cols,
        strs(&["Pid", "Host", "Timestamp", "User", "Cmd", "Score", "Extra"])
    );
}

#[test]
fn extend_appends_replaces_and_sees_earlier_assignments() {
    let e = small();
    let out = run(&e, "Events | extend Pid2 = Pid * 2, Pid3 = Pid2 + 1 | project Pid2, Pid3 | take 1");
    assert_eq!(out.rows, vec![strs(&["200", "201"])]);
    let out = run(&e, "Events | extend Host = tolower(Host), strlen(User)");
    assert_eq!(out.cols, strs(&["Timestamp", "Host", "User", "Cmd", "Pid", "Score", "Extra", "Column1"]));
    assert_eq!(out.col("Host"), strs(&["ws1", "ws1", "ws2", "ws2", "ws3"]));
    assert_eq!(out.col("Column1"), strs(&["5", "3", "5", "0", "5"]));
}

#[test]
fn summarize_aggregations_and_default_names() {
    let e = small();
    let q = "Events | summarize count(), dcount(User), countif(Score > 2), dcountif(User, Score > 1), min(Pid), max(Pid), sum(Pid), avg(Score), make_set(Host), make_list(Pid)";
    let out = run(&e, q);
    assert_eq!(
        out.cols,
        strs(&["count_", "dcount_User", "countif_", "dcountif_User", "min_Pid", "max_Pid", "sum_Pid", "avg_Score", "set_Host", "list_Pid"])
    );
    // Users alice, bob, alice, (empty), carol: four distinct values, the empty one included.
    assert_eq!(out.rows[0][..8], strs(&["5", "4", "2", "3", "100", "400", "1000", "2.125"]));
    assert_eq!(json_sorted(&out.rows[0][8]), strs(&["\"WS1\"", "\"WS2\"", "\"WS3\"", "\"ws2\""]));
    assert_eq!(json_sorted(&out.rows[0][9]), strs(&["100", "200", "300", "400"]));

    let out = run(&e, "Events | summarize n = count(), s = sum(Pid) by Host | sort by Host asc");
    assert_eq!(out.cols, strs(&["Host", "n", "s"]));
    assert_eq!(out.col("Host"), strs(&["WS1", "WS2", "WS3", "ws2"]));
    assert_eq!(out.col("n"), strs(&["2", "1", "1", "1"]));
    // sum() of nothing but nulls is 0 in KQL.
    assert_eq!(out.col("s"), strs(&["300", "300", "0", "400"]));

    assert_eq!(run(&e, "Events | summarize by Host | count").one(), "4");
    let out = run(&e, "Events | summarize count() * 2, max(Pid) - min(Pid)");
    assert_eq!(out.cols, strs(&["Column1", "Column2"]));
    assert_eq!(out.rows, vec![strs(&["10", "300"])]);
    let out = run(&e, "Events | where Pid > 1000 | summarize count(), sum(Pid)");
    assert_eq!(out.rows, vec![strs(&["0", "0"])]);
    assert!(run(&e, "Events | where Pid > 1000 | summarize count() by Host").rows.is_empty());
    let out = run(&e, "Events | summarize Users = make_set(User) by Host | where Host == 'WS1'");
    assert_eq!(json_sorted(&out.col("Users")[0]), strs(&["\"alice\"", "\"bob\""]));
}

#[test]
fn arg_max_arg_min_take_any() {
    let e = small();
    let out = run(&e, "Events | summarize arg_max(Score, Host, Pid)");
    assert_eq!(out.cols, strs(&["Score", "Host", "Pid"]));
    assert_eq!(out.rows, vec![strs(&["4.0", "ws2", "400"])]);
    let out = run(&e, "Events | summarize arg_min(Pid, *) by Host | where Host == 'WS1'");
    assert_eq!(out.cols, strs(&["Host", "Pid", "Timestamp", "User", "Cmd", "Score", "Extra"]));
    assert_eq!(out.rows[0][..6], strs(&["WS1", "100", "2024-01-01T00:10:00Z", "alice", "powershell.exe -EncodedCommand SQBFAFgA", "1.5"]));
    let out = run(&e, "Events | summarize Latest = arg_max(Timestamp, Pid) by Host | where Host == 'WS1'");
    assert_eq!(out.cols, strs(&["Host", "Latest", "Pid"]));
    assert_eq!(out.rows, vec![strs(&["WS1", "2024-01-01T00:50:00Z", "200"])]);
    let out = run(&e, "Events | where Host == 'WS1' | summarize take_any(User)");
    assert_eq!(out.cols, strs(&["User"]));
    assert!(["alice", "bob"].contains(&out.one().as_str()), "{out:?}");
    // One row: a user and a pid from the same event.
    let pair = run(&e, "Events | where Host == 'WS1' | summarize take_any(User, Pid)").rows.remove(0);
    assert!(pair == strs(&["alice", "100"]) || pair == strs(&["bob", "200"]), "{pair:?}");
}

#[test]
fn count_sort_top_take_distinct() {
    let e = small();
    assert_eq!(run(&e, "Events | count").cols, strs(&["Count"]));
    assert_eq!(run(&e, "Events | count").one(), "5");
    // KQL sorts descending by default, nulls last; ascending puts nulls first.
    assert_eq!(run(&e, "Events | sort by Score | project Score").col("Score"), strs(&["4.0", "2.5", "1.5", "0.5", "null"]));
    assert_eq!(run(&e, "Events | order by Score asc | project Score").col("Score"), strs(&["null", "0.5", "1.5", "2.5", "4.0"]));
    assert_eq!(run(&e, "Events | sort by Score asc nulls last | project Score").col("Score"), strs(&["0.5", "1.5", "2.5", "4.0", "null"]));
    assert_eq!(run(&e, "Events | sort by Host asc, Pid desc | project Pid").col("Pid"), strs(&["200", "100", "300", "null", "400"]));
    assert_eq!(run(&e, "Events | top 2 by Pid | project Pid").col("Pid"), strs(&["400", "300"]));
    assert_eq!(run(&e, "Events | top 2 by Pid asc | project Pid").col("Pid"), strs(&["null", "100"]));
    assert_eq!(run(&e, "Events | top 2 by Pid asc nulls last | project Pid").col("Pid"), strs(&["100", "200"]));
    assert_eq!(run(&e, "Events | take 2").rows.len(), 2);
    assert_eq!(run(&e, "Events | limit 0").rows.len(), 0);
    assert_eq!(run(&e, "let n = 3; Events | take n").rows.len(), 3);
    assert_eq!(run(&e, "Events | distinct Host").rows.len(), 4);
    assert_eq!(run(&e, "Events | distinct Host, User").rows.len(), 5);
    assert_eq!(run(&e, "Events | distinct *").rows.len(), 5);
    let out = run(&e, "Events | distinct tolower(Host)");
    assert_eq!(out.sorted("Column1"), strs(&["ws1", "ws2", "ws3"]));
}

#[test]
fn joins_of_every_kind() {
    let e = small();
    let inner = run(&e, "Events | join kind=inner Hosts on Host | sort by Pid asc");
    assert_eq!(inner.cols, strs(&["Timestamp", "Host", "User", "Cmd", "Pid", "Score", "Extra", "Host1", "Owner", "Tier"]));
    assert_eq!(inner.col("Pid"), strs(&["100", "200", "300"]));
    assert_eq!(inner.col("Owner"), strs(&["ops", "ops", "dev"]));
    assert_eq!(inner.col("Host1"), strs(&["WS1", "WS1", "WS2"]));
    // innerunique (the default) keeps one left row per key: one WS1, the WS2.
    let unique = run(&e, "Events | join Hosts on Host");
    assert_eq!(unique.sorted("Host"), strs(&["WS1", "WS2"]));
    let outer = run(&e, "Events | join kind=leftouter Hosts on Host | sort by Timestamp asc | project Pid, Owner, Tier");
    assert_eq!(outer.col("Pid"), strs(&["100", "200", "300", "400", "null"]));
    assert_eq!(outer.col("Owner"), strs(&["ops", "ops", "dev", "", ""]));
    assert_eq!(outer.col("Tier"), strs(&["1", "1", "2", "null", "null"]));
    assert_eq!(run(&e, "Events | join kind=leftanti Hosts on Host | project Pid").sorted("Pid"), strs(&["400", "null"]));
    let semi = run(&e, "Events | join kind=leftsemi Hosts on Host");
    assert_eq!(semi.cols, strs(&["Timestamp", "Host", "User", "Cmd", "Pid", "Score", "Extra"]));
    assert_eq!(semi.sorted("Pid"), strs(&["100", "200", "300"]));
    let ranti = run(&e, "Events | join kind=rightanti Hosts on Host");
    assert_eq!(ranti.cols, strs(&["Host", "Owner", "Tier"]));
    assert_eq!(ranti.rows, vec![strs(&["WS9", "lab", "3"])]);
    assert_eq!(run(&e, "Events | join kind=rightsemi Hosts on Host").sorted("Owner"), strs(&["dev", "ops"]));
    assert_eq!(run(&e, "Events | join kind=rightouter Hosts on Host | project Owner").sorted("Owner"), strs(&["dev", "lab", "ops", "ops"]));
    assert_eq!(run(&e, "Events | join kind=fullouter Hosts on Host | count").one(), "6");
    let q = "Events | join kind=inner (Hosts | project Name = Host, Owner) on $left.Host == $right.Name | project Pid, Name";
    assert_eq!(run(&e, q).sorted("Pid"), strs(&["100", "200", "300"]));
    let q = "let t = Events | project Host, Pid; t | join kind=inner t on Host | where Pid != Pid1 | project Pid, Pid1";
    assert_eq!(run(&e, q).sorted("Pid"), strs(&["100", "200"]));
}

#[test]
fn unions() {
    let e = small();
    assert_eq!(run(&e, "Events | union Hosts | count").one(), "8");
    let out = run(&e, "union Events, Hosts | summarize count() by Owner | sort by Owner asc");
    assert_eq!(out.col("Owner"), strs(&["", "dev", "lab", "ops"]));
    assert_eq!(out.col("count_"), strs(&["5", "1", "1", "1"]));
    let out = run(&e, "union withsource=T Events, Hosts | summarize n = count() by T | sort by T asc");
    assert_eq!(out.rows, vec![strs(&["Events", "5"]), strs(&["Hosts", "3"])]);
    assert_eq!(run(&e, "union withsource=T Events, Hosts | take 1").cols[0], "T");
    let inner = run(&e, "union kind=inner Events, Hosts");
    assert_eq!(inner.cols, strs(&["Host"]));
    assert_eq!(inner.rows.len(), 8);
    // A column with two types becomes one column per type.
    let out = run(&e, r#"union (Events | project Pid), (print Pid = "x")"#);
    assert_eq!(out.cols, strs(&["Pid_long", "Pid_string"]));
    assert_eq!(run(&e, "union Ho* | count").one(), "3");
}

#[test]
fn parse_operator() {
    let e = small();
    assert_eq!(run(&e, r#"Events | parse Cmd with * "/tn " Task | project Task"#).col("Task"), strs(&["", "", "Updater", "", ""]));
    let out = run(
        &e,
        r#"print s = "user=bob id=42 ratio=0.5" | parse s with "user=" User " id=" Id:long " ratio=" Ratio:real | project User, Id, Ratio"#,
    );
    assert_eq!(out.rows, vec![strs(&["bob", "42", "0.5"])]);
    // A typed column that does not match fails the whole row ...
    let out = run(&e, r#"print s = "user=bob id=x" | parse s with "user=" User " id=" Id:long | project User, Id"#);
    assert_eq!(out.rows, vec![strs(&["", "null"])]);
    // ... except in relaxed mode.
    let out = run(&e, r#"print s = "user=bob id=x" | parse kind=relaxed s with "user=" User " id=" Id:long | project User, Id"#);
    assert_eq!(out.rows, vec![strs(&["bob", "null"])]);
    let out = run(&e, r#"print s = "ab12cd" | parse kind=regex s with "[a-z]+" n:long "[a-z]+" | project n"#);
    assert_eq!(out.one(), "12");
    let out = run(&e, r#"print s = "ab12cd" | parse kind=regex flags=i s with "AB" rest | project rest"#);
    assert_eq!(out.one(), "12cd");
    let out = run(&e, r#"print s = "k=v and more" | parse s with "k=" V | project V"#);
    assert_eq!(out.one(), "v and more");
    let out = run(&e, r#"Events | parse-where Cmd with * "/tn " Task | project Pid, Task"#);
    assert_eq!(out.rows, vec![strs(&["300", "Updater"])]);
}

#[test]
fn mv_expand() {
    let e = small();
    // bob's empty Tags gives no row; a missing Tags gives one row with an empty value.
    let out = run(&e, "Events | mv-expand Tag = parse_json(Extra).Tags | project Pid, Tag");
    let mut rows = out.rows.clone();
    rows.sort();
    assert_eq!(rows, vec![strs(&["100", "a"]), strs(&["100", "b"]), strs(&["300", "b"]), strs(&["400", ""]), strs(&["null", ""])]);
    let q = "Events | mv-expand with_itemindex=i Tag = parse_json(Extra).Tags to typeof(string) | where Pid == 100 | project i, Tag";
    assert_eq!(run(&e, q).rows, vec![strs(&["0", "a"]), strs(&["1", "b"])]);
    let bag = run(&e, r#"print d = dynamic({"a": 1, "b": "x"}) | mv-expand d"#);
    assert_eq!(bag.col("d"), strs(&[r#"{"a":1}"#, r#"{"b":"x"}"#]));
    let arr = run(&e, r#"print d = dynamic({"a": 1}) | mv-expand kind=array d"#);
    assert_eq!(arr.col("d"), strs(&[r#"["a",1]"#]));
    assert_eq!(run(&e, "print d = dynamic([1, 2, 3]) | mv-expand d limit 2").col("d"), strs(&["1", "2"]));
    assert_eq!(run(&e, "print d = dynamic([1, 2, 3]) | mv-expand d to typeof(long) | summarize sum(d)").one(), "6");
    let zipped = run(&e, r#"print a = dynamic([1, 2, 3]), b = dynamic(["x", "y"]) | mv-expand a, b"#);
    assert_eq!(zipped.col("a"), strs(&["1", "2", "3"]));
    assert_eq!(zipped.col("b"), strs(&["x", "y", ""]));
}

#[test]
fn let_print_datatable_render() {
    let e = small();
    let q = r#"let threshold = 200; let name = "WS1"; Events | where Pid > threshold and Host != name | project Pid"#;
    assert_eq!(run(&e, q).sorted("Pid"), strs(&["300", "400"]));
    let q = "let busy = Events | summarize n = count() by Host | where n > 1; busy";
    assert_eq!(run(&e, q).rows, vec![strs(&["WS1", "2"])]);
    assert_eq!(run(&e, "let a = 2; let b = a * 100; Events | where Pid == b | project Host").one(), "WS1");
    assert_eq!(run(&e, "let T = Events; T | count").one(), "5");
    assert_eq!(run(&e, "let since = datetime(2024-01-01 01:00); Events | where Timestamp >= since | count").one(), "3");
    // A column and a let of the same name: the column wins.
    assert_eq!(run(&e, "let Pid = 5; Events | where Pid == 100 | count").one(), "1");
    let out = run(&e, r#"print x = 1, "a""#);
    assert_eq!(out.cols, strs(&["x", "print_1"]));
    let q = r#"datatable(a:string, b:long, c:dynamic) ["x", 1, dynamic([1]), "y", 2, dynamic({"k": "v"})] | where b > 1 | project a, c.k"#;
    assert_eq!(run(&e, q).rows, vec![strs(&["y", "v"])]);
    let q = "Events | summarize count() by Host | render barchart";
    let planned = taskhunt_query::kql::plan_with_notes(&e, q).unwrap();
    assert_eq!(planned.notes, strs(&["render barchart: ignored; taskhunt returns the table, not a chart"]));
    assert_eq!(taskhunt_query::kql::notes(q), planned.notes);
    assert_eq!(run(&e, q).rows.len(), 4);
}
