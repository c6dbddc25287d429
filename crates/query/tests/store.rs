//! The case store: the corpus ingested into Parquet answers the same queries as the corpus read
//! into memory, and ingesting the same files again adds nothing.

use taskhunt_query::testing::rows;

use taskhunt_query::store::{Manifest, ingest};
use taskhunt_query::{CatalogBuilder, Engine, Lang};

#[test]
fn store_answers_as_memory_does_and_skips_what_it_has() {
    let Some(samples) = taskhunt_events::testing::evtx_samples("store_answers_as_memory_does_and_skips_what_it_has") else { return };
    let inputs = [samples];
    let store = tempfile::tempdir().unwrap();
    let first = ingest(&inputs, store.path()).unwrap();
    assert!(first.files_ingested > 200, "{first:?}");
    // The corpus holds one file twice under two names: the second is recognised and skipped.
    assert_eq!(first.files_skipped.len(), 1, "{first:?}");
    let twin = std::fs::read(&first.files_skipped[0]).unwrap();
    let manifest = Manifest::load(store.path()).unwrap();
    assert!(manifest.sources.iter().any(|s| std::fs::read(&s.path).unwrap() == twin), "the skipped file has no twin in the store");
    assert_eq!(manifest.sources.len() as u64, first.files_ingested);
    assert_eq!(manifest.sources.iter().map(|s| s.records).sum::<u64>(), first.records);
    // Partitioned by table, day and host.
    let sysmon_days: Vec<_> = std::fs::read_dir(store.path().join("sysmon")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(sysmon_days.iter().all(|d| d.to_string_lossy().starts_with("date=")), "{sysmon_days:?}");

    // Again: same content, nothing new.
    let again = ingest(&inputs, store.path()).unwrap();
    assert_eq!((again.files_ingested, again.files_skipped.len() as u64, again.parts_written), (0, first.files_ingested + 1, 0));
    assert_eq!(Manifest::load(store.path()).unwrap().sources.len(), manifest.sources.len());

    let now = taskhunt_events::Timestamp::from_ticks(0);
    let stored = Engine::open_store(store.path(), now).unwrap();
    // In memory: the files the store holds.
    let held: Vec<std::path::PathBuf> = manifest.sources.iter().map(|s| s.path.clone().into()).collect();
    let mut b = CatalogBuilder::new();
    taskhunt_events::read_paths(&held, &Default::default(), |batch| batch.events.iter().for_each(|e| b.add(e)), |_, _| {});
    let memory = Engine::new(b.finish(), now).unwrap();
    let questions: &[(Lang, &str)] = &[
        (Lang::Kql, "DeviceProcessEvents | where ProcessCommandLine contains \"-enc\" | project Timestamp, DeviceName, ProcessCommandLine"),
        (Lang::Spl, "index=sysmon Image=\"*rundll32.exe\" | stats count by Computer, CommandLine"),
        (Lang::Kql, "sysmon | summarize n = count() by EventID"),
        (Lang::Kql, "DeviceProcessEvents | where FileName =~ \"schtasks.exe\" | project Timestamp, DeviceName, ProcessCommandLine"),
        (Lang::Spl, "index=main | stats count by Channel"),
        (Lang::Sql, "SELECT \"EventID\", count(*) AS n FROM security GROUP BY \"EventID\""),
        (Lang::Kql, "DeviceNetworkEvents | summarize n = count() by RemotePort, InitiatingProcessFileName"),
    ];
    for (lang, q) in questions {
        let (a, b) = (rows(&memory, *lang, q), rows(&stored, *lang, q));
        assert!(!a.is_empty(), "{q}: no rows in memory either");
        assert_eq!(a, b, "{q}");
    }
    // The partition columns can narrow a query to a host.
    let host = rows(&stored, Lang::Sql, "SELECT DISTINCT host FROM sysmon ORDER BY host");
    assert!(!host.is_empty());
    let one = &host[0][0];
    let by_host = rows(&stored, Lang::Sql, &format!("SELECT count(*) FROM sysmon WHERE host = '{one}'"));
    assert!(by_host[0][0].parse::<u64>().unwrap() > 0);
}
