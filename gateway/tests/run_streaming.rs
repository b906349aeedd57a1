//! Unbuffered response bodies, end to end: the real `sluice` binary in front
//! of a local backend whose server-sent-events streams wait, after their
//! first event, until the test says the client has it (at most 5 s). So
//! the client can only see the first event in time if the gateway passes
//! it on before the backend has produced the rest.
//!
//! Checked: an SSE stream (outbound still sets a header), an OpenAI-style
//! `"stream": true` chat completion (a POST with a JSON body), a backend
//! that breaks off mid-stream (the client's response ends, no hang), and a
//! pipeline whose outbound `set-body` reads the body, which still gets the
//! whole body (buffered: nothing reaches the client before the last event).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serve_support::{Sluice, channel_body, free_port, serve_backend, temp_dir};
use tokio::sync::Notify;

/// How long the backend waits for the client's word before going on anyway.
const GATE: Duration = Duration::from_secs(5);

type Body = BoxBody<Bytes, std::io::Error>;

/// Shared between the backend and the test.
#[derive(Default)]
struct Backend {
    /// Set by the test once the client has the first event.
    release: Notify,
    /// When the backend sent its last event (or broke off).
    last_sent: Mutex<Option<Instant>>,
    /// Whether the backend went on because it was told to (not by the 5 s bound).
    released: Mutex<Vec<bool>>,
}

/// Sends `first`, waits for the gate (or 300 ms when `gated` is false),
/// then sends `rest`, or breaks off when `rest` is empty.
fn events(b: Arc<Backend>, first: String, rest: Vec<String>, gated: bool) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let _ = tx.send(Ok(Bytes::from(first))).await;
        let released = if gated {
            tokio::time::timeout(GATE, b.release.notified())
                .await
                .is_ok()
        } else {
            tokio::time::sleep(Duration::from_millis(300)).await;
            false
        };
        b.released.lock().unwrap().push(released);
        if rest.is_empty() {
            *b.last_sent.lock().unwrap() = Some(Instant::now());
            let _ = tx.send(Err(std::io::Error::other("backend gone"))).await;
            return;
        }
        let n = rest.len();
        for (i, e) in rest.into_iter().enumerate() {
            if i + 1 == n {
                *b.last_sent.lock().unwrap() = Some(Instant::now());
            }
            if tx.send(Ok(Bytes::from(e))).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    channel_body(rx)
}

fn tick(i: u32) -> String {
    format!("id: {i}\nevent: tick\ndata: {{\"n\":{i}}}\n\n")
}

fn chunk(content: &str) -> String {
    format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}}}}]}}\n\n")
}

async fn backend_handle(b: Arc<Backend>, req: hyper::Request<Incoming>) -> hyper::Response<Body> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let sse = |body: Body| {
        hyper::Response::builder()
            .header("Content-Type", "text/event-stream")
            .header("Cache-Control", "no-cache")
            .body(body)
            .unwrap()
    };
    match parts.uri.path() {
        "/api/events" => sse(events(b, tick(1), vec![tick(2), tick(3)], true)),
        "/api/broken" => sse(events(b, tick(1), Vec::new(), false)),
        "/api/upper" => sse(events(b, tick(1), vec![tick(2), tick(3)], false)),
        "/api/chat/completions" => {
            let req: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(req["stream"], true);
            let rest = vec![chunk(" world"), "data: [DONE]\n\n".to_owned()];
            sse(events(b, chunk("Hello"), rest, true))
        }
        _ => hyper::Response::builder()
            .status(404)
            .body(
                Full::new(Bytes::new())
                    .map_err(|never| match never {})
                    .boxed(),
            )
            .unwrap(),
    }
}

async fn backend() -> (u16, Arc<Backend>) {
    let state = Arc::new(Backend::default());
    let port = serve_backend(Arc::clone(&state), backend_handle).await;
    (port, state)
}

fn config(port: u16, admin: u16, backend: u16) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

[[api]]
name = "live"
path = "live"
service-url = "http://127.0.0.1:{backend}/api"
policy = '''<policies>
  <inbound><base /></inbound>
  <backend><base /></backend>
  <outbound>
    <base />
    <set-header name="X-Operation" exists-action="override"><value>@(context.Operation.Name)</value></set-header>
  </outbound>
  <on-error><base /></on-error>
</policies>'''

[[api.operation]]
name = "events"
method = "GET"
url-template = "/events"

[[api.operation]]
name = "broken"
method = "GET"
url-template = "/broken"

[[api.operation]]
name = "chat"
method = "POST"
url-template = "/chat/completions"

[[api.operation]]
name = "upper"
method = "GET"
url-template = "/upper"
policy = '''<policies>
  <inbound><base /></inbound>
  <backend><base /></backend>
  <outbound>
    <base />
    <set-body>@(context.Response.Body.As<string>().ToUpper())</set-body>
  </outbound>
  <on-error><base /></on-error>
</policies>'''
"#
    )
}

/// A response whose body is read frame by frame.
struct Open {
    status: u16,
    headers: hyper::HeaderMap,
    body: Incoming,
}

async fn open(method: &str, url: &str, body: &str) -> Open {
    let c: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), c.request(req))
        .await
        .expect("response headers within 10 s")
        .unwrap();
    let (parts, body) = resp.into_parts();
    Open {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    }
}

impl Open {
    /// Reads until the body holds a whole event (`\n\n`), at most 3 s.
    async fn first_event(&mut self) -> (String, Instant) {
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while !got.windows(2).any(|w| w == b"\n\n") {
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .expect("the first event reaches the client while the backend waits")
                .expect("the body goes on")
                .unwrap();
            if let Ok(d) = frame.into_data() {
                got.extend_from_slice(&d);
            }
        }
        (String::from_utf8(got).unwrap(), Instant::now())
    }

    /// Reads the rest, at most 10 s: the text, or the error that ended it.
    async fn rest(self) -> Result<String, String> {
        let all = tokio::time::timeout(Duration::from_secs(10), self.body.collect())
            .await
            .expect("the response ends (no hang)");
        all.map(|c| String::from_utf8(c.to_bytes().to_vec()).unwrap())
            .map_err(|e| e.to_string())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_bodies_pass_through_as_the_backend_produces_them() {
    let (backend_port, b) = backend().await;
    let dir = temp_dir("streaming");
    let (port, admin) = (free_port(), free_port());
    std::fs::write(dir.join("sluice.toml"), config(port, admin, backend_port)).unwrap();
    let gw = Sluice::start(&dir, port, admin).await;

    // Server-sent events: the first event arrives while the backend waits;
    // the outbound section still ran (its header is there).
    let mut r = open("GET", &gw.url("/live/events"), "").await;
    assert_eq!(r.status, 200, "{}", gw.log_text());
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(r.header("x-operation"), Some("events"));
    let (first, _) = r.first_event().await;
    assert_eq!(first, tick(1));
    b.release.notify_one();
    assert_eq!(r.rest().await.unwrap(), format!("{}{}", tick(2), tick(3)));
    assert_eq!(
        *b.released.lock().unwrap(),
        [true],
        "the backend was released by the client"
    );

    // An OpenAI-style streamed chat completion: same path, for a POST.
    let mut r = open(
        "POST",
        &gw.url("/live/chat/completions"),
        r#"{"messages":[{"role":"user","content":"hi"}],"stream":true}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-operation"), Some("chat"));
    let (first, _) = r.first_event().await;
    assert_eq!(first, chunk("Hello"));
    b.release.notify_one();
    assert_eq!(
        r.rest().await.unwrap(),
        format!("{}data: [DONE]\n\n", chunk(" world"))
    );
    assert_eq!(*b.released.lock().unwrap(), [true, true]);

    // The backend breaks off after one event: the client has it, and then
    // its response ends with an error instead of hanging.
    let mut r = open("GET", &gw.url("/live/broken"), "").await;
    assert_eq!(r.status, 200);
    let (first, _) = r.first_event().await;
    assert_eq!(first, tick(1));
    assert!(
        r.rest().await.is_err(),
        "a broken-off body is not a complete one"
    );

    // A policy reads the body (outbound set-body): it gets all of it, so
    // nothing reaches the client before the backend's last event.
    *b.last_sent.lock().unwrap() = None;
    let mut r = open("GET", &gw.url("/live/upper"), "").await;
    assert_eq!(r.status, 200);
    let (first, at) = r.first_event().await;
    let last_sent = b.last_sent.lock().unwrap().unwrap();
    assert!(
        at >= last_sent,
        "buffered: the body came after the last event"
    );
    let whole = first + &r.rest().await.unwrap();
    assert_eq!(
        whole,
        format!("{}{}{}", tick(1), tick(2), tick(3)).to_uppercase()
    );

    // Every request is counted, with the status the client got.
    let m = serve_support::get(&gw.admin_url("/metrics"))
        .await
        .unwrap()
        .text();
    assert!(
        m.contains(r#"sluice_requests_total{api="live",operation="events",status="200"} 1"#),
        "{m}"
    );
    drop(gw);
    let _ = std::fs::remove_dir_all(&dir);
}
