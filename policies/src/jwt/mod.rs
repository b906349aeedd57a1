//! JSON web tokens as `validate-jwt` and `validate-azure-ad-token` check
//! them: the token's parts, the keys that may have signed it, and the
//! checks of its claims, each failure with APIM's reason and message
//! (apim-core.md §3.5). Signatures are verified by `jsonwebtoken` (ring),
//! encrypted tokens opened by RustCrypto's crates; nothing here writes
//! cryptography of its own.
//!
//! - `keys.rs`: signing keys: a policy's `<key>` (Base64 secret, RSA `n`/`e`, a certificate's) and JWKs
//! - `keysets.rs`: the key sets of `openid-config` URLs, cached across plans
//! - `jwe.rs`: encrypted tokens (JWE) and their decryption keys
//! - `decryption.rs`: a policy's `decryption-keys`, compiled and evaluated
//! - `policy.rs`: what both policies share: where the token is, the checks, the answer

pub(crate) mod decryption;
pub mod jwe;
pub mod keys;
pub mod keysets;
pub(crate) mod policy;

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};
use sluice_engine::runtime::Reason;

pub use keys::{Key, KeyKind};

/// Why a token was refused: `context.LastError.Reason` and `.Message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub reason: Reason,
    pub message: String,
}

impl Failure {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }

    /// APIM's message when there is no token.
    pub fn not_present() -> Self {
        Self::new(Reason::TokenNotPresent, "JWT not present.")
    }
}

/// A compact JWS split into its parts; its header and claims decoded.
#[derive(Debug)]
pub struct Token<'a> {
    /// `None`: `alg` is `none` (an unsigned token).
    pub alg: Option<Algorithm>,
    pub kid: Option<String>,
    pub claims: Map<String, Value>,
    /// `header.payload`, what the signature is over.
    pub signed: &'a str,
    pub signature: &'a str,
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

fn object(part: &str) -> Option<Map<String, Value>> {
    match serde_json::from_slice(&b64url(part)?).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Splits and decodes a compact signed token (an encrypted one, five
/// parts, is opened first: [`jwe::decrypt`]).
pub fn parse(raw: &str) -> Result<Token<'_>, Failure> {
    let invalid = |why: &str| {
        Failure::new(
            Reason::JwtInvalid,
            format!("JWT is not well formed: {why}."),
        )
    };
    let mut parts = raw.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("a JWT has three parts separated by `.`"));
    };
    let header = object(h).ok_or_else(|| invalid("its header is not Base64url-encoded JSON"))?;
    let claims = object(p).ok_or_else(|| invalid("its payload is not Base64url-encoded JSON"))?;
    let alg = match header.get("alg").and_then(Value::as_str) {
        Some("none") => None,
        Some(a) => Some(a.parse::<Algorithm>().map_err(|_| {
            Failure::new(
                Reason::JwtInvalid,
                format!("JWT algorithm `{a}` is not supported."),
            )
        })?),
        None => return Err(invalid("its header has no `alg`")),
    };
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok(Token {
        alg,
        kid,
        claims,
        signed: raw.get(..h.len() + 1 + p.len()).unwrap_or_default(),
        signature: s,
    })
}

/// Verifies the token's signature with the first of `keys` that fits its
/// algorithm and `kid` and verifies it (keys are tried in turn, for
/// rollover). `require_signed`: whether an unsigned token is refused.
pub fn verify<'k>(
    token: &Token<'_>,
    keys: impl IntoIterator<Item = &'k Key>,
    require_signed: bool,
) -> Result<(), Failure> {
    let Some(alg) = token.alg else {
        if require_signed {
            return Err(Failure::new(
                Reason::TokenSignatureInvalid,
                "Signature validation failed: the token is not signed. Access denied.",
            ));
        }
        return Ok(());
    };
    let mut tried = 0;
    for key in keys {
        if !key.fits(alg) {
            continue;
        }
        // A key with an id is for tokens of that `kid` only.
        if let (Some(want), Some(id)) = (&token.kid, &key.id)
            && want != id
        {
            continue;
        }
        tried += 1;
        if jsonwebtoken::crypto::verify(token.signature, token.signed.as_bytes(), &key.key, alg)
            .unwrap_or(false)
        {
            return Ok(());
        }
    }
    if tried == 0 {
        let kid = token.kid.as_deref().unwrap_or("");
        return Err(Failure::new(
            Reason::TokenSignatureKeyNotFound,
            format!(
                "Signature validation failed: no signing key matches kid '{kid}' and algorithm {alg:?}. Access denied."
            ),
        ));
    }
    Err(Failure::new(
        Reason::TokenSignatureInvalid,
        "Signature validation failed: the signature does not verify. Access denied.",
    ))
}

/// A `required-claims/claim` as evaluated for one request.
#[derive(Clone, Debug, Default)]
pub struct ClaimRule {
    pub name: String,
    /// `match="any"` (else `all`).
    pub any: bool,
    pub separator: Option<String>,
    pub values: Vec<String>,
}

/// The checks after the signature, evaluated for one request.
#[derive(Debug, Default)]
pub struct Checks {
    pub now_s: i64,
    pub skew_s: i64,
    pub require_expiration: bool,
    /// Any one must be among the token's `aud` (none: not checked).
    pub audiences: Vec<String>,
    /// Any one must be the token's `iss` (none: not checked).
    pub issuers: Vec<String>,
    pub claims: Vec<ClaimRule>,
}

/// A claim's values as strings (an array's items; a number as written).
pub fn claim_values(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().flat_map(claim_values).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

fn seconds(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, Failure> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| {
                Failure::new(
                    Reason::JwtInvalid,
                    format!("JWT claim `{name}` is not a number of seconds."),
                )
            }),
    }
}

/// Lifetime, audience, issuer, then the required claims.
pub fn check(token: &Token<'_>, c: &Checks) -> Result<(), Failure> {
    let claims = &token.claims;
    match seconds(claims, "exp")? {
        Some(exp) if exp.saturating_add(c.skew_s) <= c.now_s => {
            return Err(Failure::new(
                Reason::TokenExpired,
                format!(
                    "Lifetime validation failed. The token is expired. ValidTo (UTC): '{}', Current time (UTC): '{}'. Access denied.",
                    utc(exp),
                    utc(c.now_s)
                ),
            ));
        }
        None if c.require_expiration => {
            return Err(Failure::new(
                Reason::JwtInvalid,
                "Lifetime validation failed. The token is missing an Expiration Time.",
            ));
        }
        _ => {}
    }
    if let Some(nbf) = seconds(claims, "nbf")?
        && nbf.saturating_sub(c.skew_s) > c.now_s
    {
        return Err(Failure::new(
            Reason::JwtInvalid,
            format!(
                "Lifetime validation failed. The token is not yet valid. ValidFrom (UTC): '{}', Current time (UTC): '{}'.",
                utc(nbf),
                utc(c.now_s)
            ),
        ));
    }
    if !c.audiences.is_empty() {
        let aud = claims.get("aud").map(claim_values).unwrap_or_default();
        if !aud.iter().any(|a| c.audiences.contains(a)) {
            return Err(Failure::new(
                Reason::TokenAudienceNotAllowed,
                format!(
                    "Audience validation failed. Audiences: '{}'. Access denied.",
                    aud.join(", ")
                ),
            ));
        }
    }
    if !c.issuers.is_empty() {
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if !c.issuers.iter().any(|i| i == iss) {
            return Err(Failure::new(
                Reason::TokenIssuerNotAllowed,
                format!("Issuer validation failed. Issuer: '{iss}'. Access denied."),
            ));
        }
    }
    required_claims(claims, &c.claims)
}

fn required_claims(claims: &Map<String, Value>, rules: &[ClaimRule]) -> Result<(), Failure> {
    let missing: Vec<&str> = rules
        .iter()
        .filter(|r| claims.get(&r.name).is_none_or(Value::is_null))
        .map(|r| r.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Failure::new(
            Reason::TokenClaimNotFound,
            format!(
                "JWT token is missing the following claims: {}. Access denied.",
                missing.join(", ")
            ),
        ));
    }
    for r in rules {
        if r.values.is_empty() {
            continue;
        }
        let raw = claims.get(&r.name).map(claim_values).unwrap_or_default();
        let have: Vec<&str> = match r.separator.as_deref().filter(|s| !s.is_empty()) {
            Some(sep) => raw
                .iter()
                .flat_map(|v| v.split(sep))
                .map(str::trim)
                .collect(),
            None => raw.iter().map(String::as_str).collect(),
        };
        let ok = if r.any {
            r.values.iter().any(|v| have.contains(&v.as_str()))
        } else {
            r.values.iter().all(|v| have.contains(&v.as_str()))
        };
        if !ok {
            return Err(Failure::new(
                Reason::TokenClaimValueNotAllowed,
                format!(
                    "Claim {} value of {} is not allowed. Access denied.",
                    r.name,
                    raw.join(",")
                ),
            ));
        }
    }
    Ok(())
}

/// `M/d/yyyy h:mm:ss tt`, as .NET's invariant culture prints a UTC time.
fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (h, min, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let (h12, tt) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    format!("{m}/{d}/{y} {h12}:{min:02}:{s:02} {tt}")
}

/// Year, month, day of days since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests;
