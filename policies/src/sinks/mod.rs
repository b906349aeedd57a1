//! Loggers: where `log-to-eventhub` and `trace` send what they log (the
//! `[loggers.ID]` entities of the gateway; APIM's logger entity).
//!
//! - `mod.rs`: [`Logger`] (a bounded queue in front of one sink, drained by
//!   a thread of its own), [`Event`], [`Loggers`] (what a plan's stages get)
//! - `write.rs`: the sinks: JSON lines to standard output or appended to a
//!   file, and a Kafka topic (`kafka.rs`, feature `kafka`)
//!
//! Sending never blocks a request and never fails it: [`Logger::send`]
//! puts the event in the queue (`queue-size`, 10,000 by default) and
//! returns. A full queue, or a sink that fails, drops the event, counts it
//! in `sluice_logger_events_total{logger, outcome}`, and logs one line when
//! it starts (and one when the sink is back), not one per event. A logger's
//! thread starts with its first event, so `sluice check` starts none.
//!
//! In `sluice test` ([`Capture`]), a logger writes nowhere: every event is
//! kept in memory for the case's `expect.logged`, as stubs answer every HTTP
//! call.

#[cfg(feature = "kafka")]
mod kafka;
mod write;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};

pub use write::{KafkaSink, Sink};

/// The default bound of a logger's queue.
pub const DEFAULT_QUEUE: usize = 10_000;

/// One event for a sink: the JSON line the file and stdout sinks write,
/// and what a Kafka record carries (its value, key and partition).
#[derive(Clone, Debug)]
pub struct Event {
    /// One JSON object, without the newline.
    pub line: String,
    /// The Kafka record's value (`log-to-eventhub`: the message as given).
    pub value: String,
    /// The Kafka record's key (`partition-key`).
    pub key: Option<String>,
    /// The Kafka partition (`partition-id`).
    pub partition: Option<i32>,
}

/// The loggers' metrics, registered once per gateway.
#[derive(Clone, Debug)]
pub struct LoggerMetrics {
    events: IntCounterVec,
    up: IntGaugeVec,
}

impl LoggerMetrics {
    pub fn new(registry: Option<&Registry>) -> Result<Self, prometheus::Error> {
        let events = IntCounterVec::new(
            Opts::new(
                "sluice_logger_events_total",
                "Events of log-to-eventhub and trace by logger and outcome (sent, dropped-queue-full, dropped-sink-failed)",
            ),
            &["logger", "outcome"],
        )?;
        let up = IntGaugeVec::new(
            Opts::new(
                "sluice_logger_up",
                "Whether a logger's sink took its last event (1) or failed (0)",
            ),
            &["logger"],
        )?;
        if let Some(r) = registry {
            r.register(Box::new(events.clone()))?;
            r.register(Box::new(up.clone()))?;
        }
        Ok(Self { events, up })
    }

    fn count(&self, logger: &str, outcome: &str) {
        self.events.with_label_values(&[logger, outcome]).inc();
    }
}

/// Whether events go to the sinks or are kept for a conformance case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// To the sinks (`sluice run`).
    Off,
    /// Kept in memory (`sluice test`).
    On,
}

/// What a logger's queue and thread share.
#[derive(Debug)]
struct Shared {
    id: String,
    metrics: LoggerMetrics,
    /// Events in the queue or being written.
    pending: AtomicUsize,
    /// The queue filled (logged once until it drains).
    full: AtomicBool,
    /// The sink failed its last event (logged once until it takes one).
    down: AtomicBool,
    /// Whether outages are logged.
    log: bool,
}

/// One logger: a bounded queue in front of its sink.
pub struct Logger {
    shared: Arc<Shared>,
    sink: Mutex<Option<Sink>>,
    queue: usize,
    tx: OnceLock<Option<SyncSender<Event>>>,
    captured: Option<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("id", &self.shared.id)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl Logger {
    /// A logger of `sink`; `log`: whether its outages are logged.
    pub fn new(
        id: &str,
        sink: Sink,
        queue: usize,
        metrics: LoggerMetrics,
        capture: Capture,
        log: bool,
    ) -> Self {
        metrics.up.with_label_values(&[id]).set(1);
        Self {
            shared: Arc::new(Shared {
                id: id.to_owned(),
                metrics,
                pending: AtomicUsize::new(0),
                full: AtomicBool::new(false),
                down: AtomicBool::new(false),
                log,
            }),
            sink: Mutex::new(Some(sink)),
            queue: queue.max(1),
            tx: OnceLock::new(),
            captured: (capture == Capture::On).then(|| Mutex::new(Vec::new())),
        }
    }

    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// Queues `event` for the sink; never waits. A full queue drops it.
    pub fn send(&self, event: Event) {
        let s = &self.shared;
        if let Some(c) = &self.captured {
            lock(c).push(event.line);
            s.metrics.count(&s.id, "sent");
            return;
        }
        let Some(tx) = self.tx.get_or_init(|| self.start()) else {
            s.metrics.count(&s.id, "dropped-sink-failed");
            return;
        };
        s.pending.fetch_add(1, Ordering::SeqCst);
        match tx.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                s.pending.fetch_sub(1, Ordering::SeqCst);
                s.metrics.count(&s.id, "dropped-queue-full");
                if !s.full.swap(true, Ordering::SeqCst) && s.log {
                    tracing::warn!(
                        logger = %s.id,
                        queue = self.queue,
                        "logger queue is full: events are dropped until it drains"
                    );
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                s.pending.fetch_sub(1, Ordering::SeqCst);
                s.metrics.count(&s.id, "dropped-sink-failed");
            }
        }
    }

    /// What a conformance case's logger was sent since the last call.
    pub fn take_captured(&self) -> Vec<String> {
        self.captured
            .as_ref()
            .map(|c| std::mem::take(&mut *lock(c)))
            .unwrap_or_default()
    }

    /// Starts the thread that drains the queue into the sink.
    fn start(&self) -> Option<SyncSender<Event>> {
        let sink = lock(&self.sink).take()?;
        let (tx, rx) = sync_channel::<Event>(self.queue);
        let shared = Arc::clone(&self.shared);
        let started = std::thread::Builder::new()
            .name(format!("sluice-logger-{}", shared.id))
            .spawn(move || {
                let mut writer = write::Writer::new(sink);
                while let Ok(event) = rx.recv() {
                    let result = writer.write(&event);
                    shared.pending.fetch_sub(1, Ordering::SeqCst);
                    outcome(&shared, result);
                    if shared.pending.load(Ordering::SeqCst) == 0 {
                        shared.full.store(false, Ordering::SeqCst);
                    }
                }
            });
        match started {
            Ok(_) => Some(tx),
            Err(e) => {
                if self.shared.log {
                    tracing::error!(logger = %self.shared.id, error = %e, "cannot start the logger's thread");
                }
                None
            }
        }
    }
}

/// Counts a write and logs the start and end of an outage.
fn outcome(s: &Shared, result: Result<(), String>) {
    match result {
        Ok(()) => {
            s.metrics.count(&s.id, "sent");
            if s.down.swap(false, Ordering::SeqCst) {
                s.metrics.up.with_label_values(&[s.id.as_str()]).set(1);
                if s.log {
                    tracing::info!(logger = %s.id, "logger sink is back: events are sent again");
                }
            }
        }
        Err(why) => {
            s.metrics.count(&s.id, "dropped-sink-failed");
            if !s.down.swap(true, Ordering::SeqCst) {
                s.metrics.up.with_label_values(&[s.id.as_str()]).set(0);
                if s.log {
                    tracing::warn!(
                        logger = %s.id,
                        error = %why,
                        "logger sink failed: events are dropped until it takes one again"
                    );
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The loggers a plan's stages reach: by id, and the one `trace` sends to.
#[derive(Debug, Default)]
pub struct Loggers {
    pub by_id: BTreeMap<String, Arc<Logger>>,
    /// `[gateway] trace-logger`.
    pub trace: Option<Arc<Logger>>,
}

/// The JSON line's time: RFC 3339 in UTC, with milliseconds.
pub fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests;
