//! `cors`: cross-origin resource sharing. A preflight (`OPTIONS` with
//! `Origin` and `Access-Control-Request-Method`) whose origin, method and
//! headers are allowed is answered at once with `200 OK` and the
//! `Access-Control-Allow-*` headers, ending the pipeline (only `cors` is
//! evaluated for a preflight). An actual request from an allowed origin goes
//! on, and its final response gets `Access-Control-Allow-Origin` (and
//! `-Allow-Credentials`, `-Expose-Headers`) through `ContextData::late_headers`.
//!
//! Requests that do not match (`terminate-unmatched-request`, default `true`,
//! see docs/decisions.md): a preflight is ended with an empty `200 OK`; a
//! `GET` or `HEAD` with an `Origin` likewise. With `false`, both go on without
//! CORS headers (a later `cors` policy in the section then gets its turn).
//! When the matched operation is itself an `OPTIONS` operation, the preflight
//! logic is skipped, as documented.

use sluice_engine::runtime::{
    Body, CompileCx, Compiled, CompiledValue, Exchange, Flow, Message, Multimap, PolicyError, Run,
    Stage,
};
use sluice_engine::xml::Element;

#[derive(Debug)]
struct Cors {
    allow_credentials: Option<CompiledValue>,
    terminate_unmatched: Option<CompiledValue>,
    origins: Vec<CompiledValue>,
    /// `None`: no `allowed-methods`, so GET and POST.
    methods: Option<Vec<CompiledValue>>,
    max_age: Option<CompiledValue>,
    headers: Vec<CompiledValue>,
    expose: Vec<CompiledValue>,
}

/// The entries (`origin`, `method`, `header`) of a list element.
fn entries(list: &Element, cx: &mut CompileCx<'_>) -> Compiled<Vec<CompiledValue>> {
    let mut out = Vec::new();
    for c in list.elements() {
        out.push(cx.text(c)?);
    }
    Ok(out)
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let allow_credentials = cx.optional(e, "allow-credentials")?;
    let terminate_unmatched = cx.optional(e, "terminate-unmatched-request")?;
    let mut cors = Cors {
        allow_credentials,
        terminate_unmatched,
        origins: Vec::new(),
        methods: None,
        max_age: None,
        headers: Vec::new(),
        expose: Vec::new(),
    };
    for c in e.elements() {
        match c.name.as_str() {
            "allowed-origins" => cors.origins = entries(c, cx)?,
            "allowed-methods" => {
                cors.max_age = cx.optional(c, "preflight-result-max-age")?;
                cors.methods = Some(entries(c, cx)?);
            }
            "allowed-headers" => cors.headers = entries(c, cx)?,
            "expose-headers" => cors.expose = entries(c, cx)?,
            _ => {}
        }
    }
    Ok(Box::new(cors))
}

/// `scheme://host:port` of an origin, lower-cased, with the default port
/// made explicit and any path dropped; `None` when it is not a URI.
fn origin_key(s: &str) -> Option<String> {
    let (scheme, rest) = s.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.to_ascii_lowercase();
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if authority.is_empty() {
        return None;
    }
    let port = match scheme.as_str() {
        _ if has_port => "",
        "https" => ":443",
        _ => ":80",
    };
    Some(format!("{scheme}://{authority}{port}"))
}

/// Evaluated list entries (nulls skipped), trimmed.
fn eval_all(values: &[CompiledValue], x: &Exchange) -> Result<Vec<String>, PolicyError> {
    let mut out = Vec::new();
    for v in values {
        if let Some(s) = v.eval_string(x)? {
            out.push(s.trim().to_owned());
        }
    }
    Ok(out)
}

fn eval_flag(v: &Option<CompiledValue>, x: &Exchange, default: bool) -> Result<bool, PolicyError> {
    match v {
        Some(v) => v.eval_bool(x),
        None => Ok(default),
    }
}

/// What the request is, as CORS sees it.
struct Request {
    method: String,
    origin: String,
    /// `Access-Control-Request-Method` of a preflight.
    preflight_method: Option<String>,
    /// `Access-Control-Request-Headers` of a preflight, as names.
    preflight_headers: Vec<String>,
}

fn read_request(x: &Exchange) -> Option<Request> {
    let first = |m: &Message, name: &str| m.headers.get(name).map(|v| v.join(","));
    let operation_method = x
        .ctx
        .0
        .operation
        .as_ref()
        .and_then(|r| r.fields.get("Method"))
        .and_then(|m| m.clone().into_string().ok())
        .unwrap_or_default();
    x.request().read(|m| {
        let origin = first(m, "Origin")?;
        let method = m.method.to_ascii_uppercase();
        let preflight = method == "OPTIONS" && !operation_method.eq_ignore_ascii_case("OPTIONS");
        Some(Request {
            preflight_method: first(m, "Access-Control-Request-Method")
                .filter(|_| preflight)
                .map(|s| s.trim().to_owned()),
            preflight_headers: first(m, "Access-Control-Request-Headers")
                .map(|h| {
                    h.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            origin: origin.trim().to_owned(),
            method,
        })
    })
}

/// An empty `200 OK` with `headers`: the answer that ends a preflight.
fn answer(x: &Exchange, headers: Multimap) {
    x.response().write(|m| {
        *m = Message {
            status: 200,
            reason: "OK".into(),
            headers,
            body: Some(Body::default()),
            ..Message::default()
        }
    });
}

impl Cors {
    /// The `Access-Control-Allow-Origin` value if the origin is allowed.
    fn allow_origin(
        &self,
        x: &Exchange,
        origin: &str,
        credentials: bool,
    ) -> Result<Option<String>, PolicyError> {
        let allowed = eval_all(&self.origins, x)?;
        if allowed.iter().any(|a| a == "*") {
            // `*` may not go with credentials: the origin is echoed then.
            return Ok(Some(if credentials {
                origin.to_owned()
            } else {
                "*".to_owned()
            }));
        }
        let Some(key) = origin_key(origin) else {
            return Ok(None);
        };
        let ok = allowed
            .iter()
            .any(|a| origin_key(a).as_deref() == Some(key.as_str()));
        Ok(ok.then(|| origin.to_owned()))
    }

    fn method_allowed(&self, x: &Exchange, method: &str) -> Result<bool, PolicyError> {
        let allowed = match &self.methods {
            Some(m) => eval_all(m, x)?,
            None => vec!["GET".to_owned(), "POST".to_owned()],
        };
        Ok(allowed
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(method)))
    }

    fn headers_allowed(&self, x: &Exchange, requested: &[String]) -> Result<bool, PolicyError> {
        if requested.is_empty() {
            return Ok(true);
        }
        let allowed = eval_all(&self.headers, x)?;
        Ok(requested.iter().all(|h| {
            allowed
                .iter()
                .any(|a| a == "*" || a.eq_ignore_ascii_case(h))
        }))
    }

    fn apply(&self, x: &Exchange) -> Result<Flow, PolicyError> {
        let Some(req) = read_request(x) else {
            return Ok(Flow::Next); // not a cross-origin request
        };
        let credentials = eval_flag(&self.allow_credentials, x, false)?;
        let allow_origin = self.allow_origin(x, &req.origin, credentials)?;
        let mut headers = Multimap::default();
        if let Some(o) = &allow_origin {
            headers.set_one("Access-Control-Allow-Origin", o.clone());
            if credentials {
                headers.set_one("Access-Control-Allow-Credentials", "true".into());
            }
            if o != "*" {
                headers.set_one("Vary", "Origin".into());
            }
        }
        if let Some(method) = &req.preflight_method {
            let matched = allow_origin.is_some()
                && self.method_allowed(x, method)?
                && self.headers_allowed(x, &req.preflight_headers)?;
            if matched {
                headers.set_one("Access-Control-Allow-Methods", method.clone());
                if !req.preflight_headers.is_empty() {
                    headers.set(
                        "Access-Control-Allow-Headers",
                        vec![req.preflight_headers.join(",")],
                    );
                }
                if let Some(age) = &self.max_age {
                    headers.set_one("Access-Control-Max-Age", age.eval_int(x)?.to_string());
                }
                answer(x, headers);
                return Ok(Flow::End);
            }
            if eval_flag(&self.terminate_unmatched, x, true)? {
                answer(x, Multimap::default());
                return Ok(Flow::End);
            }
            // Left to a later `cors` of inbound; if none answers, inbound ends it (exec.rs).
            x.ctx
                .0
                .unanswered_preflight
                .store(true, std::sync::atomic::Ordering::Relaxed);
            return Ok(Flow::Next);
        }
        if allow_origin.is_some() {
            let expose = eval_all(&self.expose, x)?;
            if !expose.is_empty() {
                headers.set_one("Access-Control-Expose-Headers", expose.join(","));
            }
            let mut late = match x.ctx.0.late_headers.write() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            for (name, values) in headers.0 {
                late.extend(values.into_iter().map(|v| (name.to_string(), v)));
            }
            return Ok(Flow::Next);
        }
        let simple = matches!(req.method.as_str(), "GET" | "HEAD");
        if simple && eval_flag(&self.terminate_unmatched, x, true)? {
            answer(x, Multimap::default());
            return Ok(Flow::End);
        }
        Ok(Flow::Next)
    }
}

impl Stage for Cors {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::Done(self.apply(x))
    }
}

#[cfg(test)]
mod tests;
