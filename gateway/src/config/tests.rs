use super::*;

fn engine() -> rhai::Engine {
    sluice_stdlib::engine(&sluice_stdlib::Limits::default())
}

fn load_with(text: &str, severity: Severity) -> Result<Loaded, Vec<String>> {
    let engine = engine();
    let compiler = Compiler::new(&engine);
    let env = |k: &str| (k == "SLUICE_TEST_KEY").then(|| "from-env".to_owned());
    let opts = Options {
        compiler: &compiler,
        not_executed: severity,
        env: &env,
    };
    load_str("sluice.toml", text, Path::new("."), &opts).map_err(|d| {
        d.iter()
            .map(|d| format!("{} {} {}", d.code.as_str(), d.location(), d.message))
            .collect()
    })
}

fn load(text: &str) -> Result<Loaded, Vec<String>> {
    load_with(text, Severity::Warning)
}

const VALID: &str = r#"
[gateway]
listen = "127.0.0.1:8080"

[named-values]
host = "backend.test"
key = { env = "SLUICE_TEST_KEY", secret = true }

[backends.embeddings]
url = "http://embeddings.test/v1/embeddings"

[fragments]
trace = '''<fragment><set-header name="x-trace" exists-action="override"><value>1</value></set-header></fragment>'''

[policy]
global = '''<policies><inbound><include-fragment fragment-id="trace" /></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>'''

[[product]]
name = "starter"
apis = ["echo"]

[[subscription]]
id = "sub-1"
key = "key-1"
product = "starter"

[[api]]
name = "echo"
path = "echo"
service-url = "http://backend.test/api"
policy = '''<policies><inbound><base /><set-header name="x-host"><value>{{host}}</value></set-header></inbound></policies>'''

[[api.operation]]
name = "create"
method = "POST"
url-template = "/resource/{id}"
"#;

#[test]
fn a_valid_configuration_loads_whole() {
    let l = load(VALID).unwrap();
    assert_eq!(l.named["key"], "from-env");
    assert!(l.secrets.contains("key"));
    assert!(l.fragments.contains_key("trace"));
    assert!(l.global.is_some());
    assert!(l.apis["echo"].0.is_some());
    assert!(l.apis["echo"].1["create"].is_none());
}

#[test]
fn toml_errors_have_line_and_column() {
    let e = load("[[api]]\nname = \"echo\"\npath = 3\n").unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("E0701 sluice.toml:3:8"), "{e:?}");
    let e = load("[gateway]\nlisten = \"127.0.0.1:1\"\nlistn = \"x\"\n").unwrap_err();
    assert!(
        e[0].starts_with("E0701 sluice.toml:3:1") && e[0].contains("listn"),
        "{e:?}"
    );
}

#[test]
fn references_and_duplicates() {
    let text = r#"
[named-values]
missing = { env = "SLUICE_NOT_SET" }

[[product]]
name = "p"
apis = ["nope"]

[[subscription]]
id = "s"
key = "k"
product = "q"

[[api]]
name = "a"
path = "a"

[[api]]
name = "a"
path = "/a/"
"#;
    let e = load(text).unwrap_err();
    let codes: Vec<&str> = e.iter().map(|s| &s[..12]).collect();
    assert_eq!(
        codes,
        [
            "E0702 sluice",
            "E0702 sluice",
            "E0702 sluice",
            "E0703 sluice",
            "E0703 sluice"
        ],
        "{e:#?}"
    );
    assert!(e.iter().any(|s| s.contains("`SLUICE_NOT_SET` is not set")));
    assert!(e.iter().any(|s| s.contains("the API `nope`")));
    assert!(e.iter().any(|s| s.contains("the product `q`")));
}

#[test]
fn inline_policy_errors_are_reported_at_their_scope() {
    let text = "[[api]]\nname = \"echo\"\npath = \"echo\"\npolicy = '''<policies>\n<inbound><set-heder /></inbound></policies>'''\n";
    let e = load(text).unwrap_err();
    assert!(
        e.iter().any(|s| s.starts_with("E0301 api:echo:2:11")),
        "{e:#?}"
    );
}

#[test]
fn unknown_named_values_are_errors() {
    let text = "[[api]]\nname = \"echo\"\npath = \"echo\"\npolicy = '''<policies><inbound><set-variable name=\"a\" value=\"{{nope}}\" /></inbound></policies>'''\n";
    let e = load(text).unwrap_err();
    assert!(
        e.iter()
            .any(|s| s.starts_with("E0401 api:echo:1:") && s.contains("`nope`")),
        "{e:#?}"
    );
}

#[test]
fn policies_run_does_not_execute_are_refused_when_serving() {
    // As a gateway would load it: a policy without a stage is an error naming it.
    let text = "[[api]]\nname = \"a\"\npath = \"a\"\npolicy = '<policies><inbound><validate-odata-request /></inbound></policies>'\n";
    let e = load_with(text, Severity::Error).unwrap_err();
    assert!(
        e.iter()
            .any(|s| s.starts_with("W0501") && s.contains("`validate-odata-request`")),
        "{e:#?}"
    );
    assert!(load_with(VALID, Severity::Error).is_ok());
}

#[test]
fn an_admin_listen_not_loopback_needs_a_token() {
    let e = load("[admin]\nlisten = \"0.0.0.0:9090\"\n").unwrap_err();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].starts_with("E0702 sluice.toml:2:10") && e[0].contains("set `[admin] token`"),
        "{e:#?}"
    );
    // Loopback (v4 or v6) needs none; with a token, any address serves.
    assert!(load("[admin]\nlisten = \"127.0.0.1:9090\"\n").is_ok());
    assert!(load("[admin]\nlisten = \"[::1]:9090\"\n").is_ok());
    let l = load("[admin]\nlisten = \"0.0.0.0:9090\"\ntoken = { env = \"SLUICE_TEST_KEY\" }\n")
        .unwrap();
    let token = l.admin_token.unwrap();
    assert!(token.matches(b"from-env"));
    assert!(!token.matches(b"from-env2") && !token.matches(b"from-enw") && !token.matches(b""));
}

#[test]
fn the_admin_token_resolves_like_a_named_value_and_is_never_shown() {
    let l = load("[admin]\ntoken = \"s3cret-literal\"\n").unwrap();
    let token = l.admin_token.unwrap();
    assert!(token.matches(b"s3cret-literal"));
    assert_eq!(format!("{token:?}"), "Secret(..)");
    let e = load("[admin]\ntoken = { env = \"SLUICE_NOT_SET\" }\n").unwrap_err();
    assert!(
        e[0].starts_with("E0702 sluice.toml:2:9")
            && e[0]
                .contains("`[admin] token`: the environment variable `SLUICE_NOT_SET` is not set"),
        "{e:#?}"
    );
    let e = load("[admin]\ntoken = { file = \"no/such/token\" }\n").unwrap_err();
    assert!(
        e[0].contains("`[admin] token`: cannot read `no/such/token`"),
        "{e:#?}"
    );
    let e = load("[admin]\ntoken = \"  \"\n").unwrap_err();
    assert!(
        e[0].starts_with("E0701 sluice.toml:2:9") && e[0].contains("is empty"),
        "{e:#?}"
    );
    assert!(!e[0].contains("  `"), "{e:#?}");
}

/// Every secret, however it is given, is masked in the diagnostics of
/// loading (message and the line shown); a short one only where it is written.
#[test]
fn secrets_are_masked_in_every_diagnostic() {
    let text = r#"[admin]
token = "admin-token-1"

[named-values]
key = { env = "SLUICE_TEST_KEY", secret = true }
pin = { value = "42", secret = true }
plain = "not-secret"

[[subscription]]
id = "sub-1"
key = "subscription-key-1"

[[api]]
name = "echo"
path = "echo"
policy = '''<policies><inbound><set-header name="x" exists-action="{{key}}" /><set-header name="y" exists-action="{{plain}}" /></inbound></policies>'''
"#;
    let e = load(text).unwrap_err();
    assert!(
        e.iter()
            .any(|m| m.ends_with("not `***` (on `<set-header>`)")),
        "{e:#?}"
    );
    assert!(e.iter().any(|m| m.contains("not `not-secret`")), "{e:#?}");
    assert!(!e.iter().any(|m| m.contains("from-env")), "{e:#?}");
    let valid = text
        .replace("{{key}}", "override")
        .replace("{{plain}}", "skip");
    let l = load(&valid).unwrap();
    let masked = l
        .redaction
        .text("admin-token-1 from-env subscription-key-1 not-secret 42");
    assert_eq!(masked, "*** *** *** not-secret 42");
    // The configuration's own lines, as a diagnostic would show them.
    let src = Source::new("sluice.toml", valid.as_str());
    let mut d = Diagnostics::new();
    d.push(Diagnostic::new(
        Code::ConfigSyntax,
        &src,
        Span::point(0),
        "x",
    ));
    let d = l.redaction.apply(d).into_vec();
    let lines = d[0].source.text();
    for shown in [
        "token = \"*************\"",
        "key = { env = \"SLUICE_TEST_KEY\", secret = true }",
        "pin = { value = \"**\", secret = true }",
        "plain = \"not-secret\"",
        "key = \"******************\"",
    ] {
        assert!(lines.contains(shown), "{shown}: {lines}");
    }
}

#[test]
fn the_shutdown_grace_is_seconds_or_a_suffixed_string() {
    let grace = |v: &str| {
        load(&format!("[gateway]\nshutdown-grace = {v}\n")).map(|l| {
            l.config
                .gateway
                .shutdown_grace
                .unwrap()
                .into_inner()
                .of()
                .unwrap()
        })
    };
    assert_eq!(grace("30").unwrap(), std::time::Duration::from_secs(30));
    assert_eq!(grace("\"5s\"").unwrap(), std::time::Duration::from_secs(5));
    assert_eq!(
        grace("\"250ms\"").unwrap(),
        std::time::Duration::from_millis(250)
    );
    for wrong in ["\"PT30S\"", "\"30\"", "\"1m\"", "\"-1s\"", "1.5"] {
        let e = grace(wrong).unwrap_err();
        assert!(
            e[0].starts_with("E0701 sluice.toml:2:18") && e[0].contains("not a duration"),
            "{wrong}: {e:#?}"
        );
    }
}
