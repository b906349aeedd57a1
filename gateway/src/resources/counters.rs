//! The counters family: `[counters]`, the counts of the limit policies
//! (`rate-limit`, `rate-limit-by-key`, `quota`, `quota-by-key`,
//! `limit-concurrency`, the token limits), kept by every plan of a gateway:
//! a reload that keeps a policy keeps its counts. The store (`memory` or
//! `redis`) and its URL cannot change while running; a reload that changes
//! them is refused.
//!
//! ```toml
//! [counters]
//! store = "memory"                # or "redis"
//! redis-url = "redis://127.0.0.1:6379"
//! redis-prefix = "sluice:ct:"
//! on-store-failure = "allow"      # allow | deny | local
//! ```

use std::sync::Arc;

use serde::Deserialize;
use sluice_engine::diag::Diagnostics;
use sluice_engine::runtime::Resources;
use sluice_policies::counters::{
    CounterStore, Counters, Fallback, MemoryStore, RedisConfig, RedisStore, Settings,
};
use toml::Spanned;

use super::{BuildCx, Family};
use crate::config::Config;

/// `[counters]`: where counts are kept and what decides while a shared
/// store fails.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CountersSection {
    /// `memory` (the default: this process) or `redis` (shared by replicas).
    pub store: Option<Spanned<String>>,
    /// `redis://[user:password@]host:port[/db]`, for `store = "redis"`.
    pub redis_url: Option<Spanned<String>>,
    /// Prefix of every Redis key (`sluice:ct:`).
    pub redis_prefix: Option<String>,
    /// `allow` (the default), `deny` or `local`.
    pub on_store_failure: Option<Spanned<String>>,
}

impl CountersSection {
    /// The settings as compared across a reload (spans aside).
    fn settings(&self) -> (Option<&str>, Option<&str>, Option<&str>, Option<&str>) {
        (
            self.store.as_ref().map(|s| s.get_ref().as_str()),
            self.redis_url.as_ref().map(|s| s.get_ref().as_str()),
            self.redis_prefix.as_deref(),
            self.on_store_failure.as_ref().map(|s| s.get_ref().as_str()),
        )
    }
}

/// The counters as a gateway holds them.
#[derive(Debug)]
pub struct CountersFamily {
    pub counters: Arc<Counters>,
    section: CountersSection,
}

impl CountersFamily {
    pub fn new(cx: &BuildCx<'_>) -> Result<Self, Diagnostics> {
        let section = &cx.config.counters;
        let fail = |span: std::ops::Range<usize>, msg: String| {
            let mut d = Diagnostics::new();
            d.push(cx.error(span, format!("[counters]: {msg}")));
            d
        };
        let on_store_failure = match &section.on_store_failure {
            None => Fallback::Allow,
            Some(s) => Fallback::parse(s.get_ref()).ok_or_else(|| {
                fail(
                    s.span(),
                    format!(
                        "`{}` is not an on-store-failure: `allow`, `deny` or `local`",
                        s.get_ref()
                    ),
                )
            })?,
        };
        let store: Arc<dyn CounterStore> = match &section.store {
            None => Arc::new(MemoryStore::new()),
            Some(s) if s.get_ref() == "memory" => Arc::new(MemoryStore::new()),
            Some(s) if s.get_ref() == "redis" => {
                let d = RedisConfig::default();
                let config = RedisConfig {
                    url: section
                        .redis_url
                        .as_ref()
                        .map_or(d.url.clone(), |u| u.get_ref().clone()),
                    prefix: section.redis_prefix.clone().unwrap_or(d.prefix.clone()),
                    ..d
                };
                let span = section.redis_url.as_ref().map_or(0..0, Spanned::span);
                // Never connects here: a Redis down at start is an outage, not a failure.
                Arc::new(RedisStore::new(config).map_err(|e| fail(span, e.to_string()))?)
            }
            Some(s) => {
                return Err(fail(
                    s.span(),
                    format!(
                        "`{}` is not a counters store: `memory` or `redis`",
                        s.get_ref()
                    ),
                ));
            }
        };
        let settings = Settings {
            on_store_failure,
            log: cx.mode.log,
            ..Settings::default()
        };
        let counters = Counters::new(store, settings, Some(cx.registry))
            .map_err(|e| fail(0..0, format!("cannot set up the counters' metrics: {e}")))?;
        Ok(Self {
            counters: Arc::new(counters),
            section: section.clone(),
        })
    }
}

impl Family for CountersFamily {
    fn section(&self) -> &'static str {
        "counters"
    }

    fn check_reload(&self, config: &Config) -> Result<(), String> {
        if config.counters.settings() == self.section.settings() {
            return Ok(());
        }
        Err("`[counters]` cannot change while running (the counts and their store outlive reloads); restart sluice to change it".to_owned())
    }

    fn provide(&self, _: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics> {
        out.insert(Arc::clone(&self.counters));
        Ok(())
    }
}
