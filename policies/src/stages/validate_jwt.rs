//! `validate-jwt`: the request must carry a valid JSON web token
//! (validate-jwt-policy.md). The token is taken from `header-name`
//! (`require-scheme` checked on `Authorization` only), `query-parameter-name`
//! or `token-value`; its signature verified with the `issuer-signing-keys`
//! (Base64 symmetric keys, RSA `n`/`e`; a key's `id` is matched to the
//! token's `kid`; each is tried in turn), the public keys of
//! `certificate-id` entries (`[certificates.ID]`) and the keys of the
//! `openid-config` URLs (the gateway's key sets: cached, refetched on an
//! unknown `kid`); then `exp` (required unless
//! `require-expiration-time="false"`) and `nbf` within `clock-skew`
//! seconds, `audiences`, `issuers` (and the issuer of each OpenID
//! configuration), and `required-claims`. An encrypted token (JWE) is
//! first opened with the `decryption-keys` (jwt/jwe.rs) and the token
//! inside it validated. A refusal fails the request with
//! `failed-validation-httpcode` (401) and APIM's reasons and messages
//! (apim-core.md §3.5), so `on-error` sees it.

use std::sync::Arc;

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    Certificates, CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Reason, Run,
    Stage,
};
use sluice_engine::xml::Element;

use crate::jwt::decryption::Decryption;
use crate::jwt::keysets::KeySets;
use crate::jwt::policy::{self, ClaimSpec, Common};
use crate::jwt::{Checks, Failure, Key};

/// A `<key>` whose text or `certificate-id` is an expression: read per
/// request.
#[derive(Debug)]
enum DynamicKey {
    Text {
        id: Option<String>,
        text: CompiledValue,
    },
    Certificate {
        id: Option<String>,
        certificate: CompiledValue,
        certificates: Arc<Certificates>,
    },
}

/// The signing key of a `[certificates.ID]` entry: its public key.
fn certificate_key(
    certificates: &Certificates,
    key_id: Option<String>,
    id: &str,
) -> Result<Key, String> {
    let Some(c) = certificates.by_id.get(id) else {
        return Err(format!("no `[certificates.{id}]` entry"));
    };
    Key::certificate(key_id, &c.certificate).map_err(|why| format!("`[certificates.{id}]`: {why}"))
}

#[derive(Debug)]
struct ValidateJwt {
    common: Common,
    require_expiration: Option<CompiledValue>,
    require_signed: Option<CompiledValue>,
    clock_skew: Option<CompiledValue>,
    keys: Vec<Key>,
    dynamic_keys: Vec<DynamicKey>,
    decryption: Decryption,
    openid: Vec<CompiledValue>,
    keysets: Option<Arc<KeySets>>,
    audiences: Vec<CompiledValue>,
    issuers: Vec<CompiledValue>,
    claims: Vec<ClaimSpec>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let common = Common::compile(e, cx, "validate-jwt", None)?;
    let mut keys = Vec::new();
    let mut dynamic_keys = Vec::new();
    let mut ok = true;
    for group in e.elements().filter(|c| c.name == "issuer-signing-keys") {
        for k in group.elements().filter(|c| c.name == "key") {
            let id = cx.literal(k, "id");
            if let Some(a) = k.attr("certificate-id") {
                let span = a.span;
                let certificates = cx.resource::<Certificates>(k)?;
                match cx.required(k, "certificate-id")? {
                    CompiledValue::Literal(c) => {
                        match certificate_key(&certificates, id, c.trim()) {
                            Ok(key) => keys.push(key),
                            Err(why) => {
                                cx.error(Code::ConfigReference, span, format!("`key`: {why}"));
                                ok = false;
                            }
                        }
                    }
                    certificate => dynamic_keys.push(DynamicKey::Certificate {
                        id,
                        certificate,
                        certificates,
                    }),
                }
                continue;
            }
            match (cx.literal(k, "n"), cx.literal(k, "e")) {
                (Some(n), Some(e_)) => match Key::rsa(id, &n, &e_) {
                    Ok(key) => keys.push(key),
                    Err(msg) => {
                        cx.error(
                            Code::InvalidAttributeValue,
                            k.head_span(),
                            format!("`key`: {msg}"),
                        );
                        ok = false;
                    }
                },
                (Some(_), None) | (None, Some(_)) => {
                    cx.error(
                        Code::AttributeCombination,
                        k.head_span(),
                        "`n` and `e` are given together (the RSA modulus and exponent)",
                    );
                    ok = false;
                }
                (None, None) => match cx.text(k)? {
                    CompiledValue::Literal(t) => match Key::symmetric(id, &t) {
                        Ok(key) => keys.push(key),
                        Err(msg) => {
                            // The key is a secret: the message never repeats it.
                            cx.error(
                                Code::InvalidAttributeValue,
                                k.head_span(),
                                format!("`key`: {msg}"),
                            );
                            ok = false;
                        }
                    },
                    text => dynamic_keys.push(DynamicKey::Text { id, text }),
                },
            }
        }
    }
    let decryption = Decryption::compile(e, cx);
    ok &= decryption.is_ok();
    let mut openid = Vec::new();
    for o in e.elements().filter(|c| c.name == "openid-config") {
        openid.push(cx.required(o, "url")?);
    }
    let keysets = if openid.is_empty() {
        None
    } else {
        let sets = cx.resource::<KeySets>(e)?;
        for url in &openid {
            if let CompiledValue::Literal(u) = url {
                sets.register(u.trim());
            }
        }
        Some(sets)
    };
    let audiences = policy::compile_list(e, cx, "audiences", "audience")?;
    let issuers = policy::compile_list(e, cx, "issuers", "issuer")?;
    let claims = policy::compile_claims(e, cx)?;
    let (true, Ok(decryption)) = (ok, decryption) else {
        return Err(sluice_engine::runtime::Reported);
    };
    Ok(Box::new(ValidateJwt {
        common,
        require_expiration: cx.optional(e, "require-expiration-time")?,
        require_signed: cx.optional(e, "require-signed-tokens")?,
        clock_skew: cx.optional(e, "clock-skew")?,
        keys,
        dynamic_keys,
        decryption,
        openid,
        keysets,
        audiences,
        issuers,
        claims,
    }))
}

/// What one request validates against, its values evaluated.
struct Evaluated {
    token: String,
    keys: Vec<Key>,
    urls: Vec<String>,
    require_signed: bool,
    checks: Checks,
}

impl ValidateJwt {
    fn evaluate(&self, x: &Exchange) -> Result<Result<Evaluated, Failure>, PolicyError> {
        let Some(token) = self.common.token(x)? else {
            return Ok(Err(Failure::not_present()));
        };
        let token = match self.decryption.open("validate-jwt", x, token)? {
            Ok(t) => t,
            Err(f) => return Ok(Err(f)),
        };
        let flag = |v: &Option<CompiledValue>| v.as_ref().map_or(Ok(true), |v| v.eval_bool(x));
        let mut keys = Vec::new();
        for k in &self.dynamic_keys {
            match k {
                DynamicKey::Text { id, text } => {
                    let text = text.text(x)?;
                    keys.push(Key::symmetric(id.clone(), &text).map_err(|msg| {
                        PolicyError::new(
                            "validate-jwt",
                            Reason::ExpressionValueEvaluationFailure,
                            500,
                            format!("an `issuer-signing-keys` key: {msg}"),
                        )
                    })?);
                }
                DynamicKey::Certificate {
                    id,
                    certificate,
                    certificates,
                } => {
                    let c = certificate.text(x)?;
                    keys.push(certificate_key(certificates, id.clone(), c.trim()).map_err(
                        |why| {
                            PolicyError::new("validate-jwt", Reason::CertificateNotFound, 500, why)
                        },
                    )?);
                }
            }
        }
        let skew = match &self.clock_skew {
            Some(v) => v.eval_int(x)?.max(0),
            None => 0,
        };
        Ok(Ok(Evaluated {
            token,
            keys,
            urls: policy::eval_list(&self.openid, x)?,
            require_signed: flag(&self.require_signed)?,
            checks: Checks {
                now_s: x.now_ms().div_euclid(1000),
                skew_s: skew,
                require_expiration: flag(&self.require_expiration)?,
                audiences: policy::eval_list(&self.audiences, x)?,
                issuers: policy::eval_list(&self.issuers, x)?,
                claims: policy::eval_claims(&self.claims, x)?,
            },
        }))
    }

    fn finish(
        &self,
        x: &Exchange,
        token: &str,
        r: Result<(), Failure>,
    ) -> Result<Flow, PolicyError> {
        match r {
            Ok(()) => {
                self.common.output(x, token);
                Ok(Flow::Next)
            }
            Err(f) => Err(self.common.refuse(x, f)),
        }
    }
}

impl Stage for ValidateJwt {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let ev = match self.evaluate(x) {
            Ok(Ok(ev)) => ev,
            Ok(Err(f)) => return Run::fail(self.common.refuse(x, f)),
            Err(e) => return Run::fail(e),
        };
        if ev.urls.is_empty() {
            let r = crate::jwt::parse(&ev.token).and_then(|t| {
                policy::validate(&t, &self.keys, &ev.keys, &[], ev.require_signed, &ev.checks)
            });
            return Run::Done(self.finish(x, &ev.token, r));
        }
        let mut ev = ev;
        Run::Later(Box::pin(async move {
            let services = Arc::clone(&x.services);
            let r = match crate::jwt::parse(&ev.token) {
                Err(f) => Err(f),
                Ok(t) => {
                    let (fetched, issuers) =
                        policy::keys_for(services.as_ref(), self.keysets.as_deref(), &ev.urls, &t)
                            .await;
                    if !ev.checks.issuers.is_empty() || !issuers.is_empty() {
                        ev.checks.issuers.extend(issuers);
                    }
                    policy::validate(
                        &t,
                        &self.keys,
                        &ev.keys,
                        &fetched,
                        ev.require_signed,
                        &ev.checks,
                    )
                }
            };
            self.finish(x, &ev.token, r)
        }))
    }
}
