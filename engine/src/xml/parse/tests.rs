use super::*;

fn parse_str(s: &str) -> (Option<Element>, Diagnostics) {
    parse(&Source::new("t.xml", s), &Limits::default())
}

fn codes(d: &Diagnostics) -> Vec<&'static str> {
    d.iter().map(|d| d.code.as_str()).collect()
}

#[test]
fn unescaped_expressions_in_attributes_and_text() {
    let doc = r#"<policies><inbound>
  <set-header name="ua" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("User-Agent",""))</value></set-header>
  <set-variable name="ok" value="@(context.Response.StatusCode >= 200 && context.Response.StatusCode < 400)" />
  <set-body>@{ var s = "<a>"; return s + "</a>"; }</set-body>
</inbound></policies>"#;
    let (root, diags) = parse_str(doc);
    assert!(diags.is_empty(), "{diags}");
    let root = root.unwrap();
    let inbound = root.elements().next().unwrap();
    let items: Vec<&Element> = inbound.elements().collect();
    assert_eq!(
        items[0].elements().next().unwrap().text().value,
        r#"@(context.Request.Headers.GetValueOrDefault("User-Agent",""))"#
    );
    assert_eq!(
        items[1].attr("value").unwrap().value.value,
        "@(context.Response.StatusCode >= 200 && context.Response.StatusCode < 400)"
    );
    assert_eq!(
        items[2].text().value,
        r#"@{ var s = "<a>"; return s + "</a>"; }"#
    );
}

#[test]
fn escaped_forms_decode_and_keep_source_offsets() {
    let doc = r#"<policies><set-variable name="x" value="@(1 &lt; 2 &amp;&amp; &quot;a&quot; == &quot;a&quot;)" /></policies>"#;
    let (root, diags) = parse_str(doc);
    assert!(diags.is_empty(), "{diags}");
    let root = root.unwrap();
    let v = &root.elements().next().unwrap().attr("value").unwrap().value;
    assert_eq!(v.value, r#"@(1 < 2 && "a" == "a")"#);
    // The `2` after the decoded `<` maps back to its place in the file.
    let two = v.value.find('2').unwrap();
    assert_eq!(&doc[v.source_offset(two)..v.source_offset(two) + 1], "2");
}

#[test]
fn spacing_quotes_comments_cdata_declaration() {
    let doc = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- c -->\n<policies>\n <inbound >\n  <set-header name ='x' exists-action= \"skip\" >\n   <value><![CDATA[a<b]]></value>\n  </set-header>\n  <!-- between -->\n </inbound>\n</policies>\n<!-- after -->\n";
    let (root, diags) = parse_str(doc);
    assert!(diags.is_empty(), "{diags}");
    let root = root.unwrap();
    let sh = root.elements().next().unwrap().elements().next().unwrap();
    assert_eq!(sh.attr("name").unwrap().value.value, "x");
    assert_eq!(sh.attr("exists-action").unwrap().value.value, "skip");
    assert_eq!(sh.elements().next().unwrap().text().value, "a<b");
}

#[test]
fn character_references() {
    let (root, diags) = parse_str("<p a=\"&#65;&#x42;\">&#x263A;</p>");
    assert!(diags.is_empty(), "{diags}");
    let root = root.unwrap();
    assert_eq!(root.attr("a").unwrap().value.value, "AB");
    assert_eq!(root.text().value, "\u{263A}");
}

#[test]
fn named_values_pass_through_as_text() {
    let (root, diags) = parse_str(r#"<p a="x{{nv}}y">{{other}}</p>"#);
    assert!(diags.is_empty(), "{diags}");
    let root = root.unwrap();
    assert_eq!(root.attr("a").unwrap().value.value, "x{{nv}}y");
    assert_eq!(root.text().value, "{{other}}");
}

#[test]
fn reports_every_problem_with_positions() {
    let doc = "<policies>\n  <inbound>\n    <a x=1 />\n    <b y=\"1\" y=\"2\"/>\n    <c>&bogus; & </c>\n  </outbound>\n</policies>";
    let (_, diags) = parse_str(doc);
    // `</outbound>` closes nothing; `</policies>` then finds `<inbound>` still open.
    assert_eq!(
        codes(&diags),
        ["E0104", "E0105", "E0107", "W0503", "E0102", "E0102"]
    );
    let at: Vec<String> = diags.iter().map(|d| d.location()).collect();
    assert_eq!(
        at,
        [
            "t.xml:3:10",
            "t.xml:4:14",
            "t.xml:5:8",
            "t.xml:5:16",
            "t.xml:6:5",
            "t.xml:7:3"
        ]
    );
}

#[test]
fn unclosed_and_mismatched_elements() {
    let (_, diags) = parse_str("<policies><inbound><x></inbound></policies>");
    assert_eq!(codes(&diags), ["E0102"]);
    assert!(
        diags
            .iter()
            .next()
            .unwrap()
            .help
            .as_deref()
            .unwrap()
            .contains("`<x>`")
    );
    let (_, diags) = parse_str("<policies><inbound>");
    assert_eq!(codes(&diags), ["E0101", "E0101"]);
}

#[test]
fn unterminated_expression_points_at_its_start() {
    let (_, diags) =
        parse_str("<policies>\n<set-variable name=\"a\" value=\"@(foo(\" />\n</policies>");
    let d = diags.iter().next().unwrap();
    assert_eq!(d.code, Code::UnterminatedExpression);
    assert_eq!(d.location(), "t.xml:2:31");
}

#[test]
fn content_outside_root_and_empty() {
    let (_, diags) = parse_str("<a/><b/>");
    assert_eq!(codes(&diags), ["E0108"]);
    let (_, diags) = parse_str("  <!-- only -->  ");
    assert_eq!(codes(&diags), ["E0112"]);
    let (_, diags) = parse_str("text<a/>");
    assert_eq!(codes(&diags), ["E0108"]);
}

#[test]
fn limits_are_errors_not_crashes() {
    let limits = Limits {
        max_document_bytes: 10,
        ..Limits::default()
    };
    let (root, diags) = parse(&Source::new("t", "<policies></policies>"), &limits);
    assert!(root.is_none());
    assert_eq!(codes(&diags), ["E0109"]);
    let deep = "<a>".repeat(100);
    let (_, diags) = parse_str(&deep);
    assert_eq!(codes(&diags), ["E0110"]);
}

#[test]
fn attribute_value_running_into_markup() {
    let (root, diags) =
        parse_str("<policies>\n<set-header name=\"x>\n<value>1</value></set-header></policies>");
    assert_eq!(codes(&diags)[0], "E0104");
    assert!(root.is_some());
}
