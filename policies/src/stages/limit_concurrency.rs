//! `limit-concurrency`: at most `max-count` requests at once inside its
//! child policies, per value of `key` (shared by every policy that uses the
//! key); one more fails at once with 429 Too Many Requests. The place is
//! held while the children run (with `forward-request` inside: until the
//! backend's response headers arrived) and given back however they end.
//! Counted in this process (APIM does not say the limit is shared by
//! gateways).

use std::sync::Arc;

use sluice_engine::runtime::{
    Block, CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Reason, Run, Stage,
    run_block,
};
use sluice_engine::xml::Element;

use super::rate_limit::number;
use crate::counters::{Counters, Queue};

const POLICY: &str = "limit-concurrency";

#[derive(Debug)]
struct LimitConcurrency {
    counters: Arc<Counters>,
    key: CompiledValue,
    max_count: u64,
    children: Block,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let counters = cx.resource::<Counters>(e)?;
    let key = cx.required(e, "key")?;
    let max_count = number(e, cx, "max-count").unwrap_or(0);
    let children = cx.block(e.elements())?;
    Ok(Box::new(LimitConcurrency {
        counters,
        key,
        max_count,
        children,
    }))
}

impl LimitConcurrency {
    async fn apply(&self, x: &mut Exchange) -> Result<Flow, PolicyError> {
        let key = self.key.text(x)?.into_owned();
        let Some(lease) = self
            .counters
            .acquire(POLICY, &key, self.max_count, Queue::NONE)
            .await
        else {
            return Err(PolicyError::new(
                POLICY,
                Reason::ConcurrencyLimitExceeded,
                429,
                "Too many concurrent requests",
            ));
        };
        let r = run_block(&self.children, x).await;
        drop(lease);
        r
    }
}

impl Stage for LimitConcurrency {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::Later(Box::pin(self.apply(x)))
    }
}
