//! The string extensions of apim-core.md §8: `AsJwt`, `TryParseJwt`,
//! `AsBasic`, `TryParseBasic`. A JWT is decoded, not validated.

use base64::Engine as _;
use rhai::{Array, Dynamic, Engine, ImmutableString, NativeCallContext};

use super::Record;
use super::message::{Multimap, StringsDictionary};
use crate::core::RhaiResult;

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

fn claim_strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(claim_strings).collect(),
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

/// `Jwt` for a compact JWS, or `None` when it is not one.
fn parse_jwt(ctx: &NativeCallContext, token: &str) -> RhaiResult<Option<Record>> {
    let token = token.trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token);
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, _sig] = parts.as_slice() else {
        return Ok(None);
    };
    let (Some(h), Some(p)) = (b64url(header), b64url(payload)) else {
        return Ok(None);
    };
    let (Ok(serde_json::Value::Object(h)), Ok(serde_json::Value::Object(p))) = (
        serde_json::from_slice::<serde_json::Value>(&h),
        serde_json::from_slice::<serde_json::Value>(&p),
    ) else {
        return Ok(None);
    };
    let text = |m: &serde_json::Map<String, serde_json::Value>, k: &str| -> Dynamic {
        m.get(k)
            .and_then(|v| v.as_str())
            .map_or(Dynamic::UNIT, |s| s.to_owned().into())
    };
    let time = |k: &str| -> RhaiResult<Dynamic> {
        match p.get(k).and_then(serde_json::Value::as_i64) {
            Some(secs) => {
                let dto =
                    ctx.call_native_fn::<Dynamic>("DateTimeOffset__FromUnixTimeSeconds", (secs,))?;
                ctx.call_native_fn::<Dynamic>("get$UtcDateTime", (dto,))
            }
            None => Ok(Dynamic::UNIT),
        }
    };
    let mut claims = Multimap::default();
    for (k, v) in &p {
        claims.set(k, claim_strings(v));
    }
    let audiences: Array = p
        .get("aud")
        .map(claim_strings)
        .unwrap_or_default()
        .into_iter()
        .map(Dynamic::from)
        .collect();
    Ok(Some(
        Record::new("Jwt")
            .with("Algorithm", text(&h, "alg"))
            .with("Type", text(&h, "typ"))
            .with("Audiences", audiences)
            .with(
                "Claims",
                Dynamic::from(StringsDictionary {
                    entries: claims.into(),
                    type_name: "Claims",
                }),
            )
            .with("ExpirationTime", time("exp")?)
            .with("IssuedAt", time("iat")?)
            .with("NotBefore", time("nbf")?)
            .with("Id", text(&p, "jti"))
            .with("Issuer", text(&p, "iss"))
            .with("Subject", text(&p, "sub")),
    ))
}

/// `BasicAuthCredentials` from `Basic base64(user:password)`; the password is
/// what follows the last `:`.
fn parse_basic(value: &str) -> Option<Record> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if scheme != "Basic" {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    // ISO-8859-1: every byte is the code point of the same value.
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let (user, password) = text.rsplit_once(':')?;
    Some(
        Record::new("BasicAuthCredentials")
            .with("UserId", user.to_owned())
            .with("Password", password.to_owned()),
    )
}

/// The `Authorization` object of `get-authorization-context`: the access
/// token and the token answer's other fields as `Claims`, an
/// `IReadOnlyDictionary<string, object>` (strings, numbers and booleans as
/// such; objects and arrays as `JToken`s).
pub fn authorization(
    access_token: &str,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Record {
    let pairs = claims.iter().map(|(k, v)| {
        let v = match v {
            serde_json::Value::Null => Dynamic::UNIT,
            serde_json::Value::Bool(b) => Dynamic::from_bool(*b),
            serde_json::Value::Number(n) => n.as_i64().map_or_else(
                || Dynamic::from_float(n.as_f64().unwrap_or_default()),
                Dynamic::from_int,
            ),
            serde_json::Value::String(s) => Dynamic::from(s.clone()),
            other => crate::json::parse_json(&other.to_string()).unwrap_or(Dynamic::UNIT),
        };
        (k.clone(), v)
    });
    Record::new("Authorization")
        .with("AccessToken", access_token.to_owned())
        .with(
            "Claims",
            Dynamic::from(crate::collections::string_dictionary("Object", pairs)),
        )
}

fn or_null(r: Option<Record>) -> Dynamic {
    r.map_or(Dynamic::UNIT, Dynamic::from)
}

pub(super) fn register(e: &mut Engine) {
    e.register_fn("AsJwt", |ctx: NativeCallContext, s: ImmutableString| {
        parse_jwt(&ctx, &s).map(or_null)
    })
    .register_fn(
        "TryParseJwt__out",
        |ctx: NativeCallContext, s: ImmutableString| -> RhaiResult<Array> {
            let r = parse_jwt(&ctx, &s)?;
            Ok(vec![r.is_some().into(), or_null(r)])
        },
    )
    .register_fn("AsBasic", |s: ImmutableString| or_null(parse_basic(&s)))
    .register_fn("TryParseBasic__out", |s: ImmutableString| -> Array {
        let r = parse_basic(&s);
        vec![r.is_some().into(), or_null(r)]
    });
}
