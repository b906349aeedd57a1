//! `cache-lookup`: answers a GET request from the response cache when an
//! unexpired entry has its key, else leaves the key for `cache-store` in
//! outbound (in `Exchange::extensions`).
//!
//! The key (DECISIONS.md "Response cache key"): the API, the operation,
//! the product, the request's URL path, the query parameters named by
//! `vary-by-query-parameter` (all of them when none is named), the values
//! of the `vary-by-header` headers, and, when asked, the developer (the
//! subscription's user) and their groups; hashed, under
//! `r:{api}:{operation}:`. Only GET requests are looked up (and stored);
//! a request with `Authorization` is neither, unless
//! `allow-private-response-caching` is true. A hit returns the stored
//! status, headers and body, skips the rest of inbound and the backend,
//! and outbound runs; `downstream-caching-type` and `must-revalidate` set
//! the `Cache-Control` of the answer on a hit and on a stored miss. A
//! compressed response (`Content-Encoding`) is stored only when
//! `Accept-Encoding` is a `vary-by-header`: else a client that cannot
//! read it could be served it.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use sluice_engine::runtime::{
    Body, CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Reason, Record, Run,
    Stage,
};
use sluice_engine::xml::Element;

use crate::cache::codec::Response;
use crate::cache::{Caches, CachingType, Kind};

/// `downstream-caching-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Downstream {
    None,
    Private,
    Public,
}

impl Downstream {
    fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "none" => Some(Self::None),
            "private" => Some(Self::Private),
            "public" => Some(Self::Public),
            _ => None,
        }
    }

    /// The `Cache-Control` of an answer that stays fresh `max_age_s` more
    /// seconds (DECISIONS.md "Downstream caching").
    pub(crate) fn cache_control(self, must_revalidate: bool, max_age_s: i64) -> String {
        let scope = match self {
            Downstream::None => return "no-store".to_owned(),
            Downstream::Private => "private",
            Downstream::Public => "public",
        };
        let mut v = format!("{scope}, max-age={}", max_age_s.max(0));
        if must_revalidate {
            v.push_str(", must-revalidate");
        }
        v
    }
}

/// What the lookup leaves for `cache-store` (in `Exchange::extensions`).
#[derive(Debug)]
pub(crate) enum ResponseCacheState {
    /// Looked up and missed: the store may keep the response under `key`.
    Missed(Missed),
    /// Answered from the cache, or not looked up: nothing to store.
    Done,
}

#[derive(Debug)]
pub(crate) struct Missed {
    pub key: String,
    pub kind: Kind,
    pub downstream: Downstream,
    pub must_revalidate: bool,
    /// `Accept-Encoding` is in the key: a compressed response may be stored.
    pub by_encoding: bool,
}

#[derive(Debug)]
struct Lookup {
    caches: Arc<Caches>,
    caching_type: CachingType,
    by_developer: Option<CompiledValue>,
    by_groups: Option<CompiledValue>,
    downstream: Option<CompiledValue>,
    must_revalidate: Option<CompiledValue>,
    allow_private: Option<CompiledValue>,
    headers: Vec<CompiledValue>,
    query: Vec<CompiledValue>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let caches = cx.resource::<Caches>(e)?;
    let mut headers = Vec::new();
    let mut query = Vec::new();
    for c in e.elements() {
        match c.name.as_str() {
            "vary-by-header" => headers.push(cx.text(c)?),
            "vary-by-query-parameter" => query.push(cx.text(c)?),
            _ => {}
        }
    }
    Ok(Box::new(Lookup {
        caches,
        caching_type: caching_type(cx, e),
        by_developer: cx.optional(e, "vary-by-developer")?,
        by_groups: cx.optional(e, "vary-by-developer-groups")?,
        downstream: cx.optional(e, "downstream-caching-type")?,
        must_revalidate: cx.optional(e, "must-revalidate")?,
        allow_private: cx.optional(e, "allow-private-response-caching")?,
        headers,
        query,
    }))
}

/// `caching-type` (validated by the schema; `prefer-external` when absent).
pub(crate) fn caching_type(cx: &CompileCx<'_>, e: &Element) -> CachingType {
    cx.literal(e, "caching-type")
        .and_then(|t| CachingType::parse(&t))
        .unwrap_or(CachingType::PreferExternal)
}

fn flag(v: Option<&CompiledValue>, x: &Exchange, default: bool) -> Result<bool, PolicyError> {
    v.map_or(Ok(default), |v| v.eval_bool(x))
}

/// A record's field as text, or empty.
fn field(r: Option<&Record>, name: &str) -> String {
    r.and_then(|r| r.fields.get(name))
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// The ids of the user's groups, sorted (`IUser.Groups`: `IGroup` records).
fn groups(user: Option<&Record>) -> Vec<String> {
    let Some(list) = user
        .and_then(|u| u.fields.get("Groups"))
        .and_then(|g| g.clone().try_cast::<rhai::Array>())
    else {
        return Vec::new();
    };
    let mut ids: Vec<String> = list
        .into_iter()
        .filter_map(|g| g.try_cast::<Record>())
        .map(|g| field(Some(&g), "Id"))
        .collect();
    ids.sort();
    ids
}

impl Lookup {
    /// The request's key (and whether `Accept-Encoding` is in it), or
    /// `None` when it may not use the cache.
    fn key(&self, x: &Exchange) -> Result<Option<(String, bool)>, PolicyError> {
        let (get, authorized) = x
            .request()
            .read(|m| (m.method == "GET", m.headers.get("Authorization").is_some()));
        if !get || authorized && !flag(self.allow_private.as_ref(), x, false)? {
            return Ok(None);
        }
        let data = &x.ctx.0;
        let api = field(data.api.as_ref(), "Id");
        let operation = field(data.operation.as_ref(), "Id");
        let mut parts: Vec<String> = vec![
            api.clone(),
            operation.clone(),
            field(data.product.as_ref(), "Id"),
        ];
        let mut names = Vec::new();
        for q in &self.query {
            for n in q.text(x)?.split(';') {
                let n = n.trim();
                if !n.is_empty() {
                    names.push(n.to_owned());
                }
            }
        }
        x.request().read(|m| {
            parts.push(m.url.path.clone());
            let mut query: Vec<String> = m
                .url
                .query
                .0
                .iter()
                .filter(|(k, _)| names.is_empty() || names.iter().any(|n| n == k.as_ref()))
                .map(|(k, vs)| format!("{k}={}", vs.join(",")))
                .collect();
            query.sort();
            parts.push(format!("q:{}", query.join("&")));
        });
        let mut by_encoding = false;
        for h in &self.headers {
            let name = h.text(x)?;
            by_encoding |= name.trim().eq_ignore_ascii_case("Accept-Encoding");
            let value = x.request().read(|m| {
                m.headers
                    .get(name.trim())
                    .map(|vs| format!("={}", vs.join(", ")))
                    .unwrap_or_default()
            });
            parts.push(format!("h:{}{value}", name.trim().to_ascii_lowercase()));
        }
        if flag(self.by_developer.as_ref(), x, false)? {
            parts.push(format!("d:{}", field(data.user.as_ref(), "Id")));
        }
        if flag(self.by_groups.as_ref(), x, false)? {
            parts.push(format!("g:{}", groups(data.user.as_ref()).join(",")));
        }
        let digest = Sha256::digest(serde_json::to_vec(&parts).unwrap_or_default());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Some((format!("r:{api}:{operation}:{hex}"), by_encoding)))
    }

    fn downstream(&self, x: &Exchange) -> Result<(Downstream, bool), PolicyError> {
        let downstream = match &self.downstream {
            None => Downstream::None,
            Some(v) => {
                let t = v.text(x)?;
                Downstream::parse(&t).ok_or_else(|| {
                    PolicyError::new(
                        "cache-lookup",
                        Reason::ExpressionValueEvaluationFailure,
                        500,
                        format!(
                            "downstream-caching-type must be none, private or public, not `{t}`"
                        ),
                    )
                })?
            }
        };
        Ok((downstream, flag(self.must_revalidate.as_ref(), x, true)?))
    }
}

/// Answers with the cached response `r`.
fn answer(x: &mut Exchange, r: Response, cache_control: String) {
    x.response().write(|m| {
        m.status = i64::from(r.status);
        m.reason = r.reason;
        m.headers = Default::default();
        for (name, value) in &r.headers {
            m.headers.append(name, value);
        }
        m.headers.set_one("Cache-Control", cache_control);
        m.body = Some(Body {
            bytes: r.body,
            consumed: false,
        });
    });
    x.streaming.response_body = None;
}

impl Stage for Lookup {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let (key, by_encoding) = match self.key(x) {
            Ok(Some(k)) => k,
            Ok(None) => {
                x.extensions.insert(ResponseCacheState::Done);
                return Run::next();
            }
            Err(e) => return Run::fail(e),
        };
        let (downstream, must_revalidate) = match self.downstream(x) {
            Ok(d) => d,
            Err(e) => return Run::fail(e),
        };
        let Some(kind) = self.caches.resolve(self.caching_type) else {
            x.extensions.insert(ResponseCacheState::Done);
            return Run::next();
        };
        Run::Later(Box::pin(async move {
            let now = x.now_ms();
            let found = self.caches.get(kind, &key, now).await;
            if let Some((r, expires)) = found.as_ref().and_then(Response::decode_expiring) {
                let max_age = (expires - now + 999) / 1000;
                answer(x, r, downstream.cache_control(must_revalidate, max_age));
                x.extensions.insert(ResponseCacheState::Done);
                return Ok(Flow::Answered);
            }
            x.extensions.insert(ResponseCacheState::Missed(Missed {
                key,
                kind,
                downstream,
                must_revalidate,
                by_encoding,
            }));
            Ok(Flow::Next)
        }))
    }
}
