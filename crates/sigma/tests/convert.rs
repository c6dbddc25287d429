//! Conversion of Sigma rules to KQL, SPL and SQL: modifiers, escaping, conditions and
//! precedence per target and pipeline. Every expected query was written out by hand from the
//! rule; the comment above each says why it is the right text.

use std::path::Path;
use taskhunt_sigma::Rule;
use taskhunt_sigma::convert::{self, ConvertError, Converted, Lang, Pipeline};
use taskhunt_sigma::rule::{Document, load_file};

fn rule(detection: &str, logsource: &str) -> Rule {
    let text = format!("title: T\nid: 11111111-2222-3333-4444-555555555555\nlogsource:\n{logsource}\ndetection:\n{detection}\n");
    match load_file(Path::new("t.yml"), &text, None).pop() {
        Some(Ok(Document::Rule(r))) => r,
        other => panic!("not a rule: {other:?}\n{text}"),
    }
}

const PROC: &str = "  product: windows\n  category: process_creation";

fn conv(r: &Rule, lang: Lang, p: Pipeline) -> Result<Converted, ConvertError> {
    convert::convert(r, lang, p, None)
}

fn query(detection: &str, logsource: &str, lang: Lang, p: Pipeline) -> String {
    conv(&rule(detection, logsource), lang, p).unwrap_or_else(|e| panic!("{e}")).query
}

#[test]
fn kql_defender_process_creation() {
    let q = query(
        "  sel_img:\n    Image|endswith: '\\rundll32.exe'\n  sel_cli:\n    CommandLine|contains|all: ['javascript:', 'RunHTMLApplication']\n  filter:\n    ParentImage: 'C:\\Windows\\explorer.exe'\n  condition: all of sel_* and not filter",
        PROC,
        Lang::Kql,
        Pipeline::Defender,
    );
    // Image → FolderPath (full path in Defender), CommandLine → ProcessCommandLine, ParentImage
    // → InitiatingProcessFolderPath; endswith/contains are case-insensitive in KQL as in Sigma;
    // `|all` ANDs the two values; a path with backslashes is written verbatim (@"...") where a
    // backslash is literal; the single exact value uses =~ (case-insensitive equality).
    assert_eq!(
        q,
        "DeviceProcessEvents\n| where FolderPath endswith @\"\\rundll32.exe\"\n    and ProcessCommandLine contains \"javascript:\"\n    and ProcessCommandLine contains \"RunHTMLApplication\"\n    and not(InitiatingProcessFolderPath =~ @\"C:\\Windows\\explorer.exe\")"
    );
}

#[test]
fn kql_escapes_and_wildcards() {
    // A value with a double quote cannot be verbatim: regular string, `\"` and `\\` escaped.
    let q = query("  sel:\n    CommandLine|contains: 'a\"b\\c'\n  condition: sel", PROC, Lang::Kql, Pipeline::Defender);
    assert!(q.ends_with("ProcessCommandLine contains \"a\\\"b\\\\c\""), "{q}");
    // `?` is one character: no KQL string operator has it, so a regex (dot-all, as `?` may be
    // a newline in Sigma), anchored at the end only (the value starts with `*`), the literal
    // parts escaped: `\` → `\\`, `.` → `\.`.
    let q = query("  sel:\n    Image: '*\\prog?.exe'\n  condition: sel", PROC, Lang::Kql, Pipeline::Defender);
    assert!(q.ends_with(r#"FolderPath matches regex @"(?is)\\prog.\.exe$""#), "{q}");
    // An escaped star is a literal star: plain contains, the `*` kept as text.
    let q = query("  sel:\n    CommandLine|contains: 'a\\*b'\n  condition: sel", PROC, Lang::Kql, Pipeline::Defender);
    assert!(q.ends_with("ProcessCommandLine contains \"a*b\""), "{q}");
}

#[test]
fn kql_modifiers() {
    // cased → the _cs operators; re|i → the flag inline, unanchored as Sigma's re.
    let q = query(
        "  a:\n    CommandLine|cased|startswith: 'Get-'\n  b:\n    CommandLine|re|i: 'x\\d+y'\n  condition: a or b",
        PROC,
        Lang::Kql,
        Pipeline::Defender,
    );
    assert_eq!(
        q,
        "DeviceProcessEvents\n| where ProcessCommandLine startswith_cs \"Get-\"\n    or ProcessCommandLine matches regex @\"(?i)x\\d+y\""
    );
    // base64offset: the three shifted encodings of "ping" (b64("ping")="cGluZw==", of " ping"
    // "IHBpbmc=", of "  ping" "ICBwaW5n", each trimmed of the characters depending on the
    // neighbours) compared case-sensitively: base64 differs only in case for other bytes.
    let q = query("  sel:\n    CommandLine|base64offset|contains: 'ping'\n  condition: sel", PROC, Lang::Kql, Pipeline::Defender);
    assert!(
        q.ends_with("ProcessCommandLine contains_cs \"cGluZ\"\n    or ProcessCommandLine contains_cs \"Bpbm\"\n    or ProcessCommandLine contains_cs \"waW5n\""),
        "{q}"
    );
    // windash: the flag's dash in five spellings (-, /, en dash, em dash, horizontal bar).
    let q = query("  sel:\n    CommandLine|windash|contains: ' -enc '\n  condition: sel", PROC, Lang::Kql, Pipeline::Defender);
    for d in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        assert!(q.contains(&format!("ProcessCommandLine contains \" {d}enc \"")), "{d}: {q}");
    }
    // cidr → Kusto's range functions; gt on a Long column compares the number directly.
    let q = query(
        "  sel:\n    DestinationIp|cidr: '10.0.0.0/8'\n    DestinationPort|gt: 1024\n  condition: sel",
        "  product: windows\n  category: network_connection",
        Lang::Kql,
        Pipeline::Defender,
    );
    assert_eq!(q, "DeviceNetworkEvents\n| where ipv4_is_in_range(RemoteIP, \"10.0.0.0/8\")\n    and RemotePort > 1024");
}

#[test]
fn kql_null_and_lossy() {
    let c = conv(
        &rule("  sel:\n    CommandLine|contains: 'x'\n  f:\n    OriginalFileName: null\n  condition: sel and not f", PROC),
        Lang::Kql,
        Pipeline::Defender,
    )
    .unwrap();
    // Kusto strings are never null: `null` becomes isempty(), and the conversion says so.
    assert!(c.query.ends_with("and not(isempty(ProcessVersionInfoOriginalFileName))"), "{}", c.query);
    assert!(c.lossy.iter().any(|l| l.contains("empty value from a missing field")), "{:?}", c.lossy);
    assert!(c.text.contains("// lossy: KQL does not tell"), "{}", c.text);
}

#[test]
fn precedence_is_kept() {
    // Sigma: or < and < not. `a or b and not c` is `a or (b and (not c))`; the AND inside the
    // OR is parenthesized for the reader (KQL's and binds tighter anyway); `not` is a function.
    let d = "  a:\n    CommandLine|contains: 'a'\n  b:\n    CommandLine|contains: 'b'\n  c:\n    CommandLine|contains: 'c'\n  condition: a or b and not c";
    let q = query(d, PROC, Lang::Kql, Pipeline::Defender);
    assert!(
        q.ends_with(
            "ProcessCommandLine contains \"a\"\n    or (ProcessCommandLine contains \"b\" and not(ProcessCommandLine contains \"c\"))"
        ),
        "{q}"
    );
    // `(a or b) and not c`: the OR inside the AND is parenthesized in every language.
    let d2 = d.replace("a or b and not c", "(a or b) and not c");
    let q = query(&d2, PROC, Lang::Spl, Pipeline::SplunkWindows);
    assert!(q.contains("EventCode=1 (CommandLine=\"*a*\" OR CommandLine=\"*b*\") NOT CommandLine=\"*c*\")"), "{q}");
    let q = query(&d2, PROC, Lang::Sql, Pipeline::Defender);
    assert!(q.ends_with("WHERE (lower(\"ProcessCommandLine\") LIKE '%a%' ESCAPE '\\' OR lower(\"ProcessCommandLine\") LIKE '%b%' ESCAPE '\\') AND NOT ((lower(\"ProcessCommandLine\") LIKE '%c%' ESCAPE '\\') IS TRUE)"), "{q}");
    // `2 of` three selections: any two, an OR of the three pairs.
    let d3 = d.replace("a or b and not c", "2 of them");
    let q = query(&d3, PROC, Lang::Kql, Pipeline::Defender);
    assert_eq!(q.matches(" and ").count(), 3, "{q}");
    assert_eq!(q.matches(" or ").count(), 2, "{q}");
}

#[test]
fn spl_splunk_windows() {
    let q = query(
        "  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: '\"quoted\"'\n  f:\n    ParentImage: null\n  condition: sel and not f",
        PROC,
        Lang::Spl,
        Pipeline::SplunkWindows,
    );
    // The 4688 branch stays (Image/ParentImage/CommandLine have 4688 names), so two branches
    // OR'd, each with its source and EventCode. In search, `\` and `"` are escaped with `\`;
    // `not (ParentImage: null)` is "present": `ParentImage=*`; on a 4688, Image is
    // NewProcessName and ParentImage ParentProcessName.
    assert_eq!(
        q,
        "(source=\"XmlWinEventLog:Microsoft-Windows-Sysmon/Operational\" EventCode=1 Image=\"*\\\\cmd.exe\" CommandLine=\"*\\\"quoted\\\"*\" ParentImage=*) OR (source=\"XmlWinEventLog:Security\" EventCode=4688 NewProcessName=\"*\\\\cmd.exe\" CommandLine=\"*\\\"quoted\\\"*\" ParentProcessName=*)"
    );
}

#[test]
fn spl_eval_when_search_cannot() {
    let ls = "  product: windows\n  service: security";
    // `?` has no search form: the whole condition goes to `where`, as match() with an anchored
    // case-insensitive regex; the top-level search terms (EventCode) stay in the search.
    let q = query("  sel:\n    EventID: 4688\n    NewProcessName: '*\\a?.exe'\n  condition: sel", ls, Lang::Spl, Pipeline::SplunkWindows);
    assert_eq!(q, "source=\"XmlWinEventLog:Security\" EventCode=4688 | where match(NewProcessName, \"(?is)\\\\\\\\a.\\\\.exe$\")");
    // Under NOT a missing field would make match() null and drop the event: guarded.
    let q = query(
        "  sel:\n    EventID: 4688\n  f:\n    NewProcessName|cased: 'X'\n  condition: sel and not f",
        ls,
        Lang::Spl,
        Pipeline::SplunkWindows,
    );
    assert_eq!(
        q,
        "source=\"XmlWinEventLog:Security\" EventCode=4688 | where NOT ((isnotnull(NewProcessName) AND match(NewProcessName, \"^X$\")))"
    );
    // neq: present and different (`!=` needs the field in Splunk).
    let q = query("  sel:\n    LogonType|neq: 3\n  condition: sel", ls, Lang::Spl, Pipeline::SplunkWindows);
    assert_eq!(q, "source=\"XmlWinEventLog:Security\" LogonType!=\"3\"");
}

#[test]
fn spl_cidr_and_keywords() {
    // 172.16.0.0/12 is 172.16.* … 172.31.*: sixteen exact prefixes of the dotted-quad text.
    let q = query(
        "  sel:\n    DestinationIp|cidr: '172.16.0.0/12'\n  condition: sel",
        "  product: windows\n  category: network_connection",
        Lang::Spl,
        Pipeline::SplunkWindows,
    );
    assert!(q.contains("(DestinationIp=\"172.16.*\" OR DestinationIp=\"172.17.*\""), "{q}");
    assert!(q.contains("DestinationIp=\"172.31.*\")") && !q.contains("172.32"), "{q}");
    assert_eq!(q.matches("DestinationIp=").count(), 16);
    // Keywords are bare quoted terms, wildcards around as Sigma's keywords match anywhere.
    let c = conv(
        &rule("  keywords:\n    - 'mimikatz'\n  condition: keywords", "  product: windows\n  service: system"),
        Lang::Spl,
        Pipeline::SplunkWindows,
    )
    .unwrap();
    assert_eq!(c.query, "source=\"XmlWinEventLog:System\" \"*mimikatz*\"");
    assert!(!c.lossy.is_empty());
}

#[test]
fn taskhunt_pipeline_targets_raw_tables() {
    // Raw table per channel, original field names; a column exists only where some event has
    // the field, so KQL names it through column_ifexists; EventID is a number column.
    let q = query("  sel:\n    Image|endswith: '\\schtasks.exe'\n  condition: sel", PROC, Lang::Kql, Pipeline::Taskhunt);
    assert_eq!(
        q,
        "union\n    (sysmon\n    | extend Image = column_ifexists(\"Image\", \"\")\n    | where EventID == 1\n        and Image endswith @\"\\schtasks.exe\"),\n    (security\n    | extend NewProcessName = column_ifexists(\"NewProcessName\", \"\")\n    | where EventID == 4688\n        and NewProcessName endswith @\"\\schtasks.exe\")"
    );
    // SPL: several raw tables → `main` with the channel named per branch.
    let q = query("  sel:\n    Image|endswith: '\\schtasks.exe'\n  condition: sel", PROC, Lang::Spl, Pipeline::Taskhunt);
    assert_eq!(
        q,
        "index=main (Channel=\"Microsoft-Windows-Sysmon/Operational\" EventID=1 Image=\"*\\\\schtasks.exe\") OR (Channel=\"Security\" EventID=4688 NewProcessName=\"*\\\\schtasks.exe\")"
    );
    // A field a 4688 lacks (OriginalFileName) is absent on that branch: `null` holds there, a
    // positive test never does — as the matcher decides. The Sysmon branch keeps the test.
    let q = query(
        "  sel:\n    Image|endswith: '\\x.exe'\n  f:\n    OriginalFileName: null\n  condition: sel and not f",
        PROC,
        Lang::Spl,
        Pipeline::Taskhunt,
    );
    assert_eq!(q, "index=sysmon EventID=1 Image=\"*\\\\x.exe\" OriginalFileName=*");
    // SQL: LIKE with `%` `_` `\` escaped, lowercased both sides.
    let q = query(
        "  sel:\n    CommandLine|contains: '50%_x'\n  condition: sel",
        "  product: windows\n  service: security",
        Lang::Sql,
        Pipeline::Taskhunt,
    );
    assert_eq!(q, "SELECT * FROM \"security\"\nWHERE lower(\"CommandLine\") LIKE '%50\\%\\_x%' ESCAPE '\\'");
}

#[test]
fn what_cannot_be_converted_is_an_error() {
    let e = conv(&rule("  sel:\n    UtcTime|hour: 3\n  condition: sel", PROC), Lang::Kql, Pipeline::Defender).unwrap_err();
    assert!(e.reason.contains("time-part"), "{e}");
    assert!(e.to_string().starts_with("t.yml: 11111111-2222-3333-4444-555555555555 (T): "), "{e}");
    let kw = rule("  keywords:\n    - 'x'\n  condition: keywords", "  product: windows\n  service: system");
    assert!(conv(&kw, Lang::Kql, Pipeline::Taskhunt).unwrap_err().reason.contains("full-text"));
    assert!(conv(&kw, Lang::Sql, Pipeline::Taskhunt).is_err());
    let linux = rule("  sel:\n    a: b\n  condition: sel", "  product: linux\n  category: process_creation");
    assert!(conv(&linux, Lang::Spl, Pipeline::SplunkWindows).is_err());
    // Defender has no column for Sysmon's Hashes as one string.
    let h = rule("  sel:\n    Hashes|contains: 'IMPHASH=0'\n  condition: sel", PROC);
    assert!(conv(&h, Lang::Kql, Pipeline::Defender).unwrap_err().reason.contains("Hashes"));
    assert!(conv(&h, Lang::Sql, Pipeline::Sentinel).unwrap_err().reason.contains("does not target"));
}
