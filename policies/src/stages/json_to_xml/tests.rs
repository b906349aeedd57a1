use serde_json::json;

use super::{Options, to_xml};
use crate::fixture::{Stub, body, header, run_policy};

fn convert(v: serde_json::Value) -> String {
    to_xml(&v, &Options::default())
}

#[test]
fn one_property_is_the_root_else_document() {
    assert_eq!(
        convert(json!({"order": {"id": 7, "paid": true, "note": null}})),
        "<order><id>7</id><paid>true</paid><note /></order>"
    );
    assert_eq!(
        convert(json!({"a": "x", "b": 1.5})),
        "<Document><a>x</a><b>1.5</b></Document>"
    );
    assert_eq!(convert(json!("text")), "<Document>text</Document>");
    assert_eq!(
        convert(json!([1, 2])),
        "<Document><Item>1</Item><Item>2</Item></Document>"
    );
    assert_eq!(
        convert(json!({"a": [1, 2]})),
        "<Document><a>1</a><a>2</a></Document>"
    );
}

#[test]
fn arrays_repeat_their_element_and_text_is_escaped() {
    assert_eq!(
        convert(json!({"r": {"item": [{"n": "a<b"}, {"n": "c&d"}], "none": [], "empty": {}}})),
        "<r><item><n>a&lt;b</n></item><item><n>c&amp;d</n></item><empty /></r>"
    );
}

#[test]
fn attributes_text_and_names() {
    assert_eq!(
        convert(json!({"p": {"@id": "1\"", "#text": "hi", "1st name": "x"}})),
        "<p id=\"1&quot;\">hi<_x0031_st_x0020_name>x</_x0031_st_x0020_name></p>"
    );
}

#[test]
fn the_docs_soap_example() {
    let v = json!({
      "soapenv:Envelope": {
        "xmlns:soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
        "xmlns:v1": "http://localdomain.com/core/v1",
        "soapenv:Header": {},
        "soapenv:Body": {
          "v1:QueryList": {
            "#attrs": { "queryName": "test" },
            "v1:QueryItem": { "name": "dummy text" }
          }
        }
      }
    });
    let o = Options {
        separator: ':',
        namespace_prefix: Some("xmlns".into()),
        attribute_block: Some("#attrs".into()),
    };
    assert_eq!(
        to_xml(&v, &o),
        concat!(
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v1="http://localdomain.com/core/v1">"#,
            "<soapenv:Header /><soapenv:Body>",
            r#"<v1:QueryList queryName="test"><v1:QueryItem><name>dummy text</name></v1:QueryItem></v1:QueryList>"#,
            "</soapenv:Body></soapenv:Envelope>"
        )
    );
    // With the default separator `_`, a prefix is not a namespace.
    assert_eq!(convert(json!({"soapenv:Header": {}})), "<soapenv_Header />");
}

/// Outbound conversion on the response, as the docs' example does.
fn run_outbound(policy: &str, accept: Option<&str>) -> (String, Option<String>) {
    let stub = Stub::new(|_, _| {
        let mut r = crate::fixture::response(200, r#"{"a": {"b": 1}}"#);
        r.headers.set(
            "Content-Type",
            vec!["application/json; charset=utf-8".into()],
        );
        Ok(r)
    });
    let doc = format!(
        r#"<policies><inbound /><backend><forward-request /></backend><outbound>{policy}</outbound></policies>"#
    );
    let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
    let x = run_policy(&doc, &stub, &headers, "");
    (body(x.response()), header(x.response(), "Content-Type"))
}

#[test]
fn converts_the_response_when_apply_and_accept_allow() {
    let p = r#"<json-to-xml apply="always" consider-accept-header="false" />"#;
    let (b, ct) = run_outbound(p, None);
    assert_eq!(b, "<a><b>1</b></a>");
    assert_eq!(ct.as_deref(), Some("application/xml"));
}

#[test]
fn consider_accept_header_defaults_to_true() {
    let p = r#"<json-to-xml apply="content-type-json" />"#;
    let (b, _) = run_outbound(p, None);
    assert_eq!(b, r#"{"a": {"b": 1}}"#, "no Accept asking for XML");
    let (b, _) = run_outbound(p, Some("application/json"));
    assert_eq!(b, r#"{"a": {"b": 1}}"#);
    let (b, ct) = run_outbound(p, Some("application/xml"));
    assert_eq!(b, "<a><b>1</b></a>");
    assert_eq!(ct.as_deref(), Some("application/xml"));
}

#[test]
fn content_type_json_needs_a_json_content_type() {
    let stub = Stub::new(|_, _| {
        let mut r = crate::fixture::response(200, r#"{"a": 1}"#);
        r.headers.set_one("Content-Type", "text/plain".into());
        Ok(r)
    });
    let doc = r#"<policies><inbound /><backend><forward-request /></backend><outbound><json-to-xml apply="content-type-json" consider-accept-header="false" /></outbound></policies>"#;
    let x = run_policy(doc, &stub, &[], "");
    assert_eq!(body(x.response()), r#"{"a": 1}"#);
    // apply="always" converts whatever the Content-Type says.
    let x = run_policy(&doc.replace("content-type-json", "always"), &stub, &[], "");
    assert_eq!(body(x.response()), "<a>1</a>");
}

#[test]
fn converts_the_request_in_inbound_and_leaves_bad_json() {
    let stub = Stub::status(200, "");
    let doc = r#"<policies><inbound><json-to-xml apply="always" consider-accept-header="false" /></inbound><backend><forward-request /></backend></policies>"#;
    run_policy(doc, &stub, &[], r#"{"q": "x"}"#);
    assert_eq!(String::from_utf8_lossy(&stub.calls()[0].body), "<q>x</q>");
    assert_eq!(
        stub.calls()[0]
            .headers
            .get("Content-Type")
            .map(|v| v.to_vec()),
        Some(vec!["application/xml".to_owned()])
    );
    let stub = Stub::status(200, "");
    run_policy(doc, &stub, &[], "{not json");
    assert_eq!(String::from_utf8_lossy(&stub.calls()[0].body), "{not json");
}
