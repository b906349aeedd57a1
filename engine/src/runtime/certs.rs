//! The certificates stages use: the configuration's `[certificates.ID]`
//! entries (APIM's uploaded certificates: `authentication-certificate`
//! sends one to a backend, `validate-client-certificate` names one as an
//! issuer, and those marked `ca` are the CAs client certificates are
//! trusted by), and how a chain is checked (the gateway's, by rustls's
//! WebPKI verifier). A resource: stages take it with
//! `cx.resource::<Certificates>(e)`.

use std::collections::BTreeMap;
use std::sync::Arc;

use sluice_stdlib::X509Certificate2;

/// The configuration's certificates.
#[derive(Clone, Default)]
pub struct Certificates {
    /// `[certificates.ID]`, by id.
    pub by_id: BTreeMap<String, StoredCertificate>,
    /// Checks chains against the trusted CAs (`ca = true` entries and
    /// `[gateway] tls-client-ca`); `None`: nothing checks chains (no CA is
    /// trusted, no issuer recognized).
    pub trust: Option<Arc<dyn Trust>>,
    /// The `ca = true` certificates (DER): a backend's certificate may
    /// chain to them too.
    pub ca: Arc<Vec<Vec<u8>>>,
}

impl std::fmt::Debug for Certificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificates")
            .field("by_id", &self.by_id)
            .field("trust", &self.trust.is_some())
            .finish()
    }
}

impl Certificates {
    /// The entry whose certificate has this thumbprint (any case).
    pub fn by_thumbprint(&self, thumbprint: &str) -> Option<(&str, &StoredCertificate)> {
        let wanted = normalize_hex(thumbprint);
        self.by_id
            .iter()
            .find(|(_, c)| c.certificate.thumbprint() == wanted)
            .map(|(id, c)| (id.as_str(), c))
    }
}

/// `AB:cd 01` → `ABCD01`.
pub fn normalize_hex(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// One `[certificates.ID]` entry.
#[derive(Clone, Debug)]
pub struct StoredCertificate {
    pub certificate: X509Certificate2,
    /// A CA that client certificates are trusted by.
    pub ca: bool,
    /// The certificate with its private key, when the file holds one: what
    /// `authentication-certificate` presents to a backend.
    pub identity: Option<Arc<ClientIdentity>>,
}

/// A certificate chain and its private key, presented to a backend. A
/// secret: its `Debug` shows the thumbprint only.
pub struct ClientIdentity {
    /// The leaf's thumbprint.
    pub thumbprint: String,
    /// DER, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// PKCS#8 DER.
    pub key: Vec<u8>,
    /// The configuration's CA certificates (`ca = true`, DER), which the
    /// backend's certificate may chain to besides the web PKI roots.
    pub trusted: Arc<Vec<Vec<u8>>>,
}

impl ClientIdentity {
    /// What tells connection pools apart: the certificate and the CAs.
    pub fn pool_key(&self) -> (String, usize) {
        (self.thumbprint.clone(), self.trusted.len())
    }
}

/// The certificate `authentication-certificate` chose for this request's
/// backend call (an [`crate::runtime::Extensions`] entry).
#[derive(Clone, Debug)]
pub struct BackendCertificate(pub Arc<ClientIdentity>);

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// Chain checks, as the gateway does them.
pub trait Trust: Send + Sync {
    /// Whether `leaf` (DER) chains to a trusted CA at `now_ms`, for client
    /// authentication; why not otherwise.
    fn verify(&self, leaf: &[u8], now_ms: i64) -> Result<(), String>;
    /// Whether `issuer` (DER) signed `leaf` (DER).
    fn issued_by(&self, leaf: &[u8], issuer: &[u8]) -> bool;
}
