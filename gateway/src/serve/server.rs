//! The gateway listener: HTTP/1.1 and HTTP/2 cleartext (prior knowledge) on
//! one port, each request run through the plan current at its arrival.
//!
//! Before the plan, the server applies the size limits: request line and
//! headers over `max-request-header-bytes` get 431, a body whose
//! `Content-Length` is over `max-request-body-bytes` gets 413 at once.
//!
//! The body itself goes to the plan unread, as a stream that fails once it
//! passes the limit: the plan routes first, then reads it whole when a
//! policy reads it, else `forward-request` sends it to the backend as it
//! arrives. A body over the limit stops there (the backend's request is
//! broken off) and the client gets 413, unless its response already began.
//!
//! A response body that no policy read (the plan's streaming rule) is sent
//! as it comes from the backend, frame by frame: chunked in HTTP/1.1, DATA
//! frames in HTTP/2, polled only as fast as the client reads. If the backend
//! breaks off, the client's response is broken off too (HTTP/1.1: the
//! connection closes before the last chunk; HTTP/2: the stream is reset).
//!
//! Connection bounds (`[limits]`, `super::conn`): a connection that has
//! not sent a whole request head `header-read-timeout-ms` after it opened,
//! or after the first byte of its next request, is closed (no answer: the
//! request is not known yet); one with no request in flight for
//! `keep-alive-timeout-ms` is closed; a request body that pauses longer
//! than `body-read-timeout-ms` gets 408 (the connection then closes, as its
//! body was not read to its end). At `max-connections` the acceptor stops
//! accepting (new connections wait in the listen backlog) until one closes.
//! HTTP/2: at most `http2-max-concurrent-streams` streams per connection, a
//! header list of `max-request-header-bytes`, a ping every
//! `http2-keep-alive-interval-ms` answered within `http2-keep-alive-timeout-ms`.
//!
//! Draining (SIGTERM, SIGINT: `super::shutdown`): the acceptor stops and
//! drops the listener (new connections are refused), each worker asks its
//! connections to shut down gracefully (HTTP/1.1: an idle one closes, a
//! busy one finishes its request, with `Connection: close` if its answer
//! has not begun, and closes; HTTP/2: GOAWAY, the streams open finish) and
//! ends when the last one has.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_core::Stream;
use http_body_util::{Either, Full};
use hyper::body::{Body as _, Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sluice_engine::runtime::{BodyStream, CallError, Multimap};
use tokio::net::TcpListener;
use tracing::Instrument as _;

use super::client::{HttpClient, Live, move_headers};
use super::conn::{Busy, Guarded, Requests, Tracked, builder};
use super::state::{Current, Gateway};
use crate::plan::{Request, Response};

/// A worker as the acceptor sees it: where to hand a connection, how many
/// it is serving, and its heartbeat.
pub struct Worker {
    connections: tokio::sync::mpsc::UnboundedSender<(std::net::TcpStream, SocketAddr)>,
    active: Arc<AtomicUsize>,
    beat: Arc<Heartbeat>,
}

/// How often a worker's heartbeat ticks.
const BEAT: Duration = Duration::from_millis(10);

/// A worker whose heartbeat has not ticked for this long is stalled (its
/// thread is held by something not offloaded): the acceptor hands new
/// connections to the others.
const STALLED: Duration = Duration::from_millis(50);

/// A worker's heartbeat: when its runtime last ran its ticking task, in
/// milliseconds on a clock the process shares ([`Heartbeat::clock`]).
#[derive(Debug, Default)]
pub struct Heartbeat(AtomicU64);

impl Heartbeat {
    /// Milliseconds since the first call.
    fn clock() -> u64 {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let start = *START.get_or_init(Instant::now);
        u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn tick(&self) {
        self.0.store(Self::clock(), Ordering::Relaxed);
    }

    /// How long ago it last ticked.
    fn age(&self, now: u64) -> u64 {
        now.saturating_sub(self.0.load(Ordering::Relaxed))
    }

    /// Ticks every [`BEAT`] for as long as the runtime runs it.
    async fn run(self: Arc<Self>) {
        let mut every = tokio::time::interval(BEAT);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.tick();
        }
    }
}

/// The workers' connection counts, readable once the acceptor (and its
/// [`Worker`]s) are gone.
pub struct Open(Vec<Arc<AtomicUsize>>);

impl Open {
    pub fn of(workers: &[Worker]) -> Self {
        Self(workers.iter().map(|w| Arc::clone(&w.active)).collect())
    }

    /// The connections open now, over every worker.
    pub fn count(&self) -> usize {
        self.0.iter().map(|a| a.load(Ordering::Relaxed)).sum()
    }
}

/// Starts `clients.len()` workers, each a thread with its own runtime and
/// connection pool (`client`): a connection's requests, and the backend
/// connections they use, stay on one thread, so nothing is handed between
/// threads per request and memory is freed where it was allocated
/// (Envoy's threading model). The runtime is tokio's multi-threaded one
/// with a single worker thread, not the single-threaded one, for one thing:
/// work that may run long (an expression known to, a large body converted)
/// runs in `block_in_place`, which hands the worker's other connections to
/// a fresh thread meanwhile (docs/gateway.md, "Slow requests"). Each
/// worker also runs a [`Heartbeat`] the acceptor watches. `stopped` hears
/// of a worker that ends. A worker ends when the acceptor has stopped (its
/// [`Worker`] dropped) and its last connection has closed.
pub fn start_workers(
    state: &Arc<Gateway>,
    clients: Vec<Arc<HttpClient>>,
    stopped: &tokio::sync::mpsc::UnboundedSender<Ended>,
) -> std::io::Result<Vec<Worker>> {
    let mut workers = Vec::with_capacity(clients.len());
    for (i, client) in clients.into_iter().enumerate() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let active = Arc::new(AtomicUsize::new(0));
        let beat = Arc::new(Heartbeat::default());
        beat.tick();
        let (state, count, pulse) = (Arc::clone(state), Arc::clone(&active), Arc::clone(&beat));
        spawn_worker(i, stopped.clone(), move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name(format!("sluice-worker-{i}"))
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start its runtime: {e}"))?;
            // Spawned, so that the connections it spawns start on the
            // worker thread's own queue.
            let served = rt.block_on(async {
                let heart = tokio::spawn(pulse.run());
                let served = tokio::spawn(serve(rx, state, client, count)).await;
                heart.abort();
                served
            });
            match served {
                Ok(()) => Ok(()),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => Err(format!("its loop ended: {e}")),
            }
        })?;
        workers.push(Worker {
            connections: tx,
            active,
            beat,
        });
    }
    Ok(workers)
}

/// How a worker ended: `Ok(i)`, worker `i` drained (the acceptor stopped,
/// its connections closed); or `worker i: why` it failed.
pub type Ended = Result<usize, String>;

/// Runs `work` on thread `sluice-worker-{i}` and tells `stopped` how it
/// ended: what `work` returned, or its panic. A worker that ends unreported
/// would keep receiving connections (it serves none, so it looks the least
/// busy) and close every one.
fn spawn_worker(
    i: usize,
    stopped: tokio::sync::mpsc::UnboundedSender<Ended>,
    work: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("sluice-worker-{i}"))
        .spawn(move || {
            let why = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
                Ok(Ok(())) => {
                    let _ = stopped.send(Ok(i));
                    return;
                }
                Ok(Err(why)) => why,
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    format!("panicked: {what}")
                }
            };
            let _ = stopped.send(Err(format!("worker {i}: {why}")));
        })?;
    Ok(())
}

/// How long the acceptor must stay under `max-connections` for a
/// saturation episode to end (and be logged as ended).
const SATURATION_QUIET: Duration = Duration::from_secs(1);

/// A saturation episode: the acceptor reached `max-connections` at
/// `since`, and `times` times in all, the last at `last`.
struct Saturated {
    since: Instant,
    last: Instant,
    times: u64,
    waiting: bool,
}

/// Accepts connections and hands each to the worker serving the fewest
/// among those whose heartbeat ticked within [`STALLED`] (a connection stays
/// with its worker; when every worker is stalled, the one that ticked last),
/// while fewer than `max()` are open
/// (`max-connections`, read anew each time): at the cap it waits, and
/// connections over it wait in the listen backlog. A saturation episode is
/// logged once as it begins, and once as it ends (the cap not reached for
/// [`SATURATION_QUIET`]), however often the cap is reached in between; so
/// is the first of failed accepts in a row (out of descriptors), retried
/// with a growing pause. Dropping the future stops it: the listener
/// closes, and the workers, their queues closed, drain.
pub async fn accept(listener: TcpListener, workers: Vec<Worker>, max: impl Fn() -> usize) {
    let open =
        |ws: &[Worker]| -> usize { ws.iter().map(|w| w.active.load(Ordering::Relaxed)).sum() };
    let mut saturated: Option<Saturated> = None;
    let mut failed = AcceptFailures::default();
    loop {
        let (open, max) = (open(&workers), max());
        if open >= max {
            let now = Instant::now();
            match &mut saturated {
                Some(s) => {
                    s.times += u64::from(!s.waiting);
                    s.waiting = true;
                    s.last = now;
                }
                None => {
                    tracing::warn!(
                        connections = open,
                        max_connections = max,
                        "{open} connections open, at `[limits] max-connections` ({max}): \
                         new connections wait in the listen backlog until one closes"
                    );
                    saturated = Some(Saturated {
                        since: now,
                        last: now,
                        times: 1,
                        waiting: true,
                    });
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        if let Some(s) = &mut saturated {
            s.waiting = false;
            if s.last.elapsed() >= SATURATION_QUIET {
                let (times, lasted) = (s.times, s.last - s.since);
                tracing::info!(
                    connections = open,
                    max_connections = max,
                    times,
                    "{open} connections open: under `[limits] max-connections` ({max}) \
                     again; it was reached {times} times over {lasted:?}"
                );
                saturated = None;
            }
        }
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                failed.failed(&e, "", open).await;
                continue;
            }
        };
        failed.succeeded("");
        let _ = stream.set_nodelay(true);
        let Some(worker) = pick(&workers, Heartbeat::clock()) else {
            return;
        };
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        worker.active.fetch_add(1, Ordering::Relaxed);
        if worker.connections.send((stream, peer)).is_err() {
            // The worker is gone (its end is reported); the connection closes.
            worker.active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// A run of failed accepts (out of descriptors and the like): its first
/// failure is logged, each is retried after 10 ms, doubling up to 1 s, and
/// the first success after it is logged, however many failed in between.
#[derive(Debug, Default)]
pub struct AcceptFailures(u64);

impl AcceptFailures {
    /// Notes a failed accept of the `which` listener (`""` the gateway's,
    /// `"admin "`) with `open` connections open, and waits before the next.
    pub async fn failed(&mut self, e: &std::io::Error, which: &str, open: usize) {
        self.0 += 1;
        if self.0 == 1 {
            tracing::warn!(
                connections = open,
                "{which}accept failed: {e} ({open} connections open); retrying, \
                 logged again when it succeeds"
            );
        }
        let pause = 10u64 << self.0.min(7);
        tokio::time::sleep(Duration::from_millis(pause.min(1000))).await;
    }

    /// Notes an accept that succeeded.
    pub fn succeeded(&mut self, which: &str) {
        if self.0 > 0 {
            let failed = self.0;
            tracing::info!(
                failed,
                "{which}accepting again after {failed} failed accepts"
            );
            self.0 = 0;
        }
    }
}

/// The worker a new connection goes to: of those progressing (their
/// heartbeat ticked within [`STALLED`]), the one serving the fewest
/// connections (ties: the first); if none is, the one that ticked last.
fn pick(workers: &[Worker], now: u64) -> Option<&Worker> {
    let stalled = u64::try_from(STALLED.as_millis()).unwrap_or(u64::MAX);
    workers
        .iter()
        .filter(|w| w.beat.age(now) <= stalled)
        .min_by_key(|w| w.active.load(Ordering::Relaxed))
        .or_else(|| workers.iter().min_by_key(|w| w.beat.age(now)))
}

/// A worker's loop: serves the connections the acceptor hands it (their
/// requests call out through `client`) until the acceptor stops; then
/// shuts each down gracefully and returns when the last has closed.
async fn serve(
    mut connections: tokio::sync::mpsc::UnboundedReceiver<(std::net::TcpStream, SocketAddr)>,
    state: Arc<Gateway>,
    client: Arc<HttpClient>,
    active: Arc<AtomicUsize>,
) {
    // One trigger per open connection (a oneshot: polling it costs a
    // connection's task no lock); those of closed ones are dropped as the
    // list doubles.
    let mut stops: Vec<tokio::sync::oneshot::Sender<()>> = Vec::new();
    let mut prune_at = 64;
    while let Some((stream, peer)) = connections.recv().await {
        let serving = Serving(Arc::clone(&active));
        let (stop, stopping) = tokio::sync::oneshot::channel::<()>();
        if stops.len() >= prune_at {
            stops.retain(|s| !s.is_closed());
            prune_at = (stops.len() * 2).max(64);
        }
        stops.push(stop);
        let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
            continue;
        };
        let state = Arc::clone(&state);
        let client = Arc::clone(&client);
        // `context.Request.IpAddress`, written once per connection.
        let ip: Arc<str> = peer.ip().to_canonical().to_string().into();
        // TLS as the configuration says when the connection is accepted.
        let tls = state
            .current
            .load()
            .tls
            .as_ref()
            .map(|t| Arc::clone(&t.config));
        tokio::spawn(async move {
            let limits = state.current.load().http;
            match tls {
                None => {
                    let peer = Arc::new(Peer {
                        ip,
                        https: false,
                        certificate: None,
                    });
                    connection(stream, peer, &limits, state, client, stopping).await;
                }
                Some(config) => {
                    // The handshake is bounded as a request head is.
                    let handshake = tokio_rustls::TlsAcceptor::from(config).accept(stream);
                    let done = match limits.header_read {
                        Some(t) => tokio::time::timeout(t, handshake)
                            .await
                            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into())),
                        None => handshake.await,
                    };
                    let stream = match done {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::debug!("TLS handshake failed: {e}");
                            drop(serving);
                            return;
                        }
                    };
                    // Parsed once per connection, shared by its requests.
                    let certificate = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .and_then(|c| sluice_stdlib::X509Certificate2::from_der(c));
                    let peer = Arc::new(Peer {
                        ip,
                        https: true,
                        certificate,
                    });
                    connection(stream, peer, &limits, state, client, stopping).await;
                }
            }
            drop(serving);
        });
    }
    // The acceptor stopped: the gateway drains (the process exits when the
    // grace is over, whether this loop is done or not).
    for stop in stops {
        let _ = stop.send(());
    }
    while active.load(Ordering::Acquire) > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The client end of a connection, as its requests show it.
struct Peer {
    /// `context.Request.IpAddress`.
    ip: Arc<str>,
    /// Over TLS: the URL's scheme is `https`.
    https: bool,
    /// `context.Request.Certificate`: the client's, if it sent one.
    certificate: Option<sluice_stdlib::X509Certificate2>,
}

/// Serves one connection (`io`, over TLS or not) until it closes, or
/// shuts it down gracefully once `stopping` fires.
async fn connection<IO>(
    io: IO,
    peer: Arc<Peer>,
    limits: &super::state::HttpLimits,
    state: Arc<Gateway>,
    client: Arc<HttpClient>,
    stopping: tokio::sync::oneshot::Receiver<()>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let requests = Requests::default();
    let io = Guarded::new(io, limits, Arc::clone(&requests));
    let svc = service_fn(move |req| {
        // Counted from here until its response has ended or is dropped.
        let busy = Busy::new(&requests);
        let state = Arc::clone(&state);
        let client = Arc::clone(&client);
        let peer = Arc::clone(&peer);
        async move {
            let response = handle(state, client, &peer, req).await;
            Ok::<_, Infallible>(response.map(|body| Tracked::new(body, busy)))
        }
    });
    let builder = builder(limits);
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    // A connection that fails (reset, bad framing, a timeout) ends quietly.
    tokio::select! {
        biased;
        _ = conn.as_mut() => {}
        _ = stopping => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// One connection a worker serves: counted from the acceptor's hand-over
/// until dropped, at its end or when its task panics.
struct Serving(Arc<AtomicUsize>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The size of the request line and headers, as they were sent in HTTP/1.1.
fn head_size(req: &hyper::Request<Incoming>) -> usize {
    let line = req.method().as_str().len()
        + req.uri().path_and_query().map_or(1, |p| p.as_str().len())
        + 12;
    req.headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>()
        + line
}

/// Handles one request in its span: `request{method, path, api, operation,
/// status}` (the path without its query, which may hold a subscription key;
/// the route once known, the status at the end).
async fn handle(
    state: Arc<Gateway>,
    client: Arc<HttpClient>,
    peer: &Peer,
    req: hyper::Request<Incoming>,
) -> hyper::Response<OutBody> {
    let span = tracing::debug_span!(
        "request",
        method = %req.method(),
        path = req.uri().path(),
        api = tracing::field::Empty,
        operation = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    respond(state, client, peer, req).instrument(span).await
}

async fn respond(
    state: Arc<Gateway>,
    client: Arc<HttpClient>,
    peer: &Peer,
    req: hyper::Request<Incoming>,
) -> hyper::Response<OutBody> {
    let started = Instant::now();
    // One plan from start to end.
    let current = state.current.load_full();
    let listen;
    let host = match req.uri().authority() {
        Some(a) => a.as_str(),
        None => match req
            .headers()
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok())
        {
            Some(h) => h,
            None => {
                listen = state.gateway_listen.to_string();
                &listen
            }
        },
    };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    // One string: the URL, whose `host` part the request's `Host` may need.
    let scheme = if peer.https { "https://" } else { "http://" };
    let mut url = String::with_capacity(scheme.len() + host.len() + path.len());
    url.push_str(scheme);
    url.push_str(host);
    let host_end = url.len();
    url.push_str(path);
    let method = req.method().clone();
    let refused = Arc::new(AtomicU8::new(ACCEPTED));
    // The labels come from the plan's own routing of the request.
    let (response, stream, api, operation) =
        match read(&current, peer, req, (url, scheme.len(), host_end), &refused) {
            Ok((request, body)) => {
                let services = Arc::new(Live {
                    client,
                    current: Arc::clone(&current),
                });
                let (response, stream, route) =
                    current.plan.handle_routed(request, body, services).await;
                // Whatever the pipeline made of the broken-off body.
                match refused.load(Ordering::Relaxed) {
                    TOO_LARGE => {
                        let r = Response::error(413, "Request body too large.");
                        (r, None, route.api, route.operation)
                    }
                    TOO_SLOW => {
                        let r = Response::error(408, "The request body did not arrive in time.");
                        (r, None, route.api, route.operation)
                    }
                    _ => (response, stream, route.api, route.operation),
                }
            }
            Err((r, url)) => {
                // Refused before the plan saw it (a limit): routed for the labels only.
                let (api, op) = current
                    .plan
                    .route_names(method.as_str(), &url)
                    .unwrap_or(("", None));
                let op = op.unwrap_or("");
                tracing::Span::current()
                    .record("api", api)
                    .record("operation", op);
                (r, None, api, op)
            }
        };
    let elapsed = started.elapsed();
    state
        .families
        .metrics
        .requests
        .count(api, operation, response.status, elapsed);
    let span = tracing::Span::current();
    if !span.is_disabled() {
        // (`api` and `operation` are recorded where the route is found.)
        span.record("status", response.status);
        let elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        tracing::debug!(elapsed_us, "request answered");
    }
    to_hyper(response, stream)
}

/// The body of a response to the client: whole, or passed through from the backend.
type OutBody = Either<Full<Bytes>, Streamed>;

/// A backend's body as it arrives.
struct Streamed(BodyStream);

impl hyper::body::Body for Streamed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.as_mut().poll_next(cx).map(|item| {
            item.map(|r| {
                r.map(Frame::data)
                    .map_err(|e| std::io::Error::other(format!("the backend broke off: {e:?}")))
            })
        })
    }
}

/// Why [`Capped`] broke a body off, if it did.
const ACCEPTED: u8 = 0;
/// Past `max-request-body-bytes`: 413.
const TOO_LARGE: u8 = 1;
/// A pause longer than `body-read-timeout-ms`: 408.
const TOO_SLOW: u8 = 2;

/// A client's body as it arrives (trailers dropped); past `left` bytes, or
/// when no data came for `pause` while it was waited for, it sets
/// `refused` and fails.
struct Capped {
    body: Incoming,
    left: usize,
    refused: Arc<AtomicU8>,
    pause: Option<Duration>,
    /// Made the first time the body is waited for (a body that arrived with
    /// its head never needs one); `waiting`: it holds this wait's deadline.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    waiting: bool,
}

impl Capped {
    /// Whether the body has been waited for longer than `pause` (the wait
    /// starting at the first poll that found nothing).
    fn stalled(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(pause) = self.pause else {
            return false;
        };
        let Some(deadline) = tokio::time::Instant::now().checked_add(pause) else {
            return false;
        };
        let timer = match &mut self.timer {
            Some(t) => {
                if !self.waiting {
                    t.as_mut().reset(deadline);
                }
                t
            }
            None => self
                .timer
                .insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        self.waiting = true;
        timer.as_mut().poll(cx).is_ready()
    }
}

impl Stream for Capped {
    type Item = Result<Bytes, CallError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let frame = match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Pending => {
                    if self.stalled(cx) {
                        self.refused.store(TOO_SLOW, Ordering::Relaxed);
                        let e = CallError::client_body(
                            "the request body stopped arriving (`[limits] body-read-timeout-ms`)",
                        );
                        return Poll::Ready(Some(Err(e)));
                    }
                    return Poll::Pending;
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => {
                    // The client's fault (it left, or its chunks are not
                    // valid HTTP): a 400, not a backend failure.
                    let e = CallError::client_body(format!("the client broke off: {e}"));
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(f))) => {
                    self.waiting = false;
                    f
                }
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if data.len() > self.left {
                self.refused.store(TOO_LARGE, Ordering::Relaxed);
                self.left = 0;
                let e = CallError::connection("the request body is too large");
                return Poll::Ready(Some(Err(e)));
            }
            self.left -= data.len();
            return Poll::Ready(Some(Ok(data)));
        }
    }
}

/// The request as the plan takes it (with `url`, whose host part ends at
/// `host_end`) and its body, not read yet; or the error response of a limit
/// (and `url` back).
fn read(
    current: &Current,
    peer: &Peer,
    req: hyper::Request<Incoming>,
    (url, host_start, host_end): (String, usize, usize),
    refused: &Arc<AtomicU8>,
) -> Result<(Request, Option<BodyStream>), (Response, String)> {
    let limits = current.http;
    if head_size(&req) > limits.header_bytes {
        return Err((
            Response::error(431, "Request header fields too large."),
            url,
        ));
    }
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limits.body_bytes).unwrap_or(u64::MAX)) {
        return Err((Response::error(413, "Request body too large."), url));
    }
    let (parts, body) = req.into_parts();
    // No body at all (a GET) stays none: the backend gets none either, not
    // an empty chunked one.
    let body = (!body.is_end_stream()).then(|| {
        let stream: BodyStream = Box::pin(Capped {
            body,
            left: limits.body_bytes,
            refused: Arc::clone(refused),
            pause: limits.body_read,
            timer: None,
            waiting: false,
        });
        stream
    });
    let mut headers = Multimap(Vec::with_capacity(parts.headers.keys_len() + 1));
    if parts.headers.get(hyper::header::HOST).is_none() {
        // HTTP/2 carries the host as `:authority`; APIM shows it as `Host`.
        headers.append("Host", url.get(host_start..host_end).unwrap_or_default());
    }
    for (name, value) in &parts.headers {
        match value.to_str() {
            // Visible ASCII, the usual case: checked faster than as UTF-8.
            Ok(v) => headers.append(name.as_str(), v),
            Err(_) => headers.append(name.as_str(), &String::from_utf8_lossy(value.as_bytes())),
        }
    }
    let request = Request {
        method: parts.method.as_str().to_owned(),
        url,
        headers,
        body: Bytes::new(),
        ip: peer.ip.to_string(),
        certificate: peer.certificate.clone(),
    };
    Ok((request, body))
}

fn to_hyper(r: Response, stream: Option<BodyStream>) -> hyper::Response<OutBody> {
    let body = match stream {
        Some(s) => Either::Right(Streamed(s)),
        None => Either::Left(Full::new(r.body)),
    };
    let mut out = hyper::Response::new(body);
    *out.status_mut() =
        hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let canonical = out.status().canonical_reason().unwrap_or("");
    if !r.reason.is_empty()
        && r.reason != canonical
        && let Ok(reason) = hyper::ext::ReasonPhrase::try_from(r.reason.into_bytes())
    {
        out.extensions_mut().insert(reason);
    }
    *out.headers_mut() = hyper::HeaderMap::with_capacity(r.headers.0.len());
    move_headers(r.headers, out.headers_mut(), |_| false);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker the test holds the other end of, already serving `active` connections.
    fn worker(
        active: usize,
    ) -> (
        Worker,
        tokio::sync::mpsc::UnboundedReceiver<(std::net::TcpStream, SocketAddr)>,
    ) {
        let (connections, rx) = tokio::sync::mpsc::unbounded_channel();
        let active = Arc::new(AtomicUsize::new(active));
        let beat = Arc::new(Heartbeat::default());
        beat.tick();
        (
            Worker {
                connections,
                active,
                beat,
            },
            rx,
        )
    }

    /// The time [`pick`] is asked at in these tests.
    const NOW: u64 = 1_000_000;

    /// A worker whose heartbeat last ticked `ms` before [`NOW`].
    fn stalled_for(w: &Worker, ms: u64) {
        w.beat.0.store(NOW - ms, Ordering::Relaxed);
    }

    #[test]
    fn a_stalled_worker_gets_no_new_connection_while_another_progresses() {
        let (busy, _b) = worker(0);
        let (idle, _i) = worker(5);
        stalled_for(&busy, 60_000);
        stalled_for(&idle, 10);
        // The stalled one serves fewer, yet the progressing one is picked.
        let ws = [busy, idle];
        assert!(std::ptr::eq(pick(&ws, NOW).unwrap(), &ws[1]));
        // Under the threshold it counts as progressing again.
        stalled_for(&ws[0], 0);
        assert!(std::ptr::eq(pick(&ws, NOW).unwrap(), &ws[0]));
        // Every worker stalled: the one that ticked last.
        stalled_for(&ws[0], 70_000);
        stalled_for(&ws[1], 65_000);
        assert!(std::ptr::eq(pick(&ws, NOW).unwrap(), &ws[1]));
    }

    #[test]
    fn a_workers_heartbeat_ticks_while_its_runtime_runs_and_stops_when_held() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let beat = Arc::new(Heartbeat::default());
        rt.block_on(async {
            tokio::spawn(Arc::clone(&beat).run());
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert!(beat.age(Heartbeat::clock()) <= 20);
            // The runtime's one thread held (not offloaded): no tick.
            // (This thread waits without the runtime: its timers are the
            // held worker's to drive.)
            tokio::spawn(async { std::thread::sleep(Duration::from_millis(250)) });
            std::thread::sleep(Duration::from_millis(30));
            let during = beat.0.load(Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(80));
            assert!(beat.age(Heartbeat::clock()) >= 60, "it ticked while held");
            assert_eq!(beat.0.load(Ordering::Relaxed), during);
        });
    }

    #[test]
    fn offloaded_work_leaves_the_workers_other_tasks_running() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = Arc::clone(&done);
            // Long work, offloaded as a long expression's evaluation is.
            let long = tokio::spawn(async move {
                super::super::client::offload(&mut || {
                    std::thread::sleep(Duration::from_millis(400));
                });
                flag.store(true, Ordering::SeqCst);
            });
            tokio::task::yield_now().await;
            // Another task of the same runtime runs meanwhile.
            let other = tokio::spawn(async { tokio::time::sleep(Duration::from_millis(20)).await });
            tokio::time::timeout(Duration::from_millis(300), other)
                .await
                .expect("the other task waited behind the offloaded work")
                .unwrap();
            assert!(!done.load(Ordering::SeqCst));
            long.await.unwrap();
        });
    }

    #[test]
    fn a_worker_that_ends_says_why_even_when_it_panics() {
        let (stopped, mut heard) = tokio::sync::mpsc::unbounded_channel();
        spawn_worker(3, stopped.clone(), || Ok(())).unwrap();
        assert_eq!(heard.blocking_recv().unwrap(), Ok(3));
        spawn_worker(2, stopped.clone(), || Err("cannot start".to_owned())).unwrap();
        assert_eq!(
            heard.blocking_recv().unwrap(),
            Err("worker 2: cannot start".to_owned())
        );
        spawn_worker(4, stopped.clone(), || {
            let thread = std::thread::current();
            assert_eq!(thread.name(), Some("sluice-worker-4"));
            panic!("out of {}", "luck")
        })
        .unwrap();
        assert_eq!(
            heard.blocking_recv().unwrap(),
            Err("worker 4: panicked: out of luck".to_owned())
        );
        spawn_worker(5, stopped, || std::panic::panic_any(7)).unwrap();
        assert_eq!(
            heard.blocking_recv().unwrap(),
            Err("worker 5: panicked: ".to_owned())
        );
    }

    #[tokio::test]
    async fn a_connection_is_uncounted_when_its_task_ends_or_panics() {
        let active = Arc::new(AtomicUsize::new(2));
        let ends = Serving(Arc::clone(&active));
        tokio::spawn(async move { drop(ends) }).await.unwrap();
        assert_eq!(active.load(Ordering::Relaxed), 1);
        let panics = Serving(Arc::clone(&active));
        let task = tokio::spawn(async move {
            let _serving = panics;
            panic!("in a handler")
        });
        assert!(task.await.unwrap_err().is_panic());
        assert_eq!(active.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn each_connection_goes_to_the_worker_serving_the_fewest() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (busy, mut busy_rx) = worker(3);
        let (idle, mut idle_rx) = worker(1);
        let counts = [Arc::clone(&busy.active), Arc::clone(&idle.active)];
        let acceptor = tokio::spawn(accept(listener, vec![busy, idle], || usize::MAX));
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(tokio::net::TcpStream::connect(addr).await.unwrap());
            // Handed over before the next connection arrives.
            while counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .sum::<usize>()
                < 4 + clients.len()
            {
                tokio::task::yield_now().await;
            }
        }
        // 3 and 1: the idle worker gets two (1 → 2 → 3), then either; by the
        // rule, ties go to the first, so the busy one gets the third.
        let mut idle_got = 0;
        while idle_rx.try_recv().is_ok() {
            idle_got += 1;
        }
        let mut busy_got = 0;
        while busy_rx.try_recv().is_ok() {
            busy_got += 1;
        }
        assert_eq!((busy_got, idle_got), (1, 2));
        assert_eq!(counts[0].load(Ordering::Relaxed), 4);
        assert_eq!(counts[1].load(Ordering::Relaxed), 3);
        acceptor.abort();
    }
}
