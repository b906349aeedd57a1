//! What `publish-to-dapr` and `invoke-dapr-binding` share: the sidecar's
//! endpoint (`[dapr] endpoint`; a policy without one is a load error
//! naming the key), `timeout` (seconds, 1 to 240, 5 by default),
//! `ignore-error`, `response-variable-name`, and the call itself.
//!
//! The sidecar's answer, whatever its status, is stored in the variable
//! (an `IResponse`, which `return-response response-variable-name` sends
//! back verbatim, as the docs' examples do). An answer of 400 or more, a
//! timeout, or a sidecar that cannot be reached is an error that runs
//! `on-error` (`BackendError`, `Timeout`, `BackendConnectionFailure`;
//! status 500), unless `ignore-error="true"`, when the pipeline goes on.

use bytes::Bytes;
use sluice_engine::runtime::{
    CallError, CompileCx, Compiled, CompiledValue, Exchange, Flow, Multimap, OutboundRequest,
    PolicyError, Purpose, Reason, error_chain,
};
use sluice_engine::xml::Element;

use crate::endpoints::Endpoints;

use super::send_request::response_value;

/// The docs' default timeout, in seconds.
const DEFAULT_TIMEOUT_S: i64 = 5;

#[derive(Debug)]
pub(crate) struct DaprCall {
    policy: &'static str,
    /// The sidecar's base URL.
    pub(crate) endpoint: String,
    timeout: Option<CompiledValue>,
    ignore_error: bool,
    variable: Option<String>,
}

pub(crate) fn compile_call(
    e: &Element,
    cx: &mut CompileCx<'_>,
    policy: &'static str,
) -> Compiled<DaprCall> {
    let endpoints = cx.resource::<Endpoints>(e)?;
    let Some(endpoint) = endpoints.dapr.clone() else {
        return cx.fail(
            sluice_engine::diag::Code::ConfigReference,
            e.name_span,
            format!(
                "`<{policy}>` calls the Dapr sidecar: set `[dapr] endpoint` in the configuration \
                 (the sidecar's HTTP address, e.g. \"http://127.0.0.1:3500\")"
            ),
        );
    };
    Ok(DaprCall {
        policy,
        endpoint,
        timeout: cx.optional(e, "timeout")?,
        ignore_error: cx
            .literal(e, "ignore-error")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        variable: cx
            .literal(e, "response-variable-name")
            .filter(|v| !v.is_empty()),
    })
}

/// A Dapr policy with `template="Liquid"` reads its section's message body
/// (the template's `body`), which expressions alone would not tell the plan.
pub(crate) fn bodies(e: &Element) -> sluice_engine::runtime::Bodies {
    let liquid = e
        .attr("template")
        .is_some_and(|a| a.value.value.trim().eq_ignore_ascii_case("liquid"));
    if liquid {
        sluice_engine::runtime::Bodies::OWN
    } else {
        sluice_engine::runtime::Bodies::NONE
    }
}

/// `s` as one URL path segment.
pub(crate) fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl DaprCall {
    pub(crate) fn fail(&self, message: impl Into<String>) -> PolicyError {
        PolicyError::new(
            self.policy,
            Reason::ExpressionValueEvaluationFailure,
            500,
            message,
        )
    }

    fn timeout_ms(&self, x: &Exchange) -> Result<u64, PolicyError> {
        let s = match &self.timeout {
            Some(t) => t.eval_int(x)?,
            None => DEFAULT_TIMEOUT_S,
        };
        if !(1..=240).contains(&s) {
            return Err(self.fail(format!("`timeout` is {s}: it takes 1 to 240 seconds")));
        }
        Ok(u64::try_from(s).unwrap_or(5) * 1000)
    }

    /// The request to `path` (after the endpoint) with `body`, evaluated
    /// now (before the stage awaits).
    pub(crate) fn request(
        &self,
        x: &Exchange,
        path: &str,
        body: Bytes,
        content_type: Option<&str>,
    ) -> Result<OutboundRequest, PolicyError> {
        let mut headers = Multimap::default();
        if let Some(ct) = content_type {
            headers.set_one("Content-Type", ct.to_owned());
        }
        Ok(OutboundRequest {
            method: "POST".into(),
            url: format!("{}{path}", self.endpoint),
            headers,
            body,
            timeout_ms: self.timeout_ms(x)?,
            purpose: Purpose::SendRequest,
            ..OutboundRequest::default()
        })
    }

    /// Sends `req` and handles the answer as the docs say.
    pub(crate) async fn send(
        &self,
        x: &mut Exchange,
        req: OutboundRequest,
    ) -> Result<Flow, PolicyError> {
        let services = x.services.clone();
        match services.call(req).await {
            Ok(r) => {
                let status = r.status;
                if let Some(name) = &self.variable {
                    let value = rhai::Dynamic::from(response_value(r));
                    x.ctx.variables(|v| v.insert(name.clone(), value));
                }
                if status >= 400 && !self.ignore_error {
                    return Err(PolicyError::new(
                        self.policy,
                        Reason::BackendError,
                        500,
                        format!("The Dapr runtime answered {status}."),
                    ));
                }
                Ok(Flow::Next)
            }
            Err(_) if self.ignore_error => Ok(Flow::Next),
            Err(CallError::Timeout) => Err(PolicyError::new(
                self.policy,
                Reason::Timeout,
                500,
                "The Dapr runtime did not answer in time.",
            )),
            Err(CallError::Connection(cause)) => Err(PolicyError::new(
                self.policy,
                Reason::BackendConnectionFailure,
                500,
                format!("Cannot reach the Dapr runtime: {}", error_chain(&*cause)),
            )
            .with_cause(cause)),
        }
    }
}
