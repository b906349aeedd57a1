//! `send-service-bus-message`: sends `payload` to a Service Bus queue
//! (`queue-name`) or topic (`topic-name`) through Service Bus's REST API:
//! `POST {endpoint}/{entity}/messages`, where the namespace (`namespace`,
//! the FQDN policies name) is a `[service-bus.NAMESPACE]` section of the
//! configuration giving its `endpoint` and how it is authorized:
//!
//! - a token of the gateway's identity for `https://servicebus.azure.net`
//!   (`Authorization: Bearer`; `client-id` selects a user-assigned identity,
//!   as the docs say), the default;
//! - a shared access signature made with `sas-key-name` and `sas-key`.
//!
//! `message-properties` become the message's custom properties, which the
//! REST API takes as request headers (one `message-property` a header,
//! its text the value). The payload's `Content-Type` is
//! `application/json` when it parses as JSON, `text/plain` otherwise.
//!
//! A literal `namespace` with no section, or no `namespace` and not exactly
//! one section, is a load error naming the section to add; a namespace
//! given by an expression is looked up when the policy runs. A send that
//! fails (an answer other than 2xx, a timeout, no token) raises an error
//! that runs `on-error` (500): the docs are silent, and a message that was
//! not sent must not pass for sent (docs/decisions.md).

use std::sync::Arc;

use bytes::Bytes;
use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    CallError, CompileCx, Compiled, CompiledValue, Exchange, Flow, Multimap, OutboundRequest,
    PolicyError, Purpose, Reason, Run, Stage, error_chain,
};
use sluice_engine::xml::Element;

use crate::endpoints::{
    Endpoints, SERVICE_BUS_RESOURCE, ServiceBusAuth, ServiceBusNamespace, sas_token,
};
use crate::identity::Credentials;

const POLICY: &str = "send-service-bus-message";
/// How long a send may take.
const TIMEOUT_MS: u64 = 60_000;
/// How long a shared access signature is valid.
const SAS_SECONDS: i64 = 3600;

#[derive(Debug)]
enum Entity {
    Queue(CompiledValue),
    Topic(CompiledValue),
}

#[derive(Debug)]
struct SendServiceBusMessage {
    endpoints: Arc<Endpoints>,
    credentials: Option<Arc<Credentials>>,
    /// `None`: the one configured namespace.
    namespace: Option<CompiledValue>,
    client_id: Option<CompiledValue>,
    entity: Entity,
    properties: Vec<(CompiledValue, CompiledValue)>,
    payload: CompiledValue,
}

fn err(reason: Reason, message: impl Into<String>) -> PolicyError {
    PolicyError::new(POLICY, reason, 500, message)
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let endpoints = cx.resource::<Endpoints>(e)?;
    let namespace = cx.optional(e, "namespace")?;
    let span = |name: &str| e.attr(name).map_or(e.name_span, |a| a.value.span);
    // A namespace known at load must be configured.
    let known: Option<&ServiceBusNamespace> = match &namespace {
        Some(CompiledValue::Literal(ns)) => match endpoints.service_bus.get(ns.trim()) {
            Some(n) => Some(n),
            None => {
                return cx.fail(
                    Code::ConfigReference,
                    span("namespace"),
                    format!(
                        "no Service Bus namespace `{}`: add a `[service-bus.\"{}\"]` section \
                         with its `endpoint` to the configuration",
                        ns.trim(),
                        ns.trim()
                    ),
                );
            }
        },
        Some(CompiledValue::Expr(_)) => None,
        None => match endpoints.service_bus.len() {
            1 => endpoints.service_bus.values().next(),
            0 => {
                return cx.fail(
                    Code::ConfigReference,
                    e.name_span,
                    "`<send-service-bus-message>` sends to a Service Bus namespace: add a \
                     `[service-bus.\"NAMESPACE\"]` section with its `endpoint` to the configuration",
                );
            }
            _ => {
                return cx.fail(
                    Code::ConfigReference,
                    e.name_span,
                    "several `[service-bus.NAMESPACE]` sections: set `namespace` to say which",
                );
            }
        },
    };
    let client_id = cx.optional(e, "client-id")?;
    // The identity a managed-identity namespace uses must resolve (a literal client id is checked now).
    let needs_identity = known.is_none_or(|n| matches!(n.auth, ServiceBusAuth::ManagedIdentity));
    let credentials = if needs_identity {
        let creds = cx.resource::<Credentials>(e)?;
        let literal_id = match &client_id {
            None => Some(None),
            Some(CompiledValue::Literal(id)) => Some(Some(id.trim().to_owned())),
            Some(CompiledValue::Expr(_)) => None,
        };
        if let (Some(n), Some(id)) = (known, literal_id)
            && matches!(n.auth, ServiceBusAuth::ManagedIdentity)
            && let Err(why) = creds.identity(id.as_deref().filter(|i| !i.is_empty()))
        {
            return cx.fail(Code::ConfigReference, span("client-id"), why);
        }
        Some(creds)
    } else {
        None
    };
    let entity = match (cx.optional(e, "queue-name")?, cx.optional(e, "topic-name")?) {
        (Some(q), _) => Entity::Queue(q),
        (None, Some(t)) => Entity::Topic(t),
        (None, None) => {
            return cx.fail(
                Code::AttributeCombination,
                e.name_span,
                "`queue-name` or `topic-name` is required",
            );
        }
    };
    let mut properties = Vec::new();
    let mut payload = None;
    for c in e.elements() {
        match c.name.as_str() {
            "message-properties" => {
                for p in c.elements().filter(|p| p.name == "message-property") {
                    properties.push((cx.required(p, "name")?, cx.text(p)?));
                }
            }
            "payload" => payload = Some(cx.text(c)?),
            _ => {}
        }
    }
    let Some(payload) = payload else {
        return cx.fail(
            Code::AttributeCombination,
            e.name_span,
            "`<payload>` is required",
        );
    };
    Ok(Box::new(SendServiceBusMessage {
        endpoints,
        credentials,
        namespace,
        client_id,
        entity,
        properties,
        payload,
    }))
}

impl SendServiceBusMessage {
    fn namespace(&self, x: &Exchange) -> Result<&ServiceBusNamespace, PolicyError> {
        let name = match &self.namespace {
            Some(n) => n.eval_string(x)?.unwrap_or_default().trim().to_owned(),
            None => {
                return self.endpoints.service_bus.values().next().ok_or_else(|| {
                    err(
                        Reason::BackendNotFound,
                        "no Service Bus namespace is configured",
                    )
                });
            }
        };
        self.endpoints.service_bus.get(&name).ok_or_else(|| {
            err(
                Reason::BackendNotFound,
                format!(
                    "no Service Bus namespace `{name}` is configured (`[service-bus.\"{name}\"]`)"
                ),
            )
        })
    }

    /// The request, but its `Authorization`.
    fn request(
        &self,
        x: &Exchange,
    ) -> Result<(OutboundRequest, &ServiceBusNamespace), PolicyError> {
        let ns = self.namespace(x)?;
        let entity = match &self.entity {
            Entity::Queue(v) | Entity::Topic(v) => v.eval_string(x)?.unwrap_or_default(),
        };
        let entity = entity.trim().trim_matches('/');
        if entity.is_empty() {
            return Err(err(
                Reason::ExpressionValueEvaluationFailure,
                "the queue or topic name is empty",
            ));
        }
        let payload = self.payload.eval_string(x)?.unwrap_or_default();
        let mut headers = Multimap::default();
        let ct = if serde_json::from_str::<serde_json::Value>(&payload).is_ok() {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        headers.set_one("Content-Type", ct.to_owned());
        for (name, value) in &self.properties {
            let name = name.eval_string(x)?.unwrap_or_default();
            let value = value.eval_string(x)?.unwrap_or_default();
            if !name.trim().is_empty() {
                headers.set_one(name.trim(), value.trim().to_owned());
            }
        }
        let req = OutboundRequest {
            method: "POST".into(),
            url: format!("{}/{entity}/messages", ns.endpoint),
            headers,
            body: Bytes::from(payload),
            timeout_ms: TIMEOUT_MS,
            purpose: Purpose::SendRequest,
            ..OutboundRequest::default()
        };
        Ok((req, ns))
    }

    async fn authorize(
        &self,
        x: &mut Exchange,
        ns: &ServiceBusNamespace,
        req: &mut OutboundRequest,
    ) -> Result<(), PolicyError> {
        let value = match &ns.auth {
            ServiceBusAuth::SasKey { name, key } => {
                let uri = req.url.trim_end_matches("/messages");
                let expiry = x.services.now_ms() / 1000 + SAS_SECONDS;
                sas_token(uri, name, key, expiry)
            }
            ServiceBusAuth::ManagedIdentity => {
                let Some(creds) = &self.credentials else {
                    return Err(err(
                        Reason::ManagedIdentityTokenError,
                        "no identity is configured",
                    ));
                };
                let client_id = match &self.client_id {
                    Some(c) => c.eval_string(x)?.filter(|c| !c.trim().is_empty()),
                    None => None,
                };
                let services = Arc::clone(&x.services);
                let token = creds
                    .token_for(
                        &*services,
                        client_id.as_deref().map(str::trim),
                        SERVICE_BUS_RESOURCE,
                    )
                    .await
                    .map_err(|why| err(Reason::ManagedIdentityTokenError, why))?;
                format!("Bearer {}", token.value.expose())
            }
        };
        req.headers.set_one("Authorization", value);
        Ok(())
    }
}

impl Stage for SendServiceBusMessage {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let (mut req, ns) = match self.request(x) {
            Ok(r) => r,
            Err(e) => return Run::fail(e),
        };
        Run::Later(Box::pin(async move {
            self.authorize(x, ns, &mut req).await?;
            let services = Arc::clone(&x.services);
            match services.call(req).await {
                Ok(r) if (200..300).contains(&r.status) => Ok(Flow::Next),
                Ok(r) => Err(err(
                    Reason::BackendError,
                    format!("Service Bus answered {}.", r.status),
                )),
                Err(CallError::Timeout) => {
                    Err(err(Reason::Timeout, "Service Bus did not answer in time."))
                }
                Err(CallError::Connection(cause)) => Err(err(
                    Reason::BackendConnectionFailure,
                    format!("Cannot reach Service Bus: {}", error_chain(&*cause)),
                )
                .with_cause(cause)),
            }
        }))
    }
}
