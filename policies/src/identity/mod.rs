//! Credentials: the tokens the gateway obtains for itself
//! (`authentication-managed-identity`) and for the connections of its
//! credential manager (`get-authorization-context`).
//!
//! - `mod.rs`: [`Credentials`], the handle stages take (the gateway's
//!   identities and connections of one plan, over one shared cache);
//!   [`Secret`]
//! - `cache.rs`: [`TokenCache`]: one token per (source, resource), single
//!   flight, refresh ahead of expiry, a still-valid token kept when a
//!   refresh fails, bounded retries, metrics, one log line per outage
//! - `providers.rs`: where managed-identity tokens come from ([`Provider`]:
//!   Entra client secret, workload identity, IMDS, App Service, Azure CLI,
//!   static) and the connections' OAuth2 grants ([`Connection`])
//!
//! The gateway's credentials family (`gateway/src/resources/credentials.rs`)
//! reads `[identity]` and `[authorizations]`, resolves the chain, and hands
//! each plan a [`Credentials`] over the cache it keeps across reloads.
//! Every token request goes through the request's [`Services::call`], the
//! seam the conformance runner's stubs answer, and every expiry is decided
//! by the gateway's clock ([`Services::now_ms`], virtual in `sluice test`).
//!
//! [`Services::call`]: sluice_engine::runtime::Services::call
//! [`Services::now_ms`]: sluice_engine::runtime::Services::now_ms

mod cache;
mod providers;

use std::collections::BTreeMap;
use std::sync::Arc;

use sluice_engine::runtime::{BackendEntity, Certificates, OutboundRequest, Services};

pub use cache::{CacheMetrics, Token, TokenCache};
pub use providers::{Connection, FetchError, Fetched, Grant, Provider, TokenSource};

/// A secret (a token, a client secret, a password): its `Debug` shows
/// `Secret(..)`, never the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(s: impl Into<Arc<str>>) -> Self {
        Self(s.into())
    }

    /// The secret's text: only for the request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The provider of `authentication-managed-identity`'s tokens for one
/// identity: the gateway's own, a named user-assigned one, or its workload.
#[derive(Clone, Debug)]
pub struct Identity {
    /// What logs and errors call it: `system-assigned`, `user-assigned NAME`, `workload`.
    pub label: String,
    pub provider: Arc<Provider>,
}

/// What the stages of one plan reach: the gateway's identities and the
/// credential manager's connections, over the cache every plan shares.
#[derive(Debug)]
pub struct Credentials {
    /// The gateway's identity (`[identity]`).
    pub system: Identity,
    /// `[identity.user-assigned.NAME]`, by name.
    pub user_assigned: BTreeMap<String, Identity>,
    /// `authentication-provider="WorkloadIdentity"`: the workload identity,
    /// or why the configuration has none.
    pub workload: Result<Identity, String>,
    /// How a `client-id` that names no configured identity is reached: the
    /// IMDS or App Service provider it is given to as the user-assigned
    /// identity's client id, or why there is none.
    pub by_client_id: Result<Provider, String>,
    /// `[authorizations.PROVIDER.ID]`, by (provider, id).
    pub connections: BTreeMap<(String, String), Arc<Connection>>,
    pub cache: Arc<TokenCache>,
}

impl Credentials {
    /// Credentials with only a gateway identity (tests, benches).
    pub fn with_system(provider: Provider, cache: Arc<TokenCache>) -> Self {
        Self {
            system: Identity {
                label: "system-assigned".into(),
                provider: Arc::new(provider),
            },
            user_assigned: BTreeMap::new(),
            workload: Err("no workload identity is configured".into()),
            by_client_id: Err("no user-assigned identity is configured".into()),
            connections: BTreeMap::new(),
            cache,
        }
    }

    /// The identity `client-id` selects (`None`: the gateway's own), or why
    /// none can be.
    pub fn identity(&self, client_id: Option<&str>) -> Result<Identity, String> {
        let Some(id) = client_id else {
            return Ok(self.system.clone());
        };
        if let Some(i) = self.user_assigned.get(id) {
            return Ok(i.clone());
        }
        match &self.by_client_id {
            Ok(p) => Ok(Identity {
                label: format!("user-assigned {id}"),
                provider: Arc::new(p.with_client_id(id)),
            }),
            Err(why) => Err(format!(
                "`client-id=\"{id}\"` names no `[identity.user-assigned.{id}]`, and {why}"
            )),
        }
    }

    /// A token of the identity `client_id` selects (`None`: the gateway's
    /// own) for `resource`, from the cache every plan shares or fetched.
    /// The error names the identity and why, never a secret.
    pub async fn token_for(
        &self,
        services: &dyn Services,
        client_id: Option<&str>,
        resource: &str,
    ) -> Result<Token, String> {
        let identity = self.identity(client_id)?;
        let source: &dyn TokenSource = &*identity.provider;
        let key: Arc<str> = source.key().into();
        self.cache
            .get(services, source, &key, &identity.label, resource)
            .await
            .map_err(|e| {
                format!(
                    "No token for the {} identity: {}",
                    identity.label, e.message
                )
            })
    }

    /// The connection `[authorizations.PROVIDER.ID]`.
    pub fn connection(&self, provider: &str, id: &str) -> Option<&Arc<Connection>> {
        self.connections.get(&(provider.to_owned(), id.to_owned()))
    }
}

/// What a backend entity adds to a call to it beyond its URL, headers,
/// query and `authorization`: its TLS checks, its proxy and its client
/// certificate (unless the call has its own: the `proxy` and
/// `authentication-certificate` policies win), and its managed identity's
/// token. `forward-request` and `llm-content-safety` call it; the error is
/// why no token could be had.
pub async fn entity_credentials(
    entity: &BackendEntity,
    certificates: Option<&Certificates>,
    credentials: Option<&Credentials>,
    services: &dyn Services,
    req: &mut OutboundRequest,
) -> Result<(), String> {
    req.tls = entity.tls;
    if req.proxy.is_none() {
        req.proxy = entity.proxy.clone();
    }
    if req.client_certificate.is_none()
        && let Some(id) = entity.certificates.first()
    {
        req.client_certificate = certificates
            .and_then(|c| c.by_id.get(id))
            .and_then(|c| c.identity.clone());
    }
    let Some(mi) = &entity.managed_identity else {
        return Ok(());
    };
    let credentials = credentials.ok_or("no identity is configured")?;
    let token = credentials
        .token_for(services, mi.client_id.as_deref(), &mi.resource)
        .await?;
    req.headers
        .set_one("Authorization", format!("Bearer {}", token.value.expose()));
    Ok(())
}
