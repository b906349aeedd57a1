//! `llm-semantic-cache-store` (and `azure-openai-semantic-cache-store`):
//! stores the response for `duration` seconds under what the lookup of the
//! same request computed.
//!
//! Stored only if the lookup ran and missed (or was a forced refresh) with
//! no dependency failure, the request did not say `no-store`, the status is
//! 200 (any status with `cache-response="true"`), and the body arrived whole
//! and under the size cap. A streamed body is recorded while it passes to
//! the client and stored only after its final event. The write happens in
//! the background: the response never waits for the store.

use std::sync::Arc;

use bytes::Bytes;
use sluice_engine::runtime::{CompileCx, Compiled, CompiledValue, Exchange, Run, Stage};
use sluice_engine::xml::Element;

use super::llm_semantic_cache_lookup::CacheState;
use crate::semantic::record::{Recorder, complete};
use crate::semantic::store::{CachedResponse, Entry};
use crate::semantic::{SemanticCache, SemanticResources};

/// The response headers kept with a stored answer.
const CONTENT_HEADERS: [&str; 3] = ["Content-Type", "Content-Encoding", "Content-Language"];

#[derive(Debug)]
pub(crate) struct Store {
    cache: Arc<SemanticCache>,
    duration: CompiledValue,
    cache_response: Option<CompiledValue>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let semantic = cx.resource::<SemanticResources>(e)?;
    let duration = cx.required(e, "duration")?;
    let cache_response = cx.optional(e, "cache-response")?;
    Ok(Box::new(Store {
        cache: Arc::clone(&semantic.cache),
        duration,
        cache_response,
    }))
}

impl Store {
    fn not_stored(&self, why: &str) -> Run<'static> {
        self.cache.metrics.stores.with_label_values(&[why]).inc();
        Run::next()
    }
}

impl Stage for Store {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        // No lookup ran in this request, or it skipped: nothing to store.
        let state = match x.extensions.get::<CacheState>() {
            Some(CacheState::Looked(s)) => s,
            Some(CacheState::Skipped) => return self.not_stored("skipped"),
            None => return self.not_stored("no-lookup"),
        };
        if state.hit {
            return Run::next();
        }
        if state.failed {
            return self.not_stored("lookup-failed");
        }
        if state.no_store {
            return self.not_stored("no-store");
        }
        let Some(vector) = state.vector.clone() else {
            return self.not_stored("lookup-failed");
        };
        let (partition, text, shape) = (
            state.reading.partition.clone(),
            state.reading.text.clone(),
            state.reading.shape,
        );
        let duration = match self.duration.eval_int(x) {
            Ok(d) => d,
            Err(e) => return Run::fail(e),
        };
        let any_status = match &self.cache_response {
            Some(v) => match v.eval_bool(x) {
                Ok(b) => b,
                Err(e) => return Run::fail(e),
            },
            None => false,
        };
        let (status, headers, body) = x.response().read(|m| {
            let headers: Vec<(String, String)> = CONTENT_HEADERS
                .iter()
                .filter_map(|h| m.headers.get(h).map(|v| (h.to_string(), v.join(", "))))
                .collect();
            (m.status, headers, m.body.as_ref().map(|b| b.bytes.clone()))
        });
        if status != 200 && !any_status {
            return self.not_stored("status");
        }
        if duration <= 0 {
            return self.not_stored("duration");
        }
        let Ok(status) = u16::try_from(status) else {
            return self.not_stored("status");
        };
        // The lookup asked the backend for `identity` (the cache serves
        // clients whatever they accept, and reads the answer's finish); a
        // backend that compressed anyway is not cached.
        if headers.iter().any(|(n, v)| {
            n == "Content-Encoding"
                && !v
                    .split(',')
                    .all(|c| c.trim().eq_ignore_ascii_case("identity"))
        }) {
            return self.not_stored("encoded");
        }
        let now = x.now_ms();
        let expires_at_ms = now.saturating_add(duration.saturating_mul(1000));
        let event_stream = headers.iter().any(|(n, v)| {
            n == "Content-Type" && v.to_ascii_lowercase().starts_with("text/event-stream")
        });
        let cap = self.cache.config().max_body_bytes;
        let cache = Arc::clone(&self.cache);
        let entry = move |body: Bytes| Entry {
            partition,
            vector: vector.to_vec(),
            response: Arc::new(CachedResponse {
                status,
                headers,
                body,
                text,
                stored_at_ms: now,
            }),
            expires_at_ms,
        };
        if let Some(stream) = x.streaming.response_body.take() {
            // Recorded as it passes; stored when it ends well.
            let recorder =
                Recorder::new(
                    stream,
                    shape,
                    event_stream,
                    cap,
                    move |outcome| match outcome {
                        Ok(body) => cache.store_later(entry(Bytes::from(body)), now),
                        Err(why) => cache.metrics.stores.with_label_values(&[why]).inc(),
                    },
                );
            x.streaming.response_body = Some(Box::pin(recorder));
            return Run::next();
        }
        let body = body.unwrap_or_default();
        if body.len() > cap {
            return self.not_stored("too-large");
        }
        if !complete(shape, event_stream, &body) {
            return self.not_stored("incomplete");
        }
        cache.store_later(entry(body), now);
        Run::next()
    }
}
