//! The case store: telemetry ingested once into Parquet, queried many times.
//!
//! `ingest` reads telemetry files and writes every normalized and raw table as Parquet,
//! hive-partitioned as `TABLE/date=YYYY-MM-DD/host=HOST/part-HASH.parquet`, so that a query
//! over a day or a host reads only its folders. A file is identified by the SHA-256 of its
//! bytes: ingesting it again (under any name) is skipped. `manifest.json` records every source
//! with its hash, record count, time range and rows per table. `Engine::open_store` registers
//! the tables over the folders, with `date` and `host` as partition columns.
//!
//! Each ingested file is also kept verbatim as `sources/SHA256` (the evidence, checkable
//! against its hash): `detect`, `tasks` and `hunt` read those copies through the same readers
//! as the files themselves, naming them by the path they were ingested from, so their results
//! over a store are the results over the files.

use crate::catalog::CatalogBuilder;
use crate::engine::Engine;
use crate::error::QueryError;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::ParquetReadOptions;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use taskhunt_events::read::collect_inputs;
use taskhunt_events::{ReadIssue, Timestamp, read_bytes};

pub const MANIFEST: &str = "manifest.json";
/// The folder of the verbatim copies of the ingested files, named by SHA-256.
pub const SOURCES: &str = "sources";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub path: String,
    pub sha256: String,
    pub records: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Rows written per table.
    pub tables: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
pub struct IngestSummary {
    pub files_ingested: u64,
    /// Files whose content was in the store already.
    pub files_skipped: Vec<PathBuf>,
    pub records: u64,
    pub parts_written: u64,
    pub issues: Vec<ReadIssue>,
}

impl Manifest {
    pub fn load(store: &Path) -> Result<Manifest, QueryError> {
        let path = store.join(MANIFEST);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| QueryError::plain(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
            Err(e) => Err(QueryError::plain(format!("{}: {e}", path.display()))),
        }
    }

    fn save(&self, store: &Path) -> Result<(), QueryError> {
        let path = store.join(MANIFEST);
        let tmp = store.join(format!("{MANIFEST}.tmp"));
        let text = serde_json::to_string_pretty(self).map_err(|e| QueryError::plain(e.to_string()))?;
        // Written aside and renamed: a crash leaves the old manifest, never half of one.
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| QueryError::plain(format!("{}: {e}", path.display())))
    }
}

/// A folder name safe on every file system, for a host or a date taken from the data (which an
/// attacker controls: `..`, slashes and control characters must not reach the path).
fn folder_value(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c.to_ascii_lowercase() } else { '_' })
        .take(100)
        .collect();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') { "_".into() } else { cleaned }
}

fn day_of(t: Timestamp) -> String {
    t.to_string().get(..10).unwrap_or("unknown").to_string()
}

/// Ingests `paths` (files or folders) into the store at `store`.
pub fn ingest(paths: &[PathBuf], store: &Path) -> Result<IngestSummary, QueryError> {
    std::fs::create_dir_all(store).map_err(|e| QueryError::plain(format!("{}: {e}", store.display())))?;
    let mut manifest = Manifest::load(store)?;
    let mut summary = IngestSummary::default();
    let (files, walk_issues) = collect_inputs(paths);
    summary.issues.extend(walk_issues);
    for file in files {
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) => {
                summary.issues.push(ReadIssue {
                    file: file.clone(),
                    location: taskhunt_events::Location::File,
                    kind: taskhunt_events::IssueKind::Unreadable,
                    message: e.to_string(),
                    records_skipped: 0,
                });
                continue;
            }
        };
        let hash = format!("{:x}", Sha256::digest(&bytes));
        if manifest.sources.iter().any(|s| s.sha256 == hash) {
            summary.files_skipped.push(file);
            continue;
        }
        keep_source(store, &hash, &bytes)?;
        // Decoded from the bytes already read for the hash, not read from disk again.
        let batch = read_bytes(&file, bytes);
        summary.issues.extend(batch.issues);
        let events = batch.events;
        // One catalog per (day, host): each becomes the files of its partition folders.
        let mut groups: BTreeMap<(String, String), CatalogBuilder> = BTreeMap::new();
        let (mut first, mut last) = (None::<Timestamp>, None::<Timestamp>);
        for e in &events {
            first = Some(first.map_or(e.timestamp, |f| f.min(e.timestamp)));
            last = Some(last.map_or(e.timestamp, |l| l.max(e.timestamp)));
            groups.entry((day_of(e.timestamp), folder_value(&e.computer))).or_insert_with(CatalogBuilder::new).add(e);
        }
        let records = events.len() as u64;
        drop(events);
        let mut tables: BTreeMap<String, u64> = BTreeMap::new();
        for ((day, host), builder) in groups {
            for (name, (_, batches)) in builder.finish().tables {
                let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
                // `main` is every raw table together: it is made again when the store is opened.
                if rows == 0 || name == "main" {
                    continue;
                }
                let dir = store.join(&name).join(format!("date={day}")).join(format!("host={host}"));
                std::fs::create_dir_all(&dir).map_err(|e| QueryError::plain(format!("{}: {e}", dir.display())))?;
                let part = dir.join(format!("part-{}.parquet", &hash[..16]));
                crate::export::write_parquet(&batches, &part).map_err(QueryError::plain)?;
                summary.parts_written += 1;
                *tables.entry(name).or_default() += rows;
            }
        }
        summary.files_ingested += 1;
        summary.records += records;
        manifest.sources.push(Source {
            path: file.to_string_lossy().into_owned(),
            sha256: hash,
            records,
            first: first.map(|t| t.to_string()),
            last: last.map(|t| t.to_string()),
            tables,
        });
        // Saved after every file: an interrupted ingest keeps what it finished.
        manifest.save(store)?;
    }
    Ok(summary)
}

/// Writes the copy of a source (aside, then renamed: a crash never leaves half a copy).
fn keep_source(store: &Path, hash: &str, bytes: &[u8]) -> Result<(), QueryError> {
    let dir = store.join(SOURCES);
    std::fs::create_dir_all(&dir).map_err(|e| QueryError::plain(format!("{}: {e}", dir.display())))?;
    let (path, tmp) = (dir.join(hash), dir.join(format!("{hash}.tmp")));
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| QueryError::plain(format!("{}: {e}", path.display())))
}

/// The store's sources as `(ingested from, copy in the store)`, in ingestion order, for
/// `taskhunt_events::read_stored`.
pub fn stored_sources(store: &Path) -> Result<Vec<(PathBuf, PathBuf)>, QueryError> {
    let manifest = Manifest::load(store)?;
    if manifest.sources.is_empty() {
        return Err(QueryError::plain(format!("{}: no case store here (no {MANIFEST}, or nothing ingested)", store.display())));
    }
    let mut out = Vec::with_capacity(manifest.sources.len());
    for s in manifest.sources {
        let copy = store.join(SOURCES).join(&s.sha256);
        if !copy.is_file() {
            return Err(QueryError::plain(format!(
                "{}: the store has no copy of {} (sha256 {}); it was made by a taskhunt that kept none: ingest the files into a new store",
                store.display(),
                s.path,
                s.sha256
            )));
        }
        out.push((PathBuf::from(s.path), copy));
    }
    Ok(out)
}

impl Engine {
    /// An engine over a case store: every table folder registered as a Parquet listing with
    /// `date` and `host` partition columns; `main` is the raw tables together.
    pub fn open_store(store: &Path, now: Timestamp) -> Result<Engine, QueryError> {
        let engine = Engine::new(crate::catalog::Catalog::default(), now)?;
        engine.register_store(store)?;
        Ok(engine)
    }

    /// Registers the store's tables in this engine's session (a local one, or one connected to
    /// a cluster whose executors see the same folders).
    pub fn register_store(&self, store: &Path) -> Result<(), QueryError> {
        let manifest = Manifest::load(store)?;
        if manifest.sources.is_empty() {
            return Err(QueryError::plain(format!("{}: no case store here (no {MANIFEST}, or nothing ingested)", store.display())));
        }
        // Executors elsewhere must find the same files: absolute paths.
        let store = &std::path::absolute(store).map_err(|e| QueryError::plain(format!("{}: {e}", store.display())))?;
        let mut raw = Vec::new();
        let mut names: Vec<String> = std::fs::read_dir(store)
            .map_err(|e| QueryError::plain(format!("{}: {e}", store.display())))?
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| name != SOURCES)
            .collect();
        names.sort();
        for name in names {
            let dir = store.join(&name);
            let options = ParquetReadOptions::default()
                .table_partition_cols(vec![("date".to_string(), DataType::Utf8), ("host".to_string(), DataType::Utf8)]);
            let url = format!("{}/", dir.to_string_lossy());
            self.block_on(self.ctx.register_parquet(datafusion::common::TableReference::bare(name.clone()), &url, options))?;
            if taskhunt_events::tables::RAW_TABLES.contains(&name.as_str()) {
                raw.push(name);
            }
        }
        if !raw.is_empty() {
            crate::engine::register_main(self, &raw)?;
        }
        Ok(())
    }
}
