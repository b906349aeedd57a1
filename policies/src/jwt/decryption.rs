//! A policy's `decryption-keys` (both `validate-jwt` and
//! `validate-azure-ad-token` have them): each `key` a Base64 symmetric key
//! (its text) or the private key of a `[certificates.ID]` entry
//! (`certificate-id`). Literal keys are read at load, a `certificate-id`
//! checked there (the entry must exist and hold an RSA private key); keys
//! from expressions are read per request.

use std::sync::Arc;

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    Certificates, CompileCx, CompiledValue, Exchange, PolicyError, Reason, Reported,
};
use sluice_engine::xml::Element;

use super::Failure;
use super::jwe::{self, DecryptionKey};

#[derive(Debug)]
enum Spec {
    Ready(DecryptionKey),
    Text(CompiledValue),
    Certificate(CompiledValue),
}

/// The compiled `decryption-keys`; empty when the policy has none.
#[derive(Debug, Default)]
pub(crate) struct Decryption {
    keys: Vec<Spec>,
    certificates: Option<Arc<Certificates>>,
}

/// The decryption key of a `[certificates.ID]` entry, or why there is none.
fn of_certificate(certificates: &Certificates, id: &str) -> Result<DecryptionKey, String> {
    let Some(c) = certificates.by_id.get(id) else {
        return Err(format!("no `[certificates.{id}]` entry"));
    };
    let Some(identity) = &c.identity else {
        return Err(format!(
            "`[certificates.{id}]` has no private key: it cannot decrypt tokens"
        ));
    };
    DecryptionKey::rsa_pkcs8(&identity.key).map_err(|why| format!("`[certificates.{id}]`: {why}"))
}

impl Decryption {
    pub fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Result<Self, Reported> {
        let mut out = Self::default();
        let mut ok = true;
        for group in e.elements().filter(|c| c.name == "decryption-keys") {
            for k in group.elements().filter(|c| c.name == "key") {
                if let Some(attr) = k.attr("certificate-id") {
                    let span = attr.span;
                    let id = cx.required(k, "certificate-id")?;
                    let certs = match &out.certificates {
                        Some(c) => Arc::clone(c),
                        None => {
                            let c = cx.resource::<Certificates>(k)?;
                            out.certificates = Some(Arc::clone(&c));
                            c
                        }
                    };
                    match id {
                        CompiledValue::Literal(id) => match of_certificate(&certs, id.trim()) {
                            Ok(key) => out.keys.push(Spec::Ready(key)),
                            Err(why) => {
                                cx.error(Code::ConfigReference, span, format!("`key`: {why}"));
                                ok = false;
                            }
                        },
                        id => out.keys.push(Spec::Certificate(id)),
                    }
                    continue;
                }
                match cx.text(k)? {
                    CompiledValue::Literal(t) => match DecryptionKey::symmetric(&t) {
                        Ok(key) => out.keys.push(Spec::Ready(key)),
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
                    text => out.keys.push(Spec::Text(text)),
                }
            }
        }
        if ok { Ok(out) } else { Err(Reported) }
    }

    /// The token to validate: `raw` itself when it is not encrypted, else
    /// the token inside it (a refusal when no key opens it).
    pub fn open(
        &self,
        policy: &'static str,
        x: &Exchange,
        raw: String,
    ) -> Result<Result<String, Failure>, PolicyError> {
        if !jwe::is_encrypted(&raw) {
            return Ok(Ok(raw));
        }
        if self.keys.is_empty() {
            return Ok(Err(Failure::new(
                Reason::JwtInvalid,
                "Decryption failed: the token is encrypted and the policy has no `decryption-keys`. Access denied.",
            )));
        }
        let mut evaluated = Vec::new();
        for k in &self.keys {
            match k {
                Spec::Ready(_) => {}
                Spec::Text(t) => {
                    let text = t.text(x)?;
                    evaluated.push(DecryptionKey::symmetric(&text).map_err(|msg| {
                        PolicyError::new(
                            policy,
                            Reason::ExpressionValueEvaluationFailure,
                            500,
                            format!("a `decryption-keys` key: {msg}"),
                        )
                    })?);
                }
                Spec::Certificate(id) => {
                    let id = id.text(x)?;
                    let certs = self.certificates.as_deref();
                    let key = certs
                        .ok_or_else(|| format!("no `[certificates.{id}]` entry"))
                        .and_then(|c| of_certificate(c, id.trim()));
                    evaluated.push(key.map_err(|why| {
                        PolicyError::new(policy, Reason::CertificateNotFound, 500, why)
                    })?);
                }
            }
        }
        let ready = self.keys.iter().filter_map(|k| match k {
            Spec::Ready(key) => Some(key),
            _ => None,
        });
        Ok(jwe::decrypt(&raw, ready.chain(&evaluated)))
    }
}
