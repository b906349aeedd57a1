//! The gateway configuration: `sluice.toml` (and the configuration part of a
//! conformance case, which has the same keys).
//!
//! - `model.rs`: the file as data, with spans
//! - `apiops/`: an APIOps extract read into the same model
//! - `secrets.rs`: where the text holds secrets, found without parsing it
//! - `mod.rs`: [`load`], which resolves named values, reads policy files and
//!   fragments, checks references, and loads every policy at its scope with
//!   every expression compiled; all problems are reported together, each
//!   with its file (or scope, for an inline policy), line and column
//!
//! A configuration either loads whole or not at all: a reload keeps the
//! previous one unless the new one has no error.
//!
//! No diagnostic of a configuration shows a secret (a `secret = true` named
//! value, `[admin] token`, a subscription's `key`): every one that [`parse`]
//! and [`load_config`] return, and those of building its plan
//! ([`Loaded::redaction`]), has them masked.

pub mod apiops;
mod certs;
pub mod model;
mod secrets;
pub mod tls;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sluice_engine::diag::{Code, Diagnostic, Diagnostics, Redaction, Severity};
use sluice_engine::doc::{DocKind, Fragments, LoadOptions, PolicyDocument};
use sluice_engine::schema::Scope;
use sluice_engine::script::Compiler;
use sluice_engine::source::{Source, Span};
use sluice_engine::validate::Execution;
use sluice_engine::value::NamedValues;
use toml::Spanned;

pub use model::Config;

/// A configuration with every policy loaded and checked.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// Named values with their values (secret ones included: never print them).
    pub named: BTreeMap<String, String>,
    pub secrets: BTreeSet<String>,
    /// The secrets to mask in any diagnostic about this configuration
    /// (secret named values, `[admin] token`, subscription keys).
    pub redaction: Redaction,
    pub fragments: Fragments,
    pub global: Option<PolicyDocument>,
    pub products: BTreeMap<String, Option<PolicyDocument>>,
    /// By API name: the API's document and its operations' documents, by operation name.
    pub apis: BTreeMap<String, LoadedApi>,
    /// `[admin] token`, resolved.
    pub admin_token: Option<Secret>,
    /// `[gateway] tls-cert` and the rest, loaded.
    pub tls: Option<tls::Tls>,
    /// `[certificates.ID]`, loaded, and how chains are checked.
    pub certificates: sluice_engine::runtime::Certificates,
    /// The APIs' `specification` documents, by API name.
    pub specs: sluice_policies::openapi::ApiSpecs,
    /// `[schemas]`, read.
    pub schemas: sluice_policies::schemas::Schemas,
    /// What loading found that is not an error (warnings, notes).
    pub warnings: Diagnostics,
}

/// A secret (`[admin] token`): its `Debug` shows `Secret(..)`, never the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Whether `given` is the secret, in a time that does not depend on
    /// where they first differ.
    pub fn matches(&self, given: &[u8]) -> bool {
        let own = self.0.as_bytes();
        own.len() == given.len() && own.iter().zip(given).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// An API's document and its operations' documents, by operation name.
pub type LoadedApi = (
    Option<PolicyDocument>,
    BTreeMap<String, Option<PolicyDocument>>,
);

/// How strictly to load.
pub struct Options<'a> {
    pub compiler: &'a Compiler<'a>,
    /// Refuse policies that `run` does not execute (a gateway), or only warn (`check`).
    pub not_executed: Severity,
    /// Environment lookup for `{ env = "X" }` named values (tests pass their own).
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

fn config_diag(source: &Arc<Source>, code: Code, span: Span, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::new(code, source, span, msg)
}

fn span_of<T>(s: &Spanned<T>) -> Span {
    let r = s.span();
    Span::new(r.start, r.end)
}

/// Reads a configuration file's text.
pub fn read_file(path: &Path) -> Result<String, Diagnostics> {
    std::fs::read_to_string(path).map_err(|e| {
        let src = Source::new(path.display().to_string(), "");
        let mut d = Diagnostics::new();
        d.push(config_diag(
            &src,
            Code::ConfigReference,
            Span::point(0),
            format!("cannot read the configuration: {e}"),
        ));
        d
    })
}

/// Loads a configuration from text; `base` is where relative file names start.
pub fn load_str(
    name: &str,
    text: &str,
    base: &Path,
    opts: &Options<'_>,
) -> Result<Loaded, Diagnostics> {
    let config = parse(name, text)?;
    load_config(name, text, config, base, opts)
}

/// Parses a configuration's text (nothing loaded yet). An error shows no
/// secret the text holds, not even in the line it shows (`secrets.rs` says
/// how they are found in a text that does not parse).
pub fn parse(name: &str, text: &str) -> Result<Config, Diagnostics> {
    let source = Source::new(name, text);
    toml::from_str(text).map_err(|e| {
        let span = e
            .span()
            .map_or(Span::point(0), |r| Span::new(r.start, r.end));
        let mut d = Diagnostics::new();
        d.push(config_diag(
            &source,
            Code::ConfigSyntax,
            span,
            e.message().trim().to_owned(),
        ));
        d.redacted(&secrets::places(name, text))
    })
}

/// Loads a configuration already deserialized (a conformance case, whose own
/// keys are split off first); `text` is the file it was read from, so that
/// every error keeps its file, line and column.
pub fn load_config(
    name: &str,
    text: &str,
    config: Config,
    base: &Path,
    opts: &Options<'_>,
) -> Result<Loaded, Diagnostics> {
    Loader {
        source: Source::new(name, text),
        base: base.to_path_buf(),
        opts,
        diags: Diagnostics::new(),
    }
    .load(config)
}

/// The value of a named value, or of a value given like one (`what` names
/// it): the literal, the environment variable or the file's text (relative
/// to `base`, without its trailing newline). Errors name `what`, never the
/// value.
pub fn resolve_value(
    what: &str,
    v: &model::NamedValue,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, (Code, String)> {
    let src = match v {
        model::NamedValue::Literal(s) => return Ok(s.clone()),
        model::NamedValue::Source(src) => src,
    };
    match (&src.value, &src.env, &src.file) {
        (Some(v), None, None) => Ok(v.clone()),
        (None, Some(var), None) => env(var).ok_or_else(|| {
            (
                Code::ConfigReference,
                format!("{what}: the environment variable `{var}` is not set"),
            )
        }),
        (None, None, Some(f)) => match std::fs::read_to_string(base.join(f)) {
            Ok(s) => Ok(s.trim_end_matches(['\n', '\r']).to_owned()),
            Err(e) => Err((
                Code::ConfigReference,
                format!("{what}: cannot read `{f}`: {e}"),
            )),
        },
        _ => Err((
            Code::ConfigSyntax,
            format!("{what} needs exactly one of `value`, `env` or `file`"),
        )),
    }
}

struct Loader<'a> {
    source: Arc<Source>,
    base: PathBuf,
    opts: &'a Options<'a>,
    diags: Diagnostics,
}

impl Loader<'_> {
    fn error(&mut self, code: Code, span: Span, msg: impl Into<String>) {
        let d = config_diag(&self.source, code, span, msg);
        self.diags.push(d);
    }

    fn load(mut self, config: Config) -> Result<Loaded, Diagnostics> {
        let (named, secrets) = self.named_values(&config);
        let named_values = NamedValues::Known(named.clone());
        let admin_token = self.server(&config);
        let tls = self.tls(&config);
        let (certificates, passwords) = self.certificates(&config);
        let mut redaction = self.redaction(&config, &named, &secrets, admin_token.as_ref());
        for p in &passwords {
            redaction.value(p);
        }
        self.references(&config);
        for p in self.backends(&config) {
            redaction.value(&p);
        }
        self.log(&config);
        let fragments = self.fragments(&config, &named_values);
        let (specs, schemas) = self.specifications(&config);
        let load_doc = |this: &mut Self,
                        scope: Scope,
                        where_: String,
                        inline: Option<&Spanned<String>>,
                        file: Option<&Spanned<String>>| {
            this.policy(scope, where_, inline, file, &named_values, &fragments)
        };
        let global = load_doc(
            &mut self,
            Scope::Global,
            "global".into(),
            config.policy.global.as_ref(),
            config.policy.global_file.as_ref(),
        );
        let mut products = BTreeMap::new();
        for p in &config.products {
            let p = p.get_ref();
            let name = p.name.get_ref().clone();
            let doc = load_doc(
                &mut self,
                Scope::Product,
                format!("product:{name}"),
                p.policy.as_ref(),
                p.policy_file.as_ref(),
            );
            products.insert(name, doc);
        }
        let mut apis = BTreeMap::new();
        for a in &config.apis {
            let a = a.get_ref();
            let name = a.name.get_ref().clone();
            let doc = load_doc(
                &mut self,
                Scope::Api,
                format!("api:{name}"),
                a.policy.as_ref(),
                a.policy_file.as_ref(),
            );
            let mut ops = BTreeMap::new();
            for o in &a.operations {
                let o = o.get_ref();
                let op = o.name.get_ref().clone();
                let d = load_doc(
                    &mut self,
                    Scope::Operation,
                    format!("operation:{name}/{op}"),
                    o.policy.as_ref(),
                    o.policy_file.as_ref(),
                );
                ops.insert(op, d);
            }
            apis.insert(name, (doc, ops));
        }
        let diags = std::mem::take(&mut self.diags)
            .sorted()
            .redacted(&redaction);
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(Loaded {
            config,
            named,
            secrets,
            redaction,
            fragments,
            global,
            products,
            apis,
            admin_token,
            tls,
            certificates,
            specs,
            schemas,
            warnings: diags,
        })
    }

    /// Reads each API's `specification` and each schema of `[schemas]`;
    /// a file that cannot be read or is not what it should be is an error
    /// at its key.
    fn specifications(
        &mut self,
        config: &Config,
    ) -> (
        sluice_policies::openapi::ApiSpecs,
        sluice_policies::schemas::Schemas,
    ) {
        use sluice_policies::openapi::{ApiSpec, ApiSpecs};
        use sluice_policies::schemas::{SchemaDoc, Schemas};
        let mut specs = ApiSpecs::default();
        for a in &config.apis {
            let a = a.get_ref();
            let Some(file) = &a.specification else {
                continue;
            };
            let name = a.name.get_ref();
            let what = format!("the specification of API `{name}`");
            if let Some(spec) = self.read_document(&what, file, ApiSpec::parse) {
                specs.0.insert(name.clone(), Arc::new(spec));
            }
        }
        let mut schemas = Schemas::default();
        for (id, file) in &config.schemas {
            let what = format!("schema `{id}`");
            if let Some(doc) = self.read_document(&what, file, SchemaDoc::parse) {
                schemas.0.insert(id.clone(), doc);
            }
        }
        (specs, schemas)
    }

    fn read_document<T>(
        &mut self,
        what: &str,
        file: &Spanned<String>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let path = self.base.join(file.get_ref());
        let read = std::fs::read_to_string(&path)
            .map_err(|e| format!("{what}: cannot read `{}`: {e}", file.get_ref()))
            .and_then(|text| {
                parse(&text).map_err(|e| format!("{what}: `{}` is {e}", file.get_ref()))
            });
        match read {
            Ok(v) => Some(v),
            Err(msg) => {
                self.error(Code::ConfigReference, span_of(file), msg);
                None
            }
        }
    }

    /// Where the text holds secrets, and every secret's value however it
    /// is given (literally, from the environment or from a file).
    fn redaction(
        &self,
        config: &Config,
        named: &BTreeMap<String, String>,
        secrets: &BTreeSet<String>,
        admin_token: Option<&Secret>,
    ) -> Redaction {
        let mut r = secrets::places(self.source.name(), self.source.text());
        for name in secrets {
            if let Some(v) = named.get(name) {
                r.value(v);
            }
        }
        if let Some(t) = admin_token {
            r.value(&t.0);
        }
        for s in &config.subscriptions {
            r.value(s.get_ref().key.get_ref());
        }
        r
    }

    fn named_values(&mut self, config: &Config) -> (BTreeMap<String, String>, BTreeSet<String>) {
        let mut values = BTreeMap::new();
        let mut secrets = BTreeSet::new();
        for (name, v) in &config.named_values {
            if let model::NamedValue::Source(src) = v.get_ref()
                && src.secret
            {
                secrets.insert(name.clone());
            }
            if let Some(value) = self.resolve(&format!("named value `{name}`"), v) {
                values.insert(name.clone(), value);
            }
        }
        (values, secrets)
    }

    /// The value of a named value (or of a value given like one, `what`):
    /// see [`resolve_value`].
    fn resolve(&mut self, what: &str, v: &Spanned<model::NamedValue>) -> Option<String> {
        match resolve_value(what, v.get_ref(), &self.base, self.opts.env) {
            Ok(value) => Some(value),
            Err((code, msg)) => {
                self.error(code, span_of(v), msg);
                None
            }
        }
    }

    /// `[gateway] shutdown-grace` is a duration; `[admin] token` resolves,
    /// is not empty, and is there when `[admin] listen` is not loopback.
    fn server(&mut self, config: &Config) -> Option<Secret> {
        if let Some(grace) = &config.gateway.shutdown_grace
            && let Err(e) = grace.get_ref().of()
        {
            self.error(
                Code::ConfigSyntax,
                span_of(grace),
                format!("`[gateway] shutdown-grace`: {e}"),
            );
        }
        if let Some(w) = &config.gateway.workers
            && !(1..=256).contains(w.get_ref())
        {
            self.error(
                Code::ConfigSyntax,
                span_of(w),
                format!(
                    "`[gateway] workers` must be between 1 and 256, not {}",
                    w.get_ref()
                ),
            );
        }
        let admin = &config.admin;
        let token = admin.token.as_ref().and_then(|t| {
            let value = self.resolve("`[admin] token`", t)?;
            if value.trim().is_empty() {
                self.error(
                    Code::ConfigSyntax,
                    span_of(t),
                    "`[admin] token` is empty: a bearer token needs some text",
                );
                return None;
            }
            Some(Secret(value))
        });
        if let Some(listen) = &admin.listen
            && admin.token.is_none()
            && let Ok(addr) = listen.get_ref().parse::<std::net::SocketAddr>()
            && !addr.ip().is_loopback()
        {
            self.error(
                Code::ConfigReference,
                span_of(listen),
                format!(
                    "`[admin] listen` is `{addr}`, not loopback: set `[admin] token` \
                     (e.g. `token = {{ env = \"SLUICE_ADMIN_TOKEN\" }}`), the bearer token \
                     the admin endpoints then require"
                ),
            );
        }
        token
    }

    /// Names that must exist, and names that must be unique.
    /// Each backend is a URL or a local model; `[semantic-cache] store` is
    /// known. The proxy passwords read (to mask).
    fn backends(&mut self, config: &Config) -> Vec<String> {
        let mut passwords = Vec::new();
        for (id, b) in &config.backends {
            let span = span_of(b);
            let b = b.get_ref();
            let pool = match b.kind.as_ref().map(|k| k.get_ref().as_str()) {
                None | Some("single") => false,
                Some("pool") => true,
                Some(other) => {
                    self.error(
                        Code::ConfigSyntax,
                        span_of(b.kind.as_ref().unwrap_or_else(|| unreachable!())),
                        format!("backend `{id}`: `type = \"{other}\"` is not `single` or `pool`"),
                    );
                    false
                }
            };
            if pool {
                self.pool(config, id, span, b);
            } else if !b.services.is_empty() {
                self.error(
                    Code::ConfigSyntax,
                    span,
                    format!("backend `{id}` has `services` but is not `type = \"pool\"`"),
                );
            }
            if let Some(cb) = &b.circuit_breaker {
                self.circuit_breaker(id, cb);
            }
            if !pool && b.url.is_some() == b.local_model.is_some() {
                self.error(
                    Code::ConfigSyntax,
                    span,
                    format!("backend `{id}` needs exactly one of `url` or `local-model`"),
                );
            }
            for c in &b.certificate {
                if !config.certificates.contains_key(c.get_ref()) {
                    self.error(
                        Code::ConfigSyntax,
                        span_of(c),
                        format!(
                            "backend `{id}`: `certificate` names `{}`, which is no `[certificates.ID]` entry",
                            c.get_ref()
                        ),
                    );
                }
            }
            if let Some(mi) = &b.managed_identity
                && mi.get_ref().resource.trim().is_empty()
            {
                self.error(
                    Code::ConfigSyntax,
                    span_of(mi),
                    format!("backend `{id}`: `managed-identity` needs a `resource`"),
                );
            }
            if let Some(a) = &b.session_affinity {
                self.session_affinity(id, pool, a);
            }
            if let Some(p) = &b.proxy {
                passwords.extend(self.backend_proxy(id, p));
            }
            for (key, set) in [
                ("tls", b.tls.as_ref().map(span_of)),
                ("proxy", b.proxy.as_ref().map(span_of)),
            ] {
                if let (true, Some(at)) = (pool, set) {
                    self.error(
                        Code::ConfigSyntax,
                        at,
                        format!(
                            "backend pool `{id}`: `{key}` belongs on its members, which are called"
                        ),
                    );
                }
            }
        }
        if let Some(store) = &config.semantic_cache.store
            && !matches!(store.get_ref().as_str(), "memory" | "redis")
        {
            self.error(
                Code::ConfigSyntax,
                span_of(store),
                format!(
                    "`{}` is not a semantic cache store: `memory` or `redis`",
                    store.get_ref()
                ),
            );
        }
        passwords
    }

    /// `session-affinity` of a pool: a cookie, with a name a cookie can have.
    fn session_affinity(&mut self, id: &str, pool: bool, a: &Spanned<model::SessionAffinity>) {
        if !pool {
            self.error(
                Code::ConfigSyntax,
                span_of(a),
                format!("backend `{id}`: `session-affinity` is for `type = \"pool\"`"),
            );
        }
        let sid = a.get_ref().session_id.get_ref();
        if !sid.source.get_ref().eq_ignore_ascii_case("cookie") {
            self.error(
                Code::ConfigSyntax,
                span_of(&sid.source),
                format!(
                    "backend `{id}`: session id source `{}` is not `cookie`, the one APIM has",
                    sid.source.get_ref()
                ),
            );
        }
        // A cookie name is an HTTP token (RFC 6265 §4.1.1).
        let name = sid.name.get_ref();
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(token) {
            self.error(
                Code::ConfigSyntax,
                span_of(&sid.name),
                format!("backend `{id}`: `{name}` cannot be a cookie's name"),
            );
        }
    }

    /// `proxy` of a backend: an `http://host:port` URL; its password, read.
    fn backend_proxy(&mut self, id: &str, p: &Spanned<model::BackendProxy>) -> Option<String> {
        let proxy = p.get_ref();
        let url = proxy.url.get_ref().trim();
        let authority = url.strip_prefix("http://").unwrap_or_default();
        let authority = authority.trim_end_matches('/');
        if authority.is_empty() || authority.contains(['/', '@', '?', '#']) {
            self.error(
                Code::ConfigSyntax,
                span_of(&proxy.url),
                format!("backend `{id}`: the proxy `url` `{url}` is not `http://host:port`"),
            );
        }
        let password = proxy
            .password
            .as_ref()
            .and_then(|pw| self.resolve(&format!("backend `{id}` proxy password"), pw));
        if password.is_some() && proxy.username.is_none() {
            self.error(
                Code::ConfigSyntax,
                span_of(p),
                format!("backend `{id}`: the proxy has a `password` but no `username`"),
            );
        }
        password
    }

    /// A pool has members, each a single backend of the configuration.
    fn pool(&mut self, config: &Config, id: &str, span: Span, b: &model::Backend) {
        if b.url.is_some() || b.local_model.is_some() {
            self.error(
                Code::ConfigSyntax,
                span,
                format!("backend pool `{id}` has no `url` of its own: its `services` do"),
            );
        }
        if b.services.is_empty() {
            self.error(
                Code::ConfigSyntax,
                span,
                format!("backend pool `{id}` needs `services = [{{ id = \"...\" }}]`"),
            );
        }
        for m in &b.services {
            let name = &m.get_ref().id;
            match config.backends.get(name) {
                None => self.error(
                    Code::ConfigSyntax,
                    span_of(m),
                    format!("backend pool `{id}`: `{name}` is no `[backends.{name}]`"),
                ),
                Some(other)
                    if other
                        .get_ref()
                        .kind
                        .as_ref()
                        .is_some_and(|k| k.get_ref() == "pool") =>
                {
                    self.error(
                        Code::ConfigSyntax,
                        span_of(m),
                        format!("backend pool `{id}`: member `{name}` is itself a pool"),
                    );
                }
                Some(_) => {}
            }
            if m.get_ref().weight == Some(0) {
                self.error(
                    Code::ConfigSyntax,
                    span_of(m),
                    format!("backend pool `{id}`: the weight of `{name}` must be 1 or more"),
                );
            }
        }
    }

    /// A rule that can trip: a threshold, durations that parse, ranges in order.
    fn circuit_breaker(&mut self, id: &str, cb: &Spanned<model::CircuitBreaker>) {
        let c = cb.get_ref();
        if c.failure_count.is_none() && c.failure_percentage.is_none() {
            self.error(
                Code::ConfigSyntax,
                span_of(cb),
                format!("backend `{id}`: `circuit-breaker` needs `failure-count` or `failure-percentage`"),
            );
        }
        if c.failure_percentage.is_some_and(|p| p == 0 || p > 100) {
            self.error(
                Code::ConfigSyntax,
                span_of(cb),
                format!("backend `{id}`: `failure-percentage` is from 1 to 100"),
            );
        }
        for (key, d) in [
            ("failure-interval", &c.failure_interval),
            ("trip-duration", &c.trip_duration),
        ] {
            if crate::resources::backends::duration_ms(d.get_ref()).is_none_or(|ms| ms == 0) {
                self.error(
                    Code::ConfigSyntax,
                    span_of(d),
                    format!(
                        "backend `{id}`: `{key} = \"{}\"` is not a duration (`PT1M`, `60s`)",
                        d.get_ref()
                    ),
                );
            }
        }
        if c.status_code_ranges.is_empty() && c.error_reasons.is_empty() {
            self.error(
                Code::ConfigSyntax,
                span_of(cb),
                format!("backend `{id}`: `circuit-breaker` needs `status-code-ranges` or `error-reasons`"),
            );
        }
        for [lo, hi] in &c.status_code_ranges {
            if lo > hi || !(100..=599).contains(lo) || !(100..=599).contains(hi) {
                self.error(
                    Code::ConfigSyntax,
                    span_of(cb),
                    format!("backend `{id}`: status code range [{lo}, {hi}] is not in order within 100-599"),
                );
            }
        }
    }

    /// `[log] level` is a filter `sluice run` can install.
    fn log(&mut self, config: &Config) {
        if let Some(level) = &config.log.level
            && let Err(e) = crate::serve::log::filter(level.get_ref())
        {
            self.error(
                Code::ConfigSyntax,
                span_of(level),
                format!(
                    "`{}` is not a log filter (`info`, `sluice=debug`, `warn,sluice_gateway=info`): {e}",
                    level.get_ref()
                ),
            );
        }
    }

    fn references(&mut self, config: &Config) {
        let mut apis = BTreeMap::new();
        let mut paths = BTreeMap::new();
        for a in &config.apis {
            let a = a.get_ref();
            if apis
                .insert(a.name.get_ref().clone(), span_of(&a.name))
                .is_some()
            {
                self.error(
                    Code::ConfigDuplicate,
                    span_of(&a.name),
                    format!("a second API named `{}`", a.name.get_ref()),
                );
            }
            let path = a.path.get_ref().trim_matches('/').to_owned();
            let version = a.version.as_ref().map(|v| {
                let v = v.get_ref();
                (v.header.clone(), v.query.clone(), v.value.clone())
            });
            if let Some(v) = &a.version
                && v.get_ref().header.is_some() == v.get_ref().query.is_some()
            {
                self.error(
                    Code::ConfigSyntax,
                    span_of(v),
                    "an API's `version` names exactly one of `header` or `query`",
                );
            }
            if paths.insert((path.clone(), version), ()).is_some() {
                self.error(
                    Code::ConfigDuplicate,
                    span_of(&a.path),
                    format!("a second API with the path `{path}` (and the same version)"),
                );
            }
            let mut ops = BTreeSet::new();
            for o in &a.operations {
                let o = o.get_ref();
                if !ops.insert(o.name.get_ref().clone()) {
                    self.error(
                        Code::ConfigDuplicate,
                        span_of(&o.name),
                        format!(
                            "a second operation named `{}` in API `{}`",
                            o.name.get_ref(),
                            a.name.get_ref()
                        ),
                    );
                }
                if !o.url_template.get_ref().starts_with('/') {
                    self.error(
                        Code::ConfigSyntax,
                        span_of(&o.url_template),
                        "an operation's `url-template` starts with `/`",
                    );
                }
            }
            if let Some(url) = &a.service_url
                && !(url.get_ref().starts_with("http://") || url.get_ref().starts_with("https://"))
            {
                self.error(
                    Code::ConfigSyntax,
                    span_of(url),
                    format!(
                        "`service-url` must be an http or https URL, not `{}`",
                        url.get_ref()
                    ),
                );
            }
        }
        let mut products = BTreeSet::new();
        // APIM: "An API can be associated with at most one open product."
        let mut open: BTreeMap<&str, &str> = BTreeMap::new();
        for p in &config.products {
            let p = p.get_ref();
            if !*p.subscription_required.get_ref() {
                for a in &p.apis {
                    if let Some(first) = open.insert(a.get_ref(), p.name.get_ref()) {
                        self.error(
                            Code::ConfigDuplicate,
                            span_of(a),
                            format!(
                                "the API `{}` is in two open products (`{first}` and `{}`, \
                                 `subscription-required = false`): APIM allows one at most",
                                a.get_ref(),
                                p.name.get_ref()
                            ),
                        );
                    }
                }
            }
            if !products.insert(p.name.get_ref().clone()) {
                self.error(
                    Code::ConfigDuplicate,
                    span_of(&p.name),
                    format!("a second product named `{}`", p.name.get_ref()),
                );
            }
            for a in &p.apis {
                if !apis.contains_key(a.get_ref()) {
                    self.error(
                        Code::ConfigReference,
                        span_of(a),
                        format!(
                            "product `{}` names the API `{}`, which is not configured",
                            p.name.get_ref(),
                            a.get_ref()
                        ),
                    );
                }
            }
        }
        let mut keys = BTreeSet::new();
        for s in &config.subscriptions {
            let s = s.get_ref();
            if let Some(p) = &s.product
                && !products.contains(p.get_ref())
            {
                self.error(
                    Code::ConfigReference,
                    span_of(p),
                    format!(
                        "subscription `{}` names the product `{}`, which is not configured",
                        s.id.get_ref(),
                        p.get_ref()
                    ),
                );
            }
            if let Some(a) = &s.api
                && !apis.contains_key(a.get_ref())
            {
                self.error(
                    Code::ConfigReference,
                    span_of(a),
                    format!(
                        "subscription `{}` names the API `{}`, which is not configured",
                        s.id.get_ref(),
                        a.get_ref()
                    ),
                );
            }
            if !keys.insert(s.key.get_ref().clone()) {
                self.error(
                    Code::ConfigDuplicate,
                    span_of(&s.key),
                    format!(
                        "subscription `{}` has the key of another subscription",
                        s.id.get_ref()
                    ),
                );
            }
        }
        for l in [&config.gateway.listen, &config.admin.listen]
            .into_iter()
            .flatten()
        {
            if l.get_ref().parse::<std::net::SocketAddr>().is_err() {
                self.error(
                    Code::ConfigSyntax,
                    span_of(l),
                    format!(
                        "`{}` is not an address such as `127.0.0.1:8080`",
                        l.get_ref()
                    ),
                );
            }
        }
    }

    /// The text of a policy, inline or from a file, and the name it is reported under.
    fn text(
        &mut self,
        where_: &str,
        inline: Option<&Spanned<String>>,
        file: Option<&Spanned<String>>,
    ) -> Option<Arc<Source>> {
        match (inline, file) {
            (Some(_), Some(f)) => {
                self.error(
                    Code::ConfigSyntax,
                    span_of(f),
                    format!("{where_}: give `policy` or `policy-file`, not both"),
                );
                None
            }
            (Some(text), None) => Some(Source::new(where_, text.get_ref().as_str())),
            (None, Some(f)) => {
                let path = self.base.join(f.get_ref());
                match std::fs::read_to_string(&path) {
                    Ok(t) => Some(Source::new(path.display().to_string(), t)),
                    Err(e) => {
                        self.error(
                            Code::ConfigReference,
                            span_of(f),
                            format!("{where_}: cannot read `{}`: {e}", f.get_ref()),
                        );
                        None
                    }
                }
            }
            (None, None) => None,
        }
    }

    fn fragments(&mut self, config: &Config, named: &NamedValues) -> Fragments {
        let mut out = Fragments::new();
        for (id, f) in &config.fragments {
            let where_ = format!("fragment:{id}");
            let src = match f.get_ref() {
                model::PolicyText::Inline(t) => Some(Source::new(where_.clone(), t.as_str())),
                model::PolicyText::File { file } => {
                    match std::fs::read_to_string(self.base.join(file)) {
                        Ok(t) => Some(Source::new(self.base.join(file).display().to_string(), t)),
                        Err(e) => {
                            self.error(
                                Code::ConfigReference,
                                span_of(f),
                                format!("{where_}: cannot read `{file}`: {e}"),
                            );
                            None
                        }
                    }
                }
            };
            let Some(src) = src else { continue };
            let opts = LoadOptions {
                named: Some(named),
                expect: Some(DocKind::Fragment),
                compiler: Some(self.opts.compiler),
                ..LoadOptions::default()
            };
            let (doc, diags) = sluice_engine::doc::load(&src, &opts);
            self.diags.extend(diags);
            if let Some(doc) = doc {
                out.insert(id.clone(), doc);
            }
        }
        out
    }

    fn policy(
        &mut self,
        scope: Scope,
        where_: String,
        inline: Option<&Spanned<String>>,
        file: Option<&Spanned<String>>,
        named: &NamedValues,
        fragments: &Fragments,
    ) -> Option<PolicyDocument> {
        let src = self.text(&where_, inline, file)?;
        let executable = sluice_policies::is_executable;
        let opts = LoadOptions {
            named: Some(named),
            scope: Some(scope),
            expect: Some(DocKind::Policies),
            execution: Some(Execution {
                executable: &executable,
                severity: self.opts.not_executed,
            }),
            fragments: Some(fragments),
            compiler: Some(self.opts.compiler),
            ..LoadOptions::default()
        };
        let (doc, diags) = sluice_engine::doc::load(&src, &opts);
        self.diags.extend(diags);
        doc
    }
}

#[cfg(test)]
mod tests;
