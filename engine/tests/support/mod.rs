//! The shared corpus (`../shared/corpus`) as the expression tests read it.

#![allow(clippy::unwrap_used, reason = "a test fails loudly")]

use std::path::PathBuf;

use sluice_engine::doc::{LoadOptions, Statement, load};
use sluice_engine::source::Source;
use sluice_engine::xml::{Element, Text};

/// One policy file of the corpus and the text of every attribute and
/// element of its policies (empty when the file does not load).
pub struct CorpusFile {
    /// The file name (no directory).
    pub name: String,
    #[allow(dead_code, reason = "not every test points into the file")]
    pub src: std::sync::Arc<Source>,
    pub values: Vec<Text>,
}

/// Every `.xml` file of the corpus, in file name order.
pub fn corpus() -> Vec<CorpusFile> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "xml") {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let src = Source::new(name.clone(), std::fs::read_to_string(entry.path()).unwrap());
        let mut values = Vec::new();
        if let Some(doc) = load(&src, &LoadOptions::default()).0 {
            for s in doc
                .sections
                .iter()
                .flat_map(|s| &s.statements)
                .chain(&doc.body)
            {
                if let Statement::Policy(e) = s {
                    collect(e, &mut values);
                }
            }
        }
        out.push(CorpusFile { name, src, values });
    }
    out
}

fn collect(e: &Element, out: &mut Vec<Text>) {
    for a in &e.attrs {
        out.push(a.value.clone());
    }
    out.push(e.text());
    for c in e.elements() {
        collect(c, out);
    }
}
