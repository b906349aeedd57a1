//! The plan: everything a running gateway needs, compiled once from a loaded
//! configuration and never changed (a reload builds a new one). It routes a
//! request, checks its subscription, and runs the effective policy of its
//! operation.
//!
//! - `plan.rs`: the plan's parts, requests and responses, and running a
//!   request as a sequence of steps ([`Plan::handle_routed`])
//! - `build.rs`: [`Plan::build`], compiling every operation's pipelines
//! - `routing.rs`: the API by path, then the operation by method and URL
//!   template (one rule for running a request and for its metrics' labels)
//! - `template.rs`: URL templates, matched and scored
//! - `subscriptions.rs`: the subscription key, the 401 answers, the product whose policy applies
//! - `context.rs`: the request body, the exchange a pipeline runs on, the response out of it
//! - `bodies.rs`: whether a pipeline reads the request or response body (else they stream)

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use bytes::Bytes;

use sluice_engine::runtime::{
    BackendEntity, BodyStream, DefaultError, Multimap, Pipeline, Record, Services, Url, collect,
    default_error, execute,
};
use sluice_stdlib::Limits;

use self::context::Target;
use self::routing::Routed;
use self::template::UrlTemplate;

mod bodies;
mod compile;
mod context;
mod routing;
mod subscriptions;
pub mod template;

#[derive(Debug)]
struct OperationPlan {
    name: String,
    /// `*` for the implicit operation of an API that lists none.
    method: String,
    template: UrlTemplate,
    /// By the product whose policy applies (`None`: no product).
    pipelines: HashMap<Option<String>, Pipeline>,
    /// `context.Operation` (records share their fields: built once here).
    record: Record,
}

#[derive(Debug)]
struct ApiPlan {
    name: String,
    prefix: Arc<str>,
    service_url: Arc<str>,
    subscription_required: bool,
    /// Where the subscription key is read: header, then query parameter.
    key_header: String,
    key_query: String,
    /// The version this API answers to (`None`: the path alone selects it).
    version: Option<VersionPlan>,
    operations: Vec<OperationPlan>,
    /// `context.Api`.
    record: Record,
}

/// A version selected by a header or a query parameter.
#[derive(Debug)]
enum VersionPlan {
    Header(String, String),
    Query(String, String),
}

#[derive(Debug)]
struct SubscriptionPlan {
    product: Option<String>,
    /// Scoped to this API alone.
    api: Option<String>,
    /// `context.Subscription` (with the key it is found by) and `context.User`.
    record: Record,
    user: Option<Record>,
}

/// A product whose policy applies to a request.
#[derive(Debug)]
struct ProductPlan {
    /// `Some(name)`: what its pipelines are keyed by.
    key: Option<String>,
    /// `context.Product`.
    record: Record,
}

/// A compiled configuration.
pub struct Plan {
    pub engine: Arc<rhai::Engine>,
    pub limits: Limits,
    apis: Vec<ApiPlan>,
    api_paths: Vec<String>,
    subscriptions: HashMap<String, SubscriptionPlan>,
    product_apis: BTreeMap<String, BTreeSet<String>>,
    /// By product name.
    products: HashMap<String, ProductPlan>,
    /// By API name: the open product (`subscription-required = false`) it is in.
    open_products: HashMap<String, String>,
    pub backends: BTreeMap<String, BackendEntity>,
    /// The global policy's `cross-domain` file, served at `/crossdomain.xml`.
    cross_domain: Option<Bytes>,
    /// `context.Deployment` (APIM always has one: an expression may read
    /// its `Region`; its `Certificates` are the `[certificates.ID]`).
    deployment: Record,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("apis", &self.apis)
            .finish_non_exhaustive()
    }
}

/// A request as the gateway received it.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    /// Absolute: `http://host/echo/x?y=1`.
    pub url: String,
    pub headers: Multimap,
    pub body: Bytes,
    pub ip: String,
    /// The client's TLS certificate, if it sent one.
    pub certificate: Option<sluice_stdlib::X509Certificate2>,
}

/// The answer to the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Multimap,
    pub body: Bytes,
}

impl Response {
    /// The gateway's own error answer ([`default_error`]): JSON
    /// `{"statusCode":N,"message":"..."}`.
    pub fn error(status: u16, message: &str) -> Response {
        default_error(status, message).into()
    }
}

impl From<DefaultError> for Response {
    fn from(e: DefaultError) -> Response {
        Response {
            status: e.status,
            reason: e.reason.into(),
            headers: e.headers,
            body: e.body,
        }
    }
}

/// The API and operation a request was routed to (empty when none): the
/// labels of the gateway's metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Route<'p> {
    pub api: &'p str,
    pub operation: &'p str,
}

const NO_MATCH: &str = "Unable to match incoming request to an operation.";

impl Plan {
    /// Runs one request through the gateway; the response body is read whole.
    pub async fn handle(&self, req: Request, services: Arc<dyn Services>) -> Response {
        let (mut response, stream) = self.handle_streaming(req, services).await;
        if let Some(s) = stream {
            // What arrived before a broken stream is all there is.
            match collect(s).await {
                Ok(body) => response.body = body,
                Err(_) => response.body.clear(),
            }
        }
        response
    }

    /// Runs one request through the gateway. When no policy reads the
    /// response body, the backend's body comes back as a stream (and
    /// `Response::body` is empty), to be passed to the client as it arrives.
    pub async fn handle_streaming(
        &self,
        req: Request,
        services: Arc<dyn Services>,
    ) -> (Response, Option<BodyStream>) {
        self.handle_with_body(req, None, services).await
    }

    /// Like [`Plan::handle_streaming`], but the request body is `body` (not
    /// read yet) instead of `Request::body`, when given. The request is
    /// routed first; then, when no policy of the pipeline reads the request
    /// body, it goes to the backend as it arrives, else it is read whole
    /// (a stream that fails gives 400; the server turns that into 413 when
    /// it failed on the size limit).
    pub async fn handle_with_body(
        &self,
        req: Request,
        body: Option<BodyStream>,
        services: Arc<dyn Services>,
    ) -> (Response, Option<BodyStream>) {
        let (response, stream, _) = self.handle_routed(req, body, services).await;
        (response, stream)
    }

    /// [`Plan::handle_with_body`], also telling where the request was routed:
    /// route, subscription, body, context, execute, response.
    pub async fn handle_routed(
        &self,
        mut req: Request,
        body: Option<BodyStream>,
        services: Arc<dyn Services>,
    ) -> (Response, Option<BodyStream>, Route<'_>) {
        let Some(url) = Url::parse(&req.url) else {
            let r = Response::error(400, "The request URL is not valid.");
            return (r, None, Route::default());
        };
        req.method.make_ascii_uppercase();
        if let Some(doc) = &self.cross_domain
            && url.path == "/crossdomain.xml"
            && matches!(req.method.as_str(), "GET" | "HEAD")
        {
            let mut headers = Multimap::default();
            headers.set_one("Content-Type", "text/x-cross-domain-policy".to_owned());
            let r = Response {
                status: 200,
                reason: "OK".into(),
                headers,
                body: if req.method == "HEAD" {
                    Bytes::new()
                } else {
                    doc.clone()
                },
            };
            return (r, None, Route::default());
        }
        let preflight = routing::preflight(&req.method, &req.headers);
        let Some(routed) = self.route(&req.method, &url, &req.headers, preflight) else {
            return (Response::error(404, NO_MATCH), None, Route::default());
        };
        let route = routed.names();
        // The request's span (server.rs) carries the route, once known, into
        // the pipeline's events.
        let span = tracing::Span::current();
        if !span.is_disabled() {
            span.record("api", route.api);
            span.record("operation", route.operation);
        }
        let Routed {
            api,
            operation: Some((op, params)),
        } = routed
        else {
            return (Response::error(404, NO_MATCH), None, route);
        };
        // A preflight for an operation of its own (`OPTIONS`) is an ordinary request.
        let preflight = preflight.is_some() && op.method != "OPTIONS";
        let subscriber = match self.subscriber(api, &req.headers, &url, preflight) {
            Ok(s) => s,
            Err(r) => return (r, None, route),
        };
        let Some(pipeline) = subscriber.pipeline(op) else {
            return (Response::error(500, "Internal server error"), None, route);
        };
        let request_body = match context::read_body(pipeline, body, &mut req.body).await {
            Ok(b) => b,
            Err(r) => return (r, None, route),
        };
        let target = Target {
            api,
            op,
            params,
            subscriber,
            pipeline,
        };
        let mut x = self.exchange(req, url, target, request_body, services);
        execute(pipeline, &mut x).await;
        let (response, stream) = context::response(&mut x);
        (response, stream, route)
    }
}

#[cfg(test)]
mod tests;
