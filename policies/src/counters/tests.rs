use std::sync::Arc;

use super::*;

fn sliding(limit: u64, secs: u64) -> Counter {
    Counter::new(
        "rate-limit-by-key",
        "k",
        limit,
        Window::Sliding {
            period_ms: secs * 1000,
        },
    )
}

#[tokio::test]
async fn a_sliding_window_admits_its_limit_then_frees_a_period_after_each_step() {
    let c = Counters::memory();
    let k = sliding(2, 60);
    let t0 = 1_735_689_600_000_i64; // a step's start (2025-01-01)
    let d = c.take(&k, Take::Fit(1), t0).await;
    assert!(d.allowed);
    assert_eq!((d.count, d.remaining), (1, 1));
    // Steps of 6 s: this one is in the third step.
    assert!(c.take(&k, Take::Fit(1), t0 + 15_000).await.allowed);
    let d = c.take(&k, Take::Fit(1), t0 + 20_000).await;
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    // The first call leaves one period after its step's start.
    assert_eq!(d.retry_after_ms, Some(40_000));
    assert_eq!(d.reset_ms, Some(40_000));
    assert!(!c.take(&k, Take::Fit(1), t0 + 59_999).await.allowed);
    let d = c.take(&k, Take::Fit(1), t0 + 60_000).await;
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.remaining, 0);
    // Two at once need both places: the second call leaves at 72 s.
    let d = c.take(&k, Take::Fit(2), t0 + 61_000).await;
    assert!(!d.allowed);
    assert_eq!(
        d.retry_after_ms,
        Some(59_000),
        "the call of 60 s leaves at 120 s"
    );
    // A period after the last call, nothing is held.
    let d = c.take(&k, Take::Below(0), t0 + 120_000).await;
    assert!(d.allowed);
    assert_eq!(d.count, 0);
}

#[tokio::test]
async fn keys_and_policies_count_apart() {
    let c = Counters::memory();
    let a = sliding(1, 60);
    let mut b = a.clone();
    b.key = "other".into();
    let mut q = a.clone();
    q.policy = "quota-by-key";
    assert!(c.take(&a, Take::Fit(1), 0).await.allowed);
    assert!(!c.take(&a, Take::Fit(1), 0).await.allowed);
    assert!(c.take(&b, Take::Fit(1), 0).await.allowed);
    assert!(c.take(&q, Take::Fit(1), 0).await.allowed);
}

#[tokio::test]
async fn a_fixed_window_renews_at_its_period_from_its_start() {
    let c = Counters::memory();
    let start = 1_000;
    let k = Counter::new(
        "quota-by-key",
        "k",
        3,
        Window::Fixed {
            period_ms: 10_000,
            start_ms: start,
        },
    );
    assert!(c.take(&k, Take::Fit(3), 5_000).await.allowed);
    let d = c.take(&k, Take::Fit(1), 6_000).await;
    assert!(!d.allowed);
    assert_eq!(d.retry_after_ms, Some(5_000), "the window ends at 11 000");
    assert_eq!(d.reset_ms, Some(5_000));
    // Before its start, a window counts in the period before.
    let early = c.take(&k, Take::Below(0), -5_000).await;
    assert_eq!((early.count, early.reset_ms), (0, Some(6_000)));
    assert!(c.take(&k, Take::Fit(1), 11_000).await.allowed);
    // A lifetime window never renews.
    let life = Counter::new(
        "quota-by-key",
        "life",
        1,
        Window::Fixed {
            period_ms: 0,
            start_ms: 0,
        },
    );
    assert!(c.take(&life, Take::Fit(1), 0).await.allowed);
    let d = c.take(&life, Take::Fit(1), i64::MAX / 2).await;
    assert!(!d.allowed);
    assert_eq!((d.retry_after_ms, d.reset_ms), (None, None));
}

#[tokio::test]
async fn a_span_counts_until_its_end_and_the_next_span_starts_from_zero() {
    let c = Counters::memory();
    let january = Counter::new(
        "llm-token-limit",
        "k",
        100,
        Window::Span {
            start_ms: 0,
            end_ms: 31 * 86_400_000,
        },
    );
    assert!(c.take(&january, Take::Fit(100), 1_000).await.allowed);
    let d = c.take(&january, Take::Fit(1), 86_400_000).await;
    assert!(!d.allowed);
    assert_eq!(d.retry_after_ms, Some(30 * 86_400_000));
    assert_eq!(d.reset_ms, Some(30 * 86_400_000));
    // February (28 days): another start, the same key.
    let mut february = january.clone();
    february.window = Window::Span {
        start_ms: 31 * 86_400_000,
        end_ms: 59 * 86_400_000,
    };
    let d = c.take(&february, Take::Fit(1), 32 * 86_400_000).await;
    assert!(d.allowed);
    assert_eq!(d.count, 1);
}

#[tokio::test]
async fn below_admits_while_under_and_add_reconciles_after_the_response() {
    let c = Counters::memory();
    let k = sliding(100, 60);
    // A reservation of 80, then the real usage of 130: the count overshoots.
    assert!(c.take(&k, Take::Fit(80), 0).await.allowed);
    let d = c.take(&k, Take::Add(50), 1).await;
    assert!(d.allowed);
    assert_eq!((d.count, d.remaining), (130, 0));
    // Over the limit, the next call is refused until it slides back under.
    let d = c.take(&k, Take::Below(10), 2).await;
    assert!(!d.allowed);
    assert_eq!(d.retry_after_ms, Some(59_998));
    // A correction downwards never goes below zero.
    let d = c.take(&k, Take::Add(-1_000), 3).await;
    assert_eq!(d.count, 0);
    assert!(c.take(&k, Take::Below(0), 4).await.allowed);
    // More than the limit can never fit.
    let d = c.take(&k, Take::Fit(101), 5).await;
    assert!(!d.allowed);
    assert_eq!(d.retry_after_ms, None);
}

#[tokio::test]
async fn take_all_adds_nothing_when_one_refuses() {
    let c = Counters::memory();
    let wide = sliding(10, 60);
    let mut narrow = sliding(1, 60);
    narrow.key = "narrow".into();
    let both = [(wide.clone(), Take::Fit(1)), (narrow.clone(), Take::Fit(1))];
    let (_, d) = c.take_all(&both, 0).await;
    assert!(d.allowed);
    assert_eq!(d.remaining, 0, "the narrowest counter's");
    let (i, d) = c.take_all(&both, 1).await;
    assert_eq!((i, d.allowed), (1, false));
    let d = c.take(&wide, Take::Below(0), 2).await;
    assert_eq!(
        d.count, 1,
        "the refused call was taken back from the wide counter"
    );
}

#[tokio::test]
async fn refusals_are_counted_by_policy() {
    let registry = prometheus::Registry::new();
    let c = Counters::new(
        Arc::new(MemoryStore::new()),
        Settings::default(),
        Some(&registry),
    )
    .expect("metrics");
    let k = sliding(0, 60);
    assert!(!c.take(&k, Take::Fit(1), 0).await.allowed);
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .expect("encode");
    assert!(
        text.contains("sluice_limit_refusals_total{policy=\"rate-limit-by-key\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn leases_refuse_past_max_and_queue_when_asked() {
    let c = Arc::new(Counters::memory());
    let a = c.acquire("limit-concurrency", "k", 2, Queue::NONE).await;
    let b = c.acquire("limit-concurrency", "k", 2, Queue::NONE).await;
    assert!(a.is_some() && b.is_some());
    assert!(
        c.acquire("limit-concurrency", "k", 2, Queue::NONE)
            .await
            .is_none()
    );
    assert!(
        c.acquire("limit-concurrency", "other", 2, Queue::NONE)
            .await
            .is_some()
    );
    drop(a);
    assert_eq!(c.leases.held("k"), 1);
    let a = c.acquire("limit-concurrency", "k", 2, Queue::NONE).await;
    assert!(a.is_some());
    // A queued caller gets the place freed while it waits.
    let queue = Queue {
        length: 1,
        wait_ms: 5_000,
    };
    let c2 = Arc::clone(&c);
    let waiter = tokio::spawn(async move { c2.acquire("limit-concurrency", "k", 2, queue).await });
    tokio::task::yield_now().await;
    drop(b);
    let w = waiter.await.expect("join");
    assert!(w.is_some());
    // One that waits too long is refused.
    let short = Queue {
        length: 1,
        wait_ms: 10,
    };
    assert!(
        c.acquire("limit-concurrency", "k", 2, short)
            .await
            .is_none()
    );
    drop((a, w));
    assert_eq!(c.leases.held("k"), 0);
}

/// A store that always fails, for the fallbacks.
#[derive(Debug)]
struct Down;

impl CounterStore for Down {
    fn take<'a>(
        &'a self,
        _: &'a Counter,
        _: Take,
        _: i64,
    ) -> BoxFuture<'a, Result<Raw, StoreError>> {
        Box::pin(async { Err(StoreError("down".into())) })
    }
    fn kind(&self) -> &'static str {
        "redis"
    }
}

async fn with_fallback(f: Fallback) -> (Counters, prometheus::Registry) {
    let registry = prometheus::Registry::new();
    let c = Counters::new(
        Arc::new(Down),
        Settings {
            on_store_failure: f,
            ..Settings::default()
        },
        Some(&registry),
    )
    .expect("metrics");
    (c, registry)
}

#[tokio::test]
async fn a_failing_store_falls_back_as_configured_and_says_so_in_the_metrics() {
    let k = sliding(1, 60);
    let (c, registry) = with_fallback(Fallback::Allow).await;
    for t in 0..3 {
        let d = c.take(&k, Take::Fit(1), t).await;
        assert!(d.allowed);
        assert_eq!(d.fallback, Some(Fallback::Allow));
    }
    assert!(c.in_outage());
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .expect("encode");
    assert!(text.contains("sluice_counter_store_fallback 1"), "{text}");
    // The breaker opened on the first failure: one call reached the store.
    assert!(
        text.contains("sluice_counter_store_errors_total 1"),
        "{text}"
    );

    let (c, _) = with_fallback(Fallback::Deny).await;
    let d = c.take(&k, Take::Fit(1), 0).await;
    assert!(!d.allowed);
    assert_eq!(d.fallback, Some(Fallback::Deny));

    let (c, _) = with_fallback(Fallback::Local).await;
    assert!(c.take(&k, Take::Fit(1), 0).await.allowed);
    let d = c.take(&k, Take::Fit(1), 1).await;
    assert!(!d.allowed, "counted in this replica");
    assert_eq!(d.fallback, Some(Fallback::Local));
}

mod redis_store {
    use super::*;
    use crate::redis_server::RedisServer;

    fn on(server: &RedisServer, f: Fallback) -> Counters {
        let store = RedisStore::new(RedisConfig {
            url: server.url(),
            prefix: "t:ct:".into(),
            ..RedisConfig::default()
        })
        .expect("store");
        Counters::new(
            Arc::new(store),
            Settings {
                on_store_failure: f,
                breaker_cooldown_ms: 0,
                ..Settings::default()
            },
            None,
        )
        .expect("metrics")
    }

    #[tokio::test]
    async fn replicas_on_one_redis_share_counts_keys_are_tagged_and_expire() {
        let server = RedisServer::start();
        let (a, b) = (on(&server, Fallback::Allow), on(&server, Fallback::Allow));
        let k = sliding(5, 300);
        let mut admitted = 0;
        for i in 0..10 {
            let c = if i % 2 == 0 { &a } else { &b };
            let d = c.take(&k, Take::Fit(1), 0).await;
            assert_eq!(d.fallback, None);
            if d.allowed {
                admitted += 1;
            } else {
                assert!(d.retry_after_ms.is_some_and(|ms| ms > 0), "{d:?}");
            }
        }
        assert_eq!(admitted, 5, "one count for both replicas");
        assert_eq!(server.count_keys("t:ct:rate-limit-by-key:{*}"), 1);
        let store = RedisStore::new(RedisConfig {
            url: server.url(),
            prefix: "t:ct:".into(),
            ..RedisConfig::default()
        })
        .expect("store");
        let ttl = server.command(&["PTTL", &store.key(&k)]).expect("PTTL");
        let ttl: i64 = ttl.trim_start_matches(':').parse().expect("a number");
        assert!(ttl > 0 && ttl <= 600_000, "{ttl}");
        // A fixed window on the server's clock: a lifetime quota too.
        let q = Counter::new(
            "quota-by-key",
            "k",
            2,
            Window::Fixed {
                period_ms: 0,
                start_ms: 0,
            },
        );
        assert!(a.take(&q, Take::Fit(2), 0).await.allowed);
        let d = b.take(&q, Take::Fit(1), 0).await;
        assert!(!d.allowed);
        assert_eq!(d.retry_after_ms, None);
        // Usage added after the response, then a correction.
        let t = sliding(100, 60);
        assert!(a.take(&t, Take::Fit(40), 0).await.allowed);
        let d = b.take(&t, Take::Add(90), 0).await;
        assert_eq!(d.count, 130);
        assert!(!a.take(&t, Take::Below(1), 0).await.allowed);
        let d = b.take(&t, Take::Add(-500), 0).await;
        assert_eq!(d.count, 0);
        // A span around the server's clock counts; one that ended does not.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as i64;
        let span = Counter::new(
            "llm-token-limit",
            "k",
            10,
            Window::Span {
                start_ms: now - 60_000,
                end_ms: now + 60_000,
            },
        );
        assert!(a.take(&span, Take::Fit(10), now).await.allowed);
        let d = b.take(&span, Take::Fit(1), now).await;
        assert!(!d.allowed);
        assert!(
            d.retry_after_ms.is_some_and(|ms| ms > 0 && ms <= 61_000),
            "{d:?}"
        );
        let mut next = span.clone();
        next.window = Window::Span {
            start_ms: now - 1_000,
            end_ms: now + 60_000,
        };
        assert_eq!(b.take(&next, Take::Fit(1), now).await.count, 1);
    }

    #[tokio::test]
    async fn a_redis_outage_falls_back_and_counting_resumes_when_it_is_back() {
        let mut server = RedisServer::start();
        let allow = on(&server, Fallback::Allow);
        let local = on(&server, Fallback::Local);
        let k = sliding(1, 300);
        assert!(allow.take(&k, Take::Fit(1), 0).await.allowed);
        assert!(!local.take(&k, Take::Fit(1), 0).await.allowed, "shared");
        server.kill();
        let d = allow.take(&k, Take::Fit(1), 0).await;
        assert!(d.allowed);
        assert_eq!(d.fallback, Some(Fallback::Allow));
        assert!(allow.in_outage());
        let d = local.take(&k, Take::Fit(1), 0).await;
        assert_eq!((d.allowed, d.fallback), (true, Some(Fallback::Local)));
        assert!(
            !local.take(&k, Take::Fit(1), 0).await.allowed,
            "counted here"
        );
        // Back, empty (the script is loaded again): shared counting resumes.
        server.restart();
        let mut back = None;
        for _ in 0..50 {
            let d = allow.take(&k, Take::Fit(1), 0).await;
            if d.fallback.is_none() {
                back = Some(d);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let d = back.expect("the store answers again");
        assert!(d.allowed);
        assert!(!allow.in_outage());
        let d = local.take(&k, Take::Fit(1), 0).await;
        assert_eq!((d.allowed, d.fallback), (false, None));
    }
}
