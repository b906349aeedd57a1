//! What the `sluice run` tests share: free loopback ports, a running
//! `sluice` binary (killed when dropped), a small HTTP client, and a local
//! hyper backend; `llm.rs`: mock OpenAI-shaped backends and the `openai`
//! Python client.
//! Everything stays on 127.0.0.1, and every wait is bounded.
//!
//! Each test file compiles this module on its own, so an item that only
//! some of them use carries its own `allow(dead_code)`.

#![allow(clippy::unwrap_used, clippy::panic)]

pub mod llm;

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// A loopback port nobody listens on (now).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A fresh folder under the system's temporary folder.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sluice-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `sluice run` process.
pub struct Sluice {
    pub child: Child,
    pub port: u16,
    pub admin: u16,
    pub log: PathBuf,
}

impl Sluice {
    /// Starts `sluice run dir/sluice.toml` and waits (at most 20 s) for
    /// `/healthz`. Without `RUST_LOG`: the file's `[log]` applies.
    #[allow(
        dead_code,
        reason = "run_backend_mtls, run_apiops and run_identity pass an environment"
    )]
    pub async fn start(dir: &Path, port: u16, admin: u16) -> Sluice {
        Self::start_with_env(dir, port, admin, &[]).await
    }

    /// [`Sluice::start`] with more environment variables.
    #[allow(dead_code)]
    pub async fn start_with_env(dir: &Path, port: u16, admin: u16, env: &[(&str, &str)]) -> Sluice {
        let log = dir.join("sluice.log");
        let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("run")
            .arg(dir.join("sluice.toml"))
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let s = Sluice {
            child,
            port,
            admin,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = get(&s.admin_url("/healthz")).await
                && r.status == 200
            {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "sluice did not start: {}",
                s.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[allow(dead_code, reason = "run_neighbours talks raw TCP")]
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.admin)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    #[allow(
        dead_code,
        reason = "used by run_e2e and run_reload, not run_streaming"
    )]
    pub async fn status(&self) -> serde_json::Value {
        let r = get(&self.admin_url("/status")).await.unwrap();
        serde_json::from_slice(&r.body).unwrap()
    }
}

impl Drop for Sluice {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    #[allow(
        dead_code,
        reason = "used by run_e2e and run_reload, not run_streaming"
    )]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[allow(dead_code, reason = "run_neighbours talks raw TCP")]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn client(http2: bool) -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new())
        .http2_only(http2)
        .build_http()
}

/// Sends one request (HTTP/1.1, or HTTP/2 with prior knowledge), 10 s at most.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    http2: bool,
) -> Result<Reply, String> {
    let mut b = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b
        .body(Full::new(Bytes::copy_from_slice(body)))
        .map_err(|e| e.to_string())?;
    let c = client(http2);
    let resp = tokio::time::timeout(Duration::from_secs(10), async {
        let resp = c.request(req).await.map_err(|e| format!("{e:?}"))?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok::<_, String>(Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.to_vec(),
        })
    })
    .await
    .map_err(|_| "timed out".to_owned())??;
    Ok(resp)
}

pub async fn get(url: &str) -> Result<Reply, String> {
    send("GET", url, &[], b"", false).await
}

/// Binds a loopback listener on a free port.
pub async fn bind() -> (tokio::net::TcpListener, SocketAddr) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

/// Starts a backend on a free loopback port (HTTP/1.1 and HTTP/2): every
/// request goes to `handle` with `state`. Returns the port.
#[allow(
    dead_code,
    reason = "used by run_e2e and run_streaming, not run_reload"
)]
pub async fn serve_backend<S, F, Fut, B>(state: Arc<S>, handle: F) -> u16
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, hyper::Request<Incoming>) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = hyper::Response<B>> + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (listener, addr) = bind().await;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let s = Arc::clone(&state);
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let s = Arc::clone(&s);
                    async move { Ok::<_, Infallible>(handle(s, req).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr.port()
}

/// A body that yields what the channel sends, frame by frame; an `Err`
/// breaks the body off.
#[allow(
    dead_code,
    reason = "used by run_e2e and run_streaming, not run_reload"
)]
pub fn channel_body<E: Send + Sync + 'static>(
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, E>>,
) -> BoxBody<Bytes, E> {
    struct Chan<E>(tokio::sync::mpsc::Receiver<Result<Bytes, E>>);
    impl<E> hyper::body::Body for Chan<E> {
        type Data = Bytes;
        type Error = E;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<Frame<Bytes>, E>>> {
            self.0.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
        }
    }
    Chan(rx).boxed()
}
