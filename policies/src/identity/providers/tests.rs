//! What each provider sends and how answers are read.

use super::*;
use crate::fixture::{START_MS, Stub, response};

fn form_of(req: &OutboundRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

const OK: &str = r#"{"access_token":"tok","expires_in":3600,"token_type":"Bearer"}"#;

#[tokio::test]
async fn client_secret_posts_the_client_credentials_grant() {
    let stub = Stub::status(200, OK);
    let p = Provider::ClientSecret {
        authority: "https://login.test/".into(),
        tenant: "contoso".into(),
        client_id: "app".into(),
        secret: Secret::new("s3cret&="),
    };
    let t = p
        .fetch(&*stub, "https://cognitiveservices.azure.com", None)
        .await
        .unwrap();
    assert_eq!(t.token.expose(), "tok");
    assert_eq!(t.expires_ms, Some(START_MS + 3_600_000));
    let req = &stub.calls()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "https://login.test/contoso/oauth2/v2.0/token");
    assert_eq!(
        req.headers.get("Content-Type").map(|v| v[0].as_str()),
        Some("application/x-www-form-urlencoded")
    );
    let f = form_of(req);
    assert_eq!(field(&f, "grant_type"), Some("client_credentials"));
    assert_eq!(field(&f, "client_id"), Some("app"));
    assert_eq!(field(&f, "client_secret"), Some("s3cret&="));
    assert_eq!(
        field(&f, "scope"),
        Some("https://cognitiveservices.azure.com/.default")
    );
    assert!(req.timeout_ms > 0);
}

#[tokio::test]
async fn workload_identity_sends_the_token_file_and_rereads_it() {
    let dir = std::env::temp_dir().join(format!("sluice-wi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, "assertion-1\n").unwrap();
    let stub = Stub::status(200, OK);
    let p = Provider::WorkloadIdentity {
        authority: "https://login.test".into(),
        tenant: "t".into(),
        client_id: "c".into(),
        token_file: file.clone(),
    };
    p.fetch(&*stub, "api://x", None).await.unwrap();
    std::fs::write(&file, "assertion-2").unwrap();
    p.fetch(&*stub, "api://x", None).await.unwrap();
    let calls = stub.calls();
    let (a, b) = (form_of(&calls[0]), form_of(&calls[1]));
    assert_eq!(field(&a, "client_assertion"), Some("assertion-1"));
    assert_eq!(field(&b, "client_assertion"), Some("assertion-2"));
    assert_eq!(field(&a, "client_assertion_type"), Some(ASSERTION_TYPE));
    assert_eq!(field(&a, "scope"), Some("api://x/.default"));
    std::fs::remove_file(&file).unwrap();
    let e = p.fetch(&*stub, "api://x", None).await.unwrap_err();
    assert!(e.message.contains("federated token file"), "{e}");
}

#[tokio::test]
async fn imds_and_app_service_ask_with_their_headers_and_client_id() {
    let stub = Stub::status(
        200,
        r#"{"access_token":"m","expires_on":"1700003600","resource":"https://r","token_type":"Bearer"}"#,
    );
    let imds = Provider::Imds {
        endpoint: "http://169.254.169.254/metadata/identity/oauth2/token".into(),
        client_id: None,
    }
    .with_client_id("uami");
    let t = imds.fetch(&*stub, "https://r", None).await.unwrap();
    assert_eq!(t.expires_ms, Some(1_700_003_600_000));
    let req = &stub.calls()[0];
    assert_eq!(req.method, "GET");
    assert_eq!(
        req.url,
        "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fr&client_id=uami"
    );
    assert_eq!(
        req.headers.get("Metadata").map(|v| v[0].as_str()),
        Some("true")
    );
    let app = Provider::AppService {
        endpoint: "http://localhost:8081/msi/token".into(),
        header: Secret::new("hdr"),
        client_id: None,
    };
    app.fetch(&*stub, "https://r", None).await.unwrap();
    let req = &stub.calls()[1];
    assert!(
        req.url
            .starts_with("http://localhost:8081/msi/token?api-version=2019-08-01&resource=")
    );
    assert_eq!(
        req.headers.get("X-IDENTITY-HEADER").map(|v| v[0].as_str()),
        Some("hdr")
    );
}

#[tokio::test]
async fn imds_404_is_retryable_and_a_400_is_not() {
    let imds = Provider::Imds {
        endpoint: "http://imds.test/token".into(),
        client_id: None,
    };
    let e = imds
        .fetch(&*Stub::status(404, ""), "r", None)
        .await
        .unwrap_err();
    assert!(e.retryable);
    let e = imds
        .fetch(&*Stub::status(400, "{}"), "r", None)
        .await
        .unwrap_err();
    assert!(!e.retryable);
}

#[tokio::test]
async fn an_echoed_secret_never_reaches_the_message() {
    // An endpoint that answers an error quoting what it got.
    let stub = Stub::new(|req, _| {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        Ok(response(400, &format!(r#"{{"error":"bad {body}"}}"#)))
    });
    let p = Provider::ClientSecret {
        authority: "https://login.test".into(),
        tenant: "t".into(),
        client_id: "c".into(),
        secret: Secret::new("very-secret-value"),
    };
    let e = p.fetch(&*stub, "r", None).await.unwrap_err();
    assert!(!e.message.contains("very-secret-value"), "{e}");
    assert!(e.message.contains("400"), "{e}");
}

#[tokio::test]
async fn answers_without_a_token_or_json_are_errors() {
    let p = Provider::Imds {
        endpoint: "http://imds.test/token".into(),
        client_id: None,
    };
    let e = p
        .fetch(&*Stub::status(200, r#"{"token_type":"Bearer"}"#), "r", None)
        .await
        .unwrap_err();
    assert!(e.message.contains("no `access_token`"), "{e}");
    let e = p
        .fetch(&*Stub::status(200, "<html>"), "r", None)
        .await
        .unwrap_err();
    assert!(e.message.contains("not with a JSON object"), "{e}");
    let big = format!(r#"{{"access_token":"{}"}}"#, "x".repeat(MAX_ANSWER_BYTES));
    let e = p
        .fetch(&*Stub::status(200, &big), "r", None)
        .await
        .unwrap_err();
    assert!(e.message.contains("larger than"), "{e}");
}

#[tokio::test]
async fn a_refresh_token_grant_sends_the_latest_refresh_token_and_keeps_a_rotated_one() {
    let stub = Stub::status(
        200,
        r#"{"access_token":"a","expires_in":60,"refresh_token":"r2","scope":"repo"}"#,
    );
    let c = Connection {
        provider_id: "github".into(),
        authorization_id: "me".into(),
        grant: Grant::RefreshToken {
            token_url: "https://gh.test/token".into(),
            client_id: "cid".into(),
            client_secret: Some(Secret::new("csecret")),
            refresh_token: Secret::new("r1"),
            scope: Some("repo".into()),
        },
    };
    let first = c.fetch(&*stub, "", None).await.unwrap();
    assert_eq!(first.refresh_token, Some(Secret::new("r2")));
    assert!(!first.claims.contains_key("refresh_token"));
    assert_eq!(
        first.claims.get("scope").and_then(|v| v.as_str()),
        Some("repo")
    );
    c.fetch(&*stub, "", first.refresh_token).await.unwrap();
    let calls = stub.calls();
    assert_eq!(field(&form_of(&calls[0]), "refresh_token"), Some("r1"));
    assert_eq!(field(&form_of(&calls[1]), "refresh_token"), Some("r2"));
    assert_eq!(
        field(&form_of(&calls[0]), "grant_type"),
        Some("refresh_token")
    );
}

#[test]
fn keys_change_with_the_secret_but_not_with_the_resource() {
    let a = Provider::Static {
        token: Secret::new("one"),
    };
    let b = Provider::Static {
        token: Secret::new("two"),
    };
    assert_ne!(a.key(), b.key());
    assert!(!a.key().contains("one"));
    assert_eq!(scope_of("https://x/.default"), "https://x/.default");
}
