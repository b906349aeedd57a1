//! Token accounting end to end: the `openai` Python package, unchanged,
//! streaming through the real `sluice` binary from a local OpenAI-shaped
//! backend that streams its answer an event at a time.
//!
//! The API counts tokens (`llm-emit-token-metric`, `llm-token-limit`).
//! Checked: a stream the client did not ask usage for reaches the backend
//! with `stream_options.include_usage` added; the client's body is the
//! backend's, byte for byte, without the usage-only chunk; the `openai`
//! client reads the content with no usage chunk, its first chunk long
//! before the end (nothing buffered); a client that asks for usage gets it;
//! the usage of all three is in `/metrics` (per API, model, type, and as
//! `gen_ai_client_token_usage`), and the token quota's remaining count went
//! down by exactly that.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{Value, json};
use serve_support::llm::{StubBody, chat_chunk, event_stream, json_response, openai_script};
use serve_support::{Sluice, free_port, get, send, serve_backend, temp_dir};

/// The usage the backend reports for each answer.
const PROMPT: u64 = 14;
const COMPLETION: u64 = 5;
/// The usage the backend reports in a whole (not streamed) JSON answer.
const JSON_PROMPT: u64 = 50;
const JSON_COMPLETION: u64 = 10;
/// Between two events of the backend's stream.
const PAUSE: Duration = Duration::from_millis(150);

#[derive(Default)]
struct Backend {
    /// The request bodies it received.
    requests: Mutex<Vec<Value>>,
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    chat_chunk("chatcmpl-tok", delta, finish)
}

/// The backend's events; with the usage chunk when asked for.
fn events(usage: bool) -> Vec<String> {
    let mut e = vec![chunk(json!({ "role": "assistant", "content": "" }), None)];
    for piece in ["The ", "capital ", "is ", "Paris."] {
        e.push(chunk(json!({ "content": piece }), None));
    }
    e.push(chunk(json!({}), Some("stop")));
    if usage {
        let u = json!({
            "id": "chatcmpl-tok",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": "gpt-4o",
            "choices": [],
            "usage": { "prompt_tokens": PROMPT, "completion_tokens": COMPLETION, "total_tokens": PROMPT + COMPLETION },
        });
        e.push(format!("data: {u}\n\n"));
    }
    e.push("data: [DONE]\n\n".to_owned());
    e
}

async fn backend_handle(
    b: Arc<Backend>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<StubBody> {
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let usage = req["stream_options"]["include_usage"] == true;
    let streamed = req["stream"] == true;
    b.requests.lock().unwrap().push(req);
    if !streamed {
        return json_response(
            200,
            &json!({
                "choices": [{ "index": 0, "message": { "role": "assistant", "content": "Paris." } }],
                "usage": { "prompt_tokens": JSON_PROMPT, "completion_tokens": JSON_COMPLETION, "total_tokens": JSON_PROMPT + JSON_COMPLETION },
            }),
        );
    }
    event_stream(events(usage), PAUSE, Duration::ZERO)
}

fn config(port: u16, admin: u16, backend: u16) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

[[subscription]]
id = "sub-t"
key = "key-t-e2e"

[[api]]
name = "llm"
path = "llm"
service-url = "http://127.0.0.1:{backend}/openai"
subscription-required = true
policy = '''<policies>
  <inbound>
    <base />
    <llm-token-limit counter-key="@(context.Subscription.Id)" token-quota="1000000" token-quota-period="Daily" estimate-prompt-tokens="false" remaining-quota-tokens-header-name="x-remaining-quota" />
    <llm-emit-token-metric namespace="e2e">
      <dimension name="Subscription ID" />
      <dimension name="Model" />
    </llm-emit-token-metric>
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>'''

[[api.operation]]
name = "chat-completions"
method = "POST"
url-template = "/chat/completions"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_usage_is_counted_and_its_chunk_never_reaches_a_client_that_did_not_ask() {
    let backend = Arc::new(Backend::default());
    let backend_port = serve_backend(Arc::clone(&backend), backend_handle).await;
    let (port, admin) = (free_port(), free_port());
    let dir = temp_dir("token-usage");
    std::fs::write(dir.join("sluice.toml"), config(port, admin, backend_port)).unwrap();
    let gw = Sluice::start(&dir, port, admin).await;
    let key = [
        ("Ocp-Apim-Subscription-Key", "key-t-e2e"),
        ("Content-Type", "application/json"),
    ];
    let question = json!({
        "model": "gpt-4o",
        "stream": true,
        "messages": [{ "role": "user", "content": "What is the capital of France?" }],
    });

    // 1. A raw client: the body is the backend's, without the usage chunk.
    let r = send(
        "POST",
        &gw.url("/llm/chat/completions"),
        &key,
        question.to_string().as_bytes(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), events(false).concat());
    assert_eq!(r.header("x-remaining-quota"), Some("1000000"));
    let first = backend.requests.lock().unwrap()[0].clone();
    assert_eq!(
        first["stream_options"],
        json!({ "include_usage": true }),
        "{first}"
    );
    assert_eq!(first["messages"], question["messages"]);

    // 2. The openai package, with and without asking for usage.
    let out = openai_script("openai_stream_usage.py")
        .arg(gw.url("/llm"))
        .arg("key-t-e2e")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "openai_stream_usage.py:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(report.get("error").is_none(), "{report}");
    let plain = &report["plain"];
    assert_eq!(plain["content"], "The capital is Paris.", "{report}");
    assert_eq!(plain["usage"], Value::Null, "{report}");
    assert_eq!(plain["empty_choices"], 0, "{report}");
    assert_eq!(plain["chunks"], 6, "{report}");
    // Event by event: the first chunk came while the backend was still writing.
    let (first_s, total_s) = (
        plain["first_s"].as_f64().unwrap(),
        plain["total_s"].as_f64().unwrap(),
    );
    assert!(
        first_s + 0.5 < total_s,
        "first chunk at {first_s}s, end at {total_s}s"
    );
    let with = &report["with_usage"];
    assert_eq!(with["content"], "The capital is Paris.", "{report}");
    assert_eq!(with["usage"]["prompt_tokens"], PROMPT, "{report}");
    assert_eq!(
        with["usage"]["total_tokens"],
        PROMPT + COMPLETION,
        "{report}"
    );
    assert_eq!(with["empty_choices"], 1, "{report}");
    let requests = backend.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r["stream_options"]["include_usage"] == true)
    );

    // 3. Three answers counted: in the metrics, and in the limit's count.
    let total = 3 * (PROMPT + COMPLETION);
    let metrics = metrics_with(&gw, &format!("type=\"total\"}} {total}")).await;
    for want in [
        format!(
            "sluice_llm_tokens_total{{api=\"llm\",operation=\"chat-completions\",subscription=\"sub-t\",model=\"gpt-4o\",type=\"total\"}} {total}"
        ),
        format!(
            "sluice_llm_tokens_total{{api=\"llm\",operation=\"chat-completions\",subscription=\"sub-t\",model=\"gpt-4o\",type=\"prompt\"}} {}",
            3 * PROMPT
        ),
        format!("e2e_total_tokens_sum{{subscription_id=\"sub-t\",model=\"gpt-4o\"}} {total}"),
        "e2e_total_tokens_count{subscription_id=\"sub-t\",model=\"gpt-4o\"} 3".to_owned(),
        format!(
            "gen_ai_client_token_usage_sum{{gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o\",gen_ai_token_type=\"output\"}} {}",
            3 * COMPLETION
        ),
    ] {
        assert!(metrics.contains(&want), "no `{want}` in:\n{metrics}");
    }
    // (A quota's fixed day, not a sliding minute whose weight changes with
    // time: exact, unless the test runs across midnight UTC.)
    assert_eq!(
        remaining_quota(&gw, &key, &question).await,
        1_000_000 - total
    );

    // 4. A JSON answer (not a stream) passes through the gateway as it
    // arrives too: the usage it reports is what counts, not the estimate.
    let plain = json!({ "model": "gpt-4o", "messages": question["messages"] });
    let r = send(
        "POST",
        &gw.url("/llm/chat/completions"),
        &key,
        plain.to_string().as_bytes(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Paris."), "{}", r.text());
    // Counted so far: step 3's stream and this answer's reported usage.
    let total = total + PROMPT + COMPLETION + JSON_PROMPT + JSON_COMPLETION;
    let want = format!(
        "sluice_llm_tokens_total{{api=\"llm\",operation=\"chat-completions\",subscription=\"sub-t\",model=\"gpt-4o\",type=\"total\"}} {total}"
    );
    let metrics = metrics_with(&gw, &want).await;
    assert!(metrics.contains(&want), "no `{want}` in:\n{metrics}");
    assert_eq!(
        remaining_quota(&gw, &key, &question).await,
        1_000_000 - total
    );
}

/// The gateway's metrics once they hold `want` (the usage is recorded when
/// the answer has ended, just after the client has it), or as they are
/// after five seconds.
async fn metrics_with(gw: &Sluice, want: &str) -> String {
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = get(&gw.admin_url("/metrics")).await.unwrap().text();
        if metrics.contains(want) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    metrics
}

/// The `x-remaining-quota` a new request to the gateway is told.
async fn remaining_quota(gw: &Sluice, key: &[(&str, &str)], body: &Value) -> u64 {
    let r = send(
        "POST",
        &gw.url("/llm/chat/completions"),
        key,
        body.to_string().as_bytes(),
        false,
    )
    .await
    .unwrap();
    r.header("x-remaining-quota").unwrap().parse().unwrap()
}
