//! `validate-client-certificate`: the certificate the client presented in
//! the TLS handshake (`context.Request.Certificate`) must pass every rule of
//! the top-level attributes, and match every claim of at least one
//! `identity` (when any is given). Otherwise the request fails with 401
//! (`ClientCertificateNotValid`; docs/decisions.md), unless `ignore-error`.
//!
//! - `validate-not-before`, `validate-not-after` (default true): the
//!   certificate's validity against the gateway clock.
//! - `validate-trust` (default true): its chain reaches a trusted CA (the
//!   `[certificates.ID]` entries with `ca = true`, `[gateway] tls-client-ca`).
//! - `validate-revocation` (default true): Sluice fetches no revocation list
//!   (docs/decisions.md); a certificate is not refused for it.
//! - identity claims: `thumbprint`, `serial-number` (hex, any case,
//!   separators ignored), `common-name`, `subject` and `issuer-subject`
//!   (distinguished names compared attribute by attribute in any order, any
//!   case), `dns-name` (a DNS name of its subject alternative names),
//!   `issuer-thumbprint` and `issuer-certificate-id` (a configured
//!   certificate with that thumbprint or id signed it).

use std::sync::Arc;

use sluice_engine::runtime::{
    Certificates, CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Reason, Run, Stage,
    normalize_hex,
};
use sluice_engine::xml::Element;
use sluice_stdlib::X509Certificate2;

const SOURCE: &str = "validate-client-certificate";

#[derive(Debug)]
struct ValidateClientCertificate {
    not_before: bool,
    not_after: bool,
    trust: bool,
    ignore_error: bool,
    identities: Vec<Identity>,
    certificates: Arc<Certificates>,
}

/// One `identity`: the claims it defines.
#[derive(Debug, Default)]
struct Identity {
    thumbprint: Option<CompiledValue>,
    serial_number: Option<CompiledValue>,
    common_name: Option<CompiledValue>,
    subject: Option<CompiledValue>,
    dns_name: Option<CompiledValue>,
    issuer_subject: Option<CompiledValue>,
    issuer_thumbprint: Option<CompiledValue>,
    issuer_certificate_id: Option<CompiledValue>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    // Literal booleans (the schema refuses expressions), `true` unless given.
    let flag = |cx: &CompileCx<'_>, name: &str, default: bool| {
        cx.literal(e, name)
            .map_or(default, |v| v.eq_ignore_ascii_case("true"))
    };
    let (not_before, not_after) = (
        flag(cx, "validate-not-before", true),
        flag(cx, "validate-not-after", true),
    );
    let trust = flag(cx, "validate-trust", true);
    let ignore_error = flag(cx, "ignore-error", false);
    let mut identities = Vec::new();
    for list in e.elements().filter(|c| c.name == "identities") {
        for i in list.elements().filter(|c| c.name == "identity") {
            identities.push(Identity {
                thumbprint: cx.optional(i, "thumbprint")?,
                serial_number: cx.optional(i, "serial-number")?,
                common_name: cx.optional(i, "common-name")?,
                subject: cx.optional(i, "subject")?,
                dns_name: cx.optional(i, "dns-name")?,
                issuer_subject: cx.optional(i, "issuer-subject")?,
                issuer_thumbprint: cx.optional(i, "issuer-thumbprint")?,
                issuer_certificate_id: cx.optional(i, "issuer-certificate-id")?,
            });
        }
    }
    let certificates = cx.resource::<Certificates>(e)?;
    Ok(Box::new(ValidateClientCertificate {
        not_before,
        not_after,
        trust,
        ignore_error,
        identities,
        certificates,
    }))
}

/// A distinguished name as comparable attributes: `CN=a, O="b, c"` →
/// `[("CN", "a"), ("O", "b, c")]`, sorted, upper-cased.
fn dn(text: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let (mut cur, mut quoted, mut escaped) = (String::new(), false, false);
    for c in text.chars() {
        match c {
            _ if escaped => {
                cur.push(c);
                escaped = false;
            }
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' | ';' if !quoted => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    let mut out: Vec<(String, String)> = parts
        .iter()
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_uppercase(), v.trim().to_uppercase()))
        })
        .collect();
    out.sort();
    out
}

/// A claim's value: `None` when the identity does not define it.
fn claim(v: Option<&CompiledValue>, x: &Exchange) -> Result<Option<String>, PolicyError> {
    match v {
        Some(v) => Ok(Some(v.text(x)?.into_owned())),
        None => Ok(None),
    }
}

impl ValidateClientCertificate {
    /// Why `c` fails the top-level rules, if it does.
    fn rules(&self, c: &X509Certificate2, now_ms: i64) -> Option<String> {
        let (not_before, not_after) = c.validity();
        let now = now_ms.div_euclid(1000);
        if self.not_before && now < not_before {
            return Some("the client certificate is not valid yet (NotBefore)".into());
        }
        if self.not_after && now > not_after {
            return Some("the client certificate has expired (NotAfter)".into());
        }
        if self.trust {
            // The chain only: the certificate's own validity is the two
            // rules above, so it is checked at a time within it.
            let within = now_ms.clamp(
                not_before.saturating_mul(1000),
                not_after
                    .saturating_mul(1000)
                    .max(not_before.saturating_mul(1000)),
            );
            let checked = match &self.certificates.trust {
                Some(t) => t.verify(c.der(), within),
                None => Err("no CA is trusted".into()),
            };
            if let Err(why) = checked {
                return Some(format!(
                    "the client certificate's chain does not reach a trusted CA: {why}"
                ));
            }
        }
        None
    }

    /// Whether a configured certificate issued `c`: one with thumbprint
    /// `thumbprint`, or the one with id `id`.
    fn issued_by(&self, c: &X509Certificate2, thumbprint: Option<&str>, id: Option<&str>) -> bool {
        let Some(trust) = &self.certificates.trust else {
            return false;
        };
        let issuer = match (thumbprint, id) {
            (Some(t), _) => self.certificates.by_thumbprint(t).map(|(_, s)| s),
            (None, Some(id)) => self.certificates.by_id.get(id),
            (None, None) => return true,
        };
        issuer.is_some_and(|s| trust.issued_by(c.der(), s.certificate.der()))
    }

    /// Whether `c` matches every claim `i` defines.
    fn matches(
        &self,
        i: &Identity,
        c: &X509Certificate2,
        x: &Exchange,
    ) -> Result<bool, PolicyError> {
        let hex_eq = |want: &str, got: &str| {
            let (w, g) = (normalize_hex(want), normalize_hex(got));
            w.trim_start_matches('0') == g.trim_start_matches('0')
        };
        if let Some(t) = claim(i.thumbprint.as_ref(), x)?
            && !hex_eq(&t, &c.thumbprint())
        {
            return Ok(false);
        }
        if let Some(s) = claim(i.serial_number.as_ref(), x)?
            && !hex_eq(&s, &c.serial_number())
        {
            return Ok(false);
        }
        let subject = dn(c.subject());
        if let Some(cn) = claim(i.common_name.as_ref(), x)? {
            let cn = cn.trim().to_uppercase();
            if !subject.iter().any(|(k, v)| k == "CN" && *v == cn) {
                return Ok(false);
            }
        }
        if let Some(s) = claim(i.subject.as_ref(), x)?
            && dn(&s) != subject
        {
            return Ok(false);
        }
        if let Some(d) = claim(i.dns_name.as_ref(), x)?
            && !c
                .dns_names()
                .iter()
                .any(|n| n.eq_ignore_ascii_case(d.trim()))
        {
            return Ok(false);
        }
        if let Some(s) = claim(i.issuer_subject.as_ref(), x)?
            && dn(&s) != dn(c.issuer())
        {
            return Ok(false);
        }
        let thumbprint = claim(i.issuer_thumbprint.as_ref(), x)?;
        let id = claim(i.issuer_certificate_id.as_ref(), x)?;
        Ok(self.issued_by(c, thumbprint.as_deref(), id.as_deref()))
    }

    fn check(&self, x: &Exchange) -> Result<(), PolicyError> {
        let refuse = |why: String| {
            PolicyError::new(SOURCE, Reason::ClientCertificateNotValid, 401, why)
                .with_response_message("Invalid client certificate.")
        };
        let Some(c) = x.request().read(|m| m.certificate.clone()) else {
            return Err(refuse("the request has no client certificate".into()));
        };
        if let Some(why) = self.rules(&c, x.now_ms()) {
            return Err(refuse(why));
        }
        if self.identities.is_empty() {
            return Ok(());
        }
        for i in &self.identities {
            if self.matches(i, &c, x)? {
                return Ok(());
            }
        }
        Err(refuse(
            "the client certificate matches none of the identities".into(),
        ))
    }
}

impl Stage for ValidateClientCertificate {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        match self.check(x) {
            Ok(()) => Run::next(),
            Err(e) if self.ignore_error && e.reason == Reason::ClientCertificateNotValid => {
                Run::next()
            }
            Err(e) => Run::fail(e),
        }
    }
}
