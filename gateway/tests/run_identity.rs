//! `authentication-managed-identity` through `sluice run`, end to end: the
//! identity provider is a local token server process
//! (gateway/tests/token_server.py, an Entra-like client-credentials
//! endpoint), the backend a local server that answers the bearer token it
//! got. The token is fetched once for many requests, a refused token is an
//! error answered by `on-error` and logged once, and neither the client
//! secret nor any token shows in the log, `/status` or `/metrics`.

#![allow(clippy::unwrap_used, clippy::panic)]

mod serve_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use serve_support::{Sluice, free_port, get, serve_backend, temp_dir};

const CLIENT_SECRET: &str = "e2e-client-secret-7f3a";

/// The token server, killed when dropped.
struct TokenServer {
    child: Child,
    port: u16,
}

impl TokenServer {
    fn start() -> TokenServer {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/token_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("gateway-app")
            .arg(CLIENT_SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no port: {line:?}"));
        TokenServer { child, port }
    }

    async fn stats(&self) -> serde_json::Value {
        let r = get(&format!("http://127.0.0.1:{}/stats", self.port))
            .await
            .unwrap();
        serde_json::from_slice(&r.body).unwrap()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(port: u16, admin: u16, idp: u16, backend: u16) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

[identity]
provider = "client-secret"
authority-host = "http://127.0.0.1:{idp}"
tenant-id = "contoso"
client-id = "gateway-app"
client-secret = {{ env = "E2E_CLIENT_SECRET" }}

[[api]]
name = "aoai"
path = "aoai"
service-url = "http://127.0.0.1:{backend}"
policy = '''<policies>
  <inbound>
    <base />
    <authentication-managed-identity resource="https://cognitiveservices.azure.com" />
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>'''

[[api]]
name = "refused"
path = "refused"
service-url = "http://127.0.0.1:{backend}"
policy = '''<policies>
  <inbound>
    <base />
    <authentication-managed-identity resource="https://refused.example" />
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error>
    <base />
    <set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
  </on-error>
</policies>'''
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_fetches_one_token_and_sends_it_to_the_backend() {
    let idp = TokenServer::start();
    // The backend answers the Authorization header it got (and 401 without one).
    let backend = serve_backend(
        Arc::new(()),
        |_, req: hyper::Request<hyper::body::Incoming>| async move {
            let auth = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let status = if auth.starts_with("Bearer token-") {
                200
            } else {
                401
            };
            hyper::Response::builder()
                .status(status)
                .body(Full::new(Bytes::from(auth)))
                .unwrap()
        },
    )
    .await;
    let dir = temp_dir("identity-e2e");
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        config(port, admin, idp.port, backend),
    )
    .unwrap();
    let gw =
        Sluice::start_with_env(&dir, port, admin, &[("E2E_CLIENT_SECRET", CLIENT_SECRET)]).await;

    for _ in 0..5 {
        let r = get(&gw.url("/aoai/chat")).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.text(), "Bearer token-1");
    }
    let stats = idp.stats().await;
    assert_eq!(stats["requests"], 1, "{stats}");
    assert_eq!(
        stats["scopes"][0],
        "https://cognitiveservices.azure.com/.default"
    );

    // A refused token: on-error, 500, the backend not called; logged once.
    for _ in 0..3 {
        let r = get(&gw.url("/refused/x")).await.unwrap();
        assert_eq!(r.status, 500, "{}", r.text());
        assert_eq!(r.header("X-Reason"), Some("ManagedIdentityTokenError"));
    }
    let stats = idp.stats().await;
    assert_eq!(
        stats["requests"], 2,
        "a 400 is not retried, and held: {stats}"
    );

    let metrics = get(&gw.admin_url("/metrics")).await.unwrap().text();
    assert!(
        metrics.contains("sluice_identity_token_requests_total{provider=\"client-secret\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sluice_identity_token_failures_total{provider=\"client-secret\"} 1"),
        "{metrics}"
    );
    let status = get(&gw.admin_url("/status")).await.unwrap().text();
    let log = gw.log_text();
    assert_eq!(
        log.matches("cannot obtain a token").count(),
        1,
        "one line per outage: {log}"
    );
    assert!(log.contains("invalid_scope"), "{log}");
    // No secret and no token anywhere the gateway shows.
    for (what, text) in [("log", &log), ("status", &status), ("metrics", &metrics)] {
        assert!(!text.contains(CLIENT_SECRET), "{what}: {text}");
        assert!(!text.contains("token-1"), "{what}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
