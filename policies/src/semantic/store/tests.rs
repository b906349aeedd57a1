//! The vector stores' behaviour: one suite, written once, run against the
//! embedded `MemoryStore` and against `RedisStore` on a real redis-server
//! with the search module (one server per test, started by `server.rs`);
//! then what only Redis has: failing fast while the server is down or
//! silent, and working again when it comes back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::memory::MemoryStore;
use super::redis::{RedisConfig, RedisStore};
use super::{CachedResponse, Entry, VectorStore};
use crate::redis_server::{self as server, RedisServer};

/// The caller's clock: any value works, the stores take it as given.
const NOW: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;

fn response(text: &str) -> Arc<CachedResponse> {
    Arc::new(CachedResponse {
        status: 200,
        headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
        body: Bytes::from(format!("{{\"answer\":\"{text}\"}}")),
        text: text.to_owned(),
        stored_at_ms: NOW,
    })
}

fn entry(partition: &str, vector: &[f32], text: &str, expires_at_ms: i64) -> Entry {
    Entry {
        partition: partition.to_owned(),
        vector: vector.to_vec(),
        response: response(text),
        expires_at_ms,
    }
}

async fn put(s: &dyn VectorStore, partition: &str, vector: &[f32], text: &str) {
    s.insert(entry(partition, vector, text, NOW + HOUR), NOW)
        .await
        .unwrap();
}

/// The text and distance of the nearest entry, at `NOW`.
async fn near(s: &dyn VectorStore, partition: &str, vector: &[f32]) -> Option<(String, f32)> {
    near_at(s, partition, vector, NOW).await
}

async fn near_at(
    s: &dyn VectorStore,
    partition: &str,
    vector: &[f32],
    now_ms: i64,
) -> Option<(String, f32)> {
    s.nearest(partition, vector, now_ms)
        .await
        .unwrap()
        .map(|n| (n.response.text.clone(), n.distance))
}

fn assert_close(actual: f32, expected: f32) {
    assert!(
        (actual - expected).abs() < 1e-3,
        "distance {actual}, expected {expected}"
    );
}

/// The behaviours every store has, each an `async fn(&dyn VectorStore)`.
mod suite {
    use super::*;

    pub async fn empty_store_finds_nothing(s: &dyn VectorStore) {
        assert_eq!(near(s, "aa", &[1.0, 0.0]).await, None);
        assert_eq!(s.count().await.unwrap(), 0);
        assert_eq!(s.purge(Some("aa")).await.unwrap(), 0);
        assert_eq!(s.purge(None).await.unwrap(), 0);
    }

    pub async fn partition_is_a_hard_filter(s: &dyn VectorStore) {
        put(s, "aa", &[1.0, 0.0, 0.0], "in aa").await;
        put(s, "bb", &[0.0, 1.0, 0.0], "in bb").await;
        // The same vector in another partition is never an answer, not
        // even when it is closer than anything in the partition asked.
        assert_eq!(near(s, "cc", &[1.0, 0.0, 0.0]).await, None);
        let (text, d) = near(s, "bb", &[1.0, 0.0, 0.0]).await.unwrap();
        assert_eq!(text, "in bb");
        assert_close(d, 1.0);
        let (text, d) = near(s, "aa", &[1.0, 0.0, 0.0]).await.unwrap();
        assert_eq!(text, "in aa");
        assert_close(d, 0.0);
    }

    pub async fn distance_is_cosine_distance(s: &dyn VectorStore) {
        put(s, "ab", &[1.0, 0.0, 0.0, 0.0], "x").await;
        let cases: [(&[f32], f32); 5] = [
            (&[1.0, 0.0, 0.0, 0.0], 0.0),
            (&[3.0, 0.0, 0.0, 0.0], 0.0),
            (&[1.0, 1.0, 0.0, 0.0], 1.0 - std::f32::consts::FRAC_1_SQRT_2),
            (&[0.0, 2.0, 0.0, 0.0], 1.0),
            (&[-1.0, 0.0, 0.0, 0.0], 2.0),
        ];
        for (q, expected) in cases {
            let (_, d) = near(s, "ab", q).await.unwrap();
            assert_close(d, expected);
        }
    }

    pub async fn nearest_of_several(s: &dyn VectorStore) {
        put(s, "ab", &[1.0, 0.0, 0.0], "x").await;
        put(s, "ab", &[0.0, 1.0, 0.0], "y").await;
        put(s, "ab", &[0.0, 0.0, 1.0], "z").await;
        put(s, "ab", &[1.0, 1.0, 0.0], "xy").await;
        let cases: [(&[f32], &str, &[f32]); 4] = [
            (&[0.9, 0.1, 0.0], "x", &[1.0, 0.0, 0.0]),
            (&[0.1, 0.9, 0.05], "y", &[0.0, 1.0, 0.0]),
            (&[0.6, 0.5, 0.1], "xy", &[1.0, 1.0, 0.0]),
            (&[0.1, 0.2, 5.0], "z", &[0.0, 0.0, 1.0]),
        ];
        for (q, want, stored) in cases {
            let (text, d) = near(s, "ab", q).await.unwrap();
            assert_eq!(text, want, "nearest of {q:?}");
            assert_close(d, super::super::cosine_distance(q, stored));
        }
    }

    pub async fn expiry_follows_the_callers_clock(s: &dyn VectorStore) {
        // (A minute: Redis also expires the entry by itself, in real time.)
        s.insert(entry("ab", &[1.0, 2.0], "short", NOW + 60_000), NOW)
            .await
            .unwrap();
        let hit = s.nearest("ab", &[1.0, 2.0], NOW + 59_999).await.unwrap();
        assert_eq!(hit.map(|n| n.expires_at_ms), Some(NOW + 60_000));
        assert_eq!(near_at(s, "ab", &[1.0, 2.0], NOW + 60_000).await, None);
        assert_eq!(near_at(s, "ab", &[1.0, 2.0], NOW + HOUR).await, None);
    }

    pub async fn an_expired_nearest_gives_way_to_a_live_one(s: &dyn VectorStore) {
        // Ten close entries that expire soon, one farther that lives on:
        // more expired neighbours than a first small KNN asks for.
        for i in 0..10 {
            let v = [1.0, 0.01 * i as f32, 0.0];
            s.insert(entry("ab", &v, "close", NOW + 60_000), NOW)
                .await
                .unwrap();
        }
        put(s, "ab", &[1.0, 1.0, 0.0], "far").await;
        let q = [1.0, 0.0, 0.0];
        assert_eq!(near(s, "ab", &q).await.unwrap().0, "close");
        let (text, d) = near_at(s, "ab", &q, NOW + 120_000).await.unwrap();
        assert_eq!(text, "far");
        assert_close(d, 1.0 - std::f32::consts::FRAC_1_SQRT_2);
    }

    pub async fn purge_all(s: &dyn VectorStore) {
        for (p, n) in [("aa", 3), ("bb", 2)] {
            for i in 0..n {
                put(s, p, &[1.0, i as f32], &format!("t{i}")).await;
            }
        }
        assert_eq!(s.count().await.unwrap(), 5);
        assert_eq!(s.purge(None).await.unwrap(), 5);
        assert_eq!(s.count().await.unwrap(), 0);
        assert_eq!(near(s, "aa", &[1.0, 0.0]).await, None);
        assert_eq!(near(s, "bb", &[1.0, 0.0]).await, None);
        // The store goes on working after a purge.
        put(s, "aa", &[1.0, 0.0], "again").await;
        assert_eq!(near(s, "aa", &[1.0, 0.0]).await.unwrap().0, "again");
    }

    pub async fn purge_one_partition(s: &dyn VectorStore) {
        // `a` is a prefix of `aa`, `12` looks like a vector length.
        for (p, n) in [("a", 3), ("aa", 2), ("12", 1)] {
            for i in 0..n {
                put(s, p, &[1.0, i as f32], &format!("{p}{i}")).await;
                put(s, p, &[1.0, i as f32, 0.0], &format!("{p}{i}")).await;
            }
        }
        assert_eq!(s.count().await.unwrap(), 12);
        assert_eq!(s.purge(Some("a")).await.unwrap(), 6);
        assert_eq!(s.count().await.unwrap(), 6);
        assert_eq!(near(s, "a", &[1.0, 0.0]).await, None);
        assert_eq!(near(s, "a", &[1.0, 0.0, 0.0]).await, None);
        assert_eq!(near(s, "aa", &[1.0, 0.0]).await.unwrap().0, "aa0");
        assert_eq!(near(s, "12", &[1.0, 0.0, 0.0]).await.unwrap().0, "120");
        assert_eq!(s.purge(Some("12")).await.unwrap(), 2);
        assert_eq!(s.purge(Some("12")).await.unwrap(), 0);
        assert_eq!(s.count().await.unwrap(), 4);
    }

    pub async fn vector_lengths_are_kept_apart(s: &dyn VectorStore) {
        put(s, "ab", &[1.0, 0.0], "two").await;
        put(s, "ab", &[0.0, 1.0, 0.0], "three").await;
        assert_eq!(near(s, "ab", &[1.0, 0.0]).await.unwrap().0, "two");
        assert_eq!(near(s, "ab", &[1.0, 0.0, 0.0]).await.unwrap().0, "three");
        assert_eq!(near(s, "ab", &[1.0, 0.0, 0.0, 0.0]).await, None);
    }

    pub async fn responses_round_trip(s: &dyn VectorStore) {
        let stored = CachedResponse {
            status: 203,
            headers: vec![
                ("Content-Type".to_owned(), "text/event-stream".to_owned()),
                ("x-twice".to_owned(), "1".to_owned()),
                ("x-twice".to_owned(), "2, \"quoted\" é".to_owned()),
            ],
            // Not UTF-8.
            body: Bytes::from_static(&[0xff, 0x00, 0xfe, b'{', 0x80, b'\n', 0xc3]),
            text: "what is the 🌍? \"quotes\", newlines\nand tabs\t".to_owned(),
            stored_at_ms: NOW - 5,
        };
        let e = Entry {
            partition: "0123456789abcdef".to_owned(),
            vector: vec![0.25, -0.5, 0.75],
            response: Arc::new(stored.clone()),
            expires_at_ms: NOW + 42_000,
        };
        s.insert(e, NOW).await.unwrap();
        let hit = s
            .nearest("0123456789abcdef", &[0.25, -0.5, 0.75], NOW)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(*hit.response, stored);
        assert_eq!(hit.expires_at_ms, NOW + 42_000);
    }

    pub async fn the_same_prompt_stored_again_replaces_it(s: &dyn VectorStore) {
        put(s, "aa", &[1.0, 0.0], "q").await;
        let mut newer = entry("aa", &[1.0, 0.0], "q", NOW + 2 * HOUR);
        newer.response = Arc::new(CachedResponse {
            body: Bytes::from_static(b"fresh"),
            ..(*response("q")).clone()
        });
        s.insert(newer, NOW).await.unwrap();
        put(s, "bb", &[1.0, 0.0], "q").await;
        assert_eq!(s.count().await.unwrap(), 2);
        let hit = s.nearest("aa", &[1.0, 0.0], NOW).await.unwrap().unwrap();
        assert_eq!(hit.response.body, Bytes::from_static(b"fresh"));
        assert_eq!(hit.expires_at_ms, NOW + 2 * HOUR);
    }
}

/// One test per behaviour and store.
macro_rules! behaviours {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    super::suite::$name(&super::MemoryStore::new(10_000)).await;
                }
            )*
        }

        mod redis {
            $(
                #[tokio::test]
                async fn $name() {
                    let server = super::RedisServer::start();
                    super::suite::$name(&super::store(server.port(), 1_000)).await;
                }
            )*
        }
    };
}

behaviours!(
    empty_store_finds_nothing,
    partition_is_a_hard_filter,
    distance_is_cosine_distance,
    nearest_of_several,
    expiry_follows_the_callers_clock,
    an_expired_nearest_gives_way_to_a_live_one,
    purge_all,
    purge_one_partition,
    vector_lengths_are_kept_apart,
    responses_round_trip,
    the_same_prompt_stored_again_replaces_it,
);

fn store(port: u16, timeout_ms: u64) -> RedisStore {
    RedisStore::new(RedisConfig {
        url: format!("redis://127.0.0.1:{port}"),
        prefix: "test:sc:".to_owned(),
        connect_timeout_ms: timeout_ms,
        response_timeout_ms: timeout_ms,
    })
    .unwrap()
}

/// Every operation fails, and soon.
async fn assert_fails_fast(s: &RedisStore, within: Duration) {
    let v = [1.0, 0.0];
    let started = Instant::now();
    assert!(s.nearest("ab", &v, NOW).await.is_err());
    assert!(
        s.insert(entry("ab", &v, "t", NOW + HOUR), NOW)
            .await
            .is_err()
    );
    assert!(s.purge(None).await.is_err());
    assert!(s.purge(Some("ab")).await.is_err());
    assert!(s.count().await.is_err());
    let took = started.elapsed();
    assert!(took < within, "five failing operations took {took:?}");
}

/// Inserts and finds an entry, the same store instance that failed before.
async fn assert_works(s: &RedisStore, text: &str) {
    put(s, "ab", &[1.0, 0.0], text).await;
    assert_eq!(near(s, "ab", &[1.0, 0.0]).await.unwrap().0, text);
}

#[tokio::test]
async fn redis_down_at_start_fails_fast_then_is_picked_up() {
    let port = server::free_port();
    // Made while nothing listens: no error, no wait.
    let started = Instant::now();
    let s = store(port, 1_000);
    assert!(started.elapsed() < Duration::from_millis(100));
    assert_fails_fast(&s, Duration::from_secs(1)).await;
    let _server = RedisServer::start_on(port).unwrap();
    assert_works(&s, "after start").await;
}

#[tokio::test]
async fn redis_restarted_empty_is_picked_up_by_the_same_store() {
    let mut server = RedisServer::start();
    let s = store(server.port(), 1_000);
    assert_works(&s, "before").await;
    server.kill();
    assert_fails_fast(&s, Duration::from_secs(1)).await;
    server.restart();
    // A new server without the index or the old entry.
    assert_eq!(near(&s, "ab", &[1.0, 0.0]).await, None);
    assert_works(&s, "after restart").await;
    assert_eq!(s.count().await.unwrap(), 1);

    // Killed and restarted between two operations, without any failing
    // operation in between: the broken connection is replaced at once, for
    // a search and for an insert.
    server.kill();
    server.restart();
    assert_eq!(near(&s, "ab", &[1.0, 0.0]).await, None);
    server.kill();
    server.restart();
    assert_works(&s, "after a third restart").await;
}

#[tokio::test]
async fn a_silent_server_is_bounded_by_the_timeouts() {
    // Accepts connections (the kernel's backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let s = store(port, 150);
    let started = Instant::now();
    let r = s.nearest("ab", &[1.0, 0.0], NOW).await;
    let took = started.elapsed();
    assert!(r.as_ref().is_err_and(|e| e.timeout), "a timeout: {r:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    drop(silent);
}

#[tokio::test]
async fn invalid_partitions_and_urls_are_errors() {
    let bad_url = RedisConfig {
        url: "not a url".to_owned(),
        ..RedisConfig::default()
    };
    assert!(RedisStore::new(bad_url).is_err());
    // A URL the client refuses is named in the error, its password masked.
    let with_password = RedisConfig {
        url: "redis://user:hunter2-secret@host:notaport/0".to_owned(),
        ..RedisConfig::default()
    };
    let shown = format!("{with_password:?}");
    assert!(
        shown.contains("redis://user:***@host") && !shown.contains("hunter2"),
        "{shown}"
    );
    let e = RedisStore::new(with_password).unwrap_err();
    assert!(
        e.message.contains("user:***@host") && !e.message.contains("hunter2"),
        "{e}"
    );
    let s = store(server::free_port(), 100);
    for p in ["", "AB", "a*", "a:b", "{x}"] {
        let e = s.nearest(p, &[1.0], NOW).await.unwrap_err();
        assert!(e.message.contains("partition"), "{p:?}: {e}");
        let e = s.insert(entry(p, &[1.0], "t", NOW + HOUR), NOW).await;
        assert!(e.unwrap_err().message.contains("partition"), "{p:?}");
        assert!(
            s.purge(Some(p))
                .await
                .unwrap_err()
                .message
                .contains("partition")
        );
    }
}

#[tokio::test]
async fn an_entry_for_ever_still_expires_in_redis() {
    // A `duration` too large for Redis's `PEXPIRE` once left the hash of a
    // failed store in place with no expiry, found by later searches.
    let server = RedisServer::start();
    let s = store(server.port(), 1_000);
    s.insert(entry("ab", &[1.0, 0.0], "for ever", i64::MAX), NOW)
        .await
        .unwrap();
    assert_eq!(near(&s, "ab", &[1.0, 0.0]).await.unwrap().0, "for ever");
    let ttl = server
        .command(&[
            "EVAL",
            "return redis.call('PTTL', redis.call('KEYS', ARGV[1])[1])",
            "0",
            "test:sc:e:*",
        ])
        .unwrap();
    let ttl: i64 = ttl.strip_prefix(':').unwrap().parse().unwrap();
    assert!(ttl > 50 * 365 * 24 * 3_600_000, "PTTL {ttl}");
}

#[test]
fn the_password_of_a_redis_url_is_found_and_masked() {
    use super::redis::{masked_url, url_password};
    for (url, masked) in [
        (
            "redis://user:pw-1@host:6379/0",
            "redis://user:***@host:6379/0",
        ),
        ("rediss://:p%40ss@host", "rediss://:***@host"),
        ("redis://a:b:c@h", "redis://a:***@h"),
        (
            "redis+unix:///tmp/r.sock?db=1&pass=s3cret",
            "redis+unix:///tmp/r.sock?db=1&pass=***",
        ),
        ("redis://user@host:6379", "redis://user@host:6379"),
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
        ("redis://h/0?password=x#f", "redis://h/0?password=***#f"),
    ] {
        assert_eq!(masked_url(url), masked, "{url}");
    }
    assert_eq!(
        url_password("redis://u:pw@h").map(|r| &"redis://u:pw@h"[r]),
        Some("pw")
    );
}
