//! An APIOps extract (Azure/apiops: `apis/<api>/apiInformation.json`, …)
//! read into the configuration model of `sluice.toml`, so that it goes
//! through the one loader and plan builder (`crate::build`).
//!
//! - `mod.rs`: detecting an extract, and every kind of resource read into
//!   [`Config`]: APIs (versions, revisions, key names), operations from the
//!   specification, products, subscriptions, named values, backends,
//!   fragments, the global policy; what is ignored, with one warning a kind
//! - `overrides.rs`: `configuration.<env>.yaml`, deep-merged by section and
//!   `name`, with `{#NAME#}` from the environment
//! - `spec.rs`: operations from an OpenAPI 2 or 3 file (JSON or YAML)
//!
//! IDs (`apiVersionSetId`, `scope`, `pool.services[].id`) are resolved by
//! their last path segment, so v6 absolute and v7 relative forms both work.
//! Secrets are never in an extract: secret and Key Vault named values come
//! from `SLUICE_NV_<DISPLAY_NAME>`, subscription keys from
//! `SLUICE_SUBSCRIPTION_<NAME>_PRIMARY` / `_SECONDARY`; a missing one is an
//! error (a warning in `sluice check`) naming every variable to set.

mod overrides;
mod spec;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use sluice_engine::diag::{Code, Diagnostic, Diagnostics, Severity};
use sluice_engine::source::{Source, Span};
use toml::Spanned;

use super::model::{
    Api, ApiVersion, Backend, BackendAuthorization, BackendManagedIdentity, BackendProxy,
    BackendTls, CircuitBreaker, Config, LoggerEntry, NamedValue, NamedValueSource, OneOrMany,
    Operation, PolicyText, PoolService, Product, SessionAffinity, SessionId, Subscription,
};
pub use overrides::Overrides;

/// Whether `dir` holds an extract: some `apis/*/apiInformation.json`.
pub fn is_extract(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("apis")).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().join("apiInformation.json").is_file())
    })
}

/// The environment variable of a name (`SLUICE_NV_`, `SLUICE_SUBSCRIPTION_`):
/// upper case, every character but ASCII letters and digits as `_`.
pub fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// How to read an extract.
pub struct Read<'a> {
    pub dir: &'a Path,
    pub overrides: Option<&'a Path>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// A missing secret is a warning (`sluice check`), not an error.
    pub lenient: bool,
}

/// Adds the extract's resources to `config`. The policy and fragment files
/// are given as absolute paths. `Ok` holds the warnings.
pub fn load_into(config: &mut Config, read: &Read<'_>) -> Result<Diagnostics, Diagnostics> {
    let dir = read
        .dir
        .canonicalize()
        .unwrap_or_else(|_| read.dir.to_path_buf());
    let mut r = Reader {
        dir,
        read,
        diags: Diagnostics::new(),
        overrides: Overrides::default(),
        missing: Vec::new(),
        ignored: BTreeSet::new(),
    };
    if !is_extract(&r.dir) {
        r.fault(
            &r.dir.clone(),
            "",
            Code::ConfigReference,
            "not an APIOps extract: no `apis/<name>/apiInformation.json` in this folder".into(),
        );
        return Err(r.diags);
    }
    if let Some(path) = read.overrides {
        match std::fs::read_to_string(path) {
            Ok(text) => match Overrides::parse(&text, read.env) {
                Ok(o) => r.overrides = o,
                Err(e) => r.fault(
                    path,
                    &text,
                    Code::ConfigReference,
                    format!("overrides: {e}"),
                ),
            },
            Err(e) => r.fault(
                path,
                "",
                Code::ConfigReference,
                format!("cannot read the overrides: {e}"),
            ),
        }
    }
    r.global(config);
    r.named_values(config);
    r.backends(config);
    r.loggers(config);
    r.fragments(config);
    let sets = r.version_sets();
    let apis = r.apis(config, &sets);
    r.products(config, &apis);
    r.subscriptions(config, &apis);
    r.ignored();
    if !r.missing.is_empty() {
        let list = r.missing.join(", ");
        let msg = format!(
            "the extract's secrets are not in the environment: set {list} \
             (secret named values as `SLUICE_NV_<DISPLAY_NAME>`, subscription keys as \
             `SLUICE_SUBSCRIPTION_<NAME>_PRIMARY`)"
        );
        let severity = if read.lenient {
            Severity::Warning
        } else {
            Severity::Error
        };
        let src = Source::new(r.dir.display().to_string(), "");
        r.diags.push(
            Diagnostic::new(Code::ConfigReference, &src, Span::point(0), msg)
                .with_severity(severity),
        );
    }
    if r.diags.has_errors() {
        Err(r.diags)
    } else {
        Ok(r.diags)
    }
}

/// Every file of the extract (what a change of reloads) and its folders.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .map(walkdir::DirEntry::into_path)
        .collect()
}

/// The first rule of an ARM `circuitBreaker` as `[backends.ID.circuit-breaker]`.
fn breaker_rule(rule: &Value) -> Option<CircuitBreaker> {
    let cond = rule.get("failureCondition")?;
    let ranges = cond
        .get("statusCodeRanges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some([
                r.get("min")?.as_u64()? as u16,
                r.get("max")?.as_u64()? as u16,
            ])
        })
        .collect();
    Some(CircuitBreaker {
        failure_count: cond.get("count").and_then(Value::as_u64).map(|c| c as u32),
        failure_percentage: cond
            .get("percentage")
            .and_then(Value::as_u64)
            .map(|c| c as u32),
        failure_interval: spanned(str_of(cond, "interval")?.to_owned()),
        status_code_ranges: ranges,
        error_reasons: cond
            .get("errorReasons")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect(),
        trip_duration: spanned(str_of(rule, "tripDuration")?.to_owned()),
        accept_retry_after: rule
            .get("acceptRetryAfter")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

fn spanned<T>(v: T) -> Spanned<T> {
    Spanned::new(0..0, v)
}

/// The last segment of an ID (`/subscriptions/…/apiVersionSets/x`, `/apiVersionSets/x`, `x`).
fn last_segment(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// A resource read from the extract: its name and information file's `properties`.
struct Info {
    name: String,
    folder: PathBuf,
    props: Value,
}

struct Reader<'a> {
    dir: PathBuf,
    read: &'a Read<'a>,
    diags: Diagnostics,
    overrides: Overrides,
    /// Environment variables a secret needs and that are not set.
    missing: Vec<String>,
    /// Kinds of resources present and not served.
    ignored: BTreeSet<&'static str>,
}

impl Reader<'_> {
    fn push(
        &mut self,
        file: &Path,
        text: &str,
        code: Code,
        span: Span,
        msg: String,
        severity: Severity,
    ) {
        let src: Arc<Source> = Source::new(file.display().to_string(), text);
        self.diags
            .push(Diagnostic::new(code, &src, span, msg).with_severity(severity));
    }

    fn fault(&mut self, file: &Path, text: &str, code: Code, msg: String) {
        self.push(file, text, code, Span::point(0), msg, Severity::Error);
    }

    fn warn(&mut self, file: &Path, msg: String) {
        self.push(
            file,
            "",
            Code::ConfigReference,
            Span::point(0),
            msg,
            Severity::Warning,
        );
    }

    /// Reads a JSON file (an error at its line and column when it does not parse).
    fn json(&mut self, path: &Path) -> Option<Value> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                self.fault(path, "", Code::ConfigReference, format!("cannot read: {e}"));
                return None;
            }
        };
        match serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) {
            Ok(v) => Some(v),
            Err(e) => {
                let offset = text
                    .lines()
                    .take(e.line().saturating_sub(1))
                    .map(|l| l.len() + 1)
                    .sum::<usize>()
                    + e.column().saturating_sub(1);
                let offset = offset.min(text.len());
                self.push(
                    path,
                    &text,
                    Code::ConfigSyntax,
                    Span::point(offset),
                    format!("not valid JSON: {e}"),
                    Severity::Error,
                );
                None
            }
        }
    }

    /// The resources of a collection folder (`named values`, `backends`, …):
    /// each sub-folder's `file`, with the overrides of `section` merged.
    fn collection(&mut self, folder: &str, file: &str, section: &str) -> Vec<Info> {
        let mut out = Vec::new();
        for sub in subfolders(&self.dir.join(folder)) {
            let name = file_name(&sub);
            let path = sub.join(file);
            if !path.is_file() {
                continue;
            }
            let Some(mut dto) = self.json(&path) else {
                continue;
            };
            if let Some(o) = self.overrides.top(section, &name) {
                overrides::merge(&mut dto, o);
            }
            let props = dto.get("properties").cloned().unwrap_or(Value::Null);
            out.push(Info {
                name,
                folder: sub,
                props,
            });
        }
        out
    }

    /// A policy file, or the overrides' `properties.value` for it.
    fn policy(
        &self,
        file: PathBuf,
        over: Option<&Value>,
    ) -> (Option<Spanned<String>>, Option<Spanned<String>>) {
        let item =
            over.and_then(|o| Overrides::item(Some(o), &self.overrides, "policies", "policy"));
        if let Some(text) = item
            .and_then(|i| i.pointer("/properties/value"))
            .and_then(Value::as_str)
        {
            return (Some(spanned(text.to_owned())), None);
        }
        if file.is_file() {
            (None, Some(spanned(file.display().to_string())))
        } else {
            (None, None)
        }
    }

    fn global(&mut self, config: &mut Config) {
        let file = self.dir.join("policy.xml");
        let item = self.overrides.top("policies", "policy");
        if let Some(text) = item
            .and_then(|i| i.pointer("/properties/value"))
            .and_then(Value::as_str)
        {
            config.policy.global = Some(spanned(text.to_owned()));
        } else if file.is_file() {
            config.policy.global_file = Some(spanned(file.display().to_string()));
        }
    }

    fn named_values(&mut self, config: &mut Config) {
        for nv in self.collection("named values", "namedValueInformation.json", "namedValues") {
            let display = str_of(&nv.props, "displayName")
                .unwrap_or(&nv.name)
                .to_owned();
            let secret = nv
                .props
                .get("secret")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let value = str_of(&nv.props, "value").map(str::to_owned);
            let value = match (value, secret || nv.props.get("keyVault").is_some()) {
                (Some(v), false) => NamedValue::Literal(v),
                (Some(v), true) => NamedValue::Source(source(v, true)),
                (None, false) => NamedValue::Literal(String::new()),
                (None, true) => {
                    let var = format!("SLUICE_NV_{}", env_name(&display));
                    match (self.read.env)(&var) {
                        Some(v) => NamedValue::Source(source(v, true)),
                        None => {
                            self.missing.push(var);
                            NamedValue::Source(source(String::new(), true))
                        }
                    }
                }
            };
            config.named_values.insert(display, spanned(value));
        }
    }

    /// `backends/<b>/backendInformation.json` as `[backends.<b>]`: the URL,
    /// credentials (`header`, `query`, `authorization`, `certificateIds`,
    /// `managedIdentity`), `tls`, `proxy`, `azureRegion`, the first
    /// circuit-breaker rule, and a pool's members and `sessionAffinity`.
    /// `{{name}}` in values is replaced by the named value.
    fn backends(&mut self, config: &mut Config) {
        let all = self.collection("backends", "backendInformation.json", "backends");
        for b in &all {
            let file = b.folder.join("backendInformation.json");
            let creds = b.props.get("credentials");
            let values = |key: &str| -> BTreeMap<String, OneOrMany> {
                creds
                    .and_then(|c| c.get(key))
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(name, values)| {
                        let values = values
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(|v| named_refs(v, config))
                            .collect();
                        (name.clone(), OneOrMany::Many(values))
                    })
                    .collect()
            };
            let headers = values("header");
            let query = values("query");
            let authorization = creds.and_then(|c| c.get("authorization")).map(|a| {
                spanned(BackendAuthorization {
                    scheme: str_of(a, "scheme").unwrap_or_default().to_owned(),
                    parameter: named_refs(str_of(a, "parameter").unwrap_or_default(), config),
                })
            });
            // Certificates by id (`/certificates/<id>`): `[certificates.<id>]`
            // entries of the `sluice.toml` that includes the extract. APIM
            // ignores the thumbprints of `certificate` when ids are given.
            let certificate: Vec<Spanned<String>> = creds
                .and_then(|c| c.get("certificateIds"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|id| spanned(last_segment(id).to_owned()))
                .collect();
            let thumbprints = creds
                .and_then(|c| c.get("certificate"))
                .and_then(Value::as_array)
                .is_some_and(|t| !t.is_empty());
            if thumbprints && certificate.is_empty() {
                self.warn(
                    &file,
                    format!(
                        "backend `{}`: certificates given by thumbprint (`credentials.certificate`) \
                         are not presented: give their ids in `credentials.certificateIds` and \
                         the certificates as `[certificates.ID]` entries",
                        b.name
                    ),
                );
            }
            let managed_identity = creds.and_then(|c| c.get("managedIdentity")).and_then(|m| {
                Some(spanned(BackendManagedIdentity {
                    resource: str_of(m, "resource")?.to_owned(),
                    client_id: str_of(m, "clientId").map(str::to_owned),
                }))
            });
            let tls = b.props.get("tls").map(|t| {
                let check = |key| t.get(key).and_then(Value::as_bool).unwrap_or(true);
                spanned(BackendTls {
                    validate_certificate_chain: check("validateCertificateChain"),
                    validate_certificate_name: check("validateCertificateName"),
                })
            });
            let proxy = b.props.get("proxy").and_then(|p| {
                Some(spanned(BackendProxy {
                    url: spanned(named_refs(str_of(p, "url")?, config)),
                    username: str_of(p, "username").map(|u| named_refs(u, config)),
                    password: str_of(p, "password")
                        .map(|pw| spanned(NamedValue::Literal(named_refs(pw, config)))),
                }))
            });
            let circuit_breaker = b
                .props
                .pointer("/circuitBreaker/rules/0")
                .and_then(breaker_rule)
                .map(spanned);
            let services: Vec<Spanned<PoolService>> = b
                .props
                .pointer("/pool/services")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| {
                    Some(spanned(PoolService {
                        id: last_segment(str_of(m, "id")?).to_owned(),
                        priority: m.get("priority").and_then(Value::as_u64).unwrap_or(1) as u32,
                        weight: m.get("weight").and_then(Value::as_u64).map(|w| w as u32),
                    }))
                })
                .collect();
            let session_affinity =
                b.props
                    .pointer("/pool/sessionAffinity/sessionId")
                    .and_then(|s| {
                        Some(spanned(SessionAffinity {
                            session_id: spanned(SessionId {
                                source: spanned(str_of(s, "source").unwrap_or("Cookie").to_owned()),
                                name: spanned(str_of(s, "name")?.to_owned()),
                            }),
                        }))
                    });
            let url = str_of(&b.props, "url").map(|u| named_refs(u, config));
            let pool = str_of(&b.props, "type").is_some_and(|t| t.eq_ignore_ascii_case("pool"))
                || (url.is_none() && !services.is_empty());
            if url.is_none() && !pool {
                self.warn(
                    &file,
                    format!(
                        "backend `{}` has no `url` and is not a pool: left out",
                        b.name
                    ),
                );
                continue;
            }
            // A pool's members are called, with their own TLS and proxy.
            let (tls, proxy) = if pool && (tls.is_some() || proxy.is_some()) {
                self.warn(
                    &file,
                    format!(
                        "backend pool `{}`: its `tls` and `proxy` are not used (its members' are)",
                        b.name
                    ),
                );
                (None, None)
            } else {
                (tls, proxy)
            };
            config.backends.insert(
                b.name.clone(),
                spanned(Backend {
                    url: if pool { None } else { url.map(spanned) },
                    kind: pool.then(|| spanned("pool".to_owned())),
                    services: if pool { services } else { Vec::new() },
                    session_affinity: if pool { session_affinity } else { None },
                    headers,
                    query,
                    authorization,
                    certificate,
                    managed_identity,
                    azure_region: str_of(&b.props, "azureRegion").map(str::to_owned),
                    tls,
                    proxy,
                    circuit_breaker,
                    ..Backend::default()
                }),
            );
        }
    }

    fn fragments(&mut self, config: &mut Config) {
        for sub in subfolders(&self.dir.join("policy fragments")) {
            let name = file_name(&sub);
            let item = self.overrides.top("policyFragments", &name);
            let text = item
                .and_then(|i| i.pointer("/properties/value"))
                .and_then(Value::as_str);
            let policy = match text {
                Some(t) => PolicyText::Inline(t.to_owned()),
                None if sub.join("policy.xml").is_file() => PolicyText::File {
                    file: sub.join("policy.xml").display().to_string(),
                },
                None => continue,
            };
            config.fragments.insert(name, spanned(policy));
        }
    }

    /// Version sets by name: (scheme, query or header name).
    fn version_sets(&mut self) -> BTreeMap<String, (String, Option<String>)> {
        let mut out = BTreeMap::new();
        for file in [
            "versionSetInformation.json",
            "apiVersionSetInformation.json",
        ] {
            for vs in self.collection("version sets", file, "versionSets") {
                let scheme = str_of(&vs.props, "versioningScheme")
                    .unwrap_or("Segment")
                    .to_owned();
                let name = match scheme.as_str() {
                    "Query" => str_of(&vs.props, "versionQueryName"),
                    "Header" => str_of(&vs.props, "versionHeaderName"),
                    _ => None,
                };
                out.insert(vs.name, (scheme, name.map(str::to_owned)));
            }
        }
        out
    }

    /// The APIs served, by name.
    fn apis(
        &mut self,
        config: &mut Config,
        sets: &BTreeMap<String, (String, Option<String>)>,
    ) -> BTreeSet<String> {
        let mut served = BTreeSet::new();
        let mut skipped_types = BTreeSet::new();
        for sub in subfolders(&self.dir.join("apis")) {
            let name = file_name(&sub);
            let info_file = sub.join("apiInformation.json");
            if !info_file.is_file() {
                continue;
            }
            let Some(mut dto) = self.json(&info_file) else {
                continue;
            };
            let (base_name, revision) = match name.split_once(";rev=") {
                Some((b, r)) => (b.to_owned(), Some(r.to_owned())),
                None => (name.clone(), None),
            };
            let over = self.overrides.top("apis", &name).cloned();
            if let Some(o) = &over {
                overrides::merge(&mut dto, o);
            }
            let p = dto.get("properties").cloned().unwrap_or(Value::Null);
            let kind = str_of(&p, "type")
                .or_else(|| str_of(&p, "apiType"))
                .unwrap_or("http")
                .to_ascii_lowercase();
            let spec = spec::find(&sub);
            let spec_kind = spec
                .as_ref()
                .and_then(|s| s.extension())
                .map(|e| e.to_string_lossy().to_ascii_lowercase());
            if !matches!(kind.as_str(), "http" | "")
                || matches!(spec_kind.as_deref(), Some("wsdl" | "wadl" | "graphql"))
            {
                let what = if matches!(kind.as_str(), "http" | "") {
                    spec_kind.unwrap_or_default()
                } else {
                    kind
                };
                skipped_types.insert(what.clone());
                self.warn(
                    &info_file,
                    format!("API `{name}` is a `{what}` API: not served (REST APIs only)"),
                );
                continue;
            }
            let mut path = str_of(&p, "path")
                .unwrap_or_default()
                .trim_matches('/')
                .to_owned();
            let mut version = None;
            if let Some(set) = str_of(&p, "apiVersionSetId").map(last_segment) {
                let value = str_of(&p, "apiVersion").filter(|v| !v.is_empty());
                match (sets.get(set), value) {
                    (None, _) => self.fault(
                        &info_file,
                        "",
                        Code::ConfigReference,
                        format!("API `{name}` names the version set `{set}`, which is not in `version sets/`"),
                    ),
                    // The "Original" version: the path alone.
                    (Some(_), None) => {}
                    (Some((scheme, key)), Some(v)) => match (scheme.as_str(), key) {
                        ("Query", Some(q)) => version = Some(ApiVersion { header: None, query: Some(q.clone()), value: v.to_owned() }),
                        ("Header", Some(h)) => version = Some(ApiVersion { header: Some(h.clone()), query: None, value: v.to_owned() }),
                        ("Segment", _) => path = [path.as_str(), v].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("/"),
                        (other, _) => self.fault(
                            &info_file,
                            "",
                            Code::ConfigReference,
                            format!("version set `{set}`: `{other}` is not a versioning scheme with its name (`Segment`, `Query` with `versionQueryName`, `Header` with `versionHeaderName`)"),
                        ),
                    },
                }
            }
            if let Some(rev) = &revision {
                path = format!("{path};rev={rev}");
            }
            let operations = self.operations(&name, &sub, spec.as_deref(), over.as_ref());
            let (policy, policy_file) = self.policy(sub.join("policy.xml"), over.as_ref());
            let keys = p.get("subscriptionKeyParameterNames");
            for (kind, folder) in [
                ("API diagnostics", "diagnostics"),
                ("API releases", "releases"),
                ("API tags", "tags"),
            ] {
                if sub.join(folder).is_dir() || sub.join(format!("{folder}.json")).is_file() {
                    self.ignored.insert(kind);
                }
            }
            let _ = base_name;
            config.apis.push(spanned(Api {
                name: spanned(name.clone()),
                path: spanned(path),
                service_url: str_of(&p, "serviceUrl")
                    .filter(|u| !u.is_empty())
                    .map(|u| spanned(u.to_owned())),
                subscription_required: p
                    .get("subscriptionRequired")
                    .and_then(Value::as_bool)
                    .unwrap_or(true),
                subscription_key_header: keys.and_then(|k| str_of(k, "header")).map(str::to_owned),
                subscription_key_query: keys.and_then(|k| str_of(k, "query")).map(str::to_owned),
                version: version.map(spanned),
                // What the validation policies check against (an OpenAPI
                // file: WSDL, WADL and GraphQL APIs are not served).
                specification: spec.map(|f| spanned(f.display().to_string())),
                policy,
                policy_file,
                operations,
            }));
            served.insert(name);
        }
        served
    }

    /// An API's operations from its specification, each with its policy;
    /// an operation folder the specification does not have is a warning.
    fn operations(
        &mut self,
        api: &str,
        folder: &Path,
        spec: Option<&Path>,
        over: Option<&Value>,
    ) -> Vec<Spanned<Operation>> {
        let mut out = Vec::new();
        let found = match spec {
            Some(file) => match spec::operations(file) {
                Ok(ops) => ops,
                Err(e) => {
                    self.fault(file, "", Code::ConfigSyntax, format!("API `{api}`: {e}"));
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        let mut names = BTreeSet::new();
        for op in found {
            if !names.insert(op.name.clone()) {
                continue;
            }
            let op_over = over
                .and_then(|o| Overrides::item(Some(o), &self.overrides, "operations", &op.name))
                .cloned();
            let (policy, policy_file) = self.policy(
                folder.join("operations").join(&op.name).join("policy.xml"),
                op_over.as_ref(),
            );
            out.push(spanned(Operation {
                name: spanned(op.name),
                method: spanned(op.method),
                url_template: spanned(op.template),
                policy,
                policy_file,
            }));
        }
        for sub in subfolders(&folder.join("operations")) {
            let name = file_name(&sub);
            if !names.contains(&name) {
                self.warn(
                    &sub.join("policy.xml"),
                    format!("API `{api}`: the operation `{name}` has a policy but is not in the specification: its policy is not applied"),
                );
            }
        }
        out
    }

    fn products(&mut self, config: &mut Config, apis: &BTreeSet<String>) {
        for p in self.collection("products", "productInformation.json", "products") {
            let mut linked: Vec<String> = subfolders(&p.folder.join("apis"))
                .iter()
                .map(|f| file_name(f))
                .collect();
            if linked.is_empty() {
                // v2–v5: `apis.json` = [{ "name": … }].
                let file = p.folder.join("apis.json");
                if file.is_file()
                    && let Some(list) = self.json(&file)
                {
                    linked = list
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|i| str_of(i, "name").map(last_segment).map(str::to_owned))
                        .collect();
                }
            }
            linked.retain(|a| apis.contains(a));
            // An older revision is in the products of its API (APIOps
            // writes the links of the current revision only).
            let revisions: Vec<String> = apis
                .iter()
                .filter(|a| {
                    a.split_once(";rev=")
                        .is_some_and(|(b, _)| linked.iter().any(|l| l == b))
                })
                .cloned()
                .collect();
            linked.extend(revisions);
            for (kind, folder) in [("product groups", "groups"), ("product tags", "tags")] {
                if p.folder.join(folder).is_dir()
                    || p.folder.join(format!("{folder}.json")).is_file()
                {
                    self.ignored.insert(kind);
                }
            }
            let over = self.overrides.top("products", &p.name).cloned();
            let (policy, policy_file) = self.policy(p.folder.join("policy.xml"), over.as_ref());
            // `state` (`published`, `notPublished`) is the developer portal's:
            // "API access in a product context is the same, whether the
            // product is published or not" (api-management-subscriptions).
            config.products.push(spanned(Product {
                name: spanned(p.name),
                policy,
                policy_file,
                apis: linked.into_iter().map(spanned).collect(),
                subscription_required: spanned(
                    p.props
                        .get("subscriptionRequired")
                        .and_then(Value::as_bool)
                        .unwrap_or(true),
                ),
            }));
        }
    }

    fn subscriptions(&mut self, config: &mut Config, apis: &BTreeSet<String>) {
        let products: BTreeSet<String> = config
            .products
            .iter()
            .map(|p| p.get_ref().name.get_ref().clone())
            .collect();
        for s in self.collection(
            "subscriptions",
            "subscriptionInformation.json",
            "subscriptions",
        ) {
            let file = s.folder.join("subscriptionInformation.json");
            if str_of(&s.props, "state").is_some_and(|st| st != "active") {
                continue;
            }
            let scope = str_of(&s.props, "scope").unwrap_or("/apis");
            let segments: Vec<&str> = scope.trim_end_matches('/').rsplit('/').take(2).collect();
            let (product, api) = match segments.as_slice() {
                [p, "products"] => (Some((*p).to_owned()), None),
                [a, "apis"] => (None, Some((*a).to_owned())),
                ["apis", ..] => (None, None),
                _ => {
                    self.warn(&file, format!("subscription `{}`: scope `{scope}` is not a product, an API or all APIs: left out", s.name));
                    continue;
                }
            };
            if product.as_ref().is_some_and(|p| !products.contains(p))
                || api.as_ref().is_some_and(|a| !apis.contains(a))
            {
                self.warn(
                    &file,
                    format!(
                        "subscription `{}`: its scope `{scope}` is not served: left out",
                        s.name
                    ),
                );
                continue;
            }
            let var = format!("SLUICE_SUBSCRIPTION_{}", env_name(&s.name));
            let primary = str_of(&s.props, "primaryKey")
                .map(str::to_owned)
                .or_else(|| (self.read.env)(&format!("{var}_PRIMARY")));
            let secondary = str_of(&s.props, "secondaryKey")
                .map(str::to_owned)
                .or_else(|| (self.read.env)(&format!("{var}_SECONDARY")));
            if primary.is_none() && secondary.is_none() {
                self.missing.push(format!("{var}_PRIMARY"));
                continue;
            }
            for key in [primary, secondary].into_iter().flatten() {
                config.subscriptions.push(spanned(Subscription {
                    id: spanned(s.name.clone()),
                    key: spanned(key),
                    product: product.clone().map(spanned),
                    api: api.clone().map(spanned),
                    user: s
                        .props
                        .get("ownerId")
                        .and_then(Value::as_str)
                        .map(|o| last_segment(o).to_owned()),
                    groups: Vec::new(),
                }));
            }
        }
    }

    /// `loggers/<l>/loggerInformation.json`: an Event Hubs logger (what
    /// `log-to-eventhub logger-id` names) becomes `[loggers.<l>]`, a Kafka
    /// logger on the hub's Kafka endpoint, unless the `sluice.toml` that
    /// includes the extract has a logger of that name (it wins). Other
    /// logger types (Application Insights, Azure Monitor: diagnostics')
    /// are ignored, with one warning.
    fn loggers(&mut self, config: &mut Config) {
        for l in self.collection("loggers", "loggerInformation.json", "loggers") {
            if config.loggers.contains_key(&l.name) {
                continue;
            }
            if str_of(&l.props, "loggerType") != Some("azureEventHub") {
                self.ignored
                    .insert("Application Insights and Azure Monitor loggers");
                continue;
            }
            let file = l.folder.join("loggerInformation.json");
            let creds = l.props.get("credentials");
            let field = |key: &str| {
                creds
                    .and_then(|c| str_of(c, key))
                    .map(|v| named_refs(v, config))
                    .filter(|v| !v.trim().is_empty())
            };
            let topic = field("name").map(spanned);
            let mut entry = LoggerEntry {
                kind: spanned("kafka".to_owned()),
                description: str_of(&l.props, "description").map(str::to_owned),
                path: None,
                connection_string: None,
                brokers: None,
                topic,
                sasl_username: None,
                sasl_password: None,
                tls: None,
                queue_size: None,
                timeout: None,
            };
            if let Some(cs) = field("connectionString").filter(|c| c.contains("Endpoint=")) {
                entry.connection_string = Some(spanned(NamedValue::Source(source(cs, true))));
            } else if let Some(host) = field("endpointAddress") {
                // `identityClientId`: a managed identity, which Event Hubs'
                // Kafka endpoint takes through SASL OAUTHBEARER.
                self.warn(
                    &file,
                    format!(
                        "logger `{0}` signs in with a managed identity, which Sluice's Kafka client does not do: its events are dropped (and counted in `sluice_logger_events_total`) until a `[loggers.{0}]` in the sluice.toml that includes the extract says where to send them",
                        l.name
                    ),
                );
                let host = host.trim().trim_end_matches('/');
                entry.brokers = Some(spanned(vec![format!("{host}:9093")]));
                entry.tls = Some(true);
            } else {
                self.warn(
                    &file,
                    format!(
                        "logger `{0}` has neither a connection string (a secret not in the environment?) nor an endpoint address: not used; give a `[loggers.{0}]` in the sluice.toml that includes the extract",
                        l.name
                    ),
                );
                continue;
            }
            config.loggers.insert(l.name.clone(), spanned(entry));
        }
    }

    /// One warning for each kind of resource the extract has and Sluice does not serve.
    fn ignored(&mut self) {
        for (kind, folder) in [
            ("groups", "groups"),
            ("tags", "tags"),
            ("gateways", "gateways"),
            ("workspaces", "workspaces"),
        ] {
            if self.dir.join(folder).is_dir() {
                self.ignored.insert(kind);
            }
        }
        let dir = self.dir.clone();
        for kind in std::mem::take(&mut self.ignored) {
            self.warn(
                &dir,
                format!("the extract's {kind} are not used by a gateway: ignored"),
            );
        }
    }
}

/// `{{name}}` in a backend's URL or credentials replaced by the named
/// value's text (APIM resolves them there too); an unknown name is left.
fn named_refs(text: &str, config: &Config) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        let name = rest[start + 2..start + 2 + len].trim();
        out.push_str(&rest[..start]);
        let value = config
            .named_values
            .get(name)
            .and_then(|v| match v.get_ref() {
                NamedValue::Literal(s) => Some(s.as_str()),
                NamedValue::Source(s) => s.value.as_deref(),
            });
        match value {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[start..start + 4 + len]),
        }
        rest = &rest[start + 4 + len..];
    }
    out.push_str(rest);
    out
}

fn source(value: String, secret: bool) -> NamedValueSource {
    NamedValueSource {
        value: Some(value),
        env: None,
        file: None,
        secret,
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The sub-folders of `dir`, sorted (none when it does not exist).
fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests;
