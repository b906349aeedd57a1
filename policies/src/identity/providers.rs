//! Where tokens come from: the managed-identity providers ([`Provider`])
//! and the credential manager's connections ([`Connection`]), each a
//! [`TokenSource`] the cache asks for a fresh token.
//!
//! Every HTTP request goes through the request's `Services` (the outbound
//! client of `sluice run`, the stubs of `sluice test`) with a timeout, and
//! its answer is read up to [`MAX_ANSWER_BYTES`]. Errors name the source,
//! the resource, the status and the endpoint's `error` code; never a token
//! or a secret (an endpoint that echoes its request gets its message
//! scrubbed of the secrets sent).

use std::path::PathBuf;
use std::time::Duration;

use sluice_engine::runtime::{BoxFuture, CallError, Multimap, OutboundRequest, Purpose, Services};

use super::Secret;

/// How long one token request may take to answer.
pub const TIMEOUT_MS: u64 = 10_000;
/// The largest token answer read.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// `az account get-access-token` may take this long.
const CLI_TIMEOUT: Duration = Duration::from_secs(30);
/// The IMDS API version (the one MSAL and the .NET SDK use).
const IMDS_API_VERSION: &str = "2018-02-01";
/// The App Service identity endpoint's API version (`expires_on` in epoch seconds).
const APP_SERVICE_API_VERSION: &str = "2019-08-01";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A managed-identity provider, resolved from `[identity]` (the chain is
/// resolved to one of them when the configuration is read).
#[derive(Clone, Debug)]
pub enum Provider {
    /// Entra client-credentials grant with a client secret.
    ClientSecret {
        authority: String,
        tenant: String,
        client_id: String,
        secret: Secret,
    },
    /// Entra client-credentials grant with a federated token (read from
    /// the file at every request, so a rotated file is always the one sent).
    WorkloadIdentity {
        authority: String,
        tenant: String,
        client_id: String,
        token_file: PathBuf,
    },
    /// The Azure instance metadata service (VMs, scale sets, AKS nodes).
    Imds {
        endpoint: String,
        client_id: Option<String>,
    },
    /// The App Service / Functions identity endpoint.
    AppService {
        endpoint: String,
        header: Secret,
        client_id: Option<String>,
    },
    /// `az account get-access-token` (development).
    AzureCli { tenant: Option<String> },
    /// A fixed token (development and tests): never expires.
    Static { token: Secret },
}

/// A token as a source answered it.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub token: Secret,
    /// Milliseconds since the epoch; `None`: never (a static token).
    pub expires_ms: Option<i64>,
    /// The answer's other fields (the `Claims` of `get-authorization-context`).
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// A new refresh token, when the answer rotates it.
    pub refresh_token: Option<Secret>,
}

/// Why a token could not be obtained (no secret in it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchError {
    pub message: String,
    /// Whether asking again may help (no answer, 429, 5xx, IMDS 404/410).
    pub retryable: bool,
}

impl FetchError {
    fn new(message: impl Into<String>, retryable: bool) -> Self {
        Self {
            message: message.into(),
            retryable,
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Something the cache can ask for a token for a resource.
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    /// The provider's name in metrics and errors: `client-secret`, `imds`, ...
    fn kind(&self) -> &'static str;
    /// What its tokens are cached under: the identity it stands for (and a
    /// hash of its secrets, so that a reload with a new static token or
    /// secret is a new entry).
    fn key(&self) -> String;
    /// A fresh token for `resource` (the current refresh token, for a
    /// refresh-token grant, as the cache last kept it).
    fn fetch<'a>(
        &'a self,
        services: &'a dyn Services,
        resource: &'a str,
        refresh_token: Option<Secret>,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>>;
}

impl Provider {
    /// The same provider asking for the user-assigned identity `client_id`
    /// (IMDS and App Service; the others are one identity each).
    #[must_use]
    pub fn with_client_id(&self, id: &str) -> Provider {
        match self {
            Provider::Imds { endpoint, .. } => Provider::Imds {
                endpoint: endpoint.clone(),
                client_id: Some(id.to_owned()),
            },
            Provider::AppService {
                endpoint, header, ..
            } => Provider::AppService {
                endpoint: endpoint.clone(),
                header: header.clone(),
                client_id: Some(id.to_owned()),
            },
            other => other.clone(),
        }
    }

    /// The secrets this provider sends (scrubbed from any message).
    fn secrets(&self) -> Vec<&str> {
        match self {
            Provider::ClientSecret { secret, .. } => vec![secret.expose()],
            Provider::AppService { header, .. } => vec![header.expose()],
            Provider::Static { token } => vec![token.expose()],
            _ => Vec::new(),
        }
    }
}

/// A hash of secrets, for cache keys (never shown).
fn hash_of(secrets: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    secrets.hash(&mut h);
    h.finish()
}

/// `resource` as a v2 scope: `R/.default` (kept when already a scope).
pub fn scope_of(resource: &str) -> String {
    if resource.ends_with("/.default") {
        resource.to_owned()
    } else {
        format!("{resource}/.default")
    }
}

fn token_url(authority: &str, tenant: &str) -> String {
    format!(
        "{}/{}/oauth2/v2.0/token",
        authority.trim_end_matches('/'),
        tenant
    )
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{}", form(pairs))
}

fn post_form(url: String, body: String) -> OutboundRequest {
    let mut headers = Multimap::default();
    headers.set_one(
        "Content-Type",
        "application/x-www-form-urlencoded".to_owned(),
    );
    headers.set_one("Accept", "application/json".to_owned());
    OutboundRequest {
        method: "POST".into(),
        url,
        headers,
        body: body.into_bytes().into(),
        timeout_ms: TIMEOUT_MS,
        purpose: Purpose::SendRequest,
        client_certificate: None,
    }
}

fn get(url: String, header: (&str, &str)) -> OutboundRequest {
    let mut headers = Multimap::default();
    headers.set_one(header.0, header.1.to_owned());
    headers.set_one("Accept", "application/json".to_owned());
    OutboundRequest {
        method: "GET".into(),
        url,
        headers,
        body: bytes::Bytes::new(),
        timeout_ms: TIMEOUT_MS,
        purpose: Purpose::SendRequest,
        client_certificate: None,
    }
}

/// `text` with every secret of `secrets` (of 4 characters or more) masked.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if s.len() >= 4 {
            out = out.replace(s, "***");
        }
    }
    out
}

/// Sends a token request and reads its JSON answer (bounded), as the
/// token: `what` names the source in errors.
async fn exchange(
    services: &dyn Services,
    req: OutboundRequest,
    what: &str,
    imds: bool,
    secrets: &[&str],
) -> Result<serde_json::Map<String, serde_json::Value>, FetchError> {
    let url = req.url.split('?').next().unwrap_or_default().to_owned();
    let answer = services.call_streaming(req).await.map_err(|e| {
        let why = match e {
            CallError::Timeout => "no answer in time".to_owned(),
            CallError::Connection(c) => format!("cannot reach it ({c})"),
        };
        FetchError::new(scrub(&format!("{what}: `{url}`: {why}"), secrets), true)
    })?;
    let (head, stream) = answer;
    let body = match stream {
        None => head.body.clone(),
        Some(s) => {
            let read = tokio::time::timeout(
                Duration::from_millis(TIMEOUT_MS),
                collect_bounded(s, MAX_ANSWER_BYTES),
            );
            match read.await {
                Ok(Ok(b)) => b,
                Ok(Err(why)) => {
                    return Err(FetchError::new(format!("{what}: `{url}`: {why}"), true));
                }
                Err(_) => {
                    return Err(FetchError::new(
                        format!("{what}: `{url}`: the answer did not arrive in time"),
                        true,
                    ));
                }
            }
        }
    };
    if body.len() > MAX_ANSWER_BYTES {
        return Err(FetchError::new(
            format!("{what}: `{url}`: the answer is larger than {MAX_ANSWER_BYTES} bytes"),
            false,
        ));
    }
    let json: Option<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&body).ok();
    if !(200..300).contains(&head.status) {
        let code = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .map(|e| match e {
                serde_json::Value::String(s) => s.clone(),
                other => other
                    .get("code")
                    .and_then(|c| c.as_str())
                    .unwrap_or_default()
                    .to_owned(),
            })
            .filter(|c| !c.is_empty())
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        let retryable =
            head.status == 429 || head.status >= 500 || (imds && matches!(head.status, 404 | 410));
        return Err(FetchError::new(
            scrub(
                &format!("{what}: `{url}` answered {}{code}", head.status),
                secrets,
            ),
            retryable,
        ));
    }
    json.ok_or_else(|| {
        FetchError::new(
            format!(
                "{what}: `{url}` answered {} but not with a JSON object",
                head.status
            ),
            false,
        )
    })
}

async fn collect_bounded(
    body: sluice_engine::runtime::BodyStream,
    limit: usize,
) -> Result<bytes::Bytes, String> {
    use std::future::poll_fn;
    let mut body = body;
    let mut out = bytes::BytesMut::new();
    loop {
        let next = poll_fn(|cx| futures_core::Stream::poll_next(body.as_mut(), cx)).await;
        match next {
            None => return Ok(out.freeze()),
            Some(Ok(chunk)) => {
                if out.len() + chunk.len() > limit {
                    return Err(format!("the answer is larger than {limit} bytes"));
                }
                out.extend_from_slice(&chunk);
            }
            Some(Err(e)) => return Err(format!("the answer broke off ({e})")),
        }
    }
}

/// A number or a string of digits.
fn number(v: Option<&serde_json::Value>) -> Option<i64> {
    match v? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The token of an OAuth2 / managed-identity answer: `access_token` (or
/// the CLI's `accessToken`), expiring at `expires_on` (epoch seconds) or
/// after `expires_in` seconds; neither: [`DEFAULT_LIFETIME_MS`].
fn token_of(
    mut json: serde_json::Map<String, serde_json::Value>,
    now_ms: i64,
    what: &str,
) -> Result<Fetched, FetchError> {
    let token = json
        .remove("access_token")
        .or_else(|| json.remove("accessToken"));
    let Some(serde_json::Value::String(token)) =
        token.filter(|t| t.as_str().is_some_and(|s| !s.is_empty()))
    else {
        return Err(FetchError::new(
            format!("{what}: the answer has no `access_token`"),
            false,
        ));
    };
    let expires_ms = number(json.get("expires_on"))
        .map(|s| s.saturating_mul(1000))
        .or_else(|| {
            number(json.get("expires_in")).map(|s| now_ms.saturating_add(s.saturating_mul(1000)))
        })
        .unwrap_or(now_ms.saturating_add(DEFAULT_LIFETIME_MS));
    let refresh_token = match json.remove("refresh_token") {
        Some(serde_json::Value::String(r)) if !r.is_empty() => Some(Secret::new(r)),
        _ => None,
    };
    Ok(Fetched {
        token: Secret::new(token),
        expires_ms: Some(expires_ms),
        claims: json,
        refresh_token,
    })
}

/// How long a token whose answer gives no expiry is taken to last.
pub const DEFAULT_LIFETIME_MS: i64 = 5 * 60 * 1000;

impl TokenSource for Provider {
    fn kind(&self) -> &'static str {
        match self {
            Provider::ClientSecret { .. } => "client-secret",
            Provider::WorkloadIdentity { .. } => "workload-identity",
            Provider::Imds { .. } => "imds",
            Provider::AppService { .. } => "app-service",
            Provider::AzureCli { .. } => "azure-cli",
            Provider::Static { .. } => "static",
        }
    }

    fn key(&self) -> String {
        let id = match self {
            Provider::ClientSecret {
                authority,
                tenant,
                client_id,
                ..
            } => format!("{authority}|{tenant}|{client_id}"),
            Provider::WorkloadIdentity {
                authority,
                tenant,
                client_id,
                token_file,
            } => format!("{authority}|{tenant}|{client_id}|{}", token_file.display()),
            Provider::Imds {
                endpoint,
                client_id,
            }
            | Provider::AppService {
                endpoint,
                client_id,
                ..
            } => format!("{endpoint}|{}", client_id.as_deref().unwrap_or("")),
            Provider::AzureCli { tenant } => tenant.clone().unwrap_or_default(),
            Provider::Static { .. } => String::new(),
        };
        format!("mi|{}|{id}|{:x}", self.kind(), hash_of(&self.secrets()))
    }

    fn fetch<'a>(
        &'a self,
        services: &'a dyn Services,
        resource: &'a str,
        _refresh_token: Option<Secret>,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let what = format!(
                "the `{}` provider could not obtain a token for `{resource}`",
                self.kind()
            );
            let secrets = self.secrets();
            let now = services.now_ms();
            match self {
                Provider::ClientSecret {
                    authority,
                    tenant,
                    client_id,
                    secret,
                } => {
                    let scope = scope_of(resource);
                    let body = form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", client_id),
                        ("client_secret", secret.expose()),
                        ("scope", &scope),
                    ]);
                    let req = post_form(token_url(authority, tenant), body);
                    let json = exchange(services, req, &what, false, &secrets).await?;
                    token_of(json, now, &what)
                }
                Provider::WorkloadIdentity {
                    authority,
                    tenant,
                    client_id,
                    token_file,
                } => {
                    let assertion = std::fs::read_to_string(token_file).map_err(|e| {
                        FetchError::new(
                            format!(
                                "{what}: cannot read the federated token file `{}`: {e}",
                                token_file.display()
                            ),
                            true,
                        )
                    })?;
                    let assertion = assertion.trim();
                    let scope = scope_of(resource);
                    let body = form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", client_id),
                        ("client_assertion_type", ASSERTION_TYPE),
                        ("client_assertion", assertion),
                        ("scope", &scope),
                    ]);
                    let req = post_form(token_url(authority, tenant), body);
                    let mut secrets = secrets.clone();
                    secrets.push(assertion);
                    let json = exchange(services, req, &what, false, &secrets).await?;
                    token_of(json, now, &what)
                }
                Provider::Imds {
                    endpoint,
                    client_id,
                } => {
                    let mut q = vec![("api-version", IMDS_API_VERSION), ("resource", resource)];
                    if let Some(id) = client_id {
                        q.push(("client_id", id));
                    }
                    let req = get(with_query(endpoint, &q), ("Metadata", "true"));
                    let json = exchange(services, req, &what, true, &secrets).await?;
                    token_of(json, now, &what)
                }
                Provider::AppService {
                    endpoint,
                    header,
                    client_id,
                } => {
                    let mut q = vec![
                        ("api-version", APP_SERVICE_API_VERSION),
                        ("resource", resource),
                    ];
                    if let Some(id) = client_id {
                        q.push(("client_id", id));
                    }
                    let req = get(
                        with_query(endpoint, &q),
                        ("X-IDENTITY-HEADER", header.expose()),
                    );
                    let json = exchange(services, req, &what, true, &secrets).await?;
                    token_of(json, now, &what)
                }
                Provider::AzureCli { tenant } => {
                    azure_cli(resource, tenant.as_deref(), now, &what).await
                }
                Provider::Static { token } => Ok(Fetched {
                    token: token.clone(),
                    expires_ms: None,
                    claims: serde_json::Map::new(),
                    refresh_token: None,
                }),
            }
        })
    }
}

/// `az account get-access-token --resource R -o json [--tenant T]`.
async fn azure_cli(
    resource: &str,
    tenant: Option<&str>,
    now: i64,
    what: &str,
) -> Result<Fetched, FetchError> {
    let mut cmd = tokio::process::Command::new("az");
    cmd.args([
        "account",
        "get-access-token",
        "--resource",
        resource,
        "-o",
        "json",
    ]);
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let out = match tokio::time::timeout(CLI_TIMEOUT, cmd.output()).await {
        Err(_) => {
            return Err(FetchError::new(
                format!("{what}: `az` did not answer in time"),
                true,
            ));
        }
        Ok(Err(e)) => {
            return Err(FetchError::new(
                format!("{what}: cannot run `az`: {e}"),
                false,
            ));
        }
        Ok(Ok(o)) => o,
    };
    if !out.status.success() {
        // The CLI's own message (it holds no token when it fails), one line.
        let err = String::from_utf8_lossy(&out.stderr);
        let line = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        let line: String = line.chars().take(200).collect();
        return Err(FetchError::new(
            format!("{what}: `az` failed ({}): {line}", out.status),
            false,
        ));
    }
    if out.stdout.len() > MAX_ANSWER_BYTES {
        return Err(FetchError::new(
            format!("{what}: `az` answered too much"),
            false,
        ));
    }
    let json: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&out.stdout)
        .map_err(|_| FetchError::new(format!("{what}: `az` did not answer JSON"), false))?;
    token_of(json, now, what)
}

/// A connection of the credential manager: `[authorizations.PROVIDER.ID]`.
#[derive(Debug)]
pub struct Connection {
    pub provider_id: String,
    pub authorization_id: String,
    pub grant: Grant,
}

/// How a connection gets its access token.
#[derive(Clone, Debug)]
pub enum Grant {
    /// A fixed token (from the environment or a file).
    Static(Secret),
    /// OAuth2 client credentials.
    ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: Secret,
        scope: Option<String>,
    },
    /// OAuth2 refresh token (a rotated refresh token is kept for the next).
    RefreshToken {
        token_url: String,
        client_id: String,
        client_secret: Option<Secret>,
        refresh_token: Secret,
        scope: Option<String>,
    },
}

impl TokenSource for Connection {
    fn kind(&self) -> &'static str {
        match self.grant {
            Grant::Static(_) => "static",
            Grant::ClientCredentials { .. } => "client-credentials",
            Grant::RefreshToken { .. } => "refresh-token",
        }
    }

    fn key(&self) -> String {
        let secrets: Vec<&str> = match &self.grant {
            Grant::Static(t) => vec![t.expose()],
            Grant::ClientCredentials { client_secret, .. } => vec![client_secret.expose()],
            Grant::RefreshToken {
                client_secret,
                refresh_token,
                ..
            } => {
                let mut v = vec![refresh_token.expose()];
                v.extend(client_secret.as_ref().map(Secret::expose));
                v
            }
        };
        format!(
            "conn|{}|{}|{}|{:x}",
            self.provider_id,
            self.authorization_id,
            self.kind(),
            hash_of(&secrets)
        )
    }

    fn fetch<'a>(
        &'a self,
        services: &'a dyn Services,
        _resource: &'a str,
        refresh_token: Option<Secret>,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let what = format!(
                "connection `{}/{}` could not obtain a token",
                self.provider_id, self.authorization_id
            );
            let now = services.now_ms();
            match &self.grant {
                Grant::Static(t) => Ok(Fetched {
                    token: t.clone(),
                    expires_ms: None,
                    claims: serde_json::Map::new(),
                    refresh_token: None,
                }),
                Grant::ClientCredentials {
                    token_url,
                    client_id,
                    client_secret,
                    scope,
                } => {
                    let mut pairs = vec![
                        ("grant_type", "client_credentials"),
                        ("client_id", client_id.as_str()),
                        ("client_secret", client_secret.expose()),
                    ];
                    if let Some(s) = scope {
                        pairs.push(("scope", s));
                    }
                    let req = post_form(token_url.clone(), form(&pairs));
                    let json =
                        exchange(services, req, &what, false, &[client_secret.expose()]).await?;
                    token_of(json, now, &what)
                }
                Grant::RefreshToken {
                    token_url,
                    client_id,
                    client_secret,
                    refresh_token: configured,
                    scope,
                } => {
                    let current = refresh_token.unwrap_or_else(|| configured.clone());
                    let mut pairs = vec![
                        ("grant_type", "refresh_token"),
                        ("client_id", client_id.as_str()),
                        ("refresh_token", current.expose()),
                    ];
                    if let Some(s) = client_secret {
                        pairs.push(("client_secret", s.expose()));
                    }
                    if let Some(s) = scope {
                        pairs.push(("scope", s));
                    }
                    let mut secrets = vec![current.expose()];
                    if let Some(s) = client_secret {
                        secrets.push(s.expose());
                    }
                    let req = post_form(token_url.clone(), form(&pairs));
                    let json = exchange(services, req, &what, false, &secrets).await?;
                    token_of(json, now, &what)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
