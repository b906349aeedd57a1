//! Evaluating typical policy expressions, against two baselines run in the
//! same process: the same logic written by hand in rhai (what the translator
//! could at best produce) and as a native Rust closure.
//!
//! `cargo bench -p sluice-benches --bench expressions`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails loudly"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use rhai::{Dynamic, Scope};
use sluice_engine::script::Compiler;
use sluice_engine::source::Span;
use sluice_engine::value::classify;
use sluice_engine::xml::Text;
use sluice_stdlib::Limits;
use sluice_stdlib::context::{Body, Context, ContextData, Message, MessageRef, Multimap, Url};

fn context() -> Context {
    let mut headers = Multimap::default();
    headers.append("User-Agent", "Mozilla/5.0 (iPhone)");
    let request = Message {
        method: "POST".into(),
        url: Url::parse("https://api.test/echo/1").unwrap(),
        headers,
        body: Some(Body {
            bytes: br#"{"model":"gpt-4o","n":1}"#.to_vec().into(),
            consumed: false,
        }),
        ..Message::default()
    };
    let ctx = Context::new(ContextData {
        request: MessageRef::new(request),
        ..ContextData::default()
    });
    ctx.variables(|v| {
        v.insert("isMobile".into(), Dynamic::from_bool(true));
        v.insert("tier".into(), Dynamic::from("gold"));
    });
    ctx
}

const CASES: &[(&str, &str, &str)] = &[
    (
        "header lookup with default",
        r#"@(context.Request.Headers.GetValueOrDefault("User-Agent", ""))"#,
        r#"context.Request.Headers.GetValueOrDefault("User-Agent", "")"#,
    ),
    (
        "json body field",
        r#"@((string)context.Request.Body.As<JObject>(preserveContent: true)["model"])"#,
        r#"context.Request.Body.As("JObject", true)["model"]"#,
    ),
    (
        "ternary over variables",
        r#"@(context.Variables.GetValueOrDefault<bool>("isMobile") ? "m" : (string)context.Variables["tier"])"#,
        r#"if context.Variables.GetValueOrDefault__of("Boolean", "isMobile") { "m" } else { context.Variables["tier"] }"#,
    ),
    (
        "string interpolation",
        r#"@($"{context.Request.Method} {context.Request.Url.Path}")"#,
        r#"context.Request.Method + " " + context.Request.Url.Path"#,
    ),
];

fn native(i: usize, ctx: &Context) -> String {
    match i {
        0 => ctx.0.request.read(|m| {
            m.headers
                .get("User-Agent")
                .map(|v| v.join(","))
                .unwrap_or_default()
        }),
        1 => ctx.0.request.read(|m| {
            let body = m.body.as_ref().map(|b| b.bytes.clone()).unwrap_or_default();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            v["model"].as_str().unwrap_or("").to_owned()
        }),
        2 => ctx.variables(|v| {
            if v.get("isMobile")
                .and_then(|x| x.as_bool().ok())
                .unwrap_or(false)
            {
                "m".to_owned()
            } else {
                v.get("tier").map(|x| x.to_string()).unwrap_or_default()
            }
        }),
        _ => ctx
            .0
            .request
            .read(|m| format!("{} {}", m.method, m.url.path)),
    }
}

fn expressions(c: &mut Criterion) {
    let limits = Limits::default();
    let engine = sluice_stdlib::engine(&limits);
    let compiler = Compiler::new(&engine);
    let ctx = context();
    for (i, (name, csharp, rhai_src)) in CASES.iter().enumerate() {
        let text = Text::verbatim(csharp, Span::new(0, csharp.len()));
        let compiled = compiler.compile(&classify(text)).unwrap().unwrap();
        let mut scope = Scope::new();
        scope.push("context", ctx.clone());
        let hand = engine.compile_with_scope(&scope, rhai_src).unwrap();
        let mut g = c.benchmark_group(*name);
        g.bench_function("sluice", |b| {
            b.iter(|| {
                sluice_stdlib::eval::evaluate(&engine, &compiled.ast, &ctx, 0, &limits).unwrap()
            })
        });
        g.bench_function("hand-written rhai", |b| {
            b.iter(|| {
                let mut scope = Scope::new();
                scope.push("context", ctx.clone());
                engine
                    .eval_ast_with_scope::<Dynamic>(&mut scope, &hand)
                    .unwrap()
            })
        });
        g.bench_function("native rust", |b| b.iter(|| native(i, &ctx)));
        g.finish();
    }
}

criterion_group!(benches, expressions);
criterion_main!(benches);
