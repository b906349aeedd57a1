//! `sluice run`: the gateway server.
//!
//! - `mod.rs`: the command: load, bind, start everything
//! - `state.rs`: the live plan in an `ArcSwap`, building a plan, reloading
//! - `server.rs`: the gateway listener (HTTP/1.1 and HTTP/2 cleartext), limits, requests into the plan
//! - `conn.rs`: connection bounds: head and idle timeouts, HTTP/2 settings
//! - `client.rs`: outbound HTTP (pooled, rustls with web PKI roots) and the [`Services`] of a request
//! - `admin.rs`: `/healthz`, `/status`, `/reload` and the resource families' routes; the server's metrics
//! - `watch.rs`: reload triggers: file watching (debounced) and SIGHUP
//! - `shutdown.rs`: SIGTERM and SIGINT: draining within `[gateway] shutdown-grace`
//! - `log.rs`: the `tracing` subscriber (`[log]`: text or JSON, level, `RUST_LOG`)
//!
//! [`Services`]: sluice_engine::runtime::Services

mod admin;
mod client;
mod conn;
pub mod log;
mod outbound_tls;
mod proxy;
mod server;
mod shutdown;
mod state;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use sluice_engine::diag::Severity;

use crate::config::model::LogSection;

pub use state::{Built, HttpLimits, build};

#[derive(clap::Args)]
pub struct Args {
    /// The configuration file, or the folder of an APIOps extract.
    #[arg(default_value = "sluice.toml")]
    pub config: PathBuf,
    /// An extract's publisher overrides (`configuration.<env>.yaml`).
    #[arg(long, value_name = "FILE")]
    pub overrides: Option<PathBuf>,
}

pub fn run(args: &Args) -> ExitCode {
    // The log first: every line after this one, a failed start's too, is in
    // the format the configuration asks for.
    let log = log::section_of(&args.config);
    log::install(&log, std::env::var("RUST_LOG").ok().as_deref());
    // The acceptor and the control plane (admin, reloads, file watching,
    // the semantic cache's connections) on one thread; requests on the
    // workers (server::start_workers).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let status = runtime.block_on(serve(args.config.clone(), args.overrides.clone(), log));
    // Not waiting for a reload still building, if any.
    runtime.shutdown_background();
    status
}

async fn serve(config: PathBuf, overrides: Option<PathBuf>, log: LogSection) -> ExitCode {
    let built = match build(&config, overrides.as_deref(), None) {
        Ok(b) => b,
        Err(diags) => {
            log::diagnostics(&diags);
            tracing::error!(
                errors = diags.count(Severity::Error),
                warnings = diags.count(Severity::Warning),
                "{} does not load: {} errors, {} warnings",
                config.display(),
                diags.count(Severity::Error),
                diags.count(Severity::Warning)
            );
            return ExitCode::FAILURE;
        }
    };
    // What loading warned about (an extract's ignored kinds, backends not
    // applied in full): once, at start.
    log::diagnostics(&built.warnings);
    // From here on SIGTERM and SIGINT drain instead of killing.
    let mut signals = match shutdown::Signals::new() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot listen for SIGTERM and SIGINT: {e}");
            return ExitCode::FAILURE;
        }
    };
    let gateway_addr = built.gateway_listen;
    let admin_addr = built.admin_listen;
    let gateway = match tokio::net::TcpListener::bind(gateway_addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {gateway_addr} ([gateway] listen): {e}");
            return ExitCode::FAILURE;
        }
    };
    let admin = match tokio::net::TcpListener::bind(admin_addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {admin_addr} ([admin] listen): {e}");
            return ExitCode::FAILURE;
        }
    };
    // One worker per core (or `[gateway] workers`), each with its own connection pool.
    let workers = built.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let mut clients = Vec::new();
    for _ in 0..workers {
        match client::HttpClient::new() {
            Ok(c) => clients.push(Arc::new(c)),
            Err(e) => {
                tracing::error!("cannot set up outbound TLS: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let metrics = match admin::Metrics::new(built.families.metrics.registry()) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!("cannot set up the metrics: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state = Arc::new(state::Gateway::new(
        config.clone(),
        overrides,
        built,
        metrics,
        log,
    ));
    tracing::info!(
        config = %config.display(),
        listen = %gateway_addr,
        admin = %admin_addr,
        "serving {} on http://{gateway_addr} (admin on http://{admin_addr})",
        config.display()
    );
    state.warm();
    let _watcher = watch::files(Arc::clone(&state));
    watch::hangup(Arc::clone(&state));
    tokio::spawn(admin::serve(admin, Arc::clone(&state)));
    let (stopped, mut worker_stopped) = tokio::sync::mpsc::unbounded_channel();
    let workers = match server::start_workers(&state, clients, &stopped) {
        Ok(w) => w,
        Err(e) => {
            tracing::error!("cannot start the workers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (count, open) = (workers.len(), server::Open::of(&workers));
    // A signal drops the acceptor (and with it the listener and the
    // workers' queues): the workers drain.
    let first = tokio::select! {
        () = server::accept(gateway, workers, || state.current.load().http.max_connections) => {
            return ExitCode::SUCCESS;
        }
        Some(end) = worker_stopped.recv() => {
            // While serving, a worker ends only by failing.
            match end {
                Ok(i) => tracing::error!("worker {i} stopped"),
                Err(why) => tracing::error!("{why}"),
            }
            return ExitCode::FAILURE;
        }
        signal = signals.recv() => signal,
    };
    shutdown::drain(
        &state,
        first,
        &mut signals,
        &mut worker_stopped,
        count,
        &open,
    )
    .await
}
