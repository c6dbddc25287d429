//! evtx-dump JSON (lines or an array), forced to that decoder: content detection would turn away most mutations before
//! the decoder sees them. A second pass through `read_bytes` covers detection itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use taskhunt_events::{Format, read_bytes, read_bytes_as, tables};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.jsonl");
    let batch = read_bytes_as(path, data, Format::EvtxJson);
    for event in &batch.events {
        let _ = tables::normalize(event);
    }
    for issue in &batch.issues {
        let _ = issue.to_string();
    }
    let _ = read_bytes(path, data.to_vec());
});
