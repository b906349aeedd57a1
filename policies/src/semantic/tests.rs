#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use sluice_engine::runtime::{
    BackendEntity, BoxFuture, CallError, InboundResponse, OutboundRequest, Services,
};

use super::store::{CachedResponse, Entry};
use super::{Config, SemanticCache, partition};

/// An embeddings backend that answers after `delay_ms` of real time with a
/// fixed vector, or fails; counts its calls.
struct Backend {
    calls: AtomicUsize,
    now: AtomicI64,
    delay_ms: u64,
    status: u16,
    body: String,
}

impl Backend {
    fn new(status: u16, body: &str, delay_ms: u64) -> Arc<Self> {
        Arc::new(Self {
            calls: AtomicUsize::new(0),
            now: AtomicI64::new(1_000_000),
            delay_ms,
            status,
            body: body.to_owned(),
        })
    }

    fn ok() -> Arc<Self> {
        Self::new(
            200,
            r#"{"data":[{"embedding":[1.0,0.0,0.5],"index":0}]}"#,
            0,
        )
    }
}

impl Services for Backend {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
    fn call(&self, _: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if self.delay_ms > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(self.delay_ms)).await;
            }
            Ok(InboundResponse {
                status: self.status,
                body: self.body.clone().into_bytes().into(),
                ..InboundResponse::default()
            })
        })
    }
    fn backend(&self, id: &str) -> Option<BackendEntity> {
        (id == "emb").then(|| BackendEntity {
            url: "http://emb.test/v1/embeddings".into(),
            ..BackendEntity::default()
        })
    }
    fn sleep(&self, _: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

fn cache(config: Config) -> Arc<SemanticCache> {
    Arc::new(SemanticCache::in_memory(config, 1000).unwrap())
}

#[tokio::test]
async fn ten_concurrent_equal_prompts_cost_one_embeddings_call() {
    let c = cache(Config::default());
    let b = Backend::new(200, r#"{"data":[{"embedding":[1.0,2.0],"index":0}]}"#, 50);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (c, b) = (Arc::clone(&c), Arc::clone(&b));
        tasks.push(tokio::spawn(async move {
            c.embed("emb", "same prompt", b.as_ref(), None).await
        }));
    }
    for t in tasks {
        assert_eq!(*t.await.unwrap().unwrap(), vec![1.0, 2.0]);
    }
    assert_eq!(b.calls.load(Ordering::SeqCst), 1);
    // And the embeddings cache answers later repeats.
    c.embed("emb", "same prompt", b.as_ref(), None)
        .await
        .unwrap();
    assert_eq!(b.calls.load(Ordering::SeqCst), 1);
    assert_eq!(c.metrics.embeddings.get(), 1);
}

#[tokio::test]
async fn garbage_and_failures_are_errors_and_open_the_breaker() {
    let config = Config {
        breaker_failures: 2,
        breaker_cooldown_ms: 1000,
        ..Config::default()
    };
    for (status, body, kind) in [
        (200, "not json", "bad-answer"),
        (200, r#"{"data":[{"embedding":[]}]}"#, "bad-answer"),
        (200, r#"{"data":[{"embedding":["x"]}]}"#, "bad-answer"),
        (500, "{}", "error"),
    ] {
        let c = cache(config.clone());
        let b = Backend::new(status, body, 0);
        let e = c.embed("emb", "a", b.as_ref(), None).await.unwrap_err();
        assert_eq!((e.dependency, e.kind), ("embeddings", kind), "{body}");
        c.embed("emb", "b", b.as_ref(), None).await.unwrap_err();
        // Open: refused without a call.
        let e = c.embed("emb", "c", b.as_ref(), None).await.unwrap_err();
        assert_eq!(e.kind, "circuit-open");
        assert_eq!(b.calls.load(Ordering::SeqCst), 2);
        // After the cooldown, a trial goes through.
        b.now.fetch_add(1000, Ordering::SeqCst);
        c.embed("emb", "d", b.as_ref(), None).await.unwrap_err();
        assert_eq!(b.calls.load(Ordering::SeqCst), 3);
    }
}

#[tokio::test]
async fn a_slow_backend_times_out() {
    let c = cache(Config {
        embeddings_timeout_ms: 30,
        ..Config::default()
    });
    let b = Backend::new(200, r#"{"data":[{"embedding":[1.0]}]}"#, 5_000);
    let started = std::time::Instant::now();
    let e = c.embed("emb", "a", b.as_ref(), None).await.unwrap_err();
    assert_eq!(e.kind, "timeout");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let e = c
        .embed("nope", "a", Backend::ok().as_ref(), None)
        .await
        .unwrap_err();
    assert!(e.message.contains("no backend `nope`"), "{}", e.message);
}

fn answer(text: &str) -> Arc<CachedResponse> {
    Arc::new(CachedResponse {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Bytes::from_static(b"{}"),
        text: text.into(),
        stored_at_ms: 0,
    })
}

#[test]
fn the_exact_layer_expires_on_the_gateway_clock() {
    let c = cache(Config::default());
    let key = SemanticCache::exact_key("p", "hello");
    c.exact_put(key, "p", answer("hello"), 0.0, 2_000, 1_000);
    assert!(c.exact_get(&key, 1_999).is_some());
    assert!(c.exact_get(&key, 2_000).is_none());
    // Never longer than the entry's remaining life: an expired entry is not put.
    c.exact_put(key, "p", answer("hello"), 0.0, 2_000, 2_500);
    assert!(c.exact_get(&key, 2_500).is_none());
}

#[test]
fn the_exact_layer_is_bounded_by_entries_and_bytes() {
    let c = cache(Config {
        exact_entries: 10,
        exact_bytes: 10_000,
        ..Config::default()
    });
    for i in 0..100 {
        let key = SemanticCache::exact_key("p", &i.to_string());
        c.exact_put(key, "p", answer("x"), 0.0, i64::MAX, 0);
    }
    c.exact.run_pending_tasks();
    assert!(c.exact.entry_count() <= 10, "{}", c.exact.entry_count());
    let big = Arc::new(CachedResponse {
        body: Bytes::from(vec![b'x'; 6_000]),
        ..(*answer("big")).clone()
    });
    let key = |t| SemanticCache::exact_key("p", t);
    c.exact_put(key("big1"), "p", Arc::clone(&big), 0.0, i64::MAX, 0);
    c.exact_put(key("big2"), "p", big, 0.0, i64::MAX, 0);
    c.exact.run_pending_tasks();
    assert!(
        c.exact.weighted_size() <= 10_000,
        "{}",
        c.exact.weighted_size()
    );
}

#[tokio::test]
async fn store_then_purge_one_partition_or_all() {
    let c = cache(Config::default());
    let (p1, p2) = (partition(&["a"]), partition(&["b"]));
    for p in [&p1, &p2] {
        c.store_later(
            Entry {
                partition: p.clone(),
                vector: vec![1.0, 0.0],
                response: answer("q"),
                expires_at_ms: i64::MAX,
            },
            0,
        );
    }
    c.settle().await;
    assert_eq!(c.count().await.unwrap(), 2);
    assert!(
        c.exact_get(&SemanticCache::exact_key(&p1, "q"), 0)
            .is_some()
    );
    assert_eq!(c.purge(Some(&p1)).await.unwrap(), 1);
    c.exact.run_pending_tasks();
    assert!(
        c.exact_get(&SemanticCache::exact_key(&p1, "q"), 0)
            .is_none()
    );
    assert!(
        c.exact_get(&SemanticCache::exact_key(&p2, "q"), 0)
            .is_some()
    );
    assert_eq!(
        c.nearest(&p2, &[1.0, 0.0], 0)
            .await
            .unwrap()
            .map(|n| n.distance),
        Some(0.0)
    );
    assert_eq!(c.purge(None).await.unwrap(), 1);
    assert_eq!(c.count().await.unwrap(), 0);
}

#[test]
fn partitions_are_injective() {
    assert_ne!(partition(&["ab", "c"]), partition(&["a", "bc"]));
    assert_ne!(partition(&["a", ""]), partition(&["a"]));
    assert_eq!(partition(&["x", "y"]), partition(&["x", "y"]));
    assert!(
        partition(&["x"])
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
}

#[test]
fn a_reading_is_remembered_by_everything_it_depends_on() {
    use super::shape::{Shape, Skip};
    use super::{Reading, reading_key};
    let cache = SemanticCache::in_memory(Config::default(), 100).unwrap();
    let reads = AtomicUsize::new(0);
    let read = |text: &str| {
        reads.fetch_add(1, Ordering::SeqCst);
        Ok(Arc::new(Reading {
            shape: Shape::Chat,
            text: text.to_owned(),
            messages: 1,
            partition: "p".to_owned(),
            exact_key: SemanticCache::exact_key("p", text),
        }))
    };
    let key = reading_key(&[b"api", b"op", b"0", b"/chat", b"{}", b"tenant-a"]);
    let first = cache.reading(key, || read("a")).unwrap();
    let again = cache.reading(key, || read("b")).unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    // Another vary-by value, or the same bytes split differently: another key.
    let other = reading_key(&[b"api", b"op", b"0", b"/chat", b"{}", b"tenant-b"]);
    let split = reading_key(&[b"api", b"op", b"0", b"/chat", b"{}tenant-a"]);
    assert_ne!(key, other);
    assert_ne!(key, split);
    assert_eq!(cache.reading(other, || read("c")).unwrap().text, "c");
    // A skip is remembered too.
    let bad = reading_key(&[b"not json"]);
    assert_eq!(
        cache.reading(bad, || Err(Skip::NotJson)),
        Err(Skip::NotJson)
    );
    assert_eq!(cache.reading(bad, || read("d")), Err(Skip::NotJson));
    assert_eq!(reads.load(Ordering::SeqCst), 2);
}

/// A vector store that always fails.
#[derive(Debug)]
struct Down;

impl super::store::VectorStore for Down {
    fn kind(&self) -> &'static str {
        "down"
    }
    fn nearest<'a>(
        &'a self,
        _: &'a str,
        _: &'a [f32],
        _: i64,
    ) -> BoxFuture<'a, Result<Option<super::store::Nearest>, super::store::StoreError>> {
        Box::pin(async { Err(super::store::StoreError::new("down")) })
    }
    fn insert(&self, _: Entry, _: i64) -> BoxFuture<'_, Result<(), super::store::StoreError>> {
        Box::pin(async { Err(super::store::StoreError::new("down")) })
    }
    fn purge<'a>(
        &'a self,
        _: Option<&'a str>,
    ) -> BoxFuture<'a, Result<u64, super::store::StoreError>> {
        Box::pin(async { Err(super::store::StoreError::new("down")) })
    }
    fn count(&self) -> BoxFuture<'_, Result<u64, super::store::StoreError>> {
        Box::pin(async { Err(super::store::StoreError::new("down")) })
    }
}

#[tokio::test]
async fn store_failures_and_refusals_are_counted_as_errors() {
    let config = Config {
        breaker_failures: 2,
        breaker_cooldown_ms: 1000,
        ..Config::default()
    };
    let c = SemanticCache::new(config, Arc::new(Down)).unwrap();
    let errors = |kind: &str| {
        c.metrics
            .errors
            .with_label_values(&["store", kind, "down"])
            .get()
    };
    for _ in 0..2 {
        let e = c.nearest("p", &[1.0], 0).await.unwrap_err();
        assert_eq!(e.kind, "error");
    }
    // The breaker is open: refused without a call, and counted.
    let e = c.nearest("p", &[1.0], 0).await.unwrap_err();
    assert_eq!(e.kind, "circuit-open");
    assert_eq!((errors("error"), errors("circuit-open")), (2, 1));
    assert_eq!(open_breakers(&c), [("store".to_owned(), "down".to_owned())]);
}

/// Every `errors_total` series as `dependency|kind|backend` and its count, sorted.
fn error_series(c: &SemanticCache) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = c
        .metrics
        .registry
        .gather()
        .into_iter()
        .filter(|f| f.name() == "sluice_semantic_cache_errors_total")
        .flat_map(|f| f.get_metric().to_vec())
        .map(|m| {
            let label = |n: &str| {
                m.get_label()
                    .iter()
                    .find(|l| l.name() == n)
                    .map(|l| l.value().to_owned())
                    .unwrap_or_default()
            };
            let name = format!(
                "{}|{}|{}",
                label("dependency"),
                label("kind"),
                label("backend")
            );
            (name, m.get_counter().get_value() as u64)
        })
        .collect();
    out.sort();
    out
}

/// The `(dependency, backend)` of every `breaker_open` series at 1, sorted.
fn open_breakers(c: &SemanticCache) -> Vec<(String, String)> {
    let label = |m: &prometheus::proto::Metric, name: &str| {
        m.get_label()
            .iter()
            .find(|l| l.name() == name)
            .map(|l| l.value().to_owned())
            .unwrap_or_default()
    };
    c.metrics
        .registry
        .gather()
        .iter()
        .filter(|f| f.name() == "sluice_semantic_cache_breaker_open")
        .flat_map(|f| f.get_metric())
        .filter(|m| m.get_gauge().get_value() != 0.0)
        .map(|m| (label(m, "dependency"), label(m, "backend")))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Embeddings backends by id (any id names one, at `http://{id}.test/`):
/// those listed in `down` answer 500, the others a vector. Counts calls by id.
#[derive(Default)]
struct Fleet {
    now: AtomicI64,
    down: Mutex<Vec<String>>,
    calls: Mutex<HashMap<String, usize>>,
}

impl Fleet {
    fn with_down(ids: &[&str]) -> Self {
        Self {
            down: Mutex::new(ids.iter().map(|&id| id.to_owned()).collect()),
            ..Self::default()
        }
    }

    fn calls(&self, id: &str) -> usize {
        self.calls.lock().unwrap().get(id).copied().unwrap_or(0)
    }
}

impl Services for Fleet {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        let id = req.url["http://".len()..]
            .split('.')
            .next()
            .unwrap()
            .to_owned();
        *self.calls.lock().unwrap().entry(id.clone()).or_default() += 1;
        let down = self.down.lock().unwrap().contains(&id);
        let (status, body) = if down {
            (500, "{}")
        } else {
            (200, r#"{"data":[{"embedding":[1.0,0.0],"index":0}]}"#)
        };
        Box::pin(async move {
            Ok(InboundResponse {
                status,
                body: body.as_bytes().to_vec().into(),
                ..InboundResponse::default()
            })
        })
    }
    fn backend(&self, id: &str) -> Option<BackendEntity> {
        (id != "nowhere").then(|| BackendEntity {
            url: format!("http://{id}.test/v1/embeddings"),
            ..BackendEntity::default()
        })
    }
    fn sleep(&self, _: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The events logged while it is the thread's default subscriber, each as
/// its message and fields.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<String>>>);

impl Logs {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl tracing::Subscriber for Logs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Line(String);
        impl tracing::field::Visit for Line {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={value:?} ", field.name()));
            }
        }
        let mut line = Line(format!("{} ", event.metadata().level()));
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn a_failing_embeddings_backend_opens_only_its_own_breaker() {
    let logs = Logs::default();
    let _default = tracing::subscriber::set_default(logs.clone());
    let c = cache(Config {
        breaker_failures: 2,
        breaker_cooldown_ms: 1000,
        ..Config::default()
    });
    let fleet = Fleet::with_down(&["flaky"]);
    for text in ["a", "b"] {
        let e = c.embed("flaky", text, &fleet, None).await.unwrap_err();
        assert_eq!((e.dependency, e.kind), ("embeddings", "error"));
    }
    // `flaky`'s breaker is open: refused without a call...
    let e = c.embed("flaky", "c", &fleet, None).await.unwrap_err();
    assert_eq!(e.kind, "circuit-open");
    assert!(
        e.message.contains("embeddings backend `flaky`"),
        "{}",
        e.message
    );
    assert_eq!(fleet.calls("flaky"), 2);
    // ...while `steady` is called, and its answers do not close `flaky`'s.
    for text in ["a", "b", "c", "d"] {
        assert_eq!(
            *c.embed("steady", text, &fleet, None).await.unwrap(),
            [1.0, 0.0]
        );
        let e = c.embed("flaky", text, &fleet, None).await.unwrap_err();
        assert_eq!(e.kind, "circuit-open", "{text}");
    }
    assert_eq!((fleet.calls("steady"), fleet.calls("flaky")), (4, 2));
    assert_eq!(
        open_breakers(&c),
        [("embeddings".to_owned(), "flaky".to_owned())]
    );
    let open = |dependency: &str, backend: &str| {
        c.metrics
            .breaker_open
            .with_label_values(&[dependency, backend])
            .get()
    };
    assert_eq!(
        (open("embeddings", "steady"), open("store", "memory")),
        (0, 0),
        "their series exist, closed"
    );
    // The errors are counted under the backend that failed, as its breaker is.
    assert_eq!(
        error_series(&c),
        [
            ("embeddings|circuit-open|flaky".to_owned(), 5),
            ("embeddings|error|flaky".to_owned(), 2),
        ]
    );
    let e = c.embed("nowhere", "a", &fleet, None).await.unwrap_err();
    assert_eq!(e.kind, "error");
    assert_eq!(
        error_series(&c)[1],
        (
            format!("embeddings|error|{}", super::breakers::UNKNOWN_BACKEND),
            1
        ),
        "an id that names no backend has no series of its own"
    );
    let lines = logs.lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("WARN ")
            && lines[0].contains("semantic cache: the embeddings backend `flaky` failed 2 times")
            && lines[0].contains("backend=flaky "),
        "{}",
        lines[0]
    );
    // It answers again: the trial after the cooldown closes its breaker.
    fleet.down.lock().unwrap().clear();
    fleet.now.fetch_add(1000, Ordering::SeqCst);
    c.embed("flaky", "e", &fleet, None).await.unwrap();
    assert_eq!(open_breakers(&c), []);
    let lines = logs.lines();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[1].starts_with("INFO ")
            && lines[1].contains("semantic cache: the embeddings backend `flaky` answers again"),
        "{}",
        lines[1]
    );
}

#[tokio::test]
async fn embeddings_backends_past_the_cap_share_one_breaker() {
    use super::breakers::{MAX_EMBEDDINGS_BREAKERS, OTHER_BACKENDS};
    let c = cache(Config {
        breaker_failures: 2,
        ..Config::default()
    });
    let ids: Vec<String> = (0..MAX_EMBEDDINGS_BREAKERS + 2)
        .map(|i| format!("b{i}"))
        .collect();
    let fleet = Fleet::with_down(&ids.iter().map(String::as_str).collect::<Vec<_>>());
    // One failure each: no breaker opens, each has its own.
    for id in &ids[..MAX_EMBEDDINGS_BREAKERS] {
        c.embed(id, "a", &fleet, None).await.unwrap_err();
    }
    assert_eq!(open_breakers(&c), []);
    // The two ids past the cap share a breaker: one failure each opens it.
    let (past, other) = (
        &ids[MAX_EMBEDDINGS_BREAKERS],
        &ids[MAX_EMBEDDINGS_BREAKERS + 1],
    );
    c.embed(past, "a", &fleet, None).await.unwrap_err();
    c.embed(other, "a", &fleet, None).await.unwrap_err();
    let e = c.embed(past, "b", &fleet, None).await.unwrap_err();
    assert_eq!(e.kind, "circuit-open");
    assert_eq!(
        open_breakers(&c),
        [("embeddings".to_owned(), OTHER_BACKENDS.to_owned())]
    );
    // The first ids keep their own breakers.
    let e = c.embed(&ids[0], "b", &fleet, None).await.unwrap_err();
    assert_eq!(e.kind, "error");
    assert_eq!(fleet.calls(&ids[0]), 2);
    let opened = |id: &str| ("embeddings".to_owned(), id.to_owned());
    assert_eq!(open_breakers(&c), [opened(OTHER_BACKENDS), opened(&ids[0])]);
    // An id that names no backend is behind no breaker (were it behind the
    // shared one, open now, it would be refused), and opens none.
    let nowhere = Backend::ok();
    for text in ["a", "b", "c"] {
        let e = c
            .embed("nope", text, nowhere.as_ref(), None)
            .await
            .unwrap_err();
        assert!(e.message.contains("no backend `nope`"), "{}", e.message);
    }
    assert_eq!(open_breakers(&c), [opened(OTHER_BACKENDS), opened(&ids[0])]);
}

#[test]
fn a_purge_the_store_refuses_leaves_the_exact_layer_as_it_was() {
    let c = SemanticCache::new(Config::default(), Arc::new(Down)).unwrap();
    let key = SemanticCache::exact_key("p", "q");
    c.exact_put(key, "p", answer("q"), 0.0, i64::MAX, 0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for partition in [None, Some("p")] {
        assert!(rt.block_on(c.purge(partition)).is_err());
        c.exact.run_pending_tasks();
        assert!(c.exact_get(&key, 0).is_some(), "{partition:?}");
    }
}

/// An in-process model that reads at most `max_chars` characters, and
/// embeds what it reads as a direction by its first letter.
#[derive(Debug)]
struct ShortModel {
    max_chars: usize,
    calls: AtomicUsize,
}

impl super::Embedder for ShortModel {
    fn embed_prompt(&self, text: &str) -> Result<Vec<f32>, super::EmbedError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if text.len() > self.max_chars {
            return Err(super::EmbedError::TooLong {
                max_tokens: self.max_chars,
            });
        }
        let first = text.bytes().next().unwrap_or(b'a');
        let mut v = vec![0.0; 26];
        v[usize::from(first.to_ascii_lowercase().saturating_sub(b'a')).min(25)] = 1.0;
        Ok(v)
    }
}

#[test]
fn a_prompt_longer_than_the_local_model_reads_skips_the_cache() {
    // Two long prompts with the same beginning: a model that cut them would
    // give them one vector and the second the first's answer.
    let model = Arc::new(ShortModel {
        max_chars: 100,
        calls: AtomicUsize::new(0),
    });
    let mut semantic = super::SemanticResources::in_memory().unwrap();
    semantic.embedders = Arc::new(
        [(
            "local".to_owned(),
            Arc::clone(&model) as Arc<dyn super::Embedder>,
        )]
        .into(),
    );
    let backends =
        sluice_engine::runtime::Backends([("local".to_owned(), Default::default())].into());
    let cache = Arc::clone(&semantic.cache);
    let registry = sluice_engine::runtime::Resources::new()
        .with(semantic)
        .with(backends);
    let policy = r#"<policies>
        <inbound><llm-semantic-cache-lookup score-threshold="0.1" embeddings-backend-id="local" embeddings-backend-auth="system-assigned" /></inbound>
        <backend><forward-request /></backend>
        <outbound><llm-semantic-cache-store duration="60" /></outbound>
    </policies>"#;
    let p = crate::fixture::pipeline_with(policy, &registry).unwrap();
    let stub = crate::fixture::Stub::status(200, r#"{"choices":[]}"#);
    let filler = "the quick brown fox jumps over the lazy dog. ".repeat(5);
    let body = |question: &str| {
        serde_json::json!({
            "model": "m",
            "messages": [{"role": "user", "content": format!("{filler}{question}")}],
        })
        .to_string()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let metrics = &cache.metrics;
    let skipped = || {
        metrics
            .skips
            .with_label_values(&["prompt-too-long", ""])
            .get()
    };
    let send = |text: &str| {
        let mut x = crate::fixture::exchange(Arc::clone(&stub), &[], text);
        rt.block_on(async {
            sluice_engine::runtime::execute(&p, &mut x).await;
            cache.settle().await;
        });
    };
    // More than the breaker's failures in a row: none counts as one.
    for question in ["capital of France?", "legs of a spider?"].repeat(4) {
        send(&body(question));
    }
    assert_eq!(
        stub.calls().len(),
        8,
        "every long prompt went to the backend"
    );
    assert_eq!(skipped(), 8);
    let hits = |layer: &str| metrics.hits.with_label_values(&[layer, ""]).get();
    assert_eq!(hits("exact") + hits("semantic"), 0);
    assert_eq!(
        metrics
            .errors
            .with_label_values(&["embeddings", "circuit-open", "local"])
            .get(),
        0
    );
    assert_eq!(rt.block_on(cache.count()).unwrap(), 0, "nothing stored");
    assert_eq!(metrics.stores.with_label_values(&["skipped"]).get(), 8);
    assert_eq!(metrics.stores.with_label_values(&["no-lookup"]).get(), 0);
    // The model still serves prompts it reads whole.
    let short =
        serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "short"}]})
            .to_string();
    send(&short);
    send(&short);
    assert_eq!(stub.calls().len(), 9);
    assert_eq!(hits("exact"), 1);
    assert_eq!(model.calls.load(Ordering::SeqCst), 9);
}
