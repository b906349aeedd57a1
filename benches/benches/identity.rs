//! A cached managed-identity token, the request path of nearly every
//! request that `authentication-managed-identity` serves:
//!
//! - `cached token lookup`: the token cache's fast path alone (a fresh
//!   token found by identity and resource);
//! - `request with authentication-managed-identity` and `request without`:
//!   one request through a compiled plan (in process, the backend a
//!   `Services` that answers at once) with the policy, its token cached,
//!   and the same plan without it.
//!
//! `cargo bench -p sluice-benches --bench identity`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails loudly"
)]

use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use sluice_engine::runtime::{
    BackendEntity, BoxFuture, CallError, InboundResponse, Multimap, OutboundRequest, Services,
};
use sluice_gateway::plan::{Plan, Request};
use sluice_policies::identity::{Provider, Secret, TokenCache, TokenSource};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NOW: i64 = 1_767_225_600_000;

/// Answers token requests with a token for an hour, the backend with `{}`.
struct Answers;

impl Services for Answers {
    fn now_ms(&self) -> i64 {
        NOW
    }

    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        let body: &[u8] = if req.url.contains("/oauth2/v2.0/token") {
            br#"{"token_type":"Bearer","expires_in":3600,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.bench.token"}"#
        } else {
            b"{}"
        };
        let mut headers = Multimap::default();
        headers.append("Content-Type", "application/json");
        Box::pin(async move {
            Ok(InboundResponse {
                status: 200,
                reason: "OK".into(),
                headers,
                body: Bytes::copy_from_slice(body),
            })
        })
    }

    fn backend(&self, _: &str) -> Option<BackendEntity> {
        None
    }

    fn sleep(&self, _: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

const CONFIG: &str = r#"
[identity]
provider = "client-secret"
authority-host = "http://127.0.0.1:1"
tenant-id = "contoso"
client-id = "gateway-app"
client-secret = "bench-secret"

[[api]]
name = "with"
path = "with"
service-url = "http://127.0.0.1:1/openai"
policy = '''<policies><inbound><base /><authentication-managed-identity resource="https://cognitiveservices.azure.com" output-token-variable-name="msi" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>'''

[[api]]
name = "without"
path = "without"
service-url = "http://127.0.0.1:1/openai"
"#;

fn plan() -> Plan {
    let dir = std::env::temp_dir().join(format!("sluice-identity-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("sluice.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let built = sluice_gateway::serve::build(&config, None, None).unwrap_or_else(|d| panic!("{d}"));
    let _ = std::fs::remove_dir_all(&dir);
    built.plan
}

fn request(path: &str) -> Request {
    let mut headers = Multimap::default();
    headers.append("Host", "127.0.0.1:18080");
    Request {
        method: "POST".into(),
        url: format!("http://127.0.0.1:18080{path}"),
        headers,
        body: Bytes::from_static(br#"{"messages":[]}"#),
        ip: "127.0.0.1".into(),
        certificate: None,
    }
}

fn identity(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("identity");

    let cache = TokenCache::new(None, false);
    let provider = Provider::ClientSecret {
        authority: "http://127.0.0.1:1".into(),
        tenant: "contoso".into(),
        client_id: "gateway-app".into(),
        secret: Secret::new("bench-secret"),
    };
    let key: Arc<str> = provider.key().into();
    let resource = "https://cognitiveservices.azure.com";
    rt.block_on(cache.get(&Answers, &provider, &key, "bench", resource))
        .unwrap();
    assert!(cache.peek(&key, resource, NOW).is_some());
    g.bench_function("cached token lookup", |b| {
        b.iter(|| cache.peek(&key, resource, NOW).unwrap());
    });

    let plan = plan();
    let services: Arc<dyn Services> = Arc::new(Answers);
    let first = rt.block_on(plan.handle(request("/with/chat"), Arc::clone(&services)));
    assert_eq!(first.status, 200, "{first:?}");
    g.bench_function("request with authentication-managed-identity", |b| {
        b.iter(|| rt.block_on(plan.handle(request("/with/chat"), Arc::clone(&services))));
    });
    g.bench_function("request without", |b| {
        b.iter(|| rt.block_on(plan.handle(request("/without/chat"), Arc::clone(&services))));
    });
    g.finish();
}

criterion_group!(benches, identity);
criterion_main!(benches);
