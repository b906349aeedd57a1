//! The cache benchmark's Redis filler: stores N prompts in the Redis vector
//! store directly, with the gateway's own store code (`RedisStore::insert`),
//! the vectors of the embeddings stub and the mock LLM's answer, under the
//! partition the gateway reported for them. What the gateway would store for
//! the same prompts, without a vector search before each insert: through
//! the gateway, filling is quadratic (each of the N lookups searches the
//! entries before it), which takes many minutes at 100k on Redis.
//!
//! ```text
//! redis_fill REDIS_URL PREFIX PARTITION --embeddings URL --answer URL
//!            --text TEMPLATE --from A --to B [--concurrency C] [--ttl SECONDS]
//! ```
//!
//! `TEMPLATE` is the embedded text (the last user message) with `{n}` for
//! the prompt's number, A ≤ n < B. Prints `stored N in S s`; any failure
//! makes the exit status 1. Use a Redis without the store's index: the
//! store creates it on its first insert, and a store that finds the index
//! already there fails every insert (its "already exists" check does not
//! match redis-rs 1.8's error text; docs/semantic-cache.md, "Speed").

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sluice_policies::semantic::store::redis::{RedisConfig, RedisStore};
use sluice_policies::semantic::store::{CachedResponse, Entry, VectorStore};

type Fallible<T> = Result<T, Box<dyn Error + Send + Sync>>;
type Http = Client<HttpConnector, Full<Bytes>>;

/// Prompts embedded per call to the embeddings stub.
const BATCH: u64 = 100;

struct Fill {
    redis_url: String,
    prefix: String,
    partition: String,
    embeddings: String,
    answer: String,
    text: String,
    from: u64,
    to: u64,
    concurrency: u64,
    ttl_ms: i64,
}

fn parse(args: &[String]) -> Fallible<Fill> {
    let usage = "redis_fill REDIS_URL PREFIX PARTITION --embeddings URL --answer URL \
                 --text TEMPLATE --from A --to B [--concurrency C] [--ttl SECONDS]";
    let [redis_url, prefix, partition, options @ ..] = args else {
        return Err(usage.into());
    };
    let mut fill = Fill {
        redis_url: redis_url.clone(),
        prefix: prefix.clone(),
        partition: partition.clone(),
        embeddings: String::new(),
        answer: String::new(),
        text: String::new(),
        from: 0,
        to: 0,
        concurrency: 8,
        ttl_ms: 3_600_000,
    };
    let mut it = options.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--embeddings" => fill.embeddings = value.clone(),
            "--answer" => fill.answer = value.clone(),
            "--text" => fill.text = value.clone(),
            "--from" => fill.from = value.parse()?,
            "--to" => fill.to = value.parse()?,
            "--concurrency" => fill.concurrency = value.parse::<u64>()?.clamp(1, 64),
            "--ttl" => fill.ttl_ms = value.parse::<i64>()?.saturating_mul(1000),
            other => return Err(format!("redis_fill: unknown option {other}\n{usage}").into()),
        }
    }
    if fill.embeddings.is_empty() || fill.answer.is_empty() || !fill.text.contains("{n}") {
        return Err(usage.into());
    }
    Ok(fill)
}

/// POSTs a JSON body; the answer's `Content-Type` and body (2xx only).
async fn post(http: &Http, url: &str, body: String) -> Fallible<(String, Bytes)> {
    let request = Request::post(url)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let response = http.request(request).await?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(format!("{url} answered {status}").into());
    }
    Ok((content_type, body))
}

/// The vectors of `texts`, in order, from the OpenAI-shaped embeddings endpoint.
async fn embed(http: &Http, url: &str, texts: &[String]) -> Fallible<Vec<Vec<f32>>> {
    let (_, body) = post(http, url, serde_json::json!({ "input": texts }).to_string()).await?;
    let answer: serde_json::Value = serde_json::from_slice(&body)?;
    let data = answer["data"].as_array().ok_or("embeddings: no data")?;
    let vectors: Option<Vec<Vec<f32>>> = data
        .iter()
        .map(|d| {
            d["embedding"]
                .as_array()?
                .iter()
                .map(|x| x.as_f64().map(|f| f as f32))
                .collect()
        })
        .collect();
    vectors
        .filter(|v| v.len() == texts.len())
        .ok_or_else(|| "embeddings: not one vector per text".into())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What every insert shares.
struct Inserter {
    fill: Arc<Fill>,
    store: Arc<RedisStore>,
    http: Http,
    /// The mock LLM's `Content-Type` and body.
    answer: (String, Bytes),
}

impl Inserter {
    /// Embeds and stores the prompts numbered `numbers`.
    async fn batch(&self, numbers: std::ops::Range<u64>) -> Fallible<u64> {
        let texts: Vec<String> = numbers
            .map(|n| self.fill.text.replace("{n}", &n.to_string()))
            .collect();
        let vectors = embed(&self.http, &self.fill.embeddings, &texts).await?;
        let mut stored = 0;
        for (text, vector) in texts.into_iter().zip(vectors) {
            let now = now_ms();
            let entry = Entry {
                partition: self.fill.partition.clone(),
                vector,
                response: Arc::new(CachedResponse {
                    status: 200,
                    headers: vec![("Content-Type".to_owned(), self.answer.0.clone())],
                    body: self.answer.1.clone(),
                    text,
                    stored_at_ms: now,
                }),
                expires_at_ms: now.saturating_add(self.fill.ttl_ms),
            };
            self.store.insert(entry, now).await?;
            stored += 1;
        }
        Ok(stored)
    }
}

/// One worker: takes batches of prompt numbers until none are left.
async fn worker(inserter: Arc<Inserter>, next: Arc<AtomicU64>) -> Fallible<u64> {
    let to = inserter.fill.to;
    let mut stored = 0;
    loop {
        let start = next.fetch_add(BATCH, Ordering::Relaxed);
        if start >= to {
            return Ok(stored);
        }
        stored += inserter.batch(start..(start + BATCH).min(to)).await?;
    }
}

async fn run(args: &[String]) -> Fallible<()> {
    let fill = Arc::new(parse(args)?);
    let http: Http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    // The answer the mock LLM gives every prompt, as the gateway would store it.
    let prompt = serde_json::json!({
        "model": "gpt-4o",
        "messages": [{ "role": "user", "content": fill.text.replace("{n}", "0") }],
    });
    let answer = post(&http, &fill.answer, prompt.to_string()).await?;
    let store = Arc::new(RedisStore::new(RedisConfig {
        url: fill.redis_url.clone(),
        prefix: fill.prefix.clone(),
        connect_timeout_ms: 2_000,
        response_timeout_ms: 10_000,
    })?);
    let inserter = Arc::new(Inserter {
        fill: Arc::clone(&fill),
        store,
        http,
        answer,
    });
    let started = Instant::now();
    // The first insert alone: it creates the index, and concurrent first
    // inserts would race to create it (the losers fail).
    let mut stored = inserter
        .batch(fill.from..(fill.from + 1).min(fill.to))
        .await?;
    let next = Arc::new(AtomicU64::new(fill.from + 1));
    let workers: Vec<_> = (0..fill.concurrency)
        .map(|_| tokio::spawn(worker(Arc::clone(&inserter), Arc::clone(&next))))
        .collect();
    for w in workers {
        stored += w.await??;
    }
    println!(
        "stored {stored} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("redis_fill: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
