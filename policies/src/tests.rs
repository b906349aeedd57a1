//! The table of built-ins against the schema catalog, and how a policy
//! compiles when an optional attribute is absent or fails.

use std::collections::BTreeSet;

use sluice_engine::schema;

use crate::fixture::{Stub, header, pipeline, run_policy, status};
use crate::{BUILTINS, builtin, is_executable};

#[test]
fn every_builtin_name_is_a_policy_of_the_schema_catalog() {
    for b in BUILTINS {
        assert!(!b.names.is_empty());
        for name in b.names {
            assert!(
                schema::lookup(name).is_some(),
                "`{name}` is built in but not in the schema catalog"
            );
            assert!(is_executable(name));
        }
    }
}

#[test]
fn no_name_belongs_to_two_builtins() {
    let mut seen = BTreeSet::new();
    for name in BUILTINS.iter().flat_map(|b| b.names) {
        assert!(seen.insert(*name), "`{name}` is in the table twice");
    }
}

#[test]
fn a_builtin_and_the_schema_agree_on_its_names() {
    // The names of one built-in are one policy: the same sections, scopes
    // and once-rules in the schema.
    for b in BUILTINS {
        let first = schema::lookup(b.names[0]).unwrap();
        for name in &b.names[1..] {
            let s = schema::lookup(name).unwrap();
            assert_eq!(s.sections, first.sections, "{name} vs {}", first.name);
            assert_eq!(s.scopes, first.scopes, "{name} vs {}", first.name);
            assert_eq!(s.once, first.once, "{name} vs {}", first.name);
        }
    }
    // And a policy APIM names twice (`llm-X` and `azure-openai-X`) is built
    // in under both names or neither.
    for s in schema::catalog() {
        let Some(rest) = s.name.strip_prefix("azure-openai-") else {
            continue;
        };
        let llm = format!("llm-{rest}");
        let (a, l) = (builtin(s.name), builtin(&llm));
        match (a, l) {
            (Some(a), Some(l)) => assert!(std::ptr::eq(a, l), "{} and {llm}", s.name),
            (None, None) => {}
            _ => panic!("`{}` and `{llm}`: one is built in, the other not", s.name),
        }
    }
}

#[test]
fn a_stage_with_an_absent_optional_attribute_still_runs() {
    // set-header without `exists-action`, set-status without `reason`,
    // forward-request without `timeout`: each compiles and runs.
    let policy = r#"<policies>
        <inbound><set-header name="X-Added"><value>yes</value></set-header></inbound>
        <backend><forward-request /></backend>
        <outbound><set-status code="201" /></outbound>
    </policies>"#;
    let stub = Stub::status(200, "{}");
    let x = run_policy(policy, &stub, &[], "");
    assert_eq!(stub.calls().len(), 1);
    assert_eq!(
        stub.calls()[0].headers.get("X-Added").map(|v| v.join(",")),
        Some("yes".to_owned())
    );
    assert_eq!(status(&x), 201);
    assert_eq!(
        x.response().read(|m| m.reason.clone()),
        "Created",
        "the reason phrase of the status when `reason` is absent"
    );
    assert!(header(x.response(), "X-Added").is_none());
}

#[test]
fn an_optional_attribute_that_does_not_compile_fails_its_policy() {
    // Present but broken: an error, never the policy quietly left out.
    let p = r#"<policies><inbound>
        <set-status code="201" reason="@(context.NoSuchThing)" />
    </inbound></policies>"#;
    let e = pipeline(p).unwrap_err();
    assert!(e.contains("NoSuchThing"), "{e}");
}

#[test]
fn a_policy_without_a_built_in_is_refused_by_name() {
    assert!(!is_executable("validate-odata-request"));
    assert!(builtin("validate-odata-request").is_none());
    let e = pipeline(r#"<policies><inbound><validate-odata-request /></inbound></policies>"#)
        .unwrap_err();
    assert!(e.contains("validate-odata-request"), "{e}");
}
