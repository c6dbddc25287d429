//! A whole `.evtx` file, through the same content detection and chunk layout as `read_file`.
//! Checksums are left as they are, so most mutations exercise the damage handling (bad header,
//! bad chunk CRC, a file cut short inside a chunk — whose records are decoded without a CRC).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use taskhunt_events::{Format, read_bytes, tables};

fuzz_target!(|data: &[u8]| {
    let batch = read_bytes(Path::new("fuzz.evtx"), data.to_vec());
    if data.starts_with(b"ElfFile\0") {
        assert_eq!(batch.format, Some(Format::Evtx));
    }
    for event in &batch.events {
        let _ = tables::normalize(event);
    }
    for issue in &batch.issues {
        let _ = issue.to_string();
    }
});
