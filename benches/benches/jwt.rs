//! `validate-jwt` per request, in process: one request through a plan
//! whose API validates an RS256 token against the keys of an
//! `openid-config` URL (fetched once, then cached), against the same plan
//! without the policy. The difference is what the policy costs a request.
//! Also the policy alone with an HS256 key given in the policy.
//!
//! `cargo bench -p sluice-benches --bench jwt`. The keys and tokens are the
//! conformance cases' (conformance/cases/validate-jwt/keys/).

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
use sluice_gateway::plan::Request;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKENS: &str = include_str!("../../conformance/cases/validate-jwt/keys/tokens.json");
const JWKS: &str = include_str!("../../conformance/cases/validate-jwt/keys/jwks-1.json");
const HS_KEY: &str = include_str!("../../conformance/cases/validate-jwt/keys/hs256.key.b64");
const OIDC: &str = "https://issuer.test/.well-known/openid-configuration";

/// The identity provider and the backend, answering at once, at a time
/// when the tokens are valid.
struct Provider;

impl Services for Provider {
    fn now_ms(&self) -> i64 {
        1_735_689_600_000 + 60_000
    }

    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        let body: &str = if req.url == OIDC {
            r#"{"issuer":"https://issuer.test/","jwks_uri":"https://issuer.test/keys"}"#
        } else if req.url == "https://issuer.test/keys" {
            JWKS
        } else {
            r#"{"ok":true}"#
        };
        let mut headers = Multimap::default();
        headers.append("Content-Type", "application/json");
        Box::pin(async move {
            Ok(InboundResponse {
                status: 200,
                reason: "OK".into(),
                headers,
                body: Bytes::copy_from_slice(body.as_bytes()),
            })
        })
    }

    fn backend(&self, _: &str) -> Option<BackendEntity> {
        None
    }

    fn sleep(&self, _ms: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

fn config() -> String {
    let api = |name: &str, inbound: &str| {
        format!(
            "[[api]]\nname = \"{name}\"\npath = \"{name}\"\nservice-url = \"http://backend.test\"\npolicy = '''<policies><inbound><base />{inbound}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>'''\n"
        )
    };
    let rs = format!(
        r#"<validate-jwt header-name="Authorization" require-scheme="Bearer"><openid-config url="{OIDC}" /><audiences><audience>api://sluice-test</audience></audiences></validate-jwt>"#
    );
    let hs = format!(
        r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key>{}</key></issuer-signing-keys><audiences><audience>api://sluice-test</audience></audiences><issuers><issuer>https://issuer.test/</issuer></issuers></validate-jwt>"#,
        HS_KEY.trim()
    );
    format!("{}{}{}", api("rs", &rs), api("hs", &hs), api("none", ""))
}

fn request(path: &str, token: &str) -> Request {
    let mut headers = Multimap::default();
    headers.append("Authorization", &format!("Bearer {token}"));
    Request {
        method: "GET".into(),
        url: format!("http://gateway.test/{path}/x"),
        headers,
        body: Bytes::new(),
        ip: "127.0.0.1".into(),
        certificate: None,
    }
}

fn jwt(c: &mut Criterion) {
    let tokens: serde_json::Value = serde_json::from_str(TOKENS).unwrap();
    let rs256 = tokens["rs256"].as_str().unwrap().to_owned();
    let hs256 = tokens["hs256"].as_str().unwrap().to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let built = sluice_gateway::build::from_text(&config()).unwrap_or_else(|d| panic!("{d}"));
    let plan = built.plan;
    let services: Arc<dyn Services> = Arc::new(Provider);
    rt.block_on(built.families.warm(Arc::clone(&services)));
    for (path, token) in [("rs", &rs256), ("hs", &hs256), ("none", &rs256)] {
        let r = rt.block_on(plan.handle(request(path, token), Arc::clone(&services)));
        assert_eq!(
            r.status,
            200,
            "{path}: {:?}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let refused = rt.block_on(plan.handle(request("rs", &hs256), Arc::clone(&services)));
    assert_eq!(refused.status, 401);

    let mut g = c.benchmark_group("validate-jwt");
    g.bench_function("RS256, openid-config keys cached", |b| {
        b.iter(|| rt.block_on(plan.handle(request("rs", &rs256), Arc::clone(&services))));
    });
    g.bench_function("HS256, key in the policy", |b| {
        b.iter(|| rt.block_on(plan.handle(request("hs", &hs256), Arc::clone(&services))));
    });
    g.bench_function("baseline: the same request without the policy", |b| {
        b.iter(|| rt.block_on(plan.handle(request("none", &rs256), Arc::clone(&services))));
    });
    g.finish();
}

criterion_group!(benches, jwt);
criterion_main!(benches);
