//! Finding input files and reading many of them in parallel, delivered in a stable order.

use super::{FileBatch, IssueKind, Location, ReadIssue, read_file_as, read_file_parts_as};
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

/// Files larger than this are read in parts (see [`read_file_parts`](super::read_file_parts))
/// rather than whole: the events of a part are handed on before the next is decoded.
pub const STREAM_ABOVE_BYTES: u64 = 32 << 20;

/// Problems a [`ReadSummary`] keeps in full.
pub const KEPT_ISSUES: usize = 10_000;

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
    /// The problems themselves, the first [`KEPT_ISSUES`] of them: a log damaged everywhere
    /// must not make the summary grow with it. The counts above cover them all.
    pub issues: Vec<ReadIssue>,
    /// Problems beyond [`KEPT_ISSUES`], counted but not kept.
    pub issues_not_kept: u64,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl ReadSummary {
    pub fn records_skipped(&self) -> u64 {
        self.skipped.values().sum()
    }

    fn add(&mut self, batch: &FileBatch) {
        self.files += 1;
        if batch.events.is_empty() && !batch.issues.is_empty() {
            self.files_failed += 1;
        }
        self.add_part(batch);
    }

    /// One part of a file read in parts; the caller counts the file.
    fn add_part(&mut self, batch: &FileBatch) {
        self.bytes += batch.bytes;
        self.records += batch.events.len() as u64;
        for issue in &batch.issues {
            *self.problems.entry(issue.kind.as_str()).or_default() += 1;
            if issue.records_skipped > 0 {
                *self.skipped.entry(issue.kind.as_str()).or_default() += issue.records_skipped;
            }
        }
        let room = KEPT_ISSUES.saturating_sub(self.issues.len());
        self.issues.extend(batch.issues.iter().take(room).cloned());
        self.issues_not_kept += batch.issues.len().saturating_sub(room) as u64;
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
pub fn read_paths(paths: &[PathBuf], options: &ReadOptions, sink: impl FnMut(FileBatch), progress: impl FnMut(u64, u64)) -> ReadSummary {
    let (files, walk_issues) = collect_inputs(paths);
    let files: Vec<(PathBuf, PathBuf)> = files.into_iter().map(|p| (p.clone(), p)).collect();
    read_listed(&files, walk_issues, options, sink, progress)
}

/// `read_paths` over files kept somewhere other than where they were collected: each
/// `(shown, stored)` is read from `stored` and named `shown` in its batch, events and problems
/// (a case store keeps its sources by content hash; hunts name them as they were ingested).
pub fn read_stored(
    files: &[(PathBuf, PathBuf)],
    options: &ReadOptions,
    sink: impl FnMut(FileBatch),
    progress: impl FnMut(u64, u64),
) -> ReadSummary {
    read_listed(files, Vec::new(), options, sink, progress)
}

fn read_listed(
    files: &[(PathBuf, PathBuf)],
    walk_issues: Vec<ReadIssue>,
    options: &ReadOptions,
    mut sink: impl FnMut(FileBatch),
    mut progress: impl FnMut(u64, u64),
) -> ReadSummary {
    let started = Instant::now();
    let mut summary = ReadSummary::default();
    for issue in walk_issues {
        summary.files += 1;
        summary.files_failed += 1;
        *summary.problems.entry(issue.kind.as_str()).or_default() += 1;
        summary.issues.push(issue);
    }
    let total = files.len() as u64;
    let mut done = 0u64;
    let mut rest = &files[..];
    while !rest.is_empty() {
        // A large file is read on its own, in parts (chunks decoded in parallel within each),
        // so that memory stays bounded by a part whatever the file's size; small files are
        // read a group at a time, one file per core.
        let large = |(_, stored): &(PathBuf, PathBuf)| std::fs::metadata(stored).is_ok_and(|m| m.len() > STREAM_ABOVE_BYTES);
        if large(&rest[0]) {
            let (mut events, mut issues) = (0usize, 0usize);
            read_file_parts_as(&rest[0].1, &rest[0].0, &mut |part| {
                events += part.events.len();
                issues += part.issues.len();
                summary.add_part(&part);
                sink(part);
            });
            summary.files += 1;
            if events == 0 && issues > 0 {
                summary.files_failed += 1;
            }
            rest = &rest[1..];
        } else {
            let n = rest.iter().take(options.files_in_flight.max(1)).take_while(|p| !large(p)).count();
            let (group, after) = rest.split_at(n);
            // Inside the pool even for a group of one file, which `par_iter` would read on
            // this thread: reading and decoding where the pool allocates keeps this thread's
            // heap from growing and shrinking with each large file.
            let batches: Vec<FileBatch> = rayon::scope(|_| group.par_iter().map(|(shown, stored)| read_file_as(stored, shown)).collect());
            for batch in batches {
                summary.add(&batch);
                done += 1;
                progress(done, total);
                sink(batch);
            }
            rest = after;
            continue;
        }
        done += 1;
        progress(done, total);
    }
    summary.elapsed = started.elapsed();
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_keeps_the_first_issues_and_counts_them_all() {
        let issue = |line| ReadIssue {
            file: PathBuf::from("bad.jsonl"),
            location: Location::Line { line, column: 1 },
            kind: IssueKind::JsonSyntax,
            message: "expected value".into(),
            records_skipped: 1,
        };
        let batch = FileBatch {
            path: PathBuf::from("bad.jsonl"),
            issues: (1..=KEPT_ISSUES as u64 + 5).map(issue).collect(),
            ..FileBatch::default()
        };
        let mut summary = ReadSummary::default();
        summary.add(&batch);
        summary.add(&batch);
        assert_eq!(summary.issues.len(), KEPT_ISSUES);
        assert_eq!(summary.issues_not_kept, KEPT_ISSUES as u64 + 10);
        assert_eq!(summary.records_skipped(), 2 * (KEPT_ISSUES as u64 + 5));
        assert_eq!(summary.issues.last().map(|i| i.location.clone()), Some(Location::Line { line: KEPT_ISSUES as u64, column: 1 }));
    }
}
