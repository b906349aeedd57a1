use super::*;

fn check(xml: &str) -> Vec<String> {
    check_with(xml, &LoadOptions::default())
}

fn check_with(xml: &str, opts: &LoadOptions<'_>) -> Vec<String> {
    let (_, diags) = load(&Source::new("p.xml", xml), opts);
    diags
        .iter()
        .map(|d| format!("{} {}", d.code.as_str(), d.location()))
        .collect()
}

#[test]
fn a_valid_document_has_no_diagnostics() {
    let xml = r#"<policies>
    <inbound>
        <base />
        <set-header name="x-a" exists-action="override"><value>@(context.RequestId.ToString())</value></set-header>
        <choose>
            <when condition="@(context.Request.Method == "POST")"><set-variable name="post" value="true" /></when>
            <otherwise />
        </choose>
    </inbound>
    <backend><forward-request timeout="60" /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>"#;
    assert_eq!(check(xml), Vec::<String>::new());
}

#[test]
fn root_and_sections() {
    assert_eq!(check("<policy><inbound/></policy>"), ["E0201 p.xml:1:2"]);
    assert_eq!(
        check("<policies><inbond/><inbound/><inbound/></policies>"),
        ["E0202 p.xml:1:12", "E0203 p.xml:1:31"]
    );
    assert_eq!(
        check("<policies>hello<inbound/></policies>"),
        ["E0204 p.xml:1:11"]
    );
    assert_eq!(
        check(r#"<policies><set-variable name="a" value="b"/></policies>"#),
        ["E0202 p.xml:1:12"]
    );
    let opts = LoadOptions {
        expect: Some(DocKind::Fragment),
        ..LoadOptions::default()
    };
    assert_eq!(check_with("<policies/>", &opts), ["E0201 p.xml:1:2"]);
}

#[test]
fn base_rules() {
    assert_eq!(
        check("<policies><inbound><base/><base/></inbound></policies>"),
        ["E0205 p.xml:1:28"]
    );
    assert_eq!(
        check(
            r#"<policies><inbound><choose><when condition="true"><base/></when></choose></inbound></policies>"#
        ),
        ["E0309 p.xml:1:52"]
    );
    assert_eq!(
        check(r#"<policies><inbound><base x="1"/></inbound></policies>"#),
        ["E0305 p.xml:1:26"]
    );
}

#[test]
fn fragments_hold_only_policies() {
    assert_eq!(
        check(
            r#"<fragment><inbound/><base/><include-fragment fragment-id="x"/><set-variable name="a" value="b"/></fragment>"#
        ),
        ["E0208 p.xml:1:12", "E0206 p.xml:1:22", "E0206 p.xml:1:29"]
    );
}

#[test]
fn include_fragment_is_checked_where_it_is_inserted() {
    let frag_src = Source::new("f.xml", "<fragment>\n  <forward-request />\n</fragment>");
    let (frag, diags) = load(&frag_src, &LoadOptions::default());
    assert!(!diags.has_errors(), "{diags}");
    let mut fragments = Fragments::new();
    fragments.insert("fwd".into(), frag.unwrap());
    let opts = LoadOptions {
        fragments: Some(&fragments),
        ..LoadOptions::default()
    };
    let xml = r#"<policies><inbound><include-fragment fragment-id="fwd"/><include-fragment fragment-id="fwdd"/></inbound></policies>"#;
    // forward-request is backend-only: reported in the fragment, at its line.
    assert_eq!(
        check_with(xml, &opts),
        ["E0302 f.xml:2:4", "E0207 p.xml:1:57"]
    );
    // Without fragments (a standalone check), a note says it was not checked.
    assert_eq!(check(xml), ["N0209 p.xml:1:20", "N0209 p.xml:1:57"]);
}

#[test]
fn named_values() {
    let xml = r#"<policies><inbound><set-header name="{{hdr}}"><value>{{val}}</value></set-header></inbound>
<backend><retry condition="true" count="{{n}}" interval="1"><forward-request/></retry></backend></policies>"#;
    // Standalone: one note listing them; no type check of `count`.
    assert_eq!(check(xml), ["N0402 p.xml:1:38"]);
    // With values: `n` substituted and type-checked; `val` unknown.
    let values = crate::value::NamedValues::Known(
        [
            ("hdr".to_owned(), "x".to_owned()),
            ("n".to_owned(), "many".to_owned()),
        ]
        .into(),
    );
    let opts = LoadOptions {
        named: Some(&values),
        ..LoadOptions::default()
    };
    let got = check_with(xml, &opts);
    assert_eq!(got, ["E0401 p.xml:1:54", "E0307 p.xml:2:41"]);
}

#[test]
fn scope_rules_apply_when_the_scope_is_known() {
    let xml = r#"<policies><inbound><quota calls="10" renewal-period="60"/></inbound></policies>"#;
    assert_eq!(check(xml), Vec::<String>::new());
    let opts = LoadOptions {
        scope: Some(Scope::Api),
        ..LoadOptions::default()
    };
    assert_eq!(check_with(xml, &opts), ["E0303 p.xml:1:21"]);
}

#[test]
fn not_executed_policies_are_reported_with_the_given_severity() {
    let only_choose = |n: &str| n == "choose";
    let opts = LoadOptions {
        execution: Some(Execution {
            executable: &only_choose,
            severity: crate::diag::Severity::Error,
        }),
        ..LoadOptions::default()
    };
    let (_, diags) = load(
        &Source::new(
            "p.xml",
            r#"<policies><inbound><choose><when condition="true"><set-variable name="a" value="b"/></when></choose></inbound></policies>"#,
        ),
        &opts,
    );
    let d: Vec<_> = diags.iter().collect();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code.as_str(), "W0501");
    assert!(d[0].is_error());
    assert!(d[0].message.contains("`set-variable`"));
}
