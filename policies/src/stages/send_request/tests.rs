use sluice_engine::runtime::{CallError, MessageRef, Purpose};

use crate::fixture::{
    Stub, body, header, last_error, pipeline, response, run_policy, status, variable,
};

/// The docs' example, shortened: token introspection, then a 401 when inactive.
const INTROSPECT: &str = r#"<policies><inbound>
    <send-request mode="new" response-variable-name="tokenstate" timeout="20" ignore-error="true">
        <set-url>https://idp.example.test/introspect</set-url>
        <set-method>POST</set-method>
        <set-header name="Authorization" exists-action="override"><value>basic dXNlcjpwYXNz</value></set-header>
        <set-header name="Content-Type" exists-action="override"><value>application/x-www-form-urlencoded</value></set-header>
        <set-body>@($"token={context.Request.Headers.GetValueOrDefault("Authorization","scheme param").Split(' ').Last()}")</set-body>
    </send-request>
    <choose>
        <when condition="@((bool)((IResponse)context.Variables["tokenstate"]).Body.As<JObject>()["active"] == false)">
            <return-response>
                <set-status code="401" reason="Unauthorized" />
                <set-header name="WWW-Authenticate" exists-action="override"><value>Bearer error="invalid_token"</value></set-header>
            </return-response>
        </when>
    </choose>
    <return-response><set-status code="200" reason="OK" /></return-response>
</inbound></policies>"#;

#[test]
fn sends_the_built_request_and_stores_the_response() {
    let stub = Stub::status(200, r#"{"active": false}"#);
    let x = run_policy(INTROSPECT, &stub, &[("Authorization", "Bearer abc")], "");
    let calls = stub.calls();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!(c.method, "POST");
    assert_eq!(c.url, "https://idp.example.test/introspect");
    assert_eq!(c.timeout_ms, 20_000);
    assert_eq!(c.purpose, Purpose::SendRequest);
    assert_eq!(String::from_utf8_lossy(&c.body), "token=abc");
    assert_eq!(
        c.headers.get("Authorization").map(|v| v.to_vec()),
        Some(vec!["basic dXNlcjpwYXNz".to_owned()])
    );
    // (IResponse)context.Variables[...]).Body.As<JObject>() read the stored response.
    assert_eq!(status(&x), 401);
    assert_eq!(
        header(x.response(), "WWW-Authenticate").as_deref(),
        Some(r#"Bearer error="invalid_token""#)
    );
}

#[test]
fn the_response_variable_is_an_iresponse() {
    let stub = Stub::new(|_, _| {
        let mut r = response(201, r#"{"id": 7}"#);
        r.headers.append("x-trace", "t1");
        Ok(r)
    });
    let p = r#"<policies><inbound>
        <send-request response-variable-name="r"><set-url>http://svc.test/items</set-url></send-request>
        <set-variable name="summary" value="@{
            var r = (IResponse)context.Variables["r"];
            return r.StatusCode + " " + r.StatusReason + " " + r.Headers.GetValueOrDefault("x-trace", "") + " " + r.Body.As<string>();
        }" />
    </inbound></policies>"#;
    let x = run_policy(p, &stub, &[], "");
    assert_eq!(last_error(&x), None);
    let summary = variable(&x, "summary").unwrap().into_string().unwrap();
    assert_eq!(summary, r#"201 Created t1 {"id": 7}"#);
    // mode defaults to new: GET, and the default timeout is 60 s.
    assert_eq!(stub.calls()[0].method, "GET");
    assert_eq!(stub.calls()[0].timeout_ms, 60_000);
}

#[test]
fn return_response_returns_the_stored_response() {
    let stub = Stub::status(418, "teapot body");
    let p = r#"<policies><inbound>
        <send-request response-variable-name="r"><set-url>http://svc.test/</set-url></send-request>
        <return-response response-variable-name="r" />
    </inbound></policies>"#;
    let x = run_policy(p, &stub, &[], "");
    assert_eq!(status(&x), 418);
    assert_eq!(body(x.response()), "teapot body");
    assert_eq!(
        header(x.response(), "Content-Type").as_deref(),
        Some("application/json")
    );
}

#[test]
fn copy_mode_clones_the_current_request() {
    let stub = Stub::status(200, "");
    let p = r#"<policies><inbound>
        <send-request mode="copy" response-variable-name="r">
            <set-header name="x-extra" exists-action="append"><value>1</value></set-header>
        </send-request>
    </inbound></policies>"#;
    run_policy(p, &stub, &[("x-in", "a"), ("Host", "gw.test")], "payload");
    let c = &stub.calls()[0];
    assert_eq!(c.method, "POST");
    assert_eq!(c.url, "http://gw.test/api/items?q=1");
    assert_eq!(
        c.headers.get("x-in").map(|v| v.to_vec()),
        Some(vec!["a".to_owned()])
    );
    assert_eq!(
        c.headers.get("x-extra").map(|v| v.to_vec()),
        Some(vec!["1".to_owned()])
    );
    assert_eq!(c.headers.get("Host"), None);
    assert_eq!(String::from_utf8_lossy(&c.body), "payload");
}

#[test]
fn a_timeout_is_an_error_with_reason_timeout() {
    let stub = Stub::new(|_, _| Err(CallError::Timeout));
    let p = r#"<policies><inbound>
        <send-request response-variable-name="r" timeout="3"><set-url>http://slow.test/</set-url></send-request>
    </inbound>
    <on-error><set-header name="reason" exists-action="override"><value>@(context.LastError.Source + "/" + context.LastError.Reason)</value></set-header></on-error>
    </policies>"#;
    let x = run_policy(p, &stub, &[], "");
    assert_eq!(last_error(&x).as_deref(), Some("send-request/Timeout"));
    assert_eq!(
        header(x.response(), "reason").as_deref(),
        Some("send-request/Timeout")
    );
    assert_eq!(status(&x), 500);
    assert_eq!(stub.calls()[0].timeout_ms, 3_000);
    assert!(variable(&x, "r").is_none());
}

#[test]
fn a_connection_failure_is_an_error() {
    let stub = Stub::new(|_, _| Err(CallError::connection("refused")));
    let p = r#"<policies><inbound>
        <send-request response-variable-name="r"><set-url>http://down.test/</set-url></send-request>
    </inbound></policies>"#;
    let x = run_policy(p, &stub, &[], "");
    assert_eq!(
        last_error(&x).as_deref(),
        Some("send-request/BackendConnectionFailure")
    );
}

#[test]
fn ignore_error_sets_the_variable_to_null() {
    let stub = Stub::new(|_, _| Err(CallError::Timeout));
    let p = r#"<policies><inbound>
        <send-request response-variable-name="r" ignore-error="true"><set-url>http://slow.test/</set-url></send-request>
        <set-variable name="isnull" value="@(context.Variables["r"] == null)" />
    </inbound></policies>"#;
    let x = run_policy(p, &stub, &[], "");
    assert_eq!(last_error(&x), None);
    assert!(variable(&x, "r").unwrap().is_unit());
    assert_eq!(variable(&x, "isnull").unwrap().as_bool(), Ok(true));
}

#[test]
fn the_variable_name_and_url_may_be_expressions() {
    let stub = Stub::status(200, "");
    let p = r#"<policies><inbound>
        <send-request response-variable-name="@("res" + "ult")"><set-url>@("http://svc.test" + context.Request.Url.Path)</set-url></send-request>
    </inbound></policies>"#;
    let x = run_policy(p, &stub, &[], "");
    assert!(variable(&x, "result").unwrap().is::<MessageRef>());
    assert_eq!(stub.calls()[0].url, "http://svc.test/api/items");
}

/// `[certificates.c]`: a certificate with a key (the key's bytes are not
/// used: the stub does no TLS), and `[certificates.keyless]`.
fn certificates() -> sluice_engine::runtime::Resources {
    use base64::Engine as _;
    use sluice_engine::runtime::{Certificates, ClientIdentity, StoredCertificate};
    let pem = include_str!("../../../../stdlib/src/x509/testdata/cert.pem");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let certificate = sluice_stdlib::X509Certificate2::from_der(&der).unwrap();
    let identity = ClientIdentity {
        thumbprint: certificate.thumbprint(),
        chain: vec![der],
        key: vec![1, 2, 3],
        trusted: Default::default(),
    };
    let mut c = Certificates::default();
    c.by_id.insert(
        "c".into(),
        StoredCertificate {
            certificate: certificate.clone(),
            ca: false,
            identity: Some(std::sync::Arc::new(identity)),
        },
    );
    c.by_id.insert(
        "keyless".into(),
        StoredCertificate {
            certificate,
            ca: false,
            identity: None,
        },
    );
    sluice_engine::runtime::Resources::new().with(c)
}

#[test]
fn authentication_certificate_inside_presents_its_certificate_on_that_request_only() {
    let stub = Stub::status(200, "");
    let p = r#"<policies><inbound>
        <send-request response-variable-name="r"><set-url>https://svc.test/</set-url><authentication-certificate certificate-id="c" /></send-request>
        <send-request response-variable-name="s"><set-url>https://other.test/</set-url></send-request>
    </inbound></policies>"#;
    let resources = certificates();
    let pipe = crate::fixture::pipeline_with(p, &resources).unwrap_or_else(|d| panic!("{d}"));
    let mut x = crate::fixture::exchange(std::sync::Arc::clone(&stub), &[], "");
    crate::fixture::run(&pipe, &mut x);
    assert_eq!(last_error(&x), None);
    let calls = stub.calls();
    assert_eq!(calls.len(), 2);
    let presented = calls[0]
        .client_certificate
        .as_ref()
        .map(|c| c.thumbprint.clone());
    let expected = resources
        .get::<sluice_engine::runtime::Certificates>()
        .map(|c| c.by_id["c"].certificate.thumbprint());
    assert!(presented.is_some());
    assert_eq!(presented, expected);
    assert!(calls[1].client_certificate.is_none());
    // The backend call is not affected.
    assert!(
        x.extensions
            .get::<sluice_engine::runtime::BackendCertificate>()
            .is_none()
    );
}

#[test]
fn authentication_certificate_inside_names_an_entry_with_a_key() {
    let resources = certificates();
    for (id, why) in [
        ("nope", "no `[certificates.ID]` entry has this certificate"),
        ("keyless", "`[certificates.keyless]` has no private key"),
    ] {
        let p = format!(
            r#"<policies><inbound>
            <send-request response-variable-name="r"><set-url>https://svc.test/</set-url><authentication-certificate certificate-id="{id}" /></send-request>
        </inbound></policies>"#
        );
        let err = crate::fixture::pipeline_with(&p, &resources).unwrap_err();
        assert!(err.contains(why), "{err}");
        assert!(err.contains("test.xml:2:"), "{err}");
    }
}

#[test]
fn a_new_request_needs_a_url() {
    let p = r#"<policies><inbound><send-request response-variable-name="r"><set-method>GET</set-method></send-request></inbound></policies>"#;
    let err = pipeline(p).unwrap_err();
    assert!(err.contains("needs `<set-url>`"), "{err}");
}
