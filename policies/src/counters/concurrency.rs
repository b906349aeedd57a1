//! Leases for `limit-concurrency`: at most `max` holders per key at once,
//! in this process (APIM does not say its concurrency limit is shared by
//! gateways). A full key refuses at once, or queues its caller (up to a
//! number of waiters, for a bounded time) when asked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// How a caller waits when the key is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Queue {
    /// Callers that may wait at once (0: refuse at once).
    pub length: usize,
    /// How long one may wait.
    pub wait_ms: u64,
}

impl Queue {
    /// Refuse at once (APIM's `limit-concurrency`).
    pub const NONE: Queue = Queue {
        length: 0,
        wait_ms: 0,
    };
}

#[derive(Debug)]
struct Slot {
    held: u64,
    waiting: usize,
    freed: Arc<Notify>,
}

type Map = Arc<Mutex<HashMap<String, Slot>>>;

fn lock(m: &Map) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

#[derive(Debug, Default)]
pub(super) struct Leases {
    slots: Map,
}

/// One holder's place; given back when dropped.
#[derive(Debug)]
pub struct Lease {
    slots: Map,
    key: String,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut slots = lock(&self.slots);
        if let Some(s) = slots.get_mut(&self.key) {
            s.held = s.held.saturating_sub(1);
            if s.held == 0 && s.waiting == 0 {
                slots.remove(&self.key);
            } else {
                s.freed.notify_one();
            }
        }
    }
}

impl Leases {
    pub(super) async fn acquire(&self, key: &str, max: u64, queue: Queue) -> Option<Lease> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(queue.wait_ms);
        let mut queued = false;
        loop {
            let freed = {
                let mut slots = lock(&self.slots);
                let s = slots.entry(key.to_owned()).or_insert_with(|| Slot {
                    held: 0,
                    waiting: 0,
                    freed: Arc::new(Notify::new()),
                });
                if std::mem::take(&mut queued) {
                    s.waiting = s.waiting.saturating_sub(1);
                }
                if s.held < max {
                    s.held += 1;
                    return Some(Lease {
                        slots: Arc::clone(&self.slots),
                        key: key.to_owned(),
                    });
                }
                if s.waiting >= queue.length || tokio::time::Instant::now() >= deadline {
                    if s.held == 0 && s.waiting == 0 {
                        slots.remove(key);
                    }
                    return None;
                }
                s.waiting += 1;
                queued = true;
                Arc::clone(&s.freed)
            };
            let _ = tokio::time::timeout_at(deadline, freed.notified()).await;
        }
    }

    /// Holders of `key` now.
    #[cfg(test)]
    pub(super) fn held(&self, key: &str) -> u64 {
        lock(&self.slots).get(key).map_or(0, |s| s.held)
    }
}
