//! The metrics family: one Prometheus registry for everything the gateway
//! counts (requests, reloads, the semantic cache, and every family after
//! them), kept across reloads so that counters never restart; `GET
//! /metrics` renders it.

use std::sync::Arc;
use std::time::Duration;

use sluice_policies::series::{Series, SeriesCollector};

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};
use sluice_engine::diag::Diagnostics;
use sluice_engine::runtime::{BoxFuture, Resources};

use super::{AdminReply, AdminRequest, BuildCx, Family, Route};

#[derive(Debug)]
pub struct MetricsFamily {
    registry: Registry,
    /// What policies and requests name (`emit-metric`, token usage), bounded.
    series: Arc<Series>,
    /// What every request counts in, served (`sluice run`) or tested (`sluice test`).
    pub requests: RequestMetrics,
}

/// `sluice_requests_total{api, operation, status}` and
/// `sluice_request_duration_seconds{api}`.
#[derive(Clone, Debug)]
pub struct RequestMetrics {
    requests: IntCounterVec,
    latency: HistogramVec,
}

impl RequestMetrics {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "sluice_requests_total",
                "Requests answered, by API, operation and status",
            ),
            &["api", "operation", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "sluice_request_duration_seconds",
                "Time from the request's headers to the response, by API",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0,
            ]),
            &["api"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self { requests, latency })
    }

    /// Counts one answered request, labelled by the API and operation the
    /// plan routed it to (empty when none).
    pub fn count(&self, api: &str, operation: &str, status: u16, elapsed: Duration) {
        let status = hyper::StatusCode::from_u16(status);
        let status = status.as_ref().map_or("500", hyper::StatusCode::as_str);
        self.requests
            .with_label_values(&[api, operation, status])
            .inc();
        self.latency
            .with_label_values(&[api])
            .observe(elapsed.as_secs_f64());
    }
}

impl MetricsFamily {
    /// The registry, and the bounded series of `[metrics]
    /// max-series-per-metric` (`cap`; default [`Series::DEFAULT_CAP`]).
    pub fn new(cap: Option<usize>) -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = RequestMetrics::register(&registry)?;
        let series = Arc::new(Series::new(cap.unwrap_or(Series::DEFAULT_CAP)));
        registry.register(Box::new(SeriesCollector(Arc::clone(&series))))?;
        Ok(Self {
            registry,
            series,
            requests,
        })
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

    /// The registry, and the bounded series `emit-metric` and the token
    /// policies count in.
    fn provide(&self, _: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics> {
        out.insert(Arc::new(self.registry.clone()));
        out.insert(Arc::clone(&self.series));
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
