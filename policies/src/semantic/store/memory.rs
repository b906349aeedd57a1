//! The embedded vector store: in process, bounded by entries, expiry by TTL
//! on the caller's clock.
//!
//! - `memory.rs`: the store: partitions, the bound (oldest first), expiry,
//!   replacement of the same prompt, purge
//! - `memory/rows.rs`: the entries of one partition and vector length, and
//!   their search: exact up to 2,048 rows, through sketches beyond
//! - `memory/sketch.rs`: the SimHash sketches of large partitions
//! - `memory/tests.rs`: what the shared suite does not cover: large
//!   partitions, eviction after replacements, recall@1 against exact search
//!
//! When the store is full, the oldest entry goes first; expired entries are
//! skipped by searches and swept out as inserts go on.

mod rows;
mod sketch;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use sluice_engine::runtime::BoxFuture;

use super::{Entry, Nearest, StoreError, VectorStore, normalised};
use rows::Rows;

/// How many inserts between two sweeps of expired entries.
const SWEEP_EVERY: u64 = 1024;

#[derive(Debug)]
pub struct MemoryStore {
    max_entries: usize,
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Per partition, its rows of each vector length (almost always one).
    partitions: HashMap<Arc<str>, Vec<Rows>>,
    /// Entries in insertion order. An entry removed otherwise (replaced,
    /// expired, purged) stays here until it reaches the front and is
    /// skipped then, or until `compact_order`.
    order: VecDeque<Slot>,
    /// Entries stored.
    live: usize,
    next_id: u64,
    inserts: u64,
}

#[derive(Debug)]
struct Slot {
    partition: Arc<str>,
    dim: usize,
    id: u64,
}

impl Inner {
    fn rows(&self, partition: &str, dim: usize) -> Option<&Rows> {
        self.partitions
            .get(partition)?
            .iter()
            .find(|r| r.dim() == dim)
    }

    fn is_live(&self, slot: &Slot) -> bool {
        self.rows(&slot.partition, slot.dim)
            .is_some_and(|r| r.contains(slot.id))
    }

    /// Removes an entry; whether it was there.
    fn remove(&mut self, partition: &str, dim: usize, id: u64) -> bool {
        let Some(all) = self.partitions.get_mut(partition) else {
            return false;
        };
        let Some(at) = all.iter().position(|r| r.dim() == dim) else {
            return false;
        };
        if !all[at].remove(id) {
            return false;
        }
        self.live -= 1;
        if all[at].len() == 0 {
            all.swap_remove(at);
            if all.is_empty() {
                self.partitions.remove(partition);
            }
        }
        true
    }

    /// Removes the oldest entries until there is room for one more.
    fn evict(&mut self, max: usize) {
        while self.live >= max {
            let Some(slot) = self.order.pop_front() else {
                break;
            };
            self.remove(&slot.partition, slot.dim, slot.id);
        }
    }

    /// Drops the slots of removed entries once they are as many as the
    /// live ones, so that the order stays within twice the bound however
    /// often prompts are replaced.
    fn compact_order(&mut self) {
        if self.order.len() > 2 * self.live + 64 {
            let order = std::mem::take(&mut self.order);
            self.order = order.into_iter().filter(|s| self.is_live(s)).collect();
        }
    }

    /// Removes every expired entry.
    fn sweep(&mut self, now_ms: i64) {
        let mut gone = 0;
        for all in self.partitions.values_mut() {
            for rows in all.iter_mut() {
                for id in rows.expired(now_ms) {
                    gone += usize::from(rows.remove(id));
                }
            }
            all.retain(|rows| rows.len() > 0);
        }
        self.partitions.retain(|_, all| !all.is_empty());
        self.live -= gone;
    }
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
            let rows = inner.rows(partition, q.len())?;
            let (d, i) = rows.nearest(&q, now_ms)?;
            let (row, expires_at_ms) = rows.row(i);
            Some(Nearest {
                distance: d.clamp(0.0, 2.0),
                response: Arc::clone(&row.response),
                expires_at_ms,
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
                inner.sweep(now_ms);
            }
            // The same prompt stored again replaces the older answer.
            let same = inner
                .rows(&entry.partition, dim)
                .and_then(|rows| rows.id_of_text(&entry.response.text));
            if let Some(old) = same {
                inner.remove(&entry.partition, dim, old);
            }
            inner.evict(max);
            let id = inner.next_id;
            inner.next_id += 1;
            let partition = match inner.partitions.get_key_value(entry.partition.as_str()) {
                Some((p, _)) => Arc::clone(p),
                None => Arc::from(entry.partition),
            };
            let all = inner.partitions.entry(Arc::clone(&partition)).or_default();
            let at = match all.iter().position(|r| r.dim() == dim) {
                Some(at) => at,
                None => {
                    all.push(Rows::new(dim));
                    all.len() - 1
                }
            };
            all[at].push(id, &v, entry.response, entry.expires_at_ms);
            inner.live += 1;
            inner.order.push_back(Slot { partition, dim, id });
            inner.compact_order();
        });
    }

    pub fn purge_now(&self, partition: Option<&str>) -> u64 {
        self.write(|inner| {
            let gone = match partition {
                None => {
                    inner.partitions.clear();
                    inner.order.clear();
                    inner.live
                }
                Some(p) => inner
                    .partitions
                    .remove(p)
                    .map_or(0, |all| all.iter().map(Rows::len).sum()),
            };
            inner.live -= gone;
            inner.compact_order();
            gone as u64
        })
    }

    pub fn count_now(&self) -> usize {
        self.read(|inner| inner.live)
    }
}

fn is_zero(v: &[f32]) -> bool {
    v.iter().all(|x| *x == 0.0)
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
