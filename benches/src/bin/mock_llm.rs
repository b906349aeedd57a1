//! The cache benchmark's chat model, and its baseline: a minimal hyper
//! HTTP/1.1 server that reads each request whole and answers it with the
//! same chat completion (the same bytes and `Content-Type` as an answer the
//! semantic cache returns on a hit), as fast as it can.
//!
//! `mock_llm ADDR` (e.g. `127.0.0.1:18083`); see `benches/cache.sh`, where it
//! is both the LLM behind the gateway (whose answers the cache stores) and
//! the bare server the gateway's exact-layer hits are compared with.

use std::convert::Infallible;
use std::error::Error;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

/// Every answer: an OpenAI chat completion of a typical short reply.
const BODY: &str = concat!(
    r#"{"id":"chatcmpl-bench-0001","object":"chat.completion","created":1735689600,"#,
    r#""model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","#,
    r#""content":"The capital of France is Paris. It has been the country's capital since the 10th century and is its largest city.","#,
    r#""refusal":null},"logprobs":null,"finish_reason":"stop"}],"#,
    r#""usage":{"prompt_tokens":14,"completion_tokens":27,"total_tokens":41},"#,
    r#""system_fingerprint":"fp_bench"}"#
);

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the prompt whole, as a model (and the gateway) must.
    if req.into_body().collect().await.is_err() {
        let mut r = Response::new(Full::new(Bytes::from_static(b"bad request")));
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(r);
    }
    let mut response = Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    sluice_benches::serve_http1("mock_llm", "127.0.0.1:18083", answer).await
}
