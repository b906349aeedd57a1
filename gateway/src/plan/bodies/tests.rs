//! The streaming rule through `Plan::handle_streaming`, with a backend stub
//! that answers `call_streaming` with a body in two chunks.

use std::sync::{Arc, Mutex};

use sluice_engine::runtime::{
    BackendEntity, BodyStream, BoxFuture, CallError, InboundResponse, Multimap, OutboundRequest,
    Services, collect,
};

use crate::plan::{Request, Response};

/// A backend answering `data: 1` `data: 2` with `status`; records which call was used.
struct Sse {
    status: u16,
    calls: Mutex<Vec<&'static str>>,
}

const BODY: &str = "data: 1\n\ndata: 2\n\n";

impl Sse {
    fn head(&self, body: Vec<u8>) -> InboundResponse {
        let mut headers = Multimap::default();
        headers.set_one("Content-Type", "text/event-stream".into());
        InboundResponse {
            status: self.status,
            reason: String::new(),
            headers,
            body: body.into(),
        }
    }
}

impl Services for Sse {
    fn now_ms(&self) -> i64 {
        0
    }
    fn call(&self, _: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        if let Ok(mut c) = self.calls.lock() {
            c.push("call");
        }
        Box::pin(async move { Ok(self.head(BODY.as_bytes().to_vec())) })
    }
    fn call_streaming(
        &self,
        _: OutboundRequest,
    ) -> BoxFuture<'_, Result<(InboundResponse, Option<BodyStream>), CallError>> {
        if let Ok(mut c) = self.calls.lock() {
            c.push("call_streaming");
        }
        Box::pin(async move {
            let stream: BodyStream = Box::pin(Chunks(vec!["data: 2\n\n", "data: 1\n\n"]));
            Ok((self.head(Vec::new()), Some(stream)))
        })
    }
    fn backend(&self, _: &str) -> Option<BackendEntity> {
        None
    }
    fn sleep(&self, _: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// A stream of the chunks, popped from the end.
struct Chunks(Vec<&'static str>);

impl futures_core::Stream for Chunks {
    type Item = Result<bytes::Bytes, CallError>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.pop().map(|c| Ok(bytes::Bytes::from(c))))
    }
}

/// Runs `GET /s/x` through an API whose policy is `policy`, with `extra` config.
fn run(policy: &str, extra: &str, status: u16) -> (Response, Option<String>, Vec<&'static str>) {
    let config = format!(
        "{extra}\n[[api]]\nname = \"s\"\npath = \"s\"\nservice-url = \"http://backend.test\"\npolicy = '''{policy}'''\n"
    );
    let plan = crate::build::from_text(&config)
        .unwrap_or_else(|d| panic!("{d}"))
        .plan;
    let sse = Arc::new(Sse {
        status,
        calls: Mutex::new(Vec::new()),
    });
    let req = Request {
        method: "GET".into(),
        url: "http://gw.test/s/x".into(),
        ..Request::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (response, stream) = rt.block_on(plan.handle_streaming(req, sse.clone()));
    let streamed =
        stream.map(|s| String::from_utf8(rt.block_on(collect(s)).unwrap().to_vec()).unwrap());
    let calls = sse.calls.lock().unwrap().clone();
    (response, streamed, calls)
}

fn policies(inbound: &str, backend: &str, outbound: &str, on_error: &str) -> String {
    format!(
        "<policies><inbound>{inbound}</inbound><backend>{backend}</backend><outbound>{outbound}</outbound><on-error>{on_error}</on-error></policies>"
    )
}

const FORWARD: &str = "<forward-request />";

fn header(r: &Response, name: &str) -> Option<String> {
    r.headers.get(name).and_then(|v| v.first().cloned())
}

#[test]
fn a_body_no_policy_reads_streams_and_outbound_still_runs() {
    let outbound = r#"<set-header name="X-Status" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header>"#;
    let (r, streamed, calls) = run(&policies("", FORWARD, outbound, ""), "", 200);
    assert_eq!(calls, ["call_streaming"]);
    assert_eq!(streamed.as_deref(), Some(BODY));
    assert!(r.body.is_empty());
    assert_eq!(r.status, 200);
    assert_eq!(header(&r, "X-Status").as_deref(), Some("200"));
    assert_eq!(
        header(&r, "Content-Type").as_deref(),
        Some("text/event-stream")
    );
}

#[test]
fn reading_the_request_body_does_not_stop_the_response_streaming() {
    let inbound =
        r#"<set-variable name="b" value="@(context.Request.Body == null ? "none" : "some")" />"#;
    let (_, streamed, calls) = run(&policies(inbound, FORWARD, "", ""), "", 200);
    assert_eq!(calls, ["call_streaming"]);
    assert_eq!(streamed.as_deref(), Some(BODY));
}

#[test]
fn outbound_set_body_gets_the_whole_body() {
    let outbound = r#"<set-body>@(context.Response.Body.As<string>().ToUpper())</set-body>"#;
    let (r, streamed, calls) = run(&policies("", FORWARD, outbound, ""), "", 200);
    assert_eq!(calls, ["call"]);
    assert_eq!(streamed, None);
    assert_eq!(
        String::from_utf8(r.body.to_vec()).unwrap(),
        BODY.to_uppercase()
    );
}

#[test]
fn an_expression_mentioning_the_body_buffers() {
    let outbound = r#"<choose><when condition="@(context.Response.Body.As<string>(preserveContent: true).Length > 3)"><set-header name="X-Long" exists-action="override"><value>yes</value></set-header></when></choose>"#;
    let (r, streamed, calls) = run(&policies("", FORWARD, outbound, ""), "", 200);
    assert_eq!((calls, streamed), (vec!["call"], None));
    assert_eq!(header(&r, "X-Long").as_deref(), Some("yes"));
    assert_eq!(String::from_utf8(r.body.to_vec()).unwrap(), BODY);
}

#[test]
fn a_backend_expression_after_forward_request_reading_the_response_body_buffers() {
    let backend = r#"<forward-request /><set-variable name="n" value="@(context.Response.Body.As<string>(preserveContent: true))" />"#;
    let (_, streamed, calls) = run(&policies("", backend, "", ""), "", 200);
    assert_eq!((calls, streamed), (vec!["call"], None));
}

#[test]
fn named_values_and_fragments_are_looked_into() {
    let outbound =
        r#"<set-header name="X-B" exists-action="override"><value>{{body}}</value></set-header>"#;
    let extra =
        "[named-values]\nbody = \"@(context.Response.Body.As<string>(preserveContent: true))\"\n";
    let (_, streamed, calls) = run(&policies("", FORWARD, outbound, ""), extra, 200);
    assert_eq!((calls, streamed), (vec!["call"], None));

    let outbound = r#"<include-fragment fragment-id="rewrite" />"#;
    let extra = "[fragments]\nrewrite = '<fragment><find-and-replace from=\"1\" to=\"one\" /></fragment>'\n";
    let (r, streamed, calls) = run(&policies("", FORWARD, outbound, ""), extra, 200);
    assert_eq!((calls, streamed), (vec!["call"], None));
    assert_eq!(
        String::from_utf8(r.body.to_vec()).unwrap(),
        "data: one\n\ndata: 2\n\n"
    );
}

#[test]
fn on_error_replaces_the_streamed_body() {
    let backend = r#"<forward-request fail-on-error-status-code="true" />"#;
    let on_error = r#"<set-header name="X-Error" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>"#;
    let (r, streamed, calls) = run(&policies("", backend, "", on_error), "", 500);
    assert_eq!((calls, streamed), (vec!["call_streaming"], None));
    assert_eq!(r.status, 500);
    assert_eq!(header(&r, "X-Error").as_deref(), Some("BackendError"));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["statusCode"], 500);
}

#[test]
fn return_response_in_outbound_drops_the_stream() {
    let outbound =
        r#"<return-response><set-status code="202" reason="Accepted" /></return-response>"#;
    let (r, streamed, calls) = run(&policies("", FORWARD, outbound, ""), "", 200);
    assert_eq!((calls, streamed), (vec!["call_streaming"], None));
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
}
