//! `.evtx` files: every chunk, every record. A chunk whose header or checksum is damaged is
//! reported with the number of records its header says it held, and the next chunk is read.

use super::{FileBatch, Interned, IssueKind, Location, evtx_json};
use crate::model::{SourceFile, Timestamp};
use evtx::{EvtxChunkHeader, EvtxParser, ParserSettings};
use std::io::Cursor;
use std::sync::Arc;

const FILE_HEADER_SIZE: usize = 4096;
const CHUNK_SIZE: usize = 65536;

fn settings() -> ParserSettings {
    // One thread per file: files are decoded in parallel by the caller, which pays more than
    // splitting one small file's chunks across threads.
    ParserSettings::new()
        .num_threads(1)
        .indent(false)
        .validate_checksums(true)
}

/// Records a damaged chunk's header claims, when the header itself is readable.
fn chunk_record_count(data: &[u8], index: u64) -> u64 {
    let start = FILE_HEADER_SIZE + index as usize * CHUNK_SIZE;
    data.get(start..start + 512)
        .and_then(|h| EvtxChunkHeader::from_bytes(h).ok())
        .filter(|h| h.last_event_record_id >= h.first_event_record_id)
        .map(|h| (h.last_event_record_id - h.first_event_record_id + 1).min(CHUNK_SIZE as u64 / 24))
        .unwrap_or(0)
}

pub(crate) fn read(batch: &mut FileBatch, data: Vec<u8>, source: &Arc<SourceFile>) {
    let settings = Arc::new(settings());
    let mut parser = match EvtxParser::from_read_seek(Cursor::new(&data[..])) {
        Ok(p) => p.with_configuration((*settings).clone()),
        Err(e) => {
            batch.issue(Location::File, IssueKind::CorruptChunk, format!("evtx file header: {e}"), 0);
            return;
        }
    };
    let mut strings = Interned::default();
    let mut next_index = 0u64;
    for chunk in parser.chunks() {
        match chunk {
            Err(e) => {
                let index = chunk_number_of(&e).unwrap_or(next_index);
                next_index = index + 1;
                let offset = (FILE_HEADER_SIZE + index as usize * CHUNK_SIZE) as u64;
                let lost = chunk_record_count(&data, index);
                batch.issue(Location::Chunk { index, offset }, IssueKind::CorruptChunk, error_chain(&e), lost);
            }
            Ok(mut chunk_data) => {
                let index = chunk_data.number.unwrap_or(next_index);
                next_index = index + 1;
                let offset = (FILE_HEADER_SIZE + index as usize * CHUNK_SIZE) as u64;
                let lost = chunk_record_count(&data, index);
                let mut chunk = match chunk_data.parse(settings.clone()) {
                    Ok(c) => c,
                    Err(e) => {
                        batch.issue(Location::Chunk { index, offset }, IssueKind::CorruptChunk, error_chain(&e), lost);
                        continue;
                    }
                };
                for record in chunk.iter() {
                    let record = match record {
                        Ok(r) => r,
                        Err(e) => {
                            batch.issue(Location::Chunk { index, offset }, IssueKind::CorruptRecord, error_chain(&e), 1);
                            continue;
                        }
                    };
                    let id = record.event_record_id;
                    let time = Timestamp::from_unix_nanos(record.timestamp.as_nanosecond());
                    match record.into_json_value() {
                        Ok(r) => match evtx_json::event_from_dump(&r.data, source, &mut strings, Some(time), Some(id)) {
                            Ok(ev) => batch.events.push(ev),
                            Err(msg) => batch.issue(Location::Record { id }, IssueKind::CorruptRecord, msg, 1),
                        },
                        Err(e) => batch.issue(Location::Record { id }, IssueKind::CorruptRecord, error_chain(&e), 1),
                    }
                }
            }
        }
    }
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
