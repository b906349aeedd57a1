//! The embedded vector store: in process, bounded by entries, expiry by TTL
//! on the caller's clock.
//!
//! Each partition (and vector length) keeps its vectors normalised in one
//! contiguous array, so a search is one pass of dot products over the
//! partition's rows (cosine distance = 1 − dot of unit vectors). When the
//! store is full, the oldest entry goes first; expired entries are skipped
//! by searches and swept out as inserts go on.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use sluice_engine::runtime::BoxFuture;

use super::{CachedResponse, Entry, Nearest, StoreError, VectorStore, normalised};

/// How many inserts between two sweeps of expired entries.
const SWEEP_EVERY: u64 = 1024;

#[derive(Debug)]
pub struct MemoryStore {
    max_entries: usize,
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    partitions: HashMap<(String, usize), Rows>,
    /// Entries in insertion order: (partition, length, id).
    order: VecDeque<(String, usize, u64)>,
    next_id: u64,
    inserts: u64,
}

/// The entries of one partition with vectors of one length.
#[derive(Debug, Default)]
struct Rows {
    dim: usize,
    /// `dim` floats per row, each row of length 1.
    vectors: Vec<f32>,
    meta: Vec<Row>,
    /// Row index of an id.
    index: HashMap<u64, usize>,
}

#[derive(Debug)]
struct Row {
    id: u64,
    response: Arc<CachedResponse>,
    expires_at_ms: i64,
}

impl Rows {
    fn push(&mut self, id: u64, vector: &[f32], response: Arc<CachedResponse>, expires: i64) {
        self.index.insert(id, self.meta.len());
        self.vectors.extend_from_slice(vector);
        self.meta.push(Row {
            id,
            response,
            expires_at_ms: expires,
        });
    }

    fn remove(&mut self, id: u64) -> bool {
        let Some(i) = self.index.remove(&id) else {
            return false;
        };
        let last = self.meta.len() - 1;
        self.meta.swap_remove(i);
        if i != last {
            let (head, tail) = self.vectors.split_at_mut(last * self.dim);
            head[i * self.dim..(i + 1) * self.dim].copy_from_slice(&tail[..self.dim]);
            self.index.insert(self.meta[i].id, i);
        }
        self.vectors.truncate(last * self.dim);
        true
    }

    fn nearest(&self, q: &[f32], now_ms: i64) -> Option<(f32, usize)> {
        let mut best: Option<(f32, usize)> = None;
        for (i, row) in self.vectors.chunks_exact(self.dim).enumerate() {
            if self.meta[i].expires_at_ms <= now_ms {
                continue;
            }
            let d = 1.0 - dot(q, row);
            if best.is_none_or(|(b, _)| d < b) {
                best = Some((d, i));
            }
        }
        best
    }
}

/// Dot product in lanes of eight, which the compiler turns into SIMD.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

impl MemoryStore {
    pub fn new(max_entries: usize) -> Self {
        Self {
            max_entries: max_entries.max(1),
            inner: RwLock::new(Inner::default()),
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Inner) -> T) -> T {
        match self.inner.read() {
            Ok(g) => f(&g),
            Err(p) => f(&p.into_inner()),
        }
    }

    fn write<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        match self.inner.write() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// Searches synchronously (the trait's future does nothing else).
    pub fn nearest_now(&self, partition: &str, vector: &[f32], now_ms: i64) -> Option<Nearest> {
        if is_zero(vector) {
            return None;
        }
        let q = normalised(vector);
        self.read(|inner| {
            let rows = inner
                .partitions
                .get(&(partition.to_owned(), vector.len()))?;
            let (d, i) = rows.nearest(&q, now_ms)?;
            let row = &rows.meta[i];
            Some(Nearest {
                distance: d.clamp(0.0, 2.0),
                response: Arc::clone(&row.response),
                expires_at_ms: row.expires_at_ms,
            })
        })
    }

    /// Stores an entry; a zero (or empty) vector, which has no direction, is not stored.
    pub fn insert_now(&self, entry: Entry, now_ms: i64) {
        if is_zero(&entry.vector) {
            return;
        }
        let v = normalised(&entry.vector);
        let dim = v.len();
        let max = self.max_entries;
        self.write(|inner| {
            inner.inserts += 1;
            if inner.inserts.is_multiple_of(SWEEP_EVERY) {
                sweep(inner, now_ms);
            }
            while inner.order.len() >= max {
                let Some((p, d, id)) = inner.order.pop_front() else {
                    break;
                };
                remove(inner, p, d, id);
            }
            let key = (entry.partition.clone(), dim);
            // The same prompt stored again replaces the older answer.
            let same = inner.partitions.get(&key).and_then(|rows| {
                rows.meta
                    .iter()
                    .find(|r| r.response.text == entry.response.text)
                    .map(|r| r.id)
            });
            if let Some(old) = same {
                remove(inner, entry.partition.clone(), dim, old);
                inner.order.retain(|(_, _, id)| *id != old);
            }
            let id = inner.next_id;
            inner.next_id += 1;
            inner
                .partitions
                .entry(key)
                .or_insert_with(|| Rows {
                    dim,
                    ..Rows::default()
                })
                .push(id, &v, entry.response, entry.expires_at_ms);
            inner.order.push_back((entry.partition, dim, id));
        });
    }

    pub fn purge_now(&self, partition: Option<&str>) -> u64 {
        self.write(|inner| {
            let before = inner.order.len();
            match partition {
                None => {
                    inner.partitions.clear();
                    inner.order.clear();
                }
                Some(p) => {
                    inner.partitions.retain(|(q, _), _| q != p);
                    inner.order.retain(|(q, _, _)| q != p);
                }
            }
            (before - inner.order.len()) as u64
        })
    }

    pub fn count_now(&self) -> usize {
        self.read(|inner| inner.order.len())
    }
}

fn is_zero(v: &[f32]) -> bool {
    v.iter().all(|x| *x == 0.0)
}

fn remove(inner: &mut Inner, partition: String, dim: usize, id: u64) {
    let key = (partition, dim);
    if let Some(rows) = inner.partitions.get_mut(&key) {
        rows.remove(id);
        if rows.meta.is_empty() {
            inner.partitions.remove(&key);
        }
    }
}

/// Removes every expired entry.
fn sweep(inner: &mut Inner, now_ms: i64) {
    let mut gone = std::collections::HashSet::new();
    for rows in inner.partitions.values_mut() {
        let expired: Vec<u64> = rows
            .meta
            .iter()
            .filter(|r| r.expires_at_ms <= now_ms)
            .map(|r| r.id)
            .collect();
        for id in expired {
            rows.remove(id);
            gone.insert(id);
        }
    }
    inner.partitions.retain(|_, rows| !rows.meta.is_empty());
    if !gone.is_empty() {
        inner.order.retain(|(_, _, id)| !gone.contains(id));
    }
}

impl VectorStore for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn nearest<'a>(
        &'a self,
        partition: &'a str,
        vector: &'a [f32],
        now_ms: i64,
    ) -> BoxFuture<'a, Result<Option<Nearest>, StoreError>> {
        let r = self.nearest_now(partition, vector, now_ms);
        Box::pin(async move { Ok(r) })
    }

    fn insert(&self, entry: Entry, now_ms: i64) -> BoxFuture<'_, Result<(), StoreError>> {
        self.insert_now(entry, now_ms);
        Box::pin(async { Ok(()) })
    }

    fn purge<'a>(&'a self, partition: Option<&'a str>) -> BoxFuture<'a, Result<u64, StoreError>> {
        let n = self.purge_now(partition);
        Box::pin(async move { Ok(n) })
    }

    fn count(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        let n = self.count_now() as u64;
        Box::pin(async move { Ok(n) })
    }
}
