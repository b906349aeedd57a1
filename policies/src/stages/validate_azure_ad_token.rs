//! `validate-azure-ad-token`: the request must carry a valid Microsoft
//! Entra token of the tenant `tenant-id` (validate-azure-ad-token-policy.md).
//! The token comes from `header-name` (default `Authorization`, as
//! `Bearer <token>`), `query-parameter-name` or `token-value`; its keys from
//! the tenant's OpenID configuration at `authentication-endpoint` (default
//! `https://login.microsoftonline.com`, `https://` optional),
//! `{endpoint}/{tenant}/v2.0/.well-known/openid-configuration`, through
//! the gateway's key sets (cached, refetched on an unknown `kid`).
//!
//! Checked: the signature, `exp` and `nbf`, the issuer (a v1 token's
//! `https://sts.windows.net/{tid}/` or a v2 token's `{endpoint}/{tid}/v2.0`,
//! `tid` being the tenant's id: the GUID given, or the one the tenant's
//! OpenID configuration names; any tenant for `common`, `organizations`
//! and `consumers`), the audience (any of `audiences` and of
//! `backend-application-ids`, bare or as `api://{id}`), the client
//! application (`appid` of v1 tokens, `azp` of v2, against
//! `client-application-ids`), then `required-claims`. An encrypted token
//! is opened with the `decryption-keys` first, as by `validate-jwt`.
//! Refusals as `validate-jwt`'s, with source `validate-azure-ad-token`.

use std::sync::Arc;

use serde_json::Value;
use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Reason, Run, Stage,
};
use sluice_engine::xml::Element;

use crate::jwt::decryption::Decryption;
use crate::jwt::keysets::KeySets;
use crate::jwt::policy::{self, ClaimSpec, Common};
use crate::jwt::{Checks, Failure, Token};

/// The Entra endpoint of the public cloud.
const DEFAULT_ENDPOINT: &str = "https://login.microsoftonline.com";

#[derive(Debug)]
struct ValidateAzureAdToken {
    common: Common,
    tenant: CompiledValue,
    endpoint: Option<CompiledValue>,
    keysets: Arc<KeySets>,
    decryption: Decryption,
    client_ids: Vec<CompiledValue>,
    backend_ids: Vec<CompiledValue>,
    audiences: Vec<CompiledValue>,
    claims: Vec<ClaimSpec>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let common = Common::compile(e, cx, "validate-azure-ad-token", Some("Authorization"))?;
    let tenant = cx.required(e, "tenant-id")?;
    let endpoint = cx.optional(e, "authentication-endpoint")?;
    let decryption = Decryption::compile(e, cx)?;
    let keysets = cx.resource::<KeySets>(e)?;
    if let (CompiledValue::Literal(t), None | Some(CompiledValue::Literal(_))) =
        (&tenant, &endpoint)
    {
        let ep = match &endpoint {
            Some(CompiledValue::Literal(ep)) => ep.as_str(),
            _ => DEFAULT_ENDPOINT,
        };
        keysets.register(&openid_url(ep, &tenant_name(t)));
    }
    Ok(Box::new(ValidateAzureAdToken {
        common,
        tenant,
        endpoint,
        keysets,
        decryption,
        client_ids: policy::compile_list(e, cx, "client-application-ids", "application-id")?,
        backend_ids: policy::compile_list(e, cx, "backend-application-ids", "application-id")?,
        audiences: policy::compile_list(e, cx, "audiences", "audience")?,
        claims: policy::compile_claims(e, cx)?,
    }))
}

/// `https://` added when the endpoint has no scheme; no trailing `/`.
fn endpoint_url(ep: &str) -> String {
    let ep = ep.trim().trim_end_matches('/');
    if ep.contains("://") {
        ep.to_owned()
    } else {
        format!("https://{ep}")
    }
}

/// The tenant as its OpenID configuration URL names it: a GUID, a domain,
/// `organizations`; from a URL, its last path segment, else its host.
fn tenant_name(t: &str) -> String {
    let t = t.trim();
    let rest = t.split_once("://").map_or(t, |(_, r)| r);
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match parts.as_slice() {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [.., last] => (*last).to_owned(),
    }
}

fn openid_url(endpoint: &str, tenant: &str) -> String {
    format!(
        "{}/{tenant}/v2.0/.well-known/openid-configuration",
        endpoint_url(endpoint)
    )
}

fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The tenant id tokens must carry: the GUID given, else the one in the
/// issuer of the tenant's OpenID configuration; `None`: any tenant.
fn tenant_id(tenant: &str, config_issuer: Option<&str>) -> Option<String> {
    if is_guid(tenant) {
        return Some(tenant.to_ascii_lowercase());
    }
    if matches!(
        tenant.to_ascii_lowercase().as_str(),
        "common" | "organizations" | "consumers"
    ) {
        return None;
    }
    config_issuer?
        .split('/')
        .find(|s| is_guid(s))
        .map(str::to_ascii_lowercase)
        // A tenant whose configuration names no tenant id: none is accepted.
        .or_else(|| Some(String::new()))
}

impl ValidateAzureAdToken {
    /// Issuer, client application (after the signature and lifetime).
    fn entra_checks(
        &self,
        token: &Token<'_>,
        endpoint: &str,
        tid: Option<&str>,
        client_ids: &[String],
    ) -> Result<(), Failure> {
        let claims = &token.claims;
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        let token_tid = claims
            .get("tid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let tenant_ok = tid.is_none_or(|t| t == token_tid) && !token_tid.is_empty();
        let v1 = format!("https://sts.windows.net/{token_tid}/");
        let v2 = format!("{endpoint}/{token_tid}/v2.0");
        if !tenant_ok || !(iss.eq_ignore_ascii_case(&v1) || iss.eq_ignore_ascii_case(&v2)) {
            return Err(Failure::new(
                Reason::TokenIssuerNotAllowed,
                format!("Issuer validation failed. Issuer: '{iss}'. Access denied."),
            ));
        }
        if client_ids.is_empty() {
            return Ok(());
        }
        let (claim, app) = match (claims.get("appid"), claims.get("azp")) {
            (Some(Value::String(a)), _) => ("appid", a.as_str()),
            (_, Some(Value::String(a))) => ("azp", a.as_str()),
            _ => {
                return Err(Failure::new(
                    Reason::TokenClaimNotFound,
                    "JWT token is missing the following claims: appid (v1) or azp (v2). Access denied.",
                ));
            }
        };
        if client_ids.iter().any(|c| c.eq_ignore_ascii_case(app)) {
            Ok(())
        } else {
            Err(Failure::new(
                Reason::TokenClaimValueNotAllowed,
                format!("Claim {claim} value of {app} is not allowed. Access denied."),
            ))
        }
    }
}

impl Stage for ValidateAzureAdToken {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let evaluated = (|| -> Result<Result<_, Failure>, PolicyError> {
            let Some(token) = self.common.token(x)? else {
                return Ok(Err(Failure::not_present()));
            };
            let token = match self.decryption.open("validate-azure-ad-token", x, token)? {
                Ok(t) => t,
                Err(f) => return Ok(Err(f)),
            };
            let tenant = tenant_name(&self.tenant.text(x)?);
            let endpoint = endpoint_url(&match &self.endpoint {
                Some(v) => v.text(x)?.into_owned(),
                None => DEFAULT_ENDPOINT.to_owned(),
            });
            let mut audiences = policy::eval_list(&self.audiences, x)?;
            for b in policy::eval_list(&self.backend_ids, x)? {
                audiences.push(format!("api://{b}"));
                audiences.push(b);
            }
            let checks = Checks {
                now_s: x.now_ms().div_euclid(1000),
                skew_s: 0,
                require_expiration: true,
                audiences,
                issuers: Vec::new(),
                claims: policy::eval_claims(&self.claims, x)?,
            };
            let client_ids = policy::eval_list(&self.client_ids, x)?;
            Ok(Ok((token, tenant, endpoint, checks, client_ids)))
        })();
        let (token, tenant, endpoint, checks, client_ids) = match evaluated {
            Ok(Ok(v)) => v,
            Ok(Err(f)) => return Run::fail(self.common.refuse(x, f)),
            Err(e) => return Run::fail(e),
        };
        Run::Later(Box::pin(async move {
            let services = Arc::clone(&x.services);
            let url = openid_url(&endpoint, &tenant);
            let r = match crate::jwt::parse(&token) {
                Err(f) => Err(f),
                Ok(t) => {
                    let (fetched, issuers) = policy::keys_for(
                        services.as_ref(),
                        Some(&self.keysets),
                        std::slice::from_ref(&url),
                        &t,
                    )
                    .await;
                    let tid = tenant_id(&tenant, issuers.first().map(String::as_str));
                    policy::validate(&t, &[], &[], &fetched, true, &checks).and_then(|()| {
                        self.entra_checks(&t, &endpoint, tid.as_deref(), &client_ids)
                    })
                }
            };
            match r {
                Ok(()) => {
                    self.common.output(x, &token);
                    Ok(Flow::Next)
                }
                Err(f) => Err(self.common.refuse(x, f)),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_and_endpoints_make_the_openid_url() {
        assert_eq!(
            openid_url("login.microsoftonline.us/", "contoso.onmicrosoft.com"),
            "https://login.microsoftonline.us/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
        );
        assert_eq!(
            tenant_name("https://login.microsoftonline.com/organizations"),
            "organizations"
        );
        assert_eq!(
            tenant_name("https://contoso.onmicrosoft.com"),
            "contoso.onmicrosoft.com"
        );
        assert_eq!(
            tenant_name("11111111-2222-3333-4444-555555555555"),
            "11111111-2222-3333-4444-555555555555"
        );
    }

    #[test]
    fn the_tenant_id_comes_from_the_guid_or_the_configuration() {
        let g = "11111111-2222-3333-4444-555555555555";
        assert_eq!(tenant_id(g, None).as_deref(), Some(g));
        assert_eq!(tenant_id("organizations", None), None);
        let issuer = format!("https://login.microsoftonline.com/{g}/v2.0");
        assert_eq!(
            tenant_id("contoso.onmicrosoft.com", Some(&issuer)).as_deref(),
            Some(g)
        );
        assert_eq!(tenant_id("contoso.onmicrosoft.com", None), None);
    }
}
