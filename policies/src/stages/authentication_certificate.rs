//! `authentication-certificate`: the backend call (`forward-request`)
//! presents a client certificate in its TLS handshake. The certificate is
//! a `[certificates.ID]` entry with a private key, named by `certificate-id`
//! or `thumbprint`, or the certificate itself as bytes (`body`: PKCS#12,
//! with `password`; or PEM with an unencrypted PKCS#8 key). A literal id or
//! thumbprint is checked at load; one from an expression, or a `body` that
//! cannot be read, fails the request (`CertificateNotFound`, 500).
//!
//! Inside `send-request` it does the same for that request
//! ([`compile_child`]).
//!
//! The password and the key never reach an error or a log.

use std::sync::Arc;

use base64::Engine as _;
use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    BackendCertificate, Certificates, ClientIdentity, CompileCx, Compiled, CompiledValue, Exchange,
    PolicyError, Reason, Run, Stage,
};
use sluice_engine::xml::Element;

const SOURCE: &str = "authentication-certificate";

#[derive(Debug)]
enum Which {
    Id(CompiledValue),
    Thumbprint(CompiledValue),
    Body {
        body: CompiledValue,
        password: Option<CompiledValue>,
    },
}

/// The certificate an `authentication-certificate` element names.
#[derive(Debug)]
pub(crate) struct CertificateSpec {
    which: Which,
    certificates: Arc<Certificates>,
}

#[derive(Debug)]
struct AuthenticationCertificate(CertificateSpec);

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(AuthenticationCertificate(compile_child(e, cx)?)))
}

/// `authentication-certificate` as a policy or inside `send-request`.
pub(crate) fn compile_child(e: &Element, cx: &mut CompileCx<'_>) -> Compiled<CertificateSpec> {
    let certificates = cx.resource::<Certificates>(e)?;
    // (The schema asks for exactly one of the three.)
    let which = if let Some(id) = cx.optional(e, "certificate-id")? {
        if let Some(lit) = literal(&id)
            && let Err(why) = usable(
                certificates
                    .by_id
                    .get(lit.as_str())
                    .map(|c| (lit.as_str(), c)),
            )
        {
            return cx.fail(Code::ConfigReference, e.span, why);
        }
        Which::Id(id)
    } else if let Some(t) = cx.optional(e, "thumbprint")? {
        if let Some(lit) = literal(&t)
            && let Err(why) = usable(certificates.by_thumbprint(lit))
        {
            return cx.fail(
                Code::ConfigReference,
                e.span,
                format!("thumbprint `{lit}`: {why}"),
            );
        }
        Which::Thumbprint(t)
    } else {
        Which::Body {
            body: cx.required(e, "body")?,
            password: cx.optional(e, "password")?,
        }
    };
    Ok(CertificateSpec {
        which,
        certificates,
    })
}

fn literal(v: &CompiledValue) -> Option<&String> {
    match v {
        CompiledValue::Literal(s) => Some(s),
        CompiledValue::Expr(_) => None,
    }
}

/// The identity of an entry, or why it cannot be presented.
fn usable(
    found: Option<(&str, &sluice_engine::runtime::StoredCertificate)>,
) -> Result<Arc<ClientIdentity>, String> {
    let Some((id, c)) = found else {
        return Err("no `[certificates.ID]` entry has this certificate".into());
    };
    c.identity.clone().ok_or_else(|| {
        format!("`[certificates.{id}]` has no private key: a backend cannot be shown it")
    })
}

impl CertificateSpec {
    /// The certificate and key to present, or `CertificateNotFound`.
    pub(crate) fn identity(&self, x: &Exchange) -> Result<Arc<ClientIdentity>, PolicyError> {
        let not_found =
            |why: String| PolicyError::new(SOURCE, Reason::CertificateNotFound, 500, why);
        match &self.which {
            Which::Id(id) => {
                let id = id.text(x)?;
                usable(self.certificates.by_id.get(&*id).map(|c| (&*id, c)))
                    .map_err(|why| not_found(format!("certificate-id `{id}`: {why}")))
            }
            Which::Thumbprint(t) => {
                let t = t.text(x)?;
                usable(self.certificates.by_thumbprint(&t))
                    .map_err(|why| not_found(format!("thumbprint `{t}`: {why}")))
            }
            Which::Body { body, password } => {
                let v = body.eval(x)?;
                let bytes = if v.is_blob() {
                    v.into_blob().unwrap_or_default()
                } else {
                    let text = v.into_immutable_string().unwrap_or_default();
                    base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .unwrap_or_else(|_| text.as_bytes().to_vec())
                };
                let password = match password {
                    Some(p) => p.eval_string(x)?,
                    None => None,
                };
                from_bytes(&bytes, password.as_deref(), &self.certificates)
                    .map_err(|why| not_found(format!("body: {why}")))
            }
        }
    }
}

/// A certificate and key from bytes: PKCS#12 or PEM.
fn from_bytes(
    bytes: &[u8],
    password: Option<&str>,
    certificates: &Certificates,
) -> Result<Arc<ClientIdentity>, String> {
    let (chain, key) = if sluice_stdlib::is_pfx(bytes) {
        let pfx = sluice_stdlib::read_pfx(bytes, password)?;
        (pfx.certificates, pfx.key)
    } else {
        let text = String::from_utf8_lossy(bytes);
        let blocks = pem_blocks(&text);
        let chain: Vec<Vec<u8>> = blocks
            .iter()
            .filter(|(label, _)| label == "CERTIFICATE")
            .map(|(_, der)| der.clone())
            .collect();
        let key = blocks
            .into_iter()
            .find(|(label, _)| label == "PRIVATE KEY")
            .map(|(_, der)| der);
        (chain, key)
    };
    let leaf = chain
        .first()
        .and_then(|c| sluice_stdlib::X509Certificate2::from_der(c))
        .ok_or("it holds no certificate")?;
    let key = key.ok_or("it holds no private key (PKCS#12, or PEM `PRIVATE KEY`)")?;
    Ok(Arc::new(ClientIdentity {
        thumbprint: leaf.thumbprint(),
        chain,
        key,
        trusted: Arc::clone(&certificates.ca),
    }))
}

/// The `-----BEGIN X-----` blocks of a PEM text: (label, DER).
fn pem_blocks(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(label) = line
            .trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let b64: String = lines
            .by_ref()
            .take_while(|l| l.trim() != end)
            .flat_map(|l| l.trim().chars())
            .collect();
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64) {
            out.push((label.to_owned(), der));
        }
    }
    out
}

impl Stage for AuthenticationCertificate {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        match self.0.identity(x) {
            Ok(identity) => {
                x.extensions.insert(BackendCertificate(identity));
                Run::next()
            }
            Err(e) => Run::fail(e),
        }
    }
}
