//! `proxy`: requests forwarded to the backend (`forward-request`) go
//! through an HTTP proxy; inside `send-request` (or
//! `send-one-way-request`), that request does. The proxy is `http://`
//! only (the docs: no HTTPS between the gateway and the proxy); `username`
//! and `password` are sent as Basic credentials (`Proxy-Authorization`).
//! The password never reaches logs or errors.

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, OutboundProxy, PolicyError, Reason, Run, Stage,
};
use sluice_engine::xml::Element;

/// The compiled attributes: what `forward-request` and `send-request` use.
#[derive(Debug)]
pub(crate) struct ProxySpec {
    url: CompiledValue,
    username: Option<CompiledValue>,
    password: Option<CompiledValue>,
}

#[derive(Debug)]
struct Proxy(ProxySpec);

pub(crate) fn compile_spec(e: &Element, cx: &mut CompileCx<'_>) -> Compiled<ProxySpec> {
    let url = cx.required(e, "url")?;
    if let CompiledValue::Literal(u) = &url
        && let Err(why) = check_url(u)
    {
        let span = e.attr("url").map_or(e.span, |a| a.value.span);
        return cx.fail(Code::InvalidAttributeValue, span, why);
    }
    Ok(ProxySpec {
        url,
        username: cx.optional(e, "username")?,
        password: cx.optional(e, "password")?,
    })
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(Proxy(compile_spec(e, cx)?)))
}

/// `http://host:port`: the only form the docs allow.
fn check_url(u: &str) -> Result<(), String> {
    let u = u.trim();
    let Some(rest) = u.strip_prefix("http://") else {
        return Err(format!(
            "the proxy URL must be `http://host:port` (only HTTP is supported to the proxy), not `{u}`"
        ));
    };
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') || authority.contains('@') {
        return Err(format!(
            "the proxy URL must be `http://host:port`, not `{u}`"
        ));
    }
    Ok(())
}

impl ProxySpec {
    pub(crate) fn eval(&self, x: &Exchange, source: &str) -> Result<OutboundProxy, PolicyError> {
        let url = self.url.text(x)?.trim().to_owned();
        if let Err(why) = check_url(&url) {
            return Err(PolicyError::new(
                source,
                Reason::ExpressionValueEvaluationFailure,
                500,
                why,
            ));
        }
        let opt = |v: &Option<CompiledValue>| -> Result<Option<String>, PolicyError> {
            Ok(match v {
                Some(v) => v.eval_string(x)?.filter(|s| !s.is_empty()),
                None => None,
            })
        };
        Ok(OutboundProxy {
            url,
            username: opt(&self.username)?,
            password: opt(&self.password)?,
        })
    }
}

impl Stage for Proxy {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        match self.0.eval(x, "proxy") {
            Ok(p) => {
                x.extensions.insert(p);
                Run::next()
            }
            Err(e) => Run::fail(e),
        }
    }
}
