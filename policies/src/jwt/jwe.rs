//! Encrypted tokens (JWE, RFC 7516, compact form: five Base64url parts),
//! opened with a policy's `decryption-keys` before the signed token inside
//! is validated, as APIM (.NET's JsonWebTokenHandler) does: the plaintext
//! must itself be a compact JWT (a nested, signed one; or `alg: none`,
//! which `require-signed-tokens` then judges).
//!
//! Key management (`alg`): `dir` and `A128KW`/`A192KW`/`A256KW` with a
//! Base64 symmetric key; `RSA-OAEP` and `RSA-OAEP-256` with the private key
//! of a `[certificates.ID]` entry. Content encryption (`enc`):
//! `A128CBC-HS256`, `A192CBC-HS384`, `A256CBC-HS512` (the ones the docs
//! name) and `A128GCM`, `A192GCM`, `A256GCM`. Not taken: `RSA1_5`
//! (PKCS#1 v1.5 key transport, open to padding-oracle attacks), `ECDH-ES*`,
//! `PBES2-*`, and compressed plaintexts (`zip`). Every primitive is a
//! RustCrypto crate's; nothing here is cryptography of its own.

use std::sync::Arc;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use hmac_012::Mac;
use rsa::RsaPrivateKey;
use rsa::rand_core::{OsRng, RngCore};
use serde_json::{Map, Value};
use sluice_engine::runtime::Reason;

use super::Failure;

/// One `decryption-keys/key`.
#[derive(Clone)]
pub enum DecryptionKey {
    /// A Base64 symmetric key: the content key itself (`dir`) or an AES
    /// key-wrapping key (`A128KW`, `A192KW`, `A256KW`, by its length).
    Symmetric(Vec<u8>),
    /// An RSA private key (a `[certificates.ID]` entry's): `RSA-OAEP`,
    /// `RSA-OAEP-256`.
    Rsa(Arc<RsaPrivateKey>),
}

/// Keys are secrets: only their kind is shown.
impl std::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Symmetric(_) => "DecryptionKey::Symmetric(..)",
            Self::Rsa(_) => "DecryptionKey::Rsa(..)",
        })
    }
}

impl DecryptionKey {
    /// A symmetric key given in Base64 (`<key>` text).
    pub fn symmetric(base64: &str) -> Result<Self, String> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(base64.trim())
            .map_err(|_| "the key is not Base64".to_owned())?;
        if bytes.is_empty() {
            return Err("the key is empty".into());
        }
        Ok(Self::Symmetric(bytes))
    }

    /// An RSA private key from PKCS#8 DER.
    pub fn rsa_pkcs8(der: &[u8]) -> Result<Self, String> {
        use rsa::pkcs8::DecodePrivateKey;
        RsaPrivateKey::from_pkcs8_der(der)
            .map(|k| Self::Rsa(Arc::new(k)))
            .map_err(|_| "its private key is not an RSA key".to_owned())
    }
}

/// Whether a token is in the JWE compact form (five parts).
pub fn is_encrypted(raw: &str) -> bool {
    raw.bytes().filter(|b| *b == b'.').count() == 4
}

/// The content encryption of a token's `enc`.
#[derive(Clone, Copy)]
enum Content {
    /// AES-CBC with HMAC-SHA-2, a key of twice `half` bytes (MAC key first).
    CbcHmac { half: usize },
    /// AES-GCM with a key of this many bytes.
    Gcm { key: usize },
}

impl Content {
    fn of(enc: &str) -> Option<Self> {
        Some(match enc {
            "A128CBC-HS256" => Self::CbcHmac { half: 16 },
            "A192CBC-HS384" => Self::CbcHmac { half: 24 },
            "A256CBC-HS512" => Self::CbcHmac { half: 32 },
            "A128GCM" => Self::Gcm { key: 16 },
            "A192GCM" => Self::Gcm { key: 24 },
            "A256GCM" => Self::Gcm { key: 32 },
            _ => return None,
        })
    }

    fn key_len(self) -> usize {
        match self {
            Self::CbcHmac { half } => half * 2,
            Self::Gcm { key } => key,
        }
    }

    /// The plaintext, `None` when the tag does not verify or the
    /// ciphertext is malformed.
    fn open(self, cek: &[u8], aad: &[u8], iv: &[u8], ct: &[u8], tag: &[u8]) -> Option<Vec<u8>> {
        if cek.len() != self.key_len() {
            return None;
        }
        match self {
            Self::CbcHmac { half } => {
                let (mac_key, enc_key) = cek.split_at(half);
                let al = u64::try_from(aad.len()).ok()?.checked_mul(8)?.to_be_bytes();
                let parts = [aad, iv, ct, &al];
                // The tag is the MAC's first `half` bytes; a shorter one is refused
                // (verify_truncated_left alone would take any prefix).
                let mac_ok = tag.len() == half
                    && match half {
                        16 => mac::<hmac_012::Hmac<sha2_010::Sha256>>(mac_key, &parts, tag),
                        24 => mac::<hmac_012::Hmac<sha2_010::Sha384>>(mac_key, &parts, tag),
                        _ => mac::<hmac_012::Hmac<sha2_010::Sha512>>(mac_key, &parts, tag),
                    };
                if !mac_ok || iv.len() != 16 {
                    return None;
                }
                match half {
                    16 => cbc_open::<cbc::Decryptor<aes::Aes128>>(enc_key, iv, ct),
                    24 => cbc_open::<cbc::Decryptor<aes::Aes192>>(enc_key, iv, ct),
                    _ => cbc_open::<cbc::Decryptor<aes::Aes256>>(enc_key, iv, ct),
                }
            }
            Self::Gcm { key } => {
                if iv.len() != 12 || tag.len() != 16 {
                    return None;
                }
                match key {
                    16 => gcm_open::<aes_gcm::Aes128Gcm>(cek, aad, iv, ct, tag),
                    24 => gcm_open::<aes_gcm::AesGcm<aes::Aes192, aes_gcm::aead::consts::U12>>(
                        cek, aad, iv, ct, tag,
                    ),
                    _ => gcm_open::<aes_gcm::Aes256Gcm>(cek, aad, iv, ct, tag),
                }
            }
        }
    }
}

fn mac<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    let Ok(mut m) = <M as Mac>::new_from_slice(key) else {
        return false;
    };
    for p in parts {
        m.update(p);
    }
    m.verify_truncated_left(tag).is_ok()
}

fn cbc_open<D: BlockDecryptMut + KeyIvInit>(key: &[u8], iv: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
    let d = D::new_from_slices(key, iv).ok()?;
    let mut buf = ct.to_vec();
    let n = d.decrypt_padded_mut::<Pkcs7>(&mut buf).ok()?.len();
    buf.truncate(n);
    Some(buf)
}

fn gcm_open<C: AeadInPlace + KeyInit>(
    key: &[u8],
    aad: &[u8],
    iv: &[u8],
    ct: &[u8],
    tag: &[u8],
) -> Option<Vec<u8>> {
    let c = <C as KeyInit>::new_from_slice(key).ok()?;
    // (Lengths checked by the caller: 12-byte nonce, 16-byte tag.)
    let nonce = aes_gcm::aead::Nonce::<C>::from_slice(iv);
    let tag = aes_gcm::aead::Tag::<C>::from_slice(tag);
    let mut buf = ct.to_vec();
    c.decrypt_in_place_detached(nonce, aad, &mut buf, tag)
        .ok()?;
    Some(buf)
}

/// How the content key is obtained (`alg`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyManagement {
    Direct,
    AesKw(usize),
    RsaOaep,
    RsaOaep256,
}

impl KeyManagement {
    fn of(alg: &str) -> Option<Self> {
        Some(match alg {
            "dir" => Self::Direct,
            "A128KW" => Self::AesKw(16),
            "A192KW" => Self::AesKw(24),
            "A256KW" => Self::AesKw(32),
            "RSA-OAEP" => Self::RsaOaep,
            "RSA-OAEP-256" => Self::RsaOaep256,
            _ => return None,
        })
    }

    /// The content key of `encrypted_key` with `key`; `None` when `key`
    /// is not of this kind. An RSA key that fails to unwrap yields a random
    /// key (RFC 7516 §11.5), so that the failure shows only later, as the
    /// content's, and the two cannot be told apart.
    fn content_key(self, key: &DecryptionKey, encrypted_key: &[u8], len: usize) -> Option<Vec<u8>> {
        match (self, key) {
            (Self::Direct, DecryptionKey::Symmetric(k)) => {
                (encrypted_key.is_empty() && k.len() == len).then(|| k.clone())
            }
            (Self::AesKw(n), DecryptionKey::Symmetric(k)) if k.len() == n => {
                let mut out = vec![0; encrypted_key.len().checked_sub(8)?];
                let ok = match n {
                    16 => aes_kw::KekAes128::try_from(k.as_slice())
                        .ok()?
                        .unwrap(encrypted_key, &mut out),
                    24 => aes_kw::KekAes192::try_from(k.as_slice())
                        .ok()?
                        .unwrap(encrypted_key, &mut out),
                    _ => aes_kw::KekAes256::try_from(k.as_slice())
                        .ok()?
                        .unwrap(encrypted_key, &mut out),
                };
                Some(if ok.is_ok() { out } else { Vec::new() })
            }
            (Self::RsaOaep | Self::RsaOaep256, DecryptionKey::Rsa(k)) => {
                // Blinded: the private-key operation's timing does not
                // depend on the ciphertext.
                let r = if self == Self::RsaOaep {
                    k.decrypt_blinded(
                        &mut OsRng,
                        rsa::Oaep::new::<sha1_010::Sha1>(),
                        encrypted_key,
                    )
                } else {
                    k.decrypt_blinded(
                        &mut OsRng,
                        rsa::Oaep::new::<sha2_010::Sha256>(),
                        encrypted_key,
                    )
                };
                Some(match r {
                    Ok(cek) if cek.len() == len => cek,
                    _ => {
                        let mut random = vec![0; len];
                        OsRng.fill_bytes(&mut random);
                        random
                    }
                })
            }
            _ => None,
        }
    }
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

fn invalid(why: impl std::fmt::Display) -> Failure {
    Failure::new(
        Reason::JwtInvalid,
        format!("Decryption failed: {why}. Access denied."),
    )
}

/// The plaintext of an encrypted token: the first of `keys` that fits its
/// `alg` and opens it (keys are tried in turn, like signing keys). The
/// plaintext is returned as text: the nested token.
pub fn decrypt<'k>(
    raw: &str,
    keys: impl IntoIterator<Item = &'k DecryptionKey>,
) -> Result<String, Failure> {
    let parts: Vec<&str> = raw.split('.').collect();
    let [h, ek, iv, ct, tag] = parts.as_slice() else {
        return Err(invalid(
            "an encrypted token has five parts separated by `.`",
        ));
    };
    let header: Map<String, Value> = b64url(h)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("its header is not Base64url-encoded JSON"))?;
    let text = |k: &str| header.get(k).and_then(Value::as_str);
    let (Some(alg), Some(enc)) = (text("alg"), text("enc")) else {
        return Err(invalid("its header has no `alg` or no `enc`"));
    };
    if header.contains_key("zip") {
        return Err(invalid("compressed tokens (`zip`) are not supported"));
    }
    if header.contains_key("crit") {
        return Err(invalid("the header's `crit` extensions are not understood"));
    }
    let km = KeyManagement::of(alg)
        .ok_or_else(|| invalid(format!("key management algorithm `{alg}` is not supported")))?;
    let content = Content::of(enc)
        .ok_or_else(|| invalid(format!("content encryption `{enc}` is not supported")))?;
    let (Some(ek), Some(iv), Some(ct), Some(tag)) =
        (b64url(ek), b64url(iv), b64url(ct), b64url(tag))
    else {
        return Err(invalid("a part is not Base64url"));
    };
    let mut tried = 0;
    for key in keys {
        let Some(cek) = km.content_key(key, &ek, content.key_len()) else {
            continue;
        };
        tried += 1;
        if let Some(plain) = content.open(&cek, h.as_bytes(), &iv, &ct, &tag) {
            return String::from_utf8(plain)
                .map_err(|_| invalid("the decrypted token is not UTF-8 text"));
        }
    }
    if tried == 0 {
        return Err(invalid(format!(
            "no decryption key fits algorithm `{alg}` with `{enc}`"
        )));
    }
    Err(invalid("no decryption key opens the token"))
}
