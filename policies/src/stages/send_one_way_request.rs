//! `send-one-way-request`: sends a request built like `send-request`'s and
//! does not use the answer: no variable, and a failed or timed-out call is
//! not an error.
//!
//! Fire-and-forget is approximated: a stage cannot spawn a task (it does
//! not know the runtime, and a future that is dropped never sends), so the
//! stage awaits the call, bounded by `timeout` (60 s by default), and then
//! ignores its outcome. Evaluating the request (`set-url`, `set-header`, ...)
//! can still fail, and that is an error like in any policy.

use sluice_engine::runtime::{CompileCx, Compiled, Exchange, Flow, Run, Stage};
use sluice_engine::xml::Element;

use super::send_request::{RequestSpec, compile_spec};

#[derive(Debug)]
struct SendOneWayRequest {
    spec: RequestSpec,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let spec = compile_spec(e, cx, "send-one-way-request")?;
    Ok(Box::new(SendOneWayRequest { spec }))
}

impl Stage for SendOneWayRequest {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let mut req = match self.spec.build(x) {
            Ok(r) => r,
            Err(e) => return Run::fail(e),
        };
        Run::Later(Box::pin(async move {
            let services = x.services.clone();
            // The outcome is ignored: no variable, no error (nor a call
            // without the token its `authentication-managed-identity` wants).
            if self.spec.authorize(x, &mut req).await.is_ok() {
                let _ = services.call(req).await;
            }
            Ok(Flow::Next)
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::fixture::{Stub, body, last_error, run_policy, status};
    use sluice_engine::runtime::CallError;

    const POLICY: &str = r#"<policies><inbound>
        <send-one-way-request mode="new" timeout="5">
            <set-url>https://hooks.example.test/notify</set-url>
            <set-method>POST</set-method>
            <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
            <set-body>@("{\"path\": \"" + context.Request.Url.Path + "\"}")</set-body>
        </send-one-way-request>
        <return-response><set-status code="202" reason="Accepted" /></return-response>
    </inbound></policies>"#;

    #[test]
    fn sends_the_request_it_builds() {
        let stub = Stub::status(200, "ignored");
        let x = run_policy(POLICY, &stub, &[], "");
        let calls = stub.calls();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].method, "POST");
        assert_eq!(calls[0].url, "https://hooks.example.test/notify");
        assert_eq!(calls[0].timeout_ms, 5_000);
        assert_eq!(
            String::from_utf8_lossy(&calls[0].body),
            r#"{"path": "/api/items"}"#
        );
        assert_eq!(status(&x), 202);
        assert!(x.ctx.variables(|v| v.is_empty()));
    }

    #[test]
    fn a_failed_call_is_not_an_error() {
        for err in [CallError::Timeout, CallError::connection("refused")] {
            let stub = Stub::new(move |_, _| Err(err.clone()));
            let x = run_policy(POLICY, &stub, &[], "");
            assert_eq!(status(&x), 202, "the pipeline goes on");
            assert_eq!(last_error(&x), None);
            assert_eq!(body(x.response()), "");
        }
    }

    #[test]
    fn the_default_timeout_is_sixty_seconds() {
        let stub = Stub::status(500, "");
        let p = r#"<policies><inbound><send-one-way-request><set-url>http://a.test/</set-url></send-one-way-request></inbound></policies>"#;
        run_policy(p, &stub, &[], "");
        assert_eq!(stub.calls()[0].timeout_ms, 60_000);
        assert_eq!(stub.calls()[0].method, "GET");
    }
}
