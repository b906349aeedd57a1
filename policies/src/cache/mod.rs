//! The caches of `cache-lookup`/`cache-store` (responses) and
//! `cache-lookup-value`/`cache-store-value`/`cache-remove-value` (values):
//! the internal cache (in process, bounded by bytes) and the external one
//! (Redis, optional), behind one handle, [`Caches`], that the gateway's
//! caches family builds once and gives every plan.
//!
//! - `mod.rs`: [`Caches`], the choice of cache (`caching-type`), expiry on
//!   the gateway clock, the external cache's breaker, metrics and outage log
//! - `internal.rs`: the internal cache (moka, weighed in bytes)
//! - `redis.rs`: the external cache (Redis `SET PX`/`GET`/`DEL`, bounded)
//! - `codec.rs`: how a value and a response are kept as bytes
//!
//! Expiry is the gateway clock's (the conformance runner's virtual clock in
//! `sluice test`): every entry carries the time it expires, and a read
//! compares it with the clock, in both caches; Redis also drops the key by
//! itself after the same time (`PX`), in real time. An external cache that
//! fails is a miss (and a store or removal that does nothing), never an
//! error; after `breaker-failures` failures in a row it is not called for
//! `breaker-cooldown-ms`, and one line is logged when it goes down and one
//! when it answers again.

pub mod codec;
mod internal;
pub mod redis;

use std::time::Duration;

use bytes::Bytes;
use prometheus::{IntCounterVec, IntGauge, Opts, Registry};

use crate::breaker::Breaker;
pub use internal::InternalCache;
pub use redis::{ExternalCache, RedisKvConfig};

/// `caching-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachingType {
    Internal,
    External,
    PreferExternal,
}

impl CachingType {
    /// From the attribute's text (`None`: not one of the three).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "internal" => Some(Self::Internal),
            "external" => Some(Self::External),
            "prefer-external" => Some(Self::PreferExternal),
            _ => None,
        }
    }
}

/// One of the two caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Internal,
    External,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::External => "external",
        }
    }
}

/// The settings of `[cache]` the handle needs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Bytes the internal cache keeps at most (keys and values).
    pub internal_max_bytes: u64,
    /// Failures in a row that open the external cache's breaker.
    pub breaker_failures: u32,
    /// How long an open breaker refuses calls.
    pub breaker_cooldown_ms: u64,
    /// Whether outages are logged (`sluice run`), or not (`sluice test`).
    pub log: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            internal_max_bytes: 64 * 1024 * 1024,
            breaker_failures: 3,
            breaker_cooldown_ms: 10_000,
            log: false,
        }
    }
}

/// The metrics of both caches, by `cache` (`internal`, `external`).
#[derive(Clone, Debug)]
pub struct Metrics {
    pub hits: IntCounterVec,
    pub misses: IntCounterVec,
    pub stores: IntCounterVec,
    pub removals: IntCounterVec,
    /// Operations that failed (the external cache: timeouts, errors, an open breaker).
    pub errors: IntCounterVec,
    /// 1 while the external cache's breaker is open.
    pub external_down: IntGauge,
}

impl Metrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        // Both series of each counter exist from the start (at 0), so that
        // a dashboard's rate has a start and a store that never happens shows.
        let vec = |name: &str, help: &str| -> Result<IntCounterVec, prometheus::Error> {
            let c = IntCounterVec::new(Opts::new(name, help), &["cache"])?;
            for kind in [Kind::Internal, Kind::External] {
                c.with_label_values(&[kind.as_str()]);
            }
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let external_down = IntGauge::new(
            "sluice_cache_external_down",
            "1 while the external cache's circuit breaker is open",
        )?;
        registry.register(Box::new(external_down.clone()))?;
        Ok(Self {
            hits: vec(
                "sluice_cache_hits_total",
                "Cache lookups that found an entry",
            )?,
            misses: vec(
                "sluice_cache_misses_total",
                "Cache lookups that found nothing (or could not ask)",
            )?,
            stores: vec("sluice_cache_stores_total", "Entries stored")?,
            removals: vec("sluice_cache_removals_total", "Entries removed by key")?,
            errors: vec(
                "sluice_cache_errors_total",
                "Cache operations that failed (counted as misses or no-ops)",
            )?,
            external_down,
        })
    }
}

/// Both caches, as every plan of a gateway shares them.
pub struct Caches {
    pub internal: InternalCache,
    pub external: Option<ExternalCache>,
    pub metrics: Metrics,
    breaker: Breaker,
    settings: Settings,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches")
            .field("internal", &self.internal)
            .field("external", &self.external.is_some())
            .finish_non_exhaustive()
    }
}

/// What an operation on the external cache that failed tells the breaker.
#[derive(Debug)]
pub struct ExternalError {
    pub message: String,
}

impl Caches {
    pub fn new(
        settings: Settings,
        external: Option<ExternalCache>,
        registry: &Registry,
    ) -> Result<Self, prometheus::Error> {
        Ok(Self {
            internal: InternalCache::new(settings.internal_max_bytes),
            external,
            metrics: Metrics::register(registry)?,
            breaker: Breaker::new(settings.breaker_failures, settings.breaker_cooldown_ms),
            settings,
        })
    }

    /// The cache a `caching-type` uses: `prefer-external` is the external
    /// cache when one is configured, else the internal one; `external`
    /// without one is `None` (a miss, and a store that does nothing).
    pub fn resolve(&self, t: CachingType) -> Option<Kind> {
        match (t, self.external.is_some()) {
            (CachingType::Internal, _) | (CachingType::PreferExternal, false) => {
                Some(Kind::Internal)
            }
            (CachingType::External | CachingType::PreferExternal, true) => Some(Kind::External),
            (CachingType::External, false) => None,
        }
    }

    /// The entry under `key`, if it has not expired at `now_ms`.
    pub async fn get(&self, kind: Kind, key: &str, now_ms: i64) -> Option<Bytes> {
        let found = match kind {
            Kind::Internal => self.internal.get(key, now_ms),
            Kind::External => {
                let ext = self.external.as_ref()?;
                match self.external_call(now_ms, ext.get(key)).await {
                    Ok(v) => v.and_then(|v| codec::unwrap_expiring(v, now_ms)),
                    Err(()) => None,
                }
            }
        };
        let label = [kind.as_str()];
        match &found {
            Some(_) => self.metrics.hits.with_label_values(&label).inc(),
            None => self.metrics.misses.with_label_values(&label).inc(),
        }
        found
    }

    /// Stores `value` under `key` for `ttl_ms` from `now_ms` (nothing for a
    /// `ttl_ms` of zero or less).
    pub async fn set(&self, kind: Kind, key: &str, value: Bytes, ttl_ms: i64, now_ms: i64) {
        if ttl_ms <= 0 {
            return;
        }
        let expires = now_ms.saturating_add(ttl_ms);
        let stored = match kind {
            Kind::Internal => {
                self.internal.set(key, value, expires);
                true
            }
            Kind::External => {
                let Some(ext) = self.external.as_ref() else {
                    return;
                };
                let wrapped = codec::wrap_expiring(&value, expires);
                self.external_call(now_ms, ext.set(key, wrapped, ttl_ms))
                    .await
                    .is_ok()
            }
        };
        if stored {
            self.metrics
                .stores
                .with_label_values(&[kind.as_str()])
                .inc();
        }
    }

    /// Removes the entry under `key`, if any.
    pub async fn remove(&self, kind: Kind, key: &str, now_ms: i64) {
        let removed = match kind {
            Kind::Internal => {
                self.internal.remove(key);
                true
            }
            Kind::External => {
                let Some(ext) = self.external.as_ref() else {
                    return;
                };
                self.external_call(now_ms, ext.remove(key)).await.is_ok()
            }
        };
        if removed {
            self.metrics
                .removals
                .with_label_values(&[kind.as_str()])
                .inc();
        }
    }

    /// One call to the external cache, through its breaker: an open
    /// breaker refuses at once; a failure is counted, and the outage
    /// logged once when it opens the breaker.
    async fn external_call<T>(
        &self,
        now_ms: i64,
        f: impl Future<Output = Result<T, ExternalError>>,
    ) -> Result<T, ()> {
        let errors = self.metrics.errors.with_label_values(&["external"]);
        if !self.breaker.allow(now_ms) {
            errors.inc();
            return Err(());
        }
        match f.await {
            Ok(v) => {
                if self.breaker.success() {
                    self.metrics.external_down.set(0);
                    if self.settings.log {
                        tracing::info!("external cache: answers again");
                    }
                }
                Ok(v)
            }
            Err(e) => {
                errors.inc();
                if self.breaker.failure(now_ms) {
                    self.metrics.external_down.set(1);
                    if self.settings.log {
                        tracing::warn!(
                            error = %e.message,
                            "external cache: failed {} times in a row (last: {}); \
                             not called for {} ms at a time, lookups miss and stores do nothing meanwhile",
                            self.settings.breaker_failures,
                            e.message,
                            self.settings.breaker_cooldown_ms,
                        );
                    }
                }
                Err(())
            }
        }
    }

    /// Entries in the internal cache (expired ones not yet evicted included).
    pub fn internal_entries(&self) -> u64 {
        self.internal.entries()
    }

    /// Entries under the external cache's prefix (`None` without one).
    pub async fn external_entries(&self) -> Option<Result<u64, String>> {
        let ext = self.external.as_ref()?;
        Some(ext.count().await.map_err(|e| e.message))
    }

    /// Empties the internal cache; returns how many entries it held.
    pub fn purge_internal(&self) -> u64 {
        self.internal.purge()
    }

    /// Deletes every key under the external cache's prefix (`None` without one).
    pub async fn purge_external(&self) -> Option<Result<u64, String>> {
        let ext = self.external.as_ref()?;
        Some(ext.purge().await.map_err(|e| e.message))
    }
}

/// A bound as a `Duration` (at least a millisecond).
pub(crate) fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms.max(1))
}

#[cfg(test)]
mod tests;
