//! TLS of outbound calls that are not the default: a client certificate
//! (`authentication-certificate`, a backend entity's `certificate`), and a
//! backend entity's `tls = { validate-certificate-chain = false,
//! validate-certificate-name = false }`, which turn off the check of the
//! server certificate's chain (up to a trusted root, with its validity
//! dates) or of its name against the host called. The handshake's
//! signatures are always checked: the server must hold the key of the
//! certificate it shows.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use sluice_engine::runtime::{CallError, ClientIdentity, TlsChecks};

/// The client configuration of calls that present `identity` (if any) and
/// check the server's certificate as `checks` says: the web PKI roots and
/// the configuration's CAs (`ca = true`, carried by the identity) are
/// trusted. Errors never show the key.
pub fn client_config(
    identity: Option<&ClientIdentity>,
    checks: TlsChecks,
) -> Result<rustls::ClientConfig, CallError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for ca in identity.iter().flat_map(|i| i.trusted.iter()) {
        let _ = roots.add(CertificateDer::from(ca.clone()));
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| CallError::connection(format!("TLS: {e}")))?;
    let builder = if checks == TlsChecks::default() {
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(relaxed(roots, &provider, checks)?))
    };
    match identity {
        None => Ok(builder.with_no_client_auth()),
        Some(identity) => {
            let chain = identity
                .chain
                .iter()
                .map(|c| CertificateDer::from(c.clone()))
                .collect();
            let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key.clone()));
            builder.with_client_auth_cert(chain, private).map_err(|e| {
                CallError::connection(format!(
                    "the client certificate {} cannot be used: {e}",
                    identity.thumbprint
                ))
            })
        }
    }
}

fn relaxed(
    roots: rustls::RootCertStore,
    provider: &Arc<CryptoProvider>,
    checks: TlsChecks,
) -> Result<Relaxed, CallError> {
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
        .build()
        .map_err(|e| CallError::connection(format!("TLS: {e}")))?;
    Ok(Relaxed {
        webpki,
        checks,
        algorithms: provider.signature_verification_algorithms,
    })
}

/// The web PKI verifier, with the chain or the name check left out.
#[derive(Debug)]
struct Relaxed {
    webpki: Arc<WebPkiServerVerifier>,
    checks: TlsChecks,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.checks.chain {
            // The web PKI verifier checks the name once the chain is good:
            // a name error means everything else passed.
            return match self.webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )) if !self.checks.name => Ok(ServerCertVerified::assertion()),
                other => other,
            };
        }
        if self.checks.name {
            let cert = ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_name(&cert, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_build_for_every_combination_of_checks() {
        for chain in [true, false] {
            for name in [true, false] {
                assert!(client_config(None, TlsChecks { chain, name }).is_ok());
            }
        }
    }

    /// The test CA's `localhost` certificate (SANs `localhost`,
    /// `127.0.0.1`), checked by each combination of switches.
    #[test]
    fn each_switch_leaves_out_its_check_only() {
        use rustls::pki_types::pem::PemObject;
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tls");
        let leaf = CertificateDer::from_pem_file(data.join("server.pem")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let ca = CertificateDer::from_pem_file(data.join("ca.pem")).unwrap();
        let check = |trust_ca: bool, chain, name, host: &str| {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            if trust_ca {
                roots.add(ca.clone()).unwrap();
            }
            let v = relaxed(roots, &provider, TlsChecks { chain, name }).unwrap();
            let server = ServerName::try_from(host.to_owned()).unwrap();
            v.verify_server_cert(&leaf, &[], &server, &[], UnixTime::now())
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let verify = |chain, name, host: &str| check(false, chain, name, host);
        // Default: the test CA is no web PKI root.
        assert!(verify(true, true, "localhost").is_err());
        // No chain check: the name still counts.
        assert!(verify(false, true, "localhost").is_ok());
        assert!(verify(false, true, "127.0.0.1").is_ok());
        let wrong = verify(false, true, "other.test").unwrap_err();
        assert!(wrong.contains("not valid for name"), "{wrong}");
        // No name check: the chain still counts.
        assert!(verify(true, false, "other.test").is_err());
        // Neither.
        assert!(verify(false, false, "other.test").is_ok());
        // A trusted chain: only the name can fail, and only while checked.
        assert!(check(true, true, true, "localhost").is_ok());
        assert!(check(true, true, true, "other.test").is_err());
        assert!(check(true, true, false, "other.test").is_ok());
    }
}
