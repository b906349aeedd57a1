//! Property tests: the front end never panics, whatever it is given.
//!
//! Arbitrary text, arbitrary bytes (read lossily as UTF-8), and corpus files
//! mutated by deleting, duplicating, truncating and splicing byte ranges all
//! go through parse → load → render; each must return diagnostics, not panic.
//! Deep nesting and oversized documents are bounded by `Limits`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly"
)]

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use sluice_engine::doc::{LoadOptions, load};
use sluice_engine::source::Source;
use sluice_engine::xml::Limits;

fn corpus() -> &'static Vec<String> {
    static FILES: OnceLock<Vec<String>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
        walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "xml"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect()
    })
}

fn exercise(text: &str) {
    let src = Source::new("fuzz.xml", text);
    let limits = Limits {
        max_document_bytes: 1 << 20,
        max_depth: 32,
        max_expression_bytes: 16 << 10,
    };
    let (_, diags) = load(
        &src,
        &LoadOptions {
            limits,
            ..LoadOptions::default()
        },
    );
    for d in &diags {
        // Rendering touches every span: it must stay inside the text.
        let _ = d.to_string();
        let _ = d.to_json();
    }
}

/// Edits that keep most of a real document intact.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Duplicate(usize, usize, usize),
    Insert(usize, String),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let piece = prop_oneof![
        Just("<".to_owned()),
        Just(">".to_owned()),
        Just("\"".to_owned()),
        Just("@(".to_owned()),
        Just("@{".to_owned()),
        Just("&".to_owned()),
        Just("</x>".to_owned()),
        Just("<!--".to_owned()),
        Just("{{".to_owned()),
        "[ -~]{0,8}",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..64).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 0usize..64, any::<usize>()).prop_map(|(a, n, b)| Edit::Duplicate(a, n, b)),
        (any::<usize>(), piece).prop_map(|(a, s)| Edit::Insert(a, s)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match e {
            Edit::Delete(a, n) => {
                let a = a % len;
                let b = (a + n).min(bytes.len());
                if a < b {
                    bytes.drain(a..b);
                }
            }
            Edit::Duplicate(a, n, at) => {
                let a = a % len;
                let b = (a + n).min(bytes.len());
                let chunk: Vec<u8> = bytes.get(a..b).unwrap_or(&[]).to_vec();
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, chunk);
            }
            Edit::Insert(a, s) => {
                let at = a % (bytes.len() + 1);
                bytes.splice(at..at, s.bytes());
            }
            Edit::Truncate(a) => bytes.truncate(a % len),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        exercise(&s);
    }

    #[test]
    fn markup_shaped_text_never_panics(s in "[<>/=\"'@(){}&;!\\[\\]a-z \n-]{0,300}") {
        exercise(&s);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..400)) {
        exercise(&String::from_utf8_lossy(&b));
    }

    #[test]
    fn mutated_corpus_files_never_panic(i in any::<usize>(), edits in proptest::collection::vec(edit(), 1..6)) {
        let files = corpus();
        prop_assume!(!files.is_empty());
        let original = &files[i % files.len()];
        let mutated = apply(original.as_bytes().to_vec(), &edits);
        exercise(&String::from_utf8_lossy(&mutated));
    }
}

#[test]
fn deep_nesting_and_huge_documents_are_diagnostics() {
    let deep = format!(
        "<policies>{}",
        "<choose><when condition=\"true\">".repeat(10_000)
    );
    exercise(&deep);
    let expr = format!(
        "<policies><inbound><set-variable name=\"a\" value=\"@({})\"/></inbound></policies>",
        "(".repeat(100_000)
    );
    exercise(&expr);
    let big = format!("<policies>{}</policies>", " ".repeat(2 << 20));
    exercise(&big);
}
