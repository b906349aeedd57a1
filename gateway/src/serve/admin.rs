//! The admin listener (`[admin] listen`, loopback by default):
//!
//! - `GET /healthz`: 200 `ok` while the process serves; 503 `draining` once
//!   SIGTERM or SIGINT stopped the gateway listener (requests in flight
//!   finishing), so that a load balancer sends no more
//! - `GET /status`: JSON: plan generation, reload counts, the last reload's outcome and diagnostics
//! - `POST /reload`: reloads now; 200 with the status if the new plan serves, 422 if it was refused
//! - the routes of the resource families (`crate::resources`): `GET
//!   /metrics` (Prometheus text), `GET /cache` and `POST /cache/purge`
//!   (the semantic cache), ...
//!
//! With `[admin] token`, every route but `/healthz` (which load balancers
//! probe without credentials, and which tells nothing but up or draining)
//! asks for `Authorization: Bearer TOKEN`: 401 without it or with another
//! token, unknown paths included (the 404 lists the routes).
//!
//! and [`Metrics`], the server's own metrics (in the metrics family's
//! registry): reload outcomes and the plan generation.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use prometheus::{IntCounterVec, IntGauge, Opts, Registry};
use tokio::net::TcpListener;

use super::server::AcceptFailures;
use super::state::{Gateway, Trigger};
use crate::resources::AdminRequest;

/// Serves the admin listener. Failed accepts (out of descriptors) are
/// logged once per run of them, as the gateway listener's are.
pub async fn serve(listener: TcpListener, state: Arc<Gateway>) {
    let open = Arc::new(AtomicUsize::new(0));
    let mut failed = AcceptFailures::default();
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                failed
                    .failed(&e, "admin ", open.load(Ordering::Relaxed))
                    .await;
                continue;
            }
        };
        failed.succeeded("admin ");
        let open = Arc::clone(&open);
        open.fetch_add(1, Ordering::Relaxed);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(route(&state, req).await) }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
            open.fetch_sub(1, Ordering::Relaxed);
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
    let path = req.uri().path();
    if path != "/healthz"
        && let Some(token) = &state.current.load().admin_token
        && !bearer(&req).is_some_and(|given| token.matches(given))
    {
        let mut r = reply(
            StatusCode::UNAUTHORIZED,
            text,
            b"unauthorized: the admin endpoints need `Authorization: Bearer` and the `[admin] token`\n"
                .to_vec(),
        );
        r.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static("Bearer"),
        );
        return r;
    }
    match (req.method(), path) {
        (&Method::GET | &Method::HEAD, "/healthz") => {
            if state.draining.load(Ordering::Relaxed) {
                return reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    text,
                    b"draining\n".to_vec(),
                );
            }
            return reply(StatusCode::OK, text, b"ok\n".to_vec());
        }
        (&Method::GET | &Method::HEAD, "/status") => {
            return json(StatusCode::OK, &state.status_json());
        }
        (&Method::POST, "/reload") => {
            let ok = state.reload(Trigger::Admin).await;
            let status = if ok {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return json(status, &state.status_json());
        }
        (_, "/healthz" | "/status" | "/reload") => return not_allowed(),
        _ => {}
    }
    let Some((family, r)) = state.families.route(path) else {
        let mut routes = vec!["/healthz", "/status", "/reload (POST)"];
        routes.extend(state.families.routes().map(|r| r.path));
        let body = format!("not found: the admin endpoints are {}\n", routes.join(", "));
        return reply(StatusCode::NOT_FOUND, text, body.into_bytes());
    };
    if !r.methods.contains(&req.method().as_str()) {
        return not_allowed();
    }
    let answer = family
        .admin(AdminRequest {
            method: req.method(),
            path,
            query: req.uri().query(),
            now_ms: super::client::now_ms(),
        })
        .await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    reply(status, answer.content_type, answer.body)
}

/// The token of an `Authorization: Bearer TOKEN` header (the scheme in any case).
fn bearer<B>(req: &hyper::Request<B>) -> Option<&[u8]> {
    let value = req.headers().get(hyper::header::AUTHORIZATION)?.as_bytes();
    let (scheme, rest) = value.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    Some(rest.trim_ascii())
}

fn not_allowed() -> hyper::Response<Full<Bytes>> {
    reply(
        StatusCode::METHOD_NOT_ALLOWED,
        "text/plain; charset=utf-8",
        b"method not allowed\n".to_vec(),
    )
}

pub struct Metrics {
    /// `sluice_reloads_total{outcome}`: `ok` or `error`.
    pub reloads: IntCounterVec,
    /// `sluice_plan_generation`.
    pub generation: IntGauge,
}

impl Metrics {
    /// The server's metrics, registered in `registry` (the metrics family's).
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
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
        registry.register(Box::new(reloads.clone()))?;
        registry.register(Box::new(generation.clone()))?;
        for outcome in ["ok", "error"] {
            reloads.with_label_values(&[outcome]);
        }
        Ok(Self {
            reloads,
            generation,
        })
    }
}
