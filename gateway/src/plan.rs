//! The plan: everything a running gateway needs, compiled once from a loaded
//! configuration and never changed (a reload builds a new one). It routes a
//! request, checks its subscription, and runs the effective policy of its
//! operation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use bytes::Bytes;

use sluice_engine::compile::Compiler;
use sluice_engine::compose::{Layer, effective};
use sluice_engine::diag::{Diagnostics, Severity};
use sluice_engine::doc::value::NamedValues;
use sluice_engine::doc::{LoadOptions, PolicyDocument, load};
use sluice_engine::runtime::{
    BackendEntity, Block, Body, BodyStream, CompileCx, Context, ContextData, Exchange, Message,
    MessageRef, Multimap, Pipeline, Record, Services, Streaming, Url, collect, default_error_body,
    execute, reason_phrase,
};
use sluice_engine::schema::{Scope, Section};
use sluice_engine::source::Source;
use sluice_stdlib::Limits;

use crate::config::Loaded;
use crate::route::{UrlTemplate, api_for};

/// APIM's default global policy: forward every request.
const DEFAULT_GLOBAL: &str =
    "<policies><inbound/><backend><forward-request/></backend><outbound/><on-error/></policies>";

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
    operations: Vec<OperationPlan>,
    /// `context.Api`.
    record: Record,
}

impl ApiPlan {
    /// The URL's query as pairs, for templates that name query parameters
    /// (empty, without copying anything, when none does).
    fn query_pairs(&self, url: &Url) -> Vec<(String, String)> {
        if !self.operations.iter().any(|o| o.template.has_query()) {
            return Vec::new();
        }
        url.query
            .0
            .iter()
            .flat_map(|(k, vs)| vs.iter().map(move |v| (k.to_string(), v.clone())))
            .collect()
    }
}

#[derive(Debug)]
struct SubscriptionPlan {
    product: Option<String>,
    /// `context.Subscription` (with the key it is found by) and `context.User`.
    record: Record,
    user: Option<Record>,
    /// `context.Product` when the product's policy applies.
    product_record: Option<Record>,
}

/// A compiled configuration.
pub struct Plan {
    pub engine: Arc<rhai::Engine>,
    pub limits: Limits,
    apis: Vec<ApiPlan>,
    api_paths: Vec<String>,
    subscriptions: HashMap<String, SubscriptionPlan>,
    product_apis: BTreeMap<String, BTreeSet<String>>,
    pub backends: BTreeMap<String, BackendEntity>,
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
}

/// The answer to the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Multimap,
    pub body: Bytes,
}

fn error_response(status: u16, message: &str) -> Response {
    let mut headers = Multimap::default();
    headers.set_one("Content-Type", "application/json".into());
    Response {
        status,
        reason: reason_phrase(status).into(),
        headers,
        body: default_error_body(status, message),
    }
}

impl Plan {
    /// Compiles every operation's effective policy (per product that contains its API).
    pub fn build(
        loaded: &Loaded,
        engine: Arc<rhai::Engine>,
        limits: Limits,
        factory: &sluice_policies::Registry,
    ) -> Result<Plan, Diagnostics> {
        let compiler = Compiler::new(&engine);
        let named = NamedValues::Known(loaded.named.clone());
        let mut diags = Diagnostics::new();
        let default_global;
        let global = match &loaded.global {
            Some(g) => Some(g),
            None => {
                let (doc, d) = load(
                    &Source::new("global", DEFAULT_GLOBAL),
                    &LoadOptions::default(),
                );
                diags.extend(d);
                default_global = doc;
                default_global.as_ref()
            }
        };
        let mut product_apis: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for p in &loaded.config.products {
            let p = p.get_ref();
            product_apis.insert(
                p.name.get_ref().clone(),
                p.apis.iter().map(|a| a.get_ref().clone()).collect(),
            );
        }
        let mut apis = Vec::new();
        for a in &loaded.config.apis {
            let a = a.get_ref();
            let name = a.name.get_ref().clone();
            let (api_doc, op_docs) = loaded
                .apis
                .get(&name)
                .map_or((None, None), |(d, o)| (d.as_ref(), Some(o)));
            let products: Vec<Option<String>> = std::iter::once(None)
                .chain(
                    product_apis
                        .iter()
                        .filter(|(_, apis)| apis.contains(&name))
                        .map(|(p, _)| Some(p.clone())),
                )
                .collect();
            let mut ops: Vec<(String, String, String, Option<&PolicyDocument>)> = a
                .operations
                .iter()
                .map(|o| {
                    let o = o.get_ref();
                    let doc = op_docs
                        .and_then(|d| d.get(o.name.get_ref()))
                        .and_then(Option::as_ref);
                    (
                        o.name.get_ref().clone(),
                        o.method.get_ref().to_ascii_uppercase(),
                        o.url_template.get_ref().clone(),
                        doc,
                    )
                })
                .collect();
            if ops.is_empty() {
                ops.push(("*".into(), "*".into(), "/{*path}".into(), None));
            }
            let mut operations = Vec::new();
            for (op_name, method, template, op_doc) in ops {
                let mut pipelines = HashMap::new();
                for product in &products {
                    let product_doc = product
                        .as_ref()
                        .and_then(|p| loaded.products.get(p))
                        .and_then(Option::as_ref);
                    let layers = [
                        Layer {
                            scope: Scope::Global,
                            doc: global,
                        },
                        Layer {
                            scope: Scope::Product,
                            doc: if product.is_some() { product_doc } else { None },
                        },
                        Layer {
                            scope: Scope::Api,
                            doc: api_doc,
                        },
                        Layer {
                            scope: Scope::Operation,
                            doc: op_doc,
                        },
                    ];
                    // Without a product, the product layer is absent altogether (not inherited through).
                    let layers: Vec<Layer<'_>> = layers
                        .into_iter()
                        .filter(|l| product.is_some() || l.scope != Scope::Product)
                        .collect();
                    let eff = effective(&layers, &loaded.fragments);
                    let mut pipeline = Pipeline::default();
                    for section in Section::ALL {
                        let mut entries = Vec::new();
                        for st in eff.section(section) {
                            let mut cx = CompileCx {
                                source: Arc::clone(&st.source),
                                section,
                                scope: st.scope,
                                compiler: &compiler,
                                named: &named,
                                fragments: &loaded.fragments,
                                factory,
                                diags: Diagnostics::new(),
                                api: Some(&name),
                            };
                            cx.statement(&st.element, &mut entries);
                            diags.extend(cx.diags);
                        }
                        let block = Block(entries);
                        match section {
                            Section::Inbound => pipeline.inbound = block,
                            Section::Backend => pipeline.backend = block,
                            Section::Outbound => pipeline.outbound = block,
                            Section::OnError => pipeline.on_error = block,
                        }
                    }
                    pipeline.stream_response =
                        !bodies::reads_response_body(&eff, &loaded.fragments, &loaded.named);
                    pipeline.stream_request =
                        !bodies::reads_request_body(&eff, &loaded.fragments, &loaded.named);
                    pipelines.insert(product.clone(), pipeline);
                }
                operations.push(OperationPlan {
                    record: Record::new("IOperation")
                        .with("Id", op_name.clone())
                        .with("Name", op_name.clone())
                        .with("Method", method.clone())
                        .with("UrlTemplate", template.clone()),
                    name: op_name,
                    method,
                    template: UrlTemplate::parse(&template),
                    pipelines,
                });
            }
            let prefix = format!("/{}", a.path.get_ref().trim_matches('/'));
            apis.push(ApiPlan {
                record: Record::new("IApi")
                    .with("Id", name.clone())
                    .with("Name", name.clone())
                    .with("Path", prefix.trim_start_matches('/').to_owned()),
                name,
                prefix: prefix.into(),
                service_url: a
                    .service_url
                    .as_ref()
                    .map_or_else(|| "".into(), |u| u.get_ref().as_str().into()),
                subscription_required: a.subscription_required,
                operations,
            });
        }
        if diags.iter().any(|d| d.severity == Severity::Error) {
            return Err(diags.sorted());
        }
        let subscriptions = loaded
            .config
            .subscriptions
            .iter()
            .map(|s| {
                let s = s.get_ref();
                let (id, key) = (s.id.get_ref(), s.key.get_ref());
                let product = s.product.as_ref().map(|p| p.get_ref().clone());
                (
                    key.clone(),
                    SubscriptionPlan {
                        record: Record::new("ISubscription")
                            .with("Id", id.clone())
                            .with("Name", id.clone())
                            .with("Key", key.clone()),
                        user: s.user.clone().map(|u| Record::new("IUser").with("Id", u)),
                        product_record: product.clone().map(|p| {
                            Record::new("IProduct")
                                .with("Id", p.clone())
                                .with("Name", p)
                        }),
                        product,
                    },
                )
            })
            .collect();
        let backends = loaded
            .config
            .backends
            .iter()
            .map(|(id, b)| {
                let b = b.get_ref();
                let entity = BackendEntity {
                    url: b
                        .url
                        .as_ref()
                        .map(|u| u.get_ref().clone())
                        .unwrap_or_default(),
                    headers: b
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    timeout_ms: b.timeout.map(|s| s.saturating_mul(1000)),
                };
                (id.clone(), entity)
            })
            .collect();
        let api_paths = apis.iter().map(|a| a.prefix.to_string()).collect();
        Ok(Plan {
            engine,
            limits,
            apis,
            api_paths,
            subscriptions,
            product_apis,
            backends,
        })
    }

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

    /// [`Plan::handle_with_body`], also telling where the request was routed.
    pub async fn handle_routed(
        &self,
        mut req: Request,
        body: Option<BodyStream>,
        services: Arc<dyn Services>,
    ) -> (Response, Option<BodyStream>, Route<'_>) {
        let no_route = Route::default();
        let Some(url) = Url::parse(&req.url) else {
            let r = error_response(400, "The request URL is not valid.");
            return (r, None, no_route);
        };
        let no_match = || error_response(404, "Unable to match incoming request to an operation.");
        let Some((api_index, rest)) = api_for(&self.api_paths, &url.path) else {
            return (no_match(), None, no_route);
        };
        let Some(api) = self.apis.get(api_index) else {
            return (no_match(), None, no_route);
        };
        let mut route = Route {
            api: &api.name,
            operation: "",
        };
        // The request's span (server.rs) carries the route, once known, into
        // the pipeline's events.
        let span = tracing::Span::current();
        span.record("api", route.api);
        let query = api.query_pairs(&url);
        let mut method = std::mem::take(&mut req.method);
        method.make_ascii_uppercase();
        // A CORS preflight also matches the operation of the request it
        // announces (an OPTIONS operation wins), so that `cors` can answer it.
        let preflight = (method == "OPTIONS" && req.headers.get("Origin").is_some())
            .then(|| {
                req.headers
                    .get("Access-Control-Request-Method")?
                    .first()
                    .cloned()
            })
            .flatten()
            .map(|m| m.trim().to_ascii_uppercase());
        let best = api
            .operations
            .iter()
            .filter(|o| {
                o.method == "*" || o.method == method || preflight.as_ref() == Some(&o.method)
            })
            .filter_map(|o| {
                o.template
                    .matches(rest, &query)
                    .map(|(params, score)| (o, params, score))
            })
            .max_by(|a, b| (a.0.method == method, &a.2).cmp(&(b.0.method == method, &b.2)));
        let Some((op, params, _)) = best else {
            return (no_match(), None, route);
        };
        route.operation = &op.name;
        span.record("operation", route.operation);
        // Browsers send no credentials with a preflight: it needs no key (as in APIM).
        let preflight = preflight.is_some() && op.method != "OPTIONS";
        // Subscription: header, else query.
        let key = req
            .headers
            .get("Ocp-Apim-Subscription-Key")
            .and_then(|v| v.first().cloned())
            .or_else(|| {
                url.query
                    .get("subscription-key")
                    .and_then(|v| v.first().cloned())
            });
        let subscription = key.as_ref().and_then(|k| self.subscriptions.get(k));
        if api.subscription_required && !preflight {
            match (&key, subscription) {
                (None, _) => {
                    return (
                        error_response(
                            401,
                            "Access denied due to missing subscription key. Make sure to include subscription key when making requests to this API.",
                        ),
                        None,
                        route,
                    );
                }
                (Some(_), None) => {
                    return (
                        error_response(
                            401,
                            "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
                        ),
                        None,
                        route,
                    );
                }
                _ => {}
            }
        }
        // The subscription's product applies when it includes this API.
        let product = subscription.filter(|s| {
            s.product.as_ref().is_some_and(|p| {
                self.product_apis
                    .get(p)
                    .is_some_and(|apis| apis.contains(&api.name))
            })
        });
        let Some(pipeline) = op.pipelines.get(&product.and_then(|s| s.product.clone())) else {
            return (error_response(500, "Internal server error"), None, route);
        };
        let request_body = match body {
            Some(s) if pipeline.stream_request => Some(s),
            Some(s) => match collect(s).await {
                Ok(bytes) => {
                    req.body = bytes;
                    None
                }
                Err(_) => {
                    let r = error_response(400, "The request body could not be read.");
                    return (r, None, route);
                }
            },
            None => None,
        };
        // A streamed body is not in the context; no policy reads it.
        let streamed = request_body.is_some();
        let no_body = streamed || req.body.is_empty() && matches!(method.as_str(), "GET" | "HEAD");
        let ctx = Context::new(ContextData {
            request: MessageRef::new(Message {
                method,
                url: url.clone(),
                original_url: url,
                headers: req.headers,
                body: if no_body {
                    None
                } else {
                    Some(Body {
                        bytes: req.body,
                        consumed: false,
                    })
                },
                ip: req.ip,
                matched: params,
                ..Message::default()
            }),
            response: MessageRef::new(Message {
                status: 200,
                reason: "OK".into(),
                ..Message::default()
            }),
            api: Some(api.record.clone()),
            operation: Some(op.record.clone()),
            product: product.and_then(|s| s.product_record.clone()),
            subscription: subscription.map(|s| s.record.clone()),
            user: subscription.and_then(|s| s.user.clone()),
            request_id: new_request_id(),
            timestamp_ms: services.now_ms(),
            ..ContextData::default()
        });
        let mut x = Exchange {
            ctx,
            services,
            engine: Arc::clone(&self.engine),
            limits: self.limits,
            backend_url: api.service_url.clone(),
            backend_headers: Vec::new(),
            api_prefix: api.prefix.clone(),
            section: Section::Inbound,
            path: Vec::new(),
            streaming: Streaming {
                response: pipeline.stream_response,
                response_body: None,
                request_body,
            },
            cache_state: None,
        };
        execute(pipeline, &mut x).await;
        // The request is over: the response leaves the context.
        let response = x.response().write(|m| Response {
            status: u16::try_from(m.status).unwrap_or(500),
            reason: std::mem::take(&mut m.reason),
            headers: std::mem::take(&mut m.headers),
            body: m.body.take().map(|b| b.bytes).unwrap_or_default(),
        });
        (response, x.streaming.response_body.take(), route)
    }
}

/// The API and operation a request was routed to (empty when none): the
/// labels of the gateway's metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Route<'p> {
    pub api: &'p str,
    pub operation: &'p str,
}

impl Plan {
    /// The API a request is routed to and, if one matches, its operation,
    /// without running it (the labels of a request the server refused
    /// before the plan saw it).
    pub fn route_names(&self, method: &str, url: &str) -> Option<(&str, Option<&str>)> {
        let url = Url::parse(url)?;
        let (api_index, rest) = api_for(&self.api_paths, &url.path)?;
        let api = self.apis.get(api_index)?;
        let query = api.query_pairs(&url);
        let method = method.to_ascii_uppercase();
        let op = api
            .operations
            .iter()
            .filter(|o| o.method == "*" || o.method == method)
            .filter_map(|o| {
                o.template
                    .matches(rest, &query)
                    .map(|(_, score)| (o, score))
            })
            .max_by(|a, b| a.1.cmp(&b.1))
            .map(|(o, _)| o.name.as_str());
        Some((api.name.as_str(), op))
    }
}

/// A version-4 GUID (`context.RequestId`). The id must be unique, not secret:
/// its random bits come from a per-thread SplitMix64 generator seeded once
/// from the operating system, not from a system call per request.
fn new_request_id() -> uuid::Uuid {
    thread_local! {
        static STATE: std::cell::Cell<u64> = std::cell::Cell::new(seed());
    }
    fn seed() -> u64 {
        // Once per thread.
        let r = uuid::Uuid::new_v4().as_u128();
        (r as u64) ^ ((r >> 64) as u64)
    }
    fn next(state: &std::cell::Cell<u64>) -> u64 {
        let s = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    let (hi, lo) = STATE.with(|s| (next(s), next(s)));
    let bytes = ((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes();
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

mod bodies;

#[cfg(test)]
mod tests;
