//! The semantic cache's reading of an LLM request holds memory in
//! proportion to its body, within its bound, and `max-message-count`
//! stops it early: measured with a counting global allocator (its own test
//! binary, one test, so nothing else allocates meanwhile).

use std::time::{Duration, Instant};

use peak_alloc::PeakAlloc;
use sluice_policies::semantic::shape::{Bounds, Skip, analyze_bounded};

#[global_allocator]
static PEAK: PeakAlloc = PeakAlloc;

/// A chat request of `n` short messages, the last a user's.
fn body(n: usize) -> Vec<u8> {
    let mut b = String::from(r#"{"model":"gpt-4o","messages":["#);
    for i in 0..n {
        let role = if i % 2 == 0 { "assistant" } else { "user" };
        if i > 0 {
            b.push(',');
        }
        b.push_str(&format!(r#"{{"role":"{role}","content":"m"}}"#));
    }
    b.push_str("]}");
    b.into_bytes()
}

/// Peak bytes allocated while `f` runs, over those live before, and its time.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, Duration) {
    let base = PEAK.current_usage();
    PEAK.reset_peak_usage();
    let t = Instant::now();
    let out = f();
    let took = t.elapsed();
    (out, PEAK.peak_usage().saturating_sub(base), took)
}

#[test]
fn a_large_body_stays_within_its_memory_bound() {
    // 500,000 messages, about 15 MB: the body of the hardening audit.
    let body = body(500_000);
    assert!((13 << 20..17 << 20).contains(&body.len()), "{}", body.len());
    let path = "/openai/v1/chat/completions";

    // The gateway's default bound: 4 times the default body limit (16 MiB).
    let cap = 4 * (16 << 20);
    let (read, peak, took) = measure(|| {
        analyze_bounded(
            path,
            &body,
            false,
            Bounds {
                max_messages: None,
                max_bytes: cap,
            },
        )
        .map(|p| p.messages)
    });
    assert_eq!(
        read,
        Err(Skip::TooLarge),
        "500,000 messages are too many to hold"
    );
    assert!(
        peak <= cap + (4 << 20),
        "held {} MiB, over the bound of {} MiB",
        peak >> 20,
        cap >> 20
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");

    // Under a bound that lets it through, it holds a small multiple of the
    // body (a fifth of it here, to keep the debug build's test short).
    let fifth = self::body(100_000);
    let (read, peak, took) = measure(|| {
        analyze_bounded(
            path,
            &fifth,
            false,
            Bounds {
                max_messages: None,
                max_bytes: usize::MAX,
            },
        )
        .map(|p| p.messages)
    });
    assert_eq!(read, Ok(100_000));
    assert!(
        peak <= 24 * fifth.len(),
        "held {} MiB for a body of {} MiB",
        peak >> 20,
        fifth.len() >> 20
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");

    // `max-message-count="50"` stops the reading at the 51st message (the
    // best of three runs: the time is a scheduler's on a busy machine).
    let (read, peak, took) = (0..3)
        .map(|_| {
            measure(|| {
                analyze_bounded(
                    path,
                    &body,
                    false,
                    Bounds {
                        max_messages: Some(50),
                        max_bytes: cap,
                    },
                )
                .map(|p| p.messages)
            })
        })
        .min_by_key(|(_, _, took)| *took)
        .unwrap_or_else(|| unreachable!());
    assert_eq!(read, Err(Skip::TooManyMessages));
    assert!(peak < 256 << 10, "held {peak} bytes");
    assert!(took < Duration::from_millis(50), "took {took:?}");
}
