//! The load benchmark's backend: a minimal hyper HTTP/1.1 server that
//! answers every request with the same small JSON body, as fast as it can.
//!
//! `backend ADDR` (e.g. `127.0.0.1:18081`); see `benches/load.sh`.

use std::convert::Infallible;
use std::error::Error;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};

/// What every answer carries (about what a small JSON API returns).
const BODY: &str = r#"{"id":42,"name":"widget","color":"blue","price":12.5,"tags":["a","b","c"],"owner":"backend.internal"}"#;

async fn answer(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        hyper::header::SERVER,
        hyper::header::HeaderValue::from_static("bench-backend"),
    );
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    sluice_benches::serve_http1("backend", "127.0.0.1:18081", answer).await
}
