//! A conformance case file as data (FORMAT.md): the case's own keys
//! (`title`, `source`, `skip`, `backend`, `stub`, `embeddings`, `step`,
//! `expect`, `apiops`, `apiops-overrides`) are split off the top-level table; everything else is the
//! gateway configuration, deserialized with its spans into the original text
//! so that load errors keep their line and column.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::config::Config;
use crate::config::model::ApiopsSection;

/// The keys a case has besides the configuration.
pub const CASE_KEYS: &[&str] = &[
    "title",
    "source",
    "skip",
    "backend",
    "stub",
    "embeddings",
    "step",
    "expect",
    "apiops",
    "apiops-overrides",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Case {
    pub title: String,
    pub source: Option<String>,
    pub skip: Option<String>,
    #[serde(default)]
    pub backend: Answer,
    #[serde(default)]
    pub stub: Vec<Stub>,
    #[serde(default)]
    pub embeddings: Embeddings,
    #[serde(default)]
    pub step: Vec<Step>,
    pub expect: Option<LoadExpect>,
    /// An APIOps extract (relative to the case) whose resources join the case's.
    pub apiops: Option<String>,
    /// Its publisher overrides file (relative to the case).
    pub apiops_overrides: Option<String>,
}

/// How a stub answers: `[backend]`, a step's `backend`, a `[[stub]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Answer {
    pub status: Option<u16>,
    #[serde(default)]
    pub headers: BTreeMap<String, Values>,
    /// Absent: the echo document.
    pub body: Option<String>,
    /// The body in these pieces, delivered as a stream (a Sluice addition
    /// to FORMAT.md); not with `body`.
    pub chunks: Option<Vec<String>>,
    #[serde(default)]
    pub delay_ms: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Stub {
    pub url_prefix: String,
    pub status: Option<u16>,
    #[serde(default)]
    pub headers: BTreeMap<String, Values>,
    pub body: Option<String>,
    pub chunks: Option<Vec<String>>,
    #[serde(default)]
    pub delay_ms: u64,
}

impl Stub {
    pub fn answer(&self) -> Answer {
        Answer {
            status: self.status,
            headers: self.headers.clone(),
            body: self.body.clone(),
            chunks: self.chunks.clone(),
            delay_ms: self.delay_ms,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Embeddings {
    #[serde(default = "default_dimensions")]
    pub dimensions: usize,
    #[serde(default = "default_status")]
    pub status: u16,
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default)]
    pub vectors: BTreeMap<String, Vec<f64>>,
}

fn default_dimensions() -> usize {
    8
}

fn default_status() -> u16 {
    200
}

impl Default for Embeddings {
    fn default() -> Self {
        Self {
            dimensions: default_dimensions(),
            status: default_status(),
            delay_ms: 0,
            vectors: BTreeMap::new(),
        }
    }
}

/// A header value given once or several times.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Values {
    One(String),
    Many(Vec<String>),
}

impl Values {
    pub fn list(&self) -> Vec<String> {
        match self {
            Values::One(v) => vec![v.clone()],
            Values::Many(v) => v.clone(),
        }
    }

    /// Several values compare as one, joined with `, ` (as HTTP folds them).
    pub fn joined(&self) -> String {
        self.list().join(", ")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Step {
    pub advance: Option<String>,
    pub request: Option<RequestSpec>,
    pub backend: Option<Answer>,
    /// Stubs for this step only: each replaces the case's `[[stub]]` of the
    /// same `url-prefix` (or adds one).
    #[serde(default)]
    pub stub: Vec<Stub>,
    pub reload: Option<Reload>,
    #[serde(default)]
    pub expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RequestSpec {
    #[serde(default = "default_method")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, Values>,
    pub body: Option<String>,
    #[serde(default = "default_ip")]
    pub ip: String,
    /// A PEM file (relative to the case) whose first certificate the client
    /// presented in the TLS handshake (`context.Request.Certificate`).
    pub client_certificate: Option<String>,
}

fn default_method() -> String {
    "GET".into()
}

fn default_ip() -> String {
    "127.0.0.1".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Reload {
    pub scope: String,
    pub policy: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Expect {
    pub status: Option<u16>,
    pub headers: Option<BTreeMap<String, Values>>,
    #[serde(default)]
    pub headers_absent: Vec<String>,
    pub body: Option<String>,
    #[serde(default)]
    pub body_contains: Vec<String>,
    pub body_json: Option<toml::Value>,
    pub body_json_subset: Option<toml::Value>,
    pub backend_calls: Option<u64>,
    pub stub_calls: Option<u64>,
    pub embeddings_calls: Option<u64>,
    pub reload_error: Option<Vec<String>>,
    /// Strings the gateway's Prometheus exposition holds after the step.
    #[serde(default)]
    pub metrics_contain: Vec<String>,
    pub backend_request: Option<BackendRequestExpect>,
    /// The last request a `[[stub]]` answered during the step.
    pub stub_request: Option<BackendRequestExpect>,
    /// Strings each of which some event sent to a logger during the step
    /// (one JSON line) contains.
    #[serde(default)]
    pub logged: Vec<String>,
    /// How many events the loggers were sent during the step.
    pub logged_count: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BackendRequestExpect {
    pub method: Option<String>,
    pub url: Option<String>,
    pub headers: Option<BTreeMap<String, Values>>,
    #[serde(default)]
    pub headers_absent: Vec<String>,
    pub body: Option<String>,
    pub body_json: Option<toml::Value>,
}

/// The top-level `[expect]` of a configuration that must be refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LoadExpect {
    pub load_error: Vec<String>,
}

/// Splits a case file into its case keys and its configuration. The error is
/// a message that names the line and column.
pub fn parse(name: &str, text: &str) -> Result<(Case, Config), String> {
    let located = |e: toml::de::Error| match e.span() {
        Some(r) => {
            let (line, col) = line_col(text, r.start);
            format!("{name}:{line}:{col}: {}", e.message().trim())
        }
        None => format!("{name}: {}", e.message().trim()),
    };
    let root = DeTable::parse(text).map_err(located)?;
    let span = root.span();
    let mut config_table = root.into_inner();
    let mut case_table = DeTable::new();
    for key in CASE_KEYS {
        if let Some((k, v)) = config_table.remove_entry(*key) {
            case_table.insert(k, v);
        }
    }
    let case = Case::deserialize(toml::de::ValueDeserializer::from(Spanned::new(
        span.clone(),
        DeValue::Table(case_table),
    )))
    .map_err(located)?;
    let mut config = Config::deserialize(toml::de::Deserializer::from(Spanned::new(
        span,
        config_table,
    )))
    .map_err(located)?;
    if let Some(dir) = &case.apiops {
        config.apiops = Some(Spanned::new(
            0..0,
            ApiopsSection {
                dir: Spanned::new(0..0, dir.clone()),
                overrides: case.apiops_overrides.clone().map(|o| Spanned::new(0..0, o)),
            },
        ));
    }
    if let Some(at) = both_body_and_chunks(&case) {
        return Err(format!(
            "{name}: {at} has both `body` and `chunks` (`chunks` is the body, in pieces)"
        ));
    }
    if case.expect.is_some() && !case.step.is_empty() {
        return Err(format!(
            "{name}: a case with `[expect] load-error` has no steps"
        ));
    }
    Ok((case, config))
}

/// Where an answer has both `body` and `chunks`, if one does.
fn both_body_and_chunks(case: &Case) -> Option<String> {
    let both =
        |body: &Option<String>, chunks: &Option<Vec<String>>| body.is_some() && chunks.is_some();
    if both(&case.backend.body, &case.backend.chunks) {
        return Some("`[backend]`".into());
    }
    if let Some(s) = case.stub.iter().find(|s| both(&s.body, &s.chunks)) {
        return Some(format!("the `[[stub]]` of `{}`", s.url_prefix));
    }
    for (i, step) in case.step.iter().enumerate() {
        if step
            .backend
            .as_ref()
            .is_some_and(|b| both(&b.body, &b.chunks))
            || step.stub.iter().any(|s| both(&s.body, &s.chunks))
        {
            return Some(format!("step {}", i + 1));
        }
    }
    None
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Milliseconds of an `advance` value: `250ms`, `61s`, `2m`, `1h`, or a bare number of ms.
pub fn duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "ms"),
    };
    let n: u64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    n.checked_mul(factor)
}
