//! The metrics family: one Prometheus registry for everything the gateway
//! counts (requests, reloads, the semantic cache, and every family after
//! them), kept across reloads so that counters never restart; `GET
//! /metrics` renders it.

use prometheus::{Encoder, Registry, TextEncoder};
use sluice_engine::diag::Diagnostics;
use sluice_engine::runtime::{BoxFuture, Resources};

use super::{AdminReply, AdminRequest, BuildCx, Family, Route};

#[derive(Debug, Default)]
pub struct MetricsFamily {
    registry: Registry,
}

impl MetricsFamily {
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry every metric is registered in.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

impl Family for MetricsFamily {
    fn section(&self) -> &'static str {
        "metrics"
    }

    /// Stages count in the registry's own metrics: they need no handle yet
    /// (`emit-metric` will take one from here).
    fn provide(&self, _: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics> {
        out.insert(std::sync::Arc::new(self.registry.clone()));
        Ok(())
    }

    fn routes(&self) -> &'static [Route] {
        &[Route {
            path: "/metrics",
            methods: &["GET", "HEAD"],
        }]
    }

    fn admin<'a>(&'a self, _: AdminRequest<'a>) -> BoxFuture<'a, AdminReply> {
        Box::pin(async {
            AdminReply {
                status: 200,
                content_type: "text/plain; version=0.0.4; charset=utf-8",
                body: self.render(),
            }
        })
    }
}
