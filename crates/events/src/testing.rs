//! Locating the shared test corpus (`TASKHUNT_CORPUS`) for tests and benchmarks of every crate.

use std::path::PathBuf;

/// The corpus folder from `TASKHUNT_CORPUS`, or `None` (after printing that the calling test is
/// skipped) when the variable is unset. A set variable that does not point at a folder is a
/// failure, not a skip: CI sets it and must not silently run nothing.
pub fn corpus(test: &str) -> Option<PathBuf> {
    let Some(value) = std::env::var_os("TASKHUNT_CORPUS") else {
        eprintln!("{test}: skipped (TASKHUNT_CORPUS is not set)");
        return None;
    };
    let path = PathBuf::from(&value);
    // Relative paths are taken from the workspace root, where `.ci/run` and the README run.
    let candidates = [path.clone(), PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(&path)];
    match candidates.iter().find(|p| p.is_dir()) {
        Some(p) => Some(p.canonicalize().unwrap_or_else(|_| p.clone())),
        None => panic!("TASKHUNT_CORPUS={} is not a folder", path.display()),
    }
}

/// `evtx-attack-samples` inside the corpus.
pub fn evtx_samples(test: &str) -> Option<PathBuf> {
    corpus(test).map(|c| c.join("evtx-attack-samples"))
}

/// Reads a file as `read_file` does, but `.evtx` through the evtx crate's JSON rather than our
/// own decoder: the reference the decoder is tested and measured against.
#[doc(hidden)]
pub fn read_evtx_with_crate(path: &std::path::Path) -> crate::FileBatch {
    crate::read::read_file_with(path, crate::read::EvtxReader::Crate)
}

/// Decodes the bytes of a `.evtx` file held in memory, as `read_file` would read them from
/// `path` (`with_crate`: through the evtx crate's JSON): for measuring decoding alone.
#[doc(hidden)]
pub fn read_evtx_bytes(path: &std::path::Path, data: &[u8], with_crate: bool) -> crate::FileBatch {
    let reader = if with_crate { crate::read::EvtxReader::Crate } else { crate::read::EvtxReader::Own };
    crate::read::read_evtx_bytes(path, data, reader)
}

/// One `.evtx` file holding every chunk in use of `files` (whole `.evtx` files), in order,
/// under the first one's file header with the chunk count and checksum fixed: a large,
/// many-chunk log made from small samples, for tests and benchmarks.
#[doc(hidden)]
pub fn concat_evtx(files: &[Vec<u8>]) -> Vec<u8> {
    const HEADER: usize = 4096;
    const CHUNK: usize = 65536;
    let mut out = match files.first() {
        Some(f) if f.len() >= HEADER => f[..HEADER].to_vec(),
        _ => return Vec::new(),
    };
    let mut chunks = 0u64;
    for f in files {
        for chunk in f.get(HEADER..).unwrap_or_default().chunks_exact(CHUNK) {
            if chunk.starts_with(b"ElfChnk\0") {
                out.extend_from_slice(chunk);
                chunks += 1;
            }
        }
    }
    // The header's chunk count is 16 bits; past that the file is longer than it says, as a
    // log bigger than 4 GiB is.
    out[42..44].copy_from_slice(&(chunks.min(u16::MAX as u64) as u16).to_le_bytes());
    let crc = crc32fast::hash(&out[..120]);
    out[124..128].copy_from_slice(&crc.to_le_bytes());
    out
}
