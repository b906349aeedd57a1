use sluice_engine::source::Source;
use sluice_engine::xml::{Limits, parse};

use super::Stylesheet;

fn sheet(xsl: &str) -> Result<Stylesheet, String> {
    let src = Source::new("t.xsl", xsl);
    let (root, d) = parse(&src, &Limits::default());
    assert!(!d.has_errors(), "{d}");
    let root = root.unwrap();
    Stylesheet::compile(&root).map_err(|e| e.message)
}

fn run(xsl: &str, input: &str, params: &[(&str, &str)]) -> String {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    sheet(xsl).unwrap().transform(input, &params).unwrap()
}

const XSL: &str = r#"xmlns:xsl="http://www.w3.org/1999/XSL/Transform""#;

#[test]
fn the_docs_request_example_adds_the_parameter_to_the_root() {
    let xsl = format!(
        r#"<xsl:stylesheet version="1.0" {XSL}>
            <xsl:output method="xml" indent="yes" />
            <xsl:param name="User-Agent" />
            <xsl:template match="* | @* | node()">
                <xsl:copy>
                    <xsl:if test="self::* and not(parent::*)">
                        <xsl:attribute name="User-Agent">
                            <xsl:value-of select="$User-Agent" />
                        </xsl:attribute>
                    </xsl:if>
                    <xsl:apply-templates select="* | @* | node()" />
                </xsl:copy>
            </xsl:template>
        </xsl:stylesheet>"#
    );
    let out = run(
        &xsl,
        r#"<a x="1"><b>t</b><c/></a>"#,
        &[("User-Agent", "curl/8")],
    );
    assert_eq!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<a User-Agent=\"curl/8\" x=\"1\">\n  <b>t</b>\n  <c />\n</a>"
    );
}

#[test]
fn the_docs_response_example_copies_without_the_declaration() {
    let xsl = format!(
        r#"<xsl:stylesheet version="1.0" {XSL}>
            <xsl:output omit-xml-declaration="yes" method="xml" indent="yes" />
            <xsl:template match="node()| @*|*">
                <xsl:copy><xsl:apply-templates select="@* | node()|*" /></xsl:copy>
            </xsl:template>
        </xsl:stylesheet>"#
    );
    assert_eq!(
        run(&xsl, "<a k='v'>x &amp; y</a>", &[]),
        "<a k=\"v\">x &amp; y</a>"
    );
}

#[test]
fn instructions_and_functions() {
    let xsl = format!(
        r#"<xsl:stylesheet version="1.0" {XSL}>
            <xsl:output method="xml" omit-xml-declaration="yes" />
            <xsl:template match="/">
                <list count="{{count(//item)}}">
                    <xsl:for-each select="orders/item[@qty &gt; 1]">
                        <xsl:variable name="n" select="concat('#', position())" />
                        <xsl:element name="line"><xsl:attribute name="n"><xsl:value-of select="$n" /></xsl:attribute>
                            <xsl:choose>
                                <xsl:when test="@qty &gt;= 10">bulk</xsl:when>
                                <xsl:otherwise><xsl:value-of select="translate(name, 'abc', 'ABC')" /></xsl:otherwise>
                            </xsl:choose>
                        </xsl:element>
                    </xsl:for-each>
                    <xsl:call-template name="total"><xsl:with-param name="of" select="sum(//@qty)" /></xsl:call-template>
                    <xsl:copy-of select="orders/note" />
                    <xsl:text> end</xsl:text>
                </list>
            </xsl:template>
            <xsl:template name="total"><xsl:param name="of" /><total><xsl:value-of select="$of" /></total></xsl:template>
        </xsl:stylesheet>"#
    );
    let out = run(
        &xsl,
        "<orders><item qty='1'><name>a</name></item><item qty='2'><name>cab</name></item><item qty='12'><name>z</name></item><note id='n'>hi</note></orders>",
        &[],
    );
    assert_eq!(
        out,
        "<list count=\"3\"><line n=\"#1\">CAB</line><line n=\"#2\">bulk</line><total>15</total><note id=\"n\">hi</note> end</list>"
    );
}

#[test]
fn text_output_and_builtin_rules() {
    let xsl = format!(
        r#"<xsl:stylesheet version="1.0" {XSL}><xsl:output method="text" /></xsl:stylesheet>"#
    );
    assert_eq!(run(&xsl, "<a>x<b>y</b></a>", &[]), "xy");
}

#[test]
fn unsupported_constructs_are_named_when_loading() {
    for (body, says) in [
        (
            "<xsl:template match='/'><xsl:number /></xsl:template>",
            "`<xsl:number>` is not supported",
        ),
        (
            "<xsl:key name='k' match='a' use='b' />",
            "`<xsl:key>` is not supported",
        ),
        (
            "<xsl:template match='/' mode='m' />",
            "modes are not supported",
        ),
        (
            "<xsl:template match='/'><xsl:value-of select='document(\"x\")' /></xsl:template>",
            "`document()` is not supported",
        ),
        (
            "<xsl:template match='/'><xsl:for-each select='a'><xsl:sort /></xsl:for-each></xsl:template>",
            "`<xsl:sort>` is not supported",
        ),
    ] {
        let xsl = format!(r#"<xsl:stylesheet version="1.0" {XSL}>{body}</xsl:stylesheet>"#);
        let e = sheet(&xsl).unwrap_err();
        assert!(e.contains(says), "{e}");
    }
}
