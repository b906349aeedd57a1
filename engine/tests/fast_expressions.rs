//! The native evaluation of expressions (`sluice_stdlib::fast`) gives what
//! rhai gives: for every expression of the corpus and of the list below
//! that has a native form, on several contexts (rich, empty, odd types),
//! whenever the native form answers, rhai answers the same value of the same
//! type; whenever rhai throws, the native form declines.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly"
)]

mod support;

use rhai::Dynamic;
use sluice_engine::script::{Compiled, Compiler};
use sluice_engine::source::Span;
use sluice_engine::value::{Value, classify};
use sluice_engine::xml::Text;
use sluice_stdlib::Limits;
use sluice_stdlib::context::{Context, ContextData, Message, MessageRef, Multimap, Record, Url};

/// Expressions that must have a native form (the forms of `engine/src/fast.rs`).
const NATIVE: &[&str] = &[
    r#"@(context.Request.Headers.GetValueOrDefault("X-Client", "anonymous"))"#,
    r#"@(context.Request.Headers.GetValueOrDefault("Accept"))"#,
    r#"@(context.Response.Headers.GetValueOrDefault("Content-Type", ""))"#,
    r#"@(context.Request.Url.Query.GetValueOrDefault("color", "") == "blue")"#,
    r#"@(context.Request.Url.Query.GetValueOrDefault("missing"))"#,
    r#"@(context.Request.MatchedParameters["id"])"#,
    r#"@(context.Request.MatchedParameters["nope"])"#,
    r#"@(context.Request.MatchedParameters.GetValueOrDefault("ID", "none"))"#,
    r#"@((string)context.Variables["client"] + "/" + (string)context.Variables["tier"])"#,
    r#"@((string)context.Variables["count"])"#,
    r#"@((string)context.Variables["missing"])"#,
    r#"@(context.Variables["count"])"#,
    r#"@(context.Variables.GetValueOrDefault("missing"))"#,
    r#"@(context.Variables.GetValueOrDefault("missing", "d"))"#,
    r#"@(context.Variables.GetValueOrDefault<string>("client"))"#,
    r#"@(context.Variables.GetValueOrDefault<string>("count"))"#,
    r#"@(context.Variables.GetValueOrDefault<string>("missing", "fallback"))"#,
    r#"@(context.Variables.GetValueOrDefault<int>("count"))"#,
    r#"@(context.Variables.GetValueOrDefault<int>("missing"))"#,
    r#"@(context.Variables.GetValueOrDefault<bool>("flag"))"#,
    r#"@(context.Variables.GetValueOrDefault<bool>("missing"))"#,
    r#"@(context.RequestId.ToString())"#,
    r#"@(context.Api.Name + "/" + context.Operation.Name)"#,
    r#"@(context.Subscription.Id)"#,
    r#"@(context.User.Email)"#,
    r#"@(context.Product.Name == "Starter")"#,
    r#"@(context.Deployment.Region)"#,
    r#"@(context.Request.Method == "POST" || context.Request.Method == "PUT")"#,
    r#"@(context.Request.Method != "GET" && !context.Request.Url.Path.StartsWith("/health"))"#,
    r#"@(context.Request.Url.Host + context.Request.Url.Path)"#,
    r#"@(context.Request.Url.Scheme)"#,
    r#"@(context.Request.IpAddress)"#,
    r#"@(context.Response.StatusCode == 200)"#,
    r#"@(context.Response.StatusCode + 1)"#,
    r#"@("code " + context.Response.StatusCode)"#,
    r#"@(context.Response.StatusCode.ToString())"#,
    r#"@(context.Request.Headers.GetValueOrDefault("User-Agent", "").Contains("iPad"))"#,
    r#"@(context.Request.Headers.GetValueOrDefault("User-Agent", "").ToLower().EndsWith("0)"))"#,
    r#"@(context.Request.Headers.GetValueOrDefault("X-Client", "").ToUpper())"#,
    r#"@(context.Request.Headers.GetValueOrDefault("Missing") == null ? "none" : "some")"#,
    r#"@(context.Variables.GetValueOrDefault("flag") == true)"#,
    r#"@(context.Variables["count"] == 3)"#,
    r#"@(context.Variables["count"] == "3")"#,
    r#"@(context.Variables["client"].ToString())"#,
    r#"@(context.Variables["flag"].ToString() + null)"#,
    r#"@(1 + 2 == 3)"#,
    r#"@(true ? "yes" : "no")"#,
    r#"@("a" + 1 + true)"#,
];

fn engine() -> &'static rhai::Engine {
    static E: std::sync::OnceLock<rhai::Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| sluice_stdlib::engine(&Limits::default()))
}

fn request(headers: Multimap, url: &str, matched: Vec<(String, String)>) -> Message {
    Message {
        method: "POST".into(),
        url: Url::parse(url).unwrap(),
        original_url: Url::parse(url).unwrap(),
        headers,
        ip: "10.1.2.3".into(),
        matched,
        ..Message::default()
    }
}

/// A context with everything the expressions read.
fn rich() -> Context {
    let mut h = Multimap::default();
    h.append("X-Client", "bench-1");
    h.append("Accept", "application/json");
    h.append("Accept", "text/plain");
    h.append("User-Agent", "Mozilla/5.0 (iPad; CPU OS 17_0)");
    let mut rh = Multimap::default();
    rh.append("Content-Type", "application/json");
    let ctx = Context::new(ContextData {
        request: MessageRef::new(request(
            h,
            "https://contoso.test/api/items/42?color=blue&color=red",
            vec![("id".into(), "42".into()), ("Id".into(), "43".into())],
        )),
        response: MessageRef::new(Message {
            status: 200,
            headers: rh,
            ..Message::default()
        }),
        api: Some(
            Record::new("IApi")
                .with("Name", "catalog")
                .with("Id", "catalog"),
        ),
        operation: Some(Record::new("IOperation").with("Name", "get-item")),
        product: Some(Record::new("IProduct").with("Name", "Starter")),
        subscription: Some(Record::new("ISubscription").with("Id", "sub-1")),
        user: Some(Record::new("IUser").with("Email", "a@contoso.test")),
        deployment: Some(Record::new("IDeployment").with("Region", "West US")),
        request_id: uuid::uuid!("0f8fad5b-d9cb-469f-a165-70867728950e"),
        ..ContextData::default()
    });
    ctx.variables(|v| {
        v.insert("client".into(), Dynamic::from("bench-1"));
        v.insert("tier".into(), Dynamic::from("gold"));
        v.insert("count".into(), Dynamic::from_int(3));
        v.insert("flag".into(), Dynamic::from_bool(true));
    });
    ctx
}

/// Nothing there: no headers, variables or records; the nil id.
fn empty() -> Context {
    Context::new(ContextData {
        request: MessageRef::new(request(
            Multimap::default(),
            "http://contoso.test/",
            Vec::new(),
        )),
        ..ContextData::default()
    })
}

/// Variables of unexpected types, records without the usual fields.
fn odd() -> Context {
    let ctx = Context::new(ContextData {
        request: MessageRef::new(request(
            Multimap::default(),
            "http://contoso.test/health?color=",
            vec![("id".into(), String::new())],
        )),
        response: MessageRef::new(Message {
            status: 404,
            ..Message::default()
        }),
        api: Some(Record::new("IApi")),
        request_id: uuid::uuid!("ffffffff-0000-4000-8000-00000000000a"),
        ..ContextData::default()
    });
    ctx.variables(|v| {
        v.insert("client".into(), Dynamic::from_int(7));
        v.insert("tier".into(), Dynamic::UNIT);
        v.insert("count".into(), Dynamic::from("3"));
        v.insert("flag".into(), Dynamic::from("true"));
        v.insert("missing".into(), Dynamic::from_float(1.5));
    });
    ctx
}

fn compile(compiler: &Compiler<'_>, expr: &str) -> Option<Compiled> {
    let text = Text::verbatim(expr, Span::new(0, expr.len()));
    compiler.compile(&classify(text)).ok().flatten()
}

/// A value as a comparable text: its .NET type and its `ToString()`.
fn show(v: &Dynamic) -> String {
    format!(
        "{}:{}",
        sluice_stdlib::core::dotnet_type(v),
        sluice_stdlib::core::primitive_string(v).unwrap_or_else(|| format!("{v:?}"))
    )
}

/// Compares both evaluations on every context; the number of native answers.
fn compare(c: &Compiled, what: &str, failures: &mut String) -> usize {
    let Some(fast) = &c.fast else { return 0 };
    let limits = Limits::default();
    let mut answered = 0;
    for (name, ctx) in [("rich", rich()), ("empty", empty()), ("odd", odd())] {
        let native = fast.eval(&ctx, &limits);
        let rhai = sluice_stdlib::eval::evaluate(engine(), &c.ast, &ctx, 0, &limits);
        match (native, rhai) {
            (None, _) => {}
            (Some(n), Ok(r)) => {
                answered += 1;
                if show(&n) != show(&r) {
                    failures.push_str(&format!(
                        "{what} on {name}: native {} but rhai {}\n",
                        show(&n),
                        show(&r)
                    ));
                }
            }
            (Some(n), Err(f)) => failures.push_str(&format!(
                "{what} on {name}: native {} but rhai throws {}: {}\n",
                show(&n),
                f.exception,
                f.message
            )),
        }
    }
    answered
}

#[test]
fn native_forms_agree_with_rhai() {
    let compiler = Compiler::new(engine());
    let mut failures = String::new();
    let mut answered = 0;
    for expr in NATIVE {
        let c = compile(&compiler, expr).unwrap_or_else(|| panic!("{expr} does not compile"));
        assert!(c.fast.is_some(), "{expr} has no native form");
        answered += compare(&c, expr, &mut failures);
    }
    assert!(failures.is_empty(), "{failures}");
    // Most answer natively; the rest (missing keys, odd types) decline.
    assert!(answered > NATIVE.len() * 2, "{answered} native answers");
}

#[test]
fn forms_outside_the_native_set_have_none() {
    let compiler = Compiler::new(engine());
    for expr in [
        r#"@(context.Request.Headers.GetValueOrDefault("a")?.Split(',')[0])"#,
        r#"@(context.Request.Body.As<string>())"#,
        r#"@(DateTime.UtcNow.ToString())"#,
        r#"@(context.Variables.GetValueOrDefault<JObject>("j"))"#,
        r#"@(context.Request.Headers["Accept"])"#,
        r#"@(context.Trace("x"))"#,
        r#"@{ return "x"; }"#,
    ] {
        let c = compile(&compiler, expr).unwrap_or_else(|| panic!("{expr} does not compile"));
        assert!(c.fast.is_none(), "{expr} has a native form");
    }
}

#[test]
fn corpus_expressions_with_a_native_form_agree_with_rhai() {
    let compiler = Compiler::new(engine());
    let (mut expressions, mut native) = (0, 0);
    let mut failures = String::new();
    for f in support::corpus() {
        let (file, all) = (f.name, f.values);
        for t in all {
            let v = classify(t);
            if !matches!(v, Value::Expression(_)) {
                continue;
            }
            let Ok(Some(c)) = compiler.compile(&v) else {
                continue;
            };
            expressions += 1;
            if c.fast.is_some() {
                native += 1;
                let what = format!("{file}: {}", v.text().value);
                compare(&c, &what, &mut failures);
            }
        }
    }
    println!("{native} of {expressions} corpus expressions have a native form");
    assert!(failures.is_empty(), "{failures}");
    assert!(expressions > 300, "corpus not found: {expressions}");
    assert!(native > 100, "only {native} native forms");
}
