//! The context model through a real engine, as expressions would use it
//! (in the rhai the translator generates).

use super::*;

fn ctx() -> Context {
    let mut headers = Multimap::default();
    headers.append("User-Agent", "curl/8");
    headers.append("Accept", "a");
    headers.append("accept", "b");
    let request = Message {
        method: "POST".into(),
        url: Url::parse("https://api.test/echo/x?a=1&a=2&b=%20").unwrap(),
        original_url: Url::parse("https://api.test:8443/echo/x").unwrap(),
        headers,
        body: Some(Body {
            bytes: bytes::Bytes::from_static(b"hello"),
            consumed: false,
        }),
        ip: "10.0.0.1".into(),
        matched: vec![("id".into(), "42".into())],
        ..Message::default()
    };
    let data = ContextData {
        request: MessageRef::new(request),
        api: Some(Record::new("IApi").with("Name", "echo").with("Id", "echo")),
        request_id: uuid::uuid!("5b2e1c7e-0000-4000-8000-000000000001"),
        ..ContextData::default()
    };
    let c = Context::new(data);
    c.variables(|v| {
        v.insert("n".into(), Dynamic::from_int(5));
        v.insert("s".into(), Dynamic::from("text"));
    });
    c
}

fn eval(src: &str) -> String {
    let engine = crate::engine(&crate::Limits::default());
    let mut scope = rhai::Scope::new();
    scope.push("context", ctx());
    match engine.eval_with_scope::<Dynamic>(&mut scope, src) {
        Ok(v) if v.is_unit() => "null".into(),
        Ok(v) => v.to_string(),
        Err(e) => crate::testing::failure(&e),
    }
}

#[test]
fn request_members() {
    assert_eq!(eval("context.Request.Method"), "POST");
    assert_eq!(eval("context.Request.IpAddress"), "10.0.0.1");
    assert_eq!(eval("context.Request.Url.Path"), "/echo/x");
    assert_eq!(eval("context.Request.Url.Port"), "443");
    assert_eq!(eval("context.Request.Url.QueryString"), "?a=1&a=2&b=%20");
    assert_eq!(
        eval("context.Request.Url.ToString()"),
        "https://api.test/echo/x?a=1&a=2&b=%20"
    );
    assert_eq!(
        eval("context.Request.OriginalUrl.ToString()"),
        "https://api.test:8443/echo/x"
    );
    assert_eq!(
        eval(r#"context.Request.Url.Query.GetValueOrDefault("a", "")"#),
        "1,2"
    );
    assert_eq!(
        eval(r#"context.Request.Url.Query.GetValueOrDefault("b", "")"#),
        " "
    );
    assert_eq!(eval(r#"context.Request.MatchedParameters["id"]"#), "42");
    assert_eq!(
        eval(r#"context.Request.MatchedParameters.GetValueOrDefault("nope", "d")"#),
        "d"
    );
}

#[test]
fn headers_are_case_insensitive_and_joined() {
    assert_eq!(
        eval(r#"context.Request.Headers.GetValueOrDefault("user-agent", "")"#),
        "curl/8"
    );
    assert_eq!(
        eval(r#"context.Request.Headers.GetValueOrDefault("ACCEPT", "")"#),
        "a,b"
    );
    assert_eq!(
        eval(r#"context.Request.Headers.GetValueOrDefault("X-None")"#),
        "null"
    );
    assert_eq!(
        eval(r#"context.Request.Headers.GetValueOrDefault("X-None", "dflt")"#),
        "dflt"
    );
    assert_eq!(
        eval(r#"context.Request.Headers.TryGetValue__out("accept")"#),
        r#"[true, ["a", "b"]]"#
    );
    assert_eq!(
        eval(r#"context.Request.Headers["x"]"#),
        "!KeyNotFoundException: The given key 'x' was not present in the dictionary."
    );
    assert_eq!(eval(r#"context.Request.Headers.Count"#), "2");
}

#[test]
fn body_is_consumed_unless_preserved() {
    assert_eq!(
        eval(r#"context.Request.Body.As("String", true) + context.Request.Body.As("String")"#),
        "hellohello"
    );
    assert!(
        eval(r#"context.Request.Body.As("String"); context.Request.Body.As("String")"#)
            .starts_with("!InvalidOperationException")
    );
    assert_eq!(eval("context.Response.Body"), "null");
}

#[test]
fn variables_are_strict() {
    assert_eq!(eval(r#"context.Variables["n"]"#), "5");
    assert_eq!(
        eval(r#"context.Variables["missing"]"#),
        "!KeyNotFoundException: The given key 'missing' was not present in the dictionary."
    );
    assert_eq!(
        eval(r#"context.Variables.GetValueOrDefault__of("Int32", "n", 0)"#),
        "5"
    );
    assert_eq!(
        eval(r#"context.Variables.GetValueOrDefault__of("Int32", "missing", 7)"#),
        "7"
    );
    assert_eq!(
        eval(r#"context.Variables.GetValueOrDefault__of("Boolean", "missing")"#),
        "false"
    );
    assert_eq!(
        eval(r#"context.Variables.GetValueOrDefault__of("Int32", "s", 0)"#),
        "!InvalidCastException: Unable to cast object of type 'System.String' to type 'System.Int32'."
    );
    assert_eq!(eval(r#"context.Variables.ContainsKey("s")"#), "true");
    assert_eq!(eval(r#"context.Variables.GetValueOrDefault("s")"#), "text");
    // Two strings: a name and a default (not a type and a name).
    assert_eq!(
        eval(r#"context.Variables.GetValueOrDefault("missing", "fallback")"#),
        "fallback"
    );
    assert_eq!(
        eval(r#"context.Variables.GetValueOrDefault("s", "fallback")"#),
        "text"
    );
}

#[test]
fn records_and_missing_parts() {
    assert_eq!(eval("context.Api.Name"), "echo");
    assert_eq!(eval("context.User"), "null");
    assert_eq!(eval("context.User?.Id"), "null");
    assert!(eval("context.Api.Email").starts_with("!MissingMemberException"));
    assert_eq!(eval("context.LastError"), "null");
    assert_eq!(eval("context.Tracing"), "false");
}

#[test]
fn basic_credentials() {
    // "alice:pa:ss" in Base64.
    assert_eq!(
        eval(r#""Basic YWxpY2U6cGE6c3M=".AsBasic().UserId"#),
        "alice:pa"
    );
    assert_eq!(eval(r#""Basic YWxpY2U6cGE6c3M=".AsBasic().Password"#), "ss");
    assert_eq!(eval(r#""Bearer x".AsBasic()"#), "null");
    assert_eq!(eval(r#""Basic !!".TryParseBasic__out()"#), "[false, ()]");
}

#[test]
fn jwt_claims() {
    // {"alg":"HS256","typ":"JWT"} . {"sub":"123","aud":["a","b"],"group":["finance","ops"]} . sig
    let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjMiLCJhdWQiOlsiYSIsImIiXSwiZ3JvdXAiOlsiZmluYW5jZSIsIm9wcyJdfQ.c2ln";
    assert_eq!(eval(&format!(r#""{token}".AsJwt().Subject"#)), "123");
    assert_eq!(eval(&format!(r#""{token}".AsJwt().Algorithm"#)), "HS256");
    assert_eq!(
        eval(&format!(r#""{token}".AsJwt().Audiences"#)),
        r#"["a", "b"]"#
    );
    assert_eq!(
        eval(&format!(
            r#""{token}".AsJwt().Claims.GetValueOrDefault("group", "")"#
        )),
        "finance,ops"
    );
    assert_eq!(
        eval(&format!(r#""{token}".AsJwt().Claims["group"]"#)),
        r#"["finance", "ops"]"#
    );
    assert_eq!(eval(r#""not.a.jwt".AsJwt()"#), "null");
    // `(Jwt)context.Variables["jwt"]`: a record casts to its own .NET type only.
    assert_eq!(
        eval(&format!(r#"__cast("{token}".AsJwt(), "Jwt").Subject"#)),
        "123"
    );
    assert!(
        eval(&format!(
            r#"__cast("{token}".AsJwt(), "BasicAuthCredentials")"#
        ))
        .contains("Unable to cast object of type 'System.Jwt'"),
    );
}

#[test]
fn the_jwt_of_validate_jwt_is_the_jwt_of_as_jwt() {
    let token =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjMiLCJleHAiOjE3MzU2OTMyMDB9.c2ln";
    let jwt = super::jwt_value(token).unwrap();
    let engine = crate::engine(&crate::Limits::default());
    let mut scope = rhai::Scope::new();
    scope.push("jwt", jwt);
    let got = engine
        .eval_with_scope::<Dynamic>(
            &mut scope,
            r#"jwt.Subject + "|" + jwt.ExpirationTime.ToString("o")"#,
        )
        .map(|v| v.to_string())
        .unwrap_or_else(|e| format!("!{e}"));
    assert_eq!(got, "123|2025-01-01T01:00:00.0000000Z");
    assert!(super::jwt_value("nope").is_none());
}

#[test]
fn form_bodies() {
    let engine = crate::engine(&crate::Limits::default());
    let request = Message {
        body: Some(Body {
            bytes: bytes::Bytes::from_static(b"a=1&b=x+y&a=2"),
            consumed: false,
        }),
        ..Message::default()
    };
    let c = Context::new(ContextData {
        request: MessageRef::new(request),
        ..ContextData::default()
    });
    let mut scope = rhai::Scope::new();
    scope.push("context", c);
    let got = engine
        .eval_with_scope::<Dynamic>(
            &mut scope,
            r#"let f = context.Request.Body.AsFormUrlEncodedContent(true); f["a"][1] + "|" + f["b"][0] + "|" + f.Count.ToString()"#,
        )
        .map(|v| v.to_string())
        .unwrap_or_else(|e| format!("!{e}"));
    assert_eq!(got, "2|x y|2");
}

#[test]
fn url_schemes_are_lower_case_with_their_default_ports() {
    let u = Url::parse("HTTPS://Api.Test/x").unwrap();
    assert_eq!(
        (&*u.scheme, u.port, u.host.as_str()),
        ("https", 443, "Api.Test")
    );
    let u = Url::parse("Http://h:8080/").unwrap();
    assert_eq!((&*u.scheme, u.port), ("http", 8080));
    let u = Url::parse("WS://h/").unwrap();
    assert_eq!((&*u.scheme, u.port), ("ws", 80));
    assert!(matches!(u.scheme, std::borrow::Cow::Owned(_)));
}

#[test]
fn backend_is_null_until_set_and_reads_what_is_set_now() {
    let engine = crate::engine(&crate::Limits::default());
    let c = ctx();
    let read = |src: &str| {
        let mut scope = rhai::Scope::new();
        scope.push("context", c.clone());
        match engine.eval_with_scope::<Dynamic>(&mut scope, src) {
            Ok(v) if v.is_unit() => "null".to_owned(),
            Ok(v) => v.to_string(),
            Err(e) => crate::testing::failure(&e),
        }
    };
    assert_eq!(read("context.Backend"), "null");
    c.set_backend(Some(
        Record::new("IBackend")
            .with("Id", "pool")
            .with("Type", "Pool")
            .with("AzureRegion", Dynamic::UNIT),
    ));
    assert_eq!(read("context.Backend.Id"), "pool");
    assert_eq!(read("context.Backend.Type"), "Pool");
    assert_eq!(read("context.Backend.AzureRegion"), "null");
    c.set_backend(None);
    assert_eq!(read("context.Backend"), "null");
}
