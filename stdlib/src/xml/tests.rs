use crate::core::RhaiResult;
use rhai::Dynamic;

fn eval(src: &str) -> RhaiResult<Dynamic> {
    let src = format!("fn count(xs) {{ let n = 0; for x in xs {{ n += 1; }} n }} {src}");
    crate::engine(&crate::Limits::default()).eval::<Dynamic>(&src)
}

fn eval_str(src: &str) -> String {
    crate::testing::shown(eval(src))
}

const SOAP: &str = r#"let d = XDocument__Parse("<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><r a=\"1\"><conditionValue>true</conditionValue><value1>M &amp; 1</value1><empty/></r></soap:Body></soap:Envelope>");"#;

fn soap(src: &str) -> String {
    eval_str(&format!(
        "fn first(xs, n) {{ for x in xs {{ if x.Name.LocalName == n {{ return x; }} }} () }} {SOAP} {src}"
    ))
}

#[test]
fn parse_and_navigate() {
    assert_eq!(soap(r#"d.Root.Name.LocalName"#), "Envelope");
    assert_eq!(
        soap(r#"d.Root.Name.NamespaceName"#),
        "http://schemas.xmlsoap.org/soap/envelope/"
    );
    assert_eq!(
        soap(r#"d.Root.Name.ToString()"#),
        "{http://schemas.xmlsoap.org/soap/envelope/}Envelope"
    );
    assert_eq!(
        soap(r#"first(d.Descendants(), "conditionValue").Value"#),
        "true"
    );
    assert_eq!(soap(r#"first(d.Descendants(), "value1").Value"#), "M & 1");
    assert_eq!(soap(r#"d.Descendants("r")[0].Attribute("a").Value"#), "1");
    assert_eq!(soap(r#"d.Descendants("r")[0].Attribute("zz")"#), "");
    assert_eq!(
        soap(
            r#"count(d.Root.Element("{http://schemas.xmlsoap.org/soap/envelope/}Body").Element("r").Elements())"#
        ),
        "3"
    );
    assert_eq!(
        soap(
            r#"let ns = XNamespace__Get("http://schemas.xmlsoap.org/soap/envelope/"); d.Root.Element(ns + "Body").Name.LocalName"#
        ),
        "Body"
    );
    assert_eq!(
        soap(
            r#"let ns = XNamespace__Get("http://schemas.xmlsoap.org/soap/envelope/"); d.Root.Element(__add(ns, "Body")) != ()"#
        ),
        "true"
    );
    assert_eq!(soap(r#"d.Root.Element("Body")"#), "");
    assert_eq!(
        soap(r#"d.Descendants("value1")[0].Parent.Name.LocalName"#),
        "r"
    );
    assert_eq!(soap(r#"d.Descendants("empty")[0].IsEmpty"#), "true");
    assert_eq!(
        soap(r#"d.Root.Name == "{http://schemas.xmlsoap.org/soap/envelope/}Envelope""#),
        "true"
    );
    assert_eq!(
        soap(r#"__cast(d.Descendants("conditionValue")[0], "bool")"#),
        "true"
    );
    assert_eq!(
        soap(r#"__cast(d.Descendants("r")[0].Attribute("a"), "int") + 1"#),
        "2"
    );
    assert_eq!(
        soap(r#"__cast(d.Descendants("value1")[0], "int")"#),
        "!FormatException: Input string was not in a correct format."
    );
}

#[test]
fn to_string_indents_like_xml_writer() {
    assert_eq!(
        soap("d.Root.ToString()"),
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">\n  <soap:Body>\n    <r a=\"1\">\n      <conditionValue>true</conditionValue>\n      <value1>M &amp; 1</value1>\n      <empty />\n    </r>\n  </soap:Body>\n</soap:Envelope>"
    );
    assert_eq!(
        soap(r#"d.Descendants("r")[0].ToString(1)"#),
        "<r a=\"1\"><conditionValue>true</conditionValue><value1>M &amp; 1</value1><empty /></r>"
    );
    assert_eq!(
        eval_str(r#"XElement__Parse("<a>x<b>y</b></a>").ToString()"#),
        "<a>x<b>y</b></a>"
    );
    assert_eq!(
        eval_str(r#"XElement__Parse("<a>\n  <b/>\n</a>").ToString(1)"#),
        "<a><b /></a>"
    );
    assert_eq!(
        eval_str(r#"XElement__Parse("<a></a>").ToString()"#),
        "<a></a>"
    );
    assert_eq!(
        eval_str(
            r#"XElement__new(XName__Get("x", "urn:n"), XElement__new(XName__Get("y", "urn:n"))).ToString(1)"#
        ),
        "<x xmlns=\"urn:n\"><y /></x>"
    );
}

#[test]
fn build_and_mutate() {
    assert_eq!(
        eval_str(
            r#"let e = XElement__new("a", XAttribute__new("k", "v\""), "t", 1, true); e.ToString()"#
        ),
        "<a k=\"v&quot;\">t1true</a>"
    );
    assert_eq!(
        eval_str(
            r#"let e = XElement__new("a"); e.Add(XElement__new("b", "x")); e.SetAttributeValue("id", 5); e.ToString(1)"#
        ),
        "<a id=\"5\"><b>x</b></a>"
    );
    assert_eq!(
        eval_str(
            r#"let e = XElement__Parse("<a id=\"1\"><b/></a>"); e.SetAttributeValue("id", ()); let b = e.Element("b"); b.Value = "v"; e.ToString(1)"#
        ),
        "<a><b>v</b></a>"
    );
    assert_eq!(
        eval_str(
            r#"let e = XElement__Parse("<a><b/><c/></a>"); e.Element("b").Remove(); e.ToString(1)"#
        ),
        "<a><c /></a>"
    );
    assert_eq!(
        eval_str(
            r#"let e = XElement__Parse("<a><b/></a>"); let f = XElement__new("f", e.Element("b")); count(e.Elements()) + count(f.Elements())"#
        ),
        "2"
    );
    assert_eq!(
        eval_str(
            r#"let e = XElement__Parse("<a/>"); e.SetElementValue("k", "v"); e.Value = "w"; e.ToString(1)"#
        ),
        "<a>w</a>"
    );
    assert_eq!(
        eval_str(
            r#"let e = XElement__Parse("<a/>"); e.Add(XAttribute__new("x", 1)); e.Add(XAttribute__new("x", 2))"#
        ),
        "!InvalidOperationException: Duplicate attribute."
    );
    assert_eq!(
        eval_str(r#"let a = XElement__Parse("<a x=\"1\"/>").Attribute("x"); a.ToString()"#),
        "x=\"1\""
    );
}

#[test]
fn malformed_xml_is_an_xml_exception() {
    assert_eq!(
        eval_str(r#"XDocument__Parse("")"#),
        "!XmlException: Root element is missing. Line 1, position 1."
    );
    assert_eq!(
        eval_str(r#"XDocument__Parse("hello")"#),
        "!XmlException: Data at the root level is invalid. Line 1, position 1."
    );
    assert_eq!(
        eval_str(r#"XElement__Parse("<a><b></a>")"#),
        "!XmlException: The 'b' start tag on line 1 position 5 does not match the end tag of 'a'. Line 1, position 9."
    );
    assert!(
        eval_str(r#"XElement__Parse("<a>")"#).starts_with("!XmlException: Unexpected end of file")
    );
    assert_eq!(
        eval_str(r#"XElement__Parse("<a>&foo;</a>")"#),
        "!XmlException: Reference to undeclared entity 'foo'. Line 1, position 5."
    );
    assert_eq!(
        eval_str(r#"XElement__Parse("<a/><b/>")"#),
        "!XmlException: There are multiple root elements. Line 1, position 5."
    );
    assert_eq!(
        eval_str(r#"XElement__Parse("<p:a/>")"#),
        "!XmlException: 'p' is an undeclared prefix. Line 1, position 2."
    );
    assert_eq!(
        eval_str(r#"XElement__Parse("<a>&#65;&#x42;<![CDATA[<c>]]></a>").Value"#),
        "AB<c>"
    );
}

#[test]
fn xml_reader_and_read_from() {
    let src = r#"
        let xml = "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"urn:s\"><soap:Body><Some><Nested>ABC</Nested></Some></soap:Body></soap:Envelope>";
        let reader = XmlReader__Create(xml);
        reader.MoveToContent();
        reader.Read();
        let ret = "";
        while !reader.EOF && ret == "" {
            if reader.Name == "Nested" {
                let el = XNode__ReadFrom(reader);
                ret = el.Value;
            } else {
                reader.Read();
            }
        }
        ret
    "#;
    assert_eq!(eval_str(src), "ABC");
    assert_eq!(
        eval_str(
            r#"let r = XmlReader__Create("<a x='1'><b/></a>"); r.MoveToContent() + r.Name + r.GetAttribute("x")"#
        ),
        "Elementa1"
    );
    assert_eq!(
        eval_str(
            r#"let r = XmlReader__Create("<a><b>t</b></a>"); r.ReadToFollowing("b"); r.ReadElementContentAsString()"#
        ),
        "t"
    );
    assert_eq!(eval_str(r#"XmlNodeType__Element()"#), "Element");
}
