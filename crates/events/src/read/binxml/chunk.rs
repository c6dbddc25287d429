//! One 64 KiB chunk: its header and checksums, the walk over its records, and each record's
//! event. A chunk needs nothing from the rest of its file (its names and templates are its
//! own), so chunks are decoded independently, in parallel.

use super::build::Decoder;
use super::plan::{self, Lookup, Plan};
use super::render::Render;
use super::sink::{FlatSink, JsonSink};
use super::values::{u32_at, u64_at};
use crate::model::{Event, SourceFile, Timestamp};
use crate::read::evtx_json::{event_from_dump, event_from_fields};
use crate::read::{Interned, IssueKind, Location};
use std::sync::Arc;

pub(crate) const CHUNK_SIZE: usize = 65536;
pub(crate) const CHUNK_HEADER_SIZE: usize = 512;
const RECORD_HEADER_SIZE: usize = 24;
const RECORD_MAGIC: &[u8; 4] = b"\x2a\x2a\x00\x00";
/// The chunk header flag saying its checksums are not kept.
const NO_CRC32: u32 = 0x4;

/// The chunk header fields reading needs (MS-EVEN6 2.2.2 / libevtx's chunk header).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChunkHeader {
    pub first_id: u64,
    pub last_id: u64,
    last_record_offset: u32,
    free_space: u32,
    records_crc: u32,
    flags: u32,
    header_crc: u32,
}

/// The header at the start of `chunk`, when it has the chunk magic.
pub(crate) fn header(chunk: &[u8]) -> Option<ChunkHeader> {
    if chunk.len() < CHUNK_HEADER_SIZE || &chunk[..8] != b"ElfChnk\0" {
        return None;
    }
    let u32_of = |at| u32_at(chunk, at).ok();
    let u64_of = |at| u64_at(chunk, at).ok();
    Some(ChunkHeader {
        first_id: u64_of(24)?,
        last_id: u64_of(32)?,
        last_record_offset: u32_of(44)?,
        free_space: u32_of(48)?,
        records_crc: u32_of(52)?,
        flags: u32_of(120)?,
        header_crc: u32_of(124)?,
    })
}

/// Records found by walking the record headers from the first (each starts with the record
/// magic and gives its size): what a chunk held when its header is too damaged to say.
pub(crate) fn walked_records(chunk: &[u8]) -> u64 {
    let mut at = CHUNK_HEADER_SIZE;
    let mut n = 0;
    while let Some(head) = chunk.get(at..at + RECORD_HEADER_SIZE)
        && head.starts_with(RECORD_MAGIC)
    {
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        if size < RECORD_HEADER_SIZE || at + size > chunk.len() {
            break;
        }
        n += 1;
        at += size;
    }
    n
}

/// Records a header claims, when its range makes sense: a record takes at least 24 bytes,
/// which bounds what a damaged header can claim.
pub(crate) fn claimed_records(h: &ChunkHeader) -> u64 {
    if h.last_id < h.first_id {
        return 0;
    }
    (h.last_id - h.first_id + 1).min((CHUNK_SIZE / RECORD_HEADER_SIZE) as u64)
}

/// Checks the header's CRC32 (over its first 120 bytes and bytes 128..512), then the records'
/// (from the header to the free space).
pub(crate) fn check(chunk: &[u8], h: &ChunkHeader) -> Result<(), String> {
    if h.flags & NO_CRC32 != 0 {
        return Ok(());
    }
    if chunk.len() < CHUNK_HEADER_SIZE {
        return Err("chunk shorter than its header".into());
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&chunk[..120]);
    crc.update(&chunk[128..CHUNK_HEADER_SIZE]);
    let found = crc.finalize();
    if found != h.header_crc {
        return Err(format!("chunk header CRC32 invalid (stored {:#010x}, computed {found:#010x})", h.header_crc));
    }
    let Some(records) = chunk.get(CHUNK_HEADER_SIZE..h.free_space as usize) else {
        return Err(format!("chunk free space offset {:#x} is outside the chunk", h.free_space));
    };
    let found = crc32fast::hash(records);
    if found != h.records_crc {
        return Err(format!("chunk records CRC32 invalid (stored {:#010x}, computed {found:#010x})", h.records_crc));
    }
    Ok(())
}

/// What decoding one chunk gave.
#[derive(Default)]
pub(crate) struct Decoded {
    pub events: Vec<Event>,
    pub issues: Vec<(Location, IssueKind, String, u64)>,
}

/// One record's place in the chunk.
struct RawRecord {
    id: u64,
    filetime: u64,
    bin_off: usize,
    bin_len: usize,
    end: usize,
}

/// The record at `at`, checked as far as its header allows.
fn record_at(chunk: &[u8], at: usize) -> Result<RawRecord, (bool, String)> {
    // A zeroed or cut-off header is where the records end (`true`), not damage.
    let head = chunk.get(at..at + RECORD_HEADER_SIZE).ok_or((true, "record header past the chunk end".to_string()))?;
    if &head[..4] != RECORD_MAGIC {
        return Err((head[..4] == [0; 4], format!("no record magic at chunk offset {at:#x}")));
    }
    let size = u32_at(head, 4).unwrap_or(0) as usize;
    let id = u64_at(head, 8).unwrap_or(0);
    let filetime = u64_at(head, 16).unwrap_or(0);
    if !record_time_ok(filetime) {
        return Err((false, format!("record {id} at chunk offset {at:#x} has an impossible time ({filetime:#x})")));
    }
    // The header, the BinXML, and a copy of the size.
    let Some(bin_len) = size.checked_sub(RECORD_HEADER_SIZE + 4) else {
        return Err((false, format!("record {id} at chunk offset {at:#x} has size {size}, less than 28")));
    };
    let bin_off = at + RECORD_HEADER_SIZE;
    if bin_off + bin_len > chunk.len() {
        return Err((false, format!("record {id} at chunk offset {at:#x} runs past the chunk end")));
    }
    Ok(RawRecord { id, filetime, bin_off, bin_len, end: at + size })
}

/// Whether a record header's FILETIME is one the evtx crate accepts (it fails the record
/// otherwise): one its time library can hold, up to the end of year 9999.
fn record_time_ok(filetime: u64) -> bool {
    let secs = (filetime / 10_000_000) as i64 - 11_644_473_600;
    let nanos = ((filetime % 10_000_000) * 100) as i32;
    jiff::Timestamp::new(secs, nanos).is_ok()
}

/// Where the next live record at or after `from` starts: a record magic whose header and
/// trailing size copy check out, inside the live area, with an id in the header's range.
fn find_live_record(chunk: &[u8], h: &ChunkHeader, live_end: usize, mut from: usize) -> Option<usize> {
    let search_end = live_end.min(h.last_record_offset as usize + 4);
    while from < search_end {
        let hit = memchr::memmem::find(chunk.get(from..search_end)?, RECORD_MAGIC)?;
        let at = from + hit;
        if let Ok(r) = record_at(chunk, at)
            && r.end <= live_end
            && (h.first_id..=h.last_id).contains(&r.id)
            && u32_at(chunk, r.bin_off + r.bin_len).ok() == Some((r.end - at) as u32)
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Decodes every record of chunk `index`. `cut`: the chunk is the end of a file cut short
/// after that many bytes (zeroes stand in for the rest), and only records that end before
/// the cut are kept.
pub(crate) fn decode(chunk: &[u8], h: &ChunkHeader, index: u64, file_offset: u64, cut: Option<usize>, source: &Arc<SourceFile>) -> Decoded {
    let mut out = Decoded { events: Vec::with_capacity(claimed_records(h).min(1024) as usize), issues: Vec::new() };
    let location = Location::Chunk { index, offset: file_offset };
    let mut decoder = Decoder::new(chunk);
    plan::start_chunk();
    let mut strings = Interned::default();
    let live_end = (h.free_space as usize).min(chunk.len());
    let mut at = CHUNK_HEADER_SIZE;
    // What decoding may cost (`limits::chunk_work`): templates let a few bytes of record stand
    // for thousands of nodes, so a crafted chunk of records that all instantiate one huge
    // template would take long to decode though each record stays under its own bound. The
    // busiest chunk of the corpus costs 10,875.
    let max_work = crate::limits::current().chunk_work;
    // A damaged record costs one; in a file cut short, the caller's report of the cut counts
    // every record the chunk lost, these among them.
    let lost = if cut.is_some() { 0 } else { 1 };
    let mut work = 0usize;
    while at < live_end {
        let record = match record_at(chunk, at) {
            Ok(r) => r,
            // Past the cut of a file cut short, damage is what the cut did, which the caller
            // reports for the whole chunk.
            Err(_) if cut.is_some_and(|cut| at + RECORD_HEADER_SIZE > cut) => break,
            Err((blank, msg)) => {
                let next = find_live_record(chunk, h, live_end, at + 1);
                if next.is_some() || !blank {
                    out.issues.push((location.clone(), IssueKind::CorruptRecord, msg, lost));
                }
                match next {
                    Some(n) => {
                        at = n;
                        continue;
                    }
                    None => break,
                }
            }
        };
        let last = record.id == h.last_id;
        at = record.end;
        if cut.is_none_or(|cut| record.bin_off + record.bin_len + 4 <= cut) {
            match record_event(&mut decoder, &mut strings, &record, source) {
                Ok(event) => {
                    work += values(&event);
                    out.events.push(event);
                }
                Err(msg) => {
                    let where_ = Location::EvtxRecord { chunk: index, id: record.id };
                    out.issues.push((where_, IssueKind::CorruptRecord, msg, lost));
                }
            }
            work += decoder.take_built();
            if work > max_work && !last {
                // In a file cut short, the cut's own report counts what the chunk lost.
                let left = if cut.is_some() { 0 } else { h.last_id.saturating_sub(record.id) };
                let msg = format!(
                    "chunk decodes to more than {max_work} nodes and values by record {} (limit chunk_work; its templates expand far beyond real events'): the records after it are skipped",
                    record.id
                );
                out.issues.push((location, IssueKind::Limit, msg, left));
                break;
            }
        }
        if last {
            break;
        }
    }
    out
}

/// Values an event holds, array items counted one by one.
fn values(event: &Event) -> usize {
    let count = |f: &crate::model::Fields| {
        f.iter().map(|(_, v)| if let crate::model::Value::Array(a) = v { 1 + a.len() } else { 1 }).sum::<usize>()
    };
    count(&event.system) + count(&event.fields)
}

/// One record's event: filled by its shape's plan when there is one (see `plan`), else built
/// and rendered, recording a plan when its shape is new.
fn record_event(decoder: &mut Decoder, strings: &mut Interned, r: &RawRecord, source: &Arc<SourceFile>) -> Result<Event, String> {
    let time = Some(Timestamp::from_filetime(r.filetime));
    let id = Some(r.id);
    let shaped = decoder.scan(r.bin_off, r.bin_len).is_some();
    let mut record = false;
    if shaped {
        let (flat, data, pool, buf) = (&decoder.flat, decoder.data, &decoder.pool, &mut decoder.buf);
        match plan::with_plan(&decoder.sig, |plan| plan.fill(flat, data, pool, buf)) {
            Lookup::Filled(filled) => {
                let (sys, fields) = filled?;
                return event_from_fields(sys, fields, source, strings, time, id);
            }
            Lookup::Never => {}
            Lookup::Unknown => record = true,
        }
    }
    let mut plan = None;
    let event = render_event(decoder, r, record, &mut plan, strings, source);
    if record {
        plan::insert(std::mem::take(&mut decoder.sig), plan);
    }
    event
}

/// Builds and renders a record; with `record`, sets `plan` when its fields can be planned.
fn render_event(
    decoder: &mut Decoder,
    r: &RawRecord,
    record: bool,
    plan: &mut Option<Plan>,
    strings: &mut Interned,
    source: &Arc<SourceFile>,
) -> Result<Event, String> {
    let (time, id) = (Some(Timestamp::from_filetime(r.filetime)), Some(r.id));
    let Some(root) = decoder.record(r.bin_off, r.bin_len)? else {
        return Err("no \"Event\" object".into());
    };
    let mut sink = FlatSink::new(record);
    let mut render = Render::new(decoder.data, &decoder.rec, &decoder.pool, &mut decoder.names, record);
    let walked = render.document(root, &mut sink);
    let plannable = render.plannable;
    match walked {
        Ok(()) => {
            sink.finish()?;
            if plannable {
                *plan = sink.pushes.take().map(Plan::new);
            }
            event_from_fields(sink.sys, sink.fields, source, strings, time, id)
        }
        Err(_) if sink.gave_up() => {
            let mut json = JsonSink::new();
            Render::new(decoder.data, &decoder.rec, &decoder.pool, &mut decoder.names, false).document(root, &mut json)?;
            event_from_dump(&json.document()?, source, strings, time, id)
        }
        Err(e) => Err(e),
    }
}
