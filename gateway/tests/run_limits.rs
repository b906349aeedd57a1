//! Connection bounds, on the real binary, with raw TCP clients and short
//! timeouts (a few hundred milliseconds) set in each test's `[limits]`.
//!
//! Checked: a connection that sends nothing, or its head one byte at a
//! time, is closed once `header-read-timeout-ms` has passed, with no
//! answer; an idle keep-alive connection (HTTP/1.1 and HTTP/2) lives past
//! the header timeout and is closed after `keep-alive-timeout-ms`; at
//! `max-connections` a new connection waits (in the listen backlog) until
//! slow clients time out, then is answered, the pause logged once; under
//! a descriptor limit of 128 (`prlimit`), 150 slow clients take the
//! gateway off the air only until they time out (with the default cap,
//! from the limit, and with a cap over it, where accepting fails for want
//! of descriptors and `accept failed` is logged once per run, not in a
//! loop); a request body that stalls gets 408 (the
//! connection then closes), streamed to the backend or read by a policy.
//! Every wait is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serve_support::{Sluice, free_port, get, serve_backend, temp_dir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echoes the request body it read whole.
async fn echo(_: Arc<()>, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let body = req.into_body().collect().await.map_or_else(
        |e| Bytes::from(format!("broken: {e}")),
        http_body_util::Collected::to_bytes,
    );
    hyper::Response::new(Full::new(body))
}

/// A gateway with these `[limits]` lines: `/ok` answers 200 `ok` itself,
/// `/echo` forwards (the body streamed) to a backend that reads it whole,
/// `/upper` reads the body in a policy.
async fn start(name: &str, limits: &str) -> Sluice {
    let backend = serve_backend(Arc::new(()), echo).await;
    let dir = temp_dir(name);
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        config(port, admin, backend, limits),
    )
    .unwrap();
    Sluice::start(&dir, port, admin).await
}

fn config(port: u16, admin: u16, backend: u16, limits: &str) -> String {
    format!(
        "[gateway]\nlisten = \"127.0.0.1:{port}\"\n\n\
         [admin]\nlisten = \"127.0.0.1:{admin}\"\n\n\
         [limits]\n{limits}\n\n\
         [[api]]\nname = \"ok\"\npath = \"ok\"\n\
         policy = '<policies><inbound><return-response><set-status code=\"200\" />\
         <set-body>ok</set-body></return-response></inbound></policies>'\n\n\
         [[api]]\nname = \"echo\"\npath = \"echo\"\nservice-url = \"http://127.0.0.1:{backend}\"\n\n\
         [[api]]\nname = \"upper\"\npath = \"upper\"\nservice-url = \"http://127.0.0.1:{backend}\"\n\
         policy = '<policies><inbound><base /><set-body>@(context.Request.Body.As<string>().ToUpper())\
         </set-body></inbound><backend><base /></backend><outbound><base /></outbound></policies>'\n"
    )
}

async fn connect(gw: &Sluice) -> TcpStream {
    TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap()
}

/// Reads until the peer closes (or resets) the connection, `within` at
/// most; returns what it read.
async fn until_closed(s: &mut (impl AsyncReadExt + Unpin), within: Duration) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => panic!(
                "still open after {within:?}; read: {}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0) | Err(_)) => return String::from_utf8_lossy(&got).into_owned(),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends `GET /ok` on `s` and reads its whole answer (`Content-Length: 2`).
async fn get_ok(s: &mut TcpStream) -> String {
    s.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    while !got.ends_with(b"\r\n\r\nok") {
        let left = deadline.saturating_duration_since(Instant::now());
        let n = tokio::time::timeout(left, s.read(&mut buf))
            .await
            .expect("no answer")
            .unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_or_silent_head_is_cut_after_header_read_timeout() {
    let gw = start(
        "limits-header",
        "header-read-timeout-ms = 400\nkeep-alive-timeout-ms = 10000",
    )
    .await;
    // Silent: never sends a byte (not even enough to tell HTTP/1 from HTTP/2).
    let mut silent = connect(&gw).await;
    // Slowloris: its head one byte every 50 ms, never ending.
    let (mut slow, mut drip) = connect(&gw).await.into_split();
    let started = Instant::now();
    let dripping = tokio::spawn(async move {
        for b in b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: ".iter().cycle() {
            if drip.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let read = until_closed(&mut silent, Duration::from_secs(3)).await;
    let silent_after = started.elapsed();
    assert_eq!(read, "", "no answer to a request never sent");
    assert!(
        silent_after >= Duration::from_millis(350),
        "closed early: {silent_after:?}"
    );
    let read = until_closed(&mut slow, Duration::from_secs(3)).await;
    let slow_after = started.elapsed();
    dripping.abort();
    assert_eq!(read, "");
    assert!(
        slow_after >= Duration::from_millis(350) && slow_after < Duration::from_secs(3),
        "the slow head was held {slow_after:?}"
    );
    // The gateway answers others all along.
    let r = get(&gw.url("/ok")).await.unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_keep_alive_timeout() {
    let gw = start(
        "limits-idle",
        "header-read-timeout-ms = 300\nkeep-alive-timeout-ms = 1200",
    )
    .await;
    let mut s = connect(&gw).await;
    assert!(get_ok(&mut s).await.starts_with("HTTP/1.1 200"));
    // Idle longer than the header timeout: still open (idle is not a slow head).
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(get_ok(&mut s).await.starts_with("HTTP/1.1 200"));
    let idle_from = Instant::now();
    let read = until_closed(&mut s, Duration::from_secs(5)).await;
    let idle = idle_from.elapsed();
    assert_eq!(read, "");
    assert!(
        idle >= Duration::from_millis(1100) && idle < Duration::from_secs(3),
        "closed after {idle:?} idle"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_http2_connection_is_closed_after_keep_alive_timeout() {
    let gw = start(
        "limits-idle-h2",
        "header-read-timeout-ms = 300\nkeep-alive-timeout-ms = 1200\n\
         http2-keep-alive-interval-ms = 200\nhttp2-keep-alive-timeout-ms = 1000",
    )
    .await;
    let io = hyper_util::rt::TokioIo::new(connect(&gw).await);
    let (mut send, conn) = hyper::client::conn::http2::handshake::<_, _, Full<Bytes>>(
        hyper_util::rt::TokioExecutor::new(),
        io,
    )
    .await
    .unwrap();
    let conn = tokio::spawn(conn);
    for _ in 0..2 {
        let req = hyper::Request::get(gw.url("/ok"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let r = tokio::time::timeout(Duration::from_secs(5), send.send_request(req))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.status(), 200);
        let _ = r.into_body().collect().await.unwrap();
        // Pings come and go (every 200 ms): neither a head nor activity.
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let idle_from = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(5), conn).await;
    let idle = idle_from.elapsed() + Duration::from_millis(700);
    assert!(ended.is_ok(), "the HTTP/2 connection stayed open");
    assert!(
        idle >= Duration::from_millis(1100) && idle < Duration::from_secs(3),
        "closed after {idle:?} idle"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_max_connections_new_ones_wait_until_slow_clients_are_dropped() {
    let gw = start(
        "limits-max",
        "max-connections = 3\nheader-read-timeout-ms = 1000\nkeep-alive-timeout-ms = 1000",
    )
    .await;
    let slow: Vec<TcpStream> = futures_join(3, || connect(&gw)).await;
    let started = Instant::now();
    // Over the cap: connected (the backlog), but not served until one closes.
    let mut waiting = connect(&gw).await;
    let answer = tokio::spawn(async move { get_ok(&mut waiting).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!answer.is_finished(), "served over the cap");
    let answer = tokio::time::timeout(Duration::from_secs(5), answer)
        .await
        .expect("never served")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let after = started.elapsed();
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(3),
        "served after {after:?}"
    );
    drop(slow);
    // The episode ends once the cap has not been reached for a second,
    // logged at the next connection accepted.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = get(&gw.url("/ok")).await.unwrap();
    assert_eq!(r.status, 200);
    let log = gw.log_text();
    assert_eq!(
        log.matches("at `[limits] max-connections` (3)").count(),
        1,
        "{log}"
    );
    assert_eq!(
        log.matches("under `[limits] max-connections` (3) again")
            .count(),
        1,
        "{log}"
    );
}

/// `n` results of `f`, one after the other.
async fn futures_join<T, F: Future<Output = T>>(n: usize, f: impl Fn() -> F) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(f().await);
    }
    out
}

/// The incident: a descriptor limit of 128, and more slow clients than it
/// allows. The default `max-connections` (from the limit: 32) keeps the
/// gateway from running out of descriptors; once the slow clients time
/// out, requests are answered again. The cap is reached many times, but
/// logged as one episode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_few_descriptors_slow_clients_only_delay_new_requests() {
    let Some(log) = under_slow_clients("limits-nofile", "").await else {
        return;
    };
    assert_eq!(log.matches("accept failed").count(), 0, "{log}");
    assert_eq!(
        log.matches("at `[limits] max-connections` (32)").count(),
        1,
        "{log}"
    );
}

/// The same with a cap above the descriptor limit: accepting fails for
/// want of descriptors, and the gateway still answers once the slow
/// clients time out, logging `accept failed` once per run of failures,
/// not once per attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_accept_failures_are_logged_once_per_run() {
    let Some(log) = under_slow_clients("limits-emfile", "max-connections = 100000").await else {
        return;
    };
    let failed = log.matches("accept failed").count();
    let again = log.matches("accepting again after").count();
    assert!(failed >= 1, "{log}");
    // Each run of failures: one line as it begins, one as it ends.
    assert!(failed <= again + 1 && failed <= 10, "{log}");
}

/// Runs `sluice run` under `prlimit --nofile=128` with 500 ms header and
/// idle timeouts and these `[limits]` lines, opens 150 slow clients (each
/// sends one byte of its head), and checks that a request is answered
/// within 8 s and 20 more after it. Returns the log; `None` without
/// `prlimit`.
async fn under_slow_clients(name: &str, limits: &str) -> Option<String> {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no prlimit");
        return None;
    }
    let backend = serve_backend(Arc::new(()), echo).await;
    let dir = temp_dir(name);
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        config(
            port,
            admin,
            backend,
            &format!("header-read-timeout-ms = 500\nkeep-alive-timeout-ms = 500\n{limits}"),
        ),
    )
    .unwrap();
    let log = dir.join("sluice.log");
    let mut child = std::process::Command::new("prlimit")
        .arg("--nofile=128")
        .arg(env!("CARGO_BIN_EXE_sluice"))
        .arg("run")
        .arg(dir.join("sluice.toml"))
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(30), async {
        let deadline = Instant::now() + Duration::from_secs(20);
        while get(&format!("http://127.0.0.1:{admin}/healthz"))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // 150 slow clients, each with one byte of its head.
        let mut slow = Vec::new();
        for _ in 0..150 {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)).await {
                slow.push(s);
            }
        }
        for s in &mut slow {
            let _ = s.write_all(b"G").await;
        }
        let started = Instant::now();
        // Answered once the slow clients are dropped (within the header timeout).
        let r = get(&format!("http://127.0.0.1:{port}/ok")).await;
        let after = started.elapsed();
        let r = r.expect("not answered");
        assert_eq!(r.status, 200);
        assert!(after < Duration::from_secs(8), "answered after {after:?}");
        // And every request after that too.
        for _ in 0..20 {
            let r = get(&format!("http://127.0.0.1:{port}/ok")).await.unwrap();
            assert_eq!(r.status, 200);
        }
        drop(slow);
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(result.is_ok(), "timed out: {text}");
    Some(text)
}

/// A raw HTTP/1.1 `POST path` announcing 100 bytes and sending 10.
async fn stalled_post(gw: &Sluice, path: &str) -> (String, Duration) {
    let mut s = connect(gw).await;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let read = until_closed(&mut s, Duration::from_secs(5)).await;
    (read, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_request_body_gets_408_and_the_connection_closes() {
    let gw = start("limits-body", "body-read-timeout-ms = 400").await;
    // Streamed to the backend, and read whole by a policy.
    for path in ["/echo/x", "/upper/x"] {
        let (read, after) = stalled_post(&gw, path).await;
        assert!(read.starts_with("HTTP/1.1 408"), "{path}: {read}");
        assert!(read.contains("did not arrive in time"), "{path}: {read}");
        assert!(
            after >= Duration::from_millis(350) && after < Duration::from_secs(3),
            "{path}: after {after:?}"
        );
    }
    // A body that keeps coming, slower than the timeout in all but never
    // pausing as long, is read whole.
    let mut s = connect(&gw).await;
    s.write_all(
        b"POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    for b in b"abcdef" {
        tokio::time::sleep(Duration::from_millis(150)).await;
        s.write_all(&[*b]).await.unwrap();
    }
    let read = until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(read.starts_with("HTTP/1.1 200"), "{read}");
    assert!(read.contains("\r\nabcdef\r\n"), "{read}");
}
