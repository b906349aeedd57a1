//! `RSA` (what `GetRSAPrivateKey()` returns, `RSA.Create()`), with
//! `HashAlgorithmName`, `RSASignaturePadding` and `RSAEncryptionPadding`.

use std::sync::{Arc, PoisonError, RwLock};

use rhai::{Blob, Dynamic, Engine, INT, ImmutableString};
use rsa::pkcs1v15::Pkcs1v15Encrypt;
use rsa::rand_core::OsRng;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
use sha2::Digest;

use crate::convert::{checked_range, null_arg};
use crate::core::{RhaiResult, throw};

/// The key pair behind an `RSA` object.
#[derive(Clone)]
pub(crate) struct Keys {
    pub private: Option<RsaPrivateKey>,
    pub public: RsaPublicKey,
}

struct State {
    keys: Option<Keys>,
    /// The size `RSA.Create(n)` asked for, generated on first use.
    pending_bits: usize,
    disposed: bool,
}

/// An RSA key object (a reference type: imports show through all references).
#[derive(Clone)]
pub struct Rsa(Arc<RwLock<State>>);

/// The names `x as T` / `(T)x` / `x is T` accept for an [`Rsa`].
pub(crate) const RSA_TYPES: &[&str] = &[
    "RSA",
    "RSACng",
    "RSACryptoServiceProvider",
    "AsymmetricAlgorithm",
    "Object",
    "object",
    "System.Security.Cryptography.RSA",
    "System.Security.Cryptography.RSACng",
];

/// The largest key `RSA.Create(n)` generates: generation is slow.
const MAX_GENERATED_BITS: INT = 4096;

impl Rsa {
    pub(crate) fn from_keys(keys: Keys) -> Self {
        Rsa(Arc::new(RwLock::new(State {
            keys: Some(keys),
            pending_bits: 0,
            disposed: false,
        })))
    }

    fn pending(bits: usize) -> Self {
        Rsa(Arc::new(RwLock::new(State {
            keys: None,
            pending_bits: bits,
            disposed: false,
        })))
    }

    /// The current keys, generating them if `RSA.Create()` has not had one imported.
    pub(crate) fn keys(&self) -> RhaiResult<Keys> {
        let mut s = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if s.disposed {
            return throw(
                "ObjectDisposedException",
                "Cannot access a disposed object.\nObject name: 'RSA'.",
            );
        }
        if let Some(k) = &s.keys {
            return Ok(k.clone());
        }
        let private = match RsaPrivateKey::new(&mut OsRng, s.pending_bits) {
            Ok(k) => k,
            Err(e) => return throw("CryptographicException", e.to_string()),
        };
        let keys = Keys {
            public: private.to_public_key(),
            private: Some(private),
        };
        s.keys = Some(keys.clone());
        Ok(keys)
    }

    pub(crate) fn set(&self, keys: Keys) -> RhaiResult<()> {
        let mut s = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if s.disposed {
            return throw(
                "ObjectDisposedException",
                "Cannot access a disposed object.\nObject name: 'RSA'.",
            );
        }
        s.keys = Some(keys);
        Ok(())
    }

    pub(crate) fn private(&self) -> RhaiResult<RsaPrivateKey> {
        match self.keys()?.private {
            Some(k) => Ok(k),
            None => throw("CryptographicException", "Key does not exist."),
        }
    }
}

/// `HashAlgorithmName`: a name, possibly null.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashAlgorithmName(pub(crate) Option<ImmutableString>);

/// `RSASignaturePadding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RSASignaturePadding {
    Pkcs1,
    Pss,
}

/// `RSAEncryptionPadding`: PKCS#1 v1.5 or OAEP with a hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RSAEncryptionPadding {
    Pkcs1,
    Oaep(HashAlgorithmName),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Md5 => md5::Md5::digest(data).to_vec(),
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn pkcs1(self) -> Pkcs1v15Sign {
        match self {
            // The DigestInfo prefix of MD5 (RFC 8017, section 9.2, note 1).
            Hash::Md5 => Pkcs1v15Sign {
                hash_len: Some(16),
                prefix: Box::new([
                    0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02,
                    0x05, 0x05, 0x00, 0x04, 0x10,
                ]),
            },
            Hash::Sha1 => Pkcs1v15Sign::new::<sha1_010::Sha1>(),
            Hash::Sha256 => Pkcs1v15Sign::new::<sha2_010::Sha256>(),
            Hash::Sha384 => Pkcs1v15Sign::new::<sha2_010::Sha384>(),
            Hash::Sha512 => Pkcs1v15Sign::new::<sha2_010::Sha512>(),
        }
    }

    /// PSS with a salt as long as the hash, as .NET signs and verifies.
    fn pss(self) -> RhaiResult<Pss> {
        Ok(match self {
            Hash::Md5 => return unsupported_md5(),
            Hash::Sha1 => Pss::new::<sha1_010::Sha1>(),
            Hash::Sha256 => Pss::new::<sha2_010::Sha256>(),
            Hash::Sha384 => Pss::new::<sha2_010::Sha384>(),
            Hash::Sha512 => Pss::new::<sha2_010::Sha512>(),
        })
    }

    fn oaep(self) -> RhaiResult<Oaep> {
        Ok(match self {
            Hash::Md5 => return unsupported_md5(),
            Hash::Sha1 => Oaep::new::<sha1_010::Sha1>(),
            Hash::Sha256 => Oaep::new::<sha2_010::Sha256>(),
            Hash::Sha384 => Oaep::new::<sha2_010::Sha384>(),
            Hash::Sha512 => Oaep::new::<sha2_010::Sha512>(),
        })
    }
}

fn unsupported_md5<T>() -> RhaiResult<T> {
    throw(
        "CryptographicException",
        "The specified hash algorithm 'MD5' is not supported with this padding mode.",
    )
}

impl HashAlgorithmName {
    fn named(n: &str) -> Self {
        HashAlgorithmName(Some(n.into()))
    }

    fn resolve(&self) -> RhaiResult<Hash> {
        let name = self.0.as_ref().map(ImmutableString::as_str).unwrap_or("");
        Ok(match name {
            "" => {
                return throw(
                    "ArgumentException",
                    "The hash algorithm name cannot be null or empty. (Parameter 'hashAlgorithm')",
                );
            }
            "MD5" => Hash::Md5,
            "SHA1" => Hash::Sha1,
            "SHA256" => Hash::Sha256,
            "SHA384" => Hash::Sha384,
            "SHA512" => Hash::Sha512,
            other => {
                return throw(
                    "CryptographicException",
                    format!("'{other}' is not a known hash algorithm."),
                );
            }
        })
    }
}

/// A `byte[]` argument (null → `ArgumentNullException`).
pub(crate) fn blob_arg(v: &Dynamic, param: &str) -> RhaiResult<Blob> {
    if v.is_unit() {
        return null_arg(param);
    }
    match v.clone().try_cast::<Blob>() {
        Some(b) => Ok(b),
        None => throw(
            "ArgumentException",
            format!("Expected a byte array. (Parameter '{param}')"),
        ),
    }
}

fn hash_arg(v: &Dynamic) -> RhaiResult<Hash> {
    match v.clone().try_cast::<HashAlgorithmName>() {
        Some(h) => h.resolve(),
        None => HashAlgorithmName(None).resolve(),
    }
}

fn sig_padding_arg(v: &Dynamic) -> RhaiResult<RSASignaturePadding> {
    match v.clone().try_cast::<RSASignaturePadding>() {
        Some(p) => Ok(p),
        None => null_arg("padding"),
    }
}

fn enc_padding_arg(v: &Dynamic) -> RhaiResult<RSAEncryptionPadding> {
    match v.clone().try_cast::<RSAEncryptionPadding>() {
        Some(p) => Ok(p),
        None => null_arg("padding"),
    }
}

fn crypto_err<T>(e: rsa::Error) -> RhaiResult<T> {
    throw("CryptographicException", e.to_string())
}

fn sign_hash(k: &Rsa, hash: &[u8], h: Hash, p: RSASignaturePadding) -> RhaiResult<Blob> {
    let key = k.private()?;
    let r = match p {
        RSASignaturePadding::Pkcs1 => key.sign_with_rng(&mut OsRng, h.pkcs1(), hash),
        RSASignaturePadding::Pss => key.sign_with_rng(&mut OsRng, h.pss()?, hash),
    };
    r.or_else(crypto_err)
}

fn verify_hash(
    k: &Rsa,
    hash: &[u8],
    sig: &[u8],
    h: Hash,
    p: RSASignaturePadding,
) -> RhaiResult<bool> {
    let key = k.keys()?.public;
    Ok(match p {
        RSASignaturePadding::Pkcs1 => key.verify(h.pkcs1(), hash, sig).is_ok(),
        RSASignaturePadding::Pss => key.verify(h.pss()?, hash, sig).is_ok(),
    })
}

/// `data[offset..offset + count]`, checked like .NET.
fn slice(data: &Dynamic, offset: INT, count: INT) -> RhaiResult<Blob> {
    let data = blob_arg(data, "data")?;
    let r = checked_range(data.len(), offset, count, "offset", "count")?;
    Ok(data.get(r).map(<[u8]>::to_vec).unwrap_or_default())
}

fn register_names(e: &mut Engine) {
    e.register_type_with_name::<HashAlgorithmName>("HashAlgorithmName")
        .register_get("Name", |h: &mut HashAlgorithmName| match &h.0 {
            Some(n) => Dynamic::from(n.clone()),
            None => Dynamic::UNIT,
        })
        .register_fn("ToString", |h: &mut HashAlgorithmName| {
            h.0.clone().unwrap_or_default()
        })
        .register_fn("==", |a: HashAlgorithmName, b: HashAlgorithmName| a == b)
        .register_fn("!=", |a: HashAlgorithmName, b: HashAlgorithmName| a != b)
        .register_fn("Equals", |a: &mut HashAlgorithmName, b: Dynamic| {
            b.try_cast::<HashAlgorithmName>().is_some_and(|b| *a == b)
        })
        .register_fn("HashAlgorithmName__new", |n: ImmutableString| {
            HashAlgorithmName(Some(n))
        })
        .register_fn("HashAlgorithmName__new", |_: ()| HashAlgorithmName(None));
    for n in ["MD5", "SHA1", "SHA256", "SHA384", "SHA512"] {
        e.register_fn(format!("HashAlgorithmName__{n}"), move || {
            HashAlgorithmName::named(n)
        });
    }
    e.register_type_with_name::<RSASignaturePadding>("RSASignaturePadding")
        .register_fn("RSASignaturePadding__Pkcs1", || RSASignaturePadding::Pkcs1)
        .register_fn("RSASignaturePadding__Pss", || RSASignaturePadding::Pss)
        .register_get("Mode", |p: &mut RSASignaturePadding| format!("{p:?}"))
        .register_fn("ToString", |p: &mut RSASignaturePadding| format!("{p:?}"))
        .register_fn("==", |a: RSASignaturePadding, b: RSASignaturePadding| {
            a == b
        })
        .register_fn("!=", |a: RSASignaturePadding, b: RSASignaturePadding| {
            a != b
        });
    e.register_type_with_name::<RSAEncryptionPadding>("RSAEncryptionPadding")
        .register_fn("RSAEncryptionPadding__Pkcs1", || {
            RSAEncryptionPadding::Pkcs1
        })
        .register_fn(
            "RSAEncryptionPadding__CreateOaep",
            |h: HashAlgorithmName| -> RhaiResult<RSAEncryptionPadding> {
                h.resolve()?;
                Ok(RSAEncryptionPadding::Oaep(h))
            },
        )
        .register_get("Mode", |p: &mut RSAEncryptionPadding| match p {
            RSAEncryptionPadding::Pkcs1 => "Pkcs1",
            RSAEncryptionPadding::Oaep(_) => "Oaep",
        })
        .register_get(
            "OaepHashAlgorithm",
            |p: &mut RSAEncryptionPadding| match p {
                RSAEncryptionPadding::Pkcs1 => HashAlgorithmName(None),
                RSAEncryptionPadding::Oaep(h) => h.clone(),
            },
        )
        .register_fn("ToString", |p: &mut RSAEncryptionPadding| match p {
            RSAEncryptionPadding::Pkcs1 => "Pkcs1".to_owned(),
            RSAEncryptionPadding::Oaep(h) => format!("Oaep{}", h.0.clone().unwrap_or_default()),
        })
        .register_fn("==", |a: RSAEncryptionPadding, b: RSAEncryptionPadding| {
            a == b
        })
        .register_fn("!=", |a: RSAEncryptionPadding, b: RSAEncryptionPadding| {
            a != b
        });
    for n in ["SHA1", "SHA256", "SHA384", "SHA512"] {
        e.register_fn(format!("RSAEncryptionPadding__Oaep{n}"), move || {
            RSAEncryptionPadding::Oaep(HashAlgorithmName::named(n))
        });
    }
}

fn create(bits: INT) -> RhaiResult<Rsa> {
    if !(512..=MAX_GENERATED_BITS).contains(&bits) || bits % 64 != 0 {
        return throw(
            "CryptographicException",
            format!(
                "Specified key is not a valid size for this algorithm. ({bits} bits; Sluice generates 512 to {MAX_GENERATED_BITS})"
            ),
        );
    }
    Ok(Rsa::pending(usize::try_from(bits).unwrap_or(2048)))
}

pub(crate) fn register(e: &mut Engine) {
    register_names(e);
    e.register_type_with_name::<Rsa>("RSA")
        .register_fn("RSA__Create", || Rsa::pending(2048))
        .register_fn("RSA__Create", create)
        .register_fn("RSACng__new", || Rsa::pending(2048))
        .register_fn("RSACng__new", create)
        .register_fn("RSACryptoServiceProvider__new", || Rsa::pending(2048))
        .register_fn("RSACryptoServiceProvider__new", create)
        .register_fn(
            "ToString",
            |_: &mut Rsa| "System.Security.Cryptography.RSACng",
        )
        .register_fn("==", |a: Rsa, b: Rsa| Arc::ptr_eq(&a.0, &b.0))
        .register_fn("!=", |a: Rsa, b: Rsa| !Arc::ptr_eq(&a.0, &b.0))
        .register_get("KeySize", |k: &mut Rsa| -> RhaiResult<INT> {
            Ok(INT::try_from(k.keys()?.public.n().bits()).unwrap_or(0))
        })
        .register_get("SignatureAlgorithm", |_: &mut Rsa| "RSA")
        .register_get("KeyExchangeAlgorithm", |_: &mut Rsa| "RSA")
        .register_fn("Dispose", |k: &mut Rsa| {
            let mut s = k.0.write().unwrap_or_else(PoisonError::into_inner);
            s.disposed = true;
            s.keys = None;
        })
        .register_fn("Clear", |k: &mut Rsa| {
            let mut s = k.0.write().unwrap_or_else(PoisonError::into_inner);
            s.disposed = true;
            s.keys = None;
        })
        .register_fn(
            "SignData",
            |k: &mut Rsa, data: Dynamic, h: Dynamic, p: Dynamic| -> RhaiResult<Blob> {
                let data = blob_arg(&data, "data")?;
                let h = hash_arg(&h)?;
                sign_hash(k, &h.digest(&data), h, sig_padding_arg(&p)?)
            },
        )
        .register_fn(
            "SignData",
            |k: &mut Rsa,
             data: Dynamic,
             off: INT,
             n: INT,
             h: Dynamic,
             p: Dynamic|
             -> RhaiResult<Blob> {
                let data = slice(&data, off, n)?;
                let h = hash_arg(&h)?;
                sign_hash(k, &h.digest(&data), h, sig_padding_arg(&p)?)
            },
        )
        .register_fn(
            "SignHash",
            |k: &mut Rsa, hash: Dynamic, h: Dynamic, p: Dynamic| -> RhaiResult<Blob> {
                let hash = blob_arg(&hash, "hash")?;
                sign_hash(k, &hash, hash_arg(&h)?, sig_padding_arg(&p)?)
            },
        )
        .register_fn(
            "VerifyData",
            |k: &mut Rsa,
             data: Dynamic,
             sig: Dynamic,
             h: Dynamic,
             p: Dynamic|
             -> RhaiResult<bool> {
                let data = blob_arg(&data, "data")?;
                let sig = blob_arg(&sig, "signature")?;
                let h = hash_arg(&h)?;
                verify_hash(k, &h.digest(&data), &sig, h, sig_padding_arg(&p)?)
            },
        )
        .register_fn(
            "VerifyData",
            |k: &mut Rsa,
             data: Dynamic,
             off: INT,
             n: INT,
             sig: Dynamic,
             h: Dynamic,
             p: Dynamic|
             -> RhaiResult<bool> {
                let data = slice(&data, off, n)?;
                let sig = blob_arg(&sig, "signature")?;
                let h = hash_arg(&h)?;
                verify_hash(k, &h.digest(&data), &sig, h, sig_padding_arg(&p)?)
            },
        )
        .register_fn(
            "VerifyHash",
            |k: &mut Rsa,
             hash: Dynamic,
             sig: Dynamic,
             h: Dynamic,
             p: Dynamic|
             -> RhaiResult<bool> {
                let hash = blob_arg(&hash, "hash")?;
                let sig = blob_arg(&sig, "signature")?;
                verify_hash(k, &hash, &sig, hash_arg(&h)?, sig_padding_arg(&p)?)
            },
        )
        .register_fn(
            "Encrypt",
            |k: &mut Rsa, data: Dynamic, p: Dynamic| -> RhaiResult<Blob> {
                let data = blob_arg(&data, "data")?;
                let key = k.keys()?.public;
                let r = match enc_padding_arg(&p)? {
                    RSAEncryptionPadding::Pkcs1 => key.encrypt(&mut OsRng, Pkcs1v15Encrypt, &data),
                    RSAEncryptionPadding::Oaep(h) => {
                        key.encrypt(&mut OsRng, h.resolve()?.oaep()?, &data)
                    }
                };
                r.or_else(crypto_err)
            },
        )
        .register_fn(
            "Decrypt",
            |k: &mut Rsa, data: Dynamic, p: Dynamic| -> RhaiResult<Blob> {
                let data = blob_arg(&data, "data")?;
                let key = k.private()?;
                let r = match enc_padding_arg(&p)? {
                    RSAEncryptionPadding::Pkcs1 => {
                        key.decrypt_blinded(&mut OsRng, Pkcs1v15Encrypt, &data)
                    }
                    RSAEncryptionPadding::Oaep(h) => {
                        key.decrypt_blinded(&mut OsRng, h.resolve()?.oaep()?, &data)
                    }
                };
                r.or_else(crypto_err)
            },
        );
    for f in ["__as", "__cast", "__is"] {
        e.register_fn(f, move |k: Rsa, t: ImmutableString| -> RhaiResult<Dynamic> {
            let ok = RSA_TYPES.contains(&t.as_str());
            match (f, ok) {
                ("__is", _) => Ok(Dynamic::from_bool(ok)),
                (_, true) => Ok(Dynamic::from(k)),
                ("__as", false) => Ok(Dynamic::UNIT),
                _ => throw(
                    "InvalidCastException",
                    format!("Unable to cast object of type 'System.Security.Cryptography.RSACng' to type 'System.{t}'."),
                ),
            }
        });
    }
    super::keyio::register(e);
}
