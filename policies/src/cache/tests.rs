use bytes::Bytes;
use prometheus::Registry;

use super::codec::{Response, Value, unwrap_expiring, wrap_expiring};
use super::{Caches, CachingType, Kind, Settings};

#[test]
fn values_keep_their_type_and_foreign_bytes_are_no_value() {
    for v in [
        Value::Null,
        Value::Bool(true),
        Value::Int(-42),
        Value::Float(1.5),
        Value::Text("a\nb".into()),
    ] {
        assert_eq!(Value::decode(&v.encode()), Some(v));
    }
    assert_eq!(Value::decode(b"xyz"), None);
    assert_eq!(Value::decode(b""), None);
}

#[test]
fn a_response_round_trips_with_its_expiry() {
    let r = Response {
        status: 200,
        reason: "OK".into(),
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: Bytes::from_static(b"line 1\nline 2"),
    };
    let b = r.encode_expiring(1234);
    assert_eq!(Response::decode_expiring(&b), Some((r, 1234)));
}

#[test]
fn the_external_wrapper_expires_on_the_callers_clock() {
    let b = wrap_expiring(b"v", 1000);
    assert_eq!(
        unwrap_expiring(b.clone(), 999),
        Some(Bytes::from_static(b"v"))
    );
    assert_eq!(unwrap_expiring(b, 1000), None);
    assert_eq!(unwrap_expiring(Bytes::from_static(b"short"), 0), None);
}

#[tokio::test]
async fn the_internal_cache_expires_on_the_gateway_clock_and_counts() {
    let registry = Registry::new();
    let c = Caches::new(Settings::default(), None, &registry).unwrap();
    assert_eq!(c.resolve(CachingType::PreferExternal), Some(Kind::Internal));
    assert_eq!(c.resolve(CachingType::External), None);
    c.set(Kind::Internal, "k", Bytes::from_static(b"v"), 1000, 0)
        .await;
    assert_eq!(
        c.get(Kind::Internal, "k", 999).await.as_deref(),
        Some(&b"v"[..])
    );
    assert_eq!(c.get(Kind::Internal, "k", 1000).await, None);
    c.set(Kind::Internal, "z", Bytes::from_static(b"v"), 0, 0)
        .await;
    assert_eq!(
        c.get(Kind::Internal, "z", 0).await,
        None,
        "no ttl, not stored"
    );
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap();
    assert!(
        text.contains("sluice_cache_hits_total{cache=\"internal\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("sluice_cache_misses_total{cache=\"internal\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("sluice_cache_stores_total{cache=\"internal\"} 1"),
        "{text}"
    );
}

#[test]
fn the_internal_cache_is_bounded_by_bytes() {
    let c = super::InternalCache::new(10_000);
    for i in 0..100 {
        c.set(&format!("k{i}"), Bytes::from(vec![0u8; 1000]), i64::MAX);
    }
    assert!(c.bytes() <= 10_000, "{}", c.bytes());
    assert!(c.entries() < 100);
}
