//! The load benchmark's load generator: N keep-alive HTTP/1.1 connections,
//! each sending one request after the other (a closed loop) for a fixed
//! time, loopback only. Prints throughput and latency percentiles.
//!
//! ```text
//! load run URL [--connections N] [--duration SECONDS] [--header 'Name: value']...
//!          [--method M] [--body TEXT | --body-file FILE] [--start S] [--requests N]
//!          [--match-header 'Name: prefix']
//! load free-ports N        # N free loopback ports, on one line
//! load wait HOST:PORT      # waits (up to 30 s) until something listens there
//! ```
//!
//! The `run` line is `requests/s R  p50 A ms  p99 B ms  requests N  errors E`
//! (`benches/load.sh` reads it); a non-2xx answer or a failed connection is
//! an error, and any error makes the exit status 1.
//!
//! For POST loads (`benches/cache.sh`): `--body` (or `--body-file`) is a
//! template in which `{n}` is the request's number and `{n%M}` that number
//! modulo M; numbers start at `--start` (0) and each request of the run has
//! its own, so every body can differ. `--requests N` stops after N requests
//! (`--duration` still bounds the run). `--match-header` counts the answers
//! whose header starts with the prefix and adds `matched M` to the line.

use std::error::Error;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::HeaderName;
use hyper::{Method, Request, Uri};
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
    method: Method,
    body: Template,
    /// The number of the first request.
    start: u64,
    /// Stop after this many requests.
    requests: Option<u64>,
    /// Requests numbered so far (only counted when numbers are used).
    issued: AtomicU64,
    /// Count the answers whose header starts with this prefix.
    match_header: Option<(HeaderName, String)>,
}

/// A request body, with the request's number where it says `{n}` or `{n%M}`.
#[derive(Default)]
struct Template {
    pieces: Vec<Piece>,
    /// The whole body when it has no number.
    fixed: Bytes,
}

enum Piece {
    Text(String),
    /// The request's number, modulo this (`u64::MAX` for `{n}`).
    Number(u64),
}

impl Template {
    fn parse(text: &str) -> Fallible<Self> {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut literal = String::new();
        while let Some(at) = rest.find("{n") {
            let (before, from) = rest.split_at(at);
            literal.push_str(before);
            let Some(close) = from.find('}') else {
                literal.push_str(from);
                rest = "";
                break;
            };
            let inner = from.get(2..close).unwrap_or_default();
            let modulus = if inner.is_empty() {
                Some(u64::MAX)
            } else {
                inner.strip_prefix('%').and_then(|m| m.parse::<u64>().ok())
            };
            match modulus {
                Some(0) => return Err("--body: {n%0}".into()),
                Some(m) => {
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Number(m));
                    rest = from.get(close + 1..).unwrap_or_default();
                }
                // Not a placeholder (JSON is full of braces): keep `{n` as text.
                None => {
                    literal.push_str("{n");
                    rest = from.get(2..).unwrap_or_default();
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        let fixed = match pieces.as_slice() {
            [Piece::Text(t)] => Bytes::copy_from_slice(t.as_bytes()),
            _ => Bytes::new(),
        };
        Ok(Self { pieces, fixed })
    }

    fn numbered(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Number(_)))
    }

    /// The body of request number `n`.
    fn render(&self, n: u64) -> Bytes {
        if !self.numbered() {
            return self.fixed.clone();
        }
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Number(m) => out.push_str(&(n % m).to_string()),
            }
        }
        Bytes::from(out)
    }
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    /// Latency of each successful request, in microseconds.
    micros: Vec<u32>,
    errors: u64,
    /// Successful answers whose header matched `--match-header`.
    matched: u64,
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
        method: Method::GET,
        body: Template::default(),
        start: 0,
        requests: None,
        issued: AtomicU64::new(0),
        match_header: None,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--connections" => load.connections = value.parse::<usize>()?.clamp(1, 1024),
            "--duration" => {
                load.duration = Duration::from_secs_f64(value.parse::<f64>()?.clamp(0.1, 3600.0));
            }
            "--header" => {
                let (name, v) = value.split_once(':').ok_or("--header 'Name: value'")?;
                load.headers.push((name.trim().into(), v.trim().into()));
            }
            "--method" => load.method = value.to_ascii_uppercase().parse()?,
            "--body" => load.body = Template::parse(value)?,
            "--body-file" => {
                let text = std::fs::read_to_string(value)
                    .map_err(|e| format!("--body-file {value}: {e}"))?;
                load.body = Template::parse(text.trim_end_matches('\n'))?;
            }
            "--start" => load.start = value.parse()?,
            "--requests" => load.requests = Some(value.parse()?),
            "--match-header" => {
                let (name, v) = value
                    .split_once(':')
                    .ok_or("--match-header 'Name: prefix'")?;
                load.match_header = Some((name.trim().parse()?, v.trim().into()));
            }
            other => return Err(format!("load run: unknown option {other}").into()),
        }
    }
    Ok(load)
}

impl Load {
    /// The number of the next request, `None` when `--requests` are done.
    fn next_number(&self) -> Option<u64> {
        if self.requests.is_none() && !self.body.numbered() {
            return Some(self.start);
        }
        let i = self.issued.fetch_add(1, Ordering::Relaxed);
        if self.requests.is_some_and(|max| i >= max) {
            return None;
        }
        Some(self.start.wrapping_add(i))
    }
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
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await
        else {
            tally.errors += 1;
            continue;
        };
        tokio::spawn(conn);
        while Instant::now() < end {
            let Some(n) = load.next_number() else {
                return tally;
            };
            let mut builder = Request::builder()
                .method(load.method.clone())
                .uri(path)
                .header(hyper::header::HOST, host);
            for (name, value) in &load.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            let Ok(request) = builder.body(Full::new(load.body.render(n))) else {
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
            let matched = load.match_header.as_ref().is_some_and(|(name, prefix)| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with(prefix.as_str()))
            });
            if response.into_body().collect().await.is_err() {
                tally.errors += 1;
                continue 'connect;
            }
            if ok {
                let micros = started.elapsed().as_micros();
                tally.micros.push(u32::try_from(micros).unwrap_or(u32::MAX));
                tally.matched += u64::from(matched);
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
    let (mut errors, mut matched) = (0, 0);
    for task in tasks {
        let tally = task.await?;
        micros.extend(tally.micros);
        errors += tally.errors;
        matched += tally.matched;
    }
    let elapsed = started.elapsed().as_secs_f64();
    micros.sort_unstable();
    let mut line = format!(
        "requests/s {:.0}  p50 {:.3} ms  p99 {:.3} ms  requests {}  errors {}",
        micros.len() as f64 / elapsed,
        percentile(&micros, 50.0),
        percentile(&micros, 99.0),
        micros.len(),
        errors
    );
    if load.match_header.is_some() {
        line.push_str(&format!("  matched {matched}"));
    }
    println!("{line}");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_numbers_each_request() {
        let t = Template::parse(r#"{"q":"topic {n%10}, variant {n}"}"#).unwrap();
        assert_eq!(
            t.render(1234),
            Bytes::from(r#"{"q":"topic 4, variant 1234"}"#)
        );
        assert!(t.numbered());
    }

    #[test]
    fn braces_that_are_not_placeholders_stay() {
        let text = r#"{"n":1,"m":"{no}{n%x}{n"}"#;
        let t = Template::parse(text).unwrap();
        assert!(!t.numbered());
        assert_eq!(t.render(7), Bytes::from(text));
        assert!(Template::parse("{n%0}").is_err());
    }
}
