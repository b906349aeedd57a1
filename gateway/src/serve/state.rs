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
use crate::config::model::{Config, LogSection, NamedValue, PolicyText};
use crate::plan::Plan;
use crate::resources::Families;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_ADMIN: &str = "127.0.0.1:9090";
const DEFAULT_HEADER_BYTES: usize = 32 * 1024;
const DEFAULT_BODY_BYTES: usize = 16 * 1024 * 1024;
const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Limits the server applies before a request reaches the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// Request line and headers; over it: 431.
    pub header_bytes: usize,
    /// Request body; over it: 413.
    pub body_bytes: usize,
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
    /// The configuration and every file it references (policies, fragments, named values).
    pub files: BTreeSet<PathBuf>,
    /// The resource families the plan uses (the running gateway's on a reload).
    pub families: Arc<Families>,
    /// What loading found that is not an error.
    pub warnings: Diagnostics,
    /// `[log]` as this configuration says (a reload's takes effect on restart).
    pub log: LogSection,
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
pub fn build(path: &Path, families: Option<&Arc<Families>>) -> Result<Built, Diagnostics> {
    let built = crate::build::build(Input::File(path), families, Purpose::RUN)?;
    let c = &built.config;
    Ok(Built {
        http: HttpLimits {
            header_bytes: c
                .limits
                .max_request_header_bytes
                .unwrap_or(DEFAULT_HEADER_BYTES),
            body_bytes: c
                .limits
                .max_request_body_bytes
                .unwrap_or(DEFAULT_BODY_BYTES),
        },
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
        files: referenced_files(path, Some(c)),
        plan: built.plan,
        families: built.families,
        warnings: built.warnings,
        log: c.log.clone(),
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
    let Some(c) = parsed else { return out };
    let base = config.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut add = |f: &str| {
        out.insert(absolute(&base.join(f)));
    };
    if let Some(f) = &c.policy.global_file {
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
    /// Set once SIGTERM or SIGINT stopped the listener: `/healthz` answers 503.
    pub draining: AtomicBool,
    generation: AtomicU64,
    reloading: tokio::sync::Mutex<()>,
}

impl Gateway {
    /// `log`: the `[log]` the subscriber was installed with.
    pub fn new(config: PathBuf, built: Built, metrics: Metrics, log: LogSection) -> Self {
        metrics.generation.set(1);
        Self {
            current: ArcSwap::from_pointee(Current {
                plan: built.plan,
                http: built.http,
                generation: 1,
                shutdown_grace: built.shutdown_grace,
                admin_token: built.admin_token,
            }),
            config,
            gateway_listen: built.gateway_listen,
            admin_listen: built.admin_listen,
            metrics,
            status: Mutex::new(ReloadStatus::default()),
            files: Mutex::new(built.files),
            families: built.families,
            log,
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
        let families = Arc::clone(&self.families);
        let result = tokio::task::spawn_blocking(move || {
            let r = build(&path, Some(&families));
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
        }));
        self.metrics
            .generation
            .set(i64::try_from(generation).unwrap_or(i64::MAX));
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
        true
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
