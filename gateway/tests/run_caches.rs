//! The response and value caches on a real Redis (the external cache),
//! through the real `sluice` binary: two gateways share entries through
//! Redis; `GET /caches` counts them and `POST /caches/purge` empties them;
//! a Redis that goes away is a miss (no 5xx), counted in the metrics and
//! logged once, and a Redis that comes back is used again. The URL holds a
//! password (a Redis ACL user of its own), which no log line and no admin
//! answer shows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use serve_support::{Sluice, free_port, get, send, serve_backend, temp_dir};
use sluice_policies::redis_server::RedisServer;

const PASSWORD: &str = "s3cret-cache-pass";

/// A backend that numbers its answers.
#[derive(Default)]
struct Backend {
    calls: AtomicUsize,
}

async fn handle(b: Arc<Backend>, _req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let n = b.calls.fetch_add(1, Ordering::SeqCst) + 1;
    hyper::Response::builder()
        .header("Content-Type", "text/plain")
        .body(Full::new(Bytes::from(format!("answer {n}"))))
        .unwrap()
}

/// The user the gateways log in as (the default user stays open for the
/// test's own look at Redis).
fn add_user(redis: &RedisServer) {
    let reply = redis
        .command(&[
            "ACL",
            "SETUSER",
            "sluice",
            "on",
            &format!(">{PASSWORD}"),
            "~*",
            "+@all",
        ])
        .unwrap();
    assert_eq!(reply, "+OK");
}

fn config(port: u16, admin: u16, backend: u16, redis: &RedisServer, prefix: &str) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

[cache]
external-redis-url = "redis://sluice:{PASSWORD}@127.0.0.1:{redis_port}"
external-prefix = "{prefix}"
external-timeout-ms = 2000
breaker-failures = 2
breaker-cooldown-ms = 1000

[[api]]
name = "echo"
path = "echo"
service-url = "http://127.0.0.1:{backend}/api"
policy = '''<policies>
  <inbound><base />
    <cache-lookup vary-by-developer="false" vary-by-developer-groups="false" caching-type="prefer-external" downstream-caching-type="public" />
  </inbound>
  <backend><base /></backend>
  <outbound><base /><cache-store duration="300" /></outbound>
  <on-error><base /></on-error>
</policies>'''

[[api]]
name = "values"
path = "values"
service-url = "http://127.0.0.1:{backend}/api"

[[api.operation]]
name = "put"
method = "PUT"
url-template = "/{{name}}"
policy = '''<policies>
  <inbound><base />
    <cache-store-value key="@(context.Request.MatchedParameters[&quot;name&quot;])" value="@(context.Request.Body.As&lt;string&gt;())" duration="300" caching-type="external" />
    <return-response><set-status code="204" reason="No Content" /></return-response>
  </inbound>
  <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error>
</policies>'''

[[api.operation]]
name = "get"
method = "GET"
url-template = "/{{name}}"
policy = '''<policies>
  <inbound><base />
    <cache-lookup-value key="@(context.Request.MatchedParameters[&quot;name&quot;])" variable-name="v" default-value="(none)" caching-type="external" />
    <return-response><set-status code="200" reason="OK" /><set-body>@((string)context.Variables[&quot;v&quot;])</set-body></return-response>
  </inbound>
  <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error>
</policies>'''
"#,
        redis_port = redis.port(),
    )
}

async fn body(gw: &Sluice, path: &str) -> String {
    let r = get(&gw.url(path)).await.unwrap();
    assert_eq!(r.status, 200, "{path}: {} {}", r.text(), gw.log_text());
    r.text()
}

async fn admin(gw: &Sluice, method: &str, path: &str) -> serde_json::Value {
    let r = send(method, &gw.admin_url(path), &[], b"", false)
        .await
        .unwrap();
    assert!(!r.text().contains(PASSWORD), "{path}: {}", r.text());
    serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("{path}: {}", r.text()))
}

async fn metrics(gw: &Sluice) -> String {
    get(&gw.admin_url("/metrics")).await.unwrap().text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_share_the_external_cache_and_survive_its_outage() {
    let mut redis = RedisServer::start();
    add_user(&redis);
    let backend = Arc::new(Backend::default());
    let backend_port = serve_backend(Arc::clone(&backend), handle).await;
    let prefix = format!("sluice-caches-{}:", std::process::id());
    let start = |name: &str| {
        let dir = temp_dir(name);
        let (port, admin_port) = (free_port(), free_port());
        std::fs::write(
            dir.join("sluice.toml"),
            config(port, admin_port, backend_port, &redis, &prefix),
        )
        .unwrap();
        (dir, port, admin_port)
    };
    let (dir_a, port_a, admin_a) = start("caches-a");
    let (dir_b, port_b, admin_b) = start("caches-b");
    let a = Sluice::start(&dir_a, port_a, admin_a).await;
    let b = Sluice::start(&dir_b, port_b, admin_b).await;
    let calls = || backend.calls.load(Ordering::SeqCst);

    // A response stored by one gateway answers the other's request.
    assert_eq!(body(&a, "/echo/items").await, "answer 1");
    assert_eq!(body(&b, "/echo/items").await, "answer 1");
    assert_eq!(calls(), 1, "the second gateway found the first's entry");
    let hit = get(&b.url("/echo/items")).await.unwrap();
    let cc = hit.header("cache-control").unwrap_or_default().to_owned();
    assert!(cc.starts_with("public, max-age="), "{cc}");
    assert_eq!(redis.count_keys(&format!("{prefix}r:*")), 1);
    let ttl = response_ttl_ms(&redis, &prefix);
    assert!(
        ttl > 290_000 && ttl <= 300_000,
        "Redis drops the entry by itself: {ttl}"
    );

    // Values too.
    let put = send("PUT", &a.url("/values/colour"), &[], b"blue", false)
        .await
        .unwrap();
    assert_eq!(put.status, 204, "{}", put.text());
    assert_eq!(body(&b, "/values/colour").await, "blue");
    assert_eq!(body(&b, "/values/size").await, "(none)");

    // The admin view and purge.
    let view = admin(&b, "GET", "/caches").await;
    assert_eq!(view["external"]["configured"], true, "{view}");
    assert_eq!(view["external"]["entries"], 2, "{view}");
    let purged = admin(&b, "POST", "/caches/purge?cache=external").await;
    assert_eq!(purged["external"], 2, "{purged}");
    assert_eq!(redis.count_keys(&format!("{prefix}*")), 0);
    assert_eq!(body(&a, "/echo/items").await, "answer 2");
    assert_eq!(body(&a, "/values/colour").await, "(none)");

    // Redis goes away: every request is answered, from the backend, and
    // the outage is counted and logged once.
    redis.kill();
    for _ in 0..5 {
        let r = get(&a.url("/echo/items")).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
    }
    assert_eq!(calls(), 7, "each request reached the backend");
    let m = metrics(&a).await;
    assert!(m.contains("sluice_cache_external_down 1"), "{m}");
    let errors = counter(&m, "sluice_cache_errors_total{cache=\"external\"}");
    assert!(errors >= 5, "{m}");
    let view = admin(&a, "GET", "/caches").await;
    assert!(view["external"]["entries"].is_null(), "{view}");
    assert!(view["external"]["error"].is_string(), "{view}");
    let outages = |gw: &Sluice| gw.log_text().matches("external cache: failed").count();
    assert_eq!(outages(&a), 1, "{}", a.log_text());

    // It comes back (empty): after the cooldown, it is used again.
    redis.restart();
    add_user(&redis);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let before = calls();
        body(&a, "/echo/items").await;
        body(&a, "/echo/items").await;
        if calls() == before + 1 {
            break;
        }
        assert!(Instant::now() < deadline, "{}", a.log_text());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        a.log_text().contains("external cache: answers again"),
        "{}",
        a.log_text()
    );
    assert_eq!(
        outages(&a),
        1,
        "one line for the one outage: {}",
        a.log_text()
    );
    for gw in [&a, &b] {
        assert!(!gw.log_text().contains(PASSWORD), "{}", gw.log_text());
        let status = get(&gw.admin_url("/status")).await.unwrap().text();
        assert!(!status.contains(PASSWORD), "{status}");
    }
    drop((a, b));
    let _ = std::fs::remove_dir_all(dir_a);
    let _ = std::fs::remove_dir_all(dir_b);
}

/// The remaining life, in ms, of the one response key under `prefix`, asked of Redis.
fn response_ttl_ms(redis: &RedisServer, prefix: &str) -> i64 {
    let reply = redis
        .command(&[
            "EVAL",
            "return redis.call('PTTL', redis.call('KEYS', ARGV[1])[1])",
            "0",
            &format!("{prefix}r:*"),
        ])
        .unwrap();
    reply
        .strip_prefix(':')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("PTTL: {reply}"))
}

/// The value of a counter line of the exposition.
fn counter(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
