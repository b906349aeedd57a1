//! The in-process store: counters in a sharded map, each with its expiry
//! (a period after its last write; never for a lifetime window), swept
//! from a shard every so many writes. Time is the caller's (the gateway
//! clock, virtual in `sluice test`).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

use sluice_engine::runtime::BoxFuture;

use super::window::{self, Buckets, Raw};
use super::{Counter, CounterStore, StoreError, Take};

const SHARDS: usize = 16;
/// Writes to a shard between two sweeps of its expired counters.
const SWEEP_EVERY: u32 = 4096;

#[derive(Debug, Default)]
struct Shard {
    map: HashMap<(&'static str, String), (Buckets, i64)>,
    writes: u32,
}

#[derive(Debug)]
pub struct MemoryStore {
    shards: Vec<Mutex<Shard>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The decision, synchronously (the store never waits).
    pub fn take_now(&self, counter: &Counter, take: Take, now_ms: i64) -> Raw {
        let h = self.hasher.hash_one((counter.policy, counter.key.as_str()));
        let i = usize::try_from(h % SHARDS as u64).unwrap_or(0);
        let mut shard = match self.shards[i].lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        shard.writes = shard.writes.wrapping_add(1);
        if shard.writes % SWEEP_EVERY == 0 {
            shard.map.retain(|_, (_, expires)| *expires > now_ms);
        }
        let k = (counter.policy, counter.key.clone());
        let state = match shard.map.remove(&k) {
            Some((s, expires)) if expires > now_ms => s,
            _ => Buckets::new(),
        };
        let (state, raw) = window::apply(state, counter, take, now_ms);
        let period = i64::try_from(counter.window.period_ms()).unwrap_or(i64::MAX);
        let expires = if let super::Window::Span { end_ms, .. } = counter.window {
            end_ms
        } else if period == 0 {
            i64::MAX
        } else {
            now_ms.saturating_add(period)
        };
        shard.map.insert(k, (state, expires));
        raw
    }

    /// Counters held (expired ones until they are swept).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| match s.lock() {
                Ok(g) => g.map.len(),
                Err(p) => p.into_inner().map.len(),
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl CounterStore for MemoryStore {
    fn take<'a>(
        &'a self,
        counter: &'a Counter,
        take: Take,
        now_ms: i64,
    ) -> BoxFuture<'a, Result<Raw, StoreError>> {
        let raw = self.take_now(counter, take, now_ms);
        Box::pin(async move { Ok(raw) })
    }

    fn kind(&self) -> &'static str {
        "memory"
    }

    fn shared(&self) -> bool {
        false
    }
}
