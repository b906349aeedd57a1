//! Deliberately broken documents under `tests/broken/`: each file's first line
//! says which diagnostics it must give (`<!-- expect: CODE@LINE:COL ... -->`),
//! and the rendered diagnostics are snapshotted so changes to wording or
//! carets show in review.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly"
)]

use std::path::Path;

use sluice_engine::doc::{LoadOptions, load};
use sluice_engine::source::Source;

fn expected(text: &str) -> Vec<String> {
    let first = text.lines().next().unwrap_or("");
    let list = first
        .strip_prefix("<!-- expect:")
        .and_then(|r| r.strip_suffix("-->"))
        .unwrap_or_else(|| {
            panic!("first line must be `<!-- expect: CODE@LINE:COL ... -->`, got {first:?}");
        });
    let mut v: Vec<String> = list.split_whitespace().map(str::to_owned).collect();
    v.sort();
    v
}

#[test]
fn broken_documents_give_the_expected_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(entries.len() >= 15, "the broken-document tree is missing");
    let mut mismatches = Vec::new();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let src = Source::new(format!("broken/{name}"), text.clone());
        let (_, diags) = load(&src, &LoadOptions::default());
        let mut got: Vec<String> = diags
            .iter()
            .map(|d| {
                let lc = d.line_col();
                format!("{}@{}:{}", d.code.as_str(), lc.line, lc.col)
            })
            .collect();
        got.sort();
        let want = expected(&text);
        if got != want {
            mismatches.push(format!("{name}: expected {want:?}, got {got:?}\n{diags}"));
        }
        insta::assert_snapshot!(name.trim_end_matches(".xml"), diags.to_string());
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
