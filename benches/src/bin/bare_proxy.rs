//! The load benchmark's baseline: a bare hyper reverse proxy. Each request
//! goes to the backend with the same path and query through one pooled
//! client, minus the hop-by-hop headers; the backend's response comes back
//! as it is, streamed. No routing, no policies: what a gateway costs at least.
//!
//! `bare-proxy LISTEN BACKEND` (e.g. `127.0.0.1:18082 http://127.0.0.1:18081`);
//! see `benches/load.sh`.

use std::error::Error;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

type Body = BoxBody<Bytes, hyper::Error>;

/// Headers that describe one connection (RFC 9110 §7.6.1), never forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
];

struct Proxy {
    client: Client<HttpConnector, Incoming>,
    /// `http://host:port` of the backend.
    backend: String,
}

fn strip(headers: &mut hyper::HeaderMap) {
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

fn bad_gateway() -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from_static(b"bad gateway"))
            .map_err(|never| match never {})
            .boxed(),
    );
    *r.status_mut() = StatusCode::BAD_GATEWAY;
    r
}

async fn forward(proxy: Arc<Proxy>, req: Request<Incoming>) -> Response<Body> {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("{}{path}", proxy.backend).parse::<Uri>() else {
        return bad_gateway();
    };
    parts.uri = uri;
    parts.version = hyper::Version::HTTP_11;
    strip(&mut parts.headers);
    parts.headers.remove(hyper::header::HOST);
    match proxy.client.request(Request::from_parts(parts, body)).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip(&mut parts.headers);
            Response::from_parts(parts, body.boxed())
        }
        Err(_) => bad_gateway(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:18082".into());
    let backend = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:18081".into());
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let proxy = Arc::new(Proxy {
        client: Client::builder(TokioExecutor::new()).build(connector),
        backend: backend.trim_end_matches('/').to_owned(),
    });
    let listener = TcpListener::bind(&listen).await?;
    eprintln!("bare-proxy: listening on http://{listen}, forwarding to {backend}");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let proxy = Arc::clone(&proxy);
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let proxy = Arc::clone(&proxy);
                async move { Ok::<_, std::convert::Infallible>(forward(proxy, req).await) }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
