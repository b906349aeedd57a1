use crate::testing::eval_str;

#[test]
fn url_encoding_web_and_http_utility() {
    assert_eq!(
        eval_str(r#"WebUtility__UrlEncode("a b&c=d/é")"#),
        "a+b%26c%3Dd%2F%C3%A9"
    );
    assert_eq!(
        eval_str(r#"HttpUtility__UrlEncode("a b&c=d/é")"#),
        "a+b%26c%3dd%2f%c3%a9"
    );
    assert_eq!(
        eval_str(r#"WebUtility__UrlEncode("-_.!*()~'")"#),
        "-_.!*()%7E%27"
    );
    assert_eq!(
        eval_str(
            r#"WebUtility__UrlEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")"#
        ),
        "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
    );
    assert_eq!(eval_str("WebUtility__UrlEncode(())"), "");
    assert_eq!(eval_str("type_of(WebUtility__UrlEncode(()))"), "()");
    assert_eq!(
        eval_str(r#"HttpUtility__UrlPathEncode("/a b/é?x=y z")"#),
        "/a%20b/%c3%a9?x=y z"
    );
}

#[test]
fn url_decoding() {
    assert_eq!(
        eval_str(r#"WebUtility__UrlDecode("a+b%26%C3%A9%zz%4")"#),
        "a b&é%zz%4"
    );
    assert_eq!(eval_str(r#"WebUtility__UrlDecode("%E9x")"#), "\u{FFFD}x");
    assert_eq!(eval_str(r#"WebUtility__UrlDecode("%u00e9")"#), "%u00e9");
    assert_eq!(
        eval_str(r#"HttpUtility__UrlDecode("%u00e9%uD83D%uDE00+%2b")"#),
        "é😀 +"
    );
    assert_eq!(
        eval_str(r#"WebUtility__UrlDecode(WebUtility__UrlDecode("%253D"))"#),
        "="
    );
    assert_eq!(eval_str("type_of(HttpUtility__UrlDecode(()))"), "()");
}

#[test]
fn html_encoding() {
    assert_eq!(
        eval_str(r#"WebUtility__HtmlEncode("<a href=\"x\">'&'</a> é 😀 ok")"#),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; &#233; &#128512; ok"
    );
    assert_eq!(eval_str(r#"HttpUtility__HtmlEncode("a<b")"#), "a&lt;b");
    assert_eq!(
        eval_str(r#"HttpUtility__HtmlAttributeEncode("<a>&\"'")"#),
        "&lt;a>&amp;&quot;&#39;"
    );
    assert_eq!(
        eval_str(
            r#"WebUtility__HtmlDecode("&lt;&amp;&quot;&#39;&#x41;&#66;&eacute;&euro;&hearts;&bogus;&#xZZ;&AMP; & x")"#
        ),
        "<&\"'ABé€♥&bogus;&#xZZ;&AMP; & x"
    );
    assert_eq!(
        eval_str(r#"WebUtility__HtmlDecode("&#128512;&#xD800;")"#),
        "😀&#xD800;"
    );
    assert_eq!(eval_str("type_of(WebUtility__HtmlEncode(()))"), "()");
}

#[test]
fn uri_escaping() {
    assert_eq!(
        eval_str(r#"Uri__EscapeDataString("a b/é~*:?=&")"#),
        "a%20b%2F%C3%A9~%2A%3A%3F%3D%26"
    );
    assert_eq!(
        eval_str(r#"Uri__EscapeUriString("http://x/a b?q=1#f%")"#),
        "http://x/a%20b?q=1#f%25"
    );
    assert_eq!(
        eval_str(r#"Uri__UnescapeDataString("a%20b%2F%C3%A9%FF%zz+")"#),
        "a b/é%FF%zz+"
    );
    assert_eq!(
        eval_str(r#"Uri__UnescapeDataString(Uri__EscapeDataString("x y/😀"))"#),
        "x y/😀"
    );
    assert_eq!(
        eval_str("Uri__EscapeDataString(())"),
        "!ArgumentNullException: Value cannot be null. (Parameter 'stringToEscape')"
    );
    assert_eq!(eval_str("Uri__HexEscape(' ')"), "%20");
}

#[test]
fn parse_query_string() {
    let q = r#"let q = HttpUtility__ParseQueryString("?a=1&b=x+y&A=2&flag&c=%3D");"#;
    assert_eq!(eval_str(&format!(r#"{q} q["a"]"#)), "1,2");
    assert_eq!(eval_str(&format!(r#"{q} q["B"]"#)), "x y");
    assert_eq!(eval_str(&format!(r#"{q} q["c"]"#)), "=");
    assert_eq!(eval_str(&format!(r#"{q} q[()]"#)), "flag");
    assert_eq!(eval_str(&format!(r#"{q} type_of(q["missing"])"#)), "()");
    assert_eq!(eval_str(&format!("{q} q.Count")), "4");
    assert_eq!(
        eval_str(&format!("{q} q.AllKeys")),
        "[\"a\", \"b\", (), \"c\"]"
    );
    assert_eq!(
        eval_str(&format!("{q} q.GetValues(\"a\")")),
        "[\"1\", \"2\"]"
    );
    assert_eq!(
        eval_str(&format!("{q} q.ToString()")),
        "a=1&a=2&b=x+y&flag&c=%3d"
    );
    assert_eq!(
        eval_str(&format!(
            r#"{q} q["b"] = "new"; q.Remove("a"); q.ToString()"#
        )),
        "b=new&flag&c=%3d"
    );
    assert_eq!(
        eval_str(&format!("{q} let n = 0; for k in q {{ n += 1; }} n")),
        "4"
    );
    assert_eq!(eval_str(r#"HttpUtility__ParseQueryString("").Count"#), "0");
    assert_eq!(
        eval_str(r#"HttpUtility__ParseQueryString("a=1&").Count"#),
        "2"
    );
    assert_eq!(
        eval_str("HttpUtility__ParseQueryString(())"),
        "!ArgumentNullException: Value cannot be null. (Parameter 'query')"
    );
}

#[test]
fn uri_parts() {
    let u = r#"let u = Uri__new("HTTPS://User@Example.COM:8443/a/./b/../c%20d/e f?x=1 2#frag");"#;
    for (member, want) in [
        ("Scheme", "https"),
        ("Host", "example.com"),
        ("Port", "8443"),
        ("Authority", "example.com:8443"),
        ("UserInfo", "User"),
        ("AbsolutePath", "/a/c%20d/e%20f"),
        ("LocalPath", "/a/c d/e f"),
        ("Query", "?x=1%202"),
        ("Fragment", "#frag"),
        ("PathAndQuery", "/a/c%20d/e%20f?x=1%202"),
        (
            "AbsoluteUri",
            "https://User@example.com:8443/a/c%20d/e%20f?x=1%202#frag",
        ),
        ("Segments", "[\"/\", \"a/\", \"c%20d/\", \"e%20f\"]"),
        ("IsDefaultPort", "false"),
        ("IsAbsoluteUri", "true"),
        (
            "ToString()",
            "https://User@example.com:8443/a/c d/e f?x=1 2#frag",
        ),
        (
            "GetLeftPart(UriPartial__Authority())",
            "https://User@example.com:8443",
        ),
        (
            "GetLeftPart(UriPartial__Path())",
            "https://User@example.com:8443/a/c%20d/e%20f",
        ),
    ] {
        assert_eq!(eval_str(&format!("{u} u.{member}")), want, "{member}");
    }
    let plain = r#"let u = Uri__new("http://example.com");"#;
    assert_eq!(eval_str(&format!("{plain} u.Port")), "80");
    assert_eq!(eval_str(&format!("{plain} u.AbsolutePath")), "/");
    assert_eq!(
        eval_str(&format!("{plain} u.AbsoluteUri")),
        "http://example.com/"
    );
    assert_eq!(eval_str(&format!("{plain} u.Query")), "");
    assert_eq!(eval_str(&format!("{plain} u.Segments")), "[\"/\"]");
    assert_eq!(
        eval_str(r#"Uri__new("https://example.com:443/x").AbsoluteUri"#),
        "https://example.com/x"
    );
    assert_eq!(eval_str(r#"Uri__new("https://example.com/x").Port"#), "443");
    assert_eq!(eval_str(r#"Uri__new("http://[::1]:8080/").Host"#), "[::1]");
    assert_eq!(
        eval_str(r#"Uri__new("http://[::1]:8080/").DnsSafeHost"#),
        "::1"
    );
    assert_eq!(
        eval_str(r#"Uri__new("http://localhost\\a\\b").AbsolutePath"#),
        "/a/b"
    );
    assert_eq!(
        eval_str(r#"Uri__new("http://A.com/x#f") == Uri__new("http://a.com/x")"#),
        "true"
    );
}

#[test]
fn uri_errors_and_kinds() {
    assert_eq!(
        eval_str(r#"Uri__new("not a uri")"#),
        "!UriFormatException: Invalid URI: The format of the URI could not be determined."
    );
    assert_eq!(
        eval_str(r#"Uri__new("")"#),
        "!UriFormatException: Invalid URI: The URI is empty."
    );
    assert_eq!(
        eval_str(r#"Uri__new("http://host:99999/")"#),
        "!UriFormatException: Invalid URI: Invalid port specified."
    );
    assert_eq!(
        eval_str(r#"Uri__new("http:///path")"#),
        "!UriFormatException: Invalid URI: The hostname could not be parsed."
    );
    assert_eq!(
        eval_str(r#"Uri__new("http://ho st/")"#),
        "!UriFormatException: Invalid URI: The hostname could not be parsed."
    );
    assert_eq!(
        eval_str("Uri__new(())"),
        "!ArgumentNullException: Value cannot be null. (Parameter 'uriString')"
    );
    let rel = r#"let u = Uri__new("/relative?x", UriKind__Relative());"#;
    assert_eq!(eval_str(&format!("{rel} u.IsAbsoluteUri")), "false");
    assert_eq!(eval_str(&format!("{rel} u.ToString()")), "/relative?x");
    assert_eq!(eval_str(&format!("{rel} u.OriginalString")), "/relative?x");
    assert_eq!(
        eval_str(&format!("{rel} u.Host")),
        "!InvalidOperationException: This operation is not supported for a relative URI."
    );
    assert_eq!(
        eval_str(r#"Uri__new("http://x", UriKind__Relative())"#),
        "!UriFormatException: A relative URI cannot be created because the 'uriString' parameter represents an absolute URI."
    );
    assert_eq!(
        eval_str(r#"Uri__new("page.html", UriKind__RelativeOrAbsolute()).IsAbsoluteUri"#),
        "false"
    );
    assert_eq!(
        eval_str(r#"Uri__new("http://x/", UriKind__RelativeOrAbsolute()).IsAbsoluteUri"#),
        "true"
    );
    assert_eq!(
        eval_str(r#"Uri__TryCreate__out("no scheme", UriKind__Absolute())[0]"#),
        "false"
    );
    assert_eq!(
        eval_str(r#"type_of(Uri__TryCreate__out("no scheme", UriKind__Absolute())[1])"#),
        "()"
    );
    assert_eq!(
        eval_str(r#"Uri__TryCreate__out("https://ok.example/p", UriKind__Absolute())[1].Host"#),
        "ok.example"
    );
    assert_eq!(
        eval_str(r#"Uri__IsWellFormedUriString("https://ok.example/p", UriKind__Absolute())"#),
        "true"
    );
    assert_eq!(
        eval_str(r#"Uri__IsWellFormedUriString("https://ok.example/a b", UriKind__Absolute())"#),
        "false"
    );
}

#[test]
fn uri_resolution_rfc3986_examples() {
    let base = r#"Uri__new("http://a/b/c/d;p?q")"#;
    for (rel, want) in [
        ("g", "http://a/b/c/g"),
        ("./g", "http://a/b/c/g"),
        ("g/", "http://a/b/c/g/"),
        ("/g", "http://a/g"),
        ("//g", "http://g/"),
        ("?y", "http://a/b/c/d;p?y"),
        ("g?y", "http://a/b/c/g?y"),
        ("#s", "http://a/b/c/d;p?q#s"),
        ("", "http://a/b/c/d;p?q"),
        ("..", "http://a/b/"),
        ("../g", "http://a/b/g"),
        ("../..", "http://a/"),
        ("../../../g", "http://a/g"),
        ("/./g", "http://a/g"),
        ("https://other/x", "https://other/x"),
    ] {
        assert_eq!(
            eval_str(&format!(r#"Uri__new({base}, "{rel}").AbsoluteUri"#)),
            want,
            "{rel}"
        );
    }
    assert_eq!(
        eval_str(&format!(
            r#"Uri__TryCreate__out({base}, "g")[1].AbsoluteUri"#
        )),
        "http://a/b/c/g"
    );
}
