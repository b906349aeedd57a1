//! The labs' backend-pool pattern end to end: the real `sluice` binary in
//! front of two local OpenAI-shaped model servers, `east` (priority 1) that
//! answers every call `429` with `Retry-After: 60`, and `west` (priority 2)
//! that answers chat completions. The policy is the lab's
//! (`backend-pool-load-balancing`): `set-backend-service` to the pool, and
//! `retry` on 429/503 around `forward-request`. The `openai` Python package,
//! unchanged and with its own retries off (gateway/tests/openai_client.py),
//! gets an answer from west, never an error; east is called once, trips, and
//! is skipped by the next calls; `/metrics` shows the trip and
//! `GET /backends` the open breaker.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::body::Incoming;
use serde_json::{Value, json};
use serve_support::llm::{StubBody, json_response, openai_script};
use serve_support::{Sluice, free_port, get, serve_backend, temp_dir};

#[derive(Default)]
struct Model {
    /// Answers 429 when true.
    throttled: bool,
    calls: AtomicUsize,
}

async fn model(m: Arc<Model>, _req: hyper::Request<Incoming>) -> hyper::Response<StubBody> {
    m.calls.fetch_add(1, Ordering::SeqCst);
    if m.throttled {
        let body = json!({ "error": { "code": "429", "message": "Rate limit is exceeded." } });
        let mut r = json_response(429, &body);
        r.headers_mut()
            .insert("Retry-After", hyper::header::HeaderValue::from_static("60"));
        return r;
    }
    json_response(
        200,
        &json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{ "index": 0, "finish_reason": "stop",
                          "message": { "role": "assistant", "content": "from west" } }],
            "usage": { "prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7 }
        }),
    )
}

fn config(port: u16, admin: u16, east: u16, west: u16) -> String {
    format!(
        r#"
[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

[backends.east]
url = "http://127.0.0.1:{east}/openai"
[backends.east.circuit-breaker]
failure-count = 1
failure-interval = "PT1M"
status-code-ranges = [[429, 429], [500, 599]]
trip-duration = "PT10S"
accept-retry-after = true

[backends.west]
url = "http://127.0.0.1:{west}/openai"
[backends.west.circuit-breaker]
failure-count = 1
failure-interval = "PT1M"
status-code-ranges = [[429, 429], [500, 599]]
trip-duration = "PT10S"
accept-retry-after = true

[backends.openai-backend-pool]
type = "pool"
services = [{{ id = "east", priority = 1 }}, {{ id = "west", priority = 2 }}]

[[subscription]]
id = "sub-a"
key = "key-a-pool"

[[api]]
name = "openai"
path = "openai"
service-url = "http://127.0.0.1:1/unused"
subscription-required = true
policy = '''<policies>
    <inbound>
        <base />
        <set-backend-service backend-id="openai-backend-pool" />
    </inbound>
    <backend>
        <retry count="2" interval="0" first-fast-retry="true"
               condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)">
            <forward-request buffer-request-body="true" />
        </retry>
    </backend>
    <outbound><base /></outbound>
    <on-error>
        <base />
        <choose>
            <when condition="@(context.Response.StatusCode == 503)">
                <return-response>
                    <set-status code="503" reason="Service Unavailable" />
                </return-response>
            </when>
        </choose>
    </on-error>
</policies>'''
"#
    )
}

/// Runs gateway/tests/openai_client.py for `calls` calls; its reports.
fn openai_calls(base_url: &str, calls: usize) -> Vec<Value> {
    let mut child = openai_script("openai_client.py")
        .arg(base_url)
        .arg("x-unused")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for _ in 0..calls {
            let step = json!({ "key": "key-a-pool", "prompt": "hello", "stream": false });
            writeln!(stdin, "{step}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let reports: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        reports.len(),
        calls + 1,
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(reports[0]["ready"], true, "{text}");
    reports[1..].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_client_sees_no_429_and_the_metrics_show_the_trip() {
    let east = Arc::new(Model {
        throttled: true,
        ..Model::default()
    });
    let west = Arc::new(Model::default());
    let east_port = serve_backend(Arc::clone(&east), model).await;
    let west_port = serve_backend(Arc::clone(&west), model).await;
    let dir = temp_dir("backend-pool");
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        config(port, admin, east_port, west_port),
    )
    .unwrap();
    let gw = Sluice::start(&dir, port, admin).await;

    let base = gw.url("/openai");
    let reports = tokio::task::spawn_blocking(move || openai_calls(&base, 3))
        .await
        .unwrap();
    for r in &reports {
        assert!(r.get("error").is_none(), "{r}\n{}", gw.log_text());
        assert_eq!(r["status"], 200, "{r}");
        assert_eq!(r["content"], "from west", "{r}");
    }
    // east was tried once, tripped (for its Retry-After), and skipped after.
    assert_eq!(east.calls.load(Ordering::SeqCst), 1);
    assert_eq!(west.calls.load(Ordering::SeqCst), 3);

    let metrics = get(&gw.admin_url("/metrics")).await.unwrap().text();
    assert!(
        metrics.contains("sluice_backend_trips_total{backend=\"east\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sluice_backend_open{backend=\"east\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sluice_backend_requests_total{backend=\"west\"} 3"),
        "{metrics}"
    );
    let backends: Value =
        serde_json::from_str(&get(&gw.admin_url("/backends")).await.unwrap().text()).unwrap();
    assert_eq!(backends["backends"]["east"]["state"], "open", "{backends}");
    assert_eq!(backends["backends"]["east"]["trips"], 1, "{backends}");
    assert_eq!(
        backends["backends"]["west"]["state"], "closed",
        "{backends}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
