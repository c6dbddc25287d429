//! Query throughput on a large in-memory process table (issue 5's benchmark).
//!
//!     cargo run --release -p taskhunt-query --example query_bench -- [ROWS] [HOSTS]
//!
//! Generates ROWS (default 10,000,000) Sysmon process creations over HOSTS hosts (default 1,000),
//! streams them through the same `CatalogBuilder` the CLI uses (timed on its own: that is the
//! cost of turning events into Arrow), then times the write-up's hunt and a few of its
//! relatives in KQL, SPL and SQL, reporting seconds per million rows. Every answer is checked
//! against a count the generator keeps, so a fast wrong answer fails the run.

use std::sync::Arc;
use std::time::Instant;
use taskhunt_events::{Event, FieldName, Fields, SourceFile, Timestamp, Value};
use taskhunt_query::arrow::array::{Array, Int64Array, UInt64Array};
use taskhunt_query::{CatalogBuilder, Engine, Lang};

/// Command lines in rotation; index 3 and 7 carry `-enc` (case differs: KQL `contains` is
/// case-insensitive).
/// Events handed to the table builder at once.
const BATCH: usize = 64 * 1024;

const COMMANDS: &[(&str, &str)] = &[
    (r"C:\Windows\System32\svchost.exe", r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule"),
    (r"C:\Program Files\Google\Chrome\Application\chrome.exe", r#""chrome.exe" --type=renderer --lang=en-US"#),
    (r"C:\Windows\System32\conhost.exe", r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1"),
    (r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", "powershell.exe -NoP -W Hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA"),
    (r"C:\Windows\System32\rundll32.exe", r"rundll32.exe C:\ProgramData\update.dll,Start"),
    (r"C:\Windows\System32\taskhostw.exe", "taskhostw.exe"),
    (r"C:\Windows\explorer.exe", r"C:\Windows\Explorer.EXE"),
    (r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", "POWERSHELL -ENC SQBFAFgA -NonInteractive"),
    (r"C:\Windows\System32\cmd.exe", r#"cmd.exe /c "echo hello""#),
];

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    let hosts: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{rows} process rows, {hosts} hosts, {cores} cores");

    let names = ["Image", "CommandLine", "ProcessId", "ParentImage", "User", "ProcessGuid"].map(FieldName::intern);
    let source = Arc::new(SourceFile { path: "bench.evtx".into(), format: "evtx" });
    let channel: Arc<str> = "Microsoft-Windows-Sysmon/Operational".into();
    let provider: Arc<str> = "Microsoft-Windows-Sysmon".into();
    let computers: Vec<Arc<str>> = (0..hosts).map(|h| Arc::from(format!("WS{h:05}.corp.example"))).collect();
    let start = Timestamp::parse("2026-11-01T00:00:00Z").expect("fixed time parses");
    let mut expect_enc = 0u64;
    let mut expect_rundll_by_host = vec![0u64; hosts];

    let t = Instant::now();
    let mut builder = CatalogBuilder::new();
    // Events come in batches, as `read_paths` hands them over; generating them is timed apart.
    let mut generating = std::time::Duration::ZERO;
    let mut batch: Vec<Event> = Vec::with_capacity(BATCH);
    for i in 0..rows {
        let g = Instant::now();
        let (image, cmd) = COMMANDS[i % COMMANDS.len()];
        let host = (i / 7) % hosts;
        if i % COMMANDS.len() == 3 || i % COMMANDS.len() == 7 {
            expect_enc += 1;
        }
        if i % COMMANDS.len() == 4 {
            expect_rundll_by_host[host] += 1;
        }
        let mut fields = Fields::with_capacity(names.len());
        fields.push(names[0], Value::from(image));
        fields.push(names[1], Value::from(cmd));
        fields.push(names[2], Value::Int(1000 + (i % 50_000) as i64));
        fields.push(names[3], Value::from(r"C:\Windows\System32\svchost.exe"));
        fields.push(names[4], Value::from(r"CORP\alice"));
        fields.push(names[5], Value::from(format!("{{{:08X}-0000-0000-0000-000000000000}}", i)));
        let event = Event {
            // One event every 10 ms of simulated time.
            timestamp: Timestamp::from_unix_nanos(start.unix_nanos() + i as i128 * 10_000_000),
            computer: computers[host].clone(),
            channel: channel.clone(),
            provider: provider.clone(),
            event_id: 1,
            record_id: i as u64 + 1,
            source: source.clone(),
            system: Fields::new(),
            fields,
        };
        batch.push(event);
        generating += g.elapsed();
        if batch.len() == BATCH || i + 1 == rows {
            batch.iter().for_each(|e| builder.add(e));
            batch.clear();
        }
    }
    let catalog = builder.finish();
    let build = (t.elapsed() - generating).as_secs_f64();
    println!(
        "tables built (normalized + sysmon + main): {build:.2} s, {:.3} s per million rows (generating the events: {:.2} s, not counted)",
        build / (rows as f64 / 1e6),
        generating.as_secs_f64()
    );
    let engine = Engine::new(catalog, start).expect("engine starts");

    let expect_rundll: u64 = expect_rundll_by_host.iter().sum();
    let runs: &[(&str, Lang, &str, Check)] = &[
        (
            "KQL where contains + summarize count() by",
            Lang::Kql,
            "DeviceProcessEvents | where ProcessCommandLine contains \"-enc\" | summarize count() by DeviceName",
            Check::SumOf("count_", expect_enc),
        ),
        (
            "KQL write-up query (where contains + project)",
            Lang::Kql,
            "DeviceProcessEvents | where ProcessCommandLine contains \"-enc\" | project Timestamp, DeviceName, ProcessCommandLine",
            Check::Rows(expect_enc),
        ),
        (
            "KQL has + summarize dcount",
            Lang::Kql,
            "DeviceProcessEvents | where ProcessCommandLine has \"hidden\" | summarize dcount(DeviceName)",
            Check::Rows(1),
        ),
        (
            "SPL write-up query (wildcard + stats count by)",
            Lang::Spl,
            "index=sysmon Image=\"*rundll32.exe\" | stats count by Computer, CommandLine",
            Check::SumOf("count", expect_rundll),
        ),
        (
            "SQL LIKE + GROUP BY",
            Lang::Sql,
            "SELECT \"DeviceName\", count(*) AS n FROM \"DeviceProcessEvents\" WHERE lower(\"ProcessCommandLine\") LIKE '%-enc%' GROUP BY \"DeviceName\"",
            Check::SumOf("n", expect_enc),
        ),
    ];
    for (what, lang, text, check) in runs {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let batches = engine.run(*lang, text).unwrap_or_else(|e| panic!("{what}: {}", e.render(text)));
            best = best.min(t.elapsed().as_secs_f64());
            check.verify(what, &batches);
        }
        println!("{what}: best of 3 {best:.3} s, {:.3} s per million rows", best / (rows as f64 / 1e6));
    }
    if let Some(kb) = peak_rss_kb() {
        println!("peak RSS {:.2} GB", kb as f64 / 1024.0 / 1024.0);
    }
}

enum Check {
    Rows(u64),
    SumOf(&'static str, u64),
}

impl Check {
    fn verify(&self, what: &str, batches: &[taskhunt_query::arrow::array::RecordBatch]) {
        let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
        match self {
            Check::Rows(n) => assert_eq!(rows, *n, "{what}: row count"),
            Check::SumOf(col, n) => {
                let mut sum = 0u64;
                for b in batches {
                    let c = b.column_by_name(col).unwrap_or_else(|| panic!("{what}: no column {col}"));
                    if let Some(a) = c.as_any().downcast_ref::<Int64Array>() {
                        sum += a.iter().flatten().map(|v| v as u64).sum::<u64>();
                    } else if let Some(a) = c.as_any().downcast_ref::<UInt64Array>() {
                        sum += a.iter().flatten().sum::<u64>();
                    } else {
                        panic!("{what}: {col} is {:?}", c.data_type());
                    }
                }
                assert_eq!(sum, *n, "{what}: total of {col}");
            }
        }
    }
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}
