//! Graceful shutdown. On SIGTERM or SIGINT, `sluice run` drops the acceptor
//! (the gateway listener closes: new connections are refused), `/healthz`
//! answers 503 `draining`, and each worker shuts its connections down
//! gracefully (`server.rs`: `Connection: close`, HTTP/2 GOAWAY) and ends
//! when the last has closed. The process exits 0 once every worker has
//! ended, or when `[gateway] shutdown-grace` is over (with a warning giving
//! the connections cut). A second signal exits at once, with status 128 +
//! the signal's number (130 for SIGINT, 143 for SIGTERM), as if it had
//! killed the process.

use std::process::ExitCode;
use std::time::Duration;

use super::server::{Ended, Open};
use super::state::Gateway;

/// A signal that stops the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Term,
    Interrupt,
}

impl Stop {
    pub fn name(self) -> &'static str {
        match self {
            Stop::Term => "SIGTERM",
            Stop::Interrupt => "SIGINT",
        }
    }

    /// The status of a process this signal killed: 128 + its number.
    fn status(self) -> u8 {
        match self {
            Stop::Term => 128 + 15,
            Stop::Interrupt => 128 + 2,
        }
    }
}

/// SIGTERM and SIGINT, listened to from [`Signals::new`] on (their default
/// action, ending the process at once, no longer applies).
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// The next signal.
    pub async fn recv(&mut self) -> Stop {
        #[cfg(unix)]
        {
            tokio::select! {
                Some(()) = self.term.recv() => Stop::Term,
                Some(()) = self.interrupt.recv() => Stop::Interrupt,
                else => std::future::pending().await,
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            Stop::Interrupt
        }
    }
}

/// Drains after `first` (the acceptor already dropped): marks the gateway
/// draining, then waits for the `workers` to end (`ended` hears of each),
/// for the grace at most, or for a second signal. Returns the exit status.
pub async fn drain(
    state: &Gateway,
    first: Stop,
    signals: &mut Signals,
    ended: &mut tokio::sync::mpsc::UnboundedReceiver<Ended>,
    workers: usize,
    open: &Open,
) -> ExitCode {
    state
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let grace = state.current.load().shutdown_grace;
    tracing::info!(
        signal = first.name(),
        connections = open.count(),
        grace_ms = millis(grace),
        "{}: draining; the listener is closed, {} connections have {grace:?} to finish \
         (a second signal exits at once)",
        first.name(),
        open.count()
    );
    let over = tokio::time::sleep(grace);
    tokio::pin!(over);
    let (mut left, mut failed) = (workers, false);
    while left > 0 {
        tokio::select! {
            Some(end) = ended.recv() => {
                left -= 1;
                if let Err(why) = end {
                    tracing::error!("{why}");
                    failed = true;
                }
            }
            () = &mut over => {
                tracing::warn!(
                    connections = open.count(),
                    "the shutdown grace ({grace:?}) is over: exiting, {} connections cut",
                    open.count()
                );
                return ExitCode::SUCCESS;
            }
            second = signals.recv() => {
                tracing::warn!(
                    signal = second.name(),
                    connections = open.count(),
                    "{}: exiting at once, {} connections cut",
                    second.name(),
                    open.count()
                );
                return ExitCode::from(second.status());
            }
        }
    }
    if failed {
        return ExitCode::FAILURE;
    }
    tracing::info!("drained: every connection closed, exiting");
    ExitCode::SUCCESS
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
