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
