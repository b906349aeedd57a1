//! `llm-emit-token-metric` (and `azure-openai-emit-token-metric`): once
//! the tokens a request consumed are known (its answer's `usage`, or at
//! the end of a stream, or counted by the gateway when none comes), adds
//! them to the metrics `Total Tokens`, `Prompt Tokens` and `Completion
//! Tokens` of `namespace` (default `API Management`), with the
//! dimensions as labels: on the Prometheus registry, summaries named
//! `<namespace>_total_tokens`, `_prompt_tokens`, `_completion_tokens`
//! (sum: tokens; count: requests). Dimensions as `emit-metric`'s, plus the
//! default dimension `Model` (the request's `model`). The root `value` of
//! the 2024 pages is accepted and ignored.

use std::sync::{Arc, Mutex};

use sluice_engine::runtime::{CompileCx, Compiled, Exchange, Run, Stage};
use sluice_engine::xml::Element;

use super::emit_metric::{DEFAULT_NAMESPACE, Dimension, dimensions, labels};
use crate::series::{Labels, Series, prom_name};
use crate::tokens::{self, Sink, TokenRequest, Usage};

#[derive(Debug)]
struct EmitTokenMetric {
    prefix: String,
    dims: Vec<Dimension>,
    series: Arc<Series>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let series = cx.resource::<Series>(e)?;
    let namespace = cx
        .literal(e, "namespace")
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
    let dims = dimensions(e, cx, true)?;
    Ok(Box::new(EmitTokenMetric {
        prefix: prom_name(&namespace),
        dims,
        series,
    }))
}

/// One request's metric, emitted once its usage is known.
struct Emit {
    prefix: String,
    labels: Mutex<Labels>,
    series: Arc<Series>,
}

impl Sink for Emit {
    fn settle(&self, usage: &Usage, _req: &TokenRequest) {
        let labels = match self.labels.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        for (metric, n) in [
            ("total_tokens", usage.total),
            ("prompt_tokens", usage.prompt),
            ("completion_tokens", usage.completion),
        ] {
            self.series.summarize(
                &format!("{}_{metric}", self.prefix),
                "Tokens consumed (llm-emit-token-metric): sum of tokens and count of requests, by the policy's dimensions",
                labels.clone(),
                n as f64,
            );
        }
    }
}

impl Stage for EmitTokenMetric {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let req = tokens::request(x, &self.series);
        let labels = match labels(&self.dims, x, &req.model) {
            Ok(l) => l,
            Err(e) => return Run::fail(e),
        };
        tokens::add_sink(
            x,
            Arc::new(Emit {
                prefix: self.prefix.clone(),
                labels: Mutex::new(labels),
                series: Arc::clone(&self.series),
            }),
        );
        Run::next()
    }
}
