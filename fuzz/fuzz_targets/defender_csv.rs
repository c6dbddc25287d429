//! A Defender Advanced Hunting CSV export. The first byte picks the table (the file name names
//! it), so per-table row mapping is reached; the rest is the CSV, forced to the CSV decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use taskhunt_events::read::DEFENDER_TABLES;
use taskhunt_events::{Format, read_bytes, read_bytes_as, tables};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, csv)) = data.split_first() else { return };
    let table = DEFENDER_TABLES[pick as usize % DEFENDER_TABLES.len()];
    let path = PathBuf::from(format!("{table}.csv"));
    let batch = read_bytes_as(&path, csv, Format::DefenderCsv(table));
    for event in &batch.events {
        let _ = tables::normalize(event);
    }
    for issue in &batch.issues {
        let _ = issue.to_string();
    }
    let _ = read_bytes(&path, csv.to_vec());
});
