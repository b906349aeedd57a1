//! `authentication-managed-identity`: a token of the gateway's identity
//! for `resource`, in `Authorization: Bearer` and, with
//! `output-token-variable-name`, in a variable (a `string`).
//!
//! Which identity: the gateway's own (`[identity]`); with `client-id`, the
//! `[identity.user-assigned.NAME]` it names (or, with IMDS and App Service,
//! the user-assigned identity of that client id); with
//! `authentication-provider="WorkloadIdentity"`, the workload identity
//! (no `client-id` then, as the docs say). An identity that cannot be
//! resolved is a load error at the attribute.
//!
//! Tokens come from the shared cache ([`crate::identity::TokenCache`]): a
//! request whose token is cached and fresh finishes at once. A failure goes
//! to `on-error` (500, `ManagedIdentityTokenError`, a message naming the
//! provider, resource and cause) unless `ignore-error` is true, when the
//! pipeline goes on with neither header nor variable set.
//!
//! In `outbound` (which APIM accepts though the docs list `inbound` only)
//! only the variable is set: the request has gone, and the response goes
//! to the client, which must never get the gateway's token.

use std::sync::Arc;

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Reason, Run, Stage,
};
use sluice_engine::schema::Section;
use sluice_engine::xml::Element;

use crate::identity::{Credentials, Identity, Token, TokenCache, TokenSource};

const POLICY: &str = "authentication-managed-identity";

#[derive(Debug)]
pub struct ManagedIdentity {
    cache: Arc<TokenCache>,
    identity: Identity,
    /// The identity's cache key.
    key: Arc<str>,
    resource: CompiledValue,
    variable: Option<String>,
    ignore_error: Option<CompiledValue>,
    /// Whether to set `Authorization` (not in outbound and on-error).
    header: bool,
}

/// The identity an element selects, or a load error at the attribute that
/// selects it.
fn identity(e: &Element, cx: &mut CompileCx<'_>, creds: &Credentials) -> Compiled<Identity> {
    let client_id = cx.literal(e, "client-id");
    let span = |name: &str| e.attr(name).map_or(e.name_span, |a| a.value.span);
    match cx.literal(e, "authentication-provider") {
        Some(p) if p == "WorkloadIdentity" => {
            if client_id.is_some() {
                return cx.fail(
                    Code::AttributeCombination,
                    span("client-id"),
                    "`client-id` is not given with `authentication-provider=\"WorkloadIdentity\"`: \
                     the workload's own identity is used",
                );
            }
            match &creds.workload {
                Ok(i) => Ok(i.clone()),
                Err(why) => cx.fail(
                    Code::ConfigReference,
                    span("authentication-provider"),
                    format!("`authentication-provider=\"WorkloadIdentity\"`: {why}"),
                ),
            }
        }
        Some(other) => cx.fail(
            Code::InvalidAttributeValue,
            span("authentication-provider"),
            format!("`{other}` is not an authentication provider: `WorkloadIdentity`"),
        ),
        None => match creds.identity(client_id.as_deref()) {
            Ok(i) => Ok(i),
            Err(why) => cx.fail(Code::ConfigReference, span("client-id"), why),
        },
    }
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let header = matches!(cx.section, Section::Inbound | Section::Backend);
    Ok(Box::new(compile_with(e, cx, header)?))
}

/// The policy as a child of `send-request` / `send-one-way-request`: the
/// token goes to that request ([`ManagedIdentity::authorize`]).
pub(crate) fn compile_child(e: &Element, cx: &mut CompileCx<'_>) -> Compiled<ManagedIdentity> {
    compile_with(e, cx, false)
}

fn compile_with(e: &Element, cx: &mut CompileCx<'_>, header: bool) -> Compiled<ManagedIdentity> {
    let creds = cx.resource::<Credentials>(e)?;
    let resource = cx.required(e, "resource")?;
    let ignore_error = cx.optional(e, "ignore-error")?;
    let identity = identity(e, cx, &creds)?;
    Ok(ManagedIdentity {
        cache: Arc::clone(&creds.cache),
        key: identity.provider.key().into(),
        identity,
        resource,
        variable: cx
            .literal(e, "output-token-variable-name")
            .filter(|v| !v.is_empty()),
        ignore_error,
        header,
    })
}

impl ManagedIdentity {
    fn apply(&self, x: &mut Exchange, t: &Token) {
        if self.header {
            let value = format!("Bearer {}", t.value.expose());
            x.request()
                .write(|r| r.headers.set_one("Authorization", value));
        }
        self.store(x, t);
    }

    fn store(&self, x: &mut Exchange, t: &Token) {
        if let Some(name) = &self.variable {
            let token = t.value.expose().to_owned();
            x.ctx.variables(|v| v.insert(name.clone(), token.into()));
        }
    }

    fn ignore_error(&self, x: &Exchange) -> Result<bool, PolicyError> {
        match &self.ignore_error {
            Some(v) => v.eval_bool(x),
            None => Ok(false),
        }
    }

    fn resource(&self, x: &Exchange) -> Result<String, PolicyError> {
        let resource = self
            .resource
            .eval_string(x)?
            .unwrap_or_default()
            .trim()
            .to_owned();
        if resource.is_empty() {
            return Err(PolicyError::new(
                POLICY,
                Reason::ManagedIdentityTokenError,
                500,
                "`resource` is empty: it names the resource the token is for",
            ));
        }
        Ok(resource)
    }

    /// The token for `resource`, from the cache or fetched; `None` when it
    /// cannot be had and `ignore-error` is true.
    async fn token(&self, x: &mut Exchange, resource: &str) -> Result<Option<Token>, PolicyError> {
        let services = Arc::clone(&x.services);
        let source: &dyn TokenSource = &*self.identity.provider;
        let got = self
            .cache
            .get(
                &*services,
                source,
                &self.key,
                &self.identity.label,
                resource,
            )
            .await;
        match got {
            Ok(t) => Ok(Some(t)),
            Err(_) if self.ignore_error(x)? => Ok(None),
            Err(e) => Err(PolicyError::new(
                POLICY,
                Reason::ManagedIdentityTokenError,
                500,
                format!(
                    "No token for the {} identity: {}",
                    self.identity.label, e.message
                ),
            )),
        }
    }

    /// As a child of `send-request`: `Authorization: Bearer` on `req` (and
    /// the variable, if named).
    pub(crate) async fn authorize(
        &self,
        x: &mut Exchange,
        req: &mut sluice_engine::runtime::OutboundRequest,
    ) -> Result<(), PolicyError> {
        let resource = self.resource(x)?;
        if let Some(t) = self.token(x, &resource).await? {
            req.headers
                .set_one("Authorization", format!("Bearer {}", t.value.expose()));
            self.store(x, &t);
        }
        Ok(())
    }
}

impl Stage for ManagedIdentity {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let resource = match self.resource(x) {
            Ok(r) => r,
            Err(e) => return Run::fail(e),
        };
        if let Some(t) = self.cache.peek(&self.key, &resource, x.now_ms()) {
            self.apply(x, &t);
            return Run::next();
        }
        Run::Later(Box::pin(async move {
            if let Some(t) = self.token(x, &resource).await? {
                self.apply(x, &t);
            }
            Ok(Flow::Next)
        }))
    }
}
