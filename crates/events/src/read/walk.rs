//! Finding input files and reading many of them in parallel, delivered in a stable order.

use super::{FileBatch, IssueKind, Location, ReadIssue, read_file};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How inputs are read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Files decoded at once before their events are handed on in order; bounds memory.
    pub files_in_flight: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { files_in_flight: rayon::current_num_threads() * 8 }
    }
}

/// What a read of many files did, for the end-of-run summary.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ReadSummary {
    pub files: u64,
    /// Files of which not one record could be read.
    pub files_failed: u64,
    pub records: u64,
    pub bytes: u64,
    /// Records skipped, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Problems by reason, including ones that cost no record (an empty file, say).
    pub problems: BTreeMap<&'static str, u64>,
    pub issues: Vec<ReadIssue>,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl ReadSummary {
    pub fn records_skipped(&self) -> u64 {
        self.skipped.values().sum()
    }

    fn add(&mut self, batch: &FileBatch) {
        self.files += 1;
        self.bytes += batch.bytes;
        self.records += batch.events.len() as u64;
        if batch.events.is_empty() && !batch.issues.is_empty() {
            self.files_failed += 1;
        }
        for issue in &batch.issues {
            *self.problems.entry(issue.kind.as_str()).or_default() += 1;
            if issue.records_skipped > 0 {
                *self.skipped.entry(issue.kind.as_str()).or_default() += issue.records_skipped;
            }
        }
        self.issues.extend(batch.issues.iter().cloned());
    }

    /// One line for a terminal: files, records, skipped with reasons, time and rate.
    pub fn line(&self) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mut s = format!("{} files, {} records read, {} skipped", self.files, self.records, self.records_skipped());
        if !self.problems.is_empty() {
            let reasons: Vec<String> = self
                .problems
                .iter()
                .map(|(k, n)| match self.skipped.get(k) {
                    Some(r) => format!("{k}: {n} ({r} records)"),
                    None => format!("{k}: {n}"),
                })
                .collect();
            s.push_str(&format!(" [{}]", reasons.join(", ")));
        }
        s.push_str(&format!(", {:.2}s, {:.0} events/s, {:.1} MB/s", secs, self.records as f64 / secs, self.bytes as f64 / 1e6 / secs));
        s
    }
}

/// Expands directories recursively (following no symlink loops) into a sorted list of files.
/// A path that does not exist or cannot be listed becomes an issue, not an abort.
pub fn collect_inputs(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<ReadIssue>) {
    let mut files = Vec::new();
    let mut issues = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                let mut found: Vec<PathBuf> = Vec::new();
                for entry in walkdir::WalkDir::new(path).follow_links(true) {
                    match entry {
                        Ok(e) if e.file_type().is_file() => found.push(e.into_path()),
                        Ok(_) => {}
                        Err(e) => issues.push(ReadIssue {
                            file: e.path().map(Path::to_path_buf).unwrap_or_else(|| path.clone()),
                            location: Location::File,
                            kind: IssueKind::Unreadable,
                            message: e.to_string(),
                            records_skipped: 0,
                        }),
                    }
                }
                found.sort();
                files.extend(found);
            }
            Ok(_) => files.push(path.clone()),
            Err(e) => issues.push(ReadIssue {
                file: path.clone(),
                location: Location::File,
                kind: IssueKind::Unreadable,
                message: e.to_string(),
                records_skipped: 0,
            }),
        }
    }
    (files, issues)
}

/// Reads every file under `paths` on all cores and hands each file's batch to `sink` in input
/// order (sorted within each directory), so output is the same from run to run.
pub fn read_paths(
    paths: &[PathBuf],
    options: &ReadOptions,
    mut sink: impl FnMut(FileBatch),
    mut progress: impl FnMut(u64, u64),
) -> ReadSummary {
    let started = Instant::now();
    let (files, walk_issues) = collect_inputs(paths);
    let mut summary = ReadSummary::default();
    for issue in walk_issues {
        summary.files += 1;
        summary.files_failed += 1;
        *summary.problems.entry(issue.kind.as_str()).or_default() += 1;
        summary.issues.push(issue);
    }
    let total = files.len() as u64;
    let mut done = 0u64;
    for group in files.chunks(options.files_in_flight.max(1)) {
        // Inside the pool even for a group of one file, which `par_iter` would read on this
        // thread: reading and decoding where the pool allocates keeps this thread's heap
        // from growing and shrinking with each large file.
        let batches: Vec<FileBatch> = rayon::scope(|_| group.par_iter().map(|p| read_file(p)).collect());
        for batch in batches {
            summary.add(&batch);
            done += 1;
            progress(done, total);
            sink(batch);
        }
    }
    summary.elapsed = started.elapsed();
    summary
}
