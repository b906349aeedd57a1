//! `cache-store`: keeps the response under the key `cache-lookup` left, for
//! `duration` seconds: a 200 OK only, or any status with
//! `cache-response="true"`; nothing when the lookup did not run, answered
//! from the cache, or skipped the request (not a GET, or `Authorization`
//! without `allow-private-response-caching`). A stored response gets the
//! `Cache-Control` of the lookup's `downstream-caching-type`. A compressed
//! response is stored only when the lookup varies by `Accept-Encoding`.

use std::sync::Arc;

use sluice_engine::runtime::{CompileCx, Compiled, CompiledValue, Exchange, Flow, Run, Stage};
use sluice_engine::xml::Element;

use super::cache_lookup::ResponseCacheState;
use crate::cache::Caches;
use crate::cache::codec::Response;

#[derive(Debug)]
struct Store {
    caches: Arc<Caches>,
    duration: CompiledValue,
    cache_response: Option<CompiledValue>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(Store {
        caches: cx.resource::<Caches>(e)?,
        duration: cx.required(e, "duration")?,
        cache_response: cx.optional(e, "cache-response")?,
    }))
}

impl Stage for Store {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let Some(ResponseCacheState::Missed(missed)) = x.extensions.remove::<ResponseCacheState>()
        else {
            return Run::next();
        };
        let any_status = match self.cache_response.as_ref().map(|v| v.eval_bool(x)) {
            None => false,
            Some(Ok(b)) => b,
            Some(Err(e)) => return Run::fail(e),
        };
        let seconds = match self.duration.eval_int(x) {
            Ok(s) => s,
            Err(e) => return Run::fail(e),
        };
        let (status, compressed) = x.response().read(|m| {
            let compressed = m.headers.get("Content-Encoding").is_some_and(|vs| {
                vs.iter()
                    .any(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("identity"))
            });
            (m.status, compressed)
        });
        if seconds <= 0 || !any_status && status != 200 || compressed && !missed.by_encoding {
            return Run::next();
        }
        let now = x.now_ms();
        let ttl_ms = seconds.saturating_mul(1000);
        let response = x.response().read(|m| Response {
            status: u16::try_from(m.status).unwrap_or(500),
            reason: m.reason.clone(),
            headers: m
                .headers
                .0
                .iter()
                .flat_map(|(n, vs)| vs.iter().map(move |v| (n.to_string(), v.clone())))
                .collect(),
            body: m.body.as_ref().map(|b| b.bytes.clone()).unwrap_or_default(),
        });
        let control = missed
            .downstream
            .cache_control(missed.must_revalidate, seconds);
        x.response()
            .write(|m| m.headers.set_one("Cache-Control", control));
        let bytes = response.encode_expiring(now.saturating_add(ttl_ms));
        Run::Later(Box::pin(async move {
            self.caches
                .set(missed.kind, &missed.key, bytes, ttl_ms, now)
                .await;
            Ok(Flow::Next)
        }))
    }
}
