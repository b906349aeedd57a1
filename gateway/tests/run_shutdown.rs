//! Graceful shutdown, on the real binary, in front of a slow local backend
//! (it answers after the time the request asks for, or streams its answer
//! in chunks over that time).
//!
//! Checked: on SIGTERM with requests in flight (HTTP/1.1, HTTP/2, a
//! streamed answer) and a connection that has sent nothing, the listener
//! closes (a new connection is refused), `/healthz` answers 503 `draining`,
//! every request in flight completes with 200 and its whole body (HTTP/1.1
//! answers not begun yet say `Connection: close`), and the process exits 0
//! before the grace is over. A second signal exits at once (status 130 for
//! SIGINT, 143 for SIGTERM); SIGINT drains as SIGTERM does; a drain longer
//! than the grace is cut there and the process still exits 0. Every wait is
//! bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serve_support::{Reply, Sluice, channel_body, free_port, get, send, serve_backend, temp_dir};
use tokio::io::AsyncReadExt;

type Body = BoxBody<Bytes, std::io::Error>;

/// How many requests reached the backend.
#[derive(Default)]
struct Backend {
    arrived: AtomicUsize,
}

/// `/wait?ms=N`: answers `waited N` after N ms. `/stream?ms=N`: ten chunks
/// `chunk I\n`, one every N/10 ms.
async fn backend(b: Arc<Backend>, req: hyper::Request<Incoming>) -> hyper::Response<Body> {
    b.arrived.fetch_add(1, Ordering::SeqCst);
    let ms: u64 = req
        .uri()
        .query()
        .and_then(|q| q.strip_prefix("ms="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if req.uri().path() == "/stream" {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(async move {
            for i in 0..10 {
                tokio::time::sleep(Duration::from_millis(ms / 10)).await;
                if tx
                    .send(Ok(Bytes::from(format!("chunk {i}\n"))))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        return hyper::Response::new(channel_body(rx));
    }
    tokio::time::sleep(Duration::from_millis(ms)).await;
    let body = Full::new(Bytes::from(format!("waited {ms}")))
        .map_err(|never| match never {})
        .boxed();
    hyper::Response::new(body)
}

fn streamed() -> String {
    (0..10).map(|i| format!("chunk {i}\n")).collect()
}

/// A gateway in front of a fresh backend, with this `shutdown-grace`.
async fn start(name: &str, grace: &str) -> (Sluice, Arc<Backend>) {
    let b = Arc::new(Backend::default());
    let backend_port = serve_backend(Arc::clone(&b), backend).await;
    let dir = temp_dir(name);
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        format!(
            "[gateway]\nlisten = \"127.0.0.1:{port}\"\nshutdown-grace = {grace}\n\n\
             [admin]\nlisten = \"127.0.0.1:{admin}\"\n\n\
             [[api]]\nname = \"slow\"\npath = \"slow\"\nservice-url = \"http://127.0.0.1:{backend_port}\"\n"
        ),
    )
    .unwrap();
    (Sluice::start(&dir, port, admin).await, b)
}

fn signal(gw: &Sluice, name: &str) {
    let pid = gw.child.id().to_string();
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

/// Waits (at most `within`) until `n` requests have reached the backend.
async fn arrived(b: &Backend, n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while b.arrived.load(Ordering::SeqCst) < n {
        assert!(
            Instant::now() < deadline,
            "the requests did not reach the backend"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (at most 3 s) until `/healthz` says draining.
async fn draining(gw: &Sluice) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        if let Ok(r) = get(&gw.admin_url("/healthz")).await
            && r.status == 503
        {
            assert_eq!(r.text(), "draining\n");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never draining: {}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The process's exit status and how long after `since` it came (at most `within`).
async fn exit(gw: &mut Sluice, since: Instant, within: Duration) -> (Option<i32>, Duration) {
    loop {
        if let Some(status) = gw.child.try_wait().unwrap() {
            return (status.code(), since.elapsed());
        }
        assert!(
            since.elapsed() < within,
            "still running after {within:?}: {}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn spawn_request(
    gw: &Sluice,
    path: &str,
    http2: bool,
) -> tokio::task::JoinHandle<Result<Reply, String>> {
    let url = gw.url(path);
    tokio::spawn(async move { send("GET", &url, &[], b"", http2).await })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_lets_requests_in_flight_finish_then_exits_0() {
    let (mut gw, b) = start("shutdown-drain", "\"10s\"").await;
    // A connection that has sent nothing yet: it must not hold the drain.
    let mut silent = tokio::net::TcpStream::connect(("127.0.0.1", gw.port))
        .await
        .unwrap();
    let in_flight = [
        spawn_request(&gw, "/slow/wait?ms=2000", false),
        spawn_request(&gw, "/slow/wait?ms=2000", false),
        spawn_request(&gw, "/slow/wait?ms=2000", true),
        spawn_request(&gw, "/slow/stream?ms=2000", false),
        spawn_request(&gw, "/slow/stream?ms=2000", true),
    ];
    arrived(&b, in_flight.len(), Duration::from_secs(5)).await;
    let sent = Instant::now();
    signal(&gw, "TERM");
    draining(&gw).await;
    // The listener is closed: a new connection is refused.
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", gw.port))
            .await
            .is_err(),
        "a new connection was accepted while draining"
    );
    assert!(
        in_flight.iter().all(|r| !r.is_finished()),
        "the requests should still be in flight"
    );
    // The silent connection is closed without an answer.
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(3), silent.read(&mut buf))
        .await
        .expect("the silent connection stayed open");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    for (i, r) in in_flight.into_iter().enumerate() {
        let r = r
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(r.status, 200, "request {i}: {}", r.text());
        let expected = if i < 3 {
            "waited 2000".to_owned()
        } else {
            streamed()
        };
        assert_eq!(r.text(), expected, "request {i}");
        // HTTP/1.1 answers not begun at SIGTERM close their connection (a
        // streamed one had sent its head already: it ends, then closes).
        if i < 2 {
            assert_eq!(r.header("connection"), Some("close"), "request {i}");
        }
    }
    let (code, after) = exit(&mut gw, sent, Duration::from_secs(12)).await;
    assert_eq!(code, Some(0), "{}", gw.log_text());
    assert!(
        after < Duration::from_secs(10),
        "exited {after:?} after SIGTERM"
    );
    // It waited for the requests (about 2 s), not for the grace.
    assert!(
        after >= Duration::from_millis(1000),
        "exited {after:?} after SIGTERM"
    );
    let log = gw.log_text();
    assert!(log.contains("SIGTERM: draining"), "{log}");
    assert!(log.contains("drained: every connection closed"), "{log}");
}

/// SIGTERM, then `second` while a request hangs: the exit is at once, with `status`.
async fn second_signal(name: &str, second: &str, status: i32) {
    let (mut gw, b) = start(name, "60").await;
    let hanging = spawn_request(&gw, "/slow/wait?ms=30000", false);
    arrived(&b, 1, Duration::from_secs(5)).await;
    signal(&gw, "TERM");
    draining(&gw).await;
    let sent = Instant::now();
    signal(&gw, second);
    let (code, after) = exit(&mut gw, sent, Duration::from_secs(5)).await;
    assert_eq!(code, Some(status), "{}", gw.log_text());
    assert!(
        after < Duration::from_secs(2),
        "exited {after:?} after the second signal"
    );
    assert!(
        hanging.await.unwrap().is_err(),
        "the request in flight is cut"
    );
    let log = gw.log_text();
    assert!(
        log.contains(&format!("SIG{second}: exiting at once, 1 connections cut")),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    second_signal("shutdown-second-int", "INT", 130).await;
    second_signal("shutdown-second-term", "TERM", 143).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_drains_too_and_the_grace_bounds_the_drain() {
    let (mut gw, b) = start("shutdown-grace", "\"800ms\"").await;
    let hanging = spawn_request(&gw, "/slow/wait?ms=30000", false);
    arrived(&b, 1, Duration::from_secs(5)).await;
    let sent = Instant::now();
    signal(&gw, "INT");
    let (code, after) = exit(&mut gw, sent, Duration::from_secs(5)).await;
    assert_eq!(code, Some(0), "{}", gw.log_text());
    assert!(
        after >= Duration::from_millis(800) && after < Duration::from_secs(3),
        "exited {after:?} after SIGINT, with a grace of 800 ms"
    );
    assert!(
        hanging.await.unwrap().is_err(),
        "the request in flight is cut"
    );
    let log = gw.log_text();
    assert!(log.contains("SIGINT: draining"), "{log}");
    assert!(
        log.contains("the shutdown grace (800ms) is over: exiting, 1 connections cut"),
        "{log}"
    );
}
