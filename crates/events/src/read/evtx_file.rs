//! `.evtx` files: every chunk, every record, decoded by our own decoder (`binxml`).
//!
//! Chunks are independent, so a file's chunks are decoded in parallel and their events put
//! back in the order the evtx crate reads them: from the chunk holding the oldest records
//! to the end of the file, then from the start (a log that has wrapped around).
//!
//! A chunk whose header or checksum is damaged is reported with the number of records its
//! header says it held, and the next chunk is read; a record that cannot be decoded is
//! reported with its chunk and id, and the next record is read. A file cut short keeps the
//! records before the cut, and the loss is reported.

use super::binxml::chunk::{self, CHUNK_HEADER_SIZE, CHUNK_SIZE, ChunkHeader, Decoded};
use super::{FileBatch, IssueKind, Location};
use crate::model::SourceFile;
use rayon::prelude::*;
use std::sync::Arc;

const FILE_HEADER_SIZE: usize = 4096;
/// The file header flag saying its checksum is not kept.
const NO_CRC32: u32 = 0x4;

fn chunk_offset(index: u64) -> u64 {
    FILE_HEADER_SIZE as u64 + index * CHUNK_SIZE as u64
}

fn le<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&data[at..at + N]);
    out
}

/// A `.evtx` file as reading needs it: its header, its chunks in use, and the bytes past the
/// last whole chunk of a file cut short. Chunks that are all zeroes (never used, as in a new
/// log's preallocated chunks) are left out, as the evtx crate skips them.
struct Layout<'a> {
    header: &'a [u8],
    /// Whole chunks in the file, used or not.
    whole: u64,
    /// The chunks in use, by index, in file order.
    chunks: Vec<(u64, &'a [u8])>,
    tail: &'a [u8],
}

fn all_zero(bytes: &[u8]) -> bool {
    // The magic is checked first: it saves scanning the 64 KiB of every chunk in use. The
    // scan ORs 64 bytes at a time, which compiles to vector instructions.
    !bytes.starts_with(b"ElfChnk\0") && bytes.chunks(64).all(|c| c.iter().fold(0, |acc, &b| acc | b) == 0)
}

/// Reads `.evtx` bytes already in memory.
pub(crate) fn read(batch: &mut FileBatch, data: &[u8], source: &Arc<SourceFile>) {
    let Some((header, body)) = checked_header(batch, data) else { return };
    let mut layout = Layout { header, whole: 0, chunks: Vec::new(), tail: &[] };
    let mut whole = body.chunks_exact(CHUNK_SIZE);
    for (index, chunk) in (&mut whole).enumerate() {
        if !all_zero(chunk) {
            layout.chunks.push((index as u64, chunk));
        }
        layout.whole += 1;
    }
    layout.tail = whole.remainder();
    read_layout(batch, &layout, source);
}

/// Reads a `.evtx` file from `file`, whose first bytes, `start`, have been read already.
/// Chunks are read one at a time and only those in use are kept: many logs are mostly
/// preallocated chunks never used, which then cost neither memory nor a fresh buffer.
pub(crate) fn read_file(batch: &mut FileBatch, mut start: Vec<u8>, file: &mut impl std::io::Read, source: &Arc<SourceFile>) {
    if let Err(e) = fill(file, &mut start, FILE_HEADER_SIZE) {
        batch.issue(Location::File, IssueKind::Unreadable, e.to_string(), 0);
        return;
    }
    batch.bytes = start.len() as u64;
    let Some((header, _)) = checked_header(batch, &start) else { return };
    let mut chunks: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut buf = Vec::with_capacity(CHUNK_SIZE);
    let mut whole = 0u64;
    let tail = loop {
        buf.clear();
        if let Err(e) = fill(file, &mut buf, CHUNK_SIZE) {
            batch.issue(Location::File, IssueKind::Unreadable, e.to_string(), 0);
            return;
        }
        batch.bytes += buf.len() as u64;
        if buf.len() < CHUNK_SIZE {
            break buf;
        }
        if !all_zero(&buf) {
            chunks.push((whole, std::mem::replace(&mut buf, Vec::with_capacity(CHUNK_SIZE))));
        }
        whole += 1;
    };
    let chunks = chunks.iter().map(|(i, c)| (*i, &c[..])).collect();
    read_layout(batch, &Layout { header, whole, chunks, tail: &tail }, source);
}

/// Reads from `file` until `buf` holds `len` bytes or the file ends.
fn fill(file: &mut impl std::io::Read, buf: &mut Vec<u8>, len: usize) -> std::io::Result<()> {
    let want = len.saturating_sub(buf.len()) as u64;
    std::io::Read::read_to_end(&mut std::io::Read::take(file, want), buf).map(|_| ())
}

/// The file header and what follows it, or `None` after reporting why there is no header.
fn checked_header<'a>(batch: &mut FileBatch, data: &'a [u8]) -> Option<(&'a [u8], &'a [u8])> {
    if data.len() < FILE_HEADER_SIZE {
        let msg = format!("file is truncated: {} bytes, shorter than the {FILE_HEADER_SIZE}-byte file header", data.len());
        batch.issue(Location::File, IssueKind::CorruptChunk, msg, 0);
        return None;
    }
    if !data.starts_with(b"ElfFile\0") {
        batch.issue(Location::File, IssueKind::CorruptChunk, "evtx file header: no ElfFile magic", 0);
        return None;
    }
    Some(data.split_at(FILE_HEADER_SIZE))
}

fn read_layout(batch: &mut FileBatch, layout: &Layout<'_>, source: &Arc<SourceFile>) {
    let header = layout.header;
    // What the file header says is trusted only while its checksum holds; chunks are found
    // without it.
    let flags = u32::from_le_bytes(le(header, 120));
    let header_ok = flags & NO_CRC32 != 0 || u32::from_le_bytes(le(header, 124)) == crc32fast::hash(&header[..120]);
    let (header_chunks, next_record_id) = match header_ok {
        true => (u64::from(u16::from_le_bytes(le(header, 42))), u64::from_le_bytes(le(header, 24))),
        false => (0, 0),
    };
    // From the chunk whose header names the lowest record id, to the end, then from the
    // start: the evtx crate's order, which is Windows' for a log that has wrapped around.
    let oldest = layout.chunks.iter().filter_map(|&(i, c)| ranged_header(c).map(|h| (h.first_id, i))).min().map_or(0, |(_, i)| i);
    let split = layout.chunks.partition_point(|&(i, _)| i < oldest);
    let order: Vec<(u64, &[u8])> = layout.chunks[split..].iter().chain(&layout.chunks[..split]).copied().collect();
    let decode = |&(index, bytes): &(u64, &[u8])| decode_whole_chunk(bytes, index, source);
    let results: Vec<Decoded> = if order.len() > 1 { order.par_iter().map(decode).collect() } else { order.iter().map(decode).collect() };
    if results.len() > 1 {
        batch.events.reserve(results.iter().map(|d| d.events.len()).sum());
    }
    for decoded in results {
        if batch.events.is_empty() {
            // Most files have one chunk in use: its events are the file's, without a copy.
            batch.events = decoded.events;
        } else {
            batch.events.extend(decoded.events);
        }
        for (location, kind, msg, lost) in decoded.issues {
            batch.issue(location, kind, msg, lost);
        }
    }
    read_cut_off_end(batch, layout, header_chunks, next_record_id, source);
}

/// A chunk's header when its record range makes sense.
fn ranged_header(chunk: &[u8]) -> Option<ChunkHeader> {
    chunk::header(chunk).filter(|h| h.last_id >= h.first_id)
}

/// Whole chunk `index` (not all zeroes): its events and problems.
fn decode_whole_chunk(bytes: &[u8], index: u64, source: &Arc<SourceFile>) -> Decoded {
    let offset = chunk_offset(index);
    let location = Location::Chunk { index, offset };
    let failed =
        |msg: String, lost: u64| Decoded { events: Vec::new(), issues: vec![(location.clone(), IssueKind::CorruptChunk, msg, lost)] };
    let Some(h) = chunk::header(bytes) else {
        return failed("no ElfChnk magic at the start of the chunk".into(), 0);
    };
    if let Err(msg) = chunk::check(bytes, &h) {
        return failed(msg, chunk::claimed_records(&h));
    }
    chunk::decode(bytes, &h, index, offset, None, source)
}

/// A file cut short: the complete records of its partial last chunk are read, and what the
/// cut cost (the rest of that chunk, and the chunks the file header lists past the end) is
/// reported.
fn read_cut_off_end(batch: &mut FileBatch, layout: &Layout<'_>, header_chunks: u64, next_record_id: u64, source: &Arc<SourceFile>) {
    // The highest record id any chunk present claims, to estimate what the missing chunks held.
    let mut last_id = layout.chunks.iter().filter_map(|&(_, c)| ranged_header(c)).map(|h| h.last_id).max().unwrap_or(0);
    let mut present = layout.whole;
    if layout.tail.iter().any(|&b| b != 0) {
        let index = layout.whole;
        present += 1;
        if let Some(h) = ranged_header(layout.tail) {
            last_id = last_id.max(h.last_id);
        }
        read_partial_chunk(batch, layout.tail, index, source);
    }
    if header_chunks > present {
        let missing = header_chunks - present;
        let lost = if last_id > 0 { next_record_id.saturating_sub(last_id + 1) } else { 0 };
        let location = Location::Chunk { index: present, offset: chunk_offset(present) };
        let msg =
            format!("file is truncated: its header lists {header_chunks} chunks, the file ends before chunk {present} ({missing} missing)");
        batch.issue(location, IssueKind::CorruptChunk, msg, lost);
    }
}

/// The complete records of chunk `index`, `part`, whose end is cut off.
fn read_partial_chunk(batch: &mut FileBatch, part: &[u8], index: u64, source: &Arc<SourceFile>) {
    let offset = chunk_offset(index);
    let location = Location::Chunk { index, offset };
    let cut = format!("file is truncated {} bytes into this chunk of {CHUNK_SIZE}", part.len());
    if part.len() < CHUNK_HEADER_SIZE {
        batch.issue(location, IssueKind::CorruptChunk, format!("{cut}, inside its header"), 0);
        return;
    }
    let Some(h) = chunk::header(part) else {
        batch.issue(location, IssueKind::CorruptChunk, format!("{cut}, and it has no ElfChnk magic"), 0);
        return;
    };
    let claimed = chunk::claimed_records(&h);
    // Zeroes stand in for the missing bytes; the checksums cover them, so they cannot be
    // checked, and a record is kept only if it ends before the cut.
    let mut padded = part.to_vec();
    padded.resize(CHUNK_SIZE, 0);
    let decoded = chunk::decode(&padded, &h, index, offset, Some(part.len()), source);
    let read = decoded.events.len() as u64;
    batch.events.extend(decoded.events);
    for (location, kind, msg, lost) in decoded.issues {
        batch.issue(location, kind, msg, lost);
    }
    let msg = format!("{cut}; {read} of its {claimed} records were read before the cut");
    batch.issue(location, IssueKind::CorruptChunk, msg, claimed.saturating_sub(read));
}
