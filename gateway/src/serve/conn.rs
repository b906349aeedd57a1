//! Connection bounds: the connection builder (hyper's HTTP/1.1 and HTTP/2
//! settings from `[limits]`), and [`Guarded`], a connection's socket with
//! the one timer that closes it when a request head takes longer than
//! `header-read-timeout-ms` or no request is in flight for
//! `keep-alive-timeout-ms`. The request body's pause timeout is the body
//! stream's (`server.rs`: `Capped`); `max-connections`, the acceptor's.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    // [`Guarded`] bounds the wait for a head and the idle time; hyper's
    // own header timer, longer than both, makes it poll the socket as
    // soon as a connection goes idle (so the idle timer starts then) and
    // is a last resort.
    let backstop = limits
        .keep_alive
        .and_then(|k| k.checked_add(limits.header_read.unwrap_or(k)));
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(backstop)
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

/// A connection's socket and its one timer, reset only when the
/// connection changes phase (a head begins, a request is received, the
/// last response ends), never per read. Past its deadline a read fails
/// with `TimedOut`: hyper closes the connection.
///
/// It sees the phase through `in_flight` (the requests received whose
/// response has not ended, counted by [`Busy`]) and the bytes it reads.
/// On HTTP/2 (the connection began with the preface) the bytes read
/// between requests (pings, settings) start no head: such a connection
/// is idle until a stream opens, and closes after `keep-alive-timeout`.
pub struct Guarded {
    io: tokio::net::TcpStream,
    in_flight: Arc<AtomicUsize>,
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

impl Guarded {
    pub fn new(
        io: tokio::net::TcpStream,
        limits: &HttpLimits,
        in_flight: Arc<AtomicUsize>,
    ) -> Self {
        let mut g = Self {
            io,
            in_flight,
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

    /// Notes the connection's first bytes: HTTP/2 or not.
    fn saw(&mut self, read: &[u8]) {
        for &b in read.iter().take(usize::from(3 - self.first)) {
            self.http2 &= b == b"PRI"[usize::from(self.first)];
            self.first += 1;
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        let busy = this.in_flight.load(Ordering::Relaxed) > 0;
        match polled {
            Poll::Ready(Ok(())) => {
                let read = buf.filled().get(before..).unwrap_or_default();
                if this.first < 3 {
                    this.saw(read);
                }
                if busy {
                    this.phase = Phase::Busy;
                } else if this.phase != Phase::Head
                    && !read.is_empty()
                    && !(this.http2 && this.first == 3)
                {
                    // The first byte of the next request.
                    this.arm(Phase::Head);
                }
                return polled;
            }
            Poll::Ready(Err(_)) => return polled,
            Poll::Pending => {}
        }
        if busy {
            this.phase = Phase::Busy;
            return Poll::Pending;
        }
        if this.phase == Phase::Busy {
            // The last response ended: idle from now.
            this.arm(Phase::Idle);
        }
        if this.armed && this.timer.as_mut().poll(cx).is_ready() {
            this.armed = false;
            let why = if this.phase == Phase::Head {
                "the request head did not arrive within `[limits] header-read-timeout-ms`"
            } else {
                "idle for `[limits] keep-alive-timeout-ms`"
            };
            tracing::debug!("closing a connection: {why}");
            return Poll::Ready(Err(std::io::Error::new(std::io::ErrorKind::TimedOut, why)));
        }
        Poll::Pending
    }
}

impl AsyncWrite for Guarded {
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
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// A request in flight on its connection: from its head's arrival until
/// its response has ended (or the request was dropped).
pub struct Busy(Arc<AtomicUsize>);

impl Busy {
    pub fn new(in_flight: &Arc<AtomicUsize>) -> Self {
        in_flight.fetch_add(1, Ordering::Relaxed);
        Self(Arc::clone(in_flight))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
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
