//! Every native function of the expression library, called with large
//! arguments under the sandbox's limits: each must end in time linear in
//! its input (or fail with a limit error), and none may hold memory beyond a
//! small multiple of its input.
//!
//! # How it works
//!
//! The functions are not listed here: the test reads every signature the
//! engine has registered (`gen_fn_signatures`), so a native added tomorrow
//! is called tomorrow. Arguments are built per parameter TYPE, from
//! [`builder`]: a rhai expression per type (and per [`Profile`], for the
//! types whose value decides the work: `string`, `i64`, `Dynamic`, ...)
//! over the scope's large values (`S` text, `J` a JSON object, `JA` a JSON
//! array, `X` an XML document, `Q` a query string, `A` an array, `B` a
//! blob, `CTX` a context whose request has a large body).
//!
//! Each call runs at input size `n`; one that takes more than
//! [`CHEAP`] runs again at `4n`, and must take less than [`MAX_RATIO`]
//! times as long (a quadratic native takes 16 times as long). Every call
//! must end within [`CEILING`], and hold less than [`memory_bound`] at its
//! peak (a counting global allocator measures it). Failing is fine (a .NET
//! exception, a sandbox limit): what counts is that it ends, soon, small.
//! A call that grows faster than linearly passes only if, run again at `4n`
//! under the gateway's wall-time budget ([`BUDGET`]), it stops with the
//! budget's error soon after the budget is spent (the natives that observe
//! it: `Split` with many separators, lambdas called per element).
//!
//! It takes about two minutes in a debug build; `NATIVES_FILTER=Regex,Split`
//! runs the signatures holding either word, `NATIVES_VERBOSE=1` prints each.
//!
//! # Adding a row
//!
//! - A native whose parameter types all have a builder needs nothing.
//! - A new parameter type makes the test fail with `no builder for type
//!   `T``: add an arm to [`builder`], a rhai expression that makes a large
//!   `T` (from `S`, `J`, `X`, `A`, ... when `T` holds data).
//! - A native that only does real work with particular arguments (a
//!   pattern, a format string) gets an arm in [`overrides`]: its name and
//!   arity, and the expression of each argument.

use std::cell::Cell;
use std::time::{Duration, Instant};

use peak_alloc::PeakAlloc;
use rhai::{Dynamic, Engine, EvalAltResult, Scope};
use sluice_stdlib::context::{Body, Context, ContextData, Message, MessageRef, Multimap, Url};
use sluice_stdlib::core::EvalScope;

#[global_allocator]
static PEAK: PeakAlloc = PeakAlloc;

/// Input size of the first run, in bytes of text (and elements / 16 of arrays).
const N: usize = 16 << 10;
/// A call this fast at `n` is linear enough (a quadratic native over `n`
/// bytes takes seconds).
const CHEAP: Duration = Duration::from_millis(25);
/// `t(4n) / t(n)` at most (linear: 4, `n log n`: about 4.5, quadratic: 16).
const MAX_RATIO: f64 = 9.0;
/// No call takes longer, at either size (a debug build).
const CEILING: Duration = Duration::from_secs(5);

/// The sandbox of the test: smaller than the gateway's, so that a native
/// that ignores it shows.
fn limits() -> sluice_stdlib::Limits {
    sluice_stdlib::Limits {
        max_string_size: 1 << 20,
        max_array_size: 20_000,
        max_map_size: 20_000,
        // Long enough for every native to run to its end: the test measures
        // how long that takes (the budget's own test is below).
        wall_time: Duration::from_secs(60),
        ..sluice_stdlib::Limits::default()
    }
}

/// Peak memory a call may add over what was live when it began: a small
/// multiple of its input (`input` bytes), plus room for a result at the
/// sandbox's string size limit.
fn memory_bound(input: usize) -> usize {
    64 * input + 8 * limits().max_string_size + (8 << 20)
}

/// What varies the arguments whose value decides the work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Profile {
    /// Text everywhere, small counts.
    Text,
    /// JSON text for strings and `Dynamic`.
    Json,
    /// XML text for strings and `Dynamic`.
    Xml,
    /// Counts of two billion.
    Huge,
    /// Counts of a million (over the array limit, under the string limit).
    Mid,
    /// Arrays for `Dynamic`, one-parameter lambdas.
    Array,
    /// Arrays for `Dynamic`, two-parameter lambdas.
    Array2,
    /// Blobs for `Dynamic`.
    Bytes,
}

const PROFILES: &[Profile] = &[
    Profile::Text,
    Profile::Json,
    Profile::Xml,
    Profile::Huge,
    Profile::Mid,
    Profile::Array,
    Profile::Array2,
    Profile::Bytes,
];

/// The rhai expression building an argument of type `ty`, or `None`: no
/// builder (the test fails, naming the type).
fn builder(ty: &str, p: Profile) -> Option<&'static str> {
    use Profile::*;
    let ty = ty.trim_start_matches("&mut ").trim();
    Some(match ty {
        "types::dynamic::Dynamic" => match p {
            Text => "S",
            Json => "J",
            Xml => "X",
            Huge => "2000000000",
            Mid => "1000000",
            Array | Array2 => "A",
            Bytes => "B",
        },
        "string" => match p {
            Json => "J",
            Xml => "X",
            _ => "S",
        },
        "i64" => match p {
            Huge => "2000000000",
            Mid => "1000000",
            _ => "3",
        },
        "f64" => match p {
            Huge => "1.0e300",
            Mid => "1.0e6",
            _ => "3.5",
        },
        "bool" => "true",
        "char" => "'é'",
        "()" => "()",
        "blob" => "B",
        "array" => "A",
        "Fn" => match p {
            Array2 => "|x, y| x",
            _ => "|x| x",
        },
        // The context, with a large request body.
        "IContext" => "CTX",
        "IMessage" => "CTX.Request",
        "IMessageBody" => "CTX.Request.Body",
        "IUrl" => "CTX.Request.Url",
        "IHeaderDictionary" => "CTX.Request.Headers",
        "IReadOnlyDictionary" => "CTX.Variables",
        "Record" => "CTX.Api",
        "ProxyError" => "CTX.LastError",
        // JSON.
        "JObject" => "JObject__Parse(J)",
        "JArray" => "JArray__Parse(JA)",
        "JProperty" => "JProperty__new(\"p\", JArray__Parse(JA))",
        "JValue" => "JValue__new(S)",
        // XML.
        "XDocument" => "XDocument__Parse(X)",
        "XElement" => "XElement__Parse(X)",
        "XText" => "XText__new(S)",
        "XComment" => "XComment__new(S)",
        "XAttribute" => "XAttribute__new(\"a\", S)",
        "XProcessingInstruction" => "XDocument__Parse(\"<?pi data?><r/>\").FirstNode",
        "XName" => "XName__Get(\"n\")",
        "XNamespace" => "XNamespace__Get(\"urn:x\")",
        "XmlReader" => "XmlReader__Create(StringReader__new(X))",
        // Text and collections.
        "StringReader" => "StringReader__new(S)",
        "StringBuilder" => "StringBuilder__new(S)",
        "List" => "List__new(\"String\", A)",
        "HashSet" => "HashSet__new(\"String\", A)",
        "Dictionary" => {
            "{ let d = Dictionary__new(\"String\", \"String\"); for x in A { d.Add(x, x); } d }"
        }
        "KeyValuePair" => "KeyValuePair__Create(S, S)",
        "NameValueCollection" => "HttpUtility__ParseQueryString(Q)",
        "OrderedEnumerable" => "OrderBy(A, |x| x)",
        "Grouping" => "First(GroupBy(A, |x| x.Length))",
        "AnonymousType" => "__anon([\"a\", \"b\"], [S, A])",
        "Exception" => "Exception__new(S)",
        "Uri" => "Uri__new(\"https://api.test/p?\" + Q)",
        "Guid" => "Guid__NewGuid()",
        // Regular expressions (a few thousand matches in `S`).
        "Regex" => "Regex__new(\"ghi|é+\")",
        "Match" => "Regex__Match(S, \"ghi\")",
        "Group" => "Regex__Match(S, \"(g)hi\").Groups[1]",
        "GroupCollection" => "Regex__Match(S, \"(g)(h)i\").Groups",
        "MatchCollection" => "Regex__Matches(S, \"ghi\")",
        // Time.
        "DateTime" => "DateTime__UtcNow()",
        "DateTimeOffset" => "DateTimeOffset__UtcNow()",
        "TimeSpan" => "TimeSpan__FromSeconds(5)",
        // Cryptography and certificates.
        "HashAlgorithm" => "SHA256Managed__new()",
        "RandomNumberGenerator" => "RandomNumberGenerator__Create()",
        "Random" => "Random__new(1)",
        "X509Certificate2" => "X509Certificate2__new(CERT)",
        "PublicKey" => "X509Certificate2__new(CERT).PublicKey",
        "X500DistinguishedName" => "X509Certificate2__new(CERT).SubjectName",
        "RSA" => "X509Certificate2__new(CERT).GetRSAPublicKey()",
        "Oid" => "Oid__new(\"1.2.840.113549.1.1.1\")",
        // Options and names.
        "Encoding" => "Encoding__UTF8()",
        "StringComparison" => "StringComparison__Ordinal()",
        "StringComparer" => "StringComparer__Ordinal()",
        "StringSplitOptions" => "StringSplitOptions__None()",
        "CultureInfo" => "CultureInfo__InvariantCulture()",
        "DateTimeKind" => "DateTimeKind__Utc()",
        "DayOfWeek" => "DayOfWeek__Friday()",
        "MidpointRounding" => "MidpointRounding__ToEven()",
        "HashAlgorithmName" => "HashAlgorithmName__SHA256()",
        "RSASignaturePadding" => "RSASignaturePadding__Pkcs1()",
        "RSAEncryptionPadding" => "RSAEncryptionPadding__Pkcs1()",
        "X509NameType" => "X509NameType__SimpleName()",
        "X509ContentType" => "X509ContentType__Cert()",
        _ => return None,
    })
}

/// Arguments for natives that only work hard with particular ones, by name
/// and arity: `None` keeps the type's builder at that position.
fn overrides(name: &str, arity: usize) -> Option<Vec<Option<&'static str>>> {
    Some(match (name, arity) {
        // A pattern that matches often, and replacements that use the
        // whole input (`$_`, `` $` ``): the old quadratic cases.
        ("Regex__Replace", 3) => vec![Some("S"), Some("\"[a-z]\""), Some("\"<$&>\"")],
        ("Regex__Matches", 2) => vec![Some("S"), Some("\"ghi\"")],
        ("Regex__Split", 2) => vec![Some("S"), Some("\"[,;]\"")],
        ("Replace", 3) => vec![None, Some("S"), Some("\"$`\"")],
        ("Matches", 2) => vec![None, Some("S")],
        ("string__Format", 2) => vec![Some("\"{0}{0}{0}\""), Some("S")],
        ("String__Format", 2) => vec![Some("\"{0}{0}{0}\""), Some("S")],
        _ => return None,
    })
}

/// A signature, parsed.
struct Sig {
    text: String,
    name: String,
    params: Vec<String>,
}

fn parse_sig(text: &str) -> Option<Sig> {
    let open = text.find('(')?;
    let close = text.rfind(") -> ").or_else(|| text.rfind(')'))?;
    let name = text[..open].trim().to_owned();
    let inner = text.get(open + 1..close)?.trim();
    let params = if inner.is_empty() {
        Vec::new()
    } else {
        inner
            .split(", ")
            .map(|p| p.trim().trim_start_matches("_:").trim().to_owned())
            .collect()
    };
    Some(Sig {
        text: text.to_owned(),
        name,
        params,
    })
}

/// The rhai of a call of `name` on `a0`, `a1`, ...
fn call_code(name: &str, arity: usize) -> String {
    let args: Vec<String> = (0..arity).map(|i| format!("a{i}")).collect();
    if let Some(prop) = name.strip_prefix("get$") {
        return format!("a0.{prop}");
    }
    if let Some(prop) = name.strip_prefix("set$") {
        return format!("a0.{prop} = a1");
    }
    if name == "index$get$" {
        return "a0[a1]".into();
    }
    if name == "index$set$" {
        return "a0[a1] = a2".into();
    }
    let ident = name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    match (ident, arity) {
        (true, _) => format!("{name}({})", args.join(", ")),
        (false, 1) => format!("{name} a0"),
        (false, 2) => format!("a0 {name} a1"),
        _ => format!("{name}({})", args.join(", ")),
    }
}

/// The large values every call draws from, at input size `n`.
fn scope(n: usize) -> Scope<'static> {
    let unit = "abc def, ghi;jkl=mno&p=q é😀 \"x\" <t>\n";
    let text: String = unit.repeat(n / unit.len() + 1);
    let mut json = String::from("{");
    let mut json_array = String::from("[");
    let mut xml = String::from("<r xmlns:p=\"urn:p\">");
    let mut query = String::new();
    let mut i = 0;
    while json.len() < n {
        if i > 0 {
            json.push(',');
            json_array.push(',');
            query.push('&');
        }
        json.push_str(&format!(
            "\"k{i}\":{{\"a\":\"xé{i}\",\"b\":{i},\"c\":[true,null,1.5]}}"
        ));
        json_array.push_str(&format!("{{\"a\":\"xé{i}\",\"b\":[{i},2]}}"));
        xml.push_str(&format!("<p:i a=\"{i}\" b=\"é\">t{i} &amp; u</p:i>"));
        query.push_str(&format!("k{i}=v%20{i}"));
        i += 1;
    }
    json.push('}');
    json_array.push(']');
    xml.push_str("</r>");
    let array: rhai::Array = (0..n / 16)
        .map(|i| Dynamic::from(format!("item-{i:06}é")))
        .collect();
    let blob: rhai::Blob = (0..n).map(|i| (i * 31 % 251) as u8).collect();
    let mut headers = Multimap::default();
    for k in 0..64 {
        headers.append(&format!("X-H{k}"), "v");
    }
    let request = Message {
        method: "POST".into(),
        url: Url::parse("https://api.test/p?a=1&b=2").unwrap_or_default(),
        original_url: Url::parse("https://api.test/p?a=1&b=2").unwrap_or_default(),
        headers,
        body: Some(Body {
            bytes: bytes::Bytes::from(json.clone().into_bytes()),
            consumed: false,
        }),
        ip: "10.0.0.1".into(),
        ..Message::default()
    };
    let ctx = Context::new(ContextData {
        request: MessageRef::new(request),
        api: Some(sluice_stdlib::context::Record::new("IApi").with("Name", "echo")),
        ..ContextData::default()
    });
    ctx.variables(|v| {
        v.insert("s".into(), Dynamic::from(text.clone()));
    });
    let mut s = Scope::new();
    s.push_constant("S", text);
    s.push_constant("J", json);
    s.push_constant("JA", json_array);
    s.push_constant("X", xml);
    s.push_constant("Q", query);
    s.push_constant("A", array);
    s.push_constant("B", blob);
    s.push_constant("CERT", CERT.to_vec());
    s.push_constant("CTX", ctx);
    s
}

const NOW_MS: i64 = 1_767_225_600_000;

const CERT: &[u8] = include_bytes!("../src/x509/testdata/cert.der");

/// Long enough for every native to run to its end: the test measures how
/// long that takes.
const LONG: Duration = Duration::from_secs(60);

/// The gateway's wall-time budget for an expression.
const BUDGET: Duration = Duration::from_millis(200);

thread_local! {
    /// When the call began (set by `__t0()`, after the arguments are built).
    static STARTED: Cell<Option<(Instant, usize)>> = const { Cell::new(None) };
    /// The wall-time budget `__t0()` gives the call.
    static WALL: Cell<Duration> = const { Cell::new(Duration::from_secs(60)) };
}

/// One call's outcome.
struct Outcome {
    took: Duration,
    /// Peak bytes over those live when the call began.
    peak: usize,
    error: Option<String>,
}

/// Runs `code` (which builds arguments, calls `__t0()`, then the native),
/// the native within `wall` (from `__t0()` on).
fn run(
    engine: &Engine,
    scope: &Scope<'static>,
    code: &str,
    wall: Duration,
) -> Result<Outcome, String> {
    STARTED.with(|s| s.set(None));
    WALL.with(|w| w.set(wall));
    let mut scope = scope.clone();
    let _budget = EvalScope::enter(Instant::now() + limits().wall_time, NOW_MS);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine
            .eval_with_scope::<Dynamic>(&mut scope, code)
            .map(drop)
    }));
    let end = Instant::now();
    let peak_now = PEAK.peak_usage();
    let started = STARTED.with(Cell::get);
    let result = result.map_err(|_| format!("panicked: {code}"))?;
    let Some((t0, base)) = started else {
        return Err(format!(
            "the arguments could not be built ({}): {code}",
            result.err().map_or_else(String::new, |e| e.to_string())
        ));
    };
    Ok(Outcome {
        took: end - t0,
        peak: peak_now.saturating_sub(base),
        error: result.err().map(|e: Box<EvalAltResult>| e.to_string()),
    })
}

fn engine() -> (Engine, Vec<String>) {
    let mut e = sluice_stdlib::engine(&limits());
    let sigs = e.gen_fn_signatures(false);
    e.register_fn("__t0", || {
        // The call's own budget from here (the guard of `run` clears it).
        std::mem::forget(EvalScope::enter(
            Instant::now() + WALL.with(Cell::get),
            NOW_MS,
        ));
        PEAK.reset_peak_usage();
        STARTED.with(|s| s.set(Some((Instant::now(), PEAK.current_usage()))));
    });
    (e, sigs)
}

/// Natives whose work does not depend on their arguments' size and that
/// are slow in a debug build for other reasons (key generation).
const SLOW_BY_NATURE: &[&str] = &[
    "RSA__Create",
    "RSACryptoServiceProvider__new",
    "RSACng__new",
];

#[test]
fn every_native_is_linear_and_bounded() {
    let (engine, sigs) = engine();
    let small = scope(N);
    let large = scope(4 * N);
    let mut problems = Vec::new();
    let mut calls = 0usize;
    let mut budgeted = 0usize;
    let mut no_builder = std::collections::BTreeSet::new();
    // `NATIVES_FILTER=Regex,Split` runs the signatures holding `Regex` or `Split` only;
    // `NATIVES_VERBOSE=1` prints each with the time it took, arguments included.
    let filter = std::env::var("NATIVES_FILTER").ok();
    let verbose = std::env::var_os("NATIVES_VERBOSE").is_some();
    for text in &sigs {
        if filter
            .as_ref()
            .is_some_and(|f| !f.split(',').any(|f| text.contains(f)))
        {
            continue;
        }
        let sig_started = Instant::now();
        let Some(sig) = parse_sig(text) else {
            problems.push(format!("cannot read the signature `{text}`"));
            continue;
        };
        if sig.name == "__t0" || SLOW_BY_NATURE.contains(&sig.name.as_str()) {
            continue;
        }
        let fixed = overrides(&sig.name, sig.params.len());
        let mut seen = Vec::new();
        for &profile in PROFILES {
            let mut args = Vec::new();
            for (i, ty) in sig.params.iter().enumerate() {
                let pinned = fixed.as_ref().and_then(|f| f.get(i).copied().flatten());
                match pinned.or_else(|| builder(ty, profile)) {
                    Some(b) => args.push(b),
                    None => {
                        no_builder.insert(ty.clone());
                    }
                }
            }
            if args.len() != sig.params.len() || seen.contains(&args) {
                continue;
            }
            seen.push(args.clone());
            let mut code = String::new();
            for (i, a) in args.iter().enumerate() {
                code.push_str(&format!("let a{i} = {a};\n"));
            }
            code.push_str("__t0();\n");
            code.push_str(&call_code(&sig.name, args.len()));
            calls += 1;
            let at_n = match run(&engine, &small, &code, LONG) {
                Ok(o) => o,
                Err(e) => {
                    problems.push(format!("{}: {e}", sig.text));
                    continue;
                }
            };
            let mut found = Vec::new();
            check(&sig.text, profile, &at_n, N, &mut found);
            if at_n.took > CHEAP
                && let Ok(at_4n) = run(&engine, &large, &code, LONG)
            {
                check(&sig.text, profile, &at_4n, 4 * N, &mut found);
                let ratio = at_4n.took.as_secs_f64() / at_n.took.as_secs_f64();
                if ratio > MAX_RATIO {
                    // Once more, in case the machine was busy.
                    let again = run(&engine, &small, &code, LONG).ok();
                    let again_4n = run(&engine, &large, &code, LONG).ok();
                    if let (Some(a), Some(b)) = (again, again_4n) {
                        let ratio = b.took.as_secs_f64() / a.took.max(at_n.took).as_secs_f64();
                        if ratio > MAX_RATIO {
                            found.push(format!(
                                "{} [{profile:?}]: {:?} at n, {:?} at 4n: not linear",
                                sig.text, at_n.took, b.took
                            ));
                        }
                    }
                }
            }
            if found.is_empty() {
                continue;
            }
            // Slower than linear, but bounded if it observes the gateway's
            // budget: under it, it must stop with the budget's error soon
            // after the budget is spent (a native that checks the clock
            // every few hundred items, or rhai between operations).
            match run(&engine, &large, &code, BUDGET) {
                Ok(o)
                    if o.took <= BUDGET * 3 + Duration::from_millis(300)
                        && o.peak <= memory_bound(4 * N + (4 * N / 16) * 64) =>
                {
                    budgeted += 1;
                    if verbose {
                        eprintln!(
                            "bounded by the budget ({:?}, {}): {}",
                            o.took,
                            o.error.unwrap_or_default(),
                            sig.text
                        );
                    }
                }
                _ => problems.extend(found),
            }
        }
        if verbose {
            eprintln!("{:>8.1?} {text}", sig_started.elapsed());
        }
    }
    if verbose {
        eprintln!("{calls} calls, {budgeted} of them bounded by the budget only");
    }
    for ty in &no_builder {
        problems.push(format!(
            "no builder for type `{ty}`: add one to `builder` (see the module doc)"
        ));
    }
    assert!(
        filter.is_some() || calls > 2000,
        "only {calls} calls: the signatures were not read"
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn check(sig: &str, profile: Profile, o: &Outcome, n: usize, problems: &mut Vec<String>) {
    if o.took > CEILING {
        problems.push(format!("{sig} [{profile:?}]: took {:?} at n = {n}", o.took));
    }
    // Inputs: the text, and the arrays' elements (a Dynamic and its string each).
    let input = n + (n / 16) * 64;
    if o.peak > memory_bound(input) {
        problems.push(format!(
            "{sig} [{profile:?}]: held {} MiB at n = {n} (bound {} MiB){}",
            o.peak >> 20,
            memory_bound(input) >> 20,
            o.error
                .as_ref()
                .map_or(String::new(), |e| format!(", then failed: {e}"))
        ));
    }
}

/// Natives that work through a large input stop at the wall-time budget
/// with the budget's own error (the one rhai raises between operations),
/// instead of running to their end.
#[test]
fn long_natives_stop_at_the_budget() {
    let engine = sluice_stdlib::engine(&sluice_stdlib::Limits::default());
    let budget = Duration::from_millis(20);
    let unit = "abc, def; ghi é\n";
    let text = unit.repeat((4 << 20) / unit.len() - 1);
    let items: Vec<String> = (0..60_000).map(|i| format!("{{\"k\":{i}}}")).collect();
    let json = format!("[{}]", items.join(","));
    let xml = format!("<r>{}</r>", "<i a=\"1\">t</i>".repeat(250_000));
    let separators: rhai::Array = (0..90_000)
        .map(|i| Dynamic::from(format!("sep{i}")))
        .collect();
    let mut scope = Scope::new();
    scope.push_constant("S", text);
    scope.push_constant("J", json);
    scope.push_constant("X", xml);
    scope.push_constant("SEPS", separators);
    for code in [
        r#"Regex__Replace(S, "[a-z]", "<$&>")"#,
        r#"Regex__Matches(S, "é").Count"#,
        r#"Regex__Replace(S, "[a-z]", |m| m.Value)"#,
        "JArray__Parse(J)",
        "XDocument__Parse(X)",
        "Split(S, SEPS)",
        "Select(SEPS, |x| x)",
    ] {
        let mut scope = scope.clone();
        let started = Instant::now();
        let _budget = EvalScope::enter(started + budget, NOW_MS);
        let r = engine.eval_with_scope::<Dynamic>(&mut scope, code);
        let took = started.elapsed();
        let e = match r {
            Ok(_) => panic!("{code}: ran to its end in {took:?}"),
            Err(e) => e,
        };
        let failure = sluice_stdlib::eval::failure(&e);
        assert_eq!(
            (failure.exception.as_str(), failure.message.as_str()),
            ("Sandbox", "the expression ran longer than its time budget"),
            "{code}: {e}"
        );
        assert!(
            took < budget + Duration::from_millis(500),
            "{code}: {took:?}"
        );
    }
}
