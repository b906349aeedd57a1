//! The rhai generated for each language feature, snapshotted so that changes
//! to the translation show in review.

use super::*;
use crate::expr::{parse_block, parse_expression};
use crate::source::Span;
use crate::xml::Text;

fn tr(src: &str) -> String {
    let text = Text::verbatim(src, Span::new(0, src.len()));
    let t = if src.starts_with("@(") {
        translate_expression(&parse_expression(&text).unwrap())
    } else {
        translate_block(&parse_block(&text).unwrap())
    };
    match t {
        Ok(t) => t.code,
        Err(e) => format!("error at {}..{}: {}", e.span.start, e.span.end, e.message),
    }
}

macro_rules! snap {
    ($name:ident, $($src:expr),+ $(,)?) => {
        #[test]
        fn $name() {
            let out: Vec<String> = [$($src),+].iter().map(|s| format!("{s}\n=> {}", tr(s))).collect();
            insta::assert_snapshot!(out.join("\n\n"));
        }
    };
}

snap!(
    literals,
    "@(true)",
    "@(null)",
    "@(42)",
    "@(1.5)",
    "@(2d)",
    r#"@("a\"b\n")"#,
    r#"@(@"C:\x ""q""")"#,
    "@('c')",
);

snap!(
    members_and_statics,
    r#"@(context.Request.Headers.GetValueOrDefault("User-Agent", ""))"#,
    "@(context.Request.Url.Path)",
    r#"@(System.Text.Encoding.UTF8.GetBytes("x"))"#,
    r#"@(Convert.ToBase64String(context.Variables["b"]))"#,
    r#"@(string.IsNullOrEmpty("a"))"#,
    "@(DateTime.UtcNow)",
    r#"@(int.Parse("5"))"#,
);

snap!(
    generics_named_arguments_and_null_conditionals,
    "@(context.Request.Body.As<JObject>(preserveContent: true))",
    r#"@(context.Variables.GetValueOrDefault<bool>("isMobile"))"#,
    r#"@(context.Request.Headers.GetValueOrDefault("a")?.Split(',')?[0] ?? "none")"#,
);

snap!(
    operators,
    "@(1 + 2 * 3)",
    r#"@("a" + 1)"#,
    "@(context.Response.StatusCode >= 200 && context.Response.StatusCode < 400)",
    r#"@(context.Request.Method == "POST")"#,
    "@(1 == 1)",
    "@(!(~5 > 0) ? 1 : 2)",
    "@(context.Variables ?? context.Api)",
);

snap!(
    casts_is_as,
    r#"@((string)context.Variables["x"])"#,
    "@((int)3.7)",
    r#"@((int)context.Variables["n"])"#,
    "@(context.Variables is string)",
    "@(context.User as JObject)",
    "@(context.User is null)",
);

snap!(
    interpolation,
    r#"@($"token={(string)context.Variables["token"]}")"#,
    r#"@($"{context.Elapsed:N2} ms {context.RequestId,10}")"#,
);

snap!(
    creation,
    r#"@(new JObject(new JProperty("a", 1)).ToString())"#,
    r#"@(new [] {"a", "b"})"#,
    r#"@(new { typ = "JWT", alg = "HS256" })"#,
    r#"@(new List<string> { "a", "b" })"#,
    r#"@(new Dictionary<string, int> { { "a", 1 } })"#,
    r#"@(new Dictionary<string, int> { ["b"] = 2 })"#,
    "@(new byte[] { 1, 2 })",
);

snap!(
    lambdas_and_linq,
    r#"@(context.Request.Headers.Any(h => h.Key.StartsWith("x-")))"#,
    "@(context.Variables.Select((x, i) => x).ToList())",
    // Inside a lambda, `context` is not captured (a data race to rhai when
    // the chain around the lambda starts at `context`).
    "@(context.Request.Headers.Any(h => h.Value[0] == context.Request.Method))",
);

snap!(
    statements,
    r#"@{ string[] value; if (context.Request.Headers.TryGetValue("Authorization", out value)) { if (value != null && value.Length > 0) { return Encoding.UTF8.GetString(Convert.FromBase64String(value[0])); } } return null; }"#,
    r#"@{ var s = ""; foreach (var h in context.Request.Headers) { s += h.Key; } return s; }"#,
    "@{ int n = 0; for (int i = 0; i < 3; i++) { if (i == 1) continue; n += i; } return n; }",
    "@{ var i = 0; while (i < 2) { i++; } do { i--; } while (i > 0); return i; }",
    r#"@{ if (context.Variables.TryGetValue("x", out var v)) return v; else if (v is string s) return s; return ""; }"#,
);

snap!(
    exceptions_and_using,
    r#"@{ try { return int.Parse("x"); } catch (FormatException e) { return e.Message; } catch { return "other"; } }"#,
    r#"@{ using (var sha = SHA256.Create()) { return sha.ComputeHash(new byte[] { 1 }); } }"#,
    r#"@{ throw new Exception("boom"); }"#,
);

snap!(
    switch_and_local_functions,
    r#"@{ switch (context.Request.Method) { case "GET": case "HEAD": return 1; case "POST": return 2; default: return 0; } }"#,
    "@{ int Twice(int x) => x * 2; return Twice(2); }",
);

snap!(
    unsupported_constructs,
    "@(typeof(string))",
    "@(x)",
    "@(context.Foo(i++))",
);

#[test]
fn positions_map_to_the_policy_file() {
    let src = r#"@(context.Variables["a"].ToString().Length)"#;
    let text = Text::verbatim(src, Span::new(100, 100 + src.len()));
    let t = translate_expression(&parse_expression(&text).unwrap()).unwrap();
    // `.Length` in the generated code maps back to `Length` in the policy.
    let col = t.code.find("Length").unwrap() + 1;
    let span = t.map.lookup(1, col).unwrap();
    assert_eq!(&src[span.start - 100..span.end - 100], "Length");
}
