//! The reader on small extracts written here: older link files, absolute
//! IDs, what is warned about, and the secrets' variables.

use std::path::{Path, PathBuf};

use super::*;

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sluice-apiops-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(
    dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    lenient: bool,
) -> (Config, Result<Diagnostics, Diagnostics>) {
    let mut config = Config::default();
    let r = load_into(
        &mut config,
        &Read {
            dir,
            overrides: None,
            env,
            lenient,
        },
    );
    (config, r)
}

/// A v4-style extract: `apiVersionSetInformation.json`, `products/<p>/apis.json`,
/// an absolute version set ID, a Query version, an operation folder the
/// specification lacks, loggers and product groups.
fn v4(dir: &Path) {
    write(
        dir,
        "apis/a/apiInformation.json",
        r#"{"properties":{"path":"a","subscriptionRequired":false}}"#,
    );
    write(
        dir,
        "apis/a/specification.json",
        r#"{"swagger":"2.0","paths":{"/x":{"get":{"operationId":"get-x"}}}}"#,
    );
    write(
        dir,
        "apis/a/operations/gone/policy.xml",
        "<policies><inbound /></policies>",
    );
    write(
        dir,
        "apis/a-v2/apiInformation.json",
        r#"{"properties":{"path":"a","apiVersion":"2","apiVersionSetId":"/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/x/apiVersionSets/set 1"}}"#,
    );
    write(
        dir,
        "version sets/set 1/apiVersionSetInformation.json",
        r#"{"properties":{"versioningScheme":"Query","versionQueryName":"v"}}"#,
    );
    write(
        dir,
        "products/p/productInformation.json",
        r#"{"properties":{"state":"published"}}"#,
    );
    write(
        dir,
        "products/p/apis.json",
        r#"[{"name":"a-v2"},{"name":"missing"}]"#,
    );
    write(dir, "products/p/groups.json", r#"[{"name":"developers"}]"#);
    write(dir, "loggers/l/loggerInformation.json", "{}");
    write(
        dir,
        "subscriptions/s 1/subscriptionInformation.json",
        r#"{"properties":{"scope":"/apis/a","state":"active"}}"#,
    );
    write(
        dir,
        "backends/fn/backendInformation.json",
        r#"{"properties":{"url":"https://fn.test","credentials":{"header":{"x-functions-key":["{{kv-value}}"]}}}}"#,
    );
    write(
        dir,
        "named values/n/namedValueInformation.json",
        r#"{"properties":{"displayName":"kv-value","secret":true,"keyVault":{"secretIdentifier":"https://v/secrets/x"}}}"#,
    );
}

#[test]
fn an_older_extract_is_read_with_its_link_files_and_absolute_ids() {
    let dir = temp("v4");
    v4(&dir);
    let env = |k: &str| match k {
        "SLUICE_NV_KV_VALUE" => Some("from-env".to_owned()),
        "SLUICE_SUBSCRIPTION_S_1_SECONDARY" => Some("k2".to_owned()),
        _ => None,
    };
    let (config, r) = read(&dir, &env, false);
    let warnings = r.unwrap();
    let apis: Vec<(&str, &str, Option<&str>)> = config
        .apis
        .iter()
        .map(|a| {
            let a = a.get_ref();
            let v = a
                .version
                .as_ref()
                .map(|v| v.get_ref().query.as_deref().unwrap_or(""));
            (a.name.get_ref().as_str(), a.path.get_ref().as_str(), v)
        })
        .collect();
    assert_eq!(apis, [("a", "a", None), ("a-v2", "a", Some("v"))]);
    let a = config.apis[0].get_ref();
    assert!(!a.subscription_required);
    assert_eq!(a.operations.len(), 1);
    assert_eq!(a.operations[0].get_ref().method.get_ref(), "GET");
    // A missing `subscriptionRequired` is APIM's default: true.
    assert!(config.apis[1].get_ref().subscription_required);
    let products: Vec<&str> = config.products[0]
        .get_ref()
        .apis
        .iter()
        .map(|a| a.get_ref().as_str())
        .collect();
    assert_eq!(products, ["a-v2"]);
    let s = config.subscriptions[0].get_ref();
    assert_eq!(
        (
            s.key.get_ref().as_str(),
            s.api.as_ref().map(|a| a.get_ref().as_str())
        ),
        ("k2", Some("a"))
    );
    match config.named_values["kv-value"].get_ref() {
        NamedValue::Source(s) => assert!(s.secret && s.value.as_deref() == Some("from-env")),
        NamedValue::Literal(_) => panic!("a Key Vault value is a secret"),
    }
    // Backend credentials name named values, resolved as APIM does.
    assert_eq!(
        config.backends["fn"].get_ref().headers["x-functions-key"].values(),
        ["from-env"]
    );
    let text = warnings.to_string();
    assert!(
        text.contains("the operation `gone` has a policy but is not in the specification"),
        "{text}"
    );
    for kind in [
        "Application Insights and Azure Monitor loggers",
        "product groups",
    ] {
        assert_eq!(
            text.matches(&format!("the extract's {kind} are not used"))
                .count(),
            1,
            "{text}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_secrets_are_one_error_naming_every_variable_and_a_warning_in_check() {
    let dir = temp("secrets");
    v4(&dir);
    let (_, r) = read(&dir, &|_| None, false);
    let text = r.unwrap_err().to_string();
    assert!(
        text.contains("set SLUICE_NV_KV_VALUE, SLUICE_SUBSCRIPTION_S_1_PRIMARY"),
        "{text}"
    );
    let (_, r) = read(&dir, &|_| None, true);
    assert!(r.unwrap().to_string().contains("SLUICE_NV_KV_VALUE"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_that_is_not_json_is_an_error_at_its_line() {
    let dir = temp("bad-json");
    write(
        &dir,
        "apis/a/apiInformation.json",
        "{\n  \"properties\": {\n    \"path\": \"a\",\n  }\n}",
    );
    let (_, r) = read(&dir, &|_| None, false);
    let text = r.unwrap_err().to_string();
    assert!(text.contains("apiInformation.json:4:"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn env_names() {
    assert_eq!(env_name("doc-intel-key"), "DOC_INTEL_KEY");
    assert_eq!(
        env_name("Logger-Credentials--6556"),
        "LOGGER_CREDENTIALS__6556"
    );
}

#[test]
fn backends_carry_certificates_tls_proxy_and_identity_and_warn_of_what_is_not_used() {
    let dir = temp("backends");
    write(
        &dir,
        "apis/a/apiInformation.json",
        r#"{"properties":{"path":"a","subscriptionRequired":false}}"#,
    );
    write(
        &dir,
        "named values/pw/namedValueInformation.json",
        r#"{"properties":{"displayName":"proxy-pw","value":"pw1"}}"#,
    );
    write(
        &dir,
        "backends/full/backendInformation.json",
        r#"{"properties":{"url":"https://full.test","azureRegion":"eastus",
            "credentials":{"certificateIds":["/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/x/certificates/client-1","/certificates/client-2"],
              "certificate":["AB01"],
              "managedIdentity":{"resource":"https://cognitiveservices.azure.com","clientId":"uai"},
              "query":{"sig":["a","b"]}},
            "tls":{"validateCertificateChain":false},
            "proxy":{"url":"http://proxy.test:3128","username":"gw","password":"{{proxy-pw}}"}}}"#,
    );
    write(
        &dir,
        "backends/thumb/backendInformation.json",
        r#"{"properties":{"url":"https://thumb.test","credentials":{"certificate":["AB01"]}}}"#,
    );
    write(
        &dir,
        "backends/pool/backendInformation.json",
        r#"{"properties":{"type":"Pool","tls":{"validateCertificateChain":false},
            "pool":{"services":[{"id":"/backends/full"}],
              "sessionAffinity":{"sessionId":{"source":"Cookie","name":"APIM-Affinity"}}}}}"#,
    );
    let (config, r) = read(&dir, &|_| None, false);
    let text = r.unwrap().to_string();
    let full = config.backends["full"].get_ref();
    let ids: Vec<&str> = full
        .certificate
        .iter()
        .map(|c| c.get_ref().as_str())
        .collect();
    assert_eq!(ids, ["client-1", "client-2"]);
    let mi = full.managed_identity.as_ref().unwrap().get_ref();
    assert_eq!(
        (mi.resource.as_str(), mi.client_id.as_deref()),
        ("https://cognitiveservices.azure.com", Some("uai"))
    );
    assert_eq!(full.query["sig"].values(), ["a", "b"]);
    assert_eq!(full.azure_region.as_deref(), Some("eastus"));
    let tls = full.tls.as_ref().unwrap().get_ref();
    assert!(!tls.validate_certificate_chain && tls.validate_certificate_name);
    let proxy = full.proxy.as_ref().unwrap().get_ref();
    assert_eq!(proxy.url.get_ref(), "http://proxy.test:3128");
    assert_eq!(proxy.username.as_deref(), Some("gw"));
    assert!(matches!(
        proxy.password.as_ref().map(Spanned::get_ref),
        Some(NamedValue::Literal(p)) if p == "pw1"
    ));
    let pool = config.backends["pool"].get_ref();
    assert!(pool.tls.is_none());
    let affinity = pool.session_affinity.as_ref().unwrap().get_ref();
    assert_eq!(
        affinity.session_id.get_ref().name.get_ref(),
        "APIM-Affinity"
    );
    // Thumbprints alone cannot be presented; ids win over them silently.
    assert!(
        text.contains("backend `thumb`: certificates given by thumbprint"),
        "{text}"
    );
    assert!(!text.contains("backend `full`: certificates"), "{text}");
    assert!(
        text.contains("backend pool `pool`: its `tls` and `proxy` are not used"),
        "{text}"
    );
    assert!(!text.contains("not applied yet"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An Event Hubs logger is what `log-to-eventhub logger-id` names: it
/// becomes a Kafka logger on the hub's endpoint (its connection string a
/// secret); one that signs in with a managed identity is warned about; a
/// `[loggers.ID]` of the including sluice.toml wins; other types are
/// ignored with one warning.
#[test]
fn event_hubs_loggers_become_kafka_loggers() {
    let dir = temp("loggers");
    write(
        &dir,
        "apis/a/apiInformation.json",
        r#"{"properties":{"path":"a"}}"#,
    );
    write(
        &dir,
        "named values/hub/namedValueInformation.json",
        r#"{"properties":{"displayName":"hub-cs","secret":true}}"#,
    );
    write(
        &dir,
        "loggers/by-string/loggerInformation.json",
        r#"{"properties":{"loggerType":"azureEventHub","credentials":{"name":"events","connectionString":"{{hub-cs}}"}}}"#,
    );
    write(
        &dir,
        "loggers/by-identity/loggerInformation.json",
        r#"{"properties":{"loggerType":"azureEventHub","credentials":{"name":"audit","endpointAddress":"ns.servicebus.windows.net","identityClientId":"c"}}}"#,
    );
    write(
        &dir,
        "loggers/kept/loggerInformation.json",
        r#"{"properties":{"loggerType":"azureEventHub","credentials":{"name":"x","endpointAddress":"other.servicebus.windows.net"}}}"#,
    );
    write(
        &dir,
        "loggers/insights/loggerInformation.json",
        r#"{"properties":{"loggerType":"applicationInsights"}}"#,
    );
    const CS: &str =
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=s";
    let env = |k: &str| (k == "SLUICE_NV_HUB_CS").then(|| CS.to_owned());
    let mut config: Config = toml::from_str("[loggers.kept]\nkind = \"stdout\"\n").unwrap();
    let warnings = load_into(
        &mut config,
        &Read {
            dir: &dir,
            overrides: None,
            env: &env,
            lenient: false,
        },
    )
    .unwrap()
    .to_string();
    let ids: Vec<&str> = config.loggers.keys().map(String::as_str).collect();
    assert_eq!(ids, ["by-identity", "by-string", "kept"]);
    let by_string = config.loggers["by-string"].get_ref();
    assert_eq!(by_string.kind.get_ref(), "kafka");
    assert_eq!(by_string.topic.as_ref().unwrap().get_ref(), "events");
    match by_string.connection_string.as_ref().unwrap().get_ref() {
        NamedValue::Source(s) => assert!(s.secret && s.value.as_deref() == Some(CS)),
        other => panic!("{other:?}"),
    }
    let by_identity = config.loggers["by-identity"].get_ref();
    assert_eq!(
        by_identity.brokers.as_ref().unwrap().get_ref(),
        &["ns.servicebus.windows.net:9093"]
    );
    assert_eq!(by_identity.topic.as_ref().unwrap().get_ref(), "audit");
    assert_eq!(by_identity.tls, Some(true));
    assert_eq!(config.loggers["kept"].get_ref().kind.get_ref(), "stdout");
    assert_eq!(
        warnings.matches("signs in with a managed identity").count(),
        1,
        "{warnings}"
    );
    assert!(warnings.contains("logger `by-identity`"), "{warnings}");
    assert!(!warnings.contains(CS), "{warnings}");
    assert_eq!(
        warnings
            .matches("Application Insights and Azure Monitor loggers are not used")
            .count(),
        1,
        "{warnings}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
