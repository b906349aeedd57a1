//! `llm-semantic-cache-lookup` (and `azure-openai-semantic-cache-lookup`,
//! the same implementation): answers an LLM request from the semantic cache
//! when a stored prompt of the same partition is within `score-threshold`
//! (a cosine distance), else leaves what the store policy needs.
//!
//! DECISIONS.md "Semantic cache": the last user turn is embedded, the rest
//! of the request that shapes the answer is part of the partition with the
//! API, the operation and the `vary-by` values; a hit returns the stored
//! status, content headers and body, skips the rest of inbound and the
//! backend, and outbound runs; `Cache-Control: no-cache` forces a refresh,
//! `no-store` skips the store; any dependency failure is a miss.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    Body, CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Reason, Reported, Run,
    Stage, reason_phrase,
};
use sluice_engine::xml::Element;

use crate::semantic::metrics::ApiCounters;
use crate::semantic::shape;
use crate::semantic::store::CachedResponse;
use crate::semantic::{
    DepError, Embedder, Reading, SemanticCache, SemanticResources, partition, reading_key,
};

/// Distances are computed in single precision: a stored prompt whose
/// distance equals the threshold up to this much is a hit.
const TOLERANCE: f64 = 1e-6;

/// What the lookup leaves for the store policy of the same request (in
/// `Exchange::extensions`).
#[derive(Debug)]
pub(crate) enum CacheState {
    Looked(LookupState),
    /// The lookup skipped the cache: the store has nothing to do.
    Skipped,
}

/// What a lookup that read the request found.
#[derive(Debug)]
pub(crate) struct LookupState {
    /// The request's partition, embedded text and shape.
    pub reading: Arc<Reading>,
    /// The prompt's embedding; `None` when it could not be had (nothing is stored then).
    pub vector: Option<Arc<Vec<f32>>>,
    /// The answer came from the cache: nothing to store.
    pub hit: bool,
    /// `Cache-Control: no-store`.
    pub no_store: bool,
    /// A dependency failed during the lookup: nothing is stored.
    pub failed: bool,
}

#[derive(Debug)]
pub(crate) struct Lookup {
    cache: Arc<SemanticCache>,
    embedders: Arc<BTreeMap<String, Arc<dyn Embedder>>>,
    threshold: CompiledValue,
    backend_id: CompiledValue,
    ignore_system: Option<CompiledValue>,
    max_messages: Option<CompiledValue>,
    vary_by: Vec<CompiledValue>,
    /// The memory reading a body may take.
    max_reading_bytes: usize,
    /// Its API's hit and miss counters.
    counters: ApiCounters,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let semantic = cx.resource::<SemanticResources>(e)?;
    let threshold = cx.required(e, "score-threshold")?;
    let backend_id = cx.required(e, "embeddings-backend-id")?;
    let known = cx.resources.get::<sluice_engine::runtime::Backends>();
    if let (CompiledValue::Literal(id), Some(known), Some(a)) =
        (&backend_id, known, e.attr("embeddings-backend-id"))
        && !known.contains(id.trim())
    {
        let mut d = sluice_engine::diag::Diagnostic::new(
            Code::ConfigReference,
            &cx.source,
            a.value.span,
            format!("no backend `{}` (embeddings-backend-id)", id.trim()),
        );
        if let Some(near) = sluice_engine::diag::did_you_mean(id.trim(), known.ids()) {
            d = d.with_help(format!("did you mean `{near}`?"));
        }
        cx.diags.push(d);
        return Err(Reported);
    }
    let ignore_system = cx.optional(e, "ignore-system-messages")?;
    let max_messages = cx.optional(e, "max-message-count")?;
    let mut vary_by = Vec::new();
    for c in e.elements().filter(|c| c.name == "vary-by") {
        vary_by.push(cx.text(c)?);
    }
    Ok(Box::new(Lookup {
        counters: semantic.cache.metrics.for_api(cx.api.unwrap_or_default()),
        cache: Arc::clone(&semantic.cache),
        embedders: Arc::clone(&semantic.embedders),
        threshold,
        backend_id,
        ignore_system,
        max_messages,
        vary_by,
        max_reading_bytes: semantic.max_reading_bytes,
    }))
}

/// A record's `Id` (shared, not copied), or empty.
fn record_id(r: Option<&sluice_engine::runtime::Record>) -> rhai::ImmutableString {
    r.and_then(|r| r.fields.get("Id"))
        .and_then(|id| id.clone().into_immutable_string().ok())
        .unwrap_or_default()
}

/// The request's cache directives: (refresh, no-store). A refresh is
/// `Cache-Control: no-cache` or `max-age=0` (the client takes nothing
/// stored, RFC 9111 §5.2.1), or, without `Cache-Control`, HTTP/1.0's
/// `Pragma: no-cache`.
fn cache_control(x: &Exchange) -> (bool, bool) {
    x.request().read(|m| {
        let mut refresh = false;
        let mut no_store = false;
        let control = m.headers.get("Cache-Control");
        for v in control.into_iter().flatten() {
            for d in v.split(',') {
                let d = d.trim().to_ascii_lowercase();
                match d.split_once('=') {
                    None if d == "no-cache" => refresh = true,
                    None if d == "no-store" => no_store = true,
                    Some(("max-age", age)) if age.trim().trim_matches('"') == "0" => refresh = true,
                    _ => {}
                }
            }
        }
        if control.is_none() {
            refresh = m
                .headers
                .get("Pragma")
                .into_iter()
                .flatten()
                .flat_map(|v| v.split(','))
                .any(|d| d.trim().eq_ignore_ascii_case("no-cache"));
        }
        (refresh, no_store)
    })
}

impl Lookup {
    fn status(&self, x: &Exchange, value: String) {
        if let Some(name) = &self.cache.config().status_header {
            let mut late = match x.ctx.0.late_headers.write() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            late.push((name.clone(), value));
        }
    }

    /// Answers from the cache: the stored status, content headers and body.
    fn answer(&self, x: &mut Exchange, r: &CachedResponse, status: String) {
        let header = self.cache.config().status_header.as_deref();
        x.response().write(|m| {
            m.status = i64::from(r.status);
            m.reason = reason_phrase(r.status).to_owned();
            m.headers = Default::default();
            for (name, value) in &r.headers {
                m.headers.append(name, value);
            }
            if let Some(h) = header {
                m.headers.set_one(h, status);
            }
            m.body = Some(Body {
                bytes: r.body.clone(),
                consumed: false,
            });
        });
        x.streaming.response_body = None;
    }
}

impl Stage for Lookup {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let started = Instant::now();
        let setup = match self.prepare(x) {
            Ok(s) => s,
            Err(e) => return Run::fail(e),
        };
        let Some(p) = setup else {
            return Run::next();
        };
        let metrics = &self.cache.metrics;
        // The request's arrival on the gateway clock (one clock read less per hit).
        let now = x.ctx.0.timestamp_ms;
        if !p.refresh
            && let Some((r, distance)) = self.cache.exact_get(&p.reading.exact_key, now)
            && f64::from(distance) <= p.threshold + TOLERANCE
        {
            self.counters.exact_hits.inc();
            metrics.hit_latency.observe(started.elapsed().as_secs_f64());
            self.answer(x, &r, "hit; layer=exact".into());
            x.extensions.insert(CacheState::Looked(p.state(None, true)));
            return Run::Done(Ok(Flow::Answered));
        }
        Run::Later(Box::pin(async move {
            let services = Arc::clone(&x.services);
            let local = self.embedders.get(p.backend_id.as_ref());
            let vector = match self
                .cache
                .embed(&p.backend_id, &p.reading.text, services.as_ref(), local)
                .await
            {
                Ok(v) => v,
                Err(e) if e.kind == DepError::TOO_LONG => {
                    self.skip(x, shape::Skip::PromptTooLong.reason());
                    return Ok(Flow::Next);
                }
                Err(e) => {
                    self.counters.misses.inc();
                    metrics
                        .miss_latency
                        .observe(started.elapsed().as_secs_f64());
                    self.status(x, format!("miss; error={}-{}", e.dependency, e.kind));
                    let mut s = p.state(None, false);
                    s.failed = true;
                    x.extensions.insert(CacheState::Looked(s));
                    return Ok(Flow::Next);
                }
            };
            let now = x.now_ms();
            let nearest = match self.cache.nearest(&p.reading.partition, &vector, now).await {
                Ok(n) => n,
                Err(e) => {
                    self.counters.misses.inc();
                    metrics
                        .miss_latency
                        .observe(started.elapsed().as_secs_f64());
                    self.status(x, format!("miss; error={}-{}", e.dependency, e.kind));
                    let mut s = p.state(Some(vector), false);
                    s.failed = true;
                    x.extensions.insert(CacheState::Looked(s));
                    return Ok(Flow::Next);
                }
            };
            let elapsed = started.elapsed().as_secs_f64();
            match nearest {
                Some(n) if !p.refresh && f64::from(n.distance) <= p.threshold + TOLERANCE => {
                    self.counters.semantic_hits.inc();
                    metrics
                        .distance
                        .with_label_values(&["hit"])
                        .observe(f64::from(n.distance));
                    metrics.hit_latency.observe(elapsed);
                    self.cache.exact_put(
                        p.reading.exact_key,
                        &p.reading.partition,
                        Arc::clone(&n.response),
                        n.distance,
                        n.expires_at_ms,
                        now,
                    );
                    let status = format!("hit; layer=semantic; distance={:.4}", n.distance);
                    self.answer(x, &n.response, status);
                    x.extensions
                        .insert(CacheState::Looked(p.state(Some(vector), true)));
                    Ok(Flow::Answered)
                }
                n => {
                    self.counters.misses.inc();
                    metrics.miss_latency.observe(elapsed);
                    let mut status = if p.refresh { "refresh" } else { "miss" }.to_owned();
                    if let Some(n) = &n {
                        metrics
                            .distance
                            .with_label_values(&["miss"])
                            .observe(f64::from(n.distance));
                        status.push_str(&format!("; distance={:.4}", n.distance));
                    }
                    self.status(x, status);
                    if !p.no_store {
                        // An answer the store can read and serve to any
                        // client: not compressed for this one.
                        x.request().write(|m| {
                            m.headers.set_one("Accept-Encoding", "identity".to_owned());
                        });
                    }
                    x.extensions
                        .insert(CacheState::Looked(p.state(Some(vector), false)));
                    Ok(Flow::Next)
                }
            }
        }))
    }
}

/// A request the cache may serve, with its evaluated settings.
struct Prepared<'a> {
    reading: Arc<Reading>,
    backend_id: std::borrow::Cow<'a, str>,
    threshold: f64,
    refresh: bool,
    no_store: bool,
}

impl Prepared<'_> {
    fn state(&self, vector: Option<Arc<Vec<f32>>>, hit: bool) -> LookupState {
        LookupState {
            reading: Arc::clone(&self.reading),
            vector,
            hit,
            no_store: self.no_store,
            failed: false,
        }
    }
}

impl Lookup {
    /// Evaluates the attributes and reads the request; `None` when the
    /// request skips the cache (the reason is counted and reported).
    fn prepare(&self, x: &mut Exchange) -> Result<Option<Prepared<'_>>, PolicyError> {
        let threshold = self.threshold.text(x)?;
        let threshold = threshold
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|t| (0.0..=1.0).contains(t))
            .ok_or_else(|| {
                PolicyError::new(
                    "",
                    Reason::ExpressionValueEvaluationFailure,
                    500,
                    format!("score-threshold `{threshold}` is not a number from 0.0 to 1.0"),
                )
            })?;
        let backend_id = self.backend_id.text(x)?;
        let ignore_system = match &self.ignore_system {
            Some(v) => v.eval_bool(x)?,
            None => false,
        };
        let max_messages = match &self.max_messages {
            Some(v) => Some(v.eval_int(x)?),
            None => None,
        };
        let mut vary = Vec::with_capacity(self.vary_by.len());
        for v in &self.vary_by {
            vary.push(v.eval_string(x)?.unwrap_or_default());
        }
        x.extensions.remove::<CacheState>();
        let api = record_id(x.ctx.0.api.as_ref());
        let operation = record_id(x.ctx.0.operation.as_ref());
        // Everything the reading depends on; a byte-identical repeat is not parsed again.
        // The bounds stop a reading early: a reading within other bounds
        // is another reading.
        let bounds = shape::Bounds {
            max_messages: max_messages.map(|n| usize::try_from(n).unwrap_or(0)),
            max_bytes: self.max_reading_bytes,
        };
        let mut bounds_key = [0u8; 16];
        let count = bounds.max_messages.map_or(u64::MAX, |n| n as u64);
        bounds_key[..8].copy_from_slice(&count.to_le_bytes());
        bounds_key[8..].copy_from_slice(&(bounds.max_bytes as u64).to_le_bytes());
        let key = x.request().read(|m| {
            let flag: &[u8] = if ignore_system { b"1" } else { b"0" };
            let mut parts: smallvec::SmallVec<[&[u8]; 8]> = smallvec::smallvec![
                api.as_bytes(),
                operation.as_bytes(),
                flag,
                &bounds_key[..],
                m.url.path.as_bytes(),
                m.body.as_ref().map_or(&[][..], |b| &b.bytes[..]),
            ];
            parts.extend(vary.iter().map(String::as_bytes));
            reading_key(&parts)
        });
        let reading = self.cache.reading(key, || {
            let (path, body) = x.request().read(|m| {
                (
                    m.url.path.clone(),
                    m.body.as_ref().map(|b| b.bytes.clone()).unwrap_or_default(),
                )
            });
            let prompt = shape::analyze_bounded(&path, &body, ignore_system, bounds)?;
            let mut parts: Vec<&str> = vec![&api, &operation, &prompt.context];
            let count = vary.len().to_string();
            parts.push(&count);
            parts.extend(vary.iter().map(String::as_str));
            let partition = partition(&parts);
            Ok(Arc::new(Reading {
                exact_key: SemanticCache::exact_key(&partition, &prompt.text),
                shape: prompt.shape,
                text: prompt.text,
                messages: prompt.messages,
                partition,
            }))
        });
        let reading = match reading {
            Ok(r) => r,
            Err(skip) => {
                self.skip(x, skip.reason());
                return Ok(None);
            }
        };
        if max_messages.is_some_and(|n| i64::try_from(reading.messages).unwrap_or(i64::MAX) > n) {
            self.skip(x, shape::Skip::TooManyMessages.reason());
            return Ok(None);
        }
        let (refresh, no_store) = cache_control(x);
        if let Some(name) = self.cache.partition_header() {
            // The id `POST /cache/purge?partition=` takes.
            let mut late = match x.ctx.0.late_headers.write() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            late.push((name.to_owned(), reading.partition.clone()));
        }
        Ok(Some(Prepared {
            reading,
            backend_id,
            threshold,
            refresh,
            no_store,
        }))
    }

    fn skip(&self, x: &mut Exchange, reason: &str) {
        self.cache
            .metrics
            .skips
            .with_label_values(&[reason, &self.counters.api])
            .inc();
        x.extensions.insert(CacheState::Skipped);
        self.status(x, format!("skip; reason={reason}"));
    }
}
