//! `sluice.toml` as data: the keys of the conformance format (FORMAT.md §1)
//! plus the gateway's own (`[gateway]`, `[admin]`, `[limits]`, `[log]`,
//! `[identity]`, `[authorizations]`). Unknown keys
//! are errors; every value that a later error may point at keeps its span.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    pub gateway: GatewaySection,
    #[serde(default)]
    pub admin: AdminSection,
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default)]
    pub log: LogSection,
    #[serde(default)]
    pub semantic_cache: SemanticCacheSection,
    #[serde(default)]
    pub counters: CountersSection,
    #[serde(default)]
    pub metrics: MetricsSection,
    #[serde(default)]
    pub cache: CacheSection,
    #[serde(default)]
    pub identity: IdentitySection,
    /// `[authorizations.PROVIDER.ID]`: the credential manager's connections.
    #[serde(default)]
    pub authorizations: BTreeMap<String, BTreeMap<String, Spanned<AuthorizationEntry>>>,
    /// `[loggers.ID]`: where `log-to-eventhub` and `trace` send (resources/sinks.rs).
    #[serde(default)]
    pub loggers: BTreeMap<String, Spanned<LoggerEntry>>,
    /// `[dapr]`: the Dapr sidecar of the Dapr policies.
    #[serde(default)]
    pub dapr: DaprSection,
    /// `[service-bus."NAMESPACE"]`: the namespaces of `send-service-bus-message`.
    #[serde(default)]
    pub service_bus: BTreeMap<String, Spanned<ServiceBusEntry>>,
    #[serde(default)]
    pub named_values: BTreeMap<String, Spanned<NamedValue>>,
    #[serde(default)]
    pub backends: BTreeMap<String, Spanned<Backend>>,
    #[serde(default)]
    pub certificates: BTreeMap<String, Spanned<CertificateEntry>>,
    #[serde(default)]
    pub fragments: BTreeMap<String, Spanned<PolicyText>>,
    /// Schemas for `validate-content schema-id`: an id and a JSON Schema
    /// file (JSON or YAML), relative to the configuration file.
    #[serde(default)]
    pub schemas: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub policy: PolicySection,
    #[serde(default, rename = "product")]
    pub products: Vec<Spanned<Product>>,
    #[serde(default, rename = "subscription")]
    pub subscriptions: Vec<Spanned<Subscription>>,
    #[serde(default, rename = "api")]
    pub apis: Vec<Spanned<Api>>,
    /// `[apiops]`: an APIOps extract whose APIs, products, subscriptions,
    /// named values, backends, fragments and global policy are added to
    /// this configuration (`config/apiops`).
    pub apiops: Option<Spanned<ApiopsSection>>,
}

/// `[apiops] dir = "...", overrides = "..."`, relative to the configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ApiopsSection {
    /// The extract's root folder (the one holding `apis/`).
    pub dir: Spanned<String>,
    /// A publisher overrides file (`configuration.<env>.yaml`).
    pub overrides: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GatewaySection {
    /// `host:port` the gateway serves on.
    pub listen: Option<Spanned<String>>,
    /// How long requests in flight may take to finish after SIGTERM or
    /// SIGINT (default 30 s): see [`Duration::of`].
    pub shutdown_grace: Option<Spanned<Duration>>,
    /// Worker threads serving connections (default: one per core; 1 to 256).
    /// Read at start: a reload that changes it waits for a restart.
    pub workers: Option<Spanned<usize>>,
    /// TLS on the listener: the certificate chain (PEM, leaf first) and its
    /// private key (PEM: PKCS#8, PKCS#1 or SEC1), both or neither; paths
    /// relative to the configuration file. Reloaded with the plan.
    pub tls_cert: Option<Spanned<String>>,
    pub tls_key: Option<Spanned<String>>,
    /// Whether the TLS handshake asks the client for a certificate
    /// (`context.Request.Certificate`, `validate-client-certificate`).
    pub tls_client_certificate: Option<Spanned<ClientCertificate>>,
    /// The CAs (PEM) a client certificate must chain to; without it any
    /// client certificate is taken, and policies judge it.
    pub tls_client_ca: Option<Spanned<String>>,
    /// The `[loggers.ID]` every `trace` policy also sends to.
    pub trace_logger: Option<Spanned<String>>,
    /// `context.Deployment.Region`: where this gateway runs, as a
    /// self-hosted gateway's location names it (default empty).
    pub region: Option<Spanned<String>>,
}

/// `[gateway] tls-client-certificate`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ClientCertificate {
    /// Not asked for (the default).
    #[default]
    None,
    /// Asked for; a client may send none.
    Request,
    /// Asked for; a handshake without one fails.
    Require,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AdminSection {
    /// `host:port` of the admin endpoints; loopback by default.
    pub listen: Option<Spanned<String>>,
    /// The bearer token every admin route but `/healthz` asks for, given
    /// like a named value (a string, `{ env = "VAR" }`, `{ file = "path" }`);
    /// required when `listen` is not loopback. A secret: never printed.
    pub token: Option<Spanned<NamedValue>>,
}

/// A length of time: whole seconds (`30`), or a string of whole seconds or
/// milliseconds (`"30s"`, `"500ms"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Duration {
    Seconds(u64),
    Text(String),
    /// Anything else (a float, a table): an error that shows it.
    Other(toml::Value),
}

impl Duration {
    /// The time it says, or why it says none (the forms it may take).
    pub fn of(&self) -> Result<std::time::Duration, String> {
        let text = match self {
            Duration::Seconds(s) => return Ok(std::time::Duration::from_secs(*s)),
            Duration::Text(t) => t.trim(),
            Duration::Other(v) => return Err(format!("`{v}` {FORMS}")),
        };
        let number = |n: &str| n.trim().parse::<u64>().ok();
        let parsed = if let Some(ms) = text.strip_suffix("ms") {
            number(ms).map(std::time::Duration::from_millis)
        } else if let Some(s) = text.strip_suffix('s') {
            number(s).map(std::time::Duration::from_secs)
        } else {
            None
        };
        parsed.ok_or_else(|| format!("`\"{text}\"` {FORMS}"))
    }
}

const FORMS: &str =
    "is not a duration: whole seconds (`30`, `\"30s\"`) or milliseconds (`\"500ms\"`)";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsSection {
    pub max_document_bytes: Option<usize>,
    pub max_nesting_depth: Option<usize>,
    pub max_expression_bytes: Option<usize>,
    pub max_request_header_bytes: Option<usize>,
    pub max_request_body_bytes: Option<usize>,
    /// The memory one request's reading may take (the semantic cache's
    /// parse of an LLM request), as a multiple of `max-request-body-bytes`
    /// (default 4; at least 1).
    pub request_memory_multiple: Option<usize>,
    pub expression_operations: Option<u64>,
    pub expression_wall_time_ms: Option<u64>,
    /// From a connection's start, or the first byte of a request after an
    /// idle time, to the end of its head; past it the connection closes
    /// (default 30000; 0: unbounded).
    pub header_read_timeout_ms: Option<u64>,
    /// How long a connection may wait for its next request, with none in
    /// flight (default 75000; 0: unbounded).
    pub keep_alive_timeout_ms: Option<u64>,
    /// The longest pause while a request body arrives (default 30000; 0: unbounded).
    pub body_read_timeout_ms: Option<u64>,
    /// Connections served at once; at it, accepting pauses (default: from
    /// the descriptor limit, at most 10000).
    pub max_connections: Option<usize>,
    /// HTTP/2 streams one connection may have open (default 100).
    pub http2_max_concurrent_streams: Option<u32>,
    /// How often an HTTP/2 connection is pinged (default 30000; 0: never).
    pub http2_keep_alive_interval_ms: Option<u64>,
    /// How long a ping's answer may take before the connection closes (default 10000).
    pub http2_keep_alive_timeout_ms: Option<u64>,
}

/// `[metrics]`: the bound on what policies and requests add to `/metrics`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MetricsSection {
    /// Distinct label sets one metric of `emit-metric`, the token metrics
    /// or the token usage keeps; a new one past it is dropped and counted
    /// in `sluice_metric_series_dropped_total` (default 1000).
    pub max_series_per_metric: Option<Spanned<usize>>,
}

/// `[log]`: how `sluice run` logs, to standard error. Read when the gateway
/// starts; a reload that changes it is served, the change waits for a restart.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LogSection {
    /// `text` (the default) or `json` (one object per line).
    pub format: Option<Spanned<LogFormat>>,
    /// A `tracing` filter directive: `info` (the default), `sluice=debug`,
    /// `warn,sluice_gateway=info`. `RUST_LOG`, when set, overrides it.
    pub level: Option<Spanned<String>>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

pub use crate::resources::caches::CacheSection;
pub use crate::resources::counters::CountersSection;
pub use crate::resources::credentials::{AuthorizationEntry, IdentitySection};
pub use crate::resources::semantic::SemanticCacheSection;
pub use crate::resources::sinks::{DaprSection, LoggerEntry, ServiceBusEntry};

/// A named value: a literal, or taken from the environment or a file.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum NamedValue {
    Literal(String),
    Source(NamedValueSource),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NamedValueSource {
    pub value: Option<String>,
    pub env: Option<String>,
    pub file: Option<String>,
    /// Never printed in logs or errors.
    #[serde(default)]
    pub secret: bool,
}

/// `[certificates.ID]`: an uploaded certificate, as APIM has them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CertificateEntry {
    /// PEM (certificates, leaf first, and its private key if any) or
    /// PKCS#12 (`.pfx`, `.p12`); relative to the configuration file.
    pub file: Spanned<String>,
    /// The PKCS#12 file's password, given like a named value (a string,
    /// `{ env = "VAR" }`, `{ file = "path" }`). A secret: never printed.
    pub password: Option<Spanned<NamedValue>>,
    /// A CA that client certificates are trusted by (`validate-client-certificate`).
    #[serde(default)]
    pub ca: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Backend {
    /// Where the backend is; every backend has a `url`, or a `local-model`.
    pub url: Option<Spanned<String>>,
    /// An embeddings model run in process: a directory with a
    /// sentence-transformers model (config.json, model.safetensors,
    /// tokenizer.json), relative to the configuration file. Needs the
    /// `local-embeddings` build feature.
    pub local_model: Option<Spanned<String>>,
    /// Headers sent on every call to this backend (credentials: `api-key`,
    /// `Authorization`): a value or a list of values.
    #[serde(default)]
    pub headers: BTreeMap<String, OneOrMany>,
    /// Query parameters added to every call (credentials: `code`, `sig`).
    #[serde(default)]
    pub query: BTreeMap<String, OneOrMany>,
    /// `Authorization: {scheme} {parameter}` on every call.
    pub authorization: Option<Spanned<BackendAuthorization>>,
    /// `[certificates.ID]` ids of the client certificate presented to the backend.
    #[serde(default)]
    pub certificate: Vec<Spanned<String>>,
    /// A token of the gateway's identity, as `Authorization: Bearer`.
    pub managed_identity: Option<Spanned<BackendManagedIdentity>>,
    /// Seconds to wait for the response headers.
    pub timeout: Option<u64>,
    /// `single` (default) or `pool`.
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    /// A pool's members.
    #[serde(default)]
    pub services: Vec<Spanned<PoolService>>,
    /// A pool's `session-affinity = { session-id = { source = "cookie", name = "..." } }`.
    pub session_affinity: Option<Spanned<SessionAffinity>>,
    pub circuit_breaker: Option<Spanned<CircuitBreaker>>,
    /// `context.Backend.AzureRegion`.
    pub azure_region: Option<String>,
    /// `tls = { validate-certificate-chain, validate-certificate-name }`.
    pub tls: Option<Spanned<BackendTls>>,
    /// `proxy = { url, username, password }`: the HTTP proxy calls go through.
    pub proxy: Option<Spanned<BackendProxy>>,
}

/// `session-affinity` of a pool (ARM `pool.sessionAffinity`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SessionAffinity {
    pub session_id: Spanned<SessionId>,
}

/// `session-id = { source = "cookie", name = "SessionId" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SessionId {
    /// `cookie` (APIM's one source).
    pub source: Spanned<String>,
    /// The cookie's name.
    pub name: Spanned<String>,
}

/// `tls` of a backend (ARM `tls`): both checks on by default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BackendTls {
    #[serde(default = "yes")]
    pub validate_certificate_chain: bool,
    #[serde(default = "yes")]
    pub validate_certificate_name: bool,
}

fn yes() -> bool {
    true
}

/// `proxy` of a backend (ARM `proxy`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BackendProxy {
    /// `http://host:port`.
    pub url: Spanned<String>,
    pub username: Option<String>,
    /// Given like a named value (a string, `{ env = "VAR" }`, `{ file =
    /// "path" }`). A secret: never printed.
    pub password: Option<Spanned<NamedValue>>,
}

/// `services = [{ id, priority, weight }]` of a pool.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PoolService {
    pub id: String,
    #[serde(default)]
    pub priority: u32,
    pub weight: Option<u32>,
}

/// `[backends.ID.circuit-breaker]`: APIM's one rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CircuitBreaker {
    pub failure_count: Option<u32>,
    pub failure_percentage: Option<u32>,
    /// ISO 8601 (`PT1M`) or `60s`.
    pub failure_interval: Spanned<String>,
    #[serde(default)]
    pub status_code_ranges: Vec<[u16; 2]>,
    #[serde(default)]
    pub error_reasons: Vec<String>,
    pub trip_duration: Spanned<String>,
    #[serde(default)]
    pub accept_retry_after: bool,
}

/// A credential value: one (`"v"`) or several (`["v1", "v2"]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn values(&self) -> &[String] {
        match self {
            Self::One(v) => std::slice::from_ref(v),
            Self::Many(v) => v,
        }
    }
}

/// `authorization = { scheme, parameter }` of a backend.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BackendAuthorization {
    pub scheme: String,
    pub parameter: String,
}

/// `managed-identity = { resource, client-id }` of a backend.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BackendManagedIdentity {
    pub resource: String,
    pub client_id: Option<String>,
}

/// A policy given inline, or as a file relative to the configuration.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PolicyText {
    Inline(String),
    File {
        #[serde(rename = "file")]
        file: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicySection {
    pub global: Option<Spanned<String>>,
    pub global_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Product {
    pub name: Spanned<String>,
    pub policy: Option<Spanned<String>>,
    pub policy_file: Option<Spanned<String>>,
    #[serde(default)]
    pub apis: Vec<Spanned<String>>,
    /// `false`: an open product. A request to one of its APIs without a key
    /// is served in its context (its policy, `context.Product`), whether or
    /// not the API requires a subscription. An API is in one open product at most.
    #[serde(default = "product_subscription_required")]
    pub subscription_required: Spanned<bool>,
}

/// APIM's default for a product's `subscriptionRequired`.
pub fn product_subscription_required() -> Spanned<bool> {
    Spanned::new(0..0, true)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Subscription {
    pub id: Spanned<String>,
    pub key: Spanned<String>,
    pub product: Option<Spanned<String>>,
    /// Scope: this one API (APIM `/apis/<api>`). With neither `product`
    /// nor `api`, the key is valid for every API.
    pub api: Option<Spanned<String>>,
    pub user: Option<String>,
    /// The groups of the user (`context.User.Groups`, `vary-by-developer-groups`).
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Api {
    pub name: Spanned<String>,
    pub path: Spanned<String>,
    pub service_url: Option<Spanned<String>>,
    #[serde(default)]
    pub subscription_required: bool,
    /// The header the subscription key is read from (default `Ocp-Apim-Subscription-Key`).
    pub subscription_key_header: Option<String>,
    /// The query parameter the subscription key is read from (default `subscription-key`).
    pub subscription_key_query: Option<String>,
    /// A version of a version set selected by a header or a query parameter
    /// (the Segment scheme is part of `path`). APIs may share a path when
    /// their versions differ; the one without `version` answers requests
    /// that name none (APIM's "Original").
    pub version: Option<Spanned<ApiVersion>>,
    pub policy: Option<Spanned<String>>,
    pub policy_file: Option<Spanned<String>>,
    /// The API's OpenAPI document (3.x or Swagger 2.0, JSON or YAML),
    /// relative to the configuration file: what the validation policies
    /// check against.
    pub specification: Option<Spanned<String>>,
    #[serde(default, rename = "operation")]
    pub operations: Vec<Spanned<Operation>>,
}

/// `{ header = "Api-Version", value = "v2" }` or `{ query = "api-version", value = "v2" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ApiVersion {
    pub header: Option<String>,
    pub query: Option<String>,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Operation {
    pub name: Spanned<String>,
    pub method: Spanned<String>,
    pub url_template: Spanned<String>,
    pub policy: Option<Spanned<String>>,
    pub policy_file: Option<Spanned<String>>,
}
