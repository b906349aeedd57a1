//! `retry`: runs its child policies once, then again while `condition`
//! holds and fewer than `count` retries were made, waiting between runs.
//!
//! Waits (the docs' "Retry wait times"; `n` is the retry's number, from 1):
//! - only `interval`: `interval` every time;
//! - `interval` and `delta`: `interval + (n - 1) * delta` (linear);
//! - `interval`, `max-interval` and `delta`: `interval + (2^(n-1) - 1) *
//!   random(0.8 * delta, 1.2 * delta)`, at most `max-interval` (the docs'
//!   example: interval = delta = 10, max 100 → about 10, 20, 40, 80, 100 s);
//! - `first-fast-retry="true"`: the first retry does not wait.
//!
//! The random factor comes from a hash of the request id and `n`: it varies
//! between requests and is the same when a test replays one. Waiting goes
//! through `Services::sleep`, so tests run on a virtual clock.
//!
//! A child's error is retried like a failed attempt while the condition
//! holds (as Microsoft's policy toolkit does); when the retries end, the last
//! attempt's error is raised.

use std::hash::{DefaultHasher, Hash, Hasher};

use sluice_engine::runtime::{
    Block, CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Run, Stage, run_block,
};
use sluice_engine::xml::Element;

/// The documented bounds of `count`.
const MAX_COUNT: i64 = 50;

#[derive(Debug)]
struct Retry {
    condition: CompiledValue,
    count: CompiledValue,
    interval: CompiledValue,
    max_interval: Option<CompiledValue>,
    delta: Option<CompiledValue>,
    first_fast_retry: Option<CompiledValue>,
    body: Block,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let condition = cx.required(e, "condition")?;
    let count = cx.required(e, "count")?;
    let interval = cx.required(e, "interval")?;
    let max_interval = cx.optional(e, "max-interval")?;
    let delta = cx.optional(e, "delta")?;
    let first_fast_retry = cx.optional(e, "first-fast-retry")?;
    let body = cx.block(e.elements())?;
    Ok(Box::new(Retry {
        condition,
        count,
        interval,
        max_interval,
        delta,
        first_fast_retry,
        body,
    }))
}

/// The wait settings, evaluated once when the policy starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Waits {
    pub interval_s: u64,
    pub max_interval_s: Option<u64>,
    pub delta_s: Option<u64>,
    pub first_fast_retry: bool,
}

impl Waits {
    /// Milliseconds to wait before retry `n` (from 1); `jitter` in [0.8, 1.2].
    pub(crate) fn before(&self, n: u32, jitter: f64) -> u64 {
        if self.first_fast_retry && n == 1 {
            return 0;
        }
        let interval = self.interval_s as f64;
        let steps = f64::from(n.saturating_sub(1));
        let seconds = match (self.max_interval_s, self.delta_s) {
            (Some(max), Some(delta)) => {
                let growth = 2f64.powf(steps) - 1.0;
                (interval + growth * delta as f64 * jitter).min(max as f64)
            }
            (None, Some(delta)) => interval + steps * delta as f64,
            (Some(max), None) => interval.min(max as f64),
            (None, None) => interval,
        };
        (seconds * 1000.0).round() as u64
    }
}

/// A factor in [0.8, 1.2] from the request id and the retry's number.
fn jitter(request_id: &uuid::Uuid, n: u32) -> f64 {
    let mut h = DefaultHasher::new();
    request_id.hash(&mut h);
    n.hash(&mut h);
    let unit = (h.finish() % 10_001) as f64 / 10_000.0;
    0.8 + 0.4 * unit
}

fn seconds(v: &CompiledValue, x: &Exchange) -> Result<u64, PolicyError> {
    Ok(u64::try_from(v.eval_int(x)?).unwrap_or(0))
}

impl Retry {
    fn waits(&self, x: &Exchange) -> Result<(u32, Waits), PolicyError> {
        let count = self.count.eval_int(x)?.clamp(0, MAX_COUNT);
        let waits = Waits {
            interval_s: seconds(&self.interval, x)?,
            max_interval_s: self
                .max_interval
                .as_ref()
                .map(|v| seconds(v, x))
                .transpose()?,
            delta_s: self.delta.as_ref().map(|v| seconds(v, x)).transpose()?,
            first_fast_retry: match &self.first_fast_retry {
                Some(v) => v.eval_bool(x)?,
                None => false,
            },
        };
        Ok((u32::try_from(count).unwrap_or(0), waits))
    }
}

impl Stage for Retry {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let (count, waits) = match self.waits(x) {
            Ok(w) => w,
            Err(e) => return Run::fail(e),
        };
        Run::Later(Box::pin(async move {
            let mut retries = 0u32;
            loop {
                let outcome = run_block(&self.body, x).await;
                if matches!(outcome, Ok(Flow::End | Flow::Answered)) {
                    return outcome;
                }
                if retries >= count || !self.condition.eval_bool(x)? {
                    return outcome;
                }
                retries += 1;
                let ms = waits.before(retries, jitter(&x.ctx.0.request_id, retries));
                if ms > 0 {
                    let services = x.services.clone();
                    services.sleep(ms).await;
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests;
