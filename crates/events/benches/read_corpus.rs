//! Criterion benchmark: the whole evtx corpus into the event model (TASKHUNT_CORPUS must point
//! at the corpus; without it the benchmark says so and measures nothing). `scripts/bench`
//! compares the same work with `evtx_dump` in one run.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::PathBuf;
use taskhunt_events::{ReadOptions, read_paths};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("TASKHUNT_CORPUS")?).join("evtx-attack-samples");
    dir.is_dir().then_some(dir)
}

fn bench(c: &mut Criterion) {
    let Some(dir) = corpus() else {
        eprintln!("read_corpus: skipped (TASKHUNT_CORPUS is not set)");
        return;
    };
    let dirs = vec![dir];
    let first = read_paths(&dirs, &ReadOptions::default(), |_| {}, |_, _| {});
    let mut group = c.benchmark_group("read_corpus");
    group.sample_size(10);
    group.throughput(Throughput::Elements(first.records));
    group.bench_function("evtx-attack-samples", |b| b.iter(|| read_paths(&dirs, &ReadOptions::default(), |_| {}, |_, _| {}).records));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
