//! An APIOps extract with an Azure OpenAI-shaped API, a semantic cache and
//! a token limit (gateway/tests/data/apiops-openai), served by the real
//! `sluice run` binary through a `sluice.toml` that includes it (`[apiops]`
//! with the extract's `configuration.local.yaml` overrides) and adds the
//! semantic cache's store and the counters; the client is the `openai`
//! Python package, unchanged (`openai.AzureOpenAI`,
//! gateway/tests/openai_azure_client.py, installed by `scripts/python-deps`),
//! against a local mock of the model: chat completions with a usage of
//! [`TOKENS`] tokens each (and prompts of more than 100 tokens), and
//! embeddings from a small keyword table (a question and its paraphrase at
//! cosine distance 0.0099, under the policy's threshold of 0.05).
//!
//! Checked, call by call: the first question misses and reaches the model
//! (with the extract's secret named value as its `api-key`, through the
//! overridden backend URL), and its answer spends more than the
//! subscription's `tokens-per-minute="100"`; its paraphrase is a semantic
//! cache hit with the first answer and no model call (the cache answers
//! before the limit is asked); another question gets 429 from the token
//! limit, which the `openai` client raises as its `RateLimitError` with
//! APIM's message and a `Retry-After`, and the model is not called.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::{Value, json};
use serve_support::{Sluice, free_port, serve_backend, temp_dir};
use sluice_policies::redis_server::repo_root;

const STATUS_HEADER: &str = "x-sluice-cache";
/// The usage the model reports for each answer: more than the extract's
/// `tokens-per-minute="100"`.
const TOKENS: u64 = 140;
/// The backend's key: the extract's secret named value `aoai-key`.
const AOAI_KEY: &str = "aoai-key-e2e";
/// The subscription `chat-app`'s key (never in an extract).
const SUBSCRIPTION_KEY: &str = "chat-app-key-e2e";

/// The questions; each is asked with [`prompt`]'s instructions.
const QUESTION: &str = "What is the capital of France?";
const PARAPHRASE: &str = "Tell me France's capital city";
const OTHER: &str = "How tall is the Eiffel Tower?";

/// A question with instructions: a prompt of more than 100 tokens, so that
/// the gateway's count of a call is over the limit whether it takes the
/// answer's usage or estimates the prompt.
fn prompt(question: &str) -> String {
    format!(
        "{question} {}",
        "Answer in one short sentence, please. ".repeat(20)
    )
}

type Body = BoxBody<Bytes, std::io::Error>;

/// What the mock model saw.
#[derive(Default)]
struct Model {
    chat_calls: AtomicUsize,
    embeddings_calls: AtomicUsize,
    /// Each chat call: its path and query, its `api-key`, its last message.
    chats: Mutex<Vec<(String, Option<String>, String)>>,
}

/// A vector per keyword: the question and its paraphrase are close, any
/// other text is orthogonal to both (and to each other).
fn embedding(text: &str) -> Vec<f32> {
    let mut v = vec![0.0; 8];
    if text.contains("capital of France") {
        v[0] = 1.0;
    } else if text.contains("France's capital") {
        v[0] = 0.99;
        v[1] = 0.14;
    } else if text.contains("Eiffel") {
        v[5] = 1.0;
    } else {
        v[7] = 1.0;
    }
    v
}

/// The `n`th answer: about 130 tokens of text.
fn answer(n: usize) -> String {
    format!(
        "[answer {n}] {}",
        "Paris is the capital of France. ".repeat(18)
    )
}

fn json_response(status: u16, v: &Value) -> hyper::Response<Body> {
    hyper::Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(
            Full::new(Bytes::from(v.to_string()))
                .map_err(|never| match never {})
                .boxed(),
        )
        .unwrap()
}

async fn model_handle(m: Arc<Model>, req: hyper::Request<Incoming>) -> hyper::Response<Body> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return json_response(400, &json!({ "error": { "message": "not JSON" } }));
    };
    let path = parts.uri.path();
    if parts.method == hyper::Method::POST && path == "/v1/embeddings" {
        m.embeddings_calls.fetch_add(1, Ordering::SeqCst);
        let text = req["input"].as_str().unwrap_or_default();
        return json_response(
            200,
            &json!({
                "object": "list",
                "data": [{ "object": "embedding", "index": 0, "embedding": embedding(text) }],
                "model": "e2e-embeddings",
                "usage": { "prompt_tokens": 8, "total_tokens": 8 },
            }),
        );
    }
    if parts.method == hyper::Method::POST && path.ends_with("/chat/completions") {
        let n = m.chat_calls.fetch_add(1, Ordering::SeqCst) + 1;
        let last = req["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned();
        let key = parts
            .headers
            .get("api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let target = parts
            .uri
            .path_and_query()
            .map_or_else(String::new, |p| p.to_string());
        m.chats.lock().unwrap().push((target, key, last));
        return json_response(
            200,
            &json!({
                "id": format!("chatcmpl-apiops-{n}"),
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": "gpt-4o",
                "choices": [{
                    "index": 0,
                    "message": { "role": "assistant", "content": answer(n) },
                    "finish_reason": "stop",
                }],
                "usage": { "prompt_tokens": 14, "completion_tokens": TOKENS - 14, "total_tokens": TOKENS },
            }),
        );
    }
    json_response(404, &json!({ "error": { "message": "not found" } }))
}

fn config(port: u16, admin: u16, extract: &std::path::Path) -> String {
    let extract = extract.display();
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

# The extract: its API, policy, backends, named value, product and subscription.
[apiops]
dir = "{extract}"
overrides = "{extract}/configuration.local.yaml"

# What an extract does not hold.
[semantic-cache]
store = "memory"
status-header = "{STATUS_HEADER}"
# A loaded CI machine may be slow; a timeout would be a miss, not an error.
embeddings-timeout-ms = 10000

[counters]
store = "memory"
"#
    )
}

/// The directory `scripts/python-deps` installed the `openai` package into.
fn python_path() -> String {
    let out = Command::new(repo_root().join("scripts/python-deps"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/python-deps failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extract_with_a_semantic_cache_and_a_token_limit_serves_the_openai_client() {
    let model = Arc::new(Model::default());
    let model_port = serve_backend(Arc::clone(&model), model_handle).await;
    let extract = repo_root().join("gateway/tests/data/apiops-openai");
    let dir = temp_dir("apiops-openai");
    let (port, admin) = (free_port(), free_port());
    std::fs::write(dir.join("sluice.toml"), config(port, admin, &extract)).unwrap();
    let aoai_url = format!("http://127.0.0.1:{model_port}/openai");
    let embeddings_url = format!("http://127.0.0.1:{model_port}/v1/embeddings");
    let gw = Sluice::start_with_env(
        &dir,
        port,
        admin,
        &[
            ("AOAI_URL", aoai_url.as_str()),
            ("EMBEDDINGS_URL", embeddings_url.as_str()),
            ("SLUICE_NV_AOAI_KEY", AOAI_KEY),
            ("SLUICE_SUBSCRIPTION_CHAT_APP_PRIMARY", SUBSCRIPTION_KEY),
        ],
    )
    .await;

    let out = tokio::time::timeout(
        Duration::from_secs(90),
        tokio::process::Command::new("python3")
            .arg(repo_root().join("gateway/tests/openai_azure_client.py"))
            .arg(gw.url(""))
            .arg(SUBSCRIPTION_KEY)
            .arg(STATUS_HEADER)
            .args([QUESTION, PARAPHRASE, OTHER].map(prompt))
            .env("PYTHONPATH", python_path())
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("openai_azure_client.py took more than 90 s")
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "openai_azure_client.py failed:\n{stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    let calls = report["calls"].as_array().unwrap();
    let log = gw.log_text();
    assert_eq!(calls.len(), 3, "{report}\n{log}");

    // 1. A miss: the model answers, through the overridden backend URL, with
    // the secret named value as its key; the subscription's 100 tokens a
    // minute are all there before it, and spent after it.
    assert_eq!(calls[0]["status"], 200, "{report}\n{log}");
    assert_eq!(calls[0]["cache"], "miss", "{report}");
    assert_eq!(calls[0]["remaining"], "100", "{report}");
    assert_eq!(calls[0]["content"], answer(1), "{report}");
    {
        let chats = model.chats.lock().unwrap();
        let (target, key, last) = &chats[0];
        assert_eq!(
            target, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
            "{report}"
        );
        assert_eq!(key.as_deref(), Some(AOAI_KEY));
        assert_eq!(*last, prompt(QUESTION));
    }

    // 2. The paraphrase: a semantic hit with the first answer, no model
    // call; the cache answers before the token limit is asked.
    assert_eq!(calls[1]["status"], 200, "{report}\n{log}");
    assert!(
        calls[1]["cache"]
            .as_str()
            .is_some_and(|c| c.starts_with("hit; layer=semantic")),
        "{report}"
    );
    assert_eq!(calls[1]["content"], answer(1), "{report}");

    // 3. Another question misses the cache and is over the limit: 429
    // before the model, raised by the client as its RateLimitError, with
    // APIM's message and a Retry-After.
    assert_eq!(calls[2]["status"], 429, "{report}\n{log}");
    assert_eq!(calls[2]["error"], "RateLimitError", "{report}");
    let message = calls[2]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Token limit is exceeded. Try again in "),
        "{report}"
    );
    let retry: u64 = calls[2]["retry_after"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {report}"));
    assert!((1..=60).contains(&retry), "{report}");
    assert_eq!(calls[2]["remaining"], "0", "{report}");

    assert_eq!(model.chat_calls.load(Ordering::SeqCst), 1, "{report}");
    // The cache looks every question up (the limit comes after it).
    assert_eq!(model.embeddings_calls.load(Ordering::SeqCst), 3, "{report}");
}
