//! The live plan and its reloading.
//!
//! The plan lives in an [`ArcSwap`]: a request takes `load_full()` once at
//! entry and keeps that plan to its end, so a reload never changes a request
//! in flight. A reload builds the whole new plan beside the old one (the
//! configuration with every policy and fragment file, loaded with
//! not-executed policies as errors, then compiled); any error keeps the old
//! plan, and the diagnostics go to the log, the metrics and `/status`.
//! Reloads run one at a time, so an older build never replaces a newer one.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use sluice_engine::diag::Diagnostics;

use super::admin::Metrics;
use crate::build::{Input, Purpose};
use crate::config::Secret;
use crate::config::model::{Config, LimitsSection, LogSection, NamedValue, PolicyText};
use crate::config::tls::Tls;
use crate::plan::Plan;
use crate::resources::Families;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_ADMIN: &str = "127.0.0.1:9090";
const DEFAULT_HEADER_BYTES: usize = 32 * 1024;
const DEFAULT_BODY_BYTES: usize = 16 * 1024 * 1024;
const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

const DEFAULT_HEADER_READ: Duration = Duration::from_secs(30);
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(75);
const DEFAULT_BODY_READ: Duration = Duration::from_secs(30);
const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
const DEFAULT_H2_STREAMS: u32 = 100;
const DEFAULT_H2_PING_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_H2_PING_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest timeout taken as given (a year); longer ones are cut to it,
/// so that no deadline overflows the clock.
const MAX_TIMEOUT_MS: u64 = 365 * 24 * 3600 * 1000;

/// Limits the server applies to connections and to requests before they
/// reach the plan. A reload changes them for the connections accepted and
/// the requests begun after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// Request line and headers; over it: 431.
    pub header_bytes: usize,
    /// Request body; over it: 413.
    pub body_bytes: usize,
    /// From a connection's start, or from the first byte of a request after
    /// an idle time, to the end of its head; past it the connection closes.
    pub header_read: Option<Duration>,
    /// How long a connection with no request in flight may stay open.
    pub keep_alive: Option<Duration>,
    /// The longest pause while a request body arrives; past it: 408.
    pub body_read: Option<Duration>,
    /// Connections served at once; at it, the acceptor waits.
    pub max_connections: usize,
    pub h2_max_streams: u32,
    /// How often an HTTP/2 connection is pinged, if at all.
    pub h2_ping_interval: Option<Duration>,
    /// How long a ping's answer may take.
    pub h2_ping_timeout: Duration,
}

impl HttpLimits {
    fn of(c: &LimitsSection) -> Self {
        // 0: unbounded.
        let timeout = |ms: Option<u64>, default: Duration| match ms {
            Some(0) => None,
            Some(ms) => Some(Duration::from_millis(ms.min(MAX_TIMEOUT_MS))),
            None => Some(default),
        };
        Self {
            header_bytes: c.max_request_header_bytes.unwrap_or(DEFAULT_HEADER_BYTES),
            body_bytes: c.max_request_body_bytes.unwrap_or(DEFAULT_BODY_BYTES),
            header_read: timeout(c.header_read_timeout_ms, DEFAULT_HEADER_READ),
            keep_alive: timeout(c.keep_alive_timeout_ms, DEFAULT_KEEP_ALIVE),
            body_read: timeout(c.body_read_timeout_ms, DEFAULT_BODY_READ),
            max_connections: c
                .max_connections
                .unwrap_or_else(|| default_max_connections(descriptor_limit()))
                .max(1),
            h2_max_streams: c
                .http2_max_concurrent_streams
                .unwrap_or(DEFAULT_H2_STREAMS)
                .max(1),
            h2_ping_interval: timeout(c.http2_keep_alive_interval_ms, DEFAULT_H2_PING_INTERVAL),
            h2_ping_timeout: c
                .http2_keep_alive_timeout_ms
                .map_or(DEFAULT_H2_PING_TIMEOUT, |ms| {
                    Duration::from_millis(ms.min(MAX_TIMEOUT_MS))
                }),
        }
    }
}

/// `max-connections` when the configuration does not say: 10000, or fewer
/// when the process may open fewer descriptors (`limit`, the soft
/// `RLIMIT_NOFILE`): 64 kept for the listeners, logs, watched files and
/// the like, and half the rest, as a client's connection may hold a
/// backend connection too.
fn default_max_connections(limit: Option<u64>) -> usize {
    let Some(limit) = limit else {
        return DEFAULT_MAX_CONNECTIONS;
    };
    let usable = usize::try_from(limit.saturating_sub(64) / 2).unwrap_or(usize::MAX);
    usable.clamp(16, DEFAULT_MAX_CONNECTIONS)
}

/// The soft limit on open files, from `/proc/self/limits` (Linux); `None`
/// elsewhere or when unlimited.
fn descriptor_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A configuration made ready to serve.
pub struct Built {
    pub plan: Plan,
    pub http: HttpLimits,
    pub gateway_listen: SocketAddr,
    pub admin_listen: SocketAddr,
    /// `[gateway] shutdown-grace`.
    pub shutdown_grace: Duration,
    /// `[admin] token`.
    pub admin_token: Option<Secret>,
    /// `[gateway] tls-cert` and the rest: TLS on the listener.
    pub tls: Option<Tls>,
    /// The configuration and every file it references (policies, fragments, named values).
    pub files: BTreeSet<PathBuf>,
    /// The resource families the plan uses (the running gateway's on a reload).
    pub families: Arc<Families>,
    /// What loading found that is not an error.
    pub warnings: Diagnostics,
    /// `[log]` as this configuration says (a reload's takes effect on restart).
    pub log: LogSection,
    /// `[gateway] workers` (`None`: one per core; a reload's takes effect on restart).
    pub workers: Option<usize>,
}

/// What a request runs against: one generation of the plan (and the
/// settings a reload may change that are not the plan's).
pub struct Current {
    pub plan: Plan,
    pub http: HttpLimits,
    pub generation: u64,
    /// How long a shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    /// The bearer token of the admin routes (all but `/healthz`).
    pub admin_token: Option<Secret>,
    /// TLS on the listener, for the connections accepted from now on.
    pub tls: Option<Tls>,
}

fn addr(value: Option<&toml::Spanned<String>>, default: &str) -> SocketAddr {
    value
        .map_or(default, |v| v.get_ref().as_str())
        .parse()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// Loads and compiles a configuration file, as `sluice run` serves it:
/// with the running gateway's resource families (`families`), or with new
/// ones made from the file.
/// A folder is an APIOps extract, with its publisher `overrides` file or none.
pub fn build(
    path: &Path,
    overrides: Option<&Path>,
    families: Option<&Arc<Families>>,
) -> Result<Built, Diagnostics> {
    let input = if path.is_dir() {
        Input::Extract {
            dir: path,
            overrides,
        }
    } else {
        Input::File(path)
    };
    let built = crate::build::build(input, families, Purpose::RUN)?;
    let c = &built.config;
    Ok(Built {
        http: HttpLimits::of(&c.limits),
        gateway_listen: addr(c.gateway.listen.as_ref(), DEFAULT_LISTEN),
        admin_listen: addr(c.admin.listen.as_ref(), DEFAULT_ADMIN),
        // (Checked when loading.)
        shutdown_grace: c
            .gateway
            .shutdown_grace
            .as_ref()
            .and_then(|g| g.get_ref().of().ok())
            .unwrap_or(DEFAULT_SHUTDOWN_GRACE),
        admin_token: built.admin_token,
        tls: built.tls,
        files: referenced_files(path, Some(c))
            .into_iter()
            .chain(overrides.map(absolute))
            .collect(),
        plan: built.plan,
        families: built.families,
        warnings: built.warnings,
        log: c.log.clone(),
        workers: c.gateway.workers.as_ref().map(|w| *w.get_ref()),
    })
}

/// An absolute path whose folder is canonical (as file watchers report it).
fn absolute(path: &Path) -> PathBuf {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let dir = dir.canonicalize().unwrap_or(dir);
    match path.file_name() {
        Some(name) => dir.join(name),
        None => dir,
    }
}

/// The configuration file and the files it names, as absolute paths.
pub fn referenced_files(config: &Path, parsed: Option<&Config>) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::from([absolute(config)]);
    if config.is_dir() {
        // An extract: every file and folder in it (watch.rs reloads on a
        // change of a file of a listed folder too, so new files count).
        out.extend(
            crate::config::apiops::files(config)
                .iter()
                .map(|p| absolute(p)),
        );
    }
    let Some(c) = parsed else { return out };
    let base = config.parent().map(Path::to_path_buf).unwrap_or_default();
    if let Some(a) = &c.apiops
        && !config.is_dir()
    {
        let a = a.get_ref();
        out.extend(
            crate::config::apiops::files(&base.join(a.dir.get_ref()))
                .iter()
                .map(|p| absolute(p)),
        );
        if let Some(o) = &a.overrides {
            out.insert(absolute(&base.join(o.get_ref())));
        }
    }
    let mut add = |f: &str| {
        out.insert(absolute(&base.join(f)));
    };
    if let Some(f) = &c.policy.global_file {
        add(f.get_ref());
    }
    let g = &c.gateway;
    for f in [&g.tls_cert, &g.tls_key, &g.tls_client_ca]
        .into_iter()
        .flatten()
    {
        add(f.get_ref());
    }
    for p in &c.products {
        if let Some(f) = &p.get_ref().policy_file {
            add(f.get_ref());
        }
    }
    for a in &c.apis {
        let a = a.get_ref();
        if let Some(f) = &a.policy_file {
            add(f.get_ref());
        }
        for o in &a.operations {
            if let Some(f) = &o.get_ref().policy_file {
                add(f.get_ref());
            }
        }
    }
    for f in c.fragments.values() {
        if let PolicyText::File { file } = f.get_ref() {
            add(file);
        }
    }
    for v in c.named_values.values().chain(&c.admin.token) {
        if let NamedValue::Source(s) = v.get_ref()
            && let Some(f) = &s.file
        {
            add(f);
        }
    }
    out
}

/// What started a reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    File,
    Admin,
    Signal,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::File => "file",
            Trigger::Admin => "admin",
            Trigger::Signal => "signal",
        }
    }
}

/// The outcome of the last reload, as `/status` shows it.
#[derive(Clone, Debug, Default)]
pub struct ReloadStatus {
    /// How many reloads were attempted.
    pub attempts: u64,
    pub ok: u64,
    pub failed: u64,
    /// `None` before the first reload.
    pub last: Option<LastReload>,
}

#[derive(Clone, Debug)]
pub struct LastReload {
    pub ok: bool,
    pub trigger: Trigger,
    pub at_ms: u128,
    /// One JSON object per diagnostic (file, line, column, severity, code, message).
    pub diagnostics: Vec<serde_json::Value>,
}

/// The running gateway.
pub struct Gateway {
    pub current: ArcSwap<Current>,
    pub config: PathBuf,
    /// `--overrides` of an extract.
    pub overrides: Option<PathBuf>,
    pub gateway_listen: SocketAddr,
    pub admin_listen: SocketAddr,
    pub metrics: Metrics,
    pub status: Mutex<ReloadStatus>,
    /// The files whose change triggers a reload.
    pub files: Mutex<BTreeSet<PathBuf>>,
    /// The resource families, kept across reloads.
    pub families: Arc<Families>,
    /// `[log]` as the subscriber was installed (a reload cannot change it).
    pub log: LogSection,
    /// `[gateway] workers` as the gateway started (a reload cannot change it).
    pub workers: Option<usize>,
    /// Set once SIGTERM or SIGINT stopped the listener: `/healthz` answers 503.
    pub draining: AtomicBool,
    generation: AtomicU64,
    reloading: tokio::sync::Mutex<()>,
}

impl Gateway {
    /// `log`: the `[log]` the subscriber was installed with.
    pub fn new(
        config: PathBuf,
        overrides: Option<PathBuf>,
        built: Built,
        metrics: Metrics,
        log: LogSection,
    ) -> Self {
        metrics.generation.set(1);
        Self {
            current: ArcSwap::from_pointee(Current {
                plan: built.plan,
                http: built.http,
                generation: 1,
                shutdown_grace: built.shutdown_grace,
                admin_token: built.admin_token,
                tls: built.tls,
            }),
            config,
            overrides,
            gateway_listen: built.gateway_listen,
            admin_listen: built.admin_listen,
            metrics,
            status: Mutex::new(ReloadStatus::default()),
            files: Mutex::new(built.files),
            families: built.families,
            log,
            workers: built.workers,
            draining: AtomicBool::new(false),
            generation: AtomicU64::new(1),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Builds the configuration anew and swaps it in if it has no error.
    /// Returns whether the new plan is serving.
    pub async fn reload(self: &Arc<Self>, trigger: Trigger) -> bool {
        let _one_at_a_time = self.reloading.lock().await;
        let path = self.config.clone();
        let overrides = self.overrides.clone();
        let families = Arc::clone(&self.families);
        let result = tokio::task::spawn_blocking(move || {
            let r = build(&path, overrides.as_deref(), Some(&families));
            // Files to watch even when the configuration does not load.
            let files = match &r {
                Ok(b) => b.files.clone(),
                Err(_) => {
                    let loose: Option<Config> = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| toml::from_str(&t).ok());
                    referenced_files(&path, loose.as_ref())
                }
            };
            (r, files)
        })
        .await;
        let (result, files) = match result {
            Ok(r) => r,
            Err(e) => {
                let msg = format!("the reload did not finish: {e}");
                self.record(trigger, false, vec![serde_json::json!({ "message": msg })]);
                tracing::error!(
                    trigger = trigger.name(),
                    "reload ({}) failed: {msg}",
                    trigger.name()
                );
                return false;
            }
        };
        if let Ok(mut f) = self.files.lock() {
            f.extend(files);
        }
        let built = match result {
            Ok(b) => b,
            Err(diags) => {
                tracing::error!(
                    trigger = trigger.name(),
                    generation = self.generation(),
                    "reload ({}) failed; generation {} keeps serving:",
                    trigger.name(),
                    self.generation()
                );
                super::log::diagnostics(&diags);
                let json = diags.iter().map(|d| d.to_json()).collect();
                self.record(trigger, false, json);
                return false;
            }
        };
        let mut refused = Vec::new();
        if built.gateway_listen != self.gateway_listen {
            refused.push((
                "[gateway] listen",
                self.gateway_listen,
                built.gateway_listen,
            ));
        }
        if built.admin_listen != self.admin_listen {
            refused.push(("[admin] listen", self.admin_listen, built.admin_listen));
        }
        let messages: Vec<String> = refused
            .into_iter()
            .map(|(key, old, new)| {
                format!(
                    "`{key}` cannot change while running ({old} -> {new}); restart sluice to change it"
                )
            })
            .collect();
        if !messages.is_empty() {
            let mut json = Vec::new();
            for msg in messages {
                tracing::error!(
                    trigger = trigger.name(),
                    generation = self.generation(),
                    "reload ({}) refused; generation {} keeps serving: {msg}",
                    trigger.name(),
                    self.generation()
                );
                json.push(serde_json::json!({
                    "file": self.config.display().to_string(),
                    "severity": "error",
                    "message": msg,
                }));
            }
            self.record(trigger, false, json);
            return false;
        }
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.current.store(Arc::new(Current {
            plan: built.plan,
            http: built.http,
            generation,
            shutdown_grace: built.shutdown_grace,
            admin_token: built.admin_token,
            tls: built.tls,
        }));
        self.metrics
            .generation
            .set(i64::try_from(generation).unwrap_or(i64::MAX));
        if built.workers != self.workers {
            tracing::warn!(
                trigger = trigger.name(),
                "`[gateway] workers` changed: it takes effect when sluice restarts"
            );
        }
        if built.log != self.log {
            tracing::warn!(
                trigger = trigger.name(),
                "`[log]` changed: it takes effect when sluice restarts; the log keeps its format and level"
            );
        }
        tracing::info!(
            trigger = trigger.name(),
            generation,
            "reload ({}) ok: generation {generation} serving",
            trigger.name()
        );
        self.record(trigger, true, Vec::new());
        self.warm();
        true
    }

    /// Fetches in the background what the current plan will need (the key
    /// sets of its `openid-config` URLs): a failure is logged, never fatal.
    pub fn warm(self: &Arc<Self>) {
        let gateway = Arc::clone(self);
        tokio::spawn(async move {
            let client = match super::client::HttpClient::new() {
                Ok(c) => Arc::new(c),
                Err(e) => {
                    tracing::warn!("cannot fetch the key sets: {e}");
                    return;
                }
            };
            let services = Arc::new(super::client::Live {
                client,
                current: gateway.current.load_full(),
            });
            gateway.families.warm(services).await;
        });
    }

    fn record(&self, trigger: Trigger, ok: bool, diagnostics: Vec<serde_json::Value>) {
        self.metrics
            .reloads
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        if let Ok(mut s) = self.status.lock() {
            s.attempts += 1;
            if ok {
                s.ok += 1;
            } else {
                s.failed += 1;
            }
            s.last = Some(LastReload {
                ok,
                trigger,
                at_ms,
                diagnostics,
            });
        }
    }

    /// `/status` as JSON.
    pub fn status_json(&self) -> serde_json::Value {
        let status = self.status.lock().map(|s| s.clone()).unwrap_or_default();
        let last = status.last.map(|l| {
            serde_json::json!({
                "outcome": if l.ok { "ok" } else { "error" },
                "trigger": l.trigger.name(),
                "at_ms": u64::try_from(l.at_ms).unwrap_or(u64::MAX),
                "diagnostics": l.diagnostics,
            })
        });
        serde_json::json!({
            "config": self.config.display().to_string(),
            "generation": self.current.load().generation,
            "listen": self.gateway_listen.to_string(),
            "admin_listen": self.admin_listen.to_string(),
            "draining": self.draining.load(Ordering::Relaxed),
            "reloads": { "attempts": status.attempts, "ok": status.ok, "failed": status.failed },
            "last_reload": last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_connections_defaults_to_what_the_descriptor_limit_allows() {
        // The incident's limit: 200 descriptors, 68 connections (each may
        // hold a backend connection; 64 spare).
        assert_eq!(default_max_connections(Some(200)), 68);
        assert_eq!(default_max_connections(Some(1024)), 480);
        assert_eq!(default_max_connections(Some(1_048_576)), 10_000);
        assert_eq!(default_max_connections(Some(20)), 16);
        assert_eq!(default_max_connections(None), 10_000);
    }

    #[test]
    fn limits_default_and_zero_means_unbounded() {
        let l = HttpLimits::of(&LimitsSection::default());
        assert_eq!(l.header_read, Some(Duration::from_secs(30)));
        assert_eq!(l.keep_alive, Some(Duration::from_secs(75)));
        assert_eq!(l.body_read, Some(Duration::from_secs(30)));
        assert_eq!(l.h2_max_streams, 100);
        assert_eq!(l.h2_ping_interval, Some(Duration::from_secs(30)));
        assert_eq!(l.h2_ping_timeout, Duration::from_secs(10));
        let l = HttpLimits::of(&LimitsSection {
            header_read_timeout_ms: Some(0),
            keep_alive_timeout_ms: Some(0),
            body_read_timeout_ms: Some(250),
            http2_keep_alive_timeout_ms: Some(u64::MAX),
            http2_keep_alive_interval_ms: Some(0),
            max_connections: Some(0),
            ..LimitsSection::default()
        });
        assert_eq!((l.header_read, l.keep_alive), (None, None));
        assert_eq!(l.body_read, Some(Duration::from_millis(250)));
        assert_eq!(l.h2_ping_interval, None);
        assert_eq!(l.max_connections, 1);
        assert_eq!(l.h2_ping_timeout, Duration::from_millis(MAX_TIMEOUT_MS));
    }
}
