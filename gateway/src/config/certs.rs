//! `[certificates.ID]`: certificates as APIM has them uploaded, loaded when
//! the configuration loads (a reload reads them anew). Each is a PEM file
//! (certificates, leaf first, and the leaf's private key if any, not
//! encrypted) or a PKCS#12 file with its `password`. Those with `ca = true`,
//! and `[gateway] tls-client-ca`, are the CAs `validate-client-certificate`
//! trusts; one with a private key can be presented to a backend
//! (`authentication-certificate`).
//!
//! Errors name the entry and its file, never a key or a password.

use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use sluice_engine::diag::Code;
use sluice_engine::runtime::{Certificates, ClientIdentity, StoredCertificate, Trust};
use sluice_stdlib::X509Certificate2;

use super::model::Config;
use super::{Loader, span_of};

impl Loader<'_> {
    /// The configuration's certificates, and the passwords read (to mask).
    pub(super) fn certificates(&mut self, config: &Config) -> (Certificates, Vec<String>) {
        let mut out = Certificates::default();
        let mut passwords = Vec::new();
        let mut roots = RootCertStore::empty();
        for (id, entry) in &config.certificates {
            let e = entry.get_ref();
            let what = format!("`[certificates.{id}]`");
            let password = e
                .password
                .as_ref()
                .and_then(|p| self.resolve(&format!("{what} password"), p));
            if let Some(p) = &password {
                passwords.push(p.clone());
            }
            let path = self.base.join(e.file.get_ref());
            match read(&path, password.as_deref()) {
                Ok((chain, key)) => {
                    let Some(certificate) =
                        chain.first().and_then(|c| X509Certificate2::from_der(c))
                    else {
                        self.error(
                            Code::ConfigReference,
                            span_of(&e.file),
                            format!(
                                "{what}: `{}` holds no readable certificate",
                                e.file.get_ref()
                            ),
                        );
                        continue;
                    };
                    if e.ca
                        && let Err(err) =
                            roots.add(CertificateDer::from(certificate.der().to_vec()))
                    {
                        self.error(
                            Code::ConfigReference,
                            span_of(&e.file),
                            format!("{what}: not usable as a CA: {err}"),
                        );
                    }
                    out.by_id.insert(
                        id.clone(),
                        StoredCertificate {
                            identity: key.map(|key| {
                                Arc::new(ClientIdentity {
                                    thumbprint: certificate.thumbprint(),
                                    chain,
                                    key,
                                    trusted: Arc::default(),
                                })
                            }),
                            certificate,
                            ca: e.ca,
                        },
                    );
                }
                Err(why) => self.error(
                    Code::ConfigReference,
                    span_of(&e.file),
                    format!("{what}: {why}"),
                ),
            }
        }
        if let Some(ca) = &config.gateway.tls_client_ca
            && let Ok(certs) = super::tls::read_certs(&self.base.join(ca.get_ref()))
        {
            // (Its errors are the listener's to report.)
            for c in certs {
                let _ = roots.add(c);
            }
        }
        // A backend's certificate may chain to the `ca = true` ones too.
        let ca: Arc<Vec<Vec<u8>>> = Arc::new(
            out.by_id
                .values()
                .filter(|c| c.ca)
                .map(|c| c.certificate.der().to_vec())
                .collect(),
        );
        for c in out.by_id.values_mut() {
            if let Some(identity) = &mut c.identity
                && let Some(i) = Arc::get_mut(identity)
            {
                i.trusted = Arc::clone(&ca);
            }
        }
        out.ca = ca;
        out.trust = Some(Arc::new(WebPkiTrust::new(roots)));
        (out, passwords)
    }
}

/// A certificate chain (DER, leaf first) and its private key (PKCS#8 DER), if any.
type ChainAndKey = (Vec<Vec<u8>>, Option<Vec<u8>>);

/// A certificate file's chain and private key.
fn read(path: &std::path::Path, password: Option<&str>) -> Result<ChainAndKey, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if sluice_stdlib::is_pfx(&bytes) {
        let pfx = sluice_stdlib::read_pfx(&bytes, password)
            .map_err(|e| format!("`{}`: {e}", path.display()))?;
        return Ok((pfx.certificates, pfx.key));
    }
    let chain: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .map(|c| c.to_vec())
        .collect();
    if chain.is_empty() {
        return Err(format!(
            "no certificate in `{}` (PEM or PKCS#12)",
            path.display()
        ));
    }
    // A key in the same file, if any (PKCS#8 for the outbound client).
    let key = match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(PrivateKeyDer::Pkcs8(k)) => Some(k.secret_pkcs8_der().to_vec()),
        Ok(_) => {
            return Err(format!(
                "the private key in `{}` must be PKCS#8 (`BEGIN PRIVATE KEY`)",
                path.display()
            ));
        }
        Err(_) => None,
    };
    Ok((chain, key))
}

/// Chain checks by rustls's WebPKI verifier (signatures, validity,
/// the client-authentication usage), against the trusted CAs.
struct WebPkiTrust {
    provider: Arc<CryptoProvider>,
    /// `None`: no CA is trusted.
    verifier: Option<Arc<dyn ClientCertVerifier>>,
}

impl WebPkiTrust {
    fn new(roots: RootCertStore) -> Self {
        let provider = super::tls::provider();
        let verifier = (!roots.is_empty())
            .then(|| {
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .ok()
            })
            .flatten();
        Self { provider, verifier }
    }
}

fn at(ms: i64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

impl Trust for WebPkiTrust {
    fn verify(&self, leaf: &[u8], now_ms: i64) -> Result<(), String> {
        let Some(v) = &self.verifier else {
            return Err(
                "no CA is trusted (`ca = true` in `[certificates.ID]`, or `[gateway] tls-client-ca`)"
                    .into(),
            );
        };
        v.verify_client_cert(&CertificateDer::from(leaf), &[], at(now_ms))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn issued_by(&self, leaf: &[u8], issuer: &[u8]) -> bool {
        let mut roots = RootCertStore::empty();
        if roots.add(CertificateDer::from(issuer.to_vec())).is_err() {
            return false;
        }
        let Ok(v) =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
        else {
            return false;
        };
        // At the leaf's own start: only the signature is in question.
        let Some(c) = X509Certificate2::from_der(leaf) else {
            return false;
        };
        let when = c.validity().0.saturating_add(1).saturating_mul(1000);
        v.verify_client_cert(&CertificateDer::from(leaf), &[], at(when))
            .is_ok()
    }
}
