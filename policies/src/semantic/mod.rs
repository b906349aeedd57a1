//! The semantic cache of LLM calls: what `llm-semantic-cache-lookup` and
//! `llm-semantic-cache-store` share across requests and across reloads.
//!
//! - `shape.rs`: what of a request is embedded, what partitions the cache
//! - `store/`: the vector stores (`memory`, `redis`) behind one trait
//! - `record.rs`: a streamed answer recorded as it passes to the client
//! - `metrics.rs`: observability
//! - `breakers.rs`: a circuit breaker per dependency ([`crate::breaker`]):
//!   the store's and each embeddings backend's
//! - `local.rs` (feature `local-embeddings`): a sentence-transformers model in process
//!
//! A lookup goes through three layers: the exact-match layer (moka, keyed by
//! partition + embedded text) answers a repeat without an embeddings call
//! (and a byte-identical repeat without even parsing it: the reading of a
//! request is remembered by a hash of everything it depends on);
//! the embeddings cache (moka, keyed by backend + text, whose loader
//! collapses concurrent equal misses into one call) avoids re-embedding;
//! then the vector store finds the nearest stored prompt of the partition.
//! Every dependency call has a timeout and a circuit breaker (the store's,
//! or its embeddings backend's own), and a failure is a miss: the cache
//! never turns a dependency failure into an error.

pub mod breakers;
#[cfg(feature = "local-embeddings")]
pub mod local;
pub mod metrics;
pub mod record;
pub mod shape;
pub mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sluice_engine::runtime::{BackendEntity, OutboundRequest, Purpose, Services};

use breakers::{Dependency, EmbeddingsBreakers};
use metrics::Metrics;
use shape::{Shape, Skip};
use store::{CachedResponse, Entry, Nearest, StoreError, VectorStore};

/// Settings of the cache (`[semantic-cache]` in sluice.toml).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Exact-match layer: at most this many answers...
    pub exact_entries: u64,
    /// ...and at most this many bytes of answers.
    pub exact_bytes: u64,
    /// Embeddings kept by text.
    pub embeddings_entries: u64,
    /// Time allowed for one embeddings call.
    pub embeddings_timeout_ms: u64,
    /// Time allowed for one vector store operation.
    pub store_timeout_ms: u64,
    /// Larger answers are not stored.
    pub max_body_bytes: usize,
    /// Failures in a row that open a dependency's circuit breaker...
    pub breaker_failures: u32,
    /// ...for this long.
    pub breaker_cooldown_ms: u64,
    /// The opt-in response header that says hit, miss or skip (and the distance).
    pub status_header: Option<String>,
    /// Log a dependency's outage (its breaker opening and closing: one
    /// `tracing` event each); off where the cache runs under test (`sluice test`).
    pub log: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            exact_entries: 10_000,
            exact_bytes: 64 << 20,
            embeddings_entries: 10_000,
            embeddings_timeout_ms: 5_000,
            store_timeout_ms: 1_000,
            max_body_bytes: 1 << 20,
            breaker_failures: 5,
            breaker_cooldown_ms: 10_000,
            status_header: None,
            log: true,
        }
    }
}

/// Something that turns a prompt into a vector in process (the local model).
pub trait Embedder: Send + Sync + std::fmt::Debug {
    /// The vector of the whole of `text`.
    fn embed_prompt(&self, text: &str) -> Result<Vec<f32>, EmbedError>;
}

/// Why an [`Embedder`] gave no vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmbedError {
    /// The text is longer than the model reads (`max_tokens` word pieces).
    /// A model that cut it would give every prompt with the same beginning
    /// the same vector, and a hit at distance 0 with another prompt's
    /// answer: such a prompt skips the cache instead.
    TooLong {
        max_tokens: usize,
    },
    Failed(String),
}

/// A dependency's failure, reported as a miss.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepError {
    /// `embeddings` or `store`.
    pub dependency: &'static str,
    /// `timeout`, `error`, `circuit-open`, `bad-answer`.
    pub kind: &'static str,
    pub message: String,
}

impl DepError {
    /// Not a failure: the prompt is longer than the local model reads
    /// ([`EmbedError::TooLong`]); the request skips the cache.
    pub const TOO_LONG: &str = "too-long";

    fn new(dependency: &'static str, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            dependency,
            kind,
            message: message.into(),
        }
    }
}

/// An answer of the exact-match layer.
#[derive(Clone, Debug)]
struct Exact {
    response: Arc<CachedResponse>,
    expires_at_ms: i64,
    ttl: Duration,
    /// For purge by partition.
    partition: String,
    /// How far the stored prompt this answers is from the text of the key:
    /// 0 for the prompt stored, the distance of the semantic hit that made
    /// a copy. A lookup answers only within its threshold, so a threshold
    /// lowered by a reload is not sidestepped by a copy made under a
    /// higher one.
    distance: f32,
}

/// The exact-match layer's key of a prompt: [`SemanticCache::exact_key`].
pub type ExactKey = [u8; 32];

struct ExactExpiry;

impl moka::Expiry<ExactKey, Arc<Exact>> for ExactExpiry {
    fn expire_after_create(
        &self,
        _key: &ExactKey,
        value: &Arc<Exact>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// What the cache makes of a request: the shape's reading and the partition.
#[derive(Debug, PartialEq)]
pub struct Reading {
    pub shape: Shape,
    /// The embedded text (the last user turn).
    pub text: String,
    /// Messages counted for `max-message-count`.
    pub messages: usize,
    pub partition: String,
    /// The exact-match layer's key ([`SemanticCache::exact_key`]).
    pub exact_key: ExactKey,
}

/// A request's reading, or why it skips the cache.
pub type Read = Result<Arc<Reading>, Skip>;

/// The key of a request's reading: SHA-256 over everything the reading
/// depends on, each part length-prefixed (no two inputs share a key short
/// of a SHA-256 collision).
pub fn reading_key(parts: &[&[u8]]) -> [u8; 32] {
    digest(b"sluice-semantic-reading/1", parts)
}

/// SHA-256 over a domain tag and length-prefixed parts.
fn digest(domain: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(domain);
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// Hashes a key that is already a SHA-256 digest ([`reading_key`],
/// [`SemanticCache::exact_key`]) by its
/// first eight bytes, instead of hashing its bytes again.
#[derive(Clone, Copy, Debug, Default)]
pub struct DigestHash;

impl std::hash::BuildHasher for DigestHash {
    type Hasher = DigestHasher;

    fn build_hasher(&self) -> DigestHasher {
        DigestHasher(0)
    }
}

/// See [`DigestHash`].
#[derive(Debug)]
pub struct DigestHasher(u64);

impl std::hash::Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // A digest's bytes are uniform: its first eight are hash enough.
        let mut first = [0u8; 8];
        let n = bytes.len().min(8);
        first[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(first);
    }
}

/// What the semantic cache's stages are compiled with: the gateway's
/// semantic-cache family puts it in the plan's resources.
#[derive(Clone, Debug)]
pub struct SemanticResources {
    pub cache: Arc<SemanticCache>,
    /// In-process embedders (`local-model` backends) by backend id.
    pub embedders: Arc<std::collections::BTreeMap<String, Arc<dyn Embedder>>>,
    /// The memory reading one request's body may take (`[limits]
    /// request-memory-multiple` times `max-request-body-bytes`); past it
    /// the request skips the cache (`too-large`).
    pub max_reading_bytes: usize,
}

/// [`SemanticResources::max_reading_bytes`] unless the gateway says: the
/// gateway's defaults, 4 times 16 MiB.
pub const DEFAULT_MAX_READING_BYTES: usize = 4 * (16 << 20);

impl SemanticResources {
    pub fn new(cache: Arc<SemanticCache>) -> Self {
        Self {
            cache,
            embedders: Arc::default(),
            max_reading_bytes: DEFAULT_MAX_READING_BYTES,
        }
    }

    /// A fresh in-memory cache of default settings (tests, `sluice check`).
    pub fn in_memory() -> Result<Self, prometheus::Error> {
        let cache = SemanticCache::in_memory(Config::default(), 100_000)?;
        Ok(Self::new(Arc::new(cache)))
    }
}

/// The cache shared by every lookup and store of a gateway (it outlives plan reloads).
pub struct SemanticCache {
    config: Config,
    /// `{status_header}-partition`.
    partition_header: Option<String>,
    store: Arc<dyn VectorStore>,
    exact: moka::sync::Cache<ExactKey, Arc<Exact>, DigestHash>,
    /// Readings of recent requests by [`reading_key`]: a byte-identical
    /// repeat is not parsed again. Bounded like the exact layer.
    readings: moka::sync::Cache<[u8; 32], Read, DigestHash>,
    vectors: moka::future::Cache<(String, String), Arc<Vec<f32>>>,
    /// One breaker per embeddings backend...
    embeddings_breakers: EmbeddingsBreakers,
    /// ...and the store's.
    store_breaker: Dependency,
    pub metrics: Metrics,
    pending: AtomicUsize,
    settled: tokio::sync::Notify,
}

impl std::fmt::Debug for SemanticCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemanticCache")
            .field("store", &self.store.kind())
            .field("config", &self.config)
            .finish()
    }
}

impl SemanticCache {
    /// A cache with its metrics in a registry of their own.
    pub fn new(config: Config, store: Arc<dyn VectorStore>) -> Result<Self, prometheus::Error> {
        Self::with_registry(config, store, &prometheus::Registry::new())
    }

    /// A cache whose metrics are registered in `registry`.
    pub fn with_registry(
        config: Config,
        store: Arc<dyn VectorStore>,
        registry: &prometheus::Registry,
    ) -> Result<Self, prometheus::Error> {
        // Both bounds at once with one weigher: each answer weighs its bytes,
        // and at least bytes/entries, so the byte budget also caps the count.
        let floor = (config.exact_bytes / config.exact_entries.max(1)).max(1);
        let exact = moka::sync::Cache::builder()
            .max_capacity(config.exact_bytes.max(1))
            .weigher(move |_: &ExactKey, v: &Arc<Exact>| {
                let bytes =
                    (32 + v.partition.len() + v.response.body.len() + v.response.text.len()) as u64;
                u32::try_from(bytes.max(floor)).unwrap_or(u32::MAX)
            })
            .expire_after(ExactExpiry)
            .support_invalidation_closures()
            .build_with_hasher(DigestHash);
        let vectors = moka::future::Cache::builder()
            .max_capacity(config.embeddings_entries.max(1))
            .build();
        let readings = moka::sync::Cache::builder()
            .max_capacity(config.exact_bytes.max(1))
            .weigher(move |_: &[u8; 32], r: &Read| {
                let bytes = r.as_ref().map_or(0, |r| r.text.len() + r.partition.len()) + 96;
                u32::try_from((bytes as u64).max(floor)).unwrap_or(u32::MAX)
            })
            .build_with_hasher(DigestHash);
        let metrics = Metrics::register(registry)?;
        Ok(Self {
            partition_header: config
                .status_header
                .as_ref()
                .map(|h| format!("{h}-partition")),
            embeddings_breakers: EmbeddingsBreakers::new(&config, &metrics.breaker_open),
            store_breaker: Dependency::new("store", store.kind(), &config, &metrics.breaker_open),
            config,
            store,
            exact,
            readings,
            vectors,
            metrics,
            pending: AtomicUsize::new(0),
            settled: tokio::sync::Notify::new(),
        })
    }

    /// A cache on the embedded store with `max_entries` vectors.
    pub fn in_memory(config: Config, max_entries: usize) -> Result<Self, prometheus::Error> {
        Self::new(
            config,
            Arc::new(store::memory::MemoryStore::new(max_entries)),
        )
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The response header with the request's partition, when the status header is on.
    pub fn partition_header(&self) -> Option<&str> {
        self.partition_header.as_deref()
    }

    pub fn store_kind(&self) -> &'static str {
        self.store.kind()
    }

    /// The exact-match layer's key of a prompt: SHA-256 over its partition
    /// and embedded text, length-prefixed.
    pub fn exact_key(partition: &str, text: &str) -> ExactKey {
        digest(
            b"sluice-semantic-exact/1",
            &[partition.as_bytes(), text.as_bytes()],
        )
    }

    /// The reading of a request by its [`reading_key`]: remembered, else
    /// made by `read` and remembered.
    pub fn reading(&self, key: [u8; 32], read: impl FnOnce() -> Read) -> Read {
        if let Some(r) = self.readings.get(&key) {
            return r;
        }
        let r = read();
        self.readings.insert(key, r.clone());
        r
    }

    /// An unexpired answer of the exact-match layer, with the distance of
    /// the stored prompt it answers (`Exact::distance`).
    pub fn exact_get(&self, key: &ExactKey, now_ms: i64) -> Option<(Arc<CachedResponse>, f32)> {
        let e = self.exact.get(key)?;
        if e.expires_at_ms <= now_ms {
            self.exact.invalidate(key);
            return None;
        }
        Some((Arc::clone(&e.response), e.distance))
    }

    /// Fills the exact-match layer, for no longer than the entry's
    /// remaining life; `distance` is that of the stored prompt answering.
    pub fn exact_put(
        &self,
        key: ExactKey,
        partition: &str,
        response: Arc<CachedResponse>,
        distance: f32,
        expires_at_ms: i64,
        now_ms: i64,
    ) {
        let left = expires_at_ms.saturating_sub(now_ms);
        if left <= 0 || response.body.len() > self.config.max_body_bytes {
            return;
        }
        let ttl = Duration::from_millis(u64::try_from(left).unwrap_or(0));
        self.exact.insert(
            key,
            Arc::new(Exact {
                response,
                expires_at_ms,
                ttl,
                partition: partition.to_owned(),
                distance,
            }),
        );
    }

    /// The embedding of `text` by the backend `backend_id` (or the local
    /// model `local`): from the embeddings cache, else computed once however
    /// many requests ask at the same time, behind that backend's breaker.
    pub async fn embed(
        &self,
        backend_id: &str,
        text: &str,
        services: &dyn Services,
        local: Option<&Arc<dyn Embedder>>,
    ) -> Result<Arc<Vec<f32>>, DepError> {
        let key = (backend_id.to_owned(), text.to_owned());
        if let Some(v) = self.vectors.get(&key).await {
            return Ok(v);
        }
        // An id that names no backend (an expression's) is called nowhere:
        // it gets no breaker, and takes no place among the bounded breakers.
        let source = match local {
            Some(model) => Source::Local(model),
            None => match services.backend(backend_id) {
                Some(backend) => Source::Http(Box::new(backend)),
                None => {
                    self.metrics
                        .errors
                        .with_label_values(&["embeddings", "error", breakers::UNKNOWN_BACKEND])
                        .inc();
                    return Err(DepError::new(
                        "embeddings",
                        "error",
                        format!("no backend `{backend_id}`"),
                    ));
                }
            },
        };
        let dependency = self.embeddings_breakers.of(backend_id);
        let now = services.now_ms();
        if !dependency.breaker.allow(now) {
            dependency.count_error(&self.metrics.errors, "circuit-open");
            return Err(DepError::new(
                "embeddings",
                "circuit-open",
                format!(
                    "{} failed repeatedly; not called for now",
                    dependency.describe()
                ),
            ));
        }
        let compute = async {
            self.metrics.embeddings.inc();
            match source {
                Source::Local(model) => embed_locally(Arc::clone(model), text.to_owned()).await,
                Source::Http(backend) => self.embed_http(&backend, text, services).await,
            }
            .map(Arc::new)
        };
        match self.vectors.try_get_with(key, compute).await {
            Ok(v) => {
                self.dependency_ok(&dependency);
                Ok(v)
            }
            // The model is fine; the prompt is what it cannot take.
            Err(e) if e.kind == DepError::TOO_LONG => Err((*e).clone()),
            Err(e) => {
                self.dependency_failed(&dependency, &e, services.now_ms());
                dependency.count_error(&self.metrics.errors, e.kind);
                Err((*e).clone())
            }
        }
    }

    async fn embed_http(
        &self,
        backend: &BackendEntity,
        text: &str,
        services: &dyn Services,
    ) -> Result<Vec<f32>, DepError> {
        let timeout_ms = backend
            .timeout_ms
            .map_or(self.config.embeddings_timeout_ms, |t| {
                t.min(self.config.embeddings_timeout_ms)
            });
        let mut req = OutboundRequest {
            method: "POST".into(),
            url: backend.url.clone(),
            body: serde_json::to_vec(&serde_json::json!({ "input": text }))
                .unwrap_or_default()
                .into(),
            timeout_ms,
            purpose: Purpose::Embeddings,
            // The entity's TLS switches and proxy, as for forward-request.
            tls: backend.tls,
            proxy: backend.proxy.clone(),
            ..OutboundRequest::default()
        };
        req.headers
            .set_one("Content-Type", "application/json".to_owned());
        for (name, value) in &backend.headers {
            req.headers.set_one(name, value.clone());
        }
        let call = services.call(req);
        let answer = match tokio::time::timeout(Duration::from_millis(timeout_ms), call).await {
            Err(_) | Ok(Err(sluice_engine::runtime::CallError::Timeout)) => {
                return Err(DepError::new(
                    "embeddings",
                    "timeout",
                    format!("no answer within {timeout_ms} ms"),
                ));
            }
            Ok(Err(sluice_engine::runtime::CallError::Connection(e))) => {
                return Err(DepError::new(
                    "embeddings",
                    "error",
                    sluice_engine::runtime::error_chain(&*e),
                ));
            }
            Ok(Ok(r)) => r,
        };
        if answer.status != 200 {
            return Err(DepError::new(
                "embeddings",
                "error",
                format!("the embeddings backend answered {}", answer.status),
            ));
        }
        parse_embedding(&answer.body)
            .ok_or_else(|| DepError::new("embeddings", "bad-answer", "no embedding in the answer"))
    }

    /// The nearest stored prompt of the partition (timeout and circuit breaker around the store).
    pub async fn nearest(
        &self,
        partition: &str,
        vector: &[f32],
        now_ms: i64,
    ) -> Result<Option<Nearest>, DepError> {
        if !self.store_breaker.breaker.allow(now_ms) {
            self.store_breaker
                .count_error(&self.metrics.errors, "circuit-open");
            return Err(DepError::new(
                "store",
                "circuit-open",
                "the vector store failed repeatedly; not called for now",
            ));
        }
        let r = self
            .bounded(self.store.nearest(partition, vector, now_ms))
            .await;
        self.note_store(&r, now_ms);
        r
    }

    async fn bounded<T>(
        &self,
        f: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, DepError> {
        let ms = self.config.store_timeout_ms;
        match tokio::time::timeout(Duration::from_millis(ms), f).await {
            Err(_) => Err(DepError::new(
                "store",
                "timeout",
                format!("no answer within {ms} ms"),
            )),
            Ok(Err(e)) => {
                let kind = if e.timeout { "timeout" } else { "error" };
                Err(DepError::new("store", kind, e.message))
            }
            Ok(Ok(v)) => Ok(v),
        }
    }

    /// A call to `dependency` worked: if that closes its breaker, says so.
    fn dependency_ok(&self, dependency: &Dependency) {
        if dependency.breaker.success() {
            dependency.set_open(false);
            if self.config.log {
                tracing::info!(
                    dependency = dependency.kind,
                    backend = %dependency.name,
                    "semantic cache: {} answers again",
                    dependency.describe()
                );
            }
        }
    }

    /// A call failed: if that opens the breaker, says so (once an outage).
    fn dependency_failed(&self, dependency: &Dependency, e: &DepError, now_ms: i64) {
        if dependency.breaker.failure(now_ms) {
            dependency.set_open(true);
            if self.config.log {
                tracing::warn!(
                    dependency = dependency.kind,
                    backend = %dependency.name,
                    kind = e.kind,
                    error = %e.message,
                    "semantic cache: {} failed {} times in a row (last: {}: {}); \
                     not called for {} ms at a time, lookups miss meanwhile",
                    dependency.describe(),
                    self.config.breaker_failures,
                    e.kind,
                    e.message,
                    self.config.breaker_cooldown_ms,
                );
            }
        }
    }

    fn note_store<T>(&self, r: &Result<T, DepError>, now_ms: i64) {
        match r {
            Ok(_) => self.dependency_ok(&self.store_breaker),
            Err(e) => {
                if e.kind != "circuit-open" {
                    self.dependency_failed(&self.store_breaker, e, now_ms);
                }
                self.store_breaker.count_error(&self.metrics.errors, e.kind);
            }
        }
    }

    /// Stores an entry in the background (the response does not wait);
    /// [`SemanticCache::settle`] waits for every such write.
    pub fn store_later(self: &Arc<Self>, entry: Entry, now_ms: i64) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        let cache = Arc::clone(self);
        let write = async move {
            let key = Self::exact_key(&entry.partition, &entry.response.text);
            let (response, expires) = (Arc::clone(&entry.response), entry.expires_at_ms);
            let partition = entry.partition.clone();
            let ok = if cache.store_breaker.breaker.allow(now_ms) {
                let r = cache.bounded(cache.store.insert(entry, now_ms)).await;
                cache.note_store(&r, now_ms);
                r.is_ok()
            } else {
                cache
                    .store_breaker
                    .count_error(&cache.metrics.errors, "circuit-open");
                false
            };
            // The exact layer answers repeats even while the store is down.
            cache.exact_put(key, &partition, response, 0.0, expires, now_ms);
            let outcome = if ok { "stored" } else { "store-failed" };
            cache.metrics.stores.with_label_values(&[outcome]).inc();
            if cache.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
                cache.settled.notify_waiters();
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(write);
            }
            Err(_) => {
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Waits until every background write is done.
    pub async fn settle(&self) {
        loop {
            let notified = self.settled.notified();
            if self.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Deletes every entry, or those of one partition, from every layer.
    /// Deletes every entry, or those of one partition: from the vector
    /// store first, then, only if that worked, from the exact layer, so a
    /// purge that fails leaves both layers as they were.
    pub async fn purge(&self, partition: Option<&str>) -> Result<u64, StoreError> {
        let purged = self.store.purge(partition).await?;
        match partition {
            None => self.exact.invalidate_all(),
            Some(p) => {
                let p = p.to_owned();
                if let Err(e) = self
                    .exact
                    .invalidate_entries_if(move |_, v| v.partition == p)
                {
                    return Err(StoreError::new(e.to_string()));
                }
            }
        }
        Ok(purged)
    }

    /// How many entries the vector store holds.
    pub async fn count(&self) -> Result<u64, StoreError> {
        self.store.count().await
    }
}

/// Where an embedding comes from.
enum Source<'a> {
    /// The in-process model.
    Local(&'a Arc<dyn Embedder>),
    /// An OpenAI-compatible endpoint.
    Http(Box<BackendEntity>),
}

/// The first embedding of an OpenAI-shaped answer: `data[0].embedding`.
fn parse_embedding(body: &[u8]) -> Option<Vec<f32>> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let arr = v.get("data")?.get(0)?.get("embedding")?.as_array()?;
    let out: Option<Vec<f32>> = arr
        .iter()
        .map(|x| x.as_f64().map(|f| f as f32).filter(|f| f.is_finite()))
        .collect();
    out.filter(|v| !v.is_empty() && v.iter().any(|x| *x != 0.0))
}

/// Runs the local model off the async threads.
async fn embed_locally(model: Arc<dyn Embedder>, text: String) -> Result<Vec<f32>, DepError> {
    let r = tokio::task::spawn_blocking(move || model.embed_prompt(&text)).await;
    match r {
        Ok(Ok(v)) if !v.is_empty() => Ok(v),
        Ok(Ok(_)) => Err(DepError::new("embeddings", "bad-answer", "no vector")),
        Ok(Err(EmbedError::TooLong { max_tokens })) => Err(DepError::new(
            "embeddings",
            DepError::TOO_LONG,
            format!("longer than the model's {max_tokens} word pieces"),
        )),
        Ok(Err(EmbedError::Failed(e))) => Err(DepError::new("embeddings", "error", e)),
        Err(e) => Err(DepError::new("embeddings", "error", e.to_string())),
    }
}

/// The partition of a request: the API and operation, the `vary-by`
/// values and the prompt's context, joined injectively (each part
/// length-prefixed) and hashed; 64 characters of `[0-9a-f]`.
pub fn partition(parts: &[&str]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"sluice-semantic-cache/1");
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex(&h.finalize())
}

/// Lower-case hexadecimal, built in one allocation (this runs per request).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests;
