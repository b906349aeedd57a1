//! Counters across replicas, through the real binary: three `sluice run`
//! processes share one Redis (`[counters] store = "redis"`), and requests
//! are spread over them.
//!
//! - One `rate-limit-by-key` limit holds for all three together (each
//!   decision is one atomic script on the server), where with
//!   `store = "memory"` each replica counts alone (three times the calls).
//!   The overshoot (calls admitted past the limit) is printed; it must be
//!   at most one per replica.
//! - Redis killed mid-test: under `on-store-failure = "allow"` no request
//!   fails (no 5xx), the metrics say the counters are in fallback, each
//!   replica logs the outage once; Redis back (empty, on the same port):
//!   counting is shared again and the limit applies.
//! - `limit-concurrency` with a slow backend: of three requests at once
//!   with `max-count="1"`, one reaches the backend, two get 429.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use serve_support::{Sluice, free_port, get, serve_backend, temp_dir};
use sluice_policies::redis_server::RedisServer;

/// Calls the limit admits in its window (60 s: the test takes far less).
const LIMIT: usize = 30;

#[derive(Default)]
struct Backend {
    calls: AtomicUsize,
}

async fn backend(
    b: Arc<Backend>,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    b.calls.fetch_add(1, Ordering::SeqCst);
    if req.uri().path().contains("slow") {
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    hyper::Response::new(Full::new(Bytes::from_static(b"ok")))
}

fn config(port: u16, admin: u16, backend: u16, counters: &str) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

{counters}

[[api]]
name = "echo"
path = "echo"
service-url = "http://127.0.0.1:{backend}"
policy = '''<policies>
  <inbound><base /><rate-limit-by-key calls="{LIMIT}" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;t&quot;))" /></inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>'''

[[api]]
name = "slow"
path = "slow"
service-url = "http://127.0.0.1:{backend}"
policy = '''<policies>
  <inbound><base /></inbound>
  <backend><limit-concurrency key="backend" max-count="1"><forward-request timeout="10" /></limit-concurrency></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>'''
"#
    )
}

struct Replicas {
    gws: Vec<Sluice>,
    dirs: Vec<PathBuf>,
}

impl Drop for Replicas {
    fn drop(&mut self) {
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

async fn replicas(name: &str, n: usize, backend: u16, counters: &str) -> Replicas {
    let mut gws = Vec::new();
    let mut dirs = Vec::new();
    for i in 0..n {
        let dir = temp_dir(&format!("{name}-{i}"));
        let (port, admin) = (free_port(), free_port());
        std::fs::write(
            dir.join("sluice.toml"),
            config(port, admin, backend, counters),
        )
        .unwrap();
        gws.push(Sluice::start(&dir, port, admin).await);
        dirs.push(dir);
    }
    Replicas { gws, dirs }
}

/// Sends `per_replica` requests to each replica, all at once, for
/// `tenant`; the statuses.
async fn burst(r: &Replicas, tenant: &str, per_replica: usize) -> Vec<u16> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..per_replica {
        for gw in &r.gws {
            let url = gw.url(&format!("/echo/{i}"));
            let tenant = tenant.to_owned();
            set.spawn(async move {
                serve_support::send("GET", &url, &[("x-tenant", &tenant)], b"", false)
                    .await
                    .map_or(0, |r| r.status)
            });
        }
    }
    let mut out = Vec::new();
    while let Some(s) = set.join_next().await {
        out.push(s.unwrap());
    }
    out
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

async fn metrics(gw: &Sluice) -> String {
    get(&gw.admin_url("/metrics")).await.unwrap().text()
}

fn redis_counters(redis: &RedisServer, on_failure: &str) -> String {
    format!(
        "[counters]\nstore = \"redis\"\nredis-url = \"{}\"\nredis-prefix = \"sluice-test-{}:\"\non-store-failure = \"{on_failure}\"",
        redis.url(),
        std::process::id()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_one_limit_through_redis_and_count_alone_in_memory() {
    let b = Arc::new(Backend::default());
    let port = serve_backend(Arc::clone(&b), backend).await;
    let redis = RedisServer::start();

    let shared = replicas("ct-shared", 3, port, &redis_counters(&redis, "allow")).await;
    let statuses = burst(&shared, "shared", 20).await;
    let admitted = count(&statuses, 200);
    eprintln!(
        "redis counters, 3 replicas, {} requests at once, limit {LIMIT}: {admitted} admitted, overshoot {}",
        statuses.len(),
        admitted.saturating_sub(LIMIT)
    );
    assert_eq!(
        count(&statuses, 429) + admitted,
        statuses.len(),
        "{statuses:?}"
    );
    assert!(admitted >= LIMIT, "the limit admits its calls: {admitted}");
    assert!(
        admitted <= LIMIT + shared.gws.len(),
        "at most one call per replica past the limit: {admitted}"
    );
    // Every replica refused some: the limit is the same for all.
    for gw in &shared.gws {
        let m = metrics(gw).await;
        assert!(
            m.contains("sluice_limit_refusals_total{policy=\"rate-limit-by-key\"}"),
            "{m}"
        );
        assert!(m.contains("sluice_counter_store_fallback 0"), "{m}");
    }
    // One key in Redis for the counter, under the prefix, with a TTL.
    let pattern = format!("sluice-test-{}:rate-limit-by-key:*", std::process::id());
    assert_eq!(redis.count_keys(&pattern), 1);
    drop(shared);

    let alone = replicas("ct-alone", 3, port, "[counters]\nstore = \"memory\"").await;
    let statuses = burst(&alone, "alone", 40).await;
    let admitted = count(&statuses, 200);
    eprintln!(
        "memory counters, 3 replicas, {} requests at once, limit {LIMIT}: {admitted} admitted",
        statuses.len()
    );
    assert_eq!(
        admitted,
        3 * LIMIT,
        "each replica counts alone, to the limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_test_falls_back_to_allow_and_counting_resumes_when_it_is_back() {
    let b = Arc::new(Backend::default());
    let port = serve_backend(Arc::clone(&b), backend).await;
    let mut redis = RedisServer::start();
    let r = replicas("ct-outage", 3, port, &redis_counters(&redis, "allow")).await;

    let statuses = burst(&r, "before", 4).await;
    assert_eq!(count(&statuses, 200), 12);

    redis.kill();
    // Many requests during the outage: every one admitted, none a 5xx.
    for round in 0..3 {
        let statuses = burst(&r, "outage", 20).await;
        assert_eq!(
            count(&statuses, 200),
            statuses.len(),
            "round {round}: {statuses:?}"
        );
    }
    for gw in &r.gws {
        let m = metrics(gw).await;
        assert!(m.contains("sluice_counter_store_fallback 1"), "{m}");
        let errors = m
            .lines()
            .find_map(|l| l.strip_prefix("sluice_counter_store_errors_total "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        assert!(errors >= 1, "{m}");
        let log = gw.log_text();
        assert_eq!(
            log.matches("counters: the store failed").count(),
            1,
            "one log line per outage:\n{log}"
        );
        assert!(!log.contains("redis://"), "no URL in the log:\n{log}");
    }

    // Back, empty, on the same port: after the breaker's cooldown the
    // replicas count together again.
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut all_back = true;
        for gw in &r.gws {
            let _ = serve_support::send(
                "GET",
                &gw.url("/echo/probe"),
                &[("x-tenant", "probe")],
                b"",
                false,
            )
            .await;
            all_back &= metrics(gw)
                .await
                .contains("sluice_counter_store_fallback 0");
        }
        if all_back {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replicas did not come back to Redis"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let statuses = burst(&r, "after", 20).await;
    let admitted = count(&statuses, 200);
    eprintln!(
        "after the outage: {admitted} of {} admitted, limit {LIMIT}",
        statuses.len()
    );
    assert!(
        (LIMIT..=LIMIT + r.gws.len()).contains(&admitted),
        "one limit again: {admitted}"
    );
    for gw in &r.gws {
        assert!(gw.log_text().contains("counters: the store answers again"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_concurrency_refuses_requests_over_max_count_at_once() {
    let b = Arc::new(Backend::default());
    let port = serve_backend(Arc::clone(&b), backend).await;
    let r = replicas("ct-concurrency", 1, port, "").await;
    let gw = &r.gws[0];
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..3 {
        let url = gw.url(&format!("/slow/{i}"));
        set.spawn(async move {
            serve_support::send("GET", &url, &[], b"", false)
                .await
                .unwrap()
                .status
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = set.join_next().await {
        statuses.push(s.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 429, 429]);
    assert_eq!(b.calls.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
    // The place is given back: the next request goes through.
    let r2 = get(&gw.url("/slow/again")).await.unwrap();
    assert_eq!(r2.status, 200);
}
