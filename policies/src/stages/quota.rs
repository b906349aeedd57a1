//! `quota`: a call volume and/or bandwidth (kilobytes) quota per
//! subscription, over fixed windows of `renewal-period` seconds (0: for
//! ever), with `<api>` and `<operation>` children enforced independently.
//! Over it: 403, `Retry-After` and "Out of call volume quota. Quota will be
//! replenished in hh:mm:ss." (or "Out of bandwidth quota. ..."). Calls
//! without a subscription are not limited.
//!
//! A call is counted when admitted; its bandwidth (request and response
//! bodies) at the end of the pipeline, so a call is admitted while the
//! bandwidth used is below the quota. Windows start at the Unix epoch
//! (Sluice keeps no subscription start date). What `quota-by-key` shares
//! with it is here too: [`Plan`], the counters of one decision.

use std::sync::Arc;

use sluice_engine::runtime::{
    AtEnd, BoxFuture, CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Run, Stage,
};
use sluice_engine::schema::Scope;
use sluice_engine::xml::Element;

use super::limits::{Volume, exchanged_bytes, late_header, quota_exceeded};
use super::rate_limit::{number, subscription_scope};
use crate::counters::{Counter, Counters, Take, Window};

const POLICY: &str = "quota";

/// The limits of one level (the policy, an `<api>`, an `<operation>`).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Limits {
    pub calls: Option<u64>,
    /// Kilobytes.
    pub bandwidth: Option<u64>,
    pub period_s: u64,
}

impl Limits {
    pub(crate) fn compile(e: &Element, cx: &CompileCx<'_>) -> Self {
        Self {
            calls: number(e, cx, "calls"),
            bandwidth: number(e, cx, "bandwidth"),
            period_s: number(e, cx, "renewal-period").unwrap_or(0),
        }
    }
}

/// The counters of one decision: calls to take now, bandwidth to check
/// now and add at the end.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    list: Vec<(Counter, Take)>,
    volumes: Vec<Volume>,
}

impl Plan {
    /// Adds a level's counters, under `key`, its window starting at `start_ms`.
    pub(crate) fn level(
        &mut self,
        policy: &'static str,
        key: &str,
        l: Limits,
        start_ms: i64,
        calls: Take,
    ) {
        let window = Window::Fixed {
            period_ms: l.period_s.saturating_mul(1000),
            start_ms,
        };
        if let Some(c) = l.calls {
            self.list.push((
                Counter::new(policy, format!("{key}\u{1f}calls"), c, window),
                calls,
            ));
            self.volumes.push(Volume::Calls);
        }
        if let Some(kb) = l.bandwidth {
            let bytes = kb.saturating_mul(1024);
            self.list.push((
                Counter::new(policy, format!("{key}\u{1f}bandwidth"), bytes, window),
                Take::Below(0),
            ));
            self.volumes.push(Volume::Bandwidth);
        }
    }

    /// The decision: `Err` with the 403 (and its `Retry-After`) when a
    /// counter refuses.
    pub(crate) async fn decide(
        &self,
        policy: &str,
        counters: &Counters,
        x: &mut Exchange,
    ) -> Result<(), PolicyError> {
        if self.list.is_empty() {
            return Ok(());
        }
        let (i, d) = counters.take_all(&self.list, x.now_ms()).await;
        if d.allowed {
            return Ok(());
        }
        let secs = d.retry_after_ms.map(|ms| ms.div_ceil(1000).max(1));
        if let Some(s) = secs {
            late_header(x, "Retry-After", s.to_string());
        }
        Err(quota_exceeded(policy, self.volumes[i], secs))
    }

    /// The bandwidth counters, for [`AddLater`].
    pub(crate) fn bandwidth(&self) -> Vec<Counter> {
        self.list
            .iter()
            .zip(&self.volumes)
            .filter(|(_, v)| **v == Volume::Bandwidth)
            .map(|((c, _), _)| c.clone())
            .collect()
    }

    /// The calls counters.
    pub(crate) fn calls(&self) -> Vec<Counter> {
        self.list
            .iter()
            .zip(&self.volumes)
            .filter(|(_, v)| **v == Volume::Calls)
            .map(|((c, _), _)| c.clone())
            .collect()
    }
}

/// Adds at the end of the pipeline, when `condition` (read then) holds:
/// `count` (read then; 1 when absent) to the calls counters (a postponed
/// increment), the request's bytes to the bandwidth counters.
pub(crate) struct AddLater {
    pub counters: Arc<Counters>,
    pub calls: Vec<Counter>,
    pub bandwidth: Vec<Counter>,
    pub condition: Option<CompiledValue>,
    pub count: Option<CompiledValue>,
}

impl AtEnd for AddLater {
    fn run(self: Box<Self>, x: &mut Exchange) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // An expression that fails counts nothing.
            if let Some(c) = &self.condition
                && !c.eval_bool(x).unwrap_or(false)
            {
                return;
            }
            let now = x.now_ms();
            let n = match &self.count {
                Some(c) => c.eval_int(x).unwrap_or(0).max(0),
                None => 1,
            };
            if n > 0 {
                for c in &self.calls {
                    self.counters.take(c, Take::Add(n), now).await;
                }
            }
            let bytes = i64::try_from(exchanged_bytes(x)).unwrap_or(i64::MAX);
            if bytes > 0 {
                for c in &self.bandwidth {
                    self.counters.take(c, Take::Add(bytes), now).await;
                }
            }
        })
    }
}

#[derive(Debug)]
struct Entity {
    id: Option<String>,
    name: Option<String>,
    limits: Limits,
    operations: Vec<Entity>,
}

impl Entity {
    fn as_rate(&self) -> super::rate_limit::Entity {
        super::rate_limit::Entity {
            id: self.id.clone(),
            name: self.name.clone(),
            calls: 0,
            period_s: 0,
            operations: Vec::new(),
        }
    }
}

fn entities(e: &Element, cx: &CompileCx<'_>, child: &str) -> Vec<Entity> {
    e.elements()
        .filter(|c| c.name == child)
        .map(|c| Entity {
            id: cx.literal(c, "id").filter(|v| !v.is_empty()),
            name: cx.literal(c, "name").filter(|v| !v.is_empty()),
            limits: Limits::compile(c, cx),
            operations: entities(c, cx, "operation"),
        })
        .collect()
}

#[derive(Debug)]
struct Quota {
    counters: Arc<Counters>,
    limits: Limits,
    scope: Scope,
    apis: Vec<Entity>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let counters = cx.resource::<Counters>(e)?;
    Ok(Box::new(Quota {
        counters,
        limits: Limits::compile(e, cx),
        scope: cx.scope,
        apis: entities(e, cx, "api"),
    }))
}

impl Quota {
    async fn apply(&self, x: &mut Exchange) -> Result<Flow, PolicyError> {
        let Some(base) = subscription_scope(x, self.scope) else {
            return Ok(Flow::Next);
        };
        let mut plan = Plan::default();
        plan.level(POLICY, &base, self.limits, 0, Take::Fit(1));
        for api in self
            .apis
            .iter()
            .filter(|a| a.as_rate().matches(x.ctx.0.api.as_ref()))
        {
            let key = format!("{base}\u{1f}{}", api.as_rate().label("api"));
            for op in api
                .operations
                .iter()
                .filter(|o| o.as_rate().matches(x.ctx.0.operation.as_ref()))
            {
                let k = format!("{key}\u{1f}{}", op.as_rate().label("operation"));
                plan.level(POLICY, &k, op.limits, 0, Take::Fit(1));
            }
            plan.level(POLICY, &key, api.limits, 0, Take::Fit(1));
        }
        plan.decide(POLICY, &self.counters, x).await?;
        let bandwidth = plan.bandwidth();
        if !bandwidth.is_empty() {
            x.at_end(Box::new(AddLater {
                counters: Arc::clone(&self.counters),
                calls: Vec::new(),
                bandwidth,
                condition: None,
                count: None,
            }));
        }
        Ok(Flow::Next)
    }
}

impl Stage for Quota {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::Later(Box::pin(self.apply(x)))
    }
}
