//! The write-up's hunts over a large case store, locally and on a Ballista cluster of one and
//! of two executors (issue 8's benchmark).
//!
//!     cargo run --release -p taskhunt-cluster --example cluster_bench -- DIR [COPIES] [ROWS] [--repetitive]
//!
//! Writes ROWS (default 1,000,000) Sysmon process creations over 10 hosts as evtx-dump JSON
//! lines, ingests them into a seed store, then makes `DIR/store` of COPIES (default 100) copies
//! of every seed partition under hosts of their own, as hard links (a 100-million-row store at
//! no extra disk). Each query runs three times locally, then on a cluster started in this
//! process (scheduler and executors on 127.0.0.1, talking gRPC and Flight) with one executor and
//! with two; every answer is checked against COPIES times what the generator counted. Peak RSS
//! is this process's, reset before each query: with a cluster it covers the client, the
//! scheduler and the executors together.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use taskhunt_cluster::{ExecutorOptions, remote_engine, run_executor, run_scheduler};
use taskhunt_query::arrow::array::Array;
use taskhunt_query::{Engine, Lang};

const HOSTS: usize = 10;
/// Command lines in rotation. `{n}` becomes the row's number, so that (as in real telemetry)
/// most command lines are unique and Parquet cannot store the column as a handful of
/// dictionary entries; with `--repetitive` it stays literal.
const COMMANDS: &[(&str, &str)] = &[
    (r"C:\Windows\System32\svchost.exe", r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule"),
    (r"C:\Program Files\Google\Chrome\Application\chrome.exe", r#""chrome.exe" --type=renderer --renderer-client-id={n} --lang=en-US"#),
    (
        r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
        "powershell.exe -NoP -W Hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA{n}",
    ),
    (r"C:\Windows\System32\rundll32.exe", r"rundll32.exe C:\ProgramData\update{n}.dll,Start"),
    (r"C:\Windows\System32\taskhostw.exe", "taskhostw.exe"),
    (r"C:\Windows\explorer.exe", r"C:\Windows\Explorer.EXE"),
    (r"C:\Windows\System32\cmd.exe", r#"cmd.exe /c "echo {n}""#),
];
const KQL: &str = "DeviceProcessEvents\n| where ProcessCommandLine contains \"-enc\"\n| project Timestamp, DeviceName, ProcessCommandLine";
const KQL_COUNT: &str = "DeviceProcessEvents\n| where ProcessCommandLine contains \"-enc\"\n| summarize n = count() by DeviceName";
const SPL: &str = "index=sysmon Image=\"*rundll32.exe\"\n| stats count by Computer, CommandLine";

fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()).unwrap_or(0) / 1024
}

/// Starts a new peak for [`peak_rss_mib`] (Linux: writing 5 to clear_refs resets VmHWM), so
/// each query reports its own peak rather than the largest so far.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn rows(engine: &Engine, lang: Lang, q: &str) -> (usize, Vec<taskhunt_query::arrow::array::RecordBatch>) {
    let b = engine.run(lang, q).unwrap_or_else(|e| panic!("{}", e.render(q)));
    (b.iter().map(|b| b.num_rows()).sum(), b)
}

fn make_store(dir: &Path, copies: usize, n: usize, unique: bool) -> (u64, u64) {
    let seed = dir.join("seed.jsonl");
    let (mut enc, mut rundll) = (0u64, 0u64);
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&seed).unwrap());
        for i in 0..n {
            let (image, cmd) = COMMANDS[i % COMMANDS.len()];
            let cmd = if unique { cmd.replace("{n}", &i.to_string()) } else { cmd.to_string() };
            enc += u64::from(i % COMMANDS.len() == 2);
            rundll += u64::from(i % COMMANDS.len() == 3);
            let line = serde_json::json!({"Event": {
                "System": {
                    "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
                    "EventID": 1,
                    "TimeCreated": {"#attributes": {"SystemTime": format!("2026-11-01T{:02}:{:02}:{:02}.0000000Z", (i / 3600) % 24, (i / 60) % 60, i % 60)}},
                    "EventRecordID": i + 1,
                    "Channel": "Microsoft-Windows-Sysmon/Operational",
                    "Computer": format!("WS{:03}.corp.example", i % HOSTS),
                },
                "EventData": {"Image": image, "CommandLine": cmd, "ProcessId": 1000 + i % 5000, "User": "CORP\\user"},
            }});
            writeln!(w, "{line}").unwrap();
        }
    }
    let seed_store = dir.join("seed-store");
    taskhunt_query::store::ingest(&[seed.clone()], &seed_store).unwrap();
    let store = dir.join("store");
    for table in std::fs::read_dir(&seed_store).unwrap().flatten().filter(|e| e.path().is_dir() && e.file_name() != "sources") {
        for date in std::fs::read_dir(table.path()).unwrap().flatten() {
            for host in std::fs::read_dir(date.path()).unwrap().flatten() {
                for k in 0..copies {
                    let to = store
                        .join(table.file_name())
                        .join(date.file_name())
                        .join(format!("{}-c{k:03}", host.file_name().to_string_lossy()));
                    std::fs::create_dir_all(&to).unwrap();
                    for part in std::fs::read_dir(host.path()).unwrap().flatten() {
                        std::fs::hard_link(part.path(), to.join(part.file_name())).unwrap();
                    }
                }
            }
        }
    }
    std::fs::copy(seed_store.join("manifest.json"), store.join("manifest.json")).unwrap();
    std::fs::remove_file(&seed).unwrap();
    (enc * copies as u64, rundll * copies as u64)
}

fn time(label: &str, engine: &Engine, rows_total: usize, expect: (u64, u64)) {
    for (lang, q) in [(Lang::Kql, KQL), (Lang::Kql, KQL_COUNT), (Lang::Spl, SPL)] {
        reset_peak_rss();
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let (n, batches) = rows(engine, lang, q);
            best = best.min(t.elapsed());
            // Checked against the generator's counts.
            match q {
                KQL => assert_eq!(n as u64, expect.0, "{q}"),
                KQL_COUNT => {
                    let sum: i64 = batches
                        .iter()
                        .map(|b| {
                            b.column(1)
                                .as_any()
                                .downcast_ref::<taskhunt_query::arrow::array::Int64Array>()
                                .unwrap()
                                .iter()
                                .flatten()
                                .sum::<i64>()
                        })
                        .sum();
                    assert_eq!(sum as u64, expect.0, "{q}");
                }
                _ => {
                    let col = batches[0].schema().index_of("count").unwrap();
                    let sum: i64 = batches
                        .iter()
                        .map(|b| {
                            let c = taskhunt_query::arrow::compute::cast(b.column(col), &taskhunt_query::arrow::datatypes::DataType::Int64)
                                .unwrap();
                            c.as_any().downcast_ref::<taskhunt_query::arrow::array::Int64Array>().unwrap().iter().flatten().sum::<i64>()
                        })
                        .sum();
                    assert_eq!(sum as u64, expect.1, "{q}");
                }
            }
        }
        let first = q.lines().last().unwrap_or(q).trim();
        println!(
            "{label:>12}  {:<4} {first:<55} best of 3: {:>7.2} s  ({:.3} s per million rows)  peak RSS {} MiB",
            format!("{lang:?}"),
            best.as_secs_f64(),
            best.as_secs_f64() / (rows_total as f64 / 1e6),
            peak_rss_mib()
        );
    }
}

/// Bytes of Parquet under a store (one copy of the data).
fn parquet_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = e.path();
        if path.is_dir() {
            total += parquet_bytes(&path);
        } else if path.extension().is_some_and(|x| x == "parquet") {
            total += e.metadata().map_or(0, |m| m.len());
        }
    }
    total
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn main() {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let unique = !all.iter().any(|a| a == "--repetitive");
    let mut args = all.into_iter().filter(|a| a != "--repetitive");
    let dir = std::path::PathBuf::from(args.next().expect("usage: cluster_bench DIR [COPIES] [ROWS] [--repetitive]"));
    let copies: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::fs::create_dir_all(&dir).unwrap();
    let t = Instant::now();
    let expect = make_store(&dir, copies, n, unique);
    let total = n * copies;
    println!(
        "store of {total} process rows ({n} ingested, {copies} copies as hard links, {} command lines, {:.1} MiB of Parquet per copy) made in {:.1} s; {cores} cores",
        if unique { "mostly unique" } else { "7 distinct" },
        parquet_bytes(&dir.join("seed-store")) as f64 / (1 << 20) as f64,
        t.elapsed().as_secs_f64()
    );
    let store = dir.join("store");
    let now = taskhunt_events::Timestamp::from_ticks(0);

    let local = Engine::open_store(&store, now).unwrap();
    time("local", &local, total, expect);
    drop(local);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let scheduler = listener.local_addr().unwrap();
    runtime.spawn(async move { run_scheduler(listener).await.expect("scheduler") });
    let url = format!("df://{scheduler}");
    for executors in 1..=2 {
        let work = dir.join(format!("executor-{executors}"));
        std::fs::create_dir_all(&work).unwrap();
        let opts = ExecutorOptions {
            scheduler,
            host: "127.0.0.1".into(),
            flight_port: free_port(),
            grpc_port: free_port(),
            concurrent_tasks: cores,
            work_dir: Some(work),
        };
        runtime.spawn(async move { run_executor(opts).await.expect("executor") });
        std::thread::sleep(Duration::from_secs(3));
        let remote = remote_engine(&url, &store, now).unwrap();
        time(&format!("{executors} executor{}", if executors > 1 { "s" } else { "" }), &remote, total, expect);
    }
    runtime.shutdown_background();
}
