//! The embedded vector store (`MemoryStore`) at 10k and 100k entries.
//!
//! The data look like embeddings of prompts: 384 dimensions (the size of
//! all-MiniLM-L6-v2's vectors), clustered (random topic centres, each entry
//! a centre plus noise, so that near neighbours exist), and the queries are
//! either paraphrases of a stored prompt (a stored vector plus a little
//! noise: a cache hit) or new prompts of the same topics (the nearest entry
//! is only somewhat near: a miss, or a close call).
//!
//! Printed first, for each store: the insert cost while filling it, the
//! memory per entry (resident set growth / entries, responses excluded), the
//! p50/p99 latency of `nearest()` over single timed queries, and recall@1
//! against plain exact search (a brute-force f64 scan written here,
//! independent of the store's own code). Then criterion measures
//! `nearest()` and an insert into the full store (which evicts the oldest).
//!
//! Stores: `one/10k`, `one/100k` (all entries in one partition) and
//! `many/10k`, `many/100k` (partitions of 100 entries each).
//!
//! `cargo bench -p sluice-benches --bench vector_store`
//! (`-- nearest` or `-- insert` to run only one criterion group; the
//! figures are printed every time.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails loudly"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::Criterion;
use sluice_policies::semantic::store::memory::MemoryStore;
use sluice_policies::semantic::store::{CachedResponse, Entry};

const DIM: usize = 384;
const NOW: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;
/// Entries per topic centre.
const PER_CLUSTER: usize = 50;
/// Entries per partition in the `many` stores.
const PER_PARTITION: usize = 100;
/// Timed single queries for p50/p99, and queries checked for recall.
const QUERIES: usize = 2_000;

/// A small deterministic generator (splitmix64), so that every run and
/// every machine measures the same data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Standard normal (Box–Muller).
    fn gauss(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }

    /// A random direction, of length 1.
    fn direction(&mut self) -> Vec<f32> {
        unit((0..DIM).map(|_| self.gauss()).collect())
    }

    /// `v` plus noise of length about `spread` (relative to `v`'s length 1),
    /// scaled back to length 1: cosine to `v` ≈ 1 / √(1 + spread²).
    fn near(&mut self, v: &[f32], spread: f32) -> Vec<f32> {
        let s = spread / (DIM as f32).sqrt();
        unit(v.iter().map(|x| x + s * self.gauss()).collect())
    }
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

/// Spread of an entry around its topic centre: cosine ≈ 0.82 to the centre,
/// ≈ 0.67 between two entries of a topic.
const TOPIC_SPREAD: f32 = 0.7;
/// Spread of a paraphrase around the stored prompt: cosine ≈ 0.94.
const PARAPHRASE_SPREAD: f32 = 0.35;

/// A query: the partition asked and the vector.
struct Query {
    partition: usize,
    vector: Vec<f32>,
    paraphrase: bool,
}

/// Clustered vectors: `n` entries over `n / PER_CLUSTER` topics, each entry
/// in partition `i / per_partition` (topics do not follow partitions: an
/// entry's topic is drawn at random).
struct Data {
    centres: Vec<Vec<f32>>,
    vectors: Vec<Vec<f32>>,
    partition_of: Vec<usize>,
}

impl Data {
    fn new(n: usize, per_partition: usize, seed: u64) -> Self {
        let mut rng = Rng(seed);
        let centres: Vec<Vec<f32>> = (0..(n / PER_CLUSTER).max(1))
            .map(|_| rng.direction())
            .collect();
        let vectors = (0..n)
            .map(|_| {
                let c = &centres[rng.below(centres.len())];
                rng.near(c, TOPIC_SPREAD)
            })
            .collect();
        Self {
            centres,
            vectors,
            partition_of: (0..n).map(|i| i / per_partition).collect(),
        }
    }

    /// Half paraphrases of stored entries, half new prompts of the topics.
    fn queries(&self, count: usize, seed: u64) -> Vec<Query> {
        let mut rng = Rng(seed);
        (0..count)
            .map(|k| {
                let i = rng.below(self.vectors.len());
                if k % 2 == 0 {
                    Query {
                        partition: self.partition_of[i],
                        vector: rng.near(&self.vectors[i], PARAPHRASE_SPREAD),
                        paraphrase: true,
                    }
                } else {
                    let c = &self.centres[rng.below(self.centres.len())];
                    Query {
                        partition: self.partition_of[i],
                        vector: rng.near(c, TOPIC_SPREAD),
                        paraphrase: false,
                    }
                }
            })
            .collect()
    }

    /// The exact nearest distance in the query's partition: a plain scan
    /// with f64 sums, nothing shared with the store.
    fn exact_nearest(&self, q: &Query) -> f64 {
        let mut best = f64::INFINITY;
        for (v, p) in self.vectors.iter().zip(&self.partition_of) {
            if *p != q.partition {
                continue;
            }
            let mut lanes = [0f64; 4];
            for (a, b) in v.chunks_exact(4).zip(q.vector.chunks_exact(4)) {
                for k in 0..4 {
                    lanes[k] += f64::from(a[k]) * f64::from(b[k]);
                }
            }
            best = best.min(1.0 - lanes.iter().sum::<f64>());
        }
        best
    }
}

fn partition_name(p: usize) -> String {
    format!("{p:08x}")
}

fn entry(data: &Data, i: usize, text: String) -> Entry {
    Entry {
        partition: partition_name(data.partition_of[i]),
        vector: data.vectors[i].clone(),
        response: Arc::new(CachedResponse {
            status: 200,
            headers: Vec::new(),
            body: Bytes::from_static(b"{}"),
            text,
            stored_at_ms: NOW,
        }),
        expires_at_ms: NOW + HOUR,
    }
}

/// Resident set size in bytes (Linux; 0 elsewhere).
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn show(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

/// A filled store with its data and queries.
struct Bench {
    name: &'static str,
    data: Data,
    store: MemoryStore,
    queries: Vec<Query>,
}

impl Bench {
    fn new(name: &'static str, n: usize, per_partition: usize, seed: u64) -> Self {
        let data = Data::new(n, per_partition, seed);
        let entries: Vec<Entry> = (0..n)
            .map(|i| entry(&data, i, format!("prompt {i}")))
            .collect();
        let store = MemoryStore::new(n);
        let before = rss();
        let mut took = Vec::with_capacity(n);
        let started = Instant::now();
        for e in entries {
            let t = Instant::now();
            store.insert_now(e, NOW);
            took.push(t.elapsed());
        }
        let total = started.elapsed();
        let grown = rss().saturating_sub(before);
        took.sort_unstable();
        println!(
            "{name}: filled with {n} entries in {:.2} s: insert mean {}, p50 {}, p99 {}, max {}; \
             memory {:.0} bytes per entry (responses excluded)",
            total.as_secs_f64(),
            show(total / n as u32),
            show(percentile(&took, 0.5)),
            show(percentile(&took, 0.99)),
            show(took[n - 1]),
            grown as f64 / n as f64,
        );
        let queries = data.queries(QUERIES, seed ^ 0x5eed);
        Self {
            name,
            data,
            store,
            queries,
        }
    }

    /// p50/p99 of single `nearest()` calls, and recall@1 against exact search.
    fn report(&self) {
        let mut took = Vec::with_capacity(self.queries.len());
        let mut found = Vec::with_capacity(self.queries.len());
        for q in &self.queries {
            let p = partition_name(q.partition);
            let t = Instant::now();
            let hit = self.store.nearest_now(&p, &q.vector, NOW);
            took.push(t.elapsed());
            found.push(hit.map(|h| f64::from(h.distance)));
        }
        took.sort_unstable();
        let (mut right, mut right_para, mut paras) = (0usize, 0usize, 0usize);
        let mut worst_para = 0f64;
        for (q, got) in self.queries.iter().zip(&found) {
            let exact = self.data.exact_nearest(q);
            // The same distance is the same answer (or an exact tie).
            let ok = got.is_some_and(|d| d <= exact + 1e-4);
            right += usize::from(ok);
            if q.paraphrase {
                paras += 1;
                right_para += usize::from(ok);
                worst_para = worst_para.max(exact);
            }
        }
        let n = self.queries.len();
        println!(
            "{}: nearest p50 {}, p99 {}, max {}; recall@1 {:.4} ({} of {n}; paraphrases {:.4}, \
             new prompts {:.4}; a paraphrase is at most {worst_para:.3} away)",
            self.name,
            show(percentile(&took, 0.5)),
            show(percentile(&took, 0.99)),
            show(took[n - 1]),
            right as f64 / n as f64,
            right,
            right_para as f64 / paras as f64,
            (right - right_para) as f64 / (n - paras) as f64,
        );
    }
}

fn main() {
    let benches = [
        Bench::new("one/10k", 10_000, 10_000, 1),
        Bench::new("one/100k", 100_000, 100_000, 2),
        Bench::new("many/10k", 10_000, PER_PARTITION, 3),
        Bench::new("many/100k", 100_000, PER_PARTITION, 4),
    ];
    for b in &benches {
        b.report();
    }

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("nearest");
    for b in &benches {
        let mut k = 0;
        g.bench_function(b.name, |bench| {
            bench.iter(|| {
                let q = &b.queries[k % b.queries.len()];
                k += 1;
                let p = partition_name(q.partition);
                black_box(b.store.nearest_now(&p, &q.vector, NOW))
            });
        });
    }
    g.finish();

    // An insert into the full store: a new prompt, and the oldest goes.
    let mut g = c.benchmark_group("insert");
    for b in &benches {
        let n = b.data.vectors.len();
        let mut k = 0;
        g.bench_function(b.name, |bench| {
            bench.iter_batched(
                || {
                    k += 1;
                    entry(&b.data, k % n, format!("again {k}"))
                },
                |e| b.store.insert_now(e, NOW),
                criterion::BatchSize::SmallInput,
            );
        });
    }
    g.finish();
    c.final_summary();
}
