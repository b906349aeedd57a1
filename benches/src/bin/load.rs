//! The load benchmark's load generator: N keep-alive HTTP/1.1 connections,
//! each sending one request after the other (a closed loop) for a fixed
//! time, loopback only. Prints throughput and latency percentiles.
//!
//! ```text
//! load run URL [--connections N] [--duration SECONDS] [--header 'Name: value']...
//! load free-ports N        # N free loopback ports, on one line
//! load wait HOST:PORT      # waits (up to 30 s) until something listens there
//! ```
//!
//! The `run` line is `requests/s R  p50 A ms  p99 B ms  requests N  errors E`
//! (`benches/load.sh` reads it); a non-2xx answer or a failed connection is
//! an error, and any error makes the exit status 1.

use std::error::Error;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

type Fallible<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// What one run asks for.
struct Load {
    uri: Uri,
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
    headers: Vec<(String, String)>,
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    /// Latency of each successful request, in microseconds.
    micros: Vec<u32>,
    errors: u64,
}

fn parse(args: &[String]) -> Fallible<Load> {
    let mut it = args.iter();
    let url = it.next().ok_or("load run: missing URL")?;
    let uri: Uri = url.parse()?;
    let authority = uri.authority().ok_or("load run: the URL needs host:port")?;
    let addr: SocketAddr = authority.as_str().parse()?;
    if !addr.ip().is_loopback() {
        return Err("load run: only loopback targets are allowed".into());
    }
    let mut load = Load {
        uri,
        addr,
        connections: 64,
        duration: Duration::from_secs(10),
        headers: Vec::new(),
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--connections" => load.connections = value.parse::<usize>()?.clamp(1, 1024),
            "--duration" => {
                load.duration = Duration::from_secs_f64(value.parse::<f64>()?.clamp(0.1, 300.0));
            }
            "--header" => {
                let (name, v) = value.split_once(':').ok_or("--header 'Name: value'")?;
                load.headers.push((name.trim().into(), v.trim().into()));
            }
            other => return Err(format!("load run: unknown option {other}").into()),
        }
    }
    Ok(load)
}

/// One connection's closed loop until `end`; reconnects after an error.
async fn connection(load: &Load, end: Instant) -> Tally {
    let mut tally = Tally::default();
    let host = load.uri.authority().map_or("", |a| a.as_str());
    let path = load.uri.path_and_query().map_or("/", |p| p.as_str());
    'connect: while Instant::now() < end {
        let Ok(stream) = TcpStream::connect(load.addr).await else {
            tally.errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, conn)) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await
        else {
            tally.errors += 1;
            continue;
        };
        tokio::spawn(conn);
        while Instant::now() < end {
            let mut builder = Request::get(path).header(hyper::header::HOST, host);
            for (name, value) in &load.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            let Ok(request) = builder.body(Empty::new()) else {
                tally.errors += 1;
                return tally;
            };
            let started = Instant::now();
            if sender.ready().await.is_err() {
                tally.errors += 1;
                continue 'connect;
            }
            let Ok(response) = sender.send_request(request).await else {
                tally.errors += 1;
                continue 'connect;
            };
            let ok = response.status().is_success();
            if response.into_body().collect().await.is_err() {
                tally.errors += 1;
                continue 'connect;
            }
            if ok {
                let micros = started.elapsed().as_micros();
                tally.micros.push(u32::try_from(micros).unwrap_or(u32::MAX));
            } else {
                tally.errors += 1;
            }
        }
    }
    tally
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied().map_or(0.0, f64::from) / 1000.0
}

async fn run(args: &[String]) -> Fallible<bool> {
    let load = std::sync::Arc::new(parse(args)?);
    let started = Instant::now();
    let end = started + load.duration;
    let tasks: Vec<_> = (0..load.connections)
        .map(|_| {
            let load = std::sync::Arc::clone(&load);
            tokio::spawn(async move { connection(&load, end).await })
        })
        .collect();
    let mut micros = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let tally = task.await?;
        micros.extend(tally.micros);
        errors += tally.errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    micros.sort_unstable();
    println!(
        "requests/s {:.0}  p50 {:.3} ms  p99 {:.3} ms  requests {}  errors {}",
        micros.len() as f64 / elapsed,
        percentile(&micros, 50.0),
        percentile(&micros, 99.0),
        micros.len(),
        errors
    );
    Ok(errors == 0)
}

fn free_ports(n: &str) -> Fallible<()> {
    let n = n.parse::<usize>()?.clamp(1, 16);
    // Hold all of them open until every one is chosen, so they differ.
    let listeners = (0..n)
        .map(|_| StdListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<Result<Vec<_>, _>>()?;
    let ports = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port().to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    println!("{}", ports.join(" "));
    Ok(())
}

async fn wait(addr: &str) -> Fallible<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("nothing listens on {addr} after 30 s").into())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(args.get(1..).unwrap_or_default()).await,
        Some("free-ports") => free_ports(args.get(1).map_or("1", String::as_str)).map(|()| true),
        Some("wait") => match args.get(1) {
            Some(addr) => wait(addr).await.map(|()| true),
            None => Err("load wait HOST:PORT".into()),
        },
        _ => Err("usage: load run URL [options] | load free-ports N | load wait HOST:PORT".into()),
    };
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
