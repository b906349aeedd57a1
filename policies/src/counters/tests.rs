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
async fn a_sliding_window_admits_its_limit_then_frees_as_the_old_bucket_slides_out() {
    let c = Counters::memory();
    let k = sliding(2, 60);
    let t0 = 1_800_000_000_000_i64 - 1_800_000_000_000 % 60_000; // a bucket's start
    let d = c.take(&k, Take::Fit(1), t0).await;
    assert!(d.allowed);
    assert_eq!((d.count, d.remaining), (1, 1));
    assert!(c.take(&k, Take::Fit(1), t0 + 10).await.allowed);
    let d = c.take(&k, Take::Fit(1), t0 + 20).await;
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    // Both calls are in this bucket: they slide out over the next one.
    // One frees when half the next bucket has passed.
    assert_eq!(d.retry_after_ms, Some(60_000 - 20 + 30_000));
    assert!(!c.take(&k, Take::Fit(1), t0 + 89_999).await.allowed);
    let d = c.take(&k, Take::Fit(1), t0 + 90_000).await;
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.remaining, 0);
    // Two periods on, nothing is held.
    let d = c.take(&k, Take::Below(0), t0 + 240_000).await;
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
async fn below_admits_while_under_and_add_reconciles_after_the_response() {
    let c = Counters::memory();
    let k = sliding(100, 60);
    // A reservation of 80, then the real usage of 130: the count overshoots.
    assert!(c.take(&k, Take::Fit(80), 0).await.allowed);
    let d = c.take(&k, Take::Add(50), 1).await;
    assert!(d.allowed);
    assert_eq!((d.count, d.remaining), (130, 0));
    // Over the limit, the next call is refused until it slides back under.
    assert!(!c.take(&k, Take::Below(10), 2).await.allowed);
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
