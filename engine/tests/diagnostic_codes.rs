//! docs/diagnostics.md documents every code, with the same summary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly"
)]

use sluice_engine::diag::Code;

#[test]
fn every_code_is_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/diagnostics.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let mut seen = std::collections::HashSet::new();
    for code in Code::ALL {
        assert!(
            seen.insert(code.as_str()),
            "{} is used twice",
            code.as_str()
        );
        let row = format!("| {} | {} |", code.as_str(), code.summary());
        assert!(
            doc.contains(&row),
            "docs/diagnostics.md lacks the row `{row}`"
        );
    }
    let rows = doc
        .lines()
        .filter(|l| l.starts_with("| ") && l.as_bytes().get(2).is_some_and(u8::is_ascii_uppercase))
        .count();
    assert_eq!(
        rows,
        Code::ALL.len(),
        "docs/diagnostics.md documents codes that do not exist"
    );
}
