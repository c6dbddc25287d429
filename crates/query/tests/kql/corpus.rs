//! KQL on the real corpus. Expected values were tallied from the evtx_dump output of the whole
//! corpus (Sysmon 1 and Security 4688 for DeviceProcessEvents, Sysmon 3 for
//! DeviceNetworkEvents, Security 4698/4699 for scheduled tasks), not by another query.

use super::common::*;

#[test]
fn the_write_ups_encoded_command_hunt() {
    let Some(e) = corpus_engine("the_write_ups_encoded_command_hunt") else { return };
    let q = r#"DeviceProcessEvents | where ProcessCommandLine contains "-enc" | project Timestamp, DeviceName, ProcessCommandLine"#;
    let out = run(e, q);
    assert_eq!(out.cols, strs(&["Timestamp", "DeviceName", "ProcessCommandLine"]));
    // Three command lines in the dump contain "-enc" in any case: PowerShell's -enc and two
    // certutil -encode (the write-up's warning about "-encoding"-like arguments).
    let mut rows = out.rows.clone();
    rows.sort();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0][..2], strs(&["2019-05-27T01:28:42.711005800Z", "IEWIN7"]));
    assert!(
        rows[0][2].starts_with(r#""C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"  -nop -noni -enc JABQAHIAbwBnAHIA"#),
        "{}",
        rows[0][2]
    );
    assert_eq!(
        rows[1],
        strs(&[
            "2019-07-19T14:57:03.235828400Z",
            "MSEDGEWIN10",
            r#""C:\Windows\system32\cmd.exe" /c "certutil.exe -encode c:\file.exe file.txt""#
        ])
    );
    assert_eq!(rows[2], strs(&["2019-07-19T14:57:03.309488200Z", "MSEDGEWIN10", r"certutil.exe  -encode c:\file.exe file.txt"]));
    // The same hunt from the built-in pack gives the same rows.
    let hunt = taskhunt_query::hunts::find("writeup-encoded-commands").unwrap();
    assert_eq!(run(e, &hunt.text).rows.len(), 3);
}

#[test]
fn counts_groups_and_terms_on_the_corpus() {
    let Some(e) = corpus_engine("counts_groups_and_terms_on_the_corpus") else { return };
    // 1,491 Sysmon 1 and 42 Security 4688 events.
    assert_eq!(run(e, "DeviceProcessEvents | count").one(), "1533");
    let out = run(e, "DeviceProcessEvents | summarize count() by SourceEventId | sort by SourceEventId asc");
    assert_eq!(out.rows, vec![strs(&["1", "1491"]), strs(&["4688", "42"])]);
    // 17 distinct Computer values among them.
    assert_eq!(run(e, "DeviceProcessEvents | summarize dcount(DeviceName)").one(), "17");
    // Command lines with the whole term "whoami" (a term boundary on both sides), 26 in the dump.
    assert_eq!(run(e, r#"DeviceProcessEvents | where ProcessCommandLine has "whoami" | count"#).one(), "26");
    // Sysmon 1 events per UTC day: 511 on 2019-07-19, 175 on 2019-03-19, 100 on 2019-07-29.
    let out = run(e, "sysmon | where EventID == 1 | summarize n = count() by Day = bin(_time, 1d) | top 3 by n | project Day, n");
    assert_eq!(
        out.rows,
        vec![strs(&["2019-07-19T00:00:00Z", "511"]), strs(&["2019-03-19T00:00:00Z", "175"]), strs(&["2019-07-29T00:00:00Z", "100"])]
    );
}

#[test]
fn joins_on_the_corpus() {
    let Some(e) = corpus_engine("joins_on_the_corpus") else { return };
    // 27 Sysmon 1 processes have a ProcessGuid that some Sysmon 3 connection names.
    let q =
        "DeviceProcessEvents | join kind=leftsemi DeviceNetworkEvents on $left.ProcessUniqueId == $right.InitiatingProcessUniqueId | count";
    assert_eq!(run(e, q).one(), "27");
    // 1,500 process events ran on one of the 8 hosts with Sysmon 3 connections: inner keeps
    // them all, innerunique one per host.
    let hosts = "(DeviceNetworkEvents | summarize Connections = count() by DeviceName)";
    assert_eq!(run(e, &format!("DeviceProcessEvents | join kind=inner {hosts} on DeviceName | count")).one(), "1500");
    assert_eq!(run(e, &format!("DeviceProcessEvents | join {hosts} on DeviceName | count")).one(), "8");
    let out = run(e, &format!("DeviceProcessEvents | join kind=inner {hosts} on DeviceName | where DeviceName == 'IEWIN7' | take 1"));
    assert_eq!(out.col("Connections"), strs(&["34"]));
}

#[test]
fn the_scheduled_task_hunts() {
    let Some(e) = corpus_engine("the_scheduled_task_hunts") else { return };
    // Security 4698 in the dump: \CYAlyNSS twice on WIN-77LTAPHIQ1R.example.corp (first at
    // 2019-03-19T00:02:04.3199452Z) and \FullPowersTask once on MSEDGEWIN10.
    let rare = run(e, &taskhunt_query::hunts::find("rare-task-names").unwrap().text);
    let mut rows = rare.rows.clone();
    rows.sort();
    assert_eq!(rare.cols, strs(&["TaskName", "Hosts", "FirstSeen"]));
    assert_eq!(
        rows,
        vec![
            strs(&[r"\CYAlyNSS", "1", "2019-03-19T00:02:04.319945200Z"]),
            strs(&[r"\FullPowersTask", "1", "2020-03-07T13:17:38.534995400Z"])
        ]
    );
    // Each 4698 has a 4699 for the same task and host within two seconds: 2 x 2 pairs for
    // \CYAlyNSS, 1 for \FullPowersTask.
    let short = run(e, &taskhunt_query::hunts::find("short-lived-tasks").unwrap().text);
    assert_eq!(short.rows.len(), 5);
    assert_eq!(short.sorted("TaskName"), strs(&[r"\CYAlyNSS", r"\CYAlyNSS", r"\CYAlyNSS", r"\CYAlyNSS", r"\FullPowersTask"]));
    assert_eq!(short.col("Deleted").iter().filter(|d| d.starts_with("2019-03-19T00:02:04.35")).count(), 4);
}
