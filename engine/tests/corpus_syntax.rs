//! Every real policy file of the shared corpus parses with no syntax error.

use std::path::PathBuf;

use sluice_engine::source::Source;
use sluice_engine::xml::{Limits, parse};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

#[test]
fn corpus_has_no_syntax_errors() {
    let mut files = 0;
    let mut failures = String::new();
    for entry in walkdir::WalkDir::new(corpus_dir()).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "xml") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let src = Source::new(entry.path().display().to_string(), text);
        let (root, diags) = parse(&src, &Limits::default());
        if root.is_none() || !diags.is_empty() {
            failures.push_str(&diags.to_string());
        }
    }
    assert!(files >= 170, "corpus not found or incomplete: {files} files");
    assert!(failures.is_empty(), "{failures}");
}
