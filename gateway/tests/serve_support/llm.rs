//! Mock LLM backends and the `openai` Python client, for the tests that put
//! `sluice run` in front of an OpenAI-shaped model: JSON answers, Chat
//! Completions chunks, an event stream written an event at a time, and the
//! Python scripts of gateway/tests run with the `openai` package.

#![allow(
    dead_code,
    reason = "each test file compiles serve_support; only the LLM tests use this"
)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use super::channel_body;

/// The body of a mock backend's answer: whole, or written as it goes.
pub type StubBody = BoxBody<Bytes, std::io::Error>;

/// A JSON answer with `status`.
pub fn json_response(status: u16, v: &Value) -> hyper::Response<StubBody> {
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

/// One `chat.completion.chunk` event (model `gpt-4o`), blank line included.
pub fn chat_chunk(id: &str, delta: Value, finish: Option<&str>) -> String {
    let chunk = json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    format!("data: {chunk}\n\n")
}

/// A `text/event-stream` answer that writes `events` one per write, `pause`
/// between two, and ends its body `end_delay` after the last. A client
/// that leaves stops the writing.
pub fn event_stream(
    events: Vec<String>,
    pause: Duration,
    end_delay: Duration,
) -> hyper::Response<StubBody> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        for (i, e) in events.into_iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(pause).await;
            }
            if tx.send(Ok(Bytes::from(e))).await.is_err() {
                return;
            }
        }
        // (Even `sleep(ZERO)` waits for the timer's next tick.)
        if !end_delay.is_zero() {
            tokio::time::sleep(end_delay).await;
        }
    });
    hyper::Response::builder()
        .header("Content-Type", "text/event-stream")
        .header("Cache-Control", "no-cache")
        .body(channel_body(rx))
        .unwrap()
}

/// The repository's root (this crate's parent folder). (Not
/// `sluice_policies::redis_server::repo_root`: a test file that does not
/// link that crate would get its trait impls, and ambiguities, with it.)
fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The directory `scripts/python-deps` installed the `openai` package into.
pub fn python_path() -> String {
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

/// `python3 gateway/tests/SCRIPT` with the `openai` package on its path and
/// no proxy for loopback; the caller adds arguments and pipes.
pub fn openai_script(script: &str) -> Command {
    let mut c = Command::new("python3");
    c.arg(repo_root().join("gateway/tests").join(script))
        .env("PYTHONPATH", python_path())
        // Everything is on loopback: no proxy may be in the way.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    c
}
