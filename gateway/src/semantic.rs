//! The semantic cache as the gateway holds it: built once from
//! `[semantic-cache]` when the gateway starts and shared by every plan
//! (a reload keeps the cache and its entries), plus the local embeddings
//! models of `local-model` backends, loaded once per directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sluice_engine::diag::{Code, Diagnostic, Diagnostics};
use sluice_engine::source::{Source, Span};
use sluice_policies::Registry;
use sluice_policies::semantic::store::VectorStore;
use sluice_policies::semantic::store::memory::MemoryStore;
use sluice_policies::semantic::store::redis::{RedisConfig, RedisStore};
use sluice_policies::semantic::{Config as CacheConfig, Embedder, SemanticCache};

use crate::config::model::{Config, SemanticCacheSection};

/// Vectors the memory store keeps unless `max-entries` says otherwise.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// What every plan of one gateway shares.
pub struct Shared {
    pub cache: Arc<SemanticCache>,
    /// The settings the cache was built with (a reload may not change them).
    pub section: SemanticCacheSection,
    /// Local models by directory, loaded once.
    models: Mutex<BTreeMap<PathBuf, Arc<dyn Embedder>>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("cache", &self.cache)
            .finish()
    }
}

/// The cache settings of a `[semantic-cache]` section (`log`: whether
/// dependency outages go to standard error).
pub fn cache_config(s: &SemanticCacheSection, log: bool) -> CacheConfig {
    let d = CacheConfig::default();
    CacheConfig {
        exact_entries: s.exact_entries.unwrap_or(d.exact_entries),
        exact_bytes: s.exact_bytes.unwrap_or(d.exact_bytes),
        embeddings_entries: s.embeddings_cache_entries.unwrap_or(d.embeddings_entries),
        embeddings_timeout_ms: s.embeddings_timeout_ms.unwrap_or(d.embeddings_timeout_ms),
        store_timeout_ms: s.store_timeout_ms.unwrap_or(d.store_timeout_ms),
        max_body_bytes: s.max_body_bytes.unwrap_or(d.max_body_bytes),
        breaker_failures: s.breaker_failures.unwrap_or(d.breaker_failures),
        breaker_cooldown_ms: s.breaker_cooldown_ms.unwrap_or(d.breaker_cooldown_ms),
        status_header: s.status_header.clone(),
        log,
    }
}

impl Shared {
    /// The cache of a `[semantic-cache]` section, on its store; `log`:
    /// whether dependency outages go to standard error.
    pub fn new(section: &SemanticCacheSection, log: bool) -> Result<Self, String> {
        let store: Arc<dyn VectorStore> = match section.store.as_ref().map(|s| s.get_ref().as_str())
        {
            Some("redis") => redis_store(section)?,
            _ => Arc::new(MemoryStore::new(
                section.max_entries.unwrap_or(DEFAULT_MAX_ENTRIES),
            )),
        };
        let cache = SemanticCache::new(cache_config(section, log), store)
            .map_err(|e| format!("cannot set up the semantic cache's metrics: {e}"))?;
        Ok(Self {
            cache: Arc::new(cache),
            section: section.clone(),
            models: Mutex::new(BTreeMap::new()),
        })
    }

    /// The stage registry of a plan for `config` (at `path`): the shared
    /// cache, the backends' ids, and the local models its backends name.
    pub fn registry(&self, config: &Config, path: &Path) -> Result<Registry, Diagnostics> {
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut embedders = BTreeMap::new();
        let mut diags = Diagnostics::new();
        for (id, b) in &config.backends {
            let Some(dir) = &b.get_ref().local_model else {
                continue;
            };
            match self.model(&base.join(dir.get_ref())) {
                Ok(m) => {
                    embedders.insert(id.clone(), m);
                }
                Err(msg) => {
                    let text = std::fs::read_to_string(path).unwrap_or_default();
                    let source = Source::new(path.display().to_string(), &text);
                    let r = dir.span();
                    diags.push(Diagnostic::new(
                        Code::ConfigReference,
                        &source,
                        Span::new(r.start, r.end),
                        format!("backend `{id}`: {msg}"),
                    ));
                }
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(Registry::new(Arc::clone(&self.cache))
            .with_embedders(embedders)
            .with_backends(config.backends.keys().cloned().collect()))
    }

    fn model(&self, dir: &Path) -> Result<Arc<dyn Embedder>, String> {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let mut models = match self.models.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(m) = models.get(&key) {
            return Ok(Arc::clone(m));
        }
        let m = load_model(&key)?;
        models.insert(key, Arc::clone(&m));
        Ok(m)
    }
}

#[cfg(feature = "local-embeddings")]
fn load_model(dir: &Path) -> Result<Arc<dyn Embedder>, String> {
    let m = sluice_policies::semantic::local::LocalModel::load(dir)?;
    Ok(Arc::new(m))
}

#[cfg(not(feature = "local-embeddings"))]
fn load_model(dir: &Path) -> Result<Arc<dyn Embedder>, String> {
    Err(format!(
        "`local-model` ({}) needs sluice built with the `local-embeddings` feature",
        dir.display()
    ))
}

fn redis_store(section: &SemanticCacheSection) -> Result<Arc<dyn VectorStore>, String> {
    let d = RedisConfig::default();
    let timeout_ms = section
        .store_timeout_ms
        .unwrap_or(sluice_policies::semantic::Config::default().store_timeout_ms);
    let config = RedisConfig {
        url: section
            .redis_url
            .as_ref()
            .map_or(d.url, |u| u.get_ref().clone()),
        prefix: section.redis_prefix.clone().unwrap_or(d.prefix),
        // One bound for the store: the cache's `store-timeout-ms` (a slower
        // answer is a miss anyway); connecting takes no longer than answering.
        connect_timeout_ms: d.connect_timeout_ms.min(timeout_ms),
        response_timeout_ms: timeout_ms,
    };
    // Never connects here: a Redis that is down when the gateway starts is a miss, not a failure.
    let store = RedisStore::new(config).map_err(|e| e.to_string())?;
    Ok(Arc::new(store))
}
