//! The credentials family: `[identity]` (what "the gateway's managed
//! identity" is outside Azure, and its user-assigned identities) and
//! `[authorizations.PROVIDER.ID]` (the credential manager's connections),
//! over one token cache that every plan shares, so that a reload keeps
//! every token (a changed secret or static token is a new cache entry).
//!
//! Each plan gets a [`Credentials`] resolved from its configuration: every
//! value is a string, `{ env = "VAR" }` or `{ file = "path" }` (like named
//! values), and `provider = "chain"` (the default) is resolved here, once
//! per plan, from the configuration and the environment: a client secret
//! (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`), then
//! workload identity (`AZURE_FEDERATED_TOKEN_FILE`), then App Service
//! (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`), then IMDS, as the Azure SDKs'
//! default credential tries them. No value of these sections is ever
//! printed: errors name the key, not what it holds.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use sluice_engine::diag::{Diagnostic, Diagnostics};
use sluice_engine::runtime::Resources;
use sluice_policies::identity::{
    CacheMetrics, Connection, Credentials, Grant, Identity, Provider, Secret, TokenCache,
};
use toml::Spanned;

use super::{BuildCx, Family};
use crate::config::model::NamedValue;
use crate::config::resolve_value;

/// Entra's public cloud.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The Azure instance metadata service's token endpoint.
pub const DEFAULT_IMDS: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

const PROVIDERS: &[&str] = &[
    "chain",
    "client-secret",
    "workload-identity",
    "imds",
    "app-service",
    "azure-cli",
    "static",
];

macro_rules! identity_keys {
    ($(#[$m:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$m])*
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct $name {
            /// `chain` (the default), `client-secret`, `workload-identity`,
            /// `imds`, `app-service`, `azure-cli` or `static`.
            pub provider: Option<Spanned<String>>,
            /// Entra's host (default `https://login.microsoftonline.com`, or `AZURE_AUTHORITY_HOST`).
            pub authority_host: Option<Spanned<NamedValue>>,
            pub tenant_id: Option<Spanned<NamedValue>>,
            pub client_id: Option<Spanned<NamedValue>>,
            /// A secret: never printed.
            pub client_secret: Option<Spanned<NamedValue>>,
            /// `provider = "static"`: the token. A secret: never printed.
            pub token: Option<Spanned<NamedValue>>,
            /// Workload identity: the federated token file (default `AZURE_FEDERATED_TOKEN_FILE`).
            pub federated_token_file: Option<Spanned<NamedValue>>,
            /// IMDS: the token endpoint (default the metadata service's).
            pub imds_endpoint: Option<Spanned<NamedValue>>,
            $($extra)*
        }
    };
}

identity_keys!(
    /// `[identity]`: the gateway's identity.
    IdentitySection {
        /// `[identity.user-assigned.NAME]`: what `client-id="NAME"` selects.
        #[serde(default)]
        pub user_assigned: BTreeMap<String, Spanned<UserAssigned>>,
    }
);

identity_keys!(
    /// `[identity.user-assigned.NAME]`: the keys of `[identity]`; those it
    /// leaves out but `provider`, `authority-host`, `tenant-id`,
    /// `federated-token-file` and `imds-endpoint` are not inherited, and
    /// `client-id` defaults to NAME.
    UserAssigned {}
);

/// `[authorizations.PROVIDER.ID]`: a connection of the credential manager.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuthorizationEntry {
    /// A fixed access token. A secret.
    pub token: Option<Spanned<NamedValue>>,
    /// The OAuth2 token endpoint of a client-credentials or refresh-token grant.
    pub token_url: Option<Spanned<NamedValue>>,
    pub client_id: Option<Spanned<NamedValue>>,
    /// A secret.
    pub client_secret: Option<Spanned<NamedValue>>,
    /// With it, the refresh-token grant (else client credentials). A secret.
    pub refresh_token: Option<Spanned<NamedValue>>,
    /// The `scope` parameter sent, if any.
    pub scope: Option<Spanned<NamedValue>>,
}

/// The resolved values of one identity's keys (`None`: not given).
#[derive(Default)]
struct Values {
    provider: Option<(String, std::ops::Range<usize>)>,
    authority: Option<String>,
    tenant: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    token: Option<String>,
    token_file: Option<String>,
    imds: Option<String>,
}

/// Resolves values, collecting errors (which name the key, never the value).
struct Resolver<'a, 'b> {
    cx: &'a BuildCx<'b>,
    diags: Diagnostics,
}

impl Resolver<'_, '_> {
    fn value(&mut self, what: &str, v: Option<&Spanned<NamedValue>>) -> Option<String> {
        let v = v?;
        match resolve_value(what, v.get_ref(), self.cx.base, self.cx.env) {
            Ok(s) => Some(s),
            Err((_, msg)) => {
                self.error(v.span(), msg);
                None
            }
        }
    }

    fn error(&mut self, span: std::ops::Range<usize>, msg: impl Into<String>) {
        self.diags.push(self.cx.error(span, msg));
    }

    fn env(&self, var: &str) -> Option<String> {
        (self.cx.env)(var).filter(|v| !v.is_empty())
    }
}

macro_rules! values_of {
    ($r:expr, $where:expr, $k:expr) => {{
        let w = $where;
        Values {
            provider: $k
                .provider
                .as_ref()
                .map(|p| (p.get_ref().trim().to_owned(), p.span())),
            authority: $r.value(&format!("`{w} authority-host`"), $k.authority_host.as_ref()),
            tenant: $r.value(&format!("`{w} tenant-id`"), $k.tenant_id.as_ref()),
            client_id: $r.value(&format!("`{w} client-id`"), $k.client_id.as_ref()),
            client_secret: $r.value(&format!("`{w} client-secret`"), $k.client_secret.as_ref()),
            token: $r.value(&format!("`{w} token`"), $k.token.as_ref()),
            token_file: $r.value(
                &format!("`{w} federated-token-file`"),
                $k.federated_token_file.as_ref(),
            ),
            imds: $r.value(&format!("`{w} imds-endpoint`"), $k.imds_endpoint.as_ref()),
        }
    }};
}

impl Resolver<'_, '_> {
    fn authority(&self, v: &Values) -> String {
        v.authority
            .clone()
            .or_else(|| self.env("AZURE_AUTHORITY_HOST"))
            .unwrap_or_else(|| DEFAULT_AUTHORITY.to_owned())
    }

    fn path(&self, p: &str) -> PathBuf {
        self.cx.base.join(p)
    }

    /// The provider `v` configures (`own_env`: whether `AZURE_*` variables
    /// stand for its values, as for the gateway's own identity), or why
    /// it cannot be built.
    fn provider(&self, w: &str, v: &Values, own_env: bool) -> Result<Provider, String> {
        let env = |var: &str| if own_env { self.env(var) } else { None };
        let kind = v.provider.as_ref().map_or("chain", |(k, _)| k.as_str());
        let tenant = v.tenant.clone().or_else(|| env("AZURE_TENANT_ID"));
        let client = v.client_id.clone().or_else(|| env("AZURE_CLIENT_ID"));
        let secret = v
            .client_secret
            .clone()
            .or_else(|| env("AZURE_CLIENT_SECRET"));
        let token_file = v
            .token_file
            .clone()
            .or_else(|| self.env("AZURE_FEDERATED_TOKEN_FILE"));
        let app_service = self
            .env("IDENTITY_ENDPOINT")
            .zip(self.env("IDENTITY_HEADER"));
        let imds = || Provider::Imds {
            endpoint: v.imds.clone().unwrap_or_else(|| DEFAULT_IMDS.to_owned()),
            client_id: client.clone(),
        };
        let missing = |what: &str| format!("`{w}` with `provider = \"{kind}\"` needs {what}");
        match kind {
            "chain" => Ok(
                match (&tenant, &client, &secret, &token_file, &app_service) {
                    (Some(t), Some(c), Some(s), _, _) => Provider::ClientSecret {
                        authority: self.authority(v),
                        tenant: t.clone(),
                        client_id: c.clone(),
                        secret: Secret::new(s.as_str()),
                    },
                    (Some(t), Some(c), None, Some(f), _) => Provider::WorkloadIdentity {
                        authority: self.authority(v),
                        tenant: t.clone(),
                        client_id: c.clone(),
                        token_file: self.path(f),
                    },
                    (_, _, _, _, Some((endpoint, header))) => Provider::AppService {
                        endpoint: endpoint.clone(),
                        header: Secret::new(header.as_str()),
                        client_id: client.clone(),
                    },
                    _ => imds(),
                },
            ),
            "client-secret" => match (tenant, client, secret) {
                (Some(tenant), Some(client_id), Some(s)) => Ok(Provider::ClientSecret {
                    authority: self.authority(v),
                    tenant,
                    client_id,
                    secret: Secret::new(s),
                }),
                _ => Err(missing("`tenant-id`, `client-id` and `client-secret`")),
            },
            "workload-identity" => match (tenant, client, token_file) {
                (Some(tenant), Some(client_id), Some(f)) => Ok(Provider::WorkloadIdentity {
                    authority: self.authority(v),
                    tenant,
                    client_id,
                    token_file: self.path(&f),
                }),
                _ => Err(missing(
                    "`tenant-id`, `client-id` and `federated-token-file` (or `AZURE_FEDERATED_TOKEN_FILE`)",
                )),
            },
            "imds" => Ok(imds()),
            "app-service" => match app_service {
                Some((endpoint, header)) => Ok(Provider::AppService {
                    endpoint,
                    header: Secret::new(header),
                    client_id: client,
                }),
                None => Err(missing(
                    "the environment variables `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`",
                )),
            },
            "azure-cli" => Ok(Provider::AzureCli { tenant }),
            "static" => match &v.token {
                Some(t) => Ok(Provider::Static {
                    token: Secret::new(t.as_str()),
                }),
                None => Err(missing("`token`")),
            },
            other => Err(format!(
                "`{other}` is not an identity provider: {}",
                PROVIDERS.join(", ")
            )),
        }
    }

    /// The workload identity of `authentication-provider="WorkloadIdentity"`.
    fn workload(&self, v: &Values) -> Result<Provider, String> {
        let tenant = v.tenant.clone().or_else(|| self.env("AZURE_TENANT_ID"));
        let client = v.client_id.clone().or_else(|| self.env("AZURE_CLIENT_ID"));
        let file = v
            .token_file
            .clone()
            .or_else(|| self.env("AZURE_FEDERATED_TOKEN_FILE"));
        match (tenant, client, file) {
            (Some(tenant), Some(client_id), Some(f)) => Ok(Provider::WorkloadIdentity {
                authority: self.authority(v),
                tenant,
                client_id,
                token_file: self.path(&f),
            }),
            _ => Err(
                "the workload identity needs `[identity] tenant-id`, `client-id` and \
                      `federated-token-file` (or `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and \
                      `AZURE_FEDERATED_TOKEN_FILE`)"
                    .into(),
            ),
        }
    }

    fn connection(
        &mut self,
        provider: &str,
        id: &str,
        e: &Spanned<AuthorizationEntry>,
    ) -> Option<Connection> {
        let w = format!("[authorizations.{provider}.{id}]");
        let k = e.get_ref();
        let token = self.value(&format!("`{w} token`"), k.token.as_ref());
        let url = self.value(&format!("`{w} token-url`"), k.token_url.as_ref());
        let client = self.value(&format!("`{w} client-id`"), k.client_id.as_ref());
        let secret = self.value(&format!("`{w} client-secret`"), k.client_secret.as_ref());
        let refresh = self.value(&format!("`{w} refresh-token`"), k.refresh_token.as_ref());
        let scope = self.value(&format!("`{w} scope`"), k.scope.as_ref());
        let grant = if k.token.is_some() {
            if k.token_url.is_some() || k.refresh_token.is_some() || k.client_secret.is_some() {
                self.error(
                    e.span(),
                    format!("`{w}`: a fixed `token` takes no `token-url`, `client-secret` or `refresh-token`"),
                );
                return None;
            }
            Grant::Static(Secret::new(token?))
        } else {
            let (Some(token_url), Some(client_id)) = (url, client) else {
                if k.token_url.is_none() || k.client_id.is_none() {
                    self.error(
                        e.span(),
                        format!(
                            "`{w}` needs `token` (a fixed token), or `token-url` and `client-id` \
                             with `client-secret` (client credentials) or `refresh-token`"
                        ),
                    );
                }
                return None;
            };
            if !(token_url.starts_with("http://") || token_url.starts_with("https://")) {
                self.error(
                    e.span(),
                    format!("`{w} token-url` must be an http or https URL"),
                );
                return None;
            }
            match (refresh, secret) {
                (Some(r), s) => Grant::RefreshToken {
                    token_url,
                    client_id,
                    client_secret: s.map(Secret::new),
                    refresh_token: Secret::new(r),
                    scope,
                },
                (None, Some(s)) => Grant::ClientCredentials {
                    token_url,
                    client_id,
                    client_secret: Secret::new(s),
                    scope,
                },
                (None, None) => {
                    if k.client_secret.is_none() && k.refresh_token.is_none() {
                        self.error(
                            e.span(),
                            format!("`{w}` needs `client-secret` (client credentials) or `refresh-token`"),
                        );
                    }
                    return None;
                }
            }
        };
        Some(Connection {
            provider_id: provider.to_owned(),
            authorization_id: id.to_owned(),
            grant,
        })
    }
}

/// The credentials of a configuration, over `cache`.
fn credentials(cx: &BuildCx<'_>, cache: &Arc<TokenCache>) -> Result<Credentials, Diagnostics> {
    let section = &cx.config.identity;
    let mut r = Resolver {
        cx,
        diags: Diagnostics::new(),
    };
    let own = values_of!(r, "[identity]", section);
    let span = own.provider.as_ref().map_or(0..0, |(_, s)| s.clone());
    let system = r.provider("[identity]", &own, true).unwrap_or_else(|why| {
        r.error(span.clone(), why);
        Provider::Static {
            token: Secret::new(""),
        }
    });
    let by_client_id = match &system {
        Provider::Imds { .. } | Provider::AppService { .. } => Ok(system.clone()),
        other => Err(format!(
            "the `{}` provider of `[identity]` has no user-assigned identities",
            sluice_policies::identity::TokenSource::kind(other)
        )),
    };
    let mut user_assigned = BTreeMap::new();
    for (name, entry) in &section.user_assigned {
        let w = format!("[identity.user-assigned.{name}]");
        let mut v = values_of!(r, &w, entry.get_ref());
        v.provider = v.provider.or_else(|| own.provider.clone());
        v.authority = v.authority.or_else(|| own.authority.clone());
        v.tenant = v.tenant.or_else(|| own.tenant.clone());
        v.token_file = v.token_file.or_else(|| own.token_file.clone());
        v.imds = v.imds.or_else(|| own.imds.clone());
        v.client_id = v.client_id.or_else(|| Some(name.clone()));
        match r.provider(&w, &v, false) {
            Ok(p) => {
                user_assigned.insert(
                    name.clone(),
                    Identity {
                        label: format!("user-assigned {name}"),
                        provider: Arc::new(p),
                    },
                );
            }
            Err(why) => r.error(entry.span(), why),
        }
    }
    let workload = r.workload(&own).map(|p| Identity {
        label: "workload".into(),
        provider: Arc::new(p),
    });
    let mut connections = BTreeMap::new();
    for (provider, ids) in &cx.config.authorizations {
        for (id, entry) in ids {
            if let Some(c) = r.connection(provider, id, entry) {
                connections.insert((provider.clone(), id.clone()), Arc::new(c));
            }
        }
    }
    if r.diags.has_errors() {
        return Err(r.diags);
    }
    Ok(Credentials {
        system: Identity {
            label: "system-assigned".into(),
            provider: Arc::new(system),
        },
        user_assigned,
        workload,
        by_client_id,
        connections,
        cache: Arc::clone(cache),
    })
}

/// The token cache a gateway keeps across reloads.
pub struct CredentialsFamily {
    cache: Arc<TokenCache>,
}

impl std::fmt::Debug for CredentialsFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsFamily").finish_non_exhaustive()
    }
}

impl CredentialsFamily {
    /// The cache, its metrics in the gateway's registry.
    pub fn new(cx: &BuildCx<'_>) -> Result<Self, Diagnostics> {
        let metrics = CacheMetrics::register(cx.registry).map_err(|e| {
            let mut d = Diagnostics::new();
            let diag: Diagnostic =
                cx.error(0..0, format!("cannot set up the identity metrics: {e}"));
            d.push(diag);
            d
        })?;
        Ok(Self {
            cache: Arc::new(TokenCache::new(Some(metrics), cx.mode.log)),
        })
    }
}

impl Family for CredentialsFamily {
    fn section(&self) -> &'static str {
        "identity"
    }

    /// Any of `[identity]` and `[authorizations]` may change on reload:
    /// the cache keys tokens by the identity they are for.
    fn provide(&self, cx: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics> {
        out.insert(Arc::new(credentials(cx, &self.cache)?));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
