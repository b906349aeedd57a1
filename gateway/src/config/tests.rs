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
    let text = "[[api]]\nname = \"a\"\npath = \"a\"\npolicy = '<policies><inbound><cross-domain /></inbound></policies>'\n";
    let e = load_with(text, Severity::Error).unwrap_err();
    assert!(
        e.iter()
            .any(|s| s.starts_with("W0501") && s.contains("`cross-domain`")),
        "{e:#?}"
    );
    assert!(load_with(VALID, Severity::Error).is_ok());
}
