//! Gzip: a cut stream keeps every line decompressed before the cut. What "before the cut" holds
//! is found independently of the reader: by inflating the cut stream with zlib's raw inflate,
//! as far as it goes.

use super::json::evtx_dump_documents;
use crate::{assert_same_events, line_starts};
use flate2::{Decompress, FlushDecompress};
use std::io::Write;
use std::path::Path;
use taskhunt_events::{Event, IssueKind, Location, read_bytes};

/// Everything the deflate data of gzip member `packed` (cut short, with the 10-byte header
/// `GzEncoder` writes) inflates to before the data runs out.
fn inflatable_prefix(packed: &[u8]) -> Vec<u8> {
    let Some(deflate) = packed.get(10..) else { return Vec::new() };
    let mut inflate = Decompress::new(false);
    let mut out = Vec::with_capacity(deflate.len() * 8);
    loop {
        let consumed = inflate.total_in() as usize;
        out.reserve(1 << 16);
        let before = out.len();
        // Stream ends and data errors both stop the loop: what came out before them stays.
        let done = inflate.decompress_vec(&deflate[consumed..], &mut out, FlushDecompress::Sync);
        if done.is_err() || (out.len() == before && inflate.total_in() as usize == consumed) {
            return out;
        }
    }
}

#[test]
fn gzip_cut_keeps_every_line_before_the_cut() {
    let Some(docs) = evtx_dump_documents("gzip_cut_keeps_every_line_before_the_cut") else { return };
    let text: String = docs.iter().map(|d| serde_json::to_string(d).unwrap() + "\n").collect();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    let packed = enc.finish().unwrap();
    let path = Path::new("evtx_dump.jsonl.gz");
    let clean = read_bytes(path, packed.clone());
    assert!(clean.issues.is_empty(), "{:?}", clean.issues);
    assert_eq!(clean.events.len(), docs.len());
    let plain = read_bytes(Path::new("evtx_dump.jsonl"), text.clone().into_bytes());
    assert_same_events(&clean.events.iter().collect::<Vec<_>>(), &plain.events.iter().collect::<Vec<_>>(), "gzip vs plain");

    // 30 cuts: inside the gzip header, evenly over the deflate data, inside the trailer.
    let mut cuts = vec![5, 10, 11];
    cuts.extend((0..25).map(|k| 12 + (packed.len() - 20) * (2 * k + 1) / 50 + k));
    cuts.extend([packed.len() - 8, packed.len() - 1]);
    let mut lines_read = 0;
    for cut in cuts {
        let case = format!("{}: cut at byte {cut} of {}", path.display(), packed.len());
        let batch = read_bytes(path, packed[..cut].to_vec());
        let out = inflatable_prefix(&packed[..cut]);
        assert!(text.as_bytes().starts_with(&out), "{case}: the test's own inflate");
        // Lines complete (with their line break) in what could be inflated.
        let complete = line_starts(&out).iter().filter(|&&s| out[s..].contains(&b'\n')).count();
        let got: Vec<&Event> = batch.events.iter().collect();
        assert!(got.len() >= complete, "{case}: {} lines read, {complete} complete before the cut", got.len());
        // The line the cut runs through may be read when all its JSON came before the cut.
        assert!(got.len() <= complete + 1, "{case}");
        assert_same_events(&got, &clean.events[..got.len()].iter().collect::<Vec<_>>(), &case);
        lines_read += got.len();
        let gzip_error = batch.issues.iter().filter(|i| i.kind == IssueKind::Decompress && i.location == Location::File).count();
        assert_eq!(gzip_error, 1, "{case}: the cut must be reported as a gzip error: {:?}", batch.issues);
        for issue in &batch.issues {
            assert_eq!(issue.file, path, "{case}: {issue}");
            // The partial last line, if any, is the only other thing reported.
            if issue.kind != IssueKind::Decompress {
                assert_eq!(issue.location, Location::Line { line: got.len() as u64 + 1, column: issue_column(issue) }, "{case}: {issue}");
            }
        }
    }
    assert!(lines_read > 15 * docs.len() / 2, "the cuts kept too little for this test to mean much: {lines_read}");
}

fn issue_column(issue: &taskhunt_events::ReadIssue) -> u64 {
    match issue.location {
        Location::Line { column, .. } => column,
        _ => 0,
    }
}
