//! A sorted catalog fed a file at a time makes the tables a plain one makes from the events
//! sorted first (what `taskhunt hunt` relies on to stream its input): same rows in the same
//! order, same raw-table columns in the same order, cut into the same batches.

use taskhunt_events::{Event, ReadOptions, read_paths};
use taskhunt_query::{Catalog, CatalogBuilder};
use taskhunt_simulate::{FleetSpec, simulate};

fn tables(c: &Catalog) -> Vec<(String, String, Vec<datafusion::arrow::array::RecordBatch>)> {
    c.tables.iter().map(|(name, (schema, batches))| (name.clone(), format!("{schema:?}"), batches.clone())).collect()
}

#[test]
fn sorted_catalog_of_unsorted_input_is_the_catalog_of_sorted_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = FleetSpec::new(3, 1, 7);
    spec.events_per_host_day = 400;
    simulate(&spec, dir.path()).unwrap();
    let mut streamed = CatalogBuilder::sorted();
    let mut plain = CatalogBuilder::new();
    let mut events: Vec<Event> = Vec::new();
    read_paths(
        &[dir.path().to_path_buf()],
        &ReadOptions::default(),
        |b| {
            for e in &b.events {
                streamed.add(e);
                plain.add(e);
            }
            events.extend(b.events);
        },
        |_, _| {},
    );
    events.sort_by(|a, b| a.hunt_order().cmp(&b.hunt_order()));
    let mut sorted_first = CatalogBuilder::new();
    events.iter().for_each(|e| sorted_first.add(e));

    let (a, b, unsorted) = (tables(&streamed.finish()), tables(&sorted_first.finish()), tables(&plain.finish()));
    // A file (a host's log) at a time is not time order: without sorting the tables differ.
    assert_ne!(unsorted, b, "the input came sorted; the test shows nothing");
    assert_eq!(a.len(), b.len());
    for ((name, schema_a, batches_a), (_, schema_b, batches_b)) in a.iter().zip(&b) {
        assert_eq!(schema_a, schema_b, "{name}: columns");
        assert_eq!(batches_a.len(), batches_b.len(), "{name}: batches");
        assert!(batches_a == batches_b, "{name}: rows");
    }
    assert!(a.iter().any(|(name, _, batches)| name == "sysmon" && batches.iter().map(|b| b.num_rows()).sum::<usize>() > 100));
}
