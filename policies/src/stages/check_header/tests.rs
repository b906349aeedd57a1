//! Unit tests of `check-header`: the documented behaviour, driven through single stages.

use sluice_engine::runtime::{Flow, PolicyError};
use sluice_engine::schema::Section;

use crate::testkit::{Kit, request, run};

/// The docs' example.
const EXAMPLE: &str = r#"<check-header name="Authorization" failed-check-httpcode="401" failed-check-error-message="Not authorized" ignore-case="false">
    <value>f6dc69a089844cf6b2019bae6d36fac8</value>
</check-header>"#;

fn check(policy: &str, headers: &[(&str, &str)]) -> Result<Flow, PolicyError> {
    let kit = Kit::new();
    let stage = kit.stage(policy, Section::Inbound);
    let mut x = kit.exchange(
        request("GET", "http://h/api/x", headers),
        "/api",
        Section::Inbound,
    );
    run(stage.as_ref(), &mut x)
}

#[test]
fn an_allowed_value_passes() {
    let r = check(
        EXAMPLE,
        &[("Authorization", "f6dc69a089844cf6b2019bae6d36fac8")],
    );
    assert_eq!(r, Ok(Flow::Next));
}

#[test]
fn a_missing_header_fails_with_header_not_found() {
    let e = check(EXAMPLE, &[]).unwrap_err();
    assert_eq!(e.source, "check-header");
    assert_eq!(e.reason.as_str(), "HeaderNotFound");
    assert_eq!(
        e.message,
        "Header Authorization was not found in the request. Access denied."
    );
    assert_eq!(e.status, 401);
    assert_eq!(e.response_message.as_deref(), Some("Not authorized"));
}

#[test]
fn a_value_not_listed_fails_with_header_value_not_allowed() {
    let e = check(EXAMPLE, &[("Authorization", "wrong")]).unwrap_err();
    assert_eq!(e.reason.as_str(), "HeaderValueNotAllowed");
    assert_eq!(
        e.message,
        "Header Authorization value of wrong is not allowed. Access denied."
    );
    assert_eq!(e.status, 401);
    assert_eq!(e.response_message.as_deref(), Some("Not authorized"));
}

#[test]
fn ignore_case_compares_values_case_insensitively() {
    let upper = [("Authorization", "F6DC69A089844CF6B2019BAE6D36FAC8")];
    assert!(check(EXAMPLE, &upper).is_err());
    let insensitive = EXAMPLE.replace(r#"ignore-case="false""#, r#"ignore-case="true""#);
    assert_eq!(check(&insensitive, &upper), Ok(Flow::Next));
    // header names are always case-insensitive
    assert_eq!(
        check(
            EXAMPLE,
            &[("authorization", "f6dc69a089844cf6b2019bae6d36fac8")]
        ),
        Ok(Flow::Next)
    );
}

#[test]
fn without_values_only_presence_is_checked() {
    let p = r#"<check-header name="X-Key" failed-check-httpcode="403" failed-check-error-message="no key" ignore-case="true" />"#;
    assert_eq!(check(p, &[("X-Key", "anything")]), Ok(Flow::Next));
    let e = check(p, &[]).unwrap_err();
    assert_eq!((e.status, e.reason.as_str()), (403, "HeaderNotFound"));
}

#[test]
fn any_of_several_values_and_expressions() {
    let p = r#"<check-header name="@("X-" + "Tier")" failed-check-httpcode="@(400 + 3)" failed-check-error-message="@("tier " + "refused")" ignore-case="false">
        <value>gold</value><value>@("sil" + "ver")</value>
    </check-header>"#;
    assert_eq!(check(p, &[("X-Tier", "silver")]), Ok(Flow::Next));
    assert_eq!(
        check(p, &[("X-Tier", "bronze"), ("X-Tier", "gold")]),
        Ok(Flow::Next)
    );
    let e = check(p, &[("X-Tier", "bronze")]).unwrap_err();
    assert_eq!(e.status, 403);
    assert_eq!(e.response_message.as_deref(), Some("tier refused"));
}
