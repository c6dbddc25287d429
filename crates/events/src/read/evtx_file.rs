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

/// Chunks decoded together and handed on as one part: bounds what a file of any size holds in
/// memory at once (64 chunks are 4 MiB of input) while still giving every core work.
pub(crate) const PART_CHUNKS: usize = 64;

/// Where a file's chunks are read from: bytes in memory, or a file read a part at a time.
trait ChunkStore {
    /// Appends the (up to) `len` bytes at `offset` to `into`.
    fn read_at(&mut self, offset: u64, len: usize, into: &mut Vec<u8>) -> std::io::Result<()>;
}

struct InMemory<'a>(&'a [u8]);

impl ChunkStore for InMemory<'_> {
    fn read_at(&mut self, offset: u64, len: usize, into: &mut Vec<u8>) -> std::io::Result<()> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.0.len());
        into.extend_from_slice(&self.0[start..start.saturating_add(len).min(self.0.len())]);
        Ok(())
    }
}

struct OnDisk<'a, F>(&'a mut F);

impl<F: std::io::Read + std::io::Seek> ChunkStore for OnDisk<'_, F> {
    fn read_at(&mut self, offset: u64, len: usize, into: &mut Vec<u8>) -> std::io::Result<()> {
        self.0.seek(std::io::SeekFrom::Start(offset))?;
        fill(self.0, into, into.len() + len)
    }
}

fn all_zero(bytes: &[u8]) -> bool {
    // The magic is checked first: it saves scanning the 64 KiB of every chunk in use. The
    // scan ORs 64 bytes at a time, which compiles to vector instructions.
    !bytes.starts_with(b"ElfChnk\0") && bytes.chunks(64).all(|c| c.iter().fold(0, |acc, &b| acc | b) == 0)
}

/// Reads `.evtx` bytes already in memory.
pub(crate) fn read(batch: &mut FileBatch, data: &[u8], source: &Arc<SourceFile>) {
    let Some((header, body)) = checked_header(batch, data) else { return };
    let (whole, tail) = ((body.len() / CHUNK_SIZE) as u64, body.len() % CHUNK_SIZE);
    let header = header.to_vec();
    let mut parts = Vec::new();
    let result = read_chunks(&header, whole, tail, &mut InMemory(data), source, &mut |part| parts.push(part));
    for part in parts {
        append(batch, part);
    }
    if let Err(e) = result {
        batch.issue(Location::File, IssueKind::Unreadable, e.to_string(), 0);
    }
}

/// Moves a part's events and problems into `batch`.
pub(crate) fn append(batch: &mut FileBatch, part: Decoded) {
    if batch.events.is_empty() {
        batch.events = part.events;
    } else {
        batch.events.extend(part.events);
    }
    for (location, kind, msg, lost) in part.issues {
        batch.issue(location, kind, msg, lost);
    }
}

/// Reads a `.evtx` file from `file`, whose first bytes, `start`, have been read already, a part
/// of [`PART_CHUNKS`] chunks at a time: `emit` gets each part's events and problems in order.
/// Memory does not grow with the file. Returns the file's length.
pub(crate) fn stream_file<F: std::io::Read + std::io::Seek>(
    mut start: Vec<u8>,
    file: &mut F,
    source: &Arc<SourceFile>,
    emit: &mut dyn FnMut(Decoded),
) -> u64 {
    let unreadable =
        |e: std::io::Error| Decoded { events: Vec::new(), issues: vec![(Location::File, IssueKind::Unreadable, e.to_string(), 0)] };
    if let Err(e) = fill(file, &mut start, FILE_HEADER_SIZE) {
        emit(unreadable(e));
        return start.len() as u64;
    }
    let mut probe = FileBatch::default();
    let Some((header, _)) = checked_header(&mut probe, &start) else {
        let issues = probe.issues.into_iter().map(|i| (i.location, i.kind, i.message, i.records_skipped)).collect();
        emit(Decoded { events: Vec::new(), issues });
        return start.len() as u64;
    };
    let len = match file.seek(std::io::SeekFrom::End(0)) {
        Ok(len) => len,
        Err(e) => {
            emit(unreadable(e));
            return start.len() as u64;
        }
    };
    let body = len.saturating_sub(FILE_HEADER_SIZE as u64);
    let (whole, tail) = (body / CHUNK_SIZE as u64, (body % CHUNK_SIZE as u64) as usize);
    let header = header.to_vec();
    if let Err(e) = read_chunks(&header, whole, tail, &mut OnDisk(file), source, emit) {
        emit(unreadable(e));
    }
    len
}

/// The reading itself, from either store. A first pass over the chunk headers finds the chunk
/// holding the oldest records (where a log that wrapped around starts, which is where the evtx
/// crate starts too) and the highest record id; the second decodes the chunks from the oldest
/// on, a part at a time, each part's chunks in parallel.
fn read_chunks(
    header: &[u8],
    whole: u64,
    tail: usize,
    store: &mut dyn ChunkStore,
    source: &Arc<SourceFile>,
    emit: &mut dyn FnMut(Decoded),
) -> std::io::Result<()> {
    // What the file header says is trusted only while its checksum holds; chunks are found
    // without it.
    let flags = u32::from_le_bytes(le(header, 120));
    let header_ok = flags & NO_CRC32 != 0 || u32::from_le_bytes(le(header, 124)) == crc32fast::hash(&header[..120]);
    let (header_chunks, next_record_id) = match header_ok {
        true => (u64::from(u16::from_le_bytes(le(header, 42))), u64::from_le_bytes(le(header, 24))),
        false => (0, 0),
    };
    let mut oldest: Option<(u64, u64)> = None;
    let mut last_id = 0u64;
    let mut buf = Vec::with_capacity(CHUNK_SIZE);
    for index in 0..whole {
        buf.clear();
        store.read_at(chunk_offset(index), CHUNK_HEADER_SIZE, &mut buf)?;
        if let Some(h) = ranged_header(&buf) {
            if oldest.is_none_or(|(first, _)| h.first_id < first) {
                oldest = Some((h.first_id, index));
            }
            last_id = last_id.max(h.last_id);
        }
    }
    let oldest = oldest.map_or(0, |(_, i)| i);
    let order: Vec<u64> = (oldest..whole).chain(0..oldest).collect();
    for part in order.chunks(PART_CHUNKS) {
        let mut chunks: Vec<(u64, Vec<u8>)> = Vec::with_capacity(part.len());
        for &index in part {
            let mut bytes = Vec::with_capacity(CHUNK_SIZE);
            store.read_at(chunk_offset(index), CHUNK_SIZE, &mut bytes)?;
            // Chunks of zeroes were never used (a new log's preallocated chunks): the evtx
            // crate skips them, and so do we.
            if !all_zero(&bytes) {
                chunks.push((index, bytes));
            }
        }
        let decode = |(index, bytes): &(u64, Vec<u8>)| decode_whole_chunk(bytes, *index, source);
        let decoded: Vec<Decoded> =
            if chunks.len() > 1 { chunks.par_iter().map(decode).collect() } else { chunks.iter().map(decode).collect() };
        drop(chunks);
        let mut merged = Decoded { events: Vec::with_capacity(decoded.iter().map(|d| d.events.len()).sum()), issues: Vec::new() };
        for d in decoded {
            merged.events.extend(d.events);
            merged.issues.extend(d.issues);
        }
        emit(merged);
    }
    let mut end = Decoded { events: Vec::new(), issues: Vec::new() };
    let mut present = whole;
    if tail > 0 {
        buf.clear();
        store.read_at(chunk_offset(whole), tail, &mut buf)?;
        if buf.iter().any(|&b| b != 0) {
            present += 1;
            if let Some(h) = ranged_header(&buf) {
                last_id = last_id.max(h.last_id);
            }
            read_partial_chunk(&mut end, &buf, whole, source);
        }
    }
    if header_chunks > present {
        let missing = header_chunks - present;
        // The highest record id any chunk present claims estimates what the missing chunks held.
        let lost = if last_id > 0 { next_record_id.saturating_sub(last_id + 1) } else { 0 };
        let location = Location::Chunk { index: present, offset: chunk_offset(present) };
        let msg =
            format!("file is truncated: its header lists {header_chunks} chunks, the file ends before chunk {present} ({missing} missing)");
        end.issues.push((location, IssueKind::CorruptChunk, msg, lost));
    }
    if !end.events.is_empty() || !end.issues.is_empty() {
        emit(end);
    }
    Ok(())
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
        if !damaged_header(data) {
            batch.issue(Location::File, IssueKind::CorruptChunk, "evtx file header: no ElfFile magic", 0);
            return None;
        }
        // The chunks are intact: read them. The header's checksum fails too, so nothing it
        // says is trusted.
        batch.issue(Location::File, IssueKind::CorruptChunk, "evtx file header: no ElfFile magic; chunks read without it", 0);
    }
    Some(data.split_at(FILE_HEADER_SIZE))
}

/// A `.evtx` file whose header magic is damaged but whose first chunk is where it belongs.
pub(crate) fn damaged_header(data: &[u8]) -> bool {
    data.get(FILE_HEADER_SIZE..FILE_HEADER_SIZE + 8) == Some(b"ElfChnk\0")
}

/// Whether `start` (at least the first 4104 bytes of a file, when it has them) is a `.evtx` file.
pub(crate) fn is_evtx(start: &[u8]) -> bool {
    start.starts_with(b"ElfFile\0") || damaged_header(start)
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
    // With its header damaged, a chunk's loss is counted by walking its records.
    let Some(h) = chunk::header(bytes) else {
        return failed("no ElfChnk magic at the start of the chunk".into(), chunk::walked_records(bytes));
    };
    if let Err(msg) = chunk::check(bytes, &h) {
        return failed(msg, chunk::claimed_records(&h).max(chunk::walked_records(bytes)));
    }
    chunk::decode(bytes, &h, index, offset, None, source)
}

/// The complete records of chunk `index`, `part`, whose end is cut off.
fn read_partial_chunk(out: &mut Decoded, part: &[u8], index: u64, source: &Arc<SourceFile>) {
    let offset = chunk_offset(index);
    let location = Location::Chunk { index, offset };
    let cut = format!("file is truncated {} bytes into this chunk of {CHUNK_SIZE}", part.len());
    if part.len() < CHUNK_HEADER_SIZE {
        out.issues.push((location, IssueKind::CorruptChunk, format!("{cut}, inside its header"), 0));
        return;
    }
    let Some(h) = chunk::header(part) else {
        out.issues.push((location, IssueKind::CorruptChunk, format!("{cut}, and it has no ElfChnk magic"), 0));
        return;
    };
    let claimed = chunk::claimed_records(&h);
    // Zeroes stand in for the missing bytes; the checksums cover them, so they cannot be
    // checked, and a record is kept only if it ends before the cut.
    let mut padded = part.to_vec();
    padded.resize(CHUNK_SIZE, 0);
    let decoded = chunk::decode(&padded, &h, index, offset, Some(part.len()), source);
    let read = decoded.events.len() as u64;
    out.events.extend(decoded.events);
    out.issues.extend(decoded.issues);
    let msg = format!("{cut}; {read} of its {claimed} records were read before the cut");
    out.issues.push((location, IssueKind::CorruptChunk, msg, claimed.saturating_sub(read)));
}
