//! The admin listener (`[admin] listen`, loopback by default):
//!
//! - `GET /healthz`: 200 `ok` while the process serves
//! - `GET /metrics`: Prometheus text
//! - `GET /status`: JSON: plan generation, reload counts, the last reload's outcome and diagnostics
//! - `POST /reload`: reloads now; 200 with the status if the new plan serves, 422 if it was refused
//! - `GET /cache`: the semantic cache's store and its number of entries
//!   (`null`, with an `error`, while the store cannot be asked)
//! - `POST /cache/purge[?partition=ID]`: deletes every semantic cache entry,
//!   or those of one partition (the id the status header's `-partition`
//!   companion reports); JSON `{"purged": N, "partition": ID or null}`;
//!   any other parameter is a 400; 503 if the store cannot purge (then
//!   nothing is purged, from any layer)
//!
//! and [`Metrics`], the Prometheus registry: requests by API, operation and
//! status, a latency histogram, reload outcomes and the plan generation.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use tokio::net::TcpListener;

use super::state::{Gateway, Trigger};

pub async fn serve(listener: TcpListener, state: Arc<Gateway>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("admin accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(route(&state, req).await) }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn reply(status: StatusCode, content_type: &str, body: Vec<u8>) -> hyper::Response<Full<Bytes>> {
    let mut r = hyper::Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn json(status: StatusCode, v: &serde_json::Value) -> hyper::Response<Full<Bytes>> {
    let mut body = serde_json::to_vec_pretty(v).unwrap_or_default();
    body.push(b'\n');
    reply(status, "application/json", body)
}

async fn route(
    state: &Arc<Gateway>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let text = "text/plain; charset=utf-8";
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/healthz") => reply(StatusCode::OK, text, b"ok\n".to_vec()),
        (&Method::GET | &Method::HEAD, "/metrics") => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            state.metrics.render(&[&state.shared.cache.metrics.registry]),
        ),
        (&Method::GET | &Method::HEAD, "/cache") => {
            let cache = &state.shared.cache;
            // The gateway answers while its store is down: `entries` is
            // then null and `error` says why.
            let body = match cache.count().await {
                Ok(n) => serde_json::json!({ "store": cache.store_kind(), "entries": n }),
                Err(e) => serde_json::json!({
                    "store": cache.store_kind(),
                    "entries": null,
                    "error": e.to_string(),
                }),
            };
            json(StatusCode::OK, &body)
        }
        (&Method::POST, "/cache/purge") => {
            let partition = match purge_scope(req.uri().query()) {
                Ok(p) => p,
                Err(e) => return json(StatusCode::BAD_REQUEST, &serde_json::json!({ "error": e })),
            };
            match state.shared.cache.purge(partition.as_deref()).await {
                Ok(n) => json(
                    StatusCode::OK,
                    &serde_json::json!({ "purged": n, "partition": partition }),
                ),
                Err(e) => json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &serde_json::json!({ "error": format!("nothing was purged: {e}") }),
                ),
            }
        }
        (&Method::GET | &Method::HEAD, "/status") => json(StatusCode::OK, &state.status_json()),
        (&Method::POST, "/reload") => {
            let ok = state.reload(Trigger::Admin).await;
            let status = if ok {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            json(status, &state.status_json())
        }
        (_, "/healthz" | "/metrics" | "/status" | "/reload" | "/cache" | "/cache/purge") => reply(
            StatusCode::METHOD_NOT_ALLOWED,
            text,
            b"method not allowed\n".to_vec(),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            text,
            b"not found: the admin endpoints are /healthz, /metrics, /status, /reload (POST), /cache and /cache/purge (POST)\n"
                .to_vec(),
        ),
    }
}

pub struct Metrics {
    registry: Registry,
    /// `sluice_requests_total{api, operation, status}`.
    pub requests: IntCounterVec,
    /// `sluice_request_duration_seconds{api}`.
    pub latency: HistogramVec,
    /// `sluice_reloads_total{outcome}`: `ok` or `error`.
    pub reloads: IntCounterVec,
    /// `sluice_plan_generation`.
    pub generation: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
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
        let reloads = IntCounterVec::new(
            Opts::new(
                "sluice_reloads_total",
                "Reloads of the configuration, by outcome",
            ),
            &["outcome"],
        )?;
        let generation = IntGauge::new(
            "sluice_plan_generation",
            "The generation of the plan serving (1 at start, +1 per successful reload)",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(reloads.clone()))?;
        registry.register(Box::new(generation.clone()))?;
        for outcome in ["ok", "error"] {
            reloads.with_label_values(&[outcome]);
        }
        Ok(Self {
            registry,
            requests,
            latency,
            reloads,
            generation,
        })
    }

    /// The Prometheus text exposition of every metric, with those of `more` registries.
    pub fn render(&self, more: &[&Registry]) -> Vec<u8> {
        let mut families = self.registry.gather();
        for r in more {
            families.extend(r.gather());
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&families, &mut out);
        out
    }
}

/// What `POST /cache/purge` deletes: `None`, everything (no query at all);
/// `Some(id)`, one partition (`?partition=ID`, hexadecimal, lower-cased).
/// Anything else is refused rather than read as "everything": a misspelt
/// parameter must not empty the cache.
fn purge_scope(query: Option<&str>) -> Result<Option<String>, String> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    let mut partition = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("partition", id)) if partition.is_none() => {
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(
                        "partition: the hexadecimal id the cache's status header reports"
                            .to_owned(),
                    );
                }
                partition = Some(id.to_ascii_lowercase());
            }
            Some(("partition", _)) => return Err("partition: given more than once".to_owned()),
            _ => {
                return Err(format!(
                    "unknown parameter `{pair}`: POST /cache/purge deletes everything, \
                     POST /cache/purge?partition=ID one partition"
                ));
            }
        }
    }
    Ok(partition)
}

#[cfg(test)]
mod tests {
    use super::purge_scope;

    #[test]
    fn purge_takes_everything_one_partition_or_refuses() {
        assert_eq!(purge_scope(None), Ok(None));
        assert_eq!(purge_scope(Some("")), Ok(None));
        assert_eq!(
            purge_scope(Some("partition=AB12")),
            Ok(Some("ab12".to_owned()))
        );
        for bad in [
            "partiton=ab12",
            "partition=ab12&all=1",
            "partition",
            "partition=",
            "partition=xyz",
            "partition=ab&partition=cd",
            "all",
        ] {
            let e = purge_scope(Some(bad)).unwrap_err();
            assert!(
                e.contains("partition") || e.contains("unknown"),
                "{bad}: {e}"
            );
        }
        assert!(
            purge_scope(Some("partiton=ab12"))
                .unwrap_err()
                .contains("unknown parameter `partiton=ab12`")
        );
    }
}
