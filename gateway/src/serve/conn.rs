//! Connection bounds: the connection builder (hyper's HTTP/1.1 and HTTP/2
//! settings from `[limits]`), and [`Guarded`], a connection's socket with
//! the one timer that closes it when a request head takes longer than
//! `header-read-timeout-ms` or no request is in flight for
//! `keep-alive-timeout-ms`. The request body's pause timeout is the body
//! stream's (`server.rs`: `Capped`); `max-connections`, the acceptor's.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::state::HttpLimits;

/// hyper's smallest read buffer; the configured header limit is checked exactly below it.
const MIN_BUF: usize = 8192;

/// The connection builder for a connection accepted under `limits`.
pub fn builder(limits: &HttpLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // [`Guarded`] bounds the wait for a head and the idle time. hyper's
    // own header timer is off: it would count idle time as head time, and
    // it allocates a timer per request.
    builder
        .http1()
        .header_read_timeout(None)
        .max_buf_size(limits.header_bytes.saturating_add(1024).max(MIN_BUF));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.header_bytes).unwrap_or(u32::MAX))
        .max_concurrent_streams(limits.h2_max_streams)
        .keep_alive_interval(limits.h2_ping_interval)
        .keep_alive_timeout(limits.h2_ping_timeout);
    builder
}

/// What a connection's timer waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// A request head: from the connection's start, or from the first byte
    /// read with no request in flight; `header-read-timeout-ms`.
    Head,
    /// The next request, none in flight: `keep-alive-timeout-ms`.
    Idle,
    /// A request in flight: nothing (its body has its own timeout).
    Busy,
}

/// A connection's requests, in one word shared by its [`Guarded`] socket
/// and its [`Busy`] requests: in flight (the low half), and begun, ever
/// (the high half, wrapping).
pub type Requests = Arc<AtomicU64>;

const ONE_IN_FLIGHT: u64 = 1;
const ONE_BEGUN: u64 = 1 << 32;

/// A connection's socket and its one timer, reset only when the
/// connection changes phase (a head begins, the last response ends),
/// never per read. Past its deadline a read fails with `TimedOut`: hyper
/// closes the connection.
///
/// It sees the phase through `requests` (counted by [`Busy`]: a request
/// begun and ended since it last looked means the connection went busy
/// and idle again, though no read saw it busy) and the bytes it reads.
/// It looks when it is read and when it is flushed: a response's last
/// bytes are flushed when it ends, so the idle time starts then, and the
/// timer, polled there, wakes the connection when it passes (hyper then
/// reads for the next head and gets the error). On HTTP/2 (the connection
/// began with the preface) the bytes read between requests (pings,
/// settings) start no head: such a connection is idle until a stream
/// opens, and closes after `keep-alive-timeout-ms`.
pub struct Guarded<IO = tokio::net::TcpStream> {
    io: IO,
    requests: Requests,
    /// The requests begun when the phase was last armed.
    begun: u32,
    phase: Phase,
    /// Whether `timer` holds a deadline of this phase.
    armed: bool,
    timer: Pin<Box<tokio::time::Sleep>>,
    header_read: Option<Duration>,
    keep_alive: Option<Duration>,
    /// How many of the connection's first 3 bytes were read, and whether
    /// they were `PRI` (the HTTP/2 preface) so far.
    first: u8,
    http2: bool,
}

impl<IO> Guarded<IO> {
    pub fn new(io: IO, limits: &HttpLimits, requests: Requests) -> Self {
        let mut g = Self {
            io,
            requests,
            begun: 0,
            phase: Phase::Head,
            armed: false,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            header_read: limits.header_read,
            keep_alive: limits.keep_alive,
            first: 0,
            http2: true,
        };
        g.arm(Phase::Head);
        g
    }

    /// Enters `phase`, its deadline counted from now.
    fn arm(&mut self, phase: Phase) {
        self.phase = phase;
        let limit = match phase {
            Phase::Head => self.header_read,
            Phase::Idle => self.keep_alive,
            Phase::Busy => None,
        };
        let deadline = limit.and_then(|d| tokio::time::Instant::now().checked_add(d));
        self.armed = deadline.is_some();
        if let Some(deadline) = deadline {
            self.timer.as_mut().reset(deadline);
        }
    }

    /// Follows the requests: busy while one is in flight, idle from the
    /// moment the last has ended. Returns whether one is in flight.
    fn look(&mut self) -> bool {
        let requests = self.requests.load(Ordering::Relaxed);
        // (The halves of the word.)
        #[expect(clippy::cast_possible_truncation, reason = "halves of one u64")]
        let (begun, in_flight) = ((requests >> 32) as u32, requests as u32);
        if in_flight > 0 {
            self.phase = Phase::Busy;
            return true;
        }
        if self.phase == Phase::Busy || begun != self.begun {
            self.begun = begun;
            self.arm(Phase::Idle);
        }
        false
    }

    /// Whether the connection began with the HTTP/2 preface.
    fn is_http2(&self) -> bool {
        self.http2 && self.first == 3
    }

    /// Notes the connection's first bytes: HTTP/2 or not.
    fn saw(&mut self, read: &[u8]) {
        for &b in read.iter().take(usize::from(3 - self.first)) {
            self.http2 &= b == b"PRI"[usize::from(self.first)];
            self.first += 1;
        }
    }

    /// Polls the timer (so that it wakes the connection): the error that
    /// closes the connection once it has passed.
    fn expired(&mut self, cx: &mut Context<'_>) -> Option<std::io::Error> {
        if !self.armed || self.timer.as_mut().poll(cx).is_pending() {
            return None;
        }
        self.armed = false;
        let why = if self.phase == Phase::Head {
            "the request head did not arrive within `[limits] header-read-timeout-ms`"
        } else {
            "idle for `[limits] keep-alive-timeout-ms`"
        };
        tracing::debug!("closing a connection: {why}");
        Some(std::io::Error::new(std::io::ErrorKind::TimedOut, why))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for Guarded<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        let busy = this.look();
        match polled {
            Poll::Ready(Ok(())) => {
                let read = buf.filled().get(before..).unwrap_or_default();
                if this.first < 3 {
                    this.saw(read);
                }
                // (Busy, the phase is `Busy`.)
                if this.phase == Phase::Idle && !read.is_empty() && !this.is_http2() {
                    // The first byte of the next request.
                    this.arm(Phase::Head);
                }
                polled
            }
            Poll::Ready(Err(_)) => polled,
            Poll::Pending if busy => Poll::Pending,
            Poll::Pending => this
                .expired(cx)
                .map_or(Poll::Pending, |e| Poll::Ready(Err(e))),
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Guarded<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let flushed = Pin::new(&mut this.io).poll_flush(cx);
        if !this.look() {
            // Registers the timer: no read may come to poll it.
            if let Some(e) = this.expired(cx) {
                return Poll::Ready(Err(e));
            }
        }
        flushed
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// A request in flight on its connection: from its head's arrival until
/// its response has ended (or the request was dropped).
pub struct Busy(Requests);

impl Busy {
    pub fn new(requests: &Requests) -> Self {
        requests.fetch_add(ONE_BEGUN | ONE_IN_FLIGHT, Ordering::Relaxed);
        Self(Arc::clone(requests))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(ONE_IN_FLIGHT, Ordering::Relaxed);
    }
}

/// A response body that keeps its request counted until it is dropped.
pub struct Tracked<B> {
    body: B,
    _busy: Busy,
}

impl<B> Tracked<B> {
    pub fn new(body: B, busy: Busy) -> Self {
        Self { body, _busy: busy }
    }
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
