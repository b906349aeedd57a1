//! Unit tests of `cors`: the documented behaviour, driven through single stages.

use std::sync::Arc;

use sluice_engine::runtime::{Exchange, Flow};
use sluice_engine::schema::Section;

use crate::fixture::{self, Stub};
use crate::testkit::{Kit, header, operation, request, run};

/// The docs' example.
const EXAMPLE: &str = r#"<cors allow-credentials="true">
    <allowed-origins>
        <origin>http://localhost:8080/</origin>
        <origin>http://example.com/</origin>
    </allowed-origins>
    <allowed-methods preflight-result-max-age="300">
        <method>GET</method>
        <method>POST</method>
        <method>PATCH</method>
        <method>DELETE</method>
    </allowed-methods>
    <allowed-headers>
        <header>x-zumo-installation-id</header>
        <header>x-zumo-application</header>
        <header>x-zumo-version</header>
        <header>x-zumo-auth</header>
        <header>content-type</header>
        <header>accept</header>
    </allowed-headers>
    <expose-headers>
        <header>x-zumo-installation-id</header>
        <header>x-zumo-application</header>
    </expose-headers>
</cors>"#;

/// A minimal policy: `origins`, no allowed-methods, `x-a` allowed.
fn simple(origins: &str, attrs: &str) -> String {
    format!(
        r#"<cors {attrs}><allowed-origins>{origins}</allowed-origins><allowed-headers><header>x-a</header></allowed-headers></cors>"#
    )
}

fn apply(policy: &str, method: &str, headers: &[(&str, &str)]) -> (Flow, Exchange) {
    let kit = Kit::new();
    let stage = kit.stage(policy, Section::Inbound);
    let mut x = kit.exchange(
        request(method, "http://h/api/x", headers),
        "/api",
        Section::Inbound,
    );
    operation(&mut x, "GET", "/x");
    let flow = run(stage.as_ref(), &mut x).unwrap();
    (flow, x)
}

fn preflight(policy: &str, origin: &str, method: &str, req_headers: &str) -> (Flow, Exchange) {
    let mut h = vec![
        ("Origin", origin),
        ("Access-Control-Request-Method", method),
    ];
    if !req_headers.is_empty() {
        h.push(("Access-Control-Request-Headers", req_headers));
    }
    apply(policy, "OPTIONS", &h)
}

fn late(x: &Exchange) -> Vec<(String, String)> {
    x.ctx.0.late_headers.read().unwrap().clone()
}

/// An ended preflight answered with an empty 200 and no CORS headers.
fn assert_refused(flow: Flow, x: &Exchange) {
    assert_eq!(flow, Flow::End);
    assert_eq!(x.response().read(|m| m.status), 200);
    assert_eq!(header(x.response(), "Access-Control-Allow-Origin"), None);
    assert_eq!(
        x.response()
            .read(|m| m.body.clone().unwrap_or_default().bytes.len()),
        0
    );
}

#[test]
fn an_allowed_preflight_is_answered_with_the_allow_headers() {
    let (flow, x) = preflight(
        EXAMPLE,
        "http://example.com",
        "PATCH",
        "x-zumo-auth, Content-Type",
    );
    assert_eq!(flow, Flow::End);
    let r = x.response();
    assert_eq!(r.read(|m| m.status), 200);
    for (name, value) in [
        ("Access-Control-Allow-Origin", "http://example.com"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Methods", "PATCH"),
        ("Access-Control-Allow-Headers", "x-zumo-auth,Content-Type"),
        ("Access-Control-Max-Age", "300"),
    ] {
        assert_eq!(header(r, name).as_deref(), Some(value), "{name}");
    }
}

#[test]
fn origins_compare_by_scheme_host_and_port_with_default_ports() {
    let p = simple(
        "<origin>http://localhost:8080/</origin><origin>https://a.test</origin>",
        "",
    );
    for origin in [
        "http://localhost:8080",
        "HTTPS://A.test:443",
        "https://a.test",
    ] {
        let (flow, x) = preflight(&p, origin, "GET", "");
        assert_eq!(flow, Flow::End);
        assert_eq!(
            header(x.response(), "Access-Control-Allow-Origin").as_deref(),
            Some(origin),
            "{origin}"
        );
    }
    for origin in [
        "http://localhost",
        "http://a.test",
        "https://a.test:8443",
        "null",
    ] {
        let (flow, x) = preflight(&p, origin, "GET", "");
        assert_refused(flow, &x);
    }
}

#[test]
fn an_unmatched_preflight_ends_with_an_empty_200_by_default() {
    let (flow, x) = preflight(EXAMPLE, "http://evil.test", "GET", "");
    assert_refused(flow, &x);
    // a method or a header that is not allowed is unmatched too
    let (flow, x) = preflight(EXAMPLE, "http://example.com", "PUT", "");
    assert_refused(flow, &x);
    let (flow, x) = preflight(EXAMPLE, "http://example.com", "GET", "x-other");
    assert_refused(flow, &x);
}

#[test]
fn terminate_unmatched_request_false_lets_an_unmatched_preflight_go_on() {
    let p = simple(
        "<origin>http://a.test</origin>",
        r#"terminate-unmatched-request="false""#,
    );
    let (flow, x) = preflight(&p, "http://b.test", "GET", "");
    assert_eq!(flow, Flow::Next);
    assert_eq!(header(x.response(), "Access-Control-Allow-Origin"), None);
}

#[test]
fn without_allowed_methods_only_get_and_post_are_allowed() {
    let p = simple("<origin>http://a.test</origin>", "");
    for (method, allowed) in [
        ("GET", true),
        ("POST", true),
        ("DELETE", false),
        ("PUT", false),
    ] {
        let (flow, x) = preflight(&p, "http://a.test", method, "");
        assert_eq!(flow, Flow::End);
        assert_eq!(
            header(x.response(), "Access-Control-Allow-Methods").is_some(),
            allowed,
            "{method}"
        );
    }
}

#[test]
fn wildcards_allow_any_origin_method_and_header() {
    let p = r#"<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-methods><method>*</method></allowed-methods><allowed-headers><header>*</header></allowed-headers></cors>"#;
    let (flow, x) = preflight(p, "http://any.test", "PURGE", "x-one,x-two");
    assert_eq!(flow, Flow::End);
    let r = x.response();
    assert_eq!(
        header(r, "Access-Control-Allow-Origin").as_deref(),
        Some("*")
    );
    assert_eq!(
        header(r, "Access-Control-Allow-Methods").as_deref(),
        Some("PURGE")
    );
    assert_eq!(
        header(r, "Access-Control-Allow-Headers").as_deref(),
        Some("x-one,x-two")
    );
    assert_eq!(header(r, "Access-Control-Allow-Credentials"), None);
    assert_eq!(header(r, "Access-Control-Max-Age"), None);
    // with credentials, `*` cannot be sent: the origin is echoed
    let p = p.replace("<cors>", r#"<cors allow-credentials="@(true)">"#);
    let (_, x) = preflight(&p, "http://any.test", "GET", "");
    assert_eq!(
        header(x.response(), "Access-Control-Allow-Origin").as_deref(),
        Some("http://any.test")
    );
}

#[test]
fn an_allowed_actual_request_goes_on_and_its_response_gets_the_headers() {
    let (flow, x) = apply(EXAMPLE, "GET", &[("Origin", "http://localhost:8080")]);
    assert_eq!(flow, Flow::Next);
    let late = late(&x);
    for (name, value) in [
        ("Access-Control-Allow-Origin", "http://localhost:8080"),
        ("Access-Control-Allow-Credentials", "true"),
        (
            "Access-Control-Expose-Headers",
            "x-zumo-installation-id,x-zumo-application",
        ),
    ] {
        assert!(
            late.iter().any(|(n, v)| n == name && v == value),
            "{name} in {late:?}"
        );
    }
}

#[test]
fn the_late_headers_reach_the_backend_response() {
    let stub = Stub::status(200, "{}");
    let doc = format!(
        "<policies><inbound>{}</inbound><backend><forward-request/></backend></policies>",
        simple("<origin>http://a.test</origin>", "")
    );
    let p = fixture::pipeline(&doc).unwrap();
    let mut x = fixture::exchange(Arc::clone(&stub), &[("Origin", "http://a.test")], "{}");
    fixture::run(&p, &mut x);
    assert_eq!(stub.calls().len(), 1);
    let r = x.response();
    assert_eq!(
        header(r, "Access-Control-Allow-Origin").as_deref(),
        Some("http://a.test")
    );
    assert_eq!(
        header(r, "Content-Type").as_deref(),
        Some("application/json")
    );
}

#[test]
fn an_unmatched_simple_request_ends_unless_terminate_is_false() {
    let p = simple("<origin>http://a.test</origin>", "");
    for method in ["GET", "HEAD"] {
        let (flow, x) = apply(&p, method, &[("Origin", "http://b.test")]);
        assert_refused(flow, &x);
    }
    // other methods go on, without CORS headers
    let (flow, x) = apply(&p, "POST", &[("Origin", "http://b.test")]);
    assert_eq!((flow, late(&x).len()), (Flow::Next, 0));
    let p = simple(
        "<origin>http://a.test</origin>",
        r#"terminate-unmatched-request="false""#,
    );
    let (flow, x) = apply(&p, "GET", &[("Origin", "http://b.test")]);
    assert_eq!((flow, late(&x).len()), (Flow::Next, 0));
}

#[test]
fn requests_without_origin_and_options_operations_skip_cors() {
    let (flow, x) = apply(EXAMPLE, "GET", &[]);
    assert_eq!((flow, late(&x).len()), (Flow::Next, 0));
    // the matched operation is an OPTIONS operation: no preflight answer
    let kit = Kit::new();
    let stage = kit.stage(EXAMPLE, Section::Inbound);
    let headers = [
        ("Origin", "http://example.com"),
        ("Access-Control-Request-Method", "GET"),
    ];
    let mut x = kit.exchange(
        request("OPTIONS", "http://h/api/x", &headers),
        "/api",
        Section::Inbound,
    );
    operation(&mut x, "OPTIONS", "/x");
    assert_eq!(run(stage.as_ref(), &mut x), Ok(Flow::Next));
    assert_eq!(header(x.response(), "Access-Control-Allow-Methods"), None);
}
