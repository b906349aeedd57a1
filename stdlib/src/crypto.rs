//! hashing and HMAC: SHA1/SHA256/SHA384/SHA512/MD5 (`Create()`, `ComputeHash`), HMACSHA1/256/384/512, HMACMD5.
//!
//! Not written yet: registers nothing.

use rhai::Engine;

pub(crate) fn register(_e: &mut Engine) {}
