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
