//! The caches family: `[cache]`, the internal and external caches of the
//! `cache-lookup`/`cache-store` and `cache-*-value` policies, built once
//! and shared by every plan (a reload keeps them and their entries, and
//! refuses a change of the section), and the admin routes `GET /caches`
//! (entries of each) and `POST /caches/purge[?cache=internal|external]`.
//! (`/cache` and `/cache/purge` are the semantic cache's.)

use std::sync::Arc;

use serde::Deserialize;
use sluice_engine::diag::Diagnostics;
use sluice_engine::runtime::{BoxFuture, Resources};
use sluice_policies::cache::{Caches, ExternalCache, RedisKvConfig, Settings};
use toml::Spanned;

use super::{AdminReply, AdminRequest, BuildCx, Family, Route};
use crate::config::Config;

/// Bytes the internal cache keeps unless `internal-max-bytes` says otherwise: 64 MiB.
pub const DEFAULT_INTERNAL_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// The prefix of the external cache's keys unless `external-prefix` says otherwise.
pub const DEFAULT_EXTERNAL_PREFIX: &str = "sluice:cache:";
/// How long one external cache command may take unless `external-timeout-ms` says otherwise.
pub const DEFAULT_EXTERNAL_TIMEOUT_MS: u64 = 500;

/// `[cache]`: the sizes and places of the caches. Read when the gateway
/// starts; a reload that changes it is refused.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CacheSection {
    /// Bytes (keys and values) the internal cache keeps at most.
    pub internal_max_bytes: Option<u64>,
    /// `redis://[user:password@]host:port[/db]`: the external cache. Secret
    /// (its password is masked in every diagnostic).
    pub external_redis_url: Option<Spanned<String>>,
    /// The prefix of every key of the external cache.
    pub external_prefix: Option<String>,
    /// Bound on connecting to, and on one answer of, the external cache.
    pub external_timeout_ms: Option<u64>,
    /// Failures in a row that stop calls to the external cache for `breaker-cooldown-ms`.
    pub breaker_failures: Option<u32>,
    pub breaker_cooldown_ms: Option<u64>,
}

impl std::fmt::Debug for CacheSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheSection")
            .field("internal_max_bytes", &self.internal_max_bytes)
            .field("external", &self.external_redis_url.is_some())
            .field("external_prefix", &self.external_prefix)
            .field("external_timeout_ms", &self.external_timeout_ms)
            .field("breaker_failures", &self.breaker_failures)
            .field("breaker_cooldown_ms", &self.breaker_cooldown_ms)
            .finish()
    }
}

pub struct CachesFamily {
    pub caches: Arc<Caches>,
    section: CacheSection,
}

impl std::fmt::Debug for CachesFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachesFamily")
            .field("caches", &self.caches)
            .finish()
    }
}

impl CachesFamily {
    pub fn new(cx: &BuildCx<'_>) -> Result<Self, Diagnostics> {
        let s = &cx.config.cache;
        let d = Settings::default();
        let settings = Settings {
            internal_max_bytes: s.internal_max_bytes.unwrap_or(DEFAULT_INTERNAL_MAX_BYTES),
            breaker_failures: s.breaker_failures.unwrap_or(d.breaker_failures),
            breaker_cooldown_ms: s.breaker_cooldown_ms.unwrap_or(d.breaker_cooldown_ms),
            log: cx.mode.log,
        };
        let external = match &s.external_redis_url {
            None => None,
            Some(url) => {
                let timeout = s.external_timeout_ms.unwrap_or(DEFAULT_EXTERNAL_TIMEOUT_MS);
                let config = RedisKvConfig {
                    url: url.get_ref().clone(),
                    prefix: s
                        .external_prefix
                        .clone()
                        .unwrap_or_else(|| DEFAULT_EXTERNAL_PREFIX.to_owned()),
                    connect_timeout_ms: timeout,
                    response_timeout_ms: timeout,
                };
                match ExternalCache::new(config) {
                    Ok(c) => Some(c),
                    Err(msg) => {
                        let mut d = Diagnostics::new();
                        d.push(cx.error(url.span(), format!("[cache] external-redis-url: {msg}")));
                        return Err(d);
                    }
                }
            }
        };
        let caches = Caches::new(settings, external, cx.registry).map_err(|e| {
            let mut d = Diagnostics::new();
            d.push(cx.error(0..0, format!("[cache]: cannot set up the metrics: {e}")));
            d
        })?;
        Ok(Self {
            caches: Arc::new(caches),
            section: s.clone(),
        })
    }

    /// `GET /caches`.
    async fn status(&self) -> AdminReply {
        let internal = &self.caches.internal;
        let external = match self.caches.external_entries().await {
            None => serde_json::json!({ "configured": false }),
            Some(Ok(n)) => serde_json::json!({ "configured": true, "entries": n }),
            Some(Err(e)) => serde_json::json!({ "configured": true, "entries": null, "error": e }),
        };
        AdminReply::json(
            200,
            &serde_json::json!({
                "internal": { "entries": internal.entries(), "bytes": internal.bytes() },
                "external": external,
            }),
        )
    }

    /// `POST /caches/purge[?cache=internal|external]`.
    async fn purge(&self, query: Option<&str>) -> AdminReply {
        let which = match purge_scope(query) {
            Ok(w) => w,
            Err(e) => return AdminReply::json(400, &serde_json::json!({ "error": e })),
        };
        let mut body = serde_json::Map::new();
        if which != Some("external") {
            body.insert("internal".into(), self.caches.purge_internal().into());
        }
        let mut status = 200;
        if which != Some("internal") {
            let v = match self.caches.purge_external().await {
                None if which == Some("external") => {
                    status = 400;
                    serde_json::json!({ "error": "no external cache is configured ([cache] external-redis-url)" })
                }
                None => serde_json::Value::Null,
                Some(Ok(n)) => n.into(),
                Some(Err(e)) => {
                    status = 503;
                    serde_json::json!({ "error": format!("nothing was purged: {e}") })
                }
            };
            body.insert("external".into(), v);
        }
        AdminReply::json(status, &serde_json::Value::Object(body))
    }
}

/// What `POST /caches/purge` empties: both (no query), or one cache
/// (`?cache=internal`, `?cache=external`); anything else is refused
/// rather than read as "both".
fn purge_scope(query: Option<&str>) -> Result<Option<&'static str>, String> {
    match query.filter(|q| !q.is_empty()) {
        None => Ok(None),
        Some("cache=internal") => Ok(Some("internal")),
        Some("cache=external") => Ok(Some("external")),
        Some(q) => Err(format!(
            "unknown parameters `{q}`: POST /caches/purge empties both caches, \
             ?cache=internal or ?cache=external one of them"
        )),
    }
}

impl Family for CachesFamily {
    fn section(&self) -> &'static str {
        "cache"
    }

    fn check_reload(&self, config: &Config) -> Result<(), String> {
        if config.cache == self.section {
            return Ok(());
        }
        Err("`[cache]` cannot change while running (the caches outlive reloads); restart sluice to change it".to_owned())
    }

    fn provide(&self, _: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics> {
        out.insert(Arc::clone(&self.caches));
        Ok(())
    }

    fn routes(&self) -> &'static [Route] {
        &[
            Route {
                path: "/caches",
                methods: &["GET", "HEAD"],
            },
            Route {
                path: "/caches/purge",
                methods: &["POST"],
            },
        ]
    }

    fn admin<'a>(&'a self, req: AdminRequest<'a>) -> BoxFuture<'a, AdminReply> {
        Box::pin(async move {
            if req.path == "/caches/purge" {
                self.purge(req.query).await
            } else {
                self.status().await
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::purge_scope;

    #[test]
    fn purge_takes_both_one_or_refuses() {
        assert_eq!(purge_scope(None), Ok(None));
        assert_eq!(purge_scope(Some("")), Ok(None));
        assert_eq!(purge_scope(Some("cache=internal")), Ok(Some("internal")));
        assert_eq!(purge_scope(Some("cache=external")), Ok(Some("external")));
        for bad in ["cache=both", "cach=internal", "cache=internal&x=1"] {
            assert!(
                purge_scope(Some(bad)).unwrap_err().contains("unknown"),
                "{bad}"
            );
        }
    }
}
