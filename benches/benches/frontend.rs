//! Parse and validate the whole shared corpus; criterion reports MB/s.
//!
//! `cargo bench -p sluice-benches --bench frontend`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly"
)]

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_engine::doc::{LoadOptions, load};
use sluice_engine::source::Source;
use sluice_engine::xml::{Limits, parse};

fn corpus() -> Vec<Arc<Source>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "xml"))
        .filter_map(|e| {
            std::fs::read_to_string(e.path())
                .ok()
                .map(|t| Source::new(e.path().display().to_string(), t))
        })
        .collect()
}

fn frontend(c: &mut Criterion) {
    let files = corpus();
    let bytes: usize = files.iter().map(|s| s.text().len()).sum();
    let mut g = c.benchmark_group("corpus");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("parse", |b| {
        b.iter(|| {
            for s in &files {
                std::hint::black_box(parse(s, &Limits::default()));
            }
        })
    });
    g.bench_function("parse+validate", |b| {
        b.iter(|| {
            for s in &files {
                std::hint::black_box(load(s, &LoadOptions::default()));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, frontend);
criterion_main!(benches);
