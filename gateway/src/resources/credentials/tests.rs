//! `[identity]` and `[authorizations]`: what a configuration and an
//! environment resolve to, and the errors (which never show a secret).

use std::path::Path;

use sluice_engine::diag::Severity;
use sluice_policies::identity::{Credentials, Grant, Provider};

use crate::build::{Built, Input, Purpose, build};
use crate::resources::Mode;

const API: &str = "[[api]]\nname = \"a\"\npath = \"a\"\nservice-url = \"http://backend.test\"\n";

fn built(section: &str, env: &[(&str, &str)]) -> Result<Built, String> {
    let text = format!("{section}\n{API}");
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let purpose = Purpose {
        mode: Mode::TEST,
        not_executed: Severity::Error,
        env: &lookup,
    };
    let input = Input::Text {
        name: "t.toml",
        base: Path::new("."),
        text: &text,
        config: None,
    };
    build(input, None, purpose).map_err(|d| d.to_string())
}

/// The credentials the families give a plan of `section` in `env`.
fn credentials(section: &str, env: &[(&str, &str)]) -> Result<std::sync::Arc<Credentials>, String> {
    let b = built(section, env)?;
    let text = format!("{section}\n{API}");
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let origin = crate::resources::Origin {
        name: "t.toml",
        text: &text,
        base: Path::new("."),
        env: &lookup,
    };
    let resources = b
        .families
        .provide(&b.config, origin, Mode::TEST)
        .map_err(|d| d.to_string())?;
    resources
        .get::<Credentials>()
        .ok_or_else(|| "no credentials".to_owned())
}

#[test]
fn the_chain_takes_the_first_source_the_environment_offers() {
    let imds = credentials("", &[]).unwrap();
    assert!(matches!(
        &*imds.system.provider,
        Provider::Imds {
            client_id: None,
            ..
        }
    ));
    let app = credentials(
        "",
        &[
            ("IDENTITY_ENDPOINT", "http://x/msi"),
            ("IDENTITY_HEADER", "h"),
        ],
    )
    .unwrap();
    assert!(matches!(&*app.system.provider, Provider::AppService { .. }));
    let wi = credentials(
        "",
        &[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
            ("IDENTITY_ENDPOINT", "http://x/msi"),
            ("IDENTITY_HEADER", "h"),
        ],
    )
    .unwrap();
    assert!(matches!(
        &*wi.system.provider,
        Provider::WorkloadIdentity { .. }
    ));
    let secret = credentials(
        "",
        &[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
            ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us"),
        ],
    )
    .unwrap();
    match &*secret.system.provider {
        Provider::ClientSecret { authority, .. } => {
            assert_eq!(authority, "https://login.microsoftonline.us");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn user_assigned_identities_inherit_the_provider_and_default_their_client_id() {
    let c = credentials(
        "[identity]\nprovider = \"imds\"\nimds-endpoint = \"http://imds.test/t\"\n\
         [identity.user-assigned.ai]\nclient-id = \"guid-1\"\n[identity.user-assigned.guid-2]\n",
        &[],
    )
    .unwrap();
    let ai = c.identity(Some("ai")).unwrap();
    assert!(
        matches!(&*ai.provider, Provider::Imds { client_id: Some(id), endpoint } if id == "guid-1" && endpoint == "http://imds.test/t")
    );
    let g2 = c.identity(Some("guid-2")).unwrap();
    assert!(matches!(&*g2.provider, Provider::Imds { client_id: Some(id), .. } if id == "guid-2"));
    // Not configured: given to IMDS as the user-assigned identity's client id.
    let other = c.identity(Some("guid-3")).unwrap();
    assert!(
        matches!(&*other.provider, Provider::Imds { client_id: Some(id), .. } if id == "guid-3")
    );
}

#[test]
fn values_come_from_the_environment_or_files_and_errors_show_no_secret() {
    let c = credentials(
        "[identity]\nprovider = \"static\"\ntoken = { env = \"STATIC_TOKEN\" }\n\
         [authorizations.github.me]\ntoken-url = \"https://gh.test/token\"\nclient-id = \"cid\"\n\
         client-secret = { env = \"GH_SECRET\" }\n",
        &[("STATIC_TOKEN", "tok-from-env"), ("GH_SECRET", "gh-secret")],
    )
    .unwrap();
    assert!(
        matches!(&*c.system.provider, Provider::Static { token } if token.expose() == "tok-from-env")
    );
    let conn = c.connection("github", "me").unwrap();
    assert!(
        matches!(&conn.grant, Grant::ClientCredentials { client_secret, .. } if client_secret.expose() == "gh-secret")
    );

    let e = built(
        "[identity]\nprovider = \"client-secret\"\ntenant-id = \"t\"\nclient-secret = \"literal-secret-value\"\n",
        &[],
    )
    .err()
    .unwrap();
    assert!(
        e.contains("needs `tenant-id`, `client-id` and `client-secret`"),
        "{e}"
    );
    assert!(!e.contains("literal-secret-value"), "{e}");
    let e = built("[identity]\nprovider = \"magic\"\n", &[])
        .err()
        .unwrap();
    assert!(e.contains("`magic` is not an identity provider"), "{e}");
    assert!(e.contains("t.toml:2:12"), "{e}");
    let e = built(
        "[identity]\nprovider = \"static\"\ntoken = { env = \"NOPE\" }\n",
        &[],
    )
    .err()
    .unwrap();
    assert!(
        e.contains("`[identity] token`: the environment variable `NOPE` is not set"),
        "{e}"
    );
    let e = built("[authorizations.p.i]\nclient-id = \"x\"\n", &[])
        .err()
        .unwrap();
    assert!(e.contains("`[authorizations.p.i]` needs `token`"), "{e}");
}

#[test]
fn a_syntax_error_near_an_identity_secret_does_not_show_it() {
    let e = built(
        "[identity]\nprovider = \"static\"\ntoken = \"hidden-static-token\" x\n",
        &[],
    )
    .err()
    .unwrap();
    assert!(!e.contains("hidden-static-token"), "{e}");
}
