use super::*;
use crate::doc::{LoadOptions, load};

fn doc(name: &str, xml: &str) -> PolicyDocument {
    let (d, diags) = load(&Source::new(name, xml), &LoadOptions::default());
    assert!(!diags.has_errors(), "{diags}");
    d.unwrap()
}

fn names(list: &[EffectiveStatement]) -> Vec<String> {
    list.iter()
        .map(|s| {
            format!(
                "{}:{}",
                s.scope.name(),
                s.element
                    .attr("name")
                    .map_or(s.element.name.clone(), |a| a.value.value.clone())
            )
        })
        .collect()
}

const V: &str = r#"<set-variable name="N" value="1" />"#;

fn var(n: &str) -> String {
    V.replace('N', n)
}

#[test]
fn base_inserts_the_parent_section_where_it_stands() {
    let global = doc(
        "g",
        &format!(
            "<policies><inbound>{}</inbound><outbound>{}</outbound></policies>",
            var("g1"),
            var("g2")
        ),
    );
    let api = doc(
        "a",
        &format!(
            "<policies><inbound>{}<base/>{}</inbound><outbound>{}</outbound></policies>",
            var("a1"),
            var("a2"),
            var("a3")
        ),
    );
    let layers = [
        Layer {
            scope: Scope::Global,
            doc: Some(&global),
        },
        Layer {
            scope: Scope::Api,
            doc: Some(&api),
        },
    ];
    let eff = effective(&layers, &Fragments::new());
    assert_eq!(names(&eff.inbound), ["api:a1", "global:g1", "api:a2"]);
    // No `<base/>` in outbound: the global outbound is not inherited.
    assert_eq!(names(&eff.outbound), ["api:a3"]);
}

#[test]
fn missing_documents_and_sections_inherit() {
    let global = doc(
        "g",
        &format!(
            "<policies><inbound>{}</inbound><backend><forward-request/></backend></policies>",
            var("g1")
        ),
    );
    let op = doc(
        "o",
        &format!(
            "<policies><inbound><base/>{}</inbound></policies>",
            var("o1")
        ),
    );
    let layers = [
        Layer {
            scope: Scope::Global,
            doc: Some(&global),
        },
        Layer {
            scope: Scope::Product,
            doc: None,
        },
        Layer {
            scope: Scope::Api,
            doc: None,
        },
        Layer {
            scope: Scope::Operation,
            doc: Some(&op),
        },
    ];
    let eff = effective(&layers, &Fragments::new());
    assert_eq!(names(&eff.inbound), ["global:g1", "operation:o1"]);
    assert_eq!(names(&eff.backend), ["global:forward-request"]);
    assert!(eff.on_error.is_empty());
}

#[test]
fn fragments_are_inserted_with_their_own_source() {
    let frag = doc(
        "frag.xml",
        &format!("<fragment>{}{}</fragment>", var("f1"), var("f2")),
    );
    let mut fragments = Fragments::new();
    fragments.insert("f".into(), frag);
    let api = doc(
        "a",
        r#"<policies><inbound><include-fragment fragment-id="f"/><set-variable name="a1" value="x"/></inbound></policies>"#,
    );
    let eff = effective(
        &[Layer {
            scope: Scope::Api,
            doc: Some(&api),
        }],
        &fragments,
    );
    assert_eq!(names(&eff.inbound), ["api:f1", "api:f2", "api:a1"]);
    assert_eq!(eff.inbound[0].source.name(), "frag.xml");
}
