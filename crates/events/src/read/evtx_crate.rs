//! `.evtx` files read through the evtx crate: each record rendered to JSON by the crate, then
//! flattened by `evtx_json`. This was the reader before our own decoder (`binxml`, used by
//! `evtx_file`); it stays as the reference the decoder is tested against
//! (`tests/evtx_decoder.rs`, through `testing::read_evtx_with_crate`), with the same damage
//! handling: a chunk whose header or checksum is damaged is reported with the number of
//! records its header says it held, and a file cut short keeps the records before the cut.

use super::{FileBatch, Interned, IssueKind, Location, evtx_json};
use crate::model::{SourceFile, Timestamp};
use evtx::{EvtxChunkData, EvtxChunkHeader, EvtxParser, EvtxRecord, ParserSettings};
use std::io::Cursor;
use std::sync::Arc;

const FILE_HEADER_SIZE: usize = 4096;
const CHUNK_SIZE: usize = 65536;

fn settings() -> ParserSettings {
    // One thread per file: files are decoded in parallel by the caller, which pays more than
    // splitting one small file's chunks across threads.
    ParserSettings::new().num_threads(1).indent(false).validate_checksums(true)
}

const CHUNK_HEADER_SIZE: usize = 512;

/// The header of chunk `index`, when it is there and readable.
fn chunk_header(data: &[u8], index: u64) -> Option<EvtxChunkHeader> {
    let start = FILE_HEADER_SIZE + index as usize * CHUNK_SIZE;
    data.get(start..start + CHUNK_HEADER_SIZE)
        .and_then(|h| EvtxChunkHeader::from_bytes(h).ok())
        .filter(|h| h.last_event_record_id >= h.first_event_record_id)
}

/// Records a damaged chunk's header claims, when the header itself is readable.
fn chunk_record_count(data: &[u8], index: u64) -> u64 {
    chunk_header(data, index).map_or(0, |h| claimed_records(&h))
}

fn claimed_records(h: &EvtxChunkHeader) -> u64 {
    // A record takes at least 24 bytes, which bounds what a damaged header can claim.
    (h.last_event_record_id - h.first_event_record_id + 1).min(CHUNK_SIZE as u64 / 24)
}

pub(crate) fn read(batch: &mut FileBatch, data: &[u8], source: &Arc<SourceFile>) {
    if data.len() < FILE_HEADER_SIZE {
        let msg = format!("file is truncated: {} bytes, shorter than the {FILE_HEADER_SIZE}-byte file header", data.len());
        batch.issue(Location::File, IssueKind::CorruptChunk, msg, 0);
        return;
    }
    let settings = Arc::new(settings());
    let mut parser = match EvtxParser::from_read_seek(Cursor::new(data)) {
        Ok(p) => p.with_configuration((*settings).clone()),
        Err(e) => {
            batch.issue(Location::File, IssueKind::CorruptChunk, format!("evtx file header: {}", error_chain(&e)), 0);
            return;
        }
    };
    // What the file header says is trusted only while its checksum holds.
    let header = parser.header();
    let (header_chunks, next_record_id) = match header.validate_checksum() {
        true => (u64::from(header.chunk_count), header.next_record_id),
        false => (0, 0),
    };
    let mut strings = Interned::default();
    let mut next_index = 0u64;
    for chunk in parser.chunks() {
        match chunk {
            Err(e) => {
                let index = chunk_number_of(&e).unwrap_or(next_index);
                next_index = index + 1;
                let offset = (FILE_HEADER_SIZE + index as usize * CHUNK_SIZE) as u64;
                let lost = chunk_record_count(data, index);
                batch.issue(Location::Chunk { index, offset }, IssueKind::CorruptChunk, error_chain(&e), lost);
            }
            Ok(mut chunk_data) => {
                let index = chunk_data.number.unwrap_or(next_index);
                next_index = index + 1;
                let offset = (FILE_HEADER_SIZE + index as usize * CHUNK_SIZE) as u64;
                let lost = chunk_record_count(data, index);
                let mut chunk = match chunk_data.parse(settings.clone()) {
                    Ok(c) => c,
                    Err(e) => {
                        batch.issue(Location::Chunk { index, offset }, IssueKind::CorruptChunk, error_chain(&e), lost);
                        continue;
                    }
                };
                for record in chunk.iter() {
                    match record {
                        Ok(r) => push_record(batch, r, source, &mut strings),
                        Err(e) => batch.issue(Location::Chunk { index, offset }, IssueKind::CorruptRecord, error_chain(&e), 1),
                    }
                }
            }
        }
    }
    read_cut_off_end(batch, data, header_chunks, next_record_id, &settings, source, &mut strings);
}

fn push_record(batch: &mut FileBatch, record: EvtxRecord<'_>, source: &Arc<SourceFile>, strings: &mut Interned) {
    let id = record.event_record_id;
    let time = Timestamp::from_unix_nanos(record.timestamp.as_nanosecond());
    match record.into_json_value() {
        Ok(r) => match evtx_json::event_from_dump(&r.data, source, strings, Some(time), Some(id)) {
            Ok(ev) => batch.events.push(ev),
            Err(msg) => batch.issue(Location::Record { id }, IssueKind::CorruptRecord, msg, 1),
        },
        Err(e) => batch.issue(Location::Record { id }, IssueKind::CorruptRecord, error_chain(&e), 1),
    }
}

/// A file cut short. The evtx crate reads whole chunks only and silently stops before a partial
/// last chunk, so that chunk's complete records are read here, and what the cut cost (the rest
/// of that chunk, and the chunks the file header lists past the end) is reported.
fn read_cut_off_end(
    batch: &mut FileBatch,
    data: &[u8],
    header_chunks: u64,
    next_record_id: u64,
    settings: &Arc<ParserSettings>,
    source: &Arc<SourceFile>,
    strings: &mut Interned,
) {
    let body = data.len().saturating_sub(FILE_HEADER_SIZE);
    let (whole, tail) = (body / CHUNK_SIZE, body % CHUNK_SIZE);
    // The highest record id any chunk present claims, to estimate what the missing chunks held.
    let mut last_id = (0..whole).filter_map(|i| chunk_header(data, i as u64)).map(|h| h.last_event_record_id).max().unwrap_or(0);
    let mut present = whole as u64;
    let start = FILE_HEADER_SIZE + whole * CHUNK_SIZE;
    if tail > 0 && data[start..].iter().any(|&b| b != 0) {
        let index = whole as u64;
        present += 1;
        if let Some(h) = chunk_header(data, index) {
            last_id = last_id.max(h.last_event_record_id);
        }
        read_partial_chunk(batch, data, index, settings, source, strings);
    }
    if header_chunks > present {
        let missing = header_chunks - present;
        let lost = if last_id > 0 { next_record_id.saturating_sub(last_id + 1) } else { 0 };
        batch.issue(
            Location::Chunk { index: present, offset: (FILE_HEADER_SIZE as u64) + present * CHUNK_SIZE as u64 },
            IssueKind::CorruptChunk,
            format!(
                "file is truncated: its header lists {header_chunks} chunks, the file ends before chunk {present} \
                 ({missing} missing)"
            ),
            lost,
        );
    }
}

/// The complete records of chunk `index`, the last in `data`, whose end is cut off.
fn read_partial_chunk(
    batch: &mut FileBatch,
    data: &[u8],
    index: u64,
    settings: &Arc<ParserSettings>,
    source: &Arc<SourceFile>,
    strings: &mut Interned,
) {
    let offset = (FILE_HEADER_SIZE as u64) + index * CHUNK_SIZE as u64;
    let part = &data[offset as usize..];
    let location = Location::Chunk { index, offset };
    let cut = format!("file is truncated {} bytes into this chunk of {CHUNK_SIZE}", part.len());
    if part.len() < CHUNK_HEADER_SIZE {
        batch.issue(location, IssueKind::CorruptChunk, format!("{cut}, inside its header"), 0);
        return;
    }
    let claimed = chunk_record_count(data, index);
    // Zeroes stand in for the missing bytes; the checksums cover them, so they cannot be
    // checked, and a record is kept only if it ends before the cut.
    let mut padded = part.to_vec();
    padded.resize(CHUNK_SIZE, 0);
    let mut chunk_data = match EvtxChunkData::new(padded, false) {
        Ok(c) => c,
        Err(e) => {
            batch.issue(location, IssueKind::CorruptChunk, format!("{cut}: {}", error_chain(&e)), claimed);
            return;
        }
    };
    chunk_data.number = Some(index);
    let mut chunk = match chunk_data.parse(settings.clone()) {
        Ok(c) => c,
        Err(e) => {
            batch.issue(location, IssueKind::CorruptChunk, format!("{cut}: {}", error_chain(&e)), claimed);
            return;
        }
    };
    let mut read = 0u64;
    for record in chunk.iter().flatten() {
        // A record ends with a 4-byte copy of its size after its BinXML.
        if record.binxml_offset + u64::from(record.binxml_size) + 4 > part.len() as u64 {
            continue;
        }
        let before = batch.events.len();
        push_record(batch, record, source, strings);
        read += (batch.events.len() - before) as u64;
    }
    batch.issue(
        location,
        IssueKind::CorruptChunk,
        format!("{cut}; {read} of its {claimed} records were read before the cut"),
        claimed.saturating_sub(read),
    );
}

fn chunk_number_of(e: &evtx::err::EvtxError) -> Option<u64> {
    match e {
        evtx::err::EvtxError::FailedToParseChunk { chunk_id, .. } => Some(*chunk_id),
        _ => None,
    }
}

/// The error and all of its causes: the crate's outer errors alone ("Failed to parse chunk
/// number 3") do not say what is wrong.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
