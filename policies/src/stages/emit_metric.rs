//! `emit-metric`: adds `value` (default 1) to the custom metric `name` of
//! `namespace` (default `API Management`), with its dimensions as labels.
//!
//! On the gateway's Prometheus registry the metric is a summary named
//! `<namespace>_<name>` (both made Prometheus names: `my-metrics` and
//! `Request` give `my_metrics_request`, exposed as `my_metrics_request_sum`
//! and `_count`: the sum and count Azure Monitor aggregates a value into);
//! each dimension is a label named after it (`API ID` → `api_id`). A
//! dimension without `value` must be a default dimension, which the
//! gateway fills: `API ID`, `Operation ID`, `Product ID`, `User ID`,
//! `Subscription ID`, `Location`, `Gateway ID`, `Backend ID`, and (accepted
//! beyond the docs) `Client IP`, `Client IP address`, and for the token
//! metric `Model`. At most 10 dimensions (schema).

use std::sync::Arc;

use rhai::Dynamic;
use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Reason, Run, Stage,
};
use sluice_engine::xml::Element;

use crate::series::{Labels, Series, prom_name};
use crate::tokens::record_id;

/// APIM's default namespace.
pub(crate) const DEFAULT_NAMESPACE: &str = "API Management";

/// The dimensions a policy may name without a value.
const DEFAULTS: &[&str] = &[
    "API ID",
    "Operation ID",
    "Product ID",
    "User ID",
    "Subscription ID",
    "Location",
    "Gateway ID",
    "Backend ID",
    "Client IP",
    "Client IP address",
    "Model",
];

/// One `<dimension>`.
#[derive(Debug)]
pub(crate) struct Dimension {
    name: CompiledValue,
    value: Option<CompiledValue>,
}

/// The `<dimension>` children of `e`; a literal name without a value must
/// be a default dimension's.
pub(crate) fn dimensions(
    e: &Element,
    cx: &mut CompileCx<'_>,
    model: bool,
) -> Compiled<Vec<Dimension>> {
    let mut out = Vec::new();
    let mut failed = false;
    for d in e.elements().filter(|d| d.name == "dimension") {
        let Ok(name) = cx.required(d, "name") else {
            failed = true;
            continue;
        };
        let Ok(value) = cx.optional(d, "value") else {
            failed = true;
            continue;
        };
        if value.is_none()
            && let (Some(a), true) = (d.attr("name"), name.is_literal())
        {
            let n = a.value.value.trim();
            let known = DEFAULTS.iter().any(|k| k.eq_ignore_ascii_case(n))
                && (model || !n.eq_ignore_ascii_case("Model"));
            if !known {
                cx.error(
                    Code::MissingAttribute,
                    d.span,
                    format!(
                        "dimension `{n}` needs a `value`: only default dimensions ({}) may leave it out",
                        DEFAULTS[..8].join(", ")
                    ),
                );
                failed = true;
                continue;
            }
        }
        out.push(Dimension { name, value });
    }
    if failed {
        return Err(sluice_engine::runtime::Reported);
    }
    Ok(out)
}

/// The labels of `dims` for this request (`model`: the request's model,
/// for the token metric).
pub(crate) fn labels(dims: &[Dimension], x: &Exchange, model: &str) -> Result<Labels, PolicyError> {
    let mut out: Labels = Vec::with_capacity(dims.len());
    for d in dims {
        let name = d.name.text(x)?.into_owned();
        let value = match &d.value {
            Some(v) => v.text(x)?.into_owned(),
            None => default_value(&name, x, model),
        };
        let label = prom_name(&name);
        if !out.iter().any(|(n, _)| *n == label) {
            out.push((label, value));
        }
    }
    Ok(out)
}

fn default_value(name: &str, x: &Exchange, model: &str) -> String {
    let d = &x.ctx.0;
    let field = |r: Option<&sluice_engine::runtime::Record>, f: &str| {
        r.and_then(|r| r.fields.get(f))
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    match name.trim().to_ascii_lowercase().as_str() {
        "api id" => record_id(d.api.as_ref()),
        "operation id" => record_id(d.operation.as_ref()),
        "product id" => record_id(d.product.as_ref()),
        "user id" => record_id(d.user.as_ref()),
        "subscription id" => record_id(d.subscription.as_ref()),
        "location" => field(d.deployment.as_ref(), "Region"),
        "gateway id" => field(d.deployment.as_ref(), "GatewayId"),
        "backend id" => x.backend_url.to_string(),
        "client ip" | "client ip address" => x.request().read(|m| m.ip.clone()),
        "model" => model.to_owned(),
        _ => String::new(),
    }
}

/// A value as a double: a number, or text that reads as one.
pub(crate) fn as_double(v: &Dynamic) -> Option<f64> {
    if let Ok(f) = v.as_float() {
        return Some(f);
    }
    if let Ok(i) = v.as_int() {
        return Some(i as f64);
    }
    v.clone().into_string().ok()?.trim().parse().ok()
}

#[derive(Debug)]
struct EmitMetric {
    metric: String,
    value: Option<CompiledValue>,
    dims: Vec<Dimension>,
    series: Arc<Series>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let series = cx.resource::<Series>(e)?;
    let name = cx.required_literal(e, "name")?;
    let namespace = cx
        .literal(e, "namespace")
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
    let value = cx.optional(e, "value")?;
    let dims = dimensions(e, cx, false)?;
    Ok(Box::new(EmitMetric {
        metric: format!("{}_{}", prom_name(&namespace), prom_name(&name)),
        value,
        dims,
        series,
    }))
}

impl Stage for EmitMetric {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done((|| {
            let value = match &self.value {
                Some(v) => {
                    let d = v.eval(x)?;
                    as_double(&d).ok_or_else(|| {
                        PolicyError::new(
                            "emit-metric",
                            Reason::ExpressionValueEvaluationFailure,
                            500,
                            format!("the metric value `{d}` is not a number"),
                        )
                    })?
                }
                None => 1.0,
            };
            let labels = labels(&self.dims, x, "")?;
            self.series.summarize(
                &self.metric,
                "A custom metric of emit-metric: the sum and count of its values, by its dimensions",
                labels,
                value,
            );
            Ok(())
        })())
    }
}
