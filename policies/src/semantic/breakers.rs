//! The semantic cache's circuit breakers, one per dependency: the vector
//! store's, and one per embeddings backend (by backend id), so that a
//! backend that fails makes only its own lookups miss. Each is named in its
//! `sluice_semantic_cache_breaker_open{dependency,backend}` series and in
//! the log lines of its outages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use prometheus::{IntGauge, IntGaugeVec};

use super::Config;
use crate::breaker::Breaker;

/// Embeddings backends with a breaker of their own. Backend ids come from
/// the configuration but also from expressions, so the map is bounded: the
/// ids met past this many share one breaker, [`OTHER_BACKENDS`].
pub const MAX_EMBEDDINGS_BREAKERS: usize = 256;

/// The `backend` label of the breaker shared by the embeddings backends met
/// past the first [`MAX_EMBEDDINGS_BREAKERS`].
pub const OTHER_BACKENDS: &str = "(others)";

/// The `backend` label of an embeddings failure whose backend id names no
/// backend (an expression's id: not a label of its own, which would let
/// requests make series without bound).
pub const UNKNOWN_BACKEND: &str = "(unknown)";

/// A dependency's circuit breaker and its names.
#[derive(Debug)]
pub struct Dependency {
    /// `embeddings` or `store`: the `dependency` label.
    pub kind: &'static str,
    /// The embeddings backend's id, or the store's kind (`memory`,
    /// `redis`): the `backend` label.
    pub name: String,
    pub breaker: Breaker,
    /// Its `breaker_open` series, resolved once.
    open: IntGauge,
}

impl Dependency {
    /// A closed breaker, its series set to 0.
    pub fn new(kind: &'static str, name: &str, config: &Config, gauges: &IntGaugeVec) -> Self {
        let open = gauges.with_label_values(&[kind, name]);
        open.set(0);
        Self {
            kind,
            name: name.to_owned(),
            breaker: Breaker::new(config.breaker_failures, config.breaker_cooldown_ms),
            open,
        }
    }

    /// Counts one failure of this dependency in `errors{dependency,kind,backend}`.
    pub fn count_error(&self, errors: &prometheus::IntCounterVec, kind: &str) {
        errors
            .with_label_values(&[self.kind, kind, &self.name])
            .inc();
    }

    /// Sets its `breaker_open` series.
    pub fn set_open(&self, open: bool) {
        self.open.set(i64::from(open));
    }

    /// The dependency as a log line names it.
    pub fn describe(&self) -> String {
        match (self.kind, self.name.as_str()) {
            ("store", kind) => format!("the `{kind}` vector store"),
            (_, OTHER_BACKENDS) => format!(
                "the embeddings backends past the first {MAX_EMBEDDINGS_BREAKERS} \
                 (one breaker between them)"
            ),
            (_, id) => format!("the embeddings backend `{id}`"),
        }
    }
}

/// The embeddings backends' breakers by backend id, each made on first use.
#[derive(Debug)]
pub struct EmbeddingsBreakers {
    config: Config,
    gauges: IntGaugeVec,
    by_backend: Mutex<HashMap<String, Arc<Dependency>>>,
    others: OnceLock<Arc<Dependency>>,
}

impl EmbeddingsBreakers {
    pub fn new(config: &Config, gauges: &IntGaugeVec) -> Self {
        Self {
            config: config.clone(),
            gauges: gauges.clone(),
            by_backend: Mutex::default(),
            others: OnceLock::new(),
        }
    }

    /// The breaker of the backend `id`: its own, or past
    /// [`MAX_EMBEDDINGS_BREAKERS`] ids the shared one.
    pub fn of(&self, id: &str) -> Arc<Dependency> {
        let mut map = match self.by_backend.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(d) = map.get(id) {
            return Arc::clone(d);
        }
        if map.len() >= MAX_EMBEDDINGS_BREAKERS {
            drop(map);
            return Arc::clone(self.others.get_or_init(|| self.make(OTHER_BACKENDS)));
        }
        let d = self.make(id);
        map.insert(id.to_owned(), Arc::clone(&d));
        d
    }

    fn make(&self, id: &str) -> Arc<Dependency> {
        Arc::new(Dependency::new(
            "embeddings",
            id,
            &self.config,
            &self.gauges,
        ))
    }
}
