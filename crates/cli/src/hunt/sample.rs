//! The built-in sample: a small simulated fleet (taskhunt-simulate, fixed seed) with two attack
//! scenarios, gzipped into the binary, so `taskhunt hunt` works on a fresh clone with no data.
//! `scripts/make-sample` regenerates it.

use taskhunt_events::FileBatch;

const SAMPLE: &[u8] = include_bytes!("../../sample/sample-fleet.jsonl.gz");

/// Reads the sample through the ordinary file reader (content sniffing, gzip, JSON lines), via
/// a private temporary copy.
pub fn read() -> FileBatch {
    let dir = std::env::temp_dir().join(format!("taskhunt-sample-{}", std::process::id()));
    let path = dir.join("sample-fleet.jsonl.gz");
    let written = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, SAMPLE));
    let batch = match written {
        Ok(()) => taskhunt_events::read_file(&path),
        Err(e) => {
            let mut b = FileBatch::default();
            b.path = path.clone();
            b.issues.push(taskhunt_events::ReadIssue {
                file: path.clone(),
                location: taskhunt_events::Location::File,
                kind: taskhunt_events::IssueKind::Unreadable,
                message: format!("cannot unpack the built-in sample: {e}"),
                records_skipped: 0,
            });
            b
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    batch
}
