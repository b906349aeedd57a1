//! `[gateway] tls-cert`, `tls-key`, `tls-client-certificate`,
//! `tls-client-ca`: the listener's rustls configuration, built when the
//! configuration loads (so a reload with a bad certificate is refused and
//! the old one keeps serving). ALPN offers `h2` then `http/1.1`.
//!
//! A client certificate, when asked for, is checked against `tls-client-ca`
//! if given (rustls's WebPKI verifier: chain, validity, client-auth usage);
//! without it any certificate the client proves it holds the key of is
//! taken, and policies judge it (`validate-client-certificate`), as APIM
//! does when its gateway negotiates client certificates.
//!
//! Errors name the key and the file, never a key's bytes.

use std::path::Path;
use std::sync::Arc;

use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use sluice_engine::diag::Code;

use super::model::{ClientCertificate, Config};
use super::{Loader, span_of};

/// The listener's TLS, as loaded.
#[derive(Clone)]
pub struct Tls {
    pub config: Arc<ServerConfig>,
    pub client_certificate: ClientCertificate,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("client_certificate", &self.client_certificate)
            .finish_non_exhaustive()
    }
}

/// The ring provider (the outbound client's too).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of a PEM file.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| format!("`{}` is not PEM", path.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in `{}`", path.display()));
    }
    Ok(certs)
}

/// The private key of a PEM file (its text never in the error).
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| {
        format!(
            "no private key in `{}` (PEM: `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`, not encrypted)",
            path.display()
        )
    })
}

impl Loader<'_> {
    /// The listener's TLS, if `[gateway] tls-cert` is set; errors for a
    /// half-given pair, unreadable files, a key that does not match.
    pub(super) fn tls(&mut self, config: &Config) -> Option<Tls> {
        let g = &config.gateway;
        let mode = g
            .tls_client_certificate
            .as_ref()
            .map_or(ClientCertificate::None, |m| *m.get_ref());
        let (cert, key) = match (&g.tls_cert, &g.tls_key) {
            (Some(c), Some(k)) => (c, k),
            (None, None) => {
                if let Some(m) = &g.tls_client_certificate
                    && mode != ClientCertificate::None
                {
                    self.error(
                        Code::ConfigSyntax,
                        span_of(m),
                        "`[gateway] tls-client-certificate` needs TLS on the listener: `tls-cert` and `tls-key`",
                    );
                }
                if let Some(ca) = &g.tls_client_ca {
                    self.error(
                        Code::ConfigSyntax,
                        span_of(ca),
                        "`[gateway] tls-client-ca` needs TLS on the listener: `tls-cert` and `tls-key`",
                    );
                }
                return None;
            }
            (Some(c), None) => {
                self.error(
                    Code::ConfigSyntax,
                    span_of(c),
                    "`[gateway] tls-cert` needs `tls-key` (its private key)",
                );
                return None;
            }
            (None, Some(k)) => {
                self.error(
                    Code::ConfigSyntax,
                    span_of(k),
                    "`[gateway] tls-key` needs `tls-cert` (its certificate)",
                );
                return None;
            }
        };
        let certs = read_certs(&self.base.join(cert.get_ref()));
        let certs = self.or_error(span_of(cert), "`[gateway] tls-cert`", certs);
        let private = read_key(&self.base.join(key.get_ref()));
        let private = self.or_error(span_of(key), "`[gateway] tls-key`", private);
        let roots = match &g.tls_client_ca {
            Some(ca) if mode == ClientCertificate::None => {
                self.error(
                    Code::ConfigSyntax,
                    span_of(ca),
                    "`[gateway] tls-client-ca` needs `tls-client-certificate = \"request\"` or `\"require\"`",
                );
                return None;
            }
            Some(ca) => {
                let r = read_certs(&self.base.join(ca.get_ref())).and_then(|certs| {
                    let mut roots = rustls::RootCertStore::empty();
                    for c in certs {
                        roots
                            .add(c)
                            .map_err(|e| format!("a CA certificate is not valid: {e}"))?;
                    }
                    Ok(roots)
                });
                Some(self.or_error(span_of(ca), "`[gateway] tls-client-ca`", r)?)
            }
            None => None,
        };
        let (certs, private) = (certs?, private?);
        let provider = provider();
        let verifier: Result<Arc<dyn ClientCertVerifier>, String> = match (mode, roots) {
            (ClientCertificate::None, _) => Ok(WebPkiClientVerifier::no_client_auth()),
            (_, Some(roots)) => {
                let b =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
                let b = if mode == ClientCertificate::Request {
                    b.allow_unauthenticated()
                } else {
                    b
                };
                b.build()
                    .map(|v| v as Arc<dyn ClientCertVerifier>)
                    .map_err(|e| format!("cannot verify client certificates: {e}"))
            }
            (_, None) => Ok(Arc::new(AnyClientCertificate {
                provider: provider.clone(),
                mandatory: mode == ClientCertificate::Require,
            })),
        };
        let span = span_of(cert);
        let verifier = self.or_error(span, "`[gateway] tls-client-ca`", verifier)?;
        let built = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())
            .and_then(|b| {
                b.with_client_cert_verifier(verifier)
                    .with_single_cert(certs, private)
                    .map_err(|e| match e {
                        rustls::Error::InconsistentKeys(_) => {
                            "the private key (`tls-key`) is not the certificate's".to_owned()
                        }
                        e => format!("the certificate or its key cannot be used: {e}"),
                    })
            });
        let mut server = self.or_error(span, "`[gateway] tls-cert`", built)?;
        server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Some(Tls {
            config: Arc::new(server),
            client_certificate: mode,
        })
    }

    fn or_error<T>(
        &mut self,
        span: sluice_engine::source::Span,
        key: &str,
        r: Result<T, String>,
    ) -> Option<T> {
        r.map_err(|e| self.error(Code::ConfigSyntax, span, format!("{key}: {e}")))
            .ok()
    }
}

/// Takes any client certificate whose key the client proves it holds
/// (the handshake's signature is still checked); policies judge the
/// certificate itself.
#[derive(Debug)]
struct AnyClientCertificate {
    provider: Arc<CryptoProvider>,
    mandatory: bool,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
