//! PKCS#12 / PFX decoding (RFC 7292): the certificates and private keys of
//! a PFX blob, as `new X509Certificate2(pfx, password)` needs them.
//!
//! The reader tolerates BER (indefinite lengths, constructed OCTET STRINGs),
//! which Windows and Java write. Supported protections:
//! - integrity: HMAC with the PKCS#12 KDF over SHA-1/256/384/512, or none;
//! - privacy: PBES2 (PBKDF2 with HMAC-SHA1/256/384/512, AES-CBC or 3DES-CBC;
//!   OpenSSL 3's default), PKCS#12 PBES1 `pbeWithSHAAnd3-KeyTripleDES-CBC`,
//!   `pbeWithSHAAnd2-KeyTripleDES-CBC`, `pbeWithSHAAnd40BitRC2-CBC` and
//!   `pbeWithSHAAnd128BitRC2-CBC` (Windows and legacy OpenSSL), or none.
//!
//! A null or empty password is tried both as the empty BMPString (two zero
//! bytes) and as no bytes at all, as .NET and OpenSSL do.

use cbc::cipher::{BlockCipherDecrypt, BlockModeDecrypt, KeyInit, KeyIvInit, block_padding::Pkcs7};
use hmac::Mac;
use pkcs8::der::Decode;
use sha2::Digest;

use super::der::{Tlv, oid_string, parse_int, read, read_all};

/// What failed, in .NET's words where .NET has them.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PfxError {
    /// Not a PFX at all.
    Malformed,
    /// The MAC or a decryption did not check out.
    BadPassword,
    /// An algorithm this reader does not know.
    Unsupported(String),
    /// More KDF work than .NET's loader allows.
    TooManyIterations,
}

/// .NET's `Pkcs12LoaderLimits.DefaultIterationLimit`: the total KDF
/// iterations one PFX may cost.
const ITERATION_LIMIT: u64 = 600_000;

/// The contents of a PFX.
pub(crate) struct Pfx {
    /// DER certificates with their `localKeyId` attribute.
    pub certs: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// PKCS#8 `PrivateKeyInfo` DER with their `localKeyId` attribute.
    pub keys: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

const DATA: &str = "1.2.840.113549.1.7.1";
const ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
const KEY_BAG: &str = "1.2.840.113549.1.12.10.1.1";
const SHROUDED_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.2";
const CERT_BAG: &str = "1.2.840.113549.1.12.10.1.3";
const X509_CERT: &str = "1.2.840.113549.1.9.22.1";
const LOCAL_KEY_ID: &str = "1.2.840.113549.1.9.21";
const PBES2: &str = "1.2.840.113549.1.5.13";

/// Whether `data` looks like a PFX (an outer SEQUENCE starting with version 3).
pub(crate) fn looks_like_pfx(data: &[u8]) -> bool {
    read(data)
        .ok()
        .filter(|(t, _)| t.tag == 0x30)
        .and_then(|(t, _)| read(t.content).ok())
        .is_some_and(|(v, _)| v.tag == 0x02 && v.content == [3])
}

/// The password forms to try: BMPString with terminator (the PKCS#12 KDF's
/// input) and the UTF-8 bytes (PBES2's input).
#[derive(Clone)]
struct Password {
    bmp: Vec<u8>,
    utf8: Vec<u8>,
}

fn candidates(password: Option<&str>) -> Vec<Password> {
    let utf8 = password.unwrap_or("").as_bytes().to_vec();
    let mut bmp: Vec<u8> = password
        .unwrap_or("")
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    bmp.extend([0, 0]);
    let mut out = vec![Password {
        bmp,
        utf8: utf8.clone(),
    }];
    if password.is_none_or(str::is_empty) {
        out.push(Password {
            bmp: Vec::new(),
            utf8,
        });
    }
    out
}

pub(crate) fn parse(data: &[u8], password: Option<&str>) -> Result<Pfx, PfxError> {
    let (pfx, _) = read(data).map_err(|_| PfxError::Malformed)?;
    let parts = read_all(pfx.content).map_err(|_| PfxError::Malformed)?;
    let (Some(version), Some(auth_safe)) = (parts.first(), parts.get(1)) else {
        return Err(PfxError::Malformed);
    };
    if parse_int(version.content) != Some(3) {
        return Err(PfxError::Malformed);
    }
    let (content_type, content) = content_info(auth_safe)?;
    if content_type != DATA {
        return Err(PfxError::Unsupported(content_type));
    }
    let auth_bytes = content.octets().map_err(|_| PfxError::Malformed)?;
    let mut budget = ITERATION_LIMIT;
    let mut tries = candidates(password);
    if let Some(mac) = parts.get(2) {
        let mut found = None;
        for (i, p) in tries.iter().enumerate() {
            if verify_mac(mac, &auth_bytes, &p.bmp, &mut budget)? {
                found = Some(i);
                break;
            }
        }
        match found {
            Some(i) => tries = tries.into_iter().skip(i).take(1).collect(),
            None => return Err(PfxError::BadPassword),
        }
    }
    let mut last = PfxError::BadPassword;
    for pw in &tries {
        match contents(&auth_bytes, pw, &mut budget) {
            Ok(pfx) => return Ok(pfx),
            Err(e @ (PfxError::BadPassword | PfxError::TooManyIterations)) => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// `ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }`.
fn content_info<'a>(t: &Tlv<'a>) -> Result<(String, Tlv<'a>), PfxError> {
    let parts = read_all(t.content).map_err(|_| PfxError::Malformed)?;
    match (parts.first(), parts.get(1)) {
        (Some(oid), Some(explicit)) if oid.tag == 0x06 && explicit.tag == 0xa0 => {
            let (inner, _) = read(explicit.content).map_err(|_| PfxError::Malformed)?;
            Ok((oid_string(oid.content), inner))
        }
        _ => Err(PfxError::Malformed),
    }
}

fn contents(auth_bytes: &[u8], pw: &Password, budget: &mut u64) -> Result<Pfx, PfxError> {
    let (safe, _) = read(auth_bytes).map_err(|_| PfxError::Malformed)?;
    let mut out = Pfx {
        certs: Vec::new(),
        keys: Vec::new(),
    };
    for ci in read_all(safe.content).map_err(|_| PfxError::Malformed)? {
        let (ty, content) = content_info(&ci)?;
        let bags = match ty.as_str() {
            DATA => content.octets().map_err(|_| PfxError::Malformed)?,
            ENCRYPTED_DATA => {
                // EncryptedData ::= SEQUENCE { version, EncryptedContentInfo
                //   { contentType, AlgorithmIdentifier, [0] IMPLICIT OCTET STRING } }
                let parts = read_all(content.content).map_err(|_| PfxError::Malformed)?;
                let eci = parts.get(1).ok_or(PfxError::Malformed)?;
                let eci = read_all(eci.content).map_err(|_| PfxError::Malformed)?;
                let (Some(alg), Some(enc)) = (eci.get(1), eci.get(2)) else {
                    continue;
                };
                decrypt(
                    alg,
                    &enc.octets().map_err(|_| PfxError::Malformed)?,
                    pw,
                    budget,
                )?
            }
            _ => continue,
        };
        let (bags, _) = read(&bags).map_err(|_| PfxError::BadPassword)?;
        for bag in read_all(bags.content).map_err(|_| PfxError::Malformed)? {
            safe_bag(&bag, pw, budget, &mut out)?;
        }
    }
    Ok(out)
}

/// `SafeBag ::= SEQUENCE { bagId OID, bagValue [0] EXPLICIT ANY, bagAttributes SET OPTIONAL }`.
fn safe_bag(bag: &Tlv, pw: &Password, budget: &mut u64, out: &mut Pfx) -> Result<(), PfxError> {
    let (id, value) = content_info(bag)?;
    let parts = read_all(bag.content).map_err(|_| PfxError::Malformed)?;
    let key_id = parts.get(2).and_then(local_key_id);
    match id.as_str() {
        KEY_BAG => out.keys.push((value.raw.to_vec(), key_id)),
        SHROUDED_KEY_BAG => {
            let epki = read_all(value.content).map_err(|_| PfxError::Malformed)?;
            let (Some(alg), Some(data)) = (epki.first(), epki.get(1)) else {
                return Err(PfxError::Malformed);
            };
            let data = data.octets().map_err(|_| PfxError::Malformed)?;
            out.keys.push((decrypt(alg, &data, pw, budget)?, key_id));
        }
        CERT_BAG => {
            let (ty, cert) = content_info(&value)?;
            if ty == X509_CERT {
                out.certs
                    .push((cert.octets().map_err(|_| PfxError::Malformed)?, key_id));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The `localKeyId` value among a bag's attributes.
fn local_key_id(attrs: &Tlv) -> Option<Vec<u8>> {
    read_all(attrs.content).ok()?.into_iter().find_map(|attr| {
        let parts = read_all(attr.content).ok()?;
        let (oid, values) = (parts.first()?, parts.get(1)?);
        if oid_string(oid.content) != LOCAL_KEY_ID {
            return None;
        }
        let (v, _) = read(values.content).ok()?;
        v.octets().ok()
    })
}

#[derive(Clone, Copy)]
enum KdfHash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl KdfHash {
    fn from_oid(oid: &str) -> Option<Self> {
        Some(match oid {
            "1.3.14.3.2.26" => KdfHash::Sha1,
            "2.16.840.1.101.3.4.2.1" => KdfHash::Sha256,
            "2.16.840.1.101.3.4.2.2" => KdfHash::Sha384,
            "2.16.840.1.101.3.4.2.3" => KdfHash::Sha512,
            _ => return None,
        })
    }

    fn sizes(self) -> (usize, usize) {
        match self {
            KdfHash::Sha1 => (20, 64),
            KdfHash::Sha256 => (32, 64),
            KdfHash::Sha384 => (48, 128),
            KdfHash::Sha512 => (64, 128),
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            KdfHash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            KdfHash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            KdfHash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            KdfHash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            match <M as hmac::KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            KdfHash::Sha1 => run::<hmac::Hmac<sha1::Sha1>>(key, data),
            KdfHash::Sha256 => run::<hmac::Hmac<sha2::Sha256>>(key, data),
            KdfHash::Sha384 => run::<hmac::Hmac<sha2::Sha384>>(key, data),
            KdfHash::Sha512 => run::<hmac::Hmac<sha2::Sha512>>(key, data),
        }
    }
}

/// Charges `n` KDF iterations to the budget; `None` once it is spent.
fn charge(budget: &mut u64, n: u64) -> Option<()> {
    if n > *budget {
        *budget = 0;
        None
    } else {
        *budget -= n;
        Some(())
    }
}

/// The PKCS#12 key derivation (RFC 7292, appendix B.2).
fn kdf(h: KdfHash, pass: &[u8], salt: &[u8], id: u8, iterations: u64, n: usize) -> Vec<u8> {
    let (u, v) = h.sizes();
    let fill = |s: &[u8]| -> Vec<u8> {
        let len = v * s.len().div_ceil(v);
        s.iter().copied().cycle().take(len).collect()
    };
    let mut i = fill(salt);
    i.extend(fill(pass));
    let mut out = Vec::with_capacity(n + u);
    while out.len() < n {
        let mut input = vec![id; v];
        input.extend_from_slice(&i);
        let mut a = h.digest(&input);
        for _ in 1..iterations {
            a = h.digest(&a);
        }
        out.extend_from_slice(&a);
        let b: Vec<u8> = a.iter().copied().cycle().take(v).collect();
        for block in i.chunks_mut(v) {
            let mut carry = 1u16;
            for (x, y) in block.iter_mut().zip(&b).rev() {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = (sum & 0xff) as u8;
                carry = sum >> 8;
            }
        }
    }
    out.truncate(n);
    out
}

/// `MacData ::= SEQUENCE { DigestInfo { AlgorithmIdentifier, OCTET STRING },
/// macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }`.
fn verify_mac(mac: &Tlv, data: &[u8], pass: &[u8], budget: &mut u64) -> Result<bool, PfxError> {
    let parts = read_all(mac.content).map_err(|_| PfxError::Malformed)?;
    let (Some(digest_info), Some(salt)) = (parts.first(), parts.get(1)) else {
        return Err(PfxError::Malformed);
    };
    let iterations = match parts.get(2) {
        Some(t) => parse_int(t.content).ok_or(PfxError::Malformed)?,
        None => 1,
    };
    let di = read_all(digest_info.content).map_err(|_| PfxError::Malformed)?;
    let (Some(alg), Some(expected)) = (di.first(), di.get(1)) else {
        return Err(PfxError::Malformed);
    };
    let alg_oid = read(alg.content)
        .map(|(o, _)| oid_string(o.content))
        .map_err(|_| PfxError::Malformed)?;
    let h = KdfHash::from_oid(&alg_oid).ok_or(PfxError::Unsupported(alg_oid))?;
    charge(budget, iterations).ok_or(PfxError::TooManyIterations)?;
    let key = kdf(h, pass, salt.content, 3, iterations, h.sizes().0);
    Ok(h.hmac(&key, data) == expected.content)
}

fn decrypt(alg: &Tlv, data: &[u8], pw: &Password, budget: &mut u64) -> Result<Vec<u8>, PfxError> {
    let parts = read_all(alg.content).map_err(|_| PfxError::Malformed)?;
    let oid = parts
        .first()
        .map(|o| oid_string(o.content))
        .ok_or(PfxError::Malformed)?;
    if oid == PBES2 {
        let scheme =
            pkcs8::pkcs5::EncryptionScheme::from_der(alg.raw).map_err(|_| PfxError::Malformed)?;
        let iterations = match &scheme {
            pkcs8::pkcs5::EncryptionScheme::Pbes2(p) => match &p.kdf {
                pkcs8::pkcs5::pbes2::Kdf::Pbkdf2(k) => u64::from(k.iteration_count),
                // scrypt's cost is its own; .NET does not read it at all.
                _ => return Err(PfxError::Unsupported(oid)),
            },
            _ => 1,
        };
        charge(budget, iterations).ok_or(PfxError::TooManyIterations)?;
        return scheme.decrypt(&pw.utf8, data).map_err(|e| match e {
            pkcs8::pkcs5::Error::UnsupportedAlgorithm { .. } => PfxError::Unsupported(oid),
            _ => PfxError::BadPassword,
        });
    }
    // PKCS#12 PBES1: parameters SEQUENCE { salt OCTET STRING, iterations INTEGER }.
    let params = parts
        .get(1)
        .and_then(|p| read_all(p.content).ok())
        .ok_or(PfxError::Malformed)?;
    let (Some(salt), Some(iter)) = (params.first(), params.get(1)) else {
        return Err(PfxError::Malformed);
    };
    let iterations = parse_int(iter.content).ok_or(PfxError::Malformed)?;
    let (key_len, rc2) = match oid.as_str() {
        "1.2.840.113549.1.12.1.3" => (24, false),
        "1.2.840.113549.1.12.1.4" => (16, false),
        "1.2.840.113549.1.12.1.5" => (16, true),
        "1.2.840.113549.1.12.1.6" => (5, true),
        _ => return Err(PfxError::Unsupported(oid)),
    };
    charge(budget, iterations.saturating_mul(2)).ok_or(PfxError::TooManyIterations)?;
    let mut key = kdf(KdfHash::Sha1, &pw.bmp, salt.content, 1, iterations, key_len);
    let iv = kdf(KdfHash::Sha1, &pw.bmp, salt.content, 2, iterations, 8);
    if key_len == 16 && !rc2 {
        // Two-key 3DES: K1 K2 K1.
        let k1: Vec<u8> = key.iter().take(8).copied().collect();
        key.extend(k1);
    }
    let plain = if rc2 {
        cbc_decrypt::<rc2::Rc2>(&key, &iv, data)
    } else {
        cbc_decrypt::<des::TdesEde3>(&key, &iv, data)
    };
    plain.ok_or(PfxError::BadPassword)
}

fn cbc_decrypt<C: BlockCipherDecrypt + KeyInit>(
    key: &[u8],
    iv: &[u8],
    data: &[u8],
) -> Option<Vec<u8>> {
    let cipher = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
    cipher.decrypt_padded_vec::<Pkcs7>(data).ok()
}
