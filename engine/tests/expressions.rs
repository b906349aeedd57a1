//! Policy expressions end to end: C# text → parse → translate → compile
//! against the .NET library → evaluate with a `context`. Expected values are
//! worked out by hand from .NET's documented behaviour and the APIM docs
//! (apim-core.md §6–§10).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly"
)]

use std::sync::OnceLock;

use rhai::{Dynamic, Engine};
use sluice_engine::script::Compiler;
use sluice_engine::source::{Source, Span};
use sluice_engine::value::classify;
use sluice_engine::xml::Text;
use sluice_stdlib::Limits;
use sluice_stdlib::context::{
    Body, Context, ContextData, Message, MessageRef, Multimap, Record, Url,
};

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| sluice_stdlib::engine(&Limits::default()))
}

fn context() -> Context {
    let mut headers = Multimap::default();
    headers.append("User-Agent", "Mozilla/5.0 (iPad; CPU OS 17_0)");
    headers.append("Authorization", "Basic YWxpY2U6c2VjcmV0");
    headers.append("Cache-Control", "public, max-age=600");
    let request = Message {
        method: "POST".into(),
        url: Url::parse("https://contoso.test/api/partners/15?version=2013-05&x=1").unwrap(),
        original_url: Url::parse("https://contoso.test/api/partners/15?version=2013-05&x=1")
            .unwrap(),
        headers: headers.clone(),
        body: Some(Body {
            bytes: br#"{"name":"widget","price":2.5,"tags":["a","b"]}"#.to_vec().into(),
            consumed: false,
        }),
        ip: "13.66.140.130".into(),
        ..Message::default()
    };
    let response = Message {
        status: 200,
        headers,
        ..Message::default()
    };
    let ctx = Context::new(ContextData {
        request: MessageRef::new(request),
        response: MessageRef::new(response),
        product: Some(
            Record::new("IProduct")
                .with("Name", "Starter")
                .with("Id", "starter"),
        ),
        user: Some(
            Record::new("IUser")
                .with("Id", "alice")
                .with("Email", "alice@contoso.test"),
        ),
        deployment: Some(Record::new("IDeployment").with("Region", "West US")),
        request_id: uuid::uuid!("0f8fad5b-d9cb-469f-a165-70867728950e"),
        timestamp_ms: 1_700_000_000_000,
        ..ContextData::default()
    });
    ctx.variables(|v| {
        v.insert("maxAge".into(), Dynamic::from("600"));
        v.insert("isMobile".into(), Dynamic::from_bool(true));
        v.insert("count".into(), Dynamic::from_int(3));
    });
    ctx
}

/// The value of an expression as .NET would print it, or `!Type: message`.
fn eval(expr: &str) -> String {
    let src = Source::new("p.xml", expr);
    let text = Text::verbatim(expr, Span::new(0, expr.len()));
    let compiler = Compiler::new(engine());
    let compiled = match compiler.compile(&classify(text)) {
        Ok(Some(c)) => c,
        Ok(None) => return format!("literal: {expr}"),
        Err(errs) => {
            let (_, e) = &errs[0];
            let lc = src.line_col(e.span.start);
            return format!("compile error at {}:{}: {}", lc.line, lc.col, e.message);
        }
    };
    match sluice_stdlib::eval::evaluate(
        engine(),
        &compiled.ast,
        &context(),
        1_700_000_001_500,
        &Limits::default(),
    ) {
        Ok(v) => sluice_stdlib::core::primitive_string(&v)
            .unwrap_or_else(|| format!("<{}>", v.type_name())),
        Err(f) => format!("!{}: {}", f.exception, f.message),
    }
}

#[test]
fn documented_examples() {
    // apim-core.md §6.2
    assert_eq!(eval("@(true)"), "True");
    assert_eq!(eval("@((1+1).ToString())"), "2");
    assert_eq!(eval(r#"@("Hi There".Length)"#), "8");
    assert_eq!(
        eval(
            r#"@(Regex.Match(context.Response.Headers.GetValueOrDefault("Cache-Control",""), @"max-age=(?<maxAge>\d+)").Groups["maxAge"]?.Value)"#
        ),
        "600"
    );
    assert_eq!(
        eval(
            r#"@(context.Variables.ContainsKey("maxAge") ? int.Parse((string)context.Variables["maxAge"]) : 3600)"#
        ),
        "600"
    );
    assert_eq!(
        eval(
            r#"@{ string[] value; if (context.Request.Headers.TryGetValue("Authorization", out value)) { if (value != null && value.Length > 0) { return Encoding.UTF8.GetString(Convert.FromBase64String(value[0].Substring(6))); } } return null; }"#
        ),
        "alice:secret"
    );
    // choose-policy.md: isMobile from User-Agent
    assert_eq!(
        eval(
            r#"@(context.Request.Headers.GetValueOrDefault("User-Agent","").Contains("iPad") || context.Request.Headers.GetValueOrDefault("User-Agent","").Contains("iPhone"))"#
        ),
        "True"
    );
    assert_eq!(
        eval(r#"@(context.Variables.GetValueOrDefault<bool>("isMobile"))"#),
        "True"
    );
    // Not read as `GetValueOrDefault<T>`: a name and a string default.
    assert_eq!(
        eval(r#"@(context.Variables.GetValueOrDefault("missing", ""))"#),
        ""
    );
    assert_eq!(
        eval(r#"@(context.Variables.GetValueOrDefault("missing", "none"))"#),
        "none"
    );
    // set-backend-service example: query lookup
    assert_eq!(
        eval(r#"@(context.Request.Url.Query.GetValueOrDefault("version") == "2013-05")"#),
        "True"
    );
    // choose example 2
    assert_eq!(
        eval(r#"@(context.Response.StatusCode == 200 && context.Product.Name.Equals("Starter"))"#),
        "True"
    );
}

#[test]
fn context_members() {
    assert_eq!(eval("@(context.Request.Method)"), "POST");
    assert_eq!(eval("@(context.Request.IpAddress)"), "13.66.140.130");
    assert_eq!(
        eval("@(context.Request.Url.Path + context.Request.Url.QueryString)"),
        "/api/partners/15?version=2013-05&x=1"
    );
    assert_eq!(eval("@(context.User.Id)"), "alice");
    assert_eq!(eval("@(context.Subscription?.Id ?? \"none\")"), "none");
    assert_eq!(eval("@(context.Deployment.Region)"), "West US");
    assert_eq!(
        eval("@(context.RequestId.ToString())"),
        "0f8fad5b-d9cb-469f-a165-70867728950e"
    );
    assert_eq!(eval("@(context.Elapsed.TotalMilliseconds)"), "1500");
    assert_eq!(
        eval(r#"@(context.Request.Body.As<JObject>(preserveContent: true)["name"].ToString())"#),
        "widget"
    );
    assert_eq!(
        eval(r#"@((string)context.Request.Body.As<JObject>()["name"])"#),
        "widget"
    );
}

#[test]
fn conversions_and_strict_casts() {
    assert_eq!(eval(r#"@((int)context.Variables["count"])"#), "3");
    assert_eq!(
        eval(r#"@((int)context.Variables["maxAge"])"#),
        "!InvalidCastException: Unable to cast object of type 'System.String' to type 'System.Int32'."
    );
    assert_eq!(
        eval(r#"@(Convert.ToInt32(context.Variables["maxAge"]))"#),
        "600"
    );
    assert_eq!(eval("@((int)3.99)"), "3");
    // A TimeSpan's total is a double: `(int)` converts it (the corpus' Relay token).
    assert_eq!(
        eval(
            "@((int)(new DateTime(1970, 1, 1, 0, 1, 40) - new DateTime(1970, 1, 1)).TotalSeconds + 3600)"
        ),
        "3700"
    );
    assert_eq!(
        eval("@{ TimeSpan s = TimeSpan.FromMilliseconds(2500); return (long)s.TotalSeconds; }"),
        "2"
    );
    assert_eq!(eval("@(7 / 2)"), "3");
    assert_eq!(eval("@(7 / 2.0)"), "3.5");
    assert_eq!(eval(r#"@("n=" + 1.5 + true)"#), "n=1.5True");
    assert_eq!(
        eval(r#"@(context.Variables.GetValueOrDefault<int>("maxAge", 0))"#),
        "!InvalidCastException: Unable to cast object of type 'System.String' to type 'System.Int32'."
    );
}

#[test]
fn failures_are_exceptions() {
    assert_eq!(
        eval(r#"@(context.Variables["missing"])"#),
        "!KeyNotFoundException: The given key 'missing' was not present in the dictionary."
    );
    assert_eq!(
        eval(r#"@(context.Subscription.Id)"#),
        "!NullReferenceException: Object reference not set to an instance of an object."
    );
    assert!(eval(r#"@(int.Parse("abc"))"#).starts_with("!FormatException"));
    assert_eq!(
        eval(r#"@{ try { return int.Parse("x"); } catch (FormatException) { return -1; } }"#),
        "-1"
    );
    assert_eq!(
        eval(r#"@{ throw new Exception("boom"); }"#),
        "!Exception: boom"
    );
}

#[test]
fn unsupported_members_are_load_errors_with_positions() {
    assert_eq!(
        eval("@(JObject.Nope())"),
        "compile error at 1:3: `JObject.Nope` is not supported"
    );
    assert_eq!(
        eval("@(Frobnicator.Go())"),
        "compile error at 1:3: the type `Frobnicator` is not supported"
    );
    assert_eq!(
        eval("@(\"x\".Frobnicate())"),
        "compile error at 1:7: the method `.Frobnicate()` is not supported on any type"
    );
}

#[test]
fn sandbox_bounds_are_failures() {
    let r = eval("@{ var i = 0; while (true) { i++; } return i; }");
    assert!(r.starts_with("!Sandbox"), "{r}");
}

#[test]
fn local_functions_capture_and_call_each_other() {
    assert_eq!(
        eval(
            "@{ int total = 0; void Add(int n) { total += Twice(n); } int Twice(int x) => x * 2; Add(1); Add(2); return total; }"
        ),
        "6"
    );
    assert_eq!(
        eval("@{ int Fact(int n) { return n <= 1 ? 1 : n * Fact(n - 1); } return Fact(5); }"),
        "120"
    );
}

#[test]
fn statements_and_linq() {
    assert_eq!(
        eval(r#"@{ var s = ""; foreach (var c in "abc") { s += c; } return s; }"#),
        "abc"
    );
    assert_eq!(
        eval(
            "@{ int n = 0; for (int i = 0; i < 5; i++) { if (i == 2) continue; n += i; } return n; }"
        ),
        "8"
    );
    assert_eq!(
        eval(r#"@(new [] {"b", "a", "c"}.OrderBy(x => x).First())"#),
        "a"
    );
    assert_eq!(
        eval(r#"@(new List<int> { 1, 2, 3 }.Where(x => x > 1).Sum())"#),
        "5"
    );
    assert_eq!(
        eval(r#"@(string.Join(",", new [] {1, 2}.Select(x => x * 10)))"#),
        "10,20"
    );
    assert_eq!(
        eval(
            r#"@{ switch (context.Request.Method) { case "GET": return 1; case "POST": return 2; default: return 0; } }"#
        ),
        "2"
    );
    assert_eq!(
        eval(r#"@(JsonConvert.SerializeObject(new { typ = "JWT", alg = "HS256" }))"#),
        r#"{"typ":"JWT","alg":"HS256"}"#
    );
    assert_eq!(eval(r#"@($"{1.5:N2}|{42,5}|{true}")"#), "1.50|   42|True");
}

#[test]
fn runtime_errors_point_into_the_policy() {
    let expr = "@(context.Variables[\"a\"].ToString())";
    let text = Text::verbatim(expr, Span::new(0, expr.len()));
    let compiled = Compiler::new(engine())
        .compile(&classify(text))
        .unwrap()
        .unwrap();
    let failure =
        sluice_stdlib::eval::evaluate(engine(), &compiled.ast, &context(), 0, &Limits::default())
            .unwrap_err();
    assert_eq!(failure.exception, "KeyNotFoundException");
    let span = compiled.locate(failure.position);
    // The failing indexer is inside the expression, not at its start.
    assert!(span.start >= 2 && span.end <= expr.len(), "{span:?}");
    assert!(
        expr[span.start..span.end].contains("Variables")
            || expr[span.start..span.end].contains("context"),
        "{}",
        &expr[span.start..span.end]
    );
}
