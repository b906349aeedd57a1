//! Vector stores: where the semantic cache keeps prompts' vectors and the
//! answers they found, behind one trait.
//!
//! - `memory.rs`: the embedded default, in process, bounded, expiry by TTL
//! - `redis.rs`: Redis 8 / Redis Stack with the search module (HNSW COSINE
//!   index per dimension, TAG partition field, one HASH per entry with TTL)
//!
//! Both measure **cosine distance** (1 − cosine similarity, 0 = same
//! direction, 2 = opposite), the unit of `score-threshold`, and treat the
//! partition as a hard filter: a search never sees another partition.
//! Time is the caller's clock (`now_ms`), so the conformance runner's
//! virtual clock decides expiry; Redis also gets a real TTL so that entries
//! leave the server by themselves.

pub mod memory;
pub mod redis;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use bytes::Bytes;
use sluice_engine::runtime::BoxFuture;

/// An answer the cache returns on a hit.
#[derive(Clone, Debug, PartialEq)]
pub struct CachedResponse {
    pub status: u16,
    /// The content headers kept with the answer (`Content-Type`, ...).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The text that was embedded (for the exact-match layer and purge by text).
    pub text: String,
    /// When it was stored, gateway clock (ms since the Unix epoch).
    pub stored_at_ms: i64,
}

/// One entry to store.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The partition, an opaque key of `[0-9a-f]` characters.
    pub partition: String,
    /// The embedding of `response.text`; any length, not necessarily normalised.
    pub vector: Vec<f32>,
    pub response: Arc<CachedResponse>,
    /// Gateway clock (ms since the Unix epoch) after which the entry is gone.
    pub expires_at_ms: i64,
}

/// The nearest stored prompt of a partition.
#[derive(Clone, Debug)]
pub struct Nearest {
    /// Cosine distance, 0..=2.
    pub distance: f32,
    pub response: Arc<CachedResponse>,
    pub expires_at_ms: i64,
}

/// Why a store operation failed (the cache then behaves as a miss).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError {
    pub message: String,
    /// The store did not answer in time (its own client's timeout).
    pub timeout: bool,
}

impl StoreError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            timeout: false,
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

/// A vector store.
pub trait VectorStore: Send + Sync + std::fmt::Debug {
    /// `memory`, `redis`.
    fn kind(&self) -> &'static str;

    /// The nearest unexpired entry of `partition` with a vector of the same
    /// length as `vector`, or `None` when the partition has none.
    fn nearest<'a>(
        &'a self,
        partition: &'a str,
        vector: &'a [f32],
        now_ms: i64,
    ) -> BoxFuture<'a, Result<Option<Nearest>, StoreError>>;

    /// Stores an entry; an entry of the same partition with the same
    /// prompt text (`response.text`) is replaced.
    fn insert(&self, entry: Entry, now_ms: i64) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Deletes every entry, or those of one partition; how many went.
    fn purge<'a>(&'a self, partition: Option<&'a str>) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// How many entries are stored (expired ones not yet removed may count).
    fn count(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// Cosine distance of two vectors of equal length (2.0 for a zero vector).
pub fn cosine_distance(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return 2.0;
    }
    (1.0 - dot / (na.sqrt() * nb.sqrt())).clamp(0.0, 2.0)
}

/// `v` scaled to length 1 (a zero vector stays zero).
pub fn normalised(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n == 0.0 {
        return v.to_vec();
    }
    v.iter().map(|x| x / n).collect()
}
