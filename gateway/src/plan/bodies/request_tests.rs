//! The request-body rule through `Plan::handle_with_body`: a body no policy
//! reads reaches `Services::call_with_body` as a stream; one a policy reads
//! (or that may be sent twice) is read whole first and goes through `call`.

use std::sync::{Arc, Mutex};

use sluice_engine::runtime::{
    BackendEntity, BodyStream, BoxFuture, CallError, InboundResponse, OutboundRequest, Services,
    collect,
};

use crate::plan::{Request, Response};

/// A backend that records which call carried the request, and the body it got.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<(&'static str, String)>>,
}

impl Recorder {
    fn record(&self, how: &'static str, body: &[u8]) -> InboundResponse {
        if let Ok(mut c) = self.calls.lock() {
            c.push((how, String::from_utf8_lossy(body).into_owned()));
        }
        InboundResponse {
            status: 200,
            body: b"ok".to_vec().into(),
            ..InboundResponse::default()
        }
    }
}

impl Services for Recorder {
    fn now_ms(&self) -> i64 {
        0
    }
    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        Box::pin(async move { Ok(self.record("call", &req.body)) })
    }
    fn call_with_body(
        &self,
        _: OutboundRequest,
        body: BodyStream,
        _: bool,
    ) -> BoxFuture<'_, Result<(InboundResponse, Option<BodyStream>), CallError>> {
        Box::pin(async move {
            let body = collect(body).await?;
            Ok((self.record("call_with_body", &body), None))
        })
    }
    fn backend(&self, _: &str) -> Option<BackendEntity> {
        None
    }
    fn sleep(&self, _: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The body `first` then `second`, or a failure after `first` when `second` is `None`.
struct Parts(Vec<Result<bytes::Bytes, CallError>>);

impl futures_core::Stream for Parts {
    type Item = Result<bytes::Bytes, CallError>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.pop())
    }
}

fn body(broken: bool) -> BodyStream {
    let last = if broken {
        Err(CallError::connection("the client broke off"))
    } else {
        Ok(bytes::Bytes::from_static(b"world"))
    };
    Box::pin(Parts(vec![last, Ok(bytes::Bytes::from_static(b"hello "))]))
}

/// POSTs the body `hello world` (as a stream) to an API whose policy has
/// `inbound` and `backend`; the response and the backend's calls.
fn run(
    inbound: &str,
    backend: &str,
    extra: &str,
    broken: bool,
) -> (Response, Vec<(&'static str, String)>) {
    let policy = format!(
        "<policies><inbound>{inbound}</inbound><backend>{backend}</backend><outbound /><on-error /></policies>"
    );
    let config = format!(
        "{extra}\n[[api]]\nname = \"s\"\npath = \"s\"\nservice-url = \"http://backend.test\"\npolicy = '''{policy}'''\n"
    );
    let plan = crate::build::from_text(&config)
        .unwrap_or_else(|d| panic!("{d}"))
        .plan;
    let backend = Arc::new(Recorder::default());
    let req = Request {
        method: "POST".into(),
        url: "http://gw.test/s/x".into(),
        ..Request::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (response, _) =
        rt.block_on(plan.handle_with_body(req, Some(body(broken)), backend.clone()));
    let calls = backend.calls.lock().unwrap().clone();
    (response, calls)
}

const FORWARD: &str = "<forward-request />";

fn streamed() -> Vec<(&'static str, String)> {
    vec![("call_with_body", "hello world".into())]
}

fn buffered(body: &str) -> Vec<(&'static str, String)> {
    vec![("call", body.into())]
}

#[test]
fn a_body_no_policy_reads_goes_to_the_backend_as_a_stream() {
    let inbound = r#"<set-header name="X-A" exists-action="override"><value>@(context.Request.Method)</value></set-header>"#;
    let (r, calls) = run(inbound, FORWARD, "", false);
    assert_eq!(r.status, 200);
    assert_eq!(calls, streamed());
}

#[test]
fn a_policy_reading_the_body_gets_it_whole() {
    let inbound = r#"<set-body>@(context.Request.Body.As<string>().ToUpper())</set-body>"#;
    let (r, calls) = run(inbound, FORWARD, "", false);
    assert_eq!(r.status, 200);
    assert_eq!(calls, buffered("HELLO WORLD"));
    // A literal set-body replaces the body: read (dropped) rather than streamed.
    let (_, calls) = run("<set-body>new</set-body>", FORWARD, "", false);
    assert_eq!(calls, buffered("new"));
}

#[test]
fn a_body_that_may_be_sent_twice_is_buffered() {
    let retry = r#"<retry condition="@(context.Response.StatusCode >= 500)" count="2" interval="0"><forward-request /></retry>"#;
    assert_eq!(run("", retry, "", false).1, buffered("hello world"));
    let flagged = r#"<forward-request buffer-request-body="true" />"#;
    assert_eq!(run("", flagged, "", false).1, buffered("hello world"));
}

#[test]
fn send_request_copying_the_request_buffers() {
    let inbound = r#"<send-request mode="copy" response-variable-name="r" timeout="5"><set-url>http://audit.test/</set-url></send-request>"#;
    let (_, calls) = run(inbound, FORWARD, "", false);
    assert_eq!(
        calls,
        vec![
            ("call", "hello world".into()),
            ("call", "hello world".into())
        ]
    );
}

#[test]
fn a_one_way_copy_of_the_request_buffers_it_too() {
    // Streamed, the copy would go out without the body it copies.
    for mode in ["copy", "@(\"copy\")"] {
        let inbound = format!(
            r#"<send-one-way-request mode="{mode}"><set-url>http://audit.test/</set-url></send-one-way-request>"#
        );
        let (_, calls) = run(&inbound, FORWARD, "", false);
        assert_eq!(
            calls,
            vec![
                ("call", "hello world".into()),
                ("call", "hello world".into())
            ],
            "{mode}"
        );
    }
    // `mode="new"` sends a request of its own: the client's body streams.
    let inbound = r#"<send-one-way-request mode="new"><set-url>http://audit.test/</set-url><set-method>GET</set-method></send-one-way-request>"#;
    let (_, calls) = run(inbound, FORWARD, "", false);
    assert_eq!(
        calls.last(),
        Some(&("call_with_body", "hello world".into()))
    );
}

#[test]
fn named_values_and_fragments_are_looked_into() {
    let inbound = r#"<set-variable name="b" value="{{peek}}" />"#;
    let extra =
        "[named-values]\npeek = \"@(context.Request.Body.As<string>(preserveContent: true))\"\n";
    assert_eq!(
        run(inbound, FORWARD, extra, false).1,
        buffered("hello world")
    );
    let inbound = r#"<include-fragment fragment-id="rewrite" />"#;
    let extra = "[fragments]\nrewrite = '<fragment><find-and-replace from=\"hello\" to=\"bye\" /></fragment>'\n";
    assert_eq!(run(inbound, FORWARD, extra, false).1, buffered("bye world"));
}

#[test]
fn a_body_that_breaks_off_while_read_whole_is_a_400() {
    let inbound = r#"<set-body>@(context.Request.Body.As<string>())</set-body>"#;
    let (r, calls) = run(inbound, FORWARD, "", true);
    assert_eq!(r.status, 400);
    assert!(calls.is_empty());
}
