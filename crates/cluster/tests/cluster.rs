//! A scheduler and two executors on 127.0.0.1 (in this process, each on its own ports, talking
//! gRPC and Arrow Flight as separate machines would), a case store made from the corpus, and
//! the same questions asked of the cluster and of a local engine over the store: the write-up's
//! KQL and SPL, more KQL/SPL/SQL, and SigmaHQ's Windows rules compiled to expressions.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use taskhunt_cluster::{ExecutorOptions, remote_engine, run_executor, run_scheduler};
use taskhunt_query::testing::rows;
use taskhunt_query::{Engine, Lang, sigma};
use taskhunt_sigma::{RuleSet, Source};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the scheduler and `executors` executors on a runtime of their own; returns the
/// scheduler's address.
fn start_cluster(runtime: &tokio::runtime::Runtime, executors: usize, work: &Path) -> SocketAddr {
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let scheduler = listener.local_addr().unwrap();
    runtime.spawn(async move { run_scheduler(listener).await.expect("scheduler") });
    for i in 0..executors {
        let opts = ExecutorOptions {
            scheduler,
            host: "127.0.0.1".into(),
            flight_port: free_port(),
            grpc_port: free_port(),
            concurrent_tasks: 2,
            work_dir: Some(work.join(format!("executor-{i}"))),
        };
        std::fs::create_dir_all(opts.work_dir.as_ref().unwrap()).unwrap();
        runtime.spawn(async move { run_executor(opts).await.expect("executor") });
    }
    scheduler
}

#[test]
fn the_cluster_answers_as_the_local_engine_does() {
    let Some(corpus) = taskhunt_events::testing::corpus("the_cluster_answers_as_the_local_engine_does") else { return };
    let scratch = tempfile::tempdir().unwrap();
    let store = scratch.path().join("store");
    taskhunt_query::store::ingest(&[corpus.join("evtx-attack-samples")], &store).unwrap();
    let now = taskhunt_events::Timestamp::from_ticks(0);
    let local = Engine::open_store(&store, now).unwrap();
    let t = Instant::now();

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    let scheduler = start_cluster(&runtime, 2, scratch.path());
    let url = format!("df://{scheduler}");
    // The executors register within a few seconds; until then a query waits or fails.
    let started = Instant::now();
    let remote = loop {
        match remote_engine(&url, &store, now) {
            Ok(e) if e.run(Lang::Sql, "SELECT count(*) FROM sysmon").is_ok() => break e,
            Ok(_) | Err(_) if started.elapsed() < Duration::from_secs(60) => std::thread::sleep(Duration::from_millis(500)),
            Ok(e) => {
                let err = e.run(Lang::Sql, "SELECT count(*) FROM sysmon").unwrap_err();
                panic!("the cluster did not answer in 60 s: {}", err.render("SELECT count(*) FROM sysmon"));
            }
            Err(e) => panic!("no session with the scheduler in 60 s: {e}"),
        }
    };

    eprintln!("cluster up and answering after {:?}", t.elapsed());
    let questions: &[(Lang, &str)] = &[
        // The write-up's two hunts, as written.
        (
            Lang::Kql,
            "DeviceProcessEvents\n| where ProcessCommandLine contains \"-enc\"\n| project Timestamp, DeviceName, ProcessCommandLine",
        ),
        (Lang::Spl, "index=sysmon Image=\"*rundll32.exe\"\n| stats count by Computer, CommandLine"),
        // taskhunt's own functions (whole-term `has`, SPL wildcard terms, `tostring`) must
        // reach the executors intact.
        (Lang::Kql, "DeviceProcessEvents | where ProcessCommandLine has \"schtasks\" | summarize n = count() by DeviceName, FileName"),
        (Lang::Kql, "sysmon | summarize n = count(), hosts = dcount(Computer) by EventID | extend id = tostring(EventID)"),
        (Lang::Spl, "index=main EventID=4698 OR EventID=106 | stats count by Computer, EventID"),
        (Lang::Sql, "SELECT \"EventID\", count(*) AS n FROM security GROUP BY \"EventID\""),
    ];
    for (lang, q) in questions {
        let (a, b) = (rows(&local, *lang, q), rows(&remote, *lang, q));
        assert!(!a.is_empty(), "{q}: no rows locally either");
        assert_eq!(a, b, "{q}");
    }

    eprintln!("questions done after {:?}", t.elapsed());
    // SigmaHQ's Windows rules, compiled to expressions: the same (rule, file, record) hits.
    let rules_dir = corpus.join("sigma/rules/windows");
    let set = RuleSet::load(&[Source::Path(&rules_dir)], None);
    let compiled: Vec<sigma::CompiledRule> = set.rules.iter().filter_map(|r| sigma::compile(r, None).ok()).collect();
    assert!(compiled.len() > 2000, "{} rules compiled", compiled.len());
    eprintln!("rules compiled after {:?}", t.elapsed());
    let here: BTreeSet<_> = local.sigma_hits_all(&compiled, 400).unwrap();
    eprintln!("local hits after {:?}", t.elapsed());
    let there: BTreeSet<_> = remote.sigma_hits_all(&compiled, 400).unwrap();
    eprintln!("cluster hits after {:?}", t.elapsed());
    let rules_hit: BTreeSet<usize> = here.iter().map(|h| h.0).collect();
    println!("{} rules compiled; {} hits of {} rules, locally and on the cluster", compiled.len(), here.len(), rules_hit.len());
    assert!(here.len() > 500 && rules_hit.len() > 200, "{} hits of {} rules", here.len(), rules_hit.len());
    assert_eq!(here, there);
    runtime.shutdown_background();
}
