//! Benchmarks live in `benches/`; this library holds what the load
//! benchmarks' small servers (src/bin/: backend, mock_llm, embeddings_stub)
//! share.

use std::convert::Infallible;
use std::error::Error;

use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Serves HTTP/1.1 on the address given as the first argument (else
/// `default_addr`), answering every request with `answer`; returns only
/// when accepting fails.
pub async fn serve_http1<F, Fut, B>(
    name: &str,
    default_addr: &str,
    answer: F,
) -> Result<(), Box<dyn Error>>
where
    F: Fn(Request<Incoming>) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn Error + Send + Sync>>,
{
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| default_addr.to_owned());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("{name}: listening on http://{addr}");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}
