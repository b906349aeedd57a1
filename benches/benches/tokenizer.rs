//! The offline tokenizer of the token policies (`sluice_policies::tokens`):
//! tokens per second of `o200k_base` and `cl100k_base` on English prose
//! (a prompt's words), and of a whole chat prompt's estimate
//! (`prompt_tokens`: the JSON parsed, each message counted, as
//! `estimate-prompt-tokens="true"` does on every request).
//!
//! Printed first: tokens/s of each, single-threaded, over a 64 KiB text
//! (after a warm-up that loads the tables). Then criterion measures a
//! short prompt (about 100 tokens), a long one (about 4,000), and the chat
//! estimate of the long one.
//!
//! `cargo bench -p sluice-benches --bench tokenizer`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails loudly"
)]

use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use sluice_policies::tokens::tokenizer::{Encoding, prompt_tokens};

/// Prose with the usual mix of words, numbers and punctuation.
const PROSE: &str = "The gateway counts the tokens of every prompt before it reaches the model, \
so that a request over its limit is refused early. In 2024, Azure API Management added token \
limits (tokens-per-minute, and later quotas per hour, day, week, month or year); streamed \
answers are counted too, from the usage the model reports or, when none comes, from the text \
itself. Costs: roughly $0.005 per 1,000 input tokens! Does it hold under load? We measure it. ";

fn text(bytes: usize) -> String {
    let mut t = String::with_capacity(bytes + PROSE.len());
    while t.len() < bytes {
        t.push_str(PROSE);
    }
    t
}

fn chat(text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            { "role": "system", "content": "You are a helpful assistant." },
            { "role": "user", "content": text },
        ],
    }))
    .unwrap()
}

fn figures() {
    let big = text(64 * 1024);
    for enc in [Encoding::O200k, Encoding::Cl100k] {
        let _ = enc.count("warm up");
        let start = Instant::now();
        let mut tokens = 0;
        let mut rounds: u64 = 0;
        while start.elapsed().as_secs_f64() < 2.0 {
            tokens += enc.count(black_box(&big));
            rounds += 1;
        }
        let s = start.elapsed().as_secs_f64();
        println!(
            "{}: {:.2} M tokens/s ({:.1} MB/s; {} tokens in 64 KiB, {rounds} rounds)",
            enc.name(),
            tokens as f64 / s / 1e6,
            (big.len() as u64 * rounds) as f64 / s / 1e6,
            tokens / rounds,
        );
    }
}

fn main() {
    figures();
    let mut c = Criterion::default().configure_from_args();
    let short = text(400);
    let long = text(16 * 1024);
    let long_chat = chat(&long);
    let mut g = c.benchmark_group("tokenizer");
    g.bench_function("o200k/short", |b| {
        b.iter(|| Encoding::O200k.count(black_box(&short)))
    });
    g.bench_function("o200k/long", |b| {
        b.iter(|| Encoding::O200k.count(black_box(&long)))
    });
    g.bench_function("cl100k/long", |b| {
        b.iter(|| Encoding::Cl100k.count(black_box(&long)))
    });
    g.bench_function("estimate/chat-long", |b| {
        b.iter(|| prompt_tokens(black_box(&long_chat), None))
    });
    g.finish();
    c.final_summary();
}
