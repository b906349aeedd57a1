//! `rate-limit`: at most `calls` calls per `renewal-period` seconds (a
//! sliding window) for each subscription, and, with `<api>` and
//! `<operation>` children, for the calls of each subscription to one API or
//! operation; the limits are enforced independently (a call must fit all
//! that apply; one refused is counted by none). Calls without a
//! subscription are not limited. Over a limit: 429, `Retry-After` (or
//! `retry-after-header-name`), "Rate limit is exceeded. Try again in N
//! seconds.".
//!
//! A counter belongs to the subscription and the scope that declares the
//! policy (the product, the API, or the operation), so that a reload that
//! keeps the policy keeps its counts.

use std::sync::Arc;

use sluice_engine::runtime::{CompileCx, Compiled, Exchange, Flow, PolicyError, Run, Stage};
use sluice_engine::schema::Scope;
use sluice_engine::xml::Element;

use super::limits::{Names, rate_limited, retry_secs};
use crate::counters::{Counter, Counters, Take, Window};

const POLICY: &str = "rate-limit";

/// An `<api>` or `<operation>` limit: matched by `id`, else `name`.
#[derive(Debug)]
pub(crate) struct Entity {
    pub id: Option<String>,
    pub name: Option<String>,
    pub calls: u64,
    pub period_s: u64,
    pub operations: Vec<Entity>,
}

impl Entity {
    /// Whether the record (`context.Api`, `context.Operation`) is this one.
    pub(crate) fn matches(&self, record: Option<&sluice_engine::runtime::Record>) -> bool {
        let field = |n: &str| {
            record
                .and_then(|r| r.fields.get(n))
                .map(ToString::to_string)
                .unwrap_or_default()
        };
        match (&self.id, &self.name) {
            (Some(id), _) => *id == field("Id"),
            (None, Some(name)) => *name == field("Name"),
            (None, None) => false,
        }
    }

    /// The counter key's part for this entity.
    pub(crate) fn label(&self, kind: &str) -> String {
        match (&self.id, &self.name) {
            (Some(id), _) => format!("{kind}-id:{id}"),
            (_, name) => format!("{kind}:{}", name.as_deref().unwrap_or_default()),
        }
    }
}

/// A literal whole number of `e`; the schema has checked its form.
pub(crate) fn number(e: &Element, cx: &CompileCx<'_>, name: &str) -> Option<u64> {
    cx.literal(e, name).and_then(|v| v.parse().ok())
}

fn entities(e: &Element, cx: &CompileCx<'_>, child: &str) -> Vec<Entity> {
    e.elements()
        .filter(|c| c.name == child)
        .map(|c| Entity {
            id: cx.literal(c, "id").filter(|v| !v.is_empty()),
            name: cx.literal(c, "name").filter(|v| !v.is_empty()),
            calls: number(c, cx, "calls").unwrap_or(0),
            period_s: number(c, cx, "renewal-period").unwrap_or(0),
            operations: entities(c, cx, "operation"),
        })
        .collect()
}

#[derive(Debug)]
struct RateLimit {
    counters: Arc<Counters>,
    calls: u64,
    period_s: u64,
    scope: Scope,
    apis: Vec<Entity>,
    names: Names,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let counters = cx.resource::<Counters>(e)?;
    Ok(Box::new(RateLimit {
        counters,
        calls: number(e, cx, "calls").unwrap_or(0),
        period_s: number(e, cx, "renewal-period").unwrap_or(0),
        scope: cx.scope,
        apis: entities(e, cx, "api"),
        names: Names::compile(e, cx),
    }))
}

/// The subscription and the declaring scope's entity, as a counter key;
/// `None` without a subscription.
pub(crate) fn subscription_scope(x: &Exchange, scope: Scope) -> Option<String> {
    let c = &x.ctx.0;
    let id = |r: &Option<sluice_engine::runtime::Record>| {
        r.as_ref()
            .and_then(|r| r.fields.get("Id"))
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    let subscription = c.subscription.as_ref()?;
    let sub = subscription
        .fields
        .get("Id")
        .map(ToString::to_string)
        .unwrap_or_default();
    let entity = match scope {
        Scope::Product => format!("product:{}", id(&c.product)),
        Scope::Api => format!("api:{}", id(&c.api)),
        Scope::Operation => format!("operation:{}/{}", id(&c.api), id(&c.operation)),
        other => other.name().to_owned(),
    };
    Some(format!("{sub}\u{1f}{entity}"))
}

impl RateLimit {
    async fn apply(&self, x: &mut Exchange) -> Result<Flow, PolicyError> {
        let Some(base) = subscription_scope(x, self.scope) else {
            return Ok(Flow::Next);
        };
        let sliding = |s: u64| Window::Sliding {
            period_ms: s.saturating_mul(1000),
        };
        let mut list = vec![(
            Counter::new(POLICY, base.clone(), self.calls, sliding(self.period_s)),
            Take::Fit(1),
        )];
        for api in self.apis.iter().filter(|a| a.matches(x.ctx.0.api.as_ref())) {
            let key = format!("{base}\u{1f}{}", api.label("api"));
            for op in api
                .operations
                .iter()
                .filter(|o| o.matches(x.ctx.0.operation.as_ref()))
            {
                let k = format!("{key}\u{1f}{}", op.label("operation"));
                list.push((
                    Counter::new(POLICY, k, op.calls, sliding(op.period_s)),
                    Take::Fit(1),
                ));
            }
            list.push((
                Counter::new(POLICY, key, api.calls, sliding(api.period_s)),
                Take::Fit(1),
            ));
        }
        let (i, d) = self.counters.take_all(&list, x.now_ms()).await;
        let counter = &list[i.min(list.len() - 1)].0;
        if !d.allowed {
            let secs = retry_secs(&d, counter.window.period_ms());
            self.names.refused(x, secs, counter.limit);
            return Err(rate_limited(POLICY, secs));
        }
        self.names.admitted(x, d.remaining, counter.limit);
        Ok(Flow::Next)
    }
}

impl Stage for RateLimit {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::Later(Box::pin(self.apply(x)))
    }
}
