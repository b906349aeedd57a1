//! `send-request`: sends a request (a new one, or a copy of the current
//! request) and stores the response, an `IResponse`, in a variable.
//!
//! The request it builds ([`RequestSpec`]) is shared with
//! `send-one-way-request`: `mode`, `timeout`, and the children `set-url`,
//! `set-method`, `set-header` and `set-body`, which change the new request
//! (their expressions still read `context`, the request being handled).

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    Bodies, Body, CallError, CompileCx, Compiled, CompiledValue, Exchange, Flow, InboundResponse,
    Message, MessageRef, OutboundRequest, PolicyError, Purpose, Reason, Reported, Run, Stage,
    TlsChecks, error_chain, reason_phrase,
};
use sluice_engine::schema::Section;
use sluice_engine::xml::Element;

use super::authentication_certificate::CertificateSpec;
use super::authentication_managed_identity::{ManagedIdentity, compile_child};
use super::headers::{SetHeader, compile_header};
use super::set_body::{SetBody, compile_body};

/// The documented default: 60 seconds.
const DEFAULT_TIMEOUT_S: u64 = 60;

/// The request of `send-request` and `send-one-way-request`.
#[derive(Debug)]
pub(crate) struct RequestSpec {
    policy: &'static str,
    mode: Option<CompiledValue>,
    timeout: Option<CompiledValue>,
    url: Option<CompiledValue>,
    method: Option<CompiledValue>,
    headers: Vec<SetHeader>,
    body: Option<SetBody>,
    proxy: Option<super::proxy::ProxySpec>,
    /// `authentication-managed-identity`: a token for the request.
    identity: Option<ManagedIdentity>,
    /// `authentication-certificate`: the client certificate it presents.
    certificate: Option<CertificateSpec>,
}

/// Compiles the attributes and children both policies share.
pub(crate) fn compile_spec(
    e: &Element,
    cx: &mut CompileCx<'_>,
    policy: &'static str,
) -> Compiled<RequestSpec> {
    let mode = cx.optional(e, "mode")?;
    let timeout = cx.optional(e, "timeout")?;
    let mut spec = RequestSpec {
        policy,
        mode,
        timeout,
        url: None,
        method: None,
        headers: Vec::new(),
        body: None,
        proxy: None,
        identity: None,
        certificate: None,
    };
    let mut ok = true;
    for c in e.elements() {
        match c.name.as_str() {
            "set-url" => spec.url = Some(cx.text(c)?),
            "set-method" => spec.method = Some(cx.text(c)?),
            "set-header" => spec.headers.push(compile_header(c, cx)?),
            "set-body" => spec.body = Some(compile_body(c, cx)?),
            "proxy" => spec.proxy = Some(super::proxy::compile_spec(c, cx)?),
            "authentication-managed-identity" => spec.identity = Some(compile_child(c, cx)?),
            "authentication-certificate" => {
                spec.certificate = Some(super::authentication_certificate::compile_child(c, cx)?);
            }
            other => {
                // The schema admits no other child; kept for safety.
                cx.error(
                    Code::UnexpectedChild,
                    c.name_span,
                    format!("`{other}` cannot be inside `{policy}`"),
                );
                ok = false;
            }
        }
    }
    let copy = spec
        .mode
        .as_ref()
        .is_some_and(|m| !matches!(m, CompiledValue::Literal(s) if s.trim() == "new"));
    if spec.url.is_none() && !copy {
        cx.error(
            Code::MissingChild,
            e.name_span,
            format!("`<{policy}>` needs `<set-url>` unless `mode=\"copy\"`"),
        );
        ok = false;
    }
    if ok { Ok(spec) } else { Err(Reported) }
}

/// With `mode="copy"` (or a mode known only when it runs), it reads the
/// request body.
pub(crate) fn bodies(e: &Element) -> Bodies {
    let copy = e.attr("mode").is_some_and(|a| {
        let mode = a.value.value.trim();
        mode.eq_ignore_ascii_case("copy") || mode.starts_with('@') || mode.contains("{{")
    });
    if copy { Bodies::REQUEST } else { Bodies::NONE }
}

impl RequestSpec {
    /// The request to send, from the current exchange.
    pub(crate) fn build(&self, x: &Exchange) -> Result<OutboundRequest, PolicyError> {
        let mode = match &self.mode {
            Some(m) => m.eval_string(x)?.unwrap_or_default(),
            None => "new".into(),
        };
        let copy = match mode.trim().to_ascii_lowercase().as_str() {
            "new" => false,
            "copy" => true,
            other => return Err(self.fail(format!("`{other}` is not a mode: `new` or `copy`"))),
        };
        let timeout_s = match &self.timeout {
            Some(t) => u64::try_from(t.eval_int(x)?).unwrap_or(0),
            None => DEFAULT_TIMEOUT_S,
        };
        // mode="copy": the current request's method, URL, headers and body
        // (no body in outbound, as the docs say).
        let (message, mut url) = if copy {
            x.request().read(|m| {
                let mut c = Message {
                    method: m.method.clone(),
                    headers: m.headers.clone(),
                    body: m.body.clone(),
                    ..Message::default()
                };
                c.headers.remove("Host");
                if x.section == Section::Outbound {
                    c.body = None;
                }
                (c, m.url.to_string())
            })
        } else {
            let m = Message {
                method: "GET".into(),
                ..Message::default()
            };
            (m, String::new())
        };
        let target = MessageRef::new(message);
        if let Some(u) = &self.url {
            url = u.eval_string(x)?.unwrap_or_default().trim().to_owned();
        }
        if let Some(m) = &self.method {
            let m = m.eval_string(x)?.unwrap_or_default();
            target.write(|t| t.method = m.trim().to_ascii_uppercase());
        }
        for h in &self.headers {
            h.apply_to(x, &target)?;
        }
        if let Some(b) = &self.body {
            b.apply_to(x, &target)?;
        }
        let proxy = match &self.proxy {
            Some(p) => Some(p.eval(x, self.policy)?),
            None => None,
        };
        let client_certificate = match &self.certificate {
            Some(c) => Some(c.identity(x)?),
            None => None,
        };
        Ok(target.read(|m| OutboundRequest {
            method: m.method.clone(),
            url,
            headers: m.headers.clone(),
            body: m.body.as_ref().map(|b| b.bytes.clone()).unwrap_or_default(),
            timeout_ms: timeout_s.saturating_mul(1000),
            purpose: Purpose::SendRequest,
            client_certificate,
            proxy,
            tls: TlsChecks::default(),
        }))
    }

    /// The token of its `authentication-managed-identity` child, if any, on `req`.
    pub(crate) async fn authorize(
        &self,
        x: &mut Exchange,
        req: &mut OutboundRequest,
    ) -> Result<(), PolicyError> {
        match &self.identity {
            Some(i) => i.authorize(x, req).await,
            None => Ok(()),
        }
    }

    fn fail(&self, message: String) -> PolicyError {
        PolicyError::new(
            self.policy,
            Reason::ExpressionValueEvaluationFailure,
            500,
            format!("Expression evaluation failed. {message}"),
        )
    }

    /// The error a failed call raises.
    pub(crate) fn call_error(&self, e: CallError) -> PolicyError {
        match e {
            CallError::Timeout => PolicyError::new(
                self.policy,
                Reason::Timeout,
                500,
                "The request timed out before the response headers were received.",
            ),
            CallError::Connection(cause) => PolicyError::new(
                self.policy,
                Reason::BackendConnectionFailure,
                500,
                format!(
                    "Error occured while sending the request: {}",
                    error_chain(&*cause)
                ),
            )
            .with_cause(cause),
        }
    }
}

/// A response as an `IResponse` value.
pub(crate) fn response_value(r: InboundResponse) -> MessageRef {
    MessageRef::new(Message {
        status: i64::from(r.status),
        reason: if r.reason.is_empty() {
            reason_phrase(r.status).to_owned()
        } else {
            r.reason
        },
        headers: r.headers,
        body: Some(Body {
            bytes: r.body,
            consumed: false,
        }),
        ..Message::default()
    })
}

#[derive(Debug)]
pub(crate) struct SendRequest {
    spec: RequestSpec,
    variable: CompiledValue,
    ignore_error: bool,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let spec = compile_spec(e, cx, "send-request")?;
    let variable = cx.required(e, "response-variable-name")?;
    let ignore_error = cx
        .literal(e, "ignore-error")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Ok(Box::new(SendRequest {
        spec,
        variable,
        ignore_error,
    }))
}

impl Stage for SendRequest {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let prepared = self.spec.build(x).and_then(|req| {
            let name = self.variable.eval_string(x)?.unwrap_or_default();
            Ok((req, name))
        });
        let (mut req, name) = match prepared {
            Ok(p) => p,
            Err(e) => return Run::fail(e),
        };
        Run::Later(Box::pin(async move {
            let services = x.services.clone();
            let called = match self.spec.authorize(x, &mut req).await {
                Ok(()) => services
                    .call(req)
                    .await
                    .map_err(|e| self.spec.call_error(e)),
                Err(e) => Err(e),
            };
            let value = match called {
                Ok(r) => rhai::Dynamic::from(response_value(r)),
                // ignore-error: the variable is set, to null (the docs' retry example tests `== null`).
                Err(_) if self.ignore_error => rhai::Dynamic::UNIT,
                Err(e) => return Err(e),
            };
            x.ctx.variables(|v| v.insert(name, value));
            Ok(Flow::Next)
        }))
    }
}

#[cfg(test)]
mod tests;
