//! The token cache: refresh times, single flight, a valid token kept when
//! its refresh fails, bounded retries, the failure hold.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sluice_engine::runtime::{BoxFuture, Services};

use super::*;
use crate::fixture::{START_MS, Stub, response};
use crate::identity::{FetchError, Fetched, Provider};

const HOUR: i64 = 3_600_000;
const MIN: i64 = 60_000;

#[test]
fn refresh_comes_five_minutes_early_or_half_way_for_long_tokens() {
    assert_eq!(refresh_at(0, HOUR), 55 * MIN);
    assert_eq!(refresh_at(0, 24 * HOUR), 12 * HOUR);
    assert_eq!(refresh_at(0, 2 * HOUR), HOUR);
    // Shorter than the margin: half-way, never at once.
    assert_eq!(refresh_at(0, 4 * MIN), 2 * MIN);
}

fn secret_provider() -> Provider {
    Provider::ClientSecret {
        authority: "https://login.test".into(),
        tenant: "t".into(),
        client_id: "c".into(),
        secret: crate::identity::Secret::new("the-client-secret"),
    }
}

fn token_body(token: &str, expires_in: i64) -> String {
    format!(r#"{{"access_token":"{token}","expires_in":{expires_in}}}"#)
}

async fn get(cache: &TokenCache, stub: &Stub, p: &Provider) -> Result<Token, FetchError> {
    let key: Arc<str> = crate::identity::TokenSource::key(p).into();
    cache.get(stub, p, &key, "test", "https://r").await
}

fn advance(stub: &Stub, ms: i64) {
    stub.now.fetch_add(ms, Ordering::SeqCst);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_valid_token_and_is_retried_after_30s() {
    // Call 0 succeeds, every later call fails with 503.
    let stub = Stub::new(|_, n| {
        Ok(if n == 0 {
            response(200, &token_body("first", 3600))
        } else {
            response(503, r#"{"error":"temporarily_unavailable"}"#)
        })
    });
    let cache = TokenCache::new(None, false);
    let p = secret_provider();
    assert_eq!(
        get(&cache, &stub, &p).await.unwrap().value.expose(),
        "first"
    );
    advance(&stub, 56 * MIN);
    // One refresh attempt, failed: the token is still valid and used.
    assert_eq!(
        get(&cache, &stub, &p).await.unwrap().value.expose(),
        "first"
    );
    assert_eq!(stub.calls().len(), 2);
    advance(&stub, 10_000);
    assert_eq!(
        get(&cache, &stub, &p).await.unwrap().value.expose(),
        "first"
    );
    assert_eq!(stub.calls().len(), 2, "no new attempt within 30 s");
    advance(&stub, 30_000);
    assert!(get(&cache, &stub, &p).await.is_ok());
    assert_eq!(stub.calls().len(), 3, "tried again after 30 s");
    // Expired: three attempts with backoff, then the error.
    advance(&stub, 5 * MIN);
    let e = get(&cache, &stub, &p).await.unwrap_err();
    assert!(e.message.contains("503"), "{e}");
    assert!(e.message.contains("temporarily_unavailable"), "{e}");
    assert_eq!(stub.calls().len(), 6);
    assert_eq!(stub.sleeps(), [500, 1000]);
    // Within the hold, the failure is answered without asking.
    assert!(get(&cache, &stub, &p).await.is_err());
    assert_eq!(stub.calls().len(), 6);
    advance(&stub, 5_000);
    assert!(get(&cache, &stub, &p).await.is_err());
    assert_eq!(stub.calls().len(), 9);
}

#[tokio::test]
async fn a_refused_request_is_not_retried() {
    let stub = Stub::status(401, r#"{"error":"invalid_client"}"#);
    let cache = TokenCache::new(None, false);
    let e = get(&cache, &stub, &secret_provider()).await.unwrap_err();
    assert!(!e.retryable);
    assert!(e.message.contains("401 (invalid_client)"), "{e}");
    assert_eq!(stub.calls().len(), 1);
}

#[tokio::test]
async fn tokens_are_kept_per_resource_and_identity() {
    let stub = Stub::new(|r, n| {
        Ok(response(
            200,
            &token_body(&format!("t{n}-{}", r.url.len()), 3600),
        ))
    });
    let cache = TokenCache::new(None, false);
    let a = secret_provider();
    let key: Arc<str> = crate::identity::TokenSource::key(&a).into();
    let r1 = cache
        .get(&*stub, &a, &key, "a", "https://one")
        .await
        .unwrap();
    let r2 = cache
        .get(&*stub, &a, &key, "a", "https://two")
        .await
        .unwrap();
    assert_ne!(r1.value, r2.value);
    let again = cache
        .get(&*stub, &a, &key, "a", "https://one")
        .await
        .unwrap();
    assert_eq!(r1.value, again.value);
    assert_eq!(stub.calls().len(), 2);
    assert!(cache.peek(&key, "https://one", START_MS).is_some());
    assert!(cache.peek(&key, "https://three", START_MS).is_none());
}

/// Services whose token answer takes a while (real time), counting calls.
struct Slow(AtomicUsize);

impl Services for Slow {
    fn now_ms(&self) -> i64 {
        START_MS
    }
    fn call(
        &self,
        _: sluice_engine::runtime::OutboundRequest,
    ) -> BoxFuture<
        '_,
        Result<sluice_engine::runtime::InboundResponse, sluice_engine::runtime::CallError>,
    > {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok(response(200, &token_body("shared", 3600)))
        })
    }
    fn backend(&self, _: &str) -> Option<sluice_engine::runtime::BackendEntity> {
        None
    }
    fn sleep(&self, _: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

#[tokio::test]
async fn concurrent_requests_share_one_fetch() {
    let services = Arc::new(Slow(AtomicUsize::new(0)));
    let cache = Arc::new(TokenCache::new(None, false));
    let p = Arc::new(secret_provider());
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (s, c, p) = (Arc::clone(&services), Arc::clone(&cache), Arc::clone(&p));
        set.spawn(async move {
            let key: Arc<str> = crate::identity::TokenSource::key(&*p).into();
            c.get(&*s, &*p, &key, "x", "https://r")
                .await
                .map(|t| t.value)
        });
    }
    while let Some(r) = set.join_next().await {
        assert_eq!(r.unwrap().unwrap().expose(), "shared");
    }
    assert_eq!(services.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_static_token_never_expires() {
    let stub = Stub::status(500, "");
    let cache = TokenCache::new(None, false);
    let p = Provider::Static {
        token: crate::identity::Secret::new("fixed"),
    };
    assert_eq!(
        get(&cache, &stub, &p).await.unwrap().value.expose(),
        "fixed"
    );
    advance(&stub, 1000 * HOUR);
    assert_eq!(
        get(&cache, &stub, &p).await.unwrap().value.expose(),
        "fixed"
    );
    assert!(stub.calls().is_empty());
    let _: Option<Fetched> = None;
}
