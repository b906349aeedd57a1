//! Resources that outlive plans: the state a reload keeps (caches,
//! counters, tokens, key sets, breakers, metrics), one family per file.
//!
//! - `metrics.rs`: the one Prometheus registry every family and the server count in; `/metrics`
//! - `backends.rs`: `[backends]`, the backend entities stages name, their breakers and pools; `/backends`
//! - `counters.rs`: `[counters]`, the counts of the limit policies (memory or Redis)
//! - `keysets.rs`: the signing keys of `openid-config` URLs (validate-jwt, validate-azure-ad-token)
//! - `semantic.rs`: `[semantic-cache]`, the semantic cache and local embeddings models; `/cache`, `/cache/purge`
//! - `caches.rs`: `[cache]`, the internal and external caches of the `cache-*` policies; `/caches`, `/caches/purge`
//! - `credentials.rs`: `[identity]` and `[authorizations]`, the token providers and the token cache
//! - `sinks.rs`: `[loggers]`, `[dapr]`, `[service-bus]`: the loggers of `log-to-eventhub` and `trace`, and the endpoints of the Dapr and Service Bus policies
//!
//! A family is built once, from the configuration the gateway starts with,
//! and kept by every plan after it. It owns its configuration section (and
//! says what a reload may not change in it), gives each new plan's stages
//! their handles ([`Resources`], by type: a stage takes its own with
//! `cx.resource::<T>(e)`), and may answer admin routes. Adding one: a file
//! here implementing [`Family`], and one line in [`Families::new`].

pub mod backends;
pub mod caches;
pub mod content_safety;
pub mod counters;
pub mod credentials;
pub mod keysets;
pub mod metrics;
pub mod semantic;
pub mod sinks;

use std::path::Path;
use std::sync::Arc;

use sluice_engine::diag::{Code, Diagnostic, Diagnostics};
use sluice_engine::runtime::{BoxFuture, Resources, Services};
use sluice_engine::source::{Source, Span};

use crate::config::Config;

/// How the families are built and used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    /// Dependency outages are logged (`sluice run`), or not (`sluice test`).
    pub log: bool,
    /// Whether to load what takes long and is only needed to serve (local
    /// embeddings models): not for `sluice check`.
    pub load: bool,
}

impl Mode {
    pub const RUN: Mode = Mode {
        log: true,
        load: true,
    };
    pub const TEST: Mode = Mode {
        log: false,
        load: true,
    };
    pub const CHECK: Mode = Mode {
        log: false,
        load: false,
    };
}

/// What building a family, or a plan's resources, is given.
pub struct BuildCx<'a> {
    pub config: &'a Config,
    /// The configuration's name and text, for diagnostics.
    pub name: &'a str,
    pub text: &'a str,
    /// Where its relative paths start.
    pub base: &'a Path,
    /// The environment `{ env = "X" }` values (and the identity chain) read.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub mode: Mode,
    /// The one registry every metric is registered in.
    pub registry: &'a prometheus::Registry,
}

impl<'a> BuildCx<'a> {
    fn new(
        config: &'a Config,
        origin: Origin<'a>,
        mode: Mode,
        registry: &'a prometheus::Registry,
    ) -> Self {
        Self {
            config,
            name: origin.name,
            text: origin.text,
            base: origin.base,
            env: origin.env,
            mode,
            registry,
        }
    }

    /// An error about the configuration, at `span` (bytes of its text).
    pub fn error(&self, span: std::ops::Range<usize>, msg: impl Into<String>) -> Diagnostic {
        let source = Source::new(self.name, self.text);
        Diagnostic::new(
            Code::ConfigReference,
            &source,
            Span::new(span.start, span.end),
            msg,
        )
    }
}

/// Where a configuration came from: its name and text (for diagnostics),
/// where its relative paths start, and the environment its `{ env = "X" }`
/// values are read from.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    pub name: &'a str,
    pub text: &'a str,
    pub base: &'a Path,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for Origin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origin")
            .field("name", &self.name)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// An admin request a family may answer.
#[derive(Debug)]
pub struct AdminRequest<'a> {
    pub method: &'a hyper::Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// The gateway clock (the one requests run on), in milliseconds since
    /// the Unix epoch.
    pub now_ms: i64,
}

/// A family's admin answer.
#[derive(Debug)]
pub struct AdminReply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl AdminReply {
    pub fn json(status: u16, v: &serde_json::Value) -> Self {
        let mut body = serde_json::to_vec_pretty(v).unwrap_or_default();
        body.push(b'\n');
        Self {
            status,
            content_type: "application/json",
            body,
        }
    }
}

/// An admin route of a family: its path, methods and what it does (for the
/// admin listener's 404 and 405 answers).
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub path: &'static str,
    pub methods: &'static [&'static str],
}

/// One family of shared state.
pub trait Family: Send + Sync {
    /// Its configuration section, as written (`semantic-cache`).
    fn section(&self) -> &'static str;

    /// Whether a plan of `config` may keep this family (it was built from
    /// another configuration): what of its section cannot change while
    /// running, if anything does.
    fn check_reload(&self, _config: &Config) -> Result<(), String> {
        Ok(())
    }

    /// Adds what a new plan's stages need to `out`.
    fn provide(&self, cx: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics>;

    /// Its admin routes.
    fn routes(&self) -> &'static [Route] {
        &[]
    }

    /// Answers one of [`Family::routes`] (the path and method match one).
    fn admin<'a>(&'a self, _req: AdminRequest<'a>) -> BoxFuture<'a, AdminReply> {
        Box::pin(async { AdminReply::json(404, &serde_json::json!({ "error": "no such route" })) })
    }

    /// Waits for background work to finish (a store's pending writes): the
    /// conformance runner settles before it looks.
    fn settle(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// A plan starts serving: fetch what it will need through `services`
    /// (the key sets of its `openid-config` URLs). Problems are logged,
    /// never fatal.
    fn warm(&self, _services: Arc<dyn Services>) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Every family of one gateway.
pub struct Families {
    pub metrics: Arc<metrics::MetricsFamily>,
    /// The loggers (a conformance case reads what they were sent).
    pub sinks: Arc<sinks::SinksFamily>,
    list: Vec<Arc<dyn Family>>,
}

impl std::fmt::Debug for Families {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(|f| f.section()))
            .finish()
    }
}

impl Families {
    /// Builds every family from the configuration the gateway starts with.
    pub fn new(config: &Config, origin: Origin<'_>, mode: Mode) -> Result<Self, Diagnostics> {
        let cap = config
            .metrics
            .max_series_per_metric
            .as_ref()
            .map(|c| *c.get_ref());
        let metrics = metrics::MetricsFamily::new(cap).map_err(|e| {
            let mut d = Diagnostics::new();
            let source = Source::new(origin.name, origin.text);
            d.push(Diagnostic::new(
                Code::ConfigReference,
                &source,
                Span::point(0),
                format!("cannot set up the metrics: {e}"),
            ));
            d
        })?;
        let metrics = Arc::new(metrics);
        let cx = BuildCx::new(config, origin, mode, metrics.registry());
        let sinks = Arc::new(sinks::SinksFamily::new(&cx)?);
        let list: Vec<Arc<dyn Family>> = vec![
            Arc::clone(&metrics) as Arc<dyn Family>,
            Arc::new(backends::BackendsFamily::new(&cx)?),
            Arc::new(keysets::KeySetsFamily::new(&cx)?),
            Arc::new(semantic::SemanticFamily::new(&cx)?),
            Arc::new(counters::CountersFamily::new(&cx)?),
            Arc::new(caches::CachesFamily::new(&cx)?),
            Arc::new(credentials::CredentialsFamily::new(&cx)?),
            Arc::clone(&sinks) as Arc<dyn Family>,
            Arc::new(content_safety::ContentSafetyFamily::new(&cx)?),
        ];
        Ok(Self {
            metrics,
            sinks,
            list,
        })
    }

    /// What every family gives the stages of a plan of `config`.
    pub fn provide(
        &self,
        config: &Config,
        origin: Origin<'_>,
        mode: Mode,
    ) -> Result<Resources, Diagnostics> {
        let cx = BuildCx::new(config, origin, mode, self.metrics.registry());
        let mut out = Resources::new();
        let mut diags = Diagnostics::new();
        for f in &self.list {
            if let Err(d) = f.provide(&cx, &mut out) {
                diags.extend(d);
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(out)
    }

    /// What a reload to `config` would change that a family cannot.
    pub fn check_reload(&self, config: &Config) -> Vec<String> {
        self.list
            .iter()
            .filter_map(|f| f.check_reload(config).err())
            .collect()
    }

    /// The family that answers `path`, with the methods it takes there.
    pub fn route(&self, path: &str) -> Option<(&Arc<dyn Family>, &'static Route)> {
        self.list
            .iter()
            .find_map(|f| f.routes().iter().find(|r| r.path == path).map(|r| (f, r)))
    }

    /// Every family's admin route.
    pub fn routes(&self) -> impl Iterator<Item = &'static Route> + '_ {
        self.list.iter().flat_map(|f| f.routes().iter())
    }

    /// Waits for every family's background work.
    pub async fn settle(&self) {
        for f in &self.list {
            f.settle().await;
        }
    }

    /// Every family's [`Family::warm`], for a plan that starts serving.
    pub async fn warm(&self, services: Arc<dyn Services>) {
        for f in &self.list {
            f.warm(Arc::clone(&services)).await;
        }
    }
}
