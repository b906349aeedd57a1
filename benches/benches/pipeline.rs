//! One request through a compiled plan, in process: routing, the context,
//! every policy, the backend call and the response, with the network left
//! out (the backend is a [`Services`] that answers at once). The baseline in
//! the same process is that backend called directly, without a plan.
//!
//! - `load policy`: the load benchmark's configuration (benches/load/),
//!   about ten policies with expressions;
//! - `exact hit`: a semantic-cache lookup answered by the exact layer, the
//!   request cache.sh's exact part sends.
//!
//! `cargo bench -p sluice-benches --bench pipeline`. The gateway's speed
//! under load is benches/load.sh and benches/cache.sh; this bench is where a
//! change to the request path is measured without network noise.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails loudly"
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use sluice_engine::runtime::{
    BackendEntity, BoxFuture, CallError, InboundResponse, Multimap, OutboundRequest, Purpose,
    Services,
};
use sluice_gateway::plan::{Plan, Request};

/// The `sluice` binary's allocator (gateway/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The load benchmark backend's answer (benches/src/bin/backend.rs).
const BODY: &str = r#"{"id":42,"name":"widget","color":"blue","price":12.5,"tags":["a","b","c"],"owner":"backend.internal"}"#;

/// A chat completion, as benches/src/bin/mock_llm.rs answers.
const COMPLETION: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22}}"#;

/// Answers every call at once: the backend with [`BODY`] or [`COMPLETION`],
/// embeddings with a fixed vector.
struct Backend {
    backends: BTreeMap<String, BackendEntity>,
    body: &'static str,
}

impl Services for Backend {
    fn now_ms(&self) -> i64 {
        1_767_225_600_000
    }

    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        let mut headers = Multimap::default();
        headers.append("Content-Type", "application/json");
        headers.append("Server", "bench-backend");
        let body = match req.purpose {
            Purpose::Embeddings => {
                br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.6,0.8,0.0]}]}"#.as_slice()
            }
            _ => self.body.as_bytes(),
        };
        Box::pin(async move {
            Ok(InboundResponse {
                status: 200,
                reason: "OK".into(),
                headers,
                body: Bytes::copy_from_slice(body),
            })
        })
    }

    fn backend(&self, id: &str) -> Option<BackendEntity> {
        self.backends.get(id).cloned()
    }

    fn sleep(&self, _ms: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

fn plan(config: &Path, body: &'static str) -> (Plan, Arc<dyn Services>) {
    let built = sluice_gateway::serve::build(config, None, None).unwrap_or_else(|d| panic!("{d}"));
    let services: Arc<dyn Services> = Arc::new(Backend {
        backends: built.plan.backends.clone(),
        body,
    });
    (built.plan, services)
}

fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
    let mut h = Multimap::default();
    for (k, v) in headers {
        h.append(k, v);
    }
    Request {
        method: method.into(),
        url: url.into(),
        headers: h,
        body: Bytes::copy_from_slice(body),
        ip: "127.0.0.1".into(),
        certificate: None,
    }
}

fn pipeline(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut g = c.benchmark_group("pipeline");

    // The load benchmark's request, as the server hands it to the plan.
    let (load, services) = plan(&root.join("load/sluice.toml"), BODY);
    let headers = [
        ("Host", "127.0.0.1:18080"),
        ("X-Client", "bench-1"),
        ("Accept", "application/json"),
    ];
    let url = "http://127.0.0.1:18080/api/items/42?color=blue";
    let first = rt.block_on(load.handle(request("GET", url, &headers, b""), Arc::clone(&services)));
    assert_eq!(first.status, 200, "{first:?}");
    assert!(String::from_utf8_lossy(&first.body).contains("api.example.com"));
    g.bench_function("load policy", |b| {
        b.iter(|| {
            rt.block_on(load.handle(request("GET", url, &headers, b""), Arc::clone(&services)))
        });
    });
    g.bench_function("load policy: backend alone", |b| {
        b.iter(|| {
            rt.block_on(services.call(OutboundRequest {
                method: "GET".into(),
                url: "http://127.0.0.1:18081/catalog/v2/items/42?color=blue".into(),
                headers: request("GET", url, &headers, b"").headers,
                ..OutboundRequest::default()
            }))
        });
    });

    // An exact-layer hit: the first request fills the cache.
    let dir = std::env::temp_dir().join(format!("sluice-pipeline-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("sluice.toml");
    std::fs::write(&config, EXACT_CONFIG).unwrap();
    let (exact, services) = plan(&config, COMPLETION);
    let _ = std::fs::remove_dir_all(&dir);
    let prompt = br#"{"model":"gpt-4o","messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"What is the capital of France?"}]}"#;
    let headers = [
        ("Host", "127.0.0.1:18080"),
        ("Content-Type", "application/json"),
    ];
    let url = "http://127.0.0.1:18080/llm/v1/chat/completions";
    let send = || request("POST", url, &headers, prompt);
    // The store completes in the background: the next requests hit once it has.
    let status = |r: &sluice_gateway::plan::Response| {
        assert_eq!(r.status, 200, "{r:?}");
        r.headers
            .get("x-sluice-cache")
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    };
    let r = rt.block_on(exact.handle(send(), Arc::clone(&services)));
    assert_eq!(status(&r), "miss");
    let hit = (0..200).any(|_| {
        rt.block_on(async { tokio::time::sleep(std::time::Duration::from_millis(5)).await });
        let r = rt.block_on(exact.handle(send(), Arc::clone(&services)));
        status(&r).starts_with("hit; layer=exact")
    });
    assert!(hit, "the exact layer never answered");
    g.bench_function("exact hit", |b| {
        b.iter(|| rt.block_on(exact.handle(send(), Arc::clone(&services))));
    });
    g.finish();
}

/// cache.sh's exact-layer configuration (its ports do not matter here).
const EXACT_CONFIG: &str = r#"
[semantic-cache]
store = "memory"
status-header = "x-sluice-cache"

[backends.embeddings]
url = "http://127.0.0.1:1/v1/embeddings"

[[api]]
name = "llm"
path = "llm"
service-url = "http://127.0.0.1:1/openai"
policy = '''<policies><inbound><base /><llm-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings" embeddings-backend-auth="system-assigned" /></inbound><backend><base /></backend><outbound><llm-semantic-cache-store duration="3600" /><base /></outbound><on-error><base /></on-error></policies>'''
"#;

criterion_group!(benches, pipeline);
criterion_main!(benches);
