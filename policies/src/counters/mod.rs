//! Counters that outlive requests and reloads: the state of `rate-limit`,
//! `rate-limit-by-key`, `quota`, `quota-by-key`, `limit-concurrency` and the
//! token limits. The gateway's counters family (`[counters]`) builds one
//! [`Counters`] and hands it to every plan; a stage takes it with
//! `cx.resource::<Counters>(e)`.
//!
//! - `mod.rs`: the handle ([`Counters`]), what a counter is ([`Counter`],
//!   [`Window`]), what a stage asks ([`Take`]) and is told ([`Decision`]),
//!   the fallback when the shared store fails
//! - `window.rs`: the one decision rule both stores apply (sliding and
//!   fixed windows, in whole units)
//! - `memory.rs`: the in-process store (the default)
//! - `redis.rs`: the Redis store shared by every replica (one Lua script
//!   per decision, on the server's clock)
//! - `concurrency.rs`: leases for `limit-concurrency` (in process)
//!
//! A decision is one call: [`Counters::take`] checks and adds in one step
//! (one atomic script in Redis), so replicas sharing a store never both
//! admit the last unit. Amounts known only after the response (tokens, a
//! postponed `increment-condition`, bandwidth) are added with
//! [`Take::Add`] (negative to correct a reservation).

mod concurrency;
mod memory;
mod redis;
mod window;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

pub use concurrency::{Lease, Queue};
pub use memory::MemoryStore;
pub use redis::{RedisConfig, RedisStore};
pub use window::Raw;

use crate::breaker::Breaker;
use sluice_engine::runtime::BoxFuture;

/// How a counter's window moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    /// A sliding window of `period_ms` (`rate-limit`, tokens per minute),
    /// moving in tenths of the period: what was added leaves it one period
    /// after the start of its tenth.
    Sliding { period_ms: u64 },
    /// Fixed windows of `period_ms` from `start_ms` (`quota`,
    /// `first-period-start`); `period_ms` 0: one window for ever.
    Fixed { period_ms: u64, start_ms: i64 },
    /// One window `[start_ms, end_ms)` the caller computed (a calendar
    /// month or year: `token-quota-period`); the next window, with another
    /// start, counts from zero.
    Span { start_ms: i64, end_ms: i64 },
}

impl Window {
    pub fn period_ms(&self) -> u64 {
        match *self {
            Window::Sliding { period_ms } | Window::Fixed { period_ms, .. } => period_ms,
            Window::Span { start_ms, end_ms } => u64::try_from(end_ms.saturating_sub(start_ms))
                .unwrap_or(0)
                .max(1),
        }
    }
}

/// One counter: the policy that owns it (its namespace, and the label of
/// its refusals' metric), its key, its limit and window.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Counter {
    /// The policy kind, `rate-limit-by-key`: counters of different kinds
    /// never share a count, counters of one kind share it by key (as APIM's
    /// `counter-key` is shared by every scope that uses it).
    pub policy: &'static str,
    pub key: String,
    pub limit: u64,
    pub window: Window,
}

impl Counter {
    pub fn new(policy: &'static str, key: impl Into<String>, limit: u64, window: Window) -> Self {
        Self {
            policy,
            key: key.into(),
            limit,
            window,
        }
    }
}

/// What a decision asks of a counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    /// Admit when the count plus `n` stays within the limit; add `n` then
    /// (calls, a token estimate reserved before the backend).
    Fit(u64),
    /// Admit while the count is below the limit (the amount may then
    /// overshoot it); add `n` then. `Below(0)` only looks.
    Below(u64),
    /// Add `n` whatever the count (always admitted): usage known after the
    /// response, or a correction of a reservation when negative. The
    /// count never goes below zero.
    Add(i64),
}

/// Why a decision was not the store's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// The shared store failed: admitted without counting.
    Allow,
    /// The shared store failed: refused.
    Deny,
    /// The shared store failed: counted by this replica alone.
    Local,
}

impl Fallback {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allow" => Some(Fallback::Allow),
            "deny" => Some(Fallback::Deny),
            "local" => Some(Fallback::Local),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::Allow => "allow",
            Fallback::Deny => "deny",
            Fallback::Local => "local",
        }
    }
}

/// What a stage is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// What the window holds after the decision.
    pub count: u64,
    /// `limit - count`, at least 0.
    pub remaining: u64,
    /// When refused: how long until the asked amount would be admitted;
    /// `None` when never (a lifetime quota). 0 when admitted.
    pub retry_after_ms: Option<u64>,
    /// How long until the count next falls (a fixed window's end, the
    /// oldest step of a sliding window leaving it); `None` for a lifetime
    /// window.
    pub reset_ms: Option<u64>,
    /// Set when the shared store failed and the fallback decided.
    pub fallback: Option<Fallback>,
}

/// A failure of the shared store.
#[derive(Clone, Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// A place counts are kept. `now_ms` is the gateway clock; a store with a
/// clock of its own (Redis) uses that instead, so replicas agree.
pub trait CounterStore: Send + Sync + std::fmt::Debug {
    fn take<'a>(
        &'a self,
        counter: &'a Counter,
        take: Take,
        now_ms: i64,
    ) -> BoxFuture<'a, Result<Raw, StoreError>>;
    /// `memory` or `redis`.
    fn kind(&self) -> &'static str;
    /// Shared by replicas, and so may fail (the fallback then decides).
    fn shared(&self) -> bool {
        true
    }
}

/// The counters' metrics, on the gateway's one registry.
#[derive(Clone, Debug)]
struct Metrics {
    refused: IntCounterVec,
    errors: IntCounter,
    fallback: IntGauge,
}

impl Metrics {
    fn new(registry: Option<&Registry>) -> Result<Self, prometheus::Error> {
        let refused = IntCounterVec::new(
            Opts::new(
                "sluice_limit_refusals_total",
                "Requests refused by a limit (rate, quota, concurrency, tokens), by policy",
            ),
            &["policy"],
        )?;
        let errors = IntCounter::new(
            "sluice_counter_store_errors_total",
            "Failed calls to the shared counter store",
        )?;
        let fallback = IntGauge::new(
            "sluice_counter_store_fallback",
            "1 while counter decisions are taken by the fallback (the shared store failed)",
        )?;
        if let Some(r) = registry {
            r.register(Box::new(refused.clone()))?;
            r.register(Box::new(errors.clone()))?;
            r.register(Box::new(fallback.clone()))?;
        }
        Ok(Self {
            refused,
            errors,
            fallback,
        })
    }
}

/// How the counters are built.
#[derive(Clone, Debug)]
pub struct Settings {
    /// What decides while the shared store fails (`allow` by default).
    pub on_store_failure: Fallback,
    /// Failures in a row that open the breaker, and how long it stays open.
    pub breaker_failures: u32,
    pub breaker_cooldown_ms: u64,
    /// Whether an outage (and its end) goes to the log, once each.
    pub log: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            on_store_failure: Fallback::Allow,
            breaker_failures: 1,
            breaker_cooldown_ms: 1_000,
            log: false,
        }
    }
}

/// The counters of one gateway: the store, the fallback when the shared
/// store fails, the concurrency leases, the metrics.
pub struct Counters {
    store: Arc<dyn CounterStore>,
    /// Counts while a shared store fails (`on-store-failure = "local"`).
    local: MemoryStore,
    settings: Settings,
    breaker: Breaker,
    /// In an outage (logged once when it starts, once when it ends).
    outage: AtomicBool,
    metrics: Metrics,
    leases: concurrency::Leases,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counters")
            .field("store", &self.store)
            .field("on_store_failure", &self.settings.on_store_failure)
            .finish_non_exhaustive()
    }
}

impl Counters {
    /// In-process counters, metrics in no registry (tests).
    pub fn memory() -> Self {
        #[expect(clippy::expect_used, reason = "metrics in no registry cannot collide")]
        Self::new(Arc::new(MemoryStore::new()), Settings::default(), None)
            .expect("unregistered metrics")
    }

    /// Counters on `store`, their metrics in `registry`.
    pub fn new(
        store: Arc<dyn CounterStore>,
        settings: Settings,
        registry: Option<&Registry>,
    ) -> Result<Self, prometheus::Error> {
        Ok(Self {
            store,
            local: MemoryStore::new(),
            breaker: Breaker::new(settings.breaker_failures, settings.breaker_cooldown_ms),
            settings,
            outage: AtomicBool::new(false),
            metrics: Metrics::new(registry)?,
            leases: concurrency::Leases::default(),
        })
    }

    /// `memory` or `redis`.
    pub fn store_kind(&self) -> &'static str {
        self.store.kind()
    }

    /// Whether decisions are taken by the fallback now.
    pub fn in_outage(&self) -> bool {
        self.outage.load(Ordering::Relaxed)
    }

    /// One decision on `counter`: check and add in one step. A refusal is
    /// counted in `sluice_limit_refusals_total{policy}`.
    pub async fn take(&self, counter: &Counter, take: Take, now_ms: i64) -> Decision {
        let d = self.decide(counter, take, now_ms).await;
        if !d.allowed {
            self.refused(counter.policy);
        }
        d
    }

    /// Decisions on several counters that must all admit (a product's,
    /// an API's and an operation's limit): in order, each added only if
    /// all admit (what was added is taken back when a later one refuses).
    /// The first refusal is returned, else the decision of the counter
    /// with the least remaining.
    pub async fn take_all(&self, counters: &[(Counter, Take)], now_ms: i64) -> (usize, Decision) {
        let mut done: Vec<(usize, Decision)> = Vec::with_capacity(counters.len());
        for (i, (c, t)) in counters.iter().enumerate() {
            let d = self.decide(c, *t, now_ms).await;
            if !d.allowed {
                for (j, _) in &done {
                    let (c, t) = &counters[*j];
                    let back = match *t {
                        Take::Fit(n) | Take::Below(n) => -i64::try_from(n).unwrap_or(i64::MAX),
                        Take::Add(_) => 0,
                    };
                    if back != 0 {
                        let _ = self.decide(c, Take::Add(back), now_ms).await;
                    }
                }
                self.refused(c.policy);
                return (i, d);
            }
            done.push((i, d));
        }
        done.into_iter()
            .min_by_key(|(_, d)| d.remaining)
            .unwrap_or((
                0,
                Decision {
                    allowed: true,
                    count: 0,
                    remaining: u64::MAX,
                    retry_after_ms: Some(0),
                    reset_ms: None,
                    fallback: None,
                },
            ))
    }

    /// Counts a refusal that was decided elsewhere (`limit-concurrency`).
    pub fn refused(&self, policy: &str) {
        self.metrics.refused.with_label_values(&[policy]).inc();
    }

    /// A lease on `key` for one of at most `max` requests at once, waiting
    /// in `queue` when full; `None`: refused (the caller answers 429). The
    /// lease ends when dropped.
    pub async fn acquire(&self, policy: &str, key: &str, max: u64, queue: Queue) -> Option<Lease> {
        let l = self.leases.acquire(key, max, queue).await;
        if l.is_none() {
            self.refused(policy);
        }
        l
    }

    async fn decide(&self, counter: &Counter, take: Take, now_ms: i64) -> Decision {
        if !self.store.shared() {
            return match self.store.take(counter, take, now_ms).await {
                Ok(raw) => raw.decision(counter, take, None),
                Err(_) => self.fallback(counter, take, now_ms).await,
            };
        }
        if !self.breaker.allow(now_ms) {
            return self.fallback(counter, take, now_ms).await;
        }
        match self.store.take(counter, take, now_ms).await {
            Ok(raw) => {
                self.breaker.success();
                if self.outage.swap(false, Ordering::Relaxed) {
                    self.metrics.fallback.set(0);
                    if self.settings.log {
                        tracing::warn!(
                            store = self.store.kind(),
                            "counters: the store answers again; counting is shared again"
                        );
                    }
                }
                raw.decision(counter, take, None)
            }
            Err(e) => {
                self.metrics.errors.inc();
                self.breaker.failure(now_ms);
                if !self.outage.swap(true, Ordering::Relaxed) {
                    self.metrics.fallback.set(1);
                    if self.settings.log {
                        tracing::warn!(
                            store = self.store.kind(),
                            error = %e,
                            fallback = self.settings.on_store_failure.as_str(),
                            "counters: the store failed; decisions follow on-store-failure until it is back"
                        );
                    }
                }
                self.fallback(counter, take, now_ms).await
            }
        }
    }

    async fn fallback(&self, counter: &Counter, take: Take, now_ms: i64) -> Decision {
        let f = self.settings.on_store_failure;
        match f {
            Fallback::Allow => Decision {
                allowed: true,
                count: 0,
                remaining: counter.limit,
                retry_after_ms: Some(0),
                reset_ms: None,
                fallback: Some(f),
            },
            Fallback::Deny => Decision {
                allowed: false,
                count: counter.limit,
                remaining: 0,
                retry_after_ms: Some(self.settings.breaker_cooldown_ms.max(1_000)),
                reset_ms: None,
                fallback: Some(f),
            },
            Fallback::Local => match self.local.take(counter, take, now_ms).await {
                Ok(raw) => raw.decision(counter, take, Some(f)),
                // The memory store does not fail.
                Err(_) => Decision {
                    allowed: true,
                    count: 0,
                    remaining: counter.limit,
                    retry_after_ms: Some(0),
                    reset_ms: None,
                    fallback: Some(f),
                },
            },
        }
    }
}
