//! Test support for the unit tests of send-request, retry, wait and the
//! conversions: a policy document compiled into a
//! [`Pipeline`], an [`Exchange`] for one request, and [`Stub`] services
//! that record every outbound call and run a virtual clock.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sluice_engine::compose::{Layer, effective};
use sluice_engine::diag::Severity;
use sluice_engine::doc::{DocKind, Fragments, LoadOptions, load};
use sluice_engine::runtime::{
    BackendEntity, BoxFuture, CallError, Context, ContextData, Exchange, InboundResponse, Message,
    MessageRef, Multimap, OutboundRequest, Pipeline, PipelineCx, Resources, Services, Url,
    compile_pipeline, execute,
};
use sluice_engine::schema::{Scope, Section};
use sluice_engine::script::Compiler;
use sluice_engine::source::Source;
use sluice_engine::validate::Execution;
use sluice_engine::value::NamedValues;

type Answer = dyn Fn(&OutboundRequest, usize) -> Result<InboundResponse, CallError> + Send + Sync;

/// Services whose calls are answered by a closure (given the request and
/// its 0-based number), recorded with the virtual time they were made at.
pub(crate) struct Stub {
    pub now: AtomicI64,
    pub calls: Mutex<Vec<(i64, OutboundRequest)>>,
    pub sleeps: Mutex<Vec<u64>>,
    /// How many times work was offloaded (`Services::offload`).
    pub offloads: AtomicUsize,
    answer: Box<Answer>,
}

pub(crate) const START_MS: i64 = 1_700_000_000_000;

impl Stub {
    pub fn new(
        answer: impl Fn(&OutboundRequest, usize) -> Result<InboundResponse, CallError>
        + Send
        + Sync
        + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            now: AtomicI64::new(START_MS),
            calls: Mutex::new(Vec::new()),
            sleeps: Mutex::new(Vec::new()),
            offloads: AtomicUsize::new(0),
            answer: Box::new(answer),
        })
    }

    /// Always answers `status` with `body`.
    pub fn status(status: u16, body: &str) -> Arc<Self> {
        let body = body.to_owned();
        Self::new(move |_, _| Ok(response(status, &body)))
    }

    pub fn calls(&self) -> Vec<OutboundRequest> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Virtual times of the calls, in milliseconds after the start.
    pub fn call_times(&self) -> Vec<i64> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(t, _)| t - START_MS)
            .collect()
    }

    pub fn sleeps(&self) -> Vec<u64> {
        self.sleeps.lock().unwrap().clone()
    }
}

pub(crate) fn response(status: u16, body: &str) -> InboundResponse {
    let mut headers = Multimap::default();
    headers.append("Content-Type", "application/json");
    InboundResponse {
        status,
        reason: String::new(),
        headers,
        body: bytes::Bytes::copy_from_slice(body.as_bytes()),
    }
}

impl Services for Stub {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        let mut calls = self.calls.lock().unwrap();
        let n = calls.len();
        let r = (self.answer)(&req, n);
        calls.push((self.now_ms(), req));
        Box::pin(async move { r })
    }
    fn backend(&self, _: &str) -> Option<BackendEntity> {
        None
    }
    fn sleep(&self, ms: u64) -> BoxFuture<'_, ()> {
        self.sleeps.lock().unwrap().push(ms);
        self.now.fetch_add(ms as i64, Ordering::SeqCst);
        Box::pin(async {})
    }
    fn offload(&self, work: &mut dyn FnMut()) {
        self.offloads.fetch_add(1, Ordering::SeqCst);
        work();
    }
}

/// Compiles a `<policies>` document (at API scope) into a pipeline, or the
/// rendered diagnostics.
pub(crate) fn pipeline(xml: &str) -> Result<Pipeline, String> {
    let semantic = crate::semantic::SemanticResources::in_memory().map_err(|e| e.to_string())?;
    pipeline_with(xml, &Resources::new().with(semantic))
}

/// Like [`pipeline`], with the shared resources of `resources`.
pub(crate) fn pipeline_with(xml: &str, resources: &Resources) -> Result<Pipeline, String> {
    let limits = sluice_stdlib::Limits::default();
    let engine = sluice_stdlib::engine(&limits);
    let compiler = Compiler::new(&engine);
    let named = NamedValues::Known(Default::default());
    let fragments = Fragments::new();
    let source = Source::new("test.xml", xml);
    let executable = crate::is_executable;
    let opts = LoadOptions {
        named: Some(&named),
        scope: Some(Scope::Api),
        expect: Some(DocKind::Policies),
        execution: Some(Execution {
            executable: &executable,
            severity: Severity::Error,
        }),
        fragments: Some(&fragments),
        compiler: Some(&compiler),
        ..LoadOptions::default()
    };
    let (doc, mut diags) = load(&source, &opts);
    let Some(doc) = doc else {
        return Err(diags.to_string());
    };
    let layers = [Layer {
        scope: Scope::Api,
        doc: Some(&doc),
    }];
    let eff = effective(&layers, &fragments);
    let cx = PipelineCx {
        compiler: &compiler,
        named: &named,
        fragments: &fragments,
        factory: &crate::Builtins,
        resources,
        api: None,
    };
    let p = compile_pipeline(&eff, &cx, &mut diags);
    if diags.has_errors() {
        return Err(diags.to_string());
    }
    Ok(p)
}

/// An exchange for `POST http://gw.test/api/items` with the given headers and body.
pub(crate) fn exchange(stub: Arc<Stub>, headers: &[(&str, &str)], body: &str) -> Exchange {
    let limits = sluice_stdlib::Limits::default();
    let mut h = Multimap::default();
    for (k, v) in headers {
        h.append(k, v);
    }
    let url = Url::parse("http://gw.test/api/items?q=1").unwrap();
    let ctx = Context::new(ContextData {
        request: MessageRef::new(Message {
            method: "POST".into(),
            url: url.clone(),
            original_url: url,
            headers: h,
            body: Some(sluice_engine::runtime::Body {
                bytes: bytes::Bytes::copy_from_slice(body.as_bytes()),
                consumed: false,
            }),
            ip: "10.0.0.1".into(),
            ..Message::default()
        }),
        response: MessageRef::new(Message {
            status: 200,
            reason: "OK".into(),
            ..Message::default()
        }),
        request_id: uuid::uuid!("0f8fad5b-d9cb-469f-a165-70867728950e"),
        timestamp_ms: START_MS,
        ..ContextData::default()
    });
    Exchange {
        ctx,
        services: stub,
        engine: Arc::new(sluice_stdlib::engine(&limits)),
        limits,
        backend_url: "http://backend.test".into(),
        backend_headers: Vec::new(),
        api_prefix: "/api".into(),
        section: Section::Inbound,
        path: Vec::new(),
        streaming: Default::default(),
        extensions: Default::default(),
    }
}

/// Runs the whole pipeline on the exchange.
pub(crate) fn run(p: &Pipeline, x: &mut Exchange) {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(execute(p, x));
}

/// Compiles `xml`, runs it with `stub` on a fresh exchange, and returns the exchange.
pub(crate) fn run_policy(
    xml: &str,
    stub: &Arc<Stub>,
    headers: &[(&str, &str)],
    body: &str,
) -> Exchange {
    let p = pipeline(xml).unwrap_or_else(|d| panic!("{d}"));
    let mut x = exchange(Arc::clone(stub), headers, body);
    run(&p, &mut x);
    x
}

/// The response's status, a header and the body as text.
pub(crate) fn status(x: &Exchange) -> i64 {
    x.response().read(|m| m.status)
}

pub(crate) fn header(m: &MessageRef, name: &str) -> Option<String> {
    m.read(|m| m.headers.get(name).map(|v| v.join(",")))
}

pub(crate) fn body(m: &MessageRef) -> String {
    m.read(|m| {
        m.body
            .as_ref()
            .map(|b| String::from_utf8_lossy(&b.bytes).into_owned())
            .unwrap_or_default()
    })
}

pub(crate) fn variable(x: &Exchange, name: &str) -> Option<rhai::Dynamic> {
    x.ctx.variables(|v| v.get(name).cloned())
}

/// `context.LastError` as `source/reason`, if set.
pub(crate) fn last_error(x: &Exchange) -> Option<String> {
    let e = x.ctx.0.last_error.read().unwrap().clone()?;
    Some(format!("{}/{}", e.source, e.reason))
}
