//! `forward-request`: sends the request to the backend and makes its answer
//! the response. The backend URL is the backend base URL (the API's
//! `service-url`, or `set-backend-service`) followed by the request path
//! after the API's suffix, and the query.
//!
//! A backend entity (`set-backend-service backend-id`) adds its credentials,
//! TLS switches and proxy; a pool picks a member on every call (the member
//! a session-affinity cookie names, while its breaker is closed), and the
//! call's outcome feeds the member's circuit breaker
//! ([`crate::backend_health`]).
//!
//! When the plan found that no policy reads the response body
//! (`Exchange::streaming`), the backend's body is not read here: it stays a
//! stream, passed to the client as it arrives. Likewise, when no policy
//! reads the request body, the client's body is sent on as it arrives.

use std::sync::Arc;

use sluice_engine::runtime::{
    BackendCertificate, Bodies, Body, CallError, Certificates, CompileCx, Compiled, CompiledValue,
    Exchange, Flow, Multimap, OutboundProxy, OutboundRequest, PolicyError, Purpose, Reason, Run,
    SelectedBackend, Stage, TlsChecks, error_chain, reason_phrase,
};

use crate::backend_health::{self, BackendHealth};
use crate::identity::{Credentials, entity_credentials};
use sluice_engine::xml::Element;

/// The documented default: 300 seconds to receive the response headers.
const DEFAULT_TIMEOUT_MS: u64 = 300_000;

#[derive(Debug)]
struct ForwardRequest {
    timeout_s: Option<CompiledValue>,
    timeout_ms: Option<CompiledValue>,
    fail_on_error_status: bool,
    /// The configuration's certificates (a backend entity's `certificate`).
    certificates: Option<Arc<Certificates>>,
    /// The gateway's identities (a backend entity's `managed-identity`).
    credentials: Option<Arc<Credentials>>,
    /// Breakers and pools (the backends family's; none in unit fixtures).
    health: Option<Arc<BackendHealth>>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let timeout_s = cx.optional(e, "timeout")?;
    let timeout_ms = cx.optional(e, "timeout-ms")?;
    let fail_on_error_status = cx
        .literal(e, "fail-on-error-status-code")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Ok(Box::new(ForwardRequest {
        timeout_s,
        timeout_ms,
        fail_on_error_status,
        certificates: cx.resources.get::<Certificates>(),
        credentials: cx.resources.get::<Credentials>(),
        health: cx.resources.get::<BackendHealth>(),
    }))
}

/// It sends the request body on; again on each call with `buffer-request-body="true"`.
pub(crate) fn bodies(e: &Element) -> Bodies {
    let buffer = e
        .attr("buffer-request-body")
        .is_some_and(|a| a.value.value.trim().eq_ignore_ascii_case("true"));
    Bodies {
        sends_request: true,
        resends_request: buffer,
        ..Bodies::NONE
    }
}

/// The request as the backend gets it.
/// `target`: the backend entity called (a pool's member), whose URL and
/// credentials replace those `set-backend-service` left on the exchange.
pub(crate) fn backend_request(
    x: &Exchange,
    timeout_ms: u64,
    target: Option<&SelectedBackend>,
) -> OutboundRequest {
    x.request().read(|m| {
        let path = m
            .url
            .path
            .strip_prefix(&*x.api_prefix)
            .unwrap_or(&m.url.path);
        let base = target
            .map_or(&*x.backend_url, |t| t.entity.url.as_str())
            .trim_end_matches('/');
        let path = if path.is_empty() || path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        // The client's headers but the subscription key and `Host`, copied once.
        let mut headers = Multimap(
            m.headers
                .0
                .iter()
                .filter(|(n, _)| {
                    !n.eq_ignore_ascii_case("Ocp-Apim-Subscription-Key")
                        && !n.eq_ignore_ascii_case("Host")
                })
                .cloned()
                .collect(),
        );
        if !m.ip.is_empty() {
            headers.append("X-Forwarded-For", &m.ip);
        }
        // A backend entity's headers replace the client's; a name given
        // several values is sent once per value.
        let mut seen: Vec<&str> = Vec::new();
        let entity_headers = target.map_or(&x.backend_headers, |t| &t.entity.headers);
        for (k, v) in entity_headers {
            if seen.iter().any(|s| s.eq_ignore_ascii_case(k)) {
                headers.append(k, v);
            } else {
                headers.set_one(k, v.clone());
                seen.push(k);
            }
        }
        let mut query = m.url.query_string_without(Some("subscription-key"));
        if let Some(chosen) = target {
            let entity = &chosen.entity;
            if let Some((scheme, parameter)) = &entity.authorization {
                headers.set_one("Authorization", format!("{scheme} {parameter}"));
            }
            for (k, v) in &entity.query {
                query.push(if query.is_empty() { '?' } else { '&' });
                query.extend(form_urlencoded::byte_serialize(k.as_bytes()));
                query.push('=');
                query.extend(form_urlencoded::byte_serialize(v.as_bytes()));
            }
        }
        OutboundRequest {
            method: m.method.clone(),
            url: format!("{base}{path}{query}"),
            headers,
            body: m.body.as_ref().map(|b| b.bytes.clone()).unwrap_or_default(),
            timeout_ms,
            purpose: Purpose::Backend,
            client_certificate: x
                .extensions
                .get::<BackendCertificate>()
                .map(|c| Arc::clone(&c.0)),
            // A `proxy` policy wins over the entity's `proxy`.
            proxy: x
                .extensions
                .get::<OutboundProxy>()
                .cloned()
                .or_else(|| target.and_then(|t| t.entity.proxy.clone())),
            tls: target.map_or_else(TlsChecks::default, |t| t.entity.tls),
        }
    })
}

/// The backend entity a call goes to, and the session-affinity cookie to
/// give the client (its pool has `session-affinity` and the client's
/// cookie did not name this member).
struct Target {
    chosen: SelectedBackend,
    set_cookie: Option<String>,
}

/// The value of the request's cookie `name`, if it has one.
fn request_cookie(x: &Exchange, name: &str) -> Option<String> {
    x.request().read(|m| {
        m.headers
            .get("Cookie")?
            .iter()
            .flat_map(|h| h.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
    })
}

impl ForwardRequest {
    fn timeout(&self, x: &Exchange) -> Result<u64, PolicyError> {
        if let Some(ms) = &self.timeout_ms {
            return Ok(u64::try_from(ms.eval_int(x)?).unwrap_or(0));
        }
        if let Some(s) = &self.timeout_s {
            return Ok(u64::try_from(s.eval_int(x)?)
                .unwrap_or(0)
                .saturating_mul(1000));
        }
        Ok(DEFAULT_TIMEOUT_MS)
    }
}

impl ForwardRequest {
    /// The backend entity this call goes to: the one `set-backend-service`
    /// chose, or for a pool the member picked now (with session affinity,
    /// the member the client's cookie names while its breaker is closed);
    /// a 503 (the response set, for `retry` conditions and `on-error`) when
    /// its breaker is open or no member of the pool can take the call.
    fn target(&self, x: &mut Exchange) -> Result<Option<Target>, PolicyError> {
        let Some(chosen) = x.extensions.get::<SelectedBackend>().cloned() else {
            return Ok(None);
        };
        let Some(health) = &self.health else {
            return Ok(Some(Target {
                chosen,
                set_cookie: None,
            }));
        };
        let now = x.services.now_ms();
        let (picked, what) = if chosen.entity.is_pool() {
            let pool = &chosen.entity.pool;
            let cookie = chosen.entity.affinity_cookie.as_deref();
            let sticky = cookie
                .and_then(|name| request_cookie(x, name))
                .and_then(|token| backend_health::affinity_member(&chosen.id, pool, &token))
                .filter(|m| !health.is_open(&m.id, now))
                .map(|m| m.id.clone());
            let new_session = sticky.is_none();
            let member = sticky
                .or_else(|| health.pick(&chosen.id, pool, now))
                .and_then(|id| {
                    let entity = x.services.backend(&id)?;
                    let set_cookie = cookie.filter(|_| new_session).map(|name| {
                        let token = backend_health::affinity_token(&chosen.id, &id);
                        format!("{name}={token}; Path=/; HttpOnly")
                    });
                    Some(Target {
                        chosen: SelectedBackend { id, entity },
                        set_cookie,
                    })
                });
            (member, format!("Backend pool {}", chosen.id))
        } else {
            let open = health.is_open(&chosen.id, now);
            let what = format!("Backend {}", chosen.id);
            let target = Target {
                chosen,
                set_cookie: None,
            };
            ((!open).then_some(target), what)
        };
        if let Some(p) = picked {
            return Ok(Some(p));
        }
        let message = format!("{what} is temporarily unavailable");
        x.response().write(|m| {
            m.status = 503;
            m.reason = message.clone();
        });
        Err(PolicyError::new(
            "forward-request",
            Reason::BackendUnavailable,
            503,
            message.clone(),
        )
        .with_response_reason(message))
    }

    /// Sends `req` (the client's body as it arrives, when no policy read it).
    async fn call(
        &self,
        x: &mut Exchange,
        req: OutboundRequest,
    ) -> Result<
        (
            sluice_engine::runtime::InboundResponse,
            Option<sluice_engine::runtime::BodyStream>,
        ),
        PolicyError,
    > {
        let services = x.services.clone();
        // When no policy reads the response body, it may stay a stream
        // that the server passes to the client as it arrives.
        // When no policy reads the request body, the client's body goes
        // on as it arrives (once: the plan buffers it under `retry`).
        let answer = match x.streaming.request_body.take() {
            Some(body) => {
                services
                    .call_with_body(req, body, x.streaming.response)
                    .await
            }
            None if x.streaming.response => services.call_streaming(req).await,
            None => services.call(req).await.map(|r| (r, None)),
        };
        answer.map_err(|e| match e {
            // The client's body broke off or is not valid: answered as
            // the buffered pipeline answers it, not as a backend failure.
            e if e.is_client_body() => PolicyError::new(
                "forward-request",
                Reason::ClientConnectionFailure,
                400,
                "The request body could not be read.",
            )
            .with_cause(std::sync::Arc::new(e)),
            CallError::Timeout => PolicyError::new(
                "forward-request",
                Reason::Timeout,
                504,
                "Request to the backend service timed out",
            ),
            CallError::Connection(cause) => PolicyError::new(
                "forward-request",
                Reason::BackendConnectionFailure,
                502,
                format!(
                    "Error occured while calling backend service: {}",
                    error_chain(&*cause)
                ),
            )
            .with_cause(cause),
        })
    }

    /// What the backend entity `set-backend-service` chose adds to `req`
    /// ([`entity_credentials`]).
    async fn entity_credentials(
        &self,
        services: &dyn sluice_engine::runtime::Services,
        chosen: &SelectedBackend,
        req: &mut OutboundRequest,
    ) -> Result<(), PolicyError> {
        entity_credentials(
            &chosen.entity,
            self.certificates.as_deref(),
            self.credentials.as_deref(),
            services,
            req,
        )
        .await
        .map_err(|why| {
            PolicyError::new(
                "forward-request",
                Reason::ManagedIdentityTokenError,
                500,
                format!("Backend '{}': {why}", chosen.id),
            )
        })
    }
}

impl Stage for ForwardRequest {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let timeout = match self.timeout(x) {
            Ok(t) => t,
            Err(e) => return Run::fail(e),
        };
        let target = match self.target(x) {
            Ok(t) => t,
            Err(e) => return Run::fail(e),
        };
        let mut req = backend_request(x, timeout, target.as_ref().map(|t| &t.chosen));
        Run::Later(Box::pin(async move {
            let services = x.services.clone();
            if let Some(t) = &target {
                self.entity_credentials(&*services, &t.chosen, &mut req)
                    .await?;
            }
            let answer = self.call(x, req).await;
            let client_fault =
                matches!(&answer, Err(e) if e.reason == Reason::ClientConnectionFailure);
            if let (Some(Target { chosen: t, .. }), Some(health), false) =
                (&target, &self.health, client_fault)
            {
                let status = answer.as_ref().ok().map(|(r, _)| r.status);
                let failed = t
                    .entity
                    .breaker
                    .as_ref()
                    .is_some_and(|r| backend_health::is_failure(r, status));
                let retry_after = answer
                    .as_ref()
                    .ok()
                    .and_then(|(r, _)| r.headers.get("Retry-After"))
                    .and_then(|v| v.first())
                    .and_then(|v| backend_health::retry_after_ms(v, services.now_ms()));
                health.record(
                    &t.id,
                    t.entity.breaker.as_ref(),
                    failed,
                    retry_after,
                    services.now_ms(),
                );
            }
            let (resp, stream) = answer?;
            let status = resp.status;
            // A later call (under `retry`) replaces an earlier answer and its stream.
            x.streaming.response_body = stream;
            x.response().write(|m| {
                m.status = i64::from(resp.status);
                m.reason = if resp.reason.is_empty() {
                    reason_phrase(resp.status).to_owned()
                } else {
                    resp.reason
                };
                m.headers = resp.headers;
                // The session-affinity cookie that keeps the client on this member.
                if let Some(c) = target.as_ref().and_then(|t| t.set_cookie.as_ref()) {
                    m.headers.append("Set-Cookie", c);
                }
                m.body = Some(Body {
                    bytes: resp.body,
                    consumed: false,
                });
            });
            if self.fail_on_error_status && status >= 400 {
                return Err(PolicyError::new(
                    "forward-request",
                    Reason::BackendError,
                    status,
                    format!("The backend answered with status {status}"),
                ));
            }
            Ok(Flow::Next)
        }))
    }
}

#[cfg(test)]
mod tests {
    use sluice_engine::runtime::BackendEntity;

    use super::*;
    use crate::fixture::{Stub, exchange};

    fn proxy(url: &str) -> OutboundProxy {
        OutboundProxy {
            url: url.into(),
            ..OutboundProxy::default()
        }
    }

    #[test]
    fn the_entity_tls_and_proxy_go_on_its_calls_and_a_proxy_policy_wins() {
        let mut x = exchange(Stub::status(200, ""), &[], "");
        let relaxed = TlsChecks {
            chain: false,
            name: true,
        };
        let target = SelectedBackend {
            id: "east".into(),
            entity: BackendEntity {
                url: "https://east.test".into(),
                tls: relaxed,
                proxy: Some(proxy("http://entity-proxy.test:1")),
                ..BackendEntity::default()
            },
        };
        let req = backend_request(&x, 1000, Some(&target));
        assert_eq!(req.url, "https://east.test/items?q=1");
        assert_eq!(req.tls, relaxed);
        assert_eq!(
            req.proxy.map(|p| p.url).as_deref(),
            Some("http://entity-proxy.test:1")
        );
        x.extensions.insert(proxy("http://policy-proxy.test:2"));
        let req = backend_request(&x, 1000, Some(&target));
        assert_eq!(
            req.proxy.map(|p| p.url).as_deref(),
            Some("http://policy-proxy.test:2")
        );
        // No entity: the default checks.
        let req = backend_request(&x, 1000, None);
        assert_eq!(req.tls, TlsChecks::default());
    }

    #[test]
    fn the_affinity_cookie_is_read_by_its_exact_name() {
        let x = exchange(
            Stub::status(200, ""),
            &[("Cookie", "sessionid=lower; SessionId=\"v1\"; other=x")],
            "",
        );
        assert_eq!(request_cookie(&x, "SessionId").as_deref(), Some("v1"));
        assert_eq!(request_cookie(&x, "sessionid").as_deref(), Some("lower"));
        assert_eq!(request_cookie(&x, "missing"), None);
    }
}
