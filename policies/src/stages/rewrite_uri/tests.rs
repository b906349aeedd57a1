//! Unit tests of `rewrite-uri`: the documented behaviour, driven through single stages.

use sluice_engine::runtime::{Message, PolicyError};
use sluice_engine::schema::Section;

use crate::testkit::{Kit, operation, request, run};

/// Runs `policy` on `url` routed to an operation with `template` that
/// matched `matched`; the request URL afterwards (path and query).
fn rewrite(
    policy: &str,
    template: &str,
    url: &str,
    matched: &[(&str, &str)],
) -> Result<String, PolicyError> {
    let kit = Kit::new();
    let stage = kit.stage(policy, Section::Inbound);
    let req = Message {
        matched: matched
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..request("GET", url, &[])
    };
    let mut x = kit.exchange(req, "/api", Section::Inbound);
    operation(&mut x, "GET", template);
    run(stage.as_ref(), &mut x)?;
    assert_eq!(
        x.request().read(|m| m.original_url.to_string()),
        url,
        "OriginalUrl does not change"
    );
    Ok(x.request()
        .read(|m| format!("{}{}", m.url.path, m.url.query_string())))
}

#[test]
fn query_parameters_not_in_the_operation_template_are_copied() {
    // The docs: request /get?a=b&c=d, operation template /get?a={b}, template /put → /put?c=d.
    let r = rewrite(
        r#"<rewrite-uri template="/put" />"#,
        "/get?a={b}",
        "http://h/api/get?a=b&c=d",
        &[("b", "b")],
    );
    assert_eq!(r.unwrap(), "/api/put?c=d");
}

#[test]
fn copy_unmatched_params_false_drops_them() {
    // The docs: the same request with copy-unmatched-params="false" → /put.
    let r = rewrite(
        r#"<rewrite-uri template="/put" copy-unmatched-params="false" />"#,
        "/get?a={b}",
        "http://h/api/get?a=b&c=d",
        &[("b", "b")],
    );
    assert_eq!(r.unwrap(), "/api/put");
}

#[test]
fn placeholders_take_matched_parameters_and_the_template_adds_query() {
    // The docs' first example.
    let r = rewrite(
        r#"<rewrite-uri template="/v2/US/hardware/{storenumber}&amp;{ordernumber}?City=city&amp;State=state" />"#,
        "/{storenumber}/{ordernumber}",
        "http://h/api/123/456?x=1",
        &[("storenumber", "123"), ("ordernumber", "456")],
    );
    assert_eq!(
        r.unwrap(),
        "/api/v2/US/hardware/123&456?City=city&State=state&x=1"
    );
}

#[test]
fn a_matched_query_parameter_is_kept_when_the_new_template_uses_it() {
    let r = rewrite(
        r#"<rewrite-uri template="/items/{id}?mode={m}" />"#,
        "/get/{id}?mode={m}",
        "http://h/api/get/7?mode=fast&other=1",
        &[("id", "7"), ("m", "fast")],
    );
    assert_eq!(r.unwrap(), "/api/items/7?mode=fast&other=1");
}

#[test]
fn values_are_encoded_in_the_path_and_templates_may_be_expressions() {
    let r = rewrite(
        r#"<rewrite-uri template="@("/v" + (1 + 1).ToString() + "/{name}")" />"#,
        "/{name}",
        "http://h/api/a%20b",
        &[("name", "a b")],
    );
    assert_eq!(r.unwrap(), "/api/v2/a%20b");
    // a template without a leading slash is still relative to the API
    let r = rewrite(r#"<rewrite-uri template="x" />"#, "/", "http://h/api/", &[]);
    assert_eq!(r.unwrap(), "/api/x");
}

#[test]
fn a_placeholder_the_operation_did_not_match_is_an_error() {
    let e = rewrite(
        r#"<rewrite-uri template="/{nope}" />"#,
        "/{id}",
        "http://h/api/1",
        &[("id", "1")],
    )
    .unwrap_err();
    assert_eq!(e.source, "rewrite-uri");
    assert_eq!(e.reason.as_str(), "TemplateParameterNotFound");
    assert_eq!(e.status, 500);
}
