//! The policies that send to outside services, on the real binary:
//! `log-to-eventhub` and `trace` write JSON lines to file loggers,
//! `publish-to-dapr` and `invoke-dapr-binding` call a sidecar, and
//! `send-service-bus-message` calls a namespace's REST API, both a local
//! HTTP server here. A logger whose file cannot be written drops events
//! without failing requests, counts them, and logs the outage once; no
//! secret reaches the log.

#![allow(clippy::unwrap_used, clippy::panic)]

mod serve_support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serve_support::{Sluice, free_port, get, send, serve_backend, temp_dir};

const SAS_KEY: &str = "c2VjcmV0LWtleS1mb3ItdGVzdHM=";

/// What the sidecar and the Service Bus stand-in received.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<Call>>,
}

#[derive(Clone, Debug)]
struct Call {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Call {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn handle(r: Arc<Recorder>, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let call = Call {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let status = if call.path.starts_with("/sb/") {
        201
    } else {
        200
    };
    r.calls.lock().unwrap().push(call);
    hyper::Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from_static(b"{\"dapr\":\"ok\"}")))
        .unwrap()
}

const POLICY: &str = r#"<policies>
  <inbound>
    <log-to-eventhub logger-id="events" partition-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-customer&quot;, &quot;none&quot;))">@("order " + context.Request.Body.As<string>(preserveContent: true))</log-to-eventhub>
    <trace source="orders" severity="information">
      <message>@(context.Request.Method)</message>
      <metadata name="customer" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-customer&quot;, &quot;none&quot;))" />
    </trace>
    <send-service-bus-message queue-name="orders" namespace="bus.example">
      <message-properties><message-property name="Customer">@(context.Request.Headers.GetValueOrDefault("x-customer", "none"))</message-property></message-properties>
      <payload>@(context.Request.Body.As<string>(preserveContent: true))</payload>
    </send-service-bus-message>
    <invoke-dapr-binding name="store" operation="create"><data>@(context.Request.Body.As<string>(preserveContent: true))</data></invoke-dapr-binding>
    <publish-to-dapr pubsub-name="orders" topic="new" response-variable-name="dapr">@(context.Request.Body.As<string>(preserveContent: true))</publish-to-dapr>
    <return-response response-variable-name="dapr" />
  </inbound>
  <backend />
  <outbound />
  <on-error />
</policies>"#;

/// A Liquid template reads the request body, which no expression mentions.
const LIQUID: &str = r#"<policies>
  <inbound>
    <publish-to-dapr pubsub-name="orders" topic="liquid" template="Liquid" content-type="application/json">{"sku": "{{body.sku}}"}</publish-to-dapr>
    <return-response><set-status code="202" reason="Accepted" /></return-response>
  </inbound>
  <backend />
  <outbound />
  <on-error />
</policies>"#;

fn config(port: u16, admin: u16, server: u16, events: &str) -> String {
    format!(
        "[gateway]\nlisten = \"127.0.0.1:{port}\"\ntrace-logger = \"traces\"\n\n\
         [admin]\nlisten = \"127.0.0.1:{admin}\"\n\n\
         [loggers.events]\nkind = \"file\"\npath = \"{events}\"\n\n\
         [loggers.traces]\nkind = \"file\"\npath = \"traces.jsonl\"\n\n\
         [dapr]\nendpoint = \"http://127.0.0.1:{server}\"\n\n\
         [service-bus.\"bus.example\"]\nendpoint = \"http://127.0.0.1:{server}/sb\"\n\
         sas-key-name = \"send\"\nsas-key = {{ env = \"SB_KEY\" }}\n\n\
         [[api]]\nname = \"orders\"\npath = \"orders\"\npolicy = '''{POLICY}'''\n\n\
         [[api]]\nname = \"liquid\"\npath = \"liquid\"\npolicy = '''{LIQUID}'''\n"
    )
}

/// The file's JSON lines once it has `n`.
fn json_lines(path: &Path, n: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().count() >= n {
            assert!(text.ends_with('\n'), "a whole line at a time: {text:?}");
            return text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
                .collect();
        }
        assert!(Instant::now() < deadline, "{} has {text:?}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn order(gw: &Sluice, customer: &str, body: &str) -> serve_support::Reply {
    send(
        "POST",
        &gw.url("/orders/new"),
        &[("x-customer", customer), ("Content-Type", "text/plain")],
        body.as_bytes(),
        false,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loggers_write_json_lines_and_the_integrations_call_their_services() {
    let recorder = Arc::new(Recorder::default());
    let server = serve_backend(Arc::clone(&recorder), handle).await;
    let dir = temp_dir("sinks");
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        config(port, admin, server, "events.jsonl"),
    )
    .unwrap();
    let gw = Sluice::start_with_env(&dir, port, admin, &[("SB_KEY", SAS_KEY)]).await;

    let r = order(&gw, "c-7", "two books").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        "{\"dapr\":\"ok\"}",
        "the sidecar's answer, verbatim"
    );
    let r = order(&gw, "c-8", "a pen").await;
    assert_eq!(r.status, 200, "{}", r.text());

    let events = json_lines(&dir.join("events.jsonl"), 2);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["logger"], "events");
    assert_eq!(events[0]["policy"], "log-to-eventhub");
    assert_eq!(events[0]["message"], "order two books");
    assert_eq!(events[0]["partition-key"], "c-7");
    assert_eq!(events[1]["message"], "order a pen");
    let time = events[0]["time"].as_str().unwrap();
    assert!(
        time.len() == 24 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "RFC 3339 with milliseconds: {time}"
    );
    let traces = json_lines(&dir.join("traces.jsonl"), 2);
    assert_eq!(traces[0]["policy"], "trace");
    assert_eq!(traces[0]["source"], "orders");
    assert_eq!(traces[0]["severity"], "information");
    assert_eq!(traces[0]["message"], "POST");
    assert_eq!(traces[1]["metadata"]["customer"], "c-8");

    let calls = recorder.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 6, "{calls:#?}");
    let sb = &calls[0];
    assert_eq!(
        (sb.method.as_str(), sb.path.as_str()),
        ("POST", "/sb/orders/messages")
    );
    assert_eq!(sb.body, "two books");
    assert_eq!(sb.header("Customer"), Some("c-7"));
    let auth = sb.header("Authorization").unwrap();
    assert!(
        auth.starts_with("SharedAccessSignature sr=http%3A%2F%2F127.0.0.1")
            && auth.ends_with("&skn=send"),
        "{auth}"
    );
    let binding = &calls[1];
    assert_eq!(binding.path, "/v1.0/bindings/store");
    let body: serde_json::Value = serde_json::from_str(&binding.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "data": "two books", "operation": "create" })
    );
    let publish = &calls[2];
    assert_eq!(publish.path, "/v1.0/publish/orders/new");
    assert_eq!(publish.body, "two books");

    let r = send(
        "POST",
        &gw.url("/liquid/x"),
        &[("Content-Type", "application/json")],
        br#"{"sku": "ab-1"}"#,
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    let calls = recorder.calls.lock().unwrap().clone();
    let liquid = calls.last().unwrap();
    assert_eq!(liquid.path, "/v1.0/publish/orders/liquid");
    assert_eq!(liquid.body, r#"{"sku": "ab-1"}"#);
    assert_eq!(liquid.header("Content-Type"), Some("application/json"));

    let metrics = get(&gw.admin_url("/metrics")).await.unwrap().text();
    assert!(
        metrics.contains(r#"sluice_logger_events_total{logger="events",outcome="sent"} 2"#),
        "{metrics}"
    );
    drop(gw);
    let log = std::fs::read_to_string(dir.join("sluice.log")).unwrap();
    assert!(!log.contains(SAS_KEY), "the SAS key is never logged: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logger_that_cannot_write_drops_events_logs_once_and_recovers() {
    let recorder = Arc::new(Recorder::default());
    let server = serve_backend(Arc::clone(&recorder), handle).await;
    let dir = temp_dir("sinks-outage");
    // A directory where the file should be: every write fails.
    std::fs::create_dir_all(dir.join("blocked.jsonl")).unwrap();
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        config(port, admin, server, "blocked.jsonl"),
    )
    .unwrap();
    let gw = Sluice::start_with_env(&dir, port, admin, &[("SB_KEY", SAS_KEY)]).await;
    for i in 0..5 {
        let r = order(&gw, "c", &format!("n{i}")).await;
        assert_eq!(r.status, 200, "a failing logger never fails a request");
    }
    let dropped = r#"sluice_logger_events_total{logger="events",outcome="dropped-sink-failed"} 5"#;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = get(&gw.admin_url("/metrics")).await.unwrap().text();
        if metrics.contains(dropped) {
            assert!(metrics.contains(r#"sluice_logger_up{logger="events"} 0"#));
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = |log: &str| log.matches("logger sink failed").count();
    assert_eq!(
        failed(&gw.log_text()),
        1,
        "one line per outage: {}",
        gw.log_text()
    );
    // The file can be written again: the next event is, and the log says so once.
    std::fs::remove_dir(dir.join("blocked.jsonl")).unwrap();
    let r = order(&gw, "c", "after").await;
    assert_eq!(r.status, 200);
    let events = json_lines(&dir.join("blocked.jsonl"), 1);
    assert_eq!(events[0]["message"], "order after");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gw.log_text().contains("logger sink is back") {
        assert!(Instant::now() < deadline, "{}", gw.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(failed(&gw.log_text()), 1);
}

#[test]
fn a_kafka_logger_without_brokers_is_a_configuration_error() {
    let dir = temp_dir("sinks-check");
    std::fs::write(
        dir.join("sluice.toml"),
        "[loggers.hub]\nkind = \"kafka\"\ntopic = \"t\"\n\n\
         [loggers.secret]\nkind = \"kafka\"\nconnection-string = { env = \"NOT_SET_ANYWHERE_42\" }\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("check")
        .arg(dir.join("sluice.toml"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("`[loggers.hub]` kind = \"kafka\" needs `brokers` or `connection-string`"),
        "{text}"
    );
    assert!(text.contains("sluice.toml:2:"), "{text}");
    assert!(
        text.contains("`[loggers.secret]` connection-string: the environment variable `NOT_SET_ANYWHERE_42` is not set"),
        "{text}"
    );
}
