//! The token cache every plan of a gateway shares: one [`Token`] per
//! (source, resource).
//!
//! - A token is used until its refresh time: [`REFRESH_MARGIN_MS`] before
//!   it expires, or half-way through its life when it lives
//!   [`LONG_LIVED_MS`] or more (as MSAL refreshes managed-identity tokens).
//! - Past its refresh time and still valid, the first request refreshes it
//!   (one attempt); the others meanwhile, and every request when the
//!   refresh fails, keep the valid token; a failed refresh is tried again
//!   after [`REFRESH_RETRY_MS`].
//! - With no valid token, requests wait for one fetch (single flight) of
//!   up to [`ATTEMPTS`] attempts with backoff; a failure is answered to
//!   the requests of the next [`FAILURE_HOLD_MS`] without asking again.
//! - Every attempt counts in `sluice_identity_token_requests_total{provider}`,
//!   every failure in `sluice_identity_token_failures_total{provider}`; the
//!   first failure of an outage is logged once (a warning), its end once.
//!
//! Times are the gateway clock's (`Services::now_ms`, virtual in `sluice test`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use prometheus::{IntCounterVec, Opts, Registry};
use sluice_engine::runtime::Services;

use super::Secret;
use super::providers::{FetchError, TokenSource};

pub const REFRESH_MARGIN_MS: i64 = 5 * 60 * 1000;
pub const LONG_LIVED_MS: i64 = 2 * 60 * 60 * 1000;
pub const REFRESH_RETRY_MS: i64 = 30 * 1000;
pub const FAILURE_HOLD_MS: i64 = 5 * 1000;
pub const ATTEMPTS: u32 = 3;
/// The first backoff; each next one doubles.
pub const BACKOFF_MS: u64 = 500;
/// Slots kept at most (a resource computed per request cannot grow the
/// cache without bound: past it, expired slots go, then tokens are fetched
/// uncached).
pub const MAX_SLOTS: usize = 4096;

/// A token as the cache holds it.
#[derive(Clone, Debug)]
pub struct Token {
    pub value: Secret,
    /// `None`: never expires (a static token).
    pub expires_ms: Option<i64>,
    refresh_ms: Option<i64>,
    /// The token answer's other fields.
    pub claims: Arc<serde_json::Map<String, serde_json::Value>>,
}

impl Token {
    fn fresh(&self, now: i64) -> bool {
        self.refresh_ms.is_none_or(|r| now < r)
    }

    fn valid(&self, now: i64) -> bool {
        self.expires_ms.is_none_or(|e| now < e)
    }
}

/// When a token fetched at `fetched` that expires at `expires` is refreshed.
pub fn refresh_at(fetched: i64, expires: i64) -> i64 {
    let life = expires.saturating_sub(fetched);
    if life >= LONG_LIVED_MS {
        fetched + life / 2
    } else {
        expires
            .saturating_sub(REFRESH_MARGIN_MS)
            .max(fetched + life / 2)
    }
}

#[derive(Default)]
struct Flight {
    /// The last failure, and when.
    failed: Option<(i64, FetchError)>,
    /// Whether an outage was logged and has not ended.
    outage: bool,
    /// The refresh token the last answer rotated to.
    refresh_token: Option<Secret>,
}

#[derive(Default)]
struct Slot {
    token: RwLock<Option<Token>>,
    flight: tokio::sync::Mutex<Flight>,
}

impl Slot {
    fn current(&self) -> Option<Token> {
        match self.token.read() {
            Ok(t) => t.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn store(&self, t: Token) {
        match self.token.write() {
            Ok(mut g) => *g = Some(t),
            Err(p) => *p.into_inner() = Some(t),
        }
    }
}

/// The cache's counters, in the gateway's registry.
#[derive(Clone, Debug)]
pub struct CacheMetrics {
    requests: IntCounterVec,
    failures: IntCounterVec,
}

impl CacheMetrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "sluice_identity_token_requests_total",
                "Token requests made to identity providers and credential connections, by provider",
            ),
            &["provider"],
        )?;
        let failures = IntCounterVec::new(
            Opts::new(
                "sluice_identity_token_failures_total",
                "Token requests that failed, by provider",
            ),
            &["provider"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(failures.clone()))?;
        Ok(Self { requests, failures })
    }
}

type Slots = HashMap<Arc<str>, HashMap<Box<str>, Arc<Slot>>>;

/// Tokens by (source, resource).
pub struct TokenCache {
    slots: RwLock<Slots>,
    metrics: Option<CacheMetrics>,
    /// Whether outages are logged (`sluice run`).
    log: bool,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

impl TokenCache {
    pub fn new(metrics: Option<CacheMetrics>, log: bool) -> Self {
        Self {
            slots: RwLock::new(HashMap::new()),
            metrics,
            log,
        }
    }

    fn read<R>(&self, f: impl FnOnce(&Slots) -> R) -> R {
        match self.slots.read() {
            Ok(g) => f(&g),
            Err(p) => f(&p.into_inner()),
        }
    }

    fn find(&self, key: &str, resource: &str) -> Option<Arc<Slot>> {
        self.read(|s| s.get(key).and_then(|m| m.get(resource)).cloned())
    }

    /// The token of `key` for `resource` while it needs no refresh: what
    /// almost every request finds, without waiting.
    pub fn peek(&self, key: &str, resource: &str, now: i64) -> Option<Token> {
        let t = self.find(key, resource)?.current()?;
        t.fresh(now).then_some(t)
    }

    fn slot(&self, key: &Arc<str>, resource: &str, now: i64) -> Arc<Slot> {
        if let Some(s) = self.find(key, resource) {
            return s;
        }
        let mut slots = match self.slots.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let count: usize = slots.values().map(HashMap::len).sum();
        if count >= MAX_SLOTS {
            for m in slots.values_mut() {
                m.retain(|_, s| s.current().is_some_and(|t| t.valid(now)));
            }
            slots.retain(|_, m| !m.is_empty());
            let count: usize = slots.values().map(HashMap::len).sum();
            if count >= MAX_SLOTS {
                return Arc::new(Slot::default());
            }
        }
        Arc::clone(
            slots
                .entry(Arc::clone(key))
                .or_default()
                .entry(resource.into())
                .or_default(),
        )
    }

    /// A token of `source` (cached under `key`, named `label` in logs) for
    /// `resource`: the cached one, a refreshed one, or a fetched one.
    pub async fn get(
        &self,
        services: &dyn Services,
        source: &dyn TokenSource,
        key: &Arc<str>,
        label: &str,
        resource: &str,
    ) -> Result<Token, FetchError> {
        let now = services.now_ms();
        let slot = self.slot(key, resource, now);
        let current = slot.current();
        if let Some(t) = &current
            && t.fresh(now)
        {
            return Ok(t.clone());
        }
        if let Some(valid) = current.filter(|t| t.valid(now)) {
            // Refresh ahead: one request tries once; the others, and all
            // of them when it fails, keep the valid token.
            let Ok(mut flight) = slot.flight.try_lock() else {
                return Ok(valid);
            };
            if flight
                .failed
                .as_ref()
                .is_some_and(|(at, _)| now - at < REFRESH_RETRY_MS)
            {
                return Ok(valid);
            }
            return Ok(self
                .attempt(services, source, &slot, &mut flight, label, resource, 1)
                .await
                .unwrap_or(valid));
        }
        let mut flight = slot.flight.lock().await;
        let now = services.now_ms();
        if let Some(t) = slot.current().filter(|t| t.valid(now)) {
            return Ok(t);
        }
        if let Some((at, e)) = &flight.failed
            && now - at < FAILURE_HOLD_MS
        {
            return Err(e.clone());
        }
        self.attempt(
            services,
            source,
            &slot,
            &mut flight,
            label,
            resource,
            ATTEMPTS,
        )
        .await
    }

    #[expect(clippy::too_many_arguments, reason = "one private step of `get`")]
    async fn attempt(
        &self,
        services: &dyn Services,
        source: &dyn TokenSource,
        slot: &Slot,
        flight: &mut Flight,
        label: &str,
        resource: &str,
        attempts: u32,
    ) -> Result<Token, FetchError> {
        let kind = source.kind();
        let mut last = None;
        for i in 0..attempts {
            if i > 0 {
                services.sleep(BACKOFF_MS << (i - 1)).await;
            }
            if let Some(m) = &self.metrics {
                m.requests.with_label_values(&[kind]).inc();
            }
            match source
                .fetch(services, resource, flight.refresh_token.clone())
                .await
            {
                Ok(f) => {
                    let now = services.now_ms();
                    let token = Token {
                        value: f.token,
                        expires_ms: f.expires_ms,
                        refresh_ms: f.expires_ms.map(|e| refresh_at(now, e)),
                        claims: Arc::new(f.claims),
                    };
                    if f.refresh_token.is_some() {
                        flight.refresh_token = f.refresh_token;
                    }
                    slot.store(token.clone());
                    flight.failed = None;
                    if flight.outage {
                        flight.outage = false;
                        if self.log {
                            tracing::info!(
                                target: "sluice::identity",
                                identity = label,
                                provider = kind,
                                resource,
                                "a token was obtained again"
                            );
                        }
                    }
                    return Ok(token);
                }
                Err(e) => {
                    if let Some(m) = &self.metrics {
                        m.failures.with_label_values(&[kind]).inc();
                    }
                    let retryable = e.retryable;
                    last = Some(e);
                    if !retryable {
                        break;
                    }
                }
            }
        }
        let e = last.unwrap_or_else(|| FetchError {
            message: "no attempt was made".into(),
            retryable: true,
        });
        flight.failed = Some((services.now_ms(), e.clone()));
        if !flight.outage {
            flight.outage = true;
            if self.log {
                tracing::warn!(
                    target: "sluice::identity",
                    identity = label,
                    provider = kind,
                    resource,
                    error = %e,
                    "cannot obtain a token (logged once until one is obtained)"
                );
            }
        }
        Err(e)
    }
}

#[cfg(test)]
mod tests;
