//! One 64 KiB evtx chunk behind a minimal file header. Both chunk checksums are recomputed
//! first: otherwise nearly every mutation stops at "CRC32 invalid" and the BinXML decoder
//! (templates, substitutions, value types) is never reached.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use taskhunt_events::{read_bytes, tables};

const FILE_HEADER: usize = 4096;
const CHUNK: usize = 65536;
const CHUNK_HEADER: usize = 512;

fuzz_target!(|data: &[u8]| {
    let mut file = vec![0u8; FILE_HEADER];
    file[..8].copy_from_slice(b"ElfFile\0");
    let mut chunk = data[..data.len().min(CHUNK)].to_vec();
    if chunk.len() >= CHUNK_HEADER {
        let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap()) as usize;
        if let Some(records) = chunk.get(CHUNK_HEADER..free) {
            let crc = crc32fast::hash(records);
            chunk[52..56].copy_from_slice(&crc.to_le_bytes());
        }
        let mut h = crc32fast::Hasher::new();
        h.update(&chunk[..120]);
        h.update(&chunk[128..CHUNK_HEADER]);
        let crc = h.finalize();
        chunk[124..128].copy_from_slice(&crc.to_le_bytes());
    }
    file.extend_from_slice(&chunk);
    let batch = read_bytes(Path::new("fuzz.evtx"), file);
    for event in &batch.events {
        let _ = tables::normalize(event);
    }
    for issue in &batch.issues {
        let _ = issue.to_string();
    }
});
