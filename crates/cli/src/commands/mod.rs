pub mod cluster;
pub mod decode;
pub mod detect;
pub mod events;
pub mod ingest;
pub mod query;
pub mod rules;
pub mod simulate;
pub mod tasks;

use std::path::{Path, PathBuf};
use taskhunt_events::{ReadOptions, ReadSummary};

/// The files to read: every file under `paths`, or a case store's copies of its sources
/// (`--store`), each as `(name shown, file read)`.
pub fn input_files(paths: &[PathBuf], store: Option<&Path>) -> anyhow::Result<(Vec<(PathBuf, PathBuf)>, Vec<taskhunt_events::ReadIssue>)> {
    match store {
        Some(store) => {
            anyhow::ensure!(paths.is_empty(), "give PATHs or --store DIR, not both");
            let files = taskhunt_query::store::stored_sources(store).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok((files, Vec::new()))
        }
        None => {
            let (files, issues) = taskhunt_events::read::collect_inputs(paths);
            Ok((files.into_iter().map(|p| (p.clone(), p)).collect(), issues))
        }
    }
}

/// Reads `paths`, or the sources of the case store `store`, as `read_paths` does.
pub fn read_telemetry(
    paths: &[PathBuf],
    store: Option<&Path>,
    sink: impl FnMut(taskhunt_events::FileBatch),
    progress: impl FnMut(u64, u64),
) -> anyhow::Result<ReadSummary> {
    Ok(match store {
        None => taskhunt_events::read_paths(paths, &ReadOptions::default(), sink, progress),
        Some(_) => {
            let (files, _) = input_files(paths, store)?;
            taskhunt_events::read_stored(&files, &ReadOptions::default(), sink, progress)
        }
    })
}
