//! The semantic cache's Prometheus metrics, registered in the registry it
//! is given (the gateway's one registry, which the admin listener renders).

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
};

#[derive(Clone, Debug)]
pub struct Metrics {
    pub registry: Registry,
    /// Hits by layer (`exact`, `semantic`) and API.
    pub hits: IntCounterVec,
    /// Misses by API.
    pub misses: IntCounterVec,
    /// Lookups that did not use the cache, by reason and API.
    pub skips: IntCounterVec,
    /// Failures by dependency (`embeddings`, `store`), kind (`timeout`,
    /// `error`, `circuit-open`) and backend (the `backend` of the failing
    /// dependency's breaker: the embeddings backend's id, or the store's
    /// kind; [`super::breakers::UNKNOWN_BACKEND`] for an id that names no
    /// backend, which has no breaker).
    pub errors: IntCounterVec,
    /// Responses stored, and responses not stored by reason.
    pub stores: IntCounterVec,
    /// Embeddings computed (calls to the backend or the local model).
    pub embeddings: IntCounter,
    /// Cosine distance of the nearest stored prompt, hit or miss.
    pub distance: HistogramVec,
    /// Time of a lookup, by outcome.
    pub latency: HistogramVec,
    /// 1 while a dependency's circuit breaker is open, by dependency
    /// (`embeddings`, `store`) and backend (the embeddings backend's id,
    /// the store's kind); a series is made with its breaker
    /// ([`super::breakers`]).
    pub breaker_open: IntGaugeVec,
    /// The series every lookup updates, resolved once (a label lookup
    /// hashes and locks): `latency{result="hit"}`, `latency{result="miss"}`;
    /// the API's own in [`ApiCounters`].
    pub hit_latency: Histogram,
    pub miss_latency: Histogram,
}

impl Metrics {
    /// The metrics, in a registry of their own.
    pub fn new() -> Result<Self, prometheus::Error> {
        Self::register(&Registry::new())
    }

    /// The metrics, registered in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let registry = registry.clone();
        let hits = IntCounterVec::new(
            Opts::new(
                "sluice_semantic_cache_hits_total",
                "Semantic cache hits by layer",
            ),
            &["layer", "api"],
        )?;
        let misses = IntCounterVec::new(
            Opts::new(
                "sluice_semantic_cache_misses_total",
                "Semantic cache misses by API",
            ),
            &["api"],
        )?;
        let skips = IntCounterVec::new(
            Opts::new(
                "sluice_semantic_cache_skips_total",
                "Lookups that skipped the cache, by reason and API",
            ),
            &["reason", "api"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "sluice_semantic_cache_errors_total",
                "Failures of the cache's dependencies (each one a miss)",
            ),
            &["dependency", "kind", "backend"],
        )?;
        let stores = IntCounterVec::new(
            Opts::new(
                "sluice_semantic_cache_stores_total",
                "Store decisions by outcome",
            ),
            &["outcome"],
        )?;
        let embeddings = IntCounter::new(
            "sluice_semantic_cache_embeddings_total",
            "Embeddings computed (backend calls or local model runs)",
        )?;
        let distance = HistogramVec::new(
            HistogramOpts::new(
                "sluice_semantic_cache_nearest_distance",
                "Cosine distance of the nearest stored prompt",
            )
            .buckets(vec![
                0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0,
            ]),
            &["result"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("sluice_semantic_cache_lookup_seconds", "Lookup latency")
                .buckets(prometheus::exponential_buckets(0.0001, 2.5, 12)?),
            &["result"],
        )?;
        let breaker_open = IntGaugeVec::new(
            Opts::new(
                "sluice_semantic_cache_breaker_open",
                "1 while the dependency's circuit breaker is open (calls refused, lookups miss)",
            ),
            &["dependency", "backend"],
        )?;
        registry.register(Box::new(breaker_open.clone()))?;
        registry.register(Box::new(hits.clone()))?;
        registry.register(Box::new(misses.clone()))?;
        registry.register(Box::new(skips.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(stores.clone()))?;
        registry.register(Box::new(embeddings.clone()))?;
        registry.register(Box::new(distance.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            hit_latency: latency.with_label_values(&["hit"]),
            miss_latency: latency.with_label_values(&["miss"]),
            registry,
            hits,
            misses,
            skips,
            errors,
            stores,
            embeddings,
            distance,
            latency,
            breaker_open,
        })
    }
}

/// The series a lookup stage of one API updates on every request, resolved
/// when it is compiled.
#[derive(Clone, Debug)]
pub struct ApiCounters {
    pub api: String,
    pub exact_hits: IntCounter,
    pub semantic_hits: IntCounter,
    pub misses: IntCounter,
}

impl Metrics {
    pub fn for_api(&self, api: &str) -> ApiCounters {
        ApiCounters {
            api: api.to_owned(),
            exact_hits: self.hits.with_label_values(&["exact", api]),
            semantic_hits: self.hits.with_label_values(&["semantic", api]),
            misses: self.misses.with_label_values(&[api]),
        }
    }
}
