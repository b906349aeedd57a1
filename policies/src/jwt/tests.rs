//! Token parsing and the claim checks (signatures are shown by the
//! conformance cases, with real keys and tokens).

use super::*;

fn token(claims: serde_json::Value) -> String {
    use base64::Engine as _;
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.",
        e.encode(br#"{"alg":"none"}"#),
        e.encode(claims.to_string())
    )
}

fn rule(name: &str, any: bool, sep: Option<&str>, values: &[&str]) -> ClaimRule {
    ClaimRule {
        name: name.into(),
        any,
        separator: sep.map(str::to_owned),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

#[test]
fn unsigned_tokens_pass_only_when_signatures_are_not_required() {
    let raw = token(serde_json::json!({"exp": 10}));
    let t = parse(&raw).unwrap();
    assert_eq!(t.alg, None);
    assert_eq!(
        verify(&t, [], true).unwrap_err().reason,
        Reason::TokenSignatureInvalid
    );
    assert!(verify(&t, [], false).is_ok());
}

#[test]
fn lifetime_is_checked_with_the_clock_skew() {
    let raw = token(serde_json::json!({"exp": 100, "nbf": 50}));
    let t = parse(&raw).unwrap();
    let at = |now_s, skew_s| {
        check(
            &t,
            &Checks {
                now_s,
                skew_s,
                require_expiration: true,
                ..Checks::default()
            },
        )
        .map_err(|f| f.reason)
    };
    assert_eq!(at(75, 0), Ok(()));
    assert_eq!(at(100, 0), Err(Reason::TokenExpired));
    assert_eq!(at(100, 10), Ok(()));
    assert_eq!(at(40, 0), Err(Reason::JwtInvalid));
    assert_eq!(at(40, 10), Ok(()));
    let no_exp = token(serde_json::json!({"sub": "x"}));
    let t = parse(&no_exp).unwrap();
    let c = Checks {
        require_expiration: true,
        ..Checks::default()
    };
    assert_eq!(check(&t, &c).unwrap_err().reason, Reason::JwtInvalid);
    let c = Checks {
        require_expiration: false,
        ..Checks::default()
    };
    assert!(check(&t, &c).is_ok());
}

#[test]
fn required_claims_match_all_or_any_and_split_on_the_separator() {
    let raw = token(serde_json::json!({"group": "finance,logistics", "roles": ["a", "b"]}));
    let t = parse(&raw).unwrap();
    let run = |claims| {
        check(
            &t,
            &Checks {
                claims,
                ..Checks::default()
            },
        )
        .map_err(|f| (f.reason, f.message))
    };
    assert!(run(vec![rule("roles", false, None, &["a", "b"])]).is_ok());
    assert!(run(vec![rule("roles", true, None, &["z", "b"])]).is_ok());
    assert_eq!(
        run(vec![rule("roles", false, None, &["a", "z"])])
            .unwrap_err()
            .0,
        Reason::TokenClaimValueNotAllowed
    );
    assert!(
        run(vec![rule(
            "group",
            false,
            Some(","),
            &["finance", "logistics"]
        )])
        .is_ok()
    );
    assert!(run(vec![rule("group", false, None, &["finance"])]).is_err());
    let (reason, message) = run(vec![
        rule("x", false, None, &[]),
        rule("y", true, None, &[]),
    ])
    .unwrap_err();
    assert_eq!(reason, Reason::TokenClaimNotFound);
    assert_eq!(
        message,
        "JWT token is missing the following claims: x, y. Access denied."
    );
}

#[test]
fn times_print_as_dotnet_does() {
    assert_eq!(utc(1_735_689_600), "1/1/2025 12:00:00 AM");
    assert_eq!(utc(1_735_689_600 + 13 * 3600 + 5), "1/1/2025 1:00:05 PM");
}

/// The encrypted tokens of the conformance cases (generate_encrypted.py).
fn encrypted(name: &str) -> String {
    let all: serde_json::Value = serde_json::from_str(include_str!(
        "../../../conformance/cases/validate-jwt/keys/tokens-encrypted.json"
    ))
    .unwrap();
    all[name].as_str().unwrap().to_owned()
}

fn jwe_key(bits: u32) -> jwe::DecryptionKey {
    let text = match bits {
        128 => include_str!("../../../conformance/cases/validate-jwt/keys/jwe-128.key.b64"),
        256 => include_str!("../../../conformance/cases/validate-jwt/keys/jwe-256.key.b64"),
        _ => include_str!("../../../conformance/cases/validate-jwt/keys/jwe-512.key.b64"),
    };
    jwe::DecryptionKey::symmetric(text).unwrap()
}

/// `raw` with its part `i` replaced.
fn with_part(raw: &str, i: usize, part: &str) -> String {
    let mut parts: Vec<&str> = raw.split('.').collect();
    parts[i] = part;
    parts.join(".")
}

#[test]
fn an_encrypted_token_opens_to_the_signed_token_inside() {
    let raw = encrypted("jwe-dir-a128cbc-hs256");
    assert!(jwe::is_encrypted(&raw));
    let inner = jwe::decrypt(&raw, [&jwe_key(512), &jwe_key(256)]).unwrap();
    let t = parse(&inner).unwrap();
    assert_eq!(t.alg, Some(jsonwebtoken::Algorithm::HS256));
    assert_eq!(t.claims["sub"], "user-1");
}

#[test]
fn a_shortened_authentication_tag_is_refused() {
    // The MAC is compared on the tag's length: a one-byte tag must not pass
    // one time in 256.
    let raw = encrypted("jwe-dir-a128cbc-hs256");
    let tag = raw.rsplit('.').next().unwrap();
    for len in [0, 2, 21] {
        let short = with_part(&raw, 4, &tag[..len]);
        let f = jwe::decrypt(&short, [&jwe_key(256)]).unwrap_err();
        assert_eq!(f.reason, Reason::JwtInvalid, "{len}");
    }
    let gcm = encrypted("jwe-a128kw-a128gcm");
    let tag = gcm.rsplit('.').next().unwrap();
    assert!(jwe::decrypt(&with_part(&gcm, 4, &tag[..4]), [&jwe_key(128)]).is_err());
    // A shorter nonce is refused, not a panic.
    let iv = gcm.split('.').nth(2).unwrap();
    assert!(jwe::decrypt(&with_part(&gcm, 2, &iv[..8]), [&jwe_key(128)]).is_err());
}

#[test]
fn a_key_of_another_size_does_not_fit_and_the_failure_names_no_key() {
    let raw = encrypted("jwe-dir-a128cbc-hs256");
    let f = jwe::decrypt(&raw, [&jwe_key(128)]).unwrap_err();
    assert_eq!(
        f.message,
        "Decryption failed: no decryption key fits algorithm `dir` with `A128CBC-HS256`. Access denied."
    );
    let key = jwe_key(256);
    assert_eq!(format!("{key:?}"), "DecryptionKey::Symmetric(..)");
}
