//! `sluice run` on an APIOps extract, through the real binary: a
//! `sluice.toml` with `[apiops]` serves the extract's API against a local
//! backend (secret named value and subscription key from the environment,
//! an overrides file with a `{#NAME#}` placeholder, a product policy), and
//! reloads when a file of the extract changes; `sluice run DIR` without the
//! secrets does not start and names every variable to set.

#![allow(clippy::unwrap_used, clippy::panic)]

mod serve_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use serve_support::{Sluice, free_port, send, serve_backend, temp_dir};

const POLICY: &str = r#"<policies>
  <inbound>
    <base />
    <set-header name="x-secret" exists-action="override"><value>{{backend.secret}}</value></set-header>
    <set-header name="x-plain" exists-action="override"><value>{{plain}}</value></set-header>
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>"#;

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// An extract whose API `svc` goes to `backend`.
fn extract(dir: &Path, backend: u16) {
    write(
        dir,
        "apis/svc/apiInformation.json",
        &format!(
            r#"{{ "properties": {{ "path": "svc", "serviceUrl": "http://127.0.0.1:{backend}/base",
  "subscriptionRequired": true, "subscriptionKeyParameterNames": {{ "header": "X-Svc-Key", "query": "svc-key" }} }} }}"#
        ),
    );
    write(
        dir,
        "apis/svc/specification.yaml",
        "openapi: 3.0.1\npaths:\n  '/hello/{name}':\n    get:\n      operationId: hello\n",
    );
    write(dir, "apis/svc/policy.xml", POLICY);
    write(
        dir,
        "named values/backend-secret/namedValueInformation.json",
        r#"{ "properties": { "displayName": "backend.secret", "secret": true } }"#,
    );
    write(
        dir,
        "named values/plain/namedValueInformation.json",
        r#"{ "properties": { "displayName": "plain", "value": "from-the-extract" } }"#,
    );
    write(
        dir,
        "products/main product/productInformation.json",
        r#"{ "properties": { "displayName": "Main", "state": "published", "subscriptionRequired": true } }"#,
    );
    write(
        dir,
        "products/main product/apis/svc/productApiInformation.json",
        "{}",
    );
    write(
        dir,
        "products/main product/policy.xml",
        r#"<policies><inbound><base /><set-header name="x-product" exists-action="override"><value>@(context.Product.Name)</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"#,
    );
    write(
        dir,
        "subscriptions/app-1/subscriptionInformation.json",
        r#"{ "properties": { "displayName": "app 1", "scope": "/products/main product", "state": "active" } }"#,
    );
    write(
        dir,
        "configuration.dev.yaml",
        "namedValues:\n  - name: plain\n    properties:\n      value: \"{#PLAIN_VALUE#}\"\n",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extract_is_served_with_its_secrets_from_the_environment_and_reloads() {
    let dir = temp_dir("apiops-run");
    let backend = serve_backend(Arc::new(()), |_, req| async move {
        let h = |n: &str| {
            req.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned()
        };
        let body = format!(
            "{} secret={} plain={} product={}",
            req.uri().path(),
            h("x-secret"),
            h("x-plain"),
            h("x-product")
        );
        hyper::Response::new(Full::new(Bytes::from(body)))
    })
    .await;
    let ex = dir.join("my extract");
    extract(&ex, backend);
    let (port, admin) = (free_port(), free_port());
    write(
        &dir,
        "sluice.toml",
        &format!(
            "[gateway]\nlisten = \"127.0.0.1:{port}\"\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\
             [apiops]\ndir = \"my extract\"\noverrides = \"my extract/configuration.dev.yaml\"\n"
        ),
    );
    let gw = Sluice::start_with_env(
        &dir,
        port,
        admin,
        &[
            ("SLUICE_NV_BACKEND_SECRET", "s3cret"),
            ("SLUICE_SUBSCRIPTION_APP_1_PRIMARY", "key-one"),
            ("PLAIN_VALUE", "from-the-overrides"),
        ],
    )
    .await;
    let call = async |headers: &[(&str, &str)]| {
        send("GET", &gw.url("/svc/hello/ann"), headers, b"", false)
            .await
            .unwrap()
    };
    assert_eq!(call(&[]).await.status, 401);
    assert_eq!(
        call(&[("Ocp-Apim-Subscription-Key", "key-one")])
            .await
            .status,
        401
    );
    let r = call(&[("X-Svc-Key", "key-one")]).await;
    assert_eq!(r.status, 200, "{}", gw.log_text());
    assert_eq!(
        r.text(),
        "/base/hello/ann secret=s3cret plain=from-the-overrides product=main product"
    );
    // An operation the specification does not have.
    let r = send(
        "GET",
        &gw.url("/svc/other"),
        &[("X-Svc-Key", "key-one")],
        b"",
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 404);
    // A change to a file of the extract reloads it.
    write(
        &ex,
        "apis/svc/policy.xml",
        &POLICY.replace("x-plain", "x-other"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = call(&[("X-Svc-Key", "key-one")]).await;
        if r.text().contains("plain=-") {
            break;
        }
        assert!(Instant::now() < deadline, "no reload: {}", gw.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!gw.log_text().contains("s3cret"), "{}", gw.log_text());
    drop(gw);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_dir_without_the_secrets_names_every_variable_to_set() {
    let dir = temp_dir("apiops-secrets");
    extract(&dir, 9);
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("run")
        .arg(&dir)
        .env_remove("RUST_LOG")
        .env_remove("SLUICE_NV_BACKEND_SECRET")
        .env_remove("SLUICE_SUBSCRIPTION_APP_1_PRIMARY")
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains("set SLUICE_NV_BACKEND_SECRET, SLUICE_SUBSCRIPTION_APP_1_PRIMARY"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The public apimdemo extract (../shared/apiops, MIT) as it is kept in
/// git, served by `sluice run` with its secrets from the environment: an
/// API reached with an all-APIs key (its backend pointed at a local server
/// by an overrides file, as a publisher's `configuration.<env>.yaml`
/// does), refused without a key and with a suspended subscription's key,
/// and an API whose policy includes a `validate-jwt` fragment refusing a
/// request without a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apimdemo_extract_is_served_as_kept_in_git() {
    let extract = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/apiops/apimdemo-environment")
        .canonicalize()
        .expect("../shared/apiops/apimdemo-environment beside the repository");
    // The variables `sluice check` says to set.
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("check")
        .arg(&extract)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let vars: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("SLUICE_NV_") || w.starts_with("SLUICE_SUBSCRIPTION_"))
        .map(str::to_owned)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(vars.len() > 30, "{text}");
    let values: Vec<(String, String)> =
        vars.iter().map(|v| (v.clone(), format!("k-{v}"))).collect();
    let env: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();

    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let backend = serve_backend(Arc::clone(&hits), |hits, req| async move {
        hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        hyper::Response::new(Full::new(Bytes::from(format!(
            "backend {}",
            req.uri().path()
        ))))
    })
    .await;
    let dir = temp_dir("apiops-apimdemo");
    let (port, admin) = (free_port(), free_port());
    write(
        &dir,
        "overrides.yaml",
        &format!(
            "apis:\n  - name: health-check\n    properties:\n      serviceUrl: http://127.0.0.1:{backend}/api\n"
        ),
    );
    write(
        &dir,
        "sluice.toml",
        &format!(
            "[gateway]\nlisten = \"127.0.0.1:{port}\"\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\
             [apiops]\ndir = \"{}\"\noverrides = \"overrides.yaml\"\n",
            extract.display()
        ),
    );
    let gw = Sluice::start_with_env(&dir, port, admin, &env).await;
    let ping = async |key: Option<&str>| {
        let headers: Vec<(&str, &str)> = key
            .map(|k| ("Ocp-Apim-Subscription-Key", k))
            .into_iter()
            .collect();
        send("GET", &gw.url("/health-check/ping"), &headers, b"", false)
            .await
            .unwrap()
    };
    // `postmantest` is scoped to all APIs; its operation's outbound policy
    // answers 200 with its own body after the backend.
    let r = ping(Some("k-SLUICE_SUBSCRIPTION_POSTMANTEST_PRIMARY")).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), gw.log_text());
    assert!(r.text().contains("\"ping\":true"), "{}", r.text());
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(ping(None).await.status, 401);
    // `gold-becky-…` is suspended: its key (none is asked of the
    // environment) is refused like any unknown key.
    assert_eq!(
        ping(Some(
            "k-SLUICE_SUBSCRIPTION_GOLD_BECKY_20260106192412_PRIMARY"
        ))
        .await
        .status,
        401
    );
    // echo-api includes the `entraid-validate-jwt-dynamic-scopes-v1`
    // fragment: a starter key without a token is refused before the backend.
    let r = send(
        "GET",
        &gw.url("/echo/resource"),
        &[(
            "Ocp-Apim-Subscription-Key",
            "k-SLUICE_SUBSCRIPTION_APPLICATION1_PRIMARY",
        )],
        b"",
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    // No secret reaches the log.
    let log = gw.log_text();
    assert!(!log.contains("k-SLUICE_NV_"), "{log}");
    drop(gw);
    let _ = std::fs::remove_dir_all(&dir);
}
