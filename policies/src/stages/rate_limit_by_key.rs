//! `rate-limit-by-key`: at most `calls` calls per `renewal-period` seconds
//! (a sliding window) for each value of `counter-key`, one counter per
//! value shared by every scope that uses it. Over the limit: 429, the
//! `Retry-After` header (or `retry-after-header-name`) and the body "Rate
//! limit is exceeded. Try again in N seconds.".
//!
//! When `increment-condition` or `increment-count` is an expression, it is
//! evaluated, and the counter incremented, at the end of the pipeline
//! (after outbound, so it may read the response); the limit is then checked
//! on the next call, which APIM documents ("429 can appear one call late").
//! Otherwise the check and the increment are one decision.

use std::sync::Arc;

use sluice_engine::runtime::{
    AtEnd, BoxFuture, CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Run, Stage,
};
use sluice_engine::xml::Element;

use super::limits::{Names, count_of, late_header, rate_limited, retry_secs, set_variable};
use crate::counters::{Counter, Counters, Take, Window};

const POLICY: &str = "rate-limit-by-key";

#[derive(Debug)]
struct RateLimitByKey {
    counters: Arc<Counters>,
    calls: CompiledValue,
    renewal_period: CompiledValue,
    counter_key: CompiledValue,
    increment_condition: Option<CompiledValue>,
    increment_count: Option<CompiledValue>,
    names: Arc<Names>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let counters = cx.resource::<Counters>(e)?;
    Ok(Box::new(RateLimitByKey {
        counters,
        calls: cx.required(e, "calls")?,
        renewal_period: cx.required(e, "renewal-period")?,
        counter_key: cx.required(e, "counter-key")?,
        increment_condition: cx.optional(e, "increment-condition")?,
        increment_count: cx.optional(e, "increment-count")?,
        names: Arc::new(Names::compile(e, cx)),
    }))
}

impl RateLimitByKey {
    /// Both increment attributes are literal (or absent): counted at once.
    fn at_once(&self) -> bool {
        self.increment_condition
            .as_ref()
            .is_none_or(CompiledValue::is_literal)
            && self
                .increment_count
                .as_ref()
                .is_none_or(CompiledValue::is_literal)
    }

    async fn apply(&self, x: &mut Exchange) -> Result<Flow, PolicyError> {
        let calls = count_of(POLICY, &self.calls, x, "calls")?;
        let period_s = count_of(POLICY, &self.renewal_period, x, "renewal-period")?;
        let key = self.counter_key.text(x)?.into_owned();
        let period_ms = period_s.saturating_mul(1000);
        let counter = Counter::new(POLICY, key, calls, Window::Sliding { period_ms });
        let postponed = !self.at_once();
        let take = if postponed {
            Take::Below(0)
        } else {
            let n = match &self.increment_count {
                Some(c) => count_of(POLICY, c, x, "increment-count")?,
                None => 1,
            };
            let counts = match &self.increment_condition {
                Some(c) => c.eval_bool(x)?,
                None => true,
            };
            if counts && n > 0 {
                Take::Fit(n)
            } else {
                Take::Below(0)
            }
        };
        let d = self.counters.take(&counter, take, x.now_ms()).await;
        if !d.allowed {
            let secs = retry_secs(&d, period_ms);
            self.names.refused(x, secs, calls);
            return Err(rate_limited(POLICY, secs));
        }
        self.names.admitted(x, d.remaining, calls);
        if postponed {
            x.at_end(Box::new(Postponed {
                counters: Arc::clone(&self.counters),
                counter,
                condition: self.increment_condition.clone(),
                count: self.increment_count.clone(),
                names: Arc::clone(&self.names),
            }));
        }
        Ok(Flow::Next)
    }
}

impl Stage for RateLimitByKey {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::Later(Box::pin(self.apply(x)))
    }
}

/// The increment left for the end of the pipeline.
struct Postponed {
    counters: Arc<Counters>,
    counter: Counter,
    condition: Option<CompiledValue>,
    count: Option<CompiledValue>,
    names: Arc<Names>,
}

impl Postponed {
    /// How much to add; an expression that fails counts nothing.
    fn amount(&self, x: &Exchange) -> u64 {
        let counts = self
            .condition
            .as_ref()
            .is_none_or(|c| c.eval_bool(x).unwrap_or(false));
        if !counts {
            return 0;
        }
        match &self.count {
            Some(c) => count_of(POLICY, c, x, "increment-count").unwrap_or(0),
            None => 1,
        }
    }
}

impl AtEnd for Postponed {
    fn run(self: Box<Self>, x: &mut Exchange) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let n = self.amount(x);
            if n == 0 {
                return;
            }
            let add = i64::try_from(n).unwrap_or(i64::MAX);
            let d = self
                .counters
                .take(&self.counter, Take::Add(add), x.now_ms())
                .await;
            // What remains once this call is counted.
            if let Some(h) = &self.names.remaining_header {
                late_header(x, h, d.remaining.to_string());
            }
            if let Some(v) = &self.names.remaining_variable {
                set_variable(x, v, d.remaining);
            }
        })
    }
}
