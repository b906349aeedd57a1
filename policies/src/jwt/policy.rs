//! What `validate-jwt` and `validate-azure-ad-token` share: where the token
//! is (`header-name`, `query-parameter-name`, `token-value`, `require-scheme`),
//! the failure answer (`failed-validation-httpcode`, default 401, and
//! `failed-validation-error-message`), `required-claims`, `audiences`,
//! `output-token-variable-name`, and the validation itself.

use std::sync::Arc;

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    CompileCx, CompiledValue, Exchange, PolicyError, Reason, Reported, Services,
};
use sluice_engine::xml::Element;

use super::keysets::KeySets;
use super::{Checks, ClaimRule, Failure, Key, Token};

/// Where the token is.
#[derive(Debug)]
pub(crate) enum Source {
    Header(CompiledValue),
    Query(CompiledValue),
    Value(CompiledValue),
}

/// The attributes both policies have.
#[derive(Debug)]
pub(crate) struct Common {
    pub policy: &'static str,
    pub source: Source,
    pub status: Option<CompiledValue>,
    pub message: Option<CompiledValue>,
    pub require_scheme: Option<CompiledValue>,
    pub output: Option<String>,
}

/// A `required-claims/claim` as compiled.
#[derive(Debug)]
pub(crate) struct ClaimSpec {
    name: CompiledValue,
    matching: Option<CompiledValue>,
    separator: Option<CompiledValue>,
    values: Vec<CompiledValue>,
}

impl Common {
    /// `default_header`: the header read when no source is given
    /// (`validate-azure-ad-token`: `Authorization`).
    pub fn compile(
        e: &Element,
        cx: &mut CompileCx<'_>,
        policy: &'static str,
        default_header: Option<&str>,
    ) -> Result<Self, Reported> {
        let source = if let Some(h) = cx.optional(e, "header-name")? {
            Source::Header(h)
        } else if let Some(q) = cx.optional(e, "query-parameter-name")? {
            Source::Query(q)
        } else if let Some(v) = cx.optional(e, "token-value")? {
            Source::Value(v)
        } else if let Some(h) = default_header {
            Source::Header(CompiledValue::Literal(h.to_owned()))
        } else {
            return cx.fail(
                Code::AttributeCombination,
                e.name_span,
                format!(
                    "`{policy}` needs one of `header-name`, `query-parameter-name` or `token-value`"
                ),
            );
        };
        Ok(Self {
            policy,
            source,
            status: cx.optional(e, "failed-validation-httpcode")?,
            message: cx.optional(e, "failed-validation-error-message")?,
            require_scheme: cx.optional(e, "require-scheme")?,
            output: cx.literal(e, "output-token-variable-name"),
        })
    }

    /// The token, `None` when there is none where the policy looks.
    pub fn token(&self, x: &Exchange) -> Result<Option<String>, PolicyError> {
        let raw = match &self.source {
            Source::Header(name) => {
                let name = name.text(x)?;
                let Some(value) = x
                    .request()
                    .read(|m| m.headers.get(&name).and_then(|v| v.first().cloned()))
                else {
                    return Ok(None);
                };
                // `require-scheme` holds for the Authorization header only (the docs).
                let scheme = match &self.require_scheme {
                    Some(s) if name.eq_ignore_ascii_case("authorization") => {
                        Some(s.text(x)?.into_owned())
                    }
                    _ => None,
                };
                let value = value.trim();
                match value.split_once(' ') {
                    Some((given, token)) => {
                        if scheme.is_some_and(|s| !s.eq_ignore_ascii_case(given)) {
                            return Ok(None);
                        }
                        token.trim().to_owned()
                    }
                    None if scheme.is_some() => return Ok(None),
                    None => value.to_owned(),
                }
            }
            Source::Query(name) => {
                let name = name.text(x)?;
                let Some(v) = x
                    .request()
                    .read(|m| m.url.query.get(&name).and_then(|v| v.first().cloned()))
                else {
                    return Ok(None);
                };
                v
            }
            Source::Value(v) => v.eval_string(x)?.unwrap_or_default(),
        };
        let raw = raw.trim();
        Ok((!raw.is_empty()).then(|| raw.to_owned()))
    }

    /// The error of a refused token: its reason and message in
    /// `context.LastError`, the status and message the client gets.
    pub fn refuse(&self, x: &Exchange, f: Failure) -> PolicyError {
        let status = match &self.status {
            None => 401,
            Some(v) => match v.eval_int(x) {
                Ok(n) => match u16::try_from(n).ok().filter(|c| (100..=999).contains(c)) {
                    Some(c) => c,
                    None => {
                        return PolicyError::new(
                            self.policy,
                            Reason::ExpressionValueEvaluationFailure,
                            500,
                            format!("`{n}` is not an HTTP status code"),
                        );
                    }
                },
                Err(e) => return e,
            },
        };
        let response = match &self.message {
            None => f.message.clone(),
            Some(m) => match m.eval_string(x) {
                Ok(m) => m.unwrap_or_default(),
                Err(e) => return e,
            },
        };
        PolicyError::new(self.policy, f.reason, status, f.message).with_response_message(response)
    }

    /// Stores the validated token as a `Jwt` in `output-token-variable-name`.
    pub fn output(&self, x: &Exchange, token: &str) {
        if let Some(name) = &self.output
            && let Some(jwt) = sluice_stdlib::context::jwt_value(token)
        {
            x.ctx.variables(|v| v.insert(name.clone(), jwt));
        }
    }
}

/// `required-claims`, if given.
pub(crate) fn compile_claims(
    e: &Element,
    cx: &mut CompileCx<'_>,
) -> Result<Vec<ClaimSpec>, Reported> {
    let mut out = Vec::new();
    for rc in e.elements().filter(|c| c.name == "required-claims") {
        for c in rc.elements().filter(|c| c.name == "claim") {
            let mut values = Vec::new();
            for v in c.elements().filter(|v| v.name == "value") {
                values.push(cx.text(v)?);
            }
            out.push(ClaimSpec {
                name: cx.required(c, "name")?,
                matching: cx.optional(c, "match")?,
                separator: cx.optional(c, "separator")?,
                values,
            });
        }
    }
    Ok(out)
}

/// The texts of `group/item` children (`audiences/audience`).
pub(crate) fn compile_list(
    e: &Element,
    cx: &mut CompileCx<'_>,
    group: &str,
    item: &str,
) -> Result<Vec<CompiledValue>, Reported> {
    let mut out = Vec::new();
    for g in e.elements().filter(|c| c.name == group) {
        for i in g.elements().filter(|c| c.name == item) {
            out.push(cx.text(i)?);
        }
    }
    Ok(out)
}

pub(crate) fn eval_list(list: &[CompiledValue], x: &Exchange) -> Result<Vec<String>, PolicyError> {
    let mut out = Vec::with_capacity(list.len());
    for v in list {
        if let Some(s) = v.eval_string(x)? {
            out.push(s.trim().to_owned());
        }
    }
    Ok(out)
}

pub(crate) fn eval_claims(
    specs: &[ClaimSpec],
    x: &Exchange,
) -> Result<Vec<ClaimRule>, PolicyError> {
    let mut out = Vec::with_capacity(specs.len());
    for s in specs {
        out.push(ClaimRule {
            name: s.name.text(x)?.into_owned(),
            any: match &s.matching {
                Some(m) => m.text(x)?.trim().eq_ignore_ascii_case("any"),
                None => false,
            },
            separator: match &s.separator {
                Some(v) => v.eval_string(x)?,
                None => None,
            },
            values: eval_list(&s.values, x)?,
        });
    }
    Ok(out)
}

/// The keys for a token: the policy's own, then those of its
/// `openid-config` URLs (fetched or refetched as [`KeySets::keys`] says),
/// with the issuers those configurations name.
pub(crate) async fn keys_for(
    services: &dyn Services,
    keysets: Option<&KeySets>,
    urls: &[String],
    token: &Token<'_>,
) -> (Vec<Arc<super::keysets::Fetched>>, Vec<String>) {
    let mut fetched = Vec::new();
    let mut issuers = Vec::new();
    let Some(sets) = keysets else {
        return (fetched, issuers);
    };
    for url in urls {
        if let Some(f) = sets.keys(services, url, token.kid.as_deref()).await {
            if let Some(i) = &f.issuer {
                issuers.push(i.clone());
            }
            fetched.push(f);
        }
    }
    (fetched, issuers)
}

/// Signature, then the checks.
pub(crate) fn validate(
    token: &Token<'_>,
    own: &[Key],
    evaluated: &[Key],
    fetched: &[Arc<super::keysets::Fetched>],
    require_signed: bool,
    checks: &Checks,
) -> Result<(), Failure> {
    let keys = own
        .iter()
        .chain(evaluated)
        .chain(fetched.iter().flat_map(|f| f.keys.iter()));
    super::verify(token, keys, require_signed)?;
    super::check(token, checks)
}
