//! The semantic cache end to end: the `openai` Python package, unchanged,
//! as the client (gateway/tests/openai_client.py, installed by
//! `scripts/python-deps`), the real `sluice` binary, a local OpenAI-shaped
//! backend, and a real Redis with the search module as the vector store.
//!
//! The backend answers chat completions (a JSON body, or a server-sent
//! event stream of `chat.completion.chunk` events sent a chunk at a time
//! when the request says `"stream": true`), numbering its answers so a
//! cached answer can be told from a fresh one, and embeddings from a small
//! keyword table: a prompt and its paraphrase get vectors at cosine
//! distance 0.0099, under the API's threshold of 0.05.
//!
//! Checked, call by call: a first question misses and reaches the backend;
//! its paraphrase is a semantic hit with the first answer and no backend
//! call; the same with `stream=True` (a separate partition: miss, then a
//! hit replayed as a stream the client reads chunk by chunk); the
//! paraphrase from another subscription misses (`vary-by` the subscription).
//! At the end Redis itself holds one entry per partition under the
//! configured prefix, and `GET /cache` reports the Redis store; the admin
//! `POST /cache/purge?partition=` removes one partition's entry (its
//! question misses again, the others still hit), `POST /cache/purge` all.
//!
//! The second test: a stream the client closes at `data: [DONE]` (as the
//! `openai` package does) before the backend's body has ended is whole, and
//! stored.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{Value, json};
use serve_support::llm::{StubBody, chat_chunk, event_stream, json_response, openai_script};
use serve_support::{Sluice, free_port, serve_backend, temp_dir};
use sluice_policies::redis_server::RedisServer;

/// The opt-in header that reports the cache's status (and `-partition`).
const STATUS_HEADER: &str = "x-sluice-cache";
/// How long one call of the Python client may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

const QUESTION: &str = "What is the capital of France?";
const PARAPHRASE: &str = "Tell me France's capital city";

/// What the backend saw.
#[derive(Default)]
struct Backend {
    /// Chat completion calls (streamed or not).
    chat_calls: AtomicUsize,
    /// Embeddings calls.
    embeddings_calls: AtomicUsize,
    /// Each chat call: whether it streamed, and its last message.
    chats: Mutex<Vec<(bool, String)>>,
    /// How long a stream stays open after its `data: [DONE]` event.
    end_delay: Duration,
}

/// A vector per keyword: the question and its paraphrase are close, any
/// other text is orthogonal to both.
fn embedding(text: &str) -> Vec<f32> {
    let mut v = vec![0.0; 8];
    if text.contains("capital of France") {
        v[0] = 1.0;
    } else if text.contains("France's capital") {
        v[0] = 0.99;
        v[1] = 0.14;
    } else {
        v[7] = 1.0;
    }
    v
}

/// The answer of the backend's `n`th chat call.
fn answer(n: usize) -> String {
    format!("The capital of France is Paris. [answer {n}]")
}

/// A streamed answer: the role, the content in pieces, the finish, then
/// `data: [DONE]`, one event per write with small pauses between; the body
/// ends `end_delay` after the last event.
fn stream(id: String, content: String, end_delay: Duration) -> hyper::Response<StubBody> {
    let mut events = vec![chat_chunk(
        &id,
        json!({ "role": "assistant", "content": "" }),
        None,
    )];
    for piece in content.split_inclusive(' ') {
        events.push(chat_chunk(&id, json!({ "content": piece }), None));
    }
    events.push(chat_chunk(&id, json!({}), Some("stop")));
    events.push("data: [DONE]\n\n".to_owned());
    event_stream(events, Duration::from_millis(20), end_delay)
}

async fn backend_handle(
    b: Arc<Backend>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<StubBody> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return json_response(400, &json!({ "error": { "message": "not JSON" } }));
    };
    let path = parts.uri.path();
    if parts.method == hyper::Method::POST && path == "/v1/embeddings" {
        b.embeddings_calls.fetch_add(1, Ordering::SeqCst);
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
    if parts.method == hyper::Method::POST && path == "/openai/chat/completions" {
        let n = b.chat_calls.fetch_add(1, Ordering::SeqCst) + 1;
        let streamed = req["stream"] == true;
        let last = req["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned();
        b.chats.lock().unwrap().push((streamed, last));
        let id = format!("chatcmpl-e2e-{n}");
        if streamed {
            return stream(id, answer(n), b.end_delay);
        }
        return json_response(
            200,
            &json!({
                "id": id,
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": "gpt-4o",
                "choices": [{
                    "index": 0,
                    "message": { "role": "assistant", "content": answer(n) },
                    "finish_reason": "stop",
                }],
                "usage": { "prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21 },
            }),
        );
    }
    json_response(404, &json!({ "error": { "message": "not found" } }))
}

fn config(port: u16, admin: u16, backend: u16, redis: &RedisServer, prefix: &str) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

[semantic-cache]
store = "redis"
redis-url = "{redis_url}"
redis-prefix = "{prefix}"
status-header = "{STATUS_HEADER}"
# A loaded CI machine may be slow; a timeout would be a miss, not an error.
store-timeout-ms = 5000

[backends.embeddings]
url = "http://127.0.0.1:{backend}/v1/embeddings"

[[subscription]]
id = "sub-a"
key = "key-a-e2e"

[[subscription]]
id = "sub-b"
key = "key-b-e2e"

[[api]]
name = "llm"
path = "llm"
service-url = "http://127.0.0.1:{backend}/openai"
subscription-required = true
policy = '''<policies>
  <inbound>
    <base />
    <llm-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings" embeddings-backend-auth="system-assigned">
      <vary-by>@(context.Subscription.Id)</vary-by>
    </llm-semantic-cache-lookup>
  </inbound>
  <backend><base /></backend>
  <outbound>
    <llm-semantic-cache-store duration="300" />
    <base />
  </outbound>
  <on-error><base /></on-error>
</policies>'''

[[api.operation]]
name = "chat-completions"
method = "POST"
url-template = "/chat/completions"
"#,
        redis_url = redis.url(),
    )
}

/// gateway/tests/openai_client.py, one call per line it is sent.
struct OpenAiClient {
    child: Child,
    stdin: ChildStdin,
    lines: tokio::sync::mpsc::Receiver<String>,
    stderr: std::path::PathBuf,
}

impl OpenAiClient {
    async fn start(base_url: &str, dir: &std::path::Path) -> OpenAiClient {
        let stderr = dir.join("openai_client.stderr");
        let mut child = openai_script("openai_client.py")
            .arg(base_url)
            .arg(STATUS_HEADER)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = tokio::sync::mpsc::channel(16);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.blocking_send(line).is_err() {
                    return;
                }
            }
        });
        let mut c = OpenAiClient {
            child,
            stdin,
            lines,
            stderr,
        };
        let ready = c.next_line().await;
        assert_eq!(ready["ready"], true, "{ready}");
        c
    }

    async fn next_line(&mut self) -> Value {
        let line = tokio::time::timeout(CALL_TIMEOUT, self.lines.recv()).await;
        match line {
            Ok(Some(l)) => serde_json::from_str(&l).unwrap(),
            Ok(None) => panic!("openai_client.py ended:\n{}", self.stderr_text()),
            Err(_) => panic!(
                "openai_client.py said nothing within {CALL_TIMEOUT:?}:\n{}",
                self.stderr_text()
            ),
        }
    }

    fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// One `chat.completions.create` call; its report.
    async fn call(&mut self, key: &str, prompt: &str, stream: bool) -> Value {
        let step = json!({ "key": key, "prompt": prompt, "stream": stream });
        writeln!(self.stdin, "{step}").unwrap();
        self.stdin.flush().unwrap();
        let report = self.next_line().await;
        assert!(
            report.get("error").is_none(),
            "the openai client failed on {step}: {report}\n{}",
            self.stderr_text()
        );
        assert_eq!(report["status"], 200, "{step}: {report}");
        report
    }
}

impl Drop for OpenAiClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET /cache`, polled until it reports at least `n` entries (at most 10 s:
/// a streamed answer is stored after its last event, in the background).
async fn wait_entries(gw: &Sluice, n: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = serve_support::get(&gw.admin_url("/cache")).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        if v["entries"].as_u64().is_some_and(|e| e >= n) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "the cache holds {v}, not {n} entries, after 10 s:\n{}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `POST` on the admin listener; its JSON answer (status 200).
async fn admin_post(gw: &Sluice, path: &str) -> Value {
    let r = serve_support::send("POST", &gw.admin_url(path), &[], b"", false)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

/// Redis, the backend, the gateway in front of them; torn down when dropped.
struct World {
    redis: RedisServer,
    backend: Arc<Backend>,
    gw: Sluice,
    dir: std::path::PathBuf,
    prefix: String,
}

/// A world whose backend ends its streams `end_delay` after `data: [DONE]`.
async fn world(name: &str, end_delay: Duration) -> World {
    let redis = RedisServer::start();
    let backend = Arc::new(Backend {
        end_delay,
        ..Backend::default()
    });
    let backend_port = serve_backend(Arc::clone(&backend), backend_handle).await;
    let dir = temp_dir(name);
    // Own keys and indexes, whatever else the server holds.
    let prefix = format!("sluice-{name}-{}:", std::process::id());
    let (port, admin) = (free_port(), free_port());
    let toml = config(port, admin, backend_port, &redis, &prefix);
    std::fs::write(dir.join("sluice.toml"), toml).unwrap();
    let gw = Sluice::start(&dir, port, admin).await;
    World {
        redis,
        backend,
        gw,
        dir,
        prefix,
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_client_gets_cached_answers_from_redis_per_subscription() {
    let started = Instant::now();
    // Like OpenAI's API: the body ends right after `data: [DONE]`.
    let w = world("semantic-cache", Duration::ZERO).await;
    let (b, gw, redis, prefix) = (&w.backend, &w.gw, &w.redis, &w.prefix);
    let mut client = OpenAiClient::start(&gw.url("/llm"), &w.dir).await;
    let calls = || b.chat_calls.load(Ordering::SeqCst);

    // A question: a miss, answered by the backend, then stored.
    let miss = client.call("key-a-e2e", QUESTION, false).await;
    assert_eq!(calls(), 1, "{}", gw.log_text());
    assert_eq!(miss["content"], answer(1), "{miss}");
    assert_eq!(miss["cache"], "miss", "{miss}");
    wait_entries(gw, 1).await;

    // Its paraphrase: a semantic hit (the text differs, so not the exact
    // layer) with the first answer, and no backend call.
    let hit = client.call("key-a-e2e", PARAPHRASE, false).await;
    assert_eq!(calls(), 1, "a hit does not reach the backend: {hit}");
    assert_eq!(hit["content"], answer(1), "{hit}");
    assert_eq!(hit["finish_reason"], "stop", "{hit}");
    let status = hit["cache"].as_str().unwrap_or_default();
    assert!(status.starts_with("hit; layer=semantic"), "{hit}");
    assert_eq!(hit["partition"], miss["partition"], "{hit}");

    // Streamed: its own partition, so the question misses again; the
    // client reads the backend's chunks as they come.
    let miss_s = client.call("key-a-e2e", QUESTION, true).await;
    assert_eq!(calls(), 2, "{miss_s}");
    assert_eq!(miss_s["content"], answer(2), "{miss_s}");
    assert_eq!(miss_s["cache"], "miss", "{miss_s}");
    assert_eq!(miss_s["content_type"], "text/event-stream", "{miss_s}");
    assert_eq!(miss_s["finish_reason"], "stop", "{miss_s}");
    assert_ne!(miss_s["partition"], miss["partition"], "{miss_s}");
    wait_entries(gw, 2).await;

    // The streamed paraphrase: the recorded events, replayed as a stream.
    let hit_s = client.call("key-a-e2e", PARAPHRASE, true).await;
    assert_eq!(calls(), 2, "a hit does not reach the backend: {hit_s}");
    assert_eq!(hit_s["content"], answer(2), "{hit_s}");
    assert_eq!(hit_s["chunks"], miss_s["chunks"], "{hit_s}");
    assert_eq!(hit_s["finish_reason"], "stop", "{hit_s}");
    assert_eq!(hit_s["content_type"], "text/event-stream", "{hit_s}");
    let status = hit_s["cache"].as_str().unwrap_or_default();
    assert!(status.starts_with("hit; layer=semantic"), "{hit_s}");
    assert_eq!(hit_s["partition"], miss_s["partition"], "{hit_s}");

    // Another subscription: its own partition, so the paraphrase misses.
    let other = client.call("key-b-e2e", PARAPHRASE, false).await;
    assert_eq!(calls(), 3, "{other}");
    assert_eq!(other["content"], answer(3), "{other}");
    assert_eq!(other["cache"], "miss", "{other}");
    assert_ne!(other["partition"], miss["partition"], "{other}");

    // The backend saw exactly the three misses, and embedded both texts.
    assert_eq!(
        *b.chats.lock().unwrap(),
        [
            (false, QUESTION.to_owned()),
            (true, QUESTION.to_owned()),
            (false, PARAPHRASE.to_owned()),
        ]
    );
    assert!(b.embeddings_calls.load(Ordering::SeqCst) >= 2);

    // The entries are in Redis: the gateway's account, then Redis's own,
    // one entry in each of the three partitions, under the prefix.
    let cache = wait_entries(gw, 3).await;
    assert_eq!(cache, json!({ "store": "redis", "entries": 3 }));
    assert_eq!(redis.count_keys(&format!("{prefix}e:*")), 3);
    for r in [&miss, &miss_s, &other] {
        let p = r["partition"].as_str().unwrap();
        assert_eq!(
            redis.count_keys(&format!("{prefix}e:*:{p}:*")),
            1,
            "partition {p}"
        );
    }

    // The admin purge, one partition: the other subscription's entry goes
    // (from Redis and the exact layer), so its question misses again.
    let p_other = other["partition"].as_str().unwrap();
    let purged = admin_post(gw, &format!("/cache/purge?partition={p_other}")).await;
    assert_eq!(purged, json!({ "purged": 1, "partition": p_other }));
    assert_eq!(redis.count_keys(&format!("{prefix}e:*")), 2);
    let again = client.call("key-b-e2e", PARAPHRASE, false).await;
    assert_eq!(calls(), 4, "a purged partition misses: {again}");
    assert_eq!(again["cache"], "miss", "{again}");
    // The rest is untouched: the first subscription's repeat still hits.
    let still = client.call("key-a-e2e", PARAPHRASE, false).await;
    assert_eq!(calls(), 4, "{still}");
    assert_eq!(still["content"], answer(1), "{still}");
    wait_entries(gw, 3).await;

    // Everything: the store is empty and the repeat reaches the backend.
    let purged = admin_post(gw, "/cache/purge").await;
    assert_eq!(purged["purged"], 3, "{purged}");
    assert_eq!(redis.count_keys(&format!("{prefix}e:*")), 0);
    let after = client.call("key-a-e2e", PARAPHRASE, false).await;
    assert_eq!(calls(), 5, "after a purge nothing is cached: {after}");
    assert_eq!(after["cache"], "miss", "{after}");
    // A partition id must be hexadecimal, and a misspelt parameter is
    // refused, not read as "purge everything".
    for (path, says) in [
        ("/cache/purge?partition=x", "hexadecimal"),
        ("/cache/purge?partiton=ab", "unknown parameter"),
    ] {
        let r = serve_support::send("POST", &gw.admin_url(path), &[], b"", false)
            .await
            .unwrap();
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        assert!(r.text().contains(says), "{path}: {}", r.text());
    }

    drop(client);
    eprintln!("semantic cache end to end: {:?}", started.elapsed());
}

/// The `openai` package stops reading a stream at `data: [DONE]` and
/// closes the response. When the backend's body has not ended by then (here
/// it ends 300 ms later; a proxy or HTTP/2 `END_STREAM` in a frame of its
/// own do the same), the answer is still whole: it is stored, as the stream
/// of a client that reads the body to its end is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_the_client_closes_after_its_final_event_is_stored() {
    let w = world("semantic-cache-done", Duration::from_millis(300)).await;

    // Read to the end (another subscription): stored.
    let body = json!({
        "model": "gpt-4o",
        "stream": true,
        "messages": [{ "role": "user", "content": QUESTION }],
    });
    let headers = [
        ("Content-Type", "application/json"),
        ("Ocp-Apim-Subscription-Key", "key-b-e2e"),
    ];
    let url = w.gw.url("/llm/chat/completions");
    let r = serve_support::send("POST", &url, &headers, body.to_string().as_bytes(), false)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().ends_with("data: [DONE]\n\n"), "{}", r.text());
    wait_entries(&w.gw, 1).await;

    // The openai client: the same stream, closed at `data: [DONE]`.
    let mut client = OpenAiClient::start(&w.gw.url("/llm"), &w.dir).await;
    let miss = client.call("key-a-e2e", QUESTION, true).await;
    assert_eq!(miss["content"], answer(2), "{miss}");
    wait_entries(&w.gw, 2).await;
    let hit = client.call("key-a-e2e", PARAPHRASE, true).await;
    assert_eq!(hit["content"], answer(2), "{hit}");
    assert_eq!(w.backend.chat_calls.load(Ordering::SeqCst), 2);
}
