//! Signing keys: a policy's `<key>` (a Base64 symmetric key, an RSA
//! public key as `n` and `e`, or a certificate's public key) and the JWKs
//! of a key set.

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// What algorithms a key verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// HS256, HS384, HS512.
    Hmac,
    /// RS256/384/512 and PS256/384/512.
    Rsa,
    /// ES256 (P-256).
    EcP256,
    /// ES384 (P-384).
    EcP384,
}

/// One signing key: its `id` (matched against a token's `kid`), its kind,
/// and the key itself.
#[derive(Clone)]
pub struct Key {
    pub id: Option<String>,
    pub kind: KeyKind,
    pub key: DecodingKey,
}

/// Keys are secrets (a symmetric one is): only the id and kind are shown.
impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// Whether this key can verify a signature of `alg`.
    pub fn fits(&self, alg: Algorithm) -> bool {
        use Algorithm::*;
        match self.kind {
            KeyKind::Hmac => matches!(alg, HS256 | HS384 | HS512),
            KeyKind::Rsa => matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            KeyKind::EcP256 => alg == ES256,
            KeyKind::EcP384 => alg == ES384,
        }
    }

    /// A symmetric key given in Base64 (`<key>` text).
    pub fn symmetric(id: Option<String>, base64: &str) -> Result<Self, String> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(base64.trim())
            .map_err(|_| "the key is not Base64".to_owned())?;
        if bytes.is_empty() {
            return Err("the key is empty".into());
        }
        Ok(Self {
            id,
            kind: KeyKind::Hmac,
            key: DecodingKey::from_secret(&bytes),
        })
    }

    /// An RSA public key from its modulus and exponent (Base64url).
    pub fn rsa(id: Option<String>, n: &str, e: &str) -> Result<Self, String> {
        use base64::Engine as _;
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let modulus = url
            .decode(n.trim().trim_end_matches('='))
            .map_err(|_| "`n` is not Base64url".to_owned())?;
        url.decode(e.trim().trim_end_matches('='))
            .map_err(|_| "`e` is not Base64url".to_owned())?;
        if modulus.len() < 128 {
            return Err(format!(
                "`n` is a {}-bit modulus; RSA keys have at least 1024 bits",
                modulus.len() * 8
            ));
        }
        let key = DecodingKey::from_rsa_components(n.trim(), e.trim())
            .map_err(|e| format!("not an RSA public key: {e}"))?;
        Ok(Self {
            id,
            kind: KeyKind::Rsa,
            key,
        })
    }

    /// The public key of a certificate (`certificate-id`): RSA, or EC
    /// P-256/P-384.
    pub fn certificate(
        id: Option<String>,
        cert: &sluice_stdlib::X509Certificate2,
    ) -> Result<Self, String> {
        let (alg, bytes) = cert.public_key();
        let (kind, key) = match alg {
            "1.2.840.113549.1.1.1" => (KeyKind::Rsa, DecodingKey::from_rsa_der(bytes)),
            // The uncompressed point's size tells the curve.
            "1.2.840.10045.2.1" => match bytes.len() {
                65 => (KeyKind::EcP256, DecodingKey::from_ec_der(bytes)),
                97 => (KeyKind::EcP384, DecodingKey::from_ec_der(bytes)),
                _ => return Err("its EC key is not on P-256 or P-384".into()),
            },
            other => return Err(format!("its key algorithm `{other}` cannot verify tokens")),
        };
        Ok(Self { id, kind, key })
    }

    /// A JWK of a key set: RSA, EC P-256/P-384, or `oct`; `None` for any
    /// other (an encryption key, an unsupported curve, a broken one), so
    /// that one odd key does not cost the set.
    pub fn from_jwk(jwk: &Value) -> Option<Self> {
        let text = |k: &str| jwk.get(k).and_then(Value::as_str);
        if text("use").is_some_and(|u| u != "sig") {
            return None;
        }
        let id = text("kid").map(str::to_owned);
        match text("kty")? {
            "RSA" => Self::rsa(id, text("n")?, text("e")?).ok(),
            "EC" => {
                let kind = match text("crv")? {
                    "P-256" => KeyKind::EcP256,
                    "P-384" => KeyKind::EcP384,
                    _ => return None,
                };
                let key = DecodingKey::from_ec_components(text("x")?, text("y")?).ok()?;
                Some(Self { id, kind, key })
            }
            "oct" => {
                use base64::Engine as _;
                let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(text("k")?.trim_end_matches('='))
                    .ok()?;
                Some(Self {
                    id,
                    kind: KeyKind::Hmac,
                    key: DecodingKey::from_secret(&bytes),
                })
            }
            _ => None,
        }
    }
}
