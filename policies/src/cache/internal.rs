//! The internal cache: moka, bounded by the bytes of its keys and values
//! (`[cache] internal-max-bytes`), each entry with the gateway-clock time it
//! expires (moka's own expiry runs on real time, which the conformance
//! runner's virtual clock does not move). An expired entry is a miss and is
//! dropped when read; those never read again leave by the size bound.

use bytes::Bytes;
use moka::sync::Cache;

/// Bytes an entry costs besides its key and value (moka's own bookkeeping, roughly).
const ENTRY_OVERHEAD: u64 = 64;

#[derive(Clone, Debug)]
struct Entry {
    value: Bytes,
    expires_ms: i64,
}

pub struct InternalCache {
    entries: Cache<String, Entry>,
}

impl std::fmt::Debug for InternalCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InternalCache")
            .field("entries", &self.entries.entry_count())
            .field("bytes", &self.entries.weighted_size())
            .finish()
    }
}

impl InternalCache {
    pub fn new(max_bytes: u64) -> Self {
        let entries = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &String, v: &Entry| {
                let w = (k.len() as u64)
                    .saturating_add(v.value.len() as u64)
                    .saturating_add(ENTRY_OVERHEAD);
                u32::try_from(w).unwrap_or(u32::MAX)
            })
            .build();
        Self { entries }
    }

    pub fn get(&self, key: &str, now_ms: i64) -> Option<Bytes> {
        let e = self.entries.get(key)?;
        if now_ms >= e.expires_ms {
            self.entries.invalidate(key);
            return None;
        }
        Some(e.value)
    }

    pub fn set(&self, key: &str, value: Bytes, expires_ms: i64) {
        self.entries
            .insert(key.to_owned(), Entry { value, expires_ms });
    }

    pub fn remove(&self, key: &str) {
        self.entries.invalidate(key);
    }

    /// Entries held, after pending evictions are applied.
    pub fn entries(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    /// Bytes held (the weigher's measure).
    pub fn bytes(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }

    /// Drops everything; returns how many entries there were.
    pub fn purge(&self) -> u64 {
        let n = self.entries();
        self.entries.invalidate_all();
        self.entries.run_pending_tasks();
        n
    }
}
