//! The built-in sample: a small simulated fleet (taskhunt-simulate, fixed seed) with two attack
//! scenarios, gzipped into the binary, so `taskhunt hunt` works on a fresh clone with no data.
//! `scripts/make-sample` regenerates it.

use std::path::PathBuf;
use std::sync::Arc;
use taskhunt_events::{FileBatch, SourceFile};

/// The name events of the sample carry as their file, in every output: the temporary copy they
/// are read from is gone when the report is read.
pub const NAME: &str = "built-in:sample-fleet.jsonl.gz";

const SAMPLE: &[u8] = include_bytes!("../../sample/sample-fleet.jsonl.gz");

/// Reads the sample through the ordinary file reader (content sniffing, gzip, JSON lines), via
/// a private temporary copy.
pub fn read() -> FileBatch {
    let dir = std::env::temp_dir().join(format!("taskhunt-sample-{}", std::process::id()));
    let path = dir.join("sample-fleet.jsonl.gz");
    let written = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, SAMPLE));
    let mut batch = match written {
        Ok(()) => taskhunt_events::read_file(&path),
        Err(e) => FileBatch {
            path: path.clone(),
            issues: vec![taskhunt_events::ReadIssue {
                file: path.clone(),
                location: taskhunt_events::Location::File,
                kind: taskhunt_events::IssueKind::Unreadable,
                message: format!("cannot unpack the built-in sample: {e}"),
                records_skipped: 0,
            }],
            ..FileBatch::default()
        },
    };
    let _ = std::fs::remove_dir_all(&dir);
    // One merged file holds every host's logs, whose record ids repeat across hosts and
    // channels: naming each event's source by host and channel keeps `file:record` unique.
    let mut sources: std::collections::HashMap<(String, String), Arc<SourceFile>> = std::collections::HashMap::new();
    for e in batch.events.iter_mut() {
        let key = (e.computer.to_string(), e.channel.to_string());
        let format = e.source.format;
        let shown = sources
            .entry(key)
            .or_insert_with(|| Arc::new(SourceFile { path: PathBuf::from(format!("{NAME}/{}/{}", e.computer, e.channel)), format }))
            .clone();
        e.source = shown;
    }
    batch
}
