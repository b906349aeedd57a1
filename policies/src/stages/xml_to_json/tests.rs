use serde_json::json;

use super::{Kind, to_json};
use crate::fixture::{Stub, body, header, response, run_policy};
use crate::xml_tree::parse;

fn direct(xml: &str) -> serde_json::Value {
    to_json(&parse(xml).unwrap(), Kind::default())
}

fn friendly(xml: &str) -> serde_json::Value {
    let k = Kind {
        friendly: true,
        always_array: false,
    };
    to_json(&parse(xml).unwrap(), k)
}

const ORDER: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<ns:order xmlns:ns="urn:o" id="7">
  <ns:item sku="a">Pen</ns:item>
  <ns:item sku="b">Ink</ns:item>
  <note>fast &amp; cheap</note>
  <gift/>
  <empty></empty>
  <![CDATA[raw <text>]]>
</ns:order>"#;

#[test]
fn direct_mirrors_the_document() {
    assert_eq!(
        direct(ORDER),
        json!({
            "?xml": {"@version": "1.0", "@encoding": "utf-8"},
            "ns:order": {
                "@xmlns:ns": "urn:o",
                "@id": "7",
                "ns:item": [
                    {"@sku": "a", "#text": "Pen"},
                    {"@sku": "b", "#text": "Ink"}
                ],
                "note": "fast & cheap",
                "gift": null,
                "empty": "",
                "#cdata-section": "raw <text>"
            }
        })
    );
}

#[test]
fn javascript_friendly_drops_the_xml_details() {
    assert_eq!(
        friendly(ORDER),
        json!({
            "order": {
                "id": "7",
                "item": [
                    {"sku": "a", "#text": "Pen"},
                    {"sku": "b", "#text": "Ink"}
                ],
                "note": "fast & cheap",
                "gift": null,
                "empty": "",
                "#text": "raw <text>"
            }
        })
    );
}

#[test]
fn always_array_child_elements() {
    let xml = "<r><a>1</a><b><c>2</c></b></r>";
    assert_eq!(direct(xml), json!({"r": {"a": "1", "b": {"c": "2"}}}));
    let k = Kind {
        friendly: false,
        always_array: true,
    };
    assert_eq!(
        to_json(&parse(xml).unwrap(), k),
        json!({"r": {"a": ["1"], "b": [{"c": ["2"]}]}})
    );
}

fn backend_xml(content_type: &'static str) -> std::sync::Arc<Stub> {
    Stub::new(move |_, _| {
        let mut r = response(200, "<r><a>1</a></r>");
        r.headers.set_one("Content-Type", content_type.into());
        Ok(r)
    })
}

fn outbound(policy: &str) -> String {
    format!(
        r#"<policies><inbound /><backend><forward-request /></backend><outbound>{policy}</outbound></policies>"#
    )
}

#[test]
fn the_docs_example_converts_the_response() {
    let stub = backend_xml("text/xml");
    let p =
        outbound(r#"<xml-to-json kind="direct" apply="always" consider-accept-header="false" />"#);
    let x = run_policy(&p, &stub, &[], "");
    assert_eq!(body(x.response()), r#"{"r":{"a":"1"}}"#);
    assert_eq!(
        header(x.response(), "Content-Type").as_deref(),
        Some("application/json")
    );
}

#[test]
fn apply_and_accept_decide() {
    let p = outbound(r#"<xml-to-json kind="javascript-friendly" apply="content-type-xml" />"#);
    // Accept does not ask for JSON: unchanged.
    let x = run_policy(
        &p,
        &backend_xml("application/xml"),
        &[("Accept", "text/html")],
        "",
    );
    assert_eq!(body(x.response()), "<r><a>1</a></r>");
    // Accept asks for JSON and the Content-Type is XML: converted.
    let x = run_policy(
        &p,
        &backend_xml("application/xml"),
        &[("Accept", "application/json")],
        "",
    );
    assert_eq!(body(x.response()), r#"{"r":{"a":"1"}}"#);
    // The Content-Type is not XML: unchanged.
    let x = run_policy(
        &p,
        &backend_xml("text/plain"),
        &[("Accept", "application/json")],
        "",
    );
    assert_eq!(body(x.response()), "<r><a>1</a></r>");
}

#[test]
fn a_body_that_is_not_xml_is_left_alone() {
    let stub = Stub::status(200, "not <xml");
    let p =
        outbound(r#"<xml-to-json kind="direct" apply="always" consider-accept-header="false" />"#);
    let x = run_policy(&p, &stub, &[], "");
    assert_eq!(body(x.response()), "not <xml");
}

#[test]
fn attributes_may_be_expressions() {
    let p = outbound(
        r#"<xml-to-json kind="@("direct")" apply="@("always")" consider-accept-header="@(false)" always-array-child-elements="@(true)" />"#,
    );
    let x = run_policy(&p, &backend_xml("text/xml"), &[], "");
    assert_eq!(body(x.response()), r#"{"r":{"a":["1"]}}"#);
}
