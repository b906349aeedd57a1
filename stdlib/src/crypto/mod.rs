//! `System.Security.Cryptography` hashing: SHA1/SHA256/SHA384/SHA512/MD5
//! (`Create()`, `new SHA256Managed()`, `ComputeHash`, `TransformBlock`/
//! `TransformFinalBlock` + `Hash`, static `HashData`), HMACSHA1/256/384/512
//! and HMACMD5 (`Key`, `ComputeHash`, static `HashData`), and random bytes
//! (`RandomNumberGenerator`, `RNGCryptoServiceProvider`).
//!
//! `aes.rs` has APIM's `Encrypt`/`Decrypt` byte-array extensions (AES-CBC).
//! RSA and X509 are not here.

mod aes;

use std::sync::{Arc, Mutex};

use hmac::{KeyInit, Mac};
use rhai::{Blob, Dynamic, Engine, INT};
use sha2::Digest;

use crate::convert::{checked_range, null_arg};
use crate::core::{RhaiResult, throw};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alg {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Alg {
    const ALL: [Alg; 5] = [Alg::Md5, Alg::Sha1, Alg::Sha256, Alg::Sha384, Alg::Sha512];

    fn name(self) -> &'static str {
        match self {
            Alg::Md5 => "MD5",
            Alg::Sha1 => "SHA1",
            Alg::Sha256 => "SHA256",
            Alg::Sha384 => "SHA384",
            Alg::Sha512 => "SHA512",
        }
    }

    fn block_size(self) -> usize {
        match self {
            Alg::Sha384 | Alg::Sha512 => 128,
            _ => 64,
        }
    }

    fn hash_bits(self) -> INT {
        match self {
            Alg::Md5 => 128,
            Alg::Sha1 => 160,
            Alg::Sha256 => 256,
            Alg::Sha384 => 384,
            Alg::Sha512 => 512,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Alg::Md5 => md5::Md5::digest(data).to_vec(),
            Alg::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Alg::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Alg::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Alg::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            // HMAC accepts keys of any length; the error arm cannot happen.
            match <M as KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            Alg::Md5 => run::<hmac::Hmac<md5::Md5>>(key, data),
            Alg::Sha1 => run::<hmac::Hmac<sha1::Sha1>>(key, data),
            Alg::Sha256 => run::<hmac::Hmac<sha2::Sha256>>(key, data),
            Alg::Sha384 => run::<hmac::Hmac<sha2::Sha384>>(key, data),
            Alg::Sha512 => run::<hmac::Hmac<sha2::Sha512>>(key, data),
        }
    }

    /// The key HMAC really uses (a key longer than a block is hashed first),
    /// which is what .NET's `Key` getter returns.
    fn actual_key(self, key: Blob) -> Blob {
        if key.len() > self.block_size() {
            self.digest(&key)
        } else {
            key
        }
    }
}

struct State {
    alg: Alg,
    /// `Some` for an HMAC.
    key: Option<Blob>,
    /// Input of `TransformBlock` not yet finalized.
    pending: Vec<u8>,
    started: bool,
    hash: Option<Blob>,
    type_name: String,
}

/// A hash algorithm or HMAC instance (a reference type, like .NET's).
#[derive(Clone)]
pub struct HashAlgorithm(Arc<Mutex<State>>);

impl HashAlgorithm {
    fn new(alg: Alg, key: Option<Blob>, type_name: String) -> Self {
        let key = key.map(|k| alg.actual_key(k));
        HashAlgorithm(Arc::new(Mutex::new(State {
            alg,
            key,
            pending: Vec::new(),
            started: false,
            hash: None,
            type_name,
        })))
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut g = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g)
    }

    fn compute(s: &mut State, data: &[u8]) -> Blob {
        let h = match &s.key {
            Some(k) => s.alg.hmac(k, data),
            None => s.alg.digest(data),
        };
        s.hash = Some(h.clone());
        s.pending.clear();
        s.started = false;
        h
    }
}

fn random_bytes(n: usize) -> Blob {
    (0..n).map(|_| rand::random::<u8>()).collect()
}

fn register_hashing(e: &mut Engine) {
    e.register_type_with_name::<HashAlgorithm>("HashAlgorithm")
        .register_fn("ComputeHash", |h: &mut HashAlgorithm, b: Blob| {
            h.with(|s| HashAlgorithm::compute(s, &b))
        })
        .register_fn(
            "ComputeHash",
            |_: &mut HashAlgorithm, _: ()| -> RhaiResult<Blob> { null_arg("buffer") },
        )
        .register_fn(
            "ComputeHash",
            |h: &mut HashAlgorithm, b: Blob, offset: INT, count: INT| -> RhaiResult<Blob> {
                let r = checked_range(b.len(), offset, count, "offset", "count")?;
                Ok(h.with(|s| HashAlgorithm::compute(s, b.get(r).unwrap_or_default())))
            },
        )
        // `TransformBlock(input, offset, count, output, outputOffset)`: .NET
        // copies the input to `output`; a rhai Blob argument is a copy, so
        // only the returned count is meaningful.
        .register_fn(
            "TransformBlock",
            |h: &mut HashAlgorithm,
             b: Blob,
             offset: INT,
             count: INT,
             _out: Dynamic,
             _out_offset: INT|
             -> RhaiResult<INT> {
                let r = checked_range(b.len(), offset, count, "inputOffset", "inputCount")?;
                h.with(|s| {
                    s.pending.extend_from_slice(b.get(r).unwrap_or_default());
                    s.started = true;
                });
                Ok(count)
            },
        )
        .register_fn(
            "TransformFinalBlock",
            |h: &mut HashAlgorithm, b: Blob, offset: INT, count: INT| -> RhaiResult<Blob> {
                let r = checked_range(b.len(), offset, count, "inputOffset", "inputCount")?;
                let part = b.get(r).unwrap_or_default().to_vec();
                h.with(|s| {
                    let mut all = std::mem::take(&mut s.pending);
                    all.extend_from_slice(&part);
                    HashAlgorithm::compute(s, &all);
                });
                Ok(part)
            },
        )
        .register_get("Hash", |h: &mut HashAlgorithm| -> RhaiResult<Blob> {
            match h.with(|s| s.hash.clone()) {
                Some(b) => Ok(b),
                None => throw(
                    "CryptographicUnexpectedOperationException",
                    "Hash must be finalized before the hash value is retrieved.",
                ),
            }
        })
        .register_get("HashSize", |h: &mut HashAlgorithm| {
            h.with(|s| s.alg.hash_bits())
        })
        .register_get("InputBlockSize", |_: &mut HashAlgorithm| 1 as INT)
        .register_get("OutputBlockSize", |_: &mut HashAlgorithm| 1 as INT)
        .register_get("CanReuseTransform", |_: &mut HashAlgorithm| true)
        .register_get("CanTransformMultipleBlocks", |_: &mut HashAlgorithm| true)
        .register_get("HashName", |h: &mut HashAlgorithm| h.with(|s| s.alg.name()))
        .register_get("Key", |h: &mut HashAlgorithm| -> RhaiResult<Blob> {
            match h.with(|s| s.key.clone()) {
                Some(k) => Ok(k),
                None => throw(
                    "NotSupportedException",
                    "Specified method is not supported.",
                ),
            }
        })
        .register_set("Key", |h: &mut HashAlgorithm, k: Blob| -> RhaiResult<()> {
            h.with(|s| {
                if s.key.is_none() {
                    return throw(
                        "NotSupportedException",
                        "Specified method is not supported.",
                    );
                }
                if s.started {
                    return throw(
                        "CryptographicException",
                        "Hash key cannot be changed after the first write to the stream.",
                    );
                }
                s.key = Some(s.alg.actual_key(k));
                Ok(())
            })
        })
        .register_set("Key", |_: &mut HashAlgorithm, _: ()| -> RhaiResult<()> {
            null_arg("value")
        })
        .register_fn("Initialize", |h: &mut HashAlgorithm| {
            h.with(|s| {
                s.pending.clear();
                s.started = false;
            });
        })
        .register_fn("Dispose", |_: &mut HashAlgorithm| ())
        .register_fn("Clear", |_: &mut HashAlgorithm| ())
        .register_fn("ToString", |h: &mut HashAlgorithm| {
            h.with(|s| format!("System.Security.Cryptography.{}", s.type_name))
        });

    for alg in Alg::ALL {
        let name = alg.name();
        let hash =
            move |type_name: String| move || HashAlgorithm::new(alg, None, type_name.clone());
        e.register_fn(
            format!("{name}__Create"),
            hash(format!("{name}+Implementation")),
        )
        .register_fn(format!("{name}__HashData"), move |b: Blob| alg.digest(&b))
        .register_fn(format!("{name}__HashData"), |_: ()| -> RhaiResult<Blob> {
            null_arg("source")
        });
        if alg == Alg::Md5 {
            e.register_fn(
                "MD5CryptoServiceProvider__new",
                hash("MD5CryptoServiceProvider".into()),
            );
        } else {
            e.register_fn(
                format!("{name}Managed__new"),
                hash(format!("{name}Managed")),
            )
            .register_fn(
                format!("{name}CryptoServiceProvider__new"),
                hash(format!("{name}CryptoServiceProvider")),
            );
        }
        let hmac = format!("HMAC{name}");
        let (t1, t2) = (hmac.clone(), hmac.clone());
        e.register_fn(format!("{hmac}__new"), move || {
            HashAlgorithm::new(alg, Some(random_bytes(alg.block_size())), t1.clone())
        })
        .register_fn(format!("{hmac}__new"), move |key: Blob| {
            HashAlgorithm::new(alg, Some(key), t2.clone())
        })
        .register_fn(
            format!("{hmac}__new"),
            |_: ()| -> RhaiResult<HashAlgorithm> { null_arg("key") },
        )
        .register_fn(format!("{hmac}__HashData"), move |key: Blob, b: Blob| {
            alg.hmac(&key, &b)
        })
        .register_fn(
            format!("{hmac}__HashData"),
            |_: Dynamic, _: ()| -> RhaiResult<Blob> { null_arg("source") },
        )
        .register_fn(
            format!("{hmac}__HashData"),
            |_: (), _: Dynamic| -> RhaiResult<Blob> { null_arg("key") },
        );
    }
    e.register_fn(
        "HashAlgorithm__Create",
        |name: rhai::ImmutableString| -> Dynamic {
            let alg = match name
                .trim_start_matches("System.Security.Cryptography.")
                .to_ascii_uppercase()
                .as_str()
            {
                "MD5" => Alg::Md5,
                "SHA" | "SHA1" => Alg::Sha1,
                "SHA256" | "SHA-256" => Alg::Sha256,
                "SHA384" | "SHA-384" => Alg::Sha384,
                "SHA512" | "SHA-512" => Alg::Sha512,
                _ => return Dynamic::UNIT,
            };
            Dynamic::from(HashAlgorithm::new(
                alg,
                None,
                format!("{}+Implementation", alg.name()),
            ))
        },
    );
}

/// `RandomNumberGenerator` and `RNGCryptoServiceProvider`.
#[derive(Clone, Copy)]
pub struct RandomNumberGenerator;

fn byte_count(n: INT) -> RhaiResult<usize> {
    match usize::try_from(n) {
        Ok(n) if n <= 1 << 20 => Ok(n),
        Ok(_) => throw(
            "OutOfMemoryException",
            "Insufficient memory to continue the execution of the program.",
        ),
        Err(_) => throw(
            "ArgumentOutOfRangeException",
            format!(
                "count ('{n}') must be a non-negative value. (Parameter 'count')\nActual value was {n}."
            ),
        ),
    }
}

fn register_rng(e: &mut Engine) {
    e.register_type_with_name::<RandomNumberGenerator>("RandomNumberGenerator")
        .register_fn("RandomNumberGenerator__Create", || RandomNumberGenerator)
        .register_fn("RNGCryptoServiceProvider__new", || RandomNumberGenerator)
        .register_fn("RandomNumberGenerator__GetBytes", |n: INT| byte_count(n).map(random_bytes))
        .register_fn("RandomNumberGenerator__GetInt32", |max: INT| -> RhaiResult<INT> {
            if max <= 0 {
                return throw("ArgumentOutOfRangeException", "Positive number required. (Parameter 'toExclusive')");
            }
            Ok((rand::random::<u64>() % max as u64) as INT)
        })
        .register_fn("RandomNumberGenerator__GetInt32", |min: INT, max: INT| -> RhaiResult<INT> {
            if min >= max {
                return throw("ArgumentException", "Range of random number does not contain at least one possibility. (Parameter 'fromInclusive')");
            }
            Ok(min + (rand::random::<u64>() % (max - min) as u64) as INT)
        })
        // `GetBytes(buffer)` fills the caller's array in .NET; a rhai Blob is a
        // value, so this returns a filled array of the same length.
        .register_fn("GetBytes", |_: &mut RandomNumberGenerator, b: Blob| random_bytes(b.len()))
        .register_fn("GetNonZeroBytes", |_: &mut RandomNumberGenerator, b: Blob| -> Blob { b.iter().map(|_| rand::random_range(1..=255u8)).collect() })
        .register_fn("Dispose", |_: &mut RandomNumberGenerator| ());
}

pub(crate) fn register(e: &mut Engine) {
    register_hashing(e);
    register_rng(e);
    aes::register(e);
}

#[cfg(test)]
mod tests;
