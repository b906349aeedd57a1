//! `get-authorization-context`: the `Authorization` object (`AccessToken`,
//! `Claims`) of a credential-manager connection, in a variable.
//!
//! APIM's credential providers and connections are, here,
//! `[authorizations.PROVIDER.ID]` entries of the configuration (a static
//! token, or an OAuth2 client-credentials or refresh-token grant); tokens
//! are cached and refreshed like managed-identity tokens. The
//! configuration is the access policy: `identity-type` must be `managed`
//! or `jwt`, and `jwt` needs an `identity`, but no connection is refused
//! to an identity. A failure (an unknown connection, no token) goes to
//! `on-error` (500, `AuthorizationContextError`), or with `ignore-error`
//! sets the variable to null, as the docs say.

use std::sync::Arc;

use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Reason, Run, Stage,
};
use sluice_engine::xml::Element;

use crate::identity::{Credentials, TokenSource};

const POLICY: &str = "get-authorization-context";

#[derive(Debug)]
pub(crate) struct GetAuthorizationContext {
    creds: Arc<Credentials>,
    provider_id: CompiledValue,
    authorization_id: CompiledValue,
    variable: CompiledValue,
    identity_type: Option<CompiledValue>,
    identity: Option<CompiledValue>,
    ignore_error: Option<CompiledValue>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(GetAuthorizationContext {
        creds: cx.resource::<Credentials>(e)?,
        provider_id: cx.required(e, "provider-id")?,
        authorization_id: cx.required(e, "authorization-id")?,
        variable: cx.required(e, "context-variable-name")?,
        identity_type: cx.optional(e, "identity-type")?,
        identity: cx.optional(e, "identity")?,
        ignore_error: cx.optional(e, "ignore-error")?,
    }))
}

fn fail(message: String) -> PolicyError {
    PolicyError::new(POLICY, Reason::AuthorizationContextError, 500, message)
}

impl GetAuthorizationContext {
    /// The connection's provider and id and the variable, after the identity checks.
    fn prepare(&self, x: &Exchange) -> Result<(String, String, String), PolicyError> {
        let text = |v: &CompiledValue| -> Result<String, PolicyError> {
            Ok(v.eval_string(x)?.unwrap_or_default().trim().to_owned())
        };
        let provider = text(&self.provider_id)?;
        let id = text(&self.authorization_id)?;
        let variable = text(&self.variable)?;
        let identity_type = match &self.identity_type {
            Some(v) => text(v)?,
            None => "managed".to_owned(),
        };
        match identity_type.as_str() {
            "managed" => {}
            "jwt" => {
                let identity = match &self.identity {
                    Some(v) => text(v)?,
                    None => String::new(),
                };
                if identity.is_empty() {
                    return Err(fail(
                        "`identity-type=\"jwt\"` needs `identity`: the JWT bearer token to check"
                            .into(),
                    ));
                }
            }
            other => {
                return Err(fail(format!(
                    "`{other}` is not an identity type: `managed` or `jwt`"
                )));
            }
        }
        Ok((provider, id, variable))
    }

    fn ignore_error(&self, x: &Exchange) -> Result<bool, PolicyError> {
        match &self.ignore_error {
            Some(v) => v.eval_bool(x),
            None => Ok(false),
        }
    }
}

impl Stage for GetAuthorizationContext {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::Later(Box::pin(async move {
            let (provider, id, variable) = match self.prepare(x) {
                Ok(p) => p,
                Err(e)
                    if e.reason == Reason::AuthorizationContextError && self.ignore_error(x)? =>
                {
                    let variable = self.variable.eval_string(x)?.unwrap_or_default();
                    x.ctx
                        .variables(|v| v.insert(variable.trim().to_owned(), rhai::Dynamic::UNIT));
                    return Ok(Flow::Next);
                }
                Err(e) => return Err(e),
            };
            let outcome = match self.creds.connection(&provider, &id) {
                None => Err(fail(format!(
                    "No connection `{id}` of the credential provider `{provider}` is configured \
                     (`[authorizations.{provider}.{id}]`)"
                ))),
                Some(conn) => {
                    let services = Arc::clone(&x.services);
                    let key: Arc<str> = conn.key().into();
                    let label = format!("connection {provider}/{id}");
                    let source: &dyn TokenSource = &**conn;
                    self.creds
                        .cache
                        .get(&*services, source, &key, &label, "")
                        .await
                        .map_err(|e| fail(e.message))
                }
            };
            let value = match outcome {
                Ok(t) => rhai::Dynamic::from(sluice_stdlib::context::authorization(
                    t.value.expose(),
                    &t.claims,
                )),
                Err(_) if self.ignore_error(x)? => rhai::Dynamic::UNIT,
                Err(e) => return Err(e),
            };
            x.ctx.variables(|v| v.insert(variable, value));
            Ok(Flow::Next)
        }))
    }
}
