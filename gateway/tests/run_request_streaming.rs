//! Unbuffered request bodies, end to end: the real `sluice` binary in front
//! of a local backend that reports each chunk of the request body it
//! receives on a channel the test reads (every wait bounded at 5 s).
//!
//! Checked: a chunked body no policy reads reaches the backend chunk by
//! chunk (the backend has the first chunk before the client sends the
//! last); a pipeline whose inbound `set-body` reads `context.Request.Body`
//! still gets the whole body; a chunked body over the size limit is
//! stopped and answered 413; a body whose chunks are not valid HTTP is
//! the client's error, 400, whether it streams or is read whole.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serve_support::{Sluice, channel_body, free_port, get, serve_backend, temp_dir};
use tokio::sync::mpsc;

/// The longest any step waits.
const BOUND: Duration = Duration::from_secs(5);

type Body = BoxBody<Bytes, std::io::Error>;

/// Where the test writes a request body, chunk by chunk.
type Feed = mpsc::Sender<Result<Bytes, std::io::Error>>;

/// What the backend tells the test: each chunk of a request body as it arrives.
struct Backend {
    chunks: mpsc::UnboundedSender<String>,
}

/// Reads the body frame by frame, reporting each data frame; answers with the whole body.
async fn backend_handle(b: Arc<Backend>, req: hyper::Request<Incoming>) -> hyper::Response<Body> {
    let mut body = req.into_body();
    let mut all = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Ok(data) = frame.into_data() {
            let _ = b.chunks.send(String::from_utf8_lossy(&data).into_owned());
            all.extend_from_slice(&data);
        }
    }
    hyper::Response::new(
        Full::new(Bytes::from(all))
            .map_err(|never| match never {})
            .boxed(),
    )
}

fn config(port: u16, admin: u16, backend: u16) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

[limits]
max-request-body-bytes = 1024

[[api]]
name = "pass"
path = "pass"
service-url = "http://127.0.0.1:{backend}/api"

[[api]]
name = "upper"
path = "upper"
service-url = "http://127.0.0.1:{backend}/api"
policy = '''<policies>
  <inbound><base /><set-body>@(context.Request.Body.As<string>().ToUpper())</set-body></inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>'''
"#
    )
}

/// A POST whose body the test feeds through the returned sender; the reply comes from the task.
fn post(url: &str) -> (Feed, tokio::task::JoinHandle<(u16, String)>) {
    let (tx, rx) = mpsc::channel(8);
    let req = hyper::Request::builder()
        .method("POST")
        .uri(url)
        .header("Content-Type", "text/plain")
        .body(channel_body(rx))
        .unwrap();
    let reply = tokio::spawn(async move {
        let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
        let resp = tokio::time::timeout(BOUND, client.request(req))
            .await
            .expect("no response in time")
            .unwrap();
        let status = resp.status().as_u16();
        let body = tokio::time::timeout(BOUND, resp.into_body().collect())
            .await
            .expect("no body in time")
            .unwrap()
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    });
    (tx, reply)
}

async fn next_chunk(rx: &mut mpsc::UnboundedReceiver<String>) -> Option<String> {
    tokio::time::timeout(BOUND, rx.recv()).await.ok().flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_pass_through_unless_a_policy_reads_them() {
    let (chunks, mut seen) = mpsc::unbounded_channel();
    let backend = serve_backend(Arc::new(Backend { chunks }), backend_handle).await;
    let dir = temp_dir("request-streaming");
    let (port, admin) = (free_port(), free_port());
    std::fs::write(dir.join("sluice.toml"), config(port, admin, backend)).unwrap();
    let gw = Sluice::start(&dir, port, admin).await;

    // No policy reads the body: the backend has the first chunk while the
    // client still holds the last one.
    let (tx, reply) = post(&gw.url("/pass/echo"));
    tx.send(Ok(Bytes::from("first,"))).await.unwrap();
    assert_eq!(
        next_chunk(&mut seen).await.as_deref(),
        Some("first,"),
        "the backend did not get the first chunk before the last was sent: {}",
        gw.log_text()
    );
    tx.send(Ok(Bytes::from("last"))).await.unwrap();
    drop(tx);
    assert_eq!(next_chunk(&mut seen).await.as_deref(), Some("last"));
    assert_eq!(reply.await.unwrap(), (200, "first,last".to_owned()));

    // Inbound set-body reads context.Request.Body: it gets all of it.
    let (tx, reply) = post(&gw.url("/upper/echo"));
    tx.send(Ok(Bytes::from("first,"))).await.unwrap();
    tx.send(Ok(Bytes::from("last"))).await.unwrap();
    drop(tx);
    assert_eq!(reply.await.unwrap(), (200, "FIRST,LAST".to_owned()));
    assert_eq!(next_chunk(&mut seen).await.as_deref(), Some("FIRST,LAST"));

    // A streamed body over the limit (chunked: no Content-Length to refuse
    // at once) is stopped and answered 413; so is a buffered one.
    for api in ["pass", "upper"] {
        let (tx, reply) = post(&gw.url(&format!("/{api}/echo")));
        for _ in 0..3 {
            tx.send(Ok(Bytes::from(vec![b'x'; 500]))).await.unwrap();
        }
        drop(tx);
        let (status, _) = reply.await.unwrap();
        assert_eq!(status, 413, "{api}: {}", gw.log_text());
    }
    // The backend never got more than the limit.
    let mut got = 0;
    while let Ok(Some(c)) = tokio::time::timeout(Duration::from_millis(200), seen.recv()).await {
        got += c.len();
    }
    assert!(got <= 1024, "the backend got {got} bytes");
    // And the metrics count them as 413s.
    let metrics = get(&gw.admin_url("/metrics")).await.unwrap().text();
    for api in ["pass", "upper"] {
        let line = format!(r#"api="{api}",operation="*",status="413"}} 1"#);
        assert!(metrics.contains(&line), "{line} not in {metrics}");
    }

    // A body whose chunks are not valid HTTP is the client's error: 400,
    // whether it streams to the backend or is read whole (not 502, and
    // counted as a 400).
    for api in ["pass", "upper"] {
        let head = raw_broken_chunks(port, api).await;
        assert!(head.starts_with("HTTP/1.1 400"), "{api}: {head}");
        assert!(
            head.contains("The request body could not be read."),
            "{api}: {head}"
        );
    }
    let metrics = get(&gw.admin_url("/metrics")).await.unwrap().text();
    for api in ["pass", "upper"] {
        let line = format!(r#"api="{api}",operation="*",status="400"}} 1"#);
        assert!(metrics.contains(&line), "{line} not in {metrics}");
        let bad = format!(r#"api="{api}",operation="*",status="502"}}"#);
        assert!(!metrics.contains(&bad), "{bad} in {metrics}");
    }
}

/// A chunked POST whose second chunk's size line is not hexadecimal: what
/// the gateway answers (the first bytes of it).
async fn raw_broken_chunks(port: u16, api: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let req = format!(
        "POST /{api}/echo HTTP/1.1\r\nHost: gw\r\nContent-Type: text/plain\r\n\
         Transfer-Encoding: chunked\r\n\r\n6\r\nfirst,\r\nZZ\r\nlast\r\n0\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = vec![0u8; 4096];
    let mut got = 0;
    while got < out.len() {
        match tokio::time::timeout(BOUND, s.read(&mut out[got..])).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => {
                got += n;
                if String::from_utf8_lossy(&out[..got]).contains("could not be read") {
                    break;
                }
            }
            Ok(Err(_)) => break,
        }
    }
    String::from_utf8_lossy(&out[..got]).into_owned()
}
