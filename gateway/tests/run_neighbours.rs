//! A slow request does not stall its neighbours, on the real binary.
//!
//! The hostile request runs an expression that loops until its wall-time
//! budget (`expression-wall-time-ms`, 1.5 s here) stops it: exactly one
//! long evaluation, then a 500. Its neighbours ask for `/ok`, answered by
//! the gateway itself. Checked structurally, not by speed:
//!
//! - with one worker, once the expression is known to run long (its first
//!   evaluation), its next evaluations run off the worker: a neighbour's
//!   requests on a new connection of the same worker are all answered
//!   while the hostile one still runs (today they waited behind it);
//! - with two workers, a worker held by a long evaluation (the first one,
//!   not offloaded yet) gets no new connection although it serves the
//!   fewest: the neighbour's new connection goes to the worker that makes
//!   progress and is answered while the hostile request still runs.
//!
//! Every wait is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::time::{Duration, Instant};

use serve_support::{Sluice, free_port, temp_dir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a hostile evaluation runs (its wall-time budget).
const HOSTILE_MS: u64 = 1500;

async fn start(name: &str, workers: usize) -> Sluice {
    let dir = temp_dir(name);
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        format!(
            "[gateway]\nlisten = \"127.0.0.1:{port}\"\nworkers = {workers}\n\n\
             [admin]\nlisten = \"127.0.0.1:{admin}\"\n\n\
             [limits]\nexpression-wall-time-ms = {HOSTILE_MS}\n\
             expression-operations = 100000000000\n\n\
             [[api]]\nname = \"ok\"\npath = \"ok\"\n\
             policy = '<policies><inbound><return-response><set-status code=\"200\" />\
             <set-body>ok</set-body></return-response></inbound></policies>'\n\n\
             [[api]]\nname = \"hostile\"\npath = \"hostile\"\n\
             policy = '<policies><inbound><set-variable name=\"n\" \
             value=\"@{{ var i = 0; while (true) {{ i++; }} return i; }}\" />\
             <return-response><set-status code=\"200\" /></return-response></inbound></policies>'\n"
        ),
    )
    .unwrap();
    Sluice::start(&dir, port, admin).await
}

async fn connect(gw: &Sluice) -> TcpStream {
    TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap()
}

/// Sends `GET path` on `s` and reads its answer's head and body (by its
/// `Content-Length`); returns the status line.
async fn exchange(s: &mut TcpStream, path: &str) -> String {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).into_owned();
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return head.lines().next().unwrap_or_default().to_owned();
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let n = tokio::time::timeout(left, s.read(&mut buf))
            .await
            .expect("no answer")
            .unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
}

/// Five `/ok` requests on a new connection, one after the other.
async fn neighbour(gw: &Sluice) {
    let mut s = connect(gw).await;
    for _ in 0..5 {
        assert_eq!(exchange(&mut s, "/ok").await, "HTTP/1.1 200 OK");
    }
}

/// A hostile request on its own connection, started now; its status line.
fn hostile(gw: &Sluice) -> tokio::task::JoinHandle<String> {
    let port = gw.port;
    tokio::spawn(async move {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        exchange(&mut s, "/hostile").await
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_an_expression_is_known_to_run_long_it_no_longer_holds_its_workers_other_connections()
{
    let gw = start("neighbours-offload", 1).await;
    // The first long evaluation runs on the worker: a neighbour meanwhile
    // waits behind this one evaluation at most.
    let first = hostile(&gw);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    neighbour(&gw).await;
    assert!(
        started.elapsed() < Duration::from_millis(HOSTILE_MS + 1000),
        "the neighbour waited behind more than one hostile evaluation"
    );
    assert_eq!(first.await.unwrap(), "HTTP/1.1 500 Internal Server Error");

    // Known to run long: the next evaluations run off the worker, so the
    // neighbour is answered while the hostile request still runs, however
    // often it comes.
    for round in 0..2 {
        let second = hostile(&gw);
        tokio::time::sleep(Duration::from_millis(200)).await;
        neighbour(&gw).await;
        assert!(
            !second.is_finished(),
            "round {round}: the neighbour waited for the hostile request to end"
        );
        assert_eq!(second.await.unwrap(), "HTTP/1.1 500 Internal Server Error");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connection_goes_to_the_worker_that_makes_progress() {
    let gw = start("neighbours-acceptor", 2).await;
    // Three connections, each answered before the next opens (so accepted
    // in order): the first and third go to worker 0, the second to worker 1.
    let mut first = connect(&gw).await;
    assert_eq!(exchange(&mut first, "/ok").await, "HTTP/1.1 200 OK");
    let mut second = connect(&gw).await;
    assert_eq!(exchange(&mut second, "/ok").await, "HTTP/1.1 200 OK");
    let mut third = connect(&gw).await;
    assert_eq!(exchange(&mut third, "/ok").await, "HTTP/1.1 200 OK");
    // Worker 1, serving the fewest, runs the expression's first (so not
    // offloaded) long evaluation.
    let held = tokio::spawn(async move { exchange(&mut second, "/hostile").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A new connection goes to worker 0, which progresses, not to worker 1,
    // which serves fewer but is held.
    neighbour(&gw).await;
    assert!(
        !held.is_finished(),
        "the new connection waited for the held worker"
    );
    assert_eq!(held.await.unwrap(), "HTTP/1.1 500 Internal Server Error");
    // The first connections were kept, and still answer.
    assert_eq!(exchange(&mut first, "/ok").await, "HTTP/1.1 200 OK");
    assert_eq!(exchange(&mut third, "/ok").await, "HTTP/1.1 200 OK");
}
