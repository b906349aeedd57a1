//! `llm-content-safety` through `sluice run`, end to end: one local server
//! is both the LLM backend and the Azure AI Content Safety service
//! (`/contentsafety/text:analyze`, `text:shieldPrompt`). A prompt is
//! checked with the backend entity's key, a harmful one is refused with
//! APIM's 403, and while the service is down every request is refused
//! (fail closed) with one log line when the outage starts and one when it
//! ends; the key never shows in the log or `/metrics`.

#![allow(clippy::unwrap_used, clippy::panic)]

mod serve_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serve_support::{Sluice, free_port, get, send, serve_backend, temp_dir};

const KEY: &str = "cs-key-4f2b9e";

#[derive(Default)]
struct Service {
    down: AtomicBool,
    checks: AtomicUsize,
    keyless: AtomicUsize,
    llm: AtomicUsize,
}

async fn handle(
    s: Arc<Service>,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let key_ok = req
        .headers()
        .get("Ocp-Apim-Subscription-Key")
        .is_some_and(|v| v == KEY);
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let json = |status: u16, v: serde_json::Value| {
        hyper::Response::builder()
            .status(status)
            .header("Content-Type", "application/json")
            .body(Full::new(Bytes::from(v.to_string())))
            .unwrap()
    };
    if path.starts_with("/contentsafety/") {
        s.checks.fetch_add(1, Ordering::SeqCst);
        if !key_ok {
            s.keyless.fetch_add(1, Ordering::SeqCst);
            return json(401, serde_json::json!({"error": {"code": "401"}}));
        }
        if s.down.load(Ordering::SeqCst) {
            return json(
                503,
                serde_json::json!({"error": {"code": "ServiceUnavailable"}}),
            );
        }
        let harmful = String::from_utf8_lossy(&body).contains("hurt");
        return if path.ends_with("text:shieldPrompt") {
            json(
                200,
                serde_json::json!({"userPromptAnalysis": {"attackDetected": false}, "documentsAnalysis": []}),
            )
        } else {
            let severity = if harmful { 6 } else { 0 };
            json(
                200,
                serde_json::json!({"blocklistsMatch": [], "categoriesAnalysis": [
                    {"category": "Violence", "severity": severity}]}),
            )
        };
    }
    s.llm.fetch_add(1, Ordering::SeqCst);
    json(
        200,
        serde_json::json!({"object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Paris."}}]}),
    )
}

fn config(port: u16, admin: u16, backend: u16) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

[backends.content-safety]
url = "http://127.0.0.1:{backend}"
headers = {{ "Ocp-Apim-Subscription-Key" = "{KEY}" }}
timeout = 5

[[api]]
name = "chat"
path = "openai"
service-url = "http://127.0.0.1:{backend}/openai"
policy = '''<policies>
  <inbound>
    <base />
    <llm-content-safety backend-id="content-safety" shield-prompt="true">
      <categories output-type="EightSeverityLevels">
        <category name="Violence" threshold="4" />
      </categories>
    </llm-content-safety>
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>'''
"#
    )
}

async fn chat(gw: &Sluice, prompt: &str) -> (u16, serde_json::Value) {
    let body = serde_json::json!({"messages": [{"role": "user", "content": prompt}]}).to_string();
    let r = send(
        "POST",
        &gw.url("/openai/deployments/gpt-4o/chat/completions"),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
        false,
    )
    .await
    .unwrap();
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_refuses_and_fails_closed_with_one_log_line_per_outage() {
    let service = Arc::new(Service::default());
    let backend = serve_backend(Arc::clone(&service), handle).await;
    let dir = temp_dir("content-safety");
    let (port, admin) = (free_port(), free_port());
    std::fs::write(dir.join("sluice.toml"), config(port, admin, backend)).unwrap();
    let gw = Sluice::start(&dir, port, admin).await;

    // Allowed: both checks made with the entity's key, then the LLM.
    let (status, body) = chat(&gw, "What is the capital of France?").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(service.checks.load(Ordering::SeqCst), 2);
    assert_eq!(service.keyless.load(Ordering::SeqCst), 0);
    assert_eq!(service.llm.load(Ordering::SeqCst), 1);

    // Refused: APIM's 403, the LLM is not called.
    let (status, body) = chat(&gw, "how do I hurt someone").await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        serde_json::json!({"statusCode": 403, "message": "Request failed content safety check."})
    );
    assert_eq!(service.llm.load(Ordering::SeqCst), 1);

    // Down: every request refused, one warning for the outage.
    service.down.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        let (status, _) = chat(&gw, "What is the capital of France?").await;
        assert_eq!(status, 403);
    }
    assert_eq!(service.llm.load(Ordering::SeqCst), 1);
    service.down.store(false, Ordering::SeqCst);
    let (status, _) = chat(&gw, "What is the capital of France?").await;
    assert_eq!(status, 200);
    assert_eq!(service.llm.load(Ordering::SeqCst), 2);

    let log = gw.log_text();
    let outages = log
        .lines()
        .filter(|l| l.contains("the Content Safety backend `content-safety` fails"))
        .count();
    assert_eq!(outages, 1, "{log}");
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("`content-safety` answers again"))
            .count(),
        1,
        "{log}"
    );
    let metrics = get(&gw.admin_url("/metrics")).await.unwrap().text();
    // Three requests, two calls each.
    assert!(
        metrics.contains(
            r#"sluice_content_safety_errors_total{backend="content-safety",kind="status"} 6"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"sluice_content_safety_checks_total{direction="request",outcome="blocked"} 1"#
        ),
        "{metrics}"
    );
    assert!(!log.contains(KEY), "{log}");
    assert!(!metrics.contains(KEY));
}
