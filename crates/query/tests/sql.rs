//! SQL over the normalized and raw tables built from the real corpus.

use datafusion::arrow::array::Int64Array;
use taskhunt_query::{CatalogBuilder, Engine, Lang};

fn corpus_engine(test: &str) -> Option<Engine> {
    let dir = taskhunt_events::testing::evtx_samples(test)?;
    let mut b = CatalogBuilder::new();
    taskhunt_events::read_paths(&[dir], &Default::default(), |batch| batch.events.iter().for_each(|e| b.add(e)), |_, _| {});
    Some(Engine::new(b.finish(), taskhunt_events::Timestamp::from_ticks(0)).expect("engine"))
}

fn count(engine: &Engine, sql: &str) -> i64 {
    let batches = engine.run(Lang::Sql, sql).expect(sql);
    let col = batches[0].column(0).as_any().downcast_ref::<Int64Array>().expect("count is Int64").clone();
    col.value(0)
}

#[test]
fn sql_counts_match_the_corpus() {
    let Some(engine) = corpus_engine("sql_counts_match_the_corpus") else { return };
    // Counts tallied independently from the evtx_dump output of the whole corpus: 3,241
    // Sysmon events, 1,577 Security events, 8,255 in all, 3 Security 4698s.
    assert_eq!(count(&engine, "SELECT count(*) FROM sysmon"), 3241);
    assert_eq!(count(&engine, "SELECT count(*) FROM security"), 1577);
    assert_eq!(count(&engine, "SELECT count(*) FROM main"), 8255);
    assert_eq!(count(&engine, "SELECT count(*) FROM security WHERE \"EventID\" = 4698"), 3);
    assert_eq!(count(&engine, "SELECT count(*) FROM \"DeviceEvents\" WHERE \"ActionType\" = 'ScheduledTaskCreated'"), 3);
    // Identifiers keep their case without quotes.
    assert_eq!(
        count(&engine, "SELECT count(*) FROM DeviceProcessEvents WHERE FileName = 'schtasks.exe'"),
        count(&engine, "SELECT count(*) FROM sysmon WHERE \"EventID\" = 1 AND lower(\"Image\") LIKE '%\\schtasks.exe'")
            + count(&engine, "SELECT count(*) FROM security WHERE \"EventID\" = 4688 AND lower(\"NewProcessName\") LIKE '%\\schtasks.exe'")
    );
    let err = engine.run(Lang::Sql, "SELECT nope FROM sysmon").unwrap_err();
    assert!(err.message.contains("nope"), "{err}");
}

#[test]
fn sql_hunt_pack_runs_on_the_corpus() {
    let Some(dir) = taskhunt_events::testing::evtx_samples("sql_hunt_pack_runs_on_the_corpus") else { return };
    let mut events = Vec::new();
    taskhunt_events::read_paths(&[dir], &Default::default(), |b| events.extend(b.events), |_, _| {});
    // Independent tally: task registrations/updates whose XML names a user-writable folder.
    let expected = events
        .iter()
        .filter(|e| &*e.channel == "Security" && (e.event_id == 4698 || e.event_id == 4702))
        .filter(|e| {
            let xml = e.text("TaskContent").or_else(|| e.text("TaskContentNew")).unwrap_or_default().to_lowercase();
            ["\\temp\\", "\\appdata\\", "\\programdata\\", "\\users\\public\\"].iter().any(|p| xml.contains(p))
        })
        .count();
    assert!(expected > 0);
    let mut b = CatalogBuilder::new();
    events.iter().for_each(|e| b.add(e));
    let engine = Engine::new(b.finish(), taskhunt_events::Timestamp::from_ticks(0)).unwrap();
    let hunt = taskhunt_query::hunts::find("tasks-from-public-folders").unwrap();
    let rows: usize = engine.run(hunt.lang, &hunt.text).unwrap().iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, expected);
}
