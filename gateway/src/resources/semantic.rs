//! The semantic-cache family: `[semantic-cache]`, the cache every plan of a
//! gateway shares (a reload keeps the cache and its entries, and refuses a
//! change of the section), the local embeddings models of `local-model`
//! backends (loaded once per folder), and the admin routes `GET /cache`
//! and `POST /cache/purge`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use sluice_engine::diag::Diagnostics;
use sluice_engine::runtime::{BoxFuture, Resources};
use sluice_policies::semantic::store::VectorStore;
use sluice_policies::semantic::store::memory::MemoryStore;
use sluice_policies::semantic::store::redis::{RedisConfig, RedisStore, masked_url};
use sluice_policies::semantic::{
    Config as CacheConfig, Embedder, SemanticCache, SemanticResources,
};
use toml::Spanned;

use super::{AdminReply, AdminRequest, BuildCx, Family, Route};
use crate::config::Config;

/// Vectors the memory store keeps unless `max-entries` says otherwise.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// `[semantic-cache]`: where the semantic cache keeps its entries, its
/// sizes and timeouts. Read when the gateway starts; a reload that changes
/// it is refused (the cache and its store outlive plans). Its `Debug`
/// masks the password of `redis-url`.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SemanticCacheSection {
    /// `memory` (the default, in process) or `redis`.
    pub store: Option<Spanned<String>>,
    /// Vectors the memory store keeps at most.
    pub max_entries: Option<usize>,
    /// `redis://host:port` (or `rediss://`), for `store = "redis"`.
    pub redis_url: Option<Spanned<String>>,
    /// Prefix of every Redis key and index name.
    pub redis_prefix: Option<String>,
    pub exact_entries: Option<u64>,
    pub exact_bytes: Option<u64>,
    pub embeddings_cache_entries: Option<u64>,
    pub embeddings_timeout_ms: Option<u64>,
    pub store_timeout_ms: Option<u64>,
    pub max_body_bytes: Option<usize>,
    pub breaker_failures: Option<u32>,
    pub breaker_cooldown_ms: Option<u64>,
    /// The opt-in response header that reports hit, miss or skip.
    pub status_header: Option<String>,
}

impl std::fmt::Debug for SemanticCacheSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            store,
            max_entries,
            redis_url,
            redis_prefix,
            exact_entries,
            exact_bytes,
            embeddings_cache_entries,
            embeddings_timeout_ms,
            store_timeout_ms,
            max_body_bytes,
            breaker_failures,
            breaker_cooldown_ms,
            status_header,
        } = self;
        let redis_url = redis_url.as_ref().map(|u| masked_url(u.get_ref()));
        f.debug_struct("SemanticCacheSection")
            .field("store", store)
            .field("max_entries", max_entries)
            .field("redis_url", &redis_url)
            .field("redis_prefix", redis_prefix)
            .field("exact_entries", exact_entries)
            .field("exact_bytes", exact_bytes)
            .field("embeddings_cache_entries", embeddings_cache_entries)
            .field("embeddings_timeout_ms", embeddings_timeout_ms)
            .field("store_timeout_ms", store_timeout_ms)
            .field("max_body_bytes", max_body_bytes)
            .field("breaker_failures", breaker_failures)
            .field("breaker_cooldown_ms", breaker_cooldown_ms)
            .field("status_header", status_header)
            .finish()
    }
}

/// The semantic cache as a gateway holds it.
pub struct SemanticFamily {
    pub cache: Arc<SemanticCache>,
    /// The settings the cache was built with (a reload may not change them).
    pub section: SemanticCacheSection,
    /// Local models by folder, loaded once.
    models: Mutex<BTreeMap<PathBuf, Arc<dyn Embedder>>>,
}

impl std::fmt::Debug for SemanticFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemanticFamily")
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

impl SemanticFamily {
    /// The cache of the configuration's `[semantic-cache]`, on its store,
    /// its metrics in the gateway's registry.
    pub fn new(cx: &BuildCx<'_>) -> Result<Self, Diagnostics> {
        let section = &cx.config.semantic_cache;
        let fail = |msg: String| {
            let mut d = Diagnostics::new();
            d.push(cx.error(0..0, format!("[semantic-cache]: {msg}")));
            d
        };
        let store: Arc<dyn VectorStore> = match section.store.as_ref().map(|s| s.get_ref().as_str())
        {
            Some("redis") => redis_store(section).map_err(fail)?,
            _ => Arc::new(MemoryStore::new(
                section.max_entries.unwrap_or(DEFAULT_MAX_ENTRIES),
            )),
        };
        let cache =
            SemanticCache::with_registry(cache_config(section, cx.mode.log), store, cx.registry)
                .map_err(|e| fail(format!("cannot set up the semantic cache's metrics: {e}")))?;
        Ok(Self {
            cache: Arc::new(cache),
            section: section.clone(),
            models: Mutex::new(BTreeMap::new()),
        })
    }

    /// The local models a configuration's backends name, by backend id
    /// (none unless `cx.mode.load`).
    fn embedders(
        &self,
        cx: &BuildCx<'_>,
    ) -> Result<BTreeMap<String, Arc<dyn Embedder>>, Diagnostics> {
        let mut embedders = BTreeMap::new();
        let mut diags = Diagnostics::new();
        if !cx.mode.load {
            return Ok(embedders);
        }
        for (id, b) in &cx.config.backends {
            let Some(dir) = &b.get_ref().local_model else {
                continue;
            };
            match self.model(&cx.base.join(dir.get_ref())) {
                Ok(m) => {
                    embedders.insert(id.clone(), m);
                }
                Err(msg) => diags.push(cx.error(dir.span(), format!("backend `{id}`: {msg}"))),
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(embedders)
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

    /// `GET /cache`: the store and its number of entries (`null`, with an
    /// `error`, while the store cannot be asked).
    async fn status(&self) -> AdminReply {
        let cache = &self.cache;
        let body = match cache.count().await {
            Ok(n) => serde_json::json!({ "store": cache.store_kind(), "entries": n }),
            Err(e) => serde_json::json!({
                "store": cache.store_kind(),
                "entries": null,
                "error": e.to_string(),
            }),
        };
        AdminReply::json(200, &body)
    }

    /// `POST /cache/purge[?partition=ID]`.
    async fn purge(&self, query: Option<&str>) -> AdminReply {
        let partition = match purge_scope(query) {
            Ok(p) => p,
            Err(e) => return AdminReply::json(400, &serde_json::json!({ "error": e })),
        };
        match self.cache.purge(partition.as_deref()).await {
            Ok(n) => AdminReply::json(
                200,
                &serde_json::json!({ "purged": n, "partition": partition }),
            ),
            Err(e) => AdminReply::json(
                503,
                &serde_json::json!({ "error": format!("nothing was purged: {e}") }),
            ),
        }
    }
}

impl Family for SemanticFamily {
    fn section(&self) -> &'static str {
        "semantic-cache"
    }

    fn check_reload(&self, config: &Config) -> Result<(), String> {
        if config.semantic_cache == self.section {
            return Ok(());
        }
        Err("`[semantic-cache]` cannot change while running (the cache and its store outlive reloads); restart sluice to change it".to_owned())
    }

    fn provide(&self, cx: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics> {
        let embedders = self.embedders(cx)?;
        out.insert(Arc::new(SemanticResources {
            cache: Arc::clone(&self.cache),
            embedders: Arc::new(embedders),
            max_reading_bytes: crate::build::request_memory(cx.config),
        }));
        Ok(())
    }

    fn routes(&self) -> &'static [Route] {
        &[
            Route {
                path: "/cache",
                methods: &["GET", "HEAD"],
            },
            Route {
                path: "/cache/purge",
                methods: &["POST"],
            },
        ]
    }

    fn admin<'a>(&'a self, req: AdminRequest<'a>) -> BoxFuture<'a, AdminReply> {
        Box::pin(async move {
            if req.path == "/cache/purge" {
                self.purge(req.query).await
            } else {
                self.status().await
            }
        })
    }

    fn settle(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.cache.settle())
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

/// What `POST /cache/purge` deletes: `None`, everything (no query at all);
/// `Some(id)`, one partition (`?partition=ID`, hexadecimal, lower-cased).
/// Anything else is refused rather than read as "everything": a misspelt
/// parameter must not empty the cache.
fn purge_scope(query: Option<&str>) -> Result<Option<String>, String> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    let mut partition = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("partition", id)) if partition.is_none() => {
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(
                        "partition: the hexadecimal id the cache's status header reports"
                            .to_owned(),
                    );
                }
                partition = Some(id.to_ascii_lowercase());
            }
            Some(("partition", _)) => return Err("partition: given more than once".to_owned()),
            _ => {
                return Err(format!(
                    "unknown parameter `{pair}`: POST /cache/purge deletes everything, \
                     POST /cache/purge?partition=ID one partition"
                ));
            }
        }
    }
    Ok(partition)
}

#[cfg(test)]
mod tests {
    use super::purge_scope;

    #[test]
    fn purge_takes_everything_one_partition_or_refuses() {
        assert_eq!(purge_scope(None), Ok(None));
        assert_eq!(purge_scope(Some("")), Ok(None));
        assert_eq!(
            purge_scope(Some("partition=AB12")),
            Ok(Some("ab12".to_owned()))
        );
        for bad in [
            "partiton=ab12",
            "partition=ab12&all=1",
            "partition",
            "partition=",
            "partition=xyz",
            "partition=ab&partition=cd",
            "all",
        ] {
            let e = purge_scope(Some(bad)).unwrap_err();
            assert!(
                e.contains("partition") || e.contains("unknown"),
                "{bad}: {e}"
            );
        }
        assert!(
            purge_scope(Some("partiton=ab12"))
                .unwrap_err()
                .contains("unknown parameter `partiton=ab12`")
        );
    }
}
