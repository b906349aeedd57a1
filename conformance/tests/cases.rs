//! Runs every case of `cases/` through the gateway's conformance runner
//! (the code behind `sluice test`); fails listing each failing case with
//! its diff.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly"
)]

use sluice_gateway::testing::{Outcome, case_files, render, run_case};

#[test]
fn every_case_passes() {
    let files = case_files(&[sluice_conformance::cases_dir()]);
    assert!(
        files.len() >= 50,
        "expected the suite's cases, found {} files",
        files.len()
    );
    let mut failures = String::new();
    let mut failed = 0;
    for f in &files {
        let report = run_case(f);
        if matches!(report.outcome, Outcome::Failed { .. } | Outcome::Broken(_)) {
            failed += 1;
            failures.push_str(&render(f, &report, true));
        }
    }
    assert!(
        failures.is_empty(),
        "{failed} of {} cases failed:\n{failures}",
        files.len()
    );
}

#[test]
fn every_case_has_a_title_and_a_source() {
    for f in case_files(&[sluice_conformance::cases_dir()]) {
        let text = std::fs::read_to_string(&f).unwrap();
        let (case, _) = sluice_gateway::testing::case::parse(&f.display().to_string(), &text)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !case.title.trim().is_empty(),
            "{}: empty title",
            f.display()
        );
        assert!(
            case.source.as_deref().is_some_and(|s| !s.trim().is_empty()),
            "{}: no source",
            f.display()
        );
    }
}
