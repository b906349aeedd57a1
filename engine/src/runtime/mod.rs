//! Running compiled policies: the [`Stage`] trait, the per-request
//! [`Exchange`], compiled values, and the executor of a [`Pipeline`].
//!
//! - `mod.rs`: stages, exchanges, services, errors
//! - `value.rs`: [`CompiledValue`], a literal or a compiled expression
//! - `error.rs`: [`PolicyError`] and its [`Reason`], [`CallError`]: runtime failures and their causes
//! - `compile.rs`: [`CompileCx`], turning policy elements into stages through a [`StageFactory`]
//! - `typemap.rs`: [`Resources`] (what outlives a plan, by type) and [`Extensions`] (a request's state, by type)
//! - `exec.rs`: the sections in order, `on-error`, ending the pipeline, default error responses
//! - `stream.rs`: bodies passed through unbuffered ([`BodyStream`], [`Streaming`])
//!
//! Stages are as simple as they can be: [`Run::Done`] when they only touch
//! the context, [`Run::Later`] (a boxed future) only for I/O.

mod certs;
mod compile;
mod error;
mod exec;
mod stream;
mod typemap;
mod value;

use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use certs::{
    BackendCertificate, Certificates, ClientIdentity, StoredCertificate, Trust, normalize_hex,
};
pub use compile::{
    Bodies, CompileCx, Compiled, PipelineCx, Reported, StageFactory, compile_pipeline,
};
pub use error::{CallError, Cause, PolicyError, Reason, error_chain};
pub use exec::{
    Block, DefaultError, Entry, Pipeline, default_error, execute, reason_phrase, run_block,
    run_entries,
};
pub use sluice_stdlib::context::{
    Body, Context, ContextData, LastError, Message, MessageRef, Multimap, Record, Url, Values,
};
pub use stream::{BodyStream, Streaming, collect};
pub use typemap::{Extensions, Resources};
pub use value::CompiledValue;

use crate::schema::Section;

/// What a stage tells the executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next policy.
    Next,
    /// The response is final (`return-response`, `mock-response`): no later policy or section runs.
    End,
    /// The response is ready without the backend (a semantic-cache hit): the
    /// rest of inbound and the backend section are skipped, outbound runs.
    Answered,
}

pub type StageResult = Result<Flow, PolicyError>;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A stage's answer: at once, or after I/O.
pub enum Run<'a> {
    Done(StageResult),
    Later(BoxFuture<'a, StageResult>),
}

impl Run<'_> {
    pub fn next() -> Self {
        Run::Done(Ok(Flow::Next))
    }

    pub fn fail(e: PolicyError) -> Self {
        Run::Done(Err(e))
    }

    /// At once: go on when `r` is `Ok`, else fail with its error (a stage
    /// that only changes the context).
    pub fn done(r: Result<(), PolicyError>) -> Self {
        Run::Done(r.map(|()| Flow::Next))
    }
}

/// One compiled policy.
pub trait Stage: Send + Sync + std::fmt::Debug {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a>;
}

/// An HTTP call the gateway makes: the backend (`forward-request`), `send-request`, embeddings.
#[derive(Clone, Debug, Default)]
pub struct OutboundRequest {
    pub method: String,
    pub url: String,
    pub headers: Multimap,
    pub body: Bytes,
    /// Milliseconds to wait for the response headers.
    pub timeout_ms: u64,
    pub purpose: Purpose,
    /// The client certificate to present (`authentication-certificate`).
    pub client_certificate: Option<Arc<ClientIdentity>>,
    /// The HTTP proxy to send it through (the `proxy` policy, or a backend
    /// entity's `proxy`).
    pub proxy: Option<OutboundProxy>,
    /// Which checks the server's TLS certificate goes through (a backend
    /// entity's `tls`; both by default).
    pub tls: TlsChecks,
}

/// The checks of a server's TLS certificate on an outbound call: its chain
/// up to a trusted root (with its validity dates), and its name against
/// the host called. A backend entity's `tls = { validate-certificate-chain,
/// validate-certificate-name }` turns them off; both are on by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TlsChecks {
    pub chain: bool,
    pub name: bool,
}

impl Default for TlsChecks {
    fn default() -> Self {
        Self {
            chain: true,
            name: true,
        }
    }
}

/// An HTTP proxy for outbound calls (the `proxy` policy): `http://host:port`
/// and Basic credentials. `Debug` never shows the password.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct OutboundProxy {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for OutboundProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundProxy")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Purpose {
    #[default]
    Backend,
    SendRequest,
    Embeddings,
}

#[derive(Clone, Debug, Default)]
pub struct InboundResponse {
    pub status: u16,
    pub reason: String,
    pub headers: Multimap,
    pub body: Bytes,
}

/// A backend entity of the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackendEntity {
    pub url: String,
    /// Credential headers, in order; a name given several values appears
    /// once per value.
    pub headers: Vec<(String, String)>,
    pub timeout_ms: Option<u64>,
    /// Credential query parameters added to every call, in order.
    pub query: Vec<(String, String)>,
    /// `Authorization: {scheme} {parameter}` on every call.
    pub authorization: Option<(String, String)>,
    /// The `[certificates.ID]` entries presented to the backend (the first
    /// one: a TLS client shows one certificate).
    pub certificates: Vec<String>,
    /// A token of the gateway's identity sent as `Authorization: Bearer`.
    pub managed_identity: Option<BackendIdentity>,
    /// `type = "pool"`: the members (empty for a single backend).
    pub pool: Vec<PoolMember>,
    /// `[backends.ID.circuit-breaker]`.
    pub breaker: Option<BreakerRule>,
    /// A pool's `session-affinity`: the name of the cookie that keeps a
    /// client's session on one member.
    pub affinity_cookie: Option<String>,
    /// `azure-region` (`context.Backend.AzureRegion`).
    pub azure_region: Option<String>,
    /// `tls = { validate-certificate-chain, validate-certificate-name }`.
    pub tls: TlsChecks,
    /// `proxy = { url, username, password }`: calls to it go through this
    /// HTTP proxy (a `proxy` policy wins).
    pub proxy: Option<OutboundProxy>,
}

impl BackendEntity {
    pub fn is_pool(&self) -> bool {
        !self.pool.is_empty()
    }
}

/// A member of a backend pool.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolMember {
    pub id: String,
    /// Lower numbers are tried first (default 0).
    pub priority: u32,
    /// The member's share within its priority group (default 1).
    pub weight: u32,
}

/// A backend's circuit-breaker rule (APIM allows one).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BreakerRule {
    /// Trip after this many failures within the interval.
    pub failure_count: Option<u32>,
    /// Trip when this percentage of the interval's calls failed.
    pub failure_percentage: Option<u32>,
    pub interval_ms: u64,
    /// Statuses that count as failures (inclusive ranges).
    pub status_ranges: Vec<(u16, u16)>,
    /// Whether a call that got no answer (connection failure, timeout) counts.
    pub count_errors: bool,
    pub trip_ms: u64,
    /// Stay open at least for the backend's `Retry-After` (capped).
    pub accept_retry_after: bool,
}

/// `managed-identity = { resource, client-id }` of a backend entity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackendIdentity {
    pub resource: String,
    /// A user-assigned identity (`None`: the gateway's own).
    pub client_id: Option<String>,
}

/// The backend entity `set-backend-service backend-id` chose: its
/// credentials go to every `forward-request` until another
/// `set-backend-service` (an [`Extensions`] entry).
#[derive(Clone, Debug)]
pub struct SelectedBackend {
    pub id: String,
    pub entity: BackendEntity,
}

/// The configuration's backend entities by id: the backends family's
/// resource (stages that name a backend check it when they compile).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Backends(pub std::collections::BTreeMap<String, BackendEntity>);

impl Backends {
    pub fn get(&self, id: &str) -> Option<&BackendEntity> {
        self.0.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.contains_key(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// What the gateway (or the conformance runner) provides to stages: the
/// clock, outbound HTTP, backend entities.
pub trait Services: Send + Sync {
    /// The gateway clock, in milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>>;
    /// Like [`Services::call`], but the answer's body may come as a stream
    /// (then `body` is empty): it returns after the response headers. The
    /// default reads the body whole, as `call` does.
    fn call_streaming(
        &self,
        req: OutboundRequest,
    ) -> BoxFuture<'_, Result<(InboundResponse, Option<BodyStream>), CallError>> {
        Box::pin(async move { self.call(req).await.map(|r| (r, None)) })
    }
    /// Sends `req` with `body` (the client's, not read yet) instead of
    /// `req.body`; the answer as [`Services::call_streaming`] gives it when
    /// `stream_response`, else whole. The default reads the body first, so
    /// a `Services` that does not stream keeps working unchanged.
    fn call_with_body(
        &self,
        mut req: OutboundRequest,
        body: BodyStream,
        stream_response: bool,
    ) -> BoxFuture<'_, Result<(InboundResponse, Option<BodyStream>), CallError>> {
        Box::pin(async move {
            req.body = collect(body).await?;
            if stream_response {
                self.call_streaming(req).await
            } else {
                self.call(req).await.map(|r| (r, None))
            }
        })
    }
    fn backend(&self, id: &str) -> Option<BackendEntity>;
    /// Waits (on the virtual clock in tests).
    fn sleep(&self, ms: u64) -> BoxFuture<'_, ()>;
    /// Runs `work`, synchronous and possibly long (an expression known to
    /// run long, a large body converted), so that it does not hold up the
    /// other requests of this thread: the gateway hands its worker's other
    /// connections to another thread first (docs/gateway.md, "Slow
    /// requests"). The default runs it in place.
    fn offload(&self, work: &mut dyn FnMut()) {
        work();
    }
}

/// A body at least this large is converted (`json-to-xml`, `xml-to-json`,
/// `find-and-replace`) through [`Services::offload`].
pub const OFFLOAD_BODY_BYTES: usize = 256 * 1024;

/// Everything one request carries through the pipeline.
pub struct Exchange {
    pub ctx: Context,
    pub services: Arc<dyn Services>,
    pub engine: Arc<rhai::Engine>,
    pub limits: sluice_stdlib::Limits,
    /// The backend base URL requests are forwarded to (API `service-url`, or `set-backend-service`).
    /// Shared with the plan (a request that keeps it copies nothing).
    pub backend_url: Arc<str>,
    /// Headers of the backend entity chosen by `set-backend-service backend-id`.
    pub backend_headers: Vec<(String, String)>,
    /// The API's path suffix (`/echo`): the part of `context.Request.Url.Path`
    /// that is not sent to the backend.
    pub api_prefix: Arc<str>,
    pub section: Section,
    /// Where the running policy stands, as `choose[2]/when[1]/set-header[1]`.
    pub path: Vec<Arc<str>>,
    /// Whether the response body may stream, and the stream once the backend answered.
    pub streaming: Streaming,
    /// What a policy leaves for a later one of the same request, one value
    /// per type (a semantic-cache lookup's result for its store policy).
    pub extensions: Extensions,
}

/// When work a stage leaves for later ([`Exchange::defer`]) runs. Work
/// runs once, in the order it was left, when its phase comes; work whose
/// phase never comes is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The backend section has run to its end, before outbound: not for a
    /// cached answer, an ended pipeline or an error (token accounting reads
    /// the answer, or wraps its streamed body, there).
    Answered,
    /// After outbound, or `on-error`, however the pipeline ended
    /// (`rate-limit-by-key`'s increment when its condition reads the
    /// response).
    End,
}

/// Work a stage leaves for a later [`Phase`] of its request.
pub trait Deferred: Send + Sync {
    fn run(self: Box<Self>, x: &mut Exchange) -> BoxFuture<'_, ()>;
}

/// [`Deferred`] work for [`Phase::End`] ([`Exchange::at_end`]).
pub use Deferred as AtEnd;

/// The [`Deferred`] work of one request, in the order it was left.
#[derive(Default)]
struct DeferredWork(Vec<(Phase, Box<dyn Deferred>)>);

impl Exchange {
    pub fn now_ms(&self) -> i64 {
        self.services.now_ms()
    }

    /// Leaves `work` for `phase`.
    pub fn defer(&mut self, phase: Phase, work: Box<dyn Deferred>) {
        match self.extensions.get_mut::<DeferredWork>() {
            Some(w) => w.0.push((phase, work)),
            None => {
                self.extensions.insert(DeferredWork(vec![(phase, work)]));
            }
        }
    }

    /// Leaves `work` for the end of the pipeline ([`Phase::End`]).
    pub fn at_end(&mut self, work: Box<dyn Deferred>) {
        self.defer(Phase::End, work);
    }

    /// Runs the work left for `phase` (and any it leaves for it in turn).
    pub(crate) async fn run_deferred(&mut self, phase: Phase) {
        loop {
            let Some(w) = self.extensions.get_mut::<DeferredWork>() else {
                return;
            };
            let Some(i) = w.0.iter().position(|(p, _)| *p == phase) else {
                return;
            };
            let (_, work) = w.0.remove(i);
            work.run(self).await;
        }
    }

    /// `work()`, through [`Services::offload`] when `long`.
    pub fn offload_if<R>(&self, long: bool, work: impl FnOnce() -> R) -> R {
        if !long {
            return work();
        }
        let mut work = Some(work);
        let mut out = None;
        self.services.offload(&mut || {
            if let Some(w) = work.take() {
                out = Some(w());
            }
        });
        match out {
            Some(r) => r,
            // A `Services` whose `offload` did not run it: run it here.
            None => match work.take() {
                Some(w) => w(),
                None => unreachable!("offload ran the work without a result"),
            },
        }
    }

    pub fn request(&self) -> &MessageRef {
        &self.ctx.0.request
    }

    pub fn response(&self) -> &MessageRef {
        &self.ctx.0.response
    }

    /// The message a policy in the current section changes: the request in
    /// inbound and backend, the response in outbound and on-error.
    pub fn message(&self) -> &MessageRef {
        match self.section {
            Section::Inbound | Section::Backend => self.request(),
            Section::Outbound | Section::OnError => self.response(),
        }
    }
}

#[cfg(test)]
mod tests;
