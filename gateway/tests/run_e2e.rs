//! End to end: the real `sluice` binary, started on free loopback ports with
//! a configuration, in front of a real local backend (a hyper server in this
//! test with a JSON endpoint and a server-sent-events endpoint). Real HTTP
//! requests go through the gateway; the test checks what the backend saw
//! (method, path, query, headers with `X-Forwarded-For`, body) and what the
//! client got (status, headers, body), plus the limits (413, 431), routing
//! errors, HTTP/2, the metrics, and a configuration that does not load.
//!
//! Server-sent events: here the test checks that every event arrives whole
//! and in order; that each one arrives as it is produced (the body passes
//! through unbuffered when no policy reads it) is `run_streaming.rs`.

#![allow(clippy::unwrap_used, clippy::panic)]

mod serve_support;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serve_support::{Sluice, channel_body, free_port, get, send, serve_backend, temp_dir};

/// What the backend received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: hyper::HeaderMap,
    body: Vec<u8>,
}

type Body = BoxBody<Bytes, Infallible>;

async fn backend_handle(
    seen: Arc<Mutex<Vec<Seen>>>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<Body> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes().to_vec())
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path: path.clone(),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    if parts.uri.path() == "/api/events" {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, Infallible>>(4);
        tokio::spawn(async move {
            for i in 1..=3 {
                let event = format!("id: {i}\nevent: tick\ndata: {{\"n\":{i}}}\n\n");
                if tx.send(Ok(Bytes::from(event))).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        });
        let stream = channel_body(rx);
        return hyper::Response::builder()
            .header("Content-Type", "text/event-stream")
            .header("Cache-Control", "no-cache")
            .body(stream)
            .unwrap();
    }
    let answer =
        serde_json::json!({ "id": 42, "name": "lamp", "received": String::from_utf8_lossy(&body) });
    hyper::Response::builder()
        .status(201)
        .header("Content-Type", "application/json")
        .header("X-Backend", "yes")
        .body(Full::new(Bytes::from(answer.to_string())).boxed())
        .unwrap()
}

/// Starts the backend; returns its port and what it saw.
async fn backend() -> (u16, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let port = serve_backend(Arc::clone(&seen), backend_handle).await;
    (port, seen)
}

const POLICY: &str = r#"<policies>
  <inbound>
    <base />
    <set-header name="X-Via" exists-action="override"><value>sluice</value></set-header>
    <set-header name="X-Item" exists-action="override"><value>@(context.Request.MatchedParameters.GetValueOrDefault("id", "none"))</value></set-header>
  </inbound>
  <backend><base /></backend>
  <outbound>
    <base />
    <set-header name="X-Operation" exists-action="override"><value>@(context.Operation.Name)</value></set-header>
  </outbound>
  <on-error><base /></on-error>
</policies>"#;

fn config(port: u16, admin: u16, backend: u16) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

[limits]
max-request-header-bytes = 4096
max-request-body-bytes = 1024

[[api]]
name = "shop"
path = "shop"
service-url = "http://127.0.0.1:{backend}/api"
policy-file = "shop.xml"

[[api.operation]]
name = "create-item"
method = "POST"
url-template = "/items/{{id}}"

[[api.operation]]
name = "events"
method = "GET"
url-template = "/events"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_through_the_real_binary_to_a_real_backend() {
    let (backend_port, seen) = backend().await;
    let dir = temp_dir("e2e");
    let (port, admin) = (free_port(), free_port());
    std::fs::write(dir.join("sluice.toml"), config(port, admin, backend_port)).unwrap();
    std::fs::write(dir.join("shop.xml"), POLICY).unwrap();
    let gw = Sluice::start(&dir, port, admin).await;

    // JSON, HTTP/1.1.
    let r = send(
        "POST",
        &gw.url("/shop/items/42?color=red"),
        &[("Content-Type", "application/json"), ("X-Client", "test")],
        br#"{"name":"lamp"}"#,
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 201, "{}", gw.log_text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-backend"), Some("yes"));
    assert_eq!(r.header("x-operation"), Some("create-item"));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "id": 42, "name": "lamp", "received": r#"{"name":"lamp"}"# })
    );
    {
        let seen = seen.lock().unwrap();
        let s = seen.last().unwrap();
        assert_eq!(s.method, "POST");
        assert_eq!(s.path, "/api/items/42?color=red");
        assert_eq!(s.body, br#"{"name":"lamp"}"#);
        let h = |n: &str| {
            s.headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(h("x-forwarded-for").as_deref(), Some("127.0.0.1"));
        assert_eq!(h("x-via").as_deref(), Some("sluice"));
        assert_eq!(h("x-item").as_deref(), Some("42"));
        assert_eq!(h("x-client").as_deref(), Some("test"));
        assert_eq!(h("content-type").as_deref(), Some("application/json"));
        assert_eq!(
            h("host").as_deref(),
            Some(format!("127.0.0.1:{backend_port}").as_str())
        );
    }

    // The same over HTTP/2 (cleartext, prior knowledge).
    let r = send("POST", &gw.url("/shop/items/7"), &[], b"h2", true)
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    assert_eq!(seen.lock().unwrap().last().unwrap().path, "/api/items/7");

    // Server-sent events: all three, whole and in order.
    let r = get(&gw.url("/shop/events")).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let events: Vec<&str> = std::str::from_utf8(&r.body)
        .unwrap()
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .collect();
    assert_eq!(
        events,
        [
            "id: 1\nevent: tick\ndata: {\"n\":1}",
            "id: 2\nevent: tick\ndata: {\"n\":2}",
            "id: 3\nevent: tick\ndata: {\"n\":3}",
        ]
    );

    // No operation: APIM's 404, and the backend is not called.
    let before = seen.lock().unwrap().len();
    let r = get(&gw.url("/shop/nothing")).await.unwrap();
    assert_eq!(r.status, 404);
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body["message"],
        "Unable to match incoming request to an operation."
    );
    let r = get(&gw.url("/elsewhere")).await.unwrap();
    assert_eq!(r.status, 404);

    // Limits: body over 1024 bytes is 413, headers over 4096 bytes are 431.
    let r = send("POST", &gw.url("/shop/items/1"), &[], &[b'x'; 2000], false)
        .await
        .unwrap();
    assert_eq!(r.status, 413);
    let big = "y".repeat(5000);
    let r = send(
        "POST",
        &gw.url("/shop/items/1"),
        &[("X-Big", &big)],
        b"",
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 431);
    assert_eq!(
        seen.lock().unwrap().len(),
        before,
        "refused requests never reach the backend"
    );

    // Metrics: by API, operation and status.
    let m = get(&gw.admin_url("/metrics")).await.unwrap().text();
    assert!(
        m.contains(r#"sluice_requests_total{api="shop",operation="create-item",status="201"} 2"#),
        "{m}"
    );
    assert!(m.contains(r#"sluice_requests_total{api="shop",operation="events",status="200"} 1"#));
    assert!(m.contains(r#"sluice_requests_total{api="shop",operation="",status="404"} 1"#));
    assert!(m.contains(r#"sluice_requests_total{api="",operation="",status="404"} 1"#));
    assert!(m.contains("sluice_request_duration_seconds_bucket{api=\"shop\""));
    let status = gw.status().await;
    assert_eq!(status["generation"], 1);
    assert_eq!(status["listen"], format!("127.0.0.1:{port}"));
    drop(gw);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_configuration_that_does_not_load_prints_every_diagnostic_and_exits_1() {
    let dir = temp_dir("bad-config");
    std::fs::write(
        dir.join("sluice.toml"),
        "[gateway]\nlisten = \"127.0.0.1:1\"\n\n[[api]]\nname = \"a\"\npath = \"a\"\npolicy = '<policies><inbound><bogus /></inbound></policies>'\n\n[[product]]\nname = \"p\"\napis = [\"missing\"]\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("run")
        .arg(dir.join("sluice.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[E0301]: unsupported policy `bogus`"),
        "{err}"
    );
    assert!(
        err.contains("names the API `missing`, which is not configured"),
        "{err}"
    );
    assert!(
        err.contains("sluice.toml:11:"),
        "file, line and column: {err}"
    );
    assert!(err.contains("does not load: 2 errors"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
