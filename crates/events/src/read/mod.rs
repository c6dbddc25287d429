//! Readers: turn files into [`Event`]s, choosing the decoder by content, never by extension.
//!
//! Damage is local: a corrupt evtx chunk, a malformed JSON line or a bad CSV row becomes a
//! [`ReadIssue`] naming the file and the chunk, record or line:column, and reading goes on with
//! the next unit. Nothing panics on hostile bytes.

mod binxml;
mod defender;
mod detect;
mod ecs;
mod evtx_crate;
mod evtx_file;
pub(crate) mod evtx_json;
mod json;
mod walk;

pub use defender::DEFENDER_PROVIDER;
pub use detect::{DEFENDER_TABLES, Format, defender_table_for, detect_format};
pub use walk::{ReadOptions, ReadSummary, STREAM_ABOVE_BYTES, collect_inputs, read_paths, read_stored};

use crate::model::{Event, SourceFile};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where in a file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// The file as a whole (unreadable, unrecognised, empty).
    File,
    /// An evtx chunk (0-based) at a byte offset.
    Chunk { index: u64, offset: u64 },
    /// An evtx record by its record id.
    Record { id: u64 },
    /// An evtx record by its chunk (0-based) and record id.
    EvtxRecord { chunk: u64, id: u64 },
    /// A text line (1-based) and column (1-based) for JSON and CSV inputs.
    Line { line: u64, column: u64 },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Chunk { index, offset } => write!(f, "chunk {index} (offset {offset:#x})"),
            Location::Record { id } => write!(f, "record {id}"),
            Location::EvtxRecord { chunk, id } => write!(f, "chunk {chunk} record {id}"),
            Location::Line { line, column } => write!(f, "{line}:{column}"),
        }
    }
}

/// Why records were skipped; the summary counts skipped records per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssueKind {
    Unreadable,
    Unrecognized,
    Empty,
    CorruptChunk,
    CorruptRecord,
    JsonSyntax,
    NotAnEvent,
    CsvRow,
    Decompress,
    /// A limit against hostile input was reached (see `limits`): a line skipped, a value cut.
    Limit,
}

impl IssueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueKind::Unreadable => "unreadable file",
            IssueKind::Unrecognized => "unrecognized content",
            IssueKind::Empty => "empty file",
            IssueKind::CorruptChunk => "corrupt evtx chunk",
            IssueKind::CorruptRecord => "corrupt evtx record",
            IssueKind::JsonSyntax => "JSON syntax error",
            IssueKind::NotAnEvent => "JSON value is not an event",
            IssueKind::CsvRow => "bad CSV row",
            IssueKind::Decompress => "gzip error",
            IssueKind::Limit => "limit reached",
        }
    }
}

/// A problem found while reading, with enough context to find the bytes by hand.
#[derive(Debug, Clone, Serialize)]
pub struct ReadIssue {
    pub file: PathBuf,
    pub location: Location,
    pub kind: IssueKind,
    pub message: String,
    /// Records lost to this problem, when known (a corrupt chunk's header may say how many).
    pub records_skipped: u64,
}

impl fmt::Display for ReadIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.location != Location::File {
            write!(f, ": {}", self.location)?;
        }
        write!(f, ": {}: {}", self.kind.as_str(), self.message)
    }
}

/// Everything read from one file.
#[derive(Debug, Default)]
pub struct FileBatch {
    pub path: PathBuf,
    pub format: Option<Format>,
    pub bytes: u64,
    pub events: Vec<Event>,
    pub issues: Vec<ReadIssue>,
}

impl FileBatch {
    fn issue(&mut self, location: Location, kind: IssueKind, message: impl Into<String>, skipped: u64) {
        self.issues.push(ReadIssue { file: self.path.clone(), location, kind, message: message.into(), records_skipped: skipped });
    }
}

/// Shares one allocation per distinct computer, channel and provider name within a file
/// (within a chunk for `.evtx`). Looked up three times per event, so with a cheap hash: the
/// map holds a few names.
#[derive(Default)]
pub(crate) struct Interned(HashMap<Box<str>, Arc<str>, std::hash::BuildHasherDefault<binxml::IntHasher>>);

impl Interned {
    pub(crate) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(s.into(), a.clone());
        a
    }
}

/// Which decoder reads `.evtx` files.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum EvtxReader {
    /// Our own (`binxml`), the one every reader uses.
    Own,
    /// The evtx crate's JSON, flattened: the reference `Own` is tested against.
    Crate,
}

/// Reads one file of any supported format, whole.
pub fn read_file(path: &Path) -> FileBatch {
    read_file_with(path, EvtxReader::Own)
}

/// Reads the file at `stored` as `read_file` would, but names it `shown` (in the batch and in
/// every event's source): for files kept somewhere other than where they were collected, such
/// as a case store's copies of its sources.
pub fn read_file_as(stored: &Path, shown: &Path) -> FileBatch {
    let mut whole: Option<FileBatch> = None;
    read_with_as(stored, shown, EvtxReader::Own, &mut |part| gather(&mut whole, part));
    whole.unwrap_or_else(|| FileBatch { path: shown.to_path_buf(), ..FileBatch::default() })
}

/// `read_file_parts` of the file at `stored`, named `shown` (see `read_file_as`).
pub fn read_file_parts_as(stored: &Path, shown: &Path, sink: &mut dyn FnMut(FileBatch)) {
    read_with_as(stored, shown, EvtxReader::Own, sink)
}

fn gather(whole: &mut Option<FileBatch>, part: FileBatch) {
    match whole {
        None => *whole = Some(part),
        Some(b) => {
            b.bytes += part.bytes;
            b.events.extend(part.events);
            b.issues.extend(part.issues);
        }
    }
}

/// Reads one file and hands it to `sink` in parts, in order: a `.evtx` file 64 chunks (4 MiB)
/// at a time, so that memory stays bounded whatever its size
/// (a 2 GB log is never held whole); any other format as one part. There is always at least one
/// part; every part carries the path and format, and the last one the file's size in `bytes`.
pub fn read_file_parts(path: &Path, sink: &mut dyn FnMut(FileBatch)) {
    read_with(path, EvtxReader::Own, sink)
}

pub(crate) fn read_file_with(path: &Path, evtx: EvtxReader) -> FileBatch {
    let mut whole: Option<FileBatch> = None;
    read_with(path, evtx, &mut |part| gather(&mut whole, part));
    whole.unwrap_or_else(|| FileBatch { path: path.to_path_buf(), ..FileBatch::default() })
}

fn read_with(path: &Path, evtx: EvtxReader, sink: &mut dyn FnMut(FileBatch)) {
    read_with_as(path, path, evtx, sink)
}

fn read_with_as(path: &Path, shown: &Path, evtx: EvtxReader, sink: &mut dyn FnMut(FileBatch)) {
    let mut batch = FileBatch { path: shown.to_path_buf(), ..FileBatch::default() };
    // The first bytes say what the file is. An `.evtx` file is read a part at a time (see
    // `evtx_file::stream_file`); anything else whole.
    let mut start = Vec::new();
    let opened = std::fs::File::open(path).and_then(|mut file| {
        // The header and the first chunk's magic: enough to tell an evtx file whose own magic
        // is damaged.
        (&mut file).take(4096 + 8).read_to_end(&mut start)?;
        Ok(file)
    });
    let mut file = match opened {
        Ok(file) => file,
        Err(e) => {
            batch.issue(Location::File, IssueKind::Unreadable, e.to_string(), 0);
            return sink(batch);
        }
    };
    if evtx == EvtxReader::Own && evtx_file::is_evtx(&start) {
        batch.format = Some(Format::Evtx);
        let source = Arc::new(SourceFile { path: batch.path.clone(), format: Format::Evtx.name() });
        // Each part goes on once the next arrives, so that the last can carry the file size.
        let mut pending: Option<FileBatch> = None;
        let len = evtx_file::stream_file(start, &mut file, &source, &mut |decoded| {
            let mut part = FileBatch { path: batch.path.clone(), format: batch.format, ..FileBatch::default() };
            evtx_file::append(&mut part, decoded);
            if let Some(done) = pending.replace(part) {
                sink(done);
            }
        });
        let mut last = pending.unwrap_or(batch);
        last.bytes = len;
        return sink(last);
    }
    let mut data = start;
    if let Err(e) = file.read_to_end(&mut data) {
        batch.issue(Location::File, IssueKind::Unreadable, e.to_string(), 0);
        return sink(batch);
    }
    batch.bytes = data.len() as u64;
    decode_bytes(&mut batch, data, false, evtx);
    sink(batch)
}

/// Reads a file's bytes already in memory, exactly as `read_file` reads them from `path`; the
/// name matters only for naming a Defender table. Lets fuzzers and embedders skip the disk.
pub fn read_bytes(path: &Path, data: Vec<u8>) -> FileBatch {
    let mut batch = FileBatch { path: path.to_path_buf(), bytes: data.len() as u64, ..FileBatch::default() };
    decode_bytes(&mut batch, data, false, EvtxReader::Own);
    batch
}

/// Decodes `data` as `format` without looking at its content first, so that a fuzzer can drive
/// one decoder with bytes content detection would have turned away.
pub fn read_bytes_as(path: &Path, data: &[u8], format: Format) -> FileBatch {
    let mut batch = FileBatch { path: path.to_path_buf(), bytes: data.len() as u64, ..FileBatch::default() };
    if format == Format::Gzip {
        decode_bytes(&mut batch, data.to_vec(), false, EvtxReader::Own);
        return batch;
    }
    batch.format = Some(format);
    let source = Arc::new(SourceFile { path: batch.path.clone(), format: format.name() });
    match format {
        Format::Evtx => evtx_file::read(&mut batch, data, &source),
        Format::EvtxJson | Format::EcsJson | Format::DefenderJson(_) => json::read(&mut batch, data, format, &source),
        Format::DefenderCsv(table) => defender::read_csv(&mut batch, data, table, &source),
        Format::Gzip => unreachable!("handled above"),
    }
    batch
}

/// Decodes the bytes of a `.evtx` file, as `read_file` would read them from `path`.
pub(crate) fn read_evtx_bytes(path: &Path, data: &[u8], evtx: EvtxReader) -> FileBatch {
    let mut batch = FileBatch { path: path.to_path_buf(), bytes: data.len() as u64, format: Some(Format::Evtx), ..FileBatch::default() };
    let source = Arc::new(SourceFile { path: path.to_path_buf(), format: Format::Evtx.name() });
    match evtx {
        EvtxReader::Own => evtx_file::read(&mut batch, data, &source),
        EvtxReader::Crate => evtx_crate::read(&mut batch, data, &source),
    }
    batch
}

/// Decodes `data` as whatever its content is. Gzip is unwrapped once (a gzip inside a gzip is
/// treated as unrecognised rather than recursed into without bound).
fn decode_bytes(batch: &mut FileBatch, data: Vec<u8>, inside_gzip: bool, evtx: EvtxReader) {
    if data.is_empty() {
        batch.issue(Location::File, IssueKind::Empty, "file is empty", 0);
        return;
    }
    let format = detect_format(&data, &batch.path);
    let Some(format) = format else {
        batch.issue(
            Location::File,
            IssueKind::Unrecognized,
            "not evtx, gzip, evtx-dump/Winlogbeat/Defender JSON or Defender CSV (first bytes: ".to_string() + &hex_prefix(&data) + ")",
            0,
        );
        return;
    };
    if format == Format::Gzip {
        if inside_gzip {
            batch.issue(Location::File, IssueKind::Unrecognized, "gzip inside gzip", 0);
            return;
        }
        let mut out = Vec::new();
        let mut decoder = flate2::read::MultiGzDecoder::new(&data[..]);
        if let Err(e) = std::io::Read::read_to_end(&mut decoder, &mut out) {
            // Keep what was decompressed before the damage: its records still count.
            batch.issue(Location::File, IssueKind::Decompress, e.to_string(), 0);
            if out.is_empty() {
                return;
            }
        }
        decode_bytes(batch, out, true, evtx);
        return;
    }
    batch.format = Some(format);
    let source = Arc::new(SourceFile { path: batch.path.clone(), format: format.name() });
    match format {
        Format::Evtx if evtx == EvtxReader::Crate => evtx_crate::read(batch, &data, &source),
        Format::Evtx => evtx_file::read(batch, &data, &source),
        Format::EvtxJson | Format::EcsJson | Format::DefenderJson(_) => json::read(batch, &data, format, &source),
        Format::DefenderCsv(table) => defender::read_csv(batch, &data, table, &source),
        Format::Gzip => unreachable!("handled above"),
    }
}

fn hex_prefix(data: &[u8]) -> String {
    data.iter().take(8).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// Sizes the global decoding pool; call before any reading.
pub fn set_threads(n: usize) -> Result<(), String> {
    rayon::ThreadPoolBuilder::new().num_threads(n).build_global().map_err(|e| e.to_string())
}
