//! `validate-jwt` end to end: the `openai` Python package, unchanged,
//! calling the real `sluice` binary over TLS (`[gateway] tls-cert` and
//! `tls-key`, the test certificates of `tests/data/tls/`) with an access
//! token from a local OpenID provider process (gateway/tests/oidc_server.py:
//! discovery document, key set, client-credentials token endpoint). The
//! gateway validates the token against the provider's keys
//! (`openid-config`), then calls a local OpenAI-shaped backend.
//!
//! Checked: a chat completion and a streamed one pass, with the token's
//! subject reaching the backend and the client's token not; the provider's
//! discovery document and key set were fetched once for all requests; a
//! request without a token, and one whose signature was altered, get 401
//! and never reach the backend; the token never shows in the log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use serde_json::{Value, json};
use serve_support::{Sluice, channel_body, free_port, get, serve_backend, temp_dir};
use sluice_policies::redis_server::repo_root;

type Body = BoxBody<Bytes, std::io::Error>;

const CLIENT_ID: &str = "e2e-app";
const CLIENT_SECRET: &str = "e2e-oidc-secret-91c2";
const AUDIENCE: &str = "api://sluice-e2e";

/// The OpenID provider, killed when dropped.
struct Provider {
    child: Child,
    port: u16,
}

impl Provider {
    fn start(python_path: &str) -> Provider {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([CLIENT_ID, CLIENT_SECRET, AUDIENCE])
            .env("PYTHONPATH", python_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("oidc_server.py printed no port: {line:?}"));
        Provider { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn stats(&self) -> Value {
        let r = get(&self.url("/stats")).await.unwrap();
        serde_json::from_slice(&r.body).unwrap()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request the backend received.
#[derive(Clone)]
struct Seen {
    authorization: Option<String>,
    caller: Option<String>,
    body: Value,
}

#[derive(Default)]
struct Backend {
    seen: Mutex<Vec<Seen>>,
}

fn completion() -> Value {
    json!({
        "id": "chatcmpl-jwt",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": "Paris." },
            "finish_reason": "stop",
        }],
        "usage": { "prompt_tokens": 14, "completion_tokens": 2, "total_tokens": 16 },
    })
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let c = json!({
        "id": "chatcmpl-jwt",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    format!("data: {c}\n\n")
}

async fn backend_handle(b: Arc<Backend>, req: hyper::Request<Incoming>) -> hyper::Response<Body> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (authorization, caller) = (header("authorization"), header("x-caller"));
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let stream = body["stream"] == true;
    b.seen.lock().unwrap().push(Seen {
        authorization,
        caller,
        body,
    });
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let (events, content_type) = if stream {
        let mut e = vec![chunk(json!({ "role": "assistant", "content": "" }), None)];
        for piece in ["The ", "capital ", "is ", "Paris."] {
            e.push(chunk(json!({ "content": piece }), None));
        }
        e.push(chunk(json!({}), Some("stop")));
        e.push("data: [DONE]\n\n".to_owned());
        (e, "text/event-stream")
    } else {
        (vec![completion().to_string()], "application/json")
    };
    tokio::spawn(async move {
        for e in events {
            if tx.send(Ok(Bytes::from(e))).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    hyper::Response::builder()
        .header("Content-Type", content_type)
        .body(channel_body(rx))
        .unwrap()
}

/// The API checks the token against the provider's keys, passes its
/// subject on as `X-Caller` and does not forward the token itself.
fn config(port: u16, admin: u16, idp: u16, backend: u16) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"
tls-cert = "server.pem"
tls-key = "server.key"

[admin]
listen = "127.0.0.1:{admin}"

[[api]]
name = "llm"
path = "llm"
service-url = "http://127.0.0.1:{backend}/openai"
policy = '''<policies>
  <inbound>
    <base />
    <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-error-message="Unauthorized. Access token is missing or invalid." output-token-variable-name="jwt">
      <openid-config url="http://127.0.0.1:{idp}/.well-known/openid-configuration" />
      <audiences><audience>{AUDIENCE}</audience></audiences>
      <required-claims><claim name="azp" match="any"><value>{CLIENT_ID}</value></claim></required-claims>
    </validate-jwt>
    <set-header name="X-Caller" exists-action="override"><value>@(((Jwt)context.Variables["jwt"]).Subject)</value></set-header>
    <set-header name="Authorization" exists-action="delete" />
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

/// The directory `scripts/python-deps` installed `openai` and
/// `cryptography` into.
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
async fn the_openai_client_calls_over_tls_with_a_token_validated_against_the_providers_keys() {
    let python = python_path();
    let idp = Provider::start(&python);
    let backend = Arc::new(Backend::default());
    let backend_port = serve_backend(Arc::clone(&backend), backend_handle).await;
    let (port, admin) = (free_port(), free_port());
    let dir = temp_dir("jwt-tls");
    let tls = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tls");
    for f in ["server.pem", "server.key"] {
        std::fs::copy(tls.join(f), dir.join(f)).unwrap();
    }
    std::fs::write(
        dir.join("sluice.toml"),
        config(port, admin, idp.port, backend_port),
    )
    .unwrap();
    let gw = Sluice::start(&dir, port, admin).await;

    let out = Command::new("python3")
        .arg(repo_root().join("gateway/tests/openai_jwt_client.py"))
        .arg(format!("https://localhost:{port}/llm"))
        .arg(tls.join("ca.pem"))
        .arg(idp.url("/token"))
        .args([CLIENT_ID, CLIENT_SECRET])
        .env("PYTHONPATH", &python)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "openai_jwt_client.py:\n{}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            gw.log_text()
        )
    });
    assert!(report.get("error").is_none(), "{report}\n{}", gw.log_text());
    assert_eq!(report["plain"]["content"], "Paris.", "{report}");
    assert_eq!(
        report["stream"]["content"], "The capital is Paris.",
        "{report}"
    );
    assert_eq!(report["stream"]["chunks"], 6, "{report}");

    // Without a token, or with an altered signature: 401, the backend not called.
    assert_eq!(report["no_token"]["status"], 401, "{report}");
    assert!(
        report["no_token"]["body"]
            .as_str()
            .unwrap()
            .contains("Unauthorized. Access token is missing or invalid."),
        "{report}"
    );
    assert_eq!(report["bad_token"]["status"], 401, "{report}");

    let seen = backend.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "only the two valid calls reach the backend");
    for s in &seen {
        assert_eq!(s.authorization, None, "the client's token is not forwarded");
        assert_eq!(s.caller.as_deref(), Some(CLIENT_ID));
        assert_eq!(s.body["model"], "gpt-4o");
    }
    assert_eq!(seen[1].body["stream"], true);

    // Keys fetched once (at load), reused for every request.
    let stats = idp.stats().await;
    assert_eq!(stats["discovery"], 1, "{stats}");
    assert_eq!(stats["keys"], 1, "{stats}");
    assert_eq!(stats["tokens"], 1, "{stats}");

    let token = report["token"].as_str().unwrap();
    let log = gw.log_text();
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !log.contains(signature),
        "the token reached the log:\n{log}"
    );
    assert!(!log.contains(CLIENT_SECRET));
}
